/* SPDX-License-Identifier: MIT */
/* log.h - log levels, the host's log hook and the ready klog sink */
#ifndef KINF_LOG_H
#define KINF_LOG_H

#include <kinformer/common.h>

KINF_BEGIN_DECLS

typedef enum kinf_log_level {
    KINF_LOG_OFF = 0,
    KINF_LOG_ERROR,
    KINF_LOG_WARN,
    KINF_LOG_INFO,
    KINF_LOG_DEBUG,   /* klog -v 4: pipeline decisions */
    KINF_LOG_TRACE    /* klog -v 6: every request and event */
} kinf_log_level;

/**
 * The host's log hook. The library calls it from any of its threads with
 * a formatted message (no trailing newline, no control characters),
 * never while the library holds a lock of its own; messages about a
 * change being applied are passed on just after. Keep it quick, and
 * never call back into the library from it. subsystem is a short fixed
 * word such as "reflector", "watch", "http", "informer". file and line
 * name the library source.
 */
typedef void (*kinf_log_fn)(kinf_log_level level, const char *subsystem,
                            const char *file, int line,
                            const char *message, void *user_data);

/**
 * Ready-made sink: writes klog lines to stderr, e.g.
 * "I1203 16:02:20.123456   12345 reflector.c:44] message".
 * ERROR, WARN and INFO become E, W and I lines; DEBUG and TRACE become I
 * lines shown only at verbosity 4 and 6 and up (kinf_klog_set_verbosity).
 * Pass it to kinf_client_set_log() with user_data NULL.
 *
 * Ownership: none.
 * Threads: any thread; each line is written with one call.
 */
KINF_API void kinf_log_klog(kinf_log_level level, const char *subsystem,
                            const char *file, int line,
                            const char *message, void *user_data);

/**
 * Set the verbosity of the klog sink, as klog's -v flag does.
 *
 * @param verbosity  0 shows errors, warnings and info; 4 adds DEBUG;
 *                   6 adds TRACE
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API void kinf_klog_set_verbosity(int verbosity);

/**
 * The most detailed level the klog sink shows at its current verbosity,
 * to pass as max_level to kinf_client_set_log() so that hidden messages
 * are never even formatted.
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API kinf_log_level kinf_klog_max_level(void);

/**
 * Write one klog line from the host program, in the same format and
 * subject to the same verbosity as the sink.
 *
 * @param level  severity of the line
 * @param file   source file to show (its base name is printed)
 * @param line   source line to show
 * @param fmt    printf-style format
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API void kinf_klogf(kinf_log_level level, const char *file, int line,
                         const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/** kinf_klogf() at the caller's file and line. */
#define KINF_KLOG(level, ...) kinf_klogf((level), __FILE__, __LINE__, \
                                         __VA_ARGS__)

KINF_END_DECLS

#endif
