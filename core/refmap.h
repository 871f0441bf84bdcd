/*
 * core/refmap.h: a hash map from strings the caller keeps (node names held
 * in the owner's own arrays) to non-negative integers, open addressing over
 * XXH3 hashes.  Unlike cs_strmap it copies no key: a slot is 16 bytes (the
 * hash, the value and the key's address), half of cs_strmap's, for the
 * tables of a thousand peer names every node keeps in several layers.
 * Iteration order is not exposed.
 */
#ifndef CS_REFMAP_H
#define CS_REFMAP_H

#include <stddef.h>
#include <stdint.h>

struct cs_refmap_slot {
    uint32_t hash;   /* the key's XXH3, low 32 bits: its home slot, and the
                        first filter before the key is compared */
    int32_t value;   /* -1: tombstone (its key is never read again) */
    const char *key; /* the caller's string; NULL: empty slot */
};

struct cs_refmap {
    struct cs_refmap_slot *slots;
    size_t capacity, count, used; /* used counts tombstones too */
};

/* Prepares an empty map. */
void cs_refmap_init(struct cs_refmap *m);
/* Frees the map (not the keys, which are the caller's). */
void cs_refmap_free(struct cs_refmap *m);
/* Empties the map but keeps its table for reuse. */
void cs_refmap_clear(struct cs_refmap *m);
/* Sets key -> value (value >= 0), keeping the address `key`, which must
 * stay valid and unchanged until the key is removed or the map cleared or
 * freed (putting a key already present takes the new address); 0 on
 * success, -1 out of memory. */
int cs_refmap_put(struct cs_refmap *m, const char *key, int32_t value);
/* The value of key (any string equal to a kept one), or -1. */
int32_t cs_refmap_get(const struct cs_refmap *m, const char *key);
/* Removes key if present (the caller may free its string afterwards). */
void cs_refmap_del(struct cs_refmap *m, const char *key);

#endif
