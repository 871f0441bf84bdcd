/*
 * sim/adversary.c: the simulated attacker (see adversary.h).  It speaks
 * the connection layer's handshake with its own encoders (core/conn.h):
 * HELLOs that claim a name, REPLYs with a proof it cannot compute.  Every
 * connection's script is decided when it is opened.
 */
#include "adversary.h"

#include "../core/conn.h"
#include "../core/grow.h"
#include "../core/idmap.h"
#include "../core/wire.h"
#include "net.h"
#include "world.h"

#include <stdlib.h>
#include <string.h>

enum { OVERSIZED_LEN = 4096 };

struct adv_link {
    cs_link_id id;
    uint32_t host, host_inc;
    enum sc_attack attack;
    bool replied;
    char claim[CS_NODE_NAME_MAX], target[CS_NODE_NAME_MAX];
};

struct sim_adversary {
    struct adv_link *links;
    size_t count, cap;
    struct cs_idmap by_id; /* link id -> index */
    uint8_t proof[CONN_PROOF_LEN];
    bool have_proof;
    struct sim_adversary_stats stats;
};

static struct sim_adversary *get(struct sim_world *w)
{
    if (!w->adversary) {
        w->adversary = calloc(1, sizeof *w->adversary);
        if (w->adversary)
            cs_idmap_init(&w->adversary->by_id);
    }
    return w->adversary;
}

static void open_one(struct sim_world *w, const struct sc_adversary *adv, uint32_t target,
                     enum sc_attack attack, const char *claim)
{
    struct sim_adversary *s = get(w);
    if (!s)
        return;
    if (cs_grow((void **)&s->links, &s->cap, s->count + 1, sizeof *s->links) != 0)
        return;
    cs_link_id id = sim_net_connect(w, adv->host, &w->nodes[target].addr);
    if (!id)
        return;
    struct adv_link *l = &s->links[s->count];
    memset(l, 0, sizeof *l);
    l->id = id;
    l->host = adv->host;
    l->host_inc = w->nodes[adv->host].incarnation;
    l->attack = attack;
    snprintf(l->claim, sizeof l->claim, "%s", claim);
    snprintf(l->target, sizeof l->target, "%s", w->nodes[target].name);
    cs_idmap_put(&s->by_id, id, (int32_t)s->count++);
    s->stats.connections++;
}

void sim_adversary_attack(struct sim_world *w, const struct sc_action *a, uint32_t target)
{
    const struct sc_adversary *adv = &a->adv;
    if (!sim_node_alive(&w->nodes[adv->host]) || target == adv->host)
        return;
    const char *claim = adv->claim_node >= 0 ? w->nodes[adv->claim_node].name
                        : adv->claim_name[0] ? adv->claim_name : w->nodes[adv->host].name;
    if (w->trace.on) {
        const struct cs_field fields[] = {CS_FSTR("target", w->nodes[target].id), CS_FINT("attack", adv->attack),
                                          CS_FSTR("claim", claim), CS_FUINT("connections", adv->connections)};
        char body[SIM_TRACE_LINE_MAX];
        sim_trace_encode_fields(fields, 4, body, sizeof body);
        sim_trace_event(&w->trace, w->now, w->nodes[adv->host].id, "adversary", "%s", body);
    }
    for (uint32_t i = 0; i < adv->connections; i++) {
        if (adv->attack != SC_ATTACK_LOOP) {
            open_one(w, adv, target, adv->attack, claim);
            continue;
        }
        open_one(w, adv, target, SC_ATTACK_WRONG_PROOF, claim);
        open_one(w, adv, target, SC_ATTACK_ABANDON, claim);
        open_one(w, adv, target, SC_ATTACK_ABANDON, claim);
        open_one(w, adv, target, SC_ATTACK_HELLO_FLOOD, claim);
    }
}

