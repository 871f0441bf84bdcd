/*
 * core/tracker_merge.c: how a tracker takes in registry entries from peers
 * (replicated events and sync snapshots), hands processes off when the ring
 * changes, restarts the started processes of departed nodes, and shuts down
 * on a graceful stop.
 *
 * Swarm mode applies Swarm 3.4's rules: a replicated `track` for a name held
 * by another handle replaces the local copy if local <= remote (interval
 * tree clocks), is ignored if remote <= local, and leaves both if they are
 * concurrent (duplicates persist); during a sync the older of two ordered
 * copies loses and equal or concurrent copies are settled by the ring owner;
 * syncs never carry deletions.
 * Fixed mode is a last-writer-wins map with tombstones: every change bumps
 * a Lamport version, ties go to the larger handle, and a losing process is
 * told to die, so every pair of nodes that exchanges state agrees.
 */
#include "tracker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum itc_order compare_clocks(struct tracker *t, const uint8_t *a, size_t alen,
                                     const uint8_t *b, size_t blen, bool *ok)
{
    itc_arena_reset(t->arena);
    struct itc_stamp x, y;
    *ok = itc_decode(t->arena, a, alen, &x) >= 0 && itc_decode(t->arena, b, blen, &y) >= 0;
    return *ok ? itc_compare(x, y) : ITC_CONCURRENT;
}

static void tell_to_die(struct tracker *t, uint32_t owner, const char *name, uint64_t handle)
{
    t->stats.conflicts++;
    if (owner == 0) {
        trk_proc_kill(t, handle);
        return;
    }
    uint8_t buf[REG_NAME_MAX + 32];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_KILL);
    cs_put_str(&w, name);
    cs_put_u64(&w, handle);
    trk_send(t, owner, &w);
}

/* Whether the copy needs the entry's extra (core/registry.h). */
static bool needs_extra(const struct trk_wire_entry *we)
{
    return we->origin != we->handle || we->spec || we->meta_version || we->meta_count ||
           we->clock_len > REG_CLOCK_INLINE;
}

/* Takes a peer's copy into `e`; false (e unchanged) when out of memory. */
static bool copy_in(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    int32_t owner = trk_name_index(t, we->owner);
    if (owner < 0 || (needs_extra(we) && reg_reserve_extra(e) != 0)) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: the copy of %s from %s is not taken", we->name,
                we->owner);
        return false;
    }
    trk_digest_out(t, e);
    e->owner = (uint32_t)owner;
    e->handle = we->handle;
    e->version = we->version;
    reg_set_meta_version(e, we->meta_version);
    reg_set_origin(e, we->origin);
    e->flags = we->flags;
    reg_set_spec(e, we->spec);
    reg_meta_clear(e);
    for (uint8_t i = 0; i < we->meta_count; i++)
        reg_meta_set(e, we->meta[i], true);
    if (reg_set_clock(e, we->clock, we->clock_len) != 0)
        e->clock_len = 0; /* out of memory: travels empty, like a stamp too deep to encode */
    if (we->version > t->version_clock)
        t->version_clock = we->version;
    if (we->meta_version > t->version_clock)
        t->version_clock = we->meta_version;
    trk_digest_in(t, e);
    return true;
}

/* Swarm: a replicated event or a synced entry for a name we hold. */
static void swarm_apply(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we,
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
            copy_in(t, e, we);
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
        if (copy_in(t, e, we))
            tell_to_die(t, local_owner, e->name, local_handle);
    } else if (from_sync) { /* a replicated track with remote <= local is just ignored */
        int32_t loser = trk_name_index(t, we->owner);
        if (loser >= 0)
            tell_to_die(t, (uint32_t)loser, we->name, we->handle);
    }
}

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

/* Fixed: last writer wins, ties to the larger handle; losers die.  The one
 * exception: a live owner refutes a departure tombstone of its own process
 * by re-registering it with a newer version (as SWIM members refute a
 * suspicion), so a partition never deletes a registration whose process
 * lives. */
static void fixed_apply(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    bool remote_wins = fixed_newer((struct copy_key){we->version, we->origin, we->handle, we->flags},
                                   (struct copy_key){e->version, reg_origin(e), e->handle, e->flags});
    if (we->version > t->version_clock)
        t->version_clock = we->version;
    if (remote_wins && departure_of_live_process(t, e, we)) {
        trk_digest_out(t, e);
        e->version = trk_version_continue(t, we->version);
        trk_digest_in(t, e);
        trk_broadcast_entry(t, TRK_MSG_TRACK, e);
        trk_watch_placement(t, e->name);
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
            if (loser >= 0)
                tell_to_die(t, (uint32_t)loser, we->name, we->handle);
            trk_watch_placement(t, e->name); /* ours stays, wherever the ring puts it */
        }
        return;
    }
    if (e->handle != we->handle && !(e->flags & REG_TOMBSTONE))
        tell_to_die(t, e->owner, e->name, e->handle);
    else if (e->owner == 0 && (we->flags & REG_TOMBSTONE))
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
    copy_in(t, e, we);
    if (keep_meta)
        take_meta(t, e, &mine);
}

