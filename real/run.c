/*
 * real/run.c: one scenario in the real world (real.h): builds the
 * namespaces, DNS and daemons, plays the timeline in real time (actions,
 * boots, DNS publication delays, partitions that heal), observes every
 * poll interval (observe.c) and tears everything down whatever happens.
 */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../config/cluster_file.h"
#include "exec.h"
#include "../core/grow.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

void real_prepare(void)
{
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    rn_sweep();
}

bool real_interrupted(void)
{
    return interrupted != 0;
}

int real_available(char *why, size_t size)
{
    return rn_available(why, size);
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static cs_time elapsed(const struct rr_run *r)
{
    return (cs_time)((mono() - r->t0) * 1e9);
}

void rr_schedule(struct rr_run *r, const struct rr_event *e)
{
    if (cs_grow((void **)&r->ev, &r->ev_cap, r->ev_count + 1, sizeof *r->ev) != 0)
        return;
    size_t i = r->ev_count++;
    while (i > 0 && r->ev[i - 1].at > e->at) { /* stable: equal times keep their order */
        r->ev[i] = r->ev[i - 1];
        i--;
    }
    r->ev[i] = *e;
}

static cs_time draw(struct rr_run *r, const struct sim_dist *d)
{
    return sim_dist_sample(d, &r->rng);
}

/* ---- DNS: the pods' records ---- */

static void pod_records(const struct rr_run *r, size_t node, const struct cs_addr *a, bool add)
{
    const struct sc_dns *d = &r->sc->dns;
    struct rd_server *s = (struct rd_server *)&r->dns;
    struct sc_dns_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.name, sizeof e.name, "%s", d->service);
    e.rec.type = CS_DNS_A;
    e.rec.addr = *a;
    add ? rd_add(s, &e) : rd_remove(s, &e);
    if (!d->service_srv)
        return;
    char host[CS_DNS_NAME_MAX];
    snprintf(host, sizeof host, "%s.%s", r->sc->cluster.nodes[node].id, d->service);
    snprintf(e.name, sizeof e.name, "%s", host);
    add ? rd_add(s, &e) : rd_remove(s, &e);
    struct sc_dns_entry srv;
    memset(&srv, 0, sizeof srv);
    snprintf(srv.name, sizeof srv.name, "%s", d->service);
    srv.rec.type = CS_DNS_SRV;
    srv.rec.port = d->service_port;
    snprintf(srv.rec.target, sizeof srv.rec.target, "%s", host);
    add ? rd_add(s, &srv) : rd_remove(s, &srv);
}

static void service_change(struct rr_run *r, size_t node, bool up, cs_time delay)
{
    if (!r->sc->dns.service[0])
        return;
    struct rr_event e = {.at = r->now + delay + draw(r, &r->sc->dns.propagation),
                         .kind = up ? RR_DNS_UP : RR_DNS_DOWN, .node = node,
                         .incarnation = r->nodes[node].incarnation, .addr = r->nodes[node].addr};
    rr_schedule(r, &e);
}

/* ---- nodes ---- */

static int write_config(struct rr_run *r, size_t i)
{
    struct rr_node *n = &r->nodes[i];
    FILE *f = fopen(n->d.config, "w");
    if (!f)
        return -1;
    int rc = cluster_file_write(f, scenario_node_config(r->sc, i));
    return fclose(f) == 0 ? rc : -1;
}

static void spawn(struct rr_run *r, size_t i)
{
    struct rr_node *n = &r->nodes[i];
    const struct cluster_config *cfg = scenario_node_config(r->sc, i);
    char ns[64], port[16], dns[96], secret[160];
    rn_name(&r->net, i, ns, sizeof ns);
    scenario_node_name(r->sc, i, &n->addr, n->d.name, sizeof n->d.name);
    snprintf(port, sizeof port, "%u", (unsigned)cfg->mem.conn.port);
    snprintf(dns, sizeof dns, "%s:53", r->dns.listen);
    const struct sc_node *sn = &r->sc->cluster.nodes[i];
    snprintf(secret, sizeof secret, "%s", sn->has_secret ? sn->secret : cfg->mem.conn.secret);
    /* A capped answer is used as it came (see dns_front.h). */
    char *extra[] = {"--port", port, "--nameserver", dns, "--secret", secret, "--plaintext", "--log-level",
                     r->opt.verbose ? "debug" : "info", r->sc->dns.max_answers ? "--dns-udp-only" : NULL, NULL};
    if (write_config(r, i) != 0 || rdm_start(&n->d, r->opt.clusterd, ns, extra) != 0) {
        fprintf(stderr, "real: cannot start %s\n", n->d.name);
        return;
    }
    n->incarnation++;
    n->up = true;
    n->stopping = false;
    n->last_change = r->now;
    n->last_key[0] = '\0';
    rt_node(r, i, "node_start");
    service_change(r, i, true, draw(r, &r->sc->dns.ready_delay));
}

