/*
 * core/grow.c: array growth by doubling.
 */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

int cs_grow(void **ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    size_t next = *cap ? *cap : 8;
    while (next < need) {
        if (next > SIZE_MAX / 2 / size)
            return -1;
        next *= 2;
    }
    void *p = realloc(*ptr, next * size);
    if (!p)
        return -1;
    *ptr = p;
    *cap = next;
    return 0;
}
