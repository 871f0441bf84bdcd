/*
 * sim/trace.c: the trace recorder: each event encoded in binary and hashed
 * with XXH3 (Debian's libxxhash), formatted as a JSON line only for a trace
 * file, and kept in binary in a ring of the most recent events, which
 * sim_trace_last formats on demand (a failure report).
 *
 * The bytes the hash takes for one event (docs/simulation.md):
 *
 *   event  := u64 t | str node | str kind | body
 *   body   := 'P' u64 id value*           a printf-style record: the XXH3
 *                                          of the format's text (keys and
 *                                          punctuation), then each
 *                                          conversion's value in order
 *           | 'F' u64 count field*         typed fields (core/env.h)
 *           | 'L' str level | str message  a log line
 *           | 'T' str line                 a format this encoder does not
 *                                          know: the formatted line
 *   field  := str key | u8 type | (u64 | str | u8 bool as 0 or 1)
 *   value  := u64 (an integer after its length modifier's conversion, a
 *             `*` width or precision, a %c, a pointer, a double's bits)
 *           | str
 *   str    := the bytes | 0x00             (NULL: printf's "(null)", or ""
 *                                          for a typed field)
 *   u64    := 8 bytes, little-endian
 *
 * A `node` of NULL is "-", as in the line.  A string is cut only where the
 * format cuts it (a precision), so the hash covers every value the line
 * shows, and more: the whole of a value the line would cut at 1,400 bytes.
 */
#include "trace.h"

#include "../core/json_text.h"
#include "trace_format.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <xxhash.h>

#define SLOT_BYTES SIM_TRACE_LINE_MAX /* the longest event kept: an encoding or a line */
#define RING_BYTES ((SIM_TRACE_RING + 2) * SLOT_BYTES) /* the last SIM_TRACE_RING never overwritten */
#define FIELDS_MAX 32 /* typed fields a slot decodes; more: the slot keeps the line */

enum { SLOT_BIN = 1, SLOT_TEXT };

/* One recent event: where in t->bytes its encoding is (as hashed), or its
 * line when the encoding did not fit a slot or has no binary form.  The
 * encodings lie back to back, hashed a run at a time. */
struct sim_trace_slot {
    uint32_t at;
    unsigned char form;
    const char *fmt; /* a 'P' record's format (not hashed: its id is) */
};

int sim_trace_init(struct sim_trace *t, FILE *file, bool hash)
{
    memset(t, 0, sizeof *t);
    t->file = file;
    if (hash) {
        XXH3_state_t *st = XXH3_createState();
        t->ring = malloc(SIM_TRACE_RING * sizeof *t->ring);
        t->bytes = malloc(RING_BYTES);
        if (!st || !t->ring || !t->bytes) {
            XXH3_freeState(st);
            free(t->ring);
            free(t->bytes);
            t->ring = NULL;
            t->bytes = NULL;
            return -1;
        }
        XXH3_64bits_reset(st);
        t->hash_state = st;
    }
    t->on = file != NULL || hash;
    return 0;
}

void sim_trace_free(struct sim_trace *t)
{
    if (t->hash_state)
        XXH3_freeState(t->hash_state);
    free(t->ring);
    free(t->bytes);
    free(t->text);
    t->hash_state = NULL;
    t->ring = NULL;
    t->bytes = NULL;
    t->text = NULL;
    t->on = false;
}

#define BYTES_1 UINT64_C(0x0101010101010101)
#define BYTES_80 UINT64_C(0x8080808080808080)

/* Whether one of 8 bytes is not plain (below 0x20, 0x7f or above, a quote,
 * a backslash); exact, by the classic tests for a byte below, above or
 * equal to a value in a whole word. */
static inline bool word_not_plain(uint64_t w)
{
    uint64_t below = (w - BYTES_1 * 0x20) & ~w & BYTES_80;
    uint64_t above = ((w + BYTES_1) | w) & BYTES_80;
    uint64_t q = w ^ (BYTES_1 * '"'), bs = w ^ (BYTES_1 * '\\');
    uint64_t quote = (q - BYTES_1) & ~q & BYTES_80, backslash = (bs - BYTES_1) & ~bs & BYTES_80;
    return (below | above | quote | backslash) != 0;
}

/* cs_json_escape's text and length, faster on what trace values are made
 * of (a state dump is hundreds of plain bytes and a few quotes): plain
 * bytes are copied 8 at a time when all 8 are, quotes and backslashes
 * escaped here, and from the first other byte (control, DEL, non-ASCII)
 * on, cs_json_escape writes the rest at buf + n, exactly what it would have
 * written there: its loop runs while n + 7 < size, and on buf + n, size - n
 * that is the same bound. */
