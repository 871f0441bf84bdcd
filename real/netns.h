/*
 * real/netns.h: the real world's network: one Linux network namespace per
 * node (and one for the DNS server), each with a veth pair on a private
 * bridge, addresses as the scenario gives them (/32 with every
 * destination on-link, so any address plan works and the host's own
 * routes are never touched), latency with tc netem, and partitions as
 * nftables rules inside the namespaces.  Every name carries the run's tag
 * (csr<pid>), so that rn_sweep can remove what a killed run left.
 * Functions are prefixed rn_.
 */
#ifndef REAL_NETNS_H
#define REAL_NETNS_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/addr.h"
#include "../sim/dist.h"

#define RN_MAX 65 /* nodes plus the DNS namespace */

struct rn_cut {
    size_t from, to; /* packets from node `from` to node `to` are dropped */
};

struct rn_world {
    char tag[16];       /* csr<pid> */
    char dir[512];      /* where rule files are written */
    size_t count;       /* namespaces: nodes 0..count-2, DNS count-1 */
    bool made[RN_MAX];
    bool bridge;
    struct cs_addr addr[RN_MAX]; /* current address of each namespace */
    struct rn_cut *cuts;
    size_t cut_count, cut_cap;
    char err[512];
};

/* 0 when this process may create network namespaces (root with
 * CAP_NET_ADMIN, `ip` and `nft` installed); else -1 and why. */
int rn_available(char *why, size_t size);

/* Removes the namespaces and links of earlier runs whose process is gone. */
void rn_sweep(void);

/* Builds the bridge and `nodes` + 1 namespaces (the last for DNS); 0 or -1
 * with rn->err. */
int rn_setup(struct rn_world *rn, size_t nodes);

/* The namespace name of index i (for `ip netns exec`). */
const char *rn_name(const struct rn_world *rn, size_t i, char *buf, size_t size);

/* Gives namespace i the address `a` (replacing its old one). */
int rn_set_addr(struct rn_world *rn, size_t i, const struct cs_addr *a);

/* One-way delay of every packet namespace i sends (fixed or uniform); 0,
 * 1 when the kernel has no netem (nothing applied), -1 on error. */
int rn_latency(struct rn_world *rn, size_t i, const struct sim_dist *d);

/* Takes namespace i's link down or up (a DNS outage that times out). */
int rn_link(struct rn_world *rn, size_t i, bool up);

/* Drops (cut) or lets through again (not cut) the packets from each
 * pair's `from` node to its `to` node (both ways: give both pairs); the
 * rules of every namespace concerned load at once. */
int rn_change(struct rn_world *rn, const struct rn_cut *pairs, size_t count, bool cut);
/* Cut links are noticed (the scenario's network.break_detect after the
 * cut): for each pair whose packets are still dropped, the TCP connections
 * between the two are destroyed at both ends (ss -K), every pair at once,
 * so that each daemon sees its links break together, as the simulator
 * shows it. */
int rn_break(struct rn_world *rn, const struct rn_cut *pairs, size_t count);
/* Removes every cut. */
int rn_heal(struct rn_world *rn);

/* Deletes everything rn_setup made (safe to call twice). */
void rn_teardown(struct rn_world *rn);

#endif
