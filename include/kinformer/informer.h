/* SPDX-License-Identifier: MIT */
/* informer.h - shared informers: a live cache plus change callbacks */
#ifndef KINF_INFORMER_H
#define KINF_INFORMER_H

#include <kinformer/common.h>
#include <kinformer/error.h>
#include <kinformer/object.h>
#include <kinformer/store.h>

KINF_BEGIN_DECLS

/*
 * An informer keeps a store equal to the server's view of one resource
 * (list, then watch, relisting when needed) and tells every registered
 * handler about each change. Each handler has its own thread and an
 * unbounded queue: a slow handler never delays the others or the cache.
 * One handler sees its notifications one at a time, in the order the
 * cache changed. No library lock is held while a handler runs.
 */

/**
 * What to watch and how patiently. Zero fields take the defaults, which
 * are client-go's. Fill with KINF_INFORMER_OPTIONS_INIT, then set
 * fields by name.
 */
typedef struct kinf_informer_options {
    unsigned int version;          /* KINF_INFORMER_OPTIONS_VERSION */
    const char *api_group;         /* "" or NULL: the core group */
    const char *api_version;       /* e.g. "v1" */
    const char *resource;          /* plural name, e.g. "pods" */
    const char *namespace_;        /* NULL or "": all namespaces */
    const char *label_selector;    /* e.g. "app=web"; NULL: everything */
    const char *field_selector;    /* e.g. "spec.nodeName=n1" */
    long page_size;                /* list page size; 0: 500 */
    int64_t initial_backoff_ms;    /* first retry wait; 0: 800 */
    int64_t max_backoff_ms;        /* retry wait cap; 0: 30000 */
    int64_t backoff_reset_ms;      /* calm that resets waits; 0: 120000 */
    long min_watch_timeout_s;      /* watch timeoutSeconds is drawn in
                                      [min, 2 min); 0: 300. Unlike
                                      client-go, values under 300 are
                                      honoured, for tests */
    int64_t watch_stall_timeout_ms; /* drop a watch silent this long;
                                       0: its timeout plus 30 s */
    size_t max_event_bytes;        /* largest watch event; 0: 256 MiB */
} kinf_informer_options;

#define KINF_INFORMER_OPTIONS_VERSION 1
#define KINF_INFORMER_OPTIONS_INIT \
    { KINF_INFORMER_OPTIONS_VERSION, NULL, "v1", NULL, NULL, NULL, NULL, \
      0, 0, 0, 0, 0, 0, 0 }

/**
 * A handler: callbacks for changes, each optional (NULL: not
 * interested). user_data, given at registration, is the last argument
 * of every callback. Objects are borrowed: valid until the callback
 * returns; take a reference (kinf_object_ref) to keep one.
 *
 * An update whose old and new objects have the same resourceVersion (a
 * relist that changed nothing) is not delivered.
 */
typedef struct kinf_handler {
    unsigned int version;          /* KINF_HANDLER_VERSION */

    /* A new object. in_initial_list is true for the objects of the first
       list, and for every cached object a late handler is told about. */
    void (*on_add)(const kinf_object *obj, bool in_initial_list,
                   void *user_data);

    void (*on_update)(const kinf_object *old_obj,
                      const kinf_object *new_obj, void *user_data);

    /* key is always given. final_state_unknown is true for a tombstone:
       the object vanished while the watch was down, and last_known is
       the last state the cache had (NULL if it had none). */
    void (*on_delete)(const char *key, const kinf_object *last_known,
                      bool final_state_unknown, void *user_data);

    /* A list or watch failed; the informer retries by itself. */
    void (*on_error)(const kinf_error *err, void *user_data);
} kinf_handler;

#define KINF_HANDLER_VERSION 1
#define KINF_HANDLER_INIT { KINF_HANDLER_VERSION, NULL, NULL, NULL, NULL }

/**
 * Make an informer for one resource.
 *
 * @param out     receives the informer; untouched on failure
 * @param client  the client to use; must outlive the informer
 * @param opts    what to watch; strings are copied
 * @param err     optional
 * @return 0, KINF_EINVAL or KINF_ENOMEM
 *
 * Ownership: *out is new; release it with kinf_informer_free().
 * Threads: any thread.
 */
