/*
 * core/refmap.c: linear probing with tombstones over one array of 16-byte
 * slots; doubles (or rehashes in place when mostly tombstones) past half
 * load.  A tombstone's key may have been freed by the caller: it is
 * skipped before its key is compared, and a rehash drops it.
 */
#include "refmap.h"

#include "grow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

_Static_assert(sizeof(void *) != 8 || sizeof(struct cs_refmap_slot) == 16, "four slots a cache line");

static uint32_t key_hash(const char *key)
{
    return (uint32_t)XXH3_64bits(key, strlen(key));
}

void cs_refmap_init(struct cs_refmap *m)
{
    memset(m, 0, sizeof *m);
}

void cs_refmap_free(struct cs_refmap *m)
{
    free(m->slots);
    cs_refmap_init(m);
}

void cs_refmap_clear(struct cs_refmap *m)
{
    for (size_t i = 0; i < m->capacity; i++)
        m->slots[i].key = NULL;
    m->count = m->used = 0;
}

static int rehash(struct cs_refmap *m, size_t capacity)
{
    struct cs_refmap_slot *slots = calloc(capacity, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->capacity; i++) {
        const struct cs_refmap_slot *old = &m->slots[i];
        if (!old->key || old->value < 0)
            continue;
        size_t s = (size_t)old->hash & (capacity - 1);
        while (slots[s].key)
            s = (s + 1) & (capacity - 1);
        slots[s] = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->capacity = capacity;
    m->used = m->count;
    return 0;
}

/* The slot holding key, or SIZE_MAX. */
static size_t find(const struct cs_refmap *m, const char *key, uint32_t h)
{
    if (!m->capacity)
        return SIZE_MAX;
    size_t s = (size_t)h & (m->capacity - 1);
    for (const struct cs_refmap_slot *slot; (slot = &m->slots[s])->key; s = (s + 1) & (m->capacity - 1))
        if (slot->hash == h && slot->value >= 0 && strcmp(slot->key, key) == 0)
            return s;
    return SIZE_MAX;
}

int cs_refmap_put(struct cs_refmap *m, const char *key, int32_t value)
{
    uint32_t h = key_hash(key);
    size_t s = find(m, key, h);
    if (s != SIZE_MAX) {
        m->slots[s].value = value;
        m->slots[s].key = key;
        return 0;
    }
    size_t cap;
    if (cs_probe_rehash(m->count, m->used, m->capacity, &cap) && rehash(m, cap) != 0)
        return -1;
    s = (size_t)h & (m->capacity - 1);
    while (m->slots[s].key)
        s = (s + 1) & (m->capacity - 1);
    m->slots[s] = (struct cs_refmap_slot){h, value, key};
    m->count++;
    m->used++;
    return 0;
}

int32_t cs_refmap_get(const struct cs_refmap *m, const char *key)
{
    size_t s = find(m, key, key_hash(key));
    return s == SIZE_MAX ? -1 : m->slots[s].value;
}

void cs_refmap_del(struct cs_refmap *m, const char *key)
{
    size_t s = find(m, key, key_hash(key));
    if (s == SIZE_MAX)
        return;
    m->slots[s].value = -1; /* tombstone: keeps probe chains intact */
    m->count--;
}
