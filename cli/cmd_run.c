/*
 * cli/cmd_run.c: `clustersim run`: loads every scenario first (bad input
 * stops everything with exit status 2), runs each on each seed, prints a
 * line per run and a summary, and writes JUnit XML, JSON summaries and
 * traces when asked.
 */
#include "cli.h"
#include "progress.h"

#include "../reports/junit.h"
#include "../reports/report.h"
#include "../reports/report_html.h"
#include "../reports/report_index.h"
#include "../reports/summary.h"
#include "../config/scenario/loader.h"
#include "../drivers/runner.h"
#include "../real/real.h"
#include "../config/cli_opts.h"
#include "../core/ring.h"
#include "shrinker.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct run_cli {
    const char *self;
    char **files;
    size_t file_count;
    bool have_seeds;
    uint64_t seed_first, seed_last;
    const char *junit_path, *report_dir, *trace_path;
    bool check_determinism, quiet, verbose, report_all, single;
    bool real;              /* --real: run in the real world (real/real.h) */
    uint64_t trials;        /* --trials N: real runs per scenario */
    const char *clusterd;   /* the daemon the real world starts */
    const char *real_dir;   /* where real runs keep their files and logs */
    struct junit_writer *junit;
    json_t *report;
    size_t runs, passed, failed;
    struct progress *progress; /* the status line of simulated runs */
    struct ring_memo *ring_memo; /* the nodes' ring point hashes, shared by the seeds (a pure cache) */
};

enum {
    OPT_SEED = CLI_KEY_FIRST, OPT_SEEDS, OPT_JUNIT, OPT_REPORT, OPT_REPORT_ALL, OPT_TRACE, OPT_CHECK_DETERMINISM,
    OPT_QUIET, OPT_VERBOSE, OPT_REAL, OPT_TRIALS, OPT_CLUSTERD,
};

