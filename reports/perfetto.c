/*
 * reports/perfetto.c: the Perfetto / Chrome trace event export of a
 * recorded trace.  Instants and counters are written as the trace is read;
 * spans (incarnations, tracker states, message slices) and flows are kept
 * and written at the end, sorted per track and clipped so that every child
 * ends no later than its parent.  Several message slices of one node at one
 * virtual time are laid end to end, PF_SLOT ns apart, so that each flow
 * arrow binds to its own slice.  Fault windows go on the world track when
 * they nest, as async slices when they overlap.
 */
#include "perfetto.h"

#include "trace_walk.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PF_PID 1
#define PF_WORLD_TID 0
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
    json_t *header, *end;
    int64_t last_t;
};

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*arr, n * elem);
    if (!p)
        return false;
    *arr = p;
    *cap = n;
    return true;
}

static double ts_us(int64_t ns)
{
    return (double)ns / 1000.0;
}

static void emit(struct pf *p, json_t *ev)
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

static json_t *event(const char *ph, const char *name, int64_t t, long tid)
{
    return json_pack("{s:s, s:s, s:f, s:i, s:i}", "ph", ph, "name", name, "ts", ts_us(t), "pid",
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
    json_t *ev = event("i", name, t, tid);
    if (ev) {
        json_object_set_new(ev, "s", json_string("t"));
        json_object_set_new(ev, "cat", json_string(cat));
        json_object_set_new(ev, "args", args ? args : json_object());
    } else {
        json_decref(args);
    }
    emit(p, ev);
}

static struct pf_node *node_at(struct pf *p, long index)
{
    size_t need = (size_t)index + 1;
    if (!grow((void **)&p->nodes, &p->capnodes, need, sizeof *p->nodes)) {
        p->oom = true;
        return NULL;
    }
    for (; p->nnodes < need; p->nnodes++)
        p->nodes[p->nnodes] = (struct pf_node){.inc = -1, .state = -1, .slot = -1};
    return &p->nodes[index];
}

static long span_open(struct pf *p, enum pf_kind kind, uint32_t node, int64_t start, const char *name)
{
    if (!grow((void **)&p->spans, &p->capspans, p->nspans + 1, sizeof *p->spans)) {
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
    if (!grow((void **)&p->flows, &p->capflows, p->nflows + 1, sizeof *p->flows)) {
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
    json_t *ev = event("C", r->node, r->t, r->node_index + 1);
    if (ev)
        json_object_set_new(ev, "args", args);
    else
        json_decref(args);
    emit(p, ev);
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
    if (!grow((void **)&p->wins, &p->capwins, p->nwins + 1, sizeof *p->wins)) {
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
    if (!strcmp(r->kind, "run") && !p->header)
        p->header = json_incref(r->json);
    else if (!strcmp(r->kind, "end"))
        p->end = (json_decref(p->end), json_incref(r->json));
    else if (!strcmp(r->kind, "action"))
        on_action(p, r);
    else if (!strcmp(r->kind, "stuck") || !strcmp(r->kind, "dns_add") || !strcmp(r->kind, "dns_remove") ||
             !strcmp(r->kind, "dns_outage"))
        instant(p, r->kind, "world", r->t, PF_WORLD_TID, record_args(r->json));
}

/* ---- the end: metadata, windows, spans, flows ---- */

static void metadata(struct pf *p, const char *what, long tid, const char *key, json_t *value)
{
    emit(p, json_pack("{s:s, s:s, s:i, s:i, s:{s:o}}", "ph", "M", "name", what, "pid", PF_PID, "tid",
                      (int)tid, "args", key, value));
}

static void write_metadata(struct pf *p)
{
    metadata(p, "process_name", PF_WORLD_TID, "name",
             json_string(tw_str(p->header, "scenario", "clustersim trace")));
    metadata(p, "thread_name", PF_WORLD_TID, "name", json_string("world"));
    metadata(p, "thread_sort_index", PF_WORLD_TID, "sort_index", json_integer(PF_WORLD_TID));
    size_t count = trace_walk_node_count(p->w);
    for (size_t i = 0; i < count; i++) {
        const char *id = trace_walk_node_id(p->w, i);
        const char *name = i < p->nnodes ? p->nodes[i].name : NULL;
        char label[300];
        snprintf(label, sizeof label, "%s%s%s", id, name ? " " : "", name ? name : "");
        metadata(p, "thread_name", (long)i + 1, "name", json_string(label));
        metadata(p, "thread_sort_index", (long)i + 1, "sort_index", json_integer((json_int_t)i + 1));
    }
}

static json_t *complete(const char *name, int64_t start, int64_t end, long tid)
{
    json_t *ev = event("X", name, start, tid);
    if (ev)
        json_object_set_new(ev, "dur", json_real(ts_us(end - start)));
    return ev;
}

/* Windows that nest go on the world track, the others become async slices. */
static void write_windows(struct pf *p)
{
    int64_t *stack = calloc(p->nwins + 1, sizeof *stack);
    size_t depth = 0;
    for (size_t i = 0; stack && i < p->nwins; i++) {
        struct pf_window *x = &p->wins[i];
        int64_t end = x->end < 0 || x->end > p->last_t ? p->last_t : x->end;
        end = end < x->start ? x->start : end;
        while (depth && stack[depth - 1] <= x->start)
            depth--;
        json_t *args = x->args;
        x->args = NULL;
        if (!depth || end <= stack[depth - 1]) {
            stack[depth++] = end;
            json_t *ev = complete(x->name, x->start, end, PF_WORLD_TID);
            if (ev)
                json_object_set_new(ev, "args", args);
            else
                json_decref(args);
            emit(p, ev);
            continue;
        }
        emit(p, json_pack("{s:s, s:s, s:s, s:I, s:f, s:i, s:i, s:o}", "ph", "b", "cat", "fault", "name",
                          x->name, "id", (json_int_t)i + 1, "ts", ts_us(x->start), "pid", PF_PID, "tid",
                          PF_WORLD_TID, "args", args));
        emit(p, json_pack("{s:s, s:s, s:s, s:I, s:f, s:i, s:i}", "ph", "e", "cat", "fault", "name", x->name,
                          "id", (json_int_t)i + 1, "ts", ts_us(end), "pid", PF_PID, "tid", PF_WORLD_TID));
    }
    if (!stack)
        p->oom = true;
    free(stack);
}

static const struct pf_span *g_sort_spans; /* qsort has no context argument in C11 */

static int span_order(const void *a, const void *b)
{
    const struct pf_span *x = &g_sort_spans[*(const size_t *)a], *y = &g_sort_spans[*(const size_t *)b];
    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/* Each message slice ends where the node's next one starts. */
static void clip_messages(struct pf *p, const size_t *order)
{
    size_t last = SIZE_MAX;
    for (size_t i = 0; i < p->nspans; i++) {
        struct pf_span *s = &p->spans[order[i]];
        if (last != SIZE_MAX && p->spans[last].node != s->node)
            last = SIZE_MAX;
        if (s->kind < PF_SEND)
            continue;
        if (last != SIZE_MAX && p->spans[last].end > s->start)
            p->spans[last].end = s->start;
        last = order[i];
    }
}

/* Clips every span to the span it starts in, so nesting is proper. */
static void clip_nesting(struct pf *p, const size_t *order)
{
    int64_t *stack = malloc((p->nspans + 1) * sizeof *stack);
    size_t depth = 0;
    for (size_t i = 0; stack && i < p->nspans; i++) {
        struct pf_span *s = &p->spans[order[i]];
        if (i && s->node != p->spans[order[i - 1]].node)
            depth = 0;
        while (depth && stack[depth - 1] <= s->start)
            depth--;
        if (depth && s->end > stack[depth - 1])
            s->end = stack[depth - 1];
        stack[depth++] = s->end;
    }
    if (!stack)
        p->oom = true;
    free(stack);
}

static json_t *span_args(struct pf *p, const struct pf_span *s)
{
    if (s->kind == PF_INC)
        return json_pack("{s:s}", "ended_by", s->detail ? s->detail : "end of run");
    if (s->kind == PF_STATE)
        return s->detail ? json_pack("{s:s}", "from", s->detail) : json_object();
    return json_pack("{s:s, s:s, s:I, s:I}", s->kind == PF_SEND ? "to" : "from",
                     trace_walk_node_id(p->w, s->peer), "type", s->name, "link", (json_int_t)s->link,
                     "len", (json_int_t)s->len);
}

static void write_spans(struct pf *p)
{
    size_t *order = malloc((p->nspans + 1) * sizeof *order);
    if (!order) {
        p->oom = true;
        return;
    }
    for (size_t i = 0; i < p->nspans; i++)
        order[i] = i;
    g_sort_spans = p->spans;
    qsort(order, p->nspans, sizeof *order, span_order);
    clip_messages(p, order);
    clip_nesting(p, order);
    static const char *const cats[] = {"incarnation", "tracker", "msg", "msg"};
    for (size_t i = 0; i < p->nspans; i++) {
        const struct pf_span *s = &p->spans[order[i]];
        json_t *ev = complete(s->name, s->start, s->end, (long)s->node + 1);
        if (ev) {
            json_object_set_new(ev, "cat", json_string(cats[s->kind]));
            json_object_set_new(ev, "args", span_args(p, s));
        }
        emit(p, ev);
    }
    free(order);
}

/* A flow end sits strictly inside its slice, so it binds to that slice. */
static void flow_end(struct pf *p, const char *ph, const struct pf_span *s, size_t id)
{
    int64_t t = s->end - s->start >= 2 ? s->start + 1 : s->start;
    json_t *ev = event(ph, s->name, t, (long)s->node + 1);
    if (ev) {
        json_object_set_new(ev, "cat", json_string("msg"));
        json_object_set_new(ev, "id", json_integer((json_int_t)id));
        if (!strcmp(ph, "f"))
            json_object_set_new(ev, "bp", json_string("e"));
    }
    emit(p, ev);
}

static void write_flows(struct pf *p)
{
    for (size_t i = 0; i < p->nflows; i++) {
        flow_end(p, "s", &p->spans[p->flows[i].send], i + 1);
        flow_end(p, "f", &p->spans[p->flows[i].recv], i + 1);
    }
}

static void write_other_data(struct pf *p, const char *trace_path)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "generator", "clustersim",
                          "time", "virtual; ts and dur in microseconds",
                          "nodes", (json_int_t)trace_walk_node_count(p->w), "end_ns", (json_int_t)p->last_t,
                          "flows", (json_int_t)p->nflows, "flows_left_out", (json_int_t)p->left_out,
                          "flow_cap", (json_int_t)p->max_flows, "messages_dropped", (json_int_t)p->dropped,
                          "unmatched_arrivals", (json_int_t)p->unmatched);
    json_t *source = json_string(trace_path);
    if (o)
        json_object_set_new(o, "source", source ? source : json_string("?"));
    static const char *const from_header[] = {"scenario", "file", "seed", "format"};
    for (size_t i = 0; o && i < sizeof from_header / sizeof *from_header; i++) {
        json_t *v = json_object_get(p->header, from_header[i]);
        if (v)
            json_object_set(o, from_header[i], v);
    }
    if (o && json_object_get(p->end, "hash"))
        json_object_set(o, "trace_hash", json_object_get(p->end, "hash"));
    fputs("\n],\"displayTimeUnit\":\"ms\",\"otherData\":", p->out);
    if (!o || json_dumpf(o, p->out, JSON_COMPACT) != 0)
        p->oom = true;
    fputs("}\n", p->out);
    json_decref(o);
}

static void finish(struct pf *p, const char *trace_path)
{
    if (p->end && tw_int(p->end, "t", 0) > p->last_t)
        p->last_t = tw_int(p->end, "t", 0);
    for (size_t i = 0; i < p->nnodes; i++) {
        span_close(p, &p->nodes[i].state, p->last_t, NULL);
        span_close(p, &p->nodes[i].inc, p->last_t, NULL);
    }
    write_metadata(p);
    write_windows(p);
    write_spans(p);
    write_flows(p);
    write_other_data(p, trace_path);
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
    json_decref(p->header);
    json_decref(p->end);
    trace_walk_close(p->w);
}

/* Removes a partial output, when it is a regular file. */
static void discard_output(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        remove(path);
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
    fputs("{\"traceEvents\":[", p.out);
    int rc = walk(&p, trace_path, err, err_size);
    if (rc == 0) {
        finish(&p, trace_path);
        if (p.oom)
            snprintf(err, err_size, "out of memory");
    }
    bool write_failed = ferror(p.out) != 0;
    write_failed |= fclose(p.out) != 0;
    if (rc == 0 && !p.oom && write_failed)
        snprintf(err, err_size, "%s: write error", out_path);
    free_pf(&p);
    if (rc != 0 || p.oom || write_failed) {
        discard_output(out_path);
        return -1;
    }
    return 0;
}

int perfetto_export(const char *trace_path, const char *out_path, char *err, size_t err_size)
{
    return perfetto_export_capped(trace_path, out_path, PERFETTO_MAX_FLOWS, err, err_size);
}
