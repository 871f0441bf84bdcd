/*
 * tests/test_tracker.c: unit tests of the tracker (core/tracker*.c), without
 * the simulator.  A small in-memory harness of its own runs 2..4 trackers
 * named app@10.0.0.1 .. app@10.0.0.4, each with a fake environment: one
 * virtual clock the test advances, timers recorded per node (delay, tag) and
 * fired by hand or in time order, random_u64 served from a per-node script
 * (so every sync-node choice is chosen by the test), and recorders for log
 * lines, trace events and command replies; and a fake host whose send()
 * appends (from, to, bytes) to one message queue that the test delivers
 * explicitly, pair by pair in FIFO order, in any interleaving it chooses, or
 * drops.  The remote "is the tracker up?" check (M_CHECK / M_CHECK_REPLY) is
 * delivered like any other message.
 *
 * Each test says the interleaving it builds.  Expected outcomes come from
 * shared/reference/swarm-tracker.md for the swarm mode, and from the fixed
 * mode's promises (no waiting without a timeout, every parked request
 * answered, deletions propagate, duplicates resolved).  Messages the tests
 * forge follow the wire layout of core/tracker_msg.c (type:u8, then fields;
 * strings as u16 length + bytes; a clock as u16 length + ITC bytes).  Where
 * a fact is not observable through core/tracker.h (which processes still
 * run) the tests read the tracker's private state (tracker_internal.h).
 */
#include "tests.h"

#include "../core/itc.h"
#include "../core/ring.h"
#include "../core/tracker.h"
#include "../core/tracker_internal.h"
#include "../core/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the harness ----------------------------------------------------------- */

#define HN_MAX 4
#define H_REPLIES 64
#define H_RND 64

struct htimer {
    cs_timer_id id;
    cs_time due, delay;
    uint64_t tag;
    bool armed;
};

struct hreply {
    char op[24], name[300], status[32], owner[CS_NODE_NAME_MAX];
    int64_t value;
};

struct hmsg {
    int from, to; /* to: -1 for a name outside the harness */
    uint8_t *data;
    size_t len;
};

struct harness;

struct hnode {
    struct harness *h;
    int idx;
    char name[32];
    uint32_t creation;
    struct cs_env env;
    struct trk_host host;
    struct tracker *t;
    struct htimer *timers;
    size_t timer_count, timer_cap;
    uint64_t rnd[H_RND];
    size_t rnd_count, rnd_pos;
    unsigned unscripted; /* draws the test did not script */
    char last_log[1024];
    size_t log_count, warn_count;
    char last_trace_kind[32], last_trace[1024];
    size_t trace_count;
    struct hreply replies[H_REPLIES];
    size_t reply_count;
};

struct harness {
    struct trk_config cfg;
    int count;
    cs_time now;
    cs_timer_id next_timer;
    struct hnode n[HN_MAX];
    struct hmsg *q;
    size_t qlen, qcap;
};

/* The harness of the running test; freed by the teardown even when an
 * assertion fails half way. */
static struct harness *H;

static struct hnode *env_node(struct cs_env *env)
{
    return env->impl;
}

static cs_time fake_now(struct cs_env *env)
{
    return env_node(env)->h->now;
}

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

static void fake_trace(struct cs_env *env, const char *kind, const char *fields)
{
    struct hnode *n = env_node(env);
    snprintf(n->last_trace_kind, sizeof n->last_trace_kind, "%s", kind);
    snprintf(n->last_trace, sizeof n->last_trace, "%s", fields);
    n->trace_count++;
}

static void fake_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    struct hnode *n = env_node(env);
    snprintf(n->last_log, sizeof n->last_log, "%s", line);
    n->log_count++;
    n->warn_count += level >= CS_LOG_WARN;
}

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

static int h_index(const struct harness *h, const char *name)
{
    for (int i = 0; i < h->count; i++)
        if (strcmp(h->n[i].name, name) == 0)
            return i;
    return -1;
}

static int fake_send(void *ctx, const char *peer, const uint8_t *data, size_t len)
{
    struct hnode *n = ctx;
    struct harness *h = n->h;
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

static const char *NAME[HN_MAX] = {"app@10.0.0.1", "app@10.0.0.2", "app@10.0.0.3", "app@10.0.0.4"};

static void h_make_tracker(struct harness *h, int i)
{
    struct hnode *n = &h->n[i];
    n->t = trk_new(&n->env, &h->cfg, n->name, n->creation, &n->host);
    assert_non_null(n->t);
}

/* A harness of `count` trackers with configuration `cfg` (created, not yet
 * started); node i has creation i + 1. */
static struct harness *h_new_cfg(const struct trk_config *cfg, int count)
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

static struct harness *h_new(enum trk_mode mode, int count)
{
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = mode;
    return h_new_cfg(&cfg, count);
}

static void h_free(struct harness *h)
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

static int h_teardown(void **state)
{
    (void)state;
    h_free(H);
    H = NULL;
    return 0;
}

static struct tracker *T(int i)
{
    assert_non_null(H->n[i].t);
    return H->n[i].t;
}

/* ---- timers ---- */

static unsigned tag_kind(uint64_t tag)
{
    return (unsigned)(tag >> 48 & 0xff);
}

static size_t h_armed(struct harness *h, int i, unsigned kind)
{
    size_t c = 0;
    for (size_t k = 0; k < h->n[i].timer_count; k++)
        c += h->n[i].timers[k].armed && tag_kind(h->n[i].timers[k].tag) == kind;
    return c;
}

static struct htimer *h_timer(struct harness *h, int i, unsigned kind)
{
    struct htimer *best = NULL;
    for (size_t k = 0; k < h->n[i].timer_count; k++) {
        struct htimer *tm = &h->n[i].timers[k];
        if (tm->armed && tag_kind(tm->tag) == kind && (!best || tm->due < best->due))
            best = tm;
    }
    return best;
}

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
static void h_fire(struct harness *h, int i, unsigned kind)
{
    struct htimer *tm = h_timer(h, i, kind);
    assert_non_null(tm);
    h_fire_timer(h, i, tm);
}

/* Fires every timer of every node due up to `until`, in time order (ties
 * by arming order), then sets the clock to `until`. */
static void h_run_until(struct harness *h, cs_time until)
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
static void h_assert_no_progress_timer(struct harness *h, int i)
{
    for (size_t k = 0; k < h->n[i].timer_count; k++)
        if (h->n[i].timers[k].armed)
            assert_false(trk_timer_can_progress(T(i), h->n[i].timers[k].tag));
}

/* ---- starting ---- */

/* Arms the start timer and fires it: the tracker runs. */
static void h_start(struct harness *h, int i)
{
    trk_start(T(i));
    assert_int_equal(h_armed(h, i, TT_START), 1);
    assert_int_equal(h_timer(h, i, TT_START)->delay, h->cfg.start_delay);
    h_fire(h, i, TT_START);
    assert_true(trk_running(T(i)));
}

/* A crash: the tracker is gone, its timers and the messages from and to it
 * are lost. */
static void h_crash(struct harness *h, int i)
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
static void h_restart(struct harness *h, int i, uint32_t creation)
{
    assert_null(h->n[i].t);
    h->n[i].creation = creation;
    h_make_tracker(h, i);
}

/* ---- the message queue ---- */

static size_t h_pending(struct harness *h, int from, int to)
{
    size_t c = 0;
    for (size_t k = 0; k < h->qlen; k++)
        c += (from < 0 || h->q[k].from == from) && (to < 0 || h->q[k].to == to);
    return c;
}

static size_t h_pending_type(struct harness *h, int from, int to, int type)
{
    size_t c = 0;
    for (size_t k = 0; k < h->qlen; k++)
        c += (from < 0 || h->q[k].from == from) && (to < 0 || h->q[k].to == to) &&
             h->q[k].len > 0 && h->q[k].data[0] == type;
    return c;
}

/* The type of the oldest message from -> to, or -1. */
static int h_head_type(struct harness *h, int from, int to)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to)
            return h->q[k].len ? h->q[k].data[0] : 0;
    return -1;
}

static const struct hmsg *h_find(struct harness *h, int from, int to, int type)
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
        trk_message(h->n[m.to].t, h->n[m.from].name, m.data, m.len);
    free(m.data);
    return type;
}

