/*
 * core/tracker/digest.c: the tracker's two registry digests, kept as
 * entries change.  Every change of an entry is bracketed: trk_digest_out
 * before it (and before a removal), trk_digest_in after it.
 *
 * - The agreement digest: the count and wrapping sum of XXH3 over (name,
 *   owner, handle) of the live entries.  The simulator's checkers compare
 *   it across nodes; the registry epoch counts its changes.
 * - The content digest (modes that keep one: fixed): the count and wrapping sum of the
 *   content hash (XXH3 of the wire encoding, trk_entry_content_hash) of
 *   every entry, tombstones included.  Two trackers whose content digests
 *   are equal hold the same entries byte for byte (but for a 64-bit
 *   collision), so a snapshot between them would change nothing: fixed
 *   mode compares digests before it sends one (check replies,
 *   anti-entropy).  It is kept lazily: each entry's hash beside the
 *   registry, by slot, once a digest was asked for; a change forgets its
 *   entry's hash and lists the slot, and the next reading hashes the
 *   listed slots (or everything, once the list outgrew an eighth of the
 *   registry).  A million registrations nobody asks a digest of hash
 *   nothing.  The same hashes are also summed by bucket (TRK_BUCKETS
 *   buckets by the name's XXH3): a pull (pull.c) compares bucket digests
 *   and carries only the entries of the buckets that differ.
 *
 * Both are checked against a recomputation at the end of every simulated
 * run (trk_registry_digest_full).
 */
#include "internal.h"
#include "mode.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

/* The most bytes trk_put_entry writes: name and owner strings, four u64,
 * flags, spec, the meta keys and the clock. */
#define ENTRY_WIRE_MAX \
    (2 + REG_NAME_MAX + 2 + CS_NODE_NAME_MAX + 4 * 8 + 4 + 8 + 1 + REG_META_MAX * (2 + REG_META_KEY_MAX) + 1 + \
     REG_CLOCK_MAX)

static uint64_t entry_hash(const struct tracker *t, const struct reg_entry *e)
{
    /* Independent of local numbering: the owner enters by its name. */
    uint64_t owner = e->owner < t->name_count ? t->name_hashes[e->owner] : 0;
    uint64_t seed = owner ^ (e->handle * 0x9e3779b97f4a7c15ULL);
    return XXH3_64bits_withSeed(e->name, reg_name_len(e), seed);
}

static bool counted(const struct reg_entry *e)
{
    return e->name && e->handle != 0 && !(e->flags & REG_TOMBSTONE);
}

static bool keeps_content(const struct tracker *t)
{
    return t->mode->content_digest;
}

/* The content hash of an entry as this tracker would send it; 0 when it
 * cannot be encoded (never, by ENTRY_WIRE_MAX). */
static uint64_t content_hash(const struct tracker *t, const struct reg_entry *e)
{
    uint8_t buf[ENTRY_WIRE_MAX];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    trk_put_entry((struct tracker *)t, &w, e);
    return w.overflow ? 0 : trk_entry_content_hash(buf, w.len);
}

/* The bucket of a name: the top bits of its XXH3, the same on every node. */
static uint8_t name_bucket(const char *name, size_t len)
{
    return (uint8_t)(XXH3_64bits(name, len) >> (64 - TRK_BUCKET_BITS));
}

/* Forgets the kept hash of the entry in `slot` (it changes or leaves). */
static void content_forget(struct tracker *t, size_t slot)
{
    if (slot >= t->content_cap || !t->content_hashes[slot])
        return;
    struct trk_content_digest *b = &t->buckets[t->content_bucket[slot]];
    b->sum -= t->content_hashes[slot];
    b->count--;
    t->content_sum -= t->content_hashes[slot];
    t->content_count--;
    t->content_hashes[slot] = 0;
}

/* An entry changed: forget its hash and list it for the next reading; a
 * list longer than an eighth of the registry is dropped for a full
 * recomputation (a burst of registrations costs nothing until a digest is
 * asked for). */
static void content_dirty(struct tracker *t, size_t slot)
{
    content_forget(t, slot);
    size_t limit = registry_count(&t->reg) / 8 + 64;
    if (t->dirty_count >= limit) {
        t->content_valid = false;
        return;
    }
    if (t->dirty_count == t->dirty_cap) {
        size_t cap = t->dirty_cap ? 2 * t->dirty_cap : 64;
        uint32_t *grown = realloc(t->dirty, cap * sizeof *grown);
        if (!grown) {
            t->content_valid = false;
            return;
        }
        t->dirty = grown;
        t->dirty_cap = cap;
    }
    t->dirty[t->dirty_count++] = (uint32_t)slot;
}

