/*
 * core/tracker/merge.c: the shared frame of replication and placement.  It
 * decodes and checks what peers send (replicated events, sync snapshots,
 * handoffs) before anything changes, hands processes off when the ring
 * changes, restarts the started processes of departed nodes, walks the
 * registry in name order for topology passes, and runs a graceful stop.
 *
 * Which copy of a name wins, what an untrack or a departure does, and what
 * a stop leaves behind are the mode's rules (mode.h): Swarm's interval tree
 * clocks in swarm.c, the fixed mode's versions and tombstones in
 * fixed_merge.c.
 */
#include "internal.h"
#include "mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void trk_tell_to_die(struct tracker *t, uint32_t owner, const char *name, uint64_t handle)
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

/* Allocates the entry's extra (core/registry.h) when taking the copy
 * needs one, so that no setter fails after (an origin other than 0 lives
 * in the entry).  -1 out of memory. */
static int reserve_extra_for(struct reg_entry *e, const struct trk_wire_entry *we)
{
    if (we->spec || we->meta_version || we->meta_count || we->clock_len > REG_CLOCK_INLINE ||
        (we->origin == 0 && we->handle != 0))
        return reg_reserve_extra(e);
    return 0;
}

bool trk_copy_in(struct tracker *t, struct reg_entry *e, const struct trk_wire_entry *we)
{
    int32_t owner = trk_name_index(t, we->owner);
    if (owner < 0 || reserve_extra_for(e, we) != 0) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: the copy of %s from %s is not taken", we->name,
                we->owner);
        return false;
    }
    t->taking_copy = true; /* (not a write of ours: digest.c) */
    /* The copy encodes as the bytes it came in, so their hash is its content
     * hash, unless its meta keys may come out otherwise (hostile input may
     * repeat one; the registry keeps it once). */
    t->copy_hash = we->meta_count == 0 ? we->wire_hash : 0;
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
    if (reg_set_clock(e, we->clock, we->clock_len) != 0) {
        e->clock_len = 0; /* out of memory: travels empty, like a stamp too deep to encode */
        t->copy_hash = 0;
    }
    if (we->version > t->version_clock)
        t->version_clock = we->version;
    if (we->meta_version > t->version_clock)
        t->version_clock = we->meta_version;
    trk_digest_in(t, e);
    t->taking_copy = false;
    t->copy_hash = 0;
    if (t->mode->copy_taken)
        t->mode->copy_taken(t, e);
    return true;
}

void trk_apply_entry(struct tracker *t, const struct trk_wire_entry *we, bool from_sync)
{
    bool created;
    if (!t->mode->keeps_tombstones && (we->flags & REG_TOMBSTONE))
        return;
    struct reg_entry *e = we->tagged ? registry_put_tagged(&t->reg, we->name, we->tag, &created)
                                     : registry_put(&t->reg, we->name, &created);
    if (!e)
        return;
    t->stats.tracked_remote++;
    if (created) {
        if (!trk_copy_in(t, e, we))
            registry_remove(&t->reg, we->name); /* no half-made entry */
        return;
    }
    t->mode->merge_copy(t, e, we, from_sync);
}

/* Room for `count` entries' content hashes and "held already" marks;
 * false when out of memory. */
static bool snap_room(struct tracker *t, uint32_t count)
{
    if (count <= t->snap_cap)
        return true;
    uint32_t cap = t->snap_cap * 2 > count ? t->snap_cap * 2 : count;
    uint8_t *same = realloc(t->snap_same, cap);
    if (same)
        t->snap_same = same;
    uint64_t *hash = same ? realloc(t->snap_hash, cap * sizeof *hash) : NULL;
    if (!hash)
        return false;
    t->snap_hash = hash;
    t->snap_cap = cap;
    return true;
}

void trk_snapshot_release(struct tracker *t)
{
    if (t->snap_cap <= TRK_SNAP_KEEP)
        return;
    free(t->snap_same);
    free(t->snap_hash);
    t->snap_same = NULL;
    t->snap_hash = NULL;
    t->snap_cap = t->snap_count = 0;
}

/* True when our copy of `name` is byte for byte the one a snapshot brings
 * (equal kept content hash: modes that keep a content digest).  Taking it would change
 * nothing (equal versions lose; our version clock is past its versions
 * already), and its clock was checked when we took or made it. */
static bool holds_copy(const struct tracker *t, const char *name, uint64_t content_hash)
{
    const struct reg_entry *e = registry_get(&t->reg, name);
    uint64_t kept = e ? trk_kept_content_hash(t, e) : 0;
    return kept != 0 && kept == content_hash;
}

/* The first pass over a snapshot's `count` entries: decodes each (into one
 * scratch entry), notes its content hash and whether we hold that very
 * copy, and checks the clocks of the others.  Returns the entries decoded;
 * *clocks_ok false when one's clock is bad. */
