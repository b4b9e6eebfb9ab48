/* SPDX-License-Identifier: MIT */
/* fifo.c - DeltaFIFO with tombstones and initial-population tracking */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fifo.h"
#include "hashmap.h"
#include "internal.h"

struct kinf__fifo {
    pthread_mutex_t lock;         /* guards every field below */
    pthread_cond_t not_empty;
    struct kinf__map *items;      /* key -> struct kinf__deltas */
    struct kinf__deltas **queue;  /* ring of keys in first-enqueue order */
    size_t head;
    size_t len;
    size_t cap;
    kinf_store *known;
    bool populated;               /* a first Replace or Add happened */
    size_t initial_count;         /* first-list items not yet popped */
    bool closed;
};

static const char *const delta_names[] = {
    "Added", "Updated", "Deleted", "Replaced", "Sync"
};

const char *kinf__delta_type_name(enum kinf__delta_type type)
{
    return delta_names[type];
}

static void deltas_free(void *p)
{
    struct kinf__deltas *d = p;

    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        kinf_object_unref(d->items[i].obj);
    }
    free(d->items);
    free(d->key);
    free(d);
}

struct kinf__fifo *kinf__fifo_new(kinf_store *known)
{
    struct kinf__fifo *fifo = calloc(1, sizeof(*fifo));

    if (!fifo)
        return NULL;
    fifo->items = kinf__map_new();
    if (!fifo->items) {
        free(fifo);
        return NULL;
    }
    pthread_mutex_init(&fifo->lock, NULL);
    pthread_cond_init(&fifo->not_empty, NULL);
    fifo->known = known;
    return fifo;
}

static void drop_all(struct kinf__fifo *fifo)
{
    kinf__map_free(fifo->items, deltas_free);
    fifo->items = kinf__map_new();
    fifo->head = 0;
    fifo->len = 0;
}

void kinf__fifo_free(struct kinf__fifo *fifo)
{
    if (!fifo)
        return;
    kinf__map_free(fifo->items, deltas_free);
    free(fifo->queue);
    pthread_mutex_destroy(&fifo->lock);
    pthread_cond_destroy(&fifo->not_empty);
    free(fifo);
}

static int queue_push(struct kinf__fifo *fifo, struct kinf__deltas *d)
{
    if (fifo->len == fifo->cap) {
        size_t cap = fifo->cap ? fifo->cap * 2 : 64;
        struct kinf__deltas **q = malloc(cap * sizeof(*q));

        if (!q)
            return KINF_ENOMEM;
        for (size_t i = 0; i < fifo->len; i++) {
            q[i] = fifo->queue[(fifo->head + i) % fifo->cap];
        }
        free(fifo->queue);
        fifo->queue = q;
        fifo->cap = cap;
        fifo->head = 0;
    }
    fifo->queue[(fifo->head + fifo->len) % fifo->cap] = d;
    fifo->len++;
    return 0;
}

static int deltas_append(struct kinf__deltas *d, enum kinf__delta_type type,
                         kinf_object *obj, bool tombstone)
{
    struct kinf__delta *last = d->count ? &d->items[d->count - 1] : NULL;

    /* Two deletes in a row collapse; keep the one that knows the final
       state (client-go's dedupDeltas). */
    if (type == KINF__DELTA_DELETED && last &&
        last->type == KINF__DELTA_DELETED) {
        if (last->tombstone && !tombstone) {
            kinf_object_unref(last->obj);
            last->obj = kinf_object_ref(obj);
            last->tombstone = false;
        }
        return 0;
    }
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 2;
        struct kinf__delta *items = realloc(d->items, cap * sizeof(*items));

        if (!items)
            return KINF_ENOMEM;
        d->items = items;
        d->cap = cap;
    }
    d->items[d->count].type = type;
    d->items[d->count].obj = kinf_object_ref(obj);
    d->items[d->count].tombstone = tombstone;
    d->count++;
    return 0;
}

