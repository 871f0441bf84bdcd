/*
 * reports/report_model.c: reads a trace back into the report model, one
 * record at a time through reports/trace_walk.h (which also names each
 * message by the tracker's `trk_send` record before it).  Node states come
 * from lifecycle and `tracker_state` records, sizes from `sample` records,
 * fault windows from timeline `action` records.
 */
#include "report_model.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grow.h"
#include "trace_walk.h"

/* A message seen in the trace, bucketed once the end time is known. */
struct msg_seen {
    cs_time t;
    uint8_t type;
};

struct loader {
    struct rep_model *m;
    struct msg_seen *msgs;
    size_t msg_count, msg_cap;
    cs_time last_t;
};

static const char *str_of(json_t *o, const char *key)
{
    return tw_str(o, key, "");
}

static cs_time time_of(json_t *o, const char *key)
{
    return tw_int(o, key, -1);
}

static int node_index(struct loader *L, const char *id)
{
    struct rep_model *m = L->m;
    for (size_t i = 0; i < m->node_count; i++)
        if (!strcmp(m->nodes[i].id, id))
            return (int)i;
    if (cs_grow((void **)&m->nodes, &m->node_cap, m->node_count + 1, sizeof *m->nodes) != 0)
        return -1;
    struct rep_node *n = &m->nodes[m->node_count];
    memset(n, 0, sizeof *n);
    snprintf(n->id, sizeof n->id, "%s", id);
    if (cs_grow((void **)&n->spans, &n->span_cap, 1, sizeof *n->spans) != 0)
        return -1;
    n->spans[0] = (struct rep_span){.from = 0, .to = -1, .state = "down"};
    n->span_count = 1;
    return (int)m->node_count++;
}

/* Closes the node's current span at t and opens one in `state`. */
static int set_state(struct rep_node *n, cs_time t, const char *state)
{
    struct rep_span *last = &n->spans[n->span_count - 1];
    if (!strcmp(last->state, state))
        return 0;
    if (last->from == t) { /* nothing happened in between: relabel */
        snprintf(last->state, sizeof last->state, "%s", state);
        if (n->span_count > 1 && !strcmp(n->spans[n->span_count - 2].state, state)) {
            n->span_count--;
            n->spans[n->span_count - 1].to = -1;
        }
        return 0;
    }
    last->to = t;
    if (cs_grow((void **)&n->spans, &n->span_cap, n->span_count + 1, sizeof *n->spans) != 0)
        return -1;
    struct rep_span *s = &n->spans[n->span_count++];
    s->from = t;
    s->to = -1;
    snprintf(s->state, sizeof s->state, "%s", state);
    return 0;
}

static int type_index(struct rep_model *m, const char *name)
{
    for (size_t i = 0; i < m->type_count; i++)
        if (!strcmp(m->types[i].name, name))
            return (int)i;
    if (m->type_count == REP_MSG_TYPES)
        return (int)REP_MSG_TYPES - 1; /* the last slot collects the rest */
    snprintf(m->types[m->type_count].name, sizeof m->types[0].name, "%s",
             m->type_count == REP_MSG_TYPES - 1 ? "other" : name);
    return (int)m->type_count++;
}

static int message(struct loader *L, cs_time t, const char *type)
{
    if (cs_grow((void **)&L->msgs, &L->msg_cap, L->msg_count + 1, sizeof *L->msgs) != 0)
        return -1;
    L->msgs[L->msg_count++] = (struct msg_seen){.t = t, .type = (uint8_t)type_index(L->m, type)};
    return 0;
}

static int add_sample(struct rep_node *n, json_t *o, cs_time t)
{
    if (cs_grow((void **)&n->samples, &n->sample_cap, n->sample_count + 1, sizeof *n->samples) != 0)
        return -1;
    json_t *mem = json_object_get(o, "members"), *reg = json_object_get(o, "registry");
    n->samples[n->sample_count++] = (struct rep_sample){
        .t = t,
        .members = json_is_integer(mem) ? (long)json_integer_value(mem) : -1,
        .registry = json_is_integer(reg) ? (long)json_integer_value(reg) : -1,
    };
    return 0;
}

