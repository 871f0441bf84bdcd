/*
 * tests/tracker_harness.c: the in-memory harness of the tracker's unit
 * tests (see tracker_harness.h for what it owns): the fake environment and
 * host of each tracker, the message queue, and the helpers the tests share
 * to drive and observe the trackers and to forge messages.
 */
#include "tests.h"
#include "tracker_harness.h"

#include "../sim/trace.h"

#include "../core/ring.h"
#include "../core/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The harness of the running test; freed by the teardown even when an
 * assertion fails half way. */
struct harness *H;

/* The node whose fake environment this is. */
static struct hnode *env_node(struct cs_env *env)
{
    return env->impl;
}

/* cs_env.now: the harness's virtual clock. */
static cs_time fake_now(struct cs_env *env)
{
    return env_node(env)->h->now;
}

/* cs_env.timer_start: records an armed timer due `delay` from now. */
static cs_timer_id fake_timer_start(struct cs_env *env, cs_time delay, uint64_t tag)
{
    struct hnode *n = env_node(env);
    if (n->timer_count == n->timer_cap) {
        n->timer_cap = n->timer_cap ? n->timer_cap * 2 : 16;
        n->timers = realloc(n->timers, n->timer_cap * sizeof *n->timers);
        assert_non_null(n->timers);
    }
    struct htimer *tm = &n->timers[n->timer_count++];
    tm->id = ++n->h->next_timer;
    tm->due = n->h->now + delay;
    tm->delay = delay;
    tm->tag = tag;
    tm->armed = true;
    return tm->id;
}

/* cs_env.timer_cancel: disarms the timer with this id. */
static void fake_timer_cancel(struct cs_env *env, cs_timer_id id)
{
    struct hnode *n = env_node(env);
    for (size_t i = 0; i < n->timer_count; i++)
        if (n->timers[i].id == id)
            n->timers[i].armed = false;
}

/* Scripted values first; then 12, which cs_random_below maps to index 0
 * for every bound from 1 to 4 (and which is never rejected). */
static uint64_t fake_random(struct cs_env *env)
{
    struct hnode *n = env_node(env);
    if (n->rnd_pos < n->rnd_count)
        return n->rnd[n->rnd_pos++];
    n->unscripted++;
    return 12;
}

/* cs_env.trace: keeps the last trace event and counts them. */
static void fake_trace(struct cs_env *env, const char *kind, const struct cs_field *fields, size_t count)
{
    struct hnode *n = env_node(env);
    snprintf(n->last_trace_kind, sizeof n->last_trace_kind, "%s", kind);
    sim_trace_encode_fields(fields, count, n->last_trace, sizeof n->last_trace);
    n->trace_count++;
}

/* cs_env.log: keeps the last log line and counts lines and warnings. */
static void fake_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    struct hnode *n = env_node(env);
    snprintf(n->last_log, sizeof n->last_log, "%s", line);
    n->log_count++;
    n->warn_count += level >= CS_LOG_WARN;
}

/* cs_env.reply: records a command reply. */
static void fake_reply(struct cs_env *env, const char *op, const char *name, const char *status,
                       const char *owner, int64_t value)
{
    struct hnode *n = env_node(env);
    assert_true(n->reply_count < H_REPLIES);
    struct hreply *r = &n->replies[n->reply_count++];
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->name, sizeof r->name, "%s", name);
    snprintf(r->status, sizeof r->status, "%s", status);
    snprintf(r->owner, sizeof r->owner, "%s", owner);
    r->value = value;
}

int h_index(const struct harness *h, const char *name)
{
    for (int i = 0; i < h->count; i++)
        if (strcmp(h->n[i].name, name) == 0)
            return i;
    return -1;
}

/* trk_host.send: appends a copy of the message to the queue.  The harness
 * numbers peers by node index (h_deliver_at): a number the tracker passes
 * back must be its addressee's. */
