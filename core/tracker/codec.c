/*
 * core/tracker/codec.c: how registry entries and clocks travel between
 * trackers.  Every tracker message is one DATA frame of the connection
 * layer: type:u8, then the fields of that type.  An entry is
 *   name:str owner:str handle:u64 version:u64 meta_version:u64 origin:u64
 *   flags:u32 spec:i64
 *   meta_count:u8 meta:str* clock_len:u8 clock[clock_len]
 * Decoding never trusts a length: oversized names, too many meta keys or a
 * clock longer than an entry can hold mark the input malformed.
 */
#include "internal.h"
#include "../strcopy.h"

#include <string.h>

void trk_put_clock(struct cs_writer *w, const uint8_t *clock, size_t len)
{
    cs_put_u16(w, (uint16_t)len);
    cs_put_bytes(w, clock, len);
}

bool trk_get_clock(struct cs_reader *r, uint8_t *clock, size_t *len, size_t cap)
{
    size_t n = cs_get_u16(r);
    if (r->bad || n > cap) {
        r->bad = true;
        return false;
    }
    cs_get_bytes(r, clock, n);
    *len = n;
    return !r->bad;
}

void trk_put_entry(struct tracker *t, struct cs_writer *w, const struct reg_entry *e)
{
    cs_put_strn(w, e->name, reg_name_len(e));
    cs_put_strn(w, trk_name(t, e->owner), trk_name_len(t, e->owner));
    cs_put_u64(w, e->handle);
    cs_put_u64(w, e->version);
    cs_put_u64(w, reg_meta_version(e));
    cs_put_u64(w, reg_origin(e));
    cs_put_u32(w, e->flags);
    cs_put_u64(w, (uint64_t)reg_spec(e));
    uint8_t meta_count = reg_meta_count(e);
    cs_put_u8(w, meta_count);
    for (uint8_t i = 0; i < meta_count; i++)
        cs_put_str(w, reg_meta_key(e, i));
    cs_put_u8(w, e->clock_len);
    cs_put_bytes(w, reg_clock(e), e->clock_len);
}

bool trk_get_entry(struct cs_reader *r, struct trk_wire_entry *out)
{
    size_t start = r->pos;
    out->wire_hash = 0;
    cs_get_str(r, out->name, sizeof out->name);
    cs_get_str(r, out->owner, sizeof out->owner);
    out->handle = cs_get_u64(r);
    out->version = cs_get_u64(r);
    out->meta_version = cs_get_u64(r);
    out->origin = cs_get_u64(r);
    out->flags = cs_get_u32(r);
    out->spec = (int64_t)cs_get_u64(r);
    out->meta_count = cs_get_u8(r);
    if (out->meta_count > REG_META_MAX) {
        r->bad = true;
        return false;
    }
    for (uint8_t i = 0; i < out->meta_count; i++)
        cs_get_str(r, out->meta[i], REG_META_KEY_MAX);
    out->tagged = false;
    out->clock_len = cs_get_u8(r);
    if (out->clock_len > REG_CLOCK_MAX) {
        r->bad = true;
        return false;
    }
    cs_get_bytes(r, out->clock, out->clock_len);
    if (!r->bad && (!out->name[0] || !cs_has_at(out->owner)))
        r->bad = true;
    if (!(out->flags & REG_TOMBSTONE) && out->handle == 0)
        r->bad = true; /* no node makes one: a registration names its process */
    if (!r->bad) /* the bytes are at hand: a taken copy's content hash (digest.c) */
        out->wire_hash = trk_entry_content_hash(r->buf + start, r->pos - start);
    return !r->bad;
}
