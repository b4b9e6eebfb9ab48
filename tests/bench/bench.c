/* SPDX-License-Identifier: MIT */
/* bench.c - throughput and memory of the pipeline's stages */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <kinformer.h>

#include "decode.h"
#include "fifo.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Resident memory, after handing freed heap back so that the figure
   counts what is live, not what malloc keeps for later. */
static long rss_kib(void)
{
    long pages = 0;
    long resident = 0;
    FILE *f;

    malloc_trim(0);
    f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Start measuring the peak resident memory afresh (Linux 4.0 and on). */
static void reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");

    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

/* The peak resident memory since reset_peak(), in KiB (VmHWM). */
static long peak_kib(void)
{
    char line[256];
    long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    while (f && fgets(line, sizeof(line), f)) {
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
            break;
    }
    if (f)
        fclose(f);
    return kib;
}

/* A pod about as large as a small real one (~1.6 KB of JSON). */
static char *pod_json(size_t i, const char *rv)
{
    char *buf = malloc(4096);

    snprintf(buf, 4096,
             "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{"
             "\"name\":\"pod-%zu\",\"namespace\":\"ns-%zu\",\"uid\":"
             "\"6c2f7f1e-0000-4000-8000-%012zu\",\"resourceVersion\":\"%s\","
             "\"creationTimestamp\":\"2026-12-03T16:46:01Z\",\"labels\":"
             "{\"app\":\"bench\",\"tier\":\"web\",\"pod-template-hash\":"
             "\"5d8f9c7b6\"}},\"spec\":{\"containers\":[{\"name\":\"app\","
             "\"image\":\"registry.example/app:1.2.3\",\"ports\":[{"
             "\"containerPort\":8080,\"protocol\":\"TCP\"}],\"resources\":"
             "{\"requests\":{\"cpu\":\"100m\",\"memory\":\"128Mi\"}},"
             "\"terminationMessagePath\":\"/dev/termination-log\","
             "\"imagePullPolicy\":\"IfNotPresent\"}],\"restartPolicy\":"
             "\"Always\",\"terminationGracePeriodSeconds\":30,"
             "\"dnsPolicy\":\"ClusterFirst\",\"nodeName\":\"node-%zu\","
             "\"serviceAccountName\":\"default\",\"schedulerName\":"
             "\"default-scheduler\"},\"status\":{\"phase\":\"Running\","
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\","
             "\"lastTransitionTime\":\"2026-12-03T16:46:05Z\"},{\"type\":"
             "\"PodScheduled\",\"status\":\"True\",\"lastTransitionTime\":"
             "\"2026-12-03T16:46:01Z\"}],\"hostIP\":\"10.0.0.%zu\","
             "\"podIP\":\"10.244.%zu.%zu\",\"startTime\":"
             "\"2026-12-03T16:46:01Z\",\"containerStatuses\":[{\"name\":"
             "\"app\",\"ready\":true,\"restartCount\":0,\"image\":"
             "\"registry.example/app:1.2.3\",\"started\":true,\"state\":"
             "{\"running\":{\"startedAt\":\"2026-12-03T16:46:04Z\"}}}],"
             "\"qosClass\":\"Burstable\"}}",
             i, i % 50, i, rv, i % 20, i % 250, i % 250, i % 200);
    return buf;
}

static atomic_size_t events;

static int count_event(const struct kinf__event *ev, void *user_data)
{
    (void)ev;
    (void)user_data;
    atomic_fetch_add(&events, 1);
    return 0;
}

/* Decoder: a stream of MODIFIED events fed in 16 KiB reads. */
static void bench_decode(size_t n)
{
    struct kinf__decoder *dec = kinf__decoder_new(count_event, NULL, 0);
    size_t cap = n * 2048;
    char *stream = malloc(cap);
    size_t len = 0;
    kinf_error err;
    double t;

    for (size_t i = 0; i < n; i++) {
        char rv[32];
        char *pod;

        snprintf(rv, sizeof(rv), "%zu", 1000 + i);
        pod = pod_json(i, rv);
        len += (size_t)snprintf(stream + len, cap - len,
                                "{\"type\":\"MODIFIED\",\"object\":%s}\n",
                                pod);
        free(pod);
    }
    atomic_store(&events, 0);
    t = now_s();
    for (size_t off = 0; off < len; off += 16384)
        kinf__decoder_feed(dec, stream + off,
                           len - off < 16384 ? len - off : 16384, &err);
    t = now_s() - t;
    printf("decode: %zu events, %.1f MB in %.3f s: %.0f events/s, "
           "%.0f MB/s\n", atomic_load(&events), (double)len / 1e6, t,
           (double)n / t, (double)len / 1e6 / t);
    kinf__decoder_free(dec);
    free(stream);
}

/* Store: memory per cached object and add/get rates. */
static void bench_store(size_t n)
{
    kinf_object **objs = malloc(n * sizeof(*objs));
    kinf_store *store = NULL;
    kinf_object *got = NULL;
    long before;
    double t;
    char key[64];
    double made = 0;

    before = rss_kib();
    for (size_t i = 0; i < n; i++) {
        char *text = pod_json(i, "1");

        t = now_s();
        kinf_object_new(&objs[i], text, strlen(text), NULL);
        made += now_s() - t;
        free(text);
    }
    printf("object: %.0f objects/s made from JSON text\n", (double)n / made);
    kinf_store_new(&store);
    t = now_s();
    for (size_t i = 0; i < n; i++)
        kinf_store_add(store, objs[i]);
    t = now_s() - t;
    for (size_t i = 0; i < n; i++)
        kinf_object_unref(objs[i]);
    printf("store: %zu objects cached, %.0f adds/s, %.2f KiB resident "
           "per object (objects, store and indexes)\n", n,
           (double)n / t, (double)(rss_kib() - before) / (double)n);

    t = now_s();
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof(key), "ns-%zu/pod-%zu", i % 50, i);
        if (kinf_store_get(&got, store, key) == 0)
            kinf_object_unref(got);
    }
    t = now_s() - t;
    printf("store: %.0f gets/s\n", (double)n / t);
    kinf_store_free(store);
    free(objs);
}

