/* SPDX-License-Identifier: MIT */
/* common.h - export macro, C++ guards and forward type declarations */
#ifndef KINF_COMMON_H
#define KINF_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) && __GNUC__ >= 4
#  define KINF_API __attribute__((visibility("default")))
#else
#  define KINF_API
#endif

#ifdef __cplusplus
#  define KINF_BEGIN_DECLS extern "C" {
#  define KINF_END_DECLS }
#else
#  define KINF_BEGIN_DECLS
#  define KINF_END_DECLS
#endif

KINF_BEGIN_DECLS

typedef struct kinf_config kinf_config;
typedef struct kinf_client kinf_client;
typedef struct kinf_object kinf_object;
typedef struct kinf_store kinf_store;
typedef struct kinf_informer kinf_informer;
typedef struct kinf_registration kinf_registration;
typedef struct kinf_error kinf_error;

/** Releases the user_data given with a callback table. */
typedef void (*kinf_free_fn)(void *user_data);

/**
 * Free memory the library returned and documented as "free with
 * kinf_free()".
 *
 * @param ptr  memory to release; NULL is a no-op
 *
 * Ownership: takes ptr.
 * Threads: any thread.
 */
KINF_API void kinf_free(void *ptr);

/**
 * Process-wide set-up (libcurl's global state). Reference counted: every
 * successful call needs one kinf_global_cleanup().
 *
 * @return 0 or a negative kinf_status
 *
 * Ownership: none.
 * Threads: main thread before other threads start.
 */
KINF_API int kinf_global_init(void);

/**
 * Undo one kinf_global_init().
 *
 * Ownership: none.
 * Threads: main thread after every client is freed.
 */
KINF_API void kinf_global_cleanup(void);

KINF_END_DECLS

#endif
