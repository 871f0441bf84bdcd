/*
 * cli/cmd_explore.c: `clustersim explore`: exhaustive exploration of a small
 * scenario.  A depth-first search over schedules: each run replays a prefix
 * of choices (sim/explore.h) and continues with first choices; a state seen
 * before (by hash) ends the run early, so each state's subtree is explored
 * once.  Leaves where some live node is unsettled with nothing left that
 * could move anyone are stuck states; for each distinct one the shortest
 * schedule found is kept and written as a replayable schedule file.
 */
#include "cli.h"
#include "progress.h"
#include "../config/cli_opts.h"

#include "../config/scenario/loader.h"
#include "../shims/sim/sim_env.h"
#include "../sim/check.h"
#include "../sim/explore.h"
#include "../sim/world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- a set of state hashes ---- */

struct hash_set {
    uint64_t *cells; /* 0 = empty (a real 0 hash is stored as 1) */
    size_t cap, count;
};

static bool set_add(struct hash_set *s, uint64_t h)
{
    h = h ? h : 1;
    if ((s->count + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *cells = calloc(cap, sizeof *cells);
        if (!cells)
            return false;
        for (size_t i = 0; i < s->cap; i++)
            if (s->cells[i]) {
                size_t p = s->cells[i] & (cap - 1);
                while (cells[p])
                    p = (p + 1) & (cap - 1);
                cells[p] = s->cells[i];
            }
        free(s->cells);
        s->cells = cells;
        s->cap = cap;
    }
    size_t p = h & (s->cap - 1);
    while (s->cells[p]) {
        if (s->cells[p] == h)
            return true; /* seen */
        p = (p + 1) & (s->cap - 1);
    }
    s->cells[p] = h;
    s->count++;
    return false;
}

static bool seen_cb(void *ctx, uint64_t h)
{
    return set_add(ctx, h);
}

/* ---- stuck states found ---- */

struct stuck_state {
    uint64_t hash;
    uint32_t *schedule;
    size_t len;
    char wait_for[256];
    const char *shape;
    char *dumps;
};

enum { SHAPE_CYCLE3, SHAPE_CYCLE2, SHAPE_CHAIN, SHAPE_COUNT };
static const char *const shape_names[SHAPE_COUNT] = {
    "a cycle of 3 or more sync targets (M1, deadlock A)",
    "a two-node cycle around a parked request (M2, deadlock B)",
    "waits on a node that will never answer it (M3a/M3b, or deadlock C)",
};

struct explorer {
    const char *path;
    struct scenario sc;
    size_t max_depth;
    uint64_t budget;
    int64_t from;
    bool no_reduce;
    const char *out_dir;
    struct hash_set visited;
    struct stuck_state *stuck;
    size_t stuck_count;
    uint64_t runs, steps, depth_limited;
};

/* Classifies a wait-for graph (next[i]: the node i waits for, or -1) by its
 * longest cycle: 3 or more, 2, or none (chains ending at a settled node). */
static int classify(const int *next, size_t count)
{
    size_t longest = 0;
    for (size_t start = 0; start < count; start++) {
        int at = (int)start;
        size_t steps = 0;
        while (at >= 0 && steps <= count) {
            at = next[at];
            steps++;
            if (at == (int)start)
                break;
        }
        if (at == (int)start && steps > longest)
            longest = steps;
    }
    return longest >= 3 ? SHAPE_CYCLE3 : longest == 2 ? SHAPE_CYCLE2 : SHAPE_CHAIN;
}

/* Describes the stuck nodes of a finished run: wait-for chain, its shape and
 * the dumps. */
static void describe(struct sim_world *w, const uint32_t *stuck, size_t n, char *wait_for,
                     size_t wsize, const char **shape, char **dumps)
{
    int *next = malloc((w->node_count ? w->node_count : 1) * sizeof *next);
    for (size_t j = 0; next && j < w->node_count; j++)
        next[j] = -1;
    size_t cap = 256 + n * 1100, len = 0;
    char *text = malloc(cap);
    wait_for[0] = '\0';
    size_t wl = 0;
    for (size_t i = 0; i < n; i++) {
        struct sim_node *node = &w->nodes[stuck[i]];
        char dump[1024] = "";
        if (w->proto->dump)
            w->proto->dump(node->instance, dump, sizeof dump);
        if (text)
            len += (size_t)snprintf(text + len, cap - len, "    %s: %s\n", node->id, dump);
        const char *peer = w->proto->waiting_for ? w->proto->waiting_for(node->instance) : NULL;
        for (size_t j = 0; peer && j < w->node_count; j++)
            if (!strcmp(w->nodes[j].name, peer)) {
                wl += (size_t)snprintf(wait_for + wl, wl < wsize ? wsize - wl : 0, "%s%s->%s",
                                       wl ? ", " : "", node->id, w->nodes[j].id);
                if (next)
                    next[stuck[i]] = (int)j;
            }
    }
    *shape = next ? shape_names[classify(next, w->node_count)] : "unknown";
    free(next);
    *dumps = text;
}

static void note_stuck(struct explorer *e, struct sim_world *w, const struct sim_explore *ex)
{
    uint32_t *stuck = malloc((w->node_count ? w->node_count : 1) * sizeof *stuck);
    size_t n = stuck ? sim_check_stuck(w, stuck) : 0;
    if (n == 0) {
        free(stuck);
        return;
    }
    struct stuck_state *s = NULL;
    for (size_t i = 0; i < e->stuck_count && !s; i++)
        if (e->stuck[i].hash == ex->final_hash)
            s = &e->stuck[i];
    if (s && s->len <= ex->depth) {
        free(stuck);
        return;
    }
    if (!s) {
        struct stuck_state *grown = realloc(e->stuck, (e->stuck_count + 1) * sizeof *grown);
        if (!grown) {
            free(stuck);
            return;
        }
        e->stuck = grown;
        s = &e->stuck[e->stuck_count++];
        memset(s, 0, sizeof *s);
        s->hash = ex->final_hash;
    }
    free(s->schedule);
    free(s->dumps);
    s->schedule = malloc((ex->depth ? ex->depth : 1) * sizeof *s->schedule);
    if (s->schedule)
        memcpy(s->schedule, ex->choices, ex->depth * sizeof *s->schedule);
    s->len = ex->depth;
    describe(w, stuck, n, s->wait_for, sizeof s->wait_for, &s->shape, &s->dumps);
    free(stuck);
}

/* One run along `prefix`; returns the recorded path in *ex. */
static int run_prefix(struct explorer *e, const uint32_t *prefix, size_t len, struct sim_explore *ex,
                      bool use_visited, FILE *trace, bool verbose, struct sim_world **keep)
{
    memset(ex, 0, sizeof *ex);
    ex->prefix = prefix;
    ex->prefix_len = len;
    ex->max_depth = e->max_depth;
    ex->from = e->from;
    ex->reduce = !e->no_reduce;
    ex->seen = use_visited ? seen_cb : NULL;
    ex->ctx = &e->visited;
    struct sim_options o = {.seed = e->sc.seed, .trace_file = trace, .hash = trace != NULL,
                            .verbose = verbose, .bind_env = sim_env_bind, .explore = ex};
    struct sim_world *w = sim_world_new(&e->sc, &o);
    if (!w)
        return -1;
    sim_world_run(w);
    e->runs++;
    e->steps += ex->steps;
    if (ex->end == SIM_EXPLORE_LEAF)
        note_stuck(e, w, ex);
    e->depth_limited += ex->end == SIM_EXPLORE_DEPTH;
    if (keep)
        *keep = w;
    else
        sim_world_free(w);
    return 0;
}

/* The next prefix of the depth-first search, or false when done. */
static bool backtrack(const struct sim_explore *ex, uint32_t **prefix, size_t *len)
{
    for (size_t i = ex->depth; i-- > 0;) {
        if (ex->choices[i] + 1 < ex->branching[i]) {
            uint32_t *p = realloc(*prefix, (i + 1) * sizeof *p);
            if (!p)
                return false;
            memcpy(p, ex->choices, i * sizeof *p);
            p[i] = ex->choices[i] + 1;
            *prefix = p;
            *len = i + 1;
            return true;
        }
    }
    return false;
}

static void write_schedule(const struct explorer *e, size_t index, char *path, size_t size)
{
    const struct stuck_state *s = &e->stuck[index];
    snprintf(path, size, "%s/stuck-%zu.schedule", e->out_dir, index + 1);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(path, size, "(cannot write %s/stuck-%zu.schedule)", e->out_dir, index + 1);
        return;
    }
    fprintf(f, "# clustersim explore schedule: replay with\n#   clustersim explore %s --from %lldns --replay %s\n",
            e->path, (long long)e->from, path);
    fprintf(f, "scenario: %s\nseed: %llu\nfrom: %lldns\nchoices:", e->path,
            (unsigned long long)e->sc.seed, (long long)e->from);
    for (size_t i = 0; i < s->len; i++)
        fprintf(f, " %u", s->schedule[i]);
    fprintf(f, "\n");
    fclose(f);
}

