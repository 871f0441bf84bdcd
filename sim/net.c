/*
 * sim/net.c: links (set-up, FIFO delivery with sampled latency, orderly
 * close, breakage on crash and partition), datagrams (loss, duplication,
 * reordering, multicast groups), partitions and clogs.
 */
#include "world.h"
#include "../core/grow.h"
#include "adversary.h"

#include <stdlib.h>
#include <string.h>

#define SETUP_OK ((enum cs_link_down_reason)0)

int sim_net_init(struct sim_net *net, size_t node_count)
{
    memset(net, 0, sizeof *net);
    size_t cells = node_count ? node_count * node_count : 1;
    net->blocked = calloc(cells, 1);
    return net->blocked ? 0 : -1;
}

void sim_net_free(struct sim_net *net)
{
    free(net->links);
    free(net->live);
    free(net->blocked);
    free(net->clogs);
    memset(net, 0, sizeof *net);
}

bool sim_net_blocked(const struct sim_world *w, uint32_t from, uint32_t to)
{
    return w->net.partitions_active && w->net.blocked[(size_t)from * w->node_count + to];
}

static struct sim_link *link_get(struct sim_world *w, cs_link_id id)
{
    if (id == 0 || id > w->net.link_count)
        return NULL;
    return &w->net.links[id - 1];
}

static void live_remove(struct sim_world *w, struct sim_link *l)
{
    struct sim_net *net = &w->net;
    uint32_t last = net->live[--net->live_count];
    net->live[l->live_pos] = last;
    net->links[last - 1].live_pos = l->live_pos;
}

static void link_mark_dead(struct sim_world *w, struct sim_link *l)
{
    if (l->state == SIM_LINK_DEAD)
        return;
    l->state = SIM_LINK_DEAD;
    l->end_open[0] = l->end_open[1] = false;
    live_remove(w, l);
}

static cs_link_id link_new(struct sim_world *w, uint32_t node)
{
    struct sim_net *net = &w->net;
    if (net->link_count == net->link_capacity) {
        size_t cap = net->link_capacity ? net->link_capacity * 2 : 256;
        struct sim_link *links = realloc(net->links, cap * sizeof *links);
        uint32_t *live = links ? realloc(net->live, cap * sizeof *live) : NULL;
        if (links)
            net->links = links;
        if (!live)
            return 0;
        net->live = live;
        net->link_capacity = cap;
    }
    struct sim_link *l = &net->links[net->link_count++];
    memset(l, 0, sizeof *l);
    l->end_node[0] = node;
    l->end_inc[0] = w->nodes[node].incarnation;
    l->end_open[0] = true;
    l->live_pos = (uint32_t)net->live_count;
    net->live[net->live_count++] = (uint32_t)net->link_count;
    w->stats.links_opened++;
    return (cs_link_id)net->link_count;
}

cs_link_id sim_net_connect(struct sim_world *w, uint32_t node, const struct cs_addr *peer)
{
    cs_link_id id = link_new(w, node);
    if (id == 0)
        return 0;
    struct sim_link *l = link_get(w, id);
    struct sim_node *target = sim_node_at(w, peer);
    struct sim_event ev = {.kind = SEV_LINK_SETUP, .node = node, .src = node,
                           .incarnation = l->end_inc[0], .id = id, .tag = (uint64_t)w->now};
    cs_time setup = sim_dist_sample(&w->sc->net.connect_time, &w->rng_network);
    if (target && target->index != node) {
        l->end_node[1] = target->index;
        l->end_inc[1] = target->incarnation;
        bool cut = sim_net_blocked(w, node, target->index) || sim_net_blocked(w, target->index, node);
        cs_time first_retry = w->sc->net.connect_timeout < CS_SEC(1) ? w->sc->net.connect_timeout : CS_SEC(1) - 1;
        ev.aux = cut ? CS_LINK_TIMEOUT : SETUP_OK; /* cut: the SYN is lost (syn_retransmit) */
        ev.time = w->now + (cut ? first_retry : setup);
    } else {
        l->end_node[1] = UINT32_MAX;
        ev.aux = CS_LINK_REFUSED;
        ev.time = w->now + setup;
    }
    if (w->trace.on) {
        char host[CS_ADDR_STRLEN];
        cs_addr_format(peer, host, sizeof host);
        sim_trace_event(&w->trace, w->now, w->nodes[node].id, "link_connect",
                        "\"link\":%u,\"to\":\"%s\"", id, host);
    }
    sim_schedule(w, &ev);
    return id;
}

