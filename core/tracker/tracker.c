/*
 * core/tracker/tracker.c: the tracker's frame: creation (and the choice of
 * the mode's table, mode.h), the tracker clock, event delivery with Swarm's postpone rule, the
 * remote "is the tracker running there?" check, and the observation
 * functions (dump, state key).  The modes' state machines are in swarm.c
 * and fixed.c, interned node names and the `nodes` list in names.c,
 * registry operations in commands.c, merges and handoffs in merge.c,
 * registry digests in digest.c.
 */
#include "internal.h"
#include "mode.h"
#include "../strcopy.h"
#include "../grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

void trk_config_defaults(struct trk_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = TRK_FIXED;
    cfg->sync_nodes_timeout = CS_MSEC(5000);
    cfg->anti_entropy_interval = CS_SEC(300);
    cfg->retry_interval = CS_SEC(1);
    cfg->retry_max = 10;
    cfg->sync_timeout = CS_SEC(10);
    cfg->placement_settle = CS_SEC(1);
    cfg->pull_timeout = CS_SEC(1);
}

struct tracker *trk_new(struct cs_env *env, const struct trk_config *cfg, const char *self,
                        uint32_t creation, const struct trk_host *host)
{
    struct tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->env = env;
    t->cfg = *cfg;
    t->mode = cfg->mode == TRK_SWARM ? &trk_swarm_mode : &trk_fixed_mode; /* the one mode test */
    t->host = *host;
    cs_copy_str(t->self, sizeof t->self, self);
    t->creation = creation;
    t->sync_node = -1;
    t->pull_peer = -1;
    t->placement_waiting_since = -1;
    t->placement_forced_at = -1;
    cs_refmap_init(&t->name_index);
    cs_idmap_init(&t->proc_index);
    registry_init(&t->reg);
    t->ring = ring_new(RING_POINTS_DEFAULT, cfg->static_quorum);
    if (t->ring)
        ring_use_memo(t->ring, env->ring_memo);
    t->arena = itc_arena_new();
    if (!t->ring || !t->arena || trk_name_index(t, self) != 0) {
        trk_free(t);
        return NULL;
    }
    ring_add(t->ring, self);
    trk_clock_seed(t);
    return t;
}

static void event_free(struct trk_event *e)
{
    free(e->peer);
    free(e->data);
    free(e->op);
    free(e->name);
    free(e->arg);
}

void trk_free(struct tracker *t)
{
    if (!t)
        return;
    trk_names_free(t);
    free(t->nodes);
    free(t->pending);
    ring_free(t->ring);
    itc_arena_free(t->arena);
    registry_free(&t->reg);
    free(t->procs);
    free(t->free_procs);
    cs_idmap_free(&t->proc_index);
    for (size_t i = 0; i < t->postponed_count; i++)
        event_free(&t->postponed[i]);
    free(t->postponed);
    free(t->requests);
    free(t->batch_buf);
    free(t->bundle_items);
    free(t->bundle_buf);
    free(t->batch_in);
    free(t->snap_in);
    free(t->snap_hash);
    free(t->snap_same);
    free(t->by_name);
    free(t->content_hashes);
    free(t->content_bucket);
    free(t->own_slots);
    free(t->handoff_sent);
    free(t->authored);
    trk_pull_free(t);
    free(t->dirty);
    free(t);
}


/* ---- syncs (the counters of trk_stats) ---- */

const cs_time trk_sync_le[TRK_SYNC_BUCKETS] = {
    CS_MSEC(1),   CS_MSEC(5),    CS_MSEC(10),   CS_MSEC(25), CS_MSEC(50), CS_MSEC(100), CS_MSEC(250),
    CS_MSEC(500), CS_MSEC(1000), CS_MSEC(2500), CS_SEC(5),   CS_SEC(10),  CS_SEC(30),
};