/* Room for a hash per registry slot; false when out of memory.  The
 * arrays grow by doubling, but only the cells of slots the registry has
 * are zeroed (content_cap of them): the rest stay untouched, unpaged. */
static bool content_room(struct tracker *t)
{
    size_t need = t->reg.slot_count;
    if (need <= t->content_cap)
        return true;
    if (need > t->content_alloc) {
        size_t cap = t->content_alloc ? t->content_alloc : 64;
        while (cap < need)
            cap *= 2;
        uint8_t *buckets = realloc(t->content_bucket, cap);
        if (!buckets)
            return false;
        t->content_bucket = buckets;
        uint64_t *cells = realloc(t->content_hashes, cap * sizeof *cells);
        if (!cells)
            return false;
        t->content_hashes = cells;
        t->content_alloc = cap;
    }
    memset(t->content_hashes + t->content_cap, 0, (need - t->content_cap) * sizeof *t->content_hashes);
    t->content_cap = need;
    return true;
}

/* Keeps `h` as the content hash of the entry in `slot` (which has none). */
static void content_keep(struct tracker *t, size_t slot, uint64_t h)
{
    const struct reg_entry *e = &t->reg.slots[slot];
    uint8_t bucket = name_bucket(e->name, reg_name_len(e));
    t->content_bucket[slot] = bucket;
    t->buckets[bucket].sum += h;
    t->buckets[bucket].count++;
    t->content_hashes[slot] = h;
    t->content_sum += h;
    t->content_count++;
}

/* Hashes the entry in `slot` if it has no kept hash; false when it cannot
 * be encoded (never, by ENTRY_WIRE_MAX). */
static bool content_take(struct tracker *t, size_t slot)
{
    const struct reg_entry *e = &t->reg.slots[slot];
    if (!e->name || t->content_hashes[slot])
        return true;
    uint64_t h = content_hash(t, e);
    if (!h)
        return false;
    content_keep(t, slot, h);
    return true;
}

/* Keeps `h` as the content hash of the entry in `slot`, known without
 * encoding it (a copy taken as it came: trk_copy_in); false when there is
 * no room, and the entry is then hashed when read. */
static bool content_preset(struct tracker *t, size_t slot, uint64_t h)
{
    if (!content_room(t))
        return false;
    content_forget(t, slot);
    content_keep(t, slot, h);
    return true;
}

struct full_ctx {
    struct tracker *t;
    bool ok;
};

static void take_entry(void *ctx, struct reg_entry *e)
{
    struct full_ctx *c = ctx;
    c->ok = c->ok && content_take(c->t, (size_t)(e - c->t->reg.slots));
}

/* Brings the kept hashes up to date: the listed changes, or every entry
 * after the list was dropped.  False when no digest can be kept. */
static bool content_refresh(struct tracker *t)
{
    if (!keeps_content(t) || !content_room(t))
        return false;
    bool ok = true;
    if (!t->content_valid) {
        if (t->content_cap) /* (no array yet while the registry was never filled) */
            memset(t->content_hashes, 0, t->content_cap * sizeof *t->content_hashes);
        t->content_sum = 0;
        t->content_count = 0;
        memset(t->buckets, 0, sizeof t->buckets);
        struct full_ctx c = {t, true};
        registry_each(&t->reg, take_entry, &c);
        ok = c.ok;
    } else {
        for (size_t i = 0; i < t->dirty_count; i++)
            if (t->dirty[i] < t->reg.slot_count)
                ok = content_take(t, t->dirty[i]) && ok;
    }
    t->dirty_count = 0;
    t->content_valid = ok;
    return ok;
}

/* Room in the slot bitsets (own_slots, handoff_sent, authored) for
 * `slot`; false when out of memory (own_slots_lost is then set). */
static bool own_room(struct tracker *t, size_t slot)
{
    if (slot / 64 < t->own_slot_words)
        return true;
    size_t words = t->own_slot_words ? t->own_slot_words : 16;
    while (words <= slot / 64)
        words *= 2;
    uint64_t **sets[] = {&t->own_slots, &t->handoff_sent, &t->authored};
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        uint64_t *grown = realloc(*sets[i], words * sizeof *grown);
        if (!grown) {
            t->own_slots_lost = true;
            return false;
        }
        memset(grown + t->own_slot_words, 0, (words - t->own_slot_words) * sizeof *grown);
        *sets[i] = grown;
    }
    t->own_slot_words = words;
    return true;
}

