/* SPDX-License-Identifier: MIT */
/* internal.h - helpers shared by every library file (never installed) */
#ifndef KINF_LIB_INTERNAL_H
#define KINF_LIB_INTERNAL_H

#include <stdarg.h>
#include <stdint.h>

#include <kinformer/common.h>
#include <kinformer/error.h>

#if defined(__GNUC__)
#  define KINF__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define KINF__PRINTF(f, a)
#endif

/* Fill err (when not NULL) with code and a formatted message; returns
   code so that callers can write "return kinf__error(err, ...)". */
int kinf__error(kinf_error *err, int code, const char *fmt, ...)
    KINF__PRINTF(3, 4);

/* Name the request a failure is about (when err is not NULL). */
void kinf__error_request(kinf_error *err, const char *method,
                         const char *url);

/* Copy src's fields into dst (when not NULL). */
void kinf__error_copy(kinf_error *dst, const kinf_error *src);

/* Replace control characters in text with '?'. */
void kinf__sanitize(char *text);

/* strdup that returns NULL for NULL. */
char *kinf__strdup(const char *s);

/* malloc'd printf. NULL when out of memory. */
char *kinf__asprintf(const char *fmt, ...) KINF__PRINTF(1, 2);

/* Bounded copy that always terminates dst. */
void kinf__strlcpy(char *dst, const char *src, size_t size);

/* Monotonic clock in milliseconds. */
int64_t kinf__now_ms(void);

/* Uniform random double in [0, 1), thread-safe. */
double kinf__random(void);

#endif
