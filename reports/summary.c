/*
 * reports/summary.c: run summaries as JSON.  Times are given both in
 * nanoseconds of virtual time (exact) and seconds (readable).
 */
#include "summary.h"

#include <stdio.h>

#include "../config/version.h"

static json_t *expectations_json(const struct scenario *sc, const struct run_result *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < r->expect_count; i++) {
        const struct run_expect_result *e = &r->expects[i];
        char where[600];
        snprintf(where, sizeof where, "%s:%d:%d", sc->path, e->pos.line, e->pos.col);
        json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s, s:s}", "kind",
                                             sc_expect_name(e->kind), "ok", e->ok, "per_seed",
                                             e->per_seed, "detail", e->detail, "where", where));
    }
    return arr;
}

json_t *summary_run_json(const struct scenario *sc, const struct run_result *r, const char *replay)
{
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)r->trace_hash);
    json_t *stats = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "events", (json_int_t)r->stats.events,
        "timers_fired", (json_int_t)r->stats.timers_fired, "messages_delivered",
        (json_int_t)r->stats.messages_delivered, "messages_dropped",
        (json_int_t)r->stats.messages_dropped, "datagrams_delivered",
        (json_int_t)r->stats.dgrams_delivered, "datagrams_lost", (json_int_t)r->stats.dgrams_lost,
        "datagrams_duplicated", (json_int_t)r->stats.dgrams_duplicated, "dns_queries",
        (json_int_t)r->stats.dns_queries, "links_opened", (json_int_t)r->stats.links_opened);
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:f, s:f, s:s, s:I, s:b, s:o, s:b}",
                          "scenario", sc->name, "file", sc->path, "seed", (json_int_t)r->seed,
                          "result", r->pass ? "pass" : "fail", "virtual_end_ns",
                          (json_int_t)r->end_time, "virtual_end_s", (double)r->end_time / 1e9,
                          "wall_s", r->wall_seconds, "trace_hash", hash, "trace_lines",
                          (json_int_t)r->trace_lines, "converged", r->converged, "stats", stats,
                          "stuck", r->stuck);
    json_object_set_new(o, "last_fault_s", json_real((double)r->last_fault / 1e9));
    json_object_set_new(o, "converged_after_s", r->converged_after >= 0
                                                    ? json_real((double)r->converged_after / 1e9)
                                                    : json_null());
    if (r->stuck)
        json_object_set_new(o, "stuck_at_s", json_real((double)r->stuck_at / 1e9));
    if (r->stuck_report)
        json_object_set_new(o, "stuck_nodes", json_string(r->stuck_report));
    json_object_set_new(o, "expectations", expectations_json(sc, r));
    if (r->registry_diff)
        json_object_set_new(o, "registry_diff", json_string(r->registry_diff));
    json_object_set_new(o, "replay", json_string(replay));
    json_object_set_new(o, "version", json_string(CS_VERSION)); /* the version the hash is of */
    return o;
}

int summary_write(const char *path, json_t *doc)
{
    return json_dump_file(doc, path, JSON_INDENT(2) | JSON_ENSURE_ASCII) == 0 ? 0 : -1;
}
