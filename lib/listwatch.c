/* SPDX-License-Identifier: MIT */
/* listwatch.c - paths, paginated lists and streaming watches */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <kinformer/store.h>

#include "internal.h"
#include "listwatch.h"
#include "object.h"

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

static int reserve_items(struct kinf__list *list, size_t extra,
                         kinf_error *err)
{
    size_t cap = list->cap ? list->cap : 64;
    kinf_object **grown;

    if (list->count + extra <= list->cap)
        return 0;
    while (cap < list->count + extra) {
        cap *= 2;
    }
    grown = realloc(list->items, cap * sizeof(*grown));
    if (!grown)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    list->items = grown;
    list->cap = cap;
    return 0;
}

/* Drop the items appended after the first keep. */
static void truncate_items(struct kinf__list *list, size_t keep)
{
    while (list->count > keep) {
        kinf_object_unref(list->items[--list->count]);
    }
}

/* ---- list answers, walked member by member ---------------------------
 *
 * A list answer is one JSON object whose items are most of its bytes.
 * Parsing it whole would hold every item as a jansson tree at once and
 * then print each item again to keep its text. Instead the answer is
 * walked: jansson parses one value at a time and reports where it ended
 * (JSON_DISABLE_EOF_CHECK), so each item keeps the bytes the server sent
 * and its tree is freed at once. This code only steps over the commas,
 * colons and brackets between values. Anything it does not follow makes
 * it give up (WALK_GIVE_UP), and the answer is parsed whole instead,
 * which also words the error when the answer is bad.
 */
#define WALK_GIVE_UP 1

static size_t skip_space(const char *s, size_t pos, size_t len)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' ||
                         s[pos] == '\r')) {
        pos++;
    }
    return pos;
}

/* The JSON value at s[*pos]; *pos moves past it. */
static json_t *value_at(const char *s, size_t len, size_t *pos)
{
    json_error_t jerr;
    json_t *v = json_loadb(s + *pos, len - *pos,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &jerr);

    if (v && (jerr.position <= 0 || (size_t)jerr.position > len - *pos)) {
        json_decref(v);
        return NULL;
    }
    if (v)
        *pos += (size_t)jerr.position;
    return v;
}

/* The items array (or null) at s[*pos]. */
static int walk_items(struct kinf__list *list, const char *s, size_t len,
                      size_t *pos, kinf_error *err)
{
    size_t p = *pos;
    int rc;

    if (p < len && s[p] == 'n') {
        json_t *null = value_at(s, len, &p);
        bool ok = json_is_null(null);

        json_decref(null);
        *pos = p;
        return ok ? 0 : WALK_GIVE_UP;
    }
    if (p >= len || s[p] != '[')
        return WALK_GIVE_UP;
    p = skip_space(s, p + 1, len);
    if (p < len && s[p] == ']') {
        *pos = p + 1;
        return 0;
    }
    for (;;) {
        size_t start = p;
        json_t *item;

        if (p >= len || s[p] != '{')
            return WALK_GIVE_UP;
        item = value_at(s, len, &p);
        if (!item)
            return WALK_GIVE_UP;
        rc = reserve_items(list, 1, err);
        if (rc == 0) {
            rc = kinf__object_new_parsed(&list->items[list->count], item,
                                         s + start, p - start, err);
        }
        json_decref(item);
        if (rc == KINF_ENOMEM)
            return rc;
        if (rc < 0)
            return WALK_GIVE_UP;
        list->count++;
        p = skip_space(s, p, len);
        if (p < len && s[p] == ']') {
            *pos = p + 1;
            return 0;
        }
        if (p >= len || s[p] != ',')
            return WALK_GIVE_UP;
        p = skip_space(s, p + 1, len);
    }
}

/* Walk the answer's members; *metadata gets its metadata (a new
   reference, or NULL). */
