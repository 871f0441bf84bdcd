/*
 * core/conn_check.c: the connection layer's internal consistency check
 * (conn_check in conn.h).  Every rule here is one the layer's code relies
 * on; a broken one is how heap corruption starts (a slot freed twice, a
 * peer record naming a freed link), so the simulator can run this after
 * every event and the fuzz targets after every input.
 */
#include "conn_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static bool fail(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (size)
        vsnprintf(why, size, fmt, ap);
    va_end(ap);
    return false;
}

static bool is_pending_state(enum link_state s)
{
    return s == LS_WAIT_HELLO || s == LS_WAIT_REPLY;
}

/* Slots and the free list: each free slot listed exactly once. */
static bool check_slots(const struct conn *c, char *why, size_t size)
{
    if (c->free_count > c->link_count || c->link_count > c->link_cap)
        return fail(why, size, "free list of %zu for %zu slots (capacity %zu)", c->free_count,
                    c->link_count, c->link_cap);
    uint8_t *listed = calloc(c->link_count ? c->link_count : 1, 1);
    if (!listed)
        return true; /* cannot check without memory: not a finding */
    bool ok = true;
    for (size_t k = 0; k < c->free_count && ok; k++) {
        int32_t li = c->free_links[k];
        if (li < 0 || (size_t)li >= c->link_count)
            ok = fail(why, size, "free list entry %zu is %d, outside 0..%zu", k, li, c->link_count);
        else if (listed[li]++)
            ok = fail(why, size, "slot %d is on the free list twice", li);
        else if (c->links[li].state != LS_FREE)
            ok = fail(why, size, "slot %d is on the free list but in use", li);
    }
    for (size_t i = 0; i < c->link_count && ok; i++)
        if (c->links[i].state == LS_FREE && !listed[i])
            ok = fail(why, size, "slot %zu is free but not on the free list", i);
    free(listed);
    return ok;
}

/* One link in use: found by its id, its roles agree with its state. */
static bool check_link(const struct conn *c, size_t i, size_t *pending, size_t *claims, char *why,
                       size_t size)
{
    const struct conn_link *l = &c->links[i];
    if (cs_idmap_get(&c->link_index, l->id) != (int32_t)i)
        return fail(why, size, "link %u in slot %zu is not found by its id", l->id, i);
    if (l->peer < -1 || (l->peer >= 0 && (size_t)l->peer >= c->peer_count))
        return fail(why, size, "link %u names peer %d of %zu", l->id, l->peer, c->peer_count);
    if (l->outbound && l->peer < 0)
        return fail(why, size, "outbound link %u has no peer", l->id);
    if (!l->outbound && l->peer >= 0 && l->state != LS_UP)
        return fail(why, size, "inbound link %u owns a peer record before it is up", l->id);
    if (l->state == LS_UP && (l->peer < 0 || c->peers[l->peer].up != (int32_t)i))
        return fail(why, size, "up link %u is not its peer's link", l->id);
    bool should_pend = !l->outbound && is_pending_state(l->state);
    if (should_pend != (l->pending_slot >= 0))
        return fail(why, size, "link %u in state %d is%s counted as unproven", l->id, l->state,
                    should_pend ? " not" : "");
    if (l->pending_slot >= 0) {
        (*pending)++;
        if ((size_t)l->pending_slot >= c->pending_count || c->pending[l->pending_slot] != (int32_t)i)
            return fail(why, size, "link %u: pending slot %d does not name it", l->id, l->pending_slot);
        if (cs_idmap_get(&c->pending_by_source, l->source_key) < 1)
            return fail(why, size, "link %u: its source has no unproven links counted", l->id);
    }
    if (l->holds_claim) {
        (*claims)++;
        if (cs_strmap_get(&c->claims, l->claimed) != (int32_t)i)
            return fail(why, size, "link %u holds the claim of %s but the map disagrees", l->id, l->claimed);
    }
    if (l->accepting_for >= (int32_t)c->peer_count)
        return fail(why, size, "link %u accepts for peer %d of %zu", l->id, l->accepting_for, c->peer_count);
    if (l->accepting_for >= 0 && c->peers[l->accepting_for].accepting != (int32_t)i)
        return fail(why, size, "link %u accepts for peer %d, which does not name it", l->id, l->accepting_for);
    return true;
}

