/* SPDX-License-Identifier: MIT */
/* reflector.c - LIST then WATCH loop feeding an informer's queue */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "internal.h"
#include "reflector.h"

#define SHORT_WATCH_MS 1000

struct kinf__reflector {
    kinf_client *client;
    const struct kinf__logger *log;
    struct kinf__reflector_options opts;  /* strings below own copies */
    char *strings[6];
    struct kinf__reflector_sink sink;
    struct kinf__backoff backoff;
    struct kinf__cancel cancel;
    pthread_t thread;
    bool running;

    /* Written by the reflector thread only; read by others under lock. */
    pthread_mutex_t version_lock;
    char *last_version;          /* lastSyncResourceVersion */
    bool version_unavailable;    /* the last relist got 410/too large */
    bool paginated_result;       /* an RV=0 list came back paged */
    const char *path;            /* for log messages */
    char *path_buf;
    char *url;                   /* path on the server, for errors */
};

static char *copy_opt(struct kinf__reflector *r, int slot, const char *s)
{
    r->strings[slot] = kinf__strdup(s);
    return r->strings[slot];
}

static int64_t or_default(int64_t value, int64_t fallback)
{
    return value > 0 ? value : fallback;
}

void kinf__reflector_defaults(struct kinf__reflector_options *opts)
{
    opts->page_size = (long)or_default(opts->page_size, 500);
    opts->initial_backoff_ms = or_default(opts->initial_backoff_ms, 800);
    opts->max_backoff_ms = or_default(opts->max_backoff_ms, 30000);
    opts->backoff_reset_ms = or_default(opts->backoff_reset_ms, 120000);
    opts->min_watch_timeout_s = (long)or_default(opts->min_watch_timeout_s,
                                                 300);
}

int kinf__reflector_new(struct kinf__reflector **out, kinf_client *client,
                        const struct kinf__reflector_options *opts,
                        const struct kinf__reflector_sink *sink,
                        kinf_error *err)
{
    struct kinf__reflector *r = calloc(1, sizeof(*r));
    struct kinf__resource *res;

    if (!r)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    r->client = client;
    r->log = kinf__client_logger(client);
    r->opts = *opts;
    kinf__reflector_defaults(&r->opts);
    r->sink = *sink;
    res = &r->opts.resource;
    res->group = copy_opt(r, 0, opts->resource.group);
    res->version = copy_opt(r, 1, opts->resource.version);
    res->resource = copy_opt(r, 2, opts->resource.resource);
    res->namespace_ = copy_opt(r, 3, opts->resource.namespace_);
    res->label_selector = copy_opt(r, 4, opts->resource.label_selector);
    res->field_selector = copy_opt(r, 5, opts->resource.field_selector);
    r->path_buf = kinf__resource_path(res);
    r->path = r->path_buf;
    r->url = kinf__asprintf("%s%s", kinf__client_base_url(client),
                            r->path ? r->path : "");
    kinf__cancel_init(&r->cancel);
    pthread_mutex_init(&r->version_lock, NULL);
    if (!r->path_buf || !r->url) {
        kinf__reflector_free(r);
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    }
    kinf__backoff_init(&r->backoff, r->opts.initial_backoff_ms,
                       r->opts.max_backoff_ms, r->opts.backoff_reset_ms,
                       1.0);
    *out = r;
    return 0;
}

void kinf__reflector_free(struct kinf__reflector *r)
{
    if (!r)
        return;
    kinf__reflector_stop(r);
    for (size_t i = 0; i < sizeof(r->strings) / sizeof(*r->strings); i++) {
        free(r->strings[i]);
    }
    free(r->path_buf);
    free(r->url);
    free(r->last_version);
    kinf__cancel_destroy(&r->cancel);
    pthread_mutex_destroy(&r->version_lock);
    free(r);
}

static void set_version(struct kinf__reflector *r, const char *rv)
{
    char *copy;

    if (!rv || !*rv)
        return;
    copy = strdup(rv);
    if (!copy)
        return;   /* keep the older version: a relist will follow */
    pthread_mutex_lock(&r->version_lock);
    free(r->last_version);
    r->last_version = copy;
    pthread_mutex_unlock(&r->version_lock);
}

void kinf__reflector_last_version(struct kinf__reflector *r, char *buf,
                                  size_t size)
{
    pthread_mutex_lock(&r->version_lock);
    kinf__strlcpy(buf, r->last_version ? r->last_version : "", size);
    pthread_mutex_unlock(&r->version_lock);
}

static void report(struct kinf__reflector *r, const kinf_error *err)
{
    if (r->sink.error) {
        r->sink.error(err, r->sink.user_data);
    }
}

/* "Too large resource version": the server is behind the version we
   asked for (a new server after a failover); only an unversioned list
   can help. */
