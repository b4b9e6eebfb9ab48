/* SPDX-License-Identifier: MIT */
/* pod-controller.c - logs every pod add, update and delete, klog style */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <kinformer.h>

struct counts {
    size_t added;
    size_t updated;
    size_t deleted;
};

static void on_add(const kinf_object *pod, bool in_initial_list,
                   void *user_data)
{
    struct counts *c = user_data;

    (void)in_initial_list;
    c->added++;
    KINF_KLOG(KINF_LOG_INFO, "AddFunc %s", kinf_object_key(pod));
}

static void on_update(const kinf_object *old_pod, const kinf_object *pod,
                      void *user_data)
{
    struct counts *c = user_data;

    (void)old_pod;
    c->updated++;
    KINF_KLOG(KINF_LOG_INFO, "UpdateFunc %s", kinf_object_key(pod));
}

static void on_delete(const char *key, const kinf_object *last_known,
                      bool final_state_unknown, void *user_data)
{
    struct counts *c = user_data;

    (void)last_known;
    c->deleted++;
    /* A tombstone: the pod vanished while the watch was down, so the
       informer learnt of it from a relist, not from a DELETED event. */
    KINF_KLOG(KINF_LOG_INFO, "DeleteFunc %s%s", key,
              final_state_unknown ? " (final state unknown)" : "");
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pod-controller [--kubeconfig FILE] [--context NAME]\n"
            "                      [--namespace NS] [-v N]\n"
            "Logs every pod add, update and delete (all namespaces by\n"
            "default) until SIGINT or SIGTERM.\n");
}

static int parse(int argc, char **argv, const char **kubeconfig,
                 const char **context, const char **namespace_)
{
    static const struct option longopts[] = {
        { "kubeconfig", required_argument, NULL, 'k' },
        { "context", required_argument, NULL, 'c' },
        { "namespace", required_argument, NULL, 'n' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    char *end;
    long level;
    int opt;

    while ((opt = getopt_long(argc, argv, "n:v:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            *kubeconfig = optarg;
            break;
        case 'c':
            *context = optarg;
            break;
        case 'n':
            *namespace_ = optarg;
            break;
        case 'v':
            level = strtol(optarg, &end, 10);
            if (end == optarg || *end || level < 0 || level > 10) {
                fprintf(stderr, "pod-controller: -v '%s': want a number "
                        "from 0 to 10\n", optarg);
                return -1;
            }
            kinf_klog_set_verbosity((int)level);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pod-controller: unexpected argument '%s'\n",
                argv[optind]);
        usage(stderr);
        return -1;
    }
    return 0;
}

/* Wait for SIGINT or SIGTERM, saying once when the cache has synced. */
static int wait_for_signal(kinf_informer *informer, const sigset_t *set)
{
    struct timespec tick = { 0, 100 * 1000000L };
    bool synced = false;
    int sig;

    for (;;) {
        sig = sigtimedwait(set, NULL, &tick);
        if (sig > 0)
            return sig;
        if (!synced && kinf_informer_has_synced(informer)) {
            synced = true;
            KINF_KLOG(KINF_LOG_INFO, "caches synced: %zu pods",
                      kinf_store_len(kinf_informer_store(informer)));
        }
    }
}

int main(int argc, char **argv)
{
    kinf_informer_options opts = KINF_INFORMER_OPTIONS_INIT;
    kinf_handler handler = KINF_HANDLER_INIT;
    const char *kubeconfig = NULL;
    const char *context = NULL;
    kinf_informer *informer = NULL;
    kinf_client *client = NULL;
    kinf_config *config = NULL;
    struct counts counts = {0};
    kinf_error err = {0};
    sigset_t set;
    int status = 1;
    int sig;
    int rc;

    if (parse(argc, argv, &kubeconfig, &context, &opts.namespace_) < 0)
        return 2;

    /* Block the signals before any thread starts, so that only
       sigtimedwait() below receives them. */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    if (kinf_global_init() < 0)
        return 1;
    if (kinf_config_load_kubeconfig(&config, kubeconfig, context, &err) < 0 ||
        kinf_client_new(&client, config, &err) < 0) {
        KINF_KLOG(KINF_LOG_ERROR, "%s", err.message);
        goto out;
    }
    kinf_client_set_log(client, kinf_klog_max_level(), kinf_log_klog, NULL);

    opts.resource = "pods";
    handler.on_add = on_add;
    handler.on_update = on_update;
    handler.on_delete = on_delete;
    /* No on_error: list and watch failures already reach the log as
       warnings, through the klog sink installed above. */
    if (kinf_informer_new(&informer, client, &opts, &err) < 0) {
        KINF_KLOG(KINF_LOG_ERROR, "cannot make the pod informer: %s",
                  err.message);
        goto out;
    }
    rc = kinf_informer_add_handler(NULL, informer, &handler, &counts, NULL);
    if (rc < 0) {
        KINF_KLOG(KINF_LOG_ERROR, "cannot register the handler: %s",
                  kinf_strerror(rc));
        goto out;
    }

    KINF_KLOG(KINF_LOG_INFO, "starting pod controller");
    if (kinf_informer_start(informer, &err) < 0) {
        KINF_KLOG(KINF_LOG_ERROR, "%s", err.message);
        goto out;
    }
    sig = wait_for_signal(informer, &set);
    KINF_KLOG(KINF_LOG_INFO, "received signal %d, shutting down", sig);
    kinf_informer_stop(informer);
    KINF_KLOG(KINF_LOG_INFO,
              "pod controller stopped: %zu adds, %zu updates, %zu deletes",
              counts.added, counts.updated, counts.deleted);
    status = 0;

out:
    kinf_informer_free(informer);
    kinf_client_free(client);
    kinf_config_free(config);
    kinf_global_cleanup();
    return status;
}
