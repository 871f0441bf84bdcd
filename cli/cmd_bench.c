/*
 * cli/cmd_bench.c: `clustersim bench`: simulated events per second of wall
 * time.  Runs the scenario repeatedly (trace recording off, as in a fuzzing
 * campaign) until a minimum wall time has passed, and prints each run and
 * the aggregate.  A measurement, never a pass/fail test.  The runs share
 * one ring memo (core/ring.h: the nodes' ring point hashes), as the seeds
 * of a fuzz campaign do: a pure cache, the runs' results are unchanged.
 */
#include "cli.h"
#include "progress.h"
#include "../config/cli_opts.h"
#include "../core/ring.h"

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_BENCH "scenarios/bench/ping-100-faults.yaml"

/* The registry at the end and the counters behind it: names per node,
 * handoffs and messages sent (by type), per name where it means something. */
static void print_registry(const struct run_result *r)
{
    if (!r->has_registry)
        return;
    size_t names = r->registry_max;
    double per = names ? 1.0 / (double)names : 0;
    uint64_t handoffs = run_counter(&r->counters, "handoffs_sent");
    uint64_t track = run_counter(&r->counters, "sent_track");
    uint64_t carried = run_counter(&r->counters, "snapshot_entries");
    uint64_t scoped = run_counter(&r->counters, "scoped_answer_entries");
    uint64_t full = run_counter(&r->counters, "full_pulls");
    uint64_t with_writes = run_counter(&r->counters, "pulls_with_writes");
    uint64_t forgone = run_counter(&r->counters, "pulls_forgone");
    printf("    registry: %zu names a node, %llu handoffs (%.3f a name), %llu track messages (%.1f a name), "
           "%llu entries in snapshots and pull answers (%.1f a name; %llu answering %llu full pulls, "
           "the rest the senders' own writes); %llu pulls carried their puller's writes, %llu queued "
           "pulls forgone for them; sent:",
           names, (unsigned long long)handoffs, (double)handoffs * per, (unsigned long long)track,
           (double)track * per, (unsigned long long)carried, (double)carried * per,
           (unsigned long long)(carried - scoped), (unsigned long long)full, (unsigned long long)with_writes,
           (unsigned long long)forgone);
    for (size_t i = 0; i < r->counters.count; i++)
        if (strncmp(r->counters.items[i].name, "sent_", 5) == 0)
            printf(" %s %llu", r->counters.items[i].name + 5, (unsigned long long)r->counters.items[i].value);
    printf("\n");
}

static void print_run(int index, const struct run_result *r, double rate)
{
    printf("  run %d seed=%llu: %llu events in %.3fs wall = %.2f M events/s (virtual/wall %.0fx), "
           "peak queue %llu\n",
           index + 1, (unsigned long long)r->seed, (unsigned long long)r->events, r->wall_seconds,
           rate / 1e6, (double)r->end_time / 1e9 / r->wall_seconds,
           (unsigned long long)r->stats.peak_queue);
    if (r->converged_after >= 0)
        printf("    full agreement (converged) %.3fs of virtual time after the last fault "
               "(at %.3fs)\n", (double)r->converged_after / 1e9, (double)r->last_fault / 1e9);
    else
        printf("    not converged by the end of the run\n");
    size_t held = 0;
    for (size_t i = 0; i < r->expect_count; i++)
        held += r->expects[i].ok;
    printf("    expectations: %zu of %zu hold%s\n", held, r->expect_count, r->pass ? "" : " (the run FAILED)");
    for (size_t i = 0; i < r->expect_count; i++)
        if (!r->expects[i].ok)
            printf("      line %d:%d: %s\n", r->expects[i].pos.line, r->expects[i].pos.col, r->expects[i].detail);
    if (r->budget[0])
        printf("    %s\n", r->budget);
    print_registry(r);
}

struct bench_cli {
    const char *file;
    double min_seconds;
    bool quiet;
    uint64_t seed;
};

