/* SPDX-License-Identifier: MIT */
/* backoff.h - exponential backoff with jitter, as client-go's manager */
#ifndef KINF_LIB_BACKOFF_H
#define KINF_LIB_BACKOFF_H

#include <stdint.h>

struct kinf__backoff {
    int64_t initial_ms;     /* first wait (client-go: 800) */
    int64_t max_ms;         /* cap before jitter (30000) */
    int64_t reset_ms;       /* quiet time that resets the wait (120000) */
    double jitter;          /* wait in [d, d + jitter * d) (1.0) */
    int64_t current_ms;     /* 0 before the first wait */
    int64_t last_ms;        /* when the last wait was handed out */
};

void kinf__backoff_init(struct kinf__backoff *b, int64_t initial_ms,
                        int64_t max_ms, int64_t reset_ms, double jitter);

/* The next wait in milliseconds, given the monotonic time now and a
   random draw in [0, 1). */
int64_t kinf__backoff_next(struct kinf__backoff *b, int64_t now,
                           double random);

/* The next wait, at least retry_after_s seconds when the server asked
   for them (Retry-After), but never more than twice the cap: a server
   cannot park the client for longer than backing off alone would. */
int64_t kinf__backoff_next_with_retry_after(struct kinf__backoff *b,
                                            int64_t now, double random,
                                            int64_t retry_after_s);

#endif