/* Delivers the oldest message from -> to (FIFO per pair); returns its type. */
static int h_deliver(struct harness *h, int from, int to)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to)
            return h_deliver_at(h, k);
    fail_msg("no message from %d to %d", from, to);
    return -1;
}

/* Delivers the oldest message of `type` from -> to. */
static void h_deliver_type(struct harness *h, int from, int to, int type)
{
    for (size_t k = 0; k < h->qlen; k++)
        if (h->q[k].from == from && h->q[k].to == to && h->q[k].len && h->q[k].data[0] == type) {
            h_deliver_at(h, k);
            return;
        }
    fail_msg("no message of type %d from %d to %d", type, from, to);
}

/* Drops every queued message from -> to (-1: any). */
static void h_drop(struct harness *h, int from, int to)
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
static void h_settle_pref(struct harness *h, int first)
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

static void h_settle(struct harness *h)
{
    h_settle_pref(h, -1);
}

/* Node i learns that node j is up: nodeup, the check and its answer. */
static void h_learn(struct harness *h, int i, int j)
{
    trk_nodeup(T(i), h->n[j].name);
    h_deliver_type(h, i, j, M_CHECK);
    h_deliver_type(h, j, i, M_CHECK_REPLY);
}

static void h_link(struct harness *h, int i, int j)
{
    h_learn(h, i, j);
    h_learn(h, j, i);
}

/* ---- scripted randomness ---- */

static void h_script(struct harness *h, int i, uint64_t v)
{
    struct hnode *n = &h->n[i];
    assert_true(n->rnd_count < H_RND);
    n->rnd[n->rnd_count++] = v;
}

struct find_ctx {
    const char *name;
    int index, at;
};

static void find_node(void *ctx, const char *peer)
{
    struct find_ctx *f = ctx;
    if (strcmp(peer, f->name) == 0)
        f->index = f->at;
    f->at++;
}

/* The next random choice of node i among its `nodes` will be node j. */
static void h_pick(struct harness *h, int i, int j)
{
    struct find_ctx f = {h->n[j].name, -1, 0};
    trk_each_node(T(i), find_node, &f);
    assert_true(f.index >= 0);
    /* cs_random_below(bound) is value % bound for values above its
     * rejection threshold (< bound); 12 is a multiple of 1..4. */
    h_script(h, i, 12 + (uint64_t)f.index);
}

static bool h_knows(struct harness *h, int i, int j)
{
    struct find_ctx f = {h->n[j].name, -1, 0};
    trk_each_node(T(i), find_node, &f);
    return f.index >= 0;
}

/* ---- commands, observation ---- */

static void h_cmd(struct harness *h, int i, const char *op, const char *name, const char *arg,
                  int64_t value)
{
    (void)h;
    struct cs_command c = {.op = op, .name = name, .arg = arg, .value = value};
    trk_command(T(i), &c);
}

static const struct hreply *h_last_reply(struct harness *h, int i)
{
    assert_true(h->n[i].reply_count > 0);
    return &h->n[i].replies[h->n[i].reply_count - 1];
}

static const char *h_dump(struct harness *h, int i)
{
    static char buf[4][2048];
    static int next;
    (void)h;
    char *b = buf[next++ % 4];
    int n = trk_dump(T(i), b, sizeof buf[0]);
    assert_true(n > 0 && (size_t)n < sizeof buf[0]);
    return b;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" not in \"%s\"", needle, hay);
}

static size_t h_count(struct harness *h, int i)
{
    size_t count;
    uint64_t sum;
    (void)h;
    trk_registry_digest(T(i), &count, &sum);
    return count;
}

static uint64_t h_sum(struct harness *h, int i)
{
    size_t count;
    uint64_t sum;
    (void)h;
    trk_registry_digest(T(i), &count, &sum);
    return sum;
}

static void assert_same_registry(struct harness *h, int i, int j)
{
    assert_int_equal(h_count(h, i), h_count(h, j));
    assert_true(h_sum(h, i) == h_sum(h, j));
}

/* The live entry of `name` in node i's table, or NULL. */
static const struct reg_entry *h_entry(struct harness *h, int i, const char *name)
{
    (void)h;
    const struct reg_entry *e = registry_get(&T(i)->reg, name);
    return e && !(e->flags & REG_TOMBSTONE) ? e : NULL;
}

/* The owner node's name of `name` in node i's table, or NULL. */
static const char *h_owner(struct harness *h, int i, const char *name)
{
    const struct reg_entry *e = h_entry(h, i, name);
    return e ? trk_name(T(i), e->owner) : NULL;
}

/* How many processes of this name run on node i. */
static int h_procs(struct harness *h, int i, const char *name)
{
    if (!h->n[i].t)
        return 0;
    int c = 0;
    for (size_t k = 0; k < h->n[i].t->proc_count; k++)
        c += h->n[i].t->procs[k].name && strcmp(h->n[i].t->procs[k].name, name) == 0;
    return c;
}

static uint64_t h_proc_handle(struct harness *h, int i, const char *name)
{
    (void)h;
    for (size_t k = 0; k < T(i)->proc_count; k++)
        if (T(i)->procs[k].name && strcmp(T(i)->procs[k].name, name) == 0)
            return T(i)->procs[k].handle;
    return 0;
}

static const char *PID[HN_MAX] = {"#PID<app@10.0.0.1.Swarm.Tracker>", "#PID<app@10.0.0.2.Swarm.Tracker>",
                                  "#PID<app@10.0.0.3.Swarm.Tracker>", "#PID<app@10.0.0.4.Swarm.Tracker>"};

/* The dump's pending list must be exactly `list` (text between brackets). */
static void assert_pending(struct harness *h, int i, const char *list)
{
    char want[512];
    snprintf(want, sizeof want, "pending_sync_reqs: [%s]", list);
    assert_contains(h_dump(h, i), want);
}

static void assert_sync_node(struct harness *h, int i, int j)
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
static size_t clock_after(int events, uint8_t *out, size_t cap)
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

static enum itc_order clock_order(const uint8_t *x, size_t xl, const uint8_t *y, size_t yl)
{
    struct itc_arena *a = itc_arena_new();
    assert_non_null(a);
    struct itc_stamp sx, sy;
    assert_true(itc_decode(a, x, xl, &sx) >= 0);
    assert_true(itc_decode(a, y, yl, &sy) >= 0);
    enum itc_order o = itc_compare(sx, sy);
    itc_arena_free(a);
    return o;
}

/* The sender and clock text of a queued sync / sync_recv / sync_ack. */
static void msg_sync_clock(const struct hmsg *m, char *sender, char *text, size_t size)
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

/* The entry clock of a queued M_TRACK. */
static size_t msg_track_clock(const struct hmsg *m, uint8_t *clock)
{
    struct cs_reader r;
    cs_reader_init(&r, m->data, m->len);
    assert_int_equal(cs_get_u8(&r), M_TRACK);
    struct trk_wire_entry we;
    assert_true(trk_get_entry(&r, &we));
    memcpy(clock, we.clock, we.clock_len);
    return we.clock_len;
}

struct fentry {
    const char *name, *owner;
    uint64_t handle, version;
    uint32_t flags;
    const uint8_t *clock;
    size_t clock_len;
};

static void put_fentry(struct cs_writer *w, const struct fentry *e)
{
    cs_put_str(w, e->name);
    cs_put_str(w, e->owner);
    cs_put_u64(w, e->handle);
    cs_put_u64(w, e->version);
    cs_put_u32(w, e->flags);
    cs_put_u64(w, 0); /* spec */
    cs_put_u8(w, 0);  /* no meta */
    cs_put_u8(w, (uint8_t)e->clock_len);
    cs_put_bytes(w, e->clock, e->clock_len);
}

static size_t forge_event(uint8_t *buf, size_t cap, uint8_t type, const struct fentry *e)
{
    struct cs_writer w;
    cs_writer_init(&w, buf, cap);
    cs_put_u8(&w, type);
    put_fentry(&w, e);
    assert_false(w.overflow);
    return w.len;
}

static size_t forge_snapshot(uint8_t *buf, size_t cap, uint8_t type, const char *sender,
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

/* ---- cluster builders ---- */

/* Starts node i and lets its cluster_join fire with no peers: tracking. */
static void h_start_alone(struct harness *h, int i)
{
    h_start(h, i);
    h_fire(h, i, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(i)), TRK_TRACKING);
}

