/*
 * core/tracker/pull.c: fixed mode's pulls, how a tracker takes in what its
 * peers hold that it lacks.
 *
 * A pull sends our content digest of each bucket of names (`pull`); the
 * peer answers with a sync_ack carrying its entries of the buckets whose
 * digests differ from its own (none when all agree), and, when some did
 * and the pull asks for it, queues a pull of its own from us, so that what
 * we hold and it lacks reaches it the same way.  A tracker has at most one pull under way and
 * queues the others: a pod that meets 999 others at once takes the registry
 * from the first and finds its digests equal to the rest.  Pushing our
 * snapshot to every peer that joined (what this replaced) sent every
 * newcomer the whole registry once per peer it met, most of them in flight
 * together: N^2 copies of every name in a join storm.
 *
 * A pull unanswered after pull_timeout is given up and queued again while
 * the peer is still a node (its answer, should it come later, is merged
 * all the same: merging any copy is safe in fixed mode).
 *
 * What a pull asks for (enum trk_pull_ask, a byte after the type): every
 * differing entry (full) or only the copies the answerer wrote (scoped:
 * digest.c keeps a bit per slot, set by every change but the taking of a
 * peer's copy), and whether the answerer pulls ours back, full or scoped,
 * when the buckets differed.  A tracker's first pull is full, so that a
 * newcomer takes the registry from the first peer it meets.  Meeting a
 * peer for the first time, a tracker asks for its writes and a scoped pull
 * back: every write reaches every node from its writer, as a replicated
 * event while the two are connected and through this pull when they
 * meet.  A full answer from every peer sent, in a join storm, every entry
 * still in flight to each node once per peer it met (a bucket differs
 * while one of its entries is on its way): N^3 entries in all, 10 M at
 * 500 pods with 5,000 names.  A peer met again (a partition healed) and
 * anti-entropy pull in full both ways: what either side took from third
 * parties meanwhile, writes of nodes that have died since among them, is
 * settled there.  A pull back never asks for another, so two trackers
 * whose registries differ in what neither wrote cannot pull each other
 * for ever.  A writer that dies takes its service of its writes with it:
 * a tracker that sees a node leave counts every copy it holds as its own
 * write from then on (digest.c's trk_adopt_copies), so that the nodes it
 * meets first later get them (a write spread by a node that stopped right
 * after, to the peers on one side of a partition only).  (What else
 * scoped answers leave out, fixed_merge.c's trk_fixed_copy_taken covers:
 * departure tombstones reach the owner they name, and an owner never met
 * starts counting as gone when its copy is taken.)
 */
#include "internal.h"
#include "mode.h"

#include <stdlib.h>
#include <string.h>

#define PULL_LEN (1 + 1 + TRK_BUCKET_DIGESTS_LEN)

/* The queue as a ring of name indices; pull_state marks who is in it. */
static bool queue_push(struct tracker *t, uint32_t peer)
{
    if (t->pull_count == t->pull_cap) {
        size_t cap = t->pull_cap ? 2 * t->pull_cap : 16;
        uint32_t *grown = malloc(cap * sizeof *grown);
        if (!grown)
            return false;
        for (size_t i = 0; i < t->pull_count; i++)
            grown[i] = t->pull_queue[(t->pull_head + i) % t->pull_cap];
        free(t->pull_queue);
        t->pull_queue = grown;
        t->pull_cap = cap;
        t->pull_head = 0;
    }
    t->pull_queue[(t->pull_head + t->pull_count++) % t->pull_cap] = peer;
    return true;
}

static uint32_t queue_pop(struct tracker *t)
{
    uint32_t peer = t->pull_queue[t->pull_head];
    t->pull_head = (t->pull_head + 1) % t->pull_cap;
    t->pull_count--;
    return peer;
}

static unsigned asked(uint8_t state)
{
    return (state >> TRK_PULL_ASK_SHIFT) & TRK_PULL_ASKS;
}

/* True when a pull asking `ask` has its answerer pull us back scoped:
 * our writes can ride along instead. */
static bool back_is_scoped(unsigned ask)
{
    return (ask & TRK_PULL_ASK_BACK) && !(ask & TRK_PULL_ASK_BACK_FULL);
}

/* Appends our writes to the pull in `w` when they are few, setting its
 * flag byte's TRK_PULL_WRITES; else leaves it as it was. */