static int fake_send(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    struct hnode *n = ctx;
    struct harness *h = n->h;
    if (slot >= 0)
        assert_int_equal(slot, h_index(h, peer));
    if (h->qlen == h->qcap) {
        h->qcap = h->qcap ? h->qcap * 2 : 64;
        h->q = realloc(h->q, h->qcap * sizeof *h->q);
        assert_non_null(h->q);
    }
    struct hmsg *m = &h->q[h->qlen++];
    m->from = n->idx;
    m->to = h_index(h, peer);
    m->len = len;
    m->data = malloc(len ? len : 1);
    assert_non_null(m->data);
    memcpy(m->data, data, len);
    return 0;
}

const char *NAME[HN_MAX] = {"app@10.0.0.1", "app@10.0.0.2", "app@10.0.0.3", "app@10.0.0.4"};

/* Creates node i's tracker with its current name and creation. */
static void h_make_tracker(struct harness *h, int i)
{
    struct hnode *n = &h->n[i];
    n->t = trk_new(&n->env, &h->cfg, n->name, n->creation, &n->host);
    assert_non_null(n->t);
}

/* A harness of `count` trackers with configuration `cfg` (created, not yet
 * started); node i has creation i + 1. */
struct harness *h_new_cfg(const struct trk_config *cfg, int count)
{
    assert_null(H);
    struct harness *h = calloc(1, sizeof *h);
    assert_non_null(h);
    H = h;
    h->cfg = *cfg;
    h->count = count;
    for (int i = 0; i < count; i++) {
        struct hnode *n = &h->n[i];
        n->h = h;
        n->idx = i;
        snprintf(n->name, sizeof n->name, "%s", NAME[i]);
        n->creation = (uint32_t)i + 1;
        n->env.impl = n;
        n->env.trace_enabled = 1;
        n->env.log_enabled = 1;
        n->env.now = fake_now;
        n->env.timer_start = fake_timer_start;
        n->env.timer_cancel = fake_timer_cancel;
        n->env.random_u64 = fake_random;
        n->env.trace = fake_trace;
        n->env.log = fake_log;
        n->env.reply = fake_reply;
        n->host.ctx = n;
        n->host.send = fake_send;
        h_make_tracker(h, i);
    }
    return h;
}

struct harness *h_new(enum trk_mode mode, int count)
{
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = mode;
    return h_new_cfg(&cfg, count);
}

void h_free(struct harness *h)
{
    if (!h)
        return;
    for (int i = 0; i < h->count; i++) {
        trk_free(h->n[i].t);
        free(h->n[i].timers);
    }
    for (size_t i = 0; i < h->qlen; i++)
        free(h->q[i].data);
    free(h->q);
    free(h);
}

int h_teardown(void **state)
{
    (void)state;
    h_free(H);
    H = NULL;
    return 0;
}

struct tracker *T(int i)
{
    assert_non_null(H->n[i].t);
    return H->n[i].t;
}

/* ---- timers ---- */

/* The timer kind (TT_*) encoded in a tag. */
static unsigned tag_kind(uint64_t tag)
{
    return CS_TAG_KIND_OF(tag);
}

size_t h_armed(struct harness *h, int i, unsigned kind)
{
    size_t c = 0;
    for (size_t k = 0; k < h->n[i].timer_count; k++)
        c += h->n[i].timers[k].armed && tag_kind(h->n[i].timers[k].tag) == kind;
    return c;
}

struct htimer *h_timer(struct harness *h, int i, unsigned kind)
{
    struct htimer *best = NULL;
    for (size_t k = 0; k < h->n[i].timer_count; k++) {
        struct htimer *tm = &h->n[i].timers[k];
        if (tm->armed && tag_kind(tm->tag) == kind && (!best || tm->due < best->due))
            best = tm;
    }
    return best;
}

/* Fires this timer of node i (the clock jumps to it when it is later). */
static void h_fire_timer(struct harness *h, int i, struct htimer *tm)
{
    tm->armed = false;
    if (tm->due > h->now)
        h->now = tm->due;
    struct cs_event ev = {.type = CS_EV_TIMER};
    ev.u.timer.id = tm->id;
    ev.u.timer.tag = tm->tag;
    assert_true(trk_handle(T(i), &ev));
}

