/*
 * reports/sequence.c: the text sequence chart.  The trace is read once into
 * rows (a message at its send time, with what became of it; a note on one
 * node; a timeline action); the lanes are the nodes the rows involve, in
 * the order the trace names them; then each row is drawn into a line of
 * lane markers.
 */
#include "sequence.h"

#include "trace_walk.h"

#include "../core/grow.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SQ_TIME_COLS 14 /* "   0.001000s  " */
#define SQ_MIN_LANE 12
#define SQ_MAX_LANE 22
#define SQ_TAIL 200     /* room after the last lane for notes and arrival times */

enum sq_kind { SQ_MSG, SQ_NOTE, SQ_WORLD };
enum sq_fate { SQ_IN_FLIGHT, SQ_DELIVERED, SQ_DROPPED };

struct sq_row {
    int64_t t, arrived;
    const char *text; /* message type, note or action; interned */
    uint32_t from, to; /* node indexes; a note's node is `from` */
    uint8_t kind, fate;
};

struct sq {
    struct trace_walk *w;
    const struct sequence_options *opt;
    size_t limit;
    struct sq_row *rows;
    size_t nrows, cap;
    size_t messages, dropped, in_flight;
    const char **names; /* by node index: the name of its first start */
    size_t nnames, capnames;
    long *lane;         /* by node index: lane or -1 */
    size_t nlanes, width;
};

static bool in_window(const struct sq *s, int64_t t)
{
    return t >= s->opt->from && t <= s->opt->to;
}

static bool shows_node(const struct sq *s, uint32_t node)
{
    return !s->opt->node || !strcmp(s->opt->node, trace_walk_node_id(s->w, node));
}

static struct sq_row *add_row(struct sq *s, enum sq_kind kind, int64_t t, uint32_t from, const char *text)
{
    if (cs_grow((void **)&s->rows, &s->cap, s->nrows + 1, sizeof *s->rows) != 0)
        return NULL;
    struct sq_row *r = &s->rows[s->nrows++];
    *r = (struct sq_row){.t = t, .arrived = -1, .text = trace_walk_intern(s->w, text), .from = from,
                         .to = from, .kind = (uint8_t)kind};
    return r;
}

/* ---- reading ---- */

static int on_send(struct sq *s, const struct tw_record *r, char *err, size_t err_size)
{
    const struct tw_msg *m = r->msg;
    if (!in_window(s, r->t) || !(shows_node(s, m->from) || shows_node(s, m->to)))
        return 0;
    if (++s->messages > s->limit) {
        snprintf(err, err_size,
                 "the trace has more than %zu messages%s; raise --limit or narrow it with --node, --from, --to",
                 s->limit, s->opt->node || s->opt->from > 0 || s->opt->to < INT64_MAX ? " in the window" : "");
        return -2;
    }
    struct sq_row *row = add_row(s, SQ_MSG, r->t, m->from, m->type);
    if (!row) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    row->to = m->to;
    r->msg->user = (int64_t)s->nrows;
    return 0;
}

static void on_arrival(struct sq *s, const struct tw_record *r)
{
    if (!r->msg || r->msg->user <= 0 || (size_t)r->msg->user > s->nrows)
        return;
    struct sq_row *row = &s->rows[r->msg->user - 1];
    row->arrived = r->t;
    row->fate = strcmp(r->kind, "msg_recv") ? SQ_DROPPED : SQ_DELIVERED;
}

static void remember_name(struct sq *s, const struct tw_record *r)
{
    size_t i = (size_t)r->node_index;
    if (cs_grow((void **)&s->names, &s->capnames, i + 1, sizeof *s->names) != 0)
        return;
    for (; s->nnames <= i; s->nnames++)
        s->names[s->nnames] = NULL;
    if (!s->names[i])
        s->names[i] = trace_walk_intern(s->w, tw_str(r->json, "name", ""));
}

