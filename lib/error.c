/* SPDX-License-Identifier: MIT */
/* error.c - status strings and the small helpers every file uses */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kinformer/version.h>

#include "internal.h"

const char *kinf_strerror(int code)
{
    switch (code) {
    case KINF_OK: return "success";
    case KINF_ERROR: return "error";
    case KINF_ENOMEM: return "out of memory";
    case KINF_EINVAL: return "invalid argument";
    case KINF_ENOTFOUND: return "not found";
    case KINF_EHTTP: return "API server returned an error";
    case KINF_EEXPIRED: return "resource version expired";
    case KINF_ECONFIG: return "configuration unusable";
    case KINF_EBUSY: return "not allowed from this thread";
    case KINF_ESTOPPED: return "stopped";
    case KINF_ETRANSPORT: return "transport failure";
    case KINF_EPROTOCOL: return "protocol violation";
    case KINF_ETIMEDOUT: return "timed out";
    default: return "unknown error";
    }
}

void kinf_error_clear(kinf_error *err)
{
    if (err) {
        memset(err, 0, sizeof(*err));
    }
}

const char *kinf_version(void)
{
    return KINF_VERSION;
}

void kinf_free(void *ptr)
{
    free(ptr);
}

/* Server text may hold anything: no control character may reach a
   message, where it could forge log lines or drive a terminal. */
void kinf__sanitize(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *p = '?';
        }
    }
}

int kinf__error(kinf_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return code;
    /* A fresh error: fields the caller does not set read as empty. */
    memset(err, 0, sizeof(*err));
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    kinf__sanitize(err->message);
    return code;
}

void kinf__error_request(kinf_error *err, const char *method,
                         const char *url)
{
    if (!err)
        return;
    kinf__strlcpy(err->method, method, sizeof(err->method));
    kinf__strlcpy(err->url, url, sizeof(err->url));
}

void kinf__error_copy(kinf_error *dst, const kinf_error *src)
{
    if (dst && src && dst != src) {
        memcpy(dst, src, sizeof(*dst));
    }
}

char *kinf__strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *kinf__asprintf(const char *fmt, ...)
{
    va_list ap;
    char *buf;
    int len;

    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0)
        return NULL;

    buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(buf, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return buf;
}

void kinf__strlcpy(char *dst, const char *src, size_t size)
{
    size_t len;

    if (size == 0)
        return;
    len = src ? strlen(src) : 0;
    if (len >= size) {
        len = size - 1;
    }
    if (len) {
        memcpy(dst, src, len);
    }
    dst[len] = '\0';
}

int64_t kinf__now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double kinf__random(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static unsigned short seed[3];
    static int seeded;
    double r;

    pthread_mutex_lock(&lock);
    if (!seeded) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        seed[0] = (unsigned short)ts.tv_nsec;
        seed[1] = (unsigned short)(ts.tv_nsec >> 16);
        seed[2] = (unsigned short)ts.tv_sec;
        seeded = 1;
    }
    r = erand48(seed);
    pthread_mutex_unlock(&lock);
    return r;
}
