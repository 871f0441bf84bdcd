/*
 * sim/sampler.c: the report sampler.  Every `sample_every` of virtual time
 * it writes, for each live node, {"kind":"sample","members":N,"registry":M}
 * straight to the trace file (docs/trace-format.md), bypassing the hashed
 * trace, so asking for a report never changes what it reports on.
 */
#include "sampler.h"

#include "check.h"

#include <stdio.h>

static int schedule_at(struct sim_world *w, cs_time at)
{
    struct sim_event ev = {.time = at, .kind = SEV_SAMPLE, .node = UINT32_MAX, .src = UINT32_MAX};
    return sim_schedule(w, &ev) < 0 ? -1 : 0;
}

int sim_sampler_schedule(struct sim_world *w)
{
    if (w->opt.sample_every <= 0 || !w->opt.trace_file)
        return 0;
    return schedule_at(w, 0);
}

void sim_sampler_handle(struct sim_world *w, const struct sim_event *ev)
{
    (void)ev;
    FILE *f = w->opt.trace_file;
    for (size_t i = 0; i < w->node_count; i++) {
        struct sim_node *n = &w->nodes[i];
        if (!sim_node_alive(n) || !n->instance)
            continue;
        fprintf(f, "{\"t\":%lld,\"node\":\"%s\",\"kind\":\"sample\",\"members\":%zu", (long long)w->now,
                n->id, sim_check_view_size(w, n));
        if (w->proto->registry_digest) {
            size_t count = 0;
            uint64_t sum = 0;
            w->proto->registry_digest(n->instance, &count, &sum);
            fprintf(f, ",\"registry\":%zu", count);
        }
        fputs("}\n", f);
    }
    cs_time next = w->now + w->opt.sample_every;
    if (next <= w->sc->limits.duration)
        schedule_at(w, next);
}
