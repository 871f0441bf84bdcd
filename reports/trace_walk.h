/*
 * reports/trace_walk.h: reading a recorded trace (docs/trace-format.md)
 * record by record, for the trace consumers (the Perfetto export and the
 * sequence chart): one JSON object per line with "FILE:LINE: reason"
 * errors, the table of nodes seen, interned strings, and the pairing of
 * every `msg_send` with the `msg_recv` or `msg_drop` that consumes it (FIFO
 * per link and direction), named by the tracker message type of the
 * `trk_send` record written just before it ("link" when there is none).
 */
#ifndef REPORTS_TRACE_WALK_H
#define REPORTS_TRACE_WALK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A message as it was sent. */
struct tw_msg {
    int64_t sent;       /* send time, ns */
    int64_t link, len;
    uint32_t from, to;  /* node indexes */
    const char *type;   /* tracker message type ("sync") or "link"; interned */
    uint64_t seq;       /* send order, from 0 */
    int64_t user;       /* free for the consumer; 0 when sent */
};

/* One record; everything in it is valid until the next trace_walk_next. */
struct tw_record {
    json_t *json;       /* the whole record (borrowed) */
    int64_t t;          /* ns */
    const char *node;   /* node id, "-" for the world */
    const char *kind;
    long node_index;    /* index into the node table, -1 for the world */
    size_t line;
    /* msg_send: the message just sent; msg_recv / msg_drop: the message it
     * consumes, or NULL when no send matches (a truncated trace). */
    struct tw_msg *msg;
};

struct trace_walk;

/* Opens a trace file; NULL with a message in `err` when it cannot be read. */
struct trace_walk *trace_walk_open(const char *path, char *err, size_t err_size);

/* Reads the next record into `rec`: 1 when there is one, 0 at the end of
 * the file, -1 on a line that is not a trace record ("FILE:LINE: reason" in
 * `err`).  Blank lines are skipped. */
int trace_walk_next(struct trace_walk *w, struct tw_record *rec, char *err, size_t err_size);

/* The index of node `id`, added to the table when new. */
size_t trace_walk_node(struct trace_walk *w, const char *id);

/* How many nodes the table holds. */
size_t trace_walk_node_count(const struct trace_walk *w);

/* The id of node `index` ("n1"). */
const char *trace_walk_node_id(const struct trace_walk *w, size_t index);

/* A copy of `s` that lives as long as the walk (equal strings share one). */
const char *trace_walk_intern(struct trace_walk *w, const char *s);

/* Closes the file and frees everything, interned strings included. */
void trace_walk_close(struct trace_walk *w);

/* The run header record (kind "run") and the last end record seen so far,
 * or NULL (borrowed; valid until trace_walk_close). */
json_t *trace_walk_header(const struct trace_walk *w);
json_t *trace_walk_end(const struct trace_walk *w);

/* The integer field `key` of `o`, or `dflt` when absent or not an integer. */
int64_t tw_int(const json_t *o, const char *key, int64_t dflt);

/* The string field `key` of `o`, or `dflt` when absent or not a string. */
const char *tw_str(const json_t *o, const char *key, const char *dflt);

#endif
