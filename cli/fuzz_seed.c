/*
 * cli/fuzz_seed.c: one seed of a fuzz campaign: generate the scenario, run
 * it, name the invariant it broke (and the deadlock class of a stuck run),
 * and for a failure write the scenario, its run report (with the trace)
 * and its shrunk form under OUT/failures/.
 */
#include "fuzz.h"
#include "shrinker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../reports/report.h"
#include "../config/scenario/loader.h"
#include "../drivers/runner.h"

static const char *const invariant_names[FI_COUNT] = {
    "not_stuck", "no_duplicates", "no_loss", "placement", "converged", "crash", "generator"};

const char *fuzz_invariant_name(enum fuzz_invariant inv)
{
    return (unsigned)inv < FI_COUNT ? invariant_names[inv] : "?";
}

int fuzz_invariant_find(const char *name)
{
    for (int i = 0; i < FI_COUNT; i++)
        if (!strcmp(invariant_names[i], name))
            return i;
    return -1;
}

/* The expectation kind behind an invariant (for the shrinker's goal). */
static enum sc_expect_kind expect_of(enum fuzz_invariant inv)
{
    switch (inv) {
    case FI_DUPLICATES: return SC_EXP_NO_DUPLICATES;
    case FI_LOSS: return SC_EXP_NO_LOSS;
    case FI_PLACEMENT: return SC_EXP_PLACEMENT;
    case FI_CONVERGED: return SC_EXP_CONVERGED;
    default: return SC_EXP_NOT_STUCK;
    }
}

static void judge(const struct run_result *res, struct fuzz_seed_result *out)
{
    out->pass = res->pass;
    if (res->pass)
        return;
    static const enum sc_expect_kind order[] = {SC_EXP_NOT_STUCK, SC_EXP_NO_DUPLICATES, SC_EXP_NO_LOSS,
                                                SC_EXP_PLACEMENT, SC_EXP_CONVERGED};
    static const enum fuzz_invariant as[] = {FI_STUCK, FI_DUPLICATES, FI_LOSS, FI_PLACEMENT, FI_CONVERGED};
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < res->expect_count; i++) {
            const struct run_expect_result *e = &res->expects[i];
            if (e->kind != order[k] || e->ok)
                continue;
            out->invariant = as[k];
            snprintf(out->detail, sizeof out->detail, "%s", e->detail);
            if (as[k] == FI_STUCK)
                out->deadlock = deadlock_class_of(res);
            return;
        }
}

static int ensure_dir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

static int write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(text, 1, len, f);
    return fclose(f);
}

/* Re-runs the failing scenario into a report directory beside it
 * (index.html, plots, trace, Perfetto JSON: reports/report.h). */
