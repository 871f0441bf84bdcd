/*
 * sim/trace.c: the trace recorder: each event encoded in binary and hashed
 * with XXH3 (Debian's libxxhash), formatted as a JSON line only for a trace
 * file, and kept in binary in a ring of the most recent events, which
 * sim_trace_last formats on demand (a failure report).
 *
 * The bytes the hash takes for one event (docs/simulation.md):
 *
 *   event  := u64 t | str node | str kind | body
 *   body   := 'P' str format value*       a printf-style record: each
 *                                          conversion's value in order
 *           | 'F' u64 count field*         typed fields (core/env.h)
 *           | 'T' str line                 a format this encoder does not
 *                                          know: the formatted line
 *   field  := str key | u8 type | value
 *   value  := u64 (an integer after its length modifier's conversion, a
 *             `*` width or precision, a %c, a pointer, a double's bits,
 *             a bool as 0 or 1) | str
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

size_t sim_json_escape(const char *s, char *buf, size_t size)
{
    return cs_json_escape(s, buf, size);
}

/* ---- text ---- */

/* Appends to a record body; `full` once something did not fit. */
struct body {
    char *buf;
    size_t size, n;
    bool full;
};

static void put(struct body *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct body *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int m = b->full ? -1 : vsnprintf(b->buf + b->n, b->size - b->n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= b->size - b->n)
        b->full = true;
    else
        b->n += (size_t)m;
}

static void put_string(struct body *b, const char *s)
{
    char esc[SIM_TRACE_LINE_MAX];
    size_t len = sim_json_escape(s ? s : "", esc, sizeof esc);
    if (s && strlen(s) * 6 + 8 > sizeof esc && len + 8 >= sizeof esc)
        b->full = true; /* the escaped text was cut: do not write half a string */
    put(b, "\"%s\"", esc);
}

size_t sim_trace_encode_fields(const struct cs_field *fields, size_t count, char *buf, size_t size)
{
    struct body b = {buf, size, 0, false};
    for (size_t i = 0; i < count && !b.full; i++) {
        const struct cs_field *f = &fields[i];
        if (i > 0)
            put(&b, ",");
        put_string(&b, f->key);
        put(&b, ":");
        switch (f->type) {
        case CS_FIELD_STR: put_string(&b, f->v.s); break;
        case CS_FIELD_INT: put(&b, "%lld", (long long)f->v.i); break;
        case CS_FIELD_UINT: put(&b, "%llu", (unsigned long long)f->v.u); break;
        case CS_FIELD_BOOL: put(&b, "%s", f->v.b ? "true" : "false"); break;
        default: put(&b, "null"); break;
        }
    }
    if (b.full) /* never half a record: say it was cut instead */
        snprintf(buf, size, "\"cut\":true");
    return strlen(buf);
}

/* Writes a record's body into out (vsnprintf's contract: the length it
 * would have, the text cut to fit). */
typedef int body_fn(void *ctx, char *out, size_t size);

/* One line: {"t":..,"node":..,"kind":.. then the body (unless there is
 * none) or "cut":true when it does not fit, then }\n.  Returns its length. */
static size_t format_line(char *line, cs_time now, const char *node, const char *kind, bool has_body,
                          body_fn *body, void *ctx)
{
    char id[256];
    sim_json_escape(node ? node : "-", id, sizeof id);
    int n = snprintf(line, SIM_TRACE_LINE_MAX, "{\"t\":%lld,\"node\":\"%s\",\"kind\":\"%s\"", (long long)now, id,
                     kind);
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
    return snprintf(out, size, "%s", (const char *)ctx);
}

/* ---- formats ---- */

enum lenmod { LEN_NONE, LEN_HH, LEN_H, LEN_L, LEN_LL, LEN_J, LEN_Z, LEN_T, LEN_BIG_L };

/* One conversion specification of a format, parsed. */
struct spec {
    const char *start, *end; /* from the '%' to just past the conversion */
    int stars;               /* '*' widths and precisions: int arguments first */
    bool precision;          /* a precision is given (it bounds a %s) */
    bool plain;              /* no flags, width or precision */
    long digits;             /* that precision, when written in digits (else -1) */
    enum lenmod len;
    char conv;
};

