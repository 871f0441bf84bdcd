/*
 * reports/trace_walk.c: the trace reader shared by the trace consumers:
 * line parsing and validation, the node table, string interning (a jansson
 * object keeps one json string per distinct text), and message matching.
 * Messages in flight wait in a pool of entries chained into one FIFO queue
 * per (link, receiving node), found through an open-addressing hash table.
 */
#include "trace_walk.h"

#include "../core/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times beyond this are refused, so consumers may add small offsets freely. */
#define TW_MAX_TIME ((int64_t)1 << 62)

struct tw_pending {
    struct tw_msg msg;
    uint32_t next; /* pool index + 1 of the next entry in its queue or the free list */
};

struct tw_queue {
    int64_t link;
    uint32_t to;
    uint32_t used;
    uint32_t head, tail; /* pool index + 1, 0 when empty */
};

struct trace_walk {
    FILE *f;
    char *path;
    char *line;
    size_t cap, lineno;
    json_t *cur, *header, *end;
    json_t *nodes, *node_list, *strings;
    struct tw_pending *pool;
    size_t pool_len, pool_cap;
    uint32_t free_head, release;
    struct tw_queue *queues;
    size_t queue_cap, queue_used;
    uint64_t sends;
    /* the previous record, when it was a trk_send */
    bool prev_trk;
    long prev_trk_node;
    int64_t prev_trk_t;
    const char *prev_trk_type;
};

json_t *trace_walk_header(const struct trace_walk *w)
{
    return w->header;
}

json_t *trace_walk_end(const struct trace_walk *w)
{
    return w->end;
}

int64_t tw_int(const json_t *o, const char *key, int64_t dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : dflt;
}

const char *tw_str(const json_t *o, const char *key, const char *dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

static int fail(const struct trace_walk *w, char *err, size_t err_size, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, err_size, "%s:%zu: %s", w->path, w->lineno, msg);
    return -1;
}

struct trace_walk *trace_walk_open(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open the trace", path);
        return NULL;
    }
    struct trace_walk *w = calloc(1, sizeof *w);
    if (w) {
        w->f = f;
        w->path = strdup(path);
        w->nodes = json_object();
        w->node_list = json_array();
        w->strings = json_object();
    }
    if (!w || !w->path || !w->nodes || !w->node_list || !w->strings) {
        snprintf(err, err_size, "%s: out of memory", path);
        if (w)
            trace_walk_close(w);
        else
            fclose(f);
        return NULL;
    }
    return w;
}

void trace_walk_close(struct trace_walk *w)
{
    if (!w)
        return;
    if (w->f)
        fclose(w->f);
    json_decref(w->cur);
    json_decref(w->header);
    json_decref(w->end);
    json_decref(w->nodes);
    json_decref(w->node_list);
    json_decref(w->strings);
    free(w->pool);
    free(w->queues);
    free(w->line);
    free(w->path);
    free(w);
}

const char *trace_walk_intern(struct trace_walk *w, const char *s)
{
    json_t *v = json_object_get(w->strings, s);
    if (!v) {
        v = json_string(s);
        if (!v || json_object_set_new(w->strings, s, v) != 0)
            return "?"; /* out of memory or not UTF-8: a placeholder, never NULL */
    }
    return json_string_value(v);
}

size_t trace_walk_node(struct trace_walk *w, const char *id)
{
    json_t *v = json_object_get(w->nodes, id);
    if (v)
        return (size_t)json_integer_value(v);
    size_t index = json_array_size(w->node_list);
    json_object_set_new(w->nodes, id, json_integer((json_int_t)index));
    json_array_append_new(w->node_list, json_string(id));
    return index;
}

size_t trace_walk_node_count(const struct trace_walk *w)
{
    return json_array_size(w->node_list);
}

const char *trace_walk_node_id(const struct trace_walk *w, size_t index)
{
    const char *s = json_string_value(json_array_get(w->node_list, index));
    return s ? s : "?";
}

/* ---- queues of messages in flight ---- */

static size_t queue_hash(int64_t link, uint32_t to)
{
    uint64_t h = ((uint64_t)link * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)to * 0xC2B2AE3D27D4EB4Full);
    return (size_t)(h ^ (h >> 29));
}

static struct tw_queue *queue_find(struct tw_queue *q, size_t cap, int64_t link, uint32_t to)
{
    size_t i = queue_hash(link, to) & (cap - 1);
    while (q[i].used && (q[i].link != link || q[i].to != to))
        i = (i + 1) & (cap - 1);
    return &q[i];
}

static int queues_grow(struct trace_walk *w)
{
    size_t cap = w->queue_cap ? w->queue_cap * 2 : 256;
    struct tw_queue *q = calloc(cap, sizeof *q);
    if (!q)
        return -1;
    for (size_t i = 0; i < w->queue_cap; i++)
        if (w->queues[i].used)
            *queue_find(q, cap, w->queues[i].link, w->queues[i].to) = w->queues[i];
    free(w->queues);
    w->queues = q;
    w->queue_cap = cap;
    return 0;
}

/* The queue of (link, to), created when new; NULL out of memory. */
static struct tw_queue *queue_get(struct trace_walk *w, int64_t link, uint32_t to)
{
    if ((w->queue_used + 1) * 2 > w->queue_cap && queues_grow(w) != 0)
        return NULL;
    struct tw_queue *q = queue_find(w->queues, w->queue_cap, link, to);
    if (!q->used) {
        *q = (struct tw_queue){.link = link, .to = to, .used = 1};
        w->queue_used++;
    }
    return q;
}

