/*
 * core/conn.h: the node-to-node connection layer (the part of Erlang
 * distribution libcluster relies on).  One authenticated link per peer:
 *
 *   dialler                                   acceptor
 *   HELLO(version, name, dialled name, creation, challenge A)  ->
 *       <- CHALLENGE(version, name, creation, challenge B, proof of A)
 *   REPLY(proof of B)                                          ->
 *       <- ACK                          (both sides: nodeup)
 *
 * A proof is a MAC (SipHash-2-4, 128 bits) of the challenge, a direction tag and both
 * names under a key derived from the cluster secret (core/auth.h): a node without the
 * secret never becomes a member and the secret never crosses the wire.  The
 * acceptor only answers when the dialled name is its own name.  When two
 * nodes dial each other at once, the link dialled by the node whose name
 * sorts greater survives, so exactly one link remains.  Peers are watched
 * with ticks: a peer silent for `tick_timeout` is declared down.  A node
 * stopping gracefully can announce LEAVE so peers drop it at once.
 *
 * Malformed frames, unknown versions, oversized names, wrong secrets and
 * names refused by the white/blacklist close the offending link, bump a
 * counter and log a line; nothing else is affected.
 *
 * Unauthenticated input is bounded and cannot disturb anyone else: an
 * inbound link owns no peer record until its REPLY proves the secret (a
 * HELLO that claims a member's name touches neither that member's link
 * nor its handshakes; the simultaneous-connect and duplicate decisions
 * that give up one of our own links are taken only for a proven link);
 * at most `max_pending_inbound` inbound links may be unproven at once
 * (a new one evicts a random unproven one), at most
 * `max_pending_per_source` from one address, each must prove itself
 * within `setup_timeout`, and its frames may not exceed
 * CONN_HANDSHAKE_FRAME_MAX bytes (told to the binding through
 * env->link_limit, so it never buffers more).
 */
#ifndef CS_CONN_H
#define CS_CONN_H

#include "env.h"
#include "wire.h"
#include "timer_tag.h"

#define CONN_PROTOCOL_VERSION 3 /* 3: a fixed tracker's pull may carry the puller's writes, which
                                   version 2 refuses as malformed; 2: 16-byte SipHash
                                   proofs (1: 32-byte BLAKE2b) */
#define CONN_MAX_PATTERNS 8
#define CONN_PATTERN_MAX 128
/* Frame types: the first byte of every frame. */
enum conn_frame_type {
    CONN_FRAME_HELLO = 1, CONN_FRAME_CHALLENGE, CONN_FRAME_REPLY, CONN_FRAME_ACK, CONN_FRAME_NOK,
    CONN_FRAME_TICK, CONN_FRAME_DATA, CONN_FRAME_LEAVE,
    CONN_FRAME_SEALED, /* an encrypted frame on an up link: AEAD(inner frame) */
};
#define CONN_PROOF_LEN 16 /* CS_AUTH_PROOF_LEN (core/auth.h) */

/* The largest frame before a link is up: a HELLO with two names of
 * CS_NODE_NAME_MAX bytes is under 300. */
#define CONN_HANDSHAKE_FRAME_MAX 1024
/* The largest frame on an up link (what a binding may buffer for it). */
#define CONN_FRAME_MAX (16u << 20)

enum conn_down_reason {
    CONN_DOWN_CLOSED = 1,  /* the link closed or broke */
    CONN_DOWN_TICK_TIMEOUT,/* the peer went silent */
    CONN_DOWN_LEAVE,       /* the peer announced a graceful leave */
    CONN_DOWN_DISCONNECT,  /* this node asked to disconnect */
    CONN_DOWN_REPLACED,    /* the peer restarted and reconnected */
};

enum conn_fail_reason {
    CONN_FAIL_REFUSED = 1, /* nothing listens / the link broke during set-up */
    CONN_FAIL_TIMEOUT,     /* set-up took longer than setup_timeout */
    CONN_FAIL_REJECTED,    /* the peer answered NOK (wrong name, secret, ...) */
    CONN_FAIL_AUTH,        /* the peer could not prove the secret */
    CONN_FAIL_BAD_NAME,    /* the name cannot be dialled or resolved */
    CONN_FAIL_NOT_ALLOWED, /* refused by this node's white/blacklist */
};

struct conn_config {
    char secret[128];
    bool encrypt;           /* seal every frame after the handshake (AEAD, keys from the
                               secret and both handshake challenges); default off */
    cs_time tick_timeout;   /* default 60 s, like net_ticktime */
    cs_time setup_timeout;  /* default 7 s, like net_setuptime */
    uint16_t port;          /* the distribution port peers listen on */
    char whitelist[CONN_MAX_PATTERNS][CONN_PATTERN_MAX]; /* POSIX extended regexes */
    size_t whitelist_count;
    char blacklist[CONN_MAX_PATTERNS][CONN_PATTERN_MAX];
    size_t blacklist_count;
    /* Take the simultaneous-connect decision when a HELLO arrives, before
     * its sender proves the secret, and count the handshake as under way
     * (conn_connect waits for it), as Erlang distribution does (libcluster
     * mode): faithful, and it lets anyone who reaches the port and knows a
     * member's name abort our own dial to that member, or keep us from
     * dialling it.  Default off: both wait for the sender's proof. */
    bool hello_decides;
    size_t max_pending_inbound;    /* unproven inbound links at once; default 1024 */
    size_t max_pending_per_source; /* of them from one address; default 16 */
};

struct conn_callbacks {
    void *ctx;
    void (*nodeup)(void *ctx, const char *peer);
    void (*nodedown)(void *ctx, const char *peer, enum conn_down_reason why);
    /* An outbound attempt ended without a link. */
    void (*connect_failed)(void *ctx, const char *peer, enum conn_fail_reason why);
    /* A DATA frame from an up peer; `slot` is the layer's number for the
     * peer (conn_send_slot). */
    void (*message)(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len);
};