/* queueActionLocked: append a delta to key's list, queueing the key if
   it is new. */
static int enqueue(struct kinf__fifo *fifo, const char *key,
                   enum kinf__delta_type type, kinf_object *obj,
                   bool tombstone)
{
    struct kinf__deltas *d = kinf__map_get(fifo->items, key);
    int rc;

    if (d)
        return deltas_append(d, type, obj, tombstone);

    d = calloc(1, sizeof(*d));
    if (!d)
        return KINF_ENOMEM;
    d->key = strdup(key);
    rc = d->key ? deltas_append(d, type, obj, tombstone) : KINF_ENOMEM;
    if (rc == 0) {
        rc = kinf__map_put(fifo->items, key, d, NULL);
    }
    if (rc == 0) {
        rc = queue_push(fifo, d);
        if (rc < 0) {
            kinf__map_remove(fifo->items, key);
        }
    }
    if (rc < 0) {
        deltas_free(d);
        return rc;
    }
    pthread_cond_signal(&fifo->not_empty);
    return 0;
}

static int simple_action(struct kinf__fifo *fifo, enum kinf__delta_type type,
                         kinf_object *obj)
{
    int rc;

    pthread_mutex_lock(&fifo->lock);
    fifo->populated = true;
    rc = enqueue(fifo, kinf_object_key(obj), type, obj, false);
    pthread_mutex_unlock(&fifo->lock);
    return rc;
}

int kinf__fifo_add(struct kinf__fifo *fifo, kinf_object *obj)
{
    return simple_action(fifo, KINF__DELTA_ADDED, obj);
}

int kinf__fifo_update(struct kinf__fifo *fifo, kinf_object *obj)
{
    return simple_action(fifo, KINF__DELTA_UPDATED, obj);
}

static bool is_known(struct kinf__fifo *fifo, const char *key)
{
    kinf_object *obj = NULL;

    if (!fifo->known || kinf_store_get(&obj, fifo->known, key) < 0)
        return false;
    kinf_object_unref(obj);
    return true;
}

int kinf__fifo_delete(struct kinf__fifo *fifo, kinf_object *obj)
{
    const char *key = kinf_object_key(obj);
    int rc = 0;

    pthread_mutex_lock(&fifo->lock);
    fifo->populated = true;
    if (kinf__map_get(fifo->items, key) || is_known(fifo, key)) {
        rc = enqueue(fifo, key, KINF__DELTA_DELETED, obj, false);
    }
    pthread_mutex_unlock(&fifo->lock);
    return rc;
}

/* The newest state a queued key had, looking through a tombstone. */
static kinf_object *newest_object(const struct kinf__deltas *d)
{
    return d->count ? d->items[d->count - 1].obj : NULL;
}

static int tombstone_missing(struct kinf__fifo *fifo,
                             const struct kinf__map *listed,
                             size_t *deletions)
{
    struct kinf__map_iter it = {0};
    kinf_object **known = NULL;
    size_t nknown = 0;
    const char *key;
    void *value;
    int rc = 0;

    /* Keys only in the queue first, then keys only in the store. */
    while (kinf__map_next(fifo->items, &it, &key, &value)) {
        if (kinf__map_get(listed, key))
            continue;
        rc = deltas_append(value, KINF__DELTA_DELETED, newest_object(value),
                           true);
        if (rc < 0)
            return rc;
        (*deletions)++;
    }
    if (!fifo->known)
        return 0;

    rc = kinf_store_list(&known, &nknown, fifo->known);
    for (size_t i = 0; rc == 0 && i < nknown; i++) {
        const char *k = kinf_object_key(known[i]);
        struct kinf__deltas *d = kinf__map_get(fifo->items, k);

        if (kinf__map_get(listed, k) || (d && d->count))
            continue;
        rc = enqueue(fifo, k, KINF__DELTA_DELETED, known[i], true);
        (*deletions)++;
    }
    kinf_object_list_free(known, nknown);
    return rc;
}

