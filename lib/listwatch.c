/* SPDX-License-Identifier: MIT */
/* listwatch.c - paths, paginated lists and streaming watches */
#include <stdlib.h>
#include <string.h>

#include <kinformer/store.h>

#include "listwatch.h"
#include "internal.h"

/* Bounds on one list, against a server that never stops answering. */
#define LIST_MAX_BYTES ((size_t)4 << 30)
#define LIST_MAX_PAGES 100000

/* Query strings are built from (name, value) pairs; values escaped. */
struct query {
    char *text;
};

static int query_add(struct query *q, const char *name, const char *value)
{
    char *escaped;
    char *next;

    if (!value)
        return 0;
    escaped = curl_easy_escape(NULL, value, 0);
    if (!escaped)
        return KINF_ENOMEM;
    next = kinf__asprintf("%s%c%s=%s", q->text ? q->text : "",
                          q->text ? '&' : '?', name, escaped);
    curl_free(escaped);
    if (!next)
        return KINF_ENOMEM;
    free(q->text);
    q->text = next;
    return 0;
}

static int add_selectors(struct query *q, const struct kinf__resource *res)
{
    int rc = 0;

    if (res->label_selector && *res->label_selector) {
        rc = query_add(q, "labelSelector", res->label_selector);
    }
    if (rc == 0 && res->field_selector && *res->field_selector) {
        rc = query_add(q, "fieldSelector", res->field_selector);
    }
    return rc;
}

/* One path segment, escaped: a namespace or resource name the caller
   gives must not be able to change the path's shape. */
static char *segment(const char *s)
{
    return curl_easy_escape(NULL, s ? s : "", 0);
}

char *kinf__resource_path(const struct kinf__resource *res)
{
    bool core = !res->group || !*res->group;
    bool ns = res->namespace_ && *res->namespace_;
    char *group = segment(res->group);
    char *version = segment(res->version);
    char *resource = segment(res->resource);
    char *namespace_ = segment(res->namespace_);
    char *path = NULL;

    if (group && version && resource && namespace_) {
        path = kinf__asprintf("%s%s%s/%s%s%s/%s", core ? "/api" : "/apis",
                              core ? "" : "/", core ? "" : group, version,
                              ns ? "/namespaces/" : "", ns ? namespace_ : "",
                              resource);
    }
    curl_free(group);
    curl_free(version);
    curl_free(resource);
    curl_free(namespace_);
    return path;
}

void kinf__list_clear(struct kinf__list *list)
{
    kinf_object_list_free(list->items, list->count);
    free(list->resource_version);
    memset(list, 0, sizeof(*list));
}

static int append_items(struct kinf__list *list, const json_t *items,
                        const char *url, kinf_error *err)
{
    size_t n = json_array_size(items);
    size_t i;
    int rc;

    if (list->count + n > list->cap) {
        size_t cap = list->cap ? list->cap : 64;
        kinf_object **grown;

        while (cap < list->count + n) {
            cap *= 2;
        }
        grown = realloc(list->items, cap * sizeof(*grown));
        if (!grown)
            return kinf__error(err, KINF_ENOMEM, "out of memory");
        list->items = grown;
        list->cap = cap;
    }
    for (i = 0; i < n; i++) {
        rc = kinf_object_new_from_json(&list->items[list->count],
                                       json_array_get(items, i), err);
        if (rc < 0) {
            kinf__error(err, rc, "GET %s: item %zu: %s", url, i,
                        rc == KINF_ENOMEM ? "out of memory"
                                          : "not a JSON object");
            kinf__error_request(err, "GET", url);
            return rc;
        }
        list->count++;
    }
    return 0;
}

