/*
 * sim/check.h: the checkers that look at the whole cluster: convergence
 * (every live node settled, every view equal to the set of live nodes),
 * stuck detection (a live, unsettled node with nothing pending that could
 * move it), and unique ownership for protocols with a registry.  They run on
 * periodic check events from the last fault onwards, and once at the end.
 */
#ifndef SIM_CHECK_H
#define SIM_CHECK_H

#include "world.h"

/* Queues the first check at the last fault (if the scenario needs checks). */
int sim_check_schedule(struct sim_world *w);
/* Runs one periodic check and queues the next. */
void sim_check_handle(struct sim_world *w, const struct sim_event *ev);
/* Runs the final checks at the end of a run. */
void sim_check_finish(struct sim_world *w);

/* True when every live node is settled and sees exactly the other live
 * nodes. */
bool sim_check_converged(struct sim_world *w);

/* Writes into `out` (room for node_count) the live nodes that are stuck now:
 * the unsettled ones, when no live node has anything pending that could move
 * it (a timer it would act on, a message to or from it); returns the count. */
size_t sim_check_stuck(struct sim_world *w, uint32_t *out);

/* How many peers node n sees (its protocol's view; n must be live). */
size_t sim_check_view_size(struct sim_world *w, struct sim_node *n);

/* Describes why the cluster is not converged (first offending node) into
 * buf; empty when converged. */
void sim_check_explain(struct sim_world *w, char *buf, size_t size);

/* ---- sim/check_registry.c ---- */

/* The registries of the live nodes (excluded nodes left out). */
struct sim_registry_summary {
    bool has_registry; /* the protocol reports registries */
    bool agree;        /* every counted node holds the same registry */
    bool drift;        /* a kept digest differs from a full recount */
    size_t min, max;   /* names per counted node (0 0 without any) */
};
void sim_check_registries(struct sim_world *w, struct sim_registry_summary *out);
/* Judges a registered / no_duplicates / duplicates expectation on a
 * summary; writes what was seen into detail. */
bool sim_registry_verdict(const struct sc_expect *e, const struct sim_registry_summary *s, char *detail,
                          size_t size);
/* Judges a whereis expectation now: every live counted node holds
 * e->name, all with the same owner (the node e->owner when >= 0). */
bool sim_check_whereis(struct sim_world *w, const struct sc_expect *e, char *detail, size_t size);
/* True when no live counted node runs a process under a name its own
 * registry gives to no process or another one (conflicts' losers killed). */
bool sim_check_losers_killed(struct sim_world *w, char *detail, size_t size);
/* Judges expectation i (one with `at` instants) now, into w->instants[i]. */
void sim_check_instant(struct sim_world *w, size_t i);
/* True while some `at` instant of an expectation is still to come. */
bool sim_instants_pending(const struct sim_world *w);

#endif