static const struct cli_opt run_opts[] = {
    {"seed", "N", "run this seed (default: the file's `seed`, else 1)", OPT_SEED, 0},
    {"seeds", "A..B", "run every seed from A to B; prints the convergence spread", OPT_SEEDS, 0},
    {"junit", "FILE", "write JUnit XML: a suite per scenario, a case per run", OPT_JUNIT, 0},
    {"report", "DIR", "run reports in DIR: a single run, every failing run", OPT_REPORT, 0},
    {"report-all", NULL, "with --report: a report for every run", OPT_REPORT_ALL, 0},
    {"trace", "FILE", "record each run's trace (JSON lines, docs/trace-format.md)", OPT_TRACE, 0},
    {"check-determinism", NULL, "run each seed twice and compare the trace hashes", OPT_CHECK_DETERMINISM, 0},
    {"quiet", NULL, "print failures and the summary only", OPT_QUIET, 0},
    {"verbose", NULL, "print every node's final state", OPT_VERBOSE, 0},
    {"real", NULL, "run against real clusterd processes (root; files marked worlds: [sim, real])",
     OPT_REAL, 0},
    {"trials", "N", "with --real: run each scenario N times (real runs have no seed)", OPT_TRIALS, 0},
    {"clusterd", "PATH", "with --real: the daemon to start (default: beside clustersim)", OPT_CLUSTERD, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd run_cmd = {
    "clustersim run", "FILE... [options]",
    "Runs each scenario file on each seed (or, with --real, against real daemons) and checks its\n"
    "expectations: a line per run, then a summary.  Exit status: 0 when everything held, 1 when\n"
    "something failed, 2 for a bad file or option, 130 when a real run was interrupted.",
    run_opts,
};

static int run_opt(void *ctx, int key, const char *v)
{
    struct run_cli *c = ctx;
    switch (key) {
    case OPT_SEED:
    case OPT_SEEDS:
        if (cli_parse_seeds(v, &c->seed_first, &c->seed_last) != 0 ||
            (key == OPT_SEED && c->seed_first != c->seed_last))
            return cli_bad_value(&run_cmd, key == OPT_SEED ? "seed" : "seeds",
                                 key == OPT_SEED ? "a number" : "a range A..B such as 1..100", v);
        c->have_seeds = true;
        return 0;
    case OPT_TRIALS:
        if (cli_parse_count(v, &c->trials) != 0)
            return cli_bad_value(&run_cmd, "trials", "a positive number", v);
        return 0;
    case OPT_JUNIT: c->junit_path = v; return 0;
    case OPT_REPORT: c->report_dir = v; return 0;
    case OPT_TRACE: c->trace_path = v; return 0;
    case OPT_CLUSTERD: c->clusterd = v; return 0;
    case OPT_REPORT_ALL: c->report_all = true; return 0;
    case OPT_CHECK_DETERMINISM: c->check_determinism = true; return 0;
    case OPT_QUIET: c->quiet = true; return 0;
    case OPT_VERBOSE: c->verbose = true; return 0;
    case OPT_REAL: c->real = true; return 0;
    default: return -1;
    }
}

static int run_file(void *ctx, const char *arg)
{
    struct run_cli *c = ctx;
    c->files[c->file_count++] = (char *)arg;
    return 0;
}

/* 0, 1 after --help, -1 after a refusal. */
static int parse_args(struct run_cli *c, int argc, char **argv)
{
    c->files = calloc((size_t)argc + 1, sizeof *c->files);
    if (!c->files)
        return -1;
    int rc = cli_parse(&run_cmd, argc, argv, run_opt, run_file, c);
    if (rc != 0)
        return rc;
    if (c->file_count == 0)
        return cli_refuse(&run_cmd, "no scenario file given");
    if (c->real && (c->have_seeds || c->check_determinism || c->trace_path))
        return cli_refuse(&run_cmd, "--real runs trials (--trials N), not seeds; it has no trace or determinism "
                                    "to check");
    if (c->trials && !c->real)
        return cli_refuse(&run_cmd, "--trials needs --real (simulated runs take --seeds)");
    if (c->quiet && c->verbose)
        return cli_refuse(&run_cmd, "--quiet and --verbose exclude each other");
    return 0;
}

/* FILE for one run, or FILE with "-<scenario>-<seed>" before its extension. */
static void trace_name(const struct run_cli *c, const struct scenario *sc, uint64_t seed,
                       bool single, char *out, size_t size)
{
    if (single) {
        snprintf(out, size, "%s", c->trace_path);
        return;
    }
    const char *dot = strrchr(c->trace_path, '.');
    const char *slash = strrchr(c->trace_path, '/');
    if (!dot || (slash && dot < slash))
        dot = c->trace_path + strlen(c->trace_path);
    snprintf(out, size, "%.*s-%s-%llu%s", (int)(dot - c->trace_path), c->trace_path, sc->name,
             (unsigned long long)seed, dot);
}

static void replay_command(const struct run_cli *c, const struct scenario *sc, uint64_t seed,
                           char *out, size_t size)
{
    if (c->real) {
        snprintf(out, size, "%s run --real %s --trials 1   (trial %llu's files and daemon logs: %s/%s/trial-%llu)",
                 c->self, sc->path, (unsigned long long)seed, c->real_dir, sc->name, (unsigned long long)seed);
        return;
    }
    snprintf(out, size, "%s run %s --seed %llu --trace %s-%llu.jsonl && %s replay %s-%llu.jsonl",
             c->self, sc->path, (unsigned long long)seed, sc->name, (unsigned long long)seed,
             c->self, sc->name, (unsigned long long)seed);
}

/* One run with the trace (if any) bracketed by a header and an end line;
 * `memo`: the ring memo the run may use (NULL: its own). */
static int run_once(const struct run_cli *c, const struct scenario *sc, uint64_t seed,
                    const char *trace_file, struct ring_memo *memo, struct run_result *res)
{
    if (c->real) {
        struct real_options opt = {.clusterd = c->clusterd, .workdir = c->real_dir, .trial = seed,
                                   .verbose = c->verbose};
        real_run_scenario(sc, &opt, res);
        return 0;
    }
    if (!trace_file) { /* report_traced_run without a file, the seeds sharing a ring memo */
        struct run_options opt = {.seed = seed, .trace_hash = true, .verbose = c->verbose,
                                  .ring_memo = memo, .last_events = !c->quiet || c->junit};
        return sim_run_scenario(sc, &opt, res);
    }
    int rc = report_traced_run(sc, seed, trace_file, 0, c->verbose, res);
    if (rc != 0)
        fprintf(stderr, "clustersim run: cannot write trace %s\n", trace_file);
    return rc;
}

static void print_run(const struct run_cli *c, const struct scenario *sc, const struct run_result *r,
                      const char *replay, const char *report)
{
    if (c->quiet && r->pass)
        return;
    progress_clear(c->progress);
    char vt[32], conv[64] = "";
    sim_duration_format(r->end_time, vt, sizeof vt);
    if (c->real) /* real times are not round: seconds and milliseconds */
        snprintf(vt, sizeof vt, "%.3fs", (double)r->end_time / 1e9);
    if (r->budget[0]) {
        snprintf(conv, sizeof conv, "stopped by a budget");
    } else if (r->stuck) {
        char at[32];
        sim_duration_format(r->stuck_at, at, sizeof at);
        snprintf(conv, sizeof conv, "stuck at %s", at);
    } else if (r->converged_after >= 0) {
        char after[32];
        sim_duration_format(r->converged_after, after, sizeof after);
        if (c->real)
            snprintf(after, sizeof after, "%.3fs", (double)r->converged_after / 1e9);
        snprintf(conv, sizeof conv, "converged %s after last fault", after);
    } else {
        snprintf(conv, sizeof conv, "not converged");
    }
    if (c->real)
        printf("%s %-28s trial=%-5llu %-36s probes=%-7llu time=%-6s (real world, no seed)\n",
               r->pass ? "PASS" : "FAIL", sc->name, (unsigned long long)r->seed, conv,
               (unsigned long long)r->events, vt);
    else
        printf("%s %-28s seed=%-6llu %-36s events=%-9llu vt=%-6s wall=%.1fms hash=%016llx\n",
               r->pass ? "PASS" : "FAIL", sc->name, (unsigned long long)r->seed, conv,
               (unsigned long long)r->events, vt, r->wall_seconds * 1e3,
               (unsigned long long)r->trace_hash);
    if (report[0])
        printf("     report: %s\n", report);
    if (r->pass && !c->verbose && !(r->stuck && !c->quiet))
        return;
    if (c->quiet) { /* a failure in one line per reason, and how to see it all */
        for (size_t i = 0; i < r->expect_count; i++)
            if (r->expects[i].per_seed && !r->expects[i].ok)
                printf("     %s:%d:%d: %s: %s\n", sc->path, r->expects[i].pos.line, r->expects[i].pos.col,
                       sc_expect_name(r->expects[i].kind), r->expects[i].detail);
        if (r->budget[0] || r->internal[0])
            printf("     %s\n", r->budget[0] ? r->budget : r->internal);
        printf("     replay: %s\n", replay);
        return;
    }
    if (r->budget[0])
        printf("     %s:1:1: %s\n", sc->path, r->budget);
    if (r->internal[0])
        printf("     %s\n", r->internal);
    for (size_t i = 0; i < r->expect_count; i++) {
        const struct run_expect_result *e = &r->expects[i];
        if (e->per_seed)
            printf("     %s:%d:%d: %s: %s%s\n", sc->path, e->pos.line, e->pos.col,
                   sc_expect_name(e->kind), e->ok ? "" : "FAILED: ", e->detail);
    }
    if (r->final_dumps && c->verbose)
        printf("     state at the end:\n%s", r->final_dumps);
    if (r->wait_for[0])
        printf("     wait-for: %s\n", r->wait_for);
    if (r->stuck_report)
        printf("     stuck nodes:\n%s", r->stuck_report);
    if (r->registry_diff && !r->pass)
        printf("     registries disagree on:\n%s", r->registry_diff);
    if (r->last_events && !r->pass)
        printf("     last events:\n%s", r->last_events);
    if (!r->pass)
        printf("     replay: %s\n", replay);

}

/* The JSON summary of every run, and a full report directory (HTML, plots,
 * traces) for a failing run, a single run, or every run with --report-all;
 * `report` gets the path of index.html, or "" when none was written. */
/* A real run's report: its observed trace and its daemons' logs copied
 * from the run's directory into `dir`, then the page drawn from the trace
 * (real runs have no seed to re-run). */
static int copy_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "rb"), *out = in ? fopen(dst, "wb") : NULL;
    char buf[65536];
    size_t n;
    int rc = in && out ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        rc = fwrite(buf, 1, n, out) == n ? 0 : -1;
    if (in)
        fclose(in);
    if (out && fclose(out) != 0)
        rc = -1;
    return rc;
}

