/* SPDX-License-Identifier: MIT */
/* e2e_informer.c - the whole pipeline against a real API server socket */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SYNC_TIMEOUT_MS 10000
#define EVENT_TIMEOUT_MS 10000

static struct cluster cluster;

/* One informer on a fresh namespace, with a recording handler. */
struct fixture {
    char ns[128];
    struct recorder rec;
    struct recorder late;       /* for a handler added after sync */
    kinf_informer *informer;
    kinf_registration *reg;
};

static int group_setup(void **state)
{
    (void)state;
    if (kinf_global_init() < 0 || cluster_start(&cluster, NULL) < 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cluster_stop(&cluster);
    kinf_global_cleanup();
    return 0;
}

/* Runs before each test: a namespace, an informer and its recorder.
   Teardown runs even when the test fails, so nothing outlives it. */
static int fixture_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    kinf_informer_options opts;
    kinf_handler h = recorder_handler();
    kinf_error err;

    make_namespace(&cluster, f->ns, sizeof(f->ns), "t");
    recorder_init(&f->rec);
    recorder_init(&f->late);
    opts = fast_options(f->ns);
    assert_int_equal(kinf_informer_new(&f->informer, cluster.client, &opts,
                                       &err), 0);
    assert_int_equal(kinf_informer_add_handler(&f->reg, f->informer, &h,
                                               &f->rec, NULL), 0);
    *state = f;
    return 0;
}

static void fixture_start(struct fixture *f)
{
    kinf_error err;

    assert_int_equal(kinf_informer_start(f->informer, &err), 0);
    if (kinf_informer_wait_for_sync(f->informer, SYNC_TIMEOUT_MS, &err))
        fail_msg("no sync: %s", err.message);
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;

    kinf_informer_free(f->informer);
    delete_namespace(&cluster, f->ns);
    recorder_free(&f->rec);
    recorder_free(&f->late);
    free(f);
    return 0;
}

/* The cache converges to the server's list of the namespace. */
static void assert_converges(struct fixture *f)
{
    int64_t deadline = now_ms() + EVENT_TIMEOUT_MS;
    char *want = NULL;
    char *have = NULL;

    for (;;) {
        free(want);
        free(have);
        want = server_state(&cluster, f->ns);
        have = store_state(kinf_informer_store(f->informer));
        if (strcmp(want, have) == 0 || now_ms() > deadline)
            break;
        sleep_ms(20);
    }
    if (strcmp(want, have) != 0)
        fail_msg("store differs from the server:\nserver:\n%sstore:\n%s",
                 want, have);
    free(want);
    free(have);
}

static void skip_unless_sim(void)
{
    if (!cluster_is_sim(&cluster)) {
        printf("SKIP: needs the simulated server's fault injection\n");
        skip();
    }
}

static void test_existing_pods_are_added_then_synced(void **state)
{
    struct fixture *f = *state;

    create_pod(&cluster, f->ns, "p1");
    create_pod(&cluster, f->ns, "p2");
    create_pod(&cluster, f->ns, "p3");
    fixture_start(f);

    /* wait_for_sync returned: the informer and the handler are synced,
       so all three adds were delivered, flagged as initial. */
    assert_true(kinf_informer_has_synced(f->informer));
    assert_true(kinf_registration_has_synced(f->reg));
    assert_int_equal(recorder_count(&f->rec, "ADD "), 3);
    for (int i = 1; i <= 3; i++) {
        char prefix[256];
        char line[512];

        snprintf(prefix, sizeof(prefix), "ADD %s/p%d ", f->ns, i);
        recorder_line(&f->rec, recorder_wait(&f->rec, prefix, 1), line,
                      sizeof(line));
        assert_non_null(strstr(line, " initial"));
    }
    assert_int_equal(kinf_store_len(kinf_informer_store(f->informer)), 3);
    assert_converges(f);
}

