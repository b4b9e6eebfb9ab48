/* SPDX-License-Identifier: MIT */
/* informer.c - reflector + DeltaFIFO + store + processor, wired up */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kinformer/informer.h>

#include "fifo.h"
#include "internal.h"
#include "processor.h"
#include "reflector.h"

#define SYNC_POLL_MS 10

struct kinf_informer {
    kinf_client *client;
    const struct kinf__logger *log;
    kinf_store *store;
    struct kinf__fifo *fifo;
    struct kinf__reflector *reflector;
    struct kinf__processor *processor;
    char *resource;                 /* for log messages */
    /* Messages about changes, formed under the FIFO and processor
       locks and logged after; the controller thread's own. */
    struct kinf__log_queue pending_log;

    pthread_mutex_t lock;           /* guards the fields below */
    pthread_cond_t stopped;         /* a stop in progress has ended */
    pthread_t controller;
    bool running;                   /* threads exist, not yet joined */
    bool stopping;
    kinf_error last_error;
};

/* ---- reflector sink: everything goes through the DeltaFIFO ---------- */

static int sink_replace(kinf_object *const *objs, size_t count, void *ud)
{
    struct kinf_informer *inf = ud;

    return kinf__fifo_replace(inf->fifo, objs, count);
}

static int sink_add(kinf_object *obj, void *ud)
{
    struct kinf_informer *inf = ud;

    return kinf__fifo_add(inf->fifo, obj);
}

static int sink_update(kinf_object *obj, void *ud)
{
    struct kinf_informer *inf = ud;

    return kinf__fifo_update(inf->fifo, obj);
}

static int sink_remove(kinf_object *obj, void *ud)
{
    struct kinf_informer *inf = ud;

    return kinf__fifo_delete(inf->fifo, obj);
}

static void sink_error(const kinf_error *err, void *ud)
{
    struct kinf_informer *inf = ud;
    struct kinf__note note = { .type = KINF__NOTE_ERROR, .err = err };

    /* The message names the request; the resource would repeat it. */
    KINF__LOG(inf->log, KINF_LOG_WARN, "informer", "%s, retrying",
              err->message);
    pthread_mutex_lock(&inf->lock);
    kinf__error_copy(&inf->last_error, err);
    pthread_mutex_unlock(&inf->lock);

    kinf__processor_lock(inf->processor);
    kinf__processor_distribute(inf->processor, &note);
    kinf__processor_unlock(inf->processor);
}

/* ---- the controller thread: pop deltas, update store, notify -------- */

static bool same_version(const kinf_object *a, const kinf_object *b)
{
    const char *ra = kinf_object_resource_version(a);
    const char *rb = kinf_object_resource_version(b);

    return ra && rb && strcmp(ra, rb) == 0;
}

static int apply_delta(struct kinf_informer *inf, const char *key,
                       const struct kinf__delta *d, bool initial)
{
    struct kinf__note note = {0};
    kinf_object *old = NULL;
    int rc;

    if (d->type == KINF__DELTA_DELETED) {
        kinf_store_delete(inf->store, key);
        note.type = KINF__NOTE_DELETE;
        note.key = key;
        note.obj = d->obj;
        note.flag = d->tombstone;
        KINF__LOG_LATER(&inf->pending_log, inf->log, KINF_LOG_TRACE,
                        "informer", "Deleted %s%s", key,
                        d->tombstone ? " (final state unknown)" : "");
        return kinf__processor_distribute(inf->processor, &note);
    }

    kinf_store_get(&old, inf->store, key);
    rc = kinf_store_add(inf->store, d->obj);
    if (rc < 0)
        goto out;
    KINF__LOG_LATER(&inf->pending_log, inf->log, KINF_LOG_TRACE,
                    "informer", "%s %s at %s",
                    kinf__delta_type_name(d->type), key,
                    kinf_object_resource_version(d->obj));

    if (old) {
        /* Same version: a relist or resync that changed nothing. Only
           handlers that asked for resyncs see those; none can yet. */
        if (same_version(old, d->obj))
            goto out;
        note.type = KINF__NOTE_UPDATE;
        note.old_obj = old;
    } else {
        note.type = KINF__NOTE_ADD;
        note.flag = initial;
    }
    note.obj = d->obj;
    rc = kinf__processor_distribute(inf->processor, &note);

out:
    kinf_object_unref(old);
    return rc;
}

