/*
 * sim/dns.c: the zone with its change history, per-node caching resolvers,
 * truncation, NXDOMAIN and outage windows.  Resolvers see each zone change
 * after its own draw of dns.propagation.
 */
#include "world.h"
#include "../core/strcopy.h"
#include "../core/grow.h"

#include <stdlib.h>
#include <string.h>

/* An answer in flight: the zone records it holds, by index.  Records are
 * immutable once in the zone (removal only sets `removed`), so indices stay
 * valid; the records themselves are copied out only at delivery, which keeps
 * a thousand in-flight answers of a thousand records small. */
struct dns_payload {
    struct cs_dns_answer answer;
    uint32_t idx[];
};

static int rr_push(struct sim_dns *dns, const char *name, const struct cs_dns_record *rec,
                   cs_time added, cs_time shown)
{
    if (cs_grow((void **)&dns->rrs, &dns->rr_capacity, dns->rr_count + 1, sizeof *dns->rrs) != 0)
        return -1;
    struct sim_dns_rr *rr = &dns->rrs[dns->rr_count++];
    memset(rr, 0, sizeof *rr);
    snprintf(rr->name, sizeof rr->name, "%s", name);
    rr->rec = *rec;
    rr->added = added;
    rr->removed = CS_TIME_NEVER;
    rr->shown = shown;
    rr->hidden = CS_TIME_NEVER;
    return 0;
}

int sim_dns_init(struct sim_world *w)
{
    struct sim_dns *dns = &w->dns;
    memset(dns, 0, sizeof *dns);
    dns->caches = calloc(w->node_count ? w->node_count : 1, sizeof *dns->caches);
    if (!dns->caches)
        return -1;
    /* The initial zone is there from the beginning of time. */
    for (size_t i = 0; i < w->sc->dns.zone_count; i++)
        if (rr_push(dns, w->sc->dns.zone[i].name, &w->sc->dns.zone[i].rec, -CS_TIME_NEVER, -CS_TIME_NEVER) != 0)
            return -1;
    return 0;
}

static void cache_entry_free(struct sim_dns_cache_entry *e)
{
    free(e->rrs);
    e->rrs = NULL;
}

void sim_dns_free(struct sim_dns *dns, size_t node_count)
{
    if (dns->caches) {
        for (size_t i = 0; i < node_count; i++) {
            for (size_t j = 0; j < dns->caches[i].count; j++)
                cache_entry_free(&dns->caches[i].entries[j]);
            free(dns->caches[i].entries);
        }
    }
    free(dns->caches);
    free(dns->rrs);
    free(dns->scratch);
    free(dns->outages);
    memset(dns, 0, sizeof *dns);
}

static bool same_record(const struct cs_dns_record *a, const struct cs_dns_record *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == CS_DNS_SRV)
        return strcmp(a->target, b->target) == 0 && a->port == b->port;
    return cs_addr_compare(&a->addr, &b->addr) == 0;
}

static void trace_record(struct sim_world *w, const char *kind, const char *name,
                         const struct cs_dns_record *rec)
{
    char host[CS_ADDR_STRLEN];
    if (rec->type == CS_DNS_SRV)
        snprintf(host, sizeof host, "%.40s:%u", rec->target, rec->port);
    else
        cs_addr_format(&rec->addr, host, sizeof host);
    sim_trace_event(&w->trace, w->now, NULL, kind, "\"name\":\"%s\",\"type\":%d,\"value\":\"%s\"",
                    name, (int)rec->type, host);
}

/* True when the zone holds this record now (added and not removed). */
static bool rr_present(const struct sim_dns *dns, const char *name, const struct cs_dns_record *rec)
{
    for (size_t i = 0; i < dns->rr_count; i++) {
        const struct sim_dns_rr *rr = &dns->rrs[i];
        if (rr->removed == CS_TIME_NEVER && strcmp(rr->name, name) == 0 && same_record(&rr->rec, rec))
            return true;
    }
    return false;
}

void sim_dns_add(struct sim_world *w, const char *name, const struct cs_dns_record *rec)
{
    trace_record(w, "dns_add", name, rec);
    if (rr_present(&w->dns, name, rec))
        return; /* a zone holds a set: the same record twice is one record */
    rr_push(&w->dns, name, rec, w->now, w->now + sim_dist_sample(&w->sc->dns.propagation, &w->rng_dns));
}

void sim_dns_remove(struct sim_world *w, const char *name, const struct cs_dns_record *rec)
{
    trace_record(w, "dns_remove", name, rec);
    for (size_t i = 0; i < w->dns.rr_count; i++) {
        struct sim_dns_rr *rr = &w->dns.rrs[i];
        if (rr->removed == CS_TIME_NEVER && strcmp(rr->name, name) == 0 && same_record(&rr->rec, rec)) {
            rr->removed = w->now;
            rr->hidden = w->now + sim_dist_sample(&w->sc->dns.propagation, &w->rng_dns);
        }
    }
}