/* One page: GET path+query, parse, append; *next gets "continue". */
static int list_page(kinf_client *client, const char *path,
                     const struct query *q, struct kinf__list *list,
                     char **next, struct kinf__cancel *cancel,
                     kinf_error *err)
{
    struct kinf__response resp = {0};
    struct kinf__request req = {0};
    char *full = kinf__asprintf("%s%s", path, q->text ? q->text : "");
    char *url = kinf__asprintf("%s%s%s", kinf__client_base_url(client),
                               path, q->text ? q->text : "");
    const json_t *meta;
    const char *rv;
    const char *cont;
    json_error_t jerr;
    json_t *root = NULL;
    json_t *items;
    int rc;

    if (!full || !url) {
        rc = kinf__error(err, KINF_ENOMEM, "out of memory");
        goto out;
    }
    req.method = "GET";
    req.path = full;
    req.idle_timeout_ms = 60000;
    req.max_body_bytes = LIST_MAX_BYTES - list->bytes;
    rc = kinf__client_do(client, &req, &resp, cancel, err);
    if (rc < 0)
        goto out;
    list->bytes += resp.body_len;

    root = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, &jerr);
    items = json_object_get(root, "items");
    meta = json_object_get(root, "metadata");
    rv = json_string_value(json_object_get(meta, "resourceVersion"));
    if (!json_is_object(root) ||
        !(json_is_array(items) || json_is_null(items))) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "GET %s: answer is not a list: %s", url,
                         root ? "no \"items\" array" : jerr.text);
        kinf__error_request(err, "GET", url);
        goto out;
    }
    rc = append_items(list, items, url, err);
    if (rc < 0)
        goto out;
    if (!list->resource_version && rv) {
        list->resource_version = strdup(rv);
        if (!list->resource_version) {
            rc = kinf__error(err, KINF_ENOMEM, "out of memory");
            goto out;
        }
    }
    cont = json_string_value(json_object_get(meta, "continue"));
    *next = cont && *cont ? strdup(cont) : NULL;

out:
    json_decref(root);
    kinf__response_clear(&resp);
    free(full);
    free(url);
    return rc;
}

static int list_once(kinf_client *client, const char *path,
                     const struct kinf__resource *res, const char *rv,
                     long page_size, struct kinf__list *out,
                     struct kinf__cancel *cancel, kinf_error *err)
{
    struct query q = {0};
    char *cont = NULL;
    char *prev;
    char limit[32];
    int pages = 0;
    int rc;

    do {
        free(q.text);
        q.text = NULL;
        snprintf(limit, sizeof(limit), "%ld", page_size);
        rc = add_selectors(&q, res);
        if (rc == 0 && page_size > 0) {
            rc = query_add(&q, "limit", limit);
        }
        /* Pages after the first carry only the token: the server keeps
           them at the first page's version. */
        if (rc == 0 && cont) {
            rc = query_add(&q, "continue", cont);
        } else if (rc == 0 && rv) {
            rc = query_add(&q, "resourceVersion", rv);
        }
        if (rc < 0) {
            rc = kinf__error(err, rc, "out of memory");
            break;
        }
        prev = cont;
        cont = NULL;
        rc = list_page(client, path, &q, out, &cont, cancel, err);
        pages++;
        /* A token that does not move on, or no end in sight: the
           server would keep this loop going forever. */
        if (rc == 0 && cont &&
            ((prev && strcmp(prev, cont) == 0) || pages >= LIST_MAX_PAGES)) {
            rc = kinf__error(err, KINF_EPROTOCOL,
                             "GET %s%s: list does not end: page %d gave "
                             "%s continue token",
                             kinf__client_base_url(client), path, pages,
                             pages >= LIST_MAX_PAGES ? "yet another"
                                                     : "the same");
        }
        free(prev);
    } while (rc == 0 && cont);

    if (rc == KINF_EEXPIRED && pages > 1) {
        rc = 1;   /* the caller retries unpaged */
    }
    out->paginated = pages > 1;
    free(cont);
    free(q.text);
    return rc;
}

