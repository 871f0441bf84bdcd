/*
 * core/conn.c: the connection layer (see conn.h for the protocol).  Links
 * live in an array indexed through an id map; peers are found by name
 * through a string map.  Callbacks to the upper layer are made last in each
 * handler, after this layer's state is consistent, because they may call
 * back into it.
 */
#include "conn_internal.h"
#include "strcopy.h"

#include <xxhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(void *) != 8 || sizeof(struct conn_link) == 80, "a link packs into 80 bytes");

#define TAG(kind, arg) CS_TAG(CS_TAG_CONN, kind, arg)

void conn_config_defaults(struct conn_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->tick_timeout = CS_SEC(60);
    cfg->setup_timeout = CS_SEC(7);
    cfg->port = 4369;
    cfg->max_pending_inbound = 1024;
    cfg->max_pending_per_source = 16;
}

struct conn *conn_new(struct cs_env *env, const struct conn_config *cfg, const char *self,
                      uint32_t creation, const struct conn_callbacks *cb)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->env = env;
    c->cfg = *cfg;
    c->cb = *cb;
    cs_copy_str(c->self, sizeof c->self, self);
    c->creation = creation;
    cs_auth_key(cfg->secret, &c->key);
    cs_auth_tag_key(&c->key, CS_AUTH_PROOF_PURPOSE, &c->proof_key);
    c->source_seed = XXH3_64bits(c->proof_key.bytes, sizeof c->proof_key.bytes);
    cs_idmap_init(&c->link_index);
    cs_idmap_init(&c->query_peer);
    cs_refmap_init(&c->peer_index);
    cs_strmap_init(&c->claims);
    cs_idmap_init(&c->pending_by_source);
    c->white_count = conn_patterns_compile(cfg->whitelist, cfg->whitelist_count, c->white);
    c->black_count = conn_patterns_compile(cfg->blacklist, cfg->blacklist_count, c->black);
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->white_count; i++)
        regfree(&c->white[i]);
    for (size_t i = 0; i < c->black_count; i++)
        regfree(&c->black[i]);
    cs_idmap_free(&c->link_index);
    cs_idmap_free(&c->query_peer);
    cs_refmap_free(&c->peer_index);
    cs_strmap_free(&c->claims);
    cs_idmap_free(&c->pending_by_source);
    free(c->pending);
    for (size_t i = 0; i < c->link_count; i++) {
        free(c->links[i].claimed);
        free(c->links[i].seal);
    }
    free(c->links);
    free(c->free_links);
    free(c->setup_fifo);
    free(c->peers);
    for (size_t i = 0; i < c->peer_count; i++)
        free(c->peer_names[i]);
    free(c->peer_names);
    free(c);
}

const char *conn_down_reason_name(enum conn_down_reason why)
{
    static const char *const names[] = {"?", "closed", "tick_timeout", "leave", "disconnect", "replaced"};
    return (unsigned)why < sizeof names / sizeof names[0] ? names[why] : "?";
}

const struct conn_stats *conn_stats(const struct conn *c)
{
    return &c->stats;
}

bool conn_frame_is_tick(const uint8_t *data, size_t len)
{
    return len == 1 && data[0] == CONN_FRAME_TICK;
}

void conn_start(struct conn *c)
{
    c->env->timer_start(c->env, c->cfg.tick_timeout / 4, TAG(CONN_TIMER_TICK, 0));
}

/* ---- peers and links ---- */

int32_t conn_peer_find(const struct conn *c, const char *name)
{
    return cs_refmap_get(&c->peer_index, name);
}