/* Fires node i's earliest armed timer of this kind (the clock jumps to it). */
void h_fire(struct harness *h, int i, unsigned kind)
{
    struct htimer *tm = h_timer(h, i, kind);
    assert_non_null(tm);
    h_fire_timer(h, i, tm);
}

/* Fires every timer of every node due up to `until`, in time order (ties
 * by arming order), then sets the clock to `until`. */
void h_run_until(struct harness *h, cs_time until)
{
    for (;;) {
        int bi = -1;
        struct htimer *best = NULL;
        for (int i = 0; i < h->count; i++) {
            if (!h->n[i].t)
                continue;
            for (size_t k = 0; k < h->n[i].timer_count; k++) {
                struct htimer *tm = &h->n[i].timers[k];
                if (tm->armed && tm->due <= until &&
                    (!best || tm->due < best->due || (tm->due == best->due && tm->id < best->id))) {
                    best = tm;
                    bi = i;
                }
            }
        }
        if (!best)
            break;
        h_fire_timer(h, bi, best);
    }
    if (until > h->now)
        h->now = until;
}

/* No armed timer of node i can move its tracker on (a deadlock's mark). */
void h_assert_no_progress_timer(struct harness *h, int i)
{
    for (size_t k = 0; k < h->n[i].timer_count; k++)
        if (h->n[i].timers[k].armed)
            assert_false(trk_timer_can_progress(T(i), h->n[i].timers[k].tag));
}

/* ---- starting ---- */

/* Arms the start timer and fires it: the tracker runs. */
void h_start(struct harness *h, int i)
{
    trk_start(T(i));
    assert_int_equal(h_armed(h, i, TRK_TIMER_START), 1);
    assert_int_equal(h_timer(h, i, TRK_TIMER_START)->delay, h->cfg.start_delay);
    h_fire(h, i, TRK_TIMER_START);
    assert_true(trk_running(T(i)));
}

/* A crash: the tracker is gone, its timers and the messages from and to it
 * are lost. */
void h_crash(struct harness *h, int i)
{
    trk_free(h->n[i].t);
    h->n[i].t = NULL;
    h->n[i].timer_count = 0;
    size_t k = 0;
    for (size_t j = 0; j < h->qlen; j++) {
        if (h->q[j].from == i || h->q[j].to == i)
            free(h->q[j].data);
        else
            h->q[k++] = h->q[j];
    }
    h->qlen = k;
}

/* A new tracker on node i: same name, new creation; not yet started. */
void h_restart(struct harness *h, int i, uint32_t creation)
{
    assert_null(h->n[i].t);
    h->n[i].creation = creation;
    h_make_tracker(h, i);
}

/* ---- the message queue ---- */

size_t h_pending(struct harness *h, int from, int to)
{
    size_t c = 0;
    for (size_t k = 0; k < h->qlen; k++)
        c += (from < 0 || h->q[k].from == from) && (to < 0 || h->q[k].to == to);
    return c;
}

size_t h_pending_type(struct harness *h, int from, int to, int type)
{
    size_t c = 0;
    for (size_t k = 0; k < h->qlen; k++)
        c += (from < 0 || h->q[k].from == from) && (to < 0 || h->q[k].to == to) &&
             h->q[k].len > 0 && h->q[k].data[0] == type;
    return c;
}

/* The type of the oldest message from -> to, or -1. */
int h_head_type(struct harness *h, int from, int to)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to)
            return h->q[k].len ? h->q[k].data[0] : 0;
    return -1;
}

const struct hmsg *h_find(struct harness *h, int from, int to, int type)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to &&
            (type < 0 || (h->q[k].len && h->q[k].data[0] == type)))
            return &h->q[k];
    return NULL;
}

