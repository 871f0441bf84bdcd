/*
 * core/ping.c: the ping test protocol (see ping.h).  Wire format, one frame
 * per link message or datagram:
 *   HELLO  0x01 len:u8 name[len]      sent first on every new link
 *   PING   0x02 seq:u64le             over the sender's outbound link
 *   PONG   0x03 seq:u64le             on the link the PING came in on
 *   DPING  0x04 len:u8 name[len]      datagram ping, counted by the receiver
 * Anything else is counted as malformed, logged, and its link closed.
 */
#include "ping.h"
#include "timer_tag.h"

#include "idmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MSG_HELLO = 1, MSG_PING, MSG_PONG, MSG_DPING };
#define TAG_POLL CS_TAG(CS_TAG_PING, 1, 0) /* kinds named in timer_tag.c */
#define TAG_PING CS_TAG(CS_TAG_PING, 2, 0)

struct ping_peer {
    struct cs_addr addr;
    char name[CS_NODE_NAME_MAX]; /* learnt from HELLO; empty until then */
    bool discovered;
    cs_link_id out_link;         /* 0 when not connecting/connected */
    bool out_up;
    bool answered;               /* a PONG came back at least once */
    cs_time last_pong;           /* on this node's clock (may be negative) */
};

struct ping_node {
    struct cs_env *env;
    struct ping_config cfg;
    char self_name[CS_NODE_NAME_MAX];
    struct ping_peer *peers;
    size_t peer_count, peer_capacity;
    struct cs_idmap links; /* link id -> peer index, or -2 for unknown inbound */
    cs_query_id pending_query;
    uint64_t seq;
    bool stopping;
    struct ping_stats stats;
};

void ping_config_defaults(struct ping_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->discovery = PING_DISCOVER_STATIC;
    cfg->poll_interval = CS_SEC(1);
    cfg->ping_interval = CS_SEC(1);
    cfg->peer_timeout = CS_SEC(3);
    cfg->datagrams = true;
}

static void *ping_create(struct cs_env *env, const void *config, const char *node_name)
{
    struct ping_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->env = env;
    n->cfg = *(const struct ping_config *)config;
    snprintf(n->self_name, sizeof n->self_name, "%s", node_name);
    cs_idmap_init(&n->links);
    return n;
}

static void ping_destroy(void *instance)
{
    struct ping_node *n = instance;
    cs_idmap_free(&n->links);
    free(n->peers);
    free(n);
}

static int peer_index(struct ping_node *n, const struct cs_addr *addr)
{
    for (size_t i = 0; i < n->peer_count; i++)
        if (cs_addr_compare(&n->peers[i].addr, addr) == 0)
            return (int)i;
    return -1;
}

static int peer_add(struct ping_node *n, const struct cs_addr *addr)
{
    int idx = peer_index(n, addr);
    if (idx >= 0)
        return idx;
    if (n->peer_count == n->peer_capacity) {
        size_t cap = n->peer_capacity ? n->peer_capacity * 2 : 8;
        struct ping_peer *p = realloc(n->peers, cap * sizeof *p);
        if (!p)
            return -1;
        n->peers = p;
        n->peer_capacity = cap;
    }
    struct ping_peer *p = &n->peers[n->peer_count];
    memset(p, 0, sizeof *p);
    p->addr = *addr;
    p->answered = false;
    return (int)n->peer_count++;
}

static void send_hello(struct ping_node *n, cs_link_id link)
{
    uint8_t buf[2 + CS_NODE_NAME_MAX];
    size_t len = strlen(n->self_name);
    buf[0] = MSG_HELLO;
    buf[1] = (uint8_t)len;
    memcpy(buf + 2, n->self_name, len);
    n->env->link_send(n->env, link, buf, 2 + len);
}

static void connect_peer(struct ping_node *n, struct ping_peer *p, int idx)
{
    if (p->out_link != 0 || n->stopping)
        return;
    p->out_link = n->env->link_connect(n->env, &p->addr);
    p->out_up = false;
    if (p->out_link != 0)
        cs_idmap_put(&n->links, p->out_link, idx);
}

static void drop_link(struct ping_node *n, cs_link_id link, bool close)
{
    int32_t idx = cs_idmap_get(&n->links, link);
    cs_idmap_del(&n->links, link);
    if (idx >= 0 && n->peers[idx].out_link == link) {
        n->peers[idx].out_link = 0;
        n->peers[idx].out_up = false;
    }
    if (close)
        n->env->link_close(n->env, link);
}

/* Marks every peer in `addrs` discovered and connects to the new ones; peers
 * missing from a successful answer are forgotten. */
