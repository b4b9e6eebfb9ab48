/* SPDX-License-Identifier: MIT */
/* e2e_informer.c - the whole pipeline against a real API server socket */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define SYNC_TIMEOUT_MS 10000
#define EVENT_TIMEOUT_MS 10000

/* One informer on a fresh namespace, with a recording handler. */
struct fixture {
    char ns[128];
    struct recorder rec;
    struct recorder late;       /* for a handler added after sync */
    kinf_informer *informer;
    kinf_registration *reg;
    atomic_int gate;            /* lets a stuck handler go; outlives it */
};

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
    if (kinf_informer_wait_for_sync(f->informer, test_ms(SYNC_TIMEOUT_MS),
                                    &err))
        fail_msg("no sync: %s", err.message);
}

static int fixture_teardown(void **state)
{
    struct fixture *f = *state;

    atomic_store(&f->gate, 1);   /* a failed test may have left it shut */
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
    assert_store_matches_server(f->informer, f->ns, EVENT_TIMEOUT_MS);
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
    /* The cache is filled before handlers hear of a change: wait for
       the notifications, then for any extra one that should not come. */
    recorder_wait_count(&f->rec, "ADD ", 12, EVENT_TIMEOUT_MS);
    recorder_wait_count(&f->rec, "DELETE ", 4, EVENT_TIMEOUT_MS);
    sleep_ms(300);
    recorder_check_chains(&f->rec);
    assert_int_equal(recorder_count(&f->rec, "TOMBSTONE"), 0);
    assert_int_equal(recorder_count(&f->rec, "ADD "), 12);
    assert_int_equal(recorder_count(&f->rec, "DELETE "), 4);
}

static json_t *request_log(void)
{
    json_t *log = NULL;
    kinf_error err;

    assert_int_equal(kinf_client_request(&log, cluster.client, "GET",
                                         "/_sim/requests", NULL, NULL,
                                         &err), 0);
    return log;
}

static const char *query_value(const json_t *query, const char *name)
{
    return json_string_value(json_object_get(query, name));
}

/* The logged GETs of the namespace's pods, in order: its watches, or
   its lists (with the tests' own reads of the truth among them). */
static json_t *pod_gets(const char *ns, bool watches)
{
    json_t *log = request_log();
    json_t *gets = json_array();
    char path[256];
    size_t i;
    json_t *entry;

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    json_array_foreach(log, i, entry) {
        const char *p = json_string_value(json_object_get(entry, "path"));
        const char *m = json_string_value(json_object_get(entry,
                                                          "method"));
        json_t *query = json_object_get(entry, "query");

        if (!p || !m || strcmp(p, path) || strcmp(m, "GET"))
            continue;
        if (watches == (json_object_get(query, "watch") != NULL))
            json_array_append(gets, entry);
    }
    json_decref(log);
    return gets;
}

/* Count the informer's GETs of the namespace's pods: lists, or watches
   (from version rv when rv is not NULL). */
static size_t count_gets(const char *ns, bool watches, const char *rv)
{
    json_t *gets = pod_gets(ns, watches);
    size_t n = 0;
    size_t i;
    json_t *entry;

    json_array_foreach(gets, i, entry) {
        json_t *query = json_object_get(entry, "query");
        const char *from = query_value(query, "resourceVersion");

        /* The tests' own reads of the truth carry no query; the
           informer's lists always name a version or a limit here. */
        if (json_object_size(query) == 0)
            continue;
        if (rv && (!from || strcmp(from, rv)))
            continue;
        n++;
    }
    json_decref(gets);
    return n;
}

static size_t list_requests(const char *ns)
{
    return count_gets(ns, false, NULL);
}

static size_t watch_requests_from(const char *ns, const char *rv)
{
    return count_gets(ns, true, rv);
}

/* A watch closed within a second without events is itself a reason to
   relist (client-go's rule): close the informer's watch only once it
   has been open for longer, so that only the test's cause is at work. */
static void close_watch_after_a_while(struct fixture *f)
{
    WAIT_UNTIL(watch_requests_from(f->ns, NULL) >= 1, EVENT_TIMEOUT_MS);
    sleep_ms(1500);
    json_decref(sim_control(&cluster, "close-watches", NULL));
}

/* Writes elsewhere move the global version while the fixture's
   namespace stays quiet, so the informer's version falls behind. */