static bool too_large(const kinf_error *err)
{
    return strstr(err->message, "Too large resource version") != NULL;
}

static int list(struct kinf__reflector *r, struct kinf__list *out,
                kinf_error *err)
{
    const char *rv;
    long page = r->opts.page_size;
    int rc;

    /* relistResourceVersion: "" after an expired version, "0" (any
       cached state, cheap for the server) for the first list, else the
       last version, which a watch cache serves without paging. */
    if (r->version_unavailable) {
        rv = NULL;
    } else if (!r->last_version) {
        rv = "0";
    } else {
        rv = r->last_version;
    }
    if (rv && strcmp(rv, "0") && !r->paginated_result) {
        page = 0;
    }

    KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
              "listing %s at resourceVersion '%s'", r->path,
              rv ? rv : "");
    rc = kinf__list_objects(r->client, &r->opts.resource, rv, page, out,
                            &r->cancel, err);
    if ((rc == KINF_EEXPIRED || (rc == KINF_EHTTP && too_large(err))) &&
        rv) {
        KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
                  "resourceVersion '%s' of %s is unavailable (%s), "
                  "listing the latest state", rv, r->path, err->reason);
        r->version_unavailable = true;
        kinf_error_clear(err);
        rc = kinf__list_objects(r->client, &r->opts.resource, NULL, page,
                                out, &r->cancel, err);
    }
    if (rc < 0)
        return rc;

    if (rv && strcmp(rv, "0") == 0 && out->paginated) {
        r->paginated_result = true;
    }
    r->version_unavailable = false;
    return 0;
}

struct watch_ctx {
    struct kinf__reflector *r;
    kinf_error *err;
};

static int on_event(const struct kinf__event *ev, void *user_data)
{
    struct watch_ctx *w = user_data;
    struct kinf__reflector *r = w->r;
    int rc = 0;

    if (ev->type == KINF__EVENT_ERROR) {
        /* The watch cache reports a compacted version as an ERROR event
           inside a 200 stream: same meaning as an HTTP 410. */
        return kinf__status_to_error(w->err, ev->status, "GET", r->url);
    }

    KINF__LOG(r->log, KINF_LOG_TRACE, "watch", "%s %s at %s",
              kinf__event_type_name(ev->type), kinf_object_key(ev->object),
              kinf_object_resource_version(ev->object));
    switch (ev->type) {
    case KINF__EVENT_ADDED:
        rc = r->sink.add(ev->object, r->sink.user_data);
        break;
    case KINF__EVENT_MODIFIED:
        rc = r->sink.update(ev->object, r->sink.user_data);
        break;
    case KINF__EVENT_DELETED:
        rc = r->sink.remove(ev->object, r->sink.user_data);
        break;
    default:
        break;   /* BOOKMARK: only its version matters */
    }
    if (rc < 0) {
        return kinf__error(w->err, rc, "%s: cannot queue a %s event",
                           r->path, kinf__event_type_name(ev->type));
    }
    set_version(r, kinf_object_resource_version(ev->object));
    return 0;
}

enum watch_outcome { REWATCH, RELIST, STOP };

/* The next backoff step, at least the Retry-After of err. */
static int64_t next_wait(struct kinf__reflector *r, const kinf_error *err)
{
    return kinf__backoff_next_with_retry_after(&r->backoff, kinf__now_ms(),
                                               kinf__random(),
                                               err->retry_after);
}

/* Wait one backoff step before watching again. */
static enum watch_outcome rewatch_later(struct kinf__reflector *r,
                                        const kinf_error *err)
{
    int64_t wait = next_wait(r, err);

    KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
              "watching %s again in %lldms", r->path, (long long)wait);
    return kinf__cancel_sleep(&r->cancel, wait) ? STOP : REWATCH;
}

/*
 * What follows a watch, as client-go decides it: a normal end or a cut
 * stream resumes from the last version; an unreachable server or a 429
 * retries the watch after a backoff; an expired version, an ERROR
 * event, an error answer or a garbled stream needs a new list (after a
 * backoff, in the caller).
 */
