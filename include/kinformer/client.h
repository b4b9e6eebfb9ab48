/* SPDX-License-Identifier: MIT */
/* client.h - HTTP(S) access to one API server */
#ifndef KINF_CLIENT_H
#define KINF_CLIENT_H

#include <jansson.h>

#include <kinformer/common.h>
#include <kinformer/log.h>

KINF_BEGIN_DECLS

/**
 * Make a client for the server a configuration names. TLS is verified
 * unless the configuration says insecure-skip-tls-verify.
 *
 * @param out     receives the client; untouched on failure
 * @param config  connection settings; copied, so it may be freed after
 * @param err     optional; says what was wrong
 * @return 0, KINF_ECONFIG, KINF_EINVAL or KINF_ENOMEM
 *
 * Ownership: *out is new; release it with kinf_client_free() after every
 * informer using it is freed.
 * Threads: any thread; the client itself may then be used from any
 * number of threads at once.
 */
KINF_API int kinf_client_new(kinf_client **out, const kinf_config *config,
                             kinf_error *err);

/**
 * Free a client. NULL is a no-op.
 *
 * Ownership: takes client.
 * Threads: not from a callback; no request may be running.
 */
KINF_API void kinf_client_free(kinf_client *client);

/**
 * Route the library's log messages for this client (and every informer
 * made from it) to fn. The library is silent until this is called.
 *
 * @param max_level  most detailed level to format and pass on
 * @param fn         the hook, e.g. kinf_log_klog; NULL silences
 * @param user_data  passed to fn
 *
 * Ownership: none.
 * Threads: before the client is used by other threads.
 */
KINF_API void kinf_client_set_log(kinf_client *client,
                                  kinf_log_level max_level,
                                  kinf_log_fn fn, void *user_data);

/**
 * One request/response exchange, e.g. creating a pod.
 *
 * @param out           receives the parsed response body (NULL if empty);
 *                      may be NULL to discard it; untouched on failure
 * @param method        "GET", "POST", "PUT", "PATCH" or "DELETE"
 * @param path          absolute API path with optional query, e.g.
 *                      "/api/v1/namespaces/default/pods"
 * @param content_type  body media type, NULL for application/json
 * @param body          request body, or NULL
 * @param err           optional; for an error answer holds method, URL,
 *                      HTTP status, and the Status reason and message
 * @return 0; KINF_ENOTFOUND (404), KINF_EEXPIRED (410), KINF_EHTTP
 *         (another non-2xx), KINF_ETRANSPORT, KINF_EPROTOCOL (a body
 *         that is not JSON) or KINF_ENOMEM
 *
 * Ownership: *out is a new reference; body is borrowed.
 * Threads: any thread.
 */
KINF_API int kinf_client_request(json_t **out, kinf_client *client,
                                 const char *method, const char *path,
                                 const char *content_type,
                                 const json_t *body, kinf_error *err);

KINF_END_DECLS

#endif