static void reconcile(struct ping_node *n, const struct cs_addr *addrs, size_t count)
{
    for (size_t i = 0; i < n->peer_count; i++)
        n->peers[i].discovered = false;
    for (size_t i = 0; i < count; i++) {
        if (cs_addr_compare(&addrs[i], &n->env->self_addr) == 0)
            continue;
        int idx = peer_add(n, &addrs[i]);
        if (idx >= 0)
            n->peers[idx].discovered = true;
    }
    for (size_t i = 0; i < n->peer_count; i++) {
        struct ping_peer *p = &n->peers[i];
        if (p->discovered)
            connect_peer(n, p, (int)i);
        else if (p->out_link != 0)
            drop_link(n, p->out_link, true);
    }
}

static void poll_discovery(struct ping_node *n)
{
    if (n->cfg.discovery == PING_DISCOVER_STATIC)
        reconcile(n, n->cfg.static_peers, n->cfg.static_count);
    else if (n->pending_query == 0)
        n->pending_query = n->env->dns_query(n->env, n->cfg.dns_name, CS_DNS_A);
    n->env->timer_start(n->env, n->cfg.poll_interval, TAG_POLL);
}

static void on_dns(struct ping_node *n, cs_query_id query, const struct cs_dns_answer *ans)
{
    if (query != n->pending_query)
        return;
    n->pending_query = 0;
    if (ans->status != CS_DNS_OK) {
        n->stats.dns_failures++; /* keep the previous view */
        cs_logf(n->env, CS_LOG_DEBUG, "[ping] lookup of %s failed (%d)", n->cfg.dns_name,
                (int)ans->status);
        return;
    }
    struct cs_addr addrs[256];
    size_t count = 0;
    for (size_t i = 0; i < ans->count && count < 256; i++)
        if (ans->records[i].type == CS_DNS_A || ans->records[i].type == CS_DNS_AAAA)
            addrs[count++] = ans->records[i].addr;
    reconcile(n, addrs, count);
}

static void ping_tick(struct ping_node *n)
{
    uint8_t frame[9];
    uint8_t dgram[2 + CS_NODE_NAME_MAX];
    size_t name_len = strlen(n->self_name);
    dgram[0] = MSG_DPING;
    dgram[1] = (uint8_t)name_len;
    memcpy(dgram + 2, n->self_name, name_len);
    for (size_t i = 0; i < n->peer_count; i++) {
        struct ping_peer *p = &n->peers[i];
        if (!p->discovered)
            continue;
        if (p->out_up) {
            frame[0] = MSG_PING;
            uint64_t seq = ++n->seq;
            for (int b = 0; b < 8; b++)
                frame[1 + b] = (uint8_t)(seq >> (8 * b));
            n->env->link_send(n->env, p->out_link, frame, sizeof frame);
            n->stats.pings_sent++;
        }
        if (n->cfg.datagrams)
            n->env->dgram_send(n->env, &p->addr, dgram, 2 + name_len);
    }
    n->env->timer_start(n->env, n->cfg.ping_interval, TAG_PING);
}

static void on_malformed(struct ping_node *n, cs_link_id link, const char *why)
{
    n->stats.malformed++;
    cs_logf(n->env, CS_LOG_WARN, "[ping] malformed frame on link %u: %s", link, why);
    drop_link(n, link, true);
}

static void on_hello(struct ping_node *n, cs_link_id link, const uint8_t *d, size_t len)
{
    if (len < 2 || (size_t)d[1] + 2 != len || d[1] == 0 || d[1] >= CS_NODE_NAME_MAX) {
        on_malformed(n, link, "bad HELLO length");
        return;
    }
    char name[CS_NODE_NAME_MAX];
    memcpy(name, d + 2, d[1]);
    name[d[1]] = '\0';
    struct cs_addr addr;
    if (cs_node_name_addr(name, &addr) != 0) {
        on_malformed(n, link, "HELLO name is not basename@address");
        return;
    }
    int idx = peer_add(n, &addr);
    if (idx < 0)
        return;
    snprintf(n->peers[idx].name, sizeof n->peers[idx].name, "%s", name);
    if (cs_idmap_get(&n->links, link) < 0)
        cs_idmap_put(&n->links, link, idx);
}

static void on_message(struct ping_node *n, cs_link_id link, const uint8_t *d, size_t len)
{
    if (len == 0) {
        on_malformed(n, link, "empty frame");
        return;
    }
    if (d[0] == MSG_HELLO) {
        on_hello(n, link, d, len);
        return;
    }
    if ((d[0] != MSG_PING && d[0] != MSG_PONG) || len != 9) {
        on_malformed(n, link, "unknown type or bad length");
        return;
    }
    if (d[0] == MSG_PING) {
        uint8_t reply[9];
        memcpy(reply, d, 9);
        reply[0] = MSG_PONG;
        n->env->link_send(n->env, link, reply, sizeof reply);
        return;
    }
    int32_t idx = cs_idmap_get(&n->links, link);
    if (idx >= 0 && n->peers[idx].out_link == link) {
        n->peers[idx].last_pong = n->env->now(n->env);
        n->peers[idx].answered = true;
        n->stats.pongs_received++;
    }
}