static enum watch_outcome after_watch(struct kinf__reflector *r, int rc,
                                      size_t events, int64_t elapsed_ms,
                                      kinf_error *err)
{
    bool transport = rc == KINF_ETRANSPORT || rc == KINF_ETIMEDOUT;

    if (rc == KINF_ESTOPPED || kinf__cancelled(&r->cancel))
        return STOP;
    if (rc == 0 && (events > 0 || elapsed_ms >= SHORT_WATCH_MS)) {
        KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
                  "watch of %s ended after %zu events", r->path, events);
        return REWATCH;
    }
    if (rc == 0) {
        kinf__error(err, KINF_EPROTOCOL,
                    "GET %s: watch closed within a second without events",
                    r->url);
        kinf__error_request(err, "GET", r->url);
        report(r, err);
        return RELIST;
    }
    if (rc == KINF_EEXPIRED) {
        KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
                  "watch of %s expired (%s), relisting", r->path,
                  err->message);
        return RELIST;
    }
    if (transport && events > 0) {
        /* Cut or stalled after some events: nothing applied is lost,
           so resume from the last version; at once, unless that keeps
           happening right away. */
        KINF__LOG(r->log, KINF_LOG_INFO, "reflector",
                  "watch of %s broke after %zu events (%s), resuming",
                  r->path, events, err->message);
        return elapsed_ms < SHORT_WATCH_MS ? rewatch_later(r, err)
                                           : REWATCH;
    }
    if (transport || err->http_status == 429) {
        report(r, err);
        return rewatch_later(r, err);
    }
    report(r, err);
    return RELIST;
}

/* One watch request from the last version seen. */
static enum watch_outcome watch_once(struct kinf__reflector *r,
                                     kinf_error *err)
{
    struct kinf__watch_options wo = {0};
    struct watch_ctx ctx = { r, err };
    long min = r->opts.min_watch_timeout_s;
    int64_t start = kinf__now_ms();
    size_t events = 0;
    char *rv = NULL;
    int rc;

    /* A copy: the version is opaque and may be of any length. */
    pthread_mutex_lock(&r->version_lock);
    rv = kinf__strdup(r->last_version);
    pthread_mutex_unlock(&r->version_lock);
    if (!rv) {
        kinf__error(err, KINF_ENOMEM, "out of memory");
        return RELIST;
    }
    wo.resource_version = rv;
    wo.timeout_seconds = (long)((double)min * (1.0 + kinf__random()));
    wo.bookmarks = true;
    wo.idle_timeout_ms = r->opts.watch_stall_ms
                             ? r->opts.watch_stall_ms
                             : (int64_t)wo.timeout_seconds * 1000 + 30000;
    wo.max_event_bytes = r->opts.max_event_bytes;

    KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
              "watching %s from resourceVersion '%s' for %lds", r->path, rv,
              wo.timeout_seconds);
    kinf_error_clear(err);
    rc = kinf__watch(r->client, &r->opts.resource, &wo, on_event, &ctx,
                     &r->cancel, &events, err);
    free(rv);
    return after_watch(r, rc, events, kinf__now_ms() - start, err);
}

/* ListAndWatch: returns when a relist is needed (after a backoff) or on
   stop. */
static int list_and_watch(struct kinf__reflector *r, kinf_error *err)
{
    struct kinf__list items = {0};
    enum watch_outcome next = REWATCH;
    int rc;

    rc = list(r, &items, err);
    if (rc < 0) {
        if (rc != KINF_ESTOPPED) {
            report(r, err);
        }
        return rc;
    }
    KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
              "listed %zu objects of %s at resourceVersion '%s'",
              items.count, r->path, items.resource_version);
    rc = r->sink.replace(items.items, items.count, r->sink.user_data);
    if (rc == 0) {
        set_version(r, items.resource_version);
    }
    kinf__list_clear(&items);
    if (rc < 0)
        return kinf__error(err, rc, "%s: cannot queue the list", r->path);

    while (next == REWATCH) {
        next = watch_once(r, err);
    }
    return next == STOP ? KINF_ESTOPPED : KINF_ERROR;
}

static void *reflector_main(void *arg)
{
    struct kinf__reflector *r = arg;
    kinf_error err;

    while (!kinf__cancelled(&r->cancel)) {
        int64_t wait;

        kinf_error_clear(&err);
        if (list_and_watch(r, &err) == KINF_ESTOPPED ||
            kinf__cancelled(&r->cancel))
            break;
        wait = next_wait(r, &err);
        KINF__LOG(r->log, KINF_LOG_DEBUG, "reflector",
                  "listing %s again in %lldms", r->path, (long long)wait);
        if (kinf__cancel_sleep(&r->cancel, wait) < 0)
            break;
    }
    return NULL;
}

int kinf__reflector_start(struct kinf__reflector *r)
{
    if (r->running)
        return KINF_EBUSY;
    kinf__cancel_reset(&r->cancel);
    if (pthread_create(&r->thread, NULL, reflector_main, r) != 0)
        return KINF_ERROR;
    r->running = true;
    return 0;
}

void kinf__reflector_signal_stop(struct kinf__reflector *r)
{
    kinf__cancel_fire(&r->cancel);
}

void kinf__reflector_stop(struct kinf__reflector *r)
{
    if (!r->running)
        return;
    kinf__cancel_fire(&r->cancel);
    pthread_join(r->thread, NULL);
    r->running = false;
}
