/* SPDX-License-Identifier: MIT */
/* object.c - immutable objects: raw JSON plus the metadata read from it */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <kinformer/object.h>

#include "internal.h"
#include "object.h"

/*
 * The object keeps its compact JSON and the few metadata strings that the
 * pipeline reads on every event, all in one allocation. The full jansson
 * view is parsed again on demand: it is rarely needed, and a parsed tree
 * costs several times the raw bytes.
 */
struct kinf_object {
    atomic_int refs;
    size_t raw_len;
    const char *raw;
    const char *namespace_;
    const char *name;
    const char *uid;
    const char *resource_version;
    const char *kind;
    const char *api_version;
    const char *deletion_timestamp;
    const char *key;
    json_t *labels;       /* NULL or an object of strings; never changed */
    json_t *annotations;
    char strings[];
};

static const char *string_member(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));

    return s;
}

static size_t size_of(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copy s into the string area; NULL stays NULL. */
static const char *place(char **cursor, const char *s)
{
    char *start = *cursor;
    size_t len;

    if (!s)
        return NULL;
    len = strlen(s) + 1;
    memcpy(start, s, len);
    *cursor += len;
    return start;
}

static json_t *string_map_copy(const json_t *map)
{
    if (!json_is_object(map) || json_object_size(map) == 0)
        return NULL;
    return json_deep_copy(map);
}

static int build(kinf_object **out, const json_t *json, const char *raw,
                 size_t raw_len, kinf_error *err)
{
    const json_t *meta = json_object_get(json, "metadata");
    const char *ns = string_member(meta, "namespace");
    const char *name = string_member(meta, "name");
    const char *uid = string_member(meta, "uid");
    const char *rv = string_member(meta, "resourceVersion");
    const char *kind = string_member(json, "kind");
    const char *apiv = string_member(json, "apiVersion");
    const char *dts = string_member(meta, "deletionTimestamp");
    struct kinf_object *obj;
    size_t need;
    char *cursor;

    if (ns && !*ns) {
        ns = NULL;
    }
    need = raw_len + 1 + size_of(ns) + size_of(name) + size_of(uid) +
           size_of(rv) + size_of(kind) + size_of(apiv) + size_of(dts) +
           size_of(ns) + size_of(name) + 1;
    obj = calloc(1, sizeof(*obj) + need);
    if (!obj)
        return kinf__error(err, KINF_ENOMEM, "out of memory");

    atomic_init(&obj->refs, 1);
    cursor = obj->strings;
    memcpy(cursor, raw, raw_len);
    cursor[raw_len] = '\0';
    obj->raw = cursor;
    obj->raw_len = raw_len;
    cursor += raw_len + 1;

    obj->namespace_ = place(&cursor, ns);
    obj->name = place(&cursor, name);
    obj->uid = place(&cursor, uid);
    obj->resource_version = place(&cursor, rv);
    obj->kind = place(&cursor, kind);
    obj->api_version = place(&cursor, apiv);
    obj->deletion_timestamp = place(&cursor, dts);

    /* Key as MetaNamespaceKeyFunc: "ns/name", or "name" without ns. */
    obj->key = cursor;
    if (ns) {
        cursor = stpcpy(cursor, ns);
        *cursor++ = '/';
    }
    cursor = stpcpy(cursor, name ? name : "");

    obj->labels = string_map_copy(json_object_get(meta, "labels"));
    obj->annotations = string_map_copy(json_object_get(meta, "annotations"));
    *out = obj;
    return 0;
}

int kinf_object_new_from_json(kinf_object **out, const json_t *json,
                              kinf_error *err)
{
    char *raw;
    int rc;

    if (!out || !json)
        return kinf__error(err, KINF_EINVAL, "object: NULL argument");
    if (!json_is_object(json)) {
        return kinf__error(err, KINF_EPROTOCOL,
                           "object: not a JSON object");
    }

    raw = json_dumps(json, JSON_COMPACT);
    if (!raw)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    rc = build(out, json, raw, strlen(raw), err);
    free(raw);
    return rc;
}

int kinf__object_new_parsed(kinf_object **out, const json_t *json,
                            const char *raw, size_t len, kinf_error *err)
{
    return build(out, json, raw, len, err);
}

int kinf_object_new(kinf_object **out, const char *json, size_t len,
                    kinf_error *err)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    if (!out || !json)
        return kinf__error(err, KINF_EINVAL, "object: NULL argument");
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return kinf__error(err, KINF_EPROTOCOL,
                           "object: invalid JSON at line %d column %d: %s",
                           jerr.line, jerr.column, jerr.text);
    }
    /* The text itself becomes the raw bytes: no need to print the tree
       again. */
    if (json_is_object(root)) {
        rc = build(out, root, json, len, err);
    } else {
        rc = kinf__error(err, KINF_EPROTOCOL, "object: not a JSON object");
    }
    json_decref(root);
    return rc;
}

kinf_object *kinf_object_ref(const kinf_object *obj)
{
    kinf_object *o = (kinf_object *)obj;

    if (o) {
        atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
    }
    return o;
}

void kinf_object_unref(const kinf_object *obj)
{
    kinf_object *o = (kinf_object *)obj;

    if (!o)
        return;
    if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    json_decref(o->labels);
    json_decref(o->annotations);
    free(o);
}

const char *kinf_object_namespace(const kinf_object *obj)
{
    return obj ? obj->namespace_ : NULL;
}

const char *kinf_object_name(const kinf_object *obj)
{
    return obj ? obj->name : NULL;
}

const char *kinf_object_uid(const kinf_object *obj)
{
    return obj ? obj->uid : NULL;
}

const char *kinf_object_resource_version(const kinf_object *obj)
{
    return obj ? obj->resource_version : NULL;
}

const char *kinf_object_kind(const kinf_object *obj)
{
    return obj ? obj->kind : NULL;
}

const char *kinf_object_api_version(const kinf_object *obj)
{
    return obj ? obj->api_version : NULL;
}

const char *kinf_object_deletion_timestamp(const kinf_object *obj)
{
    return obj ? obj->deletion_timestamp : NULL;
}

const char *kinf_object_key(const kinf_object *obj)
{
    return obj ? obj->key : NULL;
}

const char *kinf_object_label(const kinf_object *obj, const char *key)
{
    if (!obj || !key)
        return NULL;
    return json_string_value(json_object_get(obj->labels, key));
}

const char *kinf_object_annotation(const kinf_object *obj, const char *key)
{
    if (!obj || !key)
        return NULL;
    return json_string_value(json_object_get(obj->annotations, key));
}

json_t *kinf_object_json(const kinf_object *obj)
{
    if (!obj)
        return NULL;
    return json_loadb(obj->raw, obj->raw_len, 0, NULL);
}

const char *kinf_object_raw(const kinf_object *obj, size_t *len)
{
    if (!obj)
        return NULL;
    if (len) {
        *len = obj->raw_len;
    }
    return obj->raw;
}