/* Takes one entry from a peer. */
static void apply_entry(struct tracker *t, const struct trk_wire_entry *we, bool from_sync)
{
    bool created;
    if (t->cfg.mode == TRK_SWARM && (we->flags & REG_TOMBSTONE))
        return;
    struct reg_entry *e = we->tagged ? registry_put_tagged(&t->reg, we->name, we->tag, &created)
                                     : registry_put(&t->reg, we->name, &created);
    if (!e)
        return;
    t->stats.tracked_remote++;
    if (created) {
        if (!copy_in(t, e, we))
            registry_remove(&t->reg, we->name); /* no half-made entry */
        return;
    }
    if (t->cfg.mode == TRK_SWARM)
        swarm_apply(t, e, we, from_sync);
    else
        fixed_apply(t, e, we);
}

/* Room for `count` decoded snapshot entries; false when out of memory. */
static bool snap_room(struct tracker *t, uint32_t count)
{
    if (count <= t->snap_cap)
        return true;
    uint32_t cap = t->snap_cap * 2 > count ? t->snap_cap * 2 : count;
    struct trk_wire_entry *in = realloc(t->snap_in, cap * sizeof *in);
    if (in)
        t->snap_in = in;
    uint64_t *hash = in ? realloc(t->snap_hash, cap * sizeof *hash) : NULL;
    if (!hash)
        return false;
    t->snap_hash = hash;
    t->snap_cap = cap;
    return true;
}

/* Fixed mode: true when our copy of `name` is byte for byte the one a
 * snapshot brings (equal kept content hash).  Taking it would change
 * nothing (equal versions lose; our version clock is past its versions
 * already), and its clock was checked when we took or made it. */
static bool holds_copy(const struct tracker *t, const char *name, uint64_t content_hash)
{
    const struct reg_entry *e = registry_get(&t->reg, name);
    uint64_t kept = e ? trk_kept_content_hash(t, e) : 0;
    return kept != 0 && kept == content_hash;
}

bool trk_merge_snapshot(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    /* Decode and check it all first, so that a bad snapshot changes
     * nothing.  A count the remaining bytes cannot hold is malformed before
     * anything is allocated for it. */
    uint32_t count = cs_get_u32(r), decoded = 0;
    bool fits = !r->bad && count <= (r->len - r->pos) / TRK_WIRE_ENTRY_MIN;
    if (fits && !snap_room(t, count)) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: a snapshot from %s is not taken (anti-entropy "
                "brings it later)", trk_name(t, from));
        return false;
    }
    bool clocks_ok = true;
    t->snap_count = 0;
    trk_content_fresh(t); /* (holds_copy reads the kept hashes) */
    for (size_t at = r->pos; fits && decoded < count && trk_get_entry(r, &t->snap_in[decoded]); decoded++) {
        struct trk_wire_entry *we = &t->snap_in[decoded];
        t->snap_hash[decoded] = trk_entry_content_hash(r->buf + at, r->pos - at);
        we->same = holds_copy(t, we->name, t->snap_hash[decoded]);
        clocks_ok = clocks_ok && (we->same || trk_clock_valid(t, we->clock, we->clock_len));
        at = r->pos;
    }
    if (decoded < count || !cs_reader_done(r) || !clocks_ok) {
        if (decoded == count && cs_reader_done(r))
            t->stats.bad_clock++;
        else
            t->stats.malformed++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] malformed snapshot from %s", trk_name(t, from));
        return false;
    }
    for (uint32_t i = 0; i < count; i++)
        if (!t->snap_in[i].same)
            apply_entry(t, &t->snap_in[i], true);
    t->snap_count = count;
    return true;
}

/* TRK_MSG_TRACK / TRK_MSG_UNTRACK / TRK_MSG_UPDATE_META / TRK_MSG_HANDOFF from a peer. */
void trk_apply_event(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r)
{
    struct trk_wire_entry entry;
    struct trk_wire_entry *we = &entry;
    int64_t state = 0;
    bool ok = trk_get_entry(r, we);
    if (type == TRK_MSG_HANDOFF)
        state = (int64_t)cs_get_u64(r);
    if (!ok || !cs_reader_done(r)) {
        t->stats.malformed++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] malformed %u from %s", type, trk_name(t, from));
        return;
    }
    if (!trk_clock_valid(t, we->clock, we->clock_len)) {
        t->stats.bad_clock++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] bad clock in %u from %s", type, trk_name(t, from));
        return;
    }
    trk_apply_wire(t, from, type, we, state);
}