void trk_sync_begin(struct tracker *t, uint32_t peer)
{
    t->stats.syncs_started++;
    if (peer >= t->name_count)
        return;
    struct trk_sync_watch *s = &t->syncs[peer];
    cs_time now = t->env->now(t->env);
    if (s->open++ == 0)
        s->first = now;
    s->last = now;
}

/* A peer answers its syncs in order (one link, FIFO), so the oldest under
 * way ends first; the next one's start is known exactly when at most two
 * were under way (else the newest start stands in: a shorter reading). */
void trk_sync_end(struct tracker *t, uint32_t peer, bool completed)
{
    if (peer >= t->name_count || t->syncs[peer].open == 0)
        return; /* no sync of ours: nothing ends */
    struct trk_sync_watch *s = &t->syncs[peer];
    cs_time took = t->env->now(t->env) - s->first;
    s->first = s->last;
    s->open--;
    if (!completed) {
        t->stats.syncs_abandoned++;
        return;
    }
    t->stats.syncs_completed++;
    if (took < 0)
        took = 0;
    size_t b = 0;
    while (b < TRK_SYNC_BUCKETS && took > trk_sync_le[b])
        b++;
    t->stats.sync_buckets[b]++;
    t->stats.sync_time_sum += took;
}

void trk_sync_abandon_all(struct tracker *t, uint32_t peer)
{
    if (peer >= t->name_count)
        return;
    t->stats.syncs_abandoned += t->syncs[peer].open;
    t->syncs[peer].open = 0;
}

uint32_t trk_random_node(struct tracker *t)
{
    return t->nodes[cs_choose(t->env, t->node_count)];
}

/* ---- sending ---- */

const char *trk_msg_name(unsigned type)
{
    static const char *const names[] = {
        [TRK_MSG_CHECK] = "check", [TRK_MSG_CHECK_REPLY] = "check_reply", [TRK_MSG_SYNC] = "sync",
        [TRK_MSG_SYNC_RECV] = "sync_recv", [TRK_MSG_SYNC_ACK] = "sync_ack", [TRK_MSG_SYNC_ERR] = "sync_err",
        [TRK_MSG_TRACK] = "track", [TRK_MSG_UNTRACK] = "untrack", [TRK_MSG_UPDATE_META] = "update_meta",
        [TRK_MSG_HANDOFF] = "handoff", [TRK_MSG_REQUEST] = "request", [TRK_MSG_REPLY] = "reply",
        [TRK_MSG_SEND] = "send",
        [TRK_MSG_KILL] = "kill", [TRK_MSG_BATCH] = "batch", [TRK_MSG_DIGEST] = "digest",
        [TRK_MSG_PULL] = "pull"};
    return type < sizeof names / sizeof *names && names[type] ? names[type] : "unknown";
}

const char *trk_message_type_name(unsigned type)
{
    const char *name = trk_msg_name(type);
    return type < TRK_SENT_TYPES && strcmp(name, "unknown") != 0 ? name : NULL;
}

/* Every tracker message goes out here; with tracing on, a `trk_send`
 * record names its type just before the link layer records the bytes. */
static void send_raw(struct tracker *t, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    trk_batch_flush(t); /* what was batched before this message goes before it */
    if (len && data[0] < TRK_SENT_TYPES)
        t->stats.sent[data[0]]++;
    cs_trace(t->env, "trk_send", CS_FSTR("to", peer), CS_FSTR("type", trk_msg_name(len ? data[0] : 0)));
    t->host.send(t->host.ctx, peer, slot, data, len);
}

void trk_send(struct tracker *t, uint32_t peer, const struct cs_writer *w)
{
    if (w->overflow) {
        cs_logf(t->env, CS_LOG_ERROR, "[swarm] message to %s too large, not sent", trk_name(t, peer));
        return;
    }
    send_raw(t, trk_name(t, peer), peer < t->name_count ? t->host_slot[peer] : -1, w->buf, w->len);
}

