/*
 * core/membership_gossip.c: the gossip strategy.  Every node multicasts a heartbeat
 * at random intervals (uniform between gossip_min and gossip_max, 1-5 s by
 * default, as libcluster does); a receiver connects to every node it hears.
 * Gossip never disconnects anyone.
 *
 * Heartbeat datagram:
 *   "heartbeat::" creation:u32 counter:u64 name:str tag[16]
 * The tag (SipHash-2-4-128 under a key derived from the cluster key, see
 * auth.h) covers everything before it, so a node without the secret cannot
 * forge one; the (creation, counter)
 * pair only grows per sender incarnation, so a captured heartbeat of the
 * sender's current or previous incarnation cannot be replayed.  (One of an
 * older incarnation may pass once, since incarnations are random, but it
 * never makes the live incarnation's heartbeats look like replays.)
 */
#include "membership_internal.h"
#include "strcopy.h"

#include "auth.h"
#include "wire.h"

#include <string.h>

#define MAGIC "heartbeat::"
#define MAGIC_LEN 11

void membership_gossip_start(struct membership *m, size_t ti)
{
    struct topo *t = &m->topos[ti];
    struct cs_addr group = t->cfg->multicast;
    group.port = t->cfg->gossip_port;
    if (m->env->dgram_join)
        m->env->dgram_join(m->env, &group);
    struct cs_mac_key cluster_key;
    cs_auth_key(m->cfg->conn.secret, &cluster_key);
    cs_auth_tag_key(&cluster_key, "libcluster gossip heartbeat", &m->gossip_key);
    sodium_memzero(&cluster_key, sizeof cluster_key);
    cs_time span = t->cfg->gossip_max - t->cfg->gossip_min;
    cs_time first = t->cfg->gossip_min + (cs_time)cs_random_below(m->env, (uint64_t)span + 1);
    m->env->timer_start(m->env, first, MEM_TAG(MEMBERSHIP_TIMER_GOSSIP, ti, 0));
}

void membership_gossip_tick(struct membership *m, size_t ti)
{
    struct topo *t = &m->topos[ti];
    uint8_t buf[256];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_bytes(&w, MAGIC, MAGIC_LEN);
    cs_put_u32(&w, m->creation);
    cs_put_u64(&w, ++t->gossip_counter);
    cs_put_str(&w, m->self);
    uint8_t tag[CS_AUTH_TAG_LEN];
    cs_auth_tag(&m->gossip_key, buf, w.len, tag);
    cs_put_bytes(&w, tag, sizeof tag);
    if (!w.overflow) {
        struct cs_addr group = t->cfg->multicast;
        group.port = t->cfg->gossip_port;
        m->env->dgram_send(m->env, &group, buf, w.len);
        m->stats.gossip_sent++;
    }
    if (m->stopping)
        return;
    cs_time span = t->cfg->gossip_max - t->cfg->gossip_min;
    cs_time next = t->cfg->gossip_min + (cs_time)cs_random_below(m->env, (uint64_t)span + 1);
    m->env->timer_start(m->env, next, MEM_TAG(MEMBERSHIP_TIMER_GOSSIP, ti, 0));
}

/* Replay check and bookkeeping: true when (creation, counter) is new.  The
 * current and the previous incarnation are remembered, each with the
 * highest counter accepted from it. */
static bool fresh(struct heard_info *heard, uint32_t creation, uint64_t counter)
{
    if (heard->creation == creation)
        return counter > heard->counter;
    /* The previous incarnation: its captured heartbeats stay refused, but a
     * higher counter means it is the live one (the incarnation that
     * displaced it was a replay of an older one): switch back to it. */
    if (heard->old_creation == creation && counter <= heard->old_counter)
        return false;
    /* Another incarnation of the sender (it restarted): accept it, and keep
     * the one it replaces so that its captured heartbeats stay refused. */
    heard->old_creation = heard->creation;
    heard->old_counter = heard->counter;
    return true;
}

bool membership_gossip_datagram(struct membership *m, const uint8_t *data, size_t len)
{
    size_t ti;
    for (ti = 0; ti < m->topo_count && m->topos[ti].cfg->strategy != MEM_GOSSIP; ti++)
        ;
    if (ti == m->topo_count)
        return false;
    struct topo *t = &m->topos[ti];
    if (len < MAGIC_LEN + CS_AUTH_TAG_LEN || memcmp(data, MAGIC, MAGIC_LEN) != 0) {
        m->stats.gossip_malformed++;
        cs_logf(m->env, CS_LOG_WARN, "[libcluster:%s] ignored a malformed heartbeat (%zu bytes)",
                t->cfg->name, len);
        return true;
    }
    size_t body = len - CS_AUTH_TAG_LEN;
    if (!cs_auth_tag_ok(&m->gossip_key, data, body, data + body)) {
        m->stats.gossip_bad_mac++;
        cs_logf(m->env, CS_LOG_WARN, "[libcluster:%s] rejected a heartbeat with a bad MAC", t->cfg->name);
        return true;
    }
    struct cs_reader r;
    cs_reader_init(&r, data + MAGIC_LEN, body - MAGIC_LEN);
    uint32_t creation = cs_get_u32(&r);
    uint64_t counter = cs_get_u64(&r);
    char name[CS_NODE_NAME_MAX];
    cs_get_str(&r, name, sizeof name);
    if (!cs_reader_done(&r) || !cs_has_at(name)) {
        m->stats.gossip_malformed++;
        return true;
    }
    if (strcmp(name, m->self) == 0)
        return true;
    int32_t k = name_set_add(&t->discovered, name);
    if (k < 0)
        return true;
    struct heard_info *heard = &t->discovered.heard[k];
    if (heard->counter != 0 && !fresh(heard, creation, counter)) {
        m->stats.gossip_replayed++;
        cs_logf(m->env, CS_LOG_WARN, "[libcluster:%s] rejected a replayed heartbeat of %s",
                t->cfg->name, name);
        return true;
    }
    heard->creation = creation;
    heard->counter = counter;
    m->stats.gossip_accepted++;
    /* Up or connecting when last looked, and no peer state changed since:
     * still so (a heartbeat of every peer, several times a second, would
     * otherwise look the sender up twice in the connection layer). */
    uint64_t epoch = conn_peer_epoch(m->conn) + 1;
    if (heard->linked_epoch == epoch)
        return true;
    if (conn_is_up(m->conn, name) || conn_is_connecting(m->conn, name)) {
        heard->linked_epoch = epoch;
        return true;
    }
    if (!m->stopping) {
        m->stats.connects++;
        conn_connect(m->conn, name);
    }
    return true;
}