static bool taken(void *ctx, const struct cs_addr *a)
{
    const struct rr_run *r = ctx;
    for (size_t i = 0; i < r->n; i++)
        if (cs_addr_compare(&r->nodes[i].addr, a) == 0)
            return true;
    return false;
}

static void node_gone(struct rr_run *r, size_t i, bool withdraw)
{
    struct rr_node *n = &r->nodes[i];
    if (withdraw && n->up)
        service_change(r, i, false, draw(r, &r->sc->dns.removal_delay));
    n->up = false;
}

static void kill_node(struct rr_run *r, size_t i)
{
    if (!r->nodes[i].up && !r->nodes[i].stopping)
        return;
    rdm_signal(&r->nodes[i].d, SIGKILL);
    rt_node(r, i, "node_crash");
    node_gone(r, i, !r->nodes[i].stopping);
    r->nodes[i].stopping = false;
}

static void stop_node(struct rr_run *r, size_t i, cs_time grace)
{
    if (!r->nodes[i].up)
        return;
    node_gone(r, i, true); /* deletion removes the endpoint first */
    r->nodes[i].stopping = true;
    rt_node(r, i, "node_stop");
    rdm_signal(&r->nodes[i].d, SIGTERM);
    struct rr_event e = {.at = r->now + grace, .kind = RR_KILL_LATE, .node = i,
                         .incarnation = r->nodes[i].incarnation};
    rr_schedule(r, &e);
}

/* Node i's process starts at `at`; as in the simulator, a pod that comes up
 * after the timeline's last fault (its drawn boot) is the last fault. */
static void spawn_later(struct rr_run *r, size_t i, cs_time at, bool new_address)
{
    rr_schedule(r, &(struct rr_event){.at = at, .kind = RR_SPAWN, .node = i, .occurrence = new_address});
    if (at > r->last_fault)
        r->last_fault = at;
}

/* restart: gone now, back after the downtime (plus its boot), on a new
 * address when asked (the namespace's address changes, as a replaced pod's). */
static void restart_node(struct rr_run *r, size_t i, const struct sc_action *a)
{
    if (!r->nodes[i].up)
        return;
    if (a->crash)
        kill_node(r, i);
    else
        stop_node(r, i, a->grace);
    spawn_later(r, i, r->now + a->downtime + (a->has_boot ? draw(r, &a->boot) : 0), a->new_address);
}

