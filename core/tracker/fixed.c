/*
 * core/tracker/fixed.c: the fixed mode's state machine and its table of
 * operations.  Same data model, API and message vocabulary as Swarm's, but
 * no state ever waits for a peer: the registry is a last-writer-wins map
 * with tombstones (fixed_merge.c), and trackers reconcile by pulls
 * (pull.c): whenever a peer joins and on an anti-entropy timer, a tracker
 * asks for the peer's entries of the buckets of names in which their
 * content digests differ (digest.c), one pull under way at a time.  A peer
 * whose check reply carries our own digest is not pulled from, and
 * anti-entropy sends our digest, which the peer answers with a pull of its
 * own only when its digest differs.
 * cluster_wait ends on its own timer; commands and reads run in every
 * state.  Why this cannot deadlock is argued in docs/swarm-model.md.
 */
#include "fixed.h"
#include "mode.h"

#include <string.h>

/* Pushes our snapshot to a peer (sync_recv): a sync, complete when the
 * peer's sync_ack is merged. */
static void push_to(struct tracker *t, uint32_t peer, enum trk_msg type)
{
    if (type == TRK_MSG_SYNC_RECV)
        trk_sync_begin(t, peer);
    trk_send_snapshot(t, peer, type, t->clock, t->clock_len);
}

/* Why a digest is sent: anti-entropy's (a difference found is settled by
 * a full pull both ways), or as the greeting of a peer whose check reply
 * showed our registries equal (a difference found since is in flight, and
 * the owners' own entries settle it: a scoped pull). */
enum digest_kind { DIGEST_ANTI_ENTROPY = 0, DIGEST_GREETING = 1 };

/* digest kind:u8 count:u32 sum:u64 to one peer, which answers with a pull
 * if its registry differs (and takes us as a node if it had not); without
 * a digest of our own, our snapshot. */
static void send_digest(struct tracker *t, uint32_t peer, enum digest_kind kind)
{
    struct trk_content_digest d;
    if (!trk_content_digest(t, &d)) {
        push_to(t, peer, TRK_MSG_SYNC_RECV);
        return;
    }
    uint8_t buf[2 + TRK_CONTENT_DIGEST_LEN];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_DIGEST);
    cs_put_u8(&w, (uint8_t)kind);
    trk_put_content_digest(&w, &d);
    trk_send(t, peer, &w);
}

/* A peer joins `nodes`.  When `digest` (what its check reply, crossed
 * check or digest message carried, or NULL) shows that it holds exactly
 * our entries, nothing is pulled: every change of ours from now on
 * reaches it as a replicated event; it gets our digest as a greeting,
 * which tells it that our tracker runs (a peer whose checks of us all came
 * back "not running" learns it no other way), unless our checks crossed
 * and it has ours.  Else we pull it: in full both ways when we meet again
 * (a healed cut), else its writes, asking for a pull of ours back; not at
 * all when it is its pull that made us meet and that pull brought its
 * writes (`writes_came`), our answer carrying ours (pull.c). */
static void meet_node(struct tracker *t, uint32_t peer, const struct trk_content_digest *digest, bool writes_came)
{
    bool known = trk_is_node(t, peer), met = t->met[peer];
    trk_add_node(t, peer);
    if (!known) {
        if (trk_content_matches(t, digest)) {
            t->stats.syncs_skipped++;
            if (!t->check_crossing) /* (crossed: the peer has our check, digest and all) */
                send_digest(t, peer, DIGEST_GREETING);
        } else if (met) {
            /* we meet again (a partition healed): whatever either side
             * took from others meanwhile may be missing on the other */
            trk_pull_from(t, peer, TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK | TRK_PULL_ASK_BACK_FULL);
        } else if (writes_came && t->took_full_pull) {
            t->stats.pulls_forgone++; /* its pull brought its writes, our answer brings ours (pull.c) */
        } else {
            trk_pull_from(t, peer, TRK_PULL_ASK_BACK); /* we meet: each side's writes */
        }
    }
    if (t->state == TRK_TRACKING)
        trk_topology_change(t);
}

static void fixed_node_checked(struct tracker *t, uint32_t peer, const struct trk_content_digest *digest)
{
    meet_node(t, peer, digest, false);
}

/* A peer's digest: a pull of its entries if we differ (after anti-entropy's,
 * a full one, which the peer answers with a full pull of ours). */