static int real_report(const char *dir, const struct scenario *sc, const struct run_result *r,
                       const char *replay, char *err, size_t err_size)
{
    if (report_make_dirs(dir) != 0) {
        snprintf(err, err_size, "%s: cannot create", dir);
        return -1;
    }
    const char *from = real_last_dir();
    DIR *d = opendir(from);
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strcmp(e->d_name, "trace.jsonl") && (len < 5 || strcmp(e->d_name + len - 4, ".log")))
            continue;
        char src[1200], dst[1200];
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", dir, e->d_name);
        if (copy_file(src, dst) != 0) {
            snprintf(err, err_size, "cannot copy %s to %s", src, dst);
            closedir(d);
            return -1;
        }
    }
    if (d)
        closedir(d);
    char trace[1200];
    snprintf(trace, sizeof trace, "%s/trace.jsonl", dir);
    return report_from_trace(dir, sc, r, replay, trace, err, err_size);
}

static void write_run_report(struct run_cli *c, const struct scenario *sc, const struct run_result *r,
                             const char *replay, char *report, size_t report_size)
{
    char dir[1024], path[1200];
    report[0] = '\0';
    snprintf(dir, sizeof dir, "%s/%s", c->report_dir, sc->name);
    if (report_make_dirs(dir) != 0) {
        fprintf(stderr, "clustersim run: cannot create %s\n", dir);
        return;
    }
    json_t *o = summary_run_json(sc, r, replay);
    snprintf(path, sizeof path, "%s/%s-%llu.json", dir, c->real ? "trial" : "seed", (unsigned long long)r->seed);
    summary_write(path, o);
    json_decref(o);
    char outcome[400], failed[512] = "";
    rep_outcome_text(r, outcome, sizeof outcome);
    for (size_t i = 0, len = 0; i < r->expect_count && len < sizeof failed - 40; i++)
        if (r->expects[i].per_seed && !r->expects[i].ok)
            len += (size_t)snprintf(failed + len, sizeof failed - len, "%s%s", len ? ", " : "",
                                    sc_expect_name(r->expects[i].kind));
    json_t *entry = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "scenario", sc->name, "seed",
                              (json_int_t)r->seed, "result", r->pass ? "pass" : "fail", "summary", path,
                              "outcome", outcome, "failed", failed);
    if (c->real) {
        char err[1400];
        snprintf(path, sizeof path, "%s/trial-%llu", dir, (unsigned long long)r->seed);
        if (real_report(path, sc, r, replay, err, sizeof err) != 0)
            fprintf(stderr, "clustersim run: report: %s\n", err);
        snprintf(report, report_size, "%s/index.html", path);
        json_object_set_new(entry, "report", json_string(report));
    } else if (!r->pass || c->single || c->report_all) {
        char err[1400];
        snprintf(path, sizeof path, "%s/seed-%llu", dir, (unsigned long long)r->seed);
        if (report_run(path, sc, r->seed, replay, err, sizeof err) != 0)
            fprintf(stderr, "clustersim run: report: %s\n", err);
        snprintf(report, report_size, "%s/index.html", path);
        json_object_set_new(entry, "report", json_string(report));
    }
    json_array_append_new(json_object_get(c->report, "runs"), entry);
}

