/* SPDX-License-Identifier: MIT */
/* decode.h - incremental decoder of a watch stream into events */
#ifndef KINF_LIB_DECODE_H
#define KINF_LIB_DECODE_H

#include <jansson.h>

#include <kinformer/error.h>
#include <kinformer/object.h>

enum kinf__event_type {
    KINF__EVENT_ADDED,
    KINF__EVENT_MODIFIED,
    KINF__EVENT_DELETED,
    KINF__EVENT_BOOKMARK,
    KINF__EVENT_ERROR
};

struct kinf__event {
    enum kinf__event_type type;
    kinf_object *object;    /* borrowed; NULL for ERROR */
    const json_t *status;   /* borrowed Status; only for ERROR */
};

/* Called once per complete event, in stream order. A negative return
   stops decoding; feed() then returns that value. */
typedef int (*kinf__event_fn)(const struct kinf__event *event,
                              void *user_data);

struct kinf__decoder;

/* max_event_bytes bounds one event line (0: 256 MiB). */
struct kinf__decoder *kinf__decoder_new(kinf__event_fn fn, void *user_data,
                                        size_t max_event_bytes);
void kinf__decoder_free(struct kinf__decoder *dec);

/* Feed the next bytes of the stream, split anywhere. Returns 0, the
   callback's negative value, or KINF_EPROTOCOL / KINF_ENOMEM with err
   filled. */
int kinf__decoder_feed(struct kinf__decoder *dec, const char *data,
                       size_t len, kinf_error *err);

/* The stream ended: a last event without its newline is still decoded;
   only blank space may remain. Returns 0 or KINF_EPROTOCOL. */
int kinf__decoder_finish(struct kinf__decoder *dec, kinf_error *err);

/* Events decoded so far. */
size_t kinf__decoder_events(const struct kinf__decoder *dec);

const char *kinf__event_type_name(enum kinf__event_type type);

#endif
