/* SPDX-License-Identifier: MIT */
/* harness.c - starts the simulated API server and records callbacks */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(int64_t ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

int64_t test_ms(int64_t ms)
{
    static atomic_int scale;

    /* Read once; racing first callers store the same value. */
    if (!atomic_load(&scale)) {
        const char *env = getenv("KINF_TEST_TIME_SCALE");
        int v = env ? atoi(env) : 1;

        atomic_store(&scale, v > 0 ? v : 1);
    }
    return ms * atomic_load(&scale);
}

static void rm_rf(const char *dir)
{
    char cmd[600];

    if (!dir[0])
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "harness: could not remove %s\n", dir);
}

/* Read the simulator's one line: "... kubeconfig PATH". */
static int read_ready_line(int fd, char *kubeconfig, size_t size)
{
    char line[1024];
    size_t len = 0;
    int64_t deadline = now_ms() + 30000;
    const char *mark;

    while (len < sizeof(line) - 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;

        if (poll(&p, 1, (int)(deadline - now_ms())) <= 0)
            return -1;
        n = read(fd, line + len, 1);
        if (n <= 0)
            return -1;
        if (line[len] == '\n')
            break;
        len++;
    }
    line[len] = '\0';
    mark = strstr(line, "kubeconfig ");
    if (!mark)
        return -1;
    snprintf(kubeconfig, size, "%s", mark + strlen("kubeconfig "));
    return 0;
}

