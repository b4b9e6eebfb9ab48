/* SPDX-License-Identifier: MIT */
/* e2e_client.c - auth, TLS and error answers over real sockets */
#define _GNU_SOURCE             /* RTLD_NEXT */
#include <dlfcn.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

/* ---- a name server that does not answer ------------------------------ */

#define SLOW_DNS_SUFFIX ".slow-dns.test"
#define SLOW_DNS_MS 20000

static atomic_int slow_lookups;

/* Lookups of *.slow-dns.test hang for SLOW_DNS_MS, as with a resolver
   that does not answer; every other name goes to the C library. This
   executable exports its symbols (meson.build), so libcurl's resolver
   thread calls this definition. */
int getaddrinfo(const char *node, const char *service,
                const struct addrinfo *hints, struct addrinfo **res)
{
    int (*next)(const char *, const char *, const struct addrinfo *,
                struct addrinfo **);
    size_t len = node ? strlen(node) : 0;
    size_t suffix = strlen(SLOW_DNS_SUFFIX);

    if (len > suffix && strcmp(node + len - suffix, SLOW_DNS_SUFFIX) == 0) {
        atomic_fetch_add(&slow_lookups, 1);
        sleep_ms(SLOW_DNS_MS);
        return EAI_AGAIN;
    }
    *(void **)&next = dlsym(RTLD_NEXT, "getaddrinfo");
    return next(node, service, hints, res);
}

static char token[256];

/* Every log line the library wrote, to look for secrets in. */
static char logbuf[1 << 16];
static size_t loglen;
static pthread_mutex_t loglock = PTHREAD_MUTEX_INITIALIZER;

static void capture_log(kinf_log_level level, const char *subsystem,
                        const char *file, int line, const char *message,
                        void *user_data)
{
    (void)level, (void)subsystem, (void)file, (void)line, (void)user_data;
    pthread_mutex_lock(&loglock);
    loglen += (size_t)snprintf(logbuf + loglen, sizeof(logbuf) - loglen,
                               "%s\n", message);
    if (loglen >= sizeof(logbuf))
        loglen = sizeof(logbuf) - 1;
    pthread_mutex_unlock(&loglock);
}

static int group_setup(void **state)
{
    char path[600];
    FILE *f;

    if (cluster_group_setup(state) < 0)
        return -1;
    if (!cluster_is_sim(&cluster))
        return 0;
    snprintf(path, sizeof(path), "%s/token", cluster.dir);
    f = fopen(path, "r");
    if (!f || !fgets(token, sizeof(token), f))
        return -1;
    fclose(f);
    token[strcspn(token, "\r\n")] = '\0';
    return 0;
}

/* Write a kubeconfig with the given cluster and user bodies (YAML lines
   indented by 4) and return a client for it, or NULL with err set. */
static kinf_client *client_for(const char *cluster_body,
                               const char *user_body, kinf_error *err)
{
    char path[600];
    kinf_config *cfg = NULL;
    kinf_client *client = NULL;
    FILE *f;

    snprintf(path, sizeof(path), "%s/kubeconfig-test", cluster.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "apiVersion: v1\nkind: Config\ncurrent-context: t\n"
            "contexts:\n- name: t\n  context: {cluster: c, user: u}\n"
            "clusters:\n- name: c\n  cluster:\n%s\n"
            "users:\n- name: u\n  user:\n%s\n",
            cluster_body, user_body[0] ? user_body : "    {}");
    fclose(f);
    if (kinf_config_load_kubeconfig(&cfg, path, NULL, err) == 0)
        kinf_client_new(&client, cfg, err);
    kinf_config_free(cfg);
    if (client)
        kinf_client_set_log(client, KINF_LOG_TRACE, capture_log, NULL);
    return client;
}

static char *cluster_lines(const char *server, bool with_ca,
                           const char *extra)
{
    static char buf[1024];

    snprintf(buf, sizeof(buf), "    server: %s\n%s%s%s%s", server,
             with_ca ? "    certificate-authority: " : "",
             with_ca ? cluster.dir : "", with_ca ? "/ca.crt\n" : "",
             extra ? extra : "");
    return buf;
}

static char *token_lines(const char *t)
{
    static char buf[512];

    snprintf(buf, sizeof(buf), "    token: %s", t);
    return buf;
}

