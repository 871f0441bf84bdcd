/*
 * cli/main.c: the `clustersim` binary: dispatches to the subcommands and
 * prints the usage.
 */
#include "cli.h"
#include "../config/nearest.h"
#include "../config/scenario/loader.h"
#include "../config/version.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clustersim COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  run FILE... [--seed N | --seeds A..B] [--junit FILE] [--report DIR [--report-all]]\n"
            "              [--trace FILE] [--check-determinism] [--quiet | --verbose]\n"
            "      run each scenario on each seed and check its expectations; --report\n"
            "      writes DIR/SCENARIO/seed-N/index.html (plots, Perfetto trace) for a\n"
            "      single run, every failing run, or every run with --report-all\n"
            "  run --real FILE... [--trials N] [--clusterd PATH] [--junit FILE] [--quiet | --verbose]\n"
            "      run scenarios marked `worlds: [sim, real]` against real clusterd processes in\n"
            "      network namespaces with dnsmasq (root); files and logs in build/real/\n"
            "  agree FILE... [--seeds A..B] [--trials N] [--storm-seeds N] [--storm-trials N]\n"
            "      the agreement table: each scenario marked for both worlds simulated over\n"
            "      the seeds (200) and run real N times (3); stuck-fraction scenarios over\n"
            "      2000 seeds and 50 trials; markdown on stdout, progress on stderr\n"
            "  replay TRACE [--node ID] [--kind KIND] [--from T] [--to T] [--check]\n"
            "               [--sequence [--limit N]] [--perfetto OUT.json]\n"
            "      print a recorded trace readably; --check re-runs it and compares hashes;\n"
            "      --sequence draws the messages as a sequence chart; --perfetto exports\n"
            "      it for ui.perfetto.dev\n"
            "  explore FILE [--from T] [--max-depth N] [--budget RUNS] [--out DIR]\n"
            "      every delivery order and every protocol choice of a small scenario;\n"
            "      prints the stuck states with a replayable schedule each\n"
            "  explore FILE [--from T] --replay SCHEDULE [--trace FILE]\n"
            "      re-runs one schedule and prints the final states\n"
            "  shrink FILE [--seed N] [--invariant KIND] [-o OUT.yaml]\n"
            "      reduce a stuck run (or one failing KIND) to fewer timeline items,\n"
            "      nodes, settings and seconds that still fail, and write it as YAML\n"
            "  fuzz [--seeds A..B | --time T] [--nodes A..B] [--profile NAME]\n"
            "       [--mode swarm|fixed] [--jobs N] [--out DIR] [--shard i/N]\n"
            "       [--shrink K] [--reports K|all] [--print SEED] [--list-profiles] [--quiet]\n"
            "      generated scenarios with random faults and registry traffic; every\n"
            "      failing seed is written as YAML, with a run report (the first K per\n"
            "      kind, 10 by default) and shrunk (the first K per kind, 2)\n"
            "  fuzz --merge OUT.json SUMMARY.json...\n"
            "      merge the summaries of shards into one\n"
            "  bench [FILE] [--min-seconds S] [--seed N] [--quiet]\n"
            "      simulated events per second of wall time (default: the 100-node\n"
            "      ping cluster with every network fault on)\n"
            "\n"
            "exit status: 0 all expectations hold, 1 some failed, 2 bad input or usage\n");
}

int cli_parse_seeds(const char *text, uint64_t *first, uint64_t *last)
{
    char *end;
    errno = 0;
    if (!(*text >= '0' && *text <= '9'))
        return -1;
    unsigned long long a = strtoull(text, &end, 10);
    if (errno)
        return -1;
    if (*end == '\0') {
        *first = *last = a;
        return 0;
    }
    if (strncmp(end, "..", 2) != 0 || !(end[2] >= '0' && end[2] <= '9'))
        return -1;
    unsigned long long b = strtoull(end + 2, &end, 10);
    if (errno || *end || b < a)
        return -1;
    *first = a;
    *last = b;
    return 0;
}

int cli_parse_count(const char *text, uint64_t *out)
{
    uint64_t last;
    return cli_parse_seeds(text, out, &last) == 0 && *out == last && *out > 0 ? 0 : -1;
}

int cli_load_scenario(const char *path, struct scenario *sc)
{
    char err[1024];
    if (scenario_load_file(path, sc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

void cli_wilson(uint64_t k, uint64_t n, double *lo, double *hi)
{
    if (n == 0) {
        *lo = 0;
        *hi = 1;
        return;
    }
    const double z = 1.959963984540054;
    double p = (double)k / (double)n, nn = (double)n;
    double denom = 1 + z * z / nn;
    double center = (p + z * z / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / denom;
    *lo = center - half < 0 ? 0 : center - half;
    *hi = center + half > 1 ? 1 : center + half;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv, const char *self);
} commands[] = {
    {"run", cmd_run},         {"agree", cmd_agree}, {"replay", cmd_replay}, {"explore", cmd_explore},
    {"fuzz", cmd_fuzz},       {"shrink", cmd_shrink}, {"bench", cmd_bench},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("clustersim %s\n", CS_VERSION);
        return 0;
    }
    const char *names[COMMAND_COUNT];
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 2, argv + 2, argv[0]);
        names[i] = commands[i].name;
    }
    const char *near = cs_nearest(argv[1], names, COMMAND_COUNT);
    if (near)
        fprintf(stderr, "clustersim: unknown command '%s'; did you mean '%s'? (clustersim --help lists them)\n",
                argv[1], near);
    else
        fprintf(stderr, "clustersim: unknown command '%s' (clustersim --help lists them)\n", argv[1]);
    return 2;
}