/* Runs one seed (twice with --check-determinism); returns pass. */
/* What the seed-range judgements need of one seed. */
struct seed_outcome {
    bool stuck;
    enum deadlock_class mechanism; /* DL_NONE unless stuck */
    cs_time converged_after;       /* since the last fault; CS_TIME_NEVER: not converged */
};

static bool run_seed(struct run_cli *c, const struct scenario *sc, uint64_t seed, bool single,
                     struct seed_outcome *out)
{
    char trace[1024], replay[2048];
    const char *trace_file = NULL;
    if (c->trace_path) {
        trace_name(c, sc, seed, single, trace, sizeof trace);
        trace_file = trace;
    }
    struct run_result r;
    if (run_once(c, sc, seed, trace_file, c->ring_memo, &r) != 0) {
        fprintf(stderr, "clustersim run: %s seed %llu could not run (out of memory?)\n", sc->path,
                (unsigned long long)seed);
        return false;
    }
    if (c->check_determinism) {
        struct run_result again; /* with a memo of its own: the shared one must change nothing */
        if (run_once(c, sc, seed, NULL, NULL, &again) == 0) {
            if (again.trace_hash != r.trace_hash || again.events != r.events) {
                r.pass = false;
                printf("     NONDETERMINISTIC: %s seed %llu: trace hash %016llx then %016llx\n",
                       sc->path, (unsigned long long)seed, (unsigned long long)r.trace_hash,
                       (unsigned long long)again.trace_hash);
            }
            run_result_free(&again);
        }
    }
    /* what reproduces the run: for the report, JUnit and a printed failure
     * (most seeds of a --quiet range print nothing and need none) */
    replay[0] = '\0';
    if (c->report || c->junit || !(c->quiet && r.pass))
        replay_command(c, sc, seed, replay, sizeof replay);
    char report[1400];
    report[0] = '\0';
    if (c->report)
        write_run_report(c, sc, &r, replay, report, sizeof report);
    print_run(c, sc, &r, replay, report);
    if (c->junit)
        junit_add_case(c->junit, sc, &r, replay, report[0] ? report : NULL);
    c->runs++;
    out->stuck = r.stuck;
    out->mechanism = r.stuck ? deadlock_class_of(&r) : DL_NONE;
    out->converged_after = r.converged && r.converged_after >= 0 ? r.converged_after : CS_TIME_NEVER;
    bool pass = r.pass;
    run_result_free(&r);
    return pass;
}