static int get_pods(kinf_client *client, kinf_error *err)
{
    json_t *answer = NULL;
    int rc = kinf_client_request(&answer, client, "GET",
                                 "/api/v1/namespaces/default/pods", NULL,
                                 NULL, err);

    json_decref(answer);
    return rc;
}

static void test_not_found_names_request_and_status(void **state)
{
    json_t *answer = NULL;
    kinf_error err;

    (void)state;
    assert_int_equal(kinf_client_request(&answer, cluster.client, "GET",
                                         "/api/v1/namespaces/default/pods/"
                                         "nope", NULL, NULL, &err),
                     KINF_ENOTFOUND);
    assert_null(answer);
    assert_int_equal(err.code, KINF_ENOTFOUND);
    assert_int_equal(err.http_status, 404);
    assert_string_equal(err.reason, "NotFound");
    assert_string_equal(err.method, "GET");
    assert_non_null(strstr(err.url, "/api/v1/namespaces/default/pods/nope"));
    assert_non_null(strstr(err.message, "pods \"nope\" not found"));
    assert_non_null(strstr(err.message, "404 NotFound"));
}

static void test_wrong_token_is_401_and_never_shown(void **state)
{
    const char *bad = "wrong-token-0123456789abcdef";
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    loglen = 0;
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      true, NULL),
                        token_lines(bad), &err);
    assert_non_null(client);
    assert_int_equal(get_pods(client, &err), KINF_EHTTP);
    assert_int_equal(err.http_status, 401);
    assert_string_equal(err.reason, "Unauthorized");
    assert_null(strstr(err.message, bad));
    assert_null(strstr(err.url, bad));
    assert_true(loglen > 0);
    assert_null(strstr(logbuf, bad));
    kinf_client_free(client);

    /* Nor does the good token show when things go right. */
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      true, NULL),
                        token_lines(token), &err);
    assert_int_equal(get_pods(client, &err), 0);
    assert_null(strstr(logbuf, token));
    kinf_client_free(client);
}

static void test_no_credentials_is_403_anonymous(void **state)
{
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      true, NULL), "", &err);
    assert_non_null(client);
    assert_int_equal(get_pods(client, &err), KINF_EHTTP);
    assert_int_equal(err.http_status, 403);
    assert_string_equal(err.reason, "Forbidden");
    assert_non_null(strstr(err.message, "system:anonymous"));
    kinf_client_free(client);
}

static kinf_client *client_from(const char *name)
{
    char path[600];
    kinf_config *cfg = NULL;
    kinf_client *client = NULL;
    kinf_error err;

    snprintf(path, sizeof(path), "%s/%s", cluster.dir, name);
    assert_int_equal(kinf_config_load_kubeconfig(&cfg, path, NULL, &err), 0);
    assert_int_equal(kinf_client_new(&client, cfg, &err), 0);
    kinf_config_free(cfg);
    return client;
}

static void test_client_certificate_authenticates(void **state)
{
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    client = client_from("kubeconfig-cert");
    if (get_pods(client, &err) != 0)
        fail_msg("%s", err.message);
    kinf_client_free(client);
}

/* The last request the simulator saw, as it logged it. */
static json_t *last_request(void)
{
    json_t *log = NULL;
    json_t *last;
    kinf_error err;

    assert_int_equal(kinf_client_request(&log, cluster.client, "GET",
                                         "/_sim/requests", NULL, NULL,
                                         &err), 0);
    last = json_incref(json_array_get(log, json_array_size(log) - 1));
    json_decref(log);
    return last;
}

static void test_no_token_over_plain_http(void **state)
{
    kinf_client *client;
    kinf_error err;
    json_t *seen;
    const char *authorization;

    (void)state;
    skip_unless_sim();
    /* kubeconfig-http names a token, but over http:// anyone on the path
       could read it: the request goes out anonymous. */
    client = client_from("kubeconfig-http");
    assert_int_equal(get_pods(client, &err), KINF_EHTTP);
    assert_int_equal(err.http_status, 403);
    assert_non_null(strstr(err.message, "system:anonymous"));
    assert_non_null(strstr(err.url, "http://"));
    seen = last_request();
    authorization = json_string_value(json_object_get(seen,
                                                      "authorization"));
    assert_true(!authorization || !*authorization);
    json_decref(seen);
    kinf_client_free(client);
}

