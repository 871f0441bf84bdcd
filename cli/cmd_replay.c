/*
 * cli/cmd_replay.c: `clustersim replay`: prints a recorded trace (JSON
 * lines, docs/trace-format.md) readably, with filters by node, kind and time
 * window; `--check` validates the trace and re-runs the scenario and seed
 * named in its header (cli/trace_check.h);
 * `--sequence` draws the messages as a text sequence chart
 * (reports/sequence.h) and `--perfetto OUT.json` exports the trace for
 * ui.perfetto.dev (reports/perfetto.h).
 */
#include "cli.h"
#include "../config/cli_opts.h"

#include "../reports/perfetto.h"
#include "../reports/sequence.h"
#include "../config/scenario/loader.h"
#include "../drivers/runner.h"
#include "trace_check.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct replay_cli {
    const char *path, *node, *kind, *perfetto;
    cs_time from, to;
    bool check, sequence, limit_given;
    size_t limit;
};

enum { OPT_NODE = CLI_KEY_FIRST, OPT_KIND, OPT_FROM, OPT_TO, OPT_CHECK, OPT_SEQUENCE, OPT_LIMIT, OPT_PERFETTO };

static const struct cli_opt replay_opts[] = {
    {"node", "ID", "only this node's records (n1)", OPT_NODE, 0},
    {"kind", "KIND", "only records of this kind (msg_send, tracker_state, ...)", OPT_KIND, 0},
    {"from", "T", "only records at or after this time (5s)", OPT_FROM, 0},
    {"to", "T", "only records up to this time", OPT_TO, 0},
    {"check", NULL, "re-run the recorded scenario and seed and compare the trace hash", OPT_CHECK, 0},
    {"sequence", NULL, "draw the messages as a sequence chart", OPT_SEQUENCE, 0},
    {"limit", "N", "with --sequence: at most N messages", OPT_LIMIT, 0},
    {"perfetto", "OUT.json", "export the trace for ui.perfetto.dev", OPT_PERFETTO, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd replay_cmd = {
    "clustersim replay", "TRACE [options]",
    "Prints a recorded trace (clustersim run --trace, or a run report's trace.jsonl) readably,\n"
    "filtered; --check re-runs it and compares hashes (exit 1 when they differ).",
    replay_opts,
};

static int replay_opt(void *ctx, int key, const char *v)
{
    struct replay_cli *c = ctx;
    char *end;
    unsigned long long n;
    cs_time t;
    switch (key) {
    case OPT_NODE: c->node = v; return 0;
    case OPT_KIND: c->kind = v; return 0;
    case OPT_FROM:
    case OPT_TO:
        if (sc_parse_duration(v, &t) != 0 || t < 0)
            return cli_bad_value(&replay_cmd, key == OPT_FROM ? "from" : "to", "a duration such as 5s", v);
        *(key == OPT_FROM ? &c->from : &c->to) = t;
        return 0;
    case OPT_CHECK: c->check = true; return 0;
    case OPT_SEQUENCE: c->sequence = true; return 0;
    case OPT_LIMIT:
        n = strtoull(v, &end, 10);
        if (!*v || *end || v[0] == '-' || n == 0)
            return cli_bad_value(&replay_cmd, "limit", "a positive number of messages", v);
        c->limit = (size_t)n;
        c->limit_given = true;
        return 0;
    case OPT_PERFETTO: c->perfetto = v; return 0;
    default: return -1;
    }
}

static int replay_file(void *ctx, const char *arg)
{
    struct replay_cli *c = ctx;
    if (c->path)
        return cli_refuse(&replay_cmd, "one trace at a time ('%s' and '%s')", c->path, arg);
    size_t len = strlen(arg);
    if ((len > 5 && !strcmp(arg + len - 5, ".yaml")) || (len > 4 && !strcmp(arg + len - 4, ".yml")))
        return cli_refuse(&replay_cmd, "'%s' is a scenario: `clustersim run %s` runs it (replay reads a trace, "
                                       "which `clustersim run %s --trace FILE` writes)", arg, arg, arg);
    c->path = arg;
    return 0;
}

/* 0, 1 after --help, -1 after a refusal. */
static int parse_args(struct replay_cli *c, int argc, char **argv)
{
    c->from = 0;
    c->to = CS_TIME_NEVER;
    int rc = cli_parse(&replay_cmd, argc, argv, replay_opt, replay_file, c);
    if (rc != 0)
        return rc;
    if (!c->path)
        return cli_refuse(&replay_cmd, "no trace file given");
    if (c->check && (c->sequence || c->perfetto))
        return cli_refuse(&replay_cmd, "--check cannot be combined with --sequence or --perfetto");
    if (c->sequence && c->kind)
        return cli_refuse(&replay_cmd, "--kind does not apply to --sequence (use --node, --from, --to)");
    if (c->limit_given && !c->sequence)
        return cli_refuse(&replay_cmd, "--limit applies to --sequence only");
    return 0;
}

static void print_value(json_t *v)
{
    if (json_is_string(v)) {
        printf("%s", json_string_value(v));
    } else {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%s", s ? s : "?");
        free(s);
    }
}

static void print_line(json_t *o)
{
    json_int_t t = json_integer_value(json_object_get(o, "t"));
    printf("%14.6fs  %-8s %-14s", (double)t / 1e9, json_string_value(json_object_get(o, "node")),
           json_string_value(json_object_get(o, "kind")));
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "t") || !strcmp(key, "node") || !strcmp(key, "kind"))
            continue;
        printf(" %s=", key);
        print_value(v);
    }
    printf("\n");
}