/* The mechanisms behind the stuck seeds (cli/shrinker.h's classes:
 * deadlock A is mechanism M1, deadlock B is M2). */
static void print_mechanisms(const uint64_t *mix, uint64_t stuck)
{
    if (!stuck)
        return;
    printf("     mechanisms of the %llu stuck seeds: M1 (deadlock A) %llu, M2 (deadlock B) %llu, M3a %llu, "
           "M3b %llu, C %llu, other %llu\n",
           (unsigned long long)stuck, (unsigned long long)mix[DL_A], (unsigned long long)mix[DL_B],
           (unsigned long long)mix[DL_M3A], (unsigned long long)mix[DL_M3B], (unsigned long long)mix[DL_C],
           (unsigned long long)mix[DL_OTHER]);
}

/* Judges the seed-range expectations of a scenario. */
static bool judge_fraction(struct run_cli *c, const struct scenario *sc, uint64_t stuck, uint64_t n)
{
    bool all_ok = true;
    for (size_t i = 0; i < sc->expect_count; i++) {
        const struct sc_expect *e = &sc->expects[i];
        if (e->kind != SC_EXP_STUCK_FRACTION)
            continue;
        double lo, hi, p = n ? (double)stuck / (double)n : 0;
        cli_wilson(stuck, n, &lo, &hi);
        bool ok = p >= e->min && p <= e->max;
        char detail[256];
        snprintf(detail, sizeof detail,
                 "stuck fraction %llu/%llu = %.2f%% (95%% CI %.2f%%..%.2f%%), expected %.2f%%..%.2f%%",
                 (unsigned long long)stuck, (unsigned long long)n, 100 * p, 100 * lo, 100 * hi,
                 100 * e->min, 100 * e->max);
        printf("%s %-28s %s\n", ok ? "PASS" : "FAIL", sc->name, detail);
        if (c->junit)
            junit_add_aggregate(c->junit, sc, "stuck_fraction", ok, detail);
        c->runs++;
        all_ok &= ok;
    }
    return all_ok;
}

