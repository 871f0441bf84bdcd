/*
 * sim/trace.c: formatting trace lines, hashing them with XXH3 (Debian's
 * libxxhash), writing them out, and keeping the most recent ones.
 */
#include "trace.h"

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
    size_t n = 0;
    for (; *s && n + 7 < size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c == '\n') {
            buf[n++] = '\\';
            buf[n++] = 'n';
        } else if (c < 0x20) {
            n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    if (size)
        buf[n < size ? n : size - 1] = '\0';
    return n;
}

void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...)
{
    if (!t->on)
        return;
    char line[SIM_TRACE_LINE_MAX];
    int n = snprintf(line, sizeof line, "{\"t\":%lld,\"node\":\"%s\",\"kind\":\"%s\"",
                     (long long)now, node ? node : "-", kind);
    if (fields[0]) {
        va_list ap;
        va_start(ap, fields);
        int m = vsnprintf(line + n + 1, sizeof line - (size_t)n - 3, fields, ap);
        va_end(ap);
        if (m > 0) { /* a format may well produce nothing: then no comma */
            line[n] = ',';
            n += 1 + m;
        }
        if ((size_t)n > sizeof line - 3)
            n = (int)sizeof line - 3; /* cut an oversized record */
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
