/* SPDX-License-Identifier: MIT */
/* reflector.h - keeps a sink equal to the server: list, then watch */
#ifndef KINF_LIB_REFLECTOR_H
#define KINF_LIB_REFLECTOR_H

#include "listwatch.h"

/* Where the reflector delivers what it learns (the DeltaFIFO, in an
   informer). A negative return from a change ends the watch. */
struct kinf__reflector_sink {
    int (*replace)(kinf_object *const *objs, size_t count, void *user_data);
    int (*add)(kinf_object *obj, void *user_data);
    int (*update)(kinf_object *obj, void *user_data);
    int (*remove)(kinf_object *obj, void *user_data);
    void (*error)(const kinf_error *err, void *user_data);
    void *user_data;
};

struct kinf__reflector_options {
    struct kinf__resource resource;
    long page_size;               /* 500 */
    int64_t initial_backoff_ms;   /* 800 */
    int64_t max_backoff_ms;       /* 30000 */
    int64_t backoff_reset_ms;     /* 120000 */
    long min_watch_timeout_s;     /* 300: timeoutSeconds in [min, 2 min) */
    int64_t watch_stall_ms;       /* 0: the watch timeout plus 30 s */
    size_t max_event_bytes;       /* 0: decoder default */
};

/* Fill the fields left at zero (or below) with client-go's defaults,
   the values noted above. */
void kinf__reflector_defaults(struct kinf__reflector_options *opts);

struct kinf__reflector;

/* The options' strings are copied. */
int kinf__reflector_new(struct kinf__reflector **out, kinf_client *client,
                        const struct kinf__reflector_options *opts,
                        const struct kinf__reflector_sink *sink,
                        kinf_error *err);
void kinf__reflector_free(struct kinf__reflector *r);

int kinf__reflector_start(struct kinf__reflector *r);
/* Wakes every blocking call and joins the thread; the thread's own
   callbacks may call kinf__reflector_signal_stop() instead. */
void kinf__reflector_stop(struct kinf__reflector *r);
void kinf__reflector_signal_stop(struct kinf__reflector *r);

/* The newest resourceVersion seen (list, event or bookmark), copied
   into buf; "" before the first list. */
void kinf__reflector_last_version(struct kinf__reflector *r, char *buf,
                                  size_t size);

#endif