static void make_noise(char *other, size_t size)
{
    make_namespace(&cluster, other, size, "busy");
    create_pod(&cluster, other, "noise1");
    create_pod(&cluster, other, "noise2");
}

/* Compaction while the informer's version is old: its next watch gets
   410 Expired (an ERROR event, or an HTTP status in "http" mode) and it
   must list again, without telling handlers of anything. */
static void compacted_history(struct fixture *f, const char *mode)
{
    char other[128];
    char knob[64];
    size_t lists;

    snprintf(knob, sizeof(knob), "{\"watch_expired_mode\":\"%s\"}", mode);
    json_decref(sim_control(&cluster, "config", knob));
    create_pod(&cluster, f->ns, "quiet");
    wait_pod_running(&cluster, f->ns, "quiet");
    fixture_start(f);
    lists = list_requests(f->ns);
    assert_int_equal(lists, 1);

    make_noise(other, sizeof(other));
    json_decref(sim_control(&cluster, "compact", NULL));
    close_watch_after_a_while(f);

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
    json_decref(sim_control(&cluster, "config",
                            "{\"watch_expired_mode\":\"event\"}"));
}

static void test_expired_event_forces_relist(void **state)
{
    skip_unless_sim();
    compacted_history(*state, "event");
}

static void test_expired_status_forces_relist(void **state)
{
    skip_unless_sim();
    compacted_history(*state, "http");
}

/* Bookmarks keep a quiet informer's version fresh: after compaction it
   watches again from the bookmark's version without listing. */
static void test_bookmarks_spare_a_relist(void **state)
{
    struct fixture *f = *state;
    char now[64];
    char other[128];
    json_t *knobs;
    const char *server_rv;

    skip_unless_sim();
    /* The interval applies to watches opened from now on. */
    json_decref(sim_control(&cluster, "config",
                            "{\"bookmark_interval\":0.3}"));
    fixture_start(f);
    make_noise(other, sizeof(other));
    wait_pod_running(&cluster, other, "noise1");
    wait_pod_running(&cluster, other, "noise2");

    /* The namespace is quiet; only bookmarks can bring the informer up
       to the server's version. */
    knobs = sim_control(&cluster, "config", "{}");
    server_rv = json_string_value(json_object_get(knobs, "resourceVersion"));
    assert_non_null(server_rv);
    WAIT_UNTIL((kinf_informer_last_resource_version(f->informer, now,
                                                    sizeof(now)),
                strcmp(now, server_rv) == 0), EVENT_TIMEOUT_MS);
    json_decref(knobs);
    json_decref(sim_control(&cluster, "config",
                            "{\"bookmark_interval\":60}"));

    json_decref(sim_control(&cluster, "compact", NULL));
    close_watch_after_a_while(f);
    create_pod(&cluster, f->ns, "after");
    assert_converges(f);
    assert_int_equal(list_requests(f->ns), 1);
    assert_true(watch_requests_from(f->ns, now) >= 1);
    recorder_wait_count(&f->rec, "ADD ", 1, EVENT_TIMEOUT_MS);
    assert_int_equal(recorder_count(&f->rec, "ADD "), 1);
    delete_namespace(&cluster, other);
}

/* The requests are client-go's: list at version 0 with limit=500, then
   a watch from the list's version with bookmarks and a timeout drawn in
   [300, 600) seconds. */