static int process_deltas(const struct kinf__deltas *deltas, bool initial,
                          void *ud)
{
    struct kinf_informer *inf = ud;
    int rc = 0;

    /* Store first, then notify, all under the processor lock so that a
       handler registered meanwhile sees either the state before or
       after, never half. */
    kinf__processor_lock(inf->processor);
    for (size_t i = 0; i < deltas->count; i++) {
        if (apply_delta(inf, deltas->key, &deltas->items[i], initial) < 0) {
            rc = KINF_ENOMEM;
        }
    }
    kinf__processor_unlock(inf->processor);
    if (rc < 0) {
        KINF__LOG_LATER(&inf->pending_log, inf->log, KINF_LOG_ERROR,
                        "informer", "out of memory applying changes to %s",
                        deltas->key);
    }
    return 0;
}

static void *controller_main(void *arg)
{
    struct kinf_informer *inf = arg;

    while (kinf__fifo_pop(inf->fifo, process_deltas, inf) != KINF_ESTOPPED) {
        kinf__log_flush(&inf->pending_log, inf->log);
    }
    kinf__log_flush(&inf->pending_log, inf->log);
    return NULL;
}

/* ---- public API ------------------------------------------------------ */

static bool informer_synced(void *ud);

/* The informer's options; zero fields get client-go's defaults in the
   reflector. */
static void reflector_options(struct kinf__reflector_options *ro,
                              const kinf_informer_options *opts)
{
    ro->resource.group = opts->api_group;
    ro->resource.version = opts->api_version;
    ro->resource.resource = opts->resource;
    ro->resource.namespace_ = opts->namespace_;
    ro->resource.label_selector = opts->label_selector;
    ro->resource.field_selector = opts->field_selector;
    ro->page_size = opts->page_size;
    ro->initial_backoff_ms = opts->initial_backoff_ms;
    ro->max_backoff_ms = opts->max_backoff_ms;
    ro->backoff_reset_ms = opts->backoff_reset_ms;
    ro->min_watch_timeout_s = opts->min_watch_timeout_s;
    ro->watch_stall_ms = opts->watch_stall_timeout_ms;
    ro->max_event_bytes = opts->max_event_bytes;
}

int kinf_informer_new(kinf_informer **out, kinf_client *client,
                      const kinf_informer_options *opts, kinf_error *err)
{
    struct kinf__reflector_options ro = {0};
    struct kinf__reflector_sink sink = {
        sink_replace, sink_add, sink_update, sink_remove, sink_error, NULL
    };
    kinf_informer *inf;
    int rc;

    if (!out || !client || !opts)
        return kinf__error(err, KINF_EINVAL, "informer: NULL argument");
    if (opts->version < 1 || opts->version > KINF_INFORMER_OPTIONS_VERSION) {
        return kinf__error(err, KINF_EINVAL,
                           "informer: options version %u unknown",
                           opts->version);
    }
    if (!opts->resource || !*opts->resource || !opts->api_version ||
        !*opts->api_version) {
        return kinf__error(err, KINF_EINVAL,
                           "informer: resource and api_version needed");
    }

    inf = calloc(1, sizeof(*inf));
    if (!inf)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    pthread_mutex_init(&inf->lock, NULL);
    pthread_cond_init(&inf->stopped, NULL);
    inf->client = client;
    inf->log = kinf__client_logger(client);
    sink.user_data = inf;

    reflector_options(&ro, opts);

    inf->resource = kinf__resource_path(&ro.resource);
    rc = kinf_store_new(&inf->store);
    if (rc == 0 && !(inf->fifo = kinf__fifo_new(inf->store))) {
        rc = KINF_ENOMEM;
    }
    if (rc == 0 && !(inf->processor = kinf__processor_new(informer_synced,
                                                             inf))) {
        rc = KINF_ENOMEM;
    }
    if (rc == 0 && !inf->resource) {
        rc = KINF_ENOMEM;
    }
    if (rc < 0) {
        kinf__error(err, rc, "out of memory");
        goto out;
    }
    rc = kinf__reflector_new(&inf->reflector, client, &ro, &sink, err);
    if (rc < 0)
        goto out;
    *out = inf;
    return 0;

out:
    kinf_informer_free(inf);
    return rc;
}

