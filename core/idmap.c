/*
 * core/idmap.c: open addressing with linear probing; the table doubles when
 * it is more than half full.  A deletion shifts the entries after it back
 * (no tombstones), so lookups stay short however many ids come and go.
 */
#include "idmap.h"

#include <stdlib.h>

void cs_idmap_init(struct cs_idmap *map)
{
    map->keys = NULL;
    map->values = NULL;
    map->capacity = map->count = 0;
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
    uint32_t *keys = calloc(capacity, sizeof *keys);
    int32_t *values = calloc(capacity, sizeof *values);
    if (!keys || !values) {
        free(keys);
        free(values);
        return -1;
    }
    for (size_t i = 0; i < map->capacity; i++) {
        if (map->keys[i] == 0)
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
    return 0;
}

static size_t find(const struct cs_idmap *map, uint32_t key)
{
    if (map->capacity == 0)
        return SIZE_MAX;
    for (size_t s = slot_of(key, map->capacity); map->keys[s] != 0; s = (s + 1) & (map->capacity - 1))
        if (map->keys[s] == key)
            return s;
    return SIZE_MAX;
}

int cs_idmap_put(struct cs_idmap *map, uint32_t key, int32_t value)
{
    size_t s = find(map, key);
    if (s != SIZE_MAX) {
        map->values[s] = value;
        return 0;
    }
    if ((map->count + 1) * 2 > map->capacity && grow(map) != 0)
        return -1;
    s = slot_of(key, map->capacity);
    while (map->keys[s] != 0)
        s = (s + 1) & (map->capacity - 1);
    map->keys[s] = key;
    map->values[s] = value;
    map->count++;
    return 0;
}

int32_t cs_idmap_get(const struct cs_idmap *map, uint32_t key)
{
    size_t s = find(map, key);
    return s == SIZE_MAX ? -1 : map->values[s];
}

/* True when slot `home` lies cyclically in (hole, at]: an entry there whose
 * probe started at `home` cannot move back to `hole`. */
static bool probe_passes(size_t hole, size_t home, size_t at)
{
    return hole <= at ? hole < home && home <= at : hole < home || home <= at;
}

void cs_idmap_del(struct cs_idmap *map, uint32_t key)
{
    size_t hole = find(map, key);
    if (hole == SIZE_MAX)
        return;
    size_t mask = map->capacity - 1;
    for (size_t at = (hole + 1) & mask; map->keys[at] != 0; at = (at + 1) & mask) {
        if (probe_passes(hole, slot_of(map->keys[at], map->capacity), at))
            continue;
        map->keys[hole] = map->keys[at];
        map->values[hole] = map->values[at];
        hole = at;
    }
    map->keys[hole] = 0;
    map->count--;
}
