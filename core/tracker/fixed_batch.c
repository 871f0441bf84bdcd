/*
 * core/tracker/fixed_batch.c: replication batches (fixed mode).
 * The track / untrack / update_meta events a node broadcasts are appended
 * to one pending TRK_MSG_BATCH frame instead of going out as a frame each:
 *   TRK_MSG_BATCH count:u32 (type:u8 entry [state:u64 for a handoff])*count
 * With batch_window > 0 the frame goes to every node when the window ends;
 * with 0 (the default) at the end of the event that made them (one turn
 * of the tracker, as the daemon's event loop has one), a lone event as a
 * frame of its own, exactly as without batches.  Either way it also goes
 * when it is full, and before any other tracker message leaves or a node
 * joins or leaves `nodes`, so each link still carries this tracker's
 * messages in the order they were made, only later, and only nodes that
 * were nodes when the events were made get them.
 *
 * Handoffs made in one turn (a topology pass moving many processes) are
 * gathered the same way by destination: at the end of the turn each
 * destination gets one batch frame of its handoffs (a lone one as its own
 * frame).  Its receiver takes them in one turn, so what it broadcasts for
 * them leaves as one batch too: a join storm's placement pass at 1,000 pods
 * made 8,000 handoffs and 8 M `track` frames.  Nothing is reordered on a
 * link: adding a handoff sends the pending broadcast batch first and adding
 * a broadcast event sends the pending handoffs first, and any other
 * message sends both.
 *
 * A received batch applies its events in order exactly as if they had
 * come one frame each; it decodes a few events ahead of the one it applies
 * and prefetches their names' table cells, so the memory misses of the
 * inserts overlap.  As with frames, the events before a malformed one
 * stand: it and the rest of the batch are refused, counted and logged.
 */
#include "internal.h"
#include "mode.h"

#include <stdlib.h>
#include <string.h>

#define BATCH_BYTES 65536 /* a frame's size limit; one event is at most 4 KiB */

bool trk_batching(const struct tracker *t)
{
    return t->mode->batches;
}

static void send_each(struct tracker *t, const struct cs_writer *w)
{
    for (size_t i = 0; i < t->node_count; i++)
        trk_send(t, t->nodes[i], w);
}

/* The pending broadcast batch leaves (a lone event of a turn's batch as
 * its own frame). */
static void broadcast_send(struct tracker *t)
{
    if (!t->batch_count)
        return;
    if (t->batch_count == 1 && t->cfg.batch_window <= 0) {
        struct cs_writer lone = {.buf = t->batch_buf + 5, .cap = t->batch.len - 5, .len = t->batch.len - 5};
        send_each(t, &lone);
    } else {
        cs_store_le(t->batch_buf + 1, t->batch_count, 4); /* patch the count in, after the type byte */
        send_each(t, &t->batch);
    }
    t->batch_count = 0;
}

/* Handoffs of this turn by destination, in the order they were made. */
struct trk_bundle_item {
    uint32_t peer, seq;
    uint32_t at, len; /* bytes in t->bundle_buf */
};

