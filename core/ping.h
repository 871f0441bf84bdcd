/*
 * core/ping.h: the ping protocol, a tiny test protocol that exercises the
 * whole simulated path (timers, links, datagrams, DNS, lifecycle) before the
 * real cluster core exists, and stays afterwards as a test fixture.
 *
 * Each node discovers peers (a static address list, or the A records of a
 * DNS name polled periodically), keeps one outbound link per discovered peer,
 * pings every peer each interval over the link and with a datagram, and
 * records replies.  Its view is the set of peers that answered recently; it
 * is settled when that view equals what discovery found.
 */
#ifndef CS_PING_H
#define CS_PING_H

#include "addr.h"
#include "proto.h"

enum ping_discovery { PING_DISCOVER_STATIC = 0, PING_DISCOVER_DNS };

struct ping_config {
    enum ping_discovery discovery;
    char dns_name[CS_DNS_NAME_MAX];     /* DNS discovery: the name to query */
    const struct cs_addr *static_peers; /* static discovery */
    size_t static_count;
    cs_time poll_interval;   /* discovery round (DNS) and reconnect attempts */
    cs_time ping_interval;   /* one ping per peer per interval */
    cs_time peer_timeout;    /* a peer silent this long leaves the view */
    bool datagrams;          /* also send a datagram ping per interval */
};

/* The protocol's operations (see core/proto.h). */
extern const struct cs_proto ping_proto;

/* Fills `cfg` with defaults: static discovery, 1 s polling and pinging,
 * 3 s peer timeout, datagrams on. */
void ping_config_defaults(struct ping_config *cfg);

/* Counters of one instance, for tests and reports. */
struct ping_stats {
    uint64_t pings_sent, pongs_received, dgrams_received, malformed, commands_ignored;
    uint64_t dns_failures;
};

/* Reads the counters of an instance created by ping_proto.create. */
void ping_get_stats(void *instance, struct ping_stats *out);

#endif