static void respawn(struct rr_run *r, size_t i, bool new_address)
{
    struct rr_node *n = &r->nodes[i];
    if (n->d.pid > 0 && !rdm_reap(&n->d)) {
        rdm_signal(&n->d, SIGKILL); /* the grace of the old pod is over */
        for (int k = 0; k < 100 && !rdm_reap(&n->d); k++)
            nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    n->stopping = false;
    if (new_address) {
        struct cs_addr a;
        if (scenario_pool_address(r->sc, &r->pool_next, taken, r, &a) == 0 &&
            rn_set_addr(&r->net, i, &a) == 0)
            n->addr = a;
    }
    spawn(r, i);
}

/* ---- the timeline ---- */

static bool applies(const struct rr_run *r, enum sc_action_kind kind, size_t i)
{
    const struct rr_node *n = &r->nodes[i];
    switch (kind) {
    case SC_ACT_START: return !n->up && !n->stopping && n->d.pid <= 0;
    case SC_ACT_KILL: return n->up || n->stopping;
    case SC_ACT_STOP:
    case SC_ACT_RESTART:
    case SC_ACT_COMMAND: return n->up;
    default: return true;
    }
}

/* The nodes of a set the action applies to (random picks from the run's
 * stream); returns how many were written into out. */
static size_t resolve(struct rr_run *r, const struct sc_nodeset *set, enum sc_action_kind kind, size_t *out)
{
    size_t n = 0;
    if (set->all || set->random_count) {
        for (size_t i = 0; i < r->n; i++)
            if (applies(r, kind, i))
                out[n++] = i;
    } else {
        for (size_t k = 0; k < set->count; k++)
            if (applies(r, kind, set->idx[k]))
                out[n++] = set->idx[k];
    }
    if (set->random_count && set->random_count < n) {
        for (size_t k = 0; k < set->random_count; k++) { /* a partial Fisher-Yates shuffle */
            size_t j = k + pcg32_below(&r->rng, (uint32_t)(n - k));
            size_t t = out[k];
            out[k] = out[j];
            out[j] = t;
        }
        n = set->random_count;
    }
    return n;
}

static void substitute(const char *text, uint64_t occurrence, char *out, size_t size)
{
    size_t len = 0;
    for (const char *p = text; *p && len + 1 < size;) {
        if (!strncmp(p, "{n}", 3)) {
            len += (size_t)snprintf(out + len, size - len, "%llu", (unsigned long long)occurrence);
            p += 3;
        } else {
            out[len++] = *p++;
        }
    }
    out[len < size ? len : size - 1] = '\0';
}

enum cut_step { CUT, UNCUT, BREAK };



/* Cuts a partition's links (then schedules when they are noticed broken
 * and when they heal), heals them, or breaks those still cut. */
static void partition(struct rr_run *r, const struct sc_action *a, size_t index, enum cut_step step)
{
    size_t *side_a = calloc(r->n, sizeof *side_a), pair_count = 0;
    bool *in_a = calloc(r->n, sizeof *in_a), *in_b = calloc(r->n, sizeof *in_b);
    struct rn_cut *pairs = calloc(2 * r->n * r->n + 1, sizeof *pairs);
    if (!side_a || !in_a || !in_b || !pairs)
        goto out;
    size_t na = resolve(r, &a->nodes, SC_ACT_PARTITION, side_a);
    for (size_t k = 0; k < na; k++)
        in_a[side_a[k]] = true;
    for (size_t k = 0; k < a->peers.count; k++)
        in_b[a->peers.idx[k]] = true;
    for (size_t i = 0; i < r->n; i++)
        in_b[i] = a->peers.count || a->peers.all ? in_b[i] || a->peers.all : !in_a[i];
    for (size_t x = 0; x < r->n; x++)
        for (size_t y = 0; y < r->n; y++) {
            if (!in_a[x] || !in_b[y] || x == y)
                continue;
            pairs[pair_count++] = (struct rn_cut){x, y};
            if (!a->oneway && step != BREAK) /* a break already ends both sides */
                pairs[pair_count++] = (struct rn_cut){y, x};
        }
    if (step == BREAK)
        rn_break(&r->net, pairs, pair_count);
    else
        rn_change(&r->net, pairs, pair_count, step == CUT);
    if (step == CUT)
        rr_schedule(r, &(struct rr_event){.at = r->now + r->sc->net.break_detect, .kind = RR_BREAK,
                                          .action = index});
    if (step == CUT && a->duration > 0)
        rr_schedule(r, &(struct rr_event){.at = r->now + a->duration, .kind = RR_HEAL, .action = index});
out:
    free(pairs);
    free(side_a);
    free(in_a);
    free(in_b);
}

/* A DNS server that failed to (re)start fails the trial with its reason:
 * it is the world, not the cluster, that went wrong. */
static void dns_check(struct rr_run *r, int rc)
{
    if (rc != 0 && !r->world_error[0])
        snprintf(r->world_error, sizeof r->world_error, "the DNS server failed: %s", r->dns.err);
}

static void dns_fail(struct rr_run *r, const struct sc_action *a, size_t index, bool fail)
{
    if (a->fail_mode == CS_DNS_TIMEOUT)
        rn_link(&r->net, r->n, !fail);
    else
        dns_check(r, rd_outage(&r->dns, fail));
    if (fail && a->duration > 0)
        rr_schedule(r, &(struct rr_event){.at = r->now + a->duration, .kind = RR_DNS_RESTORE, .action = index});
}

static void command(struct rr_run *r, const struct sc_action *a, size_t node, uint64_t occurrence)
{
    char name[256], arg[300];
    substitute(a->name, occurrence, name, sizeof name);
    substitute(a->arg, occurrence, arg, sizeof arg);
    if (rdm_command(&r->nodes[node].d, a->op, name, arg, a->value) != 0)
        rr_note_reply(r, &(struct rdm_reply){.at = r->now, .node = node, .status = "unreachable"});
}

static void act(struct rr_run *r, size_t index, uint64_t occurrence)
{
    const struct sc_action *a = &r->sc->actions[index];
    size_t *set = calloc(r->n ? r->n : 1, sizeof *set);
    size_t count = set ? resolve(r, &a->nodes, a->kind, set) : 0;
    bool window = a->kind == SC_ACT_PARTITION || a->kind == SC_ACT_DNS_FAIL;
    rt_action(r, a, set, count, window && a->duration > 0 ? r->now + a->duration : -1);
    switch (a->kind) {
    case SC_ACT_PARTITION: partition(r, a, index, CUT); count = 0; break;
    case SC_ACT_HEAL: rn_heal(&r->net); count = 0; break;
    case SC_ACT_DNS_ADD: rd_add(&r->dns, &a->dns); dns_check(r, rd_publish(&r->dns)); count = 0; break;
    case SC_ACT_DNS_REMOVE: rd_remove(&r->dns, &a->dns); dns_check(r, rd_publish(&r->dns)); count = 0; break;
    case SC_ACT_DNS_FAIL: dns_fail(r, a, index, true); count = 0; break;
    default: break;
    }
    for (size_t k = 0; k < count; k++) {
        size_t i = set[k];
        switch (a->kind) {
        case SC_ACT_START:
            spawn_later(r, i, r->now + (a->has_boot ? draw(r, &a->boot) : 0), false);
            break;
        case SC_ACT_KILL: kill_node(r, i); break;
        case SC_ACT_STOP: stop_node(r, i, a->grace); break;
        case SC_ACT_RESTART: restart_node(r, i, a); break;
        case SC_ACT_COMMAND: command(r, a, i, occurrence); break;
        default: break; /* refused by the loader for the real world */
        }
    }
    free(set);
    cs_time next = a->at + (cs_time)(occurrence + 1) * a->every;
    if (a->every > 0 && next <= a->until)
        rr_schedule(r, &(struct rr_event){.at = next, .kind = RR_ACTION,
                                          .action = index, .occurrence = occurrence + 1});
}

static void dispatch(struct rr_run *r, const struct rr_event *e)
{
    struct rr_node *n = e->node < r->n ? &r->nodes[e->node] : NULL;
    switch (e->kind) {
    case RR_ACTION: act(r, e->action, e->occurrence); break;
    case RR_SPAWN:
        if (!n->up && (n->d.pid <= 0 || n->stopping || rdm_reap(&n->d)))
            respawn(r, e->node, e->occurrence != 0);
        break;
    case RR_DNS_UP:
    case RR_DNS_DOWN:
        /* A withdrawal meant for an address a newer pod now holds is moot. */
        if (e->kind == RR_DNS_DOWN && n->up && cs_addr_compare(&n->addr, &e->addr) == 0)
            break;
        if (e->kind == RR_DNS_UP && (!n->up || n->incarnation != e->incarnation))
            break;
        pod_records(r, e->node, &e->addr, e->kind == RR_DNS_UP);
        dns_check(r, rd_publish(&r->dns));
        break;
    case RR_HEAL: partition(r, &r->sc->actions[e->action], e->action, UNCUT); break;
    case RR_BREAK: partition(r, &r->sc->actions[e->action], e->action, BREAK); break;
    case RR_DNS_RESTORE: dns_fail(r, &r->sc->actions[e->action], e->action, false); break;
    case RR_KILL_LATE:
        if (n->stopping && n->incarnation == e->incarnation)
            kill_node(r, e->node);
        break;
    }
}

/* ---- building and removing the world ---- */

static int build(struct rr_run *r, char *err, size_t size)
{
    const struct scenario *sc = r->sc;
    snprintf(r->net.dir, sizeof r->net.dir, "%s", r->dir);
    if (rn_setup(&r->net, r->n) != 0) {
        snprintf(err, size, "cannot build the network: %s", r->net.err);
        return -1;
    }
    r->pool_next = sc->cluster.pool_next;
    for (size_t i = 0; i < r->n; i++) {
        struct rr_node *n = &r->nodes[i];
        n->addr = sc->cluster.nodes[i].addr;
        n->d.pid = 0;
        n->d.cmd_fd = -1;
        snprintf(n->d.sock, sizeof n->d.sock, "%s/%s.sock", r->dir, sc->cluster.nodes[i].id);
        snprintf(n->d.log, sizeof n->d.log, "%s/%s.log", r->dir, sc->cluster.nodes[i].id);
        snprintf(n->d.config, sizeof n->d.config, "%s/%s.yaml", r->dir, sc->cluster.nodes[i].id);
        int lat = sc->net.latency.a > 0 || sc->net.latency.b > 0 ? rn_latency(&r->net, i, &sc->net.latency) : 0;
        if (rn_set_addr(&r->net, i, &n->addr) != 0 || lat < 0) {
            snprintf(err, size, "cannot address node %s: %s", sc->cluster.nodes[i].id, r->net.err);
            return -1;
        }
        r->no_netem |= lat == 1;
    }
    struct cs_addr dns_addr;
    if (scenario_pool_address(sc, &r->pool_next, taken, r, &dns_addr) != 0 ||
        rn_set_addr(&r->net, r->n, &dns_addr) != 0 ||
        ((sc->dns.latency.a > 0 || sc->dns.latency.b > 0) && rn_latency(&r->net, r->n, &sc->dns.latency) < 0)) {
        snprintf(err, size, "cannot address the DNS server: %s", r->net.err);
        return -1;
    }
    rn_name(&r->net, r->n, r->dns.ns, sizeof r->dns.ns);
    cs_addr_format(&dns_addr, r->dns.listen, sizeof r->dns.listen);
    snprintf(r->dns.dir, sizeof r->dns.dir, "%s", r->dir);
    r->dns.ttl_s = sc->dns.ttl_s;
    r->dns.max_answers = sc->dns.max_answers;
    for (size_t i = 0; i < sc->dns.zone_count; i++)
        rd_add(&r->dns, &sc->dns.zone[i]);
    if (rd_publish(&r->dns) != 0) {
        snprintf(err, size, "cannot start dnsmasq: %s", r->dns.err);
        return -1;
    }
    return 0;
}

static void teardown(struct rr_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        if (r->nodes[i].d.pid > 0)
            rx_stop(r->nodes[i].d.pid, SIGKILL, 2000);
        if (r->nodes[i].d.cmd_fd >= 0)
            close(r->nodes[i].d.cmd_fd);
        rdm_probe_free(&r->nodes[i].probe);
        unlink(r->nodes[i].d.sock);
    }
    rd_close(&r->dns);
    rn_teardown(&r->net);
    free(r->nodes);
    free(r->ev);
    free(r->replies);
}

