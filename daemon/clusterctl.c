/*
 * daemon/clusterctl.c: the client of a running clusterd, over its control
 * socket (shims/posix/px_control.h): the command line and the commands.
 *
 *   clusterctl [-n NODE | -s SOCKET] [--json] [--timeout S] COMMAND [ARGS]
 *     status                       the tracker state (the dump; --json: structured)
 *     members                      the peers this node sees, with their links
 *     members GROUP                how many processes are in a group
 *     register NAME [--counter N]  start a counter here and register it
 *     register-started NAME [--counter N]   the name's ring owner starts it;
 *                                  it is handed off when its node leaves
 *     unregister NAME | whereis NAME
 *     call NAME increment|value    add 1 to the counter / read it
 *     join GROUP NAME | leave GROUP NAME | publish GROUP MSG
 *     bench register|whereis N [PREFIX] [DEPTH] [--many K]   pipelined load, prints the rate
 *
 * Options go before the command or after it (config/cli_opts.h: --opt=value
 * and --opt value, did-you-mean); `clusterctl COMMAND --help` prints that
 * command's usage.  -n NODE uses clusterd's default socket, in the user's
 * private runtime directory (daemon/control_path.h).  What is printed:
 * daemon/clusterctl_out.h.  Exit status: 0 when the daemon answered ok (or
 * already_started), 1 for another answer or no answer in time, 2 for bad
 * usage or no daemon.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config/cli_opts.h"
#include "../config/nearest.h"
#include "../config/version.h"
#include "clusterctl_io.h"
#include "clusterctl_out.h"
#include "control_path.h"

#define MAX_OPERANDS 4
/* The control socket's field limits (px_control.c): a name, an argument. */
#define NAME_MAX_BYTES 127
#define ARG_MAX_BYTES 255

enum { OPT_NODE = CLI_KEY_FIRST, OPT_SOCKET, OPT_JSON, OPT_TIMEOUT, OPT_VERSION, OPT_COUNTER, OPT_MANY };

#define COMMON_OPTS                                                                                          \
    {"node", "NODE", "the daemon named NODE (basename@address), at its default socket", OPT_NODE, 'n'},     \
    {"socket", "PATH", "the daemon's control socket (clusterd --control)", OPT_SOCKET, 's'},                \
    {"json", NULL, "print one JSON object (an array for members) with typed fields", OPT_JSON, 0},         \
    {"timeout", "S", "seconds to wait for the answer (10; 2.5 and 2.5s work)", OPT_TIMEOUT, 0}