static void on_add(const kinf_object *obj, bool initial, void *user_data)
{
    (void)obj;
    (void)initial;
    (void)user_data;
    atomic_fetch_add(&events, 1);
}

/* The whole pipeline: sync an informer on n pods from the simulator. */
static void bench_sync(size_t n, const char *sim)
{
    kinf_informer_options opts = KINF_INFORMER_OPTIONS_INIT;
    kinf_handler h = KINF_HANDLER_INIT;
    char dir[] = "/tmp/kinf-bench-XXXXXX";
    char cmd[1024];
    char kubeconfig[600];
    kinf_config *cfg = NULL;
    kinf_client *client = NULL;
    kinf_informer *inf = NULL;
    kinf_error err;
    long before;
    double t;
    FILE *p;
    char line[512] = "";

    if (!mkdtemp(dir))
        return;
    snprintf(cmd, sizeof(cmd),
             "python3 %s --dir %s --no-kubelet --seed-pods %zu & "
             "echo $! > %s/pid; wait", sim, dir, n, dir);
    p = popen(cmd, "r");
    if (!p || !fgets(line, sizeof(line), p)) {
        fprintf(stderr, "bench: the simulator did not start\n");
        return;
    }
    snprintf(kubeconfig, sizeof(kubeconfig), "%s/kubeconfig", dir);
    kinf_config_load_kubeconfig(&cfg, kubeconfig, NULL, &err);
    kinf_client_new(&client, cfg, &err);
    opts.resource = "pods";
    h.on_add = on_add;
    atomic_store(&events, 0);
    before = rss_kib();
    reset_peak();
    kinf_informer_new(&inf, client, &opts, &err);
    kinf_informer_add_handler(NULL, inf, &h, NULL, NULL);
    t = now_s();
    kinf_informer_start(inf, &err);
    if (kinf_informer_wait_for_sync(inf, 600000, &err) != 0)
        fprintf(stderr, "bench: no sync: %s\n", err.message);
    t = now_s() - t;
    printf("sync: %zu pods listed, stored and delivered in %.3f s "
           "(%.0f pods/s), %.2f KiB resident per pod\n",
           atomic_load(&events), t, (double)n / t,
           (double)(rss_kib() - before) / (double)n);
    printf("sync: peak resident memory %.1f MiB above the start\n",
           (double)(peak_kib() - before) / 1024);
    kinf_informer_free(inf);
    kinf_client_free(client);
    kinf_config_free(cfg);
    snprintf(cmd, sizeof(cmd), "kill $(cat %s/pid); rm -rf %s", dir, dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench: cleanup failed\n");
    pclose(p);
}

int main(int argc, char **argv)
{
    size_t n = 20000;
    const char *sim = NULL;
    int opt;

    while ((opt = getopt(argc, argv, "n:s:")) != -1) {
        if (opt == 'n')
            n = strtoul(optarg, NULL, 10);
        else if (opt == 's')
            sim = optarg;
    }
    kinf_global_init();
    bench_decode(n);
    bench_store(n);
    if (sim)
        bench_sync(n, sim);
    kinf_global_cleanup();
    return 0;
}
