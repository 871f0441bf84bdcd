/* cli/cmd_shrink.c: `clustersim shrink`, the minimal witness of a failing
 * run: argument parsing around cli/shrinker.c.  By default the goal is a
 * deadlock (the result expects `stuck: true`, so `clustersim run OUT`
 * reproduces it and passes); with `--invariant KIND` the goal is that
 * expectation failing, and the result keeps the file's expectations. */
#include "cli.h"
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
        fprintf(stderr, "clustersim shrink: %s expects a number, got '%s'\n", opt, v);
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

static int parse(int argc, char **argv, struct shrink_spec *spec, bool *has_seed)
{
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--seed") && v) {
            if (parse_number("--seed", v, &spec->seed) != 0)
                return -1;
            *has_seed = true;
            i++;
        } else if (!strcmp(argv[i], "--search-seeds") && v) {
            if (parse_number("--search-seeds", v, &spec->search_seeds) != 0)
                return -1;
            i++;
        } else if (!strcmp(argv[i], "--invariant") && v) {
            int k = expect_kind(v);
            if (k < 0 || k == SC_EXP_STUCK || k == SC_EXP_STUCK_FRACTION) {
                fprintf(stderr, "clustersim shrink: --invariant expects an expectation name such as "
                                "converged, not_stuck, no_duplicates, no_loss, placement; got '%s'\n", v);
                return -1;
            }
            spec->goal_stuck = k == SC_EXP_NOT_STUCK;
            spec->goal_kind = (enum sc_expect_kind)k;
            spec->witness = false;
            i++;
        } else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--out")) && v) {
            spec->out_path = v;
            i++;
        } else if (argv[i][0] != '-' && !spec->in_path) {
            spec->in_path = argv[i];
        } else {
            fprintf(stderr, "clustersim shrink: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!spec->in_path) {
        fprintf(stderr, "clustersim shrink: usage: shrink FILE [--seed N] [--search-seeds K] "
                        "[--invariant KIND] [-o OUT.yaml]\n");
        return -1;
    }
    return 0;
}

int cmd_shrink(int argc, char **argv, const char *self)
{
    struct shrink_spec spec = {.out_path = "build/shrunk.yaml", .search_seeds = 100,
                               .goal_stuck = true, .witness = true};
    bool has_seed = false;
    if (parse(argc, argv, &spec, &has_seed) != 0)
        return 2;
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