/* ---- the tracker clock (kept encoded) ---- */

void trk_clock_seed(struct tracker *t)
{
    itc_arena_reset(t->arena);
    int n = itc_encode(itc_seed(t->arena), t->clock, sizeof t->clock);
    t->clock_len = n > 0 ? (size_t)n : 0;
}

void trk_clock_fork(struct tracker *t, uint8_t *other, size_t *other_len)
{
    itc_arena_reset(t->arena);
    struct itc_stamp s, mine, theirs;
    *other_len = 0;
    if (itc_decode(t->arena, t->clock, t->clock_len, &s) < 0)
        return;
    itc_fork(t->arena, s, &mine, &theirs);
    int a = itc_encode(mine, t->clock, sizeof t->clock);
    int b = itc_encode(theirs, other, TRK_CLOCK_MAX);
    if (a > 0)
        t->clock_len = (size_t)a;
    if (b > 0)
        *other_len = (size_t)b;
}

bool trk_clock_valid(struct tracker *t, const uint8_t *clock, size_t len)
{
    if (len == 0)
        return true;
    itc_arena_reset(t->arena);
    struct itc_stamp s;
    return len <= TRK_CLOCK_MAX && itc_decode(t->arena, clock, len, &s) >= 0;
}

void trk_clock_adopt(struct tracker *t, const uint8_t *clock, size_t len)
{
    itc_arena_reset(t->arena);
    struct itc_stamp s;
    if (len == 0 || len > sizeof t->clock || itc_decode(t->arena, clock, len, &s) < 0) {
        t->stats.bad_clock++;
        return;
    }
    memcpy(t->clock, clock, len);
    t->clock_len = len;
}

/* ---- state changes and the postpone rule ---- */

static const char *state_name(enum trk_state s)
{
    static const char *const n[] = {"cluster_wait", "syncing", "awaiting_sync_ack", "tracking"};
    return n[s];
}