size_t sim_json_escape(const char *s, char *buf, size_t size)
{
    if (size <= 7)
        return cs_json_escape(s, buf, size);
    const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
    size_t n = 0, stop = size - 7; /* a byte is written only while n < stop */
    while (p < end && n < stop) {
        size_t bytes = 1; /* looked at one by one: 1, or the 8 of a word that is not plain */
        if (end - p >= 8 && stop - n >= 8) { /* 8 plain bytes would all be written */
            uint64_t w;
            memcpy(&w, p, 8);
            if (!word_not_plain(w)) {
                memcpy(buf + n, &w, 8);
                n += 8;
                p += 8;
                continue;
            }
            bytes = 8;
        }
        for (; bytes > 0 && p < end && n < stop; bytes--, p++) {
            unsigned char c = *p;
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') { /* printable ASCII: as it is */
                buf[n++] = (char)c;
            } else if (c == '"' || c == '\\') {
                buf[n++] = '\\';
                buf[n++] = (char)c;
            } else {
                return n + cs_json_escape((const char *)p, buf + n, size - n);
            }
        }
    }
    buf[n] = '\0';
    return n;
}

/* ---- text ---- */

/* Appends to a record body; `full` once something did not fit. */
/* Text appended as snprintf would write it: what fits before the end
 * (and its NUL, by out_end), the length counting all of it. */
struct out {
    char *buf;
    size_t size, len;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    if (o->len + 1 < o->size) {
        size_t room = o->size - o->len - 1;
        memcpy(o->buf + o->len, s, n < room ? n : room);
    }
    o->len += n;
}

static int out_end(struct out *o)
{
    if (o->size)
        o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
    return (int)o->len;
}

/* Appends to a record body; `full` once something did not fit. */
struct body {
    char *buf;
    size_t size, n;
    bool full;
};

/* Appends as snprintf into the room left: the whole text (and a NUL) if it
 * fits, else the body is full. */
static void put(struct body *b, const char *s, size_t len)
{
    if (b->full || len >= b->size - b->n) {
        b->full = true;
        return;
    }
    memcpy(b->buf + b->n, s, len);
    b->n += len;
    b->buf[b->n] = '\0';
}

static void put_string(struct body *b, const char *s)
{
    char esc[SIM_TRACE_LINE_MAX + 2];
    size_t len = sim_json_escape(s ? s : "", esc + 1, SIM_TRACE_LINE_MAX);
    if (s && strlen(s) * 6 + 8 > SIM_TRACE_LINE_MAX && len + 8 >= SIM_TRACE_LINE_MAX)
        b->full = true; /* the escaped text was cut: do not write half a string */
    esc[0] = esc[len + 1] = '"';
    put(b, esc, len + 2);
}

size_t sim_trace_encode_fields(const struct cs_field *fields, size_t count, char *buf, size_t size)
{
    struct body b = {buf, size, 0, false};
    char num[24];
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < count && !b.full; i++) {
        const struct cs_field *f = &fields[i];
        if (i > 0)
            put(&b, ",", 1);
        put_string(&b, f->key);
        put(&b, ":", 1);
        switch (f->type) {
        case CS_FIELD_STR: put_string(&b, f->v.s); break;
        case CS_FIELD_INT: put(&b, num, trace_decimal(num, (uint64_t)f->v.i, f->v.i < 0)); break;
        case CS_FIELD_UINT: put(&b, num, trace_decimal(num, f->v.u, false)); break;
        case CS_FIELD_BOOL: put(&b, f->v.b ? "true" : "false", f->v.b ? 4 : 5); break;
        default: put(&b, "null", 4); break;
        }
    }
    if (b.full) /* never half a record: say it was cut instead */
        snprintf(buf, size, "\"cut\":true");
    return strlen(buf);
}

/* Writes a record's body into out (vsnprintf's contract: the length it
 * would have, the text cut to fit). */
typedef int body_fn(void *ctx, char *out, size_t size);

/* {"t":..,"node":"..","kind":".." into line (room for it, and more, is
 * there: the caller checked); returns its length. */