/* A cluster of `count` trackers, all tracking and knowing one another:
 * each starts alone, then the pairs are linked one after the other and
 * every message is delivered (oldest first) before the next link. */
static void h_cluster(struct harness *h, int count)
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
static void name_owned_by(struct harness *h, const int *nodes, int count, int owner,
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

static const char *ring_owner_of(struct harness *h, const int *nodes, int count, const char *name,
                                 char *out, size_t size)
{
    struct ring *r = ring_new(RING_POINTS_DEFAULT, h->cfg.static_quorum);
    assert_non_null(r);
    for (int k = 0; k < count; k++)
        ring_add(r, h->n[nodes[k]].name);
    snprintf(out, size, "%s", ring_owner(r, name));
    ring_free(r);
    return out;
}

/* ==== swarm mode ============================================================ */

/* 1. Start-up.  TT_START puts the tracker in cluster_wait with a
 * cluster_join timer of sync_nodes_timeout; cluster_join with no nodes goes
 * to tracking and arms the anti-entropy timer (anti_entropy_interval), whose
 * tick with no nodes only re-arms it.  Before TT_START commands are refused. */
static void test_swarm_start_alone(void **state)
{
    (void)state;
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = TRK_SWARM;
    cfg.sync_nodes_timeout = CS_MSEC(1234);
    cfg.anti_entropy_interval = CS_SEC(77);
    struct harness *h = h_new_cfg(&cfg, 1);

    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "not_running");
    trk_start(T(0));
    assert_false(trk_running(T(0)));
    assert_int_equal(h_armed(h, 0, TT_START), 1);
    h_fire(h, 0, TT_START);
    assert_true(trk_running(T(0)));
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_int_equal(h_armed(h, 0, TT_CLUSTER_JOIN), 1);
    struct htimer *join = h_timer(h, 0, TT_CLUSTER_JOIN);
    assert_true(join->delay == CS_MSEC(1234));
    assert_true(trk_timer_can_progress(T(0), join->tag));
    assert_contains(h_dump(h, 0), "{:cluster_wait, %TrackerState{clock: {1, 0}, nodes: [], "
                                  "pending_sync_reqs: [], self: :\"app@10.0.0.1\"");
    assert_null(trk_waiting_for(T(0)));

    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_true(h->now == CS_MSEC(1234));
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_armed(h, 0, TT_ANTI_ENTROPY), 1);
    assert_true(h_timer(h, 0, TT_ANTI_ENTROPY)->delay == CS_SEC(77));
    assert_int_equal(h->qlen, 0);
    assert_contains(h_dump(h, 0), "{:tracking, %TrackerState{clock: {1, 0}, nodes: [], ");
    assert_int_equal(h->n[0].unscripted, 0); /* no choice was made */

    h_fire(h, 0, TT_ANTI_ENTROPY); /* no nodes: nothing to sync with */
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_armed(h, 0, TT_ANTI_ENTROPY), 1);
    assert_int_equal(h->qlen, 0);

    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[0]);
}

/* 2a. cluster_join with nodes.  B (1) and C (2) start alone (tracking) and
 * register b and c.  A (0) starts and learns B then C (their nodeups of A
 * are not delivered in this test), so A's nodes are [B, C].  A's register a
 * is postponed.  A's cluster_join picks B (scripted): A -> B sync; B,
 * tracking, answers sync_recv and waits for the ack; A merges, acks and
 * tracks; B tracks on the ack.  Then A's postponed register runs and its
 * track reaches B and C. */
static void test_swarm_cluster_join_sync(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start_alone(h, 2);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_cmd(h, 2, "register", "c", NULL, 3);
    h_start(h, 0);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    assert_int_equal(trk_node_count(T(0)), 2);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING); /* B never heard of A */
    h_cmd(h, 0, "register", "a", NULL, 1);
    assert_int_equal(h->n[0].reply_count, 0); /* postponed */

    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h->n[0].unscripted, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_int_equal(h_pending(h, 0, -1), 1);
    assert_int_equal(h_head_type(h, 0, 1), M_SYNC);

    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_int_equal(h_head_type(h, 1, 0), M_SYNC_RECV);

    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_null(trk_waiting_for(T(0)));
    assert_int_equal(h_head_type(h, 0, 1), M_SYNC_ACK);
    /* the postponed register ran once A tracked */
    assert_int_equal(h->n[0].reply_count, 1);
    assert_string_equal(h_last_reply(h, 0)->op, "register");
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_pending_type(h, 0, 1, M_TRACK), 1);
    assert_int_equal(h_pending_type(h, 0, 2, M_TRACK), 1);

    assert_int_equal(h_deliver(h, 0, 1), M_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    h_settle(h);
    assert_int_equal(h_count(h, 0), 2); /* a, b */
    assert_same_registry(h, 0, 1);
    assert_string_equal(h_owner(h, 0, "b"), NAME[1]);
    assert_string_equal(h_owner(h, 1, "a"), NAME[0]);
    assert_string_equal(h_owner(h, 2, "a"), NAME[0]);
    assert_null(h_entry(h, 2, "b")); /* C synced with nobody */
    assert_int_equal(trk_stats(T(0))->syncs_completed, 1);
    assert_int_equal(trk_stats(T(1))->syncs_completed, 1);
}

/* 2b. Both registries merge through one sync.  A and B start alone and
 * register a and b.  A learns B: nodeup while nodes was empty acts as a
 * fresh cluster_join (sync to B); B, tracking, sends its registry in
 * sync_recv; A merges and sends its own in the ack. */
static void test_swarm_sync_merges_both_ways(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_cmd(h, 0, "register", "a", NULL, 1);
    h_cmd(h, 1, "register", "b", NULL, 2);
    h_script(h, 0, 12); /* the only node */
    h_learn(h, 0, 1);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 0, "b"), NAME[1]);
    assert_null(h_entry(h, 1, "a"));
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 1, "a"), NAME[0]);
    assert_int_equal(h_count(h, 0), 2);
    assert_same_registry(h, 0, 1);
    assert_int_equal(h->qlen, 0);
    h_cmd(h, 1, "whereis", "a", NULL, 0);
    assert_string_equal(h_last_reply(h, 1)->status, "ok");
    assert_string_equal(h_last_reply(h, 1)->owner, NAME[0]);
}

/* 3a. sync(from) in cluster_wait when nodes == [from]: A (nodes [B]) gets
 * B's sync, forks its clock, keeps one half, sends the other half in
 * sync_recv and waits for the ack with sync_node B.  B adopts the half it
 * was sent. */
static void test_swarm_cluster_wait_sync_single(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 1);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC);
    assert_int_equal(trk_state(T(0)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_contains(h_dump(h, 0), "{:awaiting_sync_ack, %TrackerState{clock: {{1, 0}, 0}, ");
    assert_sync_node(h, 0, 1);
    const struct hmsg *m = h_find(h, 0, 1, M_SYNC_RECV);
    assert_non_null(m);
    char sender[CS_NODE_NAME_MAX], text[128];
    msg_sync_clock(m, sender, text, sizeof text);
    assert_string_equal(sender, NAME[0]);
    assert_string_equal(text, "{{0, 1}, 0}"); /* the other half */

    assert_int_equal(h_deliver(h, 0, 1), M_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_contains(h_dump(h, 1), "clock: {{0, 1}, 0}");
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_ACK);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_sync_node(h, 0, -1);
    /* A's cluster_join timer fires later in tracking: nothing happens */
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->qlen, 0);
}

/* 3b. sync(from) in cluster_wait otherwise: A with nodes [B, C] parks B's
 * sync (a duplicate is parked once) and stays in cluster_wait, answering
 * nothing; A with no nodes at all parks too. */
static void test_swarm_cluster_wait_parks(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    for (int i = 0; i < 3; i++)
        h_start(h, i);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    const struct hmsg *m = h_find(h, 1, 0, M_SYNC);
    assert_non_null(m);
    uint8_t copy[256];
    size_t len = m->len;
    memcpy(copy, m->data, len);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC);
    trk_message(T(0), NAME[1], copy, len); /* the same request again */
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    assert_pending(h, 0, PID[1]);
    assert_sync_node(h, 0, -1);
    assert_int_equal(h_pending(h, 0, 1), 0);

    /* C, whose nodes are empty, parks a sync as well */
    trk_message(T(2), NAME[1], copy, len);
    assert_int_equal(trk_state(T(2)), TRK_CLUSTER_WAIT);
    assert_pending(h, 2, PID[1]);
    assert_int_equal(h_pending(h, 2, -1), 0);
}

