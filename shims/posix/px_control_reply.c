/*
 * shims/posix/px_control_reply.c: what the control socket hands to the
 * protocol and the answers that come back (see px_control.h): the request
 * being handled, which most replies answer at once; the ring of requests
 * answered later; `many` requests (one line of names, one answer line);
 * and the answer lines, written without printf.
 */
#define _GNU_SOURCE
#include "px_control_internal.h"

#include <stdlib.h>
#include <string.h>

#include "../../core/grow.h"
#include "../../core/json_text.h"

/* `many` requests waiting for a reply at once, every client together (each
 * holds up to MANY_MAX items of 32 bytes). */
#define MANY_WAITING_MAX 64

/* ---- the ring of requests answered later ---- */

/* FNV-1a of op and name: where a reply may match. */
static uint32_t pending_key(const char *op, const char *name)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)op; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ 0xffu) * 16777619u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* Room for n more waiting requests (the ring doubles); false when more
 * than PENDING_MAX would wait or memory ran out. */
static bool pending_reserve(struct px_control *c, size_t n)
{
    if (c->pending_count + n > PENDING_MAX)
        return false;
    if (c->pending_count + n > c->pending_cap) {
        size_t cap = c->pending_cap ? c->pending_cap : 64;
        while (cap < c->pending_count + n)
            cap *= 2;
        struct pending *ring = malloc(cap * sizeof *ring);
        if (!ring)
            return false;
        for (size_t k = 0; k < c->pending_count; k++)
            ring[k] = c->pending[(c->pending_head + k) & (c->pending_cap - 1)];
        free(c->pending);
        c->pending = ring;
        c->pending_cap = cap;
        c->pending_head = 0;
    }
    return true;
}

/* Queues a request the protocol did not answer at once (room reserved);
 * op and name fit (their lengths were checked). */
static void pending_push(struct px_control *c, uint32_t client, const char *op, const char *name, struct many *m,
                         uint32_t index)
{
    struct pending *p = &c->pending[(c->pending_head + c->pending_count++) & (c->pending_cap - 1)];
    p->client = client;
    p->key = pending_key(op, name);
    p->answered = false;
    p->many = m;
    p->index = index;
    memcpy(p->op, op, strlen(op) + 1);
    memcpy(p->name, name, strlen(name) + 1);
}

/* The oldest unanswered request for op and name, or NULL. */
static struct pending *pending_find(struct px_control *c, const char *op, const char *name)
{
    if (!c->pending_count)
        return NULL;
    uint32_t key = pending_key(op, name);
    for (size_t k = 0; k < c->pending_count; k++) {
        struct pending *p = &c->pending[(c->pending_head + k) & (c->pending_cap - 1)];
        if (!p->answered && p->key == key && !strcmp(p->op, op) && !strcmp(p->name, name))
            return p;
    }
    return NULL;
}

/* Marks a request answered; answered ones at either end of the ring leave. */
static void pending_answered(struct px_control *c, struct pending *p)
{
    p->answered = true;
    size_t mask = c->pending_cap - 1;
    while (c->pending_count && c->pending[c->pending_head].answered) {
        c->pending_head = (c->pending_head + 1) & mask;
        c->pending_count--;
    }
    while (c->pending_count && c->pending[(c->pending_head + c->pending_count - 1) & mask].answered)
        c->pending_count--;
}

void px_control_forget_pending(struct px_control *c)
{
    while (c->many) {
        struct many *m = c->many;
        c->many = m->next;
        free(m);
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_head = c->pending_count = c->pending_cap = 0;
}

/* ---- answer lines ---- */

/* Appends s as a JSON string's content: copied when it is printable ASCII
 * with no quote or backslash (names almost always are), else escaped
 * (core/json_text.h).  `room` must hold 6 bytes a byte of s, plus 8. */
static char *put_json_text(char *o, const char *s, size_t room)
{
    const char *p = s;
    while ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f && *p != '"' && *p != '\\')
        p++;
    if (!*p) {
        memcpy(o, s, (size_t)(p - s));
        return o + (p - s);
    }
    return o + cs_json_escape(s, o, room);
}

/* Appends the decimal digits of v (two at a time). */
static char *put_u64(char *o, uint64_t v)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
                                "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
                                "8081828384858687888990919293949596979899";
    char digits[20];
    size_t n = sizeof digits;
    while (v >= 100) {
        memcpy(digits + (n -= 2), pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10)
        memcpy(digits + (n -= 2), pairs + 2 * v, 2);
    else
        digits[--n] = (char)('0' + v);
    memcpy(o, digits + n, sizeof digits - n);
    return o + (sizeof digits - n);
}

