/* SPDX-License-Identifier: MIT */
/* log.c - formatting for the log hook, and the ready klog sink */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int klog_verbosity;

void kinf__log(const struct kinf__logger *logger, kinf_log_level level,
               const char *subsystem, const char *file, int line,
               const char *fmt, ...)
{
    char message[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    kinf__sanitize(message);   /* names and texts come from the server */
    logger->fn(level, subsystem, file, line, message, logger->user_data);
}

void kinf_klog_set_verbosity(int verbosity)
{
    atomic_store(&klog_verbosity, verbosity);
}

kinf_log_level kinf_klog_max_level(void)
{
    int v = atomic_load(&klog_verbosity);

    if (v >= 6)
        return KINF_LOG_TRACE;
    return v >= 4 ? KINF_LOG_DEBUG : KINF_LOG_INFO;
}

static const char *base_name(const char *path)
{
    const char *slash = path ? strrchr(path, '/') : NULL;

    if (!path)
        return "?";
    return slash ? slash + 1 : path;
}

static void write_klog_line(kinf_log_level level, const char *file,
                            int line, const char *message)
{
    static const char severity[] = "?EWIII";
    struct timeval tv;
    struct tm tm;

    if (level <= KINF_LOG_OFF || level > kinf_klog_max_level())
        return;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    /* One fprintf per line: stdio locks the stream, so lines from
       several threads never interleave. */
    fprintf(stderr, "%c%02d%02d %02d:%02d:%02d.%06ld %7d %s:%d] %s\n",
            severity[level], tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
            tm.tm_min, tm.tm_sec, (long)tv.tv_usec, (int)getpid(),
            base_name(file), line, message);
}

void kinf_log_klog(kinf_log_level level, const char *subsystem,
                   const char *file, int line, const char *message,
                   void *user_data)
{
    (void)subsystem;
    (void)user_data;
    write_klog_line(level, file, line, message);
}

void kinf_klogf(kinf_log_level level, const char *file, int line,
                const char *fmt, ...)
{
    char message[2048];
    va_list ap;

    if (level <= KINF_LOG_OFF || level > kinf_klog_max_level())
        return;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    write_klog_line(level, file, line, message);
}
