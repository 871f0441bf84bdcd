/*
 * sim/trace.c: the trace recorder: each event formatted as one JSON line
 * (docs/trace-format.md) for the sinks that want it, a trace file and a
 * ring of the last SIM_TRACE_RING lines (failure reports).  With neither
 * sink the recorder is off and the simulator does not even build its
 * events' fields.  The run's determinism hash is not taken here: it folds
 * the simulator's events themselves (sim/world.c, docs/simulation.md).
 */
#include "trace.h"

#include "../core/json_text.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int sim_trace_init(struct sim_trace *t, FILE *file, bool ring)
{
    memset(t, 0, sizeof *t);
    t->file = file;
    if (ring && !(t->ring = malloc(SIM_TRACE_RING * sizeof *t->ring)))
        return -1;
    t->on = file != NULL || ring;
    return 0;
}

void sim_trace_free(struct sim_trace *t)
{
    free(t->ring);
    t->ring = NULL;
    t->on = false;
}

/* Writes v (negated first when `negative`: v holds a negative value's two's
 * complement) in decimal, as %lld or %llu would, into d (room for 21 bytes,
 * no NUL); returns the length. */
static size_t trace_decimal(char *d, uint64_t v, bool negative)
{
    char tmp[24];
    size_t k = sizeof tmp;
    if (negative)
        v = -v;
    do {
        tmp[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        tmp[--k] = '-';
    memcpy(d, tmp + k, sizeof tmp - k);
    return sizeof tmp - k;
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

/* Where the next line goes: the ring's next slot, or `local` without a
 * ring. */
static char *line_buffer(struct sim_trace *t, char *local)
{
    return t->ring ? t->ring[t->ring_next] : local;
}

/* The line is written: to the file, and kept in the ring. */
static void line_done(struct sim_trace *t, const char *line, size_t len)
{
    t->lines++;
    if (t->file)
        fwrite(line, 1, len, t->file);
    if (t->ring)
        t->ring_next = (t->ring_next + 1) % SIM_TRACE_RING;
}

void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...)
{
    if (!t->on)
        return;
    char local[SIM_TRACE_LINE_MAX], *line = line_buffer(t, local);
    struct va_body v = {.fmt = fields};
    va_start(v.ap, fields);
    size_t len = format_line(line, now, node, kind, fields[0] != '\0', body_va, &v);
    va_end(v.ap);
    line_done(t, line, len);
}

void sim_trace_fields(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const struct cs_field *fields, size_t count)
{
    if (!t->on)
        return;
    char local[SIM_TRACE_LINE_MAX], *line = line_buffer(t, local), body[SIM_TRACE_LINE_MAX];
    sim_trace_encode_fields(fields, count, body, sizeof body);
    line_done(t, line, format_line(line, now, node, kind, true, body_str, body));
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
    char local[SIM_TRACE_LINE_MAX], *line = line_buffer(t, local);
    line_done(t, line, log_line(line, now, node, level, msg));
}

size_t sim_trace_last(struct sim_trace *t, const char **out, size_t max)
{
    if (!t->ring)
        return 0;
    size_t have = t->lines < SIM_TRACE_RING ? (size_t)t->lines : SIM_TRACE_RING;
    size_t count = have < max ? have : max;
    size_t start = (t->ring_next + SIM_TRACE_RING - count) % SIM_TRACE_RING;
    for (size_t i = 0; i < count; i++)
        out[i] = t->ring[(start + i) % SIM_TRACE_RING];
    return count;
}