static void on_digest(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    uint8_t kind = cs_get_u8(r);
    struct trk_content_digest d;
    trk_get_content_digest(r, &d);
    if (!cs_reader_done(r) || kind > DIGEST_GREETING) {
        t->stats.malformed++;
        return;
    }
    if (!trk_is_node(t, from)) /* proves its tracker runs, as a sync does */
        fixed_node_checked(t, from, &d);
    else if (trk_content_matches(t, &d))
        t->stats.syncs_skipped++;
    else if (kind == DIGEST_ANTI_ENTROPY)
        trk_pull_from(t, from, TRK_PULL_ASK_FULL | TRK_PULL_ASK_BACK | TRK_PULL_ASK_BACK_FULL);
    else
        trk_pull_from(t, from, TRK_PULL_ASK_BACK);
}

/* After a node left, at the second look: our digest to every node, each
 * of which pulls ours in full (and we its) if they differ.  A writer cut
 * off from all but a few nodes, whose writes reached only those before it
 * died, leaves them there: a scoped pull never carries a copy, and the
 * nodes that hold them had met every other node already, so only
 * anti-entropy (a random peer every anti_entropy_interval) would find them.
 * One offer per second look, however many nodes left meanwhile; between
 * registries that agree it is one 14-byte message. */
static void offer_digest_to_all(struct tracker *t)
{
    t->departure_unsettled = false;
    for (size_t i = 0; i < t->node_count; i++)
        send_digest(t, t->nodes[i], DIGEST_ANTI_ENTROPY);
    t->stats.departure_offers++;
}

static void fixed_timer(struct tracker *t, uint64_t tag)
{
    switch (CS_TAG_KIND_OF(tag)) {
    case TRK_TIMER_START:
        trk_set_state(t, TRK_CLUSTER_WAIT);
        trk_take_connected(t, true);
        t->env->timer_start(t->env, t->cfg.sync_nodes_timeout, TRK_TAG(TRK_TIMER_CLUSTER_JOIN, 0));
        break;
    case TRK_TIMER_CLUSTER_JOIN:
        trk_set_state(t, TRK_TRACKING);
        for (size_t i = 0; i < t->node_count; i++)
            trk_pull_from(t, t->nodes[i], TRK_PULL_ASK_BACK);
        trk_topology_change(t);
        trk_arm_anti_entropy(t);
        break;
    case TRK_TIMER_ANTI_ENTROPY:
        t->anti_entropy_armed = false;
        if (t->node_count > 0)
            send_digest(t, trk_random_node(t), DIGEST_ANTI_ENTROPY);
        trk_arm_anti_entropy(t);
        break;
    case TRK_TIMER_SYNC_TIMEOUT:
        trk_pull_timeout(t, CS_TAG_ARG_OF(tag));
        break;
    case TRK_TIMER_RETRY_CHECK:
        trk_start_check(t, (uint32_t)(tag >> 8 & 0xffffffffu), (uint32_t)(tag & 0xff));
        break;
    case TRK_TIMER_CALL_TIMEOUT:
        trk_call_timeout(t, tag & 0xffffffffffffULL);
        break;
    case TRK_TIMER_BATCH_FLUSH:
        t->batch_timer_armed = false;
        trk_batch_flush(t);
        break;
    case TRK_TIMER_ORPHANS:
        t->orphan_check_armed = false;
        trk_handoffs_forget(t); /* handoffs not answered by now are sent again */
        if (t->state == TRK_TRACKING) {
            t->second_look = true; /* (orphans still here go to their ring owners) */
            trk_topology_change(t);
            t->second_look = false;
        }
        if (t->departure_unsettled)
            offer_digest_to_all(t);
        break;
    case TRK_TIMER_PLACEMENT:
        t->placement_armed = false;
        if (t->state == TRK_TRACKING)
            trk_topology_change(t);
        break;
    default:
        break;
    }
}