static int line_head(char *line, cs_time now, const char *id, size_t id_len, const char *kind, size_t kind_len)
{
    char *p = line;
    memcpy(p, "{\"t\":", 5);
    p += 5;
    p += trace_decimal(p, (uint64_t)now, now < 0);
    memcpy(p, ",\"node\":\"", 9);
    p += 9;
    memcpy(p, id, id_len);
    p += id_len;
    memcpy(p, "\",\"kind\":\"", 10);
    p += 10;
    memcpy(p, kind, kind_len);
    p += kind_len;
    *p++ = '"';
    return (int)(p - line);
}

/* One line: {"t":..,"node":..,"kind":.. then the body (unless there is
 * none) or "cut":true when it does not fit, then }\n.  Returns its length. */
static size_t format_line(char *line, cs_time now, const char *node, const char *kind, bool has_body,
                          body_fn *body, void *ctx)
{
    char id[256];
    size_t id_len = sim_json_escape(node ? node : "-", id, sizeof id), kind_len = strlen(kind);
    int n;
    if (id_len + kind_len + 64 < SIM_TRACE_LINE_MAX) /* the head and a 20-digit time fit well */
        n = line_head(line, now, id, id_len, kind, kind_len);
    else
        n = snprintf(line, SIM_TRACE_LINE_MAX, "{\"t\":%lld,\"node\":\"%s\",\"kind\":\"%s\"", (long long)now,
                     id, kind);
    if (has_body) {
        int m = body(ctx, line + n + 1, SIM_TRACE_LINE_MAX - (size_t)n - 3);
        if (m > 0 && (size_t)(n + 1 + m) > SIM_TRACE_LINE_MAX - 3) /* never half a record */
            m = snprintf(line + n + 1, SIM_TRACE_LINE_MAX - (size_t)n - 3, "\"cut\":true");
        if (m > 0) { /* a format may well produce nothing: then no comma */
            line[n] = ',';
            n += 1 + m;
        }
    }
    line[n++] = '}';
    line[n++] = '\n';
    line[n] = '\0';
    return (size_t)n;
}

struct va_body {
    const char *fmt;
    va_list ap;
};

static int body_va(void *ctx, char *out, size_t size)
{
    struct va_body *v = ctx;
    return vsnprintf(out, size, v->fmt, v->ap);
}

/* The body of a typed record: the fields encoded, then written as "%s". */
static int body_str(void *ctx, char *out, size_t size)
{
    struct out o = {out, size, 0};
    out_put(&o, ctx, strlen(ctx));
    return out_end(&o);
}

/* ---- the binary form ---- */

struct enc {
    struct sim_trace *t;
    unsigned char *b; /* where the event's encoding starts in t->bytes */
    size_t n;
    bool spilled; /* part went to the hash: the slot does not hold the event */
};

/* Hashes t->bytes from t->hashed up to `end`. */
static void hash_upto(struct sim_trace *t, size_t end)
{
    XXH3_64bits_update(t->hash_state, t->bytes + t->hashed, end - t->hashed);
    t->hashed = end;
}

/* Takes the encoder by value and gives it back (its address is never
 * taken, so that the inlined fast paths keep it in registers: a store of a
 * byte through e.b could otherwise alias e.n). */
__attribute__((noinline, cold)) static struct enc enc_bytes_slow(struct enc e, const unsigned char *p, size_t len)
{
    while (len > 0) {
        if (e.n == SLOT_BYTES) { /* hash what is there and go on over it */
            size_t at = (size_t)(e.b - e.t->bytes);
            hash_upto(e.t, at + e.n);
            e.t->hashed = at;
            e.n = 0;
            e.spilled = true;
        }
        size_t k = SLOT_BYTES - e.n < len ? SLOT_BYTES - e.n : len;
        memcpy(e.b + e.n, p, k);
        e.n += k;
        p += k;
        len -= k;
    }
    return e;
}

/* Copies len bytes, up to 16 inline (two overlapping loads and stores of
 * the largest size that fits, reading nothing past the source), longer
 * ones by memcpy. */
static inline void copy_small(unsigned char *d, const unsigned char *s, size_t len)
{
    if (len >= 8 && len <= 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + len - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + len - 8, &b, 8);
    } else if (len >= 4 && len < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + len - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + len - 4, &b, 4);
    } else if (len > 16) {
        memcpy(d, s, len);
    } else if (len > 0) { /* 1 to 3 bytes: the first, the middle and the last */
        unsigned char a = s[0], m = s[len / 2], z = s[len - 1];
        d[0] = a;
        d[len / 2] = m;
        d[len - 1] = z;
    }
}

