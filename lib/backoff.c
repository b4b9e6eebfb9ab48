/* SPDX-License-Identifier: MIT */
/* backoff.c - doubling waits with jitter and a reset after calm */
#include "backoff.h"

void kinf__backoff_init(struct kinf__backoff *b, int64_t initial_ms,
                        int64_t max_ms, int64_t reset_ms, double jitter)
{
    b->initial_ms = initial_ms;
    b->max_ms = max_ms < initial_ms ? initial_ms : max_ms;
    b->reset_ms = reset_ms;
    b->jitter = jitter;
    b->current_ms = 0;
    b->last_ms = 0;
}

int64_t kinf__backoff_next(struct kinf__backoff *b, int64_t now,
                           double random)
{
    /* A long calm since the last wait means the trouble is over. */
    if (b->current_ms && now - b->last_ms > b->reset_ms) {
        b->current_ms = 0;
    }

    if (!b->current_ms) {
        b->current_ms = b->initial_ms;
    } else {
        b->current_ms *= 2;
        if (b->current_ms > b->max_ms) {
            b->current_ms = b->max_ms;
        }
    }
    b->last_ms = now;
    return b->current_ms + (int64_t)(random * b->jitter *
                                     (double)b->current_ms);
}

int64_t kinf__backoff_next_with_retry_after(struct kinf__backoff *b,
                                            int64_t now, double random,
                                            int64_t retry_after_s)
{
    int64_t wait = kinf__backoff_next(b, now, random);
    int64_t ceiling_ms = 2 * b->max_ms;
    int64_t asked_ms;

    if (retry_after_s <= 0)
        return wait;
    /* Compared in seconds first: a huge value must not overflow. */
    asked_ms = retry_after_s > ceiling_ms / 1000 ? ceiling_ms
                                                  : retry_after_s * 1000;
    return asked_ms > wait ? asked_ms : wait;
}
