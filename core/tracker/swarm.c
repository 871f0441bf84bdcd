/*
 * core/tracker/swarm.c: the swarm mode, Swarm 3.4's tracker reproduced with
 * its bugs (docs/swarm-model.md), top to bottom:
 *
 * - The state machine: cluster_wait, syncing, awaiting_sync_ack and
 *   tracking; every event a state does not handle is postponed until the
 *   next state change; `syncing` arms no timer, so a cycle of sync nodes
 *   (deadlock A), a parked request of the node one waits for (deadlock B)
 *   or a parked request never served (deadlock C) waits forever.
 * - The replication rules: a replicated `track` for a name held by another
 *   handle replaces the local copy if local <= remote (interval tree
 *   clocks), is ignored if remote <= local, and leaves both if they are
 *   concurrent (duplicates persist); during a sync the older of two
 *   ordered copies loses and equal or concurrent copies are settled by the
 *   ring owner.  Deletions remove entries; syncs never carry them.
 * - Departures and stops: a dead node's entries are forgotten, its started
 *   processes restarted by their ring owner; a stopping node's processes
 *   exit and are untracked, never handed off.
 *
 * The table at the end (trk_swarm_mode) is all the shared files see.
 */
#include "internal.h"
#include "mode.h"
#include "../grow.h"

#include <stdlib.h>
#include <string.h>

static void park(struct tracker *t, uint32_t from)
{
    for (size_t i = 0; i < t->pending_count; i++)
        if (t->pending[i] == from)
            return; /* deduplicated */
    if (cs_grow((void **)&t->pending, &t->pending_cap, t->pending_count + 1, sizeof *t->pending) != 0)
        return;
    t->pending[t->pending_count++] = from;
}

/* Sends sync_recv with half of our clock and the registry, then waits: a
 * new sync, unless it settles the tie of one we began with that peer. */
static void lead_sync(struct tracker *t, uint32_t peer)
{
    if (!(t->state == TRK_SYNCING && t->sync_node == (int32_t)peer))
        trk_sync_begin(t, peer);
    uint8_t half[TRK_CLOCK_MAX];
    size_t half_len;
    trk_clock_fork(t, half, &half_len);
    trk_send_snapshot(t, peer, TRK_MSG_SYNC_RECV, half, half_len);
    t->sync_node = (int32_t)peer;
    trk_set_state(t, TRK_AWAITING_SYNC_ACK);
}

/* cluster_join, or anti-entropy: sync to a random node, or track alone. */
static void join_cluster(struct tracker *t)
{
    if (t->node_count == 0) {
        trk_set_state(t, TRK_TRACKING); /* parked requests are NOT served */
        trk_arm_anti_entropy(t);
        return;
    }
    uint32_t peer = trk_random_node(t);
    t->sync_node = (int32_t)peer;
    trk_sync_begin(t, peer);
    trk_send_sync(t, peer);
    trk_set_state(t, TRK_SYNCING);
}

/* Serving the pending list, one request at a time, after a completed sync. */
static void serve_pending(struct tracker *t)
{
    while (t->pending_count > 0) {
        uint32_t head = t->pending[0];
        memmove(t->pending, t->pending + 1, --t->pending_count * sizeof *t->pending);
        if ((int32_t)head == t->sync_node)
            continue; /* Swarm PR #118 */
        if (trk_is_node(t, head)) {
            lead_sync(t, head); /* awaiting -> awaiting: postponed events stay put */
            return;
        }
    }
    t->sync_node = -1;
    trk_set_state(t, TRK_TRACKING);
}

static void on_sync_done(struct tracker *t, uint32_t from, struct cs_reader *r, bool reply)
{
    uint8_t clock[TRK_CLOCK_MAX];
    size_t clock_len = 0;
    cs_get_str(r, (char[CS_NODE_NAME_MAX]){0}, CS_NODE_NAME_MAX);
    if (!trk_get_clock(r, clock, &clock_len, sizeof clock)) {
        t->stats.malformed++;
        return;
    }
    if (!trk_clock_valid(t, clock, clock_len)) {
        t->stats.bad_clock++;
        return;
    }
    bool merged = trk_merge_snapshot(t, from, r);
    trk_snapshot_release(t); /* (swarm mode's replies are whole snapshots) */
    if (!merged)
        return; /* dropped whole: still waiting */
    if (reply)
        trk_send_snapshot(t, from, TRK_MSG_SYNC_ACK, clock, clock_len);
    if (reply)
        trk_clock_adopt(t, clock, clock_len);
    trk_sync_end(t, from, true);
    serve_pending(t);
}