static void notify_down(struct sim_world *w, cs_link_id id, int end, enum cs_link_down_reason why)
{
    struct sim_link *l = link_get(w, id);
    uint32_t node = l->end_node[end];
    l->end_open[end] = false;
    if (!l->end_open[0] && !l->end_open[1])
        link_mark_dead(w, l);
    struct sim_node *n = &w->nodes[node];
    if (!sim_node_alive(n) || n->incarnation != l->end_inc[end])
        return;
    static const char *const reasons[] = {"?", "refused", "timeout", "closed", "broken"};
    sim_trace_event(&w->trace, w->now, n->id, "link_down", "\"link\":%u,\"reason\":\"%s\"", id,
                    (unsigned)why < 5 ? reasons[why] : "?");
    struct cs_event ce = {.type = CS_EV_LINK_DOWN};
    ce.u.link_down.link = id;
    ce.u.link_down.reason = why;
    sim_deliver(w, node, l->end_inc[end], &ce);
}

/* A SYN across a cut is lost, and Linux sends it again 1, 3, 7, 15, 31 and
 * 63 s after the connect (an initial retransmission timeout of 1 s,
 * doubled each time) until the connect gives up, connect_timeout after it
 * began (ev->tag).  At each retransmission: if the cut has healed, the
 * handshake goes through now (*fail becomes SETUP_OK, or REFUSED when
 * nobody listens there any more); if it still holds, the next
 * retransmission is scheduled and this returns true.  False when the
 * connect has timed out (*fail stays CS_LINK_TIMEOUT). */
static bool syn_retransmit(struct sim_world *w, const struct sim_event *ev, const struct sim_link *l,
                           enum cs_link_down_reason *fail)
{
    cs_time started = (cs_time)ev->tag, deadline = started + w->sc->net.connect_timeout;
    if (w->now >= deadline || l->end_node[1] == UINT32_MAX)
        return false;
    uint32_t a = l->end_node[0], b = l->end_node[1];
    if (!sim_net_blocked(w, a, b) && !sim_net_blocked(w, b, a)) {
        const struct sim_node *t = &w->nodes[b];
        *fail = sim_node_alive(t) && t->incarnation == l->end_inc[1] ? SETUP_OK : CS_LINK_REFUSED;
        return false;
    }
    /* The kernel arms its retransmission timer inside connect(), before the
     * caller arms any timer of its own: at an equal instant it fires first,
     * hence the nanosecond before. */
    cs_time next = started + CS_SEC(1) - 1;
    for (cs_time rto = CS_SEC(2); next <= w->now; rto *= 2)
        next += rto;
    struct sim_event again = *ev;
    again.aux = CS_LINK_TIMEOUT;
    again.time = next < deadline ? next : deadline;
    return sim_schedule(w, &again) >= 0;
}

bool sim_net_setup_may_succeed(struct sim_world *w, const struct sim_event *ev)
{
    const struct sim_link *l = link_get(w, ev->id);
    if (!l || ev->aux == CS_LINK_REFUSED)
        return false; /* nobody at that address */
    if (ev->aux != SETUP_OK)
        return true; /* cut now; a partition may heal */
    const struct sim_node *t = &w->nodes[l->end_node[1]];
    return sim_node_alive(t) && t->incarnation == l->end_inc[1];
}

