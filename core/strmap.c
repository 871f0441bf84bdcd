/*
 * core/strmap.c: linear probing with tombstones; doubles (or rehashes in
 * place when mostly tombstones) past half load.
 */
#include "strmap.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

void cs_strmap_init(struct cs_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void cs_strmap_free(struct cs_strmap *m)
{
    for (size_t i = 0; i < m->capacity; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->values);
    free(m->hashes);
    cs_strmap_init(m);
}

void cs_strmap_clear(struct cs_strmap *m)
{
    for (size_t i = 0; i < m->capacity; i++) {
        free(m->keys[i]);
        m->keys[i] = NULL;
    }
    m->count = m->used = 0;
}

static int rehash(struct cs_strmap *m, size_t capacity)
{
    char **keys = calloc(capacity, sizeof *keys);
    int32_t *values = calloc(capacity, sizeof *values);
    uint64_t *hashes = calloc(capacity, sizeof *hashes);
    if (!keys || !values || !hashes) {
        free(keys);
        free(values);
        free(hashes);
        return -1;
    }
    for (size_t i = 0; i < m->capacity; i++) {
        if (!m->keys[i])
            continue;
        if (m->values[i] < 0) {
            free(m->keys[i]);
            continue;
        }
        size_t s = (size_t)m->hashes[i] & (capacity - 1);
        while (keys[s])
            s = (s + 1) & (capacity - 1);
        keys[s] = m->keys[i];
        values[s] = m->values[i];
        hashes[s] = m->hashes[i];
    }
    free(m->keys);
    free(m->values);
    free(m->hashes);
    m->keys = keys;
    m->values = values;
    m->hashes = hashes;
    m->capacity = capacity;
    m->used = m->count;
    return 0;
}

static size_t find(const struct cs_strmap *m, const char *key, uint64_t h)
{
    if (!m->capacity)
        return SIZE_MAX;
    size_t s = (size_t)h & (m->capacity - 1);
    while (m->keys[s]) {
        if (m->hashes[s] == h && m->values[s] >= 0 && strcmp(m->keys[s], key) == 0)
            return s;
        s = (s + 1) & (m->capacity - 1);
    }
    return SIZE_MAX;
}

int cs_strmap_put(struct cs_strmap *m, const char *key, int32_t value)
{
    uint64_t h = XXH3_64bits(key, strlen(key));
    size_t s = find(m, key, h);
    if (s != SIZE_MAX) {
        m->values[s] = value;
        return 0;
    }
    if ((m->used + 1) * 2 > m->capacity) {
        size_t cap = m->capacity ? m->capacity : 16;
        if ((m->count + 1) * 2 > cap)
            cap *= 2;
        if (rehash(m, cap) != 0)
            return -1;
    }
    char *copy = strdup(key);
    if (!copy)
        return -1;
    s = (size_t)h & (m->capacity - 1);
    while (m->keys[s])
        s = (s + 1) & (m->capacity - 1);
    m->keys[s] = copy;
    m->values[s] = value;
    m->hashes[s] = h;
    m->count++;
    m->used++;
    return 0;
}

int32_t cs_strmap_get(const struct cs_strmap *m, const char *key)
{
    size_t s = find(m, key, XXH3_64bits(key, strlen(key)));
    return s == SIZE_MAX ? -1 : m->values[s];
}

void cs_strmap_del(struct cs_strmap *m, const char *key)
{
    size_t s = find(m, key, XXH3_64bits(key, strlen(key)));
    if (s == SIZE_MAX)
        return;
    m->values[s] = -1; /* tombstone: keeps probe chains intact */
    m->count--;
}
