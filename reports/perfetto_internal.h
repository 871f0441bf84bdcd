/*
 * reports/perfetto_internal.h: what the two halves of the Perfetto export
 * share: the model built while the trace is read (reports/perfetto.c) and
 * laid out and written at the end (reports/perfetto_write.c).  Their
 * private names are prefixed pf_ (Perfetto).
 */
#ifndef REPORTS_PERFETTO_INTERNAL_H
#define REPORTS_PERFETTO_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace_walk.h"

#define PF_PID 1
/* The world track's tid: above every node's (1 + node index), and not 0,
 * which older Perfetto trace processors merged with tid 1. */
#define PF_WORLD_TID 1000000
#define PF_SLOT 2         /* ns between message slices of one node at one time */
#define PF_MSG_DUR 1000   /* ns a message slice lasts unless the next one starts sooner */

enum pf_kind { PF_INC, PF_STATE, PF_SEND, PF_RECV }; /* also the nesting depth */

struct pf_span {
    int64_t start, end;
    const char *name, *detail; /* detail: how an incarnation ended, the state left */
    int64_t link, len;
    uint32_t node, peer;
    uint8_t kind;
};

struct pf_flow {
    size_t send, recv; /* span indexes */
};

struct pf_window {
    int64_t start, end; /* end -1 while waiting for a heal */
    const char *name;
    json_t *args;
};

struct pf_node {
    long inc, state; /* open span indexes, -1 when none */
    int64_t slot;    /* start of the node's last message slice, -1 when none */
    const char *name;
};

struct pf {
    FILE *out;
    bool first, oom, saw_until;
    struct trace_walk *w;
    struct pf_span *spans;
    size_t nspans, capspans;
    struct pf_flow *flows;
    size_t nflows, capflows, max_flows;
    struct pf_window *wins;
    size_t nwins, capwins;
    struct pf_node *nodes;
    size_t nnodes, capnodes;
    uint64_t left_out, dropped, unmatched;
    int64_t last_t;
};

/* Microseconds (the trace event unit) of `ns`. */
double pf_ts_us(int64_t ns);

/* Writes one event (stealing it) to the output; NULL marks out of memory. */
void pf_emit(struct pf *p, json_t *ev);

/* A new event {ph, name, ts, pid, tid}, or NULL out of memory. */
json_t *pf_event(const char *ph, const char *name, int64_t t, long tid);

/* Writes what is kept until the end (track names, fault windows, spans,
 * flows) and closes the document with otherData. */
void pf_write_tail(struct pf *p, const char *trace_path);

#endif
