/*
 * sim/trace.h: the trace recorder.  Every simulator event becomes one JSON
 * line (format in docs/trace-format.md) when a trace file is written, and
 * is folded into an XXH3 hash of the whole trace (the determinism check)
 * in its binary form: time, node, kind, the format or the field keys, and
 * every value, never the formatted text (docs/simulation.md).  The last
 * events are kept in binary form too, and formatted as trace lines only
 * when a failure report asks for them (sim_trace_last).
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdio.h>

#include "../core/env.h"

#define SIM_TRACE_RING 64
#define SIM_TRACE_LINE_MAX 1400

struct sim_trace_slot; /* one recent event (trace.c) */

struct sim_trace {
    bool on;          /* any sink active: record events at all */
    FILE *file;
    void *hash_state; /* XXH3 state, or NULL */
    uint64_t lines;
    unsigned char *bytes;        /* the last events' encodings, back to back */
    size_t next, hashed;         /* where the next goes; from where not hashed yet */
    struct sim_trace_slot *ring; /* where each of the last events is */
    size_t ring_next;
    char (*text)[SIM_TRACE_LINE_MAX]; /* the ring formatted, by sim_trace_last */
};

/* Sets up the sinks; hashing and the ring go together. -1 out of memory. */
int sim_trace_init(struct sim_trace *t, FILE *file, bool hash);
/* Releases the hash state and the ring (does not close the file). */
void sim_trace_free(struct sim_trace *t);

/* Records one event: `node` is a node id or NULL for the world, `fields` a
 * printf format producing the rest of a JSON object body (may be "").  The
 * hash takes the format string and each argument's value (integers as 64
 * bits, doubles by their bits, strings by their bytes); conversions other
 * than d i u o x X c s p and the floating ones (a `%n`, `%ls`, `%Lf`) make
 * the record hash its formatted text instead.  The format must be a string
 * literal (its parse is cached by address): sim_trace_event refuses any
 * other at compile time, and checks that a sink is on first, so that a run
 * without one (a fuzz seed) does not even evaluate the arguments. */
void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...) __attribute__((format(printf, 5, 6)));
#define sim_trace_event(t, now, node, kind, ...)                          \
    do {                                                                  \
        if ((t)->on) /* "" __VA_ARGS__: the format must be a literal */   \
            sim_trace_record((t), (now), (node), (kind), "" __VA_ARGS__); \
    } while (0)

/* Records one event given typed fields (core/env.h): its line is the one
 * sim_trace_encode_fields writes; its hash takes each key, type and value. */
void sim_trace_fields(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const struct cs_field *fields, size_t count);

/* Records a `log` event, {"level":LEVEL,"msg":MSG}, the message escaped
 * into at most 1,099 bytes in the line; the hash takes level and message
 * whole. */
void sim_trace_log(struct sim_trace *t, cs_time now, const char *node, const char *level, const char *msg);

/* The hash of every event so far (0 when hashing is off): the same whether
 * or not a trace file is written.  Events may follow (it hashes what was
 * left for later, which changes nothing). */
uint64_t sim_trace_digest(struct sim_trace *t);

/* Formats up to `max` most recent events, oldest first, as the trace lines
 * a file would hold (each ending in a newline); `out` points at them until
 * the next call or sim_trace_free.  Returns the count (0 without hashing). */
size_t sim_trace_last(struct sim_trace *t, const char **out, size_t max);

/* Writes `s` as a JSON string body (escaped, without quotes) into buf:
 * quotes, backslashes and control characters escaped, valid UTF-8 kept,
 * any other byte written as the code point of the same value (U+0080 to
 * U+00FF), so the line is always valid JSON. */
size_t sim_json_escape(const char *s, char *buf, size_t size);

/* Encodes typed trace fields (core/env.h) as a JSON object body into buf;
 * a body that does not fit becomes `"cut":true`, never half a string. */
size_t sim_trace_encode_fields(const struct cs_field *fields, size_t count, char *buf, size_t size);

#endif
