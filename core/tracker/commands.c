/*
 * core/tracker/commands.c: registry operations and the processes behind them.
 * Commands (register, register_started, unregister, whereis, send, call,
 * join, leave, members, publish, multi_call) run in `tracking` (Swarm mode
 * postpones them elsewhere; fixed mode runs them in any state); forwarded
 * requests and replied results travel as TRK_MSG_REQUEST / TRK_MSG_REPLY.  The built-in
 * process kind is a counter: started with a value, `send inc N` adds N,
 * `call get` reads it.
 */
#include "internal.h"
#include "mode.h"
#include "../grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- processes ---- */

/* Processes are found by the local number in their handle's low bits. */
static struct trk_proc *proc_find(struct tracker *t, uint64_t handle)
{
    if ((uint32_t)(handle >> 32) != t->creation)
        return NULL;
    int32_t i = cs_idmap_get(&t->proc_index, (uint32_t)handle);
    return i >= 0 && t->procs[i].handle == handle ? &t->procs[i] : NULL;
}

/* A free slot of procs, or -1 out of memory. */
static int64_t proc_slot(struct tracker *t)
{
    if (t->free_proc_count)
        return t->free_procs[--t->free_proc_count];
    if (cs_grow((void **)&t->procs, &t->proc_cap, t->proc_count + 1, sizeof *t->procs) != 0)
        return -1;
    return (int64_t)t->proc_count++;
}

/* Starts a process with no name yet: trk_register_local gives it the
 * registry's copy of its name (no copy of its own: the registry's arena
 * names outlive a removal, core/registry.h). */
static uint64_t proc_start(struct tracker *t, int64_t value)
{
    int64_t i = proc_slot(t);
    if (i < 0)
        return 0;
    struct trk_proc *p = &t->procs[i];
    p->name = NULL;
    p->handle = (uint64_t)t->creation << 32 | ++t->next_local;
    p->value = value;
    if (cs_idmap_put(&t->proc_index, (uint32_t)p->handle, (int32_t)i) != 0) {
        p->handle = 0;
        if ((size_t)i + 1 == t->proc_count)
            t->proc_count--;
        else /* it came from the free list, which has room for it again */
            t->free_procs[t->free_proc_count++] = (uint32_t)i;
        return 0;
    }
    return p->handle;
}

void trk_proc_kill(struct tracker *t, uint64_t handle)
{
    struct trk_proc *p = proc_find(t, handle);
    if (!p)
        return;
    cs_idmap_del(&t->proc_index, (uint32_t)handle);
    p->handle = 0;
    p->name = NULL;
    /* the free list holds at most every slot: grown to procs' size at the
     * first free slot, not before (a registry that only grows never has one) */
    if (t->free_proc_cap < t->proc_cap) {
        uint32_t *f = realloc(t->free_procs, t->proc_cap * sizeof *f);
        if (!f)
            return; /* out of memory: the slot is not reused */
        t->free_procs = f;
        t->free_proc_cap = t->proc_cap;
    }
    t->free_procs[t->free_proc_count++] = (uint32_t)(p - t->procs);
}

void trk_proc_named(struct tracker *t, uint64_t handle, const char *arena_name)
{
    struct trk_proc *p = proc_find(t, handle);
    if (p)
        p->name = arena_name;
}

int64_t trk_proc_value(struct tracker *t, uint64_t handle, bool *found)
{
    struct trk_proc *p = proc_find(t, handle);
    *found = p != NULL;
    return p ? p->value : 0;
}

size_t trk_stray_processes(const struct tracker *t, char *first, size_t size)
{
    size_t stray = 0;
    for (size_t i = 0; i < t->proc_count; i++) {
        const struct trk_proc *p = &t->procs[i];
        if (!p->handle)
            continue;
        const struct reg_entry *e = p->name ? registry_get(&t->reg, p->name) : NULL;
        if (e && e->owner == 0 && !(e->flags & REG_TOMBSTONE) && e->handle == p->handle)
            continue;
        if (stray++ == 0 && first && size)
            snprintf(first, size, "%s", p->name ? p->name : "(a process never registered)");
    }
    return stray;
}

uint64_t trk_proc_restart(struct tracker *t, int64_t value)
{
    return proc_start(t, value);
}