/* The note a node record shows, in `buf`; false when it shows none. */
static bool note_text(const struct tw_record *r, char *buf, size_t n)
{
    const char *k = r->kind;
    if (!strcmp(k, "node_start"))
        snprintf(buf, n, "start inc %lld",
                 (long long)tw_int(r->json, "inc", 0));
    else if (!strcmp(k, "node_crash"))
        snprintf(buf, n, "crash");
    else if (!strcmp(k, "node_stop"))
        snprintf(buf, n, "stop");
    else if (!strcmp(k, "node_exit"))
        snprintf(buf, n, "exit");
    else if (!strcmp(k, "grace_expired"))
        snprintf(buf, n, "grace expired");
    else if (!strcmp(k, "node_readdress"))
        snprintf(buf, n, "readdress %s", tw_str(r->json, "to", "?"));
    else if (!strcmp(k, "tracker_state"))
        snprintf(buf, n, "[%s]", tw_str(r->json, "to", "?"));
    else
        return false;
    return true;
}

static void append_nodes(char *buf, size_t n, json_t *list)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        size_t len = strlen(buf);
        if (json_is_string(v))
            snprintf(buf + len, n - len, "%s%s", i ? "," : "", json_string_value(v));
    }
}

static void action_text(const struct tw_record *r, char *buf, size_t n)
{
    const char *after = tw_str(r->json, "after", NULL);
    snprintf(buf, n, "%s ", tw_str(r->json, "action", "?"));
    if (after) {
        snprintf(buf + strlen(buf), n - strlen(buf), "after %s", after);
        return;
    }
    append_nodes(buf, n, json_object_get(r->json, "nodes"));
    json_t *peers = json_object_get(r->json, "peers");
    if (json_array_size(peers)) {
        snprintf(buf + strlen(buf), n - strlen(buf), " | ");
        append_nodes(buf, n, peers);
    }
    json_t *until = json_object_get(r->json, "until");
    if (json_is_integer(until))
        snprintf(buf + strlen(buf), n - strlen(buf), " until %.6fs",
                 (double)json_integer_value(until) / 1e9);
}

static int on_record(struct sq *s, const struct tw_record *r, char *err, size_t err_size)
{
    char text[512];
    if (!strcmp(r->kind, "msg_send"))
        return on_send(s, r, err, err_size);
    if (!strcmp(r->kind, "msg_recv") || !strcmp(r->kind, "msg_drop")) {
        on_arrival(s, r);
        return 0;
    }
    if (r->node_index >= 0 && !strcmp(r->kind, "node_start"))
        remember_name(s, r);
    if (!in_window(s, r->t))
        return 0;
    bool ok = true;
    if (r->node_index < 0 && !strcmp(r->kind, "action")) {
        action_text(r, text, sizeof text);
        ok = add_row(s, SQ_WORLD, r->t, 0, text) != NULL;
    } else if (r->node_index >= 0 && shows_node(s, (uint32_t)r->node_index) &&
               note_text(r, text, sizeof text)) {
        ok = add_row(s, SQ_NOTE, r->t, (uint32_t)r->node_index, text) != NULL;
    }
    if (!ok)
        snprintf(err, err_size, "out of memory");
    return ok ? 0 : -1;
}

static int read_rows(struct sq *s, char *err, size_t err_size)
{
    struct tw_record r;
    int rc;
    while ((rc = trace_walk_next(s->w, &r, err, err_size)) == 1) {
        int st = on_record(s, &r, err, err_size);
        if (st != 0)
            return st;
    }
    return rc;
}

/* ---- drawing ---- */

/* Lanes for the nodes the rows involve; a lane fits the message labels and
 * the node names, within SQ_MIN_LANE..SQ_MAX_LANE columns. */
