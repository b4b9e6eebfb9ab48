/* SPDX-License-Identifier: MIT */
/* client.h - transfers that stream, time out and stop on request */
#ifndef KINF_LIB_CLIENT_H
#define KINF_LIB_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>

#include <curl/curl.h>

#include <kinformer/client.h>
#include <kinformer/error.h>

#include "log.h"

/*
 * A cancel token wakes every blocking call of one owner (a reflector)
 * when its owner stops: a transfer in progress, or a backoff sleep.
 */
struct kinf__cancel {
    atomic_bool cancelled;
    pthread_mutex_t lock;       /* guards active and the condition */
    pthread_cond_t wake;
    CURLM *active;              /* the multi handle now transferring */
};

void kinf__cancel_init(struct kinf__cancel *c);
void kinf__cancel_destroy(struct kinf__cancel *c);
void kinf__cancel_fire(struct kinf__cancel *c);
void kinf__cancel_reset(struct kinf__cancel *c);
bool kinf__cancelled(struct kinf__cancel *c);

/* Sleep up to ms milliseconds; returns KINF_ESTOPPED if cancelled. */
int kinf__cancel_sleep(struct kinf__cancel *c, int64_t ms);

/* Receives streamed body bytes of a 2xx answer. A negative return
   aborts the transfer, which then returns that value. */
typedef int (*kinf__body_fn)(const char *data, size_t len, void *user_data);

struct kinf__request {
    const char *method;
    const char *path;          /* with query */
    const char *content_type;
    const char *body;
    size_t body_len;
    kinf__body_fn on_body;     /* NULL: collect the body */
    void *user_data;
    int64_t idle_timeout_ms;   /* abort when no byte arrives for this
                                  long; 0 = none */
    int64_t total_timeout_ms;  /* 0 = none */
    size_t max_body_bytes;     /* a collected 2xx body larger than this
                                  fails with KINF_EPROTOCOL; 0 = none */
};

struct kinf__response {
    long status;
    char *body;                /* collected body when on_body is NULL */
    size_t body_len;
};

/*
 * Run one request. Non-2xx answers become KINF_EHTTP, KINF_ENOTFOUND or
 * KINF_EEXPIRED with the server's Status in err. A callback's negative
 * value is returned as is. cancel may be NULL.
 */
int kinf__client_do(kinf_client *client, const struct kinf__request *req,
                    struct kinf__response *resp, struct kinf__cancel *cancel,
                    kinf_error *err);

void kinf__response_clear(struct kinf__response *resp);

const struct kinf__logger *kinf__client_logger(const kinf_client *client);

/* The server's URL, without a trailing '/' and without credentials. */
const char *kinf__client_base_url(const kinf_client *client);

/* Turn an API Status object into err; returns the kinf_status for it. */
int kinf__status_to_error(kinf_error *err, const json_t *status,
                          const char *method, const char *url);

#endif
