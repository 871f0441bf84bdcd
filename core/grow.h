/*
 * core/grow.h: the one growth rule of every dynamic array in the project:
 * make room for `need` elements, doubling the capacity (from 8).
 */
#ifndef CS_GROW_H
#define CS_GROW_H

#include <stddef.h>

/* Ensures *ptr (an array of elements of `size` bytes with capacity *cap)
 * holds at least `need` elements; 0 on success, -1 out of memory (then
 * nothing changed). Call as cs_grow((void **)&array, &cap, count + 1, sizeof *array). */
int cs_grow(void **ptr, size_t *cap, size_t need, size_t size);

#endif