static int add_fault(struct rep_model *m, cs_time from, cs_time to, const char *what)
{
    if (cs_grow((void **)&m->faults, &m->fault_cap, m->fault_count + 1, sizeof *m->faults) != 0)
        return -1;
    struct rep_fault *f = &m->faults[m->fault_count++];
    f->from = from;
    f->to = to;
    snprintf(f->what, sizeof f->what, "%s", what);
    return 0;
}

/* "kill n1 n2" from an action record's node list. */
static void describe(json_t *o, const char *action, char *out, size_t size)
{
    size_t len = (size_t)snprintf(out, size, "%s", action);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(o, "nodes"), i, v) {
        if (len + 8 >= size) {
            snprintf(out + len, size - len, " ...");
            return;
        }
        len += (size_t)snprintf(out + len, size - len, " %s", json_string_value(v));
    }
}

static int world_record(struct loader *L, json_t *o, const char *kind, cs_time t)
{
    struct rep_model *m = L->m;
    if (!strcmp(kind, "stuck")) {
        if (m->stuck_at < 0) {
            m->stuck_at = t;
            m->stuck_nodes = (long)json_integer_value(json_object_get(o, "nodes"));
        }
        return 0;
    }
    if (strcmp(kind, "action") != 0)
        return 0;
    const char *action = str_of(o, "action");
    char what[96];
    describe(o, action, what, sizeof what);
    if (!strcmp(action, "heal")) {
        if (json_object_get(o, "after"))
            return 0; /* a timed fault ending: its window already says until */
        for (size_t i = 0; i < m->fault_count; i++)
            if (m->faults[i].to < 0)
                m->faults[i].to = t;
        return add_fault(m, t, t, "heal");
    }
    if (!strcmp(action, "partition") || !strcmp(action, "clog") || !strcmp(action, "dns_fail"))
        return add_fault(m, t, time_of(o, "until"), what);
    if (!strcmp(action, "kill") || !strcmp(action, "stop") || !strcmp(action, "restart") ||
        !strcmp(action, "clock_jump") || !strcmp(action, "clock_rate") || !strcmp(action, "dns_remove"))
        return add_fault(m, t, t, what);
    return 0;
}

static int node_record(struct loader *L, const struct tw_record *rec, const char *kind, cs_time t)
{
    json_t *o = rec->json;
    int i = node_index(L, rec->node);
    if (i < 0)
        return -1;
    struct rep_node *n = &L->m->nodes[i];
    if (!strcmp(kind, "node_start")) {
        snprintf(n->name, sizeof n->name, "%s", str_of(o, "name"));
        return set_state(n, t, "up");
    }
    if (!strcmp(kind, "tracker_state")) {
        /* The tracker was in `from` since the node came up. */
        struct rep_span *cur = &n->spans[n->span_count - 1];
        if (!strcmp(cur->state, "up") && str_of(o, "from")[0])
            snprintf(cur->state, sizeof cur->state, "%s", str_of(o, "from"));
        return set_state(n, t, str_of(o, "to"));
    }
    if (!strcmp(kind, "node_stop"))
        return set_state(n, t, "stopping");
    if (!strcmp(kind, "node_crash") || !strcmp(kind, "node_exit") || !strcmp(kind, "grace_expired"))
        return set_state(n, t, "down");
    if (!strcmp(kind, "sample"))
        return add_sample(n, o, t);
    if (!strcmp(kind, "dump")) {
        free(n->last_dump);
        n->last_dump = strdup(str_of(o, "state"));
        return n->last_dump ? 0 : -1;
    }
    if (!strcmp(kind, "log")) {
        const char *level = str_of(o, "level");
        L->m->warnings += !strcmp(level, "warn") || !strcmp(level, "warning");
        L->m->errors += !strcmp(level, "error");
        return 0;
    }
    if (!strcmp(kind, "msg_send"))
        return message(L, t, rec->msg ? rec->msg->type : "link");
    if (!strcmp(kind, "dgram_send"))
        return message(L, t, "gossip");
    return 0;
}