static int write_report(const struct scenario *sc, uint64_t seed, const char *yaml, const char *dir)
{
    char replay[1600], err[1600];
    snprintf(replay, sizeof replay, "clustersim run %s --seed %llu", yaml, (unsigned long long)seed);
    if (report_run(dir, sc, seed, replay, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "clustersim fuzz: report: %s\n", err);
    return -1;
}

static void shrink_failure(const struct fuzz_config *cfg, const char *base, struct fuzz_seed_result *res)
{
    char command[700];
    snprintf(res->shrunk, sizeof res->shrunk, "%s.min.yaml", base);
    snprintf(command, sizeof command, "clustersim fuzz (seed %llu, shrinking %s)",
             (unsigned long long)res->seed, fuzz_invariant_name(res->invariant));
    struct shrink_spec spec = {
        .in_path = res->file, .out_path = res->shrunk, .seed = res->seed, .search_seeds = 20,
        .goal_stuck = res->invariant == FI_STUCK, .goal_kind = expect_of(res->invariant),
        .witness = res->invariant == FI_STUCK && cfg->req.mode == FZ_MODE_SWARM,
        .max_trials = cfg->shrink_trials, .command = command,
    };
    struct shrink_outcome out;
    if (shrink_scenario(&spec, &out) != 0) {
        res->shrunk[0] = '\0';
        return;
    }
    res->shrunk_nodes = out.nodes_after;
    res->shrunk_items = out.items_after;
}

static void record_failure(const struct fuzz_config *cfg, const struct scenario *sc, const char *text,
                           size_t len, struct fuzz_worker *worker, struct fuzz_seed_result *res)
{
    char dir[512], base[700];
    snprintf(dir, sizeof dir, "%s/failures", cfg->out_dir);
    if (ensure_dir(cfg->out_dir) != 0 || ensure_dir(dir) != 0)
        return;
    snprintf(base, sizeof base, "%s/seed-%llu-%s", dir, (unsigned long long)res->seed,
             fuzz_invariant_name(res->invariant));
    snprintf(res->file, sizeof res->file, "%s.yaml", base);
    if (write_text(res->file, text, len) != 0) {
        res->file[0] = '\0';
        return;
    }
    char report[720];
    snprintf(report, sizeof report, "%s.report", base);
    unsigned *reported = &worker->reported[res->invariant][res->deadlock];
    if (*reported < cfg->reports_per_kind && write_report(sc, res->seed, res->file, report) == 0) {
        (*reported)++;
        snprintf(res->report, sizeof res->report, "%s/index.html", report);
    }
    unsigned *used = &worker->used[res->invariant][res->deadlock];
    if (*used < cfg->shrink_per_kind) {
        (*used)++;
        shrink_failure(cfg, base, res);
    }
}

/* Generates seed `seed` of the campaign in both forms (sim/fuzzgen.h). */
static int generate(const struct fuzz_config *cfg, uint64_t seed, struct fuzz_scenario *parts,
                    struct fuzz_shape *shape, bool with_text)
{
    struct fuzz_request req = cfg->req;
    req.seed = seed;
    struct fuzz_entropy e;
    fuzz_entropy_seed(&e, seed);
    return fuzz_generate_parts(&req, &e, parts, shape, with_text);
}

int fuzz_write_seed_scenario(const struct fuzz_config *cfg, uint64_t seed, FILE *f, struct fuzz_shape *shape)
{
    struct fuzz_scenario parts;
    if (generate(cfg, seed, &parts, shape, true) != 0)
        return -1;
    fwrite(parts.text, 1, parts.len, f);
    fuzz_scenario_free(&parts);
    return 0;
}

/* Loads everything but the timeline from the file's text and takes the
 * timeline as the loader would read it (sim/fuzzgen.h); the actions move
 * into *sc.  0, or -1 with the loader's message in err. */
static int load_parts(struct fuzz_scenario *parts, const char *name, struct scenario *sc, char *err,
                      size_t errlen)
{
    if (scenario_load_string(parts->rest, parts->rest_len, name, sc, err, errlen) != 0)
        return -1;
    free(sc->actions);
    sc->actions = parts->actions;
    sc->action_count = parts->action_count;
    parts->actions = NULL;
    return 0;
}

int fuzz_run_seed(const struct fuzz_config *cfg, uint64_t seed, struct fuzz_worker *worker,
                  struct fuzz_seed_result *res)
{
    memset(res, 0, sizeof *res);
    res->seed = seed;
    struct fuzz_shape shape;
    struct fuzz_scenario parts;
    if (generate(cfg, seed, &parts, &shape, false) != 0) /* the text only for a failure, below */
        return -1;
    res->nodes = shape.nodes;
    res->faults = shape.faults;
    struct scenario sc;
    char err[1024], name[64];
    snprintf(name, sizeof name, "fuzz-seed-%llu.yaml", (unsigned long long)seed);
    if (load_parts(&parts, name, &sc, err, sizeof err) != 0) {
        res->invariant = FI_GENERATOR;
        snprintf(res->detail, sizeof res->detail, "%s", err);
        fuzz_scenario_free(&parts);
        return 0;
    }
    fuzz_scenario_free(&parts);
    struct run_options opt = {.seed = seed, .ring_memo = worker->ring_memo};
    struct run_result run;
    if (sim_run_scenario(&sc, &opt, &run) != 0) {
        scenario_free(&sc);
        return -1;
    }
    res->events = run.events;
    res->virtual_seconds = (double)run.end_time / 1e9;
    res->wall_seconds = run.wall_seconds;
    judge(&run, res);
    run_result_free(&run);
    if (!res->pass) {
        /* The file of the failure: the same seed again, with its text. */
        if (generate(cfg, seed, &parts, NULL, true) == 0)
            record_failure(cfg, &sc, parts.text, parts.len, worker, res);
        else
            snprintf(res->detail, sizeof res->detail, "out of memory writing the failure's file");
        fuzz_scenario_free(&parts);
    }
    scenario_free(&sc);
    return 0;
}

/* Fields are separated by tabs; text fields never hold tabs or newlines
 * (they are replaced by spaces). */
static void clean(char *s)
{
    for (; *s; s++)
        if (*s == '\t' || *s == '\n')
            *s = ' ';
}

void fuzz_result_encode(const struct fuzz_seed_result *r, char *buf, size_t size)
{
    struct fuzz_seed_result c = *r;
    clean(c.detail);
    clean(c.file);
    clean(c.shrunk);
    clean(c.report);
    snprintf(buf, size, "R\t%llu\t%d\t%d\t%d\t%u\t%u\t%llu\t%.6f\t%.6f\t%ld\t%zu\t%s\t%s\t%s\t%s\n",
             (unsigned long long)c.seed, c.pass, (int)c.invariant, (int)c.deadlock, c.nodes, c.faults,
             (unsigned long long)c.events, c.virtual_seconds, c.wall_seconds, c.shrunk_nodes,
             c.shrunk_items, c.detail[0] ? c.detail : "-", c.file[0] ? c.file : "-",
             c.shrunk[0] ? c.shrunk : "-", c.report[0] ? c.report : "-");
}

/* Copies the next tab-separated field (a "-" reads as empty). */
static const char *field(const char *p, char *out, size_t size)
{
    size_t n = strcspn(p, "\t\n");
    snprintf(out, size, "%.*s", (int)n, p);
    if (!strcmp(out, "-"))
        out[0] = '\0';
    return p[n] == '\t' ? p + n + 1 : p + n;
}

int fuzz_result_decode(const char *line, struct fuzz_seed_result *r)
{
    memset(r, 0, sizeof *r);
    unsigned long long seed, events;
    int pass, inv, dl, used = 0;
    if (sscanf(line, "R\t%llu\t%d\t%d\t%d\t%u\t%u\t%llu\t%lf\t%lf\t%ld\t%zu\t%n", &seed, &pass, &inv, &dl,
               &r->nodes, &r->faults, &events, &r->virtual_seconds, &r->wall_seconds, &r->shrunk_nodes,
               &r->shrunk_items, &used) != 11 || !used)
        return -1;
    if (inv < 0 || inv >= FI_COUNT || dl < 0 || dl >= DL_COUNT)
        return -1;
    r->seed = seed;
    r->events = events;
    r->pass = pass != 0;
    r->invariant = (enum fuzz_invariant)inv;
    r->deadlock = (enum deadlock_class)dl;
    const char *p = field(line + used, r->detail, sizeof r->detail);
    p = field(p, r->file, sizeof r->file);
    p = field(p, r->shrunk, sizeof r->shrunk);
    field(p, r->report, sizeof r->report);
    return 0;
}
