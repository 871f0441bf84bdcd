/*
 * core/proto.h: the interface every node implementation of core/ offers to
 * the programs that host it (the simulator, the node daemon, tests).
 *
 * A protocol is a pure state machine: `create` builds an instance bound to an
 * environment (core/env.h), `handle` feeds it one event, and the observation
 * functions let checkers look at it without changing it.
 */
#ifndef CS_PROTO_H
#define CS_PROTO_H

#include "env.h"

/* Receives one member name from a view listing. */
typedef void (*cs_name_sink)(void *ctx, const char *name);
/* Receives one registry entry from a registry listing. */
typedef void (*cs_entry_sink)(void *ctx, const char *name, const char *owner, bool started,
                              const char *ring_owner);

struct cs_proto {
    const char *name;

    /* Builds an instance named `node_name` (basename@address) with the
     * protocol's own configuration (its type is the protocol's), which the
     * instance may keep a pointer to: it must outlive the instance. NULL when
     * out of memory. The instance must not call the environment yet. */
    void *(*create)(struct cs_env *env, const void *config, const char *node_name);
    /* Releases an instance and everything it owns (timers are the
     * environment's business). */
    void (*destroy)(void *instance);
    /* Starts the instance: first timers, first queries, first connects. */
    void (*start)(void *instance);
    /* Feeds one event. */
    void (*handle)(void *instance, const struct cs_event *event);

    /* True when the instance has reached its steady state (e.g. a tracker in
     * `tracking`, a membership view that stopped changing). */
    bool (*settled)(void *instance);
    /* Optional: true while the instance holds work back for a timer of its
     * own (a fixed tracker's handoffs waiting for its node list to stay
     * still); a run that stops when settled waits for it.  NULL: never. */
    bool (*work_held)(void *instance);
    /* Optional: calls fn with each of the instance's counters (messages
     * sent by type, handoffs ...), for harnesses that sum them over nodes.
     * NULL: none. */
    void (*counters)(void *instance, void (*fn)(void *ctx, const char *name, uint64_t value), void *ctx);
    /* Lists the names of the peers the instance believes are members (self
     * excluded), in any order. */
    void (*view)(void *instance, cs_name_sink sink, void *ctx);
    /* Optional fast path of `view` for checkers: the number of peers in the
     * view and the wrapping sum of XXH3-64 of their names. NULL: use view. */
    void (*view_digest)(void *instance, size_t *count, uint64_t *sum);
    /* False when a timer with this tag cannot move an unsettled instance
     * forward (used by the stuck detector); NULL means every timer can. */
    bool (*timer_can_progress)(void *instance, uint64_t tag);
    /* Optional: the node's registry as (count of names, wrapping sum of
     * XXH3 over name, owner and handle); equal on all nodes means they
     * agree, and then no name has two owners. NULL: no registry. */
    void (*registry_digest)(void *instance, size_t *count, uint64_t *sum);
    /* Optional: the same digest recomputed from scratch (the harness checks
     * that the kept one never drifts). */
    void (*registry_digest_full)(void *instance, size_t *count, uint64_t *sum);
    /* Optional, for the invariant checkers: calls fn on every live registry
     * entry with its owner's node name, whether it was started through
     * register_started, and, when with_ring_owner, the node the instance's
     * own ring assigns the name to (NULL when the ring has no owner, and
     * always NULL without with_ring_owner: a ring lookup per entry is most
     * of a listing's cost). NULL: no registry. */
    void (*registry_each)(void *instance, bool with_ring_owner, cs_entry_sink fn, void *ctx);
    /* Optional, for checkers that list the registry often: a number that
     * changes (within one instance) whenever what registry_each lists, owner
     * and started flag included, may have changed; equal readings mean an
     * equal listing.  NULL: no such promise. */
    uint64_t (*registry_epoch)(void *instance);
    /* Optional: how many processes run on this node under a name its own
     * registry does not give them (a conflict's loser left alive); the
     * first one's name into `first`.  NULL: no processes. */
    size_t (*stray_processes)(void *instance, char *first, size_t size);
    /* Optional, for the stuck detector: false when a link message with these
     * bytes, on its way to or from the instance, cannot move it on (a
     * keep-alive tick). NULL: every message can. */
    bool (*message_can_progress)(void *instance, const uint8_t *data, size_t len);
    /* Optional: the name of the peer this instance is waiting for (a
     * tracker's sync node while it syncs), or NULL; the stuck report draws
     * the wait-for graph from it. */
    const char *(*waiting_for)(void *instance);
    /* Optional, for exhaustive exploration: writes the part of the state
     * that decides what the instance does next (no incidental values such
     * as clock stamps or random challenges), so equal decisions compare
     * equal; returns its length. NULL: the dump is used. */
    int (*state_key)(void *instance, char *buf, size_t size);
    /* Writes a human-readable state dump; returns its length. */
    int (*dump)(void *instance, char *buf, size_t size);
    /* Optional: the instance's internal consistency (link slots, peer
     * tables, counters): true when it holds, else false with the first
     * broken rule in `why`.  The simulator may run it after every event
     * (sim_options.check_internal). NULL: nothing to check. */
    bool (*check)(void *instance, char *why, size_t size);
};

#endif