void trk_set_state(struct tracker *t, enum trk_state s)
{
    if (t->state == s)
        return;
    cs_trace(t->env, "tracker_state", CS_FSTR("from", state_name(t->state)), CS_FSTR("to", state_name(s)));
    t->state = s;
    t->state_changed = true;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

void trk_postpone(struct tracker *t, const struct trk_event *ev)
{
    if (cs_grow((void **)&t->postponed, &t->postponed_cap, t->postponed_count + 1,
                sizeof *t->postponed) != 0)
        return;
    struct trk_event *c = &t->postponed[t->postponed_count++];
    *c = *ev;
    c->peer = dup_or_null(ev->peer);
    c->op = dup_or_null(ev->op);
    c->name = dup_or_null(ev->name);
    c->arg = dup_or_null(ev->arg);
    c->data = NULL;
    if (ev->len) {
        c->data = malloc(ev->len);
        if (c->data)
            memcpy(c->data, ev->data, ev->len);
    }
    t->stats.postponed++;
}

/* Moves an already postponed event to the end of the postponed list. */
static void requeue(struct tracker *t, struct trk_event *ev)
{
    if (t->postponed_count == t->postponed_cap) {
        size_t cap = t->postponed_cap ? t->postponed_cap * 2 : 16;
        struct trk_event *p = realloc(t->postponed, cap * sizeof *p);
        if (!p) {
            event_free(ev);
            return;
        }
        t->postponed = p;
        t->postponed_cap = cap;
    }
    t->postponed[t->postponed_count++] = *ev;
}

/* Handles one event, then re-delivers postponed events after every state
 * change, in their original order, as gen_statem does. */
static void deliver_one(struct tracker *t, const struct trk_event *ev)
{
    t->mode->event(t, ev);
    while (t->state_changed) {
        t->state_changed = false;
        struct trk_event *list = t->postponed;
        size_t count = t->postponed_count;
        t->postponed = NULL;
        t->postponed_count = t->postponed_cap = 0;
        size_t i = 0;
        for (; i < count && !t->state_changed; i++) {
            t->mode->event(t, &list[i]);
            event_free(&list[i]);
        }
        /* The state changed again half way: the events postponed again so
         * far come first, then the ones not yet re-delivered (gen_statem
         * puts postponed events back before the rest of the queue). */
        for (; i < count; i++)
            requeue(t, &list[i]);
        free(list);
    }
}

/* One event and what it brings about: a turn of the tracker. */
static void deliver(struct tracker *t, const struct trk_event *ev)
{
    deliver_one(t, ev);
    if (t->mode->batches)
        trk_turn_end(t);
}

/* ---- entry points ---- */

void trk_start(struct tracker *t)
{
    cs_time jitter = t->cfg.start_jitter > 0
                         ? (cs_time)cs_random_below(t->env, (uint64_t)t->cfg.start_jitter + 1)
                         : 0;
    t->env->timer_start(t->env, t->cfg.start_delay + jitter, TRK_TAG(TRK_TIMER_START, 0));
}

void trk_nodeup(struct tracker *t, const char *peer)
{
    struct trk_event ev = {.kind = TE_NODEUP, .peer = (char *)peer};
    if (t->running)
        deliver(t, &ev);
}

void trk_nodedown(struct tracker *t, const char *peer)
{
    struct trk_event ev = {.kind = TE_NODEDOWN, .peer = (char *)peer};
    if (t->running)
        deliver(t, &ev);
}

/* check_reply running:u8 attempt:u8, then in fixed mode the content
 * digest (when the tracker keeps one), so that the checker can tell
 * whether a snapshot would bring either side anything. */
static void answer_check(struct tracker *t, const char *peer, int32_t slot, uint8_t attempt)
{
    uint8_t buf[3 + TRK_CONTENT_DIGEST_LEN];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_CHECK_REPLY);
    cs_put_u8(&w, t->running && !t->stopping);
    cs_put_u8(&w, attempt);
    struct trk_content_digest d;
    if (trk_content_digest(t, &d))
        trk_put_content_digest(&w, &d);
    send_raw(t, peer, slot, buf, w.len);
}

void trk_message(struct tracker *t, const char *peer, const uint8_t *data, size_t len)
{
    trk_message_from(t, peer, -1, data, len);
}

static bool check_crossed(struct tracker *t, const char *peer, int32_t slot, const uint8_t *data, size_t len);

void trk_message_from(struct tracker *t, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    if (len == 0) {
        t->stats.malformed++;
        return;
    }
    /* The remote check is answered by the node itself, tracker up or not,
     * unless it crosses ours. */
    if (data[0] == TRK_MSG_CHECK) {
        if (!check_crossed(t, peer, slot, data, len))
            answer_check(t, peer, slot, len > 1 ? data[1] : 0);
        return;
    }
    if (!t->running)
        return;
    int32_t from = trk_sender_index(t, peer, slot);
    struct trk_event ev = {.kind = TE_MESSAGE, .peer = (char *)peer, .peer_index = from > 0 ? from : 0,
                           .data = (uint8_t *)data, .len = len};
    deliver(t, &ev);
}

void trk_command(struct tracker *t, const struct cs_command *cmd)
{
    struct trk_event ev = {.kind = TE_COMMAND, .op = (char *)cmd->op, .name = (char *)cmd->name,
                           .arg = (char *)cmd->arg, .value = cmd->value};
    if (!t->running) {
        trk_reply(t, cmd->op, cmd->name ? cmd->name : "", "not_running", "", 0);
        return;
    }
    deliver(t, &ev);
}

