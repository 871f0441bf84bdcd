/*
 * core/tracker/snapshot.c: registry state as it travels between trackers: the
 * `sync` request, and snapshots (sync_recv, sync_ack), whole or as a reply
 * to the snapshot just merged.
 *
 * A reply (fixed mode's sync_ack) leaves out every entry whose encoding is
 * byte for byte one the peer's own snapshot carried: the peer holds that
 * copy already, and merging an identical copy changes nothing.  What it
 * carries is what the peer lacks or holds otherwise: entries it did not
 * send, and those that won against its copies here.  Entries are compared
 * by XXH3 of their encoded bytes (merge.c keeps those of the last
 * snapshot merged).
 *
 * A pull's answer (pull.c) carries only the entries of the buckets in
 * which the puller's digests differ from ours: found through the bucket
 * kept for each registry slot, without reading the other entries.
 */
#include "internal.h"
#include "mode.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

void trk_send_sync(struct tracker *t, uint32_t peer)
{
    uint8_t buf[TRK_CLOCK_MAX + 256];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_SYNC);
    cs_put_str(&w, t->self);
    trk_put_clock(&w, t->clock, t->clock_len);
    trk_send(t, peer, &w);
}

uint64_t trk_entry_content_hash(const uint8_t *bytes, size_t len)
{
    uint64_t h = XXH3_64bits(bytes, len);
    return h ? h : 1; /* 0 marks a free cell of the set below */
}

/* An open-addressing set of content hashes, at most half full. */
struct content_set {
    uint64_t *cells;
    size_t mask;
};

static bool set_build(struct content_set *s, const uint64_t *hashes, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    s->cells = calloc(cap, sizeof *s->cells);
    if (!s->cells)
        return false;
    s->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t p = (size_t)hashes[i] & s->mask;
        while (s->cells[p] && s->cells[p] != hashes[i])
            p = (p + 1) & s->mask;
        s->cells[p] = hashes[i];
    }
    return true;
}

static bool set_has(const struct content_set *s, uint64_t h)
{
    for (size_t p = (size_t)h & s->mask; s->cells[p]; p = (p + 1) & s->mask)
        if (s->cells[p] == h)
            return true;
    return false;
}

/* Room for a snapshot of `entries` entries (names of a quarter of the
 * longest on average; a longer one overflows and is not sent). */
static size_t snapshot_cap(size_t entries)
{
    return 1024 + TRK_CLOCK_MAX + entries * (REG_NAME_MAX / 4 + 200);
}

struct snap_ctx {
    struct tracker *t;
    struct cs_writer *w;
    uint32_t count;
    const struct content_set *skip; /* or NULL */
};

static void snap_entry(void *ctx, struct reg_entry *e)
{
    struct snap_ctx *s = ctx;
    if ((e->flags & REG_TOMBSTONE) && !s->t->mode->keeps_tombstones)
        return;
    uint64_t kept = s->skip ? trk_kept_content_hash(s->t, e) : 0;
    if (kept && set_has(s->skip, kept))
        return; /* the peer sent this very copy (known without encoding it) */
    size_t at = s->w->len;
    trk_put_entry(s->t, s->w, e);
    if (s->skip && !s->w->overflow &&
        set_has(s->skip, trk_entry_content_hash(s->w->buf + at, s->w->len - at))) {
        s->w->len = at; /* the peer sent this very copy */
        return;
    }
    s->count++;
}

static void send_snapshot(struct tracker *t, uint32_t peer, enum trk_msg type, const uint8_t *clock,
                          size_t clock_len, const struct content_set *skip)
{
    size_t cap = snapshot_cap(registry_count(&t->reg));
    uint8_t *buf = malloc(cap);
    if (!buf)
        return;
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, (uint8_t)type);
    cs_put_str(&w, t->self);
    trk_put_clock(&w, clock, clock_len);
    size_t count_at = w.len;
    cs_put_u32(&w, 0);
    struct snap_ctx s = {t, &w, 0, skip};
    registry_each(&t->reg, snap_entry, &s);
    cs_store_le(buf + count_at, s.count, 4); /* patch the count in */
    t->stats.snapshot_entries += s.count;
    trk_send(t, peer, &w);
    free(buf);
}

