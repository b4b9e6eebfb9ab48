/* SPDX-License-Identifier: MIT */
/* test_decode.c - the watch decoder on every split of real streams */
#define _GNU_SOURCE   /* memmem */
#include "test_util.h"

#include "decode.h"

#define MAX_EVENTS 64

struct seen {
    const char *body;     /* when set: raw texts must be slices of it */
    size_t count;
    enum kinf__event_type types[MAX_EVENTS];
    char versions[MAX_EVENTS][32];
    int status_code;
    size_t big_size;
};

static int record(const struct kinf__event *ev, void *user_data)
{
    struct seen *s = user_data;

    assert_true(s->count < MAX_EVENTS);
    s->types[s->count] = ev->type;
    if (ev->object) {
        const char *rv = kinf_object_resource_version(ev->object);
        size_t len;
        const char *raw = kinf_object_raw(ev->object, &len);

        snprintf(s->versions[s->count], sizeof(s->versions[0]), "%s",
                 rv ? rv : "");
        if (len > s->big_size)
            s->big_size = len;
        /* Real servers' events keep their bytes, not a reprint. */
        if (s->body)
            assert_non_null(memmem(s->body, strlen(s->body), raw, len));
    } else {
        s->status_code = (int)json_integer_value(
            json_object_get(ev->status, "code"));
    }
    s->count++;
    return 0;
}

/* Feed data in chunks of the given sizes (cycled), then finish. */
static int decode_chunked(struct seen *s, const char *data, size_t len,
                          const size_t *sizes, size_t nsizes)
{
    struct kinf__decoder *dec = kinf__decoder_new(record, s, 0);
    kinf_error err;
    size_t off = 0;
    size_t i = 0;
    int rc = 0;

    memset(s, 0, sizeof(*s));
    s->body = data;
    while (rc == 0 && off < len) {
        size_t n = sizes[i++ % nsizes];

        if (n > len - off)
            n = len - off;
        rc = kinf__decoder_feed(dec, data + off, n, &err);
        off += n;
    }
    if (rc == 0)
        rc = kinf__decoder_finish(dec, &err);
    kinf__decoder_free(dec);
    return rc;
}

static void assert_same(const struct seen *a, const struct seen *b)
{
    assert_int_equal(a->count, b->count);
    for (size_t i = 0; i < a->count; i++) {
        assert_int_equal(a->types[i], b->types[i]);
        assert_string_equal(a->versions[i], b->versions[i]);
    }
}