static void proc_deliver(struct tracker *t, uint64_t handle, const char *msg, int64_t value)
{
    struct trk_proc *p = proc_find(t, handle);
    if (p && msg && strcmp(msg, "inc") == 0)
        p->value += value;
}

/* ---- sending registry state ---- */

void trk_arm_anti_entropy(struct tracker *t)
{
    if (t->anti_entropy_armed || t->cfg.anti_entropy_interval <= 0)
        return;
    t->env->timer_start(t->env, t->cfg.anti_entropy_interval, TRK_TAG(TRK_TIMER_ANTI_ENTROPY, 0));
    t->anti_entropy_armed = true;
}

/* ---- local registrations ---- */

uint64_t trk_version_write(struct tracker *t)
{
    t->version_clock = ((t->version_clock >> TRK_GEN_BITS) + 1) << TRK_GEN_BITS;
    return t->version_clock;
}

uint64_t trk_version_continue(struct tracker *t, uint64_t version)
{
    if (version + 1 > t->version_clock)
        t->version_clock = version + 1;
    return version + 1;
}

/* Gives a new or re-owned entry its clock (Swarm) and version (fixed). */
void trk_stamp_entry(struct tracker *t, struct reg_entry *e, uint64_t version)
{
    itc_arena_reset(t->arena);
    struct itc_stamp s;
    if (itc_decode(t->arena, t->clock, t->clock_len, &s) >= 0) {
        uint8_t clock[REG_CLOCK_MAX];
        int n = itc_encode(itc_event(t->arena, s), clock, sizeof clock);
        if (n <= 0 || reg_set_clock(e, clock, (size_t)n) != 0)
            e->clock_len = 0;
    }
    e->version = version;
}

void trk_broadcast_entry(struct tracker *t, uint8_t type, const struct reg_entry *e)
{
    uint8_t buf[4096];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, type);
    trk_put_entry(t, &w, e);
    if (trk_batching(t) && !w.overflow) {
        trk_batch_add(t, w.buf, w.len);
        return;
    }
    for (size_t i = 0; i < t->node_count; i++)
        trk_send(t, t->nodes[i], &w);
}

void trk_send_entry(struct tracker *t, uint32_t peer, uint8_t type, const struct reg_entry *e)
{
    uint8_t buf[4096];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, type);
    trk_put_entry(t, &w, e);
    trk_send(t, peer, &w); /* (refuses one that overflowed, logged) */
}

/* Registers a process of this node under `name`; NULL if taken. */
struct reg_entry *trk_register_local(struct tracker *t, const char *name, uint64_t handle, uint64_t version,
                                     uint64_t origin, uint32_t flags, int64_t spec)
{
    bool created;
    struct reg_entry *e = registry_put(&t->reg, name, &created);
    if (!e)
        return NULL;
    if (!created && !(e->flags & REG_TOMBSTONE))
        return NULL;
    if (spec && reg_reserve_extra(e) != 0) { /* (an origin other than 0 needs no memory) */
        /* out of memory */
        if (created)
            registry_remove(&t->reg, name);
        return NULL;
    }
    trk_digest_out(t, e);
    e->owner = 0;
    e->handle = handle;
    e->flags = flags;
    reg_set_spec(e, spec);
    reg_set_origin(e, origin ? origin : handle);
    trk_stamp_entry(t, e, version);
    trk_digest_in(t, e);
    trk_proc_named(t, handle, e->name);
    trk_broadcast_entry(t, TRK_MSG_TRACK, e);
    return e;
}

static const char *owner_of(struct tracker *t, const struct reg_entry *e)
{
    return trk_name(t, e->owner);
}

static struct reg_entry *live_entry(struct tracker *t, const char *name)
{
    struct reg_entry *e = name ? registry_get(&t->reg, name) : NULL;
    return e && !(e->flags & REG_TOMBSTONE) ? e : NULL;
}

bool trk_lookup(const struct tracker *t, const char *name, const char **owner, uint64_t *handle)
{
    const struct reg_entry *e = name ? registry_get(&t->reg, name) : NULL;
    if (!e || (e->flags & REG_TOMBSTONE))
        return false;
    if (owner)
        *owner = trk_name(t, e->owner);
    if (handle)
        *handle = e->handle;
    return true;
}