/* Starts `count` swarm trackers that all know one another (cluster_wait). */
static void h_start_all_connected(struct harness *h, int count)
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

/* 4. Deadlock A.  Three trackers in cluster_wait, each with the other two
 * as nodes; the cluster_joins fire before any sync arrives and pick the
 * cycle A -> B, B -> C, C -> A.  Every sync reaches a node whose sync node
 * is someone else and is parked.  Nothing is in flight, no armed timer can
 * move anyone, and not even an hour of virtual time changes that. */
static void test_swarm_deadlock_a(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_pick(h, 1, 2);
    h_pick(h, 2, 0);
    for (int i = 0; i < 3; i++)
        h_fire(h, i, TT_CLUSTER_JOIN);
    h_settle(h);
    h_cmd(h, 0, "register", "x", NULL, 1); /* hangs */
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    for (int i = 0; i < 3; i++) {
        int next = (i + 1) % 3, prev = (i + 2) % 3;
        assert_int_equal(h->n[i].unscripted, 0);
        assert_int_equal(trk_state(T(i)), TRK_SYNCING);
        assert_string_equal(trk_waiting_for(T(i)), NAME[next]);
        assert_contains(h_dump(h, i), "{:syncing, %TrackerState{clock: {1, 0}, ");
        assert_pending(h, i, PID[prev]);
        assert_sync_node(h, i, next);
        h_assert_no_progress_timer(h, i);
        for (unsigned kind = TT_CLUSTER_JOIN; kind <= TT_CALL_TIMEOUT; kind++)
            assert_false(trk_timer_can_progress(T(i), TRK_TAG(kind, 0)));
    }
    assert_int_equal(h->n[0].reply_count, 0);
}

/* Runs one start-up of `count` swarm trackers where node i picks
 * choice[i]: all cluster_joins fire first, then every message is delivered
 * oldest first.  True when every tracker reached tracking. */
static bool run_choices(int count, const int *choice)
{
    struct harness *h = h_new(TRK_SWARM, count);
    h_start_all_connected(h, count);
    for (int i = 0; i < count; i++)
        h_pick(h, i, choice[i]);
    for (int i = 0; i < count; i++)
        h_fire(h, i, TT_CLUSTER_JOIN);
    h_settle(h);
    bool all = true;
    for (int i = 0; i < count; i++) {
        if (trk_state(T(i)) != TRK_TRACKING) {
            all = false;
            h_assert_no_progress_timer(h, i);
        }
    }
    assert_int_equal(h->qlen, 0);
    h_free(h);
    H = NULL;
    return all;
}

/* Whether the choice function has a cycle of length 3 or more. */
static bool has_long_cycle(int count, const int *choice)
{
    for (int i = 0; i < count; i++) {
        int x = i;
        for (int k = 0; k < count; k++)
            x = choice[x]; /* now on a cycle */
        int len = 1;
        for (int y = choice[x]; y != x; y = choice[y])
            len++;
        if (len >= 3)
            return true;
    }
    return false;
}

/* 4b. The reference's table: with every cluster_join before any sync, a
 * start-up hangs exactly when the choices have a cycle of length >= 3:
 * 2 of the 8 patterns of three nodes, 30 of the 81 of four. */
static void test_swarm_deadlock_a_patterns(void **state)
{
    (void)state;
    for (int count = 3; count <= 4; count++) {
        int patterns = 1, stuck = 0;
        for (int i = 0; i < count; i++)
            patterns *= count - 1;
        for (int p = 0; p < patterns; p++) {
            int choice[HN_MAX], rest = p;
            for (int i = 0; i < count; i++) {
                int k = rest % (count - 1);
                rest /= count - 1;
                choice[i] = k < i ? k : k + 1; /* the k-th other node */
            }
            bool ok = run_choices(count, choice);
            assert_true(ok == !has_long_cycle(count, choice));
            stuck += !ok;
        }
        assert_int_equal(stuck, count == 3 ? 2 : 30);
    }
}

/* 5. The 2-cycle tie-break, in both delivery orders of the two syncs: A
 * and B pick each other; B (the greater name) leads with sync_recv and
 * waits for the ack; A drops B's request and completes on the sync_recv. */
static void test_swarm_tie_break(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct harness *h = h_new(TRK_SWARM, 2);
        h_start_all_connected(h, 2);
        h_pick(h, 0, 1);
        h_pick(h, 1, 0);
        h_fire(h, 0, TT_CLUSTER_JOIN);
        h_fire(h, 1, TT_CLUSTER_JOIN);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
        assert_int_equal(trk_state(T(1)), TRK_SYNCING);
        int first = order ? 1 : 0;
        assert_int_equal(h_deliver(h, first, 1 - first), M_SYNC);
        assert_int_equal(h_deliver(h, 1 - first, first), M_SYNC);
        assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
        assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
        assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
        assert_pending(h, 0, ""); /* dropped, not parked */
        assert_int_equal(h_pending(h, 0, 1), 0);
        assert_int_equal(h_pending(h, 1, 0), 1);
        assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
        assert_int_equal(trk_state(T(0)), TRK_TRACKING);
        assert_int_equal(h_deliver(h, 0, 1), M_SYNC_ACK);
        assert_int_equal(trk_state(T(1)), TRK_TRACKING);
        assert_pending(h, 1, "");
        assert_int_equal(h->qlen, 0);
        h_free(h);
        H = NULL;
    }
}

/* 6. Deadlock B (issue #109), A < B by name, C the third node: A picks B;
 * B, in cluster_wait with two peers, parks A's sync; B then picks A; A,
 * syncing to B, gets B's sync, loses the tie-break and drops it.  A waits
 * for B, B for A, with A's request parked at B.  C then picks A and is
 * parked there: all three are stuck. */
static void test_swarm_deadlock_b(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_CLUSTER_WAIT);
    assert_pending(h, 1, PID[0]);
    h_pick(h, 1, 0);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC);
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_pending(h, 0, "");
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_contains(h_dump(h, 1), "{:syncing, %TrackerState{clock: {1, 0}, ");
    assert_pending(h, 1, PID[0]);
    assert_sync_node(h, 1, 0);
    h_assert_no_progress_timer(h, 0);
    h_assert_no_progress_timer(h, 1);

    h_pick(h, 2, 0);
    h_fire(h, 2, TT_CLUSTER_JOIN);
    h_settle(h);
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    assert_pending(h, 0, PID[2]);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trk_state(T(i)), TRK_SYNCING);
        h_assert_no_progress_timer(h, i);
    }
}

/* 7a. Deadlock C through the loss of the sync node.  retry_max 1: a failed
 * check is not retried.  X (0) checks Z (2) before Z's tracker runs and
 * never adds it; X knows Y (1).  Z starts, knows X, picks X; X, syncing to
 * Y, parks Z.  Y crashes (X's sync to it is lost): X has nobody left and
 * goes to tracking without serving Z, which waits forever. */
static void test_swarm_deadlock_c_sync_node_down(void **state)
{
    (void)state;
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = TRK_SWARM;
    cfg.retry_max = 1;
    struct harness *h = h_new_cfg(&cfg, 3);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 2); /* Z not running: the check fails */
    assert_int_equal(trk_node_count(T(0)), 0);
    assert_int_equal(h_armed(h, 0, TT_RETRY_CHECK), 0);
    h_learn(h, 0, 1);
    h_learn(h, 1, 0);
    h_start(h, 2);
    h_learn(h, 2, 0);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    h_pick(h, 2, 0);
    h_fire(h, 2, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC);
    assert_pending(h, 0, PID[2]);
    h_crash(h, 1);
    trk_nodedown(T(0), NAME[1]);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_pending(h, 0, 2), 0); /* Z is never answered */
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h_pending(h, 0, 2), 0);
    assert_int_equal(trk_state(T(2)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(2)), NAME[0]);
    h_assert_no_progress_timer(h, 2);
}

/* 7b. Deadlock C through cluster_join with no nodes: X (whose check of Z
 * failed) parks Z's sync in cluster_wait, then its cluster_join finds no
 * nodes and it tracks without serving Z. */
