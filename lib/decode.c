/* SPDX-License-Identifier: MIT */
/* decode.c - newline-delimited JSON watch events, correct for any split */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "internal.h"
#include "object.h"

#define DEFAULT_MAX_EVENT ((size_t)256 << 20)

struct kinf__decoder {
    kinf__event_fn fn;
    void *user_data;
    size_t max_event;
    char *buf;
    size_t len;        /* bytes held */
    size_t cap;
    size_t scanned;    /* bytes of buf known to hold no newline */
    size_t events;
};

static const char *const type_names[] = {
    "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"
};

const char *kinf__event_type_name(enum kinf__event_type type)
{
    return type_names[type];
}

struct kinf__decoder *kinf__decoder_new(kinf__event_fn fn, void *user_data,
                                        size_t max_event_bytes)
{
    struct kinf__decoder *dec = calloc(1, sizeof(*dec));

    if (!dec)
        return NULL;
    dec->fn = fn;
    dec->user_data = user_data;
    dec->max_event = max_event_bytes ? max_event_bytes : DEFAULT_MAX_EVENT;
    return dec;
}

void kinf__decoder_free(struct kinf__decoder *dec)
{
    if (!dec)
        return;
    free(dec->buf);
    free(dec);
}

size_t kinf__decoder_events(const struct kinf__decoder *dec)
{
    return dec->events;
}

static int parse_type(enum kinf__event_type *out, const char *s)
{
    for (size_t i = 0; i < sizeof(type_names) / sizeof(*type_names); i++) {
        if (s && strcmp(s, type_names[i]) == 0) {
            *out = (enum kinf__event_type)i;
            return 0;
        }
    }
    return -1;
}

static int is_blank(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return 0;
    }
    return 1;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Where the object's own text lies in the event line, so that the
 * object keeps the bytes the server sent instead of printing its parsed
 * tree again (a third of the decoding cost). The parser has accepted the
 * line as an object with exactly the members "type" and "object", no
 * duplicates; if the text then starts with {"type":"<type>","object":
 * (the servers' order), what follows up to the closing brace is exactly
 * the object's value. Any other layout returns false: print it instead.
 */
static bool find_object_text(const char *line, size_t len, const char *type,
                             const json_t *root, const char **start,
                             size_t *size)
{
    char prefix[64];
    int plen;
    size_t end = len;

    if (json_object_size(root) != 2)
        return false;
    plen = snprintf(prefix, sizeof(prefix), "{\"type\":\"%s\",\"object\":",
                    type);
    while (len > 0 && is_space(*line)) {
        line++;
        len--;
        end--;
    }
    if (plen <= 0 || (size_t)plen >= sizeof(prefix) || len < (size_t)plen ||
        memcmp(line, prefix, (size_t)plen) != 0)
        return false;
    while (end > 0 && is_space(line[end - 1])) {
        end--;
    }
    if (end == 0 || line[end - 1] != '}')
        return false;
    end--;
    while (end > (size_t)plen && is_space(line[end - 1])) {
        end--;
    }
    *start = line + plen;
    *size = end - (size_t)plen;
    return true;
}

static int emit(struct kinf__decoder *dec, const char *line, size_t len,
                kinf_error *err)
{
    struct kinf__event ev = {0};
    json_error_t jerr;
    json_t *root;
    json_t *object;
    const char *text;
    size_t text_len;
    int rc = 0;

    if (is_blank(line, len))
        return 0;
    root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return kinf__error(err, KINF_EPROTOCOL,
                           "watch event %zu is not JSON (column %d): %s",
                           dec->events + 1, jerr.column, jerr.text);
    }

    object = json_object_get(root, "object");
    if (parse_type(&ev.type, json_string_value(json_object_get(root,
                                                               "type")))) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "watch event %zu has no known \"type\"",
                         dec->events + 1);
        goto out;
    }
    if (!json_is_object(object)) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "watch event %zu (%s) has no \"object\"",
                         dec->events + 1, type_names[ev.type]);
        goto out;
    }

    if (ev.type == KINF__EVENT_ERROR) {
        ev.status = object;
    } else if (find_object_text(line, len, type_names[ev.type], root,
                                &text, &text_len)) {
        rc = kinf__object_new_parsed(&ev.object, object, text, text_len,
                                     err);
    } else {
        rc = kinf_object_new_from_json(&ev.object, object, err);
    }
    if (rc < 0)
        goto out;
    dec->events++;
    rc = dec->fn(&ev, dec->user_data);

out:
    kinf_object_unref(ev.object);
    json_decref(root);
    return rc;
}

static int reserve(struct kinf__decoder *dec, size_t extra, kinf_error *err)
{
    size_t need = dec->len + extra;
    char *buf;
    size_t cap;

    if (need <= dec->cap)
        return 0;
    cap = dec->cap ? dec->cap : 4096;
    while (cap < need) {
        cap *= 2;
    }
    buf = realloc(dec->buf, cap);
    if (!buf)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    dec->buf = buf;
    dec->cap = cap;
    return 0;
}

int kinf__decoder_feed(struct kinf__decoder *dec, const char *data,
                       size_t len, kinf_error *err)
{
    size_t start = 0;
    char *nl;
    int rc;

    rc = reserve(dec, len, err);
    if (rc < 0)
        return rc;
    memcpy(dec->buf + dec->len, data, len);
    dec->len += len;

    /* Only the new bytes can hold a newline not yet seen. */
    while ((nl = memchr(dec->buf + dec->scanned, '\n',
                        dec->len - dec->scanned))) {
        size_t end = (size_t)(nl - dec->buf);

        rc = emit(dec, dec->buf + start, end - start, err);
        start = end + 1;
        dec->scanned = start;
        if (rc < 0)
            break;
    }

    /* Keep the unfinished event at the front; moving it on every feed
       would make a large event arriving in small reads quadratic. */
    if (start > 0) {
        memmove(dec->buf, dec->buf + start, dec->len - start);
        dec->len -= start;
    }
    dec->scanned = dec->len;
    if (rc >= 0 && dec->len > dec->max_event) {
        return kinf__error(err, KINF_EPROTOCOL,
                           "watch event larger than %zu bytes",
                           dec->max_event);
    }
    return rc < 0 ? rc : 0;
}

int kinf__decoder_finish(struct kinf__decoder *dec, kinf_error *err)
{
    int rc;

    if (is_blank(dec->buf, dec->len)) {
        dec->len = 0;
        dec->scanned = 0;
        return 0;
    }
    /* A complete document without its newline is still an event; a cut
       one fails to parse and reports the cut. */
    rc = emit(dec, dec->buf, dec->len, err);
    dec->len = 0;
    dec->scanned = 0;
    if (rc == KINF_EPROTOCOL && err) {
        kinf__strlcpy(err->message, "watch stream ended inside an event",
                      sizeof(err->message));
    }
    return rc;
}