static void seconds_or_never(cs_time t, char *buf, size_t size)
{
    if (t == CS_TIME_NEVER)
        snprintf(buf, size, "never");
    else
        snprintf(buf, size, "%.3fs", (double)t / 1e9);
}

static int by_time(const void *a, const void *b)
{
    cs_time x = *(const cs_time *)a, y = *(const cs_time *)b;
    return (x > y) - (x < y);
}

/* converged: {within, quantile}: the seeds' convergence times (since the
 * last fault; a seed that never converged counts as never) at that
 * quantile (nearest rank) must be within the limit. */
static bool judge_quantiles(struct run_cli *c, const struct scenario *sc, cs_time *times, uint64_t n)
{
    bool all_ok = true;
    qsort(times, n, sizeof *times, by_time);
    for (size_t i = 0; i < sc->expect_count && n > 0; i++) {
        const struct sc_expect *e = &sc->expects[i];
        if (e->kind != SC_EXP_CONVERGED || e->quantile <= 0)
            continue;
        uint64_t rank = (uint64_t)ceil(e->quantile * (double)n);
        cs_time at_q = times[(rank ? rank : 1) - 1], median = times[(n + 1) / 2 - 1];
        uint64_t never = 0;
        for (uint64_t k = 0; k < n; k++)
            never += times[k] == CS_TIME_NEVER;
        bool ok = at_q <= e->within;
        char q[32], med[32], lim[32], detail[256];
        seconds_or_never(at_q, q, sizeof q);
        seconds_or_never(median, med, sizeof med);
        seconds_or_never(e->within, lim, sizeof lim);
        snprintf(detail, sizeof detail,
                 "converged after the last fault: %.0f%% of %llu seeds within %s (limit %s), median %s, "
                 "%llu never",
                 100 * e->quantile, (unsigned long long)n, q, lim, med, (unsigned long long)never);
        printf("%s %-28s %s\n", ok ? "PASS" : "FAIL", sc->name, detail);
        if (c->junit)
            junit_add_aggregate(c->junit, sc, "converged", ok, detail);
        c->runs++;
        all_ok &= ok;
    }
    return all_ok;
}

/* The seeds' convergence times after the last fault, sorted: median,
 * 90th percentile and the slowest, and how many never converged. */
static void print_convergence(cs_time *times, uint64_t n)
{
    qsort(times, n, sizeof *times, by_time);
    uint64_t never = 0;
    for (uint64_t k = 0; k < n; k++)
        never += times[k] == CS_TIME_NEVER;
    char med[32], p90[32], max[32];
    seconds_or_never(times[(n + 1) / 2 - 1], med, sizeof med);
    seconds_or_never(times[(uint64_t)ceil(0.9 * (double)n) - 1], p90, sizeof p90);
    seconds_or_never(never < n ? times[n - 1 - never] : CS_TIME_NEVER, max, sizeof max);
    printf("     converged after the last fault: median %s, 90th percentile %s, slowest %s; %llu of %llu seeds "
           "never\n", med, p90, max, (unsigned long long)never, (unsigned long long)n);
}