size_t trk_lookup_many(const struct tracker *t, const char *const *names, size_t n, const char **owners,
                       uint64_t *handles)
{
    struct reg_entry *found[64];
    size_t hits = 0;
    for (size_t base = 0; base < n; base += 64) {
        size_t k = n - base < 64 ? n - base : 64;
        registry_get_many(&t->reg, names + base, k, found);
        for (size_t i = 0; i < k; i++) {
            const struct reg_entry *e = found[i] && !(found[i]->flags & REG_TOMBSTONE) ? found[i] : NULL;
            if (owners)
                owners[base + i] = e ? trk_name(t, e->owner) : NULL;
            if (handles)
                handles[base + i] = e ? e->handle : 0;
            hits += e != NULL;
        }
    }
    return hits;
}

/* ---- requests and replies between trackers ---- */

static struct trk_request *request_new(struct tracker *t, const char *op, const char *name)
{
    if (cs_grow((void **)&t->requests, &t->request_cap, t->request_count + 1,
                sizeof *t->requests) != 0)
        return NULL;
    struct trk_request *r = &t->requests[t->request_count++];
    memset(r, 0, sizeof *r);
    r->id = ++t->next_request;
    snprintf(r->op, sizeof r->op, "%s", op);
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    if (strcmp(op, "multi_call") != 0) /* multi_call arms its own */
        t->env->timer_start(t->env, CS_SEC(5), TRK_TAG(TRK_TIMER_CALL_TIMEOUT, r->id));
    return r;
}

static struct trk_request *request_find(struct tracker *t, uint64_t id)
{
    for (size_t i = 0; i < t->request_count; i++)
        if (t->requests[i].id == id)
            return &t->requests[i];
    return NULL;
}

static void request_done(struct tracker *t, struct trk_request *r)
{
    *r = t->requests[--t->request_count];
}

/* TRK_MSG_REQUEST: id:u64 op:str name:str arg:str value:i64 */
static void send_request(struct tracker *t, uint32_t peer, uint64_t id, const char *op,
                         const char *name, const char *arg, int64_t value)
{
    uint8_t buf[1024];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_REQUEST);
    cs_put_u64(&w, id);
    cs_put_str(&w, op);
    cs_put_str(&w, name ? name : "");
    cs_put_str(&w, arg ? arg : "");
    cs_put_u64(&w, (uint64_t)value);
    trk_send(t, peer, &w);
}

/* TRK_MSG_REPLY: id:u64 status:str owner:str value:i64 */
static void send_reply(struct tracker *t, uint32_t peer, uint64_t id, const char *status,
                       const char *owner, int64_t value)
{
    uint8_t buf[512];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_REPLY);
    cs_put_u64(&w, id);
    cs_put_str(&w, status);
    cs_put_str(&w, owner);
    cs_put_u64(&w, (uint64_t)value);
    trk_send(t, peer, &w);
}

static void on_reply(struct tracker *t, struct cs_reader *r)
{
    uint64_t id = cs_get_u64(r);
    char status[32], owner[CS_NODE_NAME_MAX];
    cs_get_str(r, status, sizeof status);
    cs_get_str(r, owner, sizeof owner);
    int64_t value = (int64_t)cs_get_u64(r);
    struct trk_request *q = cs_reader_done(r) ? request_find(t, id) : NULL;
    if (!q) {
        t->stats.malformed += !cs_reader_done(r);
        return;
    }
    if (strcmp(q->op, "multi_call") == 0) {
        if (strcmp(status, "ok") == 0)
            q->sum += value;
        else
            q->failures++;
        if (--q->waiting > 0)
            return;
        trk_reply(t, q->op, q->name, q->failures ? "partial" : "ok", "", q->sum);
    } else {
        trk_reply(t, q->op, q->name, status, owner, value);
    }
    request_done(t, q);
}

