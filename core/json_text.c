/*
 * core/json_text.c: JSON string escaping (json_text.h).
 */
#include "json_text.h"

#include <stdio.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (1 to 4), or 0. */
static size_t utf8_length(const unsigned char *s)
{
    size_t len = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((len == 3 && s[0] == 0xe0 && s[1] < 0xa0) || (len == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
        (len == 4 && s[0] == 0xf0 && s[1] < 0x90) || (len == 4 && s[0] == 0xf4 && s[1] >= 0x90))
        return 0; /* overlong, surrogate or beyond U+10FFFF */
    return len;
}

size_t cs_json_escape(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n + 7 < size) {
        unsigned char c = *p;
        size_t len = c < 0x80 ? 1 : utf8_length(p);
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c < 0x20 || c == 0x7f || len == 0) {
            /* control characters, and bytes that are not UTF-8 (as U+0080..U+00FF) */
            n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
            len = 1;
        } else {
            memcpy(buf + n, p, len);
            n += len;
        }
        p += len;
    }
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