int32_t conn_peer_get(struct conn *c, const char *name)
{
    int32_t idx = conn_peer_find(c, name);
    if (idx >= 0)
        return idx;
    if (c->peer_count == c->peer_cap) {
        size_t cap = c->peer_cap ? c->peer_cap * 2 : 16;
        struct conn_peer *p = realloc(c->peers, cap * sizeof *p);
        if (!p)
            return -1;
        c->peers = p;
        char **n = realloc(c->peer_names, cap * sizeof *n);
        if (!n)
            return -1;
        c->peer_names = n;
        c->peer_cap = cap;
    }
    idx = (int32_t)c->peer_count;
    char *copy = strdup(name);
    if (!copy || cs_refmap_put(&c->peer_index, copy, idx) != 0) {
        free(copy);
        return -1;
    }
    c->peers[idx] = (struct conn_peer){.up = -1, .dialling = -1, .accepting = -1, .resolving = 0};
    c->peer_epoch++;
    c->peer_names[idx] = copy;
    c->peer_count++;
    conn_claim_adopt(c, idx, name);
    return idx;
}

/* Queues a link's set-up deadline and makes sure the timer runs. */
static void setup_watch(struct conn *c, cs_link_id id, cs_time deadline)
{
    if (c->setup_count == c->setup_cap) {
        size_t cap = c->setup_cap ? c->setup_cap * 2 : 16;
        struct setup_deadline *f = malloc(cap * sizeof *f);
        if (!f)
            return;
        for (size_t k = 0; k < c->setup_count; k++)
            f[k] = c->setup_fifo[(c->setup_head + k) % c->setup_cap];
        free(c->setup_fifo);
        c->setup_fifo = f;
        c->setup_head = 0;
        c->setup_cap = cap;
    }
    c->setup_fifo[(c->setup_head + c->setup_count++) % c->setup_cap] =
        (struct setup_deadline){id, deadline};
    if (!c->setup_timer_armed) {
        c->env->timer_start(c->env, c->cfg.setup_timeout, TAG(CONN_TIMER_SETUP, 0));
        c->setup_timer_armed = true;
    }
}

const char *conn_link_peer(const struct conn *c, const struct conn_link *l)
{
    return l->peer >= 0 ? c->peer_names[l->peer] : "";
}

static int32_t link_new(struct conn *c, cs_link_id id, bool outbound, int32_t peer)
{
    size_t i;
    if (c->free_count > 0) {
        i = (size_t)c->free_links[--c->free_count];
    } else {
        if (c->link_count == c->link_cap) {
            size_t cap = c->link_cap ? c->link_cap * 2 : 16;
            struct conn_link *l = realloc(c->links, cap * sizeof *l);
            if (!l)
                return -1;
            c->links = l;
            int32_t *f = realloc(c->free_links, cap * sizeof *f);
            if (!f)
                return -1;
            c->free_links = f;
            c->link_cap = cap;
        }
        i = c->link_count++;
    }
    struct conn_link *l = &c->links[i];
    memset(l, 0, sizeof *l);
    l->state = outbound ? LS_CONNECTING : LS_WAIT_HELLO;
    l->id = id;
    l->outbound = outbound;
    l->peer = peer;
    l->pending_slot = -1;
    l->accepting_for = -1;
    l->last_heard = l->last_sent = c->env->now(c->env);
    setup_watch(c, id, l->last_heard + c->cfg.setup_timeout);
    cs_idmap_put(&c->link_index, id, (int32_t)i);
    if (c->env->link_set_cookie)
        c->env->link_set_cookie(c->env, id, (uint32_t)i + 1);
    if (c->env->link_limit)
        c->env->link_limit(c->env, id, CONN_HANDSHAKE_FRAME_MAX);
    return (int32_t)i;
}

void conn_link_release(struct conn *c, int32_t li, bool close_transport)
{
    struct conn_link *l = &c->links[li];
    if (l->state == LS_FREE)
        return; /* released already: never put a slot on the free list twice */
    conn_pending_remove(c, li);
    conn_unclaim(c, li);
    int32_t pi = l->peer;
    if (pi >= 0) {
        c->peer_epoch++;
        if (c->peers[pi].up == li) {
            c->peers[pi].up = -1;
            c->up_count--;
            c->up_digest -= XXH3_64bits(c->peer_names[pi], strlen(c->peer_names[pi]));
        }
        if (c->peers[pi].dialling == li)
            c->peers[pi].dialling = -1;
        if (c->peers[pi].accepting == li)
            c->peers[pi].accepting = -1;
    }
    cs_idmap_del(&c->link_index, l->id);
    if (close_transport)
        c->env->link_close(c->env, l->id);
    l->state = LS_FREE;
    free(l->claimed);
    l->claimed = NULL;
    free(l->seal);
    l->seal = NULL;
    c->free_links[c->free_count++] = li;
}