/* Reads the `choices:` line of a schedule file; a token that is not a
 * number is reported with its line and column. */
static int read_schedule(const char *path, uint32_t **choices, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "clustersim explore: cannot read a schedule from %s\n", path);
        return -1;
    }
    char line[1 << 16];
    *choices = NULL;
    *len = 0;
    int rc = -1, line_no = 0;
    bool found = false;
    while (fgets(line, sizeof line, f) && !found) {
        line_no++;
        if (strncmp(line, "choices:", 8) != 0)
            continue;
        found = true;
        rc = 0;
        for (char *p = line + 8; rc == 0;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0' || *p == '\n')
                break;
            char *end;
            errno = 0;
            unsigned long v = strtoul(p, &end, 10);
            uint32_t *c = NULL;
            if (end == p || errno || v > UINT32_MAX || (*end && *end != ' ' && *end != '\n')) {
                fprintf(stderr, "%s:%d:%d: expected a choice number\n", path, line_no,
                        (int)(p - line) + 1);
                rc = -1;
            } else if (!(c = realloc(*choices, (*len + 1) * sizeof *c))) {
                rc = -1;
            } else {
                *choices = c;
                (*choices)[(*len)++] = (uint32_t)v;
                p = end;
            }
        }
    }
    fclose(f);
    if (!found)
        fprintf(stderr, "%s: no `choices:` line: not a schedule written by clustersim explore\n",
                path);
    return rc;
}

