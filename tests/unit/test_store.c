/* SPDX-License-Identifier: MIT */
/* test_store.c - store, keys and indexes */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>

#include "test_util.h"

static void add(kinf_store *s, const char *ns, const char *name,
                const char *rv)
{
    kinf_object *obj = test_object(ns, name, rv);

    assert_int_equal(kinf_store_add(s, obj), 0);
    kinf_object_unref(obj);
}

static size_t count_in(kinf_store *s, const char *index, const char *value)
{
    kinf_object **objs = NULL;
    size_t n = 99;

    assert_int_equal(kinf_store_by_index(&objs, &n, s, index, value), 0);
    kinf_object_list_free(objs, n);
    return n;
}

static void test_keys(void **state)
{
    kinf_object *pod = test_object("default", "nginx", "1");
    kinf_object *node = test_object(NULL, "node-1", "1");

    (void)state;
    assert_string_equal(kinf_object_key(pod), "default/nginx");
    assert_string_equal(kinf_object_key(node), "node-1");
    assert_null(kinf_object_namespace(node));
    kinf_object_unref(pod);
    kinf_object_unref(node);
}

static void test_add_get_update_delete(void **state)
{
    kinf_store *s = NULL;
    kinf_object *got = NULL;

    (void)state;
    assert_int_equal(kinf_store_new(&s), 0);
    add(s, "default", "a", "1");
    add(s, "default", "b", "2");
    assert_int_equal(kinf_store_len(s), 2);

    assert_int_equal(kinf_store_get(&got, s, "default/a"), 0);
    assert_string_equal(kinf_object_resource_version(got), "1");
    kinf_object_unref(got);

    add(s, "default", "a", "5");
    assert_int_equal(kinf_store_len(s), 2);
    assert_int_equal(kinf_store_get(&got, s, "default/a"), 0);
    assert_string_equal(kinf_object_resource_version(got), "5");
    kinf_object_unref(got);

    assert_int_equal(kinf_store_delete(s, "default/a"), 0);
    assert_int_equal(kinf_store_delete(s, "default/a"), KINF_ENOTFOUND);
    got = NULL;
    assert_int_equal(kinf_store_get(&got, s, "default/a"), KINF_ENOTFOUND);
    assert_null(got);
    assert_int_equal(kinf_store_len(s), 1);
    kinf_store_free(s);
}

static void test_namespace_index(void **state)
{
    kinf_store *s = NULL;
    kinf_object **objs = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(kinf_store_new(&s), 0);
    add(s, "ns1", "a", "1");
    add(s, "ns1", "b", "1");
    add(s, "ns2", "c", "1");
    add(s, NULL, "node", "1");
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "ns1"), 2);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "ns2"), 1);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, ""), 1);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "none"), 0);

    /* An object moving out of a value leaves no stale entry. */
    assert_int_equal(kinf_store_delete(s, "ns2/c"), 0);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "ns2"), 0);

    assert_int_equal(kinf_store_by_index(&objs, &n, s, "nope", "x"),
                     KINF_ENOTFOUND);
    kinf_store_free(s);
}

static void test_replace_rebuilds(void **state)
{
    kinf_store *s = NULL;
    kinf_object *objs[2];
    kinf_object **all = NULL;
    size_t n = 0;

    (void)state;
    assert_int_equal(kinf_store_new(&s), 0);
    add(s, "old", "gone", "1");
    objs[0] = test_object("new", "x", "3");
    objs[1] = test_object("new", "y", "4");
    assert_int_equal(kinf_store_replace(s, objs, 2), 0);
    kinf_object_unref(objs[0]);
    kinf_object_unref(objs[1]);

    assert_int_equal(kinf_store_len(s), 2);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "old"), 0);
    assert_int_equal(count_in(s, KINF_INDEX_NAMESPACE, "new"), 2);
    assert_int_equal(kinf_store_list(&all, &n, s), 0);
    assert_int_equal(n, 2);
    kinf_object_list_free(all, n);

    assert_int_equal(kinf_store_replace(s, NULL, 0), 0);
    assert_int_equal(kinf_store_len(s), 0);
    kinf_store_free(s);
}

static size_t by_label_app(const kinf_object *obj, const char **values,
                           size_t max, void *user_data)
{
    const char *app = kinf_object_label(obj, "app");

    (void)user_data;
    if (!app || max < 1)
        return 0;
    values[0] = app;
    return 1;
}

