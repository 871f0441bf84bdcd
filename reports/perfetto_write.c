/*
 * reports/perfetto_write.c: the Perfetto export, writing half: track names,
 * fault windows (on the world track when they nest, as async slices when
 * they overlap), the spans of every node track sorted and clipped so that
 * every child ends no later than its parent, the flow arrows, and otherData.
 */
#include "perfetto_internal.h"

#include <stdlib.h>
#include <string.h>

static void metadata(struct pf *p, const char *what, long tid, const char *key, json_t *value)
{
    pf_emit(p, json_pack("{s:s, s:s, s:i, s:i, s:{s:o}}", "ph", "M", "name", what, "pid", PF_PID, "tid",
                      (int)tid, "args", key, value));
}

static void write_metadata(struct pf *p)
{
    metadata(p, "process_name", PF_WORLD_TID, "name",
             json_string(tw_str(trace_walk_header(p->w), "scenario", "clustersim trace")));
    metadata(p, "thread_name", PF_WORLD_TID, "name", json_string("world"));
    metadata(p, "thread_sort_index", PF_WORLD_TID, "sort_index", json_integer(0)); /* listed first */
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
    json_t *ev = pf_event("X", name, start, tid);
    if (ev)
        json_object_set_new(ev, "dur", json_real(pf_ts_us(end - start)));
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
            pf_emit(p, ev);
            continue;
        }
        pf_emit(p, json_pack("{s:s, s:s, s:s, s:I, s:f, s:i, s:i, s:o}", "ph", "b", "cat", "fault", "name",
                          x->name, "id", (json_int_t)i + 1, "ts", pf_ts_us(x->start), "pid", PF_PID, "tid",
                          PF_WORLD_TID, "args", args));
        pf_emit(p, json_pack("{s:s, s:s, s:s, s:I, s:f, s:i, s:i}", "ph", "e", "cat", "fault", "name", x->name,
                          "id", (json_int_t)i + 1, "ts", pf_ts_us(end), "pid", PF_PID, "tid", PF_WORLD_TID));
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
        pf_emit(p, ev);
    }
    free(order);
}

/* A flow end sits strictly inside its slice, so it binds to that slice. */
static void flow_end(struct pf *p, const char *ph, const struct pf_span *s, size_t id)
{
    int64_t t = s->end - s->start >= 2 ? s->start + 1 : s->start;
    json_t *ev = pf_event(ph, s->name, t, (long)s->node + 1);
    if (ev) {
        json_object_set_new(ev, "cat", json_string("msg"));
        json_object_set_new(ev, "id", json_integer((json_int_t)id));
        if (!strcmp(ph, "f"))
            json_object_set_new(ev, "bp", json_string("e"));
    }
    pf_emit(p, ev);
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
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "generator", "clustersim",
                          "nodes", (json_int_t)trace_walk_node_count(p->w), "end_ns", (json_int_t)p->last_t,
                          "flows", (json_int_t)p->nflows, "flows_left_out", (json_int_t)p->left_out,
                          "flow_cap", (json_int_t)p->max_flows, "messages_dropped", (json_int_t)p->dropped,
                          "unmatched_arrivals", (json_int_t)p->unmatched);
    json_t *source = json_string(trace_path); /* NULL when the path is not UTF-8 */
    json_object_set_new(o, "source", source ? source : json_string("?"));
    static const char *const from_header[] = {"scenario", "file", "seed", "format"};
    for (size_t i = 0; o && i < sizeof from_header / sizeof *from_header; i++) {
        json_t *v = json_object_get(trace_walk_header(p->w), from_header[i]);
        if (v)
            json_object_set(o, from_header[i], v);
    }
    json_t *hash = json_object_get(trace_walk_end(p->w), "hash");
    if (o && hash)
        json_object_set(o, "trace_hash", hash);
    fputs("\n],\"displayTimeUnit\":\"ms\",\"otherData\":", p->out);
    if (!o || json_dumpf(o, p->out, JSON_COMPACT) != 0)
        p->oom = true;
    fputs("}\n", p->out);
    json_decref(o);
}

void pf_write_tail(struct pf *p, const char *trace_path)
{
    write_metadata(p);
    write_windows(p);
    write_spans(p);
    write_flows(p);
    write_other_data(p, trace_path);
}