static void test_requests_are_client_gos(void **state)
{
    struct fixture *f = *state;
    kinf_informer_options opts = KINF_INFORMER_OPTIONS_INIT;
    kinf_informer *inf = NULL;
    kinf_error err;
    json_t *log;
    json_t *list = NULL;
    json_t *watch = NULL;
    size_t i;
    json_t *e;
    char path[256];
    long timeout;

    skip_unless_sim();
    json_decref(sim_control(&cluster, "requests/clear", NULL));
    opts.resource = "pods";
    opts.namespace_ = f->ns;
    assert_int_equal(kinf_informer_new(&inf, cluster.client, &opts, &err),
                     0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    assert_int_equal(kinf_informer_wait_for_sync(inf, test_ms(SYNC_TIMEOUT_MS),
                                                 &err), 0);
    WAIT_UNTIL(watch_requests_from(f->ns, NULL) == 1, EVENT_TIMEOUT_MS);
    kinf_informer_free(inf);

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", f->ns);
    log = request_log();
    json_array_foreach(log, i, e) {
        const char *p = json_string_value(json_object_get(e, "path"));

        if (!p || strcmp(p, path) != 0)
            continue;
        if (!list)
            list = json_object_get(e, "query");
        else if (!watch)
            watch = json_object_get(e, "query");
    }
    assert_non_null(list);
    assert_non_null(watch);
    assert_int_equal(json_object_size(list), 2);
    assert_string_equal(query_value(list, "resourceVersion"), "0");
    assert_string_equal(query_value(list, "limit"), "500");
    assert_int_equal(json_object_size(watch), 4);
    assert_string_equal(query_value(watch, "watch"), "true");
    assert_string_equal(query_value(watch, "allowWatchBookmarks"), "true");
    assert_non_null(query_value(watch, "resourceVersion"));
    assert_string_not_equal(query_value(watch, "resourceVersion"), "0");
    timeout = atol(query_value(watch, "timeoutSeconds"));
    assert_true(timeout >= 300 && timeout < 600);
    json_decref(log);
}

/* Every watch draws its own timeoutSeconds from [300, 600), so that
   informers started together do not all come back at once. */
static void test_watch_timeouts_are_drawn_each_time(void **state)
{
    struct fixture *f = *state;
    kinf_informer_options opts;
    kinf_informer *inf = NULL;
    kinf_error err;
    long first = 0;
    bool differ = false;
    json_t *watches;
    json_t *e;
    size_t i;

    skip_unless_sim();
    json_decref(sim_control(&cluster, "requests/clear", NULL));
    opts = fast_options(f->ns);
    opts.min_watch_timeout_s = 0;               /* the default, 300 */
    assert_int_equal(kinf_informer_new(&inf, cluster.client, &opts, &err),
                     0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    for (int round = 1; round <= 5; round++) {
        close_watch_after_a_while(f);
        WAIT_UNTIL(watch_requests_from(f->ns, NULL) > (size_t)round,
                   EVENT_TIMEOUT_MS);
    }
    watches = pod_gets(f->ns, true);
    json_array_foreach(watches, i, e) {
        const char *t = query_value(json_object_get(e, "query"),
                                    "timeoutSeconds");
        long timeout;

        assert_non_null(t);
        timeout = atol(t);
        if (timeout < 300 || timeout >= 600)
            fail_msg("watch timeoutSeconds=%s", t);
        if (i == 0)
            first = timeout;
        else if (timeout != first)
            differ = true;
    }
    assert_true(json_array_size(watches) >= 6);
    json_decref(watches);
    kinf_informer_free(inf);
    /* Six draws of one value out of 300 would be a broken draw. */
    assert_true(differ);
}

/* The fixture's informer made again with a slow first retry, so that a
   request made at once stands apart from one made after backing off. */
static void use_slow_retries(struct fixture *f, int64_t initial_backoff_ms)
{
    kinf_informer_options opts = fast_options(f->ns);
    kinf_handler h = recorder_handler();
    kinf_error err;

    kinf_informer_free(f->informer);
    opts.initial_backoff_ms = initial_backoff_ms;
    opts.max_backoff_ms = 2 * initial_backoff_ms;
    assert_int_equal(kinf_informer_new(&f->informer, cluster.client, &opts,
                                       &err), 0);
    assert_int_equal(kinf_informer_add_handler(&f->reg, f->informer, &h,
                                               &f->rec, NULL), 0);
}

/* Walk the informer's lists of ns's pods in the request log: the
   first at "0" (stage 1), a relist at a later version answered with
   status (stage 2), then a list without a version that succeeded (stage
   3). Returns the stage reached; *gap_ms is the time from 2 to 3. */
static int relist_stages(const char *ns, long status, int64_t *gap_ms)
{
    json_t *lists = pod_gets(ns, false);
    double failed_at = 0;
    int stage = 0;
    json_t *e;
    size_t i;

    json_array_foreach(lists, i, e) {
        const char *rv = query_value(json_object_get(e, "query"),
                                     "resourceVersion");
        long code = (long)json_integer_value(json_object_get(e, "status"));
        double at = json_number_value(json_object_get(e, "time"));

        if (stage == 0 && rv && !strcmp(rv, "0") && code == 200) {
            stage = 1;
        } else if (stage == 1 && rv && strcmp(rv, "0") && code == status) {
            stage = 2;
            failed_at = at;
        } else if (stage == 2) {
            assert_null(rv);
            assert_int_equal(code, 200);
            *gap_ms = (int64_t)((at - failed_at) * 1000);
            stage = 3;
            break;
        }
    }
    json_decref(lists);
    return stage;
}

/* A relist at the informer's last version that the server can no longer
   serve (410 Expired, or 504 "Too large resource version" after the
   server's store went back in time) is retried at once without a
   version, the latest state, rather than failing and backing off. */
static void check_relist_at_unavailable_version(struct fixture *f,
                                                int status,
                                                const char *message)
{
    const int64_t backoff_ms = test_ms(1000);
    char other[128];
    char path[256];
    char text[512];
    int64_t gap_ms = -1;

    use_slow_retries(f, backoff_ms);
    json_decref(sim_control(&cluster, "requests/clear", NULL));
    create_pod(&cluster, f->ns, "quiet");
    wait_pod_running(&cluster, f->ns, "quiet");   /* then no more events */
    fixture_start(f);

    /* The informer's next list fails; its watch's version is made old. */
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", f->ns);
    snprintf(text, sizeof(text),
             "{\"faults\":[{\"match\":\"list\",\"path_prefix\":\"%s\","
             "\"status\":%d,\"message\":\"%s\"}]}", path, status,
             message);
    json_decref(sim_control(&cluster, "faults", text));
    make_noise(other, sizeof(other));
    json_decref(sim_control(&cluster, "compact", NULL));
    close_watch_after_a_while(f);

    create_pod(&cluster, f->ns, "after");
    snprintf(text, sizeof(text), "ADD %s/after ", f->ns);
    recorder_wait(&f->rec, text, EVENT_TIMEOUT_MS);
    assert_int_equal(relist_stages(f->ns, status, &gap_ms), 3);
    if (gap_ms >= backoff_ms)
        fail_msg("the list without a version came %lld ms later",
                 (long long)gap_ms);
    assert_int_equal(recorder_count(&f->rec, "ERROR"), 0);
    assert_converges(f);
    recorder_check_chains(&f->rec);
    delete_namespace(&cluster, other);
}

static void test_expired_version_relists_latest(void **state)
{
    skip_unless_sim();
    check_relist_at_unavailable_version(*state, 410, "too old resource version: 1 (2)");
}

static void test_too_large_version_relists_latest(void **state)
{
    skip_unless_sim();
    check_relist_at_unavailable_version(
        *state, 504, "Too large resource version: 99, current: 9");
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
    /* The informer retries and fails meanwhile. */
    WAIT_UNTIL(recorder_count(&f->rec, "ERROR 503") > 0, EVENT_TIMEOUT_MS);
    json_decref(sim_control(&cluster, "reconnect", NULL));

    snprintf(prefix, sizeof(prefix), "TOMBSTONE %s/doomed ", f->ns);
    recorder_line(&f->rec, recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS),
                  line, sizeof(line));
    /* The tombstone carries the last state the cache had. */
    len = strlen(line);
    assert_false(len > 2 && strcmp(line + len - 2, " -") == 0);
    snprintf(prefix, sizeof(prefix), "ADD %s/born ", f->ns);
    recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);
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

/* A handler stuck until the test lets it go (or a minute passes, so a
   failed test cannot hang its teardown). */
static void stuck_add(const kinf_object *obj, bool initial, void *user_data)
{
    atomic_int *gate = user_data;
    int64_t until = now_ms() + 60000;

    (void)obj;
    (void)initial;
    while (!atomic_load(gate) && now_ms() < until)
        sleep_ms(10);
}

/* A stuck handler delays neither the other handlers nor the cache. */
static void test_slow_handler_delays_no_one(void **state)
{
    struct fixture *f = *state;
    kinf_handler stuck = KINF_HANDLER_INIT;
    char name[32];

    stuck.on_add = stuck_add;
    assert_int_equal(kinf_informer_add_handler(NULL, f->informer, &stuck,
                                               &f->gate, NULL), 0);
    fixture_start(f);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "p%d", i);
        create_pod(&cluster, f->ns, name);
    }
    /* The stuck handler has not returned from its first add. */
    recorder_wait_count(&f->rec, "ADD ", 5, EVENT_TIMEOUT_MS);
    WAIT_UNTIL(kinf_store_len(kinf_informer_store(f->informer)) == 5,
               EVENT_TIMEOUT_MS);
    atomic_store(&f->gate, 1);
}

