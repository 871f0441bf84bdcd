/*
 * shims/sim/sim_env.h: binds the core's environment interface (core/env.h)
 * to the simulator: virtual time through the node's clock, timers on the
 * event queue, links and datagrams through the network model, queries
 * through the DNS model, randomness from the node's own PCG stream, and
 * trace/log records into the run's trace.
 */
#ifndef SHIM_SIM_ENV_H
#define SHIM_SIM_ENV_H

#include "../../sim/world.h"

/* Fills node->env so that the node's protocol instance talks to world `w`.
 * Suitable as sim_options.bind_env. */
void sim_env_bind(struct sim_world *w, struct sim_node *node);

#endif
