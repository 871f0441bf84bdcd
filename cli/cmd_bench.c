/*
 * cli/cmd_bench.c: `clustersim bench`: simulated events per second of wall
 * time.  Runs the scenario repeatedly (trace recording off, as in a fuzzing
 * campaign) until a minimum wall time has passed, and prints each run and
 * the aggregate.  A measurement, never a pass/fail test.
 */
#include "cli.h"

#include "../config/scenario/loader.h"
#include "../drivers/runner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define DEFAULT_BENCH "scenarios/bench/ping-100-faults.yaml"

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
}

int cmd_bench(int argc, char **argv, const char *self)
{
    (void)self;
    const char *file = DEFAULT_BENCH;
    double min_seconds = 3.0;
    bool quiet_runs = false; /* many short runs: print only the first */
    uint64_t seed = 1;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--min-seconds") && i + 1 < argc) {
            min_seconds = atof(argv[++i]);
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            uint64_t last;
            if (cli_parse_seeds(argv[++i], &seed, &last) != 0) {
                fprintf(stderr, "clustersim bench: --seed expects a number\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--quiet")) {
            quiet_runs = true;
        } else if (argv[i][0] != '-') {
            file = argv[i];
        } else {
            fprintf(stderr, "clustersim bench: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    struct scenario sc;
    if (cli_load_scenario(file, &sc) != 0)
        return 2;
    printf("bench: %s (%zu nodes, %.0fs virtual per run), trace recording off\n", file,
           sc.cluster.node_count, (double)sc.limits.duration / 1e9);
    uint64_t events = 0;
    double wall = 0, best = 0;
    int runs = 0;
    while (wall < min_seconds || runs == 0) {
        struct run_options opt = {.seed = seed + (uint64_t)runs, .trace_hash = false};
        struct run_result r;
        if (sim_run_scenario(&sc, &opt, &r) != 0) {
            fprintf(stderr, "clustersim bench: run failed (out of memory?)\n");
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
    scenario_free(&sc);
    return 0;
}