static void test_token_cannot_inject_headers(void **state)
{
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      true, NULL),
                        "    token: \"abc\\r\\nX-Injected: yes\"", &err);
    assert_non_null(client);
    assert_int_equal(get_pods(client, &err), KINF_ECONFIG);
    assert_non_null(strstr(err.message, "control characters"));
    assert_null(strstr(err.message, "Injected"));
    kinf_client_free(client);
}

static void test_tls_is_verified_by_default(void **state)
{
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    /* No CA: the system's trust store does not know the test CA. */
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      false, NULL),
                        token_lines(token), &err);
    assert_int_equal(get_pods(client, &err), KINF_ETRANSPORT);
    assert_non_null(strstr(err.message, "certificate"));
    assert_non_null(strstr(err.message, "GET https://"));
    kinf_client_free(client);

    /* Asked for explicitly, an unverified connection works. */
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      false,
                                      "    insecure-skip-tls-verify: true"),
                        token_lines(token), &err);
    assert_int_equal(get_pods(client, &err), 0);
    kinf_client_free(client);
}

static void test_tls_server_name(void **state)
{
    const char *server = kinf_config_server(cluster.config);
    kinf_client *client;
    kinf_error err;

    (void)state;
    skip_unless_sim();
    /* The certificate names localhost: verifying that name works... */
    client = client_for(cluster_lines(server, true,
                                      "    tls-server-name: localhost"),
                        token_lines(token), &err);
    assert_non_null(client);
    if (get_pods(client, &err) != 0)
        fail_msg("%s", err.message);
    kinf_client_free(client);

    /* ...and a name the certificate does not carry fails. */
    client = client_for(cluster_lines(server, true,
                                      "    tls-server-name: wrong.invalid"),
                        token_lines(token), &err);
    assert_int_equal(get_pods(client, &err), KINF_ETRANSPORT);
    kinf_client_free(client);
}

static void on_error(const kinf_error *err, void *user_data)
{
    atomic_int *status = user_data;

    atomic_store(status, err->http_status);
}

static void test_informer_reports_errors(void **state)
{
    kinf_informer_options opts = fast_options("default");
    kinf_handler h = KINF_HANDLER_INIT;
    kinf_informer *inf = NULL;
    kinf_client *client;
    kinf_error err;
    atomic_int status = 0;
    int64_t start;
    int64_t took;

    (void)state;
    skip_unless_sim();
    client = client_for(cluster_lines(kinf_config_server(cluster.config),
                                      true, NULL),
                        token_lines("not-the-token"), &err);
    h.on_error = on_error;
    assert_int_equal(kinf_informer_new(&inf, client, &opts, &err), 0);
    assert_int_equal(kinf_informer_add_handler(NULL, inf, &h, &status,
                                               NULL), 0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);

    /* Handlers hear of the failed list... */
    WAIT_UNTIL(atomic_load(&status) == 401, 10000);
    /* ...and a wait ends with the reason it could not sync. */
    start = now_ms();
    assert_int_equal(kinf_informer_wait_for_sync(inf, 100, &err),
                     KINF_ETIMEDOUT);
    took = now_ms() - start;
    if (took < 100 || took > test_ms(2000))
        fail_msg("a 100 ms wait for sync took %lld ms", (long long)took);
    assert_int_equal(err.code, KINF_ETIMEDOUT);
    assert_int_equal(err.http_status, 401);
    assert_non_null(strstr(err.message, "GET "));
    assert_non_null(strstr(err.message, "401 Unauthorized"));
    kinf_informer_free(inf);
    kinf_client_free(client);
}

/* A 503 with Retry-After: the error carries the wait the server asked
   for, given as seconds or as an HTTP date. */
static int retry_after_for(const char *header_value)
{
    static const char path[] = "/api/v1/namespaces/kinf-retry-after/pods";
    json_t *answer = NULL;
    char body[512];
    kinf_error err;

    snprintf(body, sizeof(body),
             "{\"faults\":[{\"match\":\"list\",\"path_prefix\":\"%s\","
             "\"status\":503,\"retry_after\":\"%s\"}]}", path,
             header_value);
    json_decref(sim_control(&cluster, "faults", body));
    assert_int_equal(kinf_client_request(&answer, cluster.client, "GET",
                                         path, NULL, NULL, &err),
                     KINF_EHTTP);
    assert_null(answer);
    assert_int_equal(err.http_status, 503);
    return err.retry_after;
}