static void make_dir(const char *path)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    mkdir(tmp, 0755);
}

/* build/real/SCENARIO/trial-N, or trial-N.PID while another live run holds
 * that one (two runs of one scenario at once must not share sockets and
 * logs): the directory's `owner` file names the run that holds it. */
static void work_dir(struct rr_run *r, const struct real_options *opt, const struct scenario *sc)
{
    snprintf(r->dir, sizeof r->dir, "%s/%s/trial-%llu", opt->workdir, sc->name, (unsigned long long)opt->trial);
    char owner[640];
    snprintf(owner, sizeof owner, "%s/owner", r->dir);
    FILE *f = fopen(owner, "r");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    if (pid > 0 && pid != (long)getpid() && kill((pid_t)pid, 0) == 0) {
        size_t len = strlen(r->dir);
        snprintf(r->dir + len, sizeof r->dir - len, ".%ld", (long)getpid());
        snprintf(owner, sizeof owner, "%s/owner", r->dir);
    }
    make_dir(r->dir);
    DIR *d = opendir(r->dir); /* the daemons append to their logs: start them empty */
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        char path[1024];
        if (len > 4 && !strcmp(e->d_name + len - 4, ".log") &&
            snprintf(path, sizeof path, "%s/%s", r->dir, e->d_name) < (int)sizeof path)
            unlink(path);
    }
    if (d)
        closedir(d);
    if ((f = fopen(owner, "w"))) {
        fprintf(f, "%ld\n", (long)getpid());
        fclose(f);
    }
}

