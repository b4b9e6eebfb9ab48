/* SPDX-License-Identifier: MIT */
/* store.c - thread-safe map of objects with value -> keys indexes */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <kinformer/error.h>
#include <kinformer/object.h>
#include <kinformer/store.h>

#include "hashmap.h"
#include "internal.h"

#define MAX_INDEXES 16

/* A set of keys is a map whose values are this marker. */
static char present;

struct index {
    char *name;
    kinf_index_fn fn;
    void *user_data;
    struct kinf__map *values;   /* value -> set of keys */
};

struct kinf_store {
    pthread_rwlock_t lock;      /* guards everything below */
    struct kinf__map *objects;  /* key -> kinf_object (one reference) */
    struct index indexes[MAX_INDEXES];
    size_t nindexes;
};

static size_t namespace_index(const kinf_object *obj, const char **values,
                              size_t max, void *user_data)
{
    const char *ns = kinf_object_namespace(obj);

    (void)user_data;
    if (max < 1)
        return 0;
    values[0] = ns ? ns : "";
    return 1;
}

static void free_set(void *set)
{
    kinf__map_free(set, NULL);
}

static void unref_object(void *obj)
{
    kinf_object_unref(obj);
}

/*
 * Readers (handlers, listers) may hold the lock back to back; glibc's
 * default rwlock then starves the one writer, the informer, and the
 * cache falls behind. Prefer the writer where the C library allows it.
 */
