/* SPDX-License-Identifier: MIT */
/* config.h - the resolved connection settings the client consumes */
#ifndef KINF_LIB_CONFIG_H
#define KINF_LIB_CONFIG_H

#include <kinformer/config.h>

/* Bytes decoded from a kubeconfig "-data" field (PEM text). */
struct kinf__blob {
    unsigned char *data;
    size_t len;
};

/* Every string is owned by the config; NULL when absent. */
struct kinf_config {
    char *source;            /* kubeconfig path it came from */
    char *context;
    char *cluster;
    char *user;
    char *namespace_;        /* "default" when the context has none */
    char *server;
    char *tls_server_name;
    bool insecure_skip_tls_verify;
    char *ca_file;           /* absolute, or NULL */
    struct kinf__blob ca_data;
    char *client_cert_file;
    struct kinf__blob client_cert_data;
    char *client_key_file;
    struct kinf__blob client_key_data;
    char *token;             /* wins over token_file */
    char *token_file;
};

/* A deep copy, for a client that outlives its caller's config. Free it
   with kinf_config_free(). Returns 0 or KINF_ENOMEM. */
int kinf__config_copy(struct kinf_config **out,
                      const struct kinf_config *src);

#endif
