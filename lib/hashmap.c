/* SPDX-License-Identifier: MIT */
/* hashmap.c - chained hash map from strings to pointers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hashmap.h"
#include "internal.h"

struct entry {
    struct entry *next;
    size_t hash;
    void *value;
    char key[];
};

struct kinf__map {
    struct entry **buckets;
    size_t nbuckets;      /* a power of two */
    size_t size;
};

static size_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return (size_t)h;
}

struct kinf__map *kinf__map_new(void)
{
    struct kinf__map *map = calloc(1, sizeof(*map));

    if (!map)
        return NULL;
    map->nbuckets = 16;
    map->buckets = calloc(map->nbuckets, sizeof(*map->buckets));
    if (!map->buckets) {
        free(map);
        return NULL;
    }
    return map;
}

void kinf__map_free(struct kinf__map *map, void (*free_value)(void *))
{
    if (!map)
        return;
    for (size_t i = 0; i < map->nbuckets; i++) {
        struct entry *e = map->buckets[i];

        while (e) {
            struct entry *next = e->next;

            if (free_value) {
                free_value(e->value);
            }
            free(e);
            e = next;
        }
    }
    free(map->buckets);
    free(map);
}

static struct entry **find_slot(const struct kinf__map *map, const char *key,
                                size_t hash)
{
    struct entry **slot = &map->buckets[hash & (map->nbuckets - 1)];

    while (*slot && ((*slot)->hash != hash || strcmp((*slot)->key, key))) {
        slot = &(*slot)->next;
    }
    return slot;
}

void *kinf__map_get(const struct kinf__map *map, const char *key)
{
    struct entry *e = *find_slot(map, key, hash_string(key));

    return e ? e->value : NULL;
}

/* Double the bucket array once the load factor passes 1. */
static void grow(struct kinf__map *map)
{
    size_t n = map->nbuckets * 2;
    struct entry **buckets = calloc(n, sizeof(*buckets));

    if (!buckets)
        return;   /* keep working with longer chains */
    for (size_t i = 0; i < map->nbuckets; i++) {
        struct entry *e = map->buckets[i];

        while (e) {
            struct entry *next = e->next;
            size_t b = e->hash & (n - 1);

            e->next = buckets[b];
            buckets[b] = e;
            e = next;
        }
    }
    free(map->buckets);
    map->buckets = buckets;
    map->nbuckets = n;
}

int kinf__map_put(struct kinf__map *map, const char *key, void *value,
                  void **old)
{
    size_t hash = hash_string(key);
    struct entry **slot = find_slot(map, key, hash);
    size_t len;

    if (*slot) {
        if (old) {
            *old = (*slot)->value;
        }
        (*slot)->value = value;
        return 0;
    }

    len = strlen(key) + 1;
    *slot = malloc(sizeof(**slot) + len);
    if (!*slot)
        return KINF_ENOMEM;
    (*slot)->next = NULL;
    (*slot)->hash = hash;
    (*slot)->value = value;
    memcpy((*slot)->key, key, len);
    if (old) {
        *old = NULL;
    }

    if (++map->size > map->nbuckets) {
        grow(map);
    }
    return 0;
}

void *kinf__map_remove(struct kinf__map *map, const char *key)
{
    struct entry **slot = find_slot(map, key, hash_string(key));
    struct entry *e = *slot;
    void *value;

    if (!e)
        return NULL;
    *slot = e->next;
    value = e->value;
    free(e);
    map->size--;
    return value;
}

size_t kinf__map_size(const struct kinf__map *map)
{
    return map->size;
}

int kinf__map_next(const struct kinf__map *map, struct kinf__map_iter *it,
                   const char **key, void **value)
{
    struct entry *e = it->entry;

    e = e ? e->next : NULL;
    while (!e && it->bucket < map->nbuckets) {
        e = map->buckets[it->bucket++];
    }
    it->entry = e;
    if (!e)
        return 0;
    if (key) {
        *key = e->key;
    }
    if (value) {
        *value = e->value;
    }
    return 1;
}
