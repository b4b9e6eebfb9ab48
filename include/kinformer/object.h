/* SPDX-License-Identifier: MIT */
/* object.h - immutable, reference-counted Kubernetes objects */
#ifndef KINF_OBJECT_H
#define KINF_OBJECT_H

#include <jansson.h>

#include <kinformer/common.h>

KINF_BEGIN_DECLS

/*
 * A kinf_object is one Kubernetes object as the server sent it. It never
 * changes after creation, so any thread may read it without locks. The
 * store and the informer share one copy through reference counts.
 * String accessors return borrowed pointers valid as long as the caller
 * holds a reference; absent fields read as NULL.
 */

/**
 * Make an object from a JSON document.
 *
 * @param out   receives the object; untouched on failure
 * @param json  the object (a JSON object with "metadata"); copied
 * @param len   length of json in bytes
 * @param err   optional; says why the document was rejected
 * @return 0, KINF_EPROTOCOL (not a JSON object) or KINF_ENOMEM
 *
 * Ownership: *out is a new reference.
 * Threads: any thread.
 */
KINF_API int kinf_object_new(kinf_object **out, const char *json,
                             size_t len, kinf_error *err);

/**
 * Make an object from a jansson value.
 *
 * @param out   receives the object; untouched on failure
 * @param json  a JSON object; borrowed (the caller keeps its reference,
 *              and later changes to it do not reach the object)
 * @param err   optional
 * @return 0, KINF_EPROTOCOL or KINF_ENOMEM
 *
 * Ownership: *out is a new reference; json is borrowed.
 * Threads: any thread.
 */
KINF_API int kinf_object_new_from_json(kinf_object **out, const json_t *json,
                                       kinf_error *err);

/**
 * Take a reference.
 *
 * @return obj, for chaining; NULL if obj is NULL
 *
 * Ownership: the caller owns one more reference.
 * Threads: any thread.
 */
KINF_API kinf_object *kinf_object_ref(const kinf_object *obj);

/**
 * Drop a reference; the last one frees the object. NULL is a no-op.
 *
 * Ownership: takes one reference.
 * Threads: any thread.
 */
KINF_API void kinf_object_unref(const kinf_object *obj);

/** metadata.namespace, or NULL for cluster-scoped objects.
 *  Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_namespace(const kinf_object *obj);

/** metadata.name. Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_name(const kinf_object *obj);

/** metadata.uid. Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_uid(const kinf_object *obj);

/** metadata.resourceVersion: an opaque string, never to be compared as a
 *  number. Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_resource_version(const kinf_object *obj);

/** kind; NULL for list items, which carry none.
 *  Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_kind(const kinf_object *obj);

/** apiVersion; NULL for list items.
 *  Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_api_version(const kinf_object *obj);

/** metadata.deletionTimestamp, or NULL when not being deleted.
 *  Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_deletion_timestamp(const kinf_object *obj);

/** The "namespace/name" key ("name" for cluster-scoped objects), as
 *  client-go's MetaNamespaceKeyFunc builds it.
 *  Ownership: borrowed. Threads: any thread. */
KINF_API const char *kinf_object_key(const kinf_object *obj);

/**
 * One label's value.
 *
 * @param key  label key, e.g. "app"
 * @return the value, or NULL when the label is absent
 *
 * Ownership: borrowed.
 * Threads: any thread.
 */
KINF_API const char *kinf_object_label(const kinf_object *obj,
                                       const char *key);

/**
 * One annotation's value.
 *
 * @return the value, or NULL when the annotation is absent
 *
 * Ownership: borrowed.
 * Threads: any thread.
 */
KINF_API const char *kinf_object_annotation(const kinf_object *obj,
                                            const char *key);

/**
 * The whole object as a jansson value.
 *
 * @return a new JSON object, or NULL when out of memory
 *
 * Ownership: new reference (json_decref it); changing it never changes
 * the object or the cache.
 * Threads: any thread.
 */
KINF_API json_t *kinf_object_json(const kinf_object *obj);

/**
 * The object's JSON bytes: the text given to kinf_object_new(), or the
 * compact form of the value given to kinf_object_new_from_json(). They
 * are NUL-terminated for convenience; *len gives the length.
 *
 * @param len  receives the length in bytes; may be NULL
 *
 * Ownership: borrowed.
 * Threads: any thread.
 */
KINF_API const char *kinf_object_raw(const kinf_object *obj, size_t *len);

KINF_END_DECLS

#endif