/* The live entries by owner, and which slots hold ours (merge.c's
 * topology passes look at those alone while every other owner is a node);
 * without room for the bit, every pass walks the whole registry. */
static void owned_out(struct tracker *t, const struct reg_entry *e)
{
    if (e->owner < t->name_count && --t->owner_live[e->owner] == 0 && e->owner > 0 && !t->is_node[e->owner])
        t->owners_not_nodes--;
    size_t slot = (size_t)(e - t->reg.slots);
    if (e->owner == 0 && slot / 64 < t->own_slot_words) {
        t->own_slots[slot / 64] &= ~(1ULL << (slot % 64));
        t->handoff_sent[slot / 64] &= ~(1ULL << (slot % 64)); /* the entry changes: no longer pending */
    }
}

static void owned_in(struct tracker *t, const struct reg_entry *e)
{
    if (e->owner < t->name_count && t->owner_live[e->owner]++ == 0 && e->owner > 0 && !t->is_node[e->owner])
        t->owners_not_nodes++;
    size_t slot = (size_t)(e - t->reg.slots);
    if (e->owner == 0 && own_room(t, slot))
        t->own_slots[slot / 64] |= 1ULL << (slot % 64);
}

/* The entries whose copy here this tracker wrote (a scoped pull's
 * answer): every change but the taking of a peer's copy (trk_copy_in) is a
 * write of ours.  A bit per slot, cleared before every change and set
 * after a write. */
static void authored_out(struct tracker *t, const struct reg_entry *e)
{
    size_t slot = (size_t)(e - t->reg.slots);
    if (slot / 64 < t->own_slot_words && (t->authored[slot / 64] >> (slot % 64)) & 1) {
        t->authored[slot / 64] &= ~(1ULL << (slot % 64));
        t->authored_count--;
    }
}

/* Marks the entry in `slot` as one we wrote (once). */
static void authored_mark(struct tracker *t, size_t slot)
{
    if (own_room(t, slot) && !((t->authored[slot / 64] >> (slot % 64)) & 1)) {
        t->authored[slot / 64] |= 1ULL << (slot % 64);
        t->authored_count++;
    }
}

static void authored_in(struct tracker *t, const struct reg_entry *e)
{
    if (e->name && !t->taking_copy)
        authored_mark(t, (size_t)(e - t->reg.slots));
}

void trk_adopt_copies(struct tracker *t)
{
    for (size_t slot = 0; slot < t->reg.slot_count; slot++)
        if (t->reg.slots[slot].name)
            authored_mark(t, slot);
}

bool trk_authored_known(const struct tracker *t)
{
    return !t->own_slots_lost;
}

/* Fixed mode's handoffs in flight: a bit per slot of ours, set when its
 * process was handed off and cleared when the entry changes (the new
 * owner's copy replaced it, or anything else did) or any node leaves (the
 * handoff may have been lost with its link). */
void trk_handoff_mark(struct tracker *t, const struct reg_entry *e)
{
    size_t slot = (size_t)(e - t->reg.slots);
    if (slot / 64 < t->own_slot_words)
        t->handoff_sent[slot / 64] |= 1ULL << (slot % 64);
}

bool trk_handoff_pending(const struct tracker *t, const struct reg_entry *e)
{
    size_t slot = (size_t)(e - t->reg.slots);
    return slot / 64 < t->own_slot_words && (t->handoff_sent[slot / 64] >> (slot % 64)) & 1;
}

void trk_handoffs_forget(struct tracker *t)
{
    if (t->own_slot_words)
        memset(t->handoff_sent, 0, t->own_slot_words * sizeof *t->handoff_sent);
    t->quiet_valid = false; /* a pass may act on them again */
}

void trk_digest_out(struct tracker *t, const struct reg_entry *e)
{
    t->entry_changes++;
    if (t->content_valid)
        content_forget(t, (size_t)(e - t->reg.slots));
    authored_out(t, e);
    if (!counted(e))
        return;
    owned_out(t, e);
    t->digest_count--;
    t->digest_sum -= entry_hash(t, e);
}

void trk_digest_in(struct tracker *t, const struct reg_entry *e)
{
    if (t->content_valid && !(t->copy_hash && content_preset(t, (size_t)(e - t->reg.slots), t->copy_hash)))
        content_dirty(t, (size_t)(e - t->reg.slots));
    authored_in(t, e);
    if (!counted(e))
        return;
    owned_in(t, e);
    t->digest_count++;
    t->digest_sum += entry_hash(t, e);
}

bool trk_content_digest(struct tracker *t, struct trk_content_digest *out)
{
    if (!content_refresh(t))
        return false;
    out->count = (uint32_t)t->content_count;
    out->sum = t->content_sum;
    return true;
}

