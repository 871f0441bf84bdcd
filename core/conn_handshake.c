/*
 * core/conn_handshake.c: the authenticated handshake of the connection
 * layer (protocol in conn.h): HELLO from the dialler, CHALLENGE with the
 * acceptor's proof, REPLY with the dialler's proof, ACK; the checks on each
 * step (version, name sizes, the dialled name, white/blacklist, duplicates
 * and simultaneous connects) and the switch of a finished link to UP.
 */
#include "conn_internal.h"
#include "strcopy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

_Static_assert(CONN_PROOF_LEN == CS_AUTH_PROOF_LEN, "a handshake proof is one SipHash tag");

void conn_put_hello(struct cs_writer *w, const char *name, const char *dialled, uint32_t creation,
                    uint64_t challenge)
{
    cs_put_u8(w, CONN_FRAME_HELLO);
    cs_put_u16(w, CONN_PROTOCOL_VERSION);
    cs_put_str(w, name);
    cs_put_str(w, dialled);
    cs_put_u32(w, creation);
    cs_put_u64(w, challenge);
}

void conn_put_challenge(struct cs_writer *w, const char *name, uint32_t creation, uint64_t challenge,
                        const uint8_t proof[CONN_PROOF_LEN])
{
    cs_put_u8(w, CONN_FRAME_CHALLENGE);
    cs_put_u16(w, CONN_PROTOCOL_VERSION);
    cs_put_str(w, name);
    cs_put_u32(w, creation);
    cs_put_u64(w, challenge);
    cs_put_bytes(w, proof, CONN_PROOF_LEN);
}

void conn_put_reply(struct cs_writer *w, const uint8_t proof[CONN_PROOF_LEN])
{
    cs_put_u8(w, CONN_FRAME_REPLY);
    cs_put_bytes(w, proof, CONN_PROOF_LEN);
}

void conn_send_hello(struct conn *c, struct conn_link *l)
{
    uint8_t buf[512];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    l->my_challenge = c->env->random_u64(c->env);
    conn_put_hello(&w, c->self, conn_link_peer(c, l), c->creation, l->my_challenge);
    conn_send_frame(c, l, &w);
    l->state = LS_WAIT_CHALLENGE;
}

/* Reads a name, telling an oversized one from other damage. */
static bool read_name(struct conn *c, struct cs_reader *r, char *out, bool *oversized)
{
    if (r->len - r->pos >= 2) {
        size_t len = (size_t)r->buf[r->pos] | (size_t)r->buf[r->pos + 1] << 8;
        if (len >= CS_NODE_NAME_MAX) {
            *oversized = true;
            c->stats.oversized_name++;
            return false;
        }
    }
    cs_get_str(r, out, CS_NODE_NAME_MAX);
    return !r->bad;
}

/* Acceptor side: can this HELLO go on?  Returns a NOK reason or 0.  The
 * sender is not proven yet, so a refusal here may only close its link. */
static enum nok_reason check_hello(struct conn *c, const char *name, const char *dialled,
                                   uint32_t creation, int32_t li)
{
    if (strcmp(dialled, c->self) != 0 || strcmp(name, c->self) == 0 || !strchr(name, '@')) {
        c->stats.wrong_name++;
        return NOK_WRONG_NAME;
    }
    if (!conn_name_allowed(c, name)) {
        c->stats.not_allowed++;
        return NOK_NOT_ALLOWED;
    }
    if (c->stopping)
        return NOK_STOPPING;
    int32_t pi = conn_peer_find(c, name);
    if (pi < 0)
        return 0;
    struct conn_peer *p = &c->peers[pi];
    if (p->up >= 0 && p->up != li && c->links[p->up].peer_creation == creation) {
        c->stats.duplicate++;
        return NOK_DUPLICATE;
    }
    if (p->dialling >= 0 && strcmp(c->self, name) > 0) {
        c->stats.simultaneous++; /* our own attempt wins: we sort greater */
        return NOK_SIMULTANEOUS;
    }
    return 0;
}

/* Erlang distribution's order (cfg.hello_decides): as its net_kernel marks
 * a handshake pending when the name arrives, before any proof, our own
 * dial to a peer that sorts greater gives way at once, and so does an
 * older unfinished handshake claiming the same name; the handshake then
 * counts as under way for that name (conn_connect waits for it).  Only
 * links are closed; the peer record is left to proven links. */
