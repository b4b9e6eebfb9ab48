/* SPDX-License-Identifier: MIT */
/* test_list.c - list answers become objects that keep the server's bytes */
#define _GNU_SOURCE             /* memmem */
#include "test_util.h"

#include "listwatch.h"

#define URL "https://k8s.example/api/v1/pods?limit=500"

/* What jansson makes of the whole answer: the reference every list
   answer is checked against. */
struct expected {
    json_t *root;
    json_t *items;
    const char *rv;
    const char *cont;
};

static void expect_from(struct expected *e, const char *body, size_t len)
{
    json_t *meta;

    e->root = json_loadb(body, len, 0, NULL);
    assert_non_null(e->root);
    e->items = json_object_get(e->root, "items");
    meta = json_object_get(e->root, "metadata");
    e->rv = json_string_value(json_object_get(meta, "resourceVersion"));
    e->cont = json_string_value(json_object_get(meta, "continue"));
}

/* Add body as a page to an empty list and compare with jansson's view:
   the same items in the same order, the same version and token. When
   kept is true, each item's text must be a piece of body. */
static void check_page(const char *body, size_t len, bool kept)
{
    struct kinf__list list = {0};
    struct expected e;
    char *next = NULL;
    kinf_error err;

    expect_from(&e, body, len);
    if (kinf__list_add_page(&list, body, len, URL, &next, &err) != 0)
        fail_msg("page refused: %s", err.message);
    assert_int_equal(list.count, json_array_size(e.items));
    for (size_t i = 0; i < list.count; i++) {
        json_t *view = kinf_object_json(list.items[i]);
        size_t raw_len;
        const char *raw = kinf_object_raw(list.items[i], &raw_len);

        assert_true(json_equal(view, json_array_get(e.items, i)));
        json_decref(view);
        /* Not printed again: the very bytes of the answer. */
        if (kept)
            assert_non_null(memmem(body, len, raw, raw_len));
    }
    if (e.rv)
        assert_string_equal(list.resource_version, e.rv);
    else
        assert_null(list.resource_version);
    if (e.cont && *e.cont)
        assert_string_equal(next, e.cont);
    else
        assert_null(next);
    free(next);
    kinf__list_clear(&list);
    json_decref(e.root);
}

static void check_text(const char *text, bool kept)
{
    check_page(text, strlen(text), kept);
}

/* Real answers: every item keeps the exact bytes the server sent. */
static void test_captured_lists(void **state)
{
    static const char *const names[] = {
        "01-pods-list-all.http", "01-pods-list-namespaced.http",
        "01-pods-list-limit2-page1.http", "01-pods-list-limit2-page2.http",
        "01-pods-list-limit2-page3.http",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t len;
        char *body = test_capture_body(names[i], &len);

        check_page(body, len, true);
        free(body);
    }
}

/* Any member order, any white space, strings full of brackets, numbers
   next to commas: the same result as parsing the whole answer. */
static void test_layouts(void **state)
{
    (void)state;
    check_text("{\"items\":[{\"metadata\":{\"name\":\"a\"}}],"
               "\"metadata\":{\"resourceVersion\":\"7\"},\"kind\":\"PodList\"}",
               true);
    check_text(" {\n  \"kind\" : \"PodList\" ,\n  \"metadata\" : "
               "{ \"resourceVersion\" : \"8\" , \"continue\" : \"tok\" } ,\n"
               "  \"items\" : [\n    { \"metadata\" : { \"name\" : \"a\" } } ,"
               "\n    { \"metadata\" : { \"name\" : \"b\" } }\n  ]\n}\n",
               true);
    check_text("{\"n\":1,\"x\":-1.5e3,\"t\":true,\"f\":false,\"z\":null,"
               "\"items\":[{\"metadata\":{\"name\":\"]},{\\\"\"},"
               "\"data\":{\"k\":\"[\\\\\\\"}\"}}],\"m\":[1,{\"a\":[]}]}",
               true);
    check_text("{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":[]}", true);
    check_text("{\"metadata\":{\"resourceVersion\":\"9\"},\"items\":null}",
               true);
    check_text("{\"items\":[{\"metadata\":{\"name\":\"\\u00e9\\ud83d\\ude00\"}}"
               ",{}]}", true);
    /* Layouts kept only through the whole parse: a repeated member. */
    check_text("{\"items\":[{\"a\":1}],\"items\":[{\"b\":2},{\"c\":3}]}",
               false);
    check_text("{\"metadata\":{\"resourceVersion\":\"1\"},\"items\":[],"
               "\"metadata\":{\"resourceVersion\":\"2\"}}", false);
}

/* A bad answer is an error naming the request, and the list keeps what
   earlier pages gave it, nothing of the bad one. */
static void expect_refused(const char *body, const char *what)
{
    struct kinf__list list = {0};
    static const char first[] =
        "{\"metadata\":{\"resourceVersion\":\"5\",\"continue\":\"c\"},"
        "\"items\":[{\"metadata\":{\"name\":\"kept\"}}]}";
    char *next = NULL;
    kinf_error err;

    assert_int_equal(kinf__list_add_page(&list, first, strlen(first), URL,
                                         &next, &err), 0);
    free(next);
    next = (char *)1;
    assert_int_equal(kinf__list_add_page(&list, body, strlen(body), URL,
                                         &next, &err), KINF_EPROTOCOL);
    assert_null(next);
    assert_int_equal(list.count, 1);
    assert_string_equal(kinf_object_name(list.items[0]), "kept");
    assert_string_equal(list.resource_version, "5");
    assert_non_null(strstr(err.message, "GET " URL));
    if (!strstr(err.message, what))
        fail_msg("'%s' does not say '%s'", err.message, what);
    kinf__list_clear(&list);
}

static void test_bad_answers(void **state)
{
    (void)state;
    expect_refused("", "answer is not a list");
    expect_refused("[]", "answer is not a list");
    expect_refused("{\"metadata\":{}}", "no \"items\" array");
    expect_refused("{\"items\":{}}", "no \"items\" array");
    expect_refused("{\"items\":[{\"a\":1},2]}", "item 1: not a JSON object");
    expect_refused("{\"items\":[]} x", "answer is not a list");
    expect_refused("{\"items\":[{\"a\":1}]}{}", "answer is not a list");
    expect_refused("{\"items\":[{\"a\":\"\\xff\"}]}", "answer is not a list");
}

/* An answer cut anywhere is refused whole: no item of it is taken. */
static void test_every_cut(void **state)
{
    size_t len;
    char *body = test_capture_body("01-pods-list-limit2-page1.http", &len);

    (void)state;
    for (size_t cut = 0; cut < len; cut++) {
        struct kinf__list list = {0};
        char *next = NULL;
        kinf_error err;
        int rc = kinf__list_add_page(&list, body, cut, URL, &next, &err);

        /* Only trailing white space may go. */
        if (rc == 0) {
            for (size_t i = cut; i < len; i++)
                assert_true(strchr(" \t\r\n", body[i]) != NULL);
            free(next);
        } else {
            assert_int_equal(rc, KINF_EPROTOCOL);
            assert_int_equal(list.count, 0);
            assert_null(next);
        }
        kinf__list_clear(&list);
    }
    free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_lists),
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_every_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