/* Handles sync(from) while waiting: the tie-break or parking. */
static void sync_while_syncing(struct tracker *t, uint32_t from)
{
    if ((int32_t)from == t->sync_node) {
        /* Both chose each other: clocks never advance, so the greater
         * name leads and the smaller drops the request. */
        if (strcmp(t->self, trk_name(t, from)) > 0)
            lead_sync(t, from);
        return;
    }
    park(t, from);
}

static void cluster_wait_message(struct tracker *t, uint32_t from, uint8_t type,
                                 struct cs_reader *r, const struct trk_event *ev)
{
    if (type != TRK_MSG_SYNC) {
        trk_postpone(t, ev);
        return;
    }
    if (t->node_count == 1 && t->nodes[0] == from) {
        lead_sync(t, from);
        return;
    }
    (void)r;
    park(t, from);
}

static void syncing_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r,
                            const struct trk_event *ev)
{
    if (type == TRK_MSG_SYNC_RECV && (int32_t)from == t->sync_node) {
        on_sync_done(t, from, r, true);
    } else if (type == TRK_MSG_SYNC) {
        sync_while_syncing(t, from);
    } else if (type == TRK_MSG_SYNC_ERR && (int32_t)from == t->sync_node) {
        trk_sync_end(t, from, false);
        t->sync_node = -1;
        join_cluster(t);
    } else {
        trk_postpone(t, ev);
    }
}

static void awaiting_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r,
                             const struct trk_event *ev)
{
    if (type == TRK_MSG_SYNC_ACK && (int32_t)from == t->sync_node)
        on_sync_done(t, from, r, false);
    else
        trk_postpone(t, ev);
}

static void tracking_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r)
{
    if (type == TRK_MSG_SYNC) {
        /* Reply with their own clock echoed and our registry. */
        cs_get_str(r, (char[CS_NODE_NAME_MAX]){0}, CS_NODE_NAME_MAX);
        uint8_t clock[TRK_CLOCK_MAX];
        size_t len = 0;
        if (!trk_get_clock(r, clock, &len, sizeof clock)) {
            t->stats.malformed++;
            return;
        }
        trk_sync_begin(t, from); /* this node now waits for the sync_ack */
        trk_send_snapshot(t, from, TRK_MSG_SYNC_RECV, clock, len);
        t->sync_node = (int32_t)from;
        trk_set_state(t, TRK_AWAITING_SYNC_ACK);
        return;
    }
    if (type == TRK_MSG_SYNC_RECV || type == TRK_MSG_SYNC_ACK || type == TRK_MSG_SYNC_ERR) {
        cs_logf(t->env, CS_LOG_DEBUG, "[swarm] ignoring unrecognized cast %u from %s", type,
                trk_name(t, from));
        return; /* M3b: a stale sync_recv is dropped; its sender waits forever */
    }
    trk_tracking_message(t, from, type, r);
}

static void on_message(struct tracker *t, const struct trk_event *ev)
{
    int32_t from = trk_event_peer(t, ev);
    struct cs_reader r;
    cs_reader_init(&r, ev->data, ev->len);
    uint8_t type = cs_get_u8(&r);
    if (from < 0 || trk_common_message(t, (uint32_t)from, type, &r))
        return;
    switch (t->state) {
    case TRK_CLUSTER_WAIT: cluster_wait_message(t, (uint32_t)from, type, &r, ev); break;
    case TRK_SYNCING: syncing_message(t, (uint32_t)from, type, &r, ev); break;
    case TRK_AWAITING_SYNC_ACK: awaiting_message(t, (uint32_t)from, type, &r, ev); break;
    case TRK_TRACKING: tracking_message(t, (uint32_t)from, type, &r); break;
    }
}

static void on_nodedown(struct tracker *t, const struct trk_event *ev)
{
    int32_t peer = trk_event_peer(t, ev);
    if (peer < 0)
        return;
    bool was_sync_node = peer == t->sync_node;
    switch (t->state) {
    case TRK_CLUSTER_WAIT:
        trk_remove_node(t, (uint32_t)peer);
        break;
    case TRK_SYNCING:
        trk_remove_node(t, (uint32_t)peer);
        /* The filter meant to drop the dead node's parked requests compares
         * a pid with a node name: it never removes anything. */
        if (was_sync_node)
            join_cluster(t);
        break;
    case TRK_AWAITING_SYNC_ACK:
        if (!was_sync_node) {
            trk_postpone(t, ev);
            return;
        }
        trk_remove_node(t, (uint32_t)peer);
        serve_pending(t);
        break;
    case TRK_TRACKING:
        trk_remove_node(t, (uint32_t)peer);
        trk_topology_change(t);
        break;
    }
}

