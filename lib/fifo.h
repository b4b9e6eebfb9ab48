/* SPDX-License-Identifier: MIT */
/* fifo.h - the DeltaFIFO: per-key ordered changes, popped key by key */
#ifndef KINF_LIB_FIFO_H
#define KINF_LIB_FIFO_H

#include <kinformer/object.h>
#include <kinformer/store.h>

enum kinf__delta_type {
    KINF__DELTA_ADDED,
    KINF__DELTA_UPDATED,
    KINF__DELTA_DELETED,
    KINF__DELTA_REPLACED,
    KINF__DELTA_SYNC
};

struct kinf__delta {
    enum kinf__delta_type type;
    kinf_object *obj;       /* one reference; NULL only for a tombstone
                               whose last state is unknown */
    bool tombstone;         /* Deleted, final state unknown: the object
                               vanished between two lists */
};

/* All pending changes of one key, oldest first. */
struct kinf__deltas {
    char *key;
    struct kinf__delta *items;
    size_t count;
    size_t cap;
};

/* Called by pop with the FIFO lock held, so that the store update and
   the next enqueue cannot interleave. Must not call back into the FIFO. */
typedef int (*kinf__process_fn)(const struct kinf__deltas *deltas,
                                bool in_initial_list, void *user_data);

struct kinf__fifo;

/* known is the informer's indexer, consulted for deletes and relists;
   it may be NULL. */
struct kinf__fifo *kinf__fifo_new(kinf_store *known);
void kinf__fifo_free(struct kinf__fifo *fifo);

int kinf__fifo_add(struct kinf__fifo *fifo, kinf_object *obj);
int kinf__fifo_update(struct kinf__fifo *fifo, kinf_object *obj);
/* Ignored when the key is neither queued nor known: a watch delete that
   a relist already reported must not be reported twice. */
int kinf__fifo_delete(struct kinf__fifo *fifo, kinf_object *obj);
/* The list is the new truth: Replaced for each item, tombstones for
   every queued or known key that is not in it. */
int kinf__fifo_replace(struct kinf__fifo *fifo, kinf_object *const *objs,
                       size_t count);
/* Sync for every known key without pending changes. */
int kinf__fifo_resync(struct kinf__fifo *fifo);

/* Block until a key is queued, then hand its deltas to fn. Returns fn's
   value, or KINF_ESTOPPED once the FIFO is closed. */
int kinf__fifo_pop(struct kinf__fifo *fifo, kinf__process_fn fn,
                   void *user_data);

void kinf__fifo_close(struct kinf__fifo *fifo);
/* Forget everything and accept work again (for a restarted informer). */
void kinf__fifo_reopen(struct kinf__fifo *fifo);
bool kinf__fifo_has_synced(struct kinf__fifo *fifo);
size_t kinf__fifo_len(struct kinf__fifo *fifo);

const char *kinf__delta_type_name(enum kinf__delta_type type);

#endif
