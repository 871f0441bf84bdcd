/*
 * core/idmap.h: a small open-addressing hash map from 32-bit handles (link,
 * timer or query ids) to non-negative integers, used by protocols to find
 * the peer an event is about in O(1).  Iteration order is never exposed, so
 * it cannot leak into behaviour.
 */
#ifndef CS_IDMAP_H
#define CS_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cs_idmap {
    uint32_t *keys;   /* 0 marks an empty slot */
    int32_t *values;
    size_t capacity;  /* a power of two */
    size_t count;
};

/* Prepares an empty map; no allocation until the first insert. */
void cs_idmap_init(struct cs_idmap *map);
/* Frees the map's storage. */
void cs_idmap_free(struct cs_idmap *map);
/* Sets key -> value (key must be non-zero); 0 on success, -1 out of memory. */
int cs_idmap_put(struct cs_idmap *map, uint32_t key, int32_t value);
/* The value for key, or -1 when absent. */
int32_t cs_idmap_get(const struct cs_idmap *map, uint32_t key);
/* Removes key if present. */
void cs_idmap_del(struct cs_idmap *map, uint32_t key);

#endif
