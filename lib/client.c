/* SPDX-License-Identifier: MIT */
/* client.c - libcurl transfers with auth, TLS, streaming and cancel */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kinformer/config.h>

#include "client.h"
#include "config.h"
#include "internal.h"

#define ERROR_BODY_MAX (1 << 20)
#define CONNECT_TIMEOUT_S 10L
#define TOKEN_MAX 16384

struct kinf_client {
    struct kinf_config *cfg;    /* deep copy of the caller's config */
    char *base_url;             /* server URL without trailing '/' */
    char *connect_to;           /* CURLOPT_CONNECT_TO for tls-server-name */
    struct kinf__logger logger;
};

static const char *source_of(const kinf_client *client)
{
    return client->cfg->source ? client->cfg->source : "config";
}

/*
 * The URL every request starts with. User and password parts are
 * dropped so that no URL in a log or an error carries credentials. With
 * tls-server-name, requests name that host (so that SNI and certificate
 * checks use it) and CONNECT_TO sends them to the configured address.
 */
static int setup_base_url(kinf_client *client, kinf_error *err)
{
    CURLU *url = curl_url();
    char *host = NULL;
    char *port = NULL;
    char *scheme = NULL;
    char *full = NULL;
    const char *name = client->cfg->tls_server_name;
    size_t len;
    int rc = 0;

    if (!url)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    /* The server string is not echoed: it may carry a password. */
    if (curl_url_set(url, CURLUPART_URL, client->cfg->server, 0) ||
        curl_url_get(url, CURLUPART_HOST, &host, 0) ||
        curl_url_get(url, CURLUPART_SCHEME, &scheme, 0) ||
        curl_url_get(url, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) {
        rc = kinf__error(err, KINF_ECONFIG,
                         "%s: cluster server is not a valid URL",
                         source_of(client));
        goto out;
    }
    if (strcmp(scheme, "https") && strcmp(scheme, "http")) {
        rc = kinf__error(err, KINF_ECONFIG,
                         "%s: cluster server is neither http nor https",
                         source_of(client));
        goto out;
    }
    curl_url_set(url, CURLUPART_USER, NULL, 0);
    curl_url_set(url, CURLUPART_PASSWORD, NULL, 0);
    curl_url_set(url, CURLUPART_QUERY, NULL, 0);
    curl_url_set(url, CURLUPART_FRAGMENT, NULL, 0);

    if (name && *name) {
        client->connect_to = kinf__asprintf("%s:%s:%s:%s", name, port, host,
                                            port);
        if (!client->connect_to ||
            curl_url_set(url, CURLUPART_HOST, name, 0)) {
            rc = kinf__error(err, KINF_ECONFIG,
                             "%s: tls-server-name is not a host name",
                             source_of(client));
            goto out;
        }
    }
    if (curl_url_get(url, CURLUPART_URL, &full, 0) ||
        !(client->base_url = strdup(full))) {
        rc = kinf__error(err, KINF_ENOMEM, "out of memory");
        goto out;
    }
    len = strlen(client->base_url);
    while (len > 0 && client->base_url[len - 1] == '/') {
        client->base_url[--len] = '\0';
    }

out:
    curl_free(full);
    curl_free(host);
    curl_free(port);
    curl_free(scheme);
    curl_url_cleanup(url);
    return rc;
}

int kinf_client_new(kinf_client **out, const kinf_config *config,
                    kinf_error *err)
{
    kinf_client *client;
    int rc;

    if (!out || !config)
        return kinf__error(err, KINF_EINVAL, "client: NULL argument");
    if (!config->server || !*config->server) {
        return kinf__error(err, KINF_ECONFIG, "%s: no server URL",
                           config->source ? config->source : "config");
    }

    client = calloc(1, sizeof(*client));
    if (!client)
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    rc = kinf__config_copy(&client->cfg, config);
    if (rc < 0) {
        free(client);
        return kinf__error(err, rc, "out of memory");
    }
    rc = setup_base_url(client, err);
    if (rc < 0) {
        kinf_client_free(client);
        return rc;
    }
    *out = client;
    return 0;
}

void kinf_client_free(kinf_client *client)
{
    if (!client)
        return;
    kinf_config_free(client->cfg);
    free(client->base_url);
    free(client->connect_to);
    free(client);
}

void kinf_client_set_log(kinf_client *client, kinf_log_level max_level,
                         kinf_log_fn fn, void *user_data)
{
    if (!client)
        return;
    client->logger.max_level = fn ? max_level : KINF_LOG_OFF;
    client->logger.fn = fn;
    client->logger.user_data = user_data;
}

const struct kinf__logger *kinf__client_logger(const kinf_client *client)
{
    return &client->logger;
}

const char *kinf__client_base_url(const kinf_client *client)
{
    return client->base_url;
}

/* ---- cancel tokens ---------------------------------------------------- */

void kinf__cancel_init(struct kinf__cancel *c)
{
    pthread_condattr_t attr;

    atomic_init(&c->cancelled, false);
    pthread_mutex_init(&c->lock, NULL);
    /* Waits measure elapsed time: a step of the wall clock must not
       stretch or cut a backoff. */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &attr);
    pthread_condattr_destroy(&attr);
    c->active = NULL;
}