static void test_retry_after_in_both_forms(void **state)
{
    char date[64];
    time_t later = time(NULL) + 30;
    struct tm tm;
    int seconds;

    (void)state;
    skip_unless_sim();
    assert_int_equal(retry_after_for("7"), 7);
    gmtime_r(&later, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    seconds = retry_after_for(date);
    if (seconds < 20 || seconds > 31)
        fail_msg("Retry-After '%s' read as %d seconds", date, seconds);
}

/* Informers on a cluster-scoped kind and on a named API group. */
static void test_any_resource(void **state)
{
    kinf_informer_options opts = fast_options(NULL);
    kinf_informer *inf = NULL;
    kinf_object *obj = NULL;
    kinf_error err;
    char ns[128];
    char path[256];
    json_t *lease;

    (void)state;
    opts.resource = "namespaces";
    assert_int_equal(kinf_informer_new(&inf, cluster.client, &opts, &err),
                     0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    assert_int_equal(kinf_informer_wait_for_sync(inf, test_ms(10000), &err),
                     0);
    assert_int_equal(kinf_store_get(&obj, kinf_informer_store(inf),
                                    "default"), 0);
    assert_null(kinf_object_namespace(obj));
    kinf_object_unref(obj);
    kinf_informer_free(inf);

    make_namespace(&cluster, ns, sizeof(ns), "lease");
    opts = fast_options(ns);
    opts.api_group = "coordination.k8s.io";
    opts.resource = "leases";
    assert_int_equal(kinf_informer_new(&inf, cluster.client, &opts, &err),
                     0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    assert_int_equal(kinf_informer_wait_for_sync(inf, test_ms(10000), &err),
                     0);
    snprintf(path, sizeof(path),
             "/apis/coordination.k8s.io/v1/namespaces/%s/leases", ns);
    lease = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:i}}",
                      "apiVersion", "coordination.k8s.io/v1",
                      "kind", "Lease", "metadata", "name", "leader",
                      "spec", "holderIdentity", "me",
                      "leaseDurationSeconds", 15);
    assert_int_equal(kinf_client_request(NULL, cluster.client, "POST", path,
                                         NULL, lease, &err), 0);
    json_decref(lease);
    snprintf(path, sizeof(path), "%s/leader", ns);
    WAIT_UNTIL(kinf_store_get(&obj, kinf_informer_store(inf), path) == 0,
               10000);
    assert_string_equal(kinf_object_kind(obj), "Lease");
    kinf_object_unref(obj);
    kinf_informer_free(inf);
    delete_namespace(&cluster, ns);
}

