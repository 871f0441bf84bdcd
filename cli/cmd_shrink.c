/* cli/cmd_shrink.c: `clustersim shrink`, the minimal witness of a failing
 * run: argument parsing around cli/shrinker.c.  By default the goal is a
 * deadlock (the result expects `stuck: true`, so `clustersim run OUT`
 * reproduces it and passes); with `--invariant KIND` the goal is that
 * expectation failing, and the result keeps the file's expectations. */
#include "cli.h"
#include "../config/cli_opts.h"
#include "shrinker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../drivers/runner.h"

static int parse_number(const char *opt, const char *v, uint64_t *out)
{
    uint64_t last;
    if (cli_parse_seeds(v, out, &last) != 0 || last != *out) {
        fprintf(stderr, "clustersim shrink: %s expects a whole number, got '%s'\n", opt, v);
        return -1;
    }
    return 0;
}

/* The expectation kind written `name` in files, or -1. */
static int expect_kind(const char *name)
{
    for (int k = 0; k < SC_EXP_KIND_COUNT; k++)
        if (!strcmp(sc_expect_name((enum sc_expect_kind)k), name))
            return k;
    return -1;
}

enum { OPT_SEED = CLI_KEY_FIRST, OPT_SEARCH_SEEDS, OPT_INVARIANT, OPT_OUT };

static const struct cli_opt shrink_opts[] = {
    {"seed", "N", "the seed that fails (default: the file's `seed`)", OPT_SEED, 0},
    {"search-seeds", "K", "a smaller file may keep failing on another seed in 1..K (100)", OPT_SEARCH_SEEDS, 0},
    {"invariant", "KIND", "shrink a run breaking this expectation (converged, no_loss, ...) instead of a stuck one",
     OPT_INVARIANT, 0},
    {"out", "OUT.yaml", "where the smaller scenario goes (build/shrunk.yaml)", OPT_OUT, 'o'},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd shrink_cmd = {
    "clustersim shrink", "FILE [options]",
    "Reduces a stuck run (or one breaking --invariant KIND) to fewer timeline items and nodes\n"
    "while the seed still fails, and writes the smaller scenario.",
    shrink_opts,
};

struct shrink_cli {
    struct shrink_spec *spec;
    bool *has_seed;
};

static int shrink_opt(void *ctx, int key, const char *v)
{
    struct shrink_cli *c = ctx;
    struct shrink_spec *spec = c->spec;
    int k;
    switch (key) {
    case OPT_SEED:
        if (parse_number("--seed", v, &spec->seed) != 0)
            return -1;
        *c->has_seed = true;
        return 0;
    case OPT_SEARCH_SEEDS: return parse_number("--search-seeds", v, &spec->search_seeds);
    case OPT_INVARIANT:
        k = expect_kind(v);
        if (k < 0 || k == SC_EXP_STUCK || k == SC_EXP_STUCK_FRACTION)
            return cli_bad_value(&shrink_cmd, "invariant",
                                 "an expectation name such as converged, not_stuck, no_duplicates, no_loss, placement",
                                 v);
        spec->goal_stuck = k == SC_EXP_NOT_STUCK;
        spec->goal_kind = (enum sc_expect_kind)k;
        spec->witness = false;
        return 0;
    case OPT_OUT: spec->out_path = v; return 0;
    default: return -1;
    }
}

static int shrink_file(void *ctx, const char *arg)
{
    struct shrink_cli *c = ctx;
    if (c->spec->in_path)
        return cli_refuse(&shrink_cmd, "one scenario at a time ('%s' and '%s')", c->spec->in_path, arg);
    c->spec->in_path = arg;
    return 0;
}

/* 0, 1 after --help, -1 after a refusal. */
static int parse(int argc, char **argv, struct shrink_spec *spec, bool *has_seed)
{
    struct shrink_cli c = {spec, has_seed};
    int rc = cli_parse(&shrink_cmd, argc, argv, shrink_opt, shrink_file, &c);
    if (rc == 0 && !spec->in_path)
        return cli_refuse(&shrink_cmd, "no scenario file given");
    return rc;
}

int cmd_shrink(int argc, char **argv, const char *self)
{
    struct shrink_spec spec = {.out_path = "build/shrunk.yaml", .search_seeds = 100,
                               .goal_stuck = true, .witness = true};
    bool has_seed = false;
    int parsed = parse(argc, argv, &spec, &has_seed);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    struct scenario sc;
    if (cli_load_scenario(spec.in_path, &sc) != 0)
        return 2;
    if (!has_seed)
        spec.seed = sc.seed;
    scenario_free(&sc);
    if (!strncmp(spec.out_path, "build/", 6))
        mkdir("build", 0755);
    char command[700];
    snprintf(command, sizeof command, "clustersim shrink %s --seed %llu", spec.in_path,
             (unsigned long long)spec.seed);
    spec.command = command;
    struct shrink_outcome out;
    int status = shrink_scenario(&spec, &out);
    if (status == 1) {
        fprintf(stderr, "clustersim shrink: %s does not %s on seed %llu: nothing to shrink "
                        "(find a failing seed with `%s run %s --seeds 1..1000`)\n",
                spec.in_path, spec.goal_stuck ? "get stuck" : "fail that invariant",
                (unsigned long long)spec.seed, self, spec.in_path);
        return 1;
    }
    if (status != 0) {
        fprintf(stderr, "clustersim shrink: cannot read %s or write %s\n", spec.in_path, spec.out_path);
        return 2;
    }
    printf("# Shrunk in %u trials: %zu of %zu timeline items kept, %ld of %ld nodes; seed %llu\n",
           out.trials, out.items_after, out.items_before, out.nodes_after, out.nodes_before,
           (unsigned long long)out.seed);
    if (spec.goal_stuck)
        printf("# still stuck at %.3f s with wait-for %s (deadlock class %s)\n", out.failed_at,
               out.wait_for[0] ? out.wait_for : "(none)", deadlock_class_name(out.deadlock));
    else
        printf("# still fails: %s\n", out.detail);
    printf("written to %s\n", spec.out_path);
    return 0;
}
