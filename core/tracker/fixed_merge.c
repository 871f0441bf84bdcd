/*
 * core/tracker/fixed_merge.c: the fixed mode's replication rules.  The
 * registry is a last-writer-wins map with tombstones: every change bumps a
 * Lamport version (commands.c's trk_version_write / trk_version_continue),
 * copies of a name are totally ordered (fixed_newer), and a losing process
 * is told to die, so every pair of nodes that exchanges state agrees.  A
 * live owner refutes a departure tombstone of its own process; a handoff
 * never resurrects a name unregistered since; a process left off its ring
 * owner is looked at again after sync_timeout; owners never met count as
 * gone only after sync_timeout; a stopping node hands its processes to the
 * ring without it.  Why this converges and cannot deadlock:
 * docs/swarm-model.md.
 */
#include "fixed.h"

#include <stdio.h>
#include <string.h>

/* Copies of one name are ordered by the write they descend from (its write
 * number, then its origin handle), then by how far they continued it
 * (restarts, handoffs, departures), then by handle, then by kind: an
 * unregister's tombstone above a live entry above a departure tombstone.
 * A total order, so any two nodes that swap copies keep the same one; and a
 * continuation of a write that lost (a departure noted on a copy already
 * beaten) still loses to the write that beat it. */
static int copy_rank(uint32_t flags)
{
    if (!(flags & REG_TOMBSTONE))
        return 1;
    return (flags & REG_DEPARTED) ? 0 : 2;
}

struct copy_key {
    uint64_t version, origin, handle;
    uint32_t flags;
};

static bool fixed_newer(struct copy_key a, struct copy_key b)
{
    uint64_t wa = a.version >> TRK_GEN_BITS, wb = b.version >> TRK_GEN_BITS;
    if (wa != wb)
        return wa > wb;
    if (a.origin != b.origin)
        return a.origin > b.origin;
    if (a.version != b.version)
        return a.version > b.version;
    if (a.handle != b.handle)
        return a.handle > b.handle;
    return copy_rank(a.flags) > copy_rank(b.flags);
}

/* Both copies name the same running process. */
static bool same_live_process(const struct reg_entry *e, const struct trk_wire_entry *we)
{
    return e->handle == we->handle && !(e->flags & REG_TOMBSTONE) && !(we->flags & REG_TOMBSTONE);
}

/* Meta keys are last-writer-wins by their own version; equal versions
 * (concurrent changes stamped alike on two nodes) go to the larger list,
 * compared key by key, so every node keeps the same one. */
static bool meta_newer(uint64_t version, const char (*meta)[REG_META_KEY_MAX], uint8_t count,
                       const struct reg_entry *e)
{
    if (version != reg_meta_version(e))
        return version > reg_meta_version(e);
    if (count != reg_meta_count(e))
        return count > reg_meta_count(e);
    for (uint8_t i = 0; i < count; i++) {
        int c = strcmp(meta[i], reg_meta_key(e, i));
        if (c)
            return c > 0;
    }
    return false;
}

static void take_meta(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    trk_digest_out(t, e);
    reg_meta_clear(e);
    for (uint8_t i = 0; i < we->meta_count; i++)
        reg_meta_set(e, we->meta[i], true);
    reg_set_meta_version(e, we->meta_version);
    trk_digest_in(t, e);
}

/* True when `we` is a departure tombstone for the process this node runs
 * under `e` now: a peer lost sight of us (a partition, a slow link), we
 * did not die. */
static bool departure_of_live_process(const struct tracker *t, const struct reg_entry *e,
                                      const struct trk_wire_entry *we)
{
    return (we->flags & REG_TOMBSTONE) && (we->flags & REG_DEPARTED) && e->owner == 0 &&
           !(e->flags & REG_TOMBSTONE) && e->handle == we->handle &&
           (uint32_t)(e->handle >> 32) == t->creation;
}

/* ---- placement ---- */

/* A topology pass after sync_timeout (fixed mode's TRK_TIMER_ORPHANS timer). */
void trk_fixed_arm_second_look(struct tracker *t)
{
    if (!t->orphan_check_armed) {
        t->orphan_check_armed = true;
        t->env->timer_start(t->env, t->cfg.sync_timeout, TRK_TAG(TRK_TIMER_ORPHANS, 0));
    }
}