/* Parses the specification at pct (a '%'); false when malformed. */
static bool parse_spec(const char *pct, struct spec *s)
{
    const char *p = pct + 1;
    memset(s, 0, sizeof *s);
    s->start = pct;
    s->digits = -1;
    while (*p == '-' || *p == '+' || *p == ' ' || *p == '#' || *p == '0' || *p == '\'')
        p++;
    if (*p == '*') {
        s->stars++;
        p++;
    }
    while (*p >= '0' && *p <= '9')
        p++;
    s->plain = p == pct + 1 && *p != '.';
    if (*p == '.') {
        p++;
        s->precision = true;
        if (*p == '*') {
            s->stars++;
            p++;
        } else {
            s->digits = 0;
            for (; *p >= '0' && *p <= '9' && s->digits < 1000000; p++)
                s->digits = s->digits * 10 + (*p - '0');
        }
    }
    switch (*p) {
    case 'h': s->len = p[1] == 'h' ? (p++, LEN_HH) : LEN_H; p++; break;
    case 'l': s->len = p[1] == 'l' ? (p++, LEN_LL) : LEN_L; p++; break;
    case 'q': s->len = LEN_LL; p++; break;
    case 'L': s->len = LEN_BIG_L; p++; break;
    case 'j': s->len = LEN_J; p++; break;
    case 'z': case 'Z': s->len = LEN_Z; p++; break;
    case 't': s->len = LEN_T; p++; break;
    default: break;
    }
    s->conv = *p;
    if (!*p)
        return false;
    s->end = p + 1;
    return true;
}

/* How to take one argument of a format. */
enum arg_kind {
    ARG_INT, ARG_SCHAR, ARG_SHORT, ARG_LONG, ARG_LLONG, ARG_INTMAX, ARG_SSIZE, ARG_PTRDIFF,
    ARG_UINT, ARG_UCHAR, ARG_USHORT, ARG_ULONG, ARG_ULLONG, ARG_UINTMAX, ARG_SIZE,
    ARG_CHAR, ARG_PTR, ARG_DOUBLE, ARG_STR, ARG_STR_STAR, /* a %s whose precision was the last star */
};

#define FMT_ARGS_MAX 16
#define FMT_CACHE 256

/* A format compiled: what the encoder takes from the arguments.  Formats
 * are string literals (sim_trace_event makes sure), so the compiled form is
 * cached by address, per thread. */
struct fmt_info {
    const char *fmt;
    uint64_t id;  /* XXH3 of the format's text: its keys and punctuation */
    bool binary;  /* every conversion has a binary form (else: hash the line) */
    unsigned char count;
    unsigned char kind[FMT_ARGS_MAX];
    int digits[FMT_ARGS_MAX]; /* a %s's precision, or -1 */
};

static const unsigned char signed_kind[] = {
    [LEN_NONE] = ARG_INT, [LEN_HH] = ARG_SCHAR, [LEN_H] = ARG_SHORT, [LEN_L] = ARG_LONG, [LEN_LL] = ARG_LLONG,
    [LEN_J] = ARG_INTMAX, [LEN_Z] = ARG_SSIZE, [LEN_T] = ARG_PTRDIFF, [LEN_BIG_L] = ARG_LLONG,
};
static const unsigned char unsigned_kind[] = {
    [LEN_NONE] = ARG_UINT, [LEN_HH] = ARG_UCHAR, [LEN_H] = ARG_USHORT, [LEN_L] = ARG_ULONG, [LEN_LL] = ARG_ULLONG,
    [LEN_J] = ARG_UINTMAX, [LEN_Z] = ARG_SIZE, [LEN_T] = ARG_SIZE, [LEN_BIG_L] = ARG_ULLONG,
};

static bool add_arg(struct fmt_info *f, enum arg_kind kind, int digits)
{
    if (f->count == FMT_ARGS_MAX)
        return false;
    f->kind[f->count] = (unsigned char)kind;
    f->digits[f->count++] = digits;
    return true;
}