static void decide_on_hello(struct conn *c, int32_t li, const char *name)
{
    int32_t pi = conn_peer_find(c, name);
    if (pi < 0) {
        int32_t older = c->claims.count ? cs_strmap_get(&c->claims, name) : -1;
        if (older >= 0 && older != li)
            conn_link_release(c, older, true);
        return;
    }
    if (c->peers[pi].dialling >= 0) /* check_hello refused it when we sort greater */
        conn_link_release(c, c->peers[pi].dialling, true);
    if (c->peers[pi].accepting >= 0 && c->peers[pi].accepting != li)
        conn_link_release(c, c->peers[pi].accepting, true);
}

void conn_on_hello(struct conn *c, int32_t li, struct cs_reader *r)
{
    char name[CS_NODE_NAME_MAX], dialled[CS_NODE_NAME_MAX];
    bool oversized = false;
    uint16_t version = cs_get_u16(r);
    if (!r->bad && version != CONN_PROTOCOL_VERSION) {
        c->stats.bad_version++;
        char detail[32];
        snprintf(detail, sizeof detail, "version %u", version);
        conn_reject(c, li, NOK_VERSION, detail);
        return;
    }
    if (!read_name(c, r, name, &oversized) || !read_name(c, r, dialled, &oversized)) {
        if (!oversized)
            c->stats.malformed++;
        conn_reject(c, li, NOK_MALFORMED, oversized ? "oversized name" : "bad HELLO");
        return;
    }
    uint32_t creation = cs_get_u32(r);
    uint64_t their_challenge = cs_get_u64(r);
    if (!cs_reader_done(r)) {
        c->stats.malformed++;
        conn_reject(c, li, NOK_MALFORMED, "bad HELLO");
        return;
    }
    enum nok_reason why = check_hello(c, name, dialled, creation, li);
    if (why) {
        conn_reject(c, li, why, name);
        return;
    }
    /* Otherwise nothing of ours changes until the sender proves the secret
     * (its REPLY), not even whether we dial the name it claims: a stream of
     * unproven HELLOs claiming a member would keep us from dialling it. */
    struct conn_link *l = &c->links[li];
    free(l->claimed); /* (a second HELLO is refused before this) */
    if (!(l->claimed = strdup(name))) {
        conn_reject(c, li, NOK_MALFORMED, "out of memory");
        return;
    }
    if (c->cfg.hello_decides) {
        decide_on_hello(c, li, name);
        conn_claim(c, li, name);
    }
    l->peer_creation = creation;
    l->their_challenge = their_challenge;
    l->my_challenge = c->env->random_u64(c->env);
    uint8_t buf[512], proof[CS_AUTH_PROOF_LEN];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_auth_proof(&c->proof_key, "accept", their_challenge, c->self, name, proof);
    conn_put_challenge(&w, c->self, c->creation, l->my_challenge, proof);
    conn_send_frame(c, l, &w);
    l->state = LS_WAIT_REPLY;
}

/* The handshake finished: the link becomes the peer's link. */
void conn_link_established(struct conn *c, int32_t li)
{
    struct conn_link *l = &c->links[li];
    char peer[CS_NODE_NAME_MAX];
    cs_copy_str(peer, sizeof peer, conn_link_peer(c, l));
    if (c->cfg.encrypt && !conn_seal_keys(c, l)) { /* never up in the clear */
        cs_logf(c->env, CS_LOG_ERROR, "[conn] out of memory: link %u to %s closed", l->id, peer);
        conn_link_release(c, li, true);
        return;
    }
    l->state = LS_UP; /* from now on every frame is sealed when the cluster encrypts */
    l->last_heard = c->env->now(c->env); /* no longer pending: adopt_proven saw to it */
    if (c->env->link_limit)
        c->env->link_limit(c->env, l->id, CONN_FRAME_MAX);
    int32_t pi = conn_peer_get(c, peer);
    if (pi < 0)
        return;
    bool replaced = false;
    int32_t old = c->peers[pi].up;
    if (old >= 0 && old != li) {
        if (c->links[old].peer_creation == l->peer_creation) {
            /* A second link to the same incarnation finished: keep the one
             * already in use, quietly drop this one. */
            c->stats.duplicate++;
            conn_link_release(c, li, true);
            return;
        }
        conn_link_release(c, old, true); /* the peer restarted: its old link is stale */
        replaced = true;
    }
    if (c->peers[pi].dialling == li)
        c->peers[pi].dialling = -1;
    if (c->peers[pi].accepting == li)
        c->peers[pi].accepting = -1;
    c->peers[pi].up = li;
    c->peer_epoch++;
    c->up_count++;
    c->up_digest += XXH3_64bits(peer, strlen(peer));
    cs_trace(c->env, "nodeup", CS_FSTR("peer", peer));
    if (replaced && c->cb.nodedown)
        c->cb.nodedown(c->cb.ctx, peer, CONN_DOWN_REPLACED);
    if (c->cb.nodeup)
        c->cb.nodeup(c->cb.ctx, peer);
}