/* Messages every state handles: the check's answer, replies, kills. */
bool trk_common_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r)
{
    if (type == TRK_MSG_CHECK_REPLY) {
        trk_check_answered(t, from);
        uint8_t running = cs_get_u8(r), attempt = cs_get_u8(r);
        struct trk_content_digest digest;
        bool has_digest = t->mode->content_digest && !r->bad && r->len - r->pos == TRK_CONTENT_DIGEST_LEN;
        if (has_digest)
            trk_get_content_digest(r, &digest);
        if (!cs_reader_done(r)) {
            t->stats.malformed++;
            return true;
        }
        if (running)
            t->mode->node_checked(t, from, has_digest ? &digest : NULL);
        else if (attempt + 1u < t->cfg.retry_max)
            t->env->timer_start(t->env, t->cfg.retry_interval,
                                TRK_TAG(TRK_TIMER_RETRY_CHECK, (uint64_t)from << 8 | (attempt + 1u)));
        return true;
    }
    if (type == TRK_MSG_REPLY) {
        on_reply(t, r);
        return true;
    }
    if (type == TRK_MSG_KILL) {
        char name[REG_NAME_MAX];
        cs_get_str(r, name, sizeof name);
        uint64_t handle = cs_get_u64(r);
        if (cs_reader_done(r)) {
            bool running;
            trk_proc_value(t, handle, &running);
            if (running && !t->mode->kill_is_stale(t, name, handle)) {
                trk_proc_kill(t, handle);
                t->stats.kills_received++; /* the sender counted the conflict */
            }
        } else {
            t->stats.malformed++;
        }
        return true;
    }
    if (type < TRK_MSG_CHECK || type > TRK_MSG_LAST) {
        t->stats.unknown_type++;
        cs_logf(t->env, CS_LOG_WARN, "[swarm] unknown message type %u from %s", type, trk_name(t, from));
        return true;
    }
    return false;
}

/* ---- commands (the API) ---- */

static void cmd_register(struct tracker *t, const char *name, int64_t value)
{
    struct reg_entry *e = live_entry(t, name);
    if (e) { /* Swarm checks only its local table */
        trk_reply(t, "register", name, "already_started", owner_of(t, e), (int64_t)e->handle);
        return;
    }
    uint64_t handle = proc_start(t, value);
    if (!handle || !trk_register_local(t, name, handle, trk_version_write(t), 0, 0, value)) {
        trk_proc_kill(t, handle);
        trk_reply(t, "register", name, "error", "", 0);
        return;
    }
    trk_reply(t, "register", name, "ok", t->self, (int64_t)handle);
}

/* Starts a ring-placed process here (the owner's side of register_started). */
static const char *start_here(struct tracker *t, const char *name, int64_t spec, uint64_t *handle)
{
    struct reg_entry *e = live_entry(t, name);
    if (e) {
        *handle = e->handle;
        return "already_started";
    }
    *handle = proc_start(t, spec);
    if (!*handle || !trk_register_local(t, name, *handle, trk_version_write(t), 0, REG_STARTED, spec))
        return "error";
    return "ok";
}

static void cmd_register_started(struct tracker *t, const char *name, int64_t spec)
{
    const char *owner = ring_owner(t->ring, name);
    if (!owner) {
        trk_reply(t, "register_started", name, "no_node_available", "", 0);
        return;
    }
    if (strcmp(owner, t->self) == 0) {
        uint64_t handle;
        const char *status = start_here(t, name, spec, &handle);
        struct reg_entry *e = live_entry(t, name);
        trk_reply(t, "register_started", name, status, e ? owner_of(t, e) : t->self, (int64_t)handle);
        return;
    }
    struct trk_request *q = request_new(t, "register_started", name);
    if (q)
        send_request(t, (uint32_t)trk_name_index(t, owner), q->id, "register_started", name, NULL, spec);
}

static void cmd_unregister(struct tracker *t, const char *name)
{
    struct reg_entry *e = live_entry(t, name);
    if (!e) {
        trk_reply(t, "unregister", name, "not_found", "", 0);
        return;
    }
    const char *owner = owner_of(t, e); /* interned: outlives the entry */
    int64_t handle = (int64_t)e->handle;
    t->mode->unregister(t, e);
    trk_reply(t, "unregister", name, "ok", owner, handle); /* which process lost the name */
}

static void cmd_whereis(struct tracker *t, const char *name)
{
    struct reg_entry *e = live_entry(t, name);
    if (e) {
        trk_reply(t, "whereis", name, "ok", owner_of(t, e), (int64_t)e->handle);
        return;
    }
    const char *owner = ring_owner(t->ring, name);
    if (!owner || strcmp(owner, t->self) == 0) {
        trk_reply(t, "whereis", name, "not_found", "", 0);
        return;
    }
    struct trk_request *q = request_new(t, "whereis", name);
    if (q)
        send_request(t, (uint32_t)trk_name_index(t, owner), q->id, "whereis", name, NULL, 0);
}