bool trk_content_matches(struct tracker *t, const struct trk_content_digest *peer)
{
    struct trk_content_digest mine;
    return peer && trk_content_digest(t, &mine) && mine.count == peer->count && mine.sum == peer->sum;
}

bool trk_content_fresh(struct tracker *t)
{
    return content_refresh(t);
}

bool trk_bucket_digests(struct tracker *t, struct trk_content_digest out[TRK_BUCKETS])
{
    if (!content_refresh(t))
        return false;
    memcpy(out, t->buckets, sizeof t->buckets);
    return true;
}

/* A content digest's wire form (TRK_CONTENT_DIGEST_LEN bytes): count u32,
 * then sum u64, little-endian.  The one place that knows the layout. */
static void digest_store(uint8_t *out, uint32_t count, uint64_t sum)
{
    cs_store_le(out, count, 4);
    cs_store_le(out + 4, sum, 8);
}

static bool digest_equals(const uint8_t *in, const struct trk_content_digest *d)
{
    return d->count == (uint32_t)cs_load_le(in, 4) && d->sum == cs_load_le(in + 4, 8);
}

void trk_put_bucket_digests(struct tracker *t, struct cs_writer *w)
{
    uint8_t *out = cs_put_span(w, TRK_BUCKET_DIGESTS_LEN);
    if (!out)
        return;
    if (!content_refresh(t)) {
        memset(out, 0, TRK_BUCKET_DIGESTS_LEN);
        return;
    }
    for (unsigned b = 0; b < TRK_BUCKETS; b++, out += TRK_CONTENT_DIGEST_LEN)
        digest_store(out, t->buckets[b].count, t->buckets[b].sum);
}

bool trk_buckets_differing(struct tracker *t, const uint8_t *peer, struct trk_bucket_set *out)
{
    bool fresh = content_refresh(t), any = !fresh;
    memset(out->bits, fresh ? 0 : 0xff, sizeof out->bits);
    for (unsigned b = 0; fresh && b < TRK_BUCKETS; b++, peer += TRK_CONTENT_DIGEST_LEN)
        if (!digest_equals(peer, &t->buckets[b])) {
            out->bits[b / 64] |= 1ULL << (b % 64);
            any = true;
        }
    return any;
}

uint64_t trk_kept_content_hash(const struct tracker *t, const struct reg_entry *e)
{
    size_t slot = (size_t)(e - t->reg.slots);
    /* Fresh after trk_content_fresh until the next change; a changed
     * entry's hash is 0 until the next refresh. */
    return t->content_valid && slot < t->content_cap ? t->content_hashes[slot] : 0;
}

void trk_put_content_digest(struct cs_writer *w, const struct trk_content_digest *d)
{
    uint8_t *out = cs_put_span(w, TRK_CONTENT_DIGEST_LEN);
    if (out)
        digest_store(out, d->count, d->sum);
}

void trk_get_content_digest(struct cs_reader *r, struct trk_content_digest *d)
{
    const uint8_t *in = cs_get_span(r, TRK_CONTENT_DIGEST_LEN);
    d->count = in ? (uint32_t)cs_load_le(in, 4) : 0;
    d->sum = in ? cs_load_le(in + 4, 8) : 0;
}

uint64_t trk_registry_epoch(const struct tracker *t)
{
    /* Both only grow: their sum changes when either does. */
    return t->entry_changes + t->reg.version;
}

void trk_registry_digest(const struct tracker *t, size_t *count, uint64_t *sum)
{
    *count = t->digest_count;
    *sum = t->digest_sum;
}

struct digest_ctx {
    const struct tracker *t;
    size_t count, content_count;
    uint64_t sum, content_sum;
};

static void digest_entry(void *ctx, struct reg_entry *e)
{
    struct digest_ctx *d = ctx;
    if (keeps_content(d->t)) {
        d->content_sum += content_hash(d->t, e);
        d->content_count++;
    }
    if (!counted(e))
        return;
    d->sum += entry_hash(d->t, e);
    d->count++;
}

void trk_registry_digest_full(struct tracker *t, size_t *count, uint64_t *sum)
{
    struct digest_ctx d = {t, 0, 0, 0, 0};
    registry_each(&t->reg, digest_entry, &d);
    *count = d.count;
    *sum = d.sum;
    struct trk_content_digest kept;
    if (trk_content_digest(t, &kept) && (kept.count != d.content_count || kept.sum != d.content_sum))
        *count = SIZE_MAX; /* the kept content digest drifted: show it as a drift */
}