/* A peer's link roles name links in use that play those roles. */
static bool check_peer(const struct conn *c, size_t pi, size_t *up, char *why, size_t size)
{
    const struct conn_peer *p = &c->peers[pi];
    const char *name = c->peer_names[pi];
    int32_t roles[3] = {p->up, p->dialling, p->accepting};
    for (int r = 0; r < 3; r++) {
        int32_t li = roles[r];
        if (li < 0)
            continue;
        if ((size_t)li >= c->link_count || c->links[li].state == LS_FREE)
            return fail(why, size, "peer %s: role %d names slot %d, which is free", name, r, li);
    }
    if (p->up >= 0)
        (*up)++;
    if (p->dialling >= 0 && (!c->links[p->dialling].outbound || c->links[p->dialling].peer != (int32_t)pi ||
                             c->links[p->dialling].state == LS_UP))
        return fail(why, size, "peer %s: its dialling link is not an unfinished dial to it", name);
    if (p->accepting >= 0 && (c->links[p->accepting].outbound || c->links[p->accepting].accepting_for != (int32_t)pi))
        return fail(why, size, "peer %s: its accepting link does not accept for it", name);
    if (cs_refmap_get(&c->peer_index, name) != (int32_t)pi)
        return fail(why, size, "peer %s is not found by its name", name);
    return true;
}

static int compare_keys(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The count kept per source equals the unproven links from it. */
static bool check_sources(const struct conn *c, char *why, size_t size)
{
    if (c->pending_by_source.count > c->pending_count)
        return fail(why, size, "%zu sources counted for %zu unproven links", c->pending_by_source.count,
                    c->pending_count);
    uint32_t *keys = malloc((c->pending_count ? c->pending_count : 1) * sizeof *keys);
    if (!keys)
        return true;
    for (size_t k = 0; k < c->pending_count; k++)
        keys[k] = c->links[c->pending[k]].source_key;
    qsort(keys, c->pending_count, sizeof *keys, compare_keys);
    bool ok = true;
    size_t sources = 0;
    for (size_t k = 0; k < c->pending_count && ok; sources++) {
        size_t run = 1;
        while (k + run < c->pending_count && keys[k + run] == keys[k])
            run++;
        if (cs_idmap_get(&c->pending_by_source, keys[k]) != (int32_t)run)
            ok = fail(why, size, "a source has %zu unproven links but %d are counted", run,
                      cs_idmap_get(&c->pending_by_source, keys[k]));
        k += run;
    }
    if (ok && sources != c->pending_by_source.count)
        ok = fail(why, size, "%zu sources have unproven links but %zu are counted", sources,
                  c->pending_by_source.count);
    free(keys);
    return ok;
}

bool conn_check(const struct conn *c, char *why, size_t size)
{
    if (!check_slots(c, why, size))
        return false;
    size_t in_use = 0, pending = 0, claims = 0, up = 0;
    for (size_t i = 0; i < c->link_count; i++) {
        if (c->links[i].state == LS_FREE)
            continue;
        in_use++;
        if (!check_link(c, i, &pending, &claims, why, size))
            return false;
    }
    if (c->link_index.count != in_use)
        return fail(why, size, "the link id map holds %zu ids for %zu links in use", c->link_index.count, in_use);
    if (pending != c->pending_count)
        return fail(why, size, "%zu links are unproven but %zu are counted", pending, c->pending_count);
    if (!check_sources(c, why, size))
        return false;
    if (claims != c->claims.count)
        return fail(why, size, "%zu links hold claims but the map has %zu", claims, c->claims.count);
    for (size_t pi = 0; pi < c->peer_count; pi++)
        if (!check_peer(c, pi, &up, why, size))
            return false;
    if (up != c->up_count)
        return fail(why, size, "%zu peers are up but %zu are counted", up, c->up_count);
    return true;
}
