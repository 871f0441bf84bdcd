/*
 * core/membership.c: topologies, polling rounds and connecting (membership.h),
 * for the static and DNS strategies.  Where libcluster and fixed modes
 * differ it reads m->mode (membership_mode.c: the reconciliation rules and
 * the table of each mode); gossip is in membership_gossip.c.
 */
#include "membership_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

/* ---- name sets ---- */

void name_set_init(struct name_set *s)
{
    memset(s, 0, sizeof *s);
    cs_refmap_init(&s->index);
    s->version = 1; /* memos use 0 for "none" */
}

/* Sets up to this capacity keep their storage when cleared. */
#define NAME_SET_KEEP 64

void name_set_keep_heard(struct name_set *s)
{
    s->keeps_heard = true;
}

void name_set_free(struct name_set *s)
{
    cs_refmap_free(&s->index);
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    free(s->names);
    free(s->info);
    free(s->heard);
    bool keeps_heard = s->keeps_heard;
    memset(s, 0, sizeof *s);
    s->keeps_heard = keeps_heard;
}

void name_set_clear(struct name_set *s)
{
    /* A small set keeps its storage for reuse; a thousand-name set is not
     * worth keeping once emptied (a libcluster round that failed empties
     * its answer; otherwise rounds keep the answer, see answer_take). */
    uint64_t version = s->version + 1;
    if (s->cap > NAME_SET_KEEP) {
        name_set_free(s);
        s->version = version;
        return;
    }
    for (size_t i = 0; i < s->count; i++)
        free(s->names[i]);
    s->count = 0;
    s->version = version;
    cs_refmap_clear(&s->index);
}

int32_t name_set_find(const struct name_set *s, const char *name)
{
    return cs_refmap_get(&s->index, name);
}

int32_t name_set_add(struct name_set *s, const char *name)
{
    int32_t i = name_set_find(s, name);
    if (i >= 0)
        return i;
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        char **n = realloc(s->names, cap * sizeof *n);
        if (n)
            s->names = n;
        struct name_info *info = n ? realloc(s->info, cap * sizeof *info) : NULL;
        if (info)
            s->info = info;
        struct heard_info *heard = info && s->keeps_heard ? realloc(s->heard, cap * sizeof *heard) : NULL;
        if (heard)
            s->heard = heard;
        if (!info || (s->keeps_heard && !heard))
            return -1;
        s->cap = cap;
    }
    i = (int32_t)s->count;
    char *copy = strdup(name);
    if (!copy || cs_refmap_put(&s->index, copy, i) != 0) {
        free(copy);
        return -1;
    }
    s->names[i] = copy;
    s->info[i] = (struct name_info){0};
    if (s->keeps_heard)
        s->heard[i] = (struct heard_info){0};
    s->count++;
    s->version++;
    return i;
}

void name_set_remove(struct name_set *s, const char *name)
{
    int32_t i = name_set_find(s, name);
    if (i < 0)
        return;
    cs_refmap_del(&s->index, name);
    free(s->names[i]);
    s->version++;
    size_t last = --s->count;
    if ((size_t)i != last) { /* move the last entry into the hole */
        s->names[i] = s->names[last];
        s->info[i] = s->info[last];
        if (s->keeps_heard)
            s->heard[i] = s->heard[last];
        cs_refmap_put(&s->index, s->names[i], i);
    }
}

static size_t memo_cell(const struct topo *t, const struct cs_addr *addr)
{
    uint64_t h = XXH3_64bits(addr->ip, addr->family == 4 ? 4 : 16);
    return (size_t)h & (t->memo_cap - 1);
}

/* The answer index of the name behind `addr`, or -1. */
static int32_t memo_find(const struct topo *t, const struct cs_addr *addr)
{
    if (t->memo_count == 0)
        return -1;
    for (size_t s = memo_cell(t, addr); t->memo[s].index >= 0; s = (s + 1) & (t->memo_cap - 1))
        if (cs_addr_compare(&t->memo[s].addr, addr) == 0)
            return t->memo[s].index;
    return -1;
}

void membership_memo_void(struct topo *t)
{
    for (size_t s = 0; s < t->memo_cap; s++)
        t->memo[s].index = -1;
    t->memo_count = 0;
}