static void on_nodeup(struct tracker *t, const struct trk_event *ev)
{
    int32_t peer = trk_event_peer(t, ev);
    if (peer < 0)
        return;
    if (t->state == TRK_SYNCING || t->state == TRK_AWAITING_SYNC_ACK) {
        trk_postpone(t, ev);
        return;
    }
    trk_start_check(t, (uint32_t)peer, 0); /* the node is added when it answers */
}

static void on_timer(struct tracker *t, const struct trk_event *ev)
{
    unsigned kind = CS_TAG_KIND_OF(ev->tag);
    if (kind == TRK_TIMER_START) {
        /* Take the connected peers (Node.list(), unchecked); wait
         * sync_nodes_timeout for more. */
        trk_set_state(t, TRK_CLUSTER_WAIT);
        trk_take_connected(t, false);
        t->env->timer_start(t->env, t->cfg.sync_nodes_timeout, TRK_TAG(TRK_TIMER_CLUSTER_JOIN, 0));
        return;
    }
    if (kind == TRK_TIMER_CLUSTER_JOIN && t->state == TRK_CLUSTER_WAIT) {
        join_cluster(t);
        return;
    }
    if (t->state != TRK_TRACKING) {
        trk_postpone(t, ev);
        return;
    }
    if (kind == TRK_TIMER_ANTI_ENTROPY) {
        t->anti_entropy_armed = false;
        if (t->node_count > 0)
            join_cluster(t);
        trk_arm_anti_entropy(t);
    } else if (kind == TRK_TIMER_RETRY_CHECK) {
        uint32_t peer = (uint32_t)(ev->tag >> 8 & 0xffffffffu);
        trk_start_check(t, peer, (uint32_t)(ev->tag & 0xff));
    } else if (kind == TRK_TIMER_CALL_TIMEOUT) {
        trk_call_timeout(t, ev->tag & 0xffffffffffffULL);
    }
}

static void swarm_node_checked(struct tracker *t, uint32_t peer, const struct trk_content_digest *digest)
{
    (void)digest; /* Swarm's check reply carries none */
    if (trk_is_node(t, peer))
        return;
    bool alone = t->node_count == 0;
    trk_add_node(t, peer);
    if (t->state != TRK_TRACKING)
        return;
    if (alone)
        join_cluster(t); /* nodeup when nodes was empty: a fresh cluster_join */
    else
        trk_topology_change(t);
}

static void swarm_event(struct tracker *t, const struct trk_event *ev)
{
    switch (ev->kind) {
    case TE_MESSAGE: on_message(t, ev); break;
    case TE_NODEUP: on_nodeup(t, ev); break;
    case TE_NODEDOWN: on_nodedown(t, ev); break;
    case TE_TIMER: on_timer(t, ev); break;
    case TE_COMMAND:
        if (t->state == TRK_TRACKING)
            trk_tracking_command(t, ev);
        else
            trk_postpone(t, ev); /* API calls hang while the tracker syncs */
        break;
    }
}

/* Outside tracking only cluster_join (in cluster_wait) is handled; every
 * other timer is postponed and cannot move the state.  In tracking, the
 * anti-entropy tick with no nodes only re-arms itself. */
static bool swarm_timer_can_progress(const struct tracker *t, unsigned kind)
{
    if (t->state == TRK_TRACKING && kind == TRK_TIMER_ANTI_ENTROPY)
        return t->node_count > 0;
    if (t->state == TRK_TRACKING || kind == TRK_TIMER_START)
        return true;
    return kind == TRK_TIMER_CLUSTER_JOIN && t->state == TRK_CLUSTER_WAIT;
}

/* ---- replication ---- */

static enum itc_order compare_clocks(struct tracker *t, const uint8_t *a, size_t alen,
                                     const uint8_t *b, size_t blen, bool *ok)
{
    itc_arena_reset(t->arena);
    struct itc_stamp x, y;
    *ok = itc_decode(t->arena, a, alen, &x) >= 0 && itc_decode(t->arena, b, blen, &y) >= 0;
    return *ok ? itc_compare(x, y) : ITC_CONCURRENT;
}