static void test_stop_during_watch_is_prompt(void **state)
{
    struct fixture *f = *state;
    int64_t start;
    int64_t took;

    fixture_start(f);
    WAIT_UNTIL(watch_requests_from(f->ns, NULL) >= 1, EVENT_TIMEOUT_MS);
    sleep_ms(100);   /* the watch is open and idle now */

    start = now_ms();
    kinf_informer_stop(f->informer);
    took = now_ms() - start;
    if (took >= test_ms(1000))
        fail_msg("stop took %lld ms", (long long)took);

    /* A stopped informer starts again and catches up. */
    create_pod(&cluster, f->ns, "while-stopped");
    fixture_start(f);
    assert_converges(f);
}

/* The log hook is host code: it runs with no library lock held. Inside
   the hook, another thread asks the informer something that takes its
   FIFO lock, the lock under which changes are applied; held by the
   hook's thread, the answer could not come. */
struct lock_probe {
    kinf_informer *informer;
    atomic_int traces;          /* change traces the hook saw */
    atomic_int blocked;         /* of those, ones that found a lock */
};

struct probe_call {
    kinf_informer *informer;
    atomic_int done;
    atomic_int refs;            /* the hook's and the thread's */
};

static void probe_call_unref(struct probe_call *call)
{
    if (atomic_fetch_sub(&call->refs, 1) == 1)
        free(call);
}

