/*
 * core/wire.c: bounded little-endian encoding and decoding.
 */
#include "wire.h"

#include <string.h>

void cs_writer_init(struct cs_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = false;
}

static void put_le(struct cs_writer *w, uint64_t v, size_t n)
{
    if (w->overflow || w->cap - w->len < n) {
        w->overflow = true;
        return;
    }
    uint8_t *out = w->buf + w->len;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &v, n); /* one store once n is known: the low bytes first */
#else
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * i));
#endif
    w->len += n;
}

void cs_put_u8(struct cs_writer *w, uint8_t v) { put_le(w, v, 1); }
void cs_put_u16(struct cs_writer *w, uint16_t v) { put_le(w, v, 2); }
void cs_put_u32(struct cs_writer *w, uint32_t v) { put_le(w, v, 4); }
void cs_put_u64(struct cs_writer *w, uint64_t v) { put_le(w, v, 8); }

uint8_t *cs_put_span(struct cs_writer *w, size_t len)
{
    if (w->overflow || w->cap - w->len < len) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *span = w->buf + w->len;
    w->len += len;
    return span;
}

void cs_put_bytes(struct cs_writer *w, const void *data, size_t len)
{
    if (w->overflow || w->cap - w->len < len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, data, len);
    w->len += len;
}

void cs_put_str(struct cs_writer *w, const char *s)
{
    cs_put_strn(w, s, strlen(s));
}

void cs_put_strn(struct cs_writer *w, const char *s, size_t len)
{
    if (len > UINT16_MAX) {
        w->overflow = true;
        return;
    }
    cs_put_u16(w, (uint16_t)len);
    cs_put_bytes(w, s, len);
}

void cs_reader_init(struct cs_reader *r, const uint8_t *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->bad = false;
}

static uint64_t get_le(struct cs_reader *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return 0;
    }
    const uint8_t *in = r->buf + r->pos;
    uint64_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, in, n); /* one load once n is known */
#else
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)in[i] << (8 * i);
#endif
    r->pos += n;
    return v;
}

uint8_t cs_get_u8(struct cs_reader *r) { return (uint8_t)get_le(r, 1); }
uint16_t cs_get_u16(struct cs_reader *r) { return (uint16_t)get_le(r, 2); }
uint32_t cs_get_u32(struct cs_reader *r) { return (uint32_t)get_le(r, 4); }
uint64_t cs_get_u64(struct cs_reader *r) { return get_le(r, 8); }

void cs_get_bytes(struct cs_reader *r, void *out, size_t len)
{
    if (r->bad || r->len - r->pos < len) {
        r->bad = true;
        memset(out, 0, len);
        return;
    }
    memcpy(out, r->buf + r->pos, len);
    r->pos += len;
}

const uint8_t *cs_get_span(struct cs_reader *r, size_t len)
{
    if (r->bad || r->len - r->pos < len) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *span = r->buf + r->pos;
    r->pos += len;
    return span;
}

void cs_get_str(struct cs_reader *r, char *out, size_t size)
{
    size_t len = cs_get_u16(r);
    if (size)
        out[0] = '\0';
    if (r->bad || len >= size || r->len - r->pos < len) {
        r->bad = true;
        return;
    }
    const uint8_t *in = r->buf + r->pos;
    if (len <= 32) { /* most names: one pass, no calls, eight bytes a step */
        size_t i = 0;
        bool nul = false;
        for (; i + 8 <= len; i += 8) {
            uint64_t v;
            memcpy(&v, in + i, 8);
            nul |= ((v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL) != 0; /* a zero byte */
            memcpy(out + i, &v, 8);
        }
        for (; i < len; i++) {
            nul |= in[i] == 0;
            out[i] = (char)in[i];
        }
        if (nul) {
            out[0] = '\0';
            r->bad = true;
            return;
        }
    } else if (memchr(in, '\0', len)) {
        r->bad = true;
        return;
    } else {
        memcpy(out, in, len);
    }
    out[len] = '\0';
    r->pos += len;
}

bool cs_reader_done(const struct cs_reader *r)
{
    return !r->bad && r->pos == r->len;
}