static void pull_add_writes(struct tracker *t, struct cs_writer *w)
{
    size_t plain_len = w->len;
    if (trk_put_writes(t, w)) {
        w->buf[1] |= TRK_PULL_WRITES;
        t->stats.pulls_with_writes++;
    } else {
        w->len = plain_len;
        w->overflow = false;
    }
}

/* Sends a pull to the next queued peer still in `nodes`, if none is under way. */
static void pull_next(struct tracker *t)
{
    while (t->pull_peer < 0 && t->pull_count > 0) {
        uint32_t peer = queue_pop(t);
        if ((t->pull_state[peer] & TRK_PULL_STATE) != TRK_PULL_QUEUED)
            continue; /* forgone (pull_forgo), or queued again behind */
        unsigned ask = asked(t->pull_state[peer]) | (t->took_full_pull ? 0 : TRK_PULL_ASK_FULL);
        t->pull_state[peer] = TRK_PULL_NONE;
        if (!trk_is_node(t, peer))
            continue;
        bool with_writes = back_is_scoped(ask) && trk_authored_known(t) && t->authored_count <= TRK_PULL_WRITES_MAX;
        uint8_t small[PULL_LEN];
        size_t cap = PULL_LEN + (with_writes ? trk_writes_cap() : 0);
        uint8_t *buf = with_writes ? malloc(cap) : small;
        if (!buf) {
            buf = small;
            cap = sizeof small;
            with_writes = false;
        }
        struct cs_writer w;
        cs_writer_init(&w, buf, cap);
        cs_put_u8(&w, TRK_MSG_PULL);
        cs_put_u8(&w, (uint8_t)ask);
        trk_put_bucket_digests(t, &w);
        if (with_writes)
            pull_add_writes(t, &w);
        t->pull_peer = (int32_t)peer;
        t->pull_ask = (uint8_t)ask;
        t->stats.full_pulls += (ask & TRK_PULL_ASK_FULL) != 0;
        t->pull_state[peer] = TRK_PULL_UNDER_WAY;
        t->pull_epoch++;
        trk_sync_begin(t, peer);
        trk_send(t, peer, &w);
        if (buf != small)
            free(buf);
        t->env->timer_start(t->env, t->cfg.pull_timeout, TRK_TAG(TRK_TIMER_SYNC_TIMEOUT, t->pull_epoch));
    }
}

void trk_pull_from(struct tracker *t, uint32_t peer, unsigned ask)
{
    if (peer == 0 || peer >= t->name_count)
        return;
    uint8_t *state = &t->pull_state[peer];
    uint8_t ask_bits = (uint8_t)((ask & TRK_PULL_ASKS) << TRK_PULL_ASK_SHIFT);
    switch (*state & TRK_PULL_STATE) {
    case TRK_PULL_QUEUED:
        *state |= ask_bits;
        return;
    case TRK_PULL_UNDER_WAY:
        /* One under way already needs no other: its answer leaves the
         * peer after whatever made us ask now (links are FIFO: whatever
         * the peer sent before it, such as its own pull showing that we
         * differ, or that it now takes us as a node, arrived first), so it
         * reflects the peer's registry at a later instant.  Unless it
         * asked for less. */
        if (ask & ~(unsigned)t->pull_ask)
            *state |= TRK_PULL_AGAIN | ask_bits;
        return;
    default:
        break;
    }
    if (!queue_push(t, peer)) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: no pull from %s (anti-entropy brings it later)",
                trk_name(t, peer));
        return;
    }
    *state = TRK_PULL_QUEUED | ask_bits;
    pull_next(t);
}

/* The pull under way ends (answered or not); the next one starts. */
static void pull_done(struct tracker *t, bool answered)
{
    uint32_t peer = (uint32_t)t->pull_peer;
    uint8_t state = t->pull_state[peer];
    t->pull_peer = -1;
    t->pull_state[peer] = TRK_PULL_NONE;
    trk_sync_end(t, peer, answered);
    t->took_full_pull = t->took_full_pull || (answered && (t->pull_ask & TRK_PULL_ASK_FULL));
    unsigned again = asked(state); /* (what was asked while it was under way) */
    if (!answered) /* the same again, after the others */
        again |= t->pull_ask;
    if ((!answered || (state & TRK_PULL_AGAIN)) && trk_is_node(t, peer))
        trk_pull_from(t, peer, again);
    pull_next(t);
}