void kinf__cancel_destroy(struct kinf__cancel *c)
{
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->wake);
}

void kinf__cancel_fire(struct kinf__cancel *c)
{
    pthread_mutex_lock(&c->lock);
    atomic_store(&c->cancelled, true);
    if (c->active) {
        curl_multi_wakeup(c->active);
    }
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->lock);
}

void kinf__cancel_reset(struct kinf__cancel *c)
{
    atomic_store(&c->cancelled, false);
}

bool kinf__cancelled(struct kinf__cancel *c)
{
    return c && atomic_load(&c->cancelled);
}

int kinf__cancel_sleep(struct kinf__cancel *c, int64_t ms)
{
    struct timespec deadline;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += ms / 1000;
    deadline.tv_nsec += (ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (!atomic_load(&c->cancelled) && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&c->wake, &c->lock, &deadline);
    }
    pthread_mutex_unlock(&c->lock);
    return atomic_load(&c->cancelled) ? KINF_ESTOPPED : 0;
}

/* ---- one transfer ----------------------------------------------------- */

struct transfer {
    CURL *easy;
    const struct kinf__request *req;
    struct kinf__response *resp;
    long status;            /* 0 until the first body byte */
    int callback_rc;        /* a body callback's failure */
    bool too_large;         /* the body passed req->max_body_bytes */
    int64_t last_byte_ms;
    char *collected;        /* error body, or whole body without on_body */
    size_t collected_len;
    size_t collected_cap;
};

static int collect(struct transfer *t, const char *data, size_t len,
                   size_t limit)
{
    size_t need = t->collected_len + len + 1;

    if (need > limit)
        return 0;   /* keep the first bytes of an oversized error body */
    if (need > t->collected_cap) {
        size_t cap = t->collected_cap ? t->collected_cap : 4096;
        char *buf;

        while (cap < need) {
            cap *= 2;
        }
        buf = realloc(t->collected, cap);
        if (!buf)
            return KINF_ENOMEM;
        t->collected = buf;
        t->collected_cap = cap;
    }
    memcpy(t->collected + t->collected_len, data, len);
    t->collected_len += len;
    t->collected[t->collected_len] = '\0';
    return 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *user_data)
{
    struct transfer *t = user_data;
    size_t len = size * n;
    int rc;

    t->last_byte_ms = kinf__now_ms();
    if (!t->status) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    }

    if (t->status < 200 || t->status >= 300) {
        rc = collect(t, data, len, ERROR_BODY_MAX);
    } else if (t->req->on_body) {
        rc = t->req->on_body(data, len, t->req->user_data);
    } else if (t->req->max_body_bytes &&
               t->collected_len + len > t->req->max_body_bytes) {
        t->too_large = true;   /* a hostile or broken endless answer */
        rc = KINF_EPROTOCOL;
    } else {
        rc = collect(t, data, len, SIZE_MAX);
    }
    if (rc < 0) {
        t->callback_rc = rc;
        return 0;   /* makes libcurl abort with CURLE_WRITE_ERROR */
    }
    return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *user_data)
{
    struct transfer *t = user_data;
    size_t len = size * n;

    (void)data;
    /* Headers are bytes too: a server that trickles them is alive. */
    t->last_byte_ms = kinf__now_ms();
    return len;
}

/* A token goes into a header line: a control character in it could
   end the line and add headers of its own. */
static bool token_is_clean(const char *token)
{
    for (const unsigned char *p = (const unsigned char *)token; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return false;
    }
    return true;
}