void kinf_informer_free(kinf_informer *inf)
{
    if (!inf)
        return;
    if (inf->processor && kinf__processor_is_listener_thread(inf->processor)) {
        /* Freeing the informer under its own running callback would
           pull the thread's memory away; refuse, loudly. */
        KINF__LOG(inf->log, KINF_LOG_ERROR, "informer",
                  "%s: kinf_informer_free called from a handler; ignored",
                  inf->resource);
        return;
    }
    kinf_informer_stop(inf);
    kinf__reflector_free(inf->reflector);
    kinf__processor_free(inf->processor);
    kinf__fifo_free(inf->fifo);
    kinf_store_free(inf->store);
    free(inf->resource);
    kinf__log_queue_clear(&inf->pending_log);
    pthread_mutex_destroy(&inf->lock);
    pthread_cond_destroy(&inf->stopped);
    free(inf);
}

int kinf_informer_add_handler(kinf_registration **out, kinf_informer *inf,
                              const kinf_handler *handler, void *user_data,
                              kinf_free_fn free_user_data)
{
    kinf_object **cached = NULL;
    size_t count = 0;
    int rc;

    if (!inf || !handler)
        return KINF_EINVAL;
    if (handler->version < 1 || handler->version > KINF_HANDLER_VERSION)
        return KINF_EINVAL;

    /* The processor lock holds the store still between this snapshot
       and the first notification the new handler gets. */
    kinf__processor_lock(inf->processor);
    rc = kinf_store_list(&cached, &count, inf->store);
    if (rc == 0) {
        rc = kinf__processor_add(inf->processor, out, handler, user_data,
                                 free_user_data, cached, count);
    }
    kinf__processor_unlock(inf->processor);
    kinf_object_list_free(cached, count);
    return rc;
}

int kinf_informer_remove_handler(kinf_informer *inf, kinf_registration *reg)
{
    if (!inf || !reg)
        return KINF_EINVAL;
    return kinf__processor_remove(inf->processor, reg);
}

bool kinf_registration_has_synced(const kinf_registration *reg)
{
    return reg && kinf__registration_has_synced(reg);
}

static bool informer_synced(void *ud)
{
    struct kinf_informer *inf = ud;

    return kinf__fifo_has_synced(inf->fifo);
}

bool kinf_informer_has_synced(kinf_informer *inf)
{
    return inf && informer_synced(inf);
}

int kinf_informer_start(kinf_informer *inf, kinf_error *err)
{
    int rc = 0;

    if (!inf)
        return kinf__error(err, KINF_EINVAL, "informer: NULL argument");
    pthread_mutex_lock(&inf->lock);
    if (inf->running) {
        rc = kinf__error(err, KINF_EBUSY, "%s: informer already running",
                         inf->resource);
        goto out;
    }
    if (kinf__processor_is_listener_thread(inf->processor)) {
        rc = kinf__error(err, KINF_EBUSY,
                         "%s: informer started from its own callback",
                         inf->resource);
        goto out;
    }
    kinf__fifo_reopen(inf->fifo);
    kinf_error_clear(&inf->last_error);
    inf->stopping = false;

    rc = kinf__processor_run(inf->processor);
    if (rc == 0 && pthread_create(&inf->controller, NULL, controller_main,
                                  inf) != 0) {
        rc = KINF_ERROR;
    }
    if (rc < 0) {
        kinf__processor_stop(inf->processor);
        rc = kinf__error(err, rc, "%s: cannot start threads",
                         inf->resource);
        goto out;
    }
    rc = kinf__reflector_start(inf->reflector);
    if (rc < 0) {
        kinf__fifo_close(inf->fifo);
        pthread_join(inf->controller, NULL);
        kinf__processor_stop(inf->processor);
        rc = kinf__error(err, rc, "%s: cannot start the reflector",
                         inf->resource);
        goto out;
    }
    inf->running = true;
    KINF__LOG(inf->log, KINF_LOG_DEBUG, "informer", "started %s",
              inf->resource);

out:
    pthread_mutex_unlock(&inf->lock);
    return rc;
}