void trk_fixed_watch_placement(struct tracker *t, const char *name)
{
    const struct reg_entry *e = registry_get(&t->reg, name);
    if (!e || e->owner != 0 || (e->flags & REG_TOMBSTONE) || !(e->flags & REG_STARTED))
        return;
    const char *ring = ring_owner(t->ring, name);
    if (ring && strcmp(ring, t->self) != 0)
        trk_fixed_arm_second_look(t);
}

/* During a join storm every node's list grows one peer at a time, and each
 * growth moves a share of the ring: a process handed off at every step
 * moves once per join on every node that holds it, each new owner (whose
 * own list lags) possibly handing it on or back.  Holding handoffs until the
 * list has been still for placement_settle moves each process about once
 * per settled view instead.  Safety does not depend on it (a process off its
 * ring owner is still registered once); placement is only delayed, and
 * never by more than PLACEMENT_MAX_WAITS settle times. */
#define PLACEMENT_MAX_WAITS 8

bool trk_fixed_handoff_waits(struct tracker *t)
{
    cs_time settle = t->cfg.placement_settle;
    if (settle <= 0 || t->stopping)
        return false;
    cs_time now = t->env->now(t->env);
    if (now == t->placement_forced_at) /* this pass moves every process it meets */
        return false;
    cs_time settled_at = t->node_list_changed_at + settle;
    if (now >= settled_at) {
        t->placement_waiting_since = -1;
        return false;
    }
    if (t->placement_waiting_since < 0)
        t->placement_waiting_since = now;
    cs_time deadline = t->placement_waiting_since + PLACEMENT_MAX_WAITS * settle;
    if (now >= deadline) { /* a list that does not settle: move them now, then wait afresh */
        t->placement_forced_at = now;
        t->placement_waiting_since = -1;
        return false;
    }
    if (!t->placement_armed) {
        t->placement_armed = true;
        cs_time at = settled_at < deadline ? settled_at : deadline;
        t->env->timer_start(t->env, at - now, TRK_TAG(TRK_TIMER_PLACEMENT, 0));
    }
    return true;
}

/* ---- copies from peers ---- */

/* A KILL for the process of a losing copy that the winning copy continues
 * (same origin: a handoff, or a restart elsewhere) is left to the winner's
 * owner when both owners are nodes of ours: the new owner sends its copy
 * to every node, the old owner among them, which ends its process itself
 * when it merges it.  A KILL from every other node on top of that made
 * each handoff cost a message per node (issue 24), whether the new copy
 * reached the node first or the old one came after it in a sync.  It is
 * still sent when either owner is not a node of ours (the old owner may be
 * cut off from the new one).  Owner 0 is us. */
static bool loser_learns_it(struct tracker *t, uint32_t loser, uint64_t loser_origin, uint32_t winner,
                            uint64_t winner_origin)
{
    return loser != 0 && loser_origin == winner_origin && trk_is_node(t, loser) &&
           (winner == 0 || trk_is_node(t, winner));
}

/* The copy here (e) loses to the one that came (we). */
static bool old_owner_learns_it(struct tracker *t, const struct reg_entry *e, const struct trk_wire_entry *we)
{
    int32_t winner = trk_name_index(t, we->owner);
    return winner > 0 && loser_learns_it(t, e->owner, reg_origin(e), (uint32_t)winner, we->origin);
}

/* Fixed: last writer wins, ties to the larger handle; losers die.  The one
 * exception: a live owner refutes a departure tombstone of its own process
 * by re-registering it with a newer version (as SWIM members refute a
 * suspicion), so a partition never deletes a registration whose process
 * lives. */
