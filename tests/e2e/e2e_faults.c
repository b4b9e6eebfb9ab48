/* SPDX-License-Identifier: MIT */
/* e2e_faults.c - what real servers and networks do wrong, injected */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define SYNC_MS 10000

/* A fresh namespace, an informer on it with a recording handler. */
struct fixture {
    char ns[128];
    char path[256];
    struct recorder rec;
    kinf_informer *informer;
};

static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    if (!cluster_is_sim(&cluster)) {
        *state = f;
        return 0;
    }
    make_namespace(&cluster, f->ns, sizeof(f->ns), "fault");
    snprintf(f->path, sizeof(f->path), "/api/v1/namespaces/%s/pods", f->ns);
    recorder_init(&f->rec);
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;

    if (f->ns[0]) {
        kinf_informer_free(f->informer);
        json_decref(sim_control(&cluster, "faults/clear", NULL));
        delete_namespace(&cluster, f->ns);
        recorder_free(&f->rec);
    }
    free(f);
    return 0;
}

static void start(struct fixture *f, int64_t stall_ms, bool wait_sync)
{
    kinf_informer_options opts = fast_options(f->ns);
    kinf_handler h = recorder_handler();
    kinf_error err;

    opts.watch_stall_timeout_ms = stall_ms;
    assert_int_equal(kinf_informer_new(&f->informer, cluster.client, &opts,
                                       &err), 0);
    assert_int_equal(kinf_informer_add_handler(NULL, f->informer, &h,
                                               &f->rec, NULL), 0);
    assert_int_equal(kinf_informer_start(f->informer, &err), 0);
    if (wait_sync &&
        kinf_informer_wait_for_sync(f->informer, test_ms(SYNC_MS), &err) != 0)
        fail_msg("no sync: %s", err.message);
}

/* Add one fault for the fixture's pods (match "list" or "watch"). */
static void inject(struct fixture *f, const char *match, int count,
                   const char *action)
{
    char body[512];

    snprintf(body, sizeof(body),
             "{\"faults\":[{\"match\":\"%s\",\"path_prefix\":\"%s\","
             "\"count\":%d,%s}]}", match, f->path, count, action);
    json_decref(sim_control(&cluster, "faults", body));
}


static void clear_faults(void)
{
    json_decref(sim_control(&cluster, "faults/clear", NULL));
}

/* GETs of the fixture's pods the server saw: lists or watches. */
static size_t gets(struct fixture *f, bool watches)
{
    json_t *log = NULL;
    size_t n = 0;
    size_t i;
    json_t *e;
    kinf_error err;

    assert_int_equal(kinf_client_request(&log, cluster.client, "GET",
                                         "/_sim/requests", NULL, NULL,
                                         &err), 0);
    json_array_foreach(log, i, e) {
        const char *p = json_string_value(json_object_get(e, "path"));
        json_t *q = json_object_get(e, "query");

        if (p && strcmp(p, f->path) == 0 && json_object_size(q) > 0 &&
            watches == (json_object_get(q, "watch") != NULL))
            n++;
    }
    json_decref(log);
    return n;
}

/* Converged to the server's list, each object's story consistent. */
static void assert_healthy(struct fixture *f)
{
    assert_store_matches_server(f->informer, f->ns, SYNC_MS);
    recorder_check_chains(&f->rec);
}

/* A stream that turns to garbage, over and over: the informer reports
   it and backs off instead of reconnecting in a tight loop. */
static void test_garbage_backs_off(void **state)
{
    struct fixture *f = *state;
    size_t before;

    skip_unless_sim();
    create_pod(&cluster, f->ns, "a");
    start(f, 0, true);
    before = gets(f, true);
    inject(f, "watch", 1000, "\"garbage_after\":1");
    json_decref(sim_control(&cluster, "close-watches", NULL));
    sleep_ms(2500);
    /* Backoff 50 ms doubling to 400 ms (jitter up to 2x): a dozen
       attempts at most, where a loop would make hundreds. */
    assert_true(gets(f, true) - before < 25);
    recorder_wait(&f->rec, "ERROR 0", 1000);
    /* The report names the request and what was wrong with it. */
    assert_true(recorder_count_containing(&f->rec, "| GET https://") > 0);
    assert_true(recorder_count_containing(&f->rec, "is not JSON") > 0);
    clear_faults();
    create_pod(&cluster, f->ns, "b");
    assert_healthy(f);
}

static void test_error_events_relist_with_backoff(void **state)
{
    struct fixture *f = *state;
    size_t lists;

    skip_unless_sim();
    start(f, 0, true);
    lists = gets(f, false);
    inject(f, "watch", 1000,
           "\"error_event\":{\"reason\":\"InternalError\",\"message\":"
           "\"Internal error occurred: boom\"}");
    json_decref(sim_control(&cluster, "close-watches", NULL));
    WAIT_UNTIL(gets(f, false) > lists, SYNC_MS);
    sleep_ms(2500);
    assert_true(gets(f, false) - lists < 25);
    recorder_wait(&f->rec, "ERROR 0 InternalError", 1000);
    clear_faults();
    create_pod(&cluster, f->ns, "after");
    assert_healthy(f);
}