/* ---- the run ---- */

static void reap(struct rr_run *r)
{
    for (size_t i = 0; i < r->n; i++) {
        struct rr_node *n = &r->nodes[i];
        if (n->d.pid > 0 && rdm_reap(&n->d)) {
            if (n->up) /* it died by itself */
                node_gone(r, i, true);
            rt_node(r, i, "node_exit");
            n->stopping = false;
        }
    }
}

static void play(struct rr_run *r)
{
    const struct scenario *sc = r->sc;
    cs_time poll = r->opt.poll_interval, next_poll = 0;
    for (size_t i = 0; i < sc->action_count; i++)
        rr_schedule(r, &(struct rr_event){.at = sc->actions[i].at, .kind = RR_ACTION, .action = i});
    r->t0 = mono();
    while (!interrupted) {
        r->now = elapsed(r);
        if (r->now >= sc->limits.duration)
            break;
        size_t done = 0;
        while (done < r->ev_count && r->ev[done].at <= r->now) {
            struct rr_event e = r->ev[done];
            memmove(r->ev, r->ev + 1, (r->ev_count - 1) * sizeof *r->ev);
            r->ev_count--;
            dispatch(r, &e);
        }
        for (size_t i = 0; i < r->n; i++)
            rdm_replies(&r->nodes[i].d, i, r->now, rr_note_reply, r);
        reap(r);
        if (r->now >= next_poll) {
            rr_observe(r);
            next_poll = r->now + poll;
            if (sc->limits.stop_when_settled && rr_settled(r, r->ev_count > 0))
                break;
        }
        cs_time wake = next_poll;
        if (r->ev_count && r->ev[0].at < wake)
            wake = r->ev[0].at;
        cs_time nap = wake - elapsed(r);
        if (nap > CS_MSEC(20))
            nap = CS_MSEC(20);
        if (nap > 0)
            nanosleep(&(struct timespec){0, (long)nap}, NULL);
    }
    r->now = elapsed(r);
    rr_observe(r);
}