static int read_token_file(char **out, const kinf_client *client,
                           kinf_error *err)
{
    FILE *f = fopen(client->cfg->token_file, "r");
    char *buf;
    size_t len;

    if (!f) {
        return kinf__error(err, KINF_ECONFIG, "%s: tokenFile '%s': %s",
                           source_of(client), client->cfg->token_file,
                           strerror(errno));
    }
    buf = calloc(1, TOKEN_MAX + 1);
    if (!buf) {
        fclose(f);
        return kinf__error(err, KINF_ENOMEM, "out of memory");
    }
    len = fread(buf, 1, TOKEN_MAX, f);
    fclose(f);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
                       buf[len - 1] == ' ')) {
        buf[--len] = '\0';
    }
    *out = buf;
    return 0;
}

/*
 * The bearer token: inline, else re-read from its file on every request
 * so that a rotated token is picked up. None over plain HTTP, where
 * anyone on the path could read it (client-go sends credentials only
 * over TLS).
 */
static int load_token(char **out, const kinf_client *client, kinf_error *err)
{
    int rc = 0;

    *out = NULL;
    if (strncmp(client->base_url, "https://", 8) != 0)
        return 0;
    if (client->cfg->token) {
        *out = strdup(client->cfg->token);
        if (!*out)
            return kinf__error(err, KINF_ENOMEM, "out of memory");
    } else if (client->cfg->token_file) {
        rc = read_token_file(out, client, err);
    }
    if (rc == 0 && *out && !token_is_clean(*out)) {
        memset(*out, 0, strlen(*out));
        free(*out);
        *out = NULL;
        rc = kinf__error(err, KINF_ECONFIG,
                         "%s: the user's token holds control characters",
                         source_of(client));
    }
    return rc;
}

static int add_header(struct curl_slist **headers, const char *line)
{
    struct curl_slist *next = curl_slist_append(*headers, line);

    if (!next)
        return KINF_ENOMEM;
    *headers = next;
    return 0;
}

static int build_headers(struct curl_slist **out, const kinf_client *client,
                         const struct kinf__request *req, kinf_error *err)
{
    struct curl_slist *headers = NULL;
    char *token = NULL;
    char *line = NULL;
    int rc;

    rc = load_token(&token, client, err);
    if (rc < 0)
        return rc;
    rc = add_header(&headers, "Accept: application/json");
    if (rc == 0 && req->body) {
        line = kinf__asprintf("Content-Type: %s",
                              req->content_type ? req->content_type
                                                : "application/json");
        rc = line ? add_header(&headers, line) : KINF_ENOMEM;
        free(line);
    }
    if (rc == 0 && token && *token) {
        line = kinf__asprintf("Authorization: Bearer %s", token);
        rc = line ? add_header(&headers, line) : KINF_ENOMEM;
        if (line) {
            memset(line, 0, strlen(line));   /* no stray token copies */
        }
        free(line);
    }
    if (token) {
        memset(token, 0, strlen(token));
    }
    free(token);
    if (rc < 0) {
        curl_slist_free_all(headers);
        return kinf__error(err, rc, "out of memory");
    }
    *out = headers;
    return 0;
}