static int walk_list(struct kinf__list *list, json_t **metadata,
                     const char *s, size_t len, kinf_error *err)
{
    size_t p = skip_space(s, 0, len);
    bool have_items = false;
    int rc = 0;

    *metadata = NULL;
    /* jansson reports positions as int. */
    if (len > INT_MAX || p >= len || s[p] != '{')
        return WALK_GIVE_UP;
    p = skip_space(s, p + 1, len);
    while (rc == 0) {
        json_t *key = NULL;
        const char *name;

        if (p < len && s[p] == '"')
            key = value_at(s, len, &p);
        name = json_string_value(key);
        p = skip_space(s, p, len);
        if (!name || p >= len || s[p] != ':') {
            json_decref(key);
            return WALK_GIVE_UP;
        }
        p = skip_space(s, p + 1, len);
        if (strcmp(name, "items") == 0) {
            rc = have_items ? WALK_GIVE_UP
                            : walk_items(list, s, len, &p, err);
            have_items = true;
        } else {
            json_t *value = value_at(s, len, &p);

            if (!value || (strcmp(name, "metadata") == 0 && *metadata)) {
                rc = WALK_GIVE_UP;
                json_decref(value);
            } else if (strcmp(name, "metadata") == 0) {
                *metadata = value;
            } else {
                json_decref(value);
            }
        }
        json_decref(key);
        p = skip_space(s, p, len);
        if (rc == 0 && p < len && s[p] == '}')
            break;
        if (rc == 0 && (p >= len || s[p] != ','))
            rc = WALK_GIVE_UP;
        p = skip_space(s, p + 1, len);
    }
    if (rc == 0 && (!have_items || skip_space(s, p + 1, len) != len))
        rc = WALK_GIVE_UP;
    return rc;
}

/* The answer parsed whole: the way for layouts the walk does not
   follow, and the one that words what is wrong with a bad answer. */
static int parse_list(struct kinf__list *list, json_t **metadata,
                      const char *s, size_t len, const char *url,
                      kinf_error *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(s, len, 0, &jerr);
    json_t *items = json_object_get(root, "items");
    size_t n = json_array_size(items);
    int rc = 0;

    *metadata = NULL;
    if (!json_is_object(root) ||
        !(json_is_array(items) || json_is_null(items))) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "GET %s: answer is not a list: %s", url,
                         root ? "no \"items\" array" : jerr.text);
        kinf__error_request(err, "GET", url);
        json_decref(root);
        return rc;
    }
    rc = reserve_items(list, n, err);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = kinf_object_new_from_json(&list->items[list->count],
                                       json_array_get(items, i), err);
        if (rc < 0) {
            kinf__error(err, rc, "GET %s: item %zu: %s", url, i,
                        rc == KINF_ENOMEM ? "out of memory"
                                          : "not a JSON object");
            kinf__error_request(err, "GET", url);
        } else {
            list->count++;
        }
    }
    *metadata = json_incref(json_object_get(root, "metadata"));
    json_decref(root);
    return rc;
}

int kinf__list_add_page(struct kinf__list *list, const char *body,
                        size_t len, const char *url, char **next,
                        kinf_error *err)
{
    json_t *meta = NULL;
    const char *rv;
    const char *cont;
    size_t before = list->count;
    int rc;

    *next = NULL;
    rc = walk_list(list, &meta, body, len, err);
    if (rc == WALK_GIVE_UP) {
        truncate_items(list, before);
        json_decref(meta);
        meta = NULL;
        rc = parse_list(list, &meta, body, len, url, err);
    }
    rv = json_string_value(json_object_get(meta, "resourceVersion"));
    cont = json_string_value(json_object_get(meta, "continue"));
    if (rc == 0 && !list->resource_version && rv) {
        list->resource_version = strdup(rv);
        if (!list->resource_version)
            rc = kinf__error(err, KINF_ENOMEM, "out of memory");
    }
    /* A lost continue token would end the list early, silently. */
    if (rc == 0 && cont && *cont) {
        *next = strdup(cont);
        if (!*next)
            rc = kinf__error(err, KINF_ENOMEM, "out of memory");
    }
    if (rc < 0)
        truncate_items(list, before);
    json_decref(meta);
    return rc;
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
    rc = kinf__list_add_page(list, resp.body ? resp.body : "",
                             resp.body_len, url, next, err);

out:
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