void trk_apply_wire(struct tracker *t, uint32_t from, uint8_t type, struct trk_wire_entry *we, int64_t state)
{
    if (type == TRK_MSG_HANDOFF) {
        struct reg_entry *e = registry_get(&t->reg, we->name);
        if (e && !(e->flags & REG_TOMBSTONE) && e->owner == 0 && e->handle != we->handle &&
            (uint32_t)(e->handle >> 32) == t->creation) {
            /* We already run this name (a copy from the other side of a
             * healed partition, or our own process handed away and not yet
             * replaced): the copy on the ring owner wins.  Fixed mode makes
             * it win everywhere with a newer version when we are the ring
             * owner, so the sender's copy loses and its process is told to
             * die (a node that is not the owner bumps nothing: two of them
             * would outbid each other). */
            t->stats.conflicts++;
            const char *ring = ring_owner(t->ring, we->name);
            if (t->cfg.mode == TRK_FIXED && ring && !strcmp(ring, t->self)) {
                trk_digest_out(t, e);
                e->version = trk_version_continue(t, e->version > we->version ? e->version : we->version);
                trk_digest_in(t, e);
                trk_broadcast_entry(t, TRK_MSG_TRACK, e);
            }
            trk_watch_placement(t, e->name);
            return;
        }
        if (t->cfg.mode == TRK_FIXED && e && (e->flags & REG_TOMBSTONE) && !(e->flags & REG_DEPARTED) &&
            fixed_newer((struct copy_key){e->version, reg_origin(e), e->handle, e->flags},
                        (struct copy_key){we->version, we->origin, we->handle, we->flags})) {
            /* The name was unregistered after the registration handed off
             * here (the handoff crossed the unregister): the deletion
             * stands, and the sender's process, kept until replaced, is
             * told to die. */
            cs_logf(t->env, CS_LOG_INFO, "[swarm] handoff of %s from %s refused: unregistered since",
                    we->name, trk_name(t, from));
            tell_to_die(t, from, we->name, we->handle);
            return;
        }
        /* The process resumes here with the state it handed over. */
        uint64_t handle = trk_proc_restart(t, we->name, state);
        if (e) {
            trk_digest_out(t, e);
            e->flags |= REG_TOMBSTONE; /* let the local registration take the name */
            trk_digest_in(t, e);
        }
        if (handle) {
            trk_register_local(t, we->name, handle, trk_version_continue(t, we->version), we->origin, REG_STARTED,
                               we->spec);
            trk_watch_placement(t, we->name); /* the sender's ring may not be ours */
        }
        t->stats.handoffs++;
    } else if (type == TRK_MSG_UNTRACK && t->cfg.mode == TRK_SWARM) {
        struct reg_entry *e = registry_get(&t->reg, we->name);
        if (e && e->handle == we->handle) {
            trk_digest_out(t, e);
            registry_remove(&t->reg, we->name);
        }
    } else {
        if (type == TRK_MSG_UNTRACK)
            we->flags |= REG_TOMBSTONE;
        apply_entry(t, we, false);
    }
}

/* ---- topology changes ---- */

static void handoff(struct tracker *t, struct reg_entry *e, const char *to)
{
    int32_t peer = trk_name_index(t, to);
    bool found;
    int64_t state = trk_proc_value(t, e->handle, &found);
    if (peer < 0 || !found)
        return;
    uint8_t buf[4096];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_HANDOFF);
    trk_put_entry(t, &w, e);
    cs_put_u64(&w, (uint64_t)state);
    trk_send(t, (uint32_t)peer, &w);
    cs_logf(t->env, CS_LOG_INFO, "[swarm] [tracker:handle_topology_change] handing off %s to %s", e->name, to);
    /* Swarm's process exits as it hands off.  Fixed mode keeps it until the
     * new owner's registration (a newer version) replaces ours and tells it
     * to die: a handoff lost on a breaking link is retried at the next
     * topology change instead of leaving a name on a dead process. */
    if (t->cfg.mode == TRK_SWARM)
        trk_proc_kill(t, e->handle);
    t->stats.handoffs++;
}