static int header_or_end(struct rep_model *m, json_t *o, const char *kind, cs_time t)
{
    if (!strcmp(kind, "run")) {
        snprintf(m->scenario, sizeof m->scenario, "%s", str_of(o, "scenario"));
        snprintf(m->file, sizeof m->file, "%s", str_of(o, "file"));
        m->seed = (uint64_t)json_integer_value(json_object_get(o, "seed"));
        m->real = !strcmp(str_of(o, "world"), "real");
    } else {
        m->end = t;
        m->events = (uint64_t)json_integer_value(json_object_get(o, "events"));
        m->lines = (uint64_t)json_integer_value(json_object_get(o, "lines"));
        snprintf(m->hash, sizeof m->hash, "%s", str_of(o, "hash"));
    }
    return 0;
}

static int record(struct loader *L, const struct tw_record *rec)
{
    if (rec->t > L->last_t)
        L->last_t = rec->t;
    if (!strcmp(rec->kind, "run") || !strcmp(rec->kind, "end"))
        return header_or_end(L->m, rec->json, rec->kind, rec->t);
    if (!strcmp(rec->node, "-"))
        return world_record(L, rec->json, rec->kind, rec->t);
    return node_record(L, rec, rec->kind, rec->t);
}

/* Node ids in natural order: n2 before n10. */
static int node_order(const void *a, const void *b)
{
    const char *x = ((const struct rep_node *)a)->id, *y = ((const struct rep_node *)b)->id;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Closes open spans and windows at the end and fills the rate buckets. */
static void finish(struct loader *L)
{
    struct rep_model *m = L->m;
    qsort(m->nodes, m->node_count, sizeof *m->nodes, node_order);
    if (m->end < L->last_t)
        m->end = L->last_t;
    for (size_t i = 0; i < m->node_count; i++)
        m->nodes[i].spans[m->nodes[i].span_count - 1].to = m->end;
    for (size_t i = 0; i < m->fault_count; i++)
        if (m->faults[i].to < 0 || m->faults[i].to > m->end)
            m->faults[i].to = m->end;
    m->bucket_width = m->end / REP_BUCKETS + 1;
    for (size_t i = 0; i < L->msg_count; i++) {
        struct rep_msg_type *ty = &m->types[L->msgs[i].type];
        ty->total++;
        ty->buckets[L->msgs[i].t / m->bucket_width]++;
    }
}

int rep_model_load(const char *path, struct rep_model *m, char *err, size_t err_size)
{
    memset(m, 0, sizeof *m);
    m->stuck_at = -1;
    struct trace_walk *walk = trace_walk_open(path, err, err_size);
    if (!walk)
        return -1;
    struct loader L = {.m = m};
    struct tw_record rec;
    int r, rc = 0;
    while (rc == 0 && (r = trace_walk_next(walk, &rec, err, err_size)) != 0) {
        if (r < 0 || record(&L, &rec) != 0) {
            if (r > 0)
                snprintf(err, err_size, "%s:%zu: out of memory", path, rec.line);
            rc = -1;
        }
    }
    if (rc == 0 && !trace_walk_header(walk)) {
        snprintf(err, err_size, "%s:1: no run header record (is this a clustersim trace?)", path);
        rc = -1;
    }
    trace_walk_close(walk);
    if (rc == 0)
        finish(&L);
    free(L.msgs);
    if (rc != 0)
        rep_model_free(m);
    return rc;
}

void rep_model_free(struct rep_model *m)
{
    for (size_t i = 0; i < m->node_count; i++) {
        free(m->nodes[i].spans);
        free(m->nodes[i].samples);
        free(m->nodes[i].last_dump);
    }
    free(m->nodes);
    free(m->faults);
    memset(m, 0, sizeof *m);
    m->stuck_at = -1;
}

const struct rep_node *rep_model_node(const struct rep_model *m, const char *id)
{
    for (size_t i = 0; i < m->node_count; i++)
        if (!strcmp(m->nodes[i].id, id))
            return &m->nodes[i];
    return NULL;
}