enum { OPT_MIN_SECONDS = CLI_KEY_FIRST, OPT_SEED, OPT_QUIET };

static const struct cli_opt bench_opts[] = {
    {"min-seconds", "S", "repeat the run for at least this long (3)", OPT_MIN_SECONDS, 0},
    {"seed", "N", "the seed of the first run (1)", OPT_SEED, 0},
    {"quiet", NULL, "print only the first run's outcome", OPT_QUIET, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd bench_cmd = {
    "clustersim bench", "[FILE] [options]",
    "Runs one scenario (default " DEFAULT_BENCH ") with trace recording off, again and again\n"
    "for at least --min-seconds, and prints events per second and wall time per run.",
    bench_opts,
};

static int bench_opt(void *ctx, int key, const char *v)
{
    struct bench_cli *c = ctx;
    char *end;
    uint64_t last;
    switch (key) {
    case OPT_MIN_SECONDS:
        c->min_seconds = strtod(v, &end);
        if (!*v || *end || !(c->min_seconds >= 0))
            return cli_bad_value(&bench_cmd, "min-seconds", "a number of seconds such as 3 or 0.5", v);
        return 0;
    case OPT_SEED:
        if (cli_parse_seeds(v, &c->seed, &last) != 0 || last != c->seed)
            return cli_bad_value(&bench_cmd, "seed", "a whole number", v);
        return 0;
    case OPT_QUIET: c->quiet = true; return 0;
    default: return -1;
    }
}

static int bench_file(void *ctx, const char *arg)
{
    ((struct bench_cli *)ctx)->file = arg;
    return 0;
}

int cmd_bench(int argc, char **argv, const char *self)
{
    (void)self;
    struct bench_cli c = {.file = DEFAULT_BENCH, .min_seconds = 3.0, .seed = 1};
    int parsed = cli_parse(&bench_cmd, argc, argv, bench_opt, bench_file, &c);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    const char *file = c.file;
    double min_seconds = c.min_seconds;
    bool quiet_runs = c.quiet; /* many short runs: print only the first */
    uint64_t seed = c.seed;
    struct scenario sc;
    if (cli_load_scenario(file, &sc) != 0)
        return 2;
    printf("bench: %s (%zu nodes, %.0fs virtual per run), trace recording off\n", file,
           sc.cluster.node_count, (double)sc.limits.duration / 1e9);
    struct ring_memo *memo = ring_memo_new(0); /* NULL (out of memory): each run its own */
    uint64_t events = 0;
    double wall = 0, best = 0;
    int runs = 0;
    cli_interrupt_install(); /* a signal ends the runs after the current one */
    while ((wall < min_seconds && !cli_interrupted()) || runs == 0) {
        struct run_options opt = {.seed = seed + (uint64_t)runs, .trace_hash = false, .counters = true,
                                   .ring_memo = memo};
        struct run_result r;
        if (sim_run_scenario(&sc, &opt, &r) != 0) {
            fprintf(stderr, "clustersim bench: run failed (out of memory?)\n");
            ring_memo_free(memo);
            scenario_free(&sc);
            return 1;
        }
        double rate = (double)r.events / r.wall_seconds;
        if (!quiet_runs || runs == 0)
            print_run(runs, &r, rate);
        events += r.events;
        wall += r.wall_seconds;
        if (rate > best)
            best = rate;
        runs++;
        run_result_free(&r);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("bench result: %d runs, %llu events, %.3fs wall: %.2f M events/s (best run %.2f M/s), "
           "%.1f runs (seeds) per second, peak RSS %.1f MiB\n",
           runs, (unsigned long long)events, wall, (double)events / wall / 1e6, best / 1e6,
           runs / wall, (double)ru.ru_maxrss / 1024.0);
    ring_memo_free(memo);
    scenario_free(&sc);
    if (cli_interrupted()) {
        printf("bench: interrupted by %s after %d runs\n", cli_interrupt_name(), runs);
        return cli_interrupt_status();
    }
    return 0;
}