static void link_setup_done(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_link *l = link_get(w, ev->id);
    if (!l || l->state != SIM_LINK_CONNECTING)
        return;
    if (!l->end_open[0] || w->nodes[l->end_node[0]].incarnation != l->end_inc[0] ||
        !sim_node_alive(&w->nodes[l->end_node[0]])) {
        link_mark_dead(w, l); /* the initiator gave up or died meanwhile */
        return;
    }
    enum cs_link_down_reason fail = (enum cs_link_down_reason)ev->aux;
    if (fail == SETUP_OK) {
        struct sim_node *t = &w->nodes[l->end_node[1]];
        if (!sim_node_alive(t) || t->incarnation != l->end_inc[1])
            fail = CS_LINK_REFUSED;
        else if (sim_net_blocked(w, l->end_node[0], l->end_node[1]) ||
                 sim_net_blocked(w, l->end_node[1], l->end_node[0]))
            fail = CS_LINK_TIMEOUT;
    }
    if (fail == CS_LINK_TIMEOUT && syn_retransmit(w, ev, l, &fail))
        return;
    if (fail != SETUP_OK) {
        notify_down(w, ev->id, 0, fail);
        return;
    }
    l->state = SIM_LINK_UP;
    l->end_open[1] = true;
    l->last_delivery[0] = l->last_delivery[1] = w->now;
    for (int end = 1; end >= 0; end--) { /* the acceptor learns first */
        l = link_get(w, ev->id); /* the first handler may have grown the table */
        if (!l->end_open[end])
            continue; /* the first end closed it in its LINK_UP handler */
        struct sim_node *n = &w->nodes[l->end_node[end]];
        const struct sim_node *other = &w->nodes[l->end_node[1 - end]];
        sim_trace_event(&w->trace, w->now, n->id, "link_up", "\"link\":%u,\"peer\":\"%s\",\"inbound\":%s",
                        ev->id, other->id, end ? "true" : "false");
        struct cs_event ce = {.type = CS_EV_LINK_UP};
        ce.u.link_up.link = ev->id;
        ce.u.link_up.inbound = end == 1;
        ce.u.link_up.peer = other->addr;
        sim_deliver(w, n->index, l->end_inc[end], &ce);
    }
}

static int end_of(const struct sim_world *w, const struct sim_link *l, uint32_t node)
{
    for (int e = 0; e < 2; e++)
        if (l->end_node[e] == node && l->end_inc[e] == w->nodes[node].incarnation)
            return e;
    return -1;
}

static cs_time clog_until(struct sim_world *w, uint32_t from, uint32_t to)
{
    cs_time until = 0;
    struct sim_net *net = &w->net;
    for (size_t i = 0; i < net->clog_count;) {
        if (net->clogs[i].until <= w->now) {
            net->clogs[i] = net->clogs[--net->clog_count];
            continue;
        }
        if (net->clogs[i].from == from && net->clogs[i].to == to && net->clogs[i].until > until)
            until = net->clogs[i].until;
        i++;
    }
    return until;
}

/* The delivery time of the next item sent from `end`, keeping FIFO order. */
static cs_time fifo_time(struct sim_world *w, struct sim_link *l, int end, cs_time delay)
{
    cs_time base = w->now;
    if (w->net.clog_count) {
        cs_time held = clog_until(w, l->end_node[end], l->end_node[1 - end]);
        if (held > base)
            base = held;
    }
    cs_time t = base + delay;
    if (t < l->last_delivery[end])
        t = l->last_delivery[end];
    l->last_delivery[end] = t;
    return t;
}