static void restart_here(struct tracker *t, struct reg_entry *e)
{
    if (reg_reserve_extra(e) != 0) /* the origin is kept apart from the new handle */
        return;                     /* out of memory: the next topology change retries */
    uint64_t handle = trk_proc_restart(t, e->name, reg_spec(e));
    if (!handle)
        return;
    trk_digest_out(t, e);
    e->owner = 0;
    reg_set_handle(e, handle); /* the origin stays: a restart continues the write */
    e->flags = REG_STARTED;
    trk_stamp_entry(t, e, trk_version_continue(t, e->version));
    trk_digest_in(t, e);
    trk_broadcast_entry(t, TRK_MSG_TRACK, e);
    cs_logf(t->env, CS_LOG_INFO, "[swarm] [tracker:handle_topology_change] restarted %s here", e->name);
    t->stats.restarts++;
}

/* A topology pass after sync_timeout (fixed mode's TRK_TIMER_ORPHANS timer). */
static void arm_second_look(struct tracker *t)
{
    if (!t->orphan_check_armed) {
        t->orphan_check_armed = true;
        t->env->timer_start(t->env, t->cfg.sync_timeout, TRK_TAG(TRK_TIMER_ORPHANS, 0));
    }
}

void trk_watch_placement(struct tracker *t, const char *name)
{
    if (t->cfg.mode != TRK_FIXED)
        return;
    const struct reg_entry *e = registry_get(&t->reg, name);
    if (!e || e->owner != 0 || (e->flags & REG_TOMBSTONE) || !(e->flags & REG_STARTED))
        return;
    const char *ring = ring_owner(t->ring, name);
    if (ring && strcmp(ring, t->self) != 0)
        arm_second_look(t);
}

/* Whether an entry's owner is gone.  Swarm: whoever is not in `nodes`.
 * Fixed: a node that was in `nodes` and left; one never met (a new node
 * with a partial view) only after sync_timeout without meeting it, so a
 * newcomer does not restart the processes of owners it has not reached yet
 * (a timer looks again then). */
static bool owner_gone(struct tracker *t, uint32_t owner)
{
    if (trk_is_node(t, owner))
        return false;
    if (t->cfg.mode == TRK_SWARM || t->met[owner])
        return true;
    t->reconsider_timed++; /* the answer depends on the time */
    cs_time now = t->env->now(t->env);
    if (t->unknown_since[owner] < 0)
        t->unknown_since[owner] = now;
    if (now - t->unknown_since[owner] >= t->cfg.sync_timeout)
        return true;
    arm_second_look(t);
    return false;
}

/* One entry after the ring or the node list changed. */
static void reconsider(struct tracker *t, struct reg_entry *e)
{
    if (e->flags & REG_TOMBSTONE)
        return;
    const char *ring = ring_owner(t->ring, e->name);
    bool mine = e->owner == 0 && (uint32_t)(e->handle >> 32) == t->creation;
    if (mine) {
        if ((e->flags & REG_STARTED) && ring && strcmp(ring, t->self) != 0) {
            t->reconsider_acts++;
            handoff(t, e, ring);
        }
        return;
    }
    /* owner 0 and not mine: a process of an earlier incarnation of ours,
     * dead for sure. */
    bool departed = e->owner == 0 || owner_gone(t, e->owner);
    if (!departed)
        return;
    t->reconsider_acts++;
    bool stale_own = e->owner == 0 && t->cfg.mode == TRK_FIXED;
    if ((e->flags & REG_STARTED) && ring && (strcmp(ring, t->self) == 0 || stale_own)) {
        /* Fixed mode restarts a stale process of its own at once (only this
         * node knows it died when it came back under the same name), then
         * hands it to the ring owner. */
        restart_here(t, e);
        if (stale_own && strcmp(ring, t->self) != 0)
            handoff(t, e, ring);
    } else if (e->flags & REG_STARTED) {
        /* Its new owner restarts it and broadcasts the new registration;
         * Swarm forgets the dead copy meanwhile, fixed mode lets the newer
         * version replace it. */
        if (t->cfg.mode == TRK_SWARM) {
            trk_digest_out(t, e);
            registry_remove(&t->reg, e->name);
        }
    } else {
        trk_digest_out(t, e);
        if (t->cfg.mode == TRK_FIXED) {
            e->flags |= REG_TOMBSTONE | REG_DEPARTED;
            e->version = trk_version_continue(t, e->version);
            trk_digest_in(t, e);
        } else {
            registry_remove(&t->reg, e->name);
        }
    }
}

struct names_ctx {
    const struct tracker *t;
    struct trk_name_slot *names;
    size_t count;
};