static char *put_lit(char *o, const char *lit)
{
    size_t n = strlen(lit);
    memcpy(o, lit, n);
    return o + n;
}

/* The ops whose reply carries a process's handle in its value. */
static bool answers_with_handle(const char *op)
{
    return !strcmp(op, "register") || !strcmp(op, "register_started") || !strcmp(op, "whereis") ||
           !strcmp(op, "unregister");
}

/* Room for `need` more answer bytes at the end of the client's queue. */
static char *out_room(struct client *cl, size_t need)
{
    if (cs_grow((void **)&cl->out, &cl->out_cap, cl->out_len + need, 1) != 0)
        return NULL;
    return cl->out + cl->out_len;
}

/* {"op", "name", "status", "owner", "value"[, "handle"]} */
static void answer_line(struct client *cl, const char *op, const char *name, const char *status,
                        const char *owner, int64_t value)
{
    size_t lo = strlen(op), ln = strlen(name), ls = strlen(status), lw = strlen(owner);
    char *start = out_room(cl, 6 * (lo + ln + ls + lw) + 4 * 8 + 128), *o = start;
    if (!o)
        return;
    o = put_lit(o, "{\"op\":\"");
    o = put_json_text(o, op, 6 * lo + 8);
    o = put_lit(o, "\",\"name\":\"");
    o = put_json_text(o, name, 6 * ln + 8);
    o = put_lit(o, "\",\"status\":\"");
    o = put_json_text(o, status, 6 * ls + 8);
    o = put_lit(o, "\",\"owner\":\"");
    o = put_json_text(o, owner, 6 * lw + 8);
    o = put_lit(o, "\",\"value\":");
    if (value < 0) {
        *o++ = '-';
        o = put_u64(o, 0 - (uint64_t)value);
    } else {
        o = put_u64(o, (uint64_t)value);
    }
    if (value && answers_with_handle(op)) {
        o = put_lit(o, ",\"handle\":\"");
        o = put_u64(o, (uint64_t)value);
        *o++ = '"';
    }
    o = put_lit(o, "}\n");
    cl->out_len += (size_t)(o - start);
}

/* {"many": OP, "count": N, "ok": K, "replies": [[STATUS, HANDLE], ...]} */
static void many_line(struct client *cl, const char *op, const struct many_item *items, uint32_t count)
{
    uint32_t ok = 0;
    for (uint32_t i = 0; i < count; i++)
        ok += !strcmp(items[i].status, "ok");
    size_t lo = strlen(op);
    char *start = out_room(cl, 6 * lo + 96 + (size_t)count * (6 * sizeof items->status + 8 + 20 + 8)), *o = start;
    if (!o)
        return;
    o = put_lit(o, "{\"many\":\"");
    o = put_json_text(o, op, 6 * lo + 8);
    o = put_lit(o, "\",\"count\":");
    o = put_u64(o, count);
    o = put_lit(o, ",\"ok\":");
    o = put_u64(o, ok);
    o = put_lit(o, ",\"replies\":[");
    for (uint32_t i = 0; i < count; i++) {
        o = put_lit(o, i ? ",[\"" : "[\"");
        o = put_json_text(o, items[i].status, 6 * sizeof items->status + 8);
        o = put_lit(o, "\",\"");
        if (items[i].handle)
            o = put_u64(o, items[i].handle);
        o = put_lit(o, "\"]");
    }
    o = put_lit(o, "]}\n");
    cl->out_len += (size_t)(o - start);
}

static void fill_item(struct many_item *it, const char *op, const char *status, int64_t value)
{
    size_t n = strnlen(status, sizeof it->status - 1);
    memcpy(it->status, status, n);
    it->status[n] = '\0';
    it->handle = value && answers_with_handle(op) ? (uint64_t)value : 0;
}

/* ---- requests ---- */

void px_control_command(struct px_control *c, struct client *cl, const struct cs_command *cmd)
{
    if (!pending_reserve(c, 1)) {
        px_control_refuse(c, cl, PX_CONTROL_TOO_MANY_IN_FLIGHT);
        return;
    }
    uint32_t id = cl->id;
    const char *name = cmd->name ? cmd->name : "";
    c->current.client = id;
    c->current.op = cmd->op;
    c->current.name = name;
    c->current.item = NULL;
    c->current.active = true;
    c->current.answered = false;
    c->host.command(c->host.ctx, cmd); /* may answer at once, through px_control_reply */
    c->current.active = false;
    if (!c->current.answered)
        pending_push(c, id, cmd->op, name, NULL, 0); /* answered later */
}

