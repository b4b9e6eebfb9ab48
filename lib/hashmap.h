/* SPDX-License-Identifier: MIT */
/* hashmap.h - string-keyed hash map used by the store, indexes and FIFO */
#ifndef KINF_LIB_HASHMAP_H
#define KINF_LIB_HASHMAP_H

#include <stddef.h>

/* Not thread-safe: every user guards its map with its own lock. */
struct kinf__map;

struct kinf__map_iter {
    size_t bucket;
    void *entry;
};

struct kinf__map *kinf__map_new(void);

/* Frees the map; free_value (may be NULL) runs on every value. */
void kinf__map_free(struct kinf__map *map, void (*free_value)(void *));

void *kinf__map_get(const struct kinf__map *map, const char *key);

/* Insert or replace; the key is copied. *old (if not NULL) receives the
   value replaced, or NULL. Returns 0 or KINF_ENOMEM. */
int kinf__map_put(struct kinf__map *map, const char *key, void *value,
                  void **old);

/* Remove key; returns its value or NULL when absent. */
void *kinf__map_remove(struct kinf__map *map, const char *key);

size_t kinf__map_size(const struct kinf__map *map);

/* Iterate: zero the iterator, then call until it returns 0. The map
   must not change during the walk. */
int kinf__map_next(const struct kinf__map *map, struct kinf__map_iter *it,
                   const char **key, void **value);

#endif
