/*
 * core/wire.h: the byte codec every core protocol frames its messages with:
 * a bounded writer and a bounded reader of little-endian integers and
 * length-prefixed strings.  Reading past the end or an oversized string
 * never touches memory out of bounds: it sets the reader's `bad` flag, so a
 * decoder checks once at the end.
 */
#ifndef CS_WIRE_H
#define CS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cs_writer {
    uint8_t *buf;
    size_t cap, len;
    bool overflow; /* something did not fit: the frame must not be sent */
};

struct cs_reader {
    const uint8_t *buf;
    size_t len, pos;
    bool bad; /* truncated input or a malformed field */
};

/* Starts writing into `buf` of `cap` bytes. */
void cs_writer_init(struct cs_writer *w, uint8_t *buf, size_t cap);
void cs_put_u8(struct cs_writer *w, uint8_t v);
void cs_put_u16(struct cs_writer *w, uint16_t v);
void cs_put_u32(struct cs_writer *w, uint32_t v);
void cs_put_u64(struct cs_writer *w, uint64_t v);
/* Raw bytes. */
void cs_put_bytes(struct cs_writer *w, const void *data, size_t len);
/* Room for `len` bytes the caller fills at once (a block of fixed-size
 * fields): their address, or NULL (and `overflow`) when they do not fit. */
uint8_t *cs_put_span(struct cs_writer *w, size_t len);
/* A string as u16 length + bytes (no terminator). */
void cs_put_str(struct cs_writer *w, const char *s);
/* cs_put_str of a string whose length the caller knows. */
void cs_put_strn(struct cs_writer *w, const char *s, size_t len);

/* Starts reading `len` bytes of `buf`. */
void cs_reader_init(struct cs_reader *r, const uint8_t *buf, size_t len);
uint8_t cs_get_u8(struct cs_reader *r);
uint16_t cs_get_u16(struct cs_reader *r);
uint32_t cs_get_u32(struct cs_reader *r);
uint64_t cs_get_u64(struct cs_reader *r);
/* Copies `len` raw bytes into `out` (zeros and `bad` when short). */
void cs_get_bytes(struct cs_reader *r, void *out, size_t len);
/* The next `len` bytes in place, read past; NULL (and `bad`) when short. */
const uint8_t *cs_get_span(struct cs_reader *r, size_t len);
/* Reads a u16-prefixed string into `out` (NUL-terminated); sets `bad` when
 * it is longer than `size - 1`, truncated, or contains a NUL byte. */
void cs_get_str(struct cs_reader *r, char *out, size_t size);
/* True when every byte was consumed and nothing was malformed. */
bool cs_reader_done(const struct cs_reader *r);

/* Little-endian fields at a known address (inside a span). */
static inline void cs_store_le(uint8_t *out, uint64_t v, size_t n)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &v, n);
#else
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint64_t cs_load_le(const uint8_t *in, size_t n)
{
    uint64_t v = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, in, n);
#else
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)in[i] << (8 * i);
#endif
    return v;
}

#endif