static inline void enc_bytes(struct enc *e, const void *p, size_t len)
{
    if (len <= SLOT_BYTES - e->n) {
        copy_small(e->b + e->n, p, len);
        e->n += len;
    } else {
        *e = enc_bytes_slow(*e, p, len);
    }
}

static inline void enc_u64(struct enc *e, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (8 <= SLOT_BYTES - e->n) {
        memcpy(e->b + e->n, &v, 8);
        e->n += 8;
    } else {
        *e = enc_bytes_slow(*e, (const unsigned char *)&v, 8);
    }
#else
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    enc_bytes(e, x, 8);
#endif
}

static inline void enc_byte(struct enc *e, unsigned char c)
{
    if (e->n < SLOT_BYTES)
        e->b[e->n++] = c;
    else
        *e = enc_bytes_slow(*e, &c, 1);
}

/* A string with its NUL. */
static inline void enc_str(struct enc *e, const char *s)
{
    enc_bytes(e, s, strlen(s) + 1);
}

static inline __attribute__((always_inline)) void enc_head(struct enc *e, cs_time now, const char *node, const char *kind)
{
    enc_u64(e, (uint64_t)now);
    enc_str(e, node ? node : "-");
    enc_str(e, kind);
}

/* Each argument's value, as the compiled format says to take it. */
static void enc_args(struct enc *e, const struct trace_fmt *f, va_list *ap)
{
    int star = -1;
    for (unsigned i = 0; i < f->count; i++) {
        uint64_t v;
        switch ((enum trace_arg_kind)f->kind[i]) {
        case TRACE_ARG_INT: v = (uint64_t)(int64_t)(star = va_arg(*ap, int)); break;
        case TRACE_ARG_SCHAR: v = (uint64_t)(int64_t)(signed char)va_arg(*ap, int); break;
        case TRACE_ARG_SHORT: v = (uint64_t)(int64_t)(short)va_arg(*ap, int); break;
        case TRACE_ARG_LONG: v = (uint64_t)(int64_t)va_arg(*ap, long); break;
        case TRACE_ARG_LLONG: v = (uint64_t)(int64_t)va_arg(*ap, long long); break;
        case TRACE_ARG_INTMAX: v = (uint64_t)(int64_t)va_arg(*ap, intmax_t); break;
        case TRACE_ARG_SSIZE: v = (uint64_t)(int64_t)va_arg(*ap, ssize_t); break;
        case TRACE_ARG_PTRDIFF: v = (uint64_t)(int64_t)va_arg(*ap, ptrdiff_t); break;
        case TRACE_ARG_UINT: v = va_arg(*ap, unsigned); break;
        case TRACE_ARG_UCHAR: v = (unsigned char)va_arg(*ap, unsigned); break;
        case TRACE_ARG_USHORT: v = (unsigned short)va_arg(*ap, unsigned); break;
        case TRACE_ARG_ULONG: v = va_arg(*ap, unsigned long); break;
        case TRACE_ARG_ULLONG: v = va_arg(*ap, unsigned long long); break;
        case TRACE_ARG_UINTMAX: v = va_arg(*ap, uintmax_t); break;
        case TRACE_ARG_SIZE: v = va_arg(*ap, size_t); break;
        case TRACE_ARG_CHAR: v = (unsigned char)va_arg(*ap, int); break;
        case TRACE_ARG_PTR: v = (uintptr_t)va_arg(*ap, void *); break;
        case TRACE_ARG_DOUBLE: {
            double d = va_arg(*ap, double);
            memcpy(&v, &d, sizeof v);
            break;
        }
        default: { /* the strings */
            const char *str = va_arg(*ap, const char *);
            int digits = f->kind[i] == TRACE_ARG_STR_STAR ? star : f->digits[i];
            if (!str)
                str = "(null)";
            enc_bytes(e, str, digits >= 0 ? strnlen(str, (size_t)digits) : strlen(str));
            enc_byte(e, 0);
            continue;
        }
        }
        enc_u64(e, v);
    }
}

/* The next event's slot, and its encoder: at the end of t->bytes, or back
 * at its start (what is there hashed first) when a slot would not fit. */
static inline __attribute__((always_inline)) struct sim_trace_slot *next_slot(struct sim_trace *t, struct enc *e)
{
    if (RING_BYTES - t->next < SLOT_BYTES) {
        hash_upto(t, t->next);
        t->next = t->hashed = 0;
    }
    struct sim_trace_slot *slot = &t->ring[t->ring_next];
    t->ring_next = (t->ring_next + 1) % SIM_TRACE_RING;
    slot->at = (uint32_t)t->next;
    *e = (struct enc){.t = t, .b = t->bytes + t->next};
    return slot;
}

