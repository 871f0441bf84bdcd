/*
 * core/strmap.h: a hash map from strings (node names, registry names) to
 * non-negative integers (indices into the owner's arrays), open addressing
 * over XXH3 hashes.  Keys are copied.  Iteration order is not exposed.
 */
#ifndef CS_STRMAP_H
#define CS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

/* Keys shorter than this live in the slot itself (node names such as
 * app@10.0.0.12 do), so a hit reads one slot and a put allocates nothing;
 * longer keys are copied to the heap.  A slot is 32 bytes, two a cache
 * line. */
#define CS_STRMAP_INLINE 20

struct cs_strmap_slot {
    uint32_t hash;    /* the key's XXH3, low 32 bits: its home slot, and the
                         first filter before the key is compared */
    int32_t value;    /* -1: tombstone (the key is kept until a rehash) */
    uint32_t len;     /* key length; UINT32_MAX: empty slot */
    char key[CS_STRMAP_INLINE]; /* the key, or (a longer one) its heap copy's
                                   address, copied in and out with memcpy */
};

struct cs_strmap {
    struct cs_strmap_slot *slots;
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