static int replay(struct explorer *e, const char *schedule, const char *trace_path)
{
    uint32_t *choices = NULL;
    size_t len = 0;
    if (read_schedule(schedule, &choices, &len) != 0) {
        free(choices);
        return 2;
    }
    FILE *trace = trace_path ? fopen(trace_path, "w") : NULL;
    struct sim_explore ex;
    struct sim_world *w = NULL;
    e->max_depth = len + 1000;
    int rc = run_prefix(e, choices, len, &ex, false, trace, true, &w);
    if (trace)
        fclose(trace);
    if (rc == 0 && ex.stale_at) {
        fprintf(stderr, "%s: choice %zu is %u, but only %u events could come next there: the "
                        "schedule was written for another scenario or --from\n",
                schedule, ex.stale_at, choices[ex.stale_at - 1], ex.stale_branching);
        sim_world_free(w);
        rc = 2;
    } else if (rc == 0) {
        printf("replayed %zu choices, %llu events\n", len, (unsigned long long)ex.steps);
        for (size_t i = 0; i < w->node_count; i++) {
            char dump[1024] = "";
            if (sim_node_alive(&w->nodes[i]) && w->proto->dump)
                w->proto->dump(w->nodes[i].instance, dump, sizeof dump);
            printf("  %s: %s\n", w->nodes[i].id, dump);
        }
        uint32_t stuck[256];
        size_t n = w->node_count <= 256 ? sim_check_stuck(w, stuck) : 0;
        printf("%s\n", n ? "STUCK: no node can move any more" : "not stuck");
        sim_world_free(w);
    }
    sim_explore_free(&ex);
    free(choices);
    return rc == 0 ? 0 : rc == 2 ? 2 : 1;
}

enum { OPT_MAX_DEPTH = CLI_KEY_FIRST, OPT_BUDGET, OPT_FROM, OPT_NO_REDUCTION, OPT_OUT, OPT_REPLAY, OPT_TRACE };

