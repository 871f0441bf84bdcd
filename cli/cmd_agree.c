/*
 * cli/cmd_agree.c: `clustersim agree`: runs every scenario marked for both
 * worlds in the simulator over a seed range and in the real world over a
 * few trials, and prints the agreement table (markdown): verdicts,
 * convergence after the last fault, the registry at the end and, for
 * scenarios that judge a stuck fraction, both fractions with their 95 %
 * Wilson intervals; each row says where the two worlds differ.
 */
#include "cli.h"
#include "../config/cli_opts.h"

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"
#include "../real/real.h"
#include "../reports/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What one world showed over its runs. */
struct tally {
    uint64_t runs, passed, stuck, converged_end;
    cs_time *times; /* convergence after the last fault per run, CS_TIME_NEVER when not */
    bool has_registry;
    size_t registry_min, registry_max;
    char failure[300]; /* the first failing expectation seen, or "" */
};

struct agree_cli {
    char **files;
    size_t file_count;
    uint64_t seed_first, seed_last, trials, storm_seeds, storm_trials;
    const char *clusterd, *real_dir;
    bool verbose;
};

static void tally_add(struct tally *t, const struct run_result *r)
{
    t->times[t->runs++] = r->converged && r->converged_after >= 0 ? r->converged_after : CS_TIME_NEVER;
    t->passed += r->pass;
    t->stuck += r->stuck;
    t->converged_end += r->converged;
    if (r->has_registry) {
        t->registry_min = !t->has_registry || r->registry_min < t->registry_min ? r->registry_min : t->registry_min;
        t->registry_max = r->registry_max > t->registry_max ? r->registry_max : t->registry_max;
        t->has_registry = true;
    }
    for (size_t i = 0; i < r->expect_count && !t->failure[0]; i++)
        if (r->expects[i].per_seed && !r->expects[i].ok)
            snprintf(t->failure, sizeof t->failure, "%s (run %llu)", r->expects[i].detail,
                     (unsigned long long)r->seed);
}

static int by_time(const void *a, const void *b)
{
    cs_time x = *(const cs_time *)a, y = *(const cs_time *)b;
    return (x > y) - (x < y);
}

/* Sorts the times; the median, fastest and slowest of those that
 * converged (CS_TIME_NEVER when none did) and how many never did. */
static uint64_t time_range(struct tally *t, cs_time *median, cs_time *lo, cs_time *hi)
{
    qsort(t->times, t->runs, sizeof *t->times, by_time);
    uint64_t never = 0;
    while (never < t->runs && t->times[t->runs - 1 - never] == CS_TIME_NEVER)
        never++;
    uint64_t n = t->runs - never;
    *median = n ? t->times[(n - 1) / 2] : CS_TIME_NEVER;
    *lo = n ? t->times[0] : CS_TIME_NEVER;
    *hi = n ? t->times[n - 1] : CS_TIME_NEVER;
    return never;
}

static void format_times(struct tally *t, char *buf, size_t size, cs_time *median, cs_time *lo, cs_time *hi)
{
    uint64_t never = time_range(t, median, lo, hi);
    if (*median == CS_TIME_NEVER)
        snprintf(buf, size, "never");
    else
        snprintf(buf, size, "%.2f s (%.2f-%.2f)", (double)*median / 1e9, (double)*lo / 1e9, (double)*hi / 1e9);
    if (never && *median != CS_TIME_NEVER)
        snprintf(buf + strlen(buf), size - strlen(buf), ", %llu never", (unsigned long long)never);
}

/* "7" or "5-7" into buf (48 bytes). */
static const char *range_text(size_t lo, size_t hi, char *buf)
{
    if (lo == hi)
        snprintf(buf, 48, "%zu", lo);
    else
        snprintf(buf, 48, "%zu-%zu", lo, hi);
    return buf;
}

static void format_fraction(uint64_t k, uint64_t n, char *buf, size_t size, double *lo, double *hi)
{
    cli_wilson(k, n, lo, hi);
    snprintf(buf, size, "%llu/%llu = %.1f %% (%.1f-%.1f)", (unsigned long long)k, (unsigned long long)n,
             n ? 100.0 * (double)k / (double)n : 0.0, 100 * *lo, 100 * *hi);
}