static uint32_t snap_check(struct tracker *t, struct cs_reader *r, uint32_t count, bool *clocks_ok)
{
    struct trk_wire_entry *we = t->snap_in;
    uint32_t decoded = 0;
    *clocks_ok = true;
    trk_content_fresh(t); /* (holds_copy reads the kept hashes) */
    for (; decoded < count && trk_get_entry(r, we); decoded++) {
        t->snap_hash[decoded] = we->wire_hash;
        t->snap_same[decoded] = holds_copy(t, we->name, t->snap_hash[decoded]);
        *clocks_ok = *clocks_ok && (t->snap_same[decoded] || trk_clock_valid(t, we->clock, we->clock_len));
    }
    return decoded;
}

bool trk_merge_snapshot(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    /* Check it all first, so that a bad snapshot changes nothing, then
     * decode it again to take what differs: no decoded copy of the whole
     * snapshot is kept (a decoded entry is about 1 KB, its bytes about 60).
     * A count the remaining bytes cannot hold is malformed before anything
     * is allocated for it. */
    uint32_t count = cs_get_u32(r), decoded = 0;
    bool fits = !r->bad && count <= (r->len - r->pos) / TRK_WIRE_ENTRY_MIN;
    if (fits && (!snap_room(t, count) ||
                 (!t->snap_in && !(t->snap_in = malloc(sizeof *t->snap_in))))) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: a snapshot from %s is not taken (anti-entropy "
                "brings it later)", trk_name(t, from));
        return false;
    }
    bool clocks_ok = true;
    size_t entries_at = r->pos;
    t->snap_count = 0;
    if (fits)
        decoded = snap_check(t, r, count, &clocks_ok);
    if (decoded < count || !cs_reader_done(r) || !clocks_ok) {
        if (decoded == count && cs_reader_done(r))
            t->stats.bad_clock++;
        else
            t->stats.malformed++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] malformed snapshot from %s", trk_name(t, from));
        return false;
    }
    struct cs_reader again = *r;
    again.pos = entries_at;
    for (uint32_t i = 0; i < count; i++) {
        trk_get_entry(&again, t->snap_in); /* (decoded once already: cannot fail) */
        if (!t->snap_same[i])
            trk_apply_entry(t, t->snap_in, true);
    }
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

/* A handoff: the process resumes here with the state it handed over,
 * unless we run the name already or the mode refuses it. */
static void take_handoff(struct tracker *t, uint32_t from, struct trk_wire_entry *we, int64_t state)
{
    struct reg_entry *e = registry_get(&t->reg, we->name);
    if (e && !(e->flags & REG_TOMBSTONE) && e->owner == 0 && e->handle != we->handle &&
        (uint32_t)(e->handle >> 32) == t->creation) {
        /* We already run this name (a copy from the other side of a healed
         * partition, or our own process handed away and not yet replaced):
         * ours stays; the mode may make it win everywhere. */
        t->stats.conflicts++;
        t->mode->handoff_collides(t, e, we);
        t->mode->watch_placement(t, e->name);
        return;
    }
    if (t->mode->handoff_refused(t, from, e, we))
        return;
    uint64_t handle = trk_proc_restart(t, state);
    if (e) {
        trk_digest_out(t, e);
        e->flags |= REG_TOMBSTONE; /* let the local registration take the name */
        trk_digest_in(t, e);
    }
    if (handle) {
        trk_register_local(t, we->name, handle, trk_version_continue(t, we->version), we->origin, REG_STARTED,
                           we->spec);
        t->mode->watch_placement(t, we->name); /* the sender's ring may not be ours */
        t->stats.handoffs_taken++;
    }
}

void trk_apply_wire(struct tracker *t, uint32_t from, uint8_t type, struct trk_wire_entry *we, int64_t state)
{
    if (type == TRK_MSG_HANDOFF)
        take_handoff(t, from, we, state);
    else if (type == TRK_MSG_UNTRACK)
        t->mode->untrack(t, we);
    else
        trk_apply_entry(t, we, false);
}

/* ---- topology changes ---- */

void trk_handoff(struct tracker *t, struct reg_entry *e, const char *to)
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
    if (!t->mode->batches || w.overflow || !trk_bundle_add(t, (uint32_t)peer, w.buf, w.len))
        trk_send(t, (uint32_t)peer, &w); /* (fixed mode: with this turn's others for it) */
    cs_logf(t->env, CS_LOG_INFO, "[swarm] [tracker:handle_topology_change] handing off %s to %s", e->name, to);
    t->mode->handed_off(t, e);
    t->stats.handoffs_sent++;
}