/* --perfetto and --sequence, in that order; 0 when both went well. */
static int export_views(const struct replay_cli *c)
{
    char err[1024];
    if (c->perfetto) {
        if (perfetto_export(c->path, c->perfetto, err, sizeof err) != 0) {
            fprintf(stderr, "clustersim replay: %s\n", err);
            return 2;
        }
        printf("perfetto: wrote %s (open it in https://ui.perfetto.dev)\n", c->perfetto);
    }
    if (c->sequence) {
        struct sequence_options opt = {.node = c->node, .from = c->from, .to = c->to, .limit = c->limit};
        if (sequence_print(c->path, stdout, &opt, err, sizeof err) != 0) {
            fprintf(stderr, "clustersim replay: %s\n", err);
            return 2;
        }
    }
    return 0;
}

int cmd_replay(int argc, char **argv, const char *self)
{
    (void)self;
    struct replay_cli c = {0};
    int parsed = parse_args(&c, argc, argv);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (c.perfetto || c.sequence)
        return export_views(&c);
    if (c.check)
        return trace_check(c.path);
    FILE *f = fopen(c.path, "r");
    if (!f) {
        fprintf(stderr, "clustersim replay: cannot open %s\n", c.path);
        return 2;
    }
    char *line = NULL;
    size_t cap = 0, lineno = 0, shown = 0;
    int status = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        json_error_t jerr;
        json_t *o = json_loads(line, 0, &jerr);
        if (!json_is_object(o) || !json_is_integer(json_object_get(o, "t")) ||
            !json_is_string(json_object_get(o, "kind")) || !json_is_string(json_object_get(o, "node"))) {
            fprintf(stderr, "%s:%zu:%d: expected a trace record {\"t\":..,\"node\":..,\"kind\":..}%s%s\n",
                    c.path, lineno, o ? 1 : jerr.column, o ? "" : ": ", o ? "" : jerr.text);
            json_decref(o);
            status = 2;
            break;
        }
        const char *kind = json_string_value(json_object_get(o, "kind"));
        json_int_t t = json_integer_value(json_object_get(o, "t"));
        bool keep = t >= c.from && t <= c.to &&
                    (!c.node || !strcmp(c.node, json_string_value(json_object_get(o, "node")))) &&
                    (!c.kind || !strcmp(c.kind, kind));
        if (keep) {
            print_line(o);
            shown++;
        }
        json_decref(o);
    }
    free(line);
    fclose(f);
    if (status == 0)
        printf("-- %zu of %zu records shown\n", shown, lineno);
    return status;
}