static void test_create_update_delete_in_order(void **state)
{
    struct fixture *f = *state;
    char prefix[256];
    char line[512];
    size_t add, update, del;

    fixture_start(f);
    assert_int_equal(kinf_store_len(kinf_informer_store(f->informer)), 0);

    create_pod(&cluster, f->ns, "web");
    snprintf(prefix, sizeof(prefix), "ADD %s/web ", f->ns);
    add = recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);
    recorder_line(&f->rec, add, line, sizeof(line));
    assert_non_null(strstr(line, " live"));

    label_pod(&cluster, f->ns, "web", "one");
    snprintf(prefix, sizeof(prefix), "UPDATE %s/web ", f->ns);
    update = recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);

    delete_pod(&cluster, f->ns, "web");
    snprintf(prefix, sizeof(prefix), "DELETE %s/web ", f->ns);
    del = recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);

    assert_true(add < update && update < del);
    assert_int_equal(recorder_count(&f->rec, "TOMBSTONE"), 0);
    recorder_check_chains(&f->rec);
    assert_converges(f);
}

static void test_closed_watches_lose_and_repeat_nothing(void **state)
{
    struct fixture *f = *state;
    char name[32];

    skip_unless_sim();
    fixture_start(f);

    /* Changes keep coming while the server drops every watch, cleanly
       and abruptly: each re-watch resumes at the last version seen. */
    for (int i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        create_pod(&cluster, f->ns, name);
        label_pod(&cluster, f->ns, name, "a");
        json_decref(sim_control(&cluster, "close-watches",
                                i % 2 ? "{\"abrupt\":true}" : "{}"));
        if (i % 3 == 0)
            delete_pod(&cluster, f->ns, name);
        sleep_ms(30);
    }
    assert_converges(f);
    sleep_ms(300);   /* let late notifications arrive */
    recorder_check_chains(&f->rec);
    assert_int_equal(recorder_count(&f->rec, "TOMBSTONE"), 0);
    assert_int_equal(recorder_count(&f->rec, "ADD "), 12);
    assert_int_equal(recorder_count(&f->rec, "DELETE "), 4);
}

/* Count the list (not watch) requests for the namespace's pods. */
static size_t list_requests(const char *ns)
{
    json_t *log = NULL;
    char path[256];
    size_t n = 0;
    size_t i;
    json_t *entry;
    kinf_error err;

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    assert_int_equal(kinf_client_request(&log, cluster.client, "GET",
                                         "/_sim/requests", NULL, NULL,
                                         &err), 0);
    json_array_foreach(log, i, entry) {
        const char *p = json_string_value(json_object_get(entry, "path"));
        const char *m = json_string_value(json_object_get(entry,
                                                          "method"));
        json_t *query = json_object_get(entry, "query");

        if (p && m && strcmp(p, path) == 0 && strcmp(m, "GET") == 0 &&
            !json_object_get(query, "watch"))
            n++;
    }
    json_decref(log);
    return n;
}

static void test_compacted_history_forces_relist(void **state)
{
    struct fixture *f = *state;
    char other[128];
    size_t lists;

    skip_unless_sim();
    create_pod(&cluster, f->ns, "quiet");
    wait_pod_running(&cluster, f->ns, "quiet");
    fixture_start(f);
    lists = list_requests(f->ns);
    assert_int_equal(lists, 1);

    /* Writes elsewhere move the global version while this namespace
       stays quiet; after compaction the informer's version is too old,
       so its next watch gets 410 Expired and it must list again. */
    make_namespace(&cluster, other, sizeof(other), "busy");
    create_pod(&cluster, other, "noise1");
    create_pod(&cluster, other, "noise2");
    json_decref(sim_control(&cluster, "compact", NULL));
    /* A watch closed within a second without events is itself a reason
       to relist; wait past that so only the 410 can cause it. */
    sleep_ms(1100);
    json_decref(sim_control(&cluster, "close-watches", NULL));

    WAIT_UNTIL(list_requests(f->ns) > lists, EVENT_TIMEOUT_MS);
    /* Expired is routine, not an error handlers hear of. */
    assert_int_equal(recorder_count(&f->rec, "ERROR"), 0);
    create_pod(&cluster, f->ns, "after");
    assert_converges(f);
    /* The relist changed nothing, so no handler heard of it: the chain
       check rejects updates whose old and new versions are equal. */
    recorder_check_chains(&f->rec);
    assert_int_equal(recorder_count(&f->rec, "TOMBSTONE"), 0);
    delete_namespace(&cluster, other);
}