/* Takes message k out of the queue and hands it to its addressee. */
static int h_deliver_at(struct harness *h, size_t k)
{
    struct hmsg m = h->q[k];
    memmove(&h->q[k], &h->q[k + 1], (h->qlen - k - 1) * sizeof *h->q);
    h->qlen--;
    int type = m.len ? m.data[0] : 0;
    if (m.to >= 0 && h->n[m.to].t)
        trk_message_from(h->n[m.to].t, h->n[m.from].name, m.from, m.data, m.len);
    free(m.data);
    return type;
}

/* Delivers the oldest message from -> to (FIFO per pair); returns its type. */
int h_deliver(struct harness *h, int from, int to)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to)
            return h_deliver_at(h, k);
    fail_msg("no message from %d to %d", from, to);
    return -1;
}

/* Delivers the oldest message of `type` from -> to. */
void h_deliver_type(struct harness *h, int from, int to, int type)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to && h->q[k].len && h->q[k].data[0] == type) {
            h_deliver_at(h, k);
            return;
        }
    fail_msg("no message of type %d from %d to %d", type, from, to);
}

/* Drops every queued message from -> to (-1: any). */
void h_drop(struct harness *h, int from, int to)
{
    size_t k = 0;
    for (size_t j = 0; j < h->qlen; j++) {
        if ((from < 0 || h->q[j].from == from) && (to < 0 || h->q[j].to == to))
            free(h->q[j].data);
        else
            h->q[k++] = h->q[j];
    }
    h->qlen = k;
}

/* Delivers everything, oldest first, until the queue is empty; when
 * `first` >= 0 the messages from that node go before the others. */
void h_settle_pref(struct harness *h, int first)
{
    for (int steps = 0; h->qlen > 0; steps++) {
        assert_true(steps < 10000);
        size_t k = 0;
        if (first >= 0)
            for (size_t j = 0; j < h->qlen; j++)
                if (h->q[j].from == first) {
                    k = j;
                    break;
                }
        h_deliver_at(h, k);
    }
}

void h_settle(struct harness *h)
{
    h_settle_pref(h, -1);
}

/* Node i learns that node j is up: nodeup, the check and its answer. */
void h_learn(struct harness *h, int i, int j)
{
    trk_nodeup(T(i), h->n[j].name);
    h_deliver_type(h, i, j, TRK_MSG_CHECK);
    h_deliver_type(h, j, i, TRK_MSG_CHECK_REPLY);
}

void h_link(struct harness *h, int i, int j)
{
    h_learn(h, i, j);
    h_learn(h, j, i);
}

/* ---- scripted randomness ---- */

void h_script(struct harness *h, int i, uint64_t v)
{
    struct hnode *n = &h->n[i];
    assert_true(n->rnd_count < H_RND);
    n->rnd[n->rnd_count++] = v;
}

/* A node looked for among a tracker's nodes, and its position. */
struct find_ctx {
    const char *name;
    int index, at;
};

/* trk_each_node callback: records the position of the node looked for. */
static void find_node(void *ctx, const char *peer)
{
    struct find_ctx *f = ctx;
    if (strcmp(peer, f->name) == 0)
        f->index = f->at;
    f->at++;
}

/* The next random choice of node i among its `nodes` will be node j. */
void h_pick(struct harness *h, int i, int j)
{
    struct find_ctx f = {h->n[j].name, -1, 0};
    trk_each_node(T(i), find_node, &f);
    assert_true(f.index >= 0);
    /* cs_random_below(bound) is value % bound for values above its
     * rejection threshold (< bound); 12 is a multiple of 1..4. */
    h_script(h, i, 12 + (uint64_t)f.index);
}

bool h_knows(struct harness *h, int i, int j)
{
    struct find_ctx f = {h->n[j].name, -1, 0};
    trk_each_node(T(i), find_node, &f);
    return f.index >= 0;
}

/* ---- commands, observation ---- */

void h_cmd(struct harness *h, int i, const char *op, const char *name, const char *arg,
           int64_t value)
{
    (void)h;
    struct cs_command c = {.op = op, .name = name, .arg = arg, .value = value};
    trk_command(T(i), &c);
}

