/*
 * core/tracker/fixed_batch.c: replication batches (fixed mode, batch_window > 0).
 * The track / untrack / update_meta events a node broadcasts are appended
 * to one pending TRK_MSG_BATCH frame instead of going out as a frame each:
 *   TRK_MSG_BATCH count:u32 (type:u8 entry)*count
 * The frame goes to every node when the window ends, when it is full, and
 * before any other tracker message leaves or a node joins or leaves
 * `nodes`, so each link still carries this tracker's messages in the order
 * they were made, only later, and only nodes that were nodes when the
 * events were made get them.  A received batch applies its events in
 * order exactly as if they had come one frame each; it decodes a few
 * events ahead of the one it applies and prefetches their names' table
 * cells, so the memory misses of the inserts overlap.  As with frames, the events before a malformed
 * one stand: it and the rest of the batch are refused, counted and logged.
 */
#include "internal.h"
#include "mode.h"

#include <stdlib.h>

#define BATCH_BYTES 65536 /* a frame's size limit; one event is at most 4 KiB */

bool trk_batching(const struct tracker *t)
{
    return t->mode->batches && t->cfg.batch_window > 0;
}

static void send_each(struct tracker *t, const struct cs_writer *w)
{
    for (size_t i = 0; i < t->node_count; i++)
        trk_send(t, t->nodes[i], w);
}

void trk_batch_flush(struct tracker *t)
{
    if (!t->batch_count || t->batch_flushing)
        return;
    for (int b = 0; b < 4; b++) /* patch the count in, after the type byte */
        t->batch_buf[1 + b] = (uint8_t)(t->batch_count >> (8 * b));
    t->batch_flushing = true; /* trk_send flushes before other messages: not this one */
    send_each(t, &t->batch);
    t->batch_flushing = false;
    t->batch_count = 0;
}

void trk_batch_add(struct tracker *t, const uint8_t *event, size_t len)
{
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
        if (!t->batch_timer_armed) {
            t->batch_timer_armed = true;
            t->env->timer_start(t->env, t->cfg.batch_window, TRK_TAG(TRK_TIMER_BATCH_FLUSH, 0));
        }
    }
    cs_put_bytes(&t->batch, event, len);
    t->batch_count++;
}

static bool batchable(uint8_t type)
{
    return type == TRK_MSG_TRACK || type == TRK_MSG_UNTRACK || type == TRK_MSG_UPDATE_META;
}

#define LOOKAHEAD 8 /* events decoded (and their cells prefetched) ahead of the one applied */

/* Decodes the next event of a batch into `we`; false (and *bad_clock when
 * that was the reason) when it is malformed. */
static bool next_event(struct tracker *t, struct cs_reader *r, uint8_t *type, struct trk_wire_entry *we,
                       bool *bad_clock)
{
    *type = cs_get_u8(r);
    if (!batchable(*type) || !trk_get_entry(r, we))
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
    uint32_t count = cs_get_u32(r), decoded = 0, applied = 0;
    bool bad = r->bad, bad_clock = false;
    while (!bad || applied < decoded) {
        while (!bad && decoded < count && decoded - applied < LOOKAHEAD) {
            unsigned at = decoded % LOOKAHEAD;
            if (!next_event(t, r, &types[at], &t->batch_in[at], &bad_clock))
                bad = true;
            else
                decoded++;
        }
        if (applied == decoded)
            break;
        trk_apply_wire(t, from, types[applied % LOOKAHEAD], &t->batch_in[applied % LOOKAHEAD], 0);
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
