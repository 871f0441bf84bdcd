/*
 * cli/cmd_fuzz.c: `clustersim fuzz`: a campaign of generated scenarios over
 * a seed range or a wall-clock budget, sharded across machines (--shard
 * i/N) and across worker processes (--jobs N).  Each worker is a child
 * process that reports every seed it begins and ends through a pipe, so a
 * seed that kills its worker (sanitizer report, assertion, signal) is
 * recorded as a crash, its scenario written, and a new worker carries on
 * with the next seed.  Results go to OUT/summary.json; shard summaries merge
 * with --merge.
 */
#include "cli.h"
#include "fuzz.h"
#include "progress.h"
#include "../config/cli_opts.h"
#include "../core/ring.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../config/scenario/loader.h"
#include "../reports/report.h"

#define MAX_JOBS 64
#define PRINT_FAILURES 20
#define CHECKPOINT_SECONDS 30.0

struct campaign {
    struct fuzz_config cfg;
    uint64_t first, last;       /* seed range */
    uint32_t shard, shards;     /* this shard (0-based) of how many */
    uint32_t jobs;
    double deadline;            /* wall clock, 0: none */
    bool quiet;
    struct fuzz_summary sum;
    size_t printed;
    struct progress progress;
    double checkpoint;          /* when summary.json was last written */
    pid_t parent;               /* the campaign's process, which workers report to */
};

struct worker {
    pid_t pid;
    int fd;
    uint64_t next;              /* index of the next seed in this worker's sequence */
    uint64_t current;           /* seed begun and not ended, or 0 */
    bool has_current;
    char buf[8192];
    size_t len;
};

/* The k-th seed of worker j, or false past the range. */
static bool seed_of(const struct campaign *c, uint32_t j, uint64_t k, uint64_t *seed)
{
    uint64_t index = j + k * c->jobs; /* index within this shard */
    uint64_t offset = c->shard + index * c->shards;
    if (c->last - c->first < offset)
        return false;
    *seed = c->first + offset;
    return true;
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

static void worker_main(const struct campaign *c, uint32_t j, uint64_t k, int fd)
{
    /* Ctrl-C reaches the whole process group: the parent decides (it ends
     * the workers and writes the summary); a worker whose parent died ends. */
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != c->parent) /* the parent died before prctl */
        _exit(0);
    struct fuzz_worker state = {.ring_memo = ring_memo_new(0)}; /* (NULL: each run its own) */
    /* Self-test hook of the harness (make test): a worker that reaches this
     * seed aborts as a core crash would, to exercise crash capture. */
    const char *abort_at = getenv("CLUSTERSIM_FUZZ_ABORT_SEED");
    uint64_t abort_seed = abort_at ? strtoull(abort_at, NULL, 10) : 0;
    uint64_t seed;
    char line[4096];
    for (; seed_of(c, j, k, &seed); k++) {
        if (c->deadline > 0 && progress_now() >= c->deadline)
            break;
        int n = snprintf(line, sizeof line, "B\t%llu\n", (unsigned long long)seed);
        write_all(fd, line, (size_t)n);
        if (abort_seed && seed == abort_seed)
            abort();
        struct fuzz_seed_result res;
        if (fuzz_run_seed(&c->cfg, seed, &state, &res) != 0)
            _exit(3);
        fuzz_result_encode(&res, line, sizeof line);
        write_all(fd, line, strlen(line));
    }
    _exit(0);
}

static int spawn(struct campaign *c, struct worker *w, uint32_t j)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        worker_main(c, j, w->next, p[1]);
    }
    close(p[1]);
    w->pid = pid;
    w->fd = p[0];
    w->len = 0;
    w->has_current = false;
    return 0;
}

static void report(struct campaign *c, const struct fuzz_seed_result *r)
{
    fuzz_summary_add(&c->sum, r);
    if (r->pass || c->quiet)
        return;
    progress_clear(&c->progress);
    if (c->printed++ == PRINT_FAILURES) {
        printf("  ... (further failures only in the summary)\n");
        return;
    }
    if (c->printed > PRINT_FAILURES)
        return;
    printf("  seed %llu: FAIL %s%s%s (%u nodes): %s\n", (unsigned long long)r->seed,
           fuzz_invariant_name(r->invariant), r->invariant == FI_STUCK ? ", deadlock " : "",
           r->invariant == FI_STUCK ? deadlock_class_name(r->deadlock) : "", r->nodes, r->detail);
    if (r->file[0])
        printf("      scenario %s\n", r->file);
    if (r->report[0])
        printf("      report %s\n", r->report);
    if (r->shrunk[0])
        printf("      shrunk to %ld nodes, %zu timeline items: %s\n", r->shrunk_nodes, r->shrunk_items,
               r->shrunk);
}

