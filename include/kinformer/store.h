/* SPDX-License-Identifier: MIT */
/* store.h - thread-safe object cache keyed "namespace/name", with indexes */
#ifndef KINF_STORE_H
#define KINF_STORE_H

#include <kinformer/common.h>

KINF_BEGIN_DECLS

/** Name of the index every store has: objects by metadata.namespace
 *  ("" for cluster-scoped objects). */
#define KINF_INDEX_NAMESPACE "namespace"

/** Most values one index function may give for one object. */
#define KINF_INDEX_MAX_VALUES 32

/**
 * An index function: write up to max values under which obj is indexed
 * into values and return how many. Values are borrowed strings that must
 * stay valid as long as obj lives (point into obj, or at static text).
 * It runs while the store is locked for writing (and, in an informer,
 * while changes are being applied): it must be quick and must not call
 * into the library.
 */
typedef size_t (*kinf_index_fn)(const kinf_object *obj,
                                const char **values, size_t max,
                                void *user_data);

/**
 * Make an empty store with the namespace index.
 *
 * @param out  receives the store; untouched on failure
 * @return 0 or KINF_ENOMEM
 *
 * Ownership: *out is new; release it with kinf_store_free().
 * Threads: any thread.
 */
KINF_API int kinf_store_new(kinf_store **out);

/**
 * Free a store and drop its references. NULL is a no-op. A store owned by
 * an informer is freed by the informer, never by the host.
 *
 * Ownership: takes store.
 * Threads: not while another thread uses the store.
 */
KINF_API void kinf_store_free(kinf_store *store);

/**
 * Add a named index. Allowed only while the store is empty.
 *
 * @param name  index name, copied
 * @param fn    the index function
 * @return 0, KINF_EINVAL (name taken), KINF_EBUSY (store not empty) or
 *         KINF_ENOMEM
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API int kinf_store_add_index(kinf_store *store, const char *name,
                                  kinf_index_fn fn, void *user_data);

/**
 * Insert or replace the object under its key (kinf_object_key()).
 * Indexes are updated before the call returns.
 *
 * @return 0 or KINF_ENOMEM
 *
 * Ownership: the store takes its own reference to obj.
 * Threads: any thread; stores owned by an informer are written only by
 * the informer.
 */
KINF_API int kinf_store_add(kinf_store *store, const kinf_object *obj);

/**
 * Remove the object under key.
 *
 * @return 0 or KINF_ENOTFOUND
 *
 * Ownership: none.
 * Threads: as kinf_store_add().
 */
KINF_API int kinf_store_delete(kinf_store *store, const char *key);

/**
 * Replace the whole content with objs[0..count), rebuilding indexes.
 *
 * @return 0 or KINF_ENOMEM (the store is then unchanged)
 *
 * Ownership: the store takes its own references.
 * Threads: as kinf_store_add().
 */
KINF_API int kinf_store_replace(kinf_store *store,
                                kinf_object *const *objs, size_t count);

/**
 * Look up one object by key.
 *
 * @param out  receives the object; untouched on failure
 * @param key  "namespace/name", or "name" for cluster-scoped kinds
 * @return 0 or KINF_ENOTFOUND
 *
 * Ownership: *out is a new reference; kinf_object_unref() it.
 * Threads: any thread, including handler callbacks.
 */
KINF_API int kinf_store_get(kinf_object **out, const kinf_store *store,
                            const char *key);

/**
 * Every object in the store, in no particular order.
 *
 * @param out        receives an array of new references (NULL if empty)
 * @param out_count  receives the number of objects
 * @return 0 or KINF_ENOMEM
 *
 * Ownership: free with kinf_object_list_free().
 * Threads: any thread, including handler callbacks.
 */
KINF_API int kinf_store_list(kinf_object ***out, size_t *out_count,
                             const kinf_store *store);

/**
 * Every object whose index index_name holds value, e.g. all pods of a
 * namespace with KINF_INDEX_NAMESPACE.
 *
 * @return 0, KINF_ENOTFOUND (no index of that name) or KINF_ENOMEM
 *
 * Ownership: free the array with kinf_object_list_free().
 * Threads: any thread, including handler callbacks.
 */
KINF_API int kinf_store_by_index(kinf_object ***out, size_t *out_count,
                                 const kinf_store *store,
                                 const char *index_name, const char *value);

/**
 * Number of objects in the store.
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API size_t kinf_store_len(const kinf_store *store);

/**
 * Release an array returned by kinf_store_list() or kinf_store_by_index().
 *
 * Ownership: takes objs and its references.
 * Threads: any thread.
 */
KINF_API void kinf_object_list_free(kinf_object **objs, size_t count);

KINF_END_DECLS

#endif