static void test_swarm_deadlock_c_join_alone(void **state)
{
    (void)state;
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = TRK_SWARM;
    cfg.retry_max = 1;
    struct harness *h = h_new_cfg(&cfg, 2);
    h_start(h, 0);
    h_learn(h, 0, 1); /* fails: 1 not running yet */
    h_start(h, 1);
    h_learn(h, 1, 0);
    h_pick(h, 1, 0);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC);
    assert_pending(h, 0, PID[1]);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    h_run_until(h, h->now + CS_SEC(3600)); /* anti-entropy ticks: no nodes */
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    h_assert_no_progress_timer(h, 1);
}

/* 7c. The broken nodedown filter, and sync_err.  X (0) with nodes [Y, Z]
 * syncs to Y and parks Z; Z goes down: X's nodes lose Z but the parked
 * request stays.  A sync_err from Y makes X retry with a random node
 * (scripted: Y again).  When Y's sync_recv completes the sync, the head Z
 * is no longer a node and is dropped: X tracks. */
static void test_swarm_parked_request_of_dead_node(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    h_pick(h, 2, 0);
    h_fire(h, 2, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC);
    h_crash(h, 2);
    trk_nodedown(T(0), NAME[2]);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_false(h_knows(h, 0, 2));
    assert_pending(h, 0, PID[2]);

    uint8_t err[1] = {M_SYNC_ERR};
    h_pick(h, 0, 1);
    trk_message(T(0), NAME[1], err, 1);
    assert_int_equal(h->n[0].unscripted, 0);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    assert_string_equal(trk_waiting_for(T(0)), NAME[1]);
    assert_int_equal(h_pending_type(h, 0, 1, M_SYNC), 2);

    /* Y is in cluster_wait with nodes [X, Z]: make it track first */
    trk_nodedown(T(1), NAME[2]);
    h_deliver(h, 0, 1); /* X's first sync: nodes == [X], Y leads */
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_pending(h, 0, "");
    assert_int_equal(h_pending_type(h, 0, 2, M_SYNC_RECV), 0);
}

/* 8a. The postpone rule.  B (1) and C (2) track together; A (0) joins and
 * syncs to B.  While A is syncing: a register of x on A, C's replicated
 * track of y and a whereis of y on A are postponed (no reply, y not in
 * A's table).  When B's sync_recv (without y: B's copy of the track is
 * held back) moves A to tracking, they run in their original order: the
 * register is answered, then y is known locally for the whereis. */
static void test_swarm_postpone(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start_alone(h, 2);
    h_link(h, 1, 2);
    h_settle(h);
    h_start(h, 0);
    h_link(h, 0, 1);
    h_link(h, 0, 2);
    h_settle(h);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_SYNCING);

    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 2, "register", "y", NULL, 2);
    assert_int_equal(h_deliver(h, 2, 0), M_TRACK);
    h_cmd(h, 0, "whereis", "y", NULL, 0);
    assert_int_equal(h->n[0].reply_count, 0);
    assert_null(h_entry(h, 0, "y"));
    assert_null(h_entry(h, 0, "x"));
    assert_int_equal(trk_stats(T(0))->postponed, 3);
    assert_int_equal(trk_last_reply(T(0))->op[0], 0);

    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->n[0].reply_count, 2);
    assert_string_equal(h->n[0].replies[0].op, "register");
    assert_string_equal(h->n[0].replies[0].name, "x");
    assert_string_equal(h->n[0].replies[0].status, "ok");
    assert_string_equal(h->n[0].replies[1].op, "whereis");
    assert_string_equal(h->n[0].replies[1].status, "ok");
    assert_string_equal(h->n[0].replies[1].owner, NAME[2]);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
    assert_same_registry(h, 0, 1);
    assert_same_registry(h, 0, 2);
}

/* 8b. Order across a state change in the middle of re-delivery.  X (0)
 * syncs to Y (1), which parks it; X crashes and restarts; Y re-adds X,
 * syncs with Z (2) and then serves X's old request with a sync_recv.  The
 * new X, in cluster_wait, postpones a register c1, that sync_recv and a
 * register c2; its cluster_join picks Y.  On entering syncing, c1 is
 * postponed again, the sync_recv completes the sync (tracking) and the
 * postponed events must come back in their original order: c1 before c2. */
static void test_swarm_postponed_order(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    for (int i = 0; i < 3; i++)
        h_start(h, i);
    h_learn(h, 1, 0);
    h_learn(h, 1, 2);
    h_learn(h, 0, 1);
    h_learn(h, 2, 1);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_pending(h, 1, PID[0]);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    h_restart(h, 0, 10);
    h_start(h, 0);
    h_learn(h, 1, 0);
    h_cmd(h, 0, "register", "c1", NULL, 1);
    h_pick(h, 1, 2);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), M_SYNC);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 2, 1), M_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    h_cmd(h, 0, "register", "c2", NULL, 2);
    assert_int_equal(h->n[0].reply_count, 0);
    h_learn(h, 0, 1);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h->n[0].reply_count, 2);
    assert_string_equal(h->n[0].replies[0].name, "c1");
    assert_string_equal(h->n[0].replies[1].name, "c2");
}

/* 9a. Serving the pending list, head == sync_node (PR #118).  B (1) picks
 * A (0); A, in cluster_wait with two peers, parks B; A picks B; B,
 * syncing to A, gets A's sync, wins the tie-break and leads.  A completes
 * on B's sync_recv: the parked head is its sync node and is dropped, so A
 * goes to tracking instead of sending B a second sync_recv. */
static void test_swarm_serve_drops_sync_node(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 1, 0);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC);
    assert_pending(h, 0, PID[1]);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_pending(h, 0, "");
    assert_sync_node(h, 0, -1);
    assert_int_equal(h_pending(h, 0, 1), 1);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h->qlen, 0);
}

/* 9b. Serving the pending list, head in nodes.  B (1) tracks alone; C (2)
 * knows only A.  A (0) knows B and C.  C picks A and is parked; A picks B
 * and completes with B; serving C: A forks its clock, sends C a sync_recv
 * and goes to awaiting_sync_ack with C as sync node.  C completes, A
 * tracks on C's ack. */
static void test_swarm_serve_head_in_nodes(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 1);
    h_start(h, 0);
    h_start(h, 2);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 2, 0);
    h_pick(h, 2, 0);
    h_fire(h, 2, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC);
    assert_pending(h, 0, PID[2]);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_int_equal(h_deliver(h, 1, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(0)), NAME[2]);
    assert_pending(h, 0, "");
    assert_contains(h_dump(h, 0), "clock: {{1, 0}, 0}");
    const struct hmsg *m = h_find(h, 0, 2, M_SYNC_RECV);
    assert_non_null(m);
    char sender[CS_NODE_NAME_MAX], text[128];
    msg_sync_clock(m, sender, text, sizeof text);
    assert_string_equal(text, "{{0, 1}, 0}");
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC_ACK);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), M_SYNC_RECV);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC_ACK);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_stats(T(0))->syncs_completed, 2);
    assert_int_equal(h->qlen, 0);
}

/* 9c. Serving from awaiting_sync_ack stays in awaiting_sync_ack, and that
 * is not a state change: postponed events stay postponed.  C (2, the
 * greatest) parks A's sync in cluster_wait, picks B; B picks C; C gets B's
 * sync, wins the tie-break and leads; B drops C's sync and completes.  A
 * register on C is postponed meanwhile.  On B's ack C serves A: sync_recv,
 * still awaiting_sync_ack (the register is still unanswered); on A's ack C
 * tracks and answers it. */
static void test_swarm_serve_stays_awaiting(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_all_connected(h, 3);
    h_pick(h, 0, 2);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 2), M_SYNC);
    assert_pending(h, 2, PID[0]);
    h_pick(h, 2, 1);
    h_fire(h, 2, TT_CLUSTER_JOIN);
    h_pick(h, 1, 2);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), M_SYNC);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(2)), NAME[1]);
    h_cmd(h, 2, "register", "z", NULL, 1);
    assert_int_equal(h_deliver(h, 2, 1), M_SYNC); /* B drops it */
    assert_int_equal(trk_state(T(1)), TRK_SYNCING);
    assert_int_equal(h_deliver(h, 2, 1), M_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 1, 2), M_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(2)), NAME[0]);
    assert_pending(h, 2, "");
    assert_int_equal(h->n[2].reply_count, 0);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), M_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);
    assert_int_equal(h->n[2].reply_count, 1);
    assert_string_equal(h_last_reply(h, 2)->status, "ok");
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
}