bool conn_name_allowed(const struct conn *c, const char *name)
{
    for (size_t i = 0; i < c->black_count; i++)
        if (regexec(&c->black[i], name, 0, NULL, 0) == 0)
            return false;
    if (c->white_count == 0)
        return true;
    for (size_t i = 0; i < c->white_count; i++)
        if (regexec(&c->white[i], name, 0, NULL, 0) == 0)
            return true;
    return false;
}

/* Sends a frame on a link, sealed when the link is; -1 when it cannot. */
static int send_raw(struct conn *c, struct conn_link *l, const uint8_t *frame, size_t len)
{
    if (!l->seal)
        return c->env->link_send(c->env, l->id, frame, len);
    uint8_t small[2048 + CONN_SEAL_OVERHEAD];
    uint8_t *out = len + CONN_SEAL_OVERHEAD <= sizeof small ? small : malloc(len + CONN_SEAL_OVERHEAD);
    if (!out)
        return -1;
    int rc = c->env->link_send(c->env, l->id, out, conn_seal(l, frame, len, out));
    if (out != small)
        free(out);
    return rc;
}

void conn_send_frame(struct conn *c, struct conn_link *l, const struct cs_writer *w)
{
    if (w->overflow)
        return;
    send_raw(c, l, w->buf, w->len);
    l->last_sent = c->env->now(c->env);
    c->stats.frames_out++;
}

static const char *nok_text(unsigned reason)
{
    static const char *const text[] = {"?", "unknown protocol version", "wrong name",
                                       "wrong secret", "not allowed", "stopping",
                                       "already connected", "simultaneous connect", "malformed frame"};
    return reason < sizeof text / sizeof text[0] ? text[reason] : "?";
}

/* Answers NOK, closes the link and forgets it. */
void conn_reject(struct conn *c, int32_t li, enum nok_reason why, const char *detail)
{
    struct conn_link *l = &c->links[li];
    uint8_t buf[2];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, CONN_FRAME_NOK);
    cs_put_u8(&w, (uint8_t)why);
    conn_send_frame(c, l, &w);
    const char *peer = conn_link_label(c, l);
    if (l->peer >= 0)
        cs_logf(c->env, CS_LOG_WARN, "[conn] closed link %u with %s: %s%s%s", l->id, peer,
                nok_text(why), detail ? ": " : "", detail ? detail : "");
    else /* unproven input: logged at powers of two, counted always */
        conn_log_refusal(c, ++c->unproven_refused, "closed link %u%s%s: %s%s%s", l->id,
                         peer[0] ? " claiming " : "", peer, nok_text(why), detail ? ": " : "",
                         detail ? detail : "");
    conn_link_release(c, li, true);
}

/* An outbound attempt ended without a link: forget it, then tell. */
void conn_fail_outbound(struct conn *c, int32_t li, enum conn_fail_reason why, bool close)
{
    char peer[CS_NODE_NAME_MAX];
    cs_copy_str(peer, sizeof peer, conn_link_peer(c, &c->links[li]));
    conn_link_release(c, li, close);
    if (c->cb.connect_failed)
        c->cb.connect_failed(c->cb.ctx, peer, why);
}

static void dial_address(struct conn *c, int32_t pi, const struct cs_addr *addr)
{
    struct cs_addr a = *addr;
    a.port = c->cfg.port;
    cs_link_id id = c->env->link_connect(c->env, &a);
    if (id == 0) {
        if (c->cb.connect_failed)
            c->cb.connect_failed(c->cb.ctx, c->peer_names[pi], CONN_FAIL_REFUSED);
        return;
    }
    int32_t li = link_new(c, id, true, pi);
    if (li >= 0) {
        c->peers[pi].dialling = li;
        c->peer_epoch++;
    }
}