/* The argument kinds of one specification; false: no binary form (%n,
 * %m, %ls, %lc, %Lf, ...) or too many arguments. */
static bool compile_spec(struct fmt_info *f, const struct spec *s)
{
    for (int i = 0; i < s->stars; i++)
        if (!add_arg(f, ARG_INT, -1))
            return false;
    switch (s->conv) {
    case '%': return true;
    case 'd': case 'i': return add_arg(f, signed_kind[s->len], -1);
    case 'u': case 'o': case 'x': case 'X': return add_arg(f, unsigned_kind[s->len], -1);
    case 'p': return add_arg(f, ARG_PTR, -1);
    case 'c': return s->len == LEN_NONE && add_arg(f, ARG_CHAR, -1);
    case 's':
        if (s->len != LEN_NONE)
            return false;
        if (s->precision && s->digits < 0)
            return add_arg(f, ARG_STR_STAR, -1);
        return add_arg(f, ARG_STR, s->precision ? (int)s->digits : -1);
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': case 'a': case 'A':
        return s->len != LEN_BIG_L && add_arg(f, ARG_DOUBLE, -1);
    default: return false;
    }
}

static void compile_format(struct fmt_info *f, const char *fmt)
{
    memset(f, 0, sizeof *f);
    f->fmt = fmt;
    f->id = XXH3_64bits(fmt, strlen(fmt));
    f->binary = true;
    struct spec s;
    for (const char *p = strchr(fmt, '%'); p && f->binary; p = strchr(s.end, '%'))
        f->binary = parse_spec(p, &s) && compile_spec(f, &s);
}