static int spawn_sim(struct cluster *c, const char *const *extra)
{
    const char *python = getenv("KINF_PYTHON");
    const char *sim = getenv("KINF_SIM");
    const char *argv[32];
    size_t argc = 0;
    int fds[2];

    if (!sim) {
        fprintf(stderr, "harness: KINF_SIM is not set\n");
        return -1;
    }
    snprintf(c->dir, sizeof(c->dir), "/tmp/kinf-e2e-XXXXXX");
    if (!mkdtemp(c->dir) || pipe(fds) < 0)
        return -1;

    argv[argc++] = python ? python : "python3";
    argv[argc++] = sim;
    argv[argc++] = "--dir";
    argv[argc++] = c->dir;
    argv[argc++] = "--kubelet-delay";
    argv[argc++] = "0.05";
    for (size_t i = 0; extra && extra[i] && argc < 30; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;

    c->sim_pid = fork();
    if (c->sim_pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);   /* never outlive the test */
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    if (c->sim_pid < 0 ||
        read_ready_line(fds[0], c->kubeconfig, sizeof(c->kubeconfig)) < 0) {
        fprintf(stderr, "harness: the simulated server did not start\n");
        close(fds[0]);
        return -1;
    }
    close(fds[0]);
    return 0;
}

struct cluster cluster;

int cluster_group_setup(void **state)
{
    (void)state;
    if (kinf_global_init() < 0 || cluster_start(&cluster, NULL) < 0)
        return -1;
    return 0;
}

int cluster_group_teardown(void **state)
{
    (void)state;
    cluster_stop(&cluster);
    kinf_global_cleanup();
    return 0;
}

int cluster_start(struct cluster *c, const char *const *extra_args)
{
    const char *external = getenv("KINF_E2E_KUBECONFIG");
    kinf_error err;

    memset(c, 0, sizeof(*c));
    if (external && *external)
        snprintf(c->kubeconfig, sizeof(c->kubeconfig), "%s", external);
    else if (spawn_sim(c, extra_args) < 0)
        return -1;

    if (kinf_config_load_kubeconfig(&c->config, c->kubeconfig, NULL,
                                    &err) < 0 ||
        kinf_client_new(&c->client, c->config, &err) < 0) {
        fprintf(stderr, "harness: %s\n", err.message);
        return -1;
    }
    cluster_default_log(c);
    return 0;
}

void cluster_default_log(struct cluster *c)
{
    const char *verbose = getenv("KINF_E2E_VERBOSE");

    if (verbose) {
        kinf_klog_set_verbosity(atoi(verbose));
        kinf_client_set_log(c->client, kinf_klog_max_level(), kinf_log_klog,
                            NULL);
    } else {
        kinf_client_set_log(c->client, KINF_LOG_OFF, NULL, NULL);
    }
}

void cluster_stop(struct cluster *c)
{
    kinf_client_free(c->client);
    kinf_config_free(c->config);
    if (c->sim_pid > 0) {
        kill(c->sim_pid, SIGTERM);
        waitpid(c->sim_pid, NULL, 0);
    }
    rm_rf(c->dir);
    memset(c, 0, sizeof(*c));
}

bool cluster_is_sim(const struct cluster *c)
{
    return c->sim_pid > 0;
}

void skip_unless_sim(void)
{
    if (!cluster_is_sim(&cluster)) {
        printf("SKIP: needs the simulated server's controls\n");
        skip();
    }
}

static json_t *request(struct cluster *c, const char *method,
                       const char *path, const char *body)
{
    json_t *doc = NULL;
    json_t *answer = NULL;
    kinf_error err;

    if (body) {
        doc = json_loads(body, 0, NULL);
        assert_non_null(doc);
    }
    if (kinf_client_request(&answer, c->client, method, path,
                            strcmp(method, "PATCH") == 0
                                ? "application/merge-patch+json" : NULL,
                            doc, &err) < 0)
        fail_msg("%s", err.message);
    json_decref(doc);
    return answer;
}

json_t *sim_control(struct cluster *c, const char *path, const char *body)
{
    char full[256];

    snprintf(full, sizeof(full), "/_sim/%s", path);
    return request(c, "POST", full, body ? body : "{}");
}

void make_namespace(struct cluster *c, char *name, size_t size,
                    const char *prefix)
{
    char body[256];

    snprintf(name, size, "kinf-e2e-%s-%d-%lld", prefix, (int)getpid(),
             (long long)(now_ms() % 100000));
    snprintf(body, sizeof(body),
             "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\","
             "\"metadata\":{\"name\":\"%s\"}}", name);
    json_decref(request(c, "POST", "/api/v1/namespaces", body));
}

void delete_namespace(struct cluster *c, const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s", name);
    json_decref(request(c, "DELETE", path, NULL));
}

json_t *pod_manifest(const char *name, const char *app)
{
    json_t *pod = json_pack(
        "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:[{s:s, s:s}]}}",
        "apiVersion", "v1", "kind", "Pod",
        "metadata", "name", name, "labels", "app", app,
        "spec", "containers", "name", "main",
        "image", "registry.k8s.io/pause:3.10");

    assert_non_null(pod);
    return pod;
}

void create_app_pod(struct cluster *c, const char *ns, const char *name,
                    const char *app)
{
    char path[256];
    json_t *pod = pod_manifest(name, app);
    char *body = json_dumps(pod, JSON_COMPACT);

    assert_non_null(body);
    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    json_decref(request(c, "POST", path, body));
    free(body);
    json_decref(pod);
}

void create_pod(struct cluster *c, const char *ns, const char *name)
{
    create_app_pod(c, ns, name, "e2e");
}

void label_pod(struct cluster *c, const char *ns, const char *name,
               const char *value)
{
    char path[256];
    char body[256];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns,
             name);
    snprintf(body, sizeof(body),
             "{\"metadata\":{\"labels\":{\"step\":\"%s\"}}}", value);
    json_decref(request(c, "PATCH", path, body));
}

void delete_pod(struct cluster *c, const char *ns, const char *name)
{
    char path[256];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns,
             name);
    json_decref(request(c, "DELETE", path,
                        "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\","
                        "\"gracePeriodSeconds\":0}"));
}

void wait_pod_running(struct cluster *c, const char *ns, const char *name)
{
    int64_t deadline = now_ms() + test_ms(10000);
    char path[256];

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns,
             name);
    for (;;) {
        json_t *pod = request(c, "GET", path, NULL);
        const char *phase = json_string_value(json_object_get(
            json_object_get(pod, "status"), "phase"));
        bool running = phase && strcmp(phase, "Running") == 0;

        json_decref(pod);
        if (running)
            return;
        if (now_ms() > deadline)
            fail_msg("pod %s/%s never ran", ns, name);
        sleep_ms(20);
    }
}