const struct hreply *h_last_reply(struct harness *h, int i)
{
    assert_true(h->n[i].reply_count > 0);
    return &h->n[i].replies[h->n[i].reply_count - 1];
}

const char *h_dump(struct harness *h, int i)
{
    static char buf[4][2048];
    static int next;
    (void)h;
    char *b = buf[next++ % 4];
    int n = trk_dump(T(i), b, sizeof buf[0]);
    assert_true(n > 0 && (size_t)n < sizeof buf[0]);
    return b;
}

void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not in \"%s\"", needle, hay);
}

size_t h_count(struct harness *h, int i)
{
    size_t count;
    uint64_t sum;
    (void)h;
    trk_registry_digest(T(i), &count, &sum);
    return count;
}

uint64_t h_sum(struct harness *h, int i)
{
    size_t count;
    uint64_t sum;
    (void)h;
    trk_registry_digest(T(i), &count, &sum);
    return sum;
}

void assert_same_registry(struct harness *h, int i, int j)
{
    assert_int_equal(h_count(h, i), h_count(h, j));
    assert_true(h_sum(h, i) == h_sum(h, j));
}

/* The live entry of `name` in node i's table, or NULL. */
const struct reg_entry *h_entry(struct harness *h, int i, const char *name)
{
    (void)h;
    const struct reg_entry *e = registry_get(&T(i)->reg, name);
    return e && !(e->flags & REG_TOMBSTONE) ? e : NULL;
}

/* The owner node's name of `name` in node i's table, or NULL. */
const char *h_owner(struct harness *h, int i, const char *name)
{
    const struct reg_entry *e = h_entry(h, i, name);
    return e ? trk_name(T(i), e->owner) : NULL;
}

/* How many processes of this name run on node i. */
int h_procs(struct harness *h, int i, const char *name)
{
    if (!h->n[i].t)
        return 0;
    int c = 0;
    for (size_t k = 0; k < h->n[i].t->proc_count; k++)
        c += h->n[i].t->procs[k].name && strcmp(h->n[i].t->procs[k].name, name) == 0;
    return c;
}

uint64_t h_proc_handle(struct harness *h, int i, const char *name)
{
    (void)h;
    for (size_t k = 0; k < T(i)->proc_count; k++)
        if (T(i)->procs[k].name && strcmp(T(i)->procs[k].name, name) == 0)
            return T(i)->procs[k].handle;
    return 0;
}

const char *PID[HN_MAX] = {"#PID<app@10.0.0.1.Swarm.Tracker>", "#PID<app@10.0.0.2.Swarm.Tracker>",
                                  "#PID<app@10.0.0.3.Swarm.Tracker>", "#PID<app@10.0.0.4.Swarm.Tracker>"};

/* The dump's pending list must be exactly `list` (text between brackets). */
void assert_pending(struct harness *h, int i, const char *list)
{
    char want[512];
    snprintf(want, sizeof want, "pending_sync_reqs: [%s]", list);
    assert_contains(h_dump(h, i), want);
}

void assert_sync_node(struct harness *h, int i, int j)
{
    char want[128];
    if (j < 0) {
        assert_contains(h_dump(h, i), "sync_node: nil");
        return;
    }
    snprintf(want, sizeof want, "sync_node: :\"%s\"", h->n[j].name);
    assert_contains(h_dump(h, i), want);
}

/* ---- clocks and forged messages ---- */

/* The seed stamp after `events` events, encoded. */
size_t clock_after(int events, uint8_t *out, size_t cap)
{
    struct itc_arena *a = itc_arena_new();
    assert_non_null(a);
    struct itc_stamp s = itc_seed(a);
    for (int k = 0; k < events; k++)
        s = itc_event(a, s);
    int n = itc_encode(s, out, cap);
    itc_arena_free(a);
    assert_true(n > 0);
    return (size_t)n;
}