bool trk_handle(struct tracker *t, const struct cs_event *ev)
{
    if (ev->type != CS_EV_TIMER || CS_TAG_MODULE_OF(ev->u.timer.tag) != CS_TAG_TRK)
        return false;
    if (CS_TAG_KIND_OF(ev->u.timer.tag) == TRK_TIMER_START) {
        t->running = true;
        cs_logf(t->env, CS_LOG_INFO, "[swarm on %s] [tracker:init] started (%s mode)", t->self, t->mode->name);
        struct trk_event start = {.kind = TE_TIMER, .tag = ev->u.timer.tag};
        deliver(t, &start);
        return true;
    }
    struct trk_event tev = {.kind = TE_TIMER, .tag = ev->u.timer.tag};
    if (t->running)
        deliver(t, &tev);
    return true;
}

/* ---- the remote check ---- */

/* check attempt:u8, then, in a mode whose checks cross, from a running
 * tracker that is not stopping, its content digest (when it keeps one):
 * the check then says what the peer's answer would say of us, that our
 * tracker runs and holds these entries, so a peer whose own check of us
 * is unanswered takes ours as its answer (and we take its check as ours),
 * and neither sends a check_reply.  Both facts are as of the check's
 * sending, as an answer's are as of its sending: a digest compared later
 * than it was taken, nothing more (fixed.c compares it with ours when it
 * arrives; what changed since reaches the peer as replicated events once
 * it is a node, or is found different and pulled). */
void trk_start_check(struct tracker *t, uint32_t peer, uint32_t attempt)
{
    uint8_t buf[2 + TRK_CONTENT_DIGEST_LEN];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_CHECK);
    cs_put_u8(&w, (uint8_t)attempt);
    struct trk_content_digest d;
    if (t->mode->checks_cross && t->running && !t->stopping && trk_content_digest(t, &d)) {
        trk_put_content_digest(&w, &d);
        t->check_out[peer] = true;
    }
    trk_send(t, peer, &w);
}

/* A peer's check that crosses ours (both carry a digest, ours unanswered):
 * handled as the check_reply it stands for (running, with its digest), and
 * not answered.  False when it is to be answered as usual. */
static bool check_crossed(struct tracker *t, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    if (!t->mode->checks_cross || !t->running || t->stopping || len != 2 + TRK_CONTENT_DIGEST_LEN)
        return false;
    int32_t from = trk_sender_index(t, peer, slot);
    if (from <= 0 || !t->check_out[from])
        return false;
    t->check_out[from] = false;
    uint8_t reply[3 + TRK_CONTENT_DIGEST_LEN] = {TRK_MSG_CHECK_REPLY, 1, data[1]};
    memcpy(reply + 3, data + 2, TRK_CONTENT_DIGEST_LEN);
    struct trk_event ev = {.kind = TE_MESSAGE, .peer = (char *)peer, .peer_index = from,
                           .data = reply, .len = sizeof reply};
    t->stats.checks_crossed++;
    t->check_crossing = true; /* (the peer takes ours as its answer: fixed.c sends no greeting) */
    deliver(t, &ev);
    t->check_crossing = false;
    return true;
}

void trk_check_answered(struct tracker *t, uint32_t peer)
{
    if (peer < t->name_count)
        t->check_out[peer] = false;
}

struct take_ctx {
    struct tracker *t;
    bool check;
};

static void take_peer(void *ctx, const char *peer)
{
    struct take_ctx *c = ctx;
    int32_t idx = trk_name_index(c->t, peer);
    if (idx <= 0)
        return;
    if (c->check)
        trk_start_check(c->t, (uint32_t)idx, 0);
    else
        trk_add_node(c->t, (uint32_t)idx);
}

void trk_take_connected(struct tracker *t, bool check)
{
    struct take_ctx c = {t, check};
    if (t->host.each_peer)
        t->host.each_peer(t->host.ctx, take_peer, &c);
}

/* ---- observation ---- */

enum trk_state trk_state(const struct tracker *t)
{
    return t->state;
}

bool trk_running(const struct tracker *t)
{
    return t->running;
}

bool trk_placement_held(const struct tracker *t)
{
    return t->placement_armed;
}

