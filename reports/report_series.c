/*
 * reports/report_series.c: the lines and y axis of the size plots (see
 * report_series.h for why identical series merge and coinciding ones are
 * moved apart).
 */
#include "report_series.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static long value(const struct rep_sample *s, enum rep_size size)
{
    return size == REP_SIZE_MEMBERS ? s->members : s->registry;
}

long rep_tick_step(long top)
{
    static const long mult[] = {1, 2, 5};
    for (long base = 1;; base *= 10) {
        for (size_t i = 0; i < 3; i++)
            if (top <= 8 * base * mult[i])
                return base * mult[i];
        if (base > LONG_MAX / 100)
            return base * 10;
    }
}

static bool identical(const struct rep_node *a, const struct rep_node *b, enum rep_size size)
{
    if (a->sample_count != b->sample_count)
        return false;
    for (size_t s = 0; s < a->sample_count; s++)
        if (a->samples[s].t != b->samples[s].t || value(&a->samples[s], size) != value(&b->samples[s], size))
            return false;
    return true;
}

/* A step line is drawn at samples[i]'s value from its time to the next
 * sample's; the last sample only ends the line. */
bool rep_series_coincide(const struct rep_node *a, const struct rep_node *b, enum rep_size size)
{
    size_t i = 0, k = 0;
    while (i + 1 < a->sample_count && k + 1 < b->sample_count) {
        cs_time from = a->samples[i].t > b->samples[k].t ? a->samples[i].t : b->samples[k].t;
        cs_time to = a->samples[i + 1].t < b->samples[k + 1].t ? a->samples[i + 1].t : b->samples[k + 1].t;
        if (to > from && value(&a->samples[i], size) == value(&b->samples[k], size))
            return true;
        if (a->samples[i + 1].t < b->samples[k + 1].t)
            i++;
        else
            k++;
    }
    return false;
}

/* Adds node `n`'s id to a line's key, breaking it every few ids. */
static void label_add(struct rep_series_line *line, const char *id)
{
    size_t len = strlen(line->label);
    const char *last = strrchr(line->label, '\n');
    size_t row = last ? len - (size_t)(last - line->label) - 1 : len;
    snprintf(line->label + len, sizeof line->label - len, "%s%s", !len ? "" : row >= 16 ? ",\n" : ", ", id);
    line->nodes++;
}

static void group(const struct rep_model *m, enum rep_size size, struct rep_series_plan *out)
{
    for (size_t n = 0; n < m->node_count && n < REP_SERIES_MAX; n++) {
        size_t l = 0;
        while (l < out->count && !identical(&m->nodes[out->lines[l].node], &m->nodes[n], size))
            l++;
        if (l == out->count)
            out->lines[out->count++] = (struct rep_series_line){.node = n};
        label_add(&out->lines[l], m->nodes[n].id);
    }
}

static bool any_coincide(const struct rep_model *m, enum rep_size size, const struct rep_series_plan *p)
{
    for (size_t a = 0; a < p->count; a++)
        for (size_t b = a + 1; b < p->count; b++)
            if (rep_series_coincide(&m->nodes[p->lines[a].node], &m->nodes[p->lines[b].node], size))
                return true;
    return false;
}

void rep_series_plan(const struct rep_model *m, enum rep_size size, struct rep_series_plan *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < m->node_count; i++)
        for (size_t s = 0; s < m->nodes[i].sample_count; s++)
            out->top = value(&m->nodes[i].samples[s], size) > out->top ? value(&m->nodes[i].samples[s], size)
                                                                        : out->top;
    long room = out->top + out->top / 10 + 1; /* a little space above the highest line */
    out->tick = rep_tick_step(room);
    out->y_max = (room + out->tick - 1) / out->tick * out->tick;
    double px = (double)out->y_max / REP_PLOT_AREA_PX; /* y units per pixel */
    group(m, size, out);
    out->dodged = out->count > 1 && any_coincide(m, size, out);
    double step = 0;
    if (out->dodged) { /* a few pixels apart, but never near half a tick */
        step = REP_DODGE_PX * px;
        if (step * (double)(out->count - 1) > 0.4)
            step = 0.4 / (double)(out->count - 1);
    }
    for (size_t l = 0; l < out->count; l++)
        out->lines[l].offset = ((double)(out->count - 1) / 2 - (double)l) * step;
    /* Lines at 0 drawn above the axis, not on it. */
    out->y_min = -((double)(out->count ? out->count - 1 : 0) / 2 * step + 4 * px);
}