/* Whether the slot keeps the encoding (left to be hashed with the next
 * ones); else the encoding is hashed now and the slot keeps the line. */
static inline __attribute__((always_inline)) bool enc_keep(struct enc *e, struct sim_trace_slot *slot, bool decodable)
{
    struct sim_trace *t = e->t;
    if (!e->spilled && decodable) {
        slot->form = SLOT_BIN;
        t->next += e->n;
        return true;
    }
    hash_upto(t, (size_t)(e->b - t->bytes) + e->n);
    slot->form = SLOT_TEXT;
    return false;
}

/* The line of an event whose slot keeps it. */
static void keep_line(struct enc *e, const char *line, size_t len)
{
    memcpy(e->b, line, len + 1);
    e->t->next = e->t->hashed = (size_t)(e->b - e->t->bytes) + len + 1;
}

void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...)
{
    if (!t->on)
        return;
    t->lines++;
    va_list ap;
    va_start(ap, fields);
    char line[SIM_TRACE_LINE_MAX];
    size_t len = 0;
    if (t->file) {
        struct va_body v = {.fmt = fields};
        va_copy(v.ap, ap);
        len = format_line(line, now, node, kind, fields[0] != '\0', body_va, &v);
        va_end(v.ap);
        fwrite(line, 1, len, t->file);
    }
    if (t->hash_state) {
        const struct trace_fmt *f = trace_fmt_get(fields);
        struct enc e;
        struct sim_trace_slot *slot = next_slot(t, &e);
        slot->fmt = fields;
        enc_head(&e, now, node, kind);
        if (f->binary) {
            enc_byte(&e, 'P');
            enc_u64(&e, f->id);
            va_list args;
            va_copy(args, ap);
            enc_args(&e, f, &args);
            va_end(args);
        }
        if (!f->binary || e.spilled) { /* the line: hashed (no binary form) or kept in the slot */
            if (!len) {
                struct va_body v = {.fmt = fields};
                va_copy(v.ap, ap);
                len = format_line(line, now, node, kind, fields[0] != '\0', body_va, &v);
                va_end(v.ap);
            }
            if (!f->binary) {
                enc_byte(&e, 'T');
                enc_bytes(&e, line, len + 1);
            }
        }
        if (!enc_keep(&e, slot, f->binary))
            keep_line(&e, line, len);
    }
    va_end(ap);
}

void sim_trace_fields(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const struct cs_field *fields, size_t count)
{
    if (!t->on)
        return;
    t->lines++;
    char line[SIM_TRACE_LINE_MAX];
    size_t len = 0;
    if (t->file) {
        char body[SIM_TRACE_LINE_MAX];
        sim_trace_encode_fields(fields, count, body, sizeof body);
        len = format_line(line, now, node, kind, true, body_str, body);
        fwrite(line, 1, len, t->file);
    }
    if (!t->hash_state)
        return;
    struct enc e;
    struct sim_trace_slot *slot = next_slot(t, &e);
    enc_head(&e, now, node, kind);
    enc_byte(&e, 'F');
    enc_u64(&e, count);
    for (size_t i = 0; i < count; i++) {
        const struct cs_field *f = &fields[i];
        enc_str(&e, f->key ? f->key : "");
        enc_byte(&e, (unsigned char)f->type);
        switch (f->type) {
        case CS_FIELD_STR: enc_str(&e, f->v.s ? f->v.s : ""); break;
        case CS_FIELD_INT: enc_u64(&e, (uint64_t)f->v.i); break;
        case CS_FIELD_UINT: enc_u64(&e, f->v.u); break;
        case CS_FIELD_BOOL: enc_byte(&e, f->v.b ? 1 : 0); break;
        default: break;
        }
    }
    if (!enc_keep(&e, slot, count <= FIELDS_MAX)) {
        if (!len) {
            char body[SIM_TRACE_LINE_MAX];
            sim_trace_encode_fields(fields, count, body, sizeof body);
            len = format_line(line, now, node, kind, true, body_str, body);
        }
        keep_line(&e, line, len);
    }
}

/* A log record's line: the message escaped into at most 1,099 bytes. */
struct log_body {
    const char *level, *msg;
};