static const struct fmt_info *format_info(const char *fmt)
{
    static _Thread_local struct fmt_info cache[FMT_CACHE];
    struct fmt_info *f = &cache[((uintptr_t)fmt * UINT64_C(0x9E3779B97F4A7C15)) >> 56 & (FMT_CACHE - 1)];
    if (f->fmt != fmt)
        compile_format(f, fmt);
    return f;
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

static void enc_bytes_slow(struct enc *e, const unsigned char *p, size_t len)
{
    while (len > 0) {
        if (e->n == SLOT_BYTES) { /* hash what is there and go on over it */
            size_t at = (size_t)(e->b - e->t->bytes);
            hash_upto(e->t, at + e->n);
            e->t->hashed = at;
            e->n = 0;
            e->spilled = true;
        }
        size_t k = SLOT_BYTES - e->n < len ? SLOT_BYTES - e->n : len;
        memcpy(e->b + e->n, p, k);
        e->n += k;
        p += k;
        len -= k;
    }
}

static inline void enc_bytes(struct enc *e, const void *p, size_t len)
{
    if (len <= SLOT_BYTES - e->n) {
        memcpy(e->b + e->n, p, len);
        e->n += len;
    } else {
        enc_bytes_slow(e, p, len);
    }
}

static inline void enc_u64(struct enc *e, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    enc_bytes(e, &v, 8);
#else
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    enc_bytes(e, x, 8);
#endif
}

static inline void enc_byte(struct enc *e, unsigned char c)
{
    enc_bytes(e, &c, 1);
}

/* A string with its NUL: short ones (node ids, kinds, keys) byte by byte,
 * cheaper than strlen and memcpy calls, longer ones by those. */
static inline void enc_str(struct enc *e, const char *s)
{
    size_t room = SLOT_BYTES - e->n;
    unsigned char *d = e->b + e->n;
    for (size_t i = 0; i < 32 && i < room; i++)
        if ((d[i] = (unsigned char)s[i]) == 0) {
            e->n += i + 1;
            return;
        }
    size_t done = room < 32 ? room : 32;
    e->n += done;
    enc_bytes(e, s + done, strlen(s + done) + 1);
}

static void enc_head(struct enc *e, cs_time now, const char *node, const char *kind)
{
    enc_u64(e, (uint64_t)now);
    enc_str(e, node ? node : "-");
    enc_str(e, kind);
}

/* Each argument's value, as the compiled format says to take it. */
static void enc_args(struct enc *e, const struct fmt_info *f, va_list *ap)
{
    int star = -1;
    for (unsigned i = 0; i < f->count; i++) {
        uint64_t v;
        switch ((enum arg_kind)f->kind[i]) {
        case ARG_INT: v = (uint64_t)(int64_t)(star = va_arg(*ap, int)); break;
        case ARG_SCHAR: v = (uint64_t)(int64_t)(signed char)va_arg(*ap, int); break;
        case ARG_SHORT: v = (uint64_t)(int64_t)(short)va_arg(*ap, int); break;
        case ARG_LONG: v = (uint64_t)(int64_t)va_arg(*ap, long); break;
        case ARG_LLONG: v = (uint64_t)(int64_t)va_arg(*ap, long long); break;
        case ARG_INTMAX: v = (uint64_t)(int64_t)va_arg(*ap, intmax_t); break;
        case ARG_SSIZE: v = (uint64_t)(int64_t)va_arg(*ap, ssize_t); break;
        case ARG_PTRDIFF: v = (uint64_t)(int64_t)va_arg(*ap, ptrdiff_t); break;
        case ARG_UINT: v = va_arg(*ap, unsigned); break;
        case ARG_UCHAR: v = (unsigned char)va_arg(*ap, unsigned); break;
        case ARG_USHORT: v = (unsigned short)va_arg(*ap, unsigned); break;
        case ARG_ULONG: v = va_arg(*ap, unsigned long); break;
        case ARG_ULLONG: v = va_arg(*ap, unsigned long long); break;
        case ARG_UINTMAX: v = va_arg(*ap, uintmax_t); break;
        case ARG_SIZE: v = va_arg(*ap, size_t); break;
        case ARG_CHAR: v = (unsigned char)va_arg(*ap, int); break;
        case ARG_PTR: v = (uintptr_t)va_arg(*ap, void *); break;
        case ARG_DOUBLE: {
            double d = va_arg(*ap, double);
            memcpy(&v, &d, sizeof v);
            break;
        }
        default: { /* the strings */
            const char *str = va_arg(*ap, const char *);
            int digits = f->kind[i] == ARG_STR_STAR ? star : f->digits[i];
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
static struct sim_trace_slot *next_slot(struct sim_trace *t, struct enc *e)
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
static bool enc_keep(struct enc *e, struct sim_trace_slot *slot, bool decodable)
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
        const struct fmt_info *f = format_info(fields);
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
    sim_json_escape(l->msg, esc, sizeof esc);
    return snprintf(out, size, "\"level\":\"%s\",\"msg\":\"%s\"", l->level, esc);
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

struct dec {
    const unsigned char *b;
    size_t n;
};

static uint64_t dec_u64(struct dec *d)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)d->b[d->n + (size_t)i] << (8 * i);
    d->n += 8;
    return v;
}

static const char *dec_str(struct dec *d)
{
    const char *s = (const char *)d->b + d->n;
    d->n += strlen(s) + 1;
    return s;
}

/* Appends n bytes as vsnprintf would: `len` counts what would be written. */
static void append(char *out, size_t size, size_t *len, const char *s, size_t n)
{
    if (*len + 1 < size) {
        size_t room = size - *len - 1;
        memcpy(out + *len, s, n < room ? n : room);
    }
    *len += n;
}

/* A plain %d or %u (any length) of a decoded value, as printf writes it. */
static void append_integer(char *out, size_t size, size_t *len, uint64_t v, bool negative)
{
    char digits[24];
    size_t k = sizeof digits;
    if (negative)
        v = -v;
    do {
        digits[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        digits[--k] = '-';
    append(out, size, len, digits + k, sizeof digits - k);
}

/* One conversion again from its decoded values: the specification with
 * its length modifier replaced by the type the value now has. */
static int print_spec(const struct spec *s, struct dec *d, char *out, size_t room)
{
    char spec[64];
    size_t k = 0;
    int star[2] = {0, 0};
    for (int i = 0; i < s->stars; i++)
        star[i] = (int)(int64_t)dec_u64(d);
    for (const char *p = s->start; p < s->end - 1 && k < sizeof spec - 4; p++)
        if (!strchr("hlqLjzZt", *p))
            spec[k++] = *p;
    bool integer = strchr("diuoxX", s->conv) != NULL;
    if (integer) {
        spec[k++] = 'l';
        spec[k++] = 'l';
    }
    spec[k++] = s->conv;
    spec[k] = '\0';
#define PRINT(v)                                                                               \
    (s->stars == 0 ? snprintf(out, room, spec, v)                                              \
                   : s->stars == 1 ? snprintf(out, room, spec, star[0], v) : snprintf(out, room, spec, star[0], star[1], v))
    switch (s->conv) {
    case 'd': case 'i': return PRINT((long long)(int64_t)dec_u64(d));
    case 'u': case 'o': case 'x': case 'X': return PRINT((unsigned long long)dec_u64(d));
    case 'c': return PRINT((int)dec_u64(d));
    case 'p': return PRINT((void *)(uintptr_t)dec_u64(d));
    case 's': return PRINT(dec_str(d));
    default: {
        uint64_t bits = dec_u64(d);
        double v;
        memcpy(&v, &bits, sizeof v);
        return PRINT(v);
    }
    }
#undef PRINT
}

struct dec_body {
    const char *fmt;
    struct dec *d;
};

/* vsnprintf of the record's format over its decoded values. */
static int body_decoded(void *ctx, char *out, size_t size)
{
    struct dec_body *db = ctx;
    size_t len = 0;
    const char *p = db->fmt;
    for (;;) {
        const char *pct = strchr(p, '%');
        append(out, size, &len, p, pct ? (size_t)(pct - p) : strlen(p));
        if (!pct)
            break;
        struct spec s;
        parse_spec(pct, &s);
        if (s.conv == '%') {
            append(out, size, &len, "%", 1);
        } else if (s.plain && (s.conv == 'd' || s.conv == 'i')) { /* the common ones, without snprintf */
            int64_t v = (int64_t)dec_u64(db->d);
            append_integer(out, size, &len, (uint64_t)v, v < 0);
        } else if (s.plain && s.conv == 'u') {
            append_integer(out, size, &len, dec_u64(db->d), false);
        } else if (s.plain && s.conv == 's') {
            const char *str = dec_str(db->d);
            append(out, size, &len, str, strlen(str));
        } else {
            bool room = len + 1 < size;
            len += (size_t)print_spec(&s, db->d, room ? out + len : NULL, room ? size - len : 0);
        }
        p = s.end;
    }
    if (size)
        out[len < size ? len : size - 1] = '\0';
    return (int)len;
}

static void slot_line(const struct sim_trace *t, const struct sim_trace_slot *slot, char *line)
{
    const unsigned char *b = t->bytes + slot->at;
    if (slot->form == SLOT_TEXT) {
        memcpy(line, b, strlen((const char *)b) + 1);
        return;
    }
    struct dec d = {b, 0};
    cs_time now = (cs_time)dec_u64(&d);
    const char *node = dec_str(&d), *kind = dec_str(&d);
    char form = (char)d.b[d.n++];
    if (form == 'P') {
        d.n += 8; /* the format's id */
        struct dec_body db = {slot->fmt, &d};
        format_line(line, now, node, kind, db.fmt[0] != '\0', body_decoded, &db);
        return;
    }
    if (form == 'L') {
        const char *level = dec_str(&d);
        log_line(line, now, node, level, dec_str(&d));
        return;
    }
    struct cs_field fields[FIELDS_MAX];
    size_t count = (size_t)dec_u64(&d);
    for (size_t i = 0; i < count; i++) {
        fields[i].key = dec_str(&d);
        fields[i].type = (enum cs_field_type)d.b[d.n++];
        switch (fields[i].type) {
        case CS_FIELD_STR: fields[i].v.s = dec_str(&d); break;
        case CS_FIELD_INT: fields[i].v.i = (int64_t)dec_u64(&d); break;
        case CS_FIELD_UINT: fields[i].v.u = dec_u64(&d); break;
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
