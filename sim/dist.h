/*
 * sim/dist.h: latency and delay distributions of the network and DNS models
 * (fixed, uniform, exponential with a minimum), sampled from a PCG stream.
 */
#ifndef SIM_DIST_H
#define SIM_DIST_H

#include "../core/env.h"
#include "pcg.h"

enum sim_dist_kind { SIM_DIST_FIXED = 0, SIM_DIST_UNIFORM, SIM_DIST_EXP };

/* fixed: always `a`; uniform: in [a, b]; exp: a + Exponential(mean b). */
struct sim_dist {
    enum sim_dist_kind kind;
    cs_time a, b;
};

/* A fixed distribution of value `v`. */
struct sim_dist sim_dist_fixed(cs_time v);

/* Draws one value (never negative). A fixed distribution draws nothing, so
 * switching other settings never shifts a fixed run's random stream. */
cs_time sim_dist_sample(const struct sim_dist *d, struct pcg32 *rng);

/* Writes a readable form such as "uniform(1ms..5ms)". */
int sim_dist_format(const struct sim_dist *d, char *buf, size_t size);

/* Writes a duration with the largest exact unit ("250ms", "5s", "1.5s"). */
int sim_duration_format(cs_time t, char *buf, size_t size);

#endif