void trk_each_node(const struct tracker *t, void (*fn)(void *ctx, const char *peer), void *ctx)
{
    for (size_t i = 0; i < t->node_count; i++)
        fn(ctx, t->names[t->nodes[i]]);
}

size_t trk_node_count(const struct tracker *t)
{
    return t->node_count;
}

void trk_nodes_digest(const struct tracker *t, size_t *count, uint64_t *sum)
{
    *count = t->node_count;
    *sum = 0;
    for (size_t i = 0; i < t->node_count; i++)
        *sum += t->name_hashes[t->nodes[i]]; /* XXH3 of the name */
}

const struct trk_stats *trk_stats(const struct tracker *t)
{
    return &t->stats;
}

const struct trk_reply *trk_last_reply(const struct tracker *t)
{
    return &t->last_reply;
}

const char *trk_waiting_for(const struct tracker *t)
{
    if (t->state == TRK_TRACKING || t->sync_node < 0)
        return NULL;
    return t->names[t->sync_node];
}

struct each_entry_ctx {
    const struct tracker *t;
    bool with_ring_owner;
    void (*fn)(void *ctx, const char *name, const char *owner, bool started, const char *ring_owner);
    void *ctx;
};

static void each_entry(void *ctx, struct reg_entry *e)
{
    struct each_entry_ctx *c = ctx;
    if (e->flags & REG_TOMBSTONE)
        return;
    c->fn(c->ctx, e->name, trk_name(c->t, e->owner), (e->flags & REG_STARTED) != 0,
          c->with_ring_owner && c->t->ring ? ring_owner(c->t->ring, e->name) : NULL);
}

void trk_each_entry(const struct tracker *t, bool with_ring_owner,
                    void (*fn)(void *ctx, const char *name, const char *owner, bool started,
                               const char *ring_owner),
                    void *ctx)
{
    struct each_entry_ctx c = {t, with_ring_owner, fn, ctx};
    registry_each(&t->reg, each_entry, &c);
}

void trk_reply(struct tracker *t, const char *op, const char *name, const char *status,
               const char *owner, int64_t value)
{
    struct trk_reply *r = &t->last_reply;
    cs_copy_str(r->op, sizeof r->op, op);
    cs_copy_str(r->name, sizeof r->name, name);
    cs_copy_str(r->status, sizeof r->status, status);
    cs_copy_str(r->owner, sizeof r->owner, owner);
    r->value = value;
    cs_trace(t->env, "reply", CS_FSTR("op", r->op), CS_FSTR("name", r->name), CS_FSTR("status", r->status),
             CS_FSTR("owner", r->owner), CS_FINT("value", value));
    /* a call's value is a count; every other reply carries a handle, which is unsigned */
    if (!strcmp(r->op, "call"))
        cs_logf(t->env, CS_LOG_INFO, "[swarm] %s %s -> %s%s%s (%lld)", r->op, r->name, r->status,
                r->owner[0] ? " on " : "", r->owner, (long long)value);
    else
        cs_logf(t->env, CS_LOG_INFO, "[swarm] %s %s -> %s%s%s (%llu)", r->op, r->name, r->status,
                r->owner[0] ? " on " : "", r->owner, (unsigned long long)(uint64_t)value);
    if (t->env->reply)
        t->env->reply(t->env, r->op, r->name, r->status, r->owner, value);
}

const char *trk_state_name(enum trk_state s)
{
    return (unsigned)s <= TRK_TRACKING ? state_name(s) : "?";
}

const char *trk_mode_name(const struct tracker *t)
{
    return t->mode->name;
}

int trk_clock_text(const struct tracker *t, char *buf, size_t size)
{
    int len = snprintf(buf, size, "?");
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp s;
    if (a && itc_decode(a, t->clock, t->clock_len, &s) >= 0)
        len = itc_format(s, buf, size);
    itc_arena_free(a);
    return len;
}