int kinf__fifo_replace(struct kinf__fifo *fifo, kinf_object *const *objs,
                       size_t count)
{
    static char present;
    struct kinf__map *listed = kinf__map_new();
    size_t deletions = 0;
    int rc = 0;

    if (!listed)
        return KINF_ENOMEM;
    pthread_mutex_lock(&fifo->lock);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        const char *key = kinf_object_key(objs[i]);

        rc = kinf__map_put(listed, key, &present, NULL);
        if (rc == 0) {
            rc = enqueue(fifo, key, KINF__DELTA_REPLACED, objs[i], false);
        }
    }
    if (rc == 0) {
        rc = tombstone_missing(fifo, listed, &deletions);
    }
    if (rc == 0 && !fifo->populated) {
        fifo->populated = true;
        fifo->initial_count = kinf__map_size(listed) + deletions;
    }
    pthread_mutex_unlock(&fifo->lock);
    kinf__map_free(listed, NULL);
    return rc;
}

int kinf__fifo_resync(struct kinf__fifo *fifo)
{
    kinf_object **known = NULL;
    size_t nknown = 0;
    int rc;

    if (!fifo->known)
        return 0;
    pthread_mutex_lock(&fifo->lock);
    rc = kinf_store_list(&known, &nknown, fifo->known);
    for (size_t i = 0; rc == 0 && i < nknown; i++) {
        const char *key = kinf_object_key(known[i]);

        /* A key with pending changes would go back to a stale state. */
        if (kinf__map_get(fifo->items, key))
            continue;
        rc = enqueue(fifo, key, KINF__DELTA_SYNC, known[i], false);
    }
    pthread_mutex_unlock(&fifo->lock);
    kinf_object_list_free(known, nknown);
    return rc;
}

int kinf__fifo_pop(struct kinf__fifo *fifo, kinf__process_fn fn,
                   void *user_data)
{
    struct kinf__deltas *d;
    bool initial;
    int rc;

    pthread_mutex_lock(&fifo->lock);
    while (fifo->len == 0 && !fifo->closed) {
        pthread_cond_wait(&fifo->not_empty, &fifo->lock);
    }
    if (fifo->closed) {
        pthread_mutex_unlock(&fifo->lock);
        return KINF_ESTOPPED;
    }

    d = fifo->queue[fifo->head];
    fifo->head = (fifo->head + 1) % fifo->cap;
    fifo->len--;
    kinf__map_remove(fifo->items, d->key);
    initial = fifo->initial_count > 0;
    if (initial) {
        fifo->initial_count--;
    }

    rc = fn(d, initial, user_data);
    pthread_mutex_unlock(&fifo->lock);
    deltas_free(d);
    return rc;
}

void kinf__fifo_close(struct kinf__fifo *fifo)
{
    pthread_mutex_lock(&fifo->lock);
    fifo->closed = true;
    pthread_cond_broadcast(&fifo->not_empty);
    pthread_mutex_unlock(&fifo->lock);
}

void kinf__fifo_reopen(struct kinf__fifo *fifo)
{
    pthread_mutex_lock(&fifo->lock);
    drop_all(fifo);
    fifo->populated = false;
    fifo->initial_count = 0;
    fifo->closed = false;
    pthread_mutex_unlock(&fifo->lock);
}

bool kinf__fifo_has_synced(struct kinf__fifo *fifo)
{
    bool synced;

    pthread_mutex_lock(&fifo->lock);
    synced = fifo->populated && fifo->initial_count == 0;
    pthread_mutex_unlock(&fifo->lock);
    return synced;
}

size_t kinf__fifo_len(struct kinf__fifo *fifo)
{
    size_t n;

    pthread_mutex_lock(&fifo->lock);
    n = fifo->len;
    pthread_mutex_unlock(&fifo->lock);
    return n;
}
