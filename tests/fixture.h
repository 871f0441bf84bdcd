/*
 * tests/fixture.h: the recording fixture protocol of the model tests
 * (test_net.c, test_dns.c, test_world.c).  Every instance appends each
 * cs_event it receives, stamped with virtual time and its node's clock, to a
 * per-node log that outlives the instance; the tests drive the environment
 * (connect, send, datagrams, queries, timers) through the node's env from
 * the test body and assert on what the logs hold.
 */
#ifndef TESTS_FIXTURE_H
#define TESTS_FIXTURE_H

#include "../shims/sim/sim_env.h"
#include "../sim/world.h"

#define FX_MAX_NODES 16
#define FX_MAX_RECORDS 16
#define FX_TAG_STOP 0x5709u /* the fixture's own "finish stopping" timer */

/* One event as a node saw it. */
struct fx_event {
    enum cs_event_type type;
    uint64_t order;        /* global arrival order over every node */
    cs_time at;            /* virtual time */
    cs_time local;         /* the node's env->now() */
    uint32_t incarnation;  /* of the receiving node */
    uint32_t id;           /* timer, link or query id */
    uint64_t tag;          /* timer tag */
    bool inbound;          /* LINK_UP */
    struct cs_addr addr;   /* LINK_UP peer, datagram source */
    enum cs_link_down_reason reason;
    uint32_t seq;          /* first 4 bytes of a message or datagram (LE) */
    size_t len;
    enum cs_dns_status status;
    bool truncated;
    size_t count;          /* DNS answer records */
    struct cs_addr records[FX_MAX_RECORDS];
    cs_time grace;         /* STOP */
};

struct fx_log {
    struct fx_event *ev;
    size_t count, cap;
};

enum fx_stop_mode {
    FX_STOP_AT_ONCE = 0, /* call env->stopped inside the STOP handler */
    FX_STOP_NEVER,       /* ignore the stop: the grace period must expire */
    FX_STOP_DELAYED,     /* arm a timer of stop_delay, call stopped when it fires */
};

/* The fixture's configuration (sim_options.proto_config); also owns the logs. */
struct fx_config {
    struct fx_log logs[FX_MAX_NODES];
    uint64_t next_order;
    enum fx_stop_mode on_stop;
    cs_time stop_delay;
    bool never_settled;      /* settled() answers false */
    uint64_t idle_tag;       /* timer_can_progress is false for this tag (0: none) */
    size_t connect_back;     /* on the next inbound LINK_UP, open this many links back */
    cs_link_id *opened;      /* ids of those links, in order (room for connect_back) */
    size_t opened_count;
};

/* One test's world. */
struct fx {
    struct scenario sc;
    bool loaded;
    struct sim_world *w;
    struct fx_config cfg;
};

extern const struct cs_proto fx_proto;

/* cmocka setup/teardown: allocate a zeroed struct fx as *state; free it and
 * everything it owns (world, scenario, logs) even when a test failed. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Loads `yaml` and builds its world on the fixture protocol (or on `proto`
 * with `proto_config` when proto is not NULL) with the given seed. */
void fx_open(struct fx *t, const char *yaml, uint64_t seed);
void fx_open_proto(struct fx *t, const char *yaml, uint64_t seed, const struct cs_proto *proto,
                   const void *proto_config);

/* Starts every node now. */
void fx_start_all(struct fx *t);
/* Runs the world up to and including virtual time `t`. */
void fx_run(struct fx *t, cs_time until);

/* The environment of a running node. */
struct cs_env *fx_env(struct fx *t, uint32_t node);
/* Opens a link from `from` to `to`'s current address. */
cs_link_id fx_connect(struct fx *t, uint32_t from, uint32_t to);
/* Sends a 4-byte little-endian sequence number on a link. */
int fx_send(struct fx *t, uint32_t from, cs_link_id link, uint32_t seq);
/* Sends a 4-byte datagram to `to` (any address). */
int fx_dgram_to(struct fx *t, uint32_t from, const struct cs_addr *to, uint32_t seq);
/* Sends a 4-byte datagram to node `to`'s address. */
int fx_dgram(struct fx *t, uint32_t from, uint32_t to, uint32_t seq);
/* Starts a DNS query from a node. */
cs_query_id fx_query(struct fx *t, uint32_t node, const char *name, enum cs_dns_type type);

/* The node's log. */
const struct fx_log *fx_log_of(struct fx *t, uint32_t node);
/* Number of events of `type` a node received. */
size_t fx_count(struct fx *t, uint32_t node, enum cs_event_type type);
/* The n-th (0-based) event of `type` a node received, or NULL. */
const struct fx_event *fx_nth(struct fx *t, uint32_t node, enum cs_event_type type, size_t n);
/* The event of `type` about id (timer, link or query), or NULL. */
const struct fx_event *fx_find(struct fx *t, uint32_t node, enum cs_event_type type, uint32_t id);

/* Parses an address or fails the test. */
struct cs_addr fx_addr(const char *text);

#endif