const char *trk_sync_node(const struct tracker *t)
{
    return t->sync_node >= 0 ? t->names[t->sync_node] : NULL;
}

void trk_each_pending(const struct tracker *t, void (*fn)(void *ctx, const char *peer), void *ctx)
{
    for (size_t i = 0; i < t->pending_count; i++)
        fn(ctx, t->names[t->pending[i]]);
}

void trk_each_ring_node(const struct tracker *t, void (*fn)(void *ctx, const char *node), void *ctx)
{
    if (t->ring)
        ring_each_node(t->ring, fn, ctx);
}

int trk_dump(const struct tracker *t, char *buf, size_t size)
{
    size_t len = 0;
#define OUT(...) len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__)
    char clock[256];
    trk_clock_text(t, clock, sizeof clock);
    OUT("{:%s, %%TrackerState{clock: %s, nodes: [", state_name(t->state), clock);
    for (size_t i = 0; i < t->node_count; i++)
        OUT("%s:\"%s\"", i ? ", " : "", t->names[t->nodes[i]]);
    OUT("], pending_sync_reqs: [");
    for (size_t i = 0; i < t->pending_count; i++)
        OUT("%s#PID<%s.Swarm.Tracker>", i ? ", " : "", t->names[t->pending[i]]);
    OUT("], self: :\"%s\", strategy: ", t->self);
    char ring[512];
    ring_format(t->ring, ring, sizeof ring);
    OUT("%s, sync_node: ", ring);
    if (t->sync_node >= 0)
        OUT(":\"%s\"", t->names[t->sync_node]);
    else
        OUT("nil");
    OUT(", registered: %zu}}", registry_count(&t->reg));
#undef OUT
    return (int)(len < size ? len : size ? size - 1 : 0);
}

int trk_state_key(const struct tracker *t, char *buf, size_t size)
{
    size_t len = (size_t)snprintf(buf, size, "%d/%d/%d|", (int)t->running, (int)t->state,
                                  (int)t->sync_node);
    /* nodes and parked requests as name indices would differ between paths
     * (indices are handed out in arrival order): write the names. */
    for (size_t i = 0; i < t->node_count && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s,", t->names[t->nodes[i]]);
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, "|");
    for (size_t i = 0; i < t->pending_count && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s,", t->names[t->pending[i]]);
    /* fixed mode's pulls decide what it sends next: the one under way, then
     * the queue in order (omitted, states that differ here compared equal) */
    if (len < size) /* (with each pull's scope flags, and whether a full pull was taken) */
        len += (size_t)snprintf(buf + len, size - len, "|%d%d%s/%u:", t->took_full_pull, t->pull_ask,
                                t->pull_peer >= 0 ? t->names[t->pull_peer] : "-",
                                t->pull_peer >= 0 ? t->pull_state[t->pull_peer] : 0);
    for (size_t i = 0; i < t->pull_count && len < size; i++) {
        uint32_t peer = t->pull_queue[(t->pull_head + i) % t->pull_cap];
        len += (size_t)snprintf(buf + len, size - len, "%s/%u,", t->names[peer], t->pull_state[peer]);
    }
    if (len < size)
        len += (size_t)snprintf(buf + len, size - len, "|%s|%zu|%zu/%016llx|%u/%016llx",
                                t->sync_node >= 0 ? t->names[t->sync_node] : "-",
                                t->postponed_count, t->digest_count,
                                (unsigned long long)t->digest_sum, t->batch_count,
                                t->batch_count ? (unsigned long long)XXH3_64bits(t->batch_buf, t->batch.len) : 0ULL);
    return (int)(len < size ? len : size ? size - 1 : 0);
}

bool trk_timer_can_progress(const struct tracker *t, uint64_t tag)
{
    if (CS_TAG_MODULE_OF(tag) != CS_TAG_TRK)
        return true;
    return t->mode->timer_can_progress(t, CS_TAG_KIND_OF(tag));
}