static int by_peer_then_seq(const void *a, const void *b)
{
    const struct trk_bundle_item *x = a, *y = b;
    if (x->peer != y->peer)
        return x->peer < y->peer ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sends the handoffs of items[0..n) (one destination) as frames of at most
 * BATCH_BYTES: a lone one as its own frame. */
static void bundle_send_one(struct tracker *t, const struct trk_bundle_item *items, size_t n)
{
    struct cs_writer w;
    if (n == 1) {
        struct cs_writer lone = {.buf = t->bundle_buf + items[0].at, .cap = items[0].len, .len = items[0].len};
        trk_send(t, items[0].peer, &lone);
        return;
    }
    uint8_t *frame = malloc(BATCH_BYTES);
    for (size_t i = 0; i < n;) {
        if (!frame) { /* out of memory: one frame each */
            struct cs_writer lone = {.buf = t->bundle_buf + items[i].at, .cap = items[i].len, .len = items[i].len};
            trk_send(t, items[i++].peer, &lone);
            continue;
        }
        cs_writer_init(&w, frame, BATCH_BYTES);
        cs_put_u8(&w, TRK_MSG_BATCH);
        cs_put_u32(&w, 0);
        uint32_t count = 0;
        while (i < n && (count == 0 || w.len + items[i].len <= BATCH_BYTES)) {
            cs_put_bytes(&w, t->bundle_buf + items[i].at, items[i].len);
            count++, i++;
        }
        for (int b = 0; b < 4; b++)
            frame[1 + b] = (uint8_t)(count >> (8 * b));
        trk_send(t, items[0].peer, &w);
    }
    free(frame);
}

static void bundles_send(struct tracker *t)
{
    if (!t->bundle_count)
        return;
    struct trk_bundle_item *items = t->bundle_items;
    qsort(items, t->bundle_count, sizeof *items, by_peer_then_seq);
    for (size_t i = 0; i < t->bundle_count;) {
        size_t j = i;
        while (j < t->bundle_count && items[j].peer == items[i].peer)
            j++;
        bundle_send_one(t, items + i, j - i);
        i = j;
    }
    t->bundle_count = 0;
    t->bundle_len = 0;
}

void trk_batch_flush(struct tracker *t)
{
    if (t->batch_flushing) /* (what it sends comes back here through trk_send) */
        return;
    t->batch_flushing = true;
    bundles_send(t); /* (at most one of the two holds anything) */
    broadcast_send(t);
    t->batch_flushing = false;
}

void trk_turn_end(struct tracker *t)
{
    if (t->cfg.batch_window <= 0 || t->bundle_count)
        trk_batch_flush(t); /* (a batch with a window waits for it) */
}

bool trk_bundle_add(struct tracker *t, uint32_t peer, const uint8_t *msg, size_t len)
{
    if (len > BATCH_BYTES - 5)
        return false;
    if (t->batch_count) { /* broadcasts made before it leave first */
        t->batch_flushing = true;
        broadcast_send(t);
        t->batch_flushing = false;
    }
    if (t->bundle_count == t->bundle_cap) {
        size_t cap = t->bundle_cap ? 2 * t->bundle_cap : 64;
        struct trk_bundle_item *grown = realloc(t->bundle_items, cap * sizeof *grown);
        if (!grown)
            return false;
        t->bundle_items = grown;
        t->bundle_cap = cap;
    }
    if (t->bundle_len + len > t->bundle_buf_cap) {
        size_t cap = t->bundle_buf_cap ? 2 * t->bundle_buf_cap : 4096;
        while (cap < t->bundle_len + len)
            cap *= 2;
        uint8_t *grown = realloc(t->bundle_buf, cap);
        if (!grown)
            return false;
        t->bundle_buf = grown;
        t->bundle_buf_cap = cap;
    }
    memcpy(t->bundle_buf + t->bundle_len, msg, len);
    t->bundle_items[t->bundle_count] = (struct trk_bundle_item){peer, (uint32_t)t->bundle_count,
                                                            (uint32_t)t->bundle_len, (uint32_t)len};
    t->bundle_count++;
    t->bundle_len += len;
    return true;
}

void trk_batch_add(struct tracker *t, const uint8_t *event, size_t len)
{
    if (t->bundle_count) { /* handoffs made before it leave first */
        t->batch_flushing = true;
        bundles_send(t);
        t->batch_flushing = false;
    }
    if (!t->batch_buf && !(t->batch_buf = malloc(BATCH_BYTES))) {
        struct cs_writer w = {.buf = (uint8_t *)event, .cap = len, .len = len}; /* unbatched */
        send_each(t, &w);
        return;
    }
    if (t->batch_count && t->batch.len + len > BATCH_BYTES)
        trk_batch_flush(t);
    if (!t->batch_count) {
        cs_writer_init(&t->batch, t->batch_buf, BATCH_BYTES);
        cs_put_u8(&t->batch, TRK_MSG_BATCH);
        cs_put_u32(&t->batch, 0);
        if (!t->batch_timer_armed && t->cfg.batch_window > 0) {
            t->batch_timer_armed = true;
            t->env->timer_start(t->env, t->cfg.batch_window, TRK_TAG(TRK_TIMER_BATCH_FLUSH, 0));
        }
    }
    cs_put_bytes(&t->batch, event, len);
    t->batch_count++;
}

static bool batchable(uint8_t type)
{
    return type == TRK_MSG_TRACK || type == TRK_MSG_UNTRACK || type == TRK_MSG_UPDATE_META ||
           type == TRK_MSG_HANDOFF;
}

#define LOOKAHEAD 8 /* events decoded (and their cells prefetched) ahead of the one applied */

/* Decodes the next event of a batch into `we`; false (and *bad_clock when
 * that was the reason) when it is malformed. */
static bool next_event(struct tracker *t, struct cs_reader *r, uint8_t *type, struct trk_wire_entry *we,
                       int64_t *state, bool *bad_clock)
{
    *type = cs_get_u8(r);
    if (!batchable(*type) || !trk_get_entry(r, we))
        return false;
    *state = *type == TRK_MSG_HANDOFF ? (int64_t)cs_get_u64(r) : 0;
    if (r->bad)
        return false;
    if (!trk_clock_valid(t, we->clock, we->clock_len)) {
        *bad_clock = true;
        return false;
    }
    we->tag = registry_prefetch(&t->reg, we->name);
    we->tagged = true;
    return true;
}

void trk_apply_batch(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    if (!t->batch_in && !(t->batch_in = malloc(LOOKAHEAD * sizeof *t->batch_in))) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] out of memory: a batch from %s is not taken (anti-entropy "
                "brings its events later)", trk_name(t, from));
        return;
    }
    uint8_t types[LOOKAHEAD];
    int64_t states[LOOKAHEAD];
    uint32_t count = cs_get_u32(r), decoded = 0, applied = 0;
    bool bad = r->bad, bad_clock = false;
    while (!bad || applied < decoded) {
        while (!bad && decoded < count && decoded - applied < LOOKAHEAD) {
            unsigned at = decoded % LOOKAHEAD;
            if (!next_event(t, r, &types[at], &t->batch_in[at], &states[at], &bad_clock))
                bad = true;
            else
                decoded++;
        }
        if (applied == decoded)
            break;
        trk_apply_wire(t, from, types[applied % LOOKAHEAD], &t->batch_in[applied % LOOKAHEAD],
                       states[applied % LOOKAHEAD]);
        applied++;
    }
    if (!bad && cs_reader_done(r))
        return;
    if (bad_clock)
        t->stats.bad_clock++;
    else
        t->stats.malformed++;
    if (bad)
        cs_logf(t->env, CS_LOG_WARN, "[swarm] %s batch from %s: the first %u of its %u events applied, the rest refused",
                bad_clock ? "bad clock in a" : "malformed", trk_name(t, from), applied, count);
    else
        cs_logf(t->env, CS_LOG_WARN, "[swarm] malformed batch from %s: its %u events applied, the bytes after them refused",
                trk_name(t, from), count);
}
