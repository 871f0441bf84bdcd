/*
 * real/netns.c: namespaces, veth pairs, a bridge, addresses, netem and
 * nftables cuts for the real world (netns.h).
 */
#define _GNU_SOURCE
#include "netns.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "../core/grow.h"

const char *rn_name(const struct rn_world *rn, size_t i, char *buf, size_t size)
{
    if (i + 1 == rn->count)
        snprintf(buf, size, "%s-dns", rn->tag);
    else
        snprintf(buf, size, "%s-n%zu", rn->tag, i + 1);
    return buf;
}

static int fail(struct rn_world *rn, const char *what, const char *out)
{
    snprintf(rn->err, sizeof rn->err, "%s: %.400s", what, out && out[0] ? out : "failed");
    char *nl = strchr(rn->err, '\n');
    if (nl)
        *nl = '\0';
    return -1;
}

int rn_available(char *why, size_t size)
{
    char out[512];
    if (geteuid() != 0) {
        snprintf(why, size, "the real world needs root (network namespaces, nftables, tc)");
        return -1;
    }
    if (rx_runf(out, sizeof out, "nft --version") != 0) {
        snprintf(why, size, "the real world needs nft (Debian package nftables; `make deps` installs it)");
        return -1;
    }
    char probe[64];
    snprintf(probe, sizeof probe, "csr%d-probe", (int)getpid());
    if (rx_runf(out, sizeof out, "ip netns add %s", probe) != 0) {
        snprintf(why, size, "cannot create network namespaces here (needs CAP_SYS_ADMIN and CAP_NET_ADMIN): %.200s",
                 out);
        return -1;
    }
    rx_runf(NULL, 0, "ip netns del %s", probe);
    return 0;
}

/* The PID in a name "csr<pid>..." when it is a run of ours, else 0. */
static long tag_pid(const char *name)
{
    if (strncmp(name, "csr", 3) != 0)
        return 0;
    char *end;
    long pid = strtol(name + 3, &end, 10);
    return end != name + 3 && pid > 0 ? pid : 0;
}