static void on_link_up(struct ping_node *n, cs_link_id link, bool inbound)
{
    if (inbound) {
        cs_idmap_put(&n->links, link, -2); /* peer unknown until its HELLO */
    } else {
        int32_t idx = cs_idmap_get(&n->links, link);
        if (idx >= 0 && n->peers[idx].out_link == link)
            n->peers[idx].out_up = true;
    }
    send_hello(n, link);
}

static void on_stop(struct ping_node *n)
{
    n->stopping = true;
    for (size_t i = 0; i < n->peer_count; i++)
        if (n->peers[i].out_link != 0)
            drop_link(n, n->peers[i].out_link, true);
    n->env->stopped(n->env);
}

static void ping_start(void *instance)
{
    struct ping_node *n = instance;
    poll_discovery(n);
    n->env->timer_start(n->env, n->cfg.ping_interval, TAG_PING);
}

static void ping_handle(void *instance, const struct cs_event *ev)
{
    struct ping_node *n = instance;
    switch (ev->type) {
    case CS_EV_TIMER:
        if (n->stopping)
            break;
        if (ev->u.timer.tag == TAG_POLL)
            poll_discovery(n);
        else if (ev->u.timer.tag == TAG_PING)
            ping_tick(n);
        break;
    case CS_EV_LINK_UP:
        on_link_up(n, ev->u.link_up.link, ev->u.link_up.inbound);
        break;
    case CS_EV_LINK_MSG:
        on_message(n, ev->u.msg.link, ev->u.msg.data, ev->u.msg.len);
        break;
    case CS_EV_LINK_DOWN:
        drop_link(n, ev->u.link_down.link, false);
        break;
    case CS_EV_DGRAM:
        if (ev->u.dgram.len >= 2 && ev->u.dgram.data[0] == MSG_DPING)
            n->stats.dgrams_received++;
        else
            n->stats.malformed++;
        break;
    case CS_EV_DNS:
        on_dns(n, ev->u.dns.query, ev->u.dns.answer);
        break;
    case CS_EV_STOP:
        on_stop(n);
        break;
    case CS_EV_COMMAND:
        n->stats.commands_ignored++;
        cs_logf(n->env, CS_LOG_INFO, "[ping] ignoring command %s", ev->u.command.cmd->op);
        break;
    }
}

static bool peer_in_view(struct ping_node *n, const struct ping_peer *p)
{
    if (!p->discovered || !p->out_up || !p->answered || p->name[0] == '\0')
        return false;
    return n->env->now(n->env) - p->last_pong <= n->cfg.peer_timeout;
}

static bool ping_settled(void *instance)
{
    struct ping_node *n = instance;
    for (size_t i = 0; i < n->peer_count; i++)
        if (n->peers[i].discovered && !peer_in_view(n, &n->peers[i]))
            return false;
    return true;
}

static void ping_view(void *instance, cs_name_sink sink, void *ctx)
{
    struct ping_node *n = instance;
    for (size_t i = 0; i < n->peer_count; i++)
        if (peer_in_view(n, &n->peers[i]))
            sink(ctx, n->peers[i].name);
}

static int ping_dump(void *instance, char *buf, size_t size)
{
    struct ping_node *n = instance;
    size_t in_view = 0, discovered = 0;
    for (size_t i = 0; i < n->peer_count; i++) {
        discovered += n->peers[i].discovered;
        in_view += peer_in_view(n, &n->peers[i]);
    }
    return snprintf(buf, size,
                    "{:ping, %%{self: :\"%s\", discovered: %zu, view: %zu, pings_sent: %llu, "
                    "pongs: %llu, dgrams: %llu}}",
                    n->self_name, discovered, in_view, (unsigned long long)n->stats.pings_sent,
                    (unsigned long long)n->stats.pongs_received,
                    (unsigned long long)n->stats.dgrams_received);
}

void ping_get_stats(void *instance, struct ping_stats *out)
{
    *out = ((struct ping_node *)instance)->stats;
}

const struct cs_proto ping_proto = {
    .name = "ping",
    .create = ping_create,
    .destroy = ping_destroy,
    .start = ping_start,
    .handle = ping_handle,
    .settled = ping_settled,
    .view = ping_view,
    .timer_can_progress = NULL,
    .dump = ping_dump,
};
