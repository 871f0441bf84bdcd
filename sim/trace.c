/*
 * sim/trace.c: formatting trace lines, hashing them with XXH3 (Debian's
 * libxxhash), writing them out, and keeping the most recent ones.
 */
#include "trace.h"

#include "../core/json_text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

int sim_trace_init(struct sim_trace *t, FILE *file, bool hash)
{
    memset(t, 0, sizeof *t);
    t->file = file;
    if (hash) {
        XXH3_state_t *st = XXH3_createState();
        t->ring = calloc(SIM_TRACE_RING, sizeof *t->ring);
        if (!st || !t->ring) {
            XXH3_freeState(st);
            free(t->ring);
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
    t->hash_state = NULL;
    t->ring = NULL;
    t->on = false;
}

size_t sim_json_escape(const char *s, char *buf, size_t size)
{
    return cs_json_escape(s, buf, size);
}

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

void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...)
{
    if (!t->on)
        return;
    char line[SIM_TRACE_LINE_MAX], id[256];
    sim_json_escape(node ? node : "-", id, sizeof id);
    int n = snprintf(line, sizeof line, "{\"t\":%lld,\"node\":\"%s\",\"kind\":\"%s\"",
                     (long long)now, id, kind);
    if (fields[0]) {
        va_list ap;
        va_start(ap, fields);
        int m = vsnprintf(line + n + 1, sizeof line - (size_t)n - 3, fields, ap);
        va_end(ap);
        if (m > 0 && (size_t)(n + 1 + m) > sizeof line - 3) /* never half a record */
            m = snprintf(line + n + 1, sizeof line - (size_t)n - 3, "\"cut\":true");
        if (m > 0) { /* a format may well produce nothing: then no comma */
            line[n] = ',';
            n += 1 + m;
        }
    }
    line[n++] = '}';
    line[n++] = '\n';
    line[n] = '\0';
    t->lines++;
    if (t->hash_state) {
        XXH3_64bits_update(t->hash_state, line, (size_t)n);
        memcpy(t->ring[t->ring_next], line, (size_t)n + 1);
        t->ring_next = (t->ring_next + 1) % SIM_TRACE_RING;
    }
    if (t->file)
        fwrite(line, 1, (size_t)n, t->file);
}

uint64_t sim_trace_digest(const struct sim_trace *t)
{
    return t->hash_state ? XXH3_64bits_digest(t->hash_state) : 0;
}

size_t sim_trace_last(const struct sim_trace *t, const char **out, size_t max)
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
