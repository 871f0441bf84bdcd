/*
 * sim/registry_diff.c: a name -> per-node owner table built from every
 * live node's registry listing, then the rows whose owners are not all
 * equal (a node without the name counts as "-").
 */
#include "registry_diff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/grow.h"
#include "../core/strmap.h"

#define MAX_DISTINCT 200000

struct diff_row {
    char *name;
    char **owners; /* per live node (index into live[]), NULL: absent */
};

struct diff_table {
    struct cs_strmap index;
    struct diff_row *rows;
    size_t count, cap, live_count, current;
    bool failed;
};

static void take_entry(void *ctx, const char *name, const char *owner, bool started, const char *ring)
{
    (void)started, (void)ring;
    struct diff_table *d = ctx;
    if (d->failed)
        return;
    int32_t i = cs_strmap_get(&d->index, name);
    if (i < 0) {
        if (d->count == MAX_DISTINCT ||
            cs_grow((void **)&d->rows, &d->cap, d->count + 1, sizeof *d->rows) != 0) {
            d->failed = true;
            return;
        }
        struct diff_row *r = &d->rows[d->count];
        r->name = strdup(name);
        r->owners = calloc(d->live_count, sizeof *r->owners);
        if (!r->name || !r->owners || cs_strmap_put(&d->index, name, (int32_t)d->count) != 0) {
            free(r->name);
            free(r->owners);
            d->failed = true;
            return;
        }
        i = (int32_t)d->count++;
    }
    char **slot = &d->rows[i].owners[d->current];
    free(*slot);
    *slot = strdup(owner ? owner : "?");
}

static bool row_differs(const struct diff_row *r, size_t live_count)
{
    for (size_t k = 1; k < live_count; k++) {
        const char *a = r->owners[0], *b = r->owners[k];
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            return true;
    }
    return false;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct diff_row *)a)->name, ((const struct diff_row *)b)->name);
}

/* Appends the differing rows as text. */
static char *format(struct diff_table *d, struct sim_world *w, const uint32_t *live, size_t max_names)
{
    qsort(d->rows, d->count, sizeof *d->rows, by_name);
    size_t cap = 256 + (max_names + 1) * (64 + d->live_count * 48), len = 0, shown = 0, differing = 0;
    char *text = malloc(cap);
    if (!text)
        return NULL;
    text[0] = '\0';
    for (size_t r = 0; r < d->count; r++) {
        if (!row_differs(&d->rows[r], d->live_count))
            continue;
        if (differing++ >= max_names)
            continue;
        shown++;
        len += (size_t)snprintf(text + len, cap - len, "  %.64s:", d->rows[r].name);
        for (size_t k = 0; k < d->live_count && len < cap; k++)
            len += (size_t)snprintf(text + len, cap - len, "%s %s %.40s", k ? "," : "", w->nodes[live[k]].id,
                                    d->rows[r].owners[k] ? d->rows[r].owners[k] : "-");
        if (len < cap)
            len += (size_t)snprintf(text + len, cap - len, "\n");
    }
    if (differing > shown && len < cap)
        snprintf(text + len, cap - len, "  ... and %zu more names\n", differing - shown);
    if (!differing) {
        free(text);
        return NULL;
    }
    return text;
}

char *sim_registry_diff(struct sim_world *w, size_t max_names)
{
    if (!w->proto->registry_each)
        return NULL;
    uint32_t *live = calloc(w->node_count ? w->node_count : 1, sizeof *live);
    struct diff_table d = {0};
    cs_strmap_init(&d.index);
    if (!live)
        return NULL;
    for (size_t i = 0; i < w->node_count; i++)
        if (w->nodes[i].state == SIM_NODE_UP && w->nodes[i].instance)
            live[d.live_count++] = (uint32_t)i;
    for (d.current = 0; d.current < d.live_count && !d.failed; d.current++)
        w->proto->registry_each(w->nodes[live[d.current]].instance, false, take_entry, &d);
    char *text = NULL;
    if (d.failed && d.count == MAX_DISTINCT)
        text = strdup("  (more than 200,000 distinct names: not compared name by name)\n");
    else if (!d.failed && d.live_count > 1)
        text = format(&d, w, live, max_names);
    for (size_t r = 0; r < d.count; r++) {
        for (size_t k = 0; k < d.live_count; k++)
            free(d.rows[r].owners[k]);
        free(d.rows[r].owners);
        free(d.rows[r].name);
    }
    free(d.rows);
    cs_strmap_free(&d.index);
    free(live);
    return text;
}