void sim_dns_outage(struct sim_world *w, enum cs_dns_status mode, cs_time duration)
{
    struct sim_dns *dns = &w->dns;
    if (cs_grow((void **)&dns->outages, &dns->outage_capacity, dns->outage_count + 1,
                sizeof *dns->outages) != 0)
        return;
    cs_time until = duration > 0 ? w->now + duration : CS_TIME_NEVER;
    dns->outages[dns->outage_count++] = (struct sim_dns_outage){w->now, until, mode};
    static const char *const modes[] = {"ok", "nxdomain", "servfail", "timeout"};
    sim_trace_event(&w->trace, w->now, NULL, "dns_outage", "\"mode\":\"%s\",\"until\":%lld",
                    (unsigned)mode < 4 ? modes[mode] : "?", (long long)until);
}

void sim_dns_flush_cache(struct sim_world *w, uint32_t node)
{
    struct sim_dns_cache *c = &w->dns.caches[node];
    for (size_t j = 0; j < c->count; j++)
        cache_entry_free(&c->entries[j]);
    c->count = 0;
}

static bool outage_now(const struct sim_world *w, enum cs_dns_status *mode)
{
    for (size_t i = w->dns.outage_count; i-- > 0;) {
        const struct sim_dns_outage *o = &w->dns.outages[i];
        if (o->from <= w->now && w->now < o->until) {
            *mode = o->mode;
            return true;
        }
    }
    return false;
}

/* Whether resolvers see the record at `now`: each zone change reaches them
 * after its own propagation delay. */
static bool rr_visible(const struct sim_dns_rr *rr, cs_time now, const char *name)
{
    return rr->shown <= now && now < rr->hidden && strcmp(rr->name, name) == 0;
}

/* Builds the answer from the zone as resolvers see it now; NULL when out of
 * memory. */
static struct dns_payload *zone_lookup(struct sim_world *w, const char *name, enum cs_dns_type type)
{
    cs_time now = w->now;
    bool name_exists = false;
    size_t total = 0;
    for (size_t i = 0; i < w->dns.rr_count; i++) {
        const struct sim_dns_rr *rr = &w->dns.rrs[i];
        if (!rr_visible(rr, now, name))
            continue;
        name_exists = true;
        total += rr->rec.type == type;
    }
    size_t limit = w->sc->dns.max_answers;
    size_t count = limit && total > limit ? limit : total;
    struct dns_payload *p = calloc(1, sizeof *p + count * sizeof p->idx[0]);
    if (!p)
        return NULL;
    p->answer.status = name_exists ? CS_DNS_OK : CS_DNS_NXDOMAIN;
    p->answer.count = count;
    p->answer.truncated = count < total;
    /* Servers rotate their records: a truncated answer is the window of
     * `limit` records starting at a random offset. */
    size_t offset = p->answer.truncated ? pcg32_below(&w->rng_dns, (uint32_t)total) : 0;
    size_t k = 0;
    for (size_t i = 0; i < w->dns.rr_count; i++) {
        const struct sim_dns_rr *rr = &w->dns.rrs[i];
        if (!rr_visible(rr, now, name) || rr->rec.type != type)
            continue;
        size_t pos = (k + total - offset) % total; /* position in the rotated order */
        if (pos < count)
            p->idx[pos] = (uint32_t)i;
        k++;
    }
    return p;
}

static struct sim_dns_cache_entry *cache_find(struct sim_world *w, uint32_t node, const char *name,
                                              enum cs_dns_type type)
{
    struct sim_dns_cache *c = &w->dns.caches[node];
    for (size_t i = 0; i < c->count; i++)
        if (c->entries[i].type == type && strcmp(c->entries[i].name, name) == 0)
            return &c->entries[i];
    return NULL;
}