/* A free pool entry (index + 1), 0 out of memory. */
static uint32_t pending_alloc(struct trace_walk *w)
{
    if (w->free_head) {
        uint32_t e = w->free_head;
        w->free_head = w->pool[e - 1].next;
        return e;
    }
    if (w->pool_len >= UINT32_MAX - 1 ||
        cs_grow((void **)&w->pool, &w->pool_cap, w->pool_len + 1, sizeof *w->pool) != 0)
        return 0;
    return (uint32_t)++w->pool_len;
}

static int on_send(struct trace_walk *w, struct tw_record *rec, char *err, size_t err_size)
{
    json_t *link = json_object_get(rec->json, "link");
    const char *to = tw_str(rec->json, "to", NULL);
    if (!json_is_integer(link) || !to || rec->node_index < 0)
        return fail(w, err, err_size, "msg_send needs a node, an integer link and a string to");
    uint32_t to_index = (uint32_t)trace_walk_node(w, to);
    struct tw_queue *q = queue_get(w, json_integer_value(link), to_index);
    uint32_t e = q ? pending_alloc(w) : 0;
    if (!e)
        return fail(w, err, err_size, "out of memory");
    bool named = w->prev_trk && w->prev_trk_node == rec->node_index && w->prev_trk_t == rec->t;
    w->pool[e - 1] = (struct tw_pending){
        .msg = {.sent = rec->t, .link = json_integer_value(link), .len = tw_int(rec->json, "len", 0),
                .from = (uint32_t)rec->node_index, .to = to_index,
                .type = named ? w->prev_trk_type : trace_walk_intern(w, "link"), .seq = w->sends++}};
    if (q->tail)
        w->pool[q->tail - 1].next = e;
    else
        q->head = e;
    q->tail = e;
    rec->msg = &w->pool[e - 1].msg;
    return 0;
}

static int on_arrival(struct trace_walk *w, struct tw_record *rec, char *err, size_t err_size)
{
    json_t *link = json_object_get(rec->json, "link");
    if (!json_is_integer(link) || rec->node_index < 0)
        return fail(w, err, err_size, "%s needs a node and an integer link", rec->kind);
    struct tw_queue *q = queue_get(w, json_integer_value(link), (uint32_t)rec->node_index);
    if (!q)
        return fail(w, err, err_size, "out of memory");
    uint32_t e = q->head;
    if (!e)
        return 0; /* nothing in flight on this link: a truncated or edited trace */
    q->head = w->pool[e - 1].next;
    if (!q->head)
        q->tail = 0;
    w->pool[e - 1].next = 0;
    w->release = e; /* back to the free list on the next call */
    rec->msg = &w->pool[e - 1].msg;
    return 0;
}

static void release_consumed(struct trace_walk *w)
{
    if (w->release) {
        w->pool[w->release - 1].next = w->free_head;
        w->free_head = w->release;
        w->release = 0;
    }
}

/* ---- records ---- */

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

static int parse_record(struct trace_walk *w, size_t n, struct tw_record *rec, char *err, size_t err_size)
{
    json_error_t jerr;
    json_t *o = json_loadb(w->line, n, 0, &jerr);
    if (!o)
        return fail(w, err, err_size, "not JSON: %s (column %d)", jerr.text, jerr.column);
    w->cur = o;
    json_t *t = json_object_get(o, "t");
    const char *node = tw_str(o, "node", NULL), *kind = tw_str(o, "kind", NULL);
    if (!json_is_object(o) || !json_is_integer(t) || !node || !kind)
        return fail(w, err, err_size, "expected a trace record {\"t\":..,\"node\":..,\"kind\":..}");
    if (json_integer_value(t) < 0 || json_integer_value(t) > TW_MAX_TIME)
        return fail(w, err, err_size, "time %lld out of range", (long long)json_integer_value(t));
    *rec = (struct tw_record){.json = o, .t = json_integer_value(t), .node = node, .kind = kind,
                              .node_index = -1, .line = w->lineno};
    if (strcmp(node, "-") != 0)
        rec->node_index = (long)trace_walk_node(w, node);
    else if (!strcmp(kind, "run") && !w->header)
        w->header = json_incref(o);
    else if (!strcmp(kind, "end"))
        w->end = (json_decref(w->end), json_incref(o));
    return 0;
}

static int match_messages(struct trace_walk *w, struct tw_record *rec, char *err, size_t err_size)
{
    int rc = 0;
    if (!strcmp(rec->kind, "msg_send"))
        rc = on_send(w, rec, err, err_size);
    else if (!strcmp(rec->kind, "msg_recv") || !strcmp(rec->kind, "msg_drop"))
        rc = on_arrival(w, rec, err, err_size);
    w->prev_trk = !strcmp(rec->kind, "trk_send");
    if (w->prev_trk) {
        w->prev_trk_node = rec->node_index;
        w->prev_trk_t = rec->t;
        w->prev_trk_type = trace_walk_intern(w, tw_str(rec->json, "type", "unknown"));
    }
    return rc;
}

int trace_walk_next(struct trace_walk *w, struct tw_record *rec, char *err, size_t err_size)
{
    release_consumed(w);
    json_decref(w->cur);
    w->cur = NULL;
    for (;;) {
        ssize_t n = getline(&w->line, &w->cap, w->f);
        if (n <= 0) {
            if (ferror(w->f))
                return fail(w, err, err_size, "read error");
            return 0;
        }
        w->lineno++;
        if (blank(w->line, (size_t)n))
            continue;
        if (parse_record(w, (size_t)n, rec, err, err_size) != 0)
            return -1;
        return match_messages(w, rec, err, err_size) == 0 ? 1 : -1;
    }
}