void trk_restart_here(struct tracker *t, struct reg_entry *e)
{
    if (reg_reserve_origin(e) != 0) /* the origin is kept apart from the new handle */
        return;                     /* out of memory: the next topology change retries */
    uint64_t handle = trk_proc_restart(t, reg_spec(e));
    if (!handle)
        return;
    trk_proc_named(t, handle, e->name);
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

/* Where our started process `e` belongs when the ring gives it to another
 * node, or NULL: not started, in place, or handed off and not yet replaced
 * (it is not handed off again: fixed mode's mark, digest.c). */
static const char *moves_to(struct tracker *t, const struct reg_entry *e)
{
    if (!(e->flags & REG_STARTED) || trk_handoff_pending(t, e))
        return NULL;
    const char *ring = ring_owner(t->ring, e->name);
    return ring && strcmp(ring, t->self) != 0 ? ring : NULL;
}

/* One entry after the ring or the node list changed. */
static void reconsider(struct tracker *t, struct reg_entry *e)
{
    if (e->flags & REG_TOMBSTONE)
        return;
    /* the ring is asked only where its answer matters: our started
     * processes, and entries whose owner is gone (a lookup per entry and
     * pass was most of a large storm's time) */
    bool mine = e->owner == 0 && (uint32_t)(e->handle >> 32) == t->creation;
    if (mine) {
        /* Once handoffs wait in this pass they wait for every entry of it
         * (the answer depends on the instant and the node list alone): the
         * ring need not be asked where ours are. */
        if (t->pass_handoffs_wait)
            return;
        const char *ring = moves_to(t, e);
        if (ring) {
            if (t->mode->handoff_waits && t->mode->handoff_waits(t)) {
                t->reconsider_timed++; /* not a quiet state: the timer looks again */
                t->pass_handoffs_wait = true;
                return;
            }
            t->reconsider_acts++;
            trk_handoff(t, e, ring);
        }
        return;
    }
    /* owner 0 and not mine: a process of an earlier incarnation of ours,
     * dead for sure. */
    if (e->owner != 0 && !t->mode->owner_gone(t, e->owner))
        return;
    t->reconsider_acts++;
    t->mode->owner_departed(t, e, ring_owner(t->ring, e->name));
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

/* Calls fn on the listed entries in their order.  fn may add, remove or
 * re-own entries: the names are the registry's arena copies, which
 * outlive a removal (only registry_free releases them), so once the
 * registry's names changed each is looked up again before fn sees it
 * (until then its listed slot still holds it). */
static void each_listed(struct tracker *t, const struct trk_name_slot *names, size_t count,
                        void (*fn)(struct tracker *t, struct reg_entry *e))
{
    uint64_t listed = t->reg.version;
    for (size_t i = 0; i < count; i++) {
        struct reg_entry *e = t->reg.version == listed ? &t->reg.slots[names[i].slot]
                                                       : registry_get(&t->reg, names[i].name);
        if (e)
            fn(t, e);
    }
}

/* Calls fn on every entry in name order (a canonical order, whatever the
 * slots), as each_listed does, walking the list made before the first
 * call.  A walk started from within fn lists the names afresh, leaving the
 * outer walk's list alone. */
static void each_entry_by_name(struct tracker *t, void (*fn)(struct tracker *t, struct reg_entry *e))
{
    if (!t->by_name_busy && names_by_name(t)) {
        t->by_name_busy = true;
        each_listed(t, t->by_name, t->by_name_count, fn);
        t->by_name_busy = false;
        return;
    }
    struct trk_name_slot *names = malloc((registry_count(&t->reg) ? registry_count(&t->reg) : 1) * sizeof *names);
    if (!names)
        return;
    each_listed(t, names, list_by_name(t, names), fn);
    free(names);
}

/* True when a pass needs to look at our own entries alone: every other
 * owner of a live entry is in `nodes`, and reconsider leaves the entries
 * of such owners alone.  (A pass over a large registry of which a node
 * owns a share is then a walk over that share, not over every name.) */
static bool own_entries_suffice(const struct tracker *t)
{
    return !t->own_slots_lost && t->owners_not_nodes == 0;
}

bool trk_check(const struct tracker *t, char *why, size_t size)
{
    uint32_t counted = 0;
    for (size_t owner = 1; owner < t->name_count; owner++)
        counted += t->owner_live[owner] && !t->is_node[owner];
    if (counted != t->owners_not_nodes) {
        snprintf(why, size, "tracker %s: %u owners of live entries are not nodes, its count says %u", t->self,
                 counted, t->owners_not_nodes);
        return false;
    }
    for (size_t slot = 0; slot < t->reg.slot_count; slot++) {
        const struct reg_entry *e = &t->reg.slots[slot];
        if (e->name && e->handle == 0 && !(e->flags & REG_TOMBSTONE)) { /* (absent_owners_stay) */
            snprintf(why, size, "tracker %s: entry %s is neither a tombstone nor has a handle", t->self, e->name);
            return false;
        }
    }
    return true;
}

/* Calls fn on every live entry we own, in name order, as each_listed does. */
static void each_own_entry_by_name(struct tracker *t, void (*fn)(struct tracker *t, struct reg_entry *e))
{
    size_t count = t->owner_live[0];
    struct trk_name_slot *names = malloc((count ? count : 1) * sizeof *names);
    if (!names) {
        each_entry_by_name(t, fn);
        return;
    }
    size_t n = 0;
    for (size_t w = 0; w < t->own_slot_words && n < count; w++)
        for (uint64_t bits = t->own_slots[w]; bits && n < count; bits &= bits - 1) {
            size_t slot = w * 64 + (size_t)__builtin_ctzll(bits);
            names[n++] = (struct trk_name_slot){t->reg.slots[slot].name, (uint32_t)slot};
        }
    if (n > 1)
        qsort(names, n, sizeof *names, by_name);
    each_listed(t, names, n, fn);
    free(names);
}

/* True when no owner of a live entry that is not in `nodes` is gone: a
 * pass over every entry then acts on our own entries alone (reconsider
 * leaves the entries of owners not gone alone), as a pass over our own
 * entries does.  owner_gone is asked once an owner where
 * that pass asks it once an entry: the same answers and the same marks
 * (when an owner was first seen unknown, the second look armed, the pass
 * timed).  Every entry that is not a tombstone is live (has a handle:
 * trk_get_entry refuses one without, trk_check verifies it), so owner_live
 * counts every entry such a pass would look at.  Most passes during a
 * storm are of this kind: entries of owners not met yet, not gone until
 * sync_timeout. */
static bool absent_owners_stay(struct tracker *t)
{
    if (t->own_slots_lost)
        return false;
    uint32_t seen = 0;
    for (uint32_t owner = 1; owner < t->name_count && seen < t->owners_not_nodes; owner++) {
        if (!t->owner_live[owner] || t->is_node[owner])
            continue;
        seen++;
        if (t->mode->owner_gone(t, owner))
            return false;
    }
    return true;
}

/* What a pass over our own entries alone would meet first, looked up in
 * slot order: 1 a started process of ours the ring gives to another node
 * (none handed off yet), 0 nothing it would act on, -1 an entry of an
 * earlier incarnation of ours (which the pass would act on in name order). */
static int own_pass_outlook(struct tracker *t)
{
    int outlook = 0;
    for (size_t w = 0; w < t->own_slot_words; w++)
        for (uint64_t bits = t->own_slots[w]; bits; bits &= bits - 1) {
            const struct reg_entry *e = &t->reg.slots[w * 64 + (size_t)__builtin_ctzll(bits)];
            if (e->flags & REG_TOMBSTONE)
                continue;
            if ((uint32_t)(e->handle >> 32) != t->creation)
                return -1;
            if (!outlook)
                outlook = moves_to(t, e) != NULL;
        }
    return outlook;
}

/* A pass over our own entries, in name order, unless its outcome is known
 * without it: with no entry of an earlier incarnation, a pass acts only on
 * started processes of ours the ring gives to another node, and while
 * handoffs wait it only notes, at the first of them, that they wait; the
 * order decides nothing then, so the entries are neither listed nor
 * sorted.  (trk_fixed_handoff_waits called once more, when it says they
 * do not wait, leaves the state as it was.) */
static void own_pass(struct tracker *t)
{
    int outlook = own_pass_outlook(t);
    if (outlook == 0)
        return;
    if (outlook > 0 && t->mode->handoff_waits && t->mode->handoff_waits(t)) {
        t->reconsider_timed++; /* as reconsider does at the first of them */
        t->pass_handoffs_wait = true;
        return;
    }
    each_own_entry_by_name(t, reconsider);
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
    t->pass_handoffs_wait = false;
    if (own_entries_suffice(t) || absent_owners_stay(t))
        own_pass(t);
    else
        each_entry_by_name(t, reconsider);
    t->quiet_valid = acts == t->reconsider_acts && timed == t->reconsider_timed;
    t->quiet_epoch = trk_registry_epoch(t);
    t->quiet_nodes = t->node_changes;
}

/* ---- graceful stop ---- */

static void stop_entry(struct tracker *t, struct reg_entry *e)
{
    if (e->owner == 0 && !(e->flags & REG_TOMBSTONE))
        t->mode->stop_entry(t, e);
}

void trk_stop(struct tracker *t)
{
    if (!t->running || t->stopping)
        return;
    t->stopping = true;
    ring_remove(t->ring, t->self); /* handoffs go to the ring without us */
    t->node_changes++;
    each_entry_by_name(t, stop_entry);
    trk_batch_flush(t); /* the untracks and handoffs leave before the node does */
}
