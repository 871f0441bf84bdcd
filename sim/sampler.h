/*
 * sim/sampler.h: periodic per-node samples for run reports (membership
 * size, registry size).  Samples go to the trace file only: they are not
 * hashed, not kept in the failure ring and not counted as events, so a
 * sampled run has the same trace hash and event count as an unsampled one.
 */
#ifndef SIM_SAMPLER_H
#define SIM_SAMPLER_H

#include "world.h"

/* Schedules the first sample when the options ask for samples and a trace
 * file is open; 0 on success, -1 out of memory. */
int sim_sampler_schedule(struct sim_world *w);

/* Writes one `sample` line per live node and schedules the next sample. */
void sim_sampler_handle(struct sim_world *w, const struct sim_event *ev);

#endif