int kinf_informer_wait_for_sync(kinf_informer *inf, int64_t timeout_ms,
                                kinf_error *err)
{
    int64_t deadline = kinf__now_ms() + timeout_ms;
    struct timespec pause = { 0, SYNC_POLL_MS * 1000000L };

    if (!inf)
        return kinf__error(err, KINF_EINVAL, "informer: NULL argument");
    for (;;) {
        bool stopped;

        pthread_mutex_lock(&inf->lock);
        stopped = !inf->running || inf->stopping;
        pthread_mutex_unlock(&inf->lock);
        if (stopped) {
            return kinf__error(err, KINF_ESTOPPED, "%s: informer stopped",
                               inf->resource);
        }
        if (informer_synced(inf) &&
            kinf__processor_initial_delivered(inf->processor))
            return 0;
        if (timeout_ms >= 0 && kinf__now_ms() >= deadline)
            break;
        nanosleep(&pause, NULL);
    }

    pthread_mutex_lock(&inf->lock);
    if (err && inf->last_error.code) {
        kinf__error_copy(err, &inf->last_error);
    } else {
        kinf__error(err, KINF_ETIMEDOUT,
                    "%s: not synced after %lld ms", inf->resource,
                    (long long)timeout_ms);
    }
    pthread_mutex_unlock(&inf->lock);
    if (err) {
        err->code = KINF_ETIMEDOUT;
    }
    return KINF_ETIMEDOUT;
}

void kinf_informer_stop(kinf_informer *inf)
{
    if (!inf)
        return;
    pthread_mutex_lock(&inf->lock);
    if (inf->stopping) {
        /* Another thread stops it: wait for that, except on a handler
           thread, which that stop may itself be waiting for. */
        while (inf->stopping &&
               !kinf__processor_is_listener_thread(inf->processor)) {
            pthread_cond_wait(&inf->stopped, &inf->lock);
        }
        pthread_mutex_unlock(&inf->lock);
        return;
    }
    if (!inf->running) {
        pthread_mutex_unlock(&inf->lock);
        return;
    }
    inf->stopping = true;
    pthread_mutex_unlock(&inf->lock);

    /* Upstream first: no new deltas, then no new notifications. Even
       from a callback every thread but the caller's can be joined: the
       reflector and controller never wait for a handler. */
    kinf__reflector_signal_stop(inf->reflector);
    kinf__fifo_close(inf->fifo);
    kinf__reflector_stop(inf->reflector);
    pthread_join(inf->controller, NULL);
    kinf__processor_stop(inf->processor);

    pthread_mutex_lock(&inf->lock);
    inf->running = false;
    inf->stopping = false;
    pthread_cond_broadcast(&inf->stopped);
    pthread_mutex_unlock(&inf->lock);
    KINF__LOG(inf->log, KINF_LOG_DEBUG, "informer", "stopped %s",
              inf->resource);
}

kinf_store *kinf_informer_store(kinf_informer *inf)
{
    return inf ? inf->store : NULL;
}

void kinf_informer_last_resource_version(kinf_informer *inf, char *buf,
                                         size_t size)
{
    if (!inf || !buf || !size)
        return;
    kinf__reflector_last_version(inf->reflector, buf, size);
}