static bool expects_quantile(const struct scenario *sc)
{
    for (size_t i = 0; i < sc->expect_count; i++)
        if (sc->expects[i].kind == SC_EXP_CONVERGED && sc->expects[i].quantile > 0)
            return true;
    return false;
}

static void run_scenario(struct run_cli *c, const struct scenario *sc, bool single)
{
    uint64_t first = c->have_seeds ? c->seed_first : sc->seed;
    uint64_t last = c->have_seeds ? c->seed_last : sc->seed;
    if (c->real) {
        first = 1;
        last = c->trials ? c->trials : 1;
    }
    uint64_t stuck_runs = 0, runs = 0, failed_before = c->failed, mix[DL_COUNT] = {0};
    cs_time *times = last > first ? malloc((size_t)(last - first + 1) * sizeof *times) : NULL;
    if (c->junit)
        junit_begin_suite(c->junit, sc);
    for (uint64_t seed = first;; seed++) {
        struct seed_outcome out = {.mechanism = DL_NONE, .converged_after = CS_TIME_NEVER};
        if (run_seed(c, sc, seed, single, &out))
            c->passed++;
        else
            c->failed++;
        stuck_runs += out.stuck;
        mix[out.mechanism]++;
        if (times)
            times[runs] = out.converged_after;
        runs++;
        if (!c->real && c->progress->total > 1) {
            char detail[64] = "";
            if (c->failed) /* (not formatted for every seed) */
                snprintf(detail, sizeof detail, "%zu failed", c->failed);
            progress_update(c->progress, c->runs, c->failed ? detail : NULL);
        }
        if (seed == last || (c->real && real_interrupted()) || cli_interrupted())
            break;
    }
    bool fraction = scenario_expects(sc, SC_EXP_STUCK_FRACTION), quantile = expects_quantile(sc);
    if (fraction) {
        if (judge_fraction(c, sc, stuck_runs, runs))
            c->passed++;
        else
            c->failed++;
        print_mechanisms(mix, stuck_runs);
    }
    if (quantile) {
        if (times && judge_quantiles(c, sc, times, runs))
            c->passed++;
        else
            c->failed++;
    }
    if (!fraction && !quantile && runs > 1 && !c->quiet)
        printf("     %s: %llu seeds, %llu failed, %llu stuck\n", sc->name, (unsigned long long)runs,
               (unsigned long long)(c->failed - failed_before), (unsigned long long)stuck_runs);
    if (times && runs > 1 && !c->quiet)
        print_convergence(times, runs);
    free(times);
    if (c->junit)
        junit_end_suite(c->junit);
}

void cli_real_paths(const char *self, const char **clusterd, const char **real_dir)
{
    static char daemon[600], dir[600];
    char self_dir[512], cwd[500];
    snprintf(self_dir, sizeof self_dir, "%s", self);
    char *slash = strrchr(self_dir, '/');
    if (!*clusterd) {
        snprintf(daemon, sizeof daemon, "%s/clusterd", slash ? (*slash = '\0', self_dir) : ".");
        *clusterd = daemon;
    }
    /* absolute: dnsmasq and the daemons change directory */
    snprintf(dir, sizeof dir, "%s/build/real", getcwd(cwd, sizeof cwd) ? cwd : ".");
    *real_dir = dir;
}