void trk_fixed_merge_copy(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we, bool from_sync)
{
    (void)from_sync; /* versions decide, wherever the copy comes from */
    bool remote_wins = fixed_newer((struct copy_key){we->version, we->origin, we->handle, we->flags},
                                   (struct copy_key){e->version, reg_origin(e), e->handle, e->flags});
    if (we->version > t->version_clock)
        t->version_clock = we->version;
    if (remote_wins && departure_of_live_process(t, e, we)) {
        trk_digest_out(t, e);
        e->version = trk_version_continue(t, we->version);
        trk_digest_in(t, e);
        trk_broadcast_entry(t, TRK_MSG_TRACK, e);
        trk_fixed_watch_placement(t, e->name);
        return;
    }
    if (we->meta_version > t->version_clock)
        t->version_clock = we->meta_version;
    if (!remote_wins && same_live_process(e, we) && meta_newer(we->meta_version, we->meta, we->meta_count, e)) {
        take_meta(t, e, we);
        return;
    }
    if (!remote_wins) {
        if (we->handle != e->handle && !(we->flags & REG_TOMBSTONE)) {
            int32_t loser = trk_name_index(t, we->owner);
            if (loser >= 0 && !loser_learns_it(t, (uint32_t)loser, we->origin, e->owner, reg_origin(e)))
                trk_tell_to_die(t, (uint32_t)loser, we->name, we->handle);
            trk_fixed_watch_placement(t, e->name); /* ours stays, wherever the ring puts it */
        }
        return;
    }
    if (e->handle != we->handle && !(e->flags & REG_TOMBSTONE)) {
        if (!old_owner_learns_it(t, e, we))
            trk_tell_to_die(t, e->owner, e->name, e->handle);
    } else if (e->owner == 0 && (we->flags & REG_TOMBSTONE))
        trk_proc_kill(t, e->handle);
    bool keep_meta = same_live_process(e, we) && !meta_newer(we->meta_version, we->meta, we->meta_count, e) &&
                     we->meta_version != reg_meta_version(e);
    struct trk_wire_entry mine;
    if (keep_meta) {
        mine.meta_version = reg_meta_version(e);
        mine.meta_count = reg_meta_count(e);
        for (uint8_t i = 0; i < mine.meta_count; i++)
            snprintf(mine.meta[i], sizeof mine.meta[i], "%s", reg_meta_key(e, i));
    }
    trk_copy_in(t, e, we);
    if (keep_meta)
        take_meta(t, e, &mine);
}

/* An untrack is a tombstone copy, merged like any other. */
void trk_fixed_untrack(struct tracker *t, struct trk_wire_entry *we)
{
    we->flags |= REG_TOMBSTONE;
    trk_apply_entry(t, we, false);
}

/* A handoff of a name we run (a copy from the other side of a healed
 * partition, or our own process handed away and not yet replaced): the
 * copy on the ring owner wins.  When we are the ring owner ours wins
 * everywhere with a newer version, so the sender's copy loses and its
 * process is told to die; a node that is not the owner bumps nothing (two
 * of them would outbid each other). */
void trk_fixed_handoff_collides(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    const char *ring = ring_owner(t->ring, we->name);
    if (!ring || strcmp(ring, t->self) != 0)
        return;
    trk_digest_out(t, e);
    e->version = trk_version_continue(t, e->version > we->version ? e->version : we->version);
    trk_digest_in(t, e);
    trk_broadcast_entry(t, TRK_MSG_TRACK, e);
}

/* The name was unregistered after the registration handed off here (the
 * handoff crossed the unregister): the deletion stands, and the sender's
 * process, kept until replaced, is told to die. */
bool trk_fixed_handoff_refused(struct tracker *t, uint32_t from, const struct reg_entry *e,
                               const struct trk_wire_entry *we)
{
    if (!e || !(e->flags & REG_TOMBSTONE) || (e->flags & REG_DEPARTED) ||
        !fixed_newer((struct copy_key){e->version, reg_origin(e), e->handle, e->flags},
                     (struct copy_key){we->version, we->origin, we->handle, we->flags}))
        return false;
    cs_logf(t->env, CS_LOG_INFO, "[swarm] handoff of %s from %s refused: unregistered since", we->name,
            trk_name(t, from));
    trk_tell_to_die(t, from, we->name, we->handle);
    return true;
}

/* The process stays until the new owner's registration (a newer version)
 * replaces ours and tells it to die.  Until then the entry is marked, so a
 * topology pass does not hand it off again (during a storm each pass sent
 * it once more, and each copy that arrived twice was re-asserted to every
 * node); the mark goes when a node leaves (the handoff may have gone down
 * with its link) and at the second look, sync_timeout later (the new owner
 * may not have taken it), so a lost handoff is retried. */
void trk_fixed_handed_off(struct tracker *t, const struct reg_entry *e)
{
    trk_handoff_mark(t, e);
    trk_fixed_arm_second_look(t);
}

/* A kill decided on an older copy is stale when our registry still holds
 * this process (we re-asserted it since); if it really lost, the winning
 * copy reaches us and kills it. */