int sim_net_send(struct sim_world *w, uint32_t node, cs_link_id id, const void *data, size_t len)
{
    struct sim_link *l = link_get(w, id);
    if (!l || l->state != SIM_LINK_UP)
        return -1;
    int end = end_of(w, l, node);
    if (end < 0 || !l->end_open[end])
        return -1;
    if (l->broken)
        return 0; /* the sender cannot tell yet; the data is lost */
    void *copy = NULL;
    if (len > SIM_EVENT_INLINE && !(copy = malloc(len)))
        return -1;
    if (__builtin_expect(w->adversary != NULL, 0))
        sim_adversary_sniff(w, id, data, len);
    cs_time delay = sim_dist_sample(&w->sc->net.latency, &w->rng_network);
    struct sim_event ev = {.time = fifo_time(w, l, end, delay), .kind = SEV_LINK_MSG,
                           .node = l->end_node[1 - end], .src = node,
                           .incarnation = l->end_inc[1 - end], .id = id, .aux = (uint32_t)(1 - end),
                           .payload = copy, .len = len};
    memcpy(copy ? copy : ev.inline_data, data, len);
    sim_trace_event(&w->trace, w->now, w->nodes[node].id, "msg_send",
                    "\"link\":%u,\"to\":\"%s\",\"len\":%zu,\"at\":%lld", id,
                    w->nodes[ev.node].id, len, (long long)ev.time);
    if (sim_schedule(w, &ev) < 0) {
        free(copy);
        return -1;
    }
    return 0;
}

static void deliver_message(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_link *l = link_get(w, ev->id);
    int end = (int)ev->aux;
    struct sim_node *n = &w->nodes[ev->node];
    if (l->broken || !l->end_open[end] || !sim_node_alive(n) || n->incarnation != ev->incarnation) {
        w->stats.messages_dropped++;
        sim_trace_event(&w->trace, w->now, n->id, "msg_drop", "\"link\":%u,\"len\":%zu", ev->id,
                        ev->len);
        return;
    }
    w->stats.messages_delivered++;
    sim_trace_event(&w->trace, w->now, n->id, "msg_recv", "\"link\":%u,\"from\":\"%s\",\"len\":%zu",
                    ev->id, w->nodes[ev->src].id, ev->len);
    struct cs_event ce = {.type = CS_EV_LINK_MSG};
    ce.u.msg.link = ev->id;
    ce.u.msg.cookie = l->end_cookie[end];
    ce.u.msg.data = sim_event_data(ev);
    ce.u.msg.len = ev->len;
    sim_deliver(w, ev->node, ev->incarnation, &ce);
}

/* Closes `end` and tells the other end after `delay`, behind in-flight data. */
static void close_end(struct sim_world *w, struct sim_link *l, int end, cs_time delay,
                      enum cs_link_down_reason why)
{
    cs_link_id id = (cs_link_id)(l - w->net.links) + 1;
    l->end_open[end] = false;
    if (l->state == SIM_LINK_CONNECTING)
        return; /* set-up completion sees the closed end */
    if (!l->end_open[1 - end]) {
        link_mark_dead(w, l);
        return;
    }
    struct sim_event ev = {.time = fifo_time(w, l, end, delay), .kind = SEV_LINK_DOWN,
                           .node = l->end_node[1 - end], .src = l->end_node[end],
                           .incarnation = l->end_inc[1 - end], .id = id,
                           .aux = (uint32_t)(1 - end) | (uint32_t)why << 1};
    sim_schedule(w, &ev);
}

void sim_net_set_cookie(struct sim_world *w, uint32_t node, cs_link_id id, uint32_t cookie)
{
    struct sim_link *l = link_get(w, id);
    int end = l ? end_of(w, l, node) : -1;
    if (end >= 0)
        l->end_cookie[end] = cookie;
}

void sim_net_close(struct sim_world *w, uint32_t node, cs_link_id id)
{
    struct sim_link *l = link_get(w, id);
    if (!l || l->state == SIM_LINK_DEAD)
        return;
    int end = end_of(w, l, node);
    if (end < 0 || !l->end_open[end])
        return;
    sim_trace_event(&w->trace, w->now, w->nodes[node].id, "link_close", "\"link\":%u", id);
    close_end(w, l, end, sim_dist_sample(&w->sc->net.latency, &w->rng_network), CS_LINK_CLOSED);
}