static void run_world(const struct agree_cli *c, const struct scenario *sc, bool real, uint64_t count,
                      struct tally *t)
{
    t->times = calloc(count ? count : 1, sizeof *t->times);
    for (uint64_t i = 0; t->times && i < count; i++) {
        struct run_result r;
        int rc;
        if (real) {
            struct real_options opt = {.clusterd = c->clusterd, .workdir = c->real_dir, .trial = i + 1,
                                       .verbose = c->verbose};
            rc = real_run_scenario(sc, &opt, &r);
            if (real_interrupted()) {
                if (rc == 0)
                    run_result_free(&r);
                return;
            }
            if (rc != 0) {
                fprintf(stderr, "agree: %s: the real world could not run: %s\n", sc->name, r.internal);
                run_result_free(&r);
                return;
            }
        } else if ((rc = report_traced_run(sc, c->seed_first + i, NULL, 0, false, &r)) != 0) {
            fprintf(stderr, "agree: %s seed %llu could not run\n", sc->name, (unsigned long long)(c->seed_first + i));
            return;
        }
        tally_add(t, &r);
        run_result_free(&r);
        if (real)
            fprintf(stderr, "agree: %s: real trial %llu of %llu done\n", sc->name, (unsigned long long)(i + 1),
                    (unsigned long long)count);
    }
}

/* The poll interval of the real world: the resolution of its times. */
#define REAL_RESOLUTION CS_MSEC(100)

static void print_row(const struct scenario *sc, struct tally *sim, struct tally *real, bool fraction)
{
    char stimes[96], rtimes[96], sreg[48], rreg[48], diff[600] = "";
    cs_time sm, sl, sh, rm, rl, rh;
    format_times(sim, stimes, sizeof stimes, &sm, &sl, &sh);
    format_times(real, rtimes, sizeof rtimes, &rm, &rl, &rh);
    size_t len = 0;
    if ((sim->passed == sim->runs) != (real->passed == real->runs) && !fraction)
        len += (size_t)snprintf(diff + len, sizeof diff - len, "verdicts differ; ");
    if (!fraction && (sm == CS_TIME_NEVER) != (rm == CS_TIME_NEVER))
        len += (size_t)snprintf(diff + len, sizeof diff - len, "one world never converged; ");
    else if (!fraction && rm != CS_TIME_NEVER && (rm < sl - REAL_RESOLUTION || rm > sh + REAL_RESOLUTION))
        len += (size_t)snprintf(diff + len, sizeof diff - len, "real median outside the simulated range; ");
    if (!fraction && (sim->converged_end == sim->runs) != (real->converged_end == real->runs))
        len += (size_t)snprintf(diff + len, sizeof diff - len, "convergence at the end differs; ");
    char sf[96] = "-", rf[96] = "-";
    if (fraction) {
        double slo, shi, rlo, rhi;
        format_fraction(sim->stuck, sim->runs, sf, sizeof sf, &slo, &shi);
        format_fraction(real->stuck, real->runs, rf, sizeof rf, &rlo, &rhi);
        if (rhi < slo || rlo > shi)
            len += (size_t)snprintf(diff + len, sizeof diff - len, "stuck intervals do not overlap; ");
    }
    if (sim->has_registry && real->has_registry &&
        (sim->registry_min != real->registry_min || sim->registry_max != real->registry_max))
        len += (size_t)snprintf(diff + len, sizeof diff - len, "registry sizes differ; ");
    if (len >= 2)
        diff[len - 2] = '\0';
    char names[64] = "-";
    if (sim->has_registry && real->has_registry) /* the simulator counts 0 names without a tracker */
        snprintf(names, sizeof names, "%s / %s", range_text(sim->registry_min, sim->registry_max, sreg),
                 range_text(real->registry_min, real->registry_max, rreg));
    printf("| %s | %llu/%llu / %llu/%llu | %llu/%llu / %llu/%llu | %s | %s | %s | %s | %s | %s |\n", sc->name,
           (unsigned long long)sim->passed, (unsigned long long)sim->runs, (unsigned long long)real->passed,
           (unsigned long long)real->runs, (unsigned long long)sim->converged_end, (unsigned long long)sim->runs,
           (unsigned long long)real->converged_end, (unsigned long long)real->runs, names, stimes, rtimes, sf, rf,
           diff[0] ? diff : "agree");
    if (!fraction && sim->failure[0])
        printf("|   sim fails: %s |||||||||\n", sim->failure);
    if (!fraction && real->failure[0])
        printf("|   real fails: %s |||||||||\n", real->failure);
    fflush(stdout);
}

enum { OPT_SEEDS = CLI_KEY_FIRST, OPT_TRIALS, OPT_STORM_SEEDS, OPT_STORM_TRIALS, OPT_CLUSTERD, OPT_VERBOSE };