/* The text of an encoded stamp. */
static void clock_text(const uint8_t *clock, size_t len, char *out, size_t size)
{
    struct itc_arena *a = itc_arena_new();
    assert_non_null(a);
    struct itc_stamp s;
    assert_int_equal(itc_decode(a, clock, len, &s), (int)len);
    itc_format(s, out, size);
    itc_arena_free(a);
}

/* The sender and clock text of a queued sync / sync_recv / sync_ack. */
void msg_sync_clock(const struct hmsg *m, char *sender, char *text, size_t size)
{
    struct cs_reader r;
    cs_reader_init(&r, m->data, m->len);
    cs_get_u8(&r);
    cs_get_str(&r, sender, CS_NODE_NAME_MAX);
    uint16_t n = cs_get_u16(&r);
    uint8_t clock[TRK_CLOCK_MAX];
    assert_true(n <= sizeof clock);
    cs_get_bytes(&r, clock, n);
    assert_false(r.bad);
    clock_text(clock, n, text, size);
}

/* Writes one registry entry in the wire layout. */
static void put_fentry(struct cs_writer *w, const struct fentry *e)
{
    cs_put_str(w, e->name);
    cs_put_str(w, e->owner);
    cs_put_u64(w, e->handle);
    cs_put_u64(w, e->version);
    cs_put_u64(w, 0); /* meta_version */
    cs_put_u64(w, e->handle); /* origin: the copy's own write */
    cs_put_u32(w, e->flags);
    cs_put_u64(w, 0); /* spec */
    cs_put_u8(w, 0);  /* no meta */
    cs_put_u8(w, (uint8_t)e->clock_len);
    cs_put_bytes(w, e->clock, e->clock_len);
}

size_t forge_event(uint8_t *buf, size_t cap, uint8_t type, const struct fentry *e)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, type);
    put_fentry(&w, e);
    assert_false(w.overflow);
    return w.len;
}

size_t forge_snapshot(uint8_t *buf, size_t cap, uint8_t type, const char *sender,
                      const uint8_t *clock, size_t clock_len, const struct fentry *e,
                      size_t count)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, type);
    cs_put_str(&w, sender);
    cs_put_u16(&w, (uint16_t)clock_len);
    cs_put_bytes(&w, clock, clock_len);
    cs_put_u32(&w, (uint32_t)count);
    for (size_t k = 0; k < count; k++)
        put_fentry(&w, &e[k]);
    assert_false(w.overflow);
    return w.len;
}

size_t forge_batch(uint8_t *buf, size_t cap, const uint8_t *types, const struct fentry *e, size_t count)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, TRK_MSG_BATCH);
    cs_put_u32(&w, (uint32_t)count);
    for (size_t k = 0; k < count; k++) {
        cs_put_u8(&w, types[k]);
        put_fentry(&w, &e[k]);
    }
    assert_false(w.overflow);
    return w.len;
}

/* ---- cluster builders ---- */

/* Starts node i and lets its cluster_join fire with no peers: tracking. */
void h_start_alone(struct harness *h, int i)
{
    h_start(h, i);
    h_fire(h, i, TRK_TIMER_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(i)), TRK_TRACKING);
}

/* Starts `count` trackers that all know one another (cluster_wait). */
void h_start_all_connected(struct harness *h, int count)
{
    for (int i = 0; i < count; i++)
        h_start(h, i);
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++)
            if (i != j)
                h_learn(h, i, j);
    for (int i = 0; i < count; i++) {
        assert_int_equal(trk_state(T(i)), TRK_CLUSTER_WAIT);
        assert_int_equal(trk_node_count(T(i)), (size_t)count - 1);
    }
}

/* A cluster of `count` trackers, all tracking and knowing one another:
 * each starts alone, then the pairs are linked one after the other and
 * every message is delivered (oldest first) before the next link. */
struct harness *h_unchecked_pair(enum trk_mode mode)
{
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = mode;
    cfg.retry_max = 1;
    struct harness *h = h_new_cfg(&cfg, 2);
    h_start(h, 0);
    h_learn(h, 0, 1); /* fails: 1 not running yet */
    assert_false(h_knows(h, 0, 1));
    h_start(h, 1);
    return h;
}