static void setup_tls(CURL *easy, const kinf_client *client)
{
    const struct kinf_config *c = client->cfg;

    if (c->insecure_skip_tls_verify) {
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (c->ca_data.data) {
        struct curl_blob blob = { c->ca_data.data, c->ca_data.len,
                                  CURL_BLOB_COPY };

        curl_easy_setopt(easy, CURLOPT_CAINFO_BLOB, &blob);
    } else if (c->ca_file) {
        curl_easy_setopt(easy, CURLOPT_CAINFO, c->ca_file);
    }

    if (c->client_cert_data.data) {
        struct curl_blob blob = { c->client_cert_data.data,
                                  c->client_cert_data.len, CURL_BLOB_COPY };

        curl_easy_setopt(easy, CURLOPT_SSLCERT_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLCERTTYPE, "PEM");
    } else if (c->client_cert_file) {
        curl_easy_setopt(easy, CURLOPT_SSLCERT, c->client_cert_file);
    }
    if (c->client_key_data.data) {
        struct curl_blob blob = { c->client_key_data.data,
                                  c->client_key_data.len, CURL_BLOB_COPY };

        curl_easy_setopt(easy, CURLOPT_SSLKEY_BLOB, &blob);
        curl_easy_setopt(easy, CURLOPT_SSLKEYTYPE, "PEM");
    } else if (c->client_key_file) {
        curl_easy_setopt(easy, CURLOPT_SSLKEY, c->client_key_file);
    }
}

static int setup_easy(CURL *easy, const kinf_client *client,
                      const struct kinf__request *req, const char *url,
                      struct curl_slist *headers, struct curl_slist *connect,
                      struct transfer *t, char *errbuf)
{
    CURLcode cc = CURLE_OK;

    cc |= curl_easy_setopt(easy, CURLOPT_URL, url);
    cc |= curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req->method);
    cc |= curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    cc |= curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    cc |= curl_easy_setopt(easy, CURLOPT_WRITEDATA, t);
    cc |= curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    cc |= curl_easy_setopt(easy, CURLOPT_HEADERDATA, t);
    cc |= curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    cc |= curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    cc |= curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    /* A half-open connection is found by TCP keep-alive even when the
       stall timer is off. */
    cc |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    cc |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPIDLE, 30L);
    cc |= curl_easy_setopt(easy, CURLOPT_TCP_KEEPINTVL, 10L);
    cc |= curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075700
    /* Without it, cleaning up a handle waits for a name lookup still in
       progress, and a stop could take as long as the resolver. */
    cc |= curl_easy_setopt(easy, CURLOPT_QUICK_EXIT, 1L);
#endif
    if (req->body) {
        cc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req->body);
        cc |= curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                               (curl_off_t)req->body_len);
    }
    if (connect) {
        cc |= curl_easy_setopt(easy, CURLOPT_CONNECT_TO, connect);
    }
    if (cc != CURLE_OK)
        return KINF_ENOMEM;
    setup_tls(easy, client);
    return 0;
}

static const char *reason_for(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "Unknown";
    }
}

/* The server's Retry-After in seconds, in either of its forms (a
   number, or an HTTP date that libcurl turns into seconds from now);
   0 if it sent none. */
static int retry_after(const struct transfer *t)
{
    curl_off_t seconds = 0;
    CURLcode rc = curl_easy_getinfo(t->easy, CURLINFO_RETRY_AFTER, &seconds);

    if (rc != CURLE_OK || seconds <= 0)
        return 0;
    return seconds > INT_MAX ? INT_MAX : (int)seconds;
}

static int code_for(long status, const char *reason)
{
    if (status == 404)
        return KINF_ENOTFOUND;
    if (status == 410 || (reason && (!strcmp(reason, "Expired") ||
                                     !strcmp(reason, "Gone"))))
        return KINF_EEXPIRED;
    return KINF_EHTTP;
}

int kinf__status_to_error(kinf_error *err, const json_t *status,
                          const char *method, const char *url)
{
    const char *reason = json_string_value(json_object_get(status,
                                                           "reason"));
    const char *message = json_string_value(json_object_get(status,
                                                            "message"));
    long code = (long)json_integer_value(json_object_get(status, "code"));
    int rc = code_for(code, reason);

    if (!reason || !*reason) {
        reason = reason_for(code);
    }
    if (!err)
        return rc;
    kinf__error(err, rc, "%s %s: %ld %s: %s", method, url, code, reason,
                message ? message : "(no message)");
    err->http_status = (int)code;
    kinf__strlcpy(err->reason, reason, sizeof(err->reason));
    kinf__error_request(err, method, url);
    return rc;
}

/* An error answer: the server's Status when the body is one, else the
   body text (429 answers are plain text) under a made-up reason. */
static int http_error(kinf_error *err, const struct transfer *t,
                      const char *method, const char *url)
{
    json_t *status = NULL;
    const char *kind;
    int rc;

    if (t->collected) {
        status = json_loadb(t->collected, t->collected_len, 0, NULL);
    }
    kind = json_string_value(json_object_get(status, "kind"));
    if (json_is_object(status) && kind && strcmp(kind, "Status") == 0) {
        json_object_set_new(status, "code", json_integer(t->status));
        rc = kinf__status_to_error(err, status, method, url);
    } else {
        const char *reason = reason_for(t->status);
        char text[256];
        size_t len = t->collected_len < sizeof(text) - 1
                         ? t->collected_len : sizeof(text) - 1;

        memcpy(text, t->collected ? t->collected : "", len);
        text[len] = '\0';
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) {
            text[--len] = '\0';
        }
        rc = code_for(t->status, reason);
        kinf__error(err, rc, "%s %s: %ld %s: %s", method, url, t->status,
                    reason, len ? text : "(empty body)");
        if (err) {
            err->http_status = (int)t->status;
            kinf__strlcpy(err->reason, reason, sizeof(err->reason));
            kinf__error_request(err, method, url);
        }
    }
    if (err) {
        err->retry_after = retry_after(t);
    }
    json_decref(status);
    return rc;
}