static const struct cli_opt agree_opts[] = {
    {"seeds", "A..B", "simulate each scenario on these seeds (default 1..200)", OPT_SEEDS, 0},
    {"trials", "N", "run each scenario N times in the real world (default 3)", OPT_TRIALS, 0},
    {"storm-seeds", "N", "seeds for scenarios that judge a stuck fraction (default 2000)", OPT_STORM_SEEDS, 0},
    {"storm-trials", "N", "real trials for those (default 50)", OPT_STORM_TRIALS, 0},
    {"clusterd", "PATH", "the daemon to start (default: the clusterd beside clustersim)", OPT_CLUSTERD, 0},
    {"verbose", NULL, "the daemons log at debug level", OPT_VERBOSE, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd agree_cmd = {
    "clustersim agree", "FILE... [options]",
    "The agreement table: each scenario marked `worlds: [sim, real]` simulated over many seeds and\n"
    "run against real clusterd processes a few times (as root), side by side: verdicts, convergence\n"
    "at the end and after the last fault, names at the end, stuck fractions with 95 % intervals.\n"
    "Markdown on stdout, progress on stderr; docs/worlds.md explains the columns.",
    agree_opts,
};

static int agree_opt(void *ctx, int key, const char *v)
{
    struct agree_cli *c = ctx;
    uint64_t n;
    if (key == OPT_SEEDS)
        return cli_parse_seeds(v, &c->seed_first, &c->seed_last) == 0
                   ? 0
                   : cli_bad_value(&agree_cmd, "seeds", "a range A..B such as 1..200", v);
    if (key == OPT_TRIALS || key == OPT_STORM_SEEDS || key == OPT_STORM_TRIALS) {
        if (cli_parse_count(v, &n) != 0)
            return cli_bad_value(&agree_cmd, key == OPT_TRIALS ? "trials" : key == OPT_STORM_SEEDS ? "storm-seeds"
                                                                                                 : "storm-trials",
                                 "a positive number", v);
        *(key == OPT_TRIALS ? &c->trials : key == OPT_STORM_SEEDS ? &c->storm_seeds : &c->storm_trials) = n;
        return 0;
    }
    if (key == OPT_CLUSTERD)
        c->clusterd = v;
    else
        c->verbose = true;
    return 0;
}

static int agree_file(void *ctx, const char *arg)
{
    struct agree_cli *c = ctx;
    c->files[c->file_count++] = (char *)arg;
    return 0;
}

int cmd_agree(int argc, char **argv, const char *self)
{
    struct agree_cli c = {.seed_first = 1, .seed_last = 200, .trials = 3, .storm_seeds = 2000, .storm_trials = 50};
    c.files = calloc((size_t)argc + 1, sizeof *c.files);
    int parsed = c.files ? cli_parse(&agree_cmd, argc, argv, agree_opt, agree_file, &c) : -1;
    if (parsed == 0 && c.file_count == 0)
        parsed = cli_refuse(&agree_cmd, "no scenario file given");
    if (parsed != 0) {
        free(c.files);
        return parsed > 0 ? 0 : 2;
    }
    char why[400];
    if (real_available(why, sizeof why) != 0) {
        printf("skip real world: %s\n", why);
        free(c.files);
        return 0;
    }
    cli_real_paths(self, &c.clusterd, &c.real_dir);
    real_prepare();
    printf("| scenario | passed: sim / real | converged at the end | names at the end | converged after the last "
           "fault, sim: median (range) | real | stuck, sim (95 %% CI) | real | agreement |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    int status = 0;
    for (size_t i = 0; i < c.file_count && !real_interrupted(); i++) {
        struct scenario sc;
        if (cli_load_scenario(c.files[i], &sc) != 0) {
            status = 2;
            continue;
        }
        if ((sc.worlds & (SC_WORLD_SIM | SC_WORLD_REAL)) == (SC_WORLD_SIM | SC_WORLD_REAL)) {
            bool fraction = scenario_expects(&sc, SC_EXP_STUCK_FRACTION);
            struct tally sim = {0}, real = {0};
            run_world(&c, &sc, false, fraction ? c.storm_seeds : c.seed_last - c.seed_first + 1, &sim);
            run_world(&c, &sc, true, fraction ? c.storm_trials : c.trials, &real);
            if (!real_interrupted())
                print_row(&sc, &sim, &real, fraction);
            free(sim.times);
            free(real.times);
        }
        scenario_free(&sc);
    }
    free(c.files);
    return real_interrupted() ? 130 : status;
}