static char last_dir[600];

const char *real_last_dir(void)
{
    return last_dir;
}

int real_run_scenario(const struct scenario *sc, const struct real_options *opt, struct run_result *res)
{
    memset(res, 0, sizeof *res);
    res->seed = opt->trial;
    res->converged_after = -1;
    res->stuck_at = -1;
    struct rr_run r = {.sc = sc, .opt = *opt, .n = sc->cluster.node_count, .converged_since = -1,
                       .first_stuck_at = -1};
    if (!r.opt.poll_interval)
        r.opt.poll_interval = sc->limits.check_interval > CS_MSEC(100) ? sc->limits.check_interval : CS_MSEC(100);
    if (!r.opt.quiet)
        r.opt.quiet = CS_SEC(5);
    pcg32_stream(&r.rng, opt->trial, PCG_STREAM_SCHEDULE, 0);
    work_dir(&r, opt, sc);
    snprintf(last_dir, sizeof last_dir, "%s", r.dir);
    rt_open(&r);
    r.nodes = calloc(r.n, sizeof *r.nodes);
    r.last_fault = scenario_last_fault(sc);
    double wall0 = mono();
    char err[600] = "";
    int rc = 0;
    if (!r.nodes || build(&r, err, sizeof err) != 0) {
        snprintf(res->internal, sizeof res->internal, "real world: %s", err[0] ? err : "out of memory");
        rc = -1;
    } else {
        static char noted[sizeof sc->name]; /* once per scenario, not per trial */
        if (strcmp(noted, sc->name)) {
            snprintf(noted, sizeof noted, "%s", sc->name);
            if (r.no_netem)
                fprintf(stderr, "     note: %s: network.latency and dns.latency not applied: this kernel has no tc "
                        "netem (sch_netem); links keep the host's own latency\n", sc->name);
            if (sc->net.crash_detect > CS_SEC(1))
                fprintf(stderr, "     note: %s: network.crash_detect not performed: a real daemon that dies closes its "
                        "connections, and its peers learn at once (docs/worlds.md)\n", sc->name);
        }
        play(&r);
        rr_judge(&r, res);
    }
    rt_close(&r);
    if (interrupted)
        snprintf(res->internal, sizeof res->internal, "%s", "interrupted (SIGINT or SIGTERM): everything the run "
                 "made was removed");
    else if (r.world_error[0]) /* not a verdict on the cluster: the world itself failed */
        snprintf(res->internal, sizeof res->internal, "%s", r.world_error);
    res->wall_seconds = mono() - wall0;
    res->end_time = r.now;
    res->last_fault = r.last_fault;
    if (res->internal[0])
        res->pass = false;
    teardown(&r);
    return rc;
}
