/*
 * reports/perfetto.c: the Perfetto / Chrome trace event export of a
 * recorded trace, reading half: each record is turned into events as it
 * is read.  Instants and counters are written at once; spans (incarnations,
 * tracker states, message slices), flows and fault windows are kept for
 * reports/perfetto_write.c.  Several message slices of one node at one
 * virtual time are laid end to end, PF_SLOT ns apart, so that each flow
 * arrow binds to its own slice.
 */
#include "perfetto.h"

#include "perfetto_internal.h"

#include "../core/grow.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

double pf_ts_us(int64_t ns)
{
    return (double)ns / 1000.0;
}

void pf_emit(struct pf *p, json_t *ev)
{
    if (!ev) {
        p->oom = true;
        return;
    }
    fputs(p->first ? "\n" : ",\n", p->out);
    p->first = false;
    json_dumpf(ev, p->out, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(ev);
}

json_t *pf_event(const char *ph, const char *name, int64_t t, long tid)
{
    return json_pack("{s:s, s:s, s:f, s:i, s:i}", "ph", ph, "name", name, "ts", pf_ts_us(t), "pid",
                     PF_PID, "tid", (int)tid);
}

/* The record's own fields (everything but t, node and kind). */
static json_t *record_args(json_t *rec)
{
    json_t *a = json_object(), *v;
    const char *k;
    json_object_foreach(rec, k, v) {
        if (strcmp(k, "t") && strcmp(k, "node") && strcmp(k, "kind"))
            json_object_set(a, k, v);
    }
    return a;
}

static void instant(struct pf *p, const char *name, const char *cat, int64_t t, long tid, json_t *args)
{
    json_t *ev = pf_event("i", name, t, tid);
    if (ev) {
        json_object_set_new(ev, "s", json_string("t"));
        json_object_set_new(ev, "cat", json_string(cat));
        json_object_set_new(ev, "args", args ? args : json_object());
    } else {
        json_decref(args);
    }
    pf_emit(p, ev);
}

static struct pf_node *node_at(struct pf *p, long index)
{
    size_t need = (size_t)index + 1;
    if (cs_grow((void **)&p->nodes, &p->capnodes, need, sizeof *p->nodes) != 0) {
        p->oom = true;
        return NULL;
    }
    for (; p->nnodes < need; p->nnodes++)
        p->nodes[p->nnodes] = (struct pf_node){.inc = -1, .state = -1, .slot = -1};
    return &p->nodes[index];
}

static long span_open(struct pf *p, enum pf_kind kind, uint32_t node, int64_t start, const char *name)
{
    if (cs_grow((void **)&p->spans, &p->capspans, p->nspans + 1, sizeof *p->spans) != 0) {
        p->oom = true;
        return -1;
    }
    p->spans[p->nspans] = (struct pf_span){.start = start, .end = start, .name = name, .node = node,
                                          .kind = (uint8_t)kind};
    return (long)p->nspans++;
}

static void span_close(struct pf *p, long *span, int64_t end, const char *detail)
{
    if (*span < 0)
        return;
    struct pf_span *s = &p->spans[*span];
    s->end = end > s->start ? end : s->start;
    if (detail)
        s->detail = detail;
    *span = -1;
}

/* ---- node lifecycle and tracker states ---- */

static void on_node_start(struct pf *p, const struct tw_record *r, struct pf_node *n)
{
    const char *name = tw_str(r->json, "name", r->node);
    span_close(p, &n->state, r->t, NULL);
    span_close(p, &n->inc, r->t, "restart");
    if (!n->name)
        n->name = trace_walk_intern(p->w, name);
    char label[300];
    snprintf(label, sizeof label, "%s (inc %lld)", name, (long long)tw_int(r->json, "inc", 0));
    n->inc = span_open(p, PF_INC, (uint32_t)r->node_index, r->t, trace_walk_intern(p->w, label));
}

static void on_node_down(struct pf *p, const struct tw_record *r, struct pf_node *n)
{
    span_close(p, &n->state, r->t, NULL);
    span_close(p, &n->inc, r->t, trace_walk_intern(p->w, r->kind));
    instant(p, r->kind, "lifecycle", r->t, r->node_index + 1, record_args(r->json));
}

static void on_tracker_state(struct pf *p, const struct tw_record *r, struct pf_node *n)
{
    const char *from = trace_walk_intern(p->w, tw_str(r->json, "from", "?"));
    const char *to = trace_walk_intern(p->w, tw_str(r->json, "to", "?"));
    /* The state before the first change of an incarnation started with it. */
    if (n->state < 0 && n->inc >= 0 && p->spans[n->inc].start < r->t) {
        n->state = span_open(p, PF_STATE, (uint32_t)r->node_index, p->spans[n->inc].start, from);
        span_close(p, &n->state, r->t, NULL);
    }
    span_close(p, &n->state, r->t, NULL);
    n->state = span_open(p, PF_STATE, (uint32_t)r->node_index, r->t, to);
    if (n->state >= 0)
        p->spans[n->state].detail = from;
}

/* ---- messages ---- */

/* The start of the node's next message slice: `t`, or just after the
 * previous slice when that one is at the same time. */
static int64_t reserve_slot(struct pf_node *n, int64_t t)
{
    int64_t s = n->slot >= 0 && n->slot + PF_SLOT > t ? n->slot + PF_SLOT : t;
    n->slot = s;
    return s;
}

static long msg_span(struct pf *p, enum pf_kind kind, const struct tw_msg *m, int64_t start)
{
    uint32_t node = kind == PF_SEND ? m->from : m->to;
    long s = span_open(p, kind, node, start, m->type);
    if (s >= 0) {
        p->spans[s].end = start + PF_MSG_DUR;
        p->spans[s].link = m->link;
        p->spans[s].len = m->len;
        p->spans[s].peer = kind == PF_SEND ? m->to : m->from;
    }
    return s;
}

static void on_delivery(struct pf *p, const struct tw_record *r, struct pf_node *n)
{
    if (p->nflows >= p->max_flows) {
        p->left_out++;
        return;
    }
    if (cs_grow((void **)&p->flows, &p->capflows, p->nflows + 1, sizeof *p->flows) != 0) {
        p->oom = true;
        return;
    }
    long send = msg_span(p, PF_SEND, r->msg, r->msg->user);
    long recv = msg_span(p, PF_RECV, r->msg, reserve_slot(n, r->t));
    if (send >= 0 && recv >= 0)
        p->flows[p->nflows++] = (struct pf_flow){(size_t)send, (size_t)recv};
}

static void on_message(struct pf *p, const struct tw_record *r, struct pf_node *n)
{
    if (!strcmp(r->kind, "msg_send"))
        r->msg->user = reserve_slot(n, r->t);
    else if (!r->msg)
        p->unmatched++;
    else if (!strcmp(r->kind, "msg_recv"))
        on_delivery(p, r, n);
    else
        p->dropped++;
}

/* ---- node records ---- */

static void on_sample(struct pf *p, const struct tw_record *r)
{
    json_t *args = json_object(), *v;
    const char *k;
    json_object_foreach(r->json, k, v) {
        if (json_is_number(v) && strcmp(k, "t"))
            json_object_set(args, k, v);
    }
    json_t *ev = pf_event("C", r->node, r->t, r->node_index + 1);
    if (ev)
        json_object_set_new(ev, "args", args);
    else
        json_decref(args);
    pf_emit(p, ev);
}

static void on_log(struct pf *p, const struct tw_record *r)
{
    const char *level = tw_str(r->json, "level", "");
    if (strcmp(level, "warn") && strcmp(level, "error"))
        return;
    instant(p, tw_str(r->json, "msg", level), level, r->t, r->node_index + 1, record_args(r->json));
}

static void on_node_record(struct pf *p, const struct tw_record *r)
{
    struct pf_node *n = node_at(p, r->node_index);
    const char *k = r->kind;
    long tid = r->node_index + 1;
    if (!n)
        return;
    if (!strcmp(k, "node_start"))
        on_node_start(p, r, n);
    else if (!strcmp(k, "node_crash") || !strcmp(k, "node_exit") || !strcmp(k, "grace_expired"))
        on_node_down(p, r, n);
    else if (!strcmp(k, "tracker_state"))
        on_tracker_state(p, r, n);
    else if (!strcmp(k, "msg_send") || !strcmp(k, "msg_recv") || !strcmp(k, "msg_drop"))
        on_message(p, r, n);
    else if (!strcmp(k, "dgram_send") || !strcmp(k, "dgram_recv"))
        instant(p, "gossip", k, r->t, tid, record_args(r->json));
    else if (!strcmp(k, "log"))
        on_log(p, r);
    else if (!strcmp(k, "sample"))
        on_sample(p, r);
    else if (!strcmp(k, "dump") || !strcmp(k, "stuck") || !strcmp(k, "node_stop") ||
             !strcmp(k, "node_readdress") || !strcmp(k, "clock_jump") || !strcmp(k, "clock_rate"))
        instant(p, k, "lifecycle", r->t, tid, record_args(r->json));
}

/* ---- the world: actions and fault windows ---- */

static bool is_fault(const char *action)
{
    return !strcmp(action, "partition") || !strcmp(action, "clog") || !strcmp(action, "dns_fail");
}

static void window_open(struct pf *p, const struct tw_record *r, const char *action)
{
    if (cs_grow((void **)&p->wins, &p->capwins, p->nwins + 1, sizeof *p->wins) != 0) {
        p->oom = true;
        return;
    }
    json_t *until = json_object_get(r->json, "until");
    int64_t end = -1;
    if (json_is_integer(until)) {
        p->saw_until = true;
        end = json_integer_value(until) > r->t ? json_integer_value(until) : r->t;
    }
    p->wins[p->nwins++] = (struct pf_window){.start = r->t, .end = end,
                                             .name = trace_walk_intern(p->w, action),
                                             .args = record_args(r->json)};
}

/* A heal: `after` names the timed fault it ends (traces older than `until`
 * only say so there); without it every partition and clog heals. */
static void window_heal(struct pf *p, int64_t t, const char *after)
{
    for (size_t i = 0; i < p->nwins; i++) {
        struct pf_window *x = &p->wins[i];
        if (x->end >= 0)
            continue;
        if (after && !p->saw_until && !strcmp(x->name, after)) {
            x->end = t;
            return;
        }
        if (!after && strcmp(x->name, "dns_fail"))
            x->end = t;
    }
}

static void on_action(struct pf *p, const struct tw_record *r)
{
    const char *action = tw_str(r->json, "action", "?");
    const char *after = tw_str(r->json, "after", NULL);
    char name[160];
    snprintf(name, sizeof name, "%s%s%s", action, after ? " after " : "", after ? after : "");
    instant(p, name, "action", r->t, PF_WORLD_TID, record_args(r->json));
    if (is_fault(action))
        window_open(p, r, action);
    else if (!strcmp(action, "heal"))
        window_heal(p, r->t, after);
}

static void on_world_record(struct pf *p, const struct tw_record *r)
{
    if (!strcmp(r->kind, "action"))
        on_action(p, r);
    else if (!strcmp(r->kind, "stuck") || !strcmp(r->kind, "dns_add") || !strcmp(r->kind, "dns_remove") ||
             !strcmp(r->kind, "dns_outage"))
        instant(p, r->kind, "world", r->t, PF_WORLD_TID, record_args(r->json));
}

static int walk(struct pf *p, const char *trace_path, char *err, size_t err_size)
{
    struct tw_record r;
    int rc;
    size_t records = 0;
    while ((rc = trace_walk_next(p->w, &r, err, err_size)) == 1) {
        records++;
        if (r.t > p->last_t)
            p->last_t = r.t;
        if (r.node_index < 0)
            on_world_record(p, &r);
        else
            on_node_record(p, &r);
        if (p->oom) {
            snprintf(err, err_size, "out of memory");
            return -1;
        }
    }
    if (rc == 0 && records == 0) {
        snprintf(err, err_size, "%s: no trace records", trace_path);
        return -1;
    }
    return rc;
}

static void free_pf(struct pf *p)
{
    for (size_t i = 0; i < p->nwins; i++)
        json_decref(p->wins[i].args);
    free(p->wins);
    free(p->spans);
    free(p->flows);
    free(p->nodes);
    trace_walk_close(p->w);
}

/* Removes a partial output, when it is a regular file. */
static void discard_output(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        remove(path);
}

/* Reads the trace and writes the whole document; 0 on success. */
static int export_to(struct pf *p, const char *trace_path, char *err, size_t err_size)
{
    fputs("{\"traceEvents\":[", p->out);
    int rc = walk(p, trace_path, err, err_size);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < p->nnodes; i++) { /* what is still open ends with the run */
        span_close(p, &p->nodes[i].state, p->last_t, NULL);
        span_close(p, &p->nodes[i].inc, p->last_t, NULL);
    }
    pf_write_tail(p, trace_path);
    if (p->oom) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    return 0;
}

int perfetto_export_capped(const char *trace_path, const char *out_path, size_t max_flows,
                           char *err, size_t err_size)
{
    struct pf p = {.first = true, .max_flows = max_flows};
    p.w = trace_walk_open(trace_path, err, err_size);
    if (!p.w)
        return -1;
    p.out = fopen(out_path, "w");
    if (!p.out) {
        snprintf(err, err_size, "%s: cannot write", out_path);
        free_pf(&p);
        return -1;
    }
    int rc = export_to(&p, trace_path, err, err_size);
    bool write_failed = ferror(p.out) != 0;
    write_failed |= fclose(p.out) != 0;
    if (rc == 0 && write_failed) {
        snprintf(err, err_size, "%s: write error", out_path);
        rc = -1;
    }
    free_pf(&p);
    if (rc != 0)
        discard_output(out_path);
    return rc;
}

int perfetto_export(const char *trace_path, const char *out_path, char *err, size_t err_size)
{
    return perfetto_export_capped(trace_path, out_path, PERFETTO_MAX_FLOWS, err, err_size);
}
