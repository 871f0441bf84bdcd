/*
 * sim/timeline.h: turns the scenario's timeline into queued events and
 * carries each action out when it is due (lifecycle, partitions, clogs, DNS
 * changes and outages, clock changes, commands to the protocol).
 */
#ifndef SIM_TIMELINE_H
#define SIM_TIMELINE_H

#include "world.h"

/* Queues the first occurrence of every action; -1 out of memory. */
int sim_timeline_schedule(struct sim_world *w);

/* Carries out a due action and queues its next occurrence, if any. */
void sim_timeline_handle(struct sim_world *w, const struct sim_event *ev);

#endif