void conn_on_challenge(struct conn *c, int32_t li, struct cs_reader *r)
{
    struct conn_link *l = &c->links[li];
    char name[CS_NODE_NAME_MAX];
    bool oversized = false;
    uint16_t version = cs_get_u16(r);
    if (!r->bad && version != CONN_PROTOCOL_VERSION) {
        c->stats.bad_version++;
        conn_reject(c, li, NOK_VERSION, "in CHALLENGE");
        return;
    }
    read_name(c, r, name, &oversized);
    uint32_t creation = cs_get_u32(r);
    uint64_t their_challenge = cs_get_u64(r);
    uint8_t proof[CS_AUTH_PROOF_LEN];
    cs_get_bytes(r, proof, sizeof proof);
    if (!cs_reader_done(r)) {
        if (!oversized)
            c->stats.malformed++;
        conn_reject(c, li, NOK_MALFORMED, oversized ? "oversized name" : "bad CHALLENGE");
        return;
    }
    if (strcmp(name, conn_link_peer(c, l)) != 0) {
        c->stats.wrong_name++;
        conn_reject(c, li, NOK_WRONG_NAME, name);
        return;
    }
    if (!cs_auth_proof_ok(&c->proof_key, "accept", l->my_challenge, name, c->self, proof)) {
        c->stats.auth_failed++;
        char peer[CS_NODE_NAME_MAX];
        cs_copy_str(peer, sizeof peer, conn_link_peer(c, l));
        conn_reject(c, li, NOK_AUTH, "the peer could not prove the cluster secret");
        if (c->cb.connect_failed)
            c->cb.connect_failed(c->cb.ctx, peer, CONN_FAIL_AUTH);
        return;
    }
    l->peer_creation = creation;
    l->their_challenge = their_challenge;
    uint8_t buf[64];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_auth_proof(&c->proof_key, "dial", their_challenge, c->self, name, proof);
    conn_put_reply(&w, proof);
    conn_send_frame(c, l, &w);
    l->state = LS_WAIT_ACK;
}

/* The inbound link proved the secret: the decisions deferred from its
 * HELLO are taken now.  A second link to the same incarnation, or our own
 * dial when we sort greater, wins over it (it is refused, and the dialler
 * keeps the other); when we sort lower our own dial gives way.  Returns
 * false when the link was refused. */
static bool adopt_proven(struct conn *c, int32_t li)
{
    conn_unclaim(c, li);
    conn_pending_remove(c, li);
    char name[CS_NODE_NAME_MAX];
    cs_copy_str(name, sizeof name, c->links[li].claimed ? c->links[li].claimed : "");
    free(c->links[li].claimed); /* proven: the peer's name is its label from now on */
    c->links[li].claimed = NULL;
    int32_t pi = conn_peer_get(c, name);
    if (pi < 0) {
        conn_reject(c, li, NOK_MALFORMED, "out of memory");
        return false;
    }
    struct conn_peer *p = &c->peers[pi];
    if (p->up >= 0 && c->links[p->up].peer_creation == c->links[li].peer_creation) {
        c->stats.duplicate++;
        conn_reject(c, li, NOK_DUPLICATE, name);
        return false;
    }
    if (p->dialling >= 0) {
        if (strcmp(c->self, name) > 0) {
            c->stats.simultaneous++;
            conn_reject(c, li, NOK_SIMULTANEOUS, name);
            return false;
        }
        conn_link_release(c, p->dialling, true);
    }
    c->links[li].peer = pi;
    c->peer_epoch++;
    return true;
}

void conn_on_reply(struct conn *c, int32_t li, struct cs_reader *r)
{
    struct conn_link *l = &c->links[li];
    uint8_t proof[CS_AUTH_PROOF_LEN];
    cs_get_bytes(r, proof, sizeof proof);
    if (!cs_reader_done(r)) {
        c->stats.malformed++;
        conn_reject(c, li, NOK_MALFORMED, "bad REPLY");
        return;
    }
    if (!cs_auth_proof_ok(&c->proof_key, "dial", l->my_challenge, l->claimed ? l->claimed : "", c->self, proof)) {
        c->stats.auth_failed++;
        conn_reject(c, li, NOK_AUTH, "the peer could not prove the cluster secret");
        return;
    }
    if (!adopt_proven(c, li))
        return;
    uint8_t ack = CONN_FRAME_ACK;
    struct cs_writer w = {.buf = &ack, .cap = 1, .len = 1};
    conn_send_frame(c, l, &w);
    conn_link_established(c, li);
}