static void test_bookmarks_capture_whole(void **state)
{
    static const enum kinf__event_type want[] = {
        KINF__EVENT_ADDED, KINF__EVENT_MODIFIED, KINF__EVENT_MODIFIED,
        KINF__EVENT_DELETED, KINF__EVENT_BOOKMARK, KINF__EVENT_BOOKMARK
    };
    size_t len;
    char *body = test_capture_body("02-watch-bookmarks.http", &len);
    size_t whole = len;
    struct seen s;

    (void)state;
    /* Many events in one chunk. */
    assert_int_equal(decode_chunked(&s, body, len, &whole, 1), 0);
    assert_int_equal(s.count, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(s.types[i], want[i]);
    assert_string_equal(s.versions[0], "219");
    free(body);
}

static void test_every_split_of_every_capture(void **state)
{
    static const char *const names[] = {
        "02-watch-bookmarks.http",
        "06-watch-rv0.http",
        "03-watch-too-old-rv.http",
        "05-watchlist-sendInitialEvents-rv0.http"
    };

    (void)state;
    for (size_t f = 0; f < sizeof(names) / sizeof(*names); f++) {
        size_t len;
        char *body = test_capture_body(names[f], &len);
        struct seen whole, split;
        size_t one = 1;

        assert_int_equal(decode_chunked(&whole, body, len, &len, 1), 0);
        assert_true(whole.count > 0);

        /* One byte at a time. */
        assert_int_equal(decode_chunked(&split, body, len, &one, 1), 0);
        assert_same(&whole, &split);

        /* Two chunks, cut at every position (the quadratic part: on
           the two richest captures only). */
        for (size_t cut = 1; f < 2 && cut < len; cut++) {
            size_t sizes[2] = { cut, len - cut };

            assert_int_equal(decode_chunked(&split, body, len, sizes, 2),
                             0);
            assert_same(&whole, &split);
        }
        free(body);
    }
}

static void test_odd_chunk_sizes(void **state)
{
    static const size_t sizes[] = { 7, 1, 300, 2, 4096, 13, 1000 };
    size_t len;
    char *body = test_capture_body("05-watchlist-sendInitialEvents-rv0.http",
                              &len);
    struct seen whole, split;

    (void)state;
    assert_int_equal(decode_chunked(&whole, body, len, &len, 1), 0);
    assert_int_equal(decode_chunked(&split, body, len, sizes, 7), 0);
    assert_same(&whole, &split);
    assert_int_equal(whole.types[whole.count - 1], KINF__EVENT_BOOKMARK);
    free(body);
}

static void test_error_event_carries_status(void **state)
{
    size_t len;
    char *body = test_capture_body("03-watch-too-old-rv.http", &len);
    struct seen s;

    (void)state;
    assert_int_equal(decode_chunked(&s, body, len, &len, 1), 0);
    assert_int_equal(s.count, 1);
    assert_int_equal(s.types[0], KINF__EVENT_ERROR);
    assert_int_equal(s.status_code, 410);
    free(body);
}

/* An event of 2 MiB: its bytes arrive in pieces of many sizes. */
static char *big_event(size_t payload, size_t *len)
{
    const char *head = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\","
                       "\"metadata\":{\"name\":\"big\",\"namespace\":\"d\","
                       "\"resourceVersion\":\"7\",\"annotations\":"
                       "{\"blob\":\"";
    const char *tail = "\"}}}}\n{\"type\":\"DELETED\",\"object\":"
                       "{\"metadata\":{\"name\":\"big\",\"namespace\":\"d\","
                       "\"resourceVersion\":\"8\"}}}\n";
    size_t hl = strlen(head), tl = strlen(tail);
    char *buf = malloc(hl + payload + tl + 1);

    memcpy(buf, head, hl);
    memset(buf + hl, 'x', payload);
    memcpy(buf + hl + payload, tail, tl + 1);
    *len = hl + payload + tl;
    return buf;
}

static void test_two_mib_object(void **state)
{
    static const size_t sizes[] = { 1, 16384, 3, 65536 };
    size_t one = 1;
    size_t len;
    char *data = big_event((size_t)2 << 20, &len);
    struct seen s;

    (void)state;
    assert_int_equal(decode_chunked(&s, data, len, &one, 1), 0);
    assert_int_equal(s.count, 2);
    assert_true(s.big_size > ((size_t)2 << 20));
    assert_string_equal(s.versions[1], "8");

    assert_int_equal(decode_chunked(&s, data, len, sizes, 4), 0);
    assert_int_equal(s.count, 2);
    assert_int_equal(s.types[1], KINF__EVENT_DELETED);
    free(data);
}

static void test_event_size_cap(void **state)
{
    size_t len;
    char *data = big_event(10000, &len);
    struct seen s = {0};
    struct kinf__decoder *dec = kinf__decoder_new(record, &s, 4096);
    kinf_error err;

    (void)state;
    assert_int_equal(kinf__decoder_feed(dec, data, 5000, &err),
                     KINF_EPROTOCOL);
    assert_non_null(strstr(err.message, "larger than 4096"));
    kinf__decoder_free(dec);
    free(data);
}

static int feed_all(const char *text, struct seen *s, kinf_error *err)
{
    struct kinf__decoder *dec = kinf__decoder_new(record, s, 0);
    int rc;

    memset(s, 0, sizeof(*s));
    rc = kinf__decoder_feed(dec, text, strlen(text), err);
    if (rc == 0)
        rc = kinf__decoder_finish(dec, err);
    kinf__decoder_free(dec);
    return rc;
}

static void test_bad_streams(void **state)
{
    struct seen s;
    kinf_error err;

    (void)state;
    assert_int_equal(feed_all("not json\n", &s, &err), KINF_EPROTOCOL);
    assert_non_null(strstr(err.message, "not JSON"));

    assert_int_equal(feed_all("{\"type\":\"EXPLODED\",\"object\":{}}\n", &s,
                              &err), KINF_EPROTOCOL);
    assert_non_null(strstr(err.message, "type"));

    assert_int_equal(feed_all("{\"type\":\"ADDED\"}\n", &s, &err),
                     KINF_EPROTOCOL);
    assert_non_null(strstr(err.message, "object"));

    /* Cut in the middle of the second event. */
    assert_int_equal(feed_all("{\"type\":\"ADDED\",\"object\":{\"metadata\":"
                              "{\"name\":\"a\"}}}\n{\"type\":\"MODI", &s,
                              &err), KINF_EPROTOCOL);
    assert_int_equal(s.count, 1);
    assert_non_null(strstr(err.message, "ended inside an event"));
}

static void test_tolerated_framing(void **state)
{
    struct seen s;
    kinf_error err;

    (void)state;
    /* CRLF, blank lines, and a last event without its newline. */
    assert_int_equal(feed_all("\r\n{\"type\":\"ADDED\",\"object\":"
                              "{\"metadata\":{\"name\":\"a\","
                              "\"resourceVersion\":\"1\"}}}\r\n\n"
                              "{\"type\":\"BOOKMARK\",\"object\":"
                              "{\"metadata\":{\"resourceVersion\":\"2\"}}}",
                              &s, &err), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.versions[1], "2");
}

static int keep_raw(const struct kinf__event *ev, void *user_data)
{
    char *raw = user_data;
    size_t len;
    const char *text = kinf_object_raw(ev->object, &len);

    assert_true(len < 256);
    memcpy(raw, text, len + 1);
    return 0;
}

static void raw_of(const char *line, char *raw)
{
    struct kinf__decoder *dec = kinf__decoder_new(keep_raw, raw, 0);
    kinf_error err;

    raw[0] = '\0';
    assert_int_equal(kinf__decoder_feed(dec, line, strlen(line), &err), 0);
    assert_int_equal(kinf__decoder_finish(dec, &err), 0);
    kinf__decoder_free(dec);
}

/* Objects keep the server's bytes when the event has the usual layout,
   and a faithful print of the value otherwise. */
static void test_object_text(void **state)
{
    char raw[256];

    (void)state;
    raw_of("{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":"
           "\"a }\"}, \"spec\": {}} }\n", raw);
    assert_string_equal(raw, "{\"metadata\":{\"name\":\"a }\"}, "
                             "\"spec\": {}}");

    /* Other member order, or more members: printed from the tree. */
    raw_of("{\"object\":{\"metadata\":{\"name\":\"b\"}},"
           "\"type\":\"MODIFIED\"}\n", raw);
    assert_string_equal(raw, "{\"metadata\":{\"name\":\"b\"}}");
    raw_of("{\"type\":\"ADDED\",\"object\":{\"metadata\":{}},"
           "\"extra\":1}\n", raw);
    assert_string_equal(raw, "{\"metadata\":{}}");
}

static void test_duplicate_members_are_rejected(void **state)
{
    struct seen s;
    kinf_error err;

    (void)state;
    assert_int_equal(feed_all("{\"type\":\"ADDED\",\"object\":{},"
                              "\"object\":{\"x\":1}}\n", &s, &err),
                     KINF_EPROTOCOL);
    assert_int_equal(s.count, 0);
}

static int stop_at_second(const struct kinf__event *ev, void *user_data)
{
    size_t *n = user_data;

    (void)ev;
    return ++*n == 2 ? KINF_ESTOPPED : 0;
}

static void test_callback_stops_decoding(void **state)
{
    const char *text = "{\"type\":\"ADDED\",\"object\":{}}\n"
                       "{\"type\":\"ADDED\",\"object\":{}}\n"
                       "{\"type\":\"ADDED\",\"object\":{}}\n";
    size_t n = 0;
    struct kinf__decoder *dec = kinf__decoder_new(stop_at_second, &n, 0);
    kinf_error err;

    (void)state;
    assert_int_equal(kinf__decoder_feed(dec, text, strlen(text), &err),
                     KINF_ESTOPPED);
    assert_int_equal(n, 2);
    kinf__decoder_free(dec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bookmarks_capture_whole),
        cmocka_unit_test(test_every_split_of_every_capture),
        cmocka_unit_test(test_odd_chunk_sizes),
        cmocka_unit_test(test_error_event_carries_status),
        cmocka_unit_test(test_two_mib_object),
        cmocka_unit_test(test_event_size_cap),
        cmocka_unit_test(test_bad_streams),
        cmocka_unit_test(test_tolerated_framing),
        cmocka_unit_test(test_callback_stops_decoding),
        cmocka_unit_test(test_object_text),
        cmocka_unit_test(test_duplicate_members_are_rejected),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
