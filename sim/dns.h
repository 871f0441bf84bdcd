/*
 * sim/dns.h: the DNS model.  A zone of A/AAAA/SRV records with their
 * history (a change reaches resolvers only after the propagation delay),
 * one caching resolver per node honouring TTLs, answers truncated to at most
 * K records, NXDOMAIN for unknown names, and outage windows that answer
 * SERVFAIL, NXDOMAIN or nothing (a timeout).
 */
#ifndef SIM_DNS_H
#define SIM_DNS_H

#include "../core/env.h"

struct sim_world;
struct sim_event;

struct sim_dns_rr {
    char name[CS_DNS_NAME_MAX];
    struct cs_dns_record rec;
    cs_time added, removed; /* zone times; removed = CS_TIME_NEVER while present */
    cs_time shown, hidden;  /* when resolvers see it come and go: each zone change
                               after its own draw of dns.propagation */
};

struct sim_dns_cache_entry {
    char name[CS_DNS_NAME_MAX];
    enum cs_dns_type type;
    cs_time expires;
    uint32_t *rrs;   /* indices into the zone (records are never rewritten) */
    size_t count;
    bool truncated;
};

struct sim_dns_cache {
    struct sim_dns_cache_entry *entries;
    size_t count, capacity;
};

struct sim_dns_outage {
    cs_time from, until;
    enum cs_dns_status mode;
};

struct sim_dns {
    struct sim_dns_rr *rrs;
    size_t rr_count, rr_capacity;
    struct sim_dns_cache *caches; /* one per node */
    struct sim_dns_outage *outages;
    size_t outage_count, outage_capacity;
    struct cs_dns_record *scratch; /* records of the answer being delivered */
    size_t scratch_cap;
};

/* Allocates the model with the scenario's initial zone; -1 out of memory. */
int sim_dns_init(struct sim_world *w);
/* Frees the model. */
void sim_dns_free(struct sim_dns *dns, size_t node_count);

/* Adds a record to the zone now (visible after the propagation delay). */
void sim_dns_add(struct sim_world *w, const char *name, const struct cs_dns_record *rec);
/* Removes matching records (same name, type and address or target). */
void sim_dns_remove(struct sim_world *w, const char *name, const struct cs_dns_record *rec);
/* Starts an outage of the given kind for `duration` (0 = until the end). */
void sim_dns_outage(struct sim_world *w, enum cs_dns_status mode, cs_time duration);
/* Empties a node's resolver cache (a restarted process starts cold). */
void sim_dns_flush_cache(struct sim_world *w, uint32_t node);

/* Starts a query from `node` (see cs_env.dns_query). */
cs_query_id sim_dns_query(struct sim_world *w, uint32_t node, const char *name,
                          enum cs_dns_type type);
/* Delivers a queued answer. */
void sim_dns_handle(struct sim_world *w, const struct sim_event *ev);

#endif