int cmd_run(int argc, char **argv, const char *self)
{
    struct run_cli c = {.self = self};
    int parsed = parse_args(&c, argc, argv);
    if (parsed != 0) {
        free(c.files);
        return parsed > 0 ? 0 : 2;
    }
    struct scenario *scs = calloc(c.file_count, sizeof *scs);
    int status = 0;
    for (size_t i = 0; scs && i < c.file_count; i++) {
        char err[1024];
        if (scenario_load_file(c.files[i], &scs[i], err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            status = 2;
        }
    }
    if (!scs || status == 2) {
        for (size_t i = 0; scs && i < c.file_count; i++)
            scenario_free(&scs[i]);
        free(scs);
        free(c.files);
        return 2;
    }
    for (size_t i = 0; i < c.file_count && c.real; i++)
        if (!(scs[i].worlds & SC_WORLD_REAL)) {
            fprintf(stderr, "%s:%d:%d: this scenario runs in the simulator only; add `worlds: [sim, real]` to run "
                    "it in the real world\n", scs[i].path, scs[i].worlds_pos.line ? scs[i].worlds_pos.line : 1,
                    scs[i].worlds_pos.col ? scs[i].worlds_pos.col : 1);
            status = 2;
        }
    char why[400];
    if (status == 0 && c.real && real_available(why, sizeof why) != 0) {
        printf("skip real world: %s\n", why);
        status = 3;
    }
    if (status != 0) {
        for (size_t i = 0; i < c.file_count; i++)
            scenario_free(&scs[i]);
        free(scs);
        free(c.files);
        return status == 3 ? 0 : 2;
    }
    if (c.real) {
        cli_real_paths(self, &c.clusterd, &c.real_dir);
        real_prepare();
    }
    if (c.junit_path && !(c.junit = junit_open(c.junit_path)))
        fprintf(stderr, "clustersim run: cannot prepare %s\n", c.junit_path);
    if (c.report_dir) {
        c.report = json_pack("{s:[]}", "runs");
        if (report_make_dirs(c.report_dir) != 0)
            fprintf(stderr, "clustersim run: cannot create %s\n", c.report_dir);
    }
    struct progress progress;
    uint64_t per_file = c.have_seeds ? c.seed_last - c.seed_first + 1 : 1;
    progress_start(&progress, "run", "runs", per_file * c.file_count);
    c.progress = &progress;
    /* several runs: a signal ends the work after the current run, counted; a
     * single run keeps the signal's usual effect (it would not look at a flag) */
    if (!c.real && per_file * c.file_count > 1)
        cli_interrupt_install();
    if (!c.real)
        c.ring_memo = ring_memo_new(0); /* NULL (out of memory): each run its own */
    bool single = c.file_count == 1 && (!c.have_seeds || c.seed_first == c.seed_last);
    c.single = single;
    for (size_t i = 0; i < c.file_count; i++) {
        if (!c.real && !(scs[i].worlds & SC_WORLD_SIM)) {
            if (!c.quiet)
                printf("SKIP %-28s worlds: [real]: run it with --real\n", scs[i].name);
            continue;
        }
        if ((c.real && real_interrupted()) || cli_interrupted())
            break;
        run_scenario(&c, &scs[i], single);
    }
    progress_clear(&progress);
    char stopped[96] = "";
    if (cli_interrupted())
        snprintf(stopped, sizeof stopped, " (interrupted by %s after %zu runs: the rest was not run)",
                 cli_interrupt_name(), c.runs);
    else if (c.real && real_interrupted())
        snprintf(stopped, sizeof stopped, " (interrupted: the rest was not run)");
    printf("runs: %zu passed, %zu failed%s\n", c.passed, c.failed, stopped);
    if (c.junit && junit_close(c.junit) != 0)
        fprintf(stderr, "clustersim run: cannot write %s\n", c.junit_path);
    if (c.report) {
        char path[1100];
        json_object_set_new(c.report, "passed", json_integer((json_int_t)c.passed));
        json_object_set_new(c.report, "failed", json_integer((json_int_t)c.failed));
        snprintf(path, sizeof path, "%s/summary.json", c.report_dir);
        summary_write(path, c.report);
        if (report_index_write(c.report_dir, c.report) != 0)
            fprintf(stderr, "clustersim run: cannot write %s/index.html\n", c.report_dir);
        json_decref(c.report);
    }
    ring_memo_free(c.ring_memo);
    for (size_t i = 0; i < c.file_count; i++)
        scenario_free(&scs[i]);
    free(scs);
    free(c.files);
    if (c.real && real_interrupted())
        return 130;
    if (cli_interrupted())
        return cli_interrupt_status();
    return c.failed ? 1 : 0;
}
