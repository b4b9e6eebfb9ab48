/* SPDX-License-Identifier: MIT */
/* listwatch.h - list and watch of one resource through a client */
#ifndef KINF_LIB_LISTWATCH_H
#define KINF_LIB_LISTWATCH_H

#include "client.h"
#include "decode.h"

/* What to list and watch; strings owned by whoever fills it. */
struct kinf__resource {
    const char *group;          /* "" or NULL for the core group */
    const char *version;        /* "v1" */
    const char *resource;       /* plural, e.g. "pods" */
    const char *namespace_;     /* NULL or "": all namespaces */
    const char *label_selector;
    const char *field_selector;
};

/* The collection path, e.g. "/api/v1/namespaces/default/pods". */
char *kinf__resource_path(const struct kinf__resource *res);

struct kinf__list {
    kinf_object **items;        /* new references */
    size_t count;
    size_t cap;
    char *resource_version;     /* the snapshot's version */
    bool paginated;             /* the server split the answer in pages */
    size_t bytes;               /* bodies read so far */
};

void kinf__list_clear(struct kinf__list *list);

/* Append the items of one list answer (body[0..len), from url) to list,
   each keeping the bytes the server sent; take the snapshot's version
   if list has none. *next gets the continue token (malloc'd) or NULL.
   On error list is as before. */
int kinf__list_add_page(struct kinf__list *list, const char *body,
                        size_t len, const char *url, char **next,
                        kinf_error *err);

/*
 * List the collection at resource_version (NULL: unset, "0": any cached
 * state), page_size items per page (0: one request). Pages after the
 * first follow "continue"; if one of them expired, the list is taken
 * again in one unpaged request, as client-go's pager does.
 */
int kinf__list_objects(kinf_client *client, const struct kinf__resource *res,
                       const char *resource_version, long page_size,
                       struct kinf__list *out, struct kinf__cancel *cancel,
                       kinf_error *err);

struct kinf__watch_options {
    const char *resource_version;
    long timeout_seconds;       /* asked of the server; 0: not sent */
    bool bookmarks;
    int64_t idle_timeout_ms;    /* drop a stream silent this long; 0: no */
    size_t max_event_bytes;     /* 0: the decoder's default */
};

/*
 * Watch the collection, calling fn for each event in order. Returns 0
 * when the server ended the stream cleanly, fn's negative value when fn
 * stopped it, or an error (err filled) for an error answer, a cut or
 * garbled stream, a stall or a stop.
 */
int kinf__watch(kinf_client *client, const struct kinf__resource *res,
                const struct kinf__watch_options *opts, kinf__event_fn fn,
                void *user_data, struct kinf__cancel *cancel,
                size_t *events, kinf_error *err);

#endif
