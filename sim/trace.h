/*
 * sim/trace.h: the trace recorder.  Every simulator event becomes one JSON
 * line (format in docs/trace-format.md): written to a file when asked,
 * folded into an XXH3 hash of the whole trace (the determinism check), and
 * kept in a ring of the last lines for failure reports.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdio.h>

#include "../core/env.h"

#define SIM_TRACE_RING 64
#define SIM_TRACE_LINE_MAX 1400

struct sim_trace {
    bool on;          /* any sink active: format lines at all */
    FILE *file;
    void *hash_state; /* XXH3 state, or NULL */
    uint64_t lines;
    char (*ring)[SIM_TRACE_LINE_MAX];
    size_t ring_next;
};

/* Sets up the sinks; hashing and the ring go together. -1 out of memory. */
int sim_trace_init(struct sim_trace *t, FILE *file, bool hash);
/* Releases the hash state and the ring (does not close the file). */
void sim_trace_free(struct sim_trace *t);

/* Records one event: `node` is a node id or NULL for the world, `fields` a
 * printf format producing the rest of a JSON object body (may be "").
 * sim_trace_event checks that a sink is on first, so that a run without one
 * (a fuzz seed) does not even evaluate the arguments. */
void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...) __attribute__((format(printf, 5, 6)));
#define sim_trace_event(t, ...)                \
    do {                                       \
        if ((t)->on)                           \
            sim_trace_record((t), __VA_ARGS__); \
    } while (0)

/* The hash of every line so far (0 when hashing is off). */
uint64_t sim_trace_digest(const struct sim_trace *t);

/* Copies up to `max` most recent lines, oldest first, into `out`; returns
 * the count. */
size_t sim_trace_last(const struct sim_trace *t, const char **out, size_t max);

/* Writes `s` as a JSON string body (escaped, without quotes) into buf:
 * quotes, backslashes and control characters escaped, valid UTF-8 kept,
 * any other byte written as the code point of the same value (U+0080 to
 * U+00FF), so the line is always valid JSON. */
size_t sim_json_escape(const char *s, char *buf, size_t size);

/* Encodes typed trace fields (core/env.h) as a JSON object body into buf;
 * a body that does not fit becomes `"cut":true`, never half a string. */
size_t sim_trace_encode_fields(const struct cs_field *fields, size_t count, char *buf, size_t size);

#endif