static void send_hello(struct sim_world *w, struct sim_adversary *s, struct adv_link *l)
{
    uint8_t buf[512];
    struct cs_writer wr;
    cs_writer_init(&wr, buf, sizeof buf);
    conn_put_hello(&wr, l->claim, l->target, 0xad5e /* no genuine incarnation's, likely */, 0x5eed);
    sim_net_send(w, l->host, l->id, buf, wr.len);
    s->stats.hellos++;
}

static void on_up(struct sim_world *w, struct sim_adversary *s, struct adv_link *l)
{
    switch (l->attack) {
    case SC_ATTACK_ABANDON:
        sim_net_close(w, l->host, l->id);
        s->stats.abandoned++;
        break;
    case SC_ATTACK_OVERSIZED: {
        uint8_t *big = calloc(1, OVERSIZED_LEN);
        if (big) {
            big[0] = CONN_FRAME_HELLO;
            sim_net_send(w, l->host, l->id, big, OVERSIZED_LEN);
            s->stats.oversized++;
            free(big);
        }
        break;
    }
    default:
        send_hello(w, s, l);
        break;
    }
}

static void on_message(struct sim_world *w, struct sim_adversary *s, struct adv_link *l, const uint8_t *data,
                       size_t len)
{
    bool proves = l->attack == SC_ATTACK_WRONG_PROOF || l->attack == SC_ATTACK_REPLAYED_PROOF;
    if (!proves || l->replied || len < 1 || data[0] != CONN_FRAME_CHALLENGE)
        return;
    uint8_t proof[CONN_PROOF_LEN] = {0}, buf[1 + CONN_PROOF_LEN];
    if (l->attack == SC_ATTACK_REPLAYED_PROOF && s->have_proof) {
        memcpy(proof, s->proof, CONN_PROOF_LEN);
        s->stats.replayed++;
    }
    struct cs_writer wr;
    cs_writer_init(&wr, buf, sizeof buf);
    conn_put_reply(&wr, proof);
    l->replied = true;
    sim_net_send(w, l->host, l->id, buf, wr.len);
    s->stats.replies++;
}

bool sim_adversary_event(struct sim_world *w, uint32_t node, const struct cs_event *ev)
{
    struct sim_adversary *s = w->adversary;
    if (!s)
        return false;
    cs_link_id id = ev->type == CS_EV_LINK_UP     ? ev->u.link_up.link
                    : ev->type == CS_EV_LINK_MSG  ? ev->u.msg.link
                    : ev->type == CS_EV_LINK_DOWN ? ev->u.link_down.link
                                                  : 0;
    int32_t i = id ? cs_idmap_get(&s->by_id, id) : -1;
    if (i < 0 || s->links[i].host != node || s->links[i].host_inc != w->nodes[node].incarnation)
        return false;
    struct adv_link *l = &s->links[i];
    if (ev->type == CS_EV_LINK_UP)
        on_up(w, s, l);
    else if (ev->type == CS_EV_LINK_MSG)
        on_message(w, s, l, ev->u.msg.data, ev->u.msg.len);
    else
        s->stats.closed_by_target++;
    return true;
}

void sim_adversary_sniff(struct sim_world *w, cs_link_id link, const void *data, size_t len)
{
    struct sim_adversary *s = w->adversary;
    const uint8_t *p = data;
    if (!s || len != 1 + CONN_PROOF_LEN || p[0] != CONN_FRAME_REPLY || cs_idmap_get(&s->by_id, link) >= 0)
        return;
    memcpy(s->proof, p + 1, CONN_PROOF_LEN);
    s->have_proof = true;
}

struct sim_adversary_stats sim_adversary_stats(const struct sim_world *w)
{
    struct sim_adversary_stats none = {0};
    return w->adversary ? w->adversary->stats : none;
}

void sim_adversary_free(struct sim_world *w)
{
    if (!w->adversary)
        return;
    cs_idmap_free(&w->adversary->by_id);
    free(w->adversary->links);
    free(w->adversary);
    w->adversary = NULL;
}