/* Drive the transfer, waking at least every 250 ms to check stop and
   the idle and total timers. */
static CURLcode run_multi(CURLM *multi, struct transfer *t,
                          struct kinf__cancel *cancel, int *why)
{
    int64_t start = kinf__now_ms();
    int running = 1;
    CURLMsg *msg;
    int left;

    *why = 0;
    while (running) {
        int64_t now;

        if (curl_multi_perform(multi, &running) != CURLM_OK)
            return CURLE_FAILED_INIT;
        if (!running)
            break;
        curl_multi_poll(multi, NULL, 0, 250, NULL);

        now = kinf__now_ms();
        if (kinf__cancelled(cancel)) {
            *why = KINF_ESTOPPED;
            return CURLE_ABORTED_BY_CALLBACK;
        }
        if (t->req->idle_timeout_ms > 0 &&
            now - t->last_byte_ms > t->req->idle_timeout_ms) {
            *why = KINF_ETIMEDOUT;
            return CURLE_OPERATION_TIMEDOUT;
        }
        if (t->req->total_timeout_ms > 0 &&
            now - start > t->req->total_timeout_ms) {
            *why = KINF_ETIMEDOUT;
            return CURLE_OPERATION_TIMEDOUT;
        }
    }
    while ((msg = curl_multi_info_read(multi, &left))) {
        if (msg->msg == CURLMSG_DONE)
            return msg->data.result;
    }
    return CURLE_OK;
}

static int transfer_result(CURLcode cc, int why, const struct transfer *t,
                           const struct kinf__request *req, const char *url,
                           const char *errbuf, kinf_error *err)
{
    int rc;

    if (why == KINF_ESTOPPED) {
        return kinf__error(err, KINF_ESTOPPED, "%s %s: stopped",
                           req->method, url);
    }
    if (t->too_large) {
        rc = kinf__error(err, KINF_EPROTOCOL,
                         "%s %s: answer larger than %zu bytes", req->method,
                         url, req->max_body_bytes);
        kinf__error_request(err, req->method, url);
        return rc;
    }
    if (t->callback_rc < 0)
        return t->callback_rc;
    if (why == KINF_ETIMEDOUT) {
        rc = kinf__error(err, KINF_ETIMEDOUT,
                         "%s %s: no data from the server for %lld ms",
                         req->method, url,
                         (long long)(req->idle_timeout_ms
                                         ? req->idle_timeout_ms
                                         : req->total_timeout_ms));
        kinf__error_request(err, req->method, url);
        return rc;
    }
    if (cc != CURLE_OK) {
        rc = kinf__error(err, KINF_ETRANSPORT, "%s %s: %s%s%s", req->method,
                         url, curl_easy_strerror(cc), *errbuf ? ": " : "",
                         errbuf);
        kinf__error_request(err, req->method, url);
        return rc;
    }
    if (t->status < 200 || t->status >= 300)
        return http_error(err, t, req->method, url);
    return 0;
}

static void set_active(struct kinf__cancel *cancel, CURLM *multi)
{
    if (cancel) {
        pthread_mutex_lock(&cancel->lock);
        cancel->active = multi;
        pthread_mutex_unlock(&cancel->lock);
    }
}

/* Run the transfer where a stop can wake it; *why says whether a stop
   or a timer ended it. */
static CURLcode perform(CURLM *multi, struct transfer *t,
                        struct kinf__cancel *cancel, int *why)
{
    CURLcode cc;

    set_active(cancel, multi);
    t->last_byte_ms = kinf__now_ms();
    curl_multi_add_handle(multi, t->easy);
    cc = kinf__cancelled(cancel) ? CURLE_ABORTED_BY_CALLBACK
                                 : run_multi(multi, t, cancel, why);
    if (kinf__cancelled(cancel)) {
        *why = KINF_ESTOPPED;
    }
    curl_multi_remove_handle(multi, t->easy);
    set_active(cancel, NULL);
    if (!t->status) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
    }
    return cc;
}

