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

/* Checks the level first so that hidden messages cost no formatting. */
#define KINF__LOG(logger, level, subsystem, ...)                         \
    do {                                                                 \
        const struct kinf__logger *l_ = (logger);                        \
        if (l_ && l_->fn && (level) <= l_->max_level)                    \
            kinf__log(l_, (level), (subsystem), __FILE__, __LINE__,      \
                      __VA_ARGS__);                                      \
    } while (0)

#endif