/* 429 on a watch: wait as Retry-After says, watch again, no relist. */
static void test_too_many_requests_waits(void **state)
{
    struct fixture *f = *state;
    size_t lists;
    size_t watches;

    skip_unless_sim();
    start(f, 0, true);
    WAIT_UNTIL(gets(f, true) == 1, SYNC_MS);
    lists = gets(f, false);
    watches = gets(f, true);
    inject(f, "watch", 1000, "\"status\":429,\"retry_after\":1");
    /* End the open watch so that the next one meets the fault; after
       more than a second, so that its end is not itself a reason to
       list again (client-go's "very short watch"). */
    sleep_ms(1500);
    json_decref(sim_control(&cluster, "close-watches", NULL));
    sleep_ms(2300);
    /* One attempt at once, then one per second at most. */
    assert_true(gets(f, true) - watches <= 4);
    assert_int_equal(gets(f, false), lists);
    recorder_wait(&f->rec, "ERROR 429 TooManyRequests", 1000);
    clear_faults();
    create_pod(&cluster, f->ns, "after");
    assert_healthy(f);
}

static void test_failing_lists_are_retried(void **state)
{
    struct fixture *f = *state;
    kinf_error err;

    skip_unless_sim();
    create_pod(&cluster, f->ns, "a");
    inject(f, "list", 3, "\"status\":500,\"message\":\"etcd is sad\"");
    start(f, 0, false);
    if (kinf_informer_wait_for_sync(f->informer, test_ms(SYNC_MS), &err) != 0)
        fail_msg("no sync: %s", err.message);
    assert_int_equal(recorder_count(&f->rec, "ERROR 500 InternalError"), 3);
    assert_int_equal(gets(f, false), 4);
    assert_healthy(f);
}

/* A list that never ends is an error, not an endless loop. */
static void test_endless_list_is_refused(void **state)
{
    struct fixture *f = *state;
    kinf_error err;

    skip_unless_sim();
    create_pod(&cluster, f->ns, "a");
    inject(f, "list", 1000, "\"repeat_continue\":true");
    start(f, 0, false);
    WAIT_UNTIL(recorder_count_containing(&f->rec, "list does not end") > 0,
               SYNC_MS);
    assert_int_equal(kinf_informer_wait_for_sync(f->informer, 0, &err),
                     KINF_ETIMEDOUT);
    assert_non_null(strstr(err.message, "list does not end"));
    clear_faults();
    assert_int_equal(kinf_informer_wait_for_sync(f->informer,
                                                 test_ms(SYNC_MS), &err),
                     0);
    assert_healthy(f);
}

static void test_garbled_list_is_reported(void **state)
{
    struct fixture *f = *state;
    kinf_error err;

    skip_unless_sim();
    inject(f, "list", 1, "\"garbage_after\":0");
    inject(f, "list", 1, "\"cut_after\":0");
    start(f, 0, false);
    if (kinf_informer_wait_for_sync(f->informer, test_ms(SYNC_MS), &err) != 0)
        fail_msg("no sync: %s", err.message);
    assert_true(recorder_count(&f->rec, "ERROR") >= 2);
    assert_healthy(f);
}

/* Streams cut after each event, or split into tiny chunks: the events
   arrive once each, in order. */
static void test_cut_and_split_streams(void **state)
{
    struct fixture *f = *state;
    char name[32];

    skip_unless_sim();
    start(f, 0, true);
    inject(f, "watch", 6, "\"cut_after\":1");
    inject(f, "watch", 2, "\"split_events\":true,\"split_delay\":0.001");
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        create_pod(&cluster, f->ns, name);
        json_decref(sim_control(&cluster, "close-watches", NULL));
        sleep_ms(100);
    }
    assert_healthy(f);
    recorder_wait_count(&f->rec, "ADD ", 6, SYNC_MS);
    assert_int_equal(recorder_count(&f->rec, "ADD "), 6);
    assert_int_equal(recorder_count(&f->rec, "TOMBSTONE"), 0);
}

/* A watch that goes silent (stalled, or half an event and then nothing)
   is dropped after the stall timeout and watched again: nothing that
   changed meanwhile is lost. */
static void test_stalled_watch_is_dropped(void **state)
{
    struct fixture *f = *state;
    char prefix[256];

    skip_unless_sim();
    start(f, 1000, true);
    inject(f, "watch", 1, "\"stall\":30");
    inject(f, "watch", 1, "\"half_line_then_stall\":30");
    json_decref(sim_control(&cluster, "close-watches", NULL));
    sleep_ms(200);
    create_pod(&cluster, f->ns, "during-stall");
    snprintf(prefix, sizeof(prefix), "ADD %s/during-stall ", f->ns);
    recorder_wait(&f->rec, prefix, 8000);
    assert_healthy(f);
}

static void test_instant_closes_back_off(void **state)
{
    struct fixture *f = *state;
    size_t lists;

    skip_unless_sim();
    start(f, 0, true);
    lists = gets(f, false);
    inject(f, "watch", 1000, "\"close_immediately\":true");
    json_decref(sim_control(&cluster, "close-watches", NULL));
    WAIT_UNTIL(gets(f, false) > lists, SYNC_MS);
    sleep_ms(2500);
    /* client-go's "very short watch": relist, after a backoff. */
    assert_true(gets(f, false) - lists < 25);
    clear_faults();
    create_pod(&cluster, f->ns, "after");
    assert_healthy(f);
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, \
                                                 fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_garbage_backs_off),
        TEST(test_error_events_relist_with_backoff),
        TEST(test_too_many_requests_waits),
        TEST(test_failing_lists_are_retried),
        TEST(test_endless_list_is_refused),
        TEST(test_garbled_list_is_reported),
        TEST(test_cut_and_split_streams),
        TEST(test_stalled_watch_is_dropped),
        TEST(test_instant_closes_back_off),
    };

    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