static void test_delete_while_cut_off_is_a_tombstone(void **state)
{
    struct fixture *f = *state;
    char prefix[256];
    char line[512];
    size_t len;

    skip_unless_sim();
    create_pod(&cluster, f->ns, "doomed");
    create_pod(&cluster, f->ns, "kept");
    fixture_start(f);

    json_decref(sim_control(&cluster, "disconnect", NULL));
    delete_pod(&cluster, f->ns, "doomed");
    create_pod(&cluster, f->ns, "born");
    json_decref(sim_control(&cluster, "compact", NULL));
    sleep_ms(200);   /* the informer retries and fails meanwhile */
    json_decref(sim_control(&cluster, "reconnect", NULL));

    snprintf(prefix, sizeof(prefix), "TOMBSTONE %s/doomed ", f->ns);
    recorder_line(&f->rec, recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS),
                  line, sizeof(line));
    /* The tombstone carries the last state the cache had. */
    len = strlen(line);
    assert_false(len > 2 && strcmp(line + len - 2, " -") == 0);
    snprintf(prefix, sizeof(prefix), "ADD %s/born ", f->ns);
    recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);
    assert_true(recorder_count(&f->rec, "ERROR 503") > 0);
    snprintf(prefix, sizeof(prefix), "DELETE %s/doomed", f->ns);
    assert_int_equal(recorder_count(&f->rec, prefix), 0);
    assert_converges(f);
    recorder_check_chains(&f->rec);
}

static void test_late_handler_gets_synthetic_adds(void **state)
{
    struct fixture *f = *state;
    kinf_handler h = recorder_handler();
    kinf_registration *reg = NULL;

    create_pod(&cluster, f->ns, "a");
    create_pod(&cluster, f->ns, "b");
    create_pod(&cluster, f->ns, "c");
    fixture_start(f);

    assert_int_equal(kinf_informer_add_handler(&reg, f->informer, &h, &f->late,
                                               NULL), 0);
    WAIT_UNTIL(kinf_registration_has_synced(reg), SYNC_TIMEOUT_MS);
    assert_int_equal(recorder_count(&f->late, "ADD "), 3);
    assert_int_equal(recorder_count_containing(&f->late, " initial"), 3);

    /* From then on it hears live changes like everyone else. */
    create_pod(&cluster, f->ns, "d");
    WAIT_UNTIL(recorder_count(&f->late, "ADD ") == 4, EVENT_TIMEOUT_MS);
    assert_int_equal(kinf_informer_remove_handler(f->informer, reg), 0);
    assert_int_equal(kinf_informer_remove_handler(f->informer, reg),
                     KINF_ENOTFOUND);
    recorder_check_chains(&f->late);
}

static void test_stop_during_watch_is_prompt(void **state)
{
    struct fixture *f = *state;
    int64_t start;
    int64_t took;

    fixture_start(f);
    sleep_ms(300);   /* the watch is open and idle now */

    start = now_ms();
    kinf_informer_stop(f->informer);
    took = now_ms() - start;
    if (took >= 1000)
        fail_msg("stop took %lld ms", (long long)took);

    /* A stopped informer starts again and catches up. */
    create_pod(&cluster, f->ns, "while-stopped");
    fixture_start(f);
    assert_converges(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_existing_pods_are_added_then_synced,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_create_update_delete_in_order,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_closed_watches_lose_and_repeat_nothing,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_compacted_history_forces_relist,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delete_while_cut_off_is_a_tombstone,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_late_handler_gets_synthetic_adds,
                                        fixture_setup, fixture_teardown),
        cmocka_unit_test_setup_teardown(test_stop_during_watch_is_prompt,
                                        fixture_setup, fixture_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