static kinf_informer *synced_informer(kinf_informer_options *opts)
{
    kinf_informer *inf = NULL;
    kinf_error err;

    assert_int_equal(kinf_informer_new(&inf, cluster.client, opts, &err),
                     0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    if (kinf_informer_wait_for_sync(inf, test_ms(10000), &err))
        fail_msg("no sync: %s", err.message);
    return inf;
}

/* Whether the cached pod under key carries label_pod()'s label. */
static bool cached_with_step_label(kinf_informer *inf, const char *key)
{
    kinf_object *obj = NULL;
    bool seen;

    if (kinf_store_get(&obj, kinf_informer_store(inf), key))
        return false;
    seen = kinf_object_label(obj, "step") != NULL;
    kinf_object_unref(obj);
    return seen;
}

/* Label and field selectors choose what is listed and what is watched:
   a pod left out never reaches the cache, before or after the sync. */
static void test_selectors(void **state)
{
    kinf_informer_options opts;
    kinf_informer *by_label;
    kinf_informer *by_field;
    kinf_object *obj = NULL;
    char ns[128];
    char key[256];

    (void)state;
    make_namespace(&cluster, ns, sizeof(ns), "select");
    create_app_pod(&cluster, ns, "chosen", "e2e");
    create_app_pod(&cluster, ns, "other", "else");

    opts = fast_options(ns);
    opts.label_selector = "app=e2e";
    by_label = synced_informer(&opts);
    opts.label_selector = NULL;
    opts.field_selector = "metadata.name=other";
    by_field = synced_informer(&opts);
    assert_int_equal(kinf_store_len(kinf_informer_store(by_label)), 1);
    assert_int_equal(kinf_store_len(kinf_informer_store(by_field)), 1);
    snprintf(key, sizeof(key), "%s/other", ns);
    assert_int_equal(kinf_store_get(&obj, kinf_informer_store(by_field),
                                    key), 0);
    kinf_object_unref(obj);

    /* Watch events come in order: once the last change an informer may
       see has reached its cache, the pods left out would have too, had
       they passed its selector. */
    create_app_pod(&cluster, ns, "late-else", "else");
    create_app_pod(&cluster, ns, "late", "e2e");
    label_pod(&cluster, ns, "other", "seen");
    WAIT_UNTIL(kinf_store_len(kinf_informer_store(by_label)) == 2, 10000);
    WAIT_UNTIL(cached_with_step_label(by_field, key), 10000);
    assert_int_equal(kinf_store_len(kinf_informer_store(by_field)), 1);
    snprintf(key, sizeof(key), "%s/late-else", ns);
    assert_int_equal(kinf_store_get(&obj, kinf_informer_store(by_label),
                                    key), KINF_ENOTFOUND);
    kinf_informer_free(by_label);
    kinf_informer_free(by_field);
    delete_namespace(&cluster, ns);
}

/* An error carries the server's own reason and message, not one made up
   from the HTTP status: a second create of a pod is 409 AlreadyExists. */
static void test_error_keeps_server_reason(void **state)
{
    char ns[128];
    char path[256];
    kinf_error err;
    json_t *pod;

    (void)state;
    make_namespace(&cluster, ns, sizeof(ns), "conflict");
    create_pod(&cluster, ns, "twice");
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    pod = pod_manifest("twice", "e2e");
    assert_int_equal(kinf_client_request(NULL, cluster.client, "POST", path,
                                         NULL, pod, &err), KINF_EHTTP);
    json_decref(pod);
    assert_int_equal(err.http_status, 409);
    assert_string_equal(err.reason, "AlreadyExists");
    assert_non_null(strstr(err.message, "POST "));
    assert_non_null(strstr(err.message, "pods \"twice\" already exists"));
    delete_namespace(&cluster, ns);
}

/* A stop while a name lookup hangs returns at once: libcurl must not
   wait for its resolver thread (CURLOPT_QUICK_EXIT). */
static void test_stop_during_slow_name_lookup(void **state)
{
    kinf_informer_options opts = fast_options("default");
    kinf_informer *inf = NULL;
    kinf_client *client;
    kinf_error err;
    int64_t start;
    int64_t took;

    (void)state;
    skip_unless_sim();
    client = client_for(cluster_lines("https://api" SLOW_DNS_SUFFIX ":6443",
                                      true, NULL),
                        token_lines(token), &err);
    assert_non_null(client);
    assert_int_equal(kinf_informer_new(&inf, client, &opts, &err), 0);
    assert_int_equal(kinf_informer_start(inf, &err), 0);
    /* The informer's first list is stuck in the lookup. */
    WAIT_UNTIL(atomic_load(&slow_lookups) >= 1, 10000);
    sleep_ms(100);

    start = now_ms();
    kinf_informer_stop(inf);
    took = now_ms() - start;
    if (took >= test_ms(1000))
        fail_msg("stop took %lld ms during a name lookup", (long long)took);
    kinf_informer_free(inf);
    kinf_client_free(client);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_found_names_request_and_status),
        cmocka_unit_test(test_wrong_token_is_401_and_never_shown),
        cmocka_unit_test(test_no_credentials_is_403_anonymous),
        cmocka_unit_test(test_client_certificate_authenticates),
        cmocka_unit_test(test_no_token_over_plain_http),
        cmocka_unit_test(test_token_cannot_inject_headers),
        cmocka_unit_test(test_tls_is_verified_by_default),
        cmocka_unit_test(test_tls_server_name),
        cmocka_unit_test(test_informer_reports_errors),
        cmocka_unit_test(test_retry_after_in_both_forms),
        cmocka_unit_test(test_any_resource),
        cmocka_unit_test(test_selectors),
        cmocka_unit_test(test_error_keeps_server_reason),
        cmocka_unit_test(test_stop_during_slow_name_lookup),
    };

    return cmocka_run_group_tests(tests, group_setup, cluster_group_teardown);
}