static int compare_lines(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Join "key=rv" lines, sorted. */
static char *join_sorted(char **lines, size_t n)
{
    size_t total = 1;
    char *out;

    qsort(lines, n, sizeof(*lines), compare_lines);
    for (size_t i = 0; i < n; i++)
        total += strlen(lines[i]) + 1;
    out = calloc(1, total);
    for (size_t i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    free(lines);
    return out;
}

static char *key_rv_line(const char *ns, const char *name, const char *rv)
{
    size_t len = strlen(ns) + strlen(name) + strlen(rv) + 3;
    char *line = malloc(len);

    snprintf(line, len, "%s/%s=%s", ns, name, rv);
    return line;
}

char *server_state(struct cluster *c, const char *ns)
{
    char path[256];
    json_t *list;
    json_t *items;
    char **lines;
    size_t n;

    snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods", ns);
    list = request(c, "GET", path, NULL);
    items = json_object_get(list, "items");
    n = json_array_size(items);
    lines = calloc(n ? n : 1, sizeof(*lines));
    for (size_t i = 0; i < n; i++) {
        json_t *meta = json_object_get(json_array_get(items, i),
                                       "metadata");

        lines[i] = key_rv_line(
            json_string_value(json_object_get(meta, "namespace")),
            json_string_value(json_object_get(meta, "name")),
            json_string_value(json_object_get(meta, "resourceVersion")));
    }
    json_decref(list);
    return join_sorted(lines, n);
}

char *store_state(kinf_store *store)
{
    kinf_object **objs = NULL;
    char **lines;
    size_t n = 0;

    assert_int_equal(kinf_store_list(&objs, &n, store), 0);
    lines = calloc(n ? n : 1, sizeof(*lines));
    for (size_t i = 0; i < n; i++)
        lines[i] = key_rv_line(kinf_object_namespace(objs[i]),
                               kinf_object_name(objs[i]),
                               kinf_object_resource_version(objs[i]));
    kinf_object_list_free(objs, n);
    return join_sorted(lines, n);
}

void assert_store_matches_server(kinf_informer *inf, const char *ns,
                                 int64_t timeout_ms)
{
    int64_t deadline = now_ms() + test_ms(timeout_ms);
    char *want = NULL;
    char *have = NULL;

    for (;;) {
        free(want);
        free(have);
        want = server_state(&cluster, ns);
        have = store_state(kinf_informer_store(inf));
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

/* ---- recorder ---------------------------------------------------------- */

void recorder_init(struct recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->changed, NULL);
}

void recorder_free(struct recorder *r)
{
    for (size_t i = 0; i < r->count; i++)
        free(r->lines[i]);
    free(r->lines);
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->changed);
}

static void record(struct recorder *r, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->lock);
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->lines = realloc(r->lines, r->cap * sizeof(*r->lines));
    }
    r->lines[r->count++] = strdup(line);
    pthread_cond_broadcast(&r->changed);
    pthread_mutex_unlock(&r->lock);
}

static const char *rv_of(const kinf_object *obj)
{
    const char *rv = kinf_object_resource_version(obj);

    return rv ? rv : "-";
}

static void on_add(const kinf_object *obj, bool initial, void *ud)
{
    record(ud, "ADD %s %s %s", kinf_object_key(obj), rv_of(obj),
           initial ? "initial" : "live");
}

static void on_update(const kinf_object *old, const kinf_object *obj,
                      void *ud)
{
    record(ud, "UPDATE %s %s %s", kinf_object_key(obj), rv_of(old),
           rv_of(obj));
}

static void on_delete(const char *key, const kinf_object *last,
                      bool unknown, void *ud)
{
    record(ud, "%s %s %s", unknown ? "TOMBSTONE" : "DELETE", key,
           last ? rv_of(last) : "-");
}

static void on_error(const kinf_error *err, void *ud)
{
    record(ud, "ERROR %d %s | %s", err->http_status, err->reason,
           err->message);
}

kinf_handler recorder_handler(void)
{
    kinf_handler h = KINF_HANDLER_INIT;

    h.on_add = on_add;
    h.on_update = on_update;
    h.on_delete = on_delete;
    h.on_error = on_error;
    return h;
}

static bool find_from(struct recorder *r, const char *prefix, size_t *at)
{
    for (size_t i = 0; i < r->count; i++) {
        if (strncmp(r->lines[i], prefix, strlen(prefix)) == 0) {
            *at = i;
            return true;
        }
    }
    return false;
}

/* Wait on the recorder's condition for at most 20 ms; lock held. */
static void wait_changed(struct recorder *r)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 20 * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&r->changed, &r->lock, &ts);
}

