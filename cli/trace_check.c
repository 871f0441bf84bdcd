/*
 * cli/trace_check.c: validation and re-run of a recorded trace (see
 * trace_check.h).
 */
#define _GNU_SOURCE
#include "trace_check.h"

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <xxhash.h>

#define TRACE_FORMAT 2 /* 2: timers, link-down reasons, DNS outage modes and nodedown reasons by name; strings escaped */

struct tc {
    const char *path;
    size_t lineno, lines;
    json_int_t last_t;
    struct scenario sc;
    bool have_sc, have_end;
    uint64_t seed;
    char want_hash[24];
    json_int_t want_lines;
    XXH3_state_t *hash; /* of the file's lines between header and end */
};

static int bad(const struct tc *c, const char *what)
{
    fprintf(stderr, "%s:%zu: %s\n", c->path, c->lineno, what);
    return 2;
}

static bool node_known(const struct tc *c, const char *node)
{
    if (!strcmp(node, "-"))
        return true;
    for (size_t i = 0; i < c->sc.cluster.node_count; i++)
        if (!strcmp(c->sc.cluster.nodes[i].id, node))
            return true;
    return false;
}

/* The first line: a run header of a known format naming a scenario. */
static int on_header(struct tc *c, json_t *o)
{
    if (strcmp(json_string_value(json_object_get(o, "kind")), "run") != 0)
        return bad(c, "expected the trace's run header first ({\"kind\":\"run\",...})");
    json_t *format = json_object_get(o, "format");
    if (!json_is_integer(format) || json_integer_value(format) != TRACE_FORMAT) {
        char what[128];
        if (json_is_integer(format))
            snprintf(what, sizeof what, "unknown trace format %lld (this build reads format %d)",
                     (long long)json_integer_value(format), TRACE_FORMAT);
        else
            snprintf(what, sizeof what, "expected the header's format (this build reads format %d)", TRACE_FORMAT);
        return bad(c, what);
    }
    const char *world = json_string_value(json_object_get(o, "world"));
    if (world && !strcmp(world, "real"))
        return bad(c, "this is a real run's observed trace: it has no seed to re-run (read it with `clustersim "
                      "replay FILE` or its run report)");
    const char *file = json_string_value(json_object_get(o, "file"));
    json_t *seed = json_object_get(o, "seed");
    if (!file || !json_is_integer(seed) || json_integer_value(seed) < 0)
        return bad(c, "expected the header's scenario file and seed");
    char err[1024];
    if (scenario_load_file(file, &c->sc, err, sizeof err) != 0) {
        fprintf(stderr, "clustersim replay: cannot load the recorded scenario: %s\n", err);
        return 2;
    }
    c->have_sc = true;
    c->seed = (uint64_t)json_integer_value(seed);
    return 0;
}

static int on_end(struct tc *c, json_t *o)
{
    const char *hash = json_string_value(json_object_get(o, "hash"));
    json_t *lines = json_object_get(o, "lines");
    if (!hash || strlen(hash) != 16 || !json_is_integer(lines))
        return bad(c, "expected the end record's hash and lines");
    snprintf(c->want_hash, sizeof c->want_hash, "%s", hash);
    c->want_lines = json_integer_value(lines);
    c->have_end = true;
    return 0;
}

/* One line of the file, with its raw bytes. */
static int on_line(struct tc *c, const char *raw, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(raw, len, 0, &jerr);
    int rc = 0;
    json_t *t = json_object_get(o, "t");
    const char *node = json_string_value(json_object_get(o, "node"));
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!json_is_object(o) || !json_is_integer(t) || !node || !kind)
        rc = bad(c, "expected a trace record {\"t\":..,\"node\":..,\"kind\":..}");
    else if (c->have_end)
        rc = bad(c, "a record after the end record");
    else if (c->lineno == 1)
        rc = on_header(c, o);
    else if (json_integer_value(t) < 0 || json_integer_value(t) < c->last_t)
        rc = bad(c, "expected a time at or after the previous record's (records are in time order)");
    else if (!node_known(c, node))
        rc = bad(c, "a node the recorded scenario does not declare");
    else if (!strcmp(kind, "end"))
        rc = on_end(c, o);
    else if (!strcmp(kind, "sample"))
        c->last_t = json_integer_value(t); /* a report's size sample: outside the hashed trace */
    else {
        c->last_t = json_integer_value(t);
        c->lines++;
        XXH3_64bits_update(c->hash, raw, len);
    }
    json_decref(o);
    return rc;
}

/* A trace file that keeps nothing: it hashes the lines the re-run writes. */
static ssize_t hash_lines(void *cookie, const char *buf, size_t size)
{
    XXH3_64bits_update(cookie, buf, size);
    return (ssize_t)size;
}

static int rerun(struct tc *c)
{
    if ((json_int_t)c->lines != c->want_lines) {
        printf("replay check: %s: the file holds %zu lines but its end record says %lld: "
               "the trace was edited, reordered or cut\n",
               c->path, c->lines, (long long)c->want_lines);
        return 1;
    }
    /* The recorded hash is the run's (binary events, docs/simulation.md):
     * the re-run gives it again, and its lines, hashed as they are written,
     * must be the file's. */
    XXH3_state_t *lines = XXH3_createState();
    FILE *sink = lines ? fopencookie(lines, "w", (cookie_io_functions_t){.write = hash_lines}) : NULL;
    if (!sink) {
        XXH3_freeState(lines);
        return 2;
    }
    XXH3_64bits_reset(lines);
    struct run_options opt = {.seed = c->seed, .trace_hash = true, .trace_file = sink};
    struct run_result r;
    int ran = sim_run_scenario(&c->sc, &opt, &r);
    fclose(sink);
    uint64_t rerun_lines = XXH3_64bits_digest(lines);
    XXH3_freeState(lines);
    if (ran != 0)
        return 2;
    char got[24];
    snprintf(got, sizeof got, "%016llx", (unsigned long long)r.trace_hash);
    run_result_free(&r);
    if (strcmp(got, c->want_hash) != 0) {
        printf("replay check: %s seed %llu: recorded hash %s, this build gives %s: DIFFERENT\n", c->sc.path,
               (unsigned long long)c->seed, c->want_hash, got);
        return 1;
    }
    if (rerun_lines != XXH3_64bits_digest(c->hash)) {
        printf("replay check: %s: this build's run of seed %llu has the recorded hash %s but other lines than "
               "the file's: the trace was edited, reordered or cut\n",
               c->path, (unsigned long long)c->seed, c->want_hash);
        return 1;
    }
    printf("replay check: %s seed %llu: recorded hash %s, this build gives %s: identical\n", c->sc.path,
           (unsigned long long)c->seed, c->want_hash, got);
    return 0;
}

int trace_check(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "clustersim replay: cannot open %s\n", path);
        return 2;
    }
    struct tc c = {.path = path, .hash = XXH3_createState()};
    if (!c.hash) {
        fclose(f);
        return 2;
    }
    XXH3_64bits_reset(c.hash);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        c.lineno++;
        rc = on_line(&c, line, (size_t)n);
    }
    free(line);
    fclose(f);
    if (rc == 0 && (!c.have_sc || !c.have_end)) {
        c.lineno++;
        rc = bad(&c, c.have_sc ? "expected the end record ({\"kind\":\"end\",...}): the trace is cut short"
                               : "expected the run header: the file is empty");
    }
    if (rc == 0)
        rc = rerun(&c);
    if (c.have_sc)
        scenario_free(&c.sc);
    XXH3_freeState(c.hash);
    return rc;
}