/* A replicated event or a synced entry for a name we hold. */
static void swarm_merge_copy(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we,
                             bool from_sync)
{
    bool ok;
    enum itc_order o = compare_clocks(t, reg_clock(e), e->clock_len, we->clock, we->clock_len, &ok);
    if (!ok) {
        t->stats.bad_clock++;
        return;
    }
    if (e->handle == we->handle) {
        if (o != ITC_AFTER)
            trk_copy_in(t, e, we);
        return;
    }
    uint32_t local_owner = e->owner;
    uint64_t local_handle = e->handle;
    bool remote_wins;
    if (o == ITC_BEFORE || (o == ITC_EQUAL && !from_sync)) {
        remote_wins = true;
    } else if (o == ITC_AFTER) {
        remote_wins = false;
    } else if (!from_sync) {
        cs_logf(t->env, CS_LOG_WARN, "[swarm] conflicting registrations of %s: keeping both", e->name);
        return; /* concurrent replicated event: duplicates persist */
    } else {
        const char *ring = ring_owner(t->ring, e->name);
        remote_wins = ring && strcmp(ring, we->owner) == 0;
    }
    if (remote_wins) {
        if (trk_copy_in(t, e, we))
            trk_tell_to_die(t, local_owner, e->name, local_handle);
    } else if (from_sync) { /* a replicated track with remote <= local is just ignored */
        int32_t loser = trk_name_index(t, we->owner);
        if (loser >= 0)
            trk_tell_to_die(t, (uint32_t)loser, we->name, we->handle);
    }
}

/* An untrack removes the entry if it still names that process. */
static void swarm_untrack(struct tracker *t, struct trk_wire_entry *we)
{
    t->stats.tracked_remote++;
    struct reg_entry *e = registry_get(&t->reg, we->name);
    if (e && e->handle == we->handle) {
        trk_digest_out(t, e);
        registry_remove(&t->reg, we->name);
    }
}

/* A handoff of a name we run: ours stays, nothing more (the copy on the
 * ring owner wins at the next sync). */
static void swarm_handoff_collides(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    (void)t, (void)e, (void)we;
}

/* Swarm takes every other handoff. */
static bool swarm_handoff_refused(struct tracker *t, uint32_t from, const struct reg_entry *e,
                                  const struct trk_wire_entry *we)
{
    (void)t, (void)from, (void)e, (void)we;
    return false;
}

/* The process exits as it hands off. */
static void swarm_handed_off(struct tracker *t, const struct reg_entry *e)
{
    trk_proc_kill(t, e->handle);
}

/* Placement follows topology changes only. */
static void swarm_watch_placement(struct tracker *t, const char *name)
{
    (void)t, (void)name;
}

/* A kill is always obeyed. */
static bool swarm_kill_is_stale(struct tracker *t, const char *name, uint64_t handle)
{
    (void)t, (void)name, (void)handle;
    return false;
}

/* ---- topology passes, registry operations, stop ---- */

/* Whoever is not in `nodes` is gone. */
static bool swarm_owner_gone(struct tracker *t, uint32_t owner)
{
    return !trk_is_node(t, owner);
}

/* The ring owner restarts a started process and broadcasts the new
 * registration; everyone else forgets the dead copy meanwhile.  Entries
 * that were not started are forgotten. */
static void swarm_owner_departed(struct tracker *t, struct reg_entry *e, const char *ring)
{
    if ((e->flags & REG_STARTED) && ring && strcmp(ring, t->self) == 0) {
        trk_restart_here(t, e);
        return;
    }
    trk_digest_out(t, e);
    registry_remove(&t->reg, e->name);
}

static void swarm_unregister(struct tracker *t, struct reg_entry *e)
{
    if (e->owner == 0)
        trk_proc_kill(t, e->handle);
    trk_digest_out(t, e);
    trk_broadcast_entry(t, TRK_MSG_UNTRACK, e);
    registry_remove(&t->reg, e->name);
}

/* The process shuts down before the links close: peers see an ordinary
 * DOWN and untrack the name.  It is not restarted. */
static void swarm_stop_entry(struct tracker *t, struct reg_entry *e)
{
    trk_proc_kill(t, e->handle);
    trk_broadcast_entry(t, TRK_MSG_UNTRACK, e);
}

const struct trk_mode_ops trk_swarm_mode = {
    .name = "swarm",
    .keeps_tombstones = false,
    .content_digest = false,
    .batches = false,
    .event = swarm_event,
    .node_checked = swarm_node_checked,
    .timer_can_progress = swarm_timer_can_progress,
    .merge_copy = swarm_merge_copy,
    .untrack = swarm_untrack,
    .handoff_collides = swarm_handoff_collides,
    .handoff_refused = swarm_handoff_refused,
    .handed_off = swarm_handed_off,
    .watch_placement = swarm_watch_placement,
    .kill_is_stale = swarm_kill_is_stale,
    .owner_gone = swarm_owner_gone,
    .owner_departed = swarm_owner_departed,
    .unregister = swarm_unregister,
    .stop_entry = swarm_stop_entry,
};