int conn_connect(struct conn *c, const char *peer)
{
    const char *at = strchr(peer, '@');
    if (c->stopping || !at || at == peer || !at[1] || strlen(peer) >= CS_NODE_NAME_MAX ||
        strcmp(peer, c->self) == 0)
        return -1;
    if (!conn_name_allowed(c, peer)) {
        c->stats.not_allowed++;
        return -1;
    }
    int32_t pi = conn_peer_get(c, peer);
    if (pi < 0)
        return -1;
    struct conn_peer *p = &c->peers[pi];
    if (p->up >= 0 || p->dialling >= 0 || p->accepting >= 0 || p->resolving)
        return 0; /* up, or an attempt (ours or theirs) is under way */
    struct cs_addr addr;
    if (cs_addr_parse(at + 1, &addr) == 0) {
        dial_address(c, pi, &addr);
        return 0;
    }
    /* A host name (e.g. an SRV target): resolve it first. */
    p->resolving = c->env->dns_query(c->env, at + 1, CS_DNS_A);
    c->peer_epoch++;
    if (p->resolving)
        cs_idmap_put(&c->query_peer, p->resolving, pi);
    return 0;
}

static void on_resolved(struct conn *c, int32_t pi, const struct cs_dns_answer *ans)
{
    c->peers[pi].resolving = 0;
    c->peer_epoch++;
    const struct conn_peer *p = &c->peers[pi];
    if (p->up >= 0 || p->dialling >= 0 || p->accepting >= 0)
        return; /* the peer's own dial got through meanwhile: a dial now would race it */
    for (size_t i = 0; ans->status == CS_DNS_OK && i < ans->count; i++)
        if (ans->records[i].type == CS_DNS_A || ans->records[i].type == CS_DNS_AAAA) {
            dial_address(c, pi, &ans->records[i].addr);
            return;
        }
    if (c->cb.connect_failed)
        c->cb.connect_failed(c->cb.ctx, c->peer_names[pi], CONN_FAIL_BAD_NAME);
}

void conn_disconnect(struct conn *c, const char *peer)
{
    int32_t pi = conn_peer_find(c, peer);
    if (pi < 0)
        return;
    int32_t up = c->peers[pi].up, dialling = c->peers[pi].dialling;
    if (dialling >= 0)
        conn_link_release(c, dialling, true);
    if (up >= 0) {
        conn_link_release(c, up, true);
        if (c->cb.nodedown)
            c->cb.nodedown(c->cb.ctx, peer, CONN_DOWN_DISCONNECT);
    }
}

int conn_send(struct conn *c, const char *peer, const uint8_t *data, size_t len)
{
    return conn_send_slot(c, conn_peer_find(c, peer), data, len);
}

int conn_send_slot(struct conn *c, int32_t pi, const uint8_t *data, size_t len)
{
    if (pi < 0 || (size_t)pi >= c->peer_count || c->peers[pi].up < 0)
        return -1;
    struct conn_link *l = &c->links[c->peers[pi].up];
    uint8_t small[2048];
    uint8_t *buf = len + 1 <= sizeof small ? small : malloc(len + 1);
    if (!buf)
        return -1;
    buf[0] = CONN_FRAME_DATA;
    memcpy(buf + 1, data, len);
    int rc = send_raw(c, l, buf, len + 1);
    l->last_sent = c->env->now(c->env);
    c->stats.frames_out++;
    if (buf != small)
        free(buf);
    return rc;
}

bool conn_is_up(const struct conn *c, const char *peer)
{
    int32_t pi = conn_peer_find(c, peer);
    return pi >= 0 && c->peers[pi].up >= 0;
}

bool conn_is_connecting(const struct conn *c, const char *peer)
{
    int32_t pi = conn_peer_find(c, peer);
    if (pi < 0) /* an unproven handshake claiming a name we have no record of */
        return c->claims.count > 0 && cs_strmap_get(&c->claims, peer) >= 0;
    return (c->peers[pi].dialling >= 0 || c->peers[pi].accepting >= 0 ||
                       c->peers[pi].resolving);
}