/* Notes `addr` -> `index` (best effort: without memory, nothing). */
static void memo_note(struct topo *t, const struct cs_addr *addr, int32_t index)
{
    if ((t->memo_count + 1) * 2 > t->memo_cap) {
        size_t cap = t->memo_cap ? 2 * t->memo_cap : 16;
        struct answer_memo *grown = malloc(cap * sizeof *grown);
        if (!grown)
            return;
        struct answer_memo *old = t->memo;
        size_t old_cap = t->memo_cap;
        t->memo = grown;
        t->memo_cap = cap;
        membership_memo_void(t);
        for (size_t s = 0; s < old_cap; s++)
            if (old[s].index >= 0)
                memo_note(t, &old[s].addr, old[s].index);
        free(old);
    }
    size_t s = memo_cell(t, addr);
    while (t->memo[s].index >= 0)
        s = (s + 1) & (t->memo_cap - 1);
    t->memo[s].addr = *addr;
    t->memo[s].index = index;
    t->memo_count++;
}

static void node_name_for(const struct topo *t, const struct cs_dns_record *r, char *out);

/* Takes one record of the round into the answer set. */
static void answer_take(struct topo *t, const struct cs_dns_record *r)
{
    bool by_addr = r->type != CS_DNS_SRV;
    int32_t idx = by_addr ? memo_find(t, &r->addr) : -1;
    if (idx < 0) {
        char name[CS_NODE_NAME_MAX];
        node_name_for(t, r, name);
        idx = name_set_add(&t->answer, name);
        if (idx < 0)
            return; /* out of memory: the name is missing from this answer */
        if (by_addr)
            memo_note(t, &r->addr, idx);
    }
    t->answer.info[idx].seen_round = t->answer_round;
}

/* The round is complete: the names no record of it named leave, the
 * others keep their order. */
static void answer_close(struct topo *t)
{
    struct name_set *a = &t->answer;
    size_t kept = 0;
    for (size_t i = 0; i < a->count; i++) {
        if (a->info[i].seen_round != t->answer_round) {
            cs_refmap_del(&a->index, a->names[i]);
            free(a->names[i]);
            continue;
        }
        if (kept != i) {
            a->names[kept] = a->names[i];
            a->info[kept] = a->info[i];
            cs_refmap_put(&a->index, a->names[kept], (int32_t)kept); /* a known key: cannot fail */
        }
        kept++;
    }
    if (kept == a->count)
        return;
    a->count = kept;
    a->version++;
    membership_memo_void(t); /* indices moved */
}

/* ---- configuration ---- */

