/*
 * core/strcopy.h: copying a string into a fixed buffer, cut to fit, as
 * snprintf(dst, size, "%s", src) would but without its formatting cost (the
 * copies of node and registry names on hot paths).
 */
#ifndef CS_STRCOPY_H
#define CS_STRCOPY_H

#include <stddef.h>
#include <string.h>

/* Copies `src` (NULL: the empty string) into `dst` of `size` > 0 bytes,
 * cut to size - 1 bytes, always NUL-terminated. */
static inline void cs_copy_str(char *dst, size_t size, const char *src)
{
    size_t len = src ? strnlen(src, size - 1) : 0;
    memcpy(dst, src ? src : "", len);
    dst[len] = '\0';
}

#endif