size_t recorder_wait(struct recorder *r, const char *prefix,
                     int64_t timeout_ms)
{
    int64_t deadline = now_ms() + test_ms(timeout_ms);
    size_t at = 0;
    bool found;

    pthread_mutex_lock(&r->lock);
    while (!(found = find_from(r, prefix, &at)) && now_ms() < deadline)
        wait_changed(r);
    pthread_mutex_unlock(&r->lock);
    if (!found) {
        recorder_dump(r);
        fail_msg("no notification '%s' within %lld ms", prefix,
                 (long long)test_ms(timeout_ms));
    }
    return at;
}

static size_t count_locked(struct recorder *r, const char *prefix)
{
    size_t n = 0;

    for (size_t i = 0; i < r->count; i++)
        n += strncmp(r->lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

size_t recorder_wait_count(struct recorder *r, const char *prefix, size_t n,
                           int64_t timeout_ms)
{
    int64_t deadline = now_ms() + test_ms(timeout_ms);
    size_t have;

    pthread_mutex_lock(&r->lock);
    while ((have = count_locked(r, prefix)) < n && now_ms() < deadline)
        wait_changed(r);
    pthread_mutex_unlock(&r->lock);
    if (have < n) {
        recorder_dump(r);
        fail_msg("%zu notifications '%s' within %lld ms, not %zu", have,
                 prefix, (long long)test_ms(timeout_ms), n);
    }
    return have;
}

size_t recorder_count(struct recorder *r, const char *prefix)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = count_locked(r, prefix);
    pthread_mutex_unlock(&r->lock);
    return n;
}

size_t recorder_count_containing(struct recorder *r, const char *needle)
{
    size_t n = 0;

    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++)
        n += strstr(r->lines[i], needle) != NULL;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void recorder_line(struct recorder *r, size_t i, char *buf, size_t size)
{
    pthread_mutex_lock(&r->lock);
    assert_true(i < r->count);
    snprintf(buf, size, "%s", r->lines[i]);
    pthread_mutex_unlock(&r->lock);
}

void recorder_dump(struct recorder *r)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++)
        fprintf(stderr, "  [%zu] %s\n", i, r->lines[i]);
    pthread_mutex_unlock(&r->lock);
}

/* The last state the handler knows for each key, to check chains. */
struct chain {
    char key[256];
    char rv[64];
    bool alive;
};

static struct chain *chain_of(struct chain *chains, size_t *n,
                              const char *key)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(chains[i].key, key) == 0)
            return &chains[i];
    }
    snprintf(chains[*n].key, sizeof(chains[0].key), "%s", key);
    chains[*n].alive = false;
    chains[*n].rv[0] = '\0';
    return &chains[(*n)++];
}

void recorder_check_chains(struct recorder *r)
{
    struct chain *chains;
    size_t n = 0;

    pthread_mutex_lock(&r->lock);
    chains = calloc(r->count + 1, sizeof(*chains));
    for (size_t i = 0; i < r->count; i++) {
        char kind[16], key[256], a[64], b[64];
        struct chain *c;
        int fields = sscanf(r->lines[i], "%15s %255s %63s %63s", kind, key,
                            a, b);

        if (strcmp(kind, "ERROR") == 0)
            continue;
        assert_true(fields >= 3);
        c = chain_of(chains, &n, key);
        if (strcmp(kind, "ADD") == 0) {
            if (c->alive)
                fail_msg("line %zu: %s added twice", i, key);
            c->alive = true;
            snprintf(c->rv, sizeof(c->rv), "%s", a);
        } else if (strcmp(kind, "UPDATE") == 0) {
            if (!c->alive || strcmp(c->rv, a) != 0)
                fail_msg("line %zu: %s updated from %s, last known %s", i,
                         key, a, c->alive ? c->rv : "(none)");
            /* Equal versions mean a relist that changed nothing: no
               handler without resync may hear of it. */
            if (strcmp(a, b) == 0)
                fail_msg("line %zu: %s updated from %s to itself", i, key,
                         a);
            snprintf(c->rv, sizeof(c->rv), "%s", b);
        } else {
            if (!c->alive)
                fail_msg("line %zu: %s deleted while not present", i, key);
            c->alive = false;
        }
    }
    free(chains);
    pthread_mutex_unlock(&r->lock);
}

kinf_informer_options fast_options(const char *ns)
{
    kinf_informer_options o = KINF_INFORMER_OPTIONS_INIT;

    o.resource = "pods";
    o.namespace_ = ns;
    o.initial_backoff_ms = 50;
    o.max_backoff_ms = 400;
    o.min_watch_timeout_s = 30;
    return o;
}