const char *membership_strategy_name(enum membership_strategy s)
{
    static const char *const names[] = {"static", "kubernetes_dns", "kubernetes_dns_srv",
                                        "dns_poll", "gossip"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void membership_topology_defaults(struct membership_topology_config *t, enum membership_strategy strategy)
{
    memset(t, 0, sizeof *t);
    t->strategy = strategy;
    snprintf(t->name, sizeof t->name, "%s", membership_strategy_name(strategy));
    snprintf(t->app_name, sizeof t->app_name, "app");
    t->polling_interval = strategy == MEM_STATIC ? 0 : CS_SEC(5);
    cs_addr_parse("233.252.1.32", &t->multicast);
    t->gossip_port = 45892;
    t->gossip_min = CS_SEC(1);
    t->gossip_max = CS_SEC(5);
}

void membership_config_defaults(struct membership_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = MEM_FIXED;
    conn_config_defaults(&cfg->conn);
    cfg->absent_rounds = 3;
}

/* ---- connection callbacks ---- */

static void mlog(struct membership *m, const struct topo *t, const char *what, const char *node)
{
    cs_logf(m->env, CS_LOG_INFO, "[libcluster:%s] %s %s", t->cfg->name, what, node);
}

/* The topology that discovered `peer` (for log lines), or NULL. */
static struct topo *topo_of(struct membership *m, const char *peer)
{
    for (size_t i = 0; i < m->topo_count; i++)
        if (name_set_find(&m->topos[i].discovered, peer) >= 0)
            return &m->topos[i];
    return NULL;
}

static void serial_advance(struct membership *m, struct topo *t);

static void on_nodeup(void *ctx, const char *peer)
{
    struct membership *m = ctx;
    struct topo *t = topo_of(m, peer);
    if (t)
        mlog(m, t, "connected to", peer);
    for (size_t i = 0; i < m->topo_count; i++)
        if (m->topos[i].waiting_for[0] && strcmp(m->topos[i].waiting_for, peer) == 0)
            serial_advance(m, &m->topos[i]);
    if (m->cb.nodeup)
        m->cb.nodeup(m->cb.ctx, peer);
}

static void on_nodedown(void *ctx, const char *peer, enum conn_down_reason why)
{
    struct membership *m = ctx;
    if (m->cb.nodedown)
        m->cb.nodedown(m->cb.ctx, peer, why);
}

static void on_connect_failed(void *ctx, const char *peer, enum conn_fail_reason why)
{
    struct membership *m = ctx;
    (void)why;
    m->stats.connect_failures++;
    struct topo *t = topo_of(m, peer);
    if (t)
        mlog(m, t, "unable to connect to", peer);
    for (size_t i = 0; i < m->topo_count; i++)
        if (m->topos[i].waiting_for[0] && strcmp(m->topos[i].waiting_for, peer) == 0)
            serial_advance(m, &m->topos[i]);
}

static void on_message(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    struct membership *m = ctx;
    if (m->cb.message)
        m->cb.message(m->cb.ctx, peer, slot, data, len);
}

/* ---- lifecycle ---- */

struct membership *membership_new(struct cs_env *env, const struct membership_config *cfg, const char *self,
                           const struct membership_callbacks *cb)
{
    struct membership *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->env = env;
    m->cfg = cfg;
    m->mode = membership_mode_of(cfg->mode);
    m->cb = *cb;
    snprintf(m->self, sizeof m->self, "%s", self);
    m->creation = (uint32_t)env->random_u64(env);
    struct conn_callbacks ccb = {.ctx = m, .nodeup = on_nodeup, .nodedown = on_nodedown,
                                 .connect_failed = on_connect_failed, .message = on_message};
    struct conn_config conn_cfg = cfg->conn;
    conn_cfg.hello_decides = m->mode->hello_decides;
    m->conn = conn_new(env, &conn_cfg, self, m->creation, &ccb);
    if (!m->conn) {
        free(m);
        return NULL;
    }
    m->topo_count = cfg->topology_count < MEM_MAX_TOPOLOGIES ? cfg->topology_count : MEM_MAX_TOPOLOGIES;
    for (size_t i = 0; i < m->topo_count; i++) {
        m->topos[i].cfg = &cfg->topologies[i];
        name_set_init(&m->topos[i].discovered);
        name_set_init(&m->topos[i].answer);
        if (m->topos[i].cfg->strategy == MEM_GOSSIP)
            name_set_keep_heard(&m->topos[i].discovered);
    }
    return m;
}

void membership_free(struct membership *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->topo_count; i++) {
        name_set_free(&m->topos[i].discovered);
        name_set_free(&m->topos[i].answer);
        free(m->topos[i].memo);
        free(m->topos[i].serial);
    }
    conn_free(m->conn);
    free(m);
}

struct conn *membership_conn(struct membership *m)
{
    return m->conn;
}

const struct membership_stats *membership_stats(const struct membership *m)
{
    return &m->stats;
}

bool membership_settled(const struct membership *m)
{
    /* Steady once no attempt is under way: every discovered node is either
     * up or has failed its latest attempt (and will be retried next round). */
    for (size_t i = 0; i < m->topo_count; i++) {
        const struct name_set *d = &m->topos[i].discovered;
        if (m->topos[i].waiting_for[0])
            return false;
        for (size_t j = 0; j < d->count; j++)
            if (conn_is_connecting(m->conn, d->names[j]))
                return false;
    }
    return true;
}

/* ---- connecting ---- */

static bool needs_connect(struct membership *m, const char *name)
{
    return strcmp(name, m->self) != 0 && !conn_is_up(m->conn, name) &&
           !conn_is_connecting(m->conn, name);
}

/* libcluster mode: the next serial connect of the round, or the round's end. */
static void round_finish(struct membership *m, struct topo *t);

static void serial_advance(struct membership *m, struct topo *t)
{
    t->waiting_for[0] = '\0';
    while (t->serial_next < t->serial_count) {
        const char *name = t->serial[t->serial_next++];
        if (!needs_connect(m, name))
            continue;
        m->stats.connects++;
        if (conn_connect(m->conn, name) != 0) {
            mlog(m, t, "unable to connect to", name);
            continue;
        }
        /* Block the round on this connect, as libcluster's blocking connect
         * does; a guard timer bounds the wait like net_setuptime. */
        snprintf(t->waiting_for, sizeof t->waiting_for, "%s", name);
        t->serial_epoch++;
        m->env->timer_start(m->env, m->cfg->conn.setup_timeout + CS_SEC(1),
                            MEM_TAG(MEMBERSHIP_TIMER_SERIAL_GUARD, t - m->topos, t->serial_epoch & 0xffffffffffULL));
        return;
    }
    if (t->round_active)
        round_finish(m, t);
}

void membership_connect_discovered(struct membership *m, struct topo *t)
{
    const struct name_set *d = &t->discovered;
    if (!m->mode->serial_connects || t->cfg->strategy == MEM_GOSSIP || t->cfg->strategy == MEM_STATIC) {
        /* Whether a name needs a connect depends only on the peer states
         * of the connection layer: with the same names and no peer state
         * changed since a pass that connected nothing, this one would not. */
        uint64_t epoch = conn_peer_epoch(m->conn);
        if (t->settled_discovered_version == d->version && t->settled_peer_epoch == epoch)
            return;
        bool connected = false;
        for (size_t i = 0; i < d->count; i++)
            if (needs_connect(m, d->names[i])) {
                m->stats.connects++;
                conn_connect(m->conn, d->names[i]);
                connected = true;
            }
        t->settled_discovered_version = connected ? 0 : d->version;
        t->settled_peer_epoch = epoch;
        return;
    }
    free(t->serial);
    t->serial = malloc((d->count ? d->count : 1) * sizeof *t->serial);
    t->serial_count = t->serial_next = 0;
    for (size_t i = 0; t->serial && i < d->count; i++)
        snprintf(t->serial[t->serial_count++], CS_NODE_NAME_MAX, "%s", d->names[i]);
    serial_advance(m, t);
}

/* ---- DNS rounds ---- */

static bool is_dns(enum membership_strategy s)
{
    return s == MEM_K8S_DNS || s == MEM_K8S_DNS_SRV || s == MEM_DNS_POLL;
}

static void arm_poll(struct membership *m, size_t ti, int chain)
{
    m->env->timer_start(m->env, m->topos[ti].cfg->polling_interval, MEM_TAG(MEMBERSHIP_TIMER_POLL, ti, chain));
}

static void round_start(struct membership *m, size_t ti, int chain)
{
    struct topo *t = &m->topos[ti];
    if (t->round_active) { /* libcluster handles one message at a time */
        if (t->queued < sizeof t->queued_chains / sizeof t->queued_chains[0])
            t->queued_chains[t->queued++] = chain;
        return;
    }
    t->round_active = true;
    t->round_chain = chain;
    t->round_failed = t->round_truncated = false;
    t->truncated_retries = 0;
    if (++t->answer_round == 0) /* (after 2^32 rounds: 0 is what new names carry) */
        t->answer_round = 1;
    t->queries_pending = 0;
    m->stats.rounds++;
    enum cs_dns_type first = t->cfg->strategy == MEM_K8S_DNS_SRV ? CS_DNS_SRV : CS_DNS_A;
    t->queries[t->queries_pending++] = m->env->dns_query(m->env, t->cfg->query, first);
    if (t->cfg->strategy == MEM_DNS_POLL)
        t->queries[t->queries_pending++] = m->env->dns_query(m->env, t->cfg->query, CS_DNS_AAAA);
}

static void round_finish(struct membership *m, struct topo *t)
{
    size_t ti = (size_t)(t - m->topos);
    t->round_active = false;
    arm_poll(m, ti, t->round_chain);
    if (!t->second_chain && m->mode->second_poll_chain && t->cfg->strategy != MEM_DNS_POLL) {
        t->second_chain = true;
        round_start(m, ti, 1);
        return;
    }
    if (t->queued > 0) {
        int chain = t->queued_chains[0];
        memmove(t->queued_chains, t->queued_chains + 1, --t->queued * sizeof t->queued_chains[0]);
        round_start(m, ti, chain);
    }
}

static void node_name_for(const struct topo *t, const struct cs_dns_record *r, char *out)
{
    char host[CS_DNS_NAME_MAX];
    if (r->type == CS_DNS_SRV) {
        snprintf(host, sizeof host, "%s", r->target);
        size_t n = strlen(host);
        if (n && host[n - 1] == '.')
            host[n - 1] = '\0';
    } else {
        cs_addr_format(&r->addr, host, sizeof host);
    }
    size_t app = strlen(t->cfg->app_name), n = strlen(host);
    if (app + 1 + n >= CS_NODE_NAME_MAX) { /* too long to be a name: truncated, as before */
        snprintf(out, CS_NODE_NAME_MAX, "%s@%s", t->cfg->app_name, host);
        return;
    }
    memcpy(out, t->cfg->app_name, app);
    out[app] = '@';
    memcpy(out + app + 1, host, n + 1);
}

void membership_disconnect_vanished(struct membership *m, struct topo *t, const char *name)
{
    m->stats.disconnects++;
    if (conn_is_up(m->conn, name) || conn_is_connecting(m->conn, name)) {
        conn_disconnect(m->conn, name);
        mlog(m, t, "disconnected from", name);
    }
}

static void round_answered(struct membership *m, size_t ti)
{
    struct topo *t = &m->topos[ti];
    if (t->round_failed)
        m->stats.lookups_failed++;
    if (t->round_truncated)
        m->stats.truncated_answers++;
    m->mode->reconcile(m, t);
    membership_connect_discovered(m, t);
    if (!m->mode->serial_connects) /* (else the last serial connect ends it) */
        round_finish(m, t);
}

static bool on_dns_answer(struct membership *m, cs_query_id q, const struct cs_dns_answer *ans)
{
    for (size_t ti = 0; ti < m->topo_count; ti++) {
        struct topo *t = &m->topos[ti];
        for (size_t k = 0; t->round_active && k < 2; k++) {
            if (t->queries[k] != q || q == 0)
                continue;
            t->queries[k] = 0;
            if (ans->status != CS_DNS_OK)
                t->round_failed = true;
            t->round_truncated |= ans->truncated;
            for (size_t r = 0; r < ans->count; r++)
                answer_take(t, &ans->records[r]);
            /* The windows' union is the answer. */
            if (ans->truncated && m->mode->retries_truncated && t->truncated_retries < MEM_TRUNCATED_RETRIES) {
                t->truncated_retries++;
                t->queries[k] = m->env->dns_query(m->env, t->cfg->query, ans->records[0].type);
                return true;
            }
            if (--t->queries_pending == 0) {
                answer_close(t);
                round_answered(m, ti);
            }
            return true;
        }
    }
    return false;
}

/* ---- static strategy ---- */

static void static_round(struct membership *m, size_t ti)
{
    struct topo *t = &m->topos[ti];
    for (size_t i = 0; i < t->cfg->host_count; i++)
        name_set_add(&t->discovered, t->cfg->hosts[i]);
    m->stats.rounds++;
    membership_connect_discovered(m, t);
    if (t->cfg->polling_interval > 0)
        arm_poll(m, ti, 0);
}

/* ---- entry points ---- */

void membership_start(struct membership *m)
{
    conn_start(m->conn);
    for (size_t ti = 0; ti < m->topo_count; ti++) {
        if (m->topos[ti].cfg->strategy != MEM_GOSSIP && m->topos[ti].cfg->start_delay > 0) {
            m->env->timer_start(m->env, m->topos[ti].cfg->start_delay, MEM_TAG(MEMBERSHIP_TIMER_POLL, ti, 0));
            continue;
        }
        switch (m->topos[ti].cfg->strategy) {
        case MEM_STATIC:
            static_round(m, ti);
            break;
        case MEM_GOSSIP:
            membership_gossip_start(m, ti);
            break;
        default:
            round_start(m, ti, 0);
            break;
        }
    }
}

void membership_stop(struct membership *m)
{
    m->stopping = true;
    if (m->mode->announces_leave)
        conn_shutdown(m->conn, true);
}

static void on_timer(struct membership *m, uint64_t tag)
{
    unsigned kind = CS_TAG_KIND_OF(tag);
    size_t ti = (size_t)(tag >> 40 & 0xff);
    if (ti >= m->topo_count || m->stopping) /* a stopped strategy polls and dials no more */
        return;
    struct topo *t = &m->topos[ti];
    switch (kind) {
    case MEMBERSHIP_TIMER_POLL:
        if (t->cfg->strategy == MEM_STATIC)
            static_round(m, ti);
        else if (is_dns(t->cfg->strategy))
            round_start(m, ti, (int)(tag & 0xff));
        break;
    case MEMBERSHIP_TIMER_GOSSIP:
        membership_gossip_tick(m, ti);
        break;
    case MEMBERSHIP_TIMER_SERIAL_GUARD:
        if (t->waiting_for[0] && (tag & 0xffffffffffULL) == (t->serial_epoch & 0xffffffffffULL)) {
            mlog(m, t, "unable to connect to", t->waiting_for);
            serial_advance(m, t);
        }
        break;
    default:
        break;
    }
}

bool membership_handle(struct membership *m, const struct cs_event *ev)
{
    if (conn_handle(m->conn, ev))
        return true;
    switch (ev->type) {
    case CS_EV_TIMER:
        if (CS_TAG_MODULE_OF(ev->u.timer.tag) != CS_TAG_MEM)
            return false;
        on_timer(m, ev->u.timer.tag);
        return true;
    case CS_EV_DNS:
        return on_dns_answer(m, ev->u.dns.query, ev->u.dns.answer);
    case CS_EV_DGRAM:
        return membership_gossip_datagram(m, ev->u.dgram.data, ev->u.dgram.len);
    default:
        return false;
    }
}
