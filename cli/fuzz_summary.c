/*
 * cli/fuzz_summary.c: the totals of a fuzz campaign: counts by invariant
 * and deadlock class, every failing seed with its files, the JSON summary
 * (summary.json) and the merging of shard summaries into one.
 */
#include "fuzz.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grow.h"

void fuzz_summary_add(struct fuzz_summary *s, const struct fuzz_seed_result *r)
{
    s->seeds++;
    s->events += r->events;
    s->virtual_seconds += r->virtual_seconds;
    if (r->pass) {
        s->passed++;
        return;
    }
    s->by_invariant[r->invariant]++;
    if (r->invariant == FI_STUCK)
        s->deadlocks[r->deadlock]++;
    if (cs_grow((void **)&s->failures, &s->failure_cap, s->failure_count + 1, sizeof *s->failures) == 0)
        s->failures[s->failure_count++] = *r;
}

static json_t *failure_json(const struct fuzz_seed_result *r)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:i, s:s}", "seed", (json_int_t)r->seed, "invariant",
                          fuzz_invariant_name(r->invariant), "deadlock", deadlock_class_name(r->deadlock),
                          "nodes", (int)r->nodes, "detail", r->detail);
    char kinds[200];
    fuzz_fault_names(r->faults, kinds, sizeof kinds);
    json_object_set_new(o, "faults", json_string(kinds));
    if (r->file[0])
        json_object_set_new(o, "file", json_string(r->file));
    if (r->report[0])
        json_object_set_new(o, "report", json_string(r->report));
    if (r->shrunk[0]) {
        json_object_set_new(o, "shrunk", json_string(r->shrunk));
        json_object_set_new(o, "shrunk_nodes", json_integer(r->shrunk_nodes));
        json_object_set_new(o, "shrunk_items", json_integer((json_int_t)r->shrunk_items));
    }
    return o;
}

int fuzz_summary_write(const struct fuzz_summary *s, const char *path)
{
    json_t *inv = json_object(), *dl = json_object(), *fails = json_array();
    for (int i = 0; i < FI_COUNT; i++)
        json_object_set_new(inv, fuzz_invariant_name((enum fuzz_invariant)i),
                            json_integer((json_int_t)s->by_invariant[i]));
    for (int d = DL_A; d < DL_COUNT; d++)
        json_object_set_new(dl, deadlock_class_name((enum deadlock_class)d), json_integer((json_int_t)s->deadlocks[d]));
    for (size_t i = 0; i < s->failure_count; i++)
        json_array_append_new(fails, failure_json(&s->failures[i]));
    json_t *root = json_pack("{s:s, s:s, s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:o}", "profile", s->profile,
                             "mode", s->mode, "seeds", (json_int_t)s->seeds, "passed", (json_int_t)s->passed,
                             "events", (json_int_t)s->events, "virtual_seconds", s->virtual_seconds,
                             "wall_seconds", s->wall_seconds, "by_invariant", inv, "deadlocks", dl,
                             "failures", fails);
    if (root)
        json_object_set_new(root, "state", json_string(s->state[0] ? s->state : "complete"));
    /* written aside, then renamed: a campaign killed mid-write keeps its last summary whole */
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = root ? json_dump_file(root, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) : -1;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -1;
    json_decref(root);
    return rc;
}

static int merge_failures(struct fuzz_summary *s, json_t *fails)
{
    size_t i;
    json_t *f;
    json_array_foreach(fails, i, f) {
        struct fuzz_seed_result r = {.pass = false};
        json_int_t seed = 0, nodes = 0, shrunk_nodes = 0, shrunk_items = 0;
        const char *inv = "", *dl = "-", *detail = "", *faults = "";
        if (json_unpack(f, "{s:I, s:s, s?s, s?I, s?s, s?s, s?I, s?I}", "seed", &seed, "invariant", &inv, "deadlock",
                        &dl, "nodes", &nodes, "detail", &detail, "faults", &faults, "shrunk_nodes", &shrunk_nodes,
                        "shrunk_items", &shrunk_items) != 0 || fuzz_invariant_find(inv) < 0)
            return -1;
        r.faults = fuzz_fault_parse(faults);
        r.shrunk_nodes = (long)shrunk_nodes;
        r.shrunk_items = (size_t)shrunk_items;
        r.seed = (uint64_t)seed;
        r.nodes = (uint32_t)nodes;
        r.invariant = (enum fuzz_invariant)fuzz_invariant_find(inv);
        for (int d = 0; d < DL_COUNT; d++)
            if (!strcmp(deadlock_class_name((enum deadlock_class)d), dl))
                r.deadlock = (enum deadlock_class)d;
        snprintf(r.detail, sizeof r.detail, "%s", detail);
        json_t *file = json_object_get(f, "file"), *shrunk = json_object_get(f, "shrunk");
        json_t *report = json_object_get(f, "report");
        snprintf(r.report, sizeof r.report, "%s", json_is_string(report) ? json_string_value(report) : "");
        snprintf(r.file, sizeof r.file, "%s", json_is_string(file) ? json_string_value(file) : "");
        snprintf(r.shrunk, sizeof r.shrunk, "%s", json_is_string(shrunk) ? json_string_value(shrunk) : "");
        if (cs_grow((void **)&s->failures, &s->failure_cap, s->failure_count + 1, sizeof *s->failures) != 0)
            return -1;
        s->failures[s->failure_count++] = r;
    }
    return 0;
}

