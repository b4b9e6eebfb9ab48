/* SPDX-License-Identifier: MIT */
/* harness.h - end-to-end fixtures: a cluster, namespaces, recorders */
#ifndef KINF_E2E_HARNESS_H
#define KINF_E2E_HARNESS_H

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cmocka.h>
#include <kinformer.h>

/*
 * The cluster under test: the simulated API server started by the
 * harness, or, when KINF_E2E_KUBECONFIG names a kubeconfig, any API
 * server (then tests that inject faults skip).
 */
struct cluster {
    pid_t sim_pid;          /* 0 against an external server */
    char dir[256];          /* the simulator's working directory */
    char kubeconfig[512];
    kinf_config *config;
    kinf_client *client;
};

/* The cluster every test of one executable uses. */
extern struct cluster cluster;

/* cmocka group set-up and tear-down: global init and the cluster. */
int cluster_group_setup(void **state);
int cluster_group_teardown(void **state);

int cluster_start(struct cluster *c, const char *const *extra_args);
void cluster_stop(struct cluster *c);
bool cluster_is_sim(const struct cluster *c);
/* The client's log as the run asks: klog lines at $KINF_E2E_VERBOSE,
   else silent. */
void cluster_default_log(struct cluster *c);
/* Skip the calling test (saying so) unless the cluster is simulated. */
void skip_unless_sim(void);

/* POST to the simulator's /_sim/ control interface; fails the test on
   error. body may be NULL. */
json_t *sim_control(struct cluster *c, const char *path, const char *body);

/* A fresh namespace per test, so that tests never see each other. */
void make_namespace(struct cluster *c, char *name, size_t size,
                    const char *prefix);
void delete_namespace(struct cluster *c, const char *name);

/* Pods: a pod's manifest with label app=APP; create one (create_pod()
   labels it app=e2e), label it step=VALUE, delete it at once. */
json_t *pod_manifest(const char *name, const char *app);
void create_app_pod(struct cluster *c, const char *ns, const char *name,
                    const char *app);
void create_pod(struct cluster *c, const char *ns, const char *name);
void label_pod(struct cluster *c, const char *ns, const char *name,
               const char *value);
void delete_pod(struct cluster *c, const char *ns, const char *name);
/* Wait until the (simulated) kubelet has the pod running. */
void wait_pod_running(struct cluster *c, const char *ns, const char *name);

/* The server's truth: "key=rv" lines of the collection, sorted. */
char *server_state(struct cluster *c, const char *ns);
/* The same for a store. */
char *store_state(kinf_store *store);
/* The informer's store converges to the server's list of namespace ns
   within timeout_ms, or the test fails showing both. */
void assert_store_matches_server(kinf_informer *inf, const char *ns,
                                 int64_t timeout_ms);

/* Records every notification as a line:
   "ADD key rv initial|live", "UPDATE key oldrv newrv",
   "DELETE key rv", "TOMBSTONE key rv|-" or
   "ERROR status reason | message". */
struct recorder {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    char **lines;
    size_t count;
    size_t cap;
};

void recorder_init(struct recorder *r);
void recorder_free(struct recorder *r);
kinf_handler recorder_handler(void);
/* Wait until a line starting with prefix exists; returns its index or
   fails the test after timeout_ms. */
size_t recorder_wait(struct recorder *r, const char *prefix,
                     int64_t timeout_ms);
/* Wait until at least n lines start with prefix; returns how many do. */
size_t recorder_wait_count(struct recorder *r, const char *prefix, size_t n,
                           int64_t timeout_ms);
size_t recorder_count(struct recorder *r, const char *prefix);
size_t recorder_count_containing(struct recorder *r, const char *needle);
/* Copy line i into buf. */
void recorder_line(struct recorder *r, size_t i, char *buf, size_t size);
/* Per key, notifications must form one chain: ADD, then UPDATEs whose
   old version is the previous new one, then at most one DELETE, and
   after a DELETE only a new ADD. Fails the test otherwise. */
void recorder_check_chains(struct recorder *r);
void recorder_dump(struct recorder *r);

/* Informer options with short timers, so tests run in seconds. */
kinf_informer_options fast_options(const char *ns);

int64_t now_ms(void);
void sleep_ms(int64_t ms);
/* A deadline of ms stretched by $KINF_TEST_TIME_SCALE (default 1), so
   that builds that run slowly (sanitizers, valgrind) get more time to
   wait for things that will happen. Every wait in the harness uses it. */
int64_t test_ms(int64_t ms);
/* Poll cond until true or fail after timeout_ms (stretched). */
#define WAIT_UNTIL(cond, timeout_ms)                                   \
    do {                                                               \
        int64_t until_ = now_ms() + test_ms(timeout_ms);               \
        while (!(cond)) {                                              \
            if (now_ms() > until_)                                     \
                fail_msg("timed out waiting for: %s", #cond);          \
            sleep_ms(10);                                              \
        }                                                              \
    } while (0)

#endif
