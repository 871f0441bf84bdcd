/*
 * real/real.h: the real world: runs a scenario file against real clusterd
 * processes, one per node in its own network namespace on a private
 * bridge, with dnsmasq serving the scenario's zone and the kernel's own
 * tools for faults (nftables for partitions, tc netem for latency, signals
 * for kills and graceful stops).  Time is real; the outcome is a
 * run_result like a simulated run's, judged from each daemon's probes.
 * Everything a run creates is removed when it ends, fails or is
 * interrupted, and what a killed run left is swept by the next one.
 */
#ifndef REAL_REAL_H
#define REAL_REAL_H

#include "../drivers/runner.h"

struct real_options {
    const char *clusterd;  /* the daemon binary */
    const char *workdir;   /* run files, sockets, logs (kept after the run) */
    uint64_t trial;        /* numbers the run (real runs have no seed) */
    cs_time poll_interval; /* how often every daemon is probed (0: 100 ms) */
    cs_time quiet;         /* a live node not tracking whose state has not moved for this
                              long is stuck (0: 5 s) */
    bool verbose;
};

/* 0 when the real world can run here; else -1 and why (no root, no nft,
 * no namespaces). */
int real_available(char *why, size_t size);

/* Runs `sc` once in the real world into `res` (free it with
 * run_result_free).  0, or -1 with the reason in res->internal when the
 * world could not be built. */
int real_run_scenario(const struct scenario *sc, const struct real_options *opt, struct run_result *res);

/* The directory of the last run (its trace.jsonl, daemon logs and
 * configuration files), or "" before any. */
const char *real_last_dir(void);

/* Installs SIGINT/SIGTERM handlers that tear down the running world and
 * exit with status 130, and sweeps what killed runs left. */
void real_prepare(void);

/* True once SIGINT or SIGTERM asked the run to stop. */
bool real_interrupted(void);

#endif