static bool dead(long pid)
{
    return pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

void rn_sweep(void)
{
    DIR *d = opendir("/run/netns");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (dead(tag_pid(e->d_name)))
            rx_runf(NULL, 0, "ip netns del %s", e->d_name);
    if (d)
        closedir(d);
    d = opendir("/sys/class/net");
    while (d && (e = readdir(d)))
        if (dead(tag_pid(e->d_name)))
            rx_runf(NULL, 0, "ip link del %s", e->d_name);
    if (d)
        closedir(d);
}

static int make_namespace(struct rn_world *rn, size_t i)
{
    char ns[64], out[512];
    rn_name(rn, i, ns, sizeof ns);
    if (rx_runf(out, sizeof out, "ip netns add %s", ns) != 0)
        return fail(rn, "ip netns add", out);
    rn->made[i] = true;
    if (rx_runf(out, sizeof out, "ip link add %sv%zu type veth peer name eth0 netns %s", rn->tag, i, ns) != 0 ||
        rx_runf(out, sizeof out, "ip link set %sv%zu master %sbr up", rn->tag, i, rn->tag) != 0 ||
        rx_runf(out, sizeof out, "ip -n %s link set lo up", ns) != 0 ||
        rx_runf(out, sizeof out, "ip -n %s link set eth0 up", ns) != 0)
        return fail(rn, "setting up a namespace's link", out);
    return 0;
}

int rn_setup(struct rn_world *rn, size_t nodes)
{
    char out[512];
    snprintf(rn->tag, sizeof rn->tag, "csr%d", (int)getpid());
    if (nodes + 1 > RN_MAX)
        return fail(rn, "rn_setup", "too many nodes for the real world");
    rn->count = nodes + 1;
    if (rx_runf(out, sizeof out, "ip link add %sbr type bridge", rn->tag) != 0)
        return fail(rn, "ip link add (bridge)", out);
    rn->bridge = true;
    /* Frames between namespaces must not meet the host's bridge firewall. */
    if (rx_runf(out, sizeof out, "ip link set %sbr up", rn->tag) != 0)
        return fail(rn, "ip link set (bridge)", out);
    for (size_t i = 0; i < rn->count; i++)
        if (make_namespace(rn, i) != 0)
            return -1;
    return 0;
}

/* Writes namespace i's nftables table into `path`: what it may not send to
 * or receive from, by the current addresses. */
static int write_rules(struct rn_world *rn, size_t i, char *path, size_t path_size)
{
    char set_out[2048] = "", set_in[2048] = "";
    size_t lo = 0, li = 0;
    for (size_t k = 0; k < rn->cut_count; k++) {
        char a[64];
        const struct rn_cut *c = &rn->cuts[k];
        if (c->from == i && rn->addr[c->to].family == 4) {
            cs_addr_format(&rn->addr[c->to], a, sizeof a);
            lo += (size_t)snprintf(set_out + lo, lo < sizeof set_out ? sizeof set_out - lo : 0, "%s%s",
                                   lo ? ", " : "", a);
        }
        if (c->to == i && rn->addr[c->from].family == 4) {
            cs_addr_format(&rn->addr[c->from], a, sizeof a);
            li += (size_t)snprintf(set_in + li, li < sizeof set_in ? sizeof set_in - li : 0, "%s%s",
                                   li ? ", " : "", a);
        }
    }
    snprintf(path, path_size, "%s/nft-%zu.conf", rn->dir, i);
    FILE *f = fopen(path, "w");
    if (!f)
        return fail(rn, "writing nftables rules", path);
    fprintf(f, "table inet csr\ndelete table inet csr\ntable inet csr {\n");
    fprintf(f, "  chain out {\n    type filter hook output priority 0; policy accept;\n");
    if (lo)
        fprintf(f, "    ip daddr { %s } drop\n", set_out);
    fprintf(f, "  }\n  chain in {\n    type filter hook input priority 0; policy accept;\n");
    if (li)
        fprintf(f, "    ip saddr { %s } drop\n", set_in);
    fprintf(f, "  }\n}\n");
    return fclose(f) == 0 ? 0 : fail(rn, "writing nftables rules", path);
}

/* Loads the rules of every namespace marked in `touched`, all at once (a
 * partition or a heal takes effect everywhere within one nft run's time,
 * not one namespace after another). */
static int apply_many(struct rn_world *rn, const bool *touched)
{
    pid_t pids[RN_MAX];
    size_t started = 0;
    int rc = 0;
    for (size_t i = 0; i + 1 < rn->count; i++) {
        if (!touched[i])
            continue;
        char path[700], ns[64];
        if (write_rules(rn, i, path, sizeof path) != 0)
            return -1;
        rn_name(rn, i, ns, sizeof ns);
        char *argv[] = {"ip", "netns", "exec", ns, "nft", "-f", path, NULL};
        pid_t pid = rx_spawn(argv, "/dev/null");
        if (pid < 0)
            rc = fail(rn, "nft", "cannot start it");
        else
            pids[started++] = pid;
    }
    for (size_t k = 0; k < started; k++)
        if (rx_wait(pids[k], 5000) != 0)
            rc = fail(rn, "nft", "a rule set was refused");
    return rc;
}

int rn_set_addr(struct rn_world *rn, size_t i, const struct cs_addr *a)
{
    char ns[64], text[64], out[512];
    rn_name(rn, i, ns, sizeof ns);
    cs_addr_format(a, text, sizeof text);
    rx_runf(NULL, 0, "ip -n %s addr flush dev eth0", ns);
    if (rx_runf(out, sizeof out, "ip -n %s addr add %s/32 dev eth0", ns, text) != 0)
        return fail(rn, "ip addr add", out);
    rx_runf(NULL, 0, "ip -n %s route replace default dev eth0", ns);
    rn->addr[i] = *a;
    /* Cuts name nodes; their rules name addresses: rewrite them all. */
    bool touched[RN_MAX] = {false};
    for (size_t k = 0; rn->cut_count && k + 1 < rn->count; k++)
        touched[k] = true;
    return apply_many(rn, touched);
}

int rn_latency(struct rn_world *rn, size_t i, const struct sim_dist *d)
{
    char ns[64], out[512];
    rn_name(rn, i, ns, sizeof ns);
    long long a_us = (long long)(d->a / 1000), b_us = (long long)(d->b / 1000);
    int rc;
    if (d->kind == SIM_DIST_UNIFORM && b_us > a_us)
        rc = rx_runf(out, sizeof out, "ip netns exec %s tc qdisc replace dev eth0 root netem delay %lldus %lldus",
                     ns, (a_us + b_us) / 2, (b_us - a_us) / 2);
    else
        rc = rx_runf(out, sizeof out, "ip netns exec %s tc qdisc replace dev eth0 root netem delay %lldus", ns,
                     a_us);
    if (rc != 0 && strstr(out, "qdisc kind is unknown"))
        return 1; /* this kernel has no sch_netem */
    return rc == 0 ? 0 : fail(rn, "tc netem", out);
}

int rn_link(struct rn_world *rn, size_t i, bool up)
{
    char ns[64], out[512];
    rn_name(rn, i, ns, sizeof ns);
    if (rx_runf(out, sizeof out, "ip -n %s link set eth0 %s", ns, up ? "up" : "down") != 0)
        return fail(rn, "ip link set", out);
    if (up && rn->addr[i].family)
        rx_runf(NULL, 0, "ip -n %s route replace default dev eth0", ns);
    return 0;
}

int rn_change(struct rn_world *rn, const struct rn_cut *pairs, size_t count, bool cut)
{
    bool touched[RN_MAX] = {false};
    for (size_t i = 0; i < count; i++) {
        size_t k = 0;
        while (k < rn->cut_count && (rn->cuts[k].from != pairs[i].from || rn->cuts[k].to != pairs[i].to))
            k++;
        if (cut && k == rn->cut_count) {
            if (cs_grow((void **)&rn->cuts, &rn->cut_cap, rn->cut_count + 1, sizeof *rn->cuts) != 0)
                return fail(rn, "rn_change", "out of memory");
            rn->cuts[rn->cut_count++] = pairs[i];
        } else if (!cut && k < rn->cut_count) {
            rn->cuts[k] = rn->cuts[--rn->cut_count];
        } else {
            continue;
        }
        touched[pairs[i].from] = touched[pairs[i].to] = true;
    }
    return apply_many(rn, touched);
}

static bool still_cut(const struct rn_world *rn, const struct rn_cut *c)
{
    for (size_t k = 0; k < rn->cut_count; k++)
        if (rn->cuts[k].from == c->from && rn->cuts[k].to == c->to)
            return true;
    return false; /* healed before it was noticed */
}

int rn_break(struct rn_world *rn, const struct rn_cut *pairs, size_t count)
{
    pid_t *pids = calloc(2 * count + 1, sizeof *pids);
    if (!pids)
        return -1;
    size_t started = 0;
    for (size_t i = 0; i < count; i++) {
        if (!still_cut(rn, &pairs[i]))
            continue;
        for (int side = 0; side < 2; side++) { /* both ends, every pair at once */
            size_t here = side ? pairs[i].to : pairs[i].from, there = side ? pairs[i].from : pairs[i].to;
            char ns[64], addr[64];
            rn_name(rn, here, ns, sizeof ns);
            cs_addr_format(&rn->addr[there], addr, sizeof addr);
            char *argv[] = {"ip", "netns", "exec", ns, "ss", "-K", "dst", addr, NULL};
            pid_t pid = rx_spawn(argv, "/dev/null");
            if (pid > 0)
                pids[started++] = pid;
        }
    }
    for (size_t k = 0; k < started; k++)
        rx_stop(pids[k], 0, 5000);
    free(pids);
    return 0;
}

int rn_heal(struct rn_world *rn)
{
    bool touched[RN_MAX] = {false};
    for (size_t k = 0; k < rn->cut_count; k++)
        touched[rn->cuts[k].from] = touched[rn->cuts[k].to] = true;
    rn->cut_count = 0;
    return apply_many(rn, touched);
}

void rn_teardown(struct rn_world *rn)
{
    char ns[64];
    for (size_t i = 0; i < rn->count; i++)
        if (rn->made[i]) {
            rx_runf(NULL, 0, "ip netns del %s", rn_name(rn, i, ns, sizeof ns));
            rx_runf(NULL, 0, "ip link del %sv%zu", rn->tag, i);
            rn->made[i] = false;
        }
    if (rn->bridge)
        rx_runf(NULL, 0, "ip link del %sbr", rn->tag);
    rn->bridge = false;
    free(rn->cuts);
    rn->cuts = NULL;
    rn->cut_count = rn->cut_cap = 0;
}
