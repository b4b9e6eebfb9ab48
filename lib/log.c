/* SPDX-License-Identifier: MIT */
/* log.c - formatting for the log hook, and the ready klog sink */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static atomic_int klog_verbosity;

#define MESSAGE_MAX 2048

static void format(char *message, const char *fmt, va_list ap)
{
    vsnprintf(message, MESSAGE_MAX, fmt, ap);
    kinf__sanitize(message);   /* names and texts come from the server */
}

void kinf__log(const struct kinf__logger *logger, kinf_log_level level,
               const char *subsystem, const char *file, int line,
               const char *fmt, ...)
{
    char message[MESSAGE_MAX];
    va_list ap;

    va_start(ap, fmt);
    format(message, fmt, ap);
    va_end(ap);
    logger->fn(level, subsystem, file, line, message, logger->user_data);
}

void kinf__log_later(struct kinf__log_queue *queue, kinf_log_level level,
                     const char *subsystem, const char *file, int line,
                     const char *fmt, ...)
{
    char message[MESSAGE_MAX];
    struct kinf__log_entry *e;
    va_list ap;

    /* Out of memory, the message is lost; the change it tells of is
       not. */
    if (queue->count == queue->cap) {
        size_t cap = queue->cap ? queue->cap * 2 : 8;
        struct kinf__log_entry *grown = realloc(queue->entries,
                                                cap * sizeof(*grown));

        if (!grown)
            return;
        queue->entries = grown;
        queue->cap = cap;
    }
    va_start(ap, fmt);
    format(message, fmt, ap);
    va_end(ap);

    e = &queue->entries[queue->count];
    e->message = strdup(message);
    if (!e->message)
        return;
    e->level = level;
    e->subsystem = subsystem;
    e->file = file;
    e->line = line;
    queue->count++;
}

void kinf__log_flush(struct kinf__log_queue *queue,
                     const struct kinf__logger *logger)
{
    for (size_t i = 0; i < queue->count; i++) {
        struct kinf__log_entry *e = &queue->entries[i];

        if (logger && logger->fn) {
            logger->fn(e->level, e->subsystem, e->file, e->line,
                       e->message, logger->user_data);
        }
        free(e->message);
    }
    queue->count = 0;
}

void kinf__log_queue_clear(struct kinf__log_queue *queue)
{
    kinf__log_flush(queue, NULL);
    free(queue->entries);
    memset(queue, 0, sizeof(*queue));
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