static void test_custom_index(void **state)
{
    kinf_store *s = NULL;
    kinf_object *obj = NULL;
    const char *json = "{\"metadata\":{\"name\":\"w\",\"namespace\":\"d\","
                       "\"labels\":{\"app\":\"web\"}}}";

    (void)state;
    assert_int_equal(kinf_store_new(&s), 0);
    assert_int_equal(kinf_store_add_index(s, "app", by_label_app, NULL), 0);
    assert_int_equal(kinf_store_add_index(s, "app", by_label_app, NULL),
                     KINF_EINVAL);
    assert_int_equal(kinf_object_new(&obj, json, strlen(json), NULL), 0);
    assert_int_equal(kinf_store_add(s, obj), 0);
    add(s, "d", "nolabel", "1");
    assert_int_equal(count_in(s, "app", "web"), 1);
    assert_int_equal(kinf_store_add_index(s, "late", by_label_app, NULL),
                     KINF_EBUSY);
    kinf_object_unref(obj);
    kinf_store_free(s);
}

static void test_object_views(void **state)
{
    const char *json = "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":"
                       "{\"name\":\"n\",\"namespace\":\"d\",\"uid\":\"u1\","
                       "\"resourceVersion\":\"9\",\"deletionTimestamp\":"
                       "\"2026-12-03T16:46:01Z\",\"annotations\":"
                       "{\"a\":\"b\"}},\"spec\":{\"x\":1}}";
    kinf_object *obj = NULL;
    kinf_error err;
    json_t *view;
    size_t len;

    (void)state;
    assert_int_equal(kinf_object_new(&obj, json, strlen(json), &err), 0);
    assert_string_equal(kinf_object_uid(obj), "u1");
    assert_string_equal(kinf_object_kind(obj), "Pod");
    assert_string_equal(kinf_object_api_version(obj), "v1");
    assert_string_equal(kinf_object_deletion_timestamp(obj),
                        "2026-12-03T16:46:01Z");
    assert_string_equal(kinf_object_annotation(obj, "a"), "b");
    assert_null(kinf_object_label(obj, "a"));

    /* The jansson view is the caller's own copy. */
    view = kinf_object_json(obj);
    json_object_set_new(json_object_get(view, "spec"), "x", json_integer(2));
    json_decref(view);
    view = kinf_object_json(obj);
    assert_int_equal(json_integer_value(json_object_get(
        json_object_get(view, "spec"), "x")), 1);
    json_decref(view);
    assert_non_null(strstr(kinf_object_raw(obj, &len), "\"x\":1"));
    assert_true(len > 0);
    kinf_object_unref(obj);

    assert_int_equal(kinf_object_new(&obj, "[1]", 3, &err), KINF_EPROTOCOL);
    assert_int_equal(kinf_object_new(&obj, "{", 1, &err), KINF_EPROTOCOL);
    assert_non_null(strstr(err.message, "invalid JSON"));
}

struct readers {
    kinf_store *store;
    atomic_int stop;
    atomic_long reads;
};

/* Readers see whole objects only, whatever the writer is doing. */
static void *read_loop(void *arg)
{
    struct readers *r = arg;

    while (!atomic_load(&r->stop)) {
        kinf_object **objs = NULL;
        kinf_object *one = NULL;
        size_t n = 0;

        assert_int_equal(kinf_store_by_index(&objs, &n, r->store,
                                             KINF_INDEX_NAMESPACE, "ns"),
                         0);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(kinf_object_namespace(objs[i]), "ns");
        kinf_object_list_free(objs, n);
        if (kinf_store_get(&one, r->store, "ns/p7") == 0) {
            assert_string_equal(kinf_object_name(one), "p7");
            kinf_object_unref(one);
        }
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_readers_during_writes(void **state)
{
    struct readers r = { NULL, 0, 0 };
    pthread_t threads[3];
    char name[32];

    (void)state;
    assert_int_equal(kinf_store_new(&r.store), 0);
    for (int i = 0; i < 3; i++)
        pthread_create(&threads[i], NULL, read_loop, &r);
    /* Every 20 writes, wait until some reader has finished a pass, so
     * reads and writes interleave however the threads are scheduled:
     * the lock prefers its writer, and a writer that never paused could
     * keep every reader out. The deadline only ends a hung test. */
    time_t deadline = time(NULL) + 60;
    long seen = 0;
    for (int round = 0; round < 600; round++) {
        snprintf(name, sizeof(name), "p%d", round % 16);
        add(r.store, "ns", name, "1");
        if (round % 3 == 0)
            kinf_store_delete(r.store, "ns/p3");
        if (round % 20 != 19)
            continue;
        while (atomic_load(&r.reads) == seen && time(NULL) < deadline) {
            sched_yield();
        }
        seen = atomic_load(&r.reads);
    }
    atomic_store(&r.stop, 1);
    for (int i = 0; i < 3; i++)
        pthread_join(threads[i], NULL);
    assert_true(atomic_load(&r.reads) >= 30);
    add(r.store, "ns", "p3", "2");
    assert_int_equal(kinf_store_len(r.store), 16);
    kinf_store_free(r.store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_add_get_update_delete),
        cmocka_unit_test(test_namespace_index),
        cmocka_unit_test(test_replace_rebuilds),
        cmocka_unit_test(test_custom_index),
        cmocka_unit_test(test_object_views),
        cmocka_unit_test(test_readers_during_writes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