static int assign_lanes(struct sq *s)
{
    if (s->lane)
        return 0; /* assigned already (too_big looks first) */
    size_t count = trace_walk_node_count(s->w), label = 0;
    s->lane = malloc((count + 1) * sizeof *s->lane);
    if (!s->lane)
        return -1;
    bool *used = calloc(count + 1, sizeof *used);
    if (!used)
        return -1;
    for (size_t i = 0; i < s->nrows; i++) {
        const struct sq_row *r = &s->rows[i];
        if (r->kind == SQ_WORLD)
            continue;
        used[r->from] = used[r->to] = true;
        if (r->kind == SQ_MSG && strlen(r->text) > label)
            label = strlen(r->text);
    }
    size_t width = label + 6;
    for (size_t i = 0; i < count; i++) {
        s->lane[i] = used[i] ? (long)s->nlanes++ : -1;
        if (used[i] && i < s->nnames && s->names[i] && strlen(s->names[i]) + 2 > width)
            width = strlen(s->names[i]) + 2;
    }
    free(used);
    s->width = width < SQ_MIN_LANE ? SQ_MIN_LANE : width > SQ_MAX_LANE ? SQ_MAX_LANE : width;
    return 0;
}

static size_t lane_pos(const struct sq *s, uint32_t node)
{
    return SQ_TIME_COLS + (size_t)s->lane[node] * s->width;
}

/* Writes `text` at `pos` without passing the end of the line. */
static void put(char *line, size_t cap, size_t pos, const char *text, size_t max)
{
    for (size_t i = 0; text[i] && i < max && pos + i < cap - 1; i++)
        line[pos + i] = text[i];
}

/* A blank line with the lane markers and, when t >= 0, the time. */
static void begin_line(const struct sq *s, char *line, size_t cap, int64_t t)
{
    memset(line, ' ', cap - 1);
    line[cap - 1] = '\0';
    for (size_t i = 0; i < s->nlanes; i++)
        line[SQ_TIME_COLS + i * s->width] = '|';
    if (t >= 0) {
        char time[32];
        snprintf(time, sizeof time, "%11.6fs", (double)t / 1e9);
        put(line, cap, 0, time, SQ_TIME_COLS - 2);
    }
}

static void end_line(FILE *out, char *line)
{
    size_t n = strlen(line);
    while (n && line[n - 1] == ' ')
        line[--n] = '\0';
    fprintf(out, "%s\n", line);
}

static void draw_arrow(const struct sq *s, const struct sq_row *r, char *line, size_t cap)
{
    size_t a = lane_pos(s, r->from), b = lane_pos(s, r->to);
    size_t lo = a < b ? a : b, hi = a < b ? b : a;
    for (size_t i = lo + 1; i < hi; i++)
        line[i] = '-';
    char head = r->fate == SQ_DROPPED ? 'x' : r->fate == SQ_IN_FLIGHT ? '?' : a < b ? '>' : '<';
    line[a < b ? hi - 1 : lo + 1] = head;
    size_t room = hi - lo - 1;
    if (room > 5)
        put(line, cap, a < b ? lo + 3 : lo + 4, r->text, room - 5);
}

static void draw_row(const struct sq *s, const struct sq_row *r, char *line, size_t cap)
{
    size_t end = SQ_TIME_COLS + (s->nlanes ? (s->nlanes - 1) * s->width : 0) + 3;
    char tail[SQ_TAIL];
    tail[0] = '\0';
    if (r->kind == SQ_WORLD) {
        snprintf(tail, sizeof tail, "== %s", r->text);
    } else if (r->kind == SQ_NOTE) {
        size_t p = lane_pos(s, r->from);
        line[p] = '*';
        put(line, cap, p + 2, r->text, cap);
    } else if (r->from == r->to) {
        put(line, cap, lane_pos(s, r->from) + 2, r->text, s->width - 3);
        snprintf(tail, sizeof tail, "(to itself)");
    } else {
        draw_arrow(s, r, line, cap);
        if (r->fate == SQ_DELIVERED)
            snprintf(tail, sizeof tail, "recv %.6fs", (double)r->arrived / 1e9);
        else if (r->fate == SQ_DROPPED)
            snprintf(tail, sizeof tail, "dropped %.6fs", (double)r->arrived / 1e9);
        else
            snprintf(tail, sizeof tail, "in flight at the end");
    }
    size_t used = strlen(line);
    while (used && line[used - 1] == ' ')
        used--;
    put(line, cap, used + 2 > end ? used + 2 : end, tail, SQ_TAIL);
}

