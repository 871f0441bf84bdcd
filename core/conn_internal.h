/*
 * core/conn_internal.h: the connection layer's private state, shared by
 * conn.c (links, peers, ticks, events), conn_handshake.c (the
 * HELLO/CHALLENGE/REPLY/ACK exchange), conn_admit.c (what an inbound link
 * may hold before it proves the secret) and conn_check.c (the layer's
 * consistency check).  Not for use outside the layer.
 *
 * The rule that keeps unauthenticated input harmless: an inbound link
 * that has not proven the secret never owns a peer record.  Its claimed
 * name lives in the link (`claimed`).  Only in Erlang's order
 * (cfg.hello_decides, libcluster mode) does it mark a handshake as under
 * way for that name (`accepting`, or the `claims` map for a name with no
 * peer record yet), which makes conn_connect wait, and is undone when the
 * link goes.  Peer records change only on our own dials and on proven
 * links.
 */
#ifndef CS_CONN_INTERNAL_H
#define CS_CONN_INTERNAL_H

#include "addr.h"
#include "auth.h"
#include "conn.h"
#include "idmap.h"
#include "refmap.h"
#include "strmap.h"
#include "wire.h"

#include <regex.h>


enum nok_reason {
    NOK_VERSION = 1, NOK_WRONG_NAME, NOK_AUTH, NOK_NOT_ALLOWED, NOK_STOPPING, NOK_DUPLICATE,
    NOK_SIMULTANEOUS, NOK_MALFORMED,
};

enum link_state {
    LS_FREE = 0,
    LS_CONNECTING,     /* dialler: waiting for the transport */
    LS_WAIT_CHALLENGE, /* dialler: HELLO sent */
    LS_WAIT_ACK,       /* dialler: REPLY sent */
    LS_WAIT_HELLO,     /* acceptor: transport up, nothing heard */
    LS_WAIT_REPLY,     /* acceptor: CHALLENGE sent */
    LS_UP,
};

enum { CONN_TIMER_SETUP = 1, CONN_TIMER_TICK = 2 };

/* An encrypted link's keys and per-direction nonce counters (conn_seal.c),
 * apart from the link: a cluster without encryption (the simulator's
 * default) keeps none. */
struct conn_seal_state {
    uint64_t out, in;
    uint8_t key_out[32], key_in[32];
};

/* Fields ordered so that a link takes 80 bytes with no padding (a node of
 * a 1,000-pod cluster keeps thousands of them). */
struct conn_link {
    enum link_state state;
    cs_link_id id;
    int32_t peer;          /* index into the peer table: set when dialled, or once an
                              inbound link has proven the secret; -1 before */
    uint32_t peer_creation;
    bool outbound;
    /* Inbound links before they prove the secret (conn_admit.c). */
    bool holds_claim;      /* conn.claims maps `claimed` to this link */
    int32_t pending_slot;  /* position in conn.pending, or -1 */
    uint32_t source_key;   /* the dialler's address, hashed (per-source cap) */
    int32_t accepting_for; /* the peer whose `accepting` names this link, or -1 */
    char *claimed;         /* the name its HELLO claimed, unproven (an inbound link's,
                              until it proves the secret or goes), or NULL */
    uint64_t my_challenge, their_challenge;
    cs_time last_heard, last_sent;
    struct conn_seal_state *seal; /* frames are encrypted (cfg.encrypt, once up), or NULL */
};

struct conn_peer {
    int32_t up;       /* link index, or -1 */
    int32_t dialling; /* link index of our outbound attempt, or -1 */
    int32_t accepting;/* link index of an unproven inbound handshake claiming
                         its name (the first one), or -1: conn_connect waits */
    cs_query_id resolving;
};

