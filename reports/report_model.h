/*
 * reports/report_model.h: what a run report shows, read back from a trace
 * file (docs/trace-format.md): every node's lifetime and tracker states
 * over virtual time, its membership and registry sizes (from `sample`
 * records), message counts by type in time buckets, the fault windows and
 * the stuck and dump records.  The HTML page and the plots are drawn from
 * this model only, so a report shows what the trace recorded.  The
 * report's files share the prefix rep_ (run report).
 */
#ifndef REPORTS_REPORT_MODEL_H
#define REPORTS_REPORT_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/env.h"

#define REP_BUCKETS 100      /* message-rate buckets over the run */
#define REP_MSG_TYPES 24     /* distinct message types kept (then "other") */
#define REP_LABEL 32

/* A stretch of one node's time in one state ("down", "up", "syncing"...). */
struct rep_span {
    cs_time from, to;
    char state[REP_LABEL];
};

/* One sample of a node's membership and registry sizes. */
struct rep_sample {
    cs_time t;
    long members, registry; /* -1 when the record did not carry it */
};

struct rep_node {
    char id[REP_LABEL];
    char name[64];               /* basename@address of the last incarnation */
    struct rep_span *spans;      /* consecutive, covering [0, end] */
    size_t span_count, span_cap;
    struct rep_sample *samples;
    size_t sample_count, sample_cap;
    char *last_dump;             /* the last `dump` record's state, or NULL */
};

/* A fault over a window of time (partition, clog, DNS outage) or at an
 * instant (kill, stop, restart, clock change: from == to). */
struct rep_fault {
    cs_time from, to;
    char what[96];
};

struct rep_msg_type {
    char name[REP_LABEL];
    uint64_t total;
    uint64_t buckets[REP_BUCKETS];
};

struct rep_model {
    char scenario[128], file[512];
    uint64_t seed;
    bool real;                   /* observed in the real world (`run --real`): times are real,
                                    seed is the trial */
    cs_time end;                 /* virtual time of the end record */
    uint64_t events, lines;
    char hash[24];
    struct rep_node *nodes;
    size_t node_count, node_cap;
    struct rep_fault *faults;
    size_t fault_count, fault_cap;
    struct rep_msg_type types[REP_MSG_TYPES];
    size_t type_count;
    cs_time bucket_width;        /* of the message-rate buckets */
    cs_time stuck_at;            /* first `stuck` record, or -1 */
    long stuck_nodes;
    uint64_t warnings, errors;   /* core log lines at those levels */
};

/* Reads the trace at `path` into `m` (zeroed first).  Returns 0, or -1 with
 * "PATH:LINE: reason" in err (unreadable file, a line that is not a JSON
 * object, no header record). */
int rep_model_load(const char *path, struct rep_model *m, char *err, size_t err_size);

/* Frees what rep_model_load allocated. */
void rep_model_free(struct rep_model *m);

/* The node whose id is `id`, or NULL. */
const struct rep_node *rep_model_node(const struct rep_model *m, const char *id);

#endif
