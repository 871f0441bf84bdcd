/*
 * core/strcopy.h: small string helpers for hot paths: copying a string
 * into a fixed buffer, cut to fit, as snprintf(dst, size, "%s", src) would
 * but without its formatting cost (the copies of node and registry names),
 * and finding the '@' of a node name without a library call.
 */
#ifndef CS_STRCOPY_H
#define CS_STRCOPY_H

#include <stdbool.h>
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

/* True when `s` holds an '@' (a node name's separator, a few bytes in:
 * an inline scan beats strchr's set-up there). */
static inline bool cs_has_at(const char *s)
{
    for (; *s; s++)
        if (*s == '@')
            return true;
    return false;
}

#endif