void sim_net_node_gone(struct sim_world *w, uint32_t node, cs_time detect,
                       enum cs_link_down_reason reason)
{
    /* Iterate a snapshot: closing may remove links from the live list. */
    for (size_t i = w->net.live_count; i-- > 0;) {
        if (i >= w->net.live_count)
            continue;
        struct sim_link *l = link_get(w, w->net.live[i]);
        for (int end = 0; end < 2; end++) {
            if (l->end_node[end] != node || !l->end_open[end])
                continue;
            if (l->state == SIM_LINK_UP && !l->broken && l->end_open[1 - end] &&
                reason == CS_LINK_BROKEN) /* an orderly exit or a second blow breaks nothing */
                w->stats.links_broken++;
            close_end(w, l, end, detect, reason);
            break;
        }
    }
}

/* Counts one more (delta 1) or one less (delta -1) partition cutting from -> to. */
static void cut_cell(struct sim_world *w, uint32_t from, uint32_t to, int delta)
{
    uint8_t *cell = &w->net.blocked[(size_t)from * w->node_count + to];
    if (delta > 0 && *cell < UINT8_MAX)
        (*cell)++;
    else if (delta < 0 && *cell > 0)
        (*cell)--;
}

static void cut_sides(struct sim_world *w, const uint32_t *a, size_t na, const uint32_t *b,
                      size_t nb, bool oneway, int delta)
{
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) {
            if (a[i] == b[j])
                continue;
            cut_cell(w, a[i], b[j], delta);
            if (!oneway)
                cut_cell(w, b[j], a[i], delta);
        }
}

void sim_net_partition(struct sim_world *w, const uint32_t *a, size_t na, const uint32_t *b,
                       size_t nb, bool oneway)
{
    cut_sides(w, a, na, b, nb, oneway, 1);
    w->net.partitions_active++;
    for (size_t i = w->net.live_count; i-- > 0;) {
        if (i >= w->net.live_count)
            continue;
        cs_link_id id = w->net.live[i];
        struct sim_link *l = link_get(w, id);
        if (l->state != SIM_LINK_UP || l->broken)
            continue;
        if (!sim_net_blocked(w, l->end_node[0], l->end_node[1]) &&
            !sim_net_blocked(w, l->end_node[1], l->end_node[0]))
            continue;
        l->broken = true; /* TCP needs both directions: any cut breaks it */
        w->stats.links_broken++;
        for (int end = 0; end < 2; end++) {
            if (!l->end_open[end])
                continue;
            struct sim_event ev = {.time = w->now + w->sc->net.break_detect, .kind = SEV_LINK_DOWN,
                                   .node = l->end_node[end], .src = UINT32_MAX,
                                   .incarnation = l->end_inc[end], .id = id,
                                   .aux = (uint32_t)end | (uint32_t)CS_LINK_BROKEN << 1};
            sim_schedule(w, &ev);
        }
    }
}

void sim_net_unpartition(struct sim_world *w, const uint32_t *a, size_t na, const uint32_t *b,
                         size_t nb, bool oneway)
{
    cut_sides(w, a, na, b, nb, oneway, -1);
    if (w->net.partitions_active > 0)
        w->net.partitions_active--;
}

void sim_net_heal(struct sim_world *w)
{
    memset(w->net.blocked, 0, w->node_count * w->node_count);
    w->net.partitions_active = 0;
}

void sim_net_clog(struct sim_world *w, uint32_t from, uint32_t to, cs_time until)
{
    struct sim_net *net = &w->net;
    if (cs_grow((void **)&net->clogs, &net->clog_capacity, net->clog_count + 1, sizeof *net->clogs) != 0)
        return;
    net->clogs[net->clog_count++] = (struct sim_clog){from, to, until};
}

