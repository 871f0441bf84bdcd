/*
 * sim/trace.h: the trace recorder.  Every simulator event becomes one JSON
 * line (format in docs/trace-format.md) for the sinks that are on: a trace
 * file, and a ring of the last SIM_TRACE_RING lines that failure reports
 * quote (sim_trace_last).  With neither the recorder is off, and the
 * macros below do not even evaluate their arguments.  The determinism hash
 * is the world's (sim/world.h), of the events themselves, not of these
 * lines.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stdio.h>

#include "../core/env.h"

#define SIM_TRACE_RING 64
#define SIM_TRACE_LINE_MAX 1400

struct sim_trace {
    bool on; /* any sink active: record events at all */
    FILE *file;
    uint64_t lines;
    char (*ring)[SIM_TRACE_LINE_MAX]; /* the last lines, or NULL */
    size_t ring_next;
};

/* Sets up the sinks: `file` (or NULL) and the ring of last lines. -1 out
 * of memory. */
int sim_trace_init(struct sim_trace *t, FILE *file, bool ring);
/* Releases the ring (does not close the file). */
void sim_trace_free(struct sim_trace *t);

/* Records one event: `node` is a node id or NULL for the world, `fields` a
 * printf format producing the rest of a JSON object body (may be "").  Use
 * sim_trace_event, which takes only a string literal and checks that a
 * sink is on first, so that a run without one (a fuzz seed, a seed range)
 * does not even evaluate the arguments. */
void sim_trace_record(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const char *fields, ...) __attribute__((format(printf, 5, 6)));
#define sim_trace_event(t, now, node, kind, ...)                          \
    do {                                                                  \
        if ((t)->on) /* "" __VA_ARGS__: the format must be a literal */   \
            sim_trace_record((t), (now), (node), (kind), "" __VA_ARGS__); \
    } while (0)

/* Records one event given typed fields (core/env.h): its line is the one
 * sim_trace_encode_fields writes. */
void sim_trace_fields(struct sim_trace *t, cs_time now, const char *node, const char *kind,
                      const struct cs_field *fields, size_t count);

/* Records a `log` event, {"level":LEVEL,"msg":MSG}, the message escaped
 * into at most 1,099 bytes. */
void sim_trace_log(struct sim_trace *t, cs_time now, const char *node, const char *level, const char *msg);

/* Points `out` at up to `max` most recent lines, oldest first, as a trace
 * file holds them (each ending in a newline); they stay valid until the
 * next record or sim_trace_free.  Returns the count (0 without the ring). */
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