KINF_API int kinf_informer_new(kinf_informer **out, kinf_client *client,
                               const kinf_informer_options *opts,
                               kinf_error *err);

/**
 * Stop the informer if it runs, then free it with its store and
 * registrations (their free_user_data functions run). NULL is a no-op.
 *
 * Ownership: takes informer.
 * Threads: not from a callback of this informer.
 */
KINF_API void kinf_informer_free(kinf_informer *informer);

/**
 * Register a handler, before or after start. Registered after start, it
 * first gets an add (in_initial_list true) for every cached object.
 *
 * @param out             receives the registration (may be NULL)
 * @param handler         callbacks; copied
 * @param user_data       passed to every callback
 * @param free_user_data  called on user_data when the registration ends
 *                        (may be NULL)
 * @return 0, KINF_EINVAL (unknown handler version) or KINF_ENOMEM
 *
 * Ownership: *out is borrowed from the informer; valid until it is
 * removed or the informer is freed.
 * Threads: any thread, including callbacks.
 */
KINF_API int kinf_informer_add_handler(kinf_registration **out,
                                       kinf_informer *informer,
                                       const kinf_handler *handler,
                                       void *user_data,
                                       kinf_free_fn free_user_data);

/**
 * Remove a registration. Its pending notifications are dropped. Called
 * from outside any handler, it returns once a callback of the removed
 * handler that is running has finished, and its free_user_data has run.
 * Called from a handler (of any informer), it does not wait, so that
 * handlers removing each other cannot deadlock: the removed handler's
 * running callback, if any, finishes after, then free_user_data runs.
 *
 * @return 0 or KINF_ENOTFOUND
 *
 * Ownership: ends reg.
 * Threads: any thread, including callbacks.
 */
KINF_API int kinf_informer_remove_handler(kinf_informer *informer,
                                          kinf_registration *reg);

/**
 * True once the informer has synced and this handler has been told of
 * every object of the first list.
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API bool kinf_registration_has_synced(const kinf_registration *reg);

/**
 * Start listing and watching in background threads. An informer that
 * was stopped may be started again: it relists and reports what changed
 * meanwhile.
 *
 * @return 0, KINF_EBUSY (already running) or KINF_ERROR
 *
 * Ownership: none.
 * Threads: not from a callback of this informer.
 */
KINF_API int kinf_informer_start(kinf_informer *informer, kinf_error *err);

/**
 * True once the first list has been stored and passed to the handlers'
 * queues.
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API bool kinf_informer_has_synced(kinf_informer *informer);

/**
 * Wait until the informer and every registered handler have synced.
 *
 * @param timeout_ms  how long to wait; negative: forever
 * @param err         optional; on timeout holds the last list or watch
 *                    error, if any
 * @return 0, KINF_ETIMEDOUT or KINF_ESTOPPED
 *
 * Ownership: none.
 * Threads: not from a callback of this informer.
 */
KINF_API int kinf_informer_wait_for_sync(kinf_informer *informer,
                                         int64_t timeout_ms,
                                         kinf_error *err);

/**
 * Stop every thread of the informer and wait for them. Prompt: an open
 * watch or a backoff wait is interrupted. A stop already in progress on
 * another thread is waited for. Called from a handler (of any
 * informer), it does not wait for handler threads, which may be waiting
 * for it: they end once their callbacks return, and the next start or
 * free waits for them.
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API void kinf_informer_stop(kinf_informer *informer);

/**
 * The informer's cache.
 *
 * Ownership: borrowed; valid until kinf_informer_free(). Only read it.
 * Threads: any thread.
 */
KINF_API kinf_store *kinf_informer_store(kinf_informer *informer);

/**
 * The last resourceVersion the informer has seen (from a list, an event
 * or a bookmark), "" before the first list.
 *
 * @param buf   receives the version, always NUL-terminated
 * @param size  size of buf
 *
 * Ownership: none.
 * Threads: any thread.
 */
KINF_API void kinf_informer_last_resource_version(kinf_informer *informer,
                                                  char *buf, size_t size);

KINF_END_DECLS

#endif
