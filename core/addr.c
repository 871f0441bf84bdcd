/*
 * core/addr.c: text forms of IPv4/IPv6 addresses and node names, written
 * without the C library's resolver functions so that core/ stays pure.
 */
#include "addr.h"

#include <stdio.h>
#include <string.h>

static int parse_ipv4(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned v = 0;
        int digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255)
                return -1;
        }
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.')
            return -1;
    }
    return *s == '\0' ? 0 : -1;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parses colon-separated groups into `groups`; returns the count or -1. */
static int parse_ipv6_groups(const char *s, const char *end, uint16_t *groups, int max)
{
    int n = 0;
    if (s == end)
        return 0;
    for (;;) {
        unsigned v = 0;
        int digits = 0;
        while (s < end && hex_value(*s) >= 0) {
            v = v * 16 + (unsigned)hex_value(*s++);
            if (++digits > 4)
                return -1;
        }
        if (digits == 0 || n == max)
            return -1;
        groups[n++] = (uint16_t)v;
        if (s == end)
            return n;
        if (*s++ != ':')
            return -1;
    }
}

static int parse_ipv6(const char *s, uint8_t out[16])
{
    uint16_t head[8], tail[8];
    const char *gap = strstr(s, "::");
    const char *end = s + strlen(s);
    int nh, nt = 0;
    if (gap) {
        if (strstr(gap + 2, "::"))
            return -1;
        nh = parse_ipv6_groups(s, gap, head, 8);
        nt = parse_ipv6_groups(gap + 2, end, tail, 8);
        if (nh < 0 || nt < 0 || nh + nt > 7)
            return -1;
    } else {
        nh = parse_ipv6_groups(s, end, head, 8);
        if (nh != 8)
            return -1;
    }
    memset(out, 0, 16);
    for (int i = 0; i < nh; i++) {
        out[2 * i] = (uint8_t)(head[i] >> 8);
        out[2 * i + 1] = (uint8_t)head[i];
    }
    for (int i = 0; i < nt; i++) {
        int g = 8 - nt + i;
        out[2 * g] = (uint8_t)(tail[i] >> 8);
        out[2 * g + 1] = (uint8_t)tail[i];
    }
    return 0;
}

int cs_addr_parse(const char *text, struct cs_addr *out)
{
    struct cs_addr a;
    memset(&a, 0, sizeof a);
    if (strchr(text, ':')) {
        if (parse_ipv6(text, a.ip) != 0)
            return -1;
        a.family = 6;
    } else {
        if (parse_ipv4(text, a.ip) != 0)
            return -1;
        a.family = 4;
    }
    *out = a;
    return 0;
}

/* Dotted quad without printf (names are formatted for every DNS record of
 * every polling round): as snprintf would, it returns the full length and
 * writes at most size bytes with the NUL. */
static int format_ipv4(const uint8_t ip[4], char *buf, size_t size)
{
    char text[16];
    size_t len = 0;
    for (int i = 0; i < 4; i++) {
        unsigned v = ip[i];
        if (i)
            text[len++] = '.';
        if (v >= 100)
            text[len++] = (char)('0' + v / 100);
        if (v >= 10)
            text[len++] = (char)('0' + v / 10 % 10);
        text[len++] = (char)('0' + v % 10);
    }
    if (size) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
    }
    return (int)len;
}

int cs_addr_format(const struct cs_addr *addr, char *buf, size_t size)
{
    if (addr->family == 4)
        return format_ipv4(addr->ip, buf, size);
    if (addr->family != 6)
        return snprintf(buf, size, "-");
    /* Find the longest run of zero groups (length >= 2) to compress. */
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && addr->ip[2 * j] == 0 && addr->ip[2 * j + 1] == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    int len = 0;
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            len += snprintf(buf + len, size > (size_t)len ? size - (size_t)len : 0, "::");
            i += best_len - 1;
            continue;
        }
        const char *sep = (i > 0 && i != best + best_len) ? ":" : "";
        unsigned g = (unsigned)addr->ip[2 * i] << 8 | addr->ip[2 * i + 1];
        len += snprintf(buf + len, size > (size_t)len ? size - (size_t)len : 0, "%s%x", sep, g);
    }
    return len;
}

int cs_addr_compare(const struct cs_addr *a, const struct cs_addr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->ip, b->ip, a->family == 4 ? 4 : 16);
}

bool cs_addr_is_multicast(const struct cs_addr *addr)
{
    if (addr->family == 4)
        return (addr->ip[0] & 0xf0) == 0xe0;
    return addr->family == 6 && addr->ip[0] == 0xff;
}

int cs_node_name(const char *basename, const struct cs_addr *addr, char *buf, size_t size)
{
    char host[CS_ADDR_STRLEN];
    cs_addr_format(addr, host, sizeof host);
    int n = snprintf(buf, size, "%s@%s", basename, host);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

int cs_node_name_addr(const char *name, struct cs_addr *out)
{
    const char *at = strchr(name, '@');
    if (!at || at == name)
        return -1;
    return cs_addr_parse(at + 1, out);
}