/* 10a. Replicated track, concurrent clocks.  A and B track together after
 * a sync (B led and forked its clock, so their clocks are the two halves).
 * Both register x before either track arrives; the tracks' clocks are
 * concurrent, so each side logs and keeps its own: both processes live and
 * the registries disagree. */
static void test_swarm_track_concurrent_kept(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_link(h, 0, 1);
    h_settle(h);
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 1, "register", "x", NULL, 2);
    uint8_t c0[REG_CLOCK_MAX], c1[REG_CLOCK_MAX];
    size_t l0 = msg_track_clock(h_find(h, 0, 1, M_TRACK), c0);
    size_t l1 = msg_track_clock(h_find(h, 1, 0, M_TRACK), c1);
    assert_int_equal(clock_order(c0, l0, c1, l1), ITC_CONCURRENT);
    size_t warns = h->n[0].warn_count;
    h_settle(h);
    assert_string_equal(h_owner(h, 0, "x"), NAME[0]);
    assert_string_equal(h_owner(h, 1, "x"), NAME[1]);
    assert_int_equal(h_procs(h, 0, "x"), 1);
    assert_int_equal(h_procs(h, 1, "x"), 1);
    assert_true(h_sum(h, 0) != h_sum(h, 1));
    assert_int_equal(trk_stats(T(0))->conflicts, 0);
    assert_int_equal(trk_stats(T(1))->conflicts, 0);
    assert_true(h->n[0].warn_count > warns);
}

/* 10b. Replicated track, equal clocks (local <= remote on both sides).  A
 * syncs to B (B echoes A's clock), then B syncs to A (A echoes B's): both
 * keep the seed clock, so their registrations carry equal clocks.  Both
 * register x; each track finds local <= remote, so each side kills its own
 * process and records the other's: nobody runs x any more. */
static void test_swarm_track_equal_replaces(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_start_alone(h, 1);
    h_learn(h, 0, 1);
    h_settle(h);
    h_learn(h, 1, 0);
    h_settle(h);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_state(T(1)), TRK_TRACKING);
    assert_contains(h_dump(h, 0), "clock: {1, 0}");
    assert_contains(h_dump(h, 1), "clock: {1, 0}");
    h_cmd(h, 0, "register", "x", NULL, 1);
    h_cmd(h, 1, "register", "x", NULL, 2);
    uint8_t c0[REG_CLOCK_MAX], c1[REG_CLOCK_MAX];
    size_t l0 = msg_track_clock(h_find(h, 0, 1, M_TRACK), c0);
    size_t l1 = msg_track_clock(h_find(h, 1, 0, M_TRACK), c1);
    assert_int_equal(clock_order(c0, l0, c1, l1), ITC_EQUAL);
    h_settle(h);
    assert_string_equal(h_owner(h, 0, "x"), NAME[1]);
    assert_string_equal(h_owner(h, 1, "x"), NAME[0]);
    assert_int_equal(h_procs(h, 0, "x"), 0);
    assert_int_equal(h_procs(h, 1, "x"), 0);
}

/* 10c. Replicated track with a strictly newer remote clock replaces the
 * local registration (its process dies, here, no message needed); one with
 * an older remote clock is ignored: the local entry and process stay and
 * nothing is sent to the remote owner. */
static void test_swarm_track_ordered(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 2);
    h_start_alone(h, 0);
    h_cmd(h, 0, "register", "x", NULL, 1); /* clock: seed + 1 event */
    h_cmd(h, 0, "register", "y", NULL, 1);
    uint8_t newer[16], older[16], buf[512];
    size_t nl = clock_after(2, newer, sizeof newer), ol = clock_after(0, older, sizeof older);
    struct fentry ex = {"x", NAME[1], (uint64_t)9 << 32 | 1, 1, 0, newer, nl};
    size_t len = forge_event(buf, sizeof buf, M_TRACK, &ex);
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "x"), NAME[1]);
    assert_true(h_entry(h, 0, "x")->handle == ex.handle);
    assert_int_equal(h_procs(h, 0, "x"), 0);
    assert_int_equal(trk_stats(T(0))->conflicts, 1);

    struct fentry ey = {"y", NAME[1], (uint64_t)9 << 32 | 2, 1, 0, older, ol};
    len = forge_event(buf, sizeof buf, M_TRACK, &ey);
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "y"), NAME[0]);
    assert_int_equal(h_procs(h, 0, "y"), 1);
    assert_int_equal(h_pending(h, 0, -1), 0); /* ignored: no kill sent */
    assert_int_equal(trk_stats(T(0))->conflicts, 1);
}

/* 10d. A stale sync_recv (M3b).  Z (2) tracks alone and learns nobody.  X
 * (0) and Y (1) know each other and Z.  X picks Y; Y, in cluster_wait with
 * two peers, parks X.  The X-Y link flaps: X, syncing, loses its sync node
 * and syncs with Z instead (X's nodeup of Y is postponed); Y drops X from
 * its nodes and re-adds it.  X completes with Z and tracks.  Y then picks
 * Z, completes, and serves X's old request: X, tracking, drops the
 * sync_recv, and Y waits in awaiting_sync_ack forever. */
static void test_swarm_stale_sync_recv(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    h_start_alone(h, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 0, 1);
    h_learn(h, 0, 2);
    h_learn(h, 1, 0);
    h_learn(h, 1, 2);
    h_pick(h, 0, 1);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 0, 1), M_SYNC);
    assert_pending(h, 1, PID[0]);
    /* the flap */
    h_script(h, 0, 12); /* the only node left: Z */
    trk_nodedown(T(0), NAME[1]);
    assert_string_equal(trk_waiting_for(T(0)), NAME[2]);
    trk_nodedown(T(1), NAME[0]);
    h_learn(h, 1, 0);
    trk_nodeup(T(0), NAME[1]); /* postponed in syncing */
    assert_int_equal(h_pending(h, 0, 1), 0);
    assert_int_equal(h_deliver(h, 0, 2), M_SYNC);
    assert_int_equal(h_deliver(h, 2, 0), M_SYNC_RECV);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    /* the postponed nodeup ran: check Y and add it */
    h_deliver_type(h, 0, 1, M_CHECK);
    h_deliver_type(h, 1, 0, M_CHECK_REPLY);
    assert_true(h_knows(h, 0, 1));
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(h_deliver(h, 0, 2), M_SYNC_ACK);
    assert_int_equal(trk_state(T(2)), TRK_TRACKING);

    h_pick(h, 1, 2);
    h_fire(h, 1, TT_CLUSTER_JOIN);
    assert_int_equal(h_deliver(h, 1, 2), M_SYNC);
    assert_int_equal(h_deliver(h, 2, 1), M_SYNC_RECV);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    h_settle(h); /* Y's ack to Z, Y's stale sync_recv to X */
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    assert_string_equal(trk_waiting_for(T(1)), NAME[0]);
    h_run_until(h, h->now + CS_SEC(3600));
    assert_int_equal(h->qlen, 0);
    assert_int_equal(trk_state(T(1)), TRK_AWAITING_SYNC_ACK);
    h_assert_no_progress_timer(h, 1);
}

/* Three swarm trackers tracking together, with s (started) and p (plain)
 * registered on A (0) and t (started) on B (1). */
static void swarm_three_with_names(struct harness *h, char *s, char *t, size_t size)
{
    h_cluster(h, 3);
    const int all[3] = {0, 1, 2};
    name_owned_by(h, all, 3, 0, "s", s, size);
    name_owned_by(h, all, 3, 1, "t", t, size);
    h_cmd(h, 0, "register_started", s, NULL, 5);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[0]);
    h_cmd(h, 0, "register", "p", NULL, 6);
    h_cmd(h, 1, "register_started", t, NULL, 7);
    assert_string_equal(h_last_reply(h, 1)->owner, NAME[1]);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_int_equal(h_count(h, i), 3);
}

/* 11a. Graceful stop (swarm): A's processes shut down first and peers
 * untrack their names; when A's links then close nothing is restarted:
 * A's started process is lost. */
