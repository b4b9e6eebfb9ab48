/* SPDX-License-Identifier: MIT */
/* log.h - the library's internal logging through the host's hook */
#ifndef KINF_LIB_LOG_H
#define KINF_LIB_LOG_H

#include <kinformer/log.h>

#include "internal.h"

struct kinf__logger {
    kinf_log_level max_level;   /* KINF_LOG_OFF: silent */
    kinf_log_fn fn;
    void *user_data;
};

void kinf__log(const struct kinf__logger *logger, kinf_log_level level,
               const char *subsystem, const char *file, int line,
               const char *fmt, ...) KINF__PRINTF(6, 7);

/* Messages formed while a library lock is held wait here until it is
   released: the hook is the host's code, and no library lock may be
   held while host code runs. Owned by one thread. */
struct kinf__log_entry {
    kinf_log_level level;
    const char *subsystem;      /* static strings */
    const char *file;
    int line;
    char *message;
};

struct kinf__log_queue {
    struct kinf__log_entry *entries;
    size_t count;
    size_t cap;
};

void kinf__log_later(struct kinf__log_queue *queue,
                     kinf_log_level level, const char *subsystem,
                     const char *file, int line, const char *fmt, ...)
    KINF__PRINTF(6, 7);

/* Hand the waiting messages to the hook, in order, and forget them. */
void kinf__log_flush(struct kinf__log_queue *queue,
                     const struct kinf__logger *logger);

void kinf__log_queue_clear(struct kinf__log_queue *queue);

/* Checks the level first so that hidden messages cost no formatting. */
#define KINF__LOG(logger, level, subsystem, ...)                         \
    do {                                                                 \
        const struct kinf__logger *l_ = (logger);                        \
        if (l_ && l_->fn && (level) <= l_->max_level) {                  \
            kinf__log(l_, (level), (subsystem), __FILE__, __LINE__,      \
                      __VA_ARGS__);                                      \
        }                                                                \
    } while (0)

/* The same, kept in queue until kinf__log_flush(). */
#define KINF__LOG_LATER(queue, logger, level, subsystem, ...)            \
    do {                                                                 \
        const struct kinf__logger *l_ = (logger);                        \
        if (l_ && l_->fn && (level) <= l_->max_level) {                  \
            kinf__log_later((queue), (level), (subsystem), __FILE__,     \
                            __LINE__, __VA_ARGS__);                      \
        }                                                                \
    } while (0)

#endif