static const struct cli_opt global_opts[] = {
    COMMON_OPTS,
    {"version", NULL, "print the version and exit", OPT_VERSION, 0},
    {NULL, NULL, NULL, 0, 0},
};
static const struct cli_opt plain_opts[] = {COMMON_OPTS, {NULL, NULL, NULL, 0, 0}};
static const struct cli_opt register_opts[] = {
    {"counter", "N", "the counter's first value (0)", OPT_COUNTER, 0},
    COMMON_OPTS,
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_opt bench_opts[] = {
    {"many", "K", "send K names a request line (a `many` request: one answer line for them; 1, the default, "
                  "sends a line a name)", OPT_MANY, 0},
    COMMON_OPTS,
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd global_cmd = {
    "clusterctl", "[-n NODE | -s SOCKET] [--json] [--timeout S] COMMAND [ARGS]",
    "The client of a running clusterd.  Commands (clusterctl COMMAND --help says more):\n"
    "  status                        the tracker's state\n"
    "  members [GROUP]               the peers and their links; or a group's size\n"
    "  register NAME [--counter N]   start a counter on this node and register it; it stops\n"
    "                                with its node\n"
    "  register-started NAME [--counter N]\n"
    "                                the name's owner on the ring starts it; a graceful leave of\n"
    "                                that node hands it off, count kept, a crash restarts it\n"
    "  unregister NAME | whereis NAME\n"
    "  call NAME increment|value     add 1 to the counter / read it\n"
    "  join GROUP NAME | leave GROUP NAME | publish GROUP MSG\n"
    "  bench register|whereis N [PREFIX] [DEPTH] [--many K]\n"
    "                                pipelined load (K names a request line); prints the rate",
    global_opts,
};

/* One command: its word, usage, operands, and how its answer reads. */
struct ctl_command {
    const char *word;
    struct cli_cmd cli;
    int min_operands, max_operands;
    enum ctl_kind kind;
};

static const struct ctl_command commands[] = {
    {"status", {"clusterctl status", "[options]",
      "The tracker's state: the dump in Swarm's shape ({:tracking, %TrackerState{...}}), or with\n"
      "--json an object: node, links, tracker state, clock, nodes, pending sync requests, ring,\n"
      "registrations, counters.",
      plain_opts}, 0, 0, CTL_STATE},
    {"members", {"clusterctl members", "[GROUP] [options]",
      "Without GROUP: the peers this node sees, each with its link (up, connecting, down) and\n"
      "whether it runs a tracker.  With GROUP: how many registered processes joined it.",
      plain_opts}, 0, 1, CTL_PEERS},
    {"register", {"clusterctl register", "NAME [--counter N] [options]",
      "Starts a counter process on this node and registers it under NAME cluster-wide; answers\n"
      "already_started with the owner and handle when the name is taken.  The process lives on\n"
      "this node: when the node leaves or dies, the name goes with it.",
      register_opts}, 1, 1, CTL_PROCESS},
    {"register-started", {"clusterctl register-started", "NAME [--counter N] [options]",
      "Has the node that owns NAME on the consistent hash ring start the counter (Swarm's\n"
      "register_name with a start function); answers with that owner.  When the owner leaves\n"
      "gracefully (SIGTERM, a deleted pod), it hands the process to the next owner with its count;\n"
      "when it dies, the next owner restarts it from --counter.",
      register_opts}, 1, 1, CTL_PROCESS},
    {"unregister", {"clusterctl unregister", "NAME [options]", "Removes NAME from the registry.", plain_opts}, 1, 1,
     CTL_PROCESS},
    {"whereis", {"clusterctl whereis", "NAME [options]", "The node and handle of the process registered under NAME.",
      plain_opts}, 1, 1, CTL_PROCESS},
    {"call", {"clusterctl call", "NAME increment|value [options]",
      "increment: adds 1 to the counter registered under NAME; value: reads it.", plain_opts}, 2, 2,
     CTL_VALUE},
    {"join", {"clusterctl join", "GROUP NAME [options]", "Adds the process registered under NAME to GROUP.",
      plain_opts}, 2, 2, CTL_GROUP_CHANGE},
    {"leave", {"clusterctl leave", "GROUP NAME [options]", "Removes the process registered under NAME from GROUP.",
      plain_opts}, 2, 2, CTL_GROUP_CHANGE},
    {"publish", {"clusterctl publish", "GROUP MSG [options]",
      "Sends MSG (inc adds 1) to every process in GROUP; answers how many it went to.", plain_opts}, 2, 2,
     CTL_PUBLISH},
    {"bench", {"clusterctl bench", "register|whereis N [PREFIX] [DEPTH] [--many K] [options]",
      "N pipelined requests on the names PREFIX0 .. PREFIX(N-1) (PREFIX: bench-), at most DEPTH\n"
      "(256) names in flight; prints the rate.  --many K puts up to K names in each request line.",
      bench_opts}, 2, 4, CTL_PROCESS},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

struct ctl_args {
    const char *socket, *node;
    bool json;
    double timeout_s;
    long long counter;
    long many;       /* bench --many */
    char **rest;     /* the global parse: what follows the command */
    int rest_count;
    char **argv_base;
    const struct ctl_command *cmd;
    enum ctl_kind kind; /* the command's, or what its operands make it (members GROUP) */
    const char *operands[MAX_OPERANDS];
    int operand_count;
};

/* Seconds, with an optional unit s: "10", "2.5", "2.5s". */
static int parse_timeout(const char *v, double *out)
{
    char *end;
    errno = 0;
    double s = strtod(v, &end);
    if (end != v && *end == 's')
        end++;
    if (end == v || *end || errno || !(s > 0) || s > 86400)
        return -1;
    *out = s;
    return 0;
}

/* A positive whole number, or -1. */
static long positive(const char *text)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    return *text && !*end && !errno && n > 0 ? n : -1;
}

static int common_opt(const struct cli_cmd *cli, struct ctl_args *a, int key, const char *v)
{
    switch (key) {
    case OPT_NODE: a->node = v; return 0;
    case OPT_SOCKET: a->socket = v; return 0;
    case OPT_JSON: a->json = true; return 0;
    case OPT_TIMEOUT:
        return parse_timeout(v, &a->timeout_s) == 0 ? 0
                                                    : cli_bad_value(cli, "timeout", "seconds (10, 2.5, 2.5s)", v);
    case OPT_VERSION: printf("clusterctl %s\n", CS_VERSION); return 1;
    default: return -1;
    }
}

static int global_opt(void *ctx, int key, const char *v)
{
    return common_opt(&global_cmd, ctx, key, v);
}

/* The command word: found, or refused with the nearest command's name.
 * Returning 1 stops the global parse there: what follows is the command's. */
static int global_arg(void *ctx, const char *arg)
{
    struct ctl_args *a = ctx;
    static const char *names[COMMAND_COUNT + 1];
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        names[i] = commands[i].word;
        if (!strcmp(arg, names[i]) || (!strcmp(arg, "dump") && commands[i].kind == CTL_STATE))
            a->cmd = &commands[i];
    }
    if (!a->cmd) {
        const char *near = cs_nearest(arg, names, COMMAND_COUNT);
        fprintf(stderr, "clusterctl: unknown command '%.60s'%s%s%s (clusterctl --help lists the commands)\n", arg,
                near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
        return -1;
    }
    for (char **p = a->argv_base; *p; p++)
        if (*p == arg) {
            a->rest = p + 1;
            for (a->rest_count = 0; a->rest[a->rest_count]; a->rest_count++)
                ;
        }
    return 1;
}

static int command_opt(void *ctx, int key, const char *v)
{
    struct ctl_args *a = ctx;
    if (key == OPT_MANY) {
        a->many = positive(v);
        return a->many >= 1 && a->many <= 1024 ? 0 : cli_bad_value(&a->cmd->cli, "many", "1 to 1024", v);
    }
    if (key != OPT_COUNTER)
        return common_opt(&a->cmd->cli, a, key, v);
    char *end;
    errno = 0;
    a->counter = strtoll(v, &end, 10);
    return *v && !*end && !errno ? 0 : cli_bad_value(&a->cmd->cli, "counter", "a whole number", v);
}

static int command_arg(void *ctx, const char *arg)
{
    struct ctl_args *a = ctx;
    if (a->operand_count == a->cmd->max_operands)
        return cli_refuse(&a->cmd->cli, "unexpected argument '%.60s'; usage: %s %s", arg, a->cmd->cli.prog,
                          a->cmd->cli.synopsis);
    a->operands[a->operand_count++] = arg;
    return 0;
}

/* bench register|whereis N [PREFIX] [DEPTH] */
static int check_bench(const struct ctl_args *a)
{
    const struct cli_cmd *cli = &a->cmd->cli;
    if (strcmp(a->operands[0], "register") && strcmp(a->operands[0], "whereis"))
        return cli_refuse(cli, "expects register or whereis, got '%.60s'", a->operands[0]);
    if (positive(a->operands[1]) < 0 || (a->operand_count > 3 && positive(a->operands[3]) < 0))
        return cli_refuse(cli, "N and DEPTH must be positive whole numbers");
    return 0;
}

/* Operands travel in tab-separated fields: no tab, no newline, within the
 * socket's field sizes. */
static int check_operands(const struct ctl_args *a)
{
    const struct cli_cmd *cli = &a->cmd->cli;
    if (a->operand_count < a->cmd->min_operands)
        return cli_refuse(cli, "missing arguments; usage: %s %s", cli->prog, cli->synopsis);
    for (int i = 0; i < a->operand_count; i++) {
        const char *o = a->operands[i];
        size_t limit = a->cmd->kind == CTL_PUBLISH && i == 1 ? ARG_MAX_BYTES : NAME_MAX_BYTES;
        if (!o[0] || strpbrk(o, "\t\n") || strlen(o) > limit)
            return cli_refuse(cli, "'%.60s' is not a name: 1 to %zu bytes, no tab or newline", o, limit);
    }
    if (a->cmd->kind == CTL_VALUE && strcmp(a->operands[1], "increment") && strcmp(a->operands[1], "value"))
        return cli_refuse(cli, "expects increment or value after NAME, got '%.60s'", a->operands[1]);
    if (!strcmp(a->cmd->word, "bench"))
        return check_bench(a);
    return 0;
}

/* The request line of a command (not bench). */
static void request_line(const struct ctl_args *a, char *out, size_t size)
{
    const char *cmd = a->cmd->word, *const *o = a->operands;
    switch (a->kind) {
    case CTL_STATE: snprintf(out, size, "%s\n", a->json ? "state" : "dump"); break;
    case CTL_PEERS: snprintf(out, size, "peers\n"); break;
    case CTL_GROUP_COUNT: snprintf(out, size, "members\t%s\n", o[0]); break;
    case CTL_PROCESS:
        if (!strncmp(cmd, "register", 8))
            snprintf(out, size, "%s\t%s\t\t%lld\n", cmd[8] ? "register_started" : "register", o[0], a->counter);
        else
            snprintf(out, size, "%s\t%s\n", cmd, o[0]);
        break;
    case CTL_VALUE:
    case CTL_SEND:
        if (!strcmp(o[1], "increment"))
            snprintf(out, size, "send\t%s\tinc\t1\n", o[0]);
        else
            snprintf(out, size, "call\t%s\n", o[0]);
        break;
    case CTL_GROUP_CHANGE: snprintf(out, size, "%s\t%s\t%s\n", cmd, o[1], o[0]); break;
    case CTL_PUBLISH: snprintf(out, size, "publish\t%s\t%s\t1\n", o[0], o[1]); break;
    }
}

/* bench (its operands checked by check_bench) */
static int run_bench(int fd, const struct ctl_args *a)
{
    const char *op = a->operands[0], *prefix = a->operand_count > 2 ? a->operands[2] : "bench-";
    long n = positive(a->operands[1]), depth = a->operand_count > 3 ? positive(a->operands[3]) : 256;
    struct ctl_bench b;
    char err[256];
    if (ctl_bench(fd, op, n, prefix, depth, a->many, &b, err, sizeof err) != 0) {
        ctl_print_failure(err, a->json);
        return 1;
    }
    return ctl_print_bench(op, depth, a->many, &b, a->json);
}

/* Parses the command line into a; 0, or the exit status to stop with + 1. */
static int parse(int argc, char **argv, struct ctl_args *a)
{
    a->argv_base = argv;
    int rc = cli_parse(&global_cmd, argc - 1, argv + 1, global_opt, global_arg, a);
    if (rc < 0)
        return 3;
    if (rc > 0 && !a->cmd)
        return 1; /* --help or --version printed */
    if (!a->cmd)
        return cli_refuse(&global_cmd, "a command is required"), 3;
    rc = cli_parse(&a->cmd->cli, a->rest_count, a->rest, command_opt, command_arg, a);
    if (rc != 0)
        return rc > 0 ? 1 : 3;
    if (check_operands(a) != 0)
        return 3;
    a->kind = a->cmd->kind;
    if (a->kind == CTL_PEERS && a->operand_count == 1)
        a->kind = CTL_GROUP_COUNT; /* members GROUP */
    if (a->kind == CTL_VALUE && !strcmp(a->operands[1], "increment"))
        a->kind = CTL_SEND;
    if (!a->socket && !a->node)
        return cli_refuse(&a->cmd->cli, "-n NODE or -s SOCKET is required"), 3;
    return 0;
}

int main(int argc, char **argv)
{
    struct ctl_args a = {.timeout_s = 10, .many = 1};
    int stop = parse(argc, argv, &a);
    if (stop)
        return stop - 1;
    char path[108], err[512];
    if (!a.socket) {
        if (control_default_path(a.node, false, path, sizeof path, err, sizeof err) != 0) {
            ctl_print_failure(err, a.json);
            return 2;
        }
        a.socket = path;
    }
    int fd = ctl_connect(a.socket, err, sizeof err);
    if (fd < 0) {
        ctl_print_failure(err, a.json);
        return 2;
    }
    int rc;
    if (!strcmp(a.cmd->word, "bench")) {
        rc = run_bench(fd, &a);
    } else {
        char request[1024];
        request_line(&a, request, sizeof request);
        char *answer = ctl_exchange(fd, request, a.timeout_s, err, sizeof err);
        if (answer)
            rc = ctl_print_answer(a.kind, answer, a.kind == CTL_GROUP_CHANGE ? a.operands[0] : NULL, a.json);
        else
            ctl_print_failure(err, a.json), rc = 1;
        free(answer);
    }
    close(fd);
    return rc;
}
