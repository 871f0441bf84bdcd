/*
 * core/strmap.h: a hash map from strings (node names, registry names) to
 * non-negative integers (indices into the owner's arrays), open addressing
 * over XXH3 hashes.  Keys are copied.  Iteration order is not exposed.
 */
#ifndef CS_STRMAP_H
#define CS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct cs_strmap {
    char **keys;      /* NULL: empty slot */
    int32_t *values;  /* -1 with a key: tombstone */
    uint64_t *hashes;
    size_t capacity, count, used; /* used counts tombstones too */
};

/* Prepares an empty map. */
void cs_strmap_init(struct cs_strmap *m);
/* Frees the map and its copies of the keys. */
void cs_strmap_free(struct cs_strmap *m);
/* Empties the map but keeps its table for reuse. */
void cs_strmap_clear(struct cs_strmap *m);
/* Sets key -> value (value >= 0); 0 on success, -1 out of memory. */
int cs_strmap_put(struct cs_strmap *m, const char *key, int32_t value);
/* The value of key, or -1. */
int32_t cs_strmap_get(const struct cs_strmap *m, const char *key);
/* Removes key if present. */
void cs_strmap_del(struct cs_strmap *m, const char *key);

#endif
