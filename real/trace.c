/*
 * real/trace.c: the observed trace of a real run (internal.h, rt_*).
 *
 * A real run has no event queue to record; what it knows is what it did
 * (the timeline's actions, each process started, stopped, killed or gone)
 * and what it saw (each probe: every node's view size, registry size and
 * tracker state).  It writes those as records of the simulator's trace
 * format (docs/trace-format.md: `run` header with "world": "real",
 * `action`, `node_start`, `node_stop`, `node_crash`, `node_exit`,
 * `tracker_state`, `sample`, `stuck`, `dump`, `end`), so the run report's
 * model, plots and Perfetto export read it unchanged.
 */
#include "internal.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static void emit(struct rr_run *r, json_t *o, bool hashed)
{
    char *line = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!line || !r->trace) {
        free(line);
        return;
    }
    size_t len = strlen(line);
    line[len] = '\n'; /* json_dumps' terminator becomes the line's end */
    fwrite(line, 1, len + 1, r->trace);
    if (hashed) {
        XXH3_64bits_update(r->trace_hash, line, len + 1);
        r->trace_lines++;
    }
    free(line);
}

static json_t *record(cs_time t, const char *node, const char *kind)
{
    return json_pack("{s:I, s:s, s:s}", "t", (json_int_t)t, "node", node, "kind", kind);
}

static const char *node_id(const struct rr_run *r, size_t i)
{
    return r->sc->cluster.nodes[i].id;
}

void rt_open(struct rr_run *r)
{
    char path[700];
    snprintf(path, sizeof path, "%s/trace.jsonl", r->dir);
    r->trace = fopen(path, "w");
    r->trace_hash = XXH3_createState();
    if (!r->trace || !r->trace_hash) {
        if (r->trace)
            fclose(r->trace);
        r->trace = NULL;
        return;
    }
    XXH3_64bits_reset(r->trace_hash);
    json_t *o = record(0, "-", "run");
    json_object_set_new(o, "format", json_integer(2));
    json_object_set_new(o, "scenario", json_string(r->sc->name));
    json_object_set_new(o, "file", json_string(r->sc->path));
    json_object_set_new(o, "seed", json_integer(0));
    json_object_set_new(o, "world", json_string("real"));
    json_object_set_new(o, "trial", json_integer((json_int_t)r->opt.trial));
    emit(r, o, false);
}

void rt_node(struct rr_run *r, size_t i, const char *kind)
{
    json_t *o = record(r->now, node_id(r, i), kind);
    if (!strcmp(kind, "node_start")) {
        json_object_set_new(o, "name", json_string(r->nodes[i].d.name));
        json_object_set_new(o, "inc", json_integer(r->nodes[i].incarnation));
    } else if (!strcmp(kind, "node_crash")) {
        json_object_set_new(o, "name", json_string(r->nodes[i].d.name));
    }
    emit(r, o, true);
}

void rt_action(struct rr_run *r, const struct sc_action *a, const size_t *set, size_t count, cs_time until)
{
    json_t *o = record(r->now, "-", "action"), *nodes = json_array();
    json_object_set_new(o, "action", json_string(sc_action_name(a->kind)));
    for (size_t k = 0; k < count; k++)
        json_array_append_new(nodes, json_string(node_id(r, set[k])));
    json_object_set_new(o, "nodes", nodes);
    if (until >= 0)
        json_object_set_new(o, "until", json_integer((json_int_t)until));
    emit(r, o, true);
}

void rt_probe(struct rr_run *r, size_t i, const char *previous_tracker)
{
    const struct rdm_probe *p = &r->nodes[i].probe;
    if (!p->ok)
        return;
    if (p->tracker[0] && strcmp(p->tracker, previous_tracker)) {
        json_t *o = record(r->now, node_id(r, i), "tracker_state");
        json_object_set_new(o, "from", json_string(previous_tracker));
        json_object_set_new(o, "to", json_string(p->tracker));
        emit(r, o, true);
    }
    json_t *o = record(r->now, node_id(r, i), "sample");
    json_object_set_new(o, "members", json_integer((json_int_t)p->view_count));
    json_object_set_new(o, "registry", json_integer((json_int_t)p->reg_count));
    emit(r, o, true);
}

void rt_stuck(struct rr_run *r, size_t stuck_nodes)
{
    json_t *o = record(r->now, "-", "stuck");
    json_object_set_new(o, "nodes", json_integer((json_int_t)stuck_nodes));
    emit(r, o, true);
}

void rt_close(struct rr_run *r)
{
    if (!r->trace)
        return;
    for (size_t i = 0; i < r->n; i++)
        if (r->nodes[i].up && r->nodes[i].probe.ok && r->nodes[i].probe.dump) {
            json_t *o = record(r->now, node_id(r, i), "dump");
            json_object_set_new(o, "state", json_string(r->nodes[i].probe.dump));
            emit(r, o, true);
        }
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)XXH3_64bits_digest(r->trace_hash));
    json_t *o = record(r->now, "-", "end");
    json_object_set_new(o, "events", json_integer((json_int_t)r->probes));
    json_object_set_new(o, "lines", json_integer((json_int_t)r->trace_lines));
    json_object_set_new(o, "hash", json_string(hash));
    emit(r, o, false);
    fclose(r->trace);
    r->trace = NULL;
    XXH3_freeState(r->trace_hash);
    r->trace_hash = NULL;
}