void conn_each_up(const struct conn *c, void (*fn)(void *ctx, const char *peer), void *ctx)
{
    for (size_t i = 0; i < c->peer_count; i++)
        if (c->peers[i].up >= 0)
            fn(ctx, c->peer_names[i]);
}

uint64_t conn_peer_epoch(const struct conn *c)
{
    return c->peer_epoch;
}

size_t conn_up_count(const struct conn *c)
{
    return c->up_count;
}

uint64_t conn_up_digest(const struct conn *c)
{
    return c->up_digest;
}

void conn_shutdown(struct conn *c, bool announce)
{
    c->stopping = true;
    for (size_t i = 0; i < c->link_count; i++) {
        struct conn_link *l = &c->links[i];
        if (l->state == LS_FREE)
            continue;
        if (l->state == LS_UP && announce) {
            uint8_t f = CONN_FRAME_LEAVE;
            send_raw(c, l, &f, 1);
        }
        conn_link_release(c, (int32_t)i, true);
    }
}

static void on_nok(struct conn *c, int32_t li, struct cs_reader *r)
{
    unsigned reason = cs_get_u8(r);
    struct conn_link *l = &c->links[li];
    if (reason == NOK_SIMULTANEOUS) { /* the peer's own dial is the link that stays */
        conn_link_release(c, li, true);
        return;
    }
    if (reason == NOK_DUPLICATE && l->outbound && l->peer >= 0 && c->peers[l->peer].up >= 0) {
        /* The peer's own link to us came up while this dial was under way:
         * we are connected, so this attempt did not fail. */
        conn_link_release(c, li, true);
        return;
    }
    if (l->outbound)
        cs_logf(c->env, CS_LOG_WARN, "[conn] %s refused the link: %s", conn_link_peer(c, l), nok_text(reason));
    else /* a NOK on an inbound link: unproven input, paced like every refusal */
        conn_log_refusal(c, ++c->unproven_refused, "link %u: an unexpected refusal (%s) on an inbound link",
                         l->id, nok_text(reason));
    if (l->outbound)
        conn_fail_outbound(c, li, reason == NOK_AUTH ? CONN_FAIL_AUTH : CONN_FAIL_REJECTED, true);
    else
        conn_link_release(c, li, true);
}

static void peer_lost(struct conn *c, int32_t li, enum conn_down_reason why)
{
    char peer[CS_NODE_NAME_MAX];
    cs_copy_str(peer, sizeof peer, conn_link_peer(c, &c->links[li]));
    conn_link_release(c, li, true);
    cs_trace(c->env, "nodedown", CS_FSTR("peer", peer), CS_FSTR("reason", conn_down_reason_name(why)));
    if (c->cb.nodedown)
        c->cb.nodedown(c->cb.ctx, peer, why);
}

static void handle_frame(struct conn *c, int32_t li, const uint8_t *data, size_t len);

/* A frame from the transport: opened first on a sealed link. */
static void on_frame(struct conn *c, int32_t li, const uint8_t *data, size_t len)
{
    struct conn_link *l = &c->links[li];
    if (!l->seal) {
        handle_frame(c, li, data, len);
        return;
    }
    uint8_t small[2048];
    uint8_t *inner = len <= sizeof small ? small : malloc(len);
    size_t inner_len = 0;
    if (inner && conn_open(l, data, len, inner, &inner_len)) {
        handle_frame(c, li, inner, inner_len);
    } else if (inner) {
        c->stats.bad_mac++;
        cs_logf(c->env, CS_LOG_WARN, "[conn] closed link with %s: a frame failed authentication (%zu bytes)",
                conn_link_peer(c, l), len);
        peer_lost(c, li, CONN_DOWN_CLOSED);
    }
    if (inner != small)
        free(inner);
}