int kinf__client_do(kinf_client *client, const struct kinf__request *req,
                    struct kinf__response *resp, struct kinf__cancel *cancel,
                    kinf_error *err)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    struct transfer t = { .req = req, .resp = resp };
    struct curl_slist *headers = NULL;
    struct curl_slist *connect = NULL;
    CURLM *multi = NULL;
    char *url = NULL;
    CURLcode cc;
    int why = 0;
    int rc;

    url = kinf__asprintf("%s%s", client->base_url, req->path);
    t.easy = curl_easy_init();
    multi = curl_multi_init();
    if (!url || !t.easy || !multi) {
        rc = kinf__error(err, KINF_ENOMEM, "out of memory");
        goto out;
    }
    rc = build_headers(&headers, client, req, err);
    if (rc < 0)
        goto out;
    if (client->connect_to) {
        connect = curl_slist_append(NULL, client->connect_to);
        if (!connect) {
            rc = kinf__error(err, KINF_ENOMEM, "out of memory");
            goto out;
        }
    }
    rc = setup_easy(t.easy, client, req, url, headers, connect, &t, errbuf);
    if (rc < 0) {
        kinf__error(err, rc, "%s %s: cannot set up the transfer",
                    req->method, url);
        goto out;
    }

    KINF__LOG(&client->logger, KINF_LOG_TRACE, "http", "%s %s",
              req->method, url);
    cc = perform(multi, &t, cancel, &why);
    if (resp) {
        resp->status = t.status;
    }
    KINF__LOG(&client->logger, KINF_LOG_TRACE, "http", "%s %s -> %ld",
              req->method, url, t.status);

    rc = transfer_result(cc, why, &t, req, url, errbuf, err);
    if (rc == 0 && resp && !req->on_body) {
        resp->body = t.collected;
        resp->body_len = t.collected_len;
        t.collected = NULL;
    }

out:
    free(t.collected);
    curl_slist_free_all(headers);
    curl_slist_free_all(connect);
    if (t.easy) {
        curl_easy_cleanup(t.easy);
    }
    if (multi) {
        curl_multi_cleanup(multi);
    }
    free(url);
    return rc;
}

void kinf__response_clear(struct kinf__response *resp)
{
    free(resp->body);
    memset(resp, 0, sizeof(*resp));
}

int kinf_client_request(json_t **out, kinf_client *client,
                        const char *method, const char *path,
                        const char *content_type, const json_t *body,
                        kinf_error *err)
{
    struct kinf__response resp = {0};
    struct kinf__request req = {0};
    char *text = NULL;
    json_t *parsed = NULL;
    int rc;

    if (!client || !method || !path || path[0] != '/') {
        return kinf__error(err, KINF_EINVAL,
                           "request: method and an absolute path needed");
    }
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text)
            return kinf__error(err, KINF_ENOMEM, "out of memory");
    }
    req.method = method;
    req.path = path;
    req.content_type = content_type;
    req.body = text;
    req.body_len = text ? strlen(text) : 0;
    req.total_timeout_ms = 60000;

    rc = kinf__client_do(client, &req, &resp, NULL, err);
    free(text);
    if (rc < 0)
        goto out;
    if (resp.body_len > 0) {
        json_error_t jerr;

        parsed = json_loadb(resp.body, resp.body_len, 0, &jerr);
        if (!parsed) {
            rc = kinf__error(err, KINF_EPROTOCOL,
                             "%s %s: answer is not JSON: %s", method, path,
                             jerr.text);
            goto out;
        }
    }
    if (out) {
        *out = parsed;
    } else {
        json_decref(parsed);
    }

out:
    kinf__response_clear(&resp);
    return rc;
}

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static int global_refs;          /* guarded by global_lock */

int kinf_global_init(void)
{
    int rc = 0;

    pthread_mutex_lock(&global_lock);
    if (global_refs == 0 && curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        rc = KINF_ERROR;
    }
    if (rc == 0) {
        global_refs++;
    }
    pthread_mutex_unlock(&global_lock);
    return rc;
}

void kinf_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_refs > 0 && --global_refs == 0) {
        curl_global_cleanup();
    }
    pthread_mutex_unlock(&global_lock);
}
