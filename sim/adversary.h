/*
 * sim/adversary.h: an attacker inside the simulated network.  A timeline
 * `adversary` action opens connections from a host node's address to
 * target nodes and plays an attack on each (sim/scenario.h, enum
 * sc_attack): HELLOs claiming a member's name, wrong or replayed proofs,
 * handshakes abandoned midway, oversized frames, the issue-19 loop.  The
 * host's own protocol instance never sees these connections: their events
 * are routed here.  The adversary knows no secret; it sniffs the network
 * only to replay REPLY frames genuine nodes sent.  Genuine traffic is
 * interleaved with it by the event queue, so whether a member's link or
 * handshake is disturbed is judged by the scenario's expectations, and the
 * layer's consistency (cs_proto.check) after every event.
 */
#ifndef SIM_ADVERSARY_H
#define SIM_ADVERSARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/env.h"
#include "scenario.h"

struct sim_world;

/* Counters of what the adversary did, for tests and the trace. */
struct sim_adversary_stats {
    uint64_t connections, hellos, replies, replayed, abandoned, oversized, closed_by_target;
};

/* Runs one occurrence of an adversary action against one target. */
void sim_adversary_attack(struct sim_world *w, const struct sc_action *a, uint32_t target);

/* Takes an event for a connection the adversary owns (true), else false:
 * the host's protocol gets it. */
bool sim_adversary_event(struct sim_world *w, uint32_t node, const struct cs_event *ev);

/* Looks at a frame a node sends on a link (a genuine REPLY is kept for
 * replays; the adversary's own are not). */
void sim_adversary_sniff(struct sim_world *w, cs_link_id link, const void *data, size_t len);

/* The counters so far (zeros when no adversary ran). */
struct sim_adversary_stats sim_adversary_stats(const struct sim_world *w);

/* Frees the adversary's state (NULL-safe on a world without one). */
void sim_adversary_free(struct sim_world *w);

#endif