static void dgram_schedule(struct sim_world *w, uint32_t from, uint32_t to, const void *data,
                           size_t len)
{
    const struct sc_network *m = &w->sc->net;
    struct pcg32 *rng = &w->rng_dgram;
    int copies = 1;
    if (m->dgram_loss > 0 && pcg32_unit(rng) < m->dgram_loss) {
        w->stats.dgrams_lost++;
        sim_trace_event(&w->trace, w->now, w->nodes[from].id, "dgram_lost", "\"to\":\"%s\"",
                        w->nodes[to].id);
        return;
    }
    if (m->dgram_duplicate > 0 && pcg32_unit(rng) < m->dgram_duplicate) {
        copies = 2;
        w->stats.dgrams_duplicated++;
    }
    for (int c = 0; c < copies; c++) {
        cs_time delay = sim_dist_sample(&m->dgram_latency, rng);
        if (m->dgram_reorder > 0 && pcg32_unit(rng) < m->dgram_reorder)
            delay += sim_dist_sample(&m->reorder_delay, rng);
        void *copy = malloc(len ? len : 1);
        if (!copy)
            return;
        memcpy(copy, data, len);
        struct sim_event ev = {.time = w->now + delay, .kind = SEV_DGRAM, .node = to, .src = from,
                               .incarnation = w->nodes[to].incarnation, .payload = copy, .len = len,
                               .addr = w->nodes[from].addr};
        if (sim_schedule(w, &ev) < 0)
            free(copy);
    }
}

static bool node_in_group(const struct sim_node *n, const struct cs_addr *group)
{
    uint32_t g = (uint32_t)group->ip[0] << 24 | (uint32_t)group->ip[1] << 16 |
                 (uint32_t)group->ip[2] << 8 | group->ip[3];
    for (size_t i = 0; i < n->group_count; i++)
        if (n->groups[i] == g)
            return true;
    return false;
}

int sim_net_dgram(struct sim_world *w, uint32_t node, const struct cs_addr *to, const void *data,
                  size_t len)
{
    if (w->trace.on) {
        char host[CS_ADDR_STRLEN];
        cs_addr_format(to, host, sizeof host);
        sim_trace_event(&w->trace, w->now, w->nodes[node].id, "dgram_send",
                        "\"to\":\"%s\",\"len\":%zu", host, len);
    }
    if (cs_addr_is_multicast(to)) {
        for (size_t i = 0; i < w->node_count; i++)
            if (i != node && sim_node_alive(&w->nodes[i]) && node_in_group(&w->nodes[i], to) &&
                !sim_net_blocked(w, node, (uint32_t)i))
                dgram_schedule(w, node, (uint32_t)i, data, len);
        return 0;
    }
    struct sim_node *target = sim_node_at(w, to);
    if (target && !sim_net_blocked(w, node, target->index))
        dgram_schedule(w, node, target->index, data, len);
    return 0;
}

static void deliver_dgram(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (!sim_node_alive(n) || n->incarnation != ev->incarnation)
        return;
    w->stats.dgrams_delivered++;
    sim_trace_event(&w->trace, w->now, n->id, "dgram_recv", "\"from\":\"%s\",\"len\":%zu",
                    w->nodes[ev->src].id, ev->len);
    struct cs_event ce = {.type = CS_EV_DGRAM};
    ce.u.dgram.from = ev->addr;
    ce.u.dgram.data = ev->payload;
    ce.u.dgram.len = ev->len;
    sim_deliver(w, ev->node, ev->incarnation, &ce);
}

void sim_net_handle(struct sim_world *w, const struct sim_event *ev)
{
    switch (ev->kind) {
    case SEV_LINK_SETUP:
        link_setup_done(w, ev);
        break;
    case SEV_LINK_MSG:
        deliver_message(w, ev);
        break;
    case SEV_LINK_DOWN: {
        struct sim_link *l = link_get(w, ev->id);
        int end = (int)(ev->aux & 1);
        if (l && l->end_open[end])
            notify_down(w, ev->id, end, (enum cs_link_down_reason)(ev->aux >> 1));
        break;
    }
    case SEV_DGRAM:
        deliver_dgram(w, ev);
        break;
    default:
        break;
    }
}