static void handle_frame(struct conn *c, int32_t li, const uint8_t *data, size_t len)
{
    struct cs_reader r;
    cs_reader_init(&r, data, len);
    uint8_t type = cs_get_u8(&r);
    struct conn_link *l = &c->links[li];
    c->stats.frames_in++;
    l->last_heard = c->env->now(c->env);
    if (l->state != LS_UP && len > CONN_HANDSHAKE_FRAME_MAX) {
        c->stats.oversized_frames++;
        conn_log_refusal(c, c->stats.oversized_frames, "closed link %u: a %zu-byte frame during the handshake",
                         l->id, len);
        if (l->outbound)
            conn_fail_outbound(c, li, CONN_FAIL_REJECTED, true);
        else
            conn_link_release(c, li, true);
        return;
    }
    if (type == CONN_FRAME_NOK && l->state != LS_UP) {
        on_nok(c, li, &r);
        return;
    }
    switch (l->state) {
    case LS_WAIT_HELLO:
        if (type == CONN_FRAME_HELLO) {
            conn_on_hello(c, li, &r);
            return;
        }
        break;
    case LS_WAIT_CHALLENGE:
        if (type == CONN_FRAME_CHALLENGE) {
            conn_on_challenge(c, li, &r);
            return;
        }
        break;
    case LS_WAIT_REPLY:
        if (type == CONN_FRAME_REPLY) {
            conn_on_reply(c, li, &r);
            return;
        }
        break;
    case LS_WAIT_ACK:
        if (type == CONN_FRAME_ACK && cs_reader_done(&r)) {
            conn_link_established(c, li);
            return;
        }
        break;
    case LS_UP:
        if (type == CONN_FRAME_DATA) {
            if (c->cb.message)
                c->cb.message(c->cb.ctx, conn_link_peer(c, l), l->peer, data + 1, len - 1);
            return;
        }
        if (type == CONN_FRAME_TICK && cs_reader_done(&r))
            return;
        if (type == CONN_FRAME_LEAVE && cs_reader_done(&r)) {
            c->stats.leaves_received++;
            peer_lost(c, li, CONN_DOWN_LEAVE);
            return;
        }
        break;
    default:
        break;
    }
    c->stats.malformed++;
    char detail[48];
    snprintf(detail, sizeof detail, "unexpected frame type %u (%zu bytes)", type, len);
    if (l->state == LS_UP) {
        cs_logf(c->env, CS_LOG_WARN, "[conn] closed link with %s: %s", conn_link_peer(c, l), detail);
        peer_lost(c, li, CONN_DOWN_CLOSED);
    } else if (l->outbound) {
        cs_logf(c->env, CS_LOG_WARN, "[conn] closed link %u: %s", l->id, detail);
        conn_fail_outbound(c, li, CONN_FAIL_REJECTED, true);
    } else {
        conn_reject(c, li, NOK_MALFORMED, detail);
    }
}

/* ---- events ---- */

static void on_link_up(struct conn *c, cs_link_id id, bool inbound, const struct cs_addr *from)
{
    if (inbound) {
        uint32_t source;
        if (c->stopping || !conn_admit_inbound(c, from, &source)) {
            c->env->link_close(c->env, id);
            return;
        }
        int32_t li = link_new(c, id, false, -1);
        if (li >= 0)
            conn_pending_add(c, li, source);
        return;
    }
    int32_t li = cs_idmap_get(&c->link_index, id);
    if (li >= 0 && c->links[li].state == LS_CONNECTING)
        conn_send_hello(c, &c->links[li]);
}

static void on_link_down(struct conn *c, cs_link_id id)
{
    int32_t li = cs_idmap_get(&c->link_index, id);
    if (li < 0)
        return;
    if (c->links[li].state == LS_UP) {
        peer_lost(c, li, CONN_DOWN_CLOSED);
    } else if (c->links[li].outbound) {
        c->stats.refused++;
        conn_fail_outbound(c, li, CONN_FAIL_REFUSED, false);
    } else {
        conn_link_release(c, li, false);
    }
}

