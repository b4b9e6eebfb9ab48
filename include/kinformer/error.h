/* SPDX-License-Identifier: MIT */
/* error.h - status codes and the caller-allocated error detail */
#ifndef KINF_ERROR_H
#define KINF_ERROR_H

#include <kinformer/common.h>

KINF_BEGIN_DECLS

typedef enum kinf_status {
    KINF_OK = 0,
    KINF_ERROR = -1,      /* unclassified; details in kinf_error */
    KINF_ENOMEM = -2,
    KINF_EINVAL = -3,     /* bad argument: a caller bug */
    KINF_ENOTFOUND = -4,
    KINF_EHTTP = -5,      /* the API server answered non-2xx */
    KINF_EEXPIRED = -6,   /* resourceVersion too old (410 Expired/Gone) */
    KINF_ECONFIG = -7,    /* kubeconfig or in-cluster config unusable */
    KINF_EBUSY = -8,      /* not allowed from this thread or callback */
    KINF_ESTOPPED = -9,   /* the operation was cancelled by a stop */
    KINF_ETRANSPORT = -10, /* connection, TLS or stream failure */
    KINF_EPROTOCOL = -11, /* the server's answer is not what the API says */
    KINF_ETIMEDOUT = -12
} kinf_status;

/**
 * Details of a failure. The caller allocates it (on the stack is fine);
 * calls that can explain a failure take an optional pointer to one.
 * Fields that do not apply are zero or empty strings.
 */
struct kinf_error {
    int code;            /* kinf_status */
    int http_status;     /* 0 if no HTTP exchange was involved */
    char reason[48];     /* the server's Status reason, e.g. "Expired" */
    char method[8];      /* "GET", ...; empty without HTTP */
    char url[512];       /* request URL; never carries credentials */
    int line;            /* kubeconfig position (1-based); 0 if unknown */
    int column;
    char message[1024];  /* human text naming what failed */
    int retry_after;     /* seconds from Retry-After; 0 if absent */
    char reserved[60];   /* future fields; zero-filled */
};

/**
 * A short static description of a kinf_status code.
 *
 * @param code  a kinf_status value
 * @return a static string, "unknown error" for unknown codes
 *
 * Ownership: static; never free it.
 * Threads: any thread.
 */
KINF_API const char *kinf_strerror(int code);

/**
 * Reset an error struct to "no error".
 *
 * @param err  the struct to clear; NULL is a no-op
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API void kinf_error_clear(kinf_error *err);

KINF_END_DECLS

#endif
