/*
 * core/idmap.c: open addressing with linear probing and tombstones; the
 * table doubles when it is more than half full.
 */
#include "idmap.h"

#include <stdlib.h>

#define TOMBSTONE_VALUE INT32_MIN

void cs_idmap_init(struct cs_idmap *map)
{
    map->keys = NULL;
    map->values = NULL;
    map->capacity = map->count = map->tombstones = 0;
}

void cs_idmap_free(struct cs_idmap *map)
{
    free(map->keys);
    free(map->values);
    cs_idmap_init(map);
}

static size_t slot_of(uint32_t key, size_t capacity)
{
    uint32_t h = key * 2654435761u; /* Knuth's multiplicative hash */
    return (size_t)(h ^ (h >> 16)) & (capacity - 1);
}

static int grow(struct cs_idmap *map)
{
    size_t capacity = map->capacity ? map->capacity * 2 : 16;
    if (map->count * 4 < map->capacity)
        capacity = map->capacity; /* mostly tombstones: rehash in place */
    uint32_t *keys = calloc(capacity, sizeof *keys);
    int32_t *values = calloc(capacity, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->keys[i] == 0 || map->values[i] == TOMBSTONE_VALUE)
            continue;
        size_t s = slot_of(map->keys[i], capacity);
        while (keys[s] != 0)
            s = (s + 1) & (capacity - 1);
        keys[s] = map->keys[i];
        values[s] = map->values[i];
    }
    free(map->keys);
    free(map->values);
    map->keys = keys;
    map->values = values;
    map->capacity = capacity;
    map->tombstones = 0;
    return 0;
}

int cs_idmap_put(struct cs_idmap *map, uint32_t key, int32_t value)
{
    if ((map->count + map->tombstones + 1) * 2 > map->capacity && grow(map) != 0)
        return -1;
    size_t s = slot_of(key, map->capacity);
    size_t reuse = SIZE_MAX;
    while (map->keys[s] != 0) {
        if (map->keys[s] == key && map->values[s] != TOMBSTONE_VALUE) {
            map->values[s] = value;
            return 0;
        }
        if (map->values[s] == TOMBSTONE_VALUE && reuse == SIZE_MAX)
            reuse = s;
        s = (s + 1) & (map->capacity - 1);
    }
    if (reuse != SIZE_MAX) {
        s = reuse;
        map->tombstones--;
    }
    map->keys[s] = key;
    map->values[s] = value;
    map->count++;
    return 0;
}

static size_t find(const struct cs_idmap *map, uint32_t key)
{
    if (map->capacity == 0)
        return SIZE_MAX;
    size_t s = slot_of(key, map->capacity);
    while (map->keys[s] != 0) {
        if (map->keys[s] == key && map->values[s] != TOMBSTONE_VALUE)
            return s;
        s = (s + 1) & (map->capacity - 1);
    }
    return SIZE_MAX;
}

int32_t cs_idmap_get(const struct cs_idmap *map, uint32_t key)
{
    size_t s = find(map, key);
    return s == SIZE_MAX ? -1 : map->values[s];
}

void cs_idmap_del(struct cs_idmap *map, uint32_t key)
{
    size_t s = find(map, key);
    if (s == SIZE_MAX)
        return;
    map->values[s] = TOMBSTONE_VALUE;
    map->count--;
    map->tombstones++;
}
