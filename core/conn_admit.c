/*
 * core/conn_admit.c: what an inbound link may hold before it proves the
 * cluster secret.  Owns the table of unproven inbound links (a global cap
 * with random eviction, a cap per source address), the marks that say "a
 * handshake claiming this name is under way" (a peer's `accepting`, or the
 * claims map for names without a peer record, so a stream of invented
 * names cannot grow the peer table), and rate-limited logging of refusals.
 *
 * Why random eviction rather than refusing the newest, for the table and
 * for each source alike: a genuine handshake finishes in one round trip,
 * so while an attacker keeps the table full a newcomer survives unless
 * about as many other connections arrive within that round trip; refusing
 * the newest instead would let a table full of idle connections shut
 * every newcomer out until they time out.
 */
#include "conn_internal.h"
#include "grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#define DEFAULT_MAX_PENDING 1024
#define DEFAULT_MAX_PER_SOURCE 16

static size_t max_pending(const struct conn *c)
{
    return c->cfg.max_pending_inbound ? c->cfg.max_pending_inbound : DEFAULT_MAX_PENDING;
}

static size_t max_per_source(const struct conn *c)
{
    return c->cfg.max_pending_per_source ? c->cfg.max_pending_per_source : DEFAULT_MAX_PER_SOURCE;
}

/* The source of a connection, folded to a non-zero 32-bit key: an IPv4
 * address, or an IPv6 /64 (one host's share of a subnet: its other
 * addresses are not new sources).  Hashed under a seed drawn from the
 * cluster key, so an outsider cannot pick an address whose key collides
 * with a member's. */
static uint32_t source_key_of(const struct conn *c, const struct cs_addr *a)
{
    uint64_t h = XXH3_64bits_withSeed(a->ip, a->family == 6 ? 8 : 4, c->source_seed) ^ a->family;
    uint32_t key = (uint32_t)(h ^ h >> 32);
    return key ? key : 1;
}

/* A random unproven link from this source (one exists: its count is > 0). */
static int32_t pick_from_source(struct conn *c, uint32_t key, size_t from_source)
{
    uint64_t nth = cs_random_below(c->env, from_source);
    for (size_t k = 0; k < c->pending_count; k++)
        if (c->links[c->pending[k]].source_key == key && nth-- == 0)
            return c->pending[k];
    return -1;
}

void conn_log_refusal(struct conn *c, uint64_t count, const char *fmt, ...)
{
    if (count & (count - 1)) /* 1, 2, 4, 8, ...: the counter says the rest */
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cs_logf(c->env, CS_LOG_WARN, "[conn] %s (%llu so far)", line, (unsigned long long)count);
}

bool conn_admit_inbound(struct conn *c, const struct cs_addr *from, uint32_t *source_key)
{
    *source_key = source_key_of(c, from);
    int32_t from_source = cs_idmap_get(&c->pending_by_source, *source_key);
    if (from_source >= 0 && (size_t)from_source >= max_per_source(c)) {
        /* Room is made among that source's own unproven links, so a member
         * whose address an attacker shares still gets its handshakes in. */
        int32_t victim = pick_from_source(c, *source_key, (size_t)from_source);
        c->stats.source_refused++;
        conn_log_refusal(c, c->stats.source_refused,
                         "closed an unfinished handshake: %zu from one address are unfinished",
                         (size_t)from_source);
        if (victim < 0)
            return false;
        conn_link_release(c, victim, true);
    }
    if (c->pending_count >= max_pending(c)) {
        int32_t victim = c->pending[cs_random_below(c->env, c->pending_count)];
        c->stats.pending_evicted++;
        conn_log_refusal(c, c->stats.pending_evicted,
                         "closed unfinished handshake on link %u to make room (%zu unfinished)",
                         c->links[victim].id, c->pending_count);
        conn_link_release(c, victim, true);
    }
    return true;
}

void conn_pending_add(struct conn *c, int32_t li, uint32_t source_key)
{
    if (cs_grow((void **)&c->pending, &c->pending_cap, c->pending_count + 1, sizeof *c->pending) != 0)
        return; /* out of memory: the link is only not counted */
    struct conn_link *l = &c->links[li];
    l->pending_slot = (int32_t)c->pending_count;
    l->source_key = source_key;
    c->pending[c->pending_count++] = li;
    int32_t n = cs_idmap_get(&c->pending_by_source, source_key);
    cs_idmap_put(&c->pending_by_source, source_key, n < 0 ? 1 : n + 1);
}

void conn_pending_remove(struct conn *c, int32_t li)
{
    struct conn_link *l = &c->links[li];
    if (l->pending_slot < 0)
        return;
    size_t slot = (size_t)l->pending_slot;
    int32_t last = c->pending[--c->pending_count];
    c->pending[slot] = last;
    c->links[last].pending_slot = (int32_t)slot;
    l->pending_slot = -1;
    int32_t n = cs_idmap_get(&c->pending_by_source, l->source_key);
    if (n <= 1)
        cs_idmap_del(&c->pending_by_source, l->source_key);
    else
        cs_idmap_put(&c->pending_by_source, l->source_key, n - 1);
}

void conn_claim(struct conn *c, int32_t li, const char *name)
{
    struct conn_link *l = &c->links[li];
    int32_t pi = conn_peer_find(c, name);
    if (pi >= 0) {
        if (c->peers[pi].accepting < 0) {
            c->peers[pi].accepting = li;
            l->accepting_for = pi;
            c->peer_epoch++;
        }
        return;
    }
    if (cs_strmap_get(&c->claims, name) < 0 && cs_strmap_put(&c->claims, name, li) == 0) {
        l->holds_claim = true;
        c->peer_epoch++;
    }
}

void conn_unclaim(struct conn *c, int32_t li)
{
    struct conn_link *l = &c->links[li];
    if (l->accepting_for >= 0) {
        if (c->peers[l->accepting_for].accepting == li)
            c->peers[l->accepting_for].accepting = -1;
        l->accepting_for = -1;
        c->peer_epoch++;
    }
    if (l->holds_claim) {
        cs_strmap_del(&c->claims, l->claimed);
        l->holds_claim = false;
        c->peer_epoch++;
    }
}

void conn_claim_adopt(struct conn *c, int32_t pi, const char *name)
{
    if (c->claims.count == 0)
        return;
    int32_t li = cs_strmap_get(&c->claims, name);
    if (li < 0)
        return;
    cs_strmap_del(&c->claims, name);
    c->links[li].holds_claim = false;
    c->peers[pi].accepting = li;
    c->links[li].accepting_for = pi;
}

const char *conn_link_label(const struct conn *c, const struct conn_link *l)
{
    return l->peer >= 0 ? c->peer_names[l->peer] : l->claimed ? l->claimed : "";
}

size_t conn_pending_count(const struct conn *c)
{
    return c->pending_count;
}