static void *probe_main(void *arg)
{
    struct probe_call *call = arg;

    kinf_informer_has_synced(call->informer);
    atomic_store(&call->done, 1);
    probe_call_unref(call);
    return NULL;
}

static void probing_log(kinf_log_level level, const char *subsystem,
                        const char *file, int line, const char *message,
                        void *user_data)
{
    struct lock_probe *probe = user_data;
    struct probe_call *call;
    pthread_t thread;
    int64_t until = now_ms() + test_ms(2000);

    (void)file;
    (void)line;
    (void)message;
    if (level != KINF_LOG_TRACE || strcmp(subsystem, "informer") != 0)
        return;
    call = calloc(1, sizeof(*call));
    assert_non_null(call);
    call->informer = probe->informer;
    atomic_store(&call->refs, 2);
    assert_int_equal(pthread_create(&thread, NULL, probe_main, call), 0);
    pthread_detach(thread);
    while (!atomic_load(&call->done) && now_ms() < until) {
        sleep_ms(1);
    }
    atomic_fetch_add(&probe->traces, 1);
    if (!atomic_load(&call->done))
        atomic_fetch_add(&probe->blocked, 1);
    probe_call_unref(call);
}

static void test_log_hook_runs_without_locks(void **state)
{
    struct fixture *f = *state;
    struct lock_probe probe = { f->informer, 0, 0 };
    char prefix[256];

    create_pod(&cluster, f->ns, "listed");
    kinf_client_set_log(cluster.client, KINF_LOG_TRACE, probing_log, &probe);
    fixture_start(f);
    create_pod(&cluster, f->ns, "watched");
    delete_pod(&cluster, f->ns, "watched");
    snprintf(prefix, sizeof(prefix), "DELETE %s/watched ", f->ns);
    recorder_wait(&f->rec, prefix, EVENT_TIMEOUT_MS);
    kinf_informer_stop(f->informer);
    cluster_default_log(&cluster);

    /* The list's add, the watch's add and delete, at least. */
    assert_true(atomic_load(&probe.traces) >= 3);
    assert_int_equal(atomic_load(&probe.blocked), 0);
}

/* Each test gets its own namespace and informer (fixture_setup). */
#define TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, \
                                                 fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        TEST(test_existing_pods_are_added_then_synced),
        TEST(test_create_update_delete_in_order),
        TEST(test_closed_watches_lose_and_repeat_nothing),
        TEST(test_expired_event_forces_relist),
        TEST(test_expired_status_forces_relist),
        TEST(test_bookmarks_spare_a_relist),
        TEST(test_requests_are_client_gos),
        TEST(test_watch_timeouts_are_drawn_each_time),
        TEST(test_expired_version_relists_latest),
        TEST(test_too_large_version_relists_latest),
        TEST(test_delete_while_cut_off_is_a_tombstone),
        TEST(test_late_handler_gets_synthetic_adds),
        TEST(test_slow_handler_delays_no_one),
        TEST(test_stop_during_watch_is_prompt),
        TEST(test_log_hook_runs_without_locks),
    };

    return cmocka_run_group_tests(tests, cluster_group_setup,
                                  cluster_group_teardown);
}