void h_cluster(struct harness *h, int count)
{
    for (int i = 0; i < count; i++)
        h_start_alone(h, i);
    for (int i = 0; i < count; i++)
        for (int j = i + 1; j < count; j++) {
            h_link(h, i, j);
            h_settle(h);
        }
    for (int i = 0; i < count; i++) {
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
        assert_int_equal(trk_node_count(T(i)), (size_t)count - 1);
    }
}

/* A name whose ring owner, over the given nodes, is node `owner`. */
void name_owned_by(struct harness *h, const int *nodes, int count, int owner,
                   const char *prefix, char *out, size_t size)
{
    struct ring *r = ring_new(RING_POINTS_DEFAULT, h->cfg.static_quorum);
    assert_non_null(r);
    for (int k = 0; k < count; k++)
        ring_add(r, h->n[nodes[k]].name);
    for (int k = 0; k < 1000; k++) {
        snprintf(out, size, "%s%d", prefix, k);
        if (strcmp(ring_owner(r, out), h->n[owner].name) == 0) {
            ring_free(r);
            return;
        }
    }
    ring_free(r);
    fail_msg("no name owned by %d", owner);
}

uint32_t h_snapshot_count(const struct hmsg *m)
{
    struct cs_reader r;
    char sender[CS_NODE_NAME_MAX];
    uint8_t clock[TRK_CLOCK_MAX];
    cs_reader_init(&r, m->data, m->len);
    cs_get_u8(&r);
    cs_get_str(&r, sender, sizeof sender);
    uint16_t n = cs_get_u16(&r);
    assert_true(n <= sizeof clock);
    cs_get_bytes(&r, clock, n);
    uint32_t count = cs_get_u32(&r);
    assert_false(r.bad);
    return count;
}

void h_name_placed(struct harness *h, const struct placement *p, int count, const char *prefix, char *out,
                   size_t size)
{
    struct ring *rings[8];
    assert_true(count <= 8);
    for (int c = 0; c < count; c++) {
        rings[c] = ring_new(RING_POINTS_DEFAULT, h->cfg.static_quorum);
        assert_non_null(rings[c]);
        for (int i = 0; i < h->count; i++)
            if (p[c].nodes >> i & 1)
                ring_add(rings[c], h->n[i].name);
    }
    bool found = false;
    for (int k = 0; k < 10000 && !found; k++) {
        snprintf(out, size, "%s%d", prefix, k);
        found = true;
        for (int c = 0; c < count && found; c++)
            found = strcmp(ring_owner(rings[c], out), h->n[p[c].owner].name) == 0;
    }
    for (int c = 0; c < count; c++)
        ring_free(rings[c]);
    assert_true(found);
}


size_t h_forge_pull(uint8_t *buf, size_t cap, unsigned ask, const struct trk_content_digest *digests)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, TRK_MSG_PULL);
    cs_put_u8(&w, (uint8_t)ask);
    /* written field by field here, not through the tracker's encoder, so
     * that tests comparing a tracker's pull with this one compare two
     * encodings: count u32, then sum u64, little-endian */
    for (unsigned b = 0; b < TRK_BUCKETS; b++) {
        cs_put_u32(&w, digests ? digests[b].count : 0);
        cs_put_u64(&w, digests ? digests[b].sum : 0);
    }
    assert_false(w.overflow);
    return w.len;
}

size_t h_forge_pull_writes(uint8_t *buf, size_t cap, unsigned ask, const struct trk_content_digest *digests,
                           const struct fentry *e, size_t count)
{
    size_t len = h_forge_pull(buf, cap, ask, digests);
    buf[1] |= TRK_PULL_WRITES;
    struct cs_writer w;
    cs_writer_init(&w, buf + len, cap - len);
    cs_put_u32(&w, (uint32_t)count);
    for (size_t k = 0; k < count; k++)
        put_fentry(&w, &e[k]);
    assert_false(w.overflow);
    return len + w.len;
}