static void draw_header(const struct sq *s, FILE *out, char *line, size_t cap)
{
    size_t count = trace_walk_node_count(s->w);
    for (int row = 0; row < 2; row++) {
        memset(line, ' ', cap - 1);
        line[cap - 1] = '\0';
        put(line, cap, 0, row ? "" : "        time", SQ_TIME_COLS);
        for (size_t i = 0; i < count; i++) {
            if (s->lane[i] < 0)
                continue;
            const char *text = row ? (i < s->nnames && s->names[i] ? s->names[i] : "")
                                   : trace_walk_node_id(s->w, i);
            put(line, cap, lane_pos(s, (uint32_t)i), text, s->width - 1);
        }
        end_line(out, line);
    }
}

static int draw(struct sq *s, FILE *out)
{
    if (assign_lanes(s) != 0)
        return -1;
    size_t cap = SQ_TIME_COLS + s->nlanes * s->width + SQ_TAIL + 8;
    char *line = malloc(cap);
    if (!line)
        return -1;
    draw_header(s, out, line, cap);
    for (size_t i = 0; i < s->nrows; i++) {
        begin_line(s, line, cap, s->rows[i].t);
        draw_row(s, &s->rows[i], line, cap);
        end_line(out, line);
    }
    for (size_t i = 0; i < s->nrows; i++) {
        s->dropped += s->rows[i].kind == SQ_MSG && s->rows[i].fate == SQ_DROPPED;
        s->in_flight += s->rows[i].kind == SQ_MSG && s->rows[i].fate == SQ_IN_FLIGHT;
    }
    fprintf(out, "-- %zu messages (%zu dropped, %zu in flight at the end) between %zu nodes\n",
            s->messages, s->dropped, s->in_flight, s->nlanes);
    free(line);
    return 0;
}

/* True (with the reason) when the chart would exceed SEQUENCE_OUTPUT_MAX. */
static bool too_big(struct sq *s, char *err, size_t err_size)
{
    if (assign_lanes(s) != 0)
        return false; /* draw reports it */
    double bytes = (double)s->nrows * (double)(SQ_TIME_COLS + s->nlanes * s->width + SQ_TAIL);
    size_t max = s->opt->max_bytes ? s->opt->max_bytes : SEQUENCE_OUTPUT_MAX;
    if (bytes <= (double)max)
        return false;
    snprintf(err, err_size,
             "the chart would take about %.1f MB (%zu rows across %zu nodes; at most %.1f MB): narrow it with "
             "--node, --from, --to",
             bytes / 1e6, s->nrows, s->nlanes, (double)max / 1e6);
    return true;
}

int sequence_print(const char *trace_path, FILE *out, const struct sequence_options *opt, char *err,
                   size_t err_size)
{
    struct sq s = {.opt = opt, .limit = opt->limit ? opt->limit : SEQUENCE_DEFAULT_LIMIT};
    s.w = trace_walk_open(trace_path, err, err_size);
    if (!s.w)
        return -1;
    int rc = read_rows(&s, err, err_size);
    if (rc == 0 && too_big(&s, err, err_size))
        rc = -2;
    if (rc == 0 && draw(&s, out) != 0) {
        snprintf(err, err_size, "out of memory");
        rc = -1;
    }
    trace_walk_close(s.w);
    free(s.rows);
    free(s.names);
    free(s.lane);
    return rc;
}