static const struct cli_opt explore_opts[] = {
    {"from", "T", "explore the schedules from this time on (before it: the seed's own run)", OPT_FROM, 0},
    {"max-depth", "N", "cut a schedule after N choices (400)", OPT_MAX_DEPTH, 0},
    {"budget", "RUNS", "stop after this many schedules (2000000)", OPT_BUDGET, 0},
    {"no-reduction", NULL, "explore every interleaving (no partial-order reduction)", OPT_NO_REDUCTION, 0},
    {"out", "DIR", "where stuck schedules are written (build/explore)", OPT_OUT, 0},
    {"replay", "SCHEDULE", "re-run one schedule it wrote and print the final states", OPT_REPLAY, 0},
    {"trace", "FILE", "with --replay: record that run's trace", OPT_TRACE, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd explore_cmd = {
    "clustersim explore", "FILE [options]",
    "Explores every order in which the scenario's simultaneous events can happen (a model\n"
    "checker over the real core), reports the distinct states, the stuck ones by shape, and\n"
    "writes each stuck schedule; exit status 1 when a state got stuck.",
    explore_opts,
};

struct explore_cli {
    struct explorer *e;
    const char **schedule, **trace;
};

static int explore_opt(void *ctx, int key, const char *v)
{
    struct explore_cli *c = ctx;
    struct explorer *e = c->e;
    uint64_t n;
    switch (key) {
    case OPT_MAX_DEPTH:
    case OPT_BUDGET:
        if (cli_parse_count(v, &n) != 0)
            return cli_bad_value(&explore_cmd, key == OPT_BUDGET ? "budget" : "max-depth", "a positive number", v);
        if (key == OPT_BUDGET)
            e->budget = n;
        else
            e->max_depth = (size_t)n;
        return 0;
    case OPT_FROM:
        if (sc_parse_duration(v, &e->from) != 0 || e->from < 0)
            return cli_bad_value(&explore_cmd, "from", "a duration such as 4900ms", v);
        return 0;
    case OPT_NO_REDUCTION: e->no_reduce = true; return 0;
    case OPT_OUT: e->out_dir = v; return 0;
    case OPT_REPLAY: *c->schedule = v; return 0;
    case OPT_TRACE: *c->trace = v; return 0;
    default: return -1;
    }
}

static int explore_file(void *ctx, const char *arg)
{
    struct explore_cli *c = ctx;
    if (c->e->path)
        return cli_refuse(&explore_cmd, "one scenario at a time ('%s' and '%s')", c->e->path, arg);
    c->e->path = arg;
    return 0;
}

/* 0, 1 after --help, -1 after a refusal. */
static int parse(struct explorer *e, int argc, char **argv, const char **schedule, const char **trace)
{
    e->max_depth = 400;
    e->budget = 2000000;
    e->out_dir = "build/explore";
    struct explore_cli c = {e, schedule, trace};
    int rc = cli_parse(&explore_cmd, argc, argv, explore_opt, explore_file, &c);
    if (rc == 0 && !e->path)
        return cli_refuse(&explore_cmd, "no scenario file given");
    if (rc == 0 && *trace && !*schedule)
        return cli_refuse(&explore_cmd, "--trace records a --replay run");
    return rc;
}

static void report(struct explorer *e, bool complete)
{
    char stopped[64] = "stopped at the budget";
    if (cli_interrupted())
        snprintf(stopped, sizeof stopped, "interrupted by %s", cli_interrupt_name());
    printf("explored %s%s: %zu distinct states, %llu schedules (runs), %llu steps, %llu runs cut "
           "at depth %zu; search %s\n",
           e->path, e->no_reduce ? "" : " (partial-order reduction)", e->visited.count,
           (unsigned long long)e->runs, (unsigned long long)e->steps,
           (unsigned long long)e->depth_limited, e->max_depth,
           complete ? "complete" : stopped);
    printf("stuck states: %zu\n", e->stuck_count);
    for (int k = 0; k < SHAPE_COUNT; k++) {
        size_t of_shape = 0;
        for (size_t i = 0; i < e->stuck_count; i++)
            of_shape += e->stuck[i].shape == shape_names[k];
        if (of_shape)
            printf("  %zu of them: %s\n", of_shape, shape_names[k]);
    }
    if (e->stuck_count && mkdir(e->out_dir, 0755) != 0 && errno != EEXIST)
        fprintf(stderr, "clustersim explore: cannot create %s\n", e->out_dir);
    for (size_t i = 0; i < e->stuck_count; i++) {
        char path[600];
        write_schedule(e, i, path, sizeof path);
        printf("  stuck state %zu: reached in %zu choices; waits: %s\n    shape: %s\n    schedule: %s\n%s",
               i + 1, e->stuck[i].len, e->stuck[i].wait_for[0] ? e->stuck[i].wait_for : "(none)",
               e->stuck[i].shape, path, e->stuck[i].dumps ? e->stuck[i].dumps : "");
    }
}

/* Checks the scenario's `stuck` / `not_stuck` expectations against the search:
 * `stuck` needs at least one stuck state; `not_stuck` needs none and a search
 * that was complete and never cut at the depth limit.  Returns 0 when all hold. */
static int check_expectations(const struct explorer *e, bool complete)
{
    int failed = 0;
    for (size_t i = 0; i < e->sc.expect_count; i++) {
        const struct sc_expect *x = &e->sc.expects[i];
        if (x->kind == SC_EXP_STUCK && e->stuck_count == 0) {
            printf("FAIL %s:%d:%d: stuck expected, but no schedule reached a stuck state\n", e->path,
                   x->pos.line, x->pos.col);
            failed = 1;
        } else if (x->kind == SC_EXP_NOT_STUCK && e->stuck_count > 0) {
            printf("FAIL %s:%d:%d: not_stuck expected, but %zu stuck states were reached\n", e->path,
                   x->pos.line, x->pos.col, e->stuck_count);
            failed = 1;
        } else if (x->kind == SC_EXP_NOT_STUCK && (!complete || e->depth_limited > 0)) {
            printf("FAIL %s:%d:%d: not_stuck not proven: the search %s\n", e->path, x->pos.line,
                   x->pos.col, complete ? "cut runs at the depth limit"
                                        : cli_interrupted() ? "was interrupted" : "stopped at the budget");
            failed = 1;
        } else if (x->kind == SC_EXP_STUCK || x->kind == SC_EXP_NOT_STUCK) {
            printf("ok   %s:%d:%d: %s\n", e->path, x->pos.line, x->pos.col,
                   x->kind == SC_EXP_STUCK ? "stuck" : "not_stuck (over every schedule)");
        }
    }
    return failed;
}

int cmd_explore(int argc, char **argv, const char *self)
{
    (void)self;
    struct explorer e;
    memset(&e, 0, sizeof e);
    const char *schedule = NULL, *trace = NULL;
    int parsed = parse(&e, argc, argv, &schedule, &trace);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (cli_load_scenario(e.path, &e.sc) != 0)
        return 2;
    int status = 0;
    if (schedule) {
        status = replay(&e, schedule, trace);
    } else {
        uint32_t *prefix = NULL;
        size_t len = 0;
        bool complete = false;
        struct sim_explore ex;
        struct progress progress;
        progress_start(&progress, "explore", "schedules", 0);
        cli_interrupt_install();
        while (e.runs < e.budget && !cli_interrupted()) {
            char detail[96];
            snprintf(detail, sizeof detail, "%zu distinct states, %zu stuck", e.visited.count, e.stuck_count);
            progress_update(&progress, e.runs, detail);
            if (run_prefix(&e, prefix, len, &ex, true, NULL, false, NULL) != 0) {
                status = 1;
                break;
            }
            bool more = backtrack(&ex, &prefix, &len);
            sim_explore_free(&ex);
            if (!more) {
                complete = true;
                break;
            }
        }
        free(prefix);
        progress_clear(&progress);
        report(&e, complete);
        if (status == 0 && check_expectations(&e, complete) != 0)
            status = 1;
    }
    for (size_t i = 0; i < e.stuck_count; i++) {
        free(e.stuck[i].schedule);
        free(e.stuck[i].dumps);
    }
    free(e.stuck);
    free(e.visited.cells);
    scenario_free(&e.sc);
    return cli_interrupted() ? cli_interrupt_status() : status;
}