static void collect_name(void *ctx, struct reg_entry *e)
{
    struct names_ctx *n = ctx;
    n->names[n->count++] = (struct trk_name_slot){e->name, (uint32_t)(e - n->t->reg.slots)};
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct trk_name_slot *)a)->name, ((const struct trk_name_slot *)b)->name);
}

/* Lists the registry's names (and slots) in name order into `names` (room
 * for every entry); returns how many. */
static size_t list_by_name(const struct tracker *t, struct trk_name_slot *names)
{
    struct names_ctx n = {t, names, 0};
    registry_each(&t->reg, collect_name, &n);
    if (n.count > 1) /* (names may be NULL when the registry is empty) */
        qsort(n.names, n.count, sizeof *n.names, by_name);
    return n.count;
}

/* The registry's names in name order: the kept list while the registry's
 * names are those it was made of, else a new one. */
static bool names_by_name(struct tracker *t)
{
    if (t->by_name_version == t->reg.version)
        return true;
    size_t count = registry_count(&t->reg);
    if (count > t->by_name_cap) {
        struct trk_name_slot *names = realloc(t->by_name, count * sizeof *names);
        if (!names)
            return false;
        t->by_name = names;
        t->by_name_cap = count;
    }
    t->by_name_count = list_by_name(t, t->by_name);
    t->by_name_version = t->reg.version;
    return true;
}

/* Calls fn on every entry in name order (a canonical order, whatever the
 * slots).  fn may add, remove or re-own entries: the names are the
 * registry's arena copies, which outlive a removal (only registry_free
 * releases them), so once the registry's names changed each is looked up
 * again before fn sees it (until then its listed slot still holds it), and
 * the list walked is the one made before the first call.  A walk started
 * from within fn lists the names afresh, leaving the outer walk's list
 * alone. */
static void each_entry_by_name(struct tracker *t, void (*fn)(struct tracker *t, struct reg_entry *e))
{
    struct trk_name_slot *names;
    size_t count;
    bool kept = !t->by_name_busy && names_by_name(t);
    if (kept) {
        names = t->by_name;
        count = t->by_name_count;
        t->by_name_busy = true;
    } else {
        names = malloc((registry_count(&t->reg) ? registry_count(&t->reg) : 1) * sizeof *names);
        if (!names)
            return;
        count = list_by_name(t, names);
    }
    uint64_t listed = t->reg.version; /* (a new list was made at this version too) */
    for (size_t i = 0; i < count; i++) {
        struct reg_entry *e = t->reg.version == listed ? &t->reg.slots[names[i].slot]
                                                       : registry_get(&t->reg, names[i].name);
        if (e)
            fn(t, e);
    }
    if (kept)
        t->by_name_busy = false;
    else
        free(names);
}

/* A pass reconsiders every entry after the ring or the node list changed,
 * or entries came in.  What reconsider does with an entry depends on the
 * entry, the ring and node list, and (owner_gone) the time: with the same
 * registry epoch and node list as after a pass that acted on no entry and
 * read no clock, a new pass would act on none either, and is skipped (most
 * passes follow a sync that brought nothing new). */
void trk_topology_change(struct tracker *t)
{
    if (t->quiet_valid && t->quiet_epoch == trk_registry_epoch(t) && t->quiet_nodes == t->node_changes)
        return;
    uint64_t acts = t->reconsider_acts, timed = t->reconsider_timed;
    each_entry_by_name(t, reconsider);
    t->quiet_valid = acts == t->reconsider_acts && timed == t->reconsider_timed;
    t->quiet_epoch = trk_registry_epoch(t);
    t->quiet_nodes = t->node_changes;
}

/* ---- graceful stop ---- */

static void stop_entry(struct tracker *t, struct reg_entry *e)
{
    if (e->owner != 0 || (e->flags & REG_TOMBSTONE))
        return;
    if (t->cfg.mode == TRK_SWARM) {
        /* The process shuts down before the links close: peers see an
         * ordinary DOWN and untrack the name.  It is not restarted. */
        trk_proc_kill(t, e->handle);
        trk_broadcast_entry(t, TRK_MSG_UNTRACK, e);
        return;
    }
    const char *next = ring_owner(t->ring, e->name);
    if ((e->flags & REG_STARTED) && next)
        handoff(t, e, next);
    else
        trk_unregister_local(t, e);
}

void trk_stop(struct tracker *t)
{
    if (!t->running || t->stopping)
        return;
    t->stopping = true;
    ring_remove(t->ring, t->self); /* fixed mode hands off to the ring without us */
    t->node_changes++;
    each_entry_by_name(t, stop_entry);
    trk_batch_flush(t); /* the untracks and handoffs leave before the node does */
}