static void setup_expired(struct conn *c, cs_link_id id)
{
    int32_t li = cs_idmap_get(&c->link_index, id);
    if (li < 0 || c->links[li].state == LS_UP)
        return; /* set up in time, or gone already */
    c->stats.setup_timeouts++;
    if (c->links[li].peer >= 0)
        cs_logf(c->env, CS_LOG_WARN, "[conn] link %u to %s not set up within the set-up timeout", id,
                conn_link_peer(c, &c->links[li]));
    else
        conn_log_refusal(c, ++c->unproven_refused, "inbound link %u%s%s not set up within the set-up timeout",
                         id, c->links[li].claimed ? " claiming " : "", c->links[li].claimed ? c->links[li].claimed : "");
    if (c->links[li].outbound)
        conn_fail_outbound(c, li, CONN_FAIL_TIMEOUT, true);
    else
        conn_link_release(c, li, true);
}

/* The set-up timer: expire every due deadline, then wait for the next. */
static void on_setup_timer(struct conn *c)
{
    c->setup_timer_armed = false;
    cs_time now = c->env->now(c->env);
    while (c->setup_count > 0) {
        struct setup_deadline d = c->setup_fifo[c->setup_head];
        if (d.deadline > now) {
            c->env->timer_start(c->env, d.deadline - now, TAG(CONN_TIMER_SETUP, 0));
            c->setup_timer_armed = true;
            return;
        }
        c->setup_head = (c->setup_head + 1) % c->setup_cap;
        c->setup_count--;
        setup_expired(c, d.id);
    }
}

static void on_tick(struct conn *c)
{
    cs_time now = c->env->now(c->env);
    cs_time interval = c->cfg.tick_timeout / 4;
    for (size_t i = 0; i < c->link_count; i++) {
        struct conn_link *l = &c->links[i];
        if (l->state != LS_UP)
            continue;
        if (now - l->last_heard > c->cfg.tick_timeout) {
            c->stats.tick_timeouts++;
            cs_logf(c->env, CS_LOG_WARN, "[conn] %s silent for more than the tick timeout",
                    conn_link_peer(c, l));
            peer_lost(c, (int32_t)i, CONN_DOWN_TICK_TIMEOUT);
            continue;
        }
        if (now - l->last_sent >= interval) {
            uint8_t tick = CONN_FRAME_TICK;
            struct cs_writer w = {.buf = &tick, .cap = 1, .len = 1};
            conn_send_frame(c, l, &w);
        }
    }
    if (!c->stopping)
        c->env->timer_start(c->env, interval, TAG(CONN_TIMER_TICK, 0));
}

/* The link a message came on: the slot its cookie names when that slot
 * holds the link (a cookie only saves the lookup), else the lookup's. */
static int32_t link_of_message(const struct conn *c, const struct cs_event *ev)
{
    uint32_t slot = ev->u.msg.cookie - 1;
    if (ev->u.msg.cookie != 0 && slot < c->link_count && c->links[slot].id == ev->u.msg.link &&
        c->links[slot].state != LS_FREE)
        return (int32_t)slot;
    return cs_idmap_get(&c->link_index, ev->u.msg.link);
}

bool conn_handle(struct conn *c, const struct cs_event *ev)
{
    switch (ev->type) {
    case CS_EV_LINK_UP:
        on_link_up(c, ev->u.link_up.link, ev->u.link_up.inbound, &ev->u.link_up.peer);
        return true;
    case CS_EV_LINK_DOWN:
        on_link_down(c, ev->u.link_down.link);
        return true;
    case CS_EV_LINK_MSG: {
        int32_t li = link_of_message(c, ev);
        if (li >= 0)
            on_frame(c, li, ev->u.msg.data, ev->u.msg.len);
        return true;
    }
    case CS_EV_TIMER:
        if (CS_TAG_MODULE_OF(ev->u.timer.tag) != CS_TAG_CONN)
            return false;
        if (CS_TAG_KIND_OF(ev->u.timer.tag) == CONN_TIMER_SETUP)
            on_setup_timer(c);
        else
            on_tick(c);
        return true;
    case CS_EV_DNS: {
        int32_t pi = cs_idmap_get(&c->query_peer, ev->u.dns.query);
        if (pi < 0)
            return false;
        cs_idmap_del(&c->query_peer, ev->u.dns.query);
        on_resolved(c, pi, ev->u.dns.answer);
        return true;
    }
    default:
        return false;
    }
}