int kinf__list_objects(kinf_client *client, const struct kinf__resource *res,
                       const char *resource_version, long page_size,
                       struct kinf__list *out, struct kinf__cancel *cancel,
                       kinf_error *err)
{
    struct kinf__list list = {0};
    char *path = kinf__resource_path(res);
    int rc;

    if (!path)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    rc = list_once(client, path, res, resource_version, page_size, &list,
                   cancel, err);
    if (rc == 1) {
        /* A continue token expired mid-way: one full list instead. */
        KINF__LOG(kinf__client_logger(client), KINF_LOG_DEBUG, "list",
                  "continue token of %s expired, listing unpaged", path);
        kinf__list_clear(&list);
        rc = list_once(client, path, res, resource_version, 0, &list,
                       cancel, err);
        list.paginated = true;
    }
    if (rc == 0 && !list.resource_version) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "GET %s%s: list has no metadata.resourceVersion",
                         kinf__client_base_url(client), path);
    }
    if (rc == 0) {
        *out = list;
    } else {
        kinf__list_clear(&list);
    }
    free(path);
    return rc;
}

struct watch_stream {
    struct kinf__decoder *decoder;
    kinf_error *err;
};

static int on_watch_bytes(const char *data, size_t len, void *user_data)
{
    struct watch_stream *s = user_data;

    return kinf__decoder_feed(s->decoder, data, len, s->err);
}

int kinf__watch(kinf_client *client, const struct kinf__resource *res,
                const struct kinf__watch_options *opts, kinf__event_fn fn,
                void *user_data, struct kinf__cancel *cancel,
                size_t *events, kinf_error *err)
{
    struct kinf__request req = {0};
    struct watch_stream stream = { NULL, err };
    struct query q = {0};
    char *path = NULL;
    char *full = NULL;
    char timeout[32];
    int rc;

    snprintf(timeout, sizeof(timeout), "%ld", opts->timeout_seconds);
    path = kinf__resource_path(res);
    stream.decoder = kinf__decoder_new(fn, user_data, opts->max_event_bytes);
    rc = path && stream.decoder ? 0 : KINF_ENOMEM;
    if (rc == 0 && opts->bookmarks) {
        rc = query_add(&q, "allowWatchBookmarks", "true");
    }
    if (rc == 0) {
        rc = add_selectors(&q, res);
    }
    if (rc == 0 && opts->resource_version && *opts->resource_version) {
        rc = query_add(&q, "resourceVersion", opts->resource_version);
    }
    if (rc == 0 && opts->timeout_seconds > 0) {
        rc = query_add(&q, "timeoutSeconds", timeout);
    }
    if (rc == 0) {
        rc = query_add(&q, "watch", "true");
    }
    full = rc == 0 ? kinf__asprintf("%s%s", path, q.text) : NULL;
    if (!full) {
        rc = kinf__error(err, KINF_ENOMEM, "out of memory");
        goto out;
    }

    req.method = "GET";
    req.path = full;
    req.on_body = on_watch_bytes;
    req.user_data = &stream;
    req.idle_timeout_ms = opts->idle_timeout_ms;
    rc = kinf__client_do(client, &req, NULL, cancel, err);
    if (rc == 0) {
        rc = kinf__decoder_finish(stream.decoder, err);
    }
    if (rc == KINF_EPROTOCOL && err && !err->url[0]) {
        /* Decoder errors carry no request; say which watch it was. */
        char *url = kinf__asprintf("%s%s", kinf__client_base_url(client),
                                   full);
        char *message = url ? kinf__asprintf("GET %s: %s", url,
                                             err->message)
                            : NULL;

        if (message) {
            kinf__strlcpy(err->message, message, sizeof(err->message));
            kinf__error_request(err, "GET", url);
        }
        free(message);
        free(url);
    }

out:
    if (events && stream.decoder) {
        *events = kinf__decoder_events(stream.decoder);
    }
    kinf__decoder_free(stream.decoder);
    free(q.text);
    free(full);
    free(path);
    return rc;
}