/* A worker ended: a begun seed without a result is a crash. */
static void worker_ended(struct campaign *c, struct worker *w)
{
    int status = 0;
    waitpid(w->pid, &status, 0);
    close(w->fd);
    w->fd = -1;
    if (!w->has_current && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    if (!w->has_current) { /* killed between two seeds (an OOM kill, say): nothing to record */
        w->pid = 0;        /* a new worker goes on from the next seed */
        return;
    }
    struct fuzz_seed_result r = {.seed = w->current, .invariant = FI_CRASH};
    if (WIFSIGNALED(status))
        snprintf(r.detail, sizeof r.detail, "the run died of signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(r.detail, sizeof r.detail, "the run exited with status %d", WEXITSTATUS(status));
    char dir[520];
    snprintf(dir, sizeof dir, "%s/failures", c->cfg.out_dir);
    mkdir(c->cfg.out_dir, 0755);
    mkdir(dir, 0755);
    snprintf(r.file, sizeof r.file, "%s/seed-%llu-crash.yaml", dir, (unsigned long long)r.seed);
    FILE *f = fopen(r.file, "w");
    struct fuzz_shape shape = {0};
    if (!f || fuzz_write_seed_scenario(&c->cfg, r.seed, f, &shape) != 0)
        r.file[0] = '\0';
    r.nodes = shape.nodes;
    r.faults = shape.faults;
    if (f)
        fclose(f);
    report(c, &r);
    w->next++; /* carry on after the seed that crashed */
    w->pid = 0;
}

static void handle_line(struct campaign *c, struct worker *w, const char *line)
{
    if (line[0] == 'B') {
        w->current = strtoull(line + 2, NULL, 10);
        w->has_current = true;
        return;
    }
    struct fuzz_seed_result r;
    if (fuzz_result_decode(line, &r) != 0) {
        fprintf(stderr, "clustersim fuzz: garbled result line from a worker: %s\n", line);
        return;
    }
    w->has_current = false;
    w->next++;
    report(c, &r);
}

/* Handles the complete lines in w's buffer, keeps a partial one. */
static void take_lines(struct campaign *c, struct worker *w)
{
    w->buf[w->len] = '\0';
    char *start = w->buf, *nl;
    while ((nl = strchr(start, '\n'))) {
        *nl = '\0';
        handle_line(c, w, start);
        start = nl + 1;
    }
    w->len -= (size_t)(start - w->buf);
    memmove(w->buf, start, w->len);
}

static void drain(struct campaign *c, struct worker *w)
{
    ssize_t n = read(w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        worker_ended(c, w);
        return;
    }
    w->len += (size_t)n;
    take_lines(c, w);
}

/* The seeds this shard runs, 0 under a time budget. */
static uint64_t planned_seeds(const struct campaign *c)
{
    if (c->deadline > 0)
        return 0;
    uint64_t range = c->last - c->first; /* + 1, without overflow */
    return range < c->shard ? 0 : (range - c->shard) / c->shards + 1;
}

/* "3 failed: stuck 2, crash 1", or NULL while none failed. */
static const char *failures_text(const struct fuzz_summary *s, char *buf, size_t size)
{
    uint64_t failed = s->seeds - s->passed;
    if (!failed)
        return NULL;
    size_t len = (size_t)snprintf(buf, size, "%llu failed:", (unsigned long long)failed);
    const char *sep = " ";
    for (int i = 0; i < FI_COUNT && len < size; i++)
        if (s->by_invariant[i]) {
            len += (size_t)snprintf(buf + len, size - len, "%s%s %llu", sep, fuzz_invariant_name((enum fuzz_invariant)i),
                                    (unsigned long long)s->by_invariant[i]);
            sep = ", ";
        }
    return buf;
}

static void write_summary(struct campaign *c, const char *state)
{
    char path[600];
    snprintf(c->sum.state, sizeof c->sum.state, "%s", state);
    c->sum.wall_seconds = progress_elapsed(&c->progress);
    snprintf(path, sizeof path, "%s/summary.json", c->cfg.out_dir);
    if (fuzz_summary_write(&c->sum, path) != 0)
        fprintf(stderr, "clustersim fuzz: cannot write %s\n", path);
    c->checkpoint = progress_now();
}

/* Interrupted: the results the workers wrote before they were stopped are
 * counted; the seeds they had begun are abandoned (not counted). */
static void stop_workers(struct campaign *c, struct worker *workers)
{
    for (uint32_t j = 0; j < c->jobs; j++) {
        struct worker *w = &workers[j];
        if (w->pid <= 0 || w->fd < 0)
            continue;
        kill(w->pid, SIGKILL);
        waitpid(w->pid, NULL, 0);
        ssize_t n;
        while ((n = read(w->fd, w->buf + w->len, sizeof w->buf - 1 - w->len)) > 0 || (n < 0 && errno == EINTR))
            if (n > 0) {
                w->len += (size_t)n;
                take_lines(c, w);
            }
        close(w->fd);
        w->fd = -1;
        w->pid = 0;
    }
}

static int run_campaign(struct campaign *c)
{
    struct worker workers[MAX_JOBS];
    memset(workers, 0, sizeof workers);
    progress_start(&c->progress, "fuzz", "seeds", planned_seeds(c));
    c->checkpoint = progress_now();
    c->parent = getpid();
    for (uint32_t j = 0; j < c->jobs; j++)
        if (spawn(c, &workers[j], j) != 0) {
            perror("clustersim fuzz: fork");
            return 2;
        }
    while (!cli_interrupted()) {
        struct pollfd fds[MAX_JOBS];
        uint32_t map[MAX_JOBS], n = 0;
        for (uint32_t j = 0; j < c->jobs; j++) {
            if (workers[j].pid == 0 && (c->deadline == 0 || progress_now() < c->deadline)) {
                uint64_t seed;
                if (seed_of(c, j, workers[j].next, &seed) && spawn(c, &workers[j], j) != 0)
                    return 2;
            }
            if (workers[j].pid > 0 && workers[j].fd >= 0) {
                fds[n] = (struct pollfd){.fd = workers[j].fd, .events = POLLIN};
                map[n++] = j;
            }
        }
        if (n == 0)
            break;
        if (poll(fds, n, 250) < 0 && errno != EINTR)
            return 2;
        for (uint32_t i = 0; i < n && !cli_interrupted(); i++)
            if (fds[i].revents)
                drain(c, &workers[map[i]]);
        char detail[200];
        progress_update(&c->progress, c->sum.seeds, failures_text(&c->sum, detail, sizeof detail));
        if (progress_now() - c->checkpoint >= CHECKPOINT_SECONDS)
            write_summary(c, "running");
    }
    stop_workers(c, workers);
    progress_clear(&c->progress);
    c->sum.wall_seconds = progress_elapsed(&c->progress);
    return 0;
}

static int parse_range(const char *text, uint64_t *a, uint64_t *b)
{
    return cli_parse_seeds(text, a, b);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "clustersim fuzz: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 2;
}

static int parse_shard(const char *v, uint32_t *shard, uint32_t *shards)
{
    unsigned i, n;
    char extra;
    if (sscanf(v, "%u/%u%c", &i, &n, &extra) != 2 || n == 0 || i == 0 || i > n)
        return -1;
    *shard = i - 1;
    *shards = n;
    return 0;
}

static int merge_summaries(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "--merge OUT.json SUMMARY.json... needs an output and at least one summary");
    struct fuzz_summary sum = {0};
    char err[1024];
    for (int i = 1; i < argc; i++)
        if (fuzz_summary_merge_file(&sum, argv[i], err, sizeof err) != 0) {
            fprintf(stderr, "clustersim fuzz --merge: %s\n", err);
            fuzz_summary_free(&sum);
            return 2;
        }
    fuzz_summary_print(&sum, stdout);
    int rc = fuzz_summary_write(&sum, argv[0]) == 0 ? (sum.seeds == sum.passed ? 0 : 1) : 2;
    if (rc == 2)
        fprintf(stderr, "clustersim fuzz --merge: cannot write %s\n", argv[0]);
    fuzz_summary_free(&sum);
    return rc;
}

static int parse_option(struct campaign *c, const char *opt, const char *v, uint64_t *print_seed)
{
    uint64_t a, b;
    if (!strcmp(opt, "--seeds")) {
        if (parse_range(v, &c->first, &c->last) != 0)
            return usage_error("--seeds expects A..B or N, got '%s'", v);
    } else if (!strcmp(opt, "--time")) {
        cs_time t;
        if (sc_parse_duration(v, &t) != 0 || t <= 0)
            return usage_error("--time expects a duration such as 60s or 10m, got '%s'", v);
        c->deadline = (double)t / 1e9;
    } else if (!strcmp(opt, "--nodes")) {
        if (parse_range(v, &a, &b) != 0 || a < 2 || b > 32)
            return usage_error("--nodes expects A..B within 2..32, got '%s'", v);
        c->cfg.req.min_nodes = (uint32_t)a;
        c->cfg.req.max_nodes = (uint32_t)b;
    } else if (!strcmp(opt, "--profile")) {
        if (!(c->cfg.req.profile = fuzz_profile_find(v)))
            return usage_error("unknown profile '%s' (see --list-profiles)", v);
    } else if (!strcmp(opt, "--mode")) {
        if (strcmp(v, "swarm") && strcmp(v, "fixed"))
            return usage_error("--mode expects swarm or fixed, got '%s'", v);
        c->cfg.req.mode = !strcmp(v, "swarm") ? FZ_MODE_SWARM : FZ_MODE_FIXED;
    } else if (!strcmp(opt, "--jobs")) {
        if (parse_range(v, &a, &b) != 0 || a != b || a < 1 || a > MAX_JOBS)
            return usage_error("--jobs expects 1..64, got '%s'", v);
        c->jobs = (uint32_t)a;
    } else if (!strcmp(opt, "--out")) {
        c->cfg.out_dir = v;
    } else if (!strcmp(opt, "--shard")) {
        if (parse_shard(v, &c->shard, &c->shards) != 0)
            return usage_error("--shard expects i/N with 1 <= i <= N, got '%s'", v);
    } else if (!strcmp(opt, "--shrink")) {
        if (parse_range(v, &a, &b) != 0 || a != b)
            return usage_error("--shrink expects a number of failures per kind, got '%s'", v);
        c->cfg.shrink_per_kind = (unsigned)a;
    } else if (!strcmp(opt, "--reports")) {
        if (!strcmp(v, "all"))
            c->cfg.reports_per_kind = UINT_MAX;
        else if (parse_range(v, &a, &b) != 0 || a != b)
            return usage_error("--reports expects a number of failures per kind or 'all', got '%s'", v);
        else
            c->cfg.reports_per_kind = (unsigned)a;
    } else if (!strcmp(opt, "--shrink-trials")) {
        if (parse_range(v, &a, &b) != 0 || a != b || a == 0)
            return usage_error("--shrink-trials expects a positive number, got '%s'", v);
        c->cfg.shrink_trials = (unsigned)a;
    } else if (!strcmp(opt, "--print")) {
        if (parse_range(v, &a, &b) != 0 || a != b)
            return usage_error("--print expects a seed, got '%s'", v);
        *print_seed = a;
    } else {
        return usage_error("unknown option '%s'", opt);
    }
    return 0;
}

enum { OPT_QUIET = CLI_KEY_FIRST, OPT_LIST_PROFILES, OPT_WITH_VALUE /* and up: fuzz_opts' order */ };

static const struct cli_opt fuzz_opts[] = {
    {"seeds", "A..B", "the campaign's seeds (1..100)", OPT_WITH_VALUE + 0, 0},
    {"time", "T", "run seeds from A on for this long instead (60s, 10m)", OPT_WITH_VALUE + 1, 0},
    {"nodes", "A..B", "cluster sizes drawn from A..B (within 2..32)", OPT_WITH_VALUE + 2, 0},
    {"profile", "NAME", "the fault profile (--list-profiles)", OPT_WITH_VALUE + 3, 0},
    {"mode", "swarm|fixed", "the tracker and membership modes under test (fixed)", OPT_WITH_VALUE + 4, 0},
    {"jobs", "N", "worker processes (1..64)", OPT_WITH_VALUE + 5, 0},
    {"out", "DIR", "failures, reports and summary.json (build/fuzz)", OPT_WITH_VALUE + 6, 0},
    {"shard", "i/N", "run the i-th of N interleaved shares of the seeds", OPT_WITH_VALUE + 7, 0},
    {"shrink", "K", "shrink the first K failures of each kind (2)", OPT_WITH_VALUE + 8, 0},
    {"reports", "K|all", "write a run report for the first K failures of each kind (10)", OPT_WITH_VALUE + 9, 0},
    {"shrink-trials", "N", "runs a shrink may spend (300)", OPT_WITH_VALUE + 10, 0},
    {"print", "SEED", "print the scenario the campaign generates for SEED, and exit", OPT_WITH_VALUE + 11, 0},
    {"quiet", NULL, "print only failures and the summary", OPT_QUIET, 0},
    {"list-profiles", NULL, "list the fault profiles and exit", OPT_LIST_PROFILES, 0},
    {NULL, NULL, NULL, 0, 0},
};

static const struct cli_cmd fuzz_cmd = {
    "clustersim fuzz", "[options]  |  clustersim fuzz --merge OUT SUMMARY.json...",
    "Generates a scenario per seed (random membership changes and faults from a profile), runs it\n"
    "against the invariants, and keeps every failing seed as a YAML file with a run report, shrunk;\n"
    "summary.json counts failures by kind.  --merge adds the summaries of shards into one.",
    fuzz_opts,
};

struct fuzz_cli {
    struct campaign *c;
    uint64_t *print_seed;
    bool list_profiles;
};

static int fuzz_opt(void *ctx, int key, const char *v)
{
    struct fuzz_cli *f = ctx;
    if (key == OPT_QUIET) {
        f->c->quiet = true;
        return 0;
    }
    if (key == OPT_LIST_PROFILES) {
        f->list_profiles = true;
        return 0;
    }
    char opt[40];
    snprintf(opt, sizeof opt, "--%s", fuzz_opts[key - OPT_WITH_VALUE].name);
    return parse_option(f->c, opt, v, f->print_seed) == 0 ? 0 : -1;
}

static int fuzz_operand(void *ctx, const char *arg)
{
    (void)ctx;
    return cli_refuse(&fuzz_cmd, "unexpected argument '%s' (fuzz takes options only)", arg);
}

int cmd_fuzz(int argc, char **argv, const char *self)
{
    (void)self;
    if (argc >= 1 && !strcmp(argv[0], "--merge"))
        return merge_summaries(argc - 1, argv + 1);
    struct campaign c = {.first = 1, .last = 100, .shards = 1, .jobs = 1};
    c.cfg = (struct fuzz_config){.req = {.profile = fuzz_profile_find("default")}, .out_dir = "build/fuzz",
                                 .shrink_per_kind = 2, .shrink_trials = 300,
                                 .reports_per_kind = 10};
    uint64_t print_seed = 0;
    struct fuzz_cli cli = {&c, &print_seed, false};
    int parsed = cli_parse(&fuzz_cmd, argc, argv, fuzz_opt, fuzz_operand, &cli);
    if (parsed != 0)
        return parsed > 0 ? 0 : 2;
    if (cli.list_profiles) {
        char buf[2048];
        fuzz_profile_list(buf, sizeof buf);
        fputs(buf, stdout);
        return 0;
    }
    if (c.cfg.req.min_nodes && c.cfg.req.min_nodes > c.cfg.req.max_nodes)
        return usage_error("%s", "--nodes: A must not exceed B");
    if (print_seed)
        return fuzz_write_seed_scenario(&c.cfg, print_seed, stdout, NULL) == 0 ? 0 : 2;
    if (c.deadline > 0) {
        c.deadline += progress_now();
        c.last = UINT64_MAX - 1;
    }
    if (report_make_dirs(c.cfg.out_dir) != 0)
        return usage_error("cannot create the output directory '%s'", c.cfg.out_dir);
    snprintf(c.sum.profile, sizeof c.sum.profile, "%s", c.cfg.req.profile->name);
    snprintf(c.sum.mode, sizeof c.sum.mode, "%s", c.cfg.req.mode == FZ_MODE_SWARM ? "swarm" : "fixed");
    printf("fuzz: profile %s, mode %s, seeds %llu..%llu%s, shard %u/%u, %u job%s, out %s\n", c.sum.profile,
           c.sum.mode, (unsigned long long)c.first, (unsigned long long)(c.deadline > 0 ? c.first : c.last),
           c.deadline > 0 ? "+ (time budget)" : "", c.shard + 1, c.shards, c.jobs, c.jobs == 1 ? "" : "s",
           c.cfg.out_dir);
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);
    cli_interrupt_install();
    int rc = run_campaign(&c);
    if (rc != 0)
        return rc;
    char state[32] = "complete";
    if (cli_interrupted())
        snprintf(state, sizeof state, "interrupted by %s", cli_interrupt_name());
    write_summary(&c, state);
    fuzz_summary_print(&c.sum, stdout);
    printf("summary: %s/summary.json\n", c.cfg.out_dir);
    rc = cli_interrupted() ? cli_interrupt_status() : c.sum.seeds == c.sum.passed ? 0 : 1;
    fuzz_summary_free(&c.sum);
    return rc;
}
