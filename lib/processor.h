/* SPDX-License-Identifier: MIT */
/* processor.h - fan-out of notifications to per-handler threads */
#ifndef KINF_LIB_PROCESSOR_H
#define KINF_LIB_PROCESSOR_H

#include <pthread.h>

#include <kinformer/informer.h>

enum kinf__note_type {
    KINF__NOTE_ADD,
    KINF__NOTE_UPDATE,
    KINF__NOTE_DELETE,
    KINF__NOTE_ERROR
};

/* One notification; the processor takes its own references. */
struct kinf__note {
    enum kinf__note_type type;
    kinf_object *old_obj;       /* UPDATE */
    kinf_object *obj;           /* ADD, UPDATE, DELETE (may be NULL) */
    const char *key;            /* DELETE */
    bool flag;                  /* ADD: in initial list;
                                   DELETE: final state unknown */
    const kinf_error *err;      /* ERROR */
};

struct kinf__processor;

/* source_synced tells whether the informer feeding the processor has
   synced; a registration has synced when that holds and its handler
   was told of every object of the initial list. */
struct kinf__processor *kinf__processor_new(bool (*source_synced)(void *),
                                            void *user_data);
/* Stops the listeners and frees them (running free_user_data). */
void kinf__processor_free(struct kinf__processor *p);

/* Blocks distribution: the informer holds it while it updates the store
   and distributes, so that a late handler's snapshot of the store and
   the notifications after it never overlap or miss. */
void kinf__processor_lock(struct kinf__processor *p);
void kinf__processor_unlock(struct kinf__processor *p);

/* With the processor locked: queue note for every listener. */
int kinf__processor_distribute(struct kinf__processor *p,
                               const struct kinf__note *note);

/* With the processor locked: add a listener, with a thread if the
   processor runs; initial holds the cached objects it must first be
   told about (late registration). */
int kinf__processor_add(struct kinf__processor *p,
                        kinf_registration **out,
                        const kinf_handler *handler, void *user_data,
                        kinf_free_fn free_user_data,
                        kinf_object *const *initial, size_t count);

int kinf__processor_remove(struct kinf__processor *p,
                           kinf_registration *reg);

/* Start the listener threads that are not running. Not from a listener
   thread. */
int kinf__processor_run(struct kinf__processor *p);
/* Signal every listener thread to end and wait for them, unless called
   from a listener thread: those never wait for each other. */
void kinf__processor_stop(struct kinf__processor *p);

/* Every listener has delivered its initial-list notifications. */
bool kinf__processor_initial_delivered(struct kinf__processor *p);

/* The calling thread is one of the listener threads. */
bool kinf__processor_is_listener_thread(struct kinf__processor *p);

bool kinf__registration_initial_delivered(const kinf_registration *reg);
bool kinf__registration_has_synced(const kinf_registration *reg);

#endif