static int body_log(void *ctx, char *out, size_t size)
{
    const struct log_body *l = ctx;
    char esc[1100];
    size_t len = sim_json_escape(l->msg, esc, sizeof esc);
    struct out o = {out, size, 0}; /* snprintf(out, size, "\"level\":\"%s\",\"msg\":\"%s\"", level, esc) */
    out_put(&o, "\"level\":\"", 9);
    out_put(&o, l->level, strlen(l->level));
    out_put(&o, "\",\"msg\":\"", 9);
    out_put(&o, esc, len);
    out_put(&o, "\"", 1);
    return out_end(&o);
}

static size_t log_line(char *line, cs_time now, const char *node, const char *level, const char *msg)
{
    struct log_body l = {level, msg};
    return format_line(line, now, node, "log", true, body_log, &l);
}

void sim_trace_log(struct sim_trace *t, cs_time now, const char *node, const char *level, const char *msg)
{
    if (!t->on)
        return;
    t->lines++;
    char line[SIM_TRACE_LINE_MAX];
    size_t len = 0;
    if (t->file) {
        len = log_line(line, now, node, level, msg);
        fwrite(line, 1, len, t->file);
    }
    if (!t->hash_state)
        return;
    struct enc e;
    struct sim_trace_slot *slot = next_slot(t, &e);
    enc_head(&e, now, node, "log");
    enc_byte(&e, 'L');
    enc_str(&e, level);
    enc_str(&e, msg);
    if (!enc_keep(&e, slot, true)) {
        if (!len)
            len = log_line(line, now, node, level, msg);
        keep_line(&e, line, len);
    }
}

uint64_t sim_trace_digest(struct sim_trace *t)
{
    if (!t->hash_state)
        return 0;
    hash_upto(t, t->next);
    return XXH3_64bits_digest(t->hash_state);
}

/* ---- the ring back to lines ---- */

struct dec_body {
    const char *fmt;
    struct trace_dec *d;
};

static int body_decoded(void *ctx, char *out, size_t size)
{
    const struct dec_body *db = ctx;
    return trace_fmt_print(db->fmt, db->d, out, size);
}

static void slot_line(const struct sim_trace *t, const struct sim_trace_slot *slot, char *line)
{
    const unsigned char *b = t->bytes + slot->at;
    if (slot->form == SLOT_TEXT) {
        memcpy(line, b, strlen((const char *)b) + 1);
        return;
    }
    struct trace_dec d = {b, 0};
    cs_time now = (cs_time)trace_dec_u64(&d);
    const char *node = trace_dec_str(&d), *kind = trace_dec_str(&d);
    char form = (char)d.b[d.n++];
    if (form == 'P') {
        d.n += 8; /* the format's id */
        struct dec_body db = {slot->fmt, &d};
        format_line(line, now, node, kind, db.fmt[0] != '\0', body_decoded, &db);
        return;
    }
    if (form == 'L') {
        const char *level = trace_dec_str(&d);
        log_line(line, now, node, level, trace_dec_str(&d));
        return;
    }
    struct cs_field fields[FIELDS_MAX];
    size_t count = (size_t)trace_dec_u64(&d);
    for (size_t i = 0; i < count; i++) {
        fields[i].key = trace_dec_str(&d);
        fields[i].type = (enum cs_field_type)d.b[d.n++];
        switch (fields[i].type) {
        case CS_FIELD_STR: fields[i].v.s = trace_dec_str(&d); break;
        case CS_FIELD_INT: fields[i].v.i = (int64_t)trace_dec_u64(&d); break;
        case CS_FIELD_UINT: fields[i].v.u = trace_dec_u64(&d); break;
        case CS_FIELD_BOOL: fields[i].v.b = d.b[d.n++] != 0; break;
        default: break;
        }
    }
    char body[SIM_TRACE_LINE_MAX];
    sim_trace_encode_fields(fields, count, body, sizeof body);
    format_line(line, now, node, kind, true, body_str, body);
}

size_t sim_trace_last(struct sim_trace *t, const char **out, size_t max)
{
    if (!t->ring)
        return 0;
    if (!t->text && !(t->text = malloc(SIM_TRACE_RING * sizeof *t->text)))
        return 0;
    size_t have = t->lines < SIM_TRACE_RING ? (size_t)t->lines : SIM_TRACE_RING;
    size_t count = have < max ? have : max;
    size_t start = (t->ring_next + SIM_TRACE_RING - count) % SIM_TRACE_RING;
    for (size_t i = 0; i < count; i++) {
        slot_line(t, &t->ring[(start + i) % SIM_TRACE_RING], t->text[i]);
        out[i] = t->text[i];
    }
    return count;
}