void trk_pull_answered(struct tracker *t, uint32_t peer, bool merged)
{
    if (t->pull_peer == (int32_t)peer)
        pull_done(t, merged);
}

void trk_pull_timeout(struct tracker *t, uint64_t epoch)
{
    if (t->pull_peer >= 0 && epoch == (t->pull_epoch & 0xffffffffffffULL))
        pull_done(t, false);
}

void trk_pull_node_removed(struct tracker *t, uint32_t peer)
{
    if (t->pull_peer == (int32_t)peer) {
        t->pull_peer = -1;
        t->pull_state[peer] = TRK_PULL_NONE;
        pull_next(t); /* (trk_remove_node abandons its sync) */
    }
}

/* The puller's writes rode along with its pull: a scoped pull of ours
 * still queued for it would only bring them again (and ask it to pull us
 * back, which our answer to its pull just did: our writes of the buckets
 * that differed went with it, and it is a node of ours, so every later
 * write reaches it as a replicated event).  A pull that asks more, or our
 * first (full) one, stays. */
static void pull_forgo(struct tracker *t, uint32_t peer)
{
    uint8_t state = t->pull_state[peer];
    if ((state & TRK_PULL_STATE) == TRK_PULL_QUEUED && !(asked(state) & ~(unsigned)TRK_PULL_ASK_BACK) &&
        t->took_full_pull && trk_is_node(t, peer)) {
        t->pull_state[peer] = TRK_PULL_NONE; /* (pull_next skips its place in the queue) */
        t->stats.pulls_forgone++;
    }
}

/* A pull that said it carries writes was refused: the scoped pull those
 * writes stood for is queued after all (a tracker meeting the puller
 * through that pull forwent it: fixed.c's meet_node). */
static void writes_refused(struct tracker *t, uint32_t from, uint8_t flags)
{
    if (flags & TRK_PULL_WRITES)
        trk_pull_from(t, from, TRK_PULL_ASK_BACK);
}

/* Merges the writes a pull carried; false when malformed (counted by the
 * merge). */
static bool take_pushed_writes(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    bool ok = trk_merge_snapshot(t, from, r);
    trk_snapshot_release(t);
    return ok;
}

bool trk_pull_carries_writes(const struct cs_reader *r)
{
    return r->pos < r->len && (r->buf[r->pos] & TRK_PULL_WRITES);
}

bool trk_on_pull(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    uint8_t flags = cs_get_u8(r);
    uint8_t ask = flags & TRK_PULL_ASKS;
    const uint8_t *digests = cs_get_span(r, TRK_BUCKET_DIGESTS_LEN);
    bool with_writes = (flags & TRK_PULL_WRITES) != 0;
    bool back_full_alone = (ask & TRK_PULL_ASK_BACK_FULL) && !(ask & TRK_PULL_ASK_BACK);
    bool writes_unasked = with_writes && !back_is_scoped(ask);
    if (r->bad || (!with_writes && !cs_reader_done(r)) || flags > (TRK_PULL_ASKS | TRK_PULL_WRITES) ||
        back_full_alone || writes_unasked) {
        t->stats.malformed++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] malformed pull from %s", trk_name(t, from));
        writes_refused(t, from, flags);
        return false;
    }
    if (with_writes && !take_pushed_writes(t, from, r)) {
        writes_refused(t, from, flags);
        return false;
    }
    struct trk_bucket_set differing_set;
    bool differing = trk_buckets_differing(t, digests, &differing_set);
    if (!differing)
        t->stats.syncs_skipped++;
    trk_send_snapshot_buckets(t, from, TRK_MSG_SYNC_ACK, &differing_set, !(ask & TRK_PULL_ASK_FULL));
    if (with_writes)
        pull_forgo(t, from);
    else if (differing && (ask & TRK_PULL_ASK_BACK)) /* what it holds and we lack, or hold otherwise */
        trk_pull_from(t, from, ask & TRK_PULL_ASK_BACK_FULL ? TRK_PULL_ASK_FULL : 0);
    if (with_writes && t->state == TRK_TRACKING)
        trk_topology_change(t); /* (as after any snapshot merged) */
    return true;
}

void trk_pull_free(struct tracker *t)
{
    free(t->pull_queue); /* pull_state is the name table's (names.c) */
}