struct conn {
    struct cs_env *env;
    struct conn_config cfg;
    struct conn_callbacks cb;
    char self[CS_NODE_NAME_MAX];
    uint32_t creation;
    struct cs_mac_key key;
    struct cs_tag_key proof_key; /* handshake proofs (CS_AUTH_PROOF_PURPOSE) */
    regex_t white[CONN_MAX_PATTERNS], black[CONN_MAX_PATTERNS];
    size_t white_count, black_count;
    struct conn_link *links;
    size_t link_count, link_cap;
    int32_t *free_links;   /* indices of LS_FREE slots, reused first */
    size_t free_count;
    /* Set-up deadlines in creation order, watched by a single timer (one
     * timer per link would flood the timer queue in a join storm). */
    struct setup_deadline { cs_link_id id; cs_time deadline; } *setup_fifo;
    size_t setup_head, setup_count, setup_cap;
    bool setup_timer_armed;
    struct cs_idmap link_index; /* link id -> index */
    struct conn_peer *peers;
    uint64_t peer_epoch;   /* bumped by every change of a peer's up, dialling,
                              accepting or resolving (conn_peer_epoch) */
    char **peer_names;     /* owned copies */
    size_t peer_count, peer_cap;
    struct cs_refmap peer_index; /* name (peer_names) -> index */
    struct cs_idmap query_peer;  /* query id -> peer index */
    /* Admission of inbound links (conn_admit.c). */
    int32_t *pending;      /* inbound links that have not proven the secret */
    size_t pending_count, pending_cap;
    struct cs_idmap pending_by_source; /* source key -> pending links from it */
    uint64_t source_seed;  /* hashes source addresses (from the cluster key) */
    struct cs_strmap claims; /* name without a peer record -> the first unproven
                                inbound link claiming it */
    size_t up_count;
    uint64_t up_digest; /* sum of XXH3-64 of up peers' names */
    bool stopping;
    struct conn_stats stats;
    uint64_t unproven_refused; /* unproven links closed (paces their log lines) */
};

/* Shared helpers (conn.c). */
/* The name of the link's peer, or "" while it is unknown. */
const char *conn_link_peer(const struct conn *c, const struct conn_link *l);
int32_t conn_peer_find(const struct conn *c, const char *name);
int32_t conn_peer_get(struct conn *c, const char *name);
void conn_link_release(struct conn *c, int32_t li, bool close_transport);
bool conn_name_allowed(const struct conn *c, const char *name);
void conn_send_frame(struct conn *c, struct conn_link *l, const struct cs_writer *w);
void conn_reject(struct conn *c, int32_t li, enum nok_reason why, const char *detail);
void conn_fail_outbound(struct conn *c, int32_t li, enum conn_fail_reason why, bool close);

/* The handshake (conn_handshake.c). */
void conn_send_hello(struct conn *c, struct conn_link *l);
void conn_on_hello(struct conn *c, int32_t li, struct cs_reader *r);
void conn_on_challenge(struct conn *c, int32_t li, struct cs_reader *r);
void conn_on_reply(struct conn *c, int32_t li, struct cs_reader *r);
void conn_link_established(struct conn *c, int32_t li);

/* Compiles a white or blacklist into `out` (room for CONN_MAX_PATTERNS);
 * returns how many compiled.  Patterns conn_config_check refuses (they do
 * not compile, or would cost too much to) are left out, never compiled for
 * minutes (conn_pattern.c). */
size_t conn_patterns_compile(const char (*patterns)[CONN_PATTERN_MAX], size_t count, regex_t *out);

/* Admission (conn_admit.c). */
/* Whether an inbound link from `from` may be taken: may evict another
 * unproven link to make room; false when the source is over its cap. */
bool conn_admit_inbound(struct conn *c, const struct cs_addr *from, uint32_t *source_key);
/* Counts a new inbound link as pending. */
void conn_pending_add(struct conn *c, int32_t li, uint32_t source_key);
/* The link proved the secret or went: it no longer counts as pending. */
void conn_pending_remove(struct conn *c, int32_t li);
/* Marks an inbound handshake claiming `name` as under way (the first per name). */
void conn_claim(struct conn *c, int32_t li, const char *name);
/* Undoes conn_claim for this link (when it goes or proves the secret). */
void conn_unclaim(struct conn *c, int32_t li);
/* A new peer record: adopts a claim made before the record existed. */
void conn_claim_adopt(struct conn *c, int32_t pi, const char *name);
/* The name to show for a link in logs: its peer's, else what it claimed. */
const char *conn_link_label(const struct conn *c, const struct conn_link *l);
/* Logs a refusal of unauthenticated input, at most once per power of two
 * of its counter (an attacker cannot flood the log). */
void conn_log_refusal(struct conn *c, uint64_t count, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sealing (conn_seal.c): derives the link's two directional keys from the
 * cluster key and both challenges (false out of memory: the link must not
 * go up); seals a frame for sending; opens one (false when its tag does
 * not verify or the counter is off). */
bool conn_seal_keys(struct conn *c, struct conn_link *l);
size_t conn_seal(struct conn_link *l, const uint8_t *frame, size_t len, uint8_t *out);
bool conn_open(struct conn_link *l, const uint8_t *sealed, size_t len, uint8_t *out, size_t *out_len);
#define CONN_SEAL_OVERHEAD 17 /* type byte + 16-byte tag */

#endif