/* Writes a `many` request's line once its last reply came, and forgets it. */
static void many_done(struct px_control *c, struct many *m)
{
    struct client *cl = px_control_client(c, m->client);
    if (cl)
        many_line(cl, m->op, m->items, m->count);
    for (struct many **p = &c->many; *p; p = &(*p)->next)
        if (*p == m) {
            *p = m->next;
            break;
        }
    free(m);
}

static size_t many_waiting(const struct px_control *c)
{
    size_t n = 0;
    for (const struct many *m = c->many; m; m = m->next)
        n++;
    return n;
}

void px_control_many(struct px_control *c, struct client *cl, char *text)
{
    static char *names[MANY_MAX];
    static struct many_item items[MANY_MAX];
    char *op = text, *tab = strchr(text, '\t');
    uint32_t count = 0;
    bool bad = !tab;
    if (tab) {
        *tab = '\0';
        bad = strcmp(op, "register") && strcmp(op, "whereis") && strcmp(op, "unregister");
    }
    for (char *p = tab ? tab + 1 : NULL; !bad && p;) {
        char *next = strchr(p, '\t');
        size_t len = next ? (size_t)(next - p) : strlen(p);
        if ((bad = len == 0 || len >= sizeof ((struct pending *)0)->name || count == MANY_MAX))
            break;
        names[count++] = p;
        if (next)
            *next++ = '\0';
        p = next;
    }
    if (bad) {
        px_control_refuse(c, cl, PX_CONTROL_BAD_MANY);
        return;
    }
    if (!pending_reserve(c, count) || many_waiting(c) >= MANY_WAITING_MAX) {
        px_control_refuse(c, cl, PX_CONTROL_TOO_MANY_IN_FLIGHT);
        return;
    }
    /* Each name is a request of its own, in order; the first the protocol
     * does not answer at once moves the replies to a record that waits
     * (queued in the ring before the next name is handled, so replies keep
     * going to the oldest request). */
    uint32_t id = cl->id;
    struct many *m = NULL;
    for (uint32_t i = 0; i < count; i++) {
        struct cs_command cmd = {.op = op, .name = names[i]};
        c->current.client = id;
        c->current.op = op;
        c->current.name = names[i];
        c->current.item = m ? &m->items[i] : &items[i];
        c->current.active = true;
        c->current.answered = false;
        c->host.command(c->host.ctx, &cmd);
        c->current.active = false;
        if (c->current.answered)
            continue;
        if (!m && (m = malloc(sizeof *m + count * sizeof *m->items))) {
            memcpy(m->items, items, i * sizeof *items);
            m->client = id;
            m->count = count;
            m->left = 1; /* held until every name was handed over */
            memcpy(m->op, op, strlen(op) + 1);
            m->next = c->many;
            c->many = m;
        }
        if (m) {
            m->left++;
            pending_push(c, id, op, names[i], m, i);
        } else {
            fill_item(&items[i], op, "out_of_memory", 0); /* its reply will find nothing waiting */
        }
    }
    c->current.item = NULL;
    if (!m) {
        if ((cl = px_control_client(c, id)))
            many_line(cl, op, items, count);
    } else if (--m->left == 0) {
        many_done(c, m);
    }
}

void px_control_reply(struct px_control *c, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    name = name ? name : "";
    owner = owner ? owner : "";
    /* The oldest request waiting for this op and name: one queued before,
     * else the one being handled. */
    struct pending *p = pending_find(c, op, name);
    uint32_t id;
    if (p) {
        id = p->client;
        struct many *m = p->many;
        uint32_t index = p->index;
        pending_answered(c, p);
        if (m) {
            fill_item(&m->items[index], op, status, value);
            if (--m->left == 0)
                many_done(c, m);
            return;
        }
    } else if (c->current.active && !c->current.answered && !strcmp(c->current.op, op) &&
               !strcmp(c->current.name, name)) {
        id = c->current.client;
        c->current.answered = true;
        if (c->current.item) {
            fill_item(c->current.item, op, status, value);
            return;
        }
    } else {
        return;
    }
    struct client *cl = px_control_client(c, id);
    if (cl) /* else the client left meanwhile */
        answer_line(cl, op, name, status, owner, value);
}
