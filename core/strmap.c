/*
 * core/strmap.c: linear probing with tombstones over one array of slots;
 * doubles (or rehashes in place when mostly tombstones) past half load.
 */
#include "strmap.h"

#include "grow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

#define EMPTY UINT32_MAX

_Static_assert(CS_STRMAP_INLINE >= sizeof(char *), "a slot's key bytes hold a heap copy's address");
_Static_assert(sizeof(struct cs_strmap_slot) == 32, "two slots a cache line");

static bool is_inline(uint32_t len)
{
    return len < CS_STRMAP_INLINE;
}

/* A longer key's heap copy (its address lies in the slot's key bytes). */
static char *heap_key(const struct cs_strmap_slot *s)
{
    char *p;
    memcpy(&p, s->key, sizeof p);
    return p;
}

static const char *slot_key(const struct cs_strmap_slot *s)
{
    return is_inline(s->len) ? s->key : heap_key(s);
}

/* Frees a used slot's key copy and marks it empty. */
static void slot_release(struct cs_strmap_slot *s)
{
    if (s->len != EMPTY && !is_inline(s->len))
        free(heap_key(s));
    s->len = EMPTY;
}

static struct cs_strmap_slot *slots_new(size_t capacity)
{
    struct cs_strmap_slot *slots = malloc(capacity * sizeof *slots);
    for (size_t i = 0; slots && i < capacity; i++)
        slots[i].len = EMPTY;
    return slots;
}

void cs_strmap_init(struct cs_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cs_strmap_free(struct cs_strmap *m)
{
    for (size_t i = 0; i < m->capacity; i++)
        slot_release(&m->slots[i]);
    free(m->slots);
    cs_strmap_init(m);
}

void cs_strmap_clear(struct cs_strmap *m)
{
    for (size_t i = 0; i < m->capacity; i++)
        slot_release(&m->slots[i]);
    m->count = m->used = 0;
}

static int rehash(struct cs_strmap *m, size_t capacity)
{
    struct cs_strmap_slot *slots = slots_new(capacity);
    if (!slots)
        return -1;
    for (size_t i = 0; i < m->capacity; i++) {
        struct cs_strmap_slot *old = &m->slots[i];
        if (old->len == EMPTY)
            continue;
        if (old->value < 0) {
            slot_release(old);
            continue;
        }
        size_t s = (size_t)old->hash & (capacity - 1);
        while (slots[s].len != EMPTY)
            s = (s + 1) & (capacity - 1);
        slots[s] = *old; /* a heap key moves with its pointer */
    }
    free(m->slots);
    m->slots = slots;
    m->capacity = capacity;
    m->used = m->count;
    return 0;
}

static size_t find(const struct cs_strmap *m, const char *key, size_t len, uint32_t h)
{
    if (!m->capacity)
        return SIZE_MAX;
    size_t s = (size_t)h & (m->capacity - 1);
    for (const struct cs_strmap_slot *slot; (slot = &m->slots[s])->len != EMPTY;
         s = (s + 1) & (m->capacity - 1)) {
        if (slot->hash == h && slot->len == len && slot->value >= 0 &&
            memcmp(slot_key(slot), key, len) == 0)
            return s;
    }
    return SIZE_MAX;
}

int cs_strmap_put(struct cs_strmap *m, const char *key, int32_t value)
{
    size_t len = strlen(key);
    if (len >= EMPTY)
        return -1;
    uint32_t h = (uint32_t)XXH3_64bits(key, len);
    size_t s = find(m, key, len, h);
    if (s != SIZE_MAX) {
        m->slots[s].value = value;
        return 0;
    }
    size_t cap;
    if (cs_probe_rehash(m->count, m->used, m->capacity, &cap) && rehash(m, cap) != 0)
        return -1;
    char *copy = NULL;
    if (!is_inline((uint32_t)len) && !(copy = malloc(len + 1)))
        return -1;
    s = (size_t)h & (m->capacity - 1);
    while (m->slots[s].len != EMPTY)
        s = (s + 1) & (m->capacity - 1);
    struct cs_strmap_slot *slot = &m->slots[s];
    slot->hash = h;
    slot->value = value;
    slot->len = (uint32_t)len;
    if (copy)
        memcpy(slot->key, &copy, sizeof copy);
    memcpy(copy ? copy : slot->key, key, len + 1);
    m->count++;
    m->used++;
    return 0;
}

int32_t cs_strmap_get(const struct cs_strmap *m, const char *key)
{
    size_t len = strlen(key);
    size_t s = find(m, key, len, (uint32_t)XXH3_64bits(key, len));
    return s == SIZE_MAX ? -1 : m->slots[s].value;
}

void cs_strmap_del(struct cs_strmap *m, const char *key)
{
    size_t len = strlen(key);
    size_t s = find(m, key, len, (uint32_t)XXH3_64bits(key, len));
    if (s == SIZE_MAX)
        return;
    m->slots[s].value = -1; /* tombstone: keeps probe chains intact */
    m->count--;
}