int fuzz_summary_merge_file(struct fuzz_summary *s, const char *path, char *err, size_t size)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        snprintf(err, size, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
        return -1;
    }
    json_int_t seeds, passed, events;
    double vt, wall;
    const char *profile, *mode;
    json_t *inv, *dl, *fails;
    int rc = json_unpack_ex(root, &jerr, 0, "{s:s, s:s, s:I, s:I, s:I, s:F, s:F, s:o, s:o, s:o}", "profile",
                            &profile, "mode", &mode, "seeds", &seeds, "passed", &passed, "events", &events,
                            "virtual_seconds", &vt, "wall_seconds", &wall, "by_invariant", &inv, "deadlocks",
                            &dl, "failures", &fails);
    if (rc != 0) {
        snprintf(err, size, "%s: not a fuzz summary: %s", path, jerr.text);
        json_decref(root);
        return -1;
    }
    if (s->profile[0] && (strcmp(s->profile, profile) || strcmp(s->mode, mode))) {
        snprintf(err, size, "%s: profile %s / mode %s, but the others are %s / %s", path, profile, mode,
                 s->profile, s->mode);
        json_decref(root);
        return -1;
    }
    snprintf(s->profile, sizeof s->profile, "%s", profile);
    snprintf(s->mode, sizeof s->mode, "%s", mode);
    /* the merge is complete only when every shard was */
    json_t *state = json_object_get(root, "state");
    const char *shard_state = json_is_string(state) ? json_string_value(state) : "complete";
    if (!s->state[0] || !strcmp(s->state, "complete"))
        snprintf(s->state, sizeof s->state, "%s", shard_state);
    s->seeds += (uint64_t)seeds;
    s->passed += (uint64_t)passed;
    s->events += (uint64_t)events;
    s->virtual_seconds += vt;
    s->wall_seconds = wall > s->wall_seconds ? wall : s->wall_seconds; /* shards run side by side */
    for (int i = 0; i < FI_COUNT; i++) {
        json_t *v = json_object_get(inv, fuzz_invariant_name((enum fuzz_invariant)i));
        s->by_invariant[i] += json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    }
    for (int d = DL_A; d < DL_COUNT; d++) {
        json_t *v = json_object_get(dl, deadlock_class_name((enum deadlock_class)d));
        s->deadlocks[d] += json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
    }
    rc = json_is_array(fails) ? merge_failures(s, fails) : -1;
    if (rc != 0)
        snprintf(err, size, "%s: malformed failures list", path);
    json_decref(root);
    return rc;
}

void fuzz_summary_print(const struct fuzz_summary *s, FILE *f)
{
    uint64_t failed = s->seeds - s->passed;
    fprintf(f, "fuzz result: %llu seeds (profile %s, mode %s), %llu passed, %llu failed; %llu events, "
               "%.0f s of virtual time in %.2f s wall (%.1f seeds/s)\n",
            (unsigned long long)s->seeds, s->profile, s->mode, (unsigned long long)s->passed,
            (unsigned long long)failed, (unsigned long long)s->events, s->virtual_seconds, s->wall_seconds,
            s->wall_seconds > 0 ? (double)s->seeds / s->wall_seconds : 0.0);
    if (s->state[0] && strcmp(s->state, "complete"))
        fprintf(f, "  %s: the seeds above are those finished; the rest of the range was not run\n", s->state);
    if (!failed)
        return;
    fprintf(f, "  failures by invariant:");
    for (int i = 0; i < FI_COUNT; i++)
        if (s->by_invariant[i])
            fprintf(f, " %s %llu", fuzz_invariant_name((enum fuzz_invariant)i),
                    (unsigned long long)s->by_invariant[i]);
    fprintf(f, "\n");
    if (!s->by_invariant[FI_STUCK])
        return;
    fprintf(f, "  deadlocks:");
    for (int d = DL_A; d < DL_COUNT; d++)
        fprintf(f, " %s %llu", deadlock_class_name((enum deadlock_class)d), (unsigned long long)s->deadlocks[d]);
    fprintf(f, "\n");
}

void fuzz_summary_free(struct fuzz_summary *s)
{
    free(s->failures);
    s->failures = NULL;
    s->failure_count = s->failure_cap = 0;
}