bool trk_fixed_kill_is_stale(struct tracker *t, const char *name, uint64_t handle)
{
    const struct reg_entry *e = registry_get(&t->reg, name);
    return e && !(e->flags & REG_TOMBSTONE) && e->handle == handle;
}

/* ---- departures, unregister, stop ---- */

/* (The node that wrote a departure tombstone may be gone, and a copy taken
 * from a peer is not in our answers to the owner's scoped pulls (pull.c):
 * without the first rule the owner would hear of it only through
 * anti-entropy.  Without the second, an entry first heard of through a
 * replicated event, not a snapshot, waited for the next topology change.
 * An owner never met counts as gone sync_timeout after this.) */
void trk_fixed_copy_taken(struct tracker *t, const struct reg_entry *e)
{
    if (e->owner == 0 || trk_is_node(t, e->owner)) {
        if ((e->flags & REG_DEPARTED) && e->owner != 0)
            trk_send_entry(t, e->owner, TRK_MSG_TRACK, e);
        return;
    }
    if (!(e->flags & REG_TOMBSTONE) && trk_fixed_owner_gone(t, e->owner)) /* (else it armed the look) */
        trk_fixed_arm_second_look(t);
}

/* An entry's owner is gone when it was in `nodes` and left; one never met
 * (a new node with a partial view) only after sync_timeout without meeting
 * it, so a newcomer does not restart the processes of owners it has not
 * reached yet (a timer looks again then). */
bool trk_fixed_owner_gone(struct tracker *t, uint32_t owner)
{
    if (trk_is_node(t, owner))
        return false;
    if (t->met[owner])
        return true;
    t->reconsider_timed++; /* the answer depends on the time */
    cs_time now = t->env->now(t->env);
    if (t->unknown_since[owner] < 0)
        t->unknown_since[owner] = now;
    if (now - t->unknown_since[owner] >= t->cfg.sync_timeout)
        return true;
    trk_fixed_arm_second_look(t);
    return false;
}

/* A departed owner's started process is restarted by its ring owner, whose
 * newer version replaces the dead copy everywhere (the others keep it
 * until then, and look again after sync_timeout: a copy still there then
 * may be one the ring owner never got, the write of an owner that died
 * with its writes on our side of a healed cut alone, which only
 * anti-entropy would bring it; so it gets ours).  A stale process of our
 * own (we came back under the same name: only we know it died) is
 * restarted at once, then handed to the ring owner.  A registration that
 * was not started becomes a departure tombstone. */
void trk_fixed_owner_departed(struct tracker *t, struct reg_entry *e, const char *ring)
{
    bool stale_own = e->owner == 0;
    if ((e->flags & REG_STARTED) && ring && (strcmp(ring, t->self) == 0 || stale_own)) {
        trk_restart_here(t, e);
        if (stale_own && strcmp(ring, t->self) != 0)
            trk_handoff(t, e, ring);
    } else if ((e->flags & REG_STARTED) && ring) {
        int32_t to = t->second_look ? trk_name_index(t, ring) : -1;
        if (to > 0)
            trk_send_entry(t, (uint32_t)to, TRK_MSG_TRACK, e);
        else
            trk_fixed_arm_second_look(t);
    } else if (!(e->flags & REG_STARTED)) {
        trk_digest_out(t, e);
        e->flags |= REG_TOMBSTONE | REG_DEPARTED;
        e->version = trk_version_continue(t, e->version);
        trk_digest_in(t, e);
    }
}

/* An unregister is a write: a tombstone with a new version. */
void trk_fixed_unregister(struct tracker *t, struct reg_entry *e)
{
    if (e->owner == 0)
        trk_proc_kill(t, e->handle);
    trk_digest_out(t, e);
    e->flags |= REG_TOMBSTONE;
    e->version = trk_version_write(t);
    trk_digest_in(t, e);
    trk_broadcast_entry(t, TRK_MSG_UNTRACK, e);
}

/* A stopping node hands its started processes to the ring without it and
 * unregisters the rest. */
void trk_fixed_stop_entry(struct tracker *t, struct reg_entry *e)
{
    const char *next = ring_owner(t->ring, e->name);
    if ((e->flags & REG_STARTED) && next)
        trk_handoff(t, e, next);
    else
        trk_fixed_unregister(t, e);
}