static void test_swarm_graceful_stop_loses(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    char s[32], t[32];
    swarm_three_with_names(h, s, t, sizeof s);
    trk_stop(T(0));
    assert_int_equal(h_procs(h, 0, s), 0);
    h_settle(h);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    trk_nodedown(T(2), NAME[0]);
    h_settle(h);
    for (int i = 1; i < 3; i++) {
        assert_null(h_entry(h, i, s));
        assert_null(h_entry(h, i, "p"));
        assert_string_equal(h_owner(h, i, t), NAME[1]);
        assert_int_equal(trk_stats(T(i))->restarts, 0);
        assert_int_equal(h_procs(h, i, s), 0);
    }
}

/* 11b. The contrast: a crash of A (no stop) makes the new ring owner of s
 * restart it; A's plain registration p is removed. */
static void test_swarm_crash_restarts(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_SWARM, 3);
    char s[32], t[32], owner[64];
    swarm_three_with_names(h, s, t, sizeof s);
    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    trk_nodedown(T(2), NAME[0]);
    h_settle(h);
    const int rest[2] = {1, 2};
    int o = h_index(h, ring_owner_of(h, rest, 2, s, owner, sizeof owner));
    for (int i = 1; i < 3; i++) {
        assert_string_equal(h_owner(h, i, s), NAME[o]);
        assert_null(h_entry(h, i, "p"));
    }
    assert_int_equal(h_procs(h, o, s), 1);
    assert_int_equal(h_procs(h, 3 - o, s), 0);
    assert_int_equal(trk_stats(T(o))->restarts, 1);
    assert_same_registry(h, 1, 2);
}

/* ==== fixed mode ============================================================ */

/* 12a. Fixed start-up.  Three trackers in cluster_wait know one another
 * (each new peer gets a snapshot push).  A register in cluster_wait is
 * answered at once; cluster_join always leads to tracking; every armed
 * timer can progress; nothing is ever parked; all converge. */
static void test_fixed_start(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_start_all_connected(h, 3);
    h_cmd(h, 0, "register", "a", NULL, 3);
    assert_int_equal(h->n[0].reply_count, 1);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    h_cmd(h, 0, "call", "a", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_last_reply(h, 0)->value, 3);
    assert_int_equal(trk_state(T(0)), TRK_CLUSTER_WAIT);
    h_settle(h); /* snapshots and the track, all in cluster_wait */
    for (int i = 0; i < 3; i++) {
        h_fire(h, i, TT_CLUSTER_JOIN);
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
        assert_null(trk_waiting_for(T(i)));
        assert_int_equal(h_armed(h, i, TT_ANTI_ENTROPY), 1);
        for (size_t k = 0; k < h->n[i].timer_count; k++)
            if (h->n[i].timers[k].armed)
                assert_true(trk_timer_can_progress(T(i), h->n[i].timers[k].tag));
        for (unsigned kind = TT_CLUSTER_JOIN; kind <= TT_CALL_TIMEOUT; kind++)
            assert_true(trk_timer_can_progress(T(i), TRK_TAG(kind, 0)));
    }
    h_settle(h);
    h_run_until(h, h->now + CS_SEC(700)); /* anti-entropy rounds */
    h_settle(h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(trk_state(T(i)), TRK_TRACKING);
        assert_pending(h, i, "");
        assert_string_equal(h_owner(h, i, "a"), NAME[0]);
        assert_same_registry(h, 0, i);
    }
}

/* 12b. Duplicates resolved: A and B track apart and both register x (one
 * write each, so equal versions: the larger handle, B's, wins); then they
 * connect and exchange snapshots, A's messages first or B's first.  Both
 * orders end with one owner everywhere and one live process; the loser's
 * process is killed, and a call reaches the winner's counter. */
static void test_fixed_duplicates_converge(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        struct harness *h = h_new(TRK_FIXED, 2);
        h_start_alone(h, 0);
        h_start_alone(h, 1);
        h_cmd(h, 0, "register", "x", NULL, 10);
        h_cmd(h, 1, "register", "x", NULL, 20);
        uint64_t h0 = h_proc_handle(h, 0, "x"), h1 = h_proc_handle(h, 1, "x");
        assert_true(h1 > h0);
        h_link(h, 0, 1);
        h_settle_pref(h, order);
        for (int i = 0; i < 2; i++) {
            assert_string_equal(h_owner(h, i, "x"), NAME[1]);
            assert_true(h_entry(h, i, "x")->handle == h1);
        }
        assert_same_registry(h, 0, 1);
        assert_int_equal(h_procs(h, 0, "x"), 0);
        assert_int_equal(h_procs(h, 1, "x"), 1);
        assert_true(trk_stats(T(0))->conflicts + trk_stats(T(1))->conflicts > 0);
        h_cmd(h, 0, "call", "x", NULL, 0);
        h_settle(h);
        assert_string_equal(h_last_reply(h, 0)->status, "ok");
        assert_int_equal(h_last_reply(h, 0)->value, 20);
        h_free(h);
        H = NULL;
    }
}

/* 12c. Deletions propagate.  Three fixed trackers; A registers u, all
 * learn it; A unregisters u: B gets the untrack, C's copy is lost.  C's
 * anti-entropy pushes its stale snapshot (u live) to B: B does not revive
 * u, and B's answer carries the tombstone, which removes u at C. */
static void test_fixed_unregister_propagates(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 3);
    h_cluster(h, 3);
    h_cmd(h, 0, "register", "u", NULL, 1);
    h_settle(h);
    for (int i = 0; i < 3; i++)
        assert_string_equal(h_owner(h, i, "u"), NAME[0]);
    h_cmd(h, 0, "unregister", "u", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_int_equal(h_procs(h, 0, "u"), 0);
    assert_int_equal(h_deliver(h, 0, 1), M_UNTRACK);
    h_drop(h, 0, 2);
    assert_null(h_entry(h, 1, "u"));
    assert_non_null(h_entry(h, 2, "u"));
    h_pick(h, 2, 1);
    h_fire(h, 2, TT_ANTI_ENTROPY);
    assert_int_equal(h_deliver(h, 2, 1), M_SYNC_RECV);
    assert_null(h_entry(h, 1, "u"));
    assert_int_equal(h_deliver(h, 1, 2), M_SYNC_ACK);
    assert_null(h_entry(h, 2, "u"));
    h_settle(h);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(h_count(h, i), 0);
        assert_same_registry(h, 0, i);
    }
}

/* 12d. A restarted node gets the registry back.  A and B track together;
 * B registers r, A registers q and starts s on the ring.  A crashes: B
 * drops q (A's plain registration) and keeps s running (restarted on B if
 * A owned it).  A comes back with a new creation, connects, syncs: it
 * holds B's registry again, and s runs exactly once. */
static void test_fixed_restart_gets_registry(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 1, "register", "r", NULL, 5);
    h_cmd(h, 0, "register", "q", NULL, 6);
    char s[32];
    const int both[2] = {0, 1};
    name_owned_by(h, both, 2, 0, "s", s, sizeof s);
    h_cmd(h, 0, "register_started", s, NULL, 7);
    h_settle(h);
    assert_same_registry(h, 0, 1);
    assert_int_equal(h_count(h, 1), 3);

    h_crash(h, 0);
    trk_nodedown(T(1), NAME[0]);
    h_settle(h);
    assert_null(h_entry(h, 1, "q"));
    assert_string_equal(h_owner(h, 1, s), NAME[1]);
    assert_int_equal(h_procs(h, 1, s), 1);

    h_restart(h, 0, 42);
    h_start(h, 0);
    h_link(h, 0, 1);
    h_settle(h);
    h_fire(h, 0, TT_CLUSTER_JOIN);
    h_settle(h);
    assert_int_equal(trk_state(T(0)), TRK_TRACKING);
    assert_string_equal(h_owner(h, 0, "r"), NAME[1]);
    assert_null(h_entry(h, 0, "q"));
    assert_same_registry(h, 0, 1);
    assert_int_equal(h_count(h, 0), 2);
    assert_int_equal(h_procs(h, 0, s) + h_procs(h, 1, s), 1);
    const char *owner = h_owner(h, 0, s);
    assert_non_null(owner);
    assert_int_equal(h_procs(h, h_index(h, owner), s), 1);
    h_cmd(h, 0, "whereis", "r", NULL, 0);
    assert_string_equal(h_last_reply(h, 0)->status, "ok");
    assert_string_equal(h_last_reply(h, 0)->owner, NAME[1]);
}