static void send_to_owner(struct tracker *t, struct reg_entry *e, const char *msg, int64_t value)
{
    if (e->owner == 0) {
        proc_deliver(t, e->handle, msg, value);
        return;
    }
    uint8_t buf[512];
    struct cs_writer w;
    cs_writer_init(&w, buf, sizeof buf);
    cs_put_u8(&w, TRK_MSG_SEND);
    cs_put_str(&w, e->name);
    cs_put_u64(&w, e->handle);
    cs_put_str(&w, msg ? msg : "");
    cs_put_u64(&w, (uint64_t)value);
    trk_send(t, e->owner, &w);
}

static void cmd_send(struct tracker *t, const char *name, const char *msg, int64_t value)
{
    struct reg_entry *e = live_entry(t, name);
    if (!e) {
        trk_reply(t, "send", name, "not_found", "", 0);
        return;
    }
    send_to_owner(t, e, msg, value);
    trk_reply(t, "send", name, "ok", owner_of(t, e), 0);
}

/* Calls one process; returns false when the answer comes later. */
static bool call_process(struct tracker *t, struct reg_entry *e, uint64_t request, int64_t *value)
{
    if (e->owner == 0) {
        bool found;
        *value = trk_proc_value(t, e->handle, &found);
        return true;
    }
    send_request(t, e->owner, request, "call", e->name, "get", 0);
    return false;
}

static void cmd_call(struct tracker *t, const char *name)
{
    struct reg_entry *e = live_entry(t, name);
    if (!e) {
        trk_reply(t, "call", name, "not_found", "", 0);
        return;
    }
    struct trk_request *q = request_new(t, "call", name);
    int64_t value;
    if (q && call_process(t, e, q->id, &value)) {
        request_done(t, q);
        trk_reply(t, "call", name, "ok", owner_of(t, e), value);
    }
}

static void cmd_group(struct tracker *t, const char *op, const char *group, const char *name)
{
    struct reg_entry *e = live_entry(t, name);
    if (!e || !group) { /* only registered processes can join */
        trk_reply(t, op, name, "not_found", "", 0);
        return;
    }
    /* The meta keys have their own version: a group change is not a new
     * registration, so it cannot revive a name unregistered meanwhile. */
    trk_digest_out(t, e);
    if (reg_reserve_extra(e) != 0 || reg_meta_set(e, group, strcmp(op, "join") == 0) != 0) {
        trk_digest_in(t, e);
        trk_reply(t, op, name, "error", "", 0);
        return;
    }
    reg_set_meta_version(e, trk_version_write(t)); /* cannot fail: the extra is there */
    trk_digest_in(t, e);
    trk_broadcast_entry(t, TRK_MSG_UPDATE_META, e);
    trk_reply(t, op, name, "ok", owner_of(t, e), 0);
}

struct group_ctx {
    struct tracker *t;
    const char *group, *msg;
    int64_t value, count;
    struct trk_request *q;
};

static void group_member(void *ctx, struct reg_entry *e)
{
    struct group_ctx *g = ctx;
    if ((e->flags & REG_TOMBSTONE) || !reg_meta_has(e, g->group))
        return;
    g->count++;
    if (g->msg && !g->q)
        send_to_owner(g->t, e, g->msg, g->value);
    if (g->q) {
        int64_t v;
        if (call_process(g->t, e, g->q->id, &v))
            g->q->sum += v;
        else
            g->q->waiting++;
    }
}

static void cmd_members(struct tracker *t, const char *op, const char *group, const char *msg,
                        int64_t value)
{
    struct group_ctx g = {t, group ? group : "", NULL, value, 0, NULL};
    if (strcmp(op, "publish") == 0)
        g.msg = msg;
    if (strcmp(op, "multi_call") == 0 && !(g.q = request_new(t, "multi_call", group)))
        return;
    registry_each(&t->reg, group_member, &g);
    if (g.q && g.q->waiting > 0) {
        cs_time timeout = value > 0 ? CS_MSEC(value) : CS_SEC(5);
        t->env->timer_start(t->env, timeout, TRK_TAG(TRK_TIMER_CALL_TIMEOUT, g.q->id));
        return;
    }
    int64_t result = g.q ? g.q->sum : g.count;
    if (g.q)
        request_done(t, g.q);
    trk_reply(t, op, group, "ok", "", result);
}