static void cache_store(struct sim_world *w, uint32_t node, const char *name,
                        enum cs_dns_type type, const struct dns_payload *p)
{
    uint32_t ttl = UINT32_MAX;
    for (size_t i = 0; i < p->answer.count; i++)
        if (w->dns.rrs[p->idx[i]].rec.ttl_s < ttl)
            ttl = w->dns.rrs[p->idx[i]].rec.ttl_s;
    /* Truncated answers are not cached: a caching resolver retries them
     * (over TCP) instead of serving a partial view for a whole TTL. */
    if (p->answer.status != CS_DNS_OK || p->answer.count == 0 || ttl == 0 || p->answer.truncated)
        return;
    struct sim_dns_cache *c = &w->dns.caches[node];
    struct sim_dns_cache_entry *e = cache_find(w, node, name, type);
    if (!e) {
        if (c->count == c->capacity) {
            size_t cap = c->capacity ? c->capacity * 2 : 4;
            struct sim_dns_cache_entry *n = realloc(c->entries, cap * sizeof *n);
            if (!n)
                return;
            c->entries = n;
            c->capacity = cap;
        }
        e = &c->entries[c->count++];
        memset(e, 0, sizeof *e);
        snprintf(e->name, sizeof e->name, "%s", name);
        e->type = type;
    }
    cache_entry_free(e);
    e->rrs = malloc(p->answer.count * sizeof *e->rrs);
    if (!e->rrs) {
        e->count = 0;
        e->expires = 0;
        return;
    }
    memcpy(e->rrs, p->idx, p->answer.count * sizeof *e->rrs);
    e->count = p->answer.count;
    e->truncated = p->answer.truncated;
    e->expires = w->now + CS_SEC(ttl);
}

static struct dns_payload *payload_new(size_t count)
{
    return calloc(1, sizeof(struct dns_payload) + count * sizeof(uint32_t));
}

cs_query_id sim_dns_query(struct sim_world *w, uint32_t node, const char *name,
                          enum cs_dns_type type)
{
    cs_query_id id = ++w->next_query_id;
    w->stats.dns_queries++;
    struct sim_event ev = {.kind = SEV_DNS_ANSWER, .node = node, .src = node,
                           .incarnation = w->nodes[node].incarnation, .id = id};
    enum cs_dns_status mode;
    struct sim_dns_cache_entry *cached = cache_find(w, node, name, type);
    struct dns_payload *p;
    const char *source = "server";
    if (cached && cached->expires > w->now) {
        p = payload_new(cached->count);
        if (!p)
            return 0;
        memcpy(p->idx, cached->rrs, cached->count * sizeof *p->idx);
        p->answer.count = cached->count;
        p->answer.truncated = cached->truncated;
        p->answer.status = CS_DNS_OK;
        ev.time = w->now;
        source = "cache";
    } else if (outage_now(w, &mode)) {
        p = payload_new(0);
        if (!p)
            return 0;
        p->answer.status = mode;
        ev.time = w->now + (mode == CS_DNS_TIMEOUT ? w->sc->dns.timeout
                                                   : sim_dist_sample(&w->sc->dns.latency, &w->rng_dns));
        source = "outage";
    } else {
        p = zone_lookup(w, name, type);
        if (!p)
            return 0;
        cache_store(w, node, name, type, p);
        ev.time = w->now + sim_dist_sample(&w->sc->dns.latency, &w->rng_dns);
    }
    ev.payload = p;
    sim_trace_event(&w->trace, w->now, w->nodes[node].id, "dns_query",
                    "\"query\":%u,\"name\":\"%s\",\"type\":%d,\"from\":\"%s\"", id, name, (int)type,
                    source);
    if (sim_schedule(w, &ev) < 0) {
        free(p);
        return 0;
    }
    return id;
}

/* Copies a record without the unused tail of its target buffer (an A
 * record's is empty): a whole struct is mostly that buffer. */
static void copy_record(struct cs_dns_record *dst, const struct cs_dns_record *src)
{
    dst->type = src->type;
    dst->ttl_s = src->ttl_s;
    dst->addr = src->addr;
    dst->port = src->port;
    dst->priority = src->priority;
    dst->weight = src->weight;
    cs_copy_str(dst->target, sizeof dst->target, src->target);
}

void sim_dns_handle(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (!sim_node_alive(n) || n->incarnation != ev->incarnation)
        return;
    struct dns_payload *p = ev->payload;
    struct sim_dns *dns = &w->dns;
    if (p->answer.count > dns->scratch_cap) {
        struct cs_dns_record *r = realloc(dns->scratch, p->answer.count * sizeof *r);
        if (!r)
            return;
        dns->scratch = r;
        dns->scratch_cap = p->answer.count;
    }
    for (size_t i = 0; i < p->answer.count; i++)
        copy_record(&dns->scratch[i], &dns->rrs[p->idx[i]].rec);
    p->answer.records = dns->scratch;
    sim_trace_event(&w->trace, w->now, n->id, "dns_answer",
                    "\"query\":%u,\"status\":%d,\"count\":%zu,\"truncated\":%s", ev->id,
                    (int)p->answer.status, p->answer.count, p->answer.truncated ? "true" : "false");
    struct cs_event ce = {.type = CS_EV_DNS};
    ce.u.dns.query = ev->id;
    ce.u.dns.answer = &p->answer;
    sim_deliver(w, ev->node, ev->incarnation, &ce);
}