/* Counters of refused input and failures, by reason. */
struct conn_stats {
    uint64_t malformed, bad_version, oversized_name, wrong_name, auth_failed, not_allowed;
    uint64_t simultaneous, duplicate, setup_timeouts, tick_timeouts, refused, leaves_received;
    uint64_t frames_in, frames_out;
    uint64_t bad_mac;       /* sealed frames that failed to open (tampering, injection) */
    uint64_t oversized_frames; /* frames over CONN_HANDSHAKE_FRAME_MAX before a link is up */
    uint64_t pending_evicted;  /* unproven inbound links closed to make room for a new one */
    uint64_t source_refused;   /* unproven inbound links closed: their address had too many */
};

struct conn;

/* Encoders of the handshake's frames, in the layout above: the layer sends
 * with them, and so do the harness's genuine and hostile peers (the
 * simulator's adversary, the fuzz driver), which speak the protocol without
 * a layer of their own. */
void conn_put_hello(struct cs_writer *w, const char *name, const char *dialled, uint32_t creation,
                    uint64_t challenge);
void conn_put_challenge(struct cs_writer *w, const char *name, uint32_t creation, uint64_t challenge,
                        const uint8_t proof[CONN_PROOF_LEN]);
void conn_put_reply(struct cs_writer *w, const uint8_t proof[CONN_PROOF_LEN]);

/* Fills defaults: tick 60 s, set-up 7 s, port 4369, no secret, no lists,
 * 1024 unproven inbound links, 16 per source address. */
void conn_config_defaults(struct conn_config *cfg);

/* Checks the white/blacklist patterns; 0 when all compile, -1 when one
 * does not compile, -2 when one would cost too much to compile (see
 * conn_pattern_cost); the offending pattern's index is then in *bad
 * (blacklist entries after CONN_MAX_PATTERNS). */
int conn_config_check(const struct conn_config *cfg, size_t *bad);

/* The most atoms a pattern may expand to when compiled. */
#define CONN_PATTERN_COST_MAX 4096
/* An estimate of the atoms a pattern expands to when compiled (bounded
 * repetitions multiply what they repeat, nested ones multiply each other);
 * stops counting once over CONN_PATTERN_COST_MAX. */
size_t conn_pattern_cost(const char *pattern);

/* Creates the layer for node `self` (basename@host); `creation` tells this
 * incarnation apart from earlier ones of the same name. NULL on failure. */
struct conn *conn_new(struct cs_env *env, const struct conn_config *cfg, const char *self,
                      uint32_t creation, const struct conn_callbacks *cb);
/* Frees the layer (links are the environment's to drop). */
void conn_free(struct conn *c);
/* Starts the tick timer. */
void conn_start(struct conn *c);

/* Dials a peer by name unless a link exists or is being set up; returns 0
 * when an attempt is under way or the peer is already up, -1 when the name
 * cannot be dialled (connect_failed is not called then). */
int conn_connect(struct conn *c, const char *peer);
/* Drops the link to a peer (nodedown with CONN_DOWN_DISCONNECT if up). */
void conn_disconnect(struct conn *c, const char *peer);
/* Sends a DATA frame to an up peer; -1 if it is not up. */
int conn_send(struct conn *c, const char *peer, const uint8_t *data, size_t len);
/* conn_send to the peer the layer numbers `slot` (the number a message
 * callback gave with its name): peers are numbered in the order the layer
 * first meets their names, and a number never names another peer. */
int conn_send_slot(struct conn *c, int32_t slot, const uint8_t *data, size_t len);
/* True when the peer is up. */
bool conn_is_up(const struct conn *c, const char *peer);
/* True when an outbound attempt to the peer is in progress. */
bool conn_is_connecting(const struct conn *c, const char *peer);
/* Lists the up peers. */
void conn_each_up(const struct conn *c, void (*fn)(void *ctx, const char *peer), void *ctx);
/* Number of up peers. */
size_t conn_up_count(const struct conn *c);
/* A number that changes whenever a peer comes up, goes down, or starts or
 * stops dialling, accepting or resolving: what conn_is_up and
 * conn_is_connecting answer cannot change while it stays the same. */
uint64_t conn_peer_epoch(const struct conn *c);
/* The wrapping sum of XXH3-64 of the up peers' names (kept as peers come
 * and go, so checkers can compare views in O(1)). */
uint64_t conn_up_digest(const struct conn *c);
/* Graceful stop: announce LEAVE to every up peer (if `announce`), close
 * every link, and refuse new ones. */
void conn_shutdown(struct conn *c, bool announce);

/* Offers an event to the layer: link events, its timers and its DNS
 * queries. Returns true when the event was the layer's. */
bool conn_handle(struct conn *c, const struct cs_event *ev);

/* The counters. */
const struct conn_stats *conn_stats(const struct conn *c);

/* The name of a nodedown reason ("closed", "tick_timeout", "leave",
 * "disconnect", "replaced"), as traces show it. */
const char *conn_down_reason_name(enum conn_down_reason why);

/* Inbound links that have not proven the secret yet. */
size_t conn_pending_count(const struct conn *c);

/* Checks the layer's internal consistency (link slots, the free list, the
 * link id map, peer records, pending and claim bookkeeping, counters): true
 * when it holds, else false with the first broken rule in `why`.  O(links +
 * peers); the simulator runs it after every event when asked to. */
bool conn_check(const struct conn *c, char *why, size_t size);

/* True when a frame of this layer is only a keep-alive tick. */
bool conn_frame_is_tick(const uint8_t *data, size_t len);

#endif