static void fixed_message(struct tracker *t, const struct trk_event *ev)
{
    int32_t from = trk_event_peer(t, ev);
    struct cs_reader r;
    cs_reader_init(&r, ev->data, ev->len);
    uint8_t type = cs_get_u8(&r);
    if (from < 0 || trk_common_message(t, (uint32_t)from, type, &r))
        return;
    if (type == TRK_MSG_DIGEST) {
        on_digest(t, (uint32_t)from, &r);
        return;
    }
    /* A sync message proves the sender's tracker runs: take it as a node
     * even when every check of it was answered "not running" (Swarm's
     * deadlock C starts from such a peer missing in `nodes`). */
    if (type == TRK_MSG_PULL) {
        if (!trk_is_node(t, (uint32_t)from))
            meet_node(t, (uint32_t)from, NULL, trk_pull_carries_writes(&r));
        trk_on_pull(t, (uint32_t)from, &r);
        return;
    }
    if ((type == TRK_MSG_SYNC || type == TRK_MSG_SYNC_RECV || type == TRK_MSG_SYNC_ACK) && !trk_is_node(t, (uint32_t)from))
        fixed_node_checked(t, (uint32_t)from, NULL);
    if (type == TRK_MSG_SYNC) {
        push_to(t, (uint32_t)from, TRK_MSG_SYNC_RECV);
        return;
    }
    if (type == TRK_MSG_SYNC_RECV || type == TRK_MSG_SYNC_ACK) {
        char sender[CS_NODE_NAME_MAX];
        uint8_t clock[TRK_CLOCK_MAX];
        size_t len;
        cs_get_str(&r, sender, sizeof sender);
        bool ok = trk_get_clock(&r, clock, &len, sizeof clock);
        if (!ok)
            t->stats.malformed++;
        else if (!(ok = trk_clock_valid(t, clock, len)))
            t->stats.bad_clock++;
        ok = ok && trk_merge_snapshot(t, (uint32_t)from, &r);
        if (!ok)
            trk_snapshot_release(t);
        /* A sync_ack answers our pull under way from that peer, else the
         * oldest of our pushes to it (a peer's own push, sync_recv, is its
         * sync, not ours). */
        if (type == TRK_MSG_SYNC_ACK && t->pull_peer == from)
            trk_pull_answered(t, (uint32_t)from, ok);
        else if (type == TRK_MSG_SYNC_ACK)
            trk_sync_end(t, (uint32_t)from, ok);
        if (!ok)
            return;
        if (type == TRK_MSG_SYNC_RECV) /* what the peer lacks or holds otherwise */
            trk_send_snapshot_reply(t, (uint32_t)from, TRK_MSG_SYNC_ACK, t->clock, t->clock_len);
        trk_snapshot_release(t);
        if (t->state == TRK_TRACKING)
            trk_topology_change(t);
        return;
    }
    if (type == TRK_MSG_SYNC_ERR)
        return;
    trk_tracking_message(t, (uint32_t)from, type, &r);
}

static void fixed_event(struct tracker *t, const struct trk_event *ev)
{
    int32_t peer;
    switch (ev->kind) {
    case TE_TIMER:
        fixed_timer(t, ev->tag);
        break;
    case TE_NODEUP:
        if ((peer = trk_name_index(t, ev->peer)) > 0)
            trk_start_check(t, (uint32_t)peer, 0);
        break;
    case TE_NODEDOWN:
        if ((peer = trk_name_index(t, ev->peer)) > 0) {
            bool was_node = trk_is_node(t, (uint32_t)peer);
            trk_check_answered(t, (uint32_t)peer); /* (an answer on that link will not come) */
            trk_remove_node(t, (uint32_t)peer);
            if (was_node) { /* its writes we hold may live nowhere else now (pull.c) */
                trk_adopt_copies(t);
                t->departure_unsettled = true;
                trk_fixed_arm_second_look(t);
            }
            trk_topology_change(t);
        }
        break;
    case TE_MESSAGE:
        fixed_message(t, ev);
        break;
    case TE_COMMAND:
        trk_tracking_command(t, ev); /* reads and writes never wait for a sync */
        break;
    }
}

/* Every timer may change something: no state postpones one. */
static bool fixed_timer_can_progress(const struct tracker *t, unsigned kind)
{
    (void)t, (void)kind;
    return true;
}

const struct trk_mode_ops trk_fixed_mode = {
    .name = "fixed",
    .keeps_tombstones = true,
    .content_digest = true,
    .batches = true,
    .checks_cross = true,
    .event = fixed_event,
    .node_checked = fixed_node_checked,
    .timer_can_progress = fixed_timer_can_progress,
    .merge_copy = trk_fixed_merge_copy,
    .untrack = trk_fixed_untrack,
    .handoff_collides = trk_fixed_handoff_collides,
    .handoff_refused = trk_fixed_handoff_refused,
    .handoff_waits = trk_fixed_handoff_waits,
    .handed_off = trk_fixed_handed_off,
    .watch_placement = trk_fixed_watch_placement,
    .kill_is_stale = trk_fixed_kill_is_stale,
    .copy_taken = trk_fixed_copy_taken,
    .owner_gone = trk_fixed_owner_gone,
    .owner_departed = trk_fixed_owner_departed,
    .unregister = trk_fixed_unregister,
    .stop_entry = trk_fixed_stop_entry,
};
