/* SPDX-License-Identifier: MIT */
/* config.h - where the API server is and how to authenticate to it */
#ifndef KINF_CONFIG_H
#define KINF_CONFIG_H

#include <kinformer/common.h>

KINF_BEGIN_DECLS

/**
 * Load a kubeconfig file and resolve one context of it.
 *
 * The file is, in order: path when not NULL; else the first entry of
 * $KUBECONFIG (a ':'-separated list whose files are merged, the first
 * definition of a name winning, missing files skipped); else
 * ~/.kube/config. The context is context_name when not NULL, else the
 * file's current-context. Relative certificate, key and token-file paths
 * resolve against the directory of the file that named them. A -data
 * field wins over its path variant; token wins over tokenFile.
 *
 * @param out           receives the configuration; untouched on failure
 * @param path          kubeconfig file, or NULL for the default search
 * @param context_name  context to use, or NULL for current-context
 * @param err           optional; on failure names the file and the field
 *                      (with line and column where known)
 * @return 0, KINF_ECONFIG, KINF_ENOMEM or KINF_EINVAL
 *
 * Ownership: *out is new; release it with kinf_config_free().
 * Threads: any thread.
 */
KINF_API int kinf_config_load_kubeconfig(kinf_config **out,
                                         const char *path,
                                         const char *context_name,
                                         kinf_error *err);

/**
 * Release a configuration.
 *
 * @param config  configuration to free; NULL is a no-op
 *
 * Ownership: takes config.
 * Threads: any thread.
 */
KINF_API void kinf_config_free(kinf_config *config);

/**
 * The API server URL, e.g. "https://127.0.0.1:6443".
 *
 * Ownership: borrowed; valid until kinf_config_free().
 * Threads: any thread.
 */
KINF_API const char *kinf_config_server(const kinf_config *config);

/**
 * The namespace of the selected context, "default" when it names none.
 *
 * Ownership: borrowed; valid until kinf_config_free().
 * Threads: any thread.
 */
KINF_API const char *kinf_config_namespace(const kinf_config *config);

/**
 * The name of the selected context.
 *
 * Ownership: borrowed; valid until kinf_config_free().
 * Threads: any thread.
 */
KINF_API const char *kinf_config_context(const kinf_config *config);

/**
 * The kubeconfig file the configuration was read from.
 *
 * Ownership: borrowed; valid until kinf_config_free().
 * Threads: any thread.
 */
KINF_API const char *kinf_config_source(const kinf_config *config);

KINF_END_DECLS

#endif
