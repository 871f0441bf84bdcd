/*
 * core/grow.h: the one growth rule of every dynamic array in the project:
 * make room for `need` elements, doubling the capacity (from 8).
 */
#ifndef CS_GROW_H
#define CS_GROW_H

#include <stdbool.h>
#include <stddef.h>

/* Ensures *ptr (an array of elements of `size` bytes with capacity *cap)
 * holds at least `need` elements; 0 on success, -1 out of memory (then
 * nothing changed). Call as cs_grow((void **)&array, &cap, count + 1, sizeof *array). */
int cs_grow(void **ptr, size_t *cap, size_t need, size_t size);

/* The open-addressing tables' rule (core/strmap.c, core/refmap.c), kept
 * at most half full: true when an insertion into a table of `capacity`
 * slots holding `count` keys and `used` slots (tombstones too) needs a
 * rehash first, into *cap slots: the same number (dropping the
 * tombstones) or twice it (16 for an empty table). */
static inline bool cs_probe_rehash(size_t count, size_t used, size_t capacity, size_t *cap)
{
    if ((used + 1) * 2 <= capacity)
        return false;
    *cap = capacity ? capacity : 16;
    if ((count + 1) * 2 > *cap)
        *cap *= 2;
    return true;
}

#endif
