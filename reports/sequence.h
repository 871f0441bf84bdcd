/*
 * reports/sequence.h: a text message sequence chart of a recorded trace
 * (docs/trace-format.md) for short runs (`clustersim replay --sequence`):
 * one lane per node, one row per message in send order, drawn as an arrow
 * from the sender's lane to the receiver's labelled with the tracker
 * message type ("link" for connection-level frames), and notes for node
 * starts, crashes, stops and tracker state changes.
 */
#ifndef REPORTS_SEQUENCE_H
#define REPORTS_SEQUENCE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SEQUENCE_DEFAULT_LIMIT 2000
/* The largest chart printed: rows (messages and notes) times the width of a
 * line (one lane per node); a bigger one is refused with a hint. */
#define SEQUENCE_OUTPUT_MAX (64u << 20)

struct sequence_options {
    const char *node; /* only messages to or from this node and its notes; NULL: every node */
    int64_t from, to; /* time window in ns, both included (a message by its send time) */
    size_t limit;     /* refuse more messages than this; 0: SEQUENCE_DEFAULT_LIMIT */
    size_t max_bytes; /* refuse a chart larger than this; 0: SEQUENCE_OUTPUT_MAX */
};

/* Prints the chart of the trace at `trace_path` to `out`.  0 on success;
 * -1 when the trace cannot be read or a line is not a trace record
 * ("FILE:LINE: reason" in `err`); -2, printing nothing, when the window
 * holds more than `opt->limit` messages (`err` says so). */
int sequence_print(const char *trace_path, FILE *out, const struct sequence_options *opt, char *err,
                   size_t err_size);

#endif