static void init_lock(pthread_rwlock_t *lock)
{
    pthread_rwlockattr_t attr;

    pthread_rwlockattr_init(&attr);
#if defined(__GLIBC__)
    pthread_rwlockattr_setkind_np(&attr,
        PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(lock, &attr);
    pthread_rwlockattr_destroy(&attr);
}

int kinf_store_new(kinf_store **out)
{
    kinf_store *store;
    int rc;

    if (!out)
        return KINF_EINVAL;
    store = calloc(1, sizeof(*store));
    if (!store)
        return KINF_ENOMEM;
    init_lock(&store->lock);
    store->objects = kinf__map_new();
    if (!store->objects) {
        kinf_store_free(store);
        return KINF_ENOMEM;
    }
    rc = kinf_store_add_index(store, KINF_INDEX_NAMESPACE, namespace_index,
                              NULL);
    if (rc < 0) {
        kinf_store_free(store);
        return rc;
    }
    *out = store;
    return 0;
}

void kinf_store_free(kinf_store *store)
{
    if (!store)
        return;
    for (size_t i = 0; i < store->nindexes; i++) {
        free(store->indexes[i].name);
        kinf__map_free(store->indexes[i].values, free_set);
    }
    kinf__map_free(store->objects, unref_object);
    pthread_rwlock_destroy(&store->lock);
    free(store);
}

int kinf_store_add_index(kinf_store *store, const char *name,
                         kinf_index_fn fn, void *user_data)
{
    struct index *idx;
    int rc = 0;

    if (!store || !name || !fn)
        return KINF_EINVAL;
    pthread_rwlock_wrlock(&store->lock);
    for (size_t i = 0; i < store->nindexes; i++) {
        if (strcmp(store->indexes[i].name, name) == 0) {
            rc = KINF_EINVAL;
            goto out;
        }
    }
    if (kinf__map_size(store->objects) > 0) {
        rc = KINF_EBUSY;
        goto out;
    }
    if (store->nindexes == MAX_INDEXES) {
        rc = KINF_EINVAL;
        goto out;
    }

    idx = &store->indexes[store->nindexes];
    idx->name = strdup(name);
    idx->values = kinf__map_new();
    if (!idx->name || !idx->values) {
        free(idx->name);
        kinf__map_free(idx->values, NULL);
        memset(idx, 0, sizeof(*idx));
        rc = KINF_ENOMEM;
        goto out;
    }
    idx->fn = fn;
    idx->user_data = user_data;
    store->nindexes++;

out:
    pthread_rwlock_unlock(&store->lock);
    return rc;
}

/* Remove key from the sets obj is indexed under; empty sets go away so
   that churn through many values cannot grow the index forever. */
static void unindex(kinf_store *store, const kinf_object *obj,
                    const char *key)
{
    const char *values[KINF_INDEX_MAX_VALUES];

    for (size_t i = 0; i < store->nindexes; i++) {
        struct index *idx = &store->indexes[i];
        size_t n = idx->fn(obj, values, KINF_INDEX_MAX_VALUES,
                           idx->user_data);

        for (size_t v = 0; v < n; v++) {
            struct kinf__map *set = kinf__map_get(idx->values, values[v]);

            if (!set)
                continue;
            kinf__map_remove(set, key);
            if (kinf__map_size(set) == 0) {
                free_set(kinf__map_remove(idx->values, values[v]));
            }
        }
    }
}

static int index_object(kinf_store *store, const kinf_object *obj,
                        const char *key)
{
    const char *values[KINF_INDEX_MAX_VALUES];

    for (size_t i = 0; i < store->nindexes; i++) {
        struct index *idx = &store->indexes[i];
        size_t n = idx->fn(obj, values, KINF_INDEX_MAX_VALUES,
                           idx->user_data);

        for (size_t v = 0; v < n; v++) {
            struct kinf__map *set = kinf__map_get(idx->values, values[v]);

            if (!set) {
                set = kinf__map_new();
                if (!set || kinf__map_put(idx->values, values[v], set,
                                          NULL) < 0) {
                    free_set(set);
                    return KINF_ENOMEM;
                }
            }
            if (kinf__map_put(set, key, &present, NULL) < 0)
                return KINF_ENOMEM;
        }
    }
    return 0;
}

static int add_locked(kinf_store *store, const kinf_object *obj)
{
    const char *key = kinf_object_key(obj);
    kinf_object *old = kinf__map_get(store->objects, key);
    int rc;

    if (old) {
        unindex(store, old, key);
    }
    rc = kinf__map_put(store->objects, key, kinf_object_ref(obj), NULL);
    if (rc < 0) {
        kinf_object_unref(obj);
        if (old) {
            index_object(store, old, key);
        }
        return rc;
    }
    kinf_object_unref(old);
    return index_object(store, obj, key);
}

int kinf_store_add(kinf_store *store, const kinf_object *obj)
{
    int rc;

    if (!store || !obj)
        return KINF_EINVAL;
    pthread_rwlock_wrlock(&store->lock);
    rc = add_locked(store, obj);
    pthread_rwlock_unlock(&store->lock);
    return rc;
}

int kinf_store_delete(kinf_store *store, const char *key)
{
    kinf_object *old;

    if (!store || !key)
        return KINF_EINVAL;
    pthread_rwlock_wrlock(&store->lock);
    old = kinf__map_get(store->objects, key);
    if (old) {
        unindex(store, old, key);
        kinf__map_remove(store->objects, key);
    }
    pthread_rwlock_unlock(&store->lock);
    kinf_object_unref(old);
    return old ? 0 : KINF_ENOTFOUND;
}

int kinf_store_replace(kinf_store *store, kinf_object *const *objs,
                       size_t count)
{
    struct kinf__map *objects = NULL;
    struct kinf__map *old_objects;
    struct kinf__map *old_values[MAX_INDEXES] = {0};
    int rc = KINF_ENOMEM;

    if (!store || (count && !objs))
        return KINF_EINVAL;
    pthread_rwlock_wrlock(&store->lock);

    /* Build the new maps aside so that a failure leaves the store as it
       was; then swap them in. */
    objects = kinf__map_new();
    if (!objects)
        goto out;
    for (size_t i = 0; i < store->nindexes; i++) {
        old_values[i] = store->indexes[i].values;
        store->indexes[i].values = kinf__map_new();
        if (!store->indexes[i].values)
            goto restore;
    }
    old_objects = store->objects;
    store->objects = objects;
    for (size_t i = 0; i < count; i++) {
        if (add_locked(store, objs[i]) < 0) {
            store->objects = old_objects;
            goto restore;
        }
    }
    objects = old_objects;
    for (size_t i = 0; i < store->nindexes; i++) {
        kinf__map_free(old_values[i], free_set);
        old_values[i] = NULL;
    }
    rc = 0;
    goto out;

restore:
    for (size_t i = 0; i < store->nindexes; i++) {
        if (!old_values[i])
            break;
        kinf__map_free(store->indexes[i].values, free_set);
        store->indexes[i].values = old_values[i];
    }
out:
    pthread_rwlock_unlock(&store->lock);
    kinf__map_free(objects, unref_object);
    return rc;
}

int kinf_store_get(kinf_object **out, const kinf_store *store,
                   const char *key)
{
    kinf_store *s = (kinf_store *)store;
    kinf_object *obj;

    if (!out || !store || !key)
        return KINF_EINVAL;
    pthread_rwlock_rdlock(&s->lock);
    obj = kinf_object_ref(kinf__map_get(s->objects, key));
    pthread_rwlock_unlock(&s->lock);
    if (!obj)
        return KINF_ENOTFOUND;
    *out = obj;
    return 0;
}

/* Collect new references to the objects of every key in keys (a set, or
   the object map itself when from_objects). */
static int collect(kinf_object ***out, size_t *out_count, kinf_store *s,
                   const struct kinf__map *keys, int from_objects)
{
    struct kinf__map_iter it = {0};
    size_t n = keys ? kinf__map_size(keys) : 0;
    kinf_object **objs = NULL;
    const char *key;
    void *value;
    size_t i = 0;

    if (n) {
        objs = calloc(n, sizeof(*objs));
        if (!objs)
            return KINF_ENOMEM;
    }
    while (n && kinf__map_next(keys, &it, &key, &value)) {
        kinf_object *obj = from_objects ? value
                                        : kinf__map_get(s->objects, key);

        if (obj) {
            objs[i++] = kinf_object_ref(obj);
        }
    }
    *out = objs;
    *out_count = i;
    return 0;
}

int kinf_store_list(kinf_object ***out, size_t *out_count,
                    const kinf_store *store)
{
    kinf_store *s = (kinf_store *)store;
    int rc;

    if (!out || !out_count || !store)
        return KINF_EINVAL;
    pthread_rwlock_rdlock(&s->lock);
    rc = collect(out, out_count, s, s->objects, 1);
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int kinf_store_by_index(kinf_object ***out, size_t *out_count,
                        const kinf_store *store, const char *index_name,
                        const char *value)
{
    kinf_store *s = (kinf_store *)store;
    int rc = KINF_ENOTFOUND;

    if (!out || !out_count || !store || !index_name || !value)
        return KINF_EINVAL;
    pthread_rwlock_rdlock(&s->lock);
    for (size_t i = 0; i < s->nindexes; i++) {
        if (strcmp(s->indexes[i].name, index_name) == 0) {
            rc = collect(out, out_count, s,
                         kinf__map_get(s->indexes[i].values, value), 0);
            break;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

size_t kinf_store_len(const kinf_store *store)
{
    kinf_store *s = (kinf_store *)store;
    size_t n;

    if (!store)
        return 0;
    pthread_rwlock_rdlock(&s->lock);
    n = kinf__map_size(s->objects);
    pthread_rwlock_unlock(&s->lock);
    return n;
}

void kinf_object_list_free(kinf_object **objs, size_t count)
{
    for (size_t i = 0; objs && i < count; i++) {
        kinf_object_unref(objs[i]);
    }
    free(objs);
}