void trk_call_timeout(struct tracker *t, uint64_t id)
{
    struct trk_request *q = request_find(t, id);
    if (!q)
        return;
    if (strcmp(q->op, "multi_call") == 0) {
        q->failures += q->waiting;
        trk_reply(t, q->op, q->name, q->sum ? "partial" : "timeout", "", q->sum);
    } else {
        trk_reply(t, q->op, q->name, "timeout", "", 0);
    }
    request_done(t, q);
}

void trk_tracking_command(struct tracker *t, const struct trk_event *ev)
{
    const char *op = ev->op, *name = ev->name ? ev->name : "";
    if (strlen(name) >= REG_NAME_MAX) {
        t->stats.name_too_long++;
        trk_reply(t, op, "(too long)", "error", "", 0);
        return;
    }
    if (!strcmp(op, "register"))
        cmd_register(t, name, ev->value);
    else if (!strcmp(op, "register_started"))
        cmd_register_started(t, name, ev->value);
    else if (!strcmp(op, "unregister"))
        cmd_unregister(t, name);
    else if (!strcmp(op, "whereis"))
        cmd_whereis(t, name);
    else if (!strcmp(op, "send"))
        cmd_send(t, name, ev->arg ? ev->arg : "inc", ev->value ? ev->value : 1);
    else if (!strcmp(op, "call"))
        cmd_call(t, name);
    else if (!strcmp(op, "join") || !strcmp(op, "leave"))
        cmd_group(t, op, ev->arg, name);
    else if (!strcmp(op, "members") || !strcmp(op, "publish") || !strcmp(op, "multi_call"))
        cmd_members(t, op, name, ev->arg ? ev->arg : "inc", ev->value);
    else
        trk_reply(t, op, name, "unknown_command", "", 0);
}

/* ---- requests from peers (tracking) ---- */

static void on_request(struct tracker *t, uint32_t from, struct cs_reader *r)
{
    uint64_t id = cs_get_u64(r);
    char op[24], name[REG_NAME_MAX], arg[64];
    cs_get_str(r, op, sizeof op);
    cs_get_str(r, name, sizeof name);
    cs_get_str(r, arg, sizeof arg);
    int64_t value = (int64_t)cs_get_u64(r);
    if (!cs_reader_done(r)) {
        t->stats.malformed++;
        return;
    }
    struct reg_entry *e = live_entry(t, name);
    uint64_t handle = 0;
    if (!strcmp(op, "register_started")) {
        const char *status = start_here(t, name, value, &handle);
        t->mode->watch_placement(t, name); /* the requester's ring may not be ours */
        e = live_entry(t, name);
        send_reply(t, from, id, status, e ? owner_of(t, e) : t->self, (int64_t)handle);
    } else if (!strcmp(op, "whereis")) {
        send_reply(t, from, id, e ? "ok" : "not_found", e ? owner_of(t, e) : "", e ? (int64_t)e->handle : 0);
    } else if (!strcmp(op, "call")) {
        bool found = false;
        int64_t v = e && e->owner == 0 ? trk_proc_value(t, e->handle, &found) : 0;
        send_reply(t, from, id, found ? "ok" : "not_found", t->self, v);
    } else {
        t->stats.unknown_type++;
        send_reply(t, from, id, "unknown_command", "", 0);
    }
}

static void on_send(struct tracker *t, struct cs_reader *r)
{
    char name[REG_NAME_MAX], msg[64];
    cs_get_str(r, name, sizeof name);
    uint64_t handle = cs_get_u64(r);
    cs_get_str(r, msg, sizeof msg);
    int64_t value = (int64_t)cs_get_u64(r);
    if (!cs_reader_done(r)) {
        t->stats.malformed++;
        return;
    }
    proc_deliver(t, handle, msg, value);
}

void trk_tracking_message(struct tracker *t, uint32_t from, uint8_t type, struct cs_reader *r)
{
    switch (type) {
    case TRK_MSG_TRACK:
    case TRK_MSG_UNTRACK:
    case TRK_MSG_UPDATE_META:
    case TRK_MSG_HANDOFF:
        trk_apply_event(t, from, type, r);
        break;
    case TRK_MSG_REQUEST:
        on_request(t, from, r);
        break;
    case TRK_MSG_SEND:
        on_send(t, r);
        break;
    case TRK_MSG_BATCH:
        trk_apply_batch(t, from, r);
        break;
    default:
        t->stats.unknown_type++;
        break;
    }
}