void trk_send_snapshot(struct tracker *t, uint32_t peer, enum trk_msg type, const uint8_t *clock,
                       size_t clock_len)
{
    send_snapshot(t, peer, type, clock, clock_len, NULL);
}

/* The copies we wrote (tombstones included) of the given buckets, from
 * the bitset of those slots: a scoped pull's answer reads no other entry. */
static void snap_authored(struct tracker *t, struct snap_ctx *s, const struct trk_bucket_set *buckets, bool fresh)
{
    size_t seen = 0;
    for (size_t w = 0; w < t->own_slot_words && seen < t->authored_count; w++)
        for (uint64_t bits = t->authored[w]; bits; bits &= bits - 1) {
            size_t slot = w * 64 + (size_t)__builtin_ctzll(bits);
            seen++;
            int b = trk_kept_bucket(t, slot);
            if (!fresh || (b >= 0 && trk_bucket_in(buckets, (unsigned)b)))
                snap_entry(s, &t->reg.slots[slot]);
        }
}

bool trk_put_writes(struct tracker *t, struct cs_writer *w)
{
    if (!trk_authored_known(t) || t->authored_count > TRK_PULL_WRITES_MAX)
        return false;
    size_t count_at = w->len;
    cs_put_u32(w, 0);
    struct snap_ctx s = {t, w, 0, NULL};
    snap_authored(t, &s, NULL, false);
    if (w->overflow)
        return false;
    cs_store_le(w->buf + count_at, s.count, 4); /* patch the count in */
    t->stats.snapshot_entries += s.count;
    t->stats.scoped_answer_entries += s.count;
    return true;
}

size_t trk_writes_cap(void)
{
    return 4 + TRK_PULL_WRITES_MAX * (REG_NAME_MAX / 4 + 200);
}

void trk_send_snapshot_buckets(struct tracker *t, uint32_t peer, enum trk_msg type, const struct trk_bucket_set *buckets,
                               bool authored_only)
{
    bool fresh = trk_content_fresh(t);
    bool scoped = authored_only && trk_authored_known(t); /* (else: as a full answer) */
    size_t entries = 0;
    for (unsigned b = 0; fresh && b < TRK_BUCKETS; b++)
        if (trk_bucket_in(buckets, b))
            entries += t->buckets[b].count;
    if (!fresh)
        entries = registry_count(&t->reg);
    if (scoped && t->authored_count < entries)
        entries = t->authored_count;
    uint8_t *buf = malloc(snapshot_cap(entries));
    if (!buf)
        return;
    struct cs_writer w;
    cs_writer_init(&w, buf, snapshot_cap(entries));
    cs_put_u8(&w, (uint8_t)type);
    cs_put_str(&w, t->self);
    trk_put_clock(&w, t->clock, t->clock_len);
    size_t count_at = w.len;
    cs_put_u32(&w, 0);
    struct snap_ctx s = {t, &w, 0, NULL};
    if (scoped) {
        snap_authored(t, &s, buckets, fresh);
    } else {
        /* (fresh: the buckets' counts are exact, so the walk ends at the
         * last one) */
        for (size_t slot = 0; (s.count < entries || !fresh) && slot < t->reg.slot_count; slot++) {
            int b = trk_kept_bucket(t, slot); /* (-1: a free slot, or no digest kept) */
            if ((b >= 0 && trk_bucket_in(buckets, (unsigned)b)) || (!fresh && t->reg.slots[slot].name))
                snap_entry(&s, &t->reg.slots[slot]);
        }
    }
    cs_store_le(buf + count_at, s.count, 4); /* patch the count in */
    t->stats.snapshot_entries += s.count;
    t->stats.scoped_answer_entries += authored_only ? s.count : 0;
    trk_send(t, peer, &w);
    free(buf);
}

void trk_send_snapshot_reply(struct tracker *t, uint32_t peer, enum trk_msg type, const uint8_t *clock,
                             size_t clock_len)
{
    struct content_set skip;
    trk_content_fresh(t); /* (snap_entry reads the kept hashes) */
    if (!set_build(&skip, t->snap_hash, t->snap_count)) {
        send_snapshot(t, peer, type, clock, clock_len, NULL); /* no memory: the whole snapshot */
        return;
    }
    send_snapshot(t, peer, type, clock, clock_len, &skip);
    free(skip.cells);
}