/* 12e. No waiting without a timeout: a call forwarded to the owner whose
 * answer never comes (the request is lost) is answered with a timeout. */
static void test_fixed_forwarded_call_times_out(void **state)
{
    (void)state;
    struct harness *h = h_new(TRK_FIXED, 2);
    h_cluster(h, 2);
    h_cmd(h, 1, "register", "r", NULL, 5);
    h_settle(h);
    h_cmd(h, 0, "call", "r", NULL, 0);
    assert_int_equal(h_pending_type(h, 0, 1, M_REQUEST), 1);
    size_t replies = h->n[0].reply_count;
    h_drop(h, 0, 1);
    h_run_until(h, h->now + CS_SEC(60));
    h_settle(h);
    assert_int_equal(h->n[0].reply_count, replies + 1);
    assert_string_equal(h_last_reply(h, 0)->op, "call");
    assert_string_equal(h_last_reply(h, 0)->status, "timeout");
}

/* ==== bad input, both modes ================================================= */

static void check_refused(struct harness *h, int i, const uint8_t *data, size_t len,
                          const char *what, uint64_t (*counter)(const struct trk_stats *))
{
    const struct trk_stats *st = trk_stats(T(i));
    struct trk_stats before = *st;
    enum trk_state s = trk_state(T(i));
    size_t count = h_count(h, i);
    uint64_t sum = h_sum(h, i);
    size_t queued = h->qlen;
    trk_message(T(i), NAME[1], data, len);
    if (counter(st) != counter(&before) + 1)
        fail_msg("%s: not counted", what);
    if (st->malformed + st->unknown_type + st->bad_clock + st->name_too_long !=
        before.malformed + before.unknown_type + before.bad_clock + before.name_too_long + 1)
        fail_msg("%s: counted more than once", what);
    if (trk_state(T(i)) != s)
        fail_msg("%s: state changed", what);
    if (h_count(h, i) != count || h_sum(h, i) != sum)
        fail_msg("%s: registry changed", what);
    if (h->qlen != queued)
        fail_msg("%s: answered", what);
}

static uint64_t c_malformed(const struct trk_stats *s) { return s->malformed; }
static uint64_t c_unknown(const struct trk_stats *s) { return s->unknown_type; }
static uint64_t c_bad_clock(const struct trk_stats *s) { return s->bad_clock; }
static uint64_t c_malformed_or_long(const struct trk_stats *s) { return s->malformed + s->name_too_long; }

/* Every kind of bad input to tracker A, in `mode`: first while A tracks
 * (with a name registered), then (the sync_recv cases) while A waits for
 * B's sync_recv in syncing (swarm) or in cluster_wait (fixed). */
static void bad_input(enum trk_mode mode)
{
    struct harness *h = h_new(mode, 2);
    h_cluster(h, 2);
    h_cmd(h, 0, "register", "keep", NULL, 1);
    h_settle(h);
    uint8_t clock[16], badclock[1] = {0xff}, buf[1024];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp st;
    assert_true(itc_decode(a, badclock, 1, &st) < 0);
    itc_arena_free(a);
    struct fentry good = {"zz", NAME[1], (uint64_t)2 << 32 | 99, 50, 0, clock, cl};

    uint8_t unknown[3] = {0x63, 1, 2};
    check_refused(h, 0, unknown, sizeof unknown, "unknown type", c_unknown);
    uint8_t zero[1] = {0};
    check_refused(h, 0, zero, 1, "type 0", c_unknown);
    check_refused(h, 0, NULL, 0, "empty", c_malformed);

    size_t len = forge_event(buf, sizeof buf, M_TRACK, &good);
    check_refused(h, 0, buf, len - 1, "truncated track", c_malformed);
    check_refused(h, 0, buf, 5, "very truncated track", c_malformed);

    char longname[301];
    memset(longname, 'n', 300);
    longname[300] = '\0';
    struct fentry lng = good;
    lng.name = longname;
    len = forge_event(buf, sizeof buf, M_TRACK, &lng);
    check_refused(h, 0, buf, len, "300-byte name", c_malformed_or_long);

    struct fentry noat = good;
    noat.owner = "nonode";
    len = forge_event(buf, sizeof buf, M_TRACK, &noat);
    check_refused(h, 0, buf, len, "owner without @", c_malformed);

    struct fentry badentry = good;
    badentry.clock = badclock;
    badentry.clock_len = 1;
    len = forge_event(buf, sizeof buf, M_TRACK, &badentry);
    check_refused(h, 0, buf, len, "track with a bad clock", c_bad_clock);

    /* a command with a 300-byte name */
    uint64_t long_before = trk_stats(T(0))->name_too_long;
    h_cmd(h, 0, "register", longname, NULL, 1);
    assert_int_equal(trk_stats(T(0))->name_too_long, long_before + 1);
    assert_string_equal(h_last_reply(h, 0)->status, "error");

    /* snapshots: now A expects one from B */
    h_free(h);
    H = NULL;
    h = h_new(mode, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 1, 0);
    h_learn(h, 0, 1);
    h_drop(h, -1, -1); /* fixed mode's snapshot pushes: lost */
    if (mode == TRK_SWARM) {
        h_pick(h, 0, 1);
        h_fire(h, 0, TT_CLUSTER_JOIN);
        h_drop(h, 0, 1);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    }
    uint8_t seed[8];
    size_t sl = clock_after(0, seed, sizeof seed);
    len = forge_snapshot(buf, sizeof buf, M_SYNC_RECV, NAME[1], badclock, 1, &good, 1);
    check_refused(h, 0, buf, len, "sync_recv with a bad clock", c_bad_clock);
    struct fentry two[2] = {good, noat};
    len = forge_snapshot(buf, sizeof buf, M_SYNC_RECV, NAME[1], seed, sl, two, 2);
    check_refused(h, 0, buf, len, "sync_recv with a bad second entry", c_malformed);
    len = forge_snapshot(buf, sizeof buf, M_SYNC_RECV, NAME[1], seed, sl, &good, 1);
    check_refused(h, 0, buf, len - 3, "truncated sync_recv", c_malformed);
    /* and the good one still works */
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "zz"), NAME[1]);
    if (mode == TRK_SWARM)
        assert_int_equal(trk_state(T(0)), TRK_TRACKING);
}

static void test_bad_input_swarm(void **state)
{
    (void)state;
    bad_input(TRK_SWARM);
}

static void test_bad_input_fixed(void **state)
{
    (void)state;
    bad_input(TRK_FIXED);
}

/* ---- the group ------------------------------------------------------------- */

#define T_(f) cmocka_unit_test_teardown(f, h_teardown)

int test_tracker_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_swarm_start_alone),
        T_(test_swarm_cluster_join_sync),
        T_(test_swarm_sync_merges_both_ways),
        T_(test_swarm_cluster_wait_sync_single),
        T_(test_swarm_cluster_wait_parks),
        T_(test_swarm_deadlock_a),
        T_(test_swarm_deadlock_a_patterns),
        T_(test_swarm_tie_break),
        T_(test_swarm_deadlock_b),
        T_(test_swarm_deadlock_c_sync_node_down),
        T_(test_swarm_deadlock_c_join_alone),
        T_(test_swarm_parked_request_of_dead_node),
        T_(test_swarm_postpone),
        T_(test_swarm_postponed_order),
        T_(test_swarm_serve_drops_sync_node),
        T_(test_swarm_serve_head_in_nodes),
        T_(test_swarm_serve_stays_awaiting),
        T_(test_swarm_track_concurrent_kept),
        T_(test_swarm_track_equal_replaces),
        T_(test_swarm_track_ordered),
        T_(test_swarm_stale_sync_recv),
        T_(test_swarm_graceful_stop_loses),
        T_(test_swarm_crash_restarts),
        T_(test_fixed_start),
        T_(test_fixed_duplicates_converge),
        T_(test_fixed_unregister_propagates),
        T_(test_fixed_restart_gets_registry),
        T_(test_fixed_forwarded_call_times_out),
        T_(test_bad_input_swarm),
        T_(test_bad_input_fixed),
    };
    return cmocka_run_group_tests_name("tracker", tests, NULL, NULL);
}
