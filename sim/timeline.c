/*
 * sim/timeline.c: the scenario timeline.  An action's event carries its
 * index in `id`; the heal of a timed partition is queued with `aux` = 1 as a
 * second occurrence of the same action, with the sides it cut as payload
 * (timed clogs and outages carry their own end time).
 */
#include "timeline.h"

#include "adversary.h"
#include "invariants.h"

#include <stdlib.h>
#include <string.h>

enum { PHASE_APPLY = 0, PHASE_HEAL = 1 };

static int schedule_action(struct sim_world *w, size_t index, cs_time at, uint32_t phase)
{
    struct sim_event ev = {.time = at, .kind = SEV_ACTION, .node = UINT32_MAX, .src = UINT32_MAX,
                           .id = (uint32_t)index, .aux = phase};
    if (phase == PHASE_APPLY)
        w->actions_pending++;
    return sim_schedule(w, &ev) < 0 ? -1 : 0;
}

int sim_timeline_schedule(struct sim_world *w)
{
    for (size_t i = 0; i < w->sc->action_count; i++)
        if (schedule_action(w, i, w->sc->actions[i].at, PHASE_APPLY) != 0)
            return -1;
    return 0;
}

/* Whether an action of this kind can apply to the node now. */
static bool applicable(const struct sim_world *w, enum sc_action_kind kind, uint32_t node)
{
    const struct sim_node *n = &w->nodes[node];
    switch (kind) {
    case SC_ACT_START:
        return !sim_node_alive(n);
    case SC_ACT_KILL:
    case SC_ACT_STOP:
    case SC_ACT_RESTART:
    case SC_ACT_COMMAND:
        return n->state == SIM_NODE_UP;
    default:
        return true;
    }
}

/* Resolves a node set into `out` (room for node_count); returns the count. */
static size_t resolve_set(struct sim_world *w, const struct sc_nodeset *set,
                          enum sc_action_kind kind, uint32_t *out)
{
    size_t n = 0;
    if (set->all || set->random_count) {
        for (size_t i = 0; i < w->node_count; i++)
            if (set->all ? true : applicable(w, kind, (uint32_t)i))
                out[n++] = (uint32_t)i;
    } else {
        for (size_t i = 0; i < set->count; i++)
            out[n++] = set->idx[i];
    }
    if (set->random_count && n > set->random_count) {
        /* Partial Fisher-Yates from the schedule stream. */
        for (size_t i = 0; i < set->random_count; i++) {
            size_t j = i + pcg32_below(&w->rng_schedule, (uint32_t)(n - i));
            uint32_t t = out[i];
            out[i] = out[j];
            out[j] = t;
        }
        n = set->random_count;
    }
    return n;
}

/* The complement of `a` among all nodes. */
static size_t complement(const struct sim_world *w, const uint32_t *a, size_t na, uint32_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < w->node_count; i++) {
        bool in = false;
        for (size_t j = 0; j < na && !in; j++)
            in = a[j] == i;
        if (!in)
            out[n++] = (uint32_t)i;
    }
    return n;
}

/* The action record; timed faults (partition, clog, DNS outage) carry the
 * virtual time they end at as `until`. */
static void trace_set(struct sim_world *w, const struct sc_action *a, const uint32_t *set, size_t n,
                      const uint32_t *peers, size_t np)
{
    if (!w->trace.on)
        return;
    char buf[1024];
    size_t len = 0;
    for (size_t i = 0; i < n && len + 40 < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\"%s\"", i ? "," : "",
                                w->nodes[set[i]].id);
    char pbuf[1024];
    size_t plen = 0;
    pbuf[0] = '\0';
    for (size_t i = 0; i < np && plen + 40 < sizeof pbuf; i++)
        plen += (size_t)snprintf(pbuf + plen, sizeof pbuf - plen, "%s\"%s\"", i ? "," : "",
                                 w->nodes[peers[i]].id);
    buf[len] = '\0';
    bool timed = a->duration > 0 && (a->kind == SC_ACT_PARTITION || a->kind == SC_ACT_CLOG ||
                                     a->kind == SC_ACT_DNS_FAIL);
    char until[40] = "";
    if (timed)
        snprintf(until, sizeof until, ",\"until\":%lld", (long long)(w->now + a->duration));
    sim_trace_event(&w->trace, w->now, NULL, "action", "\"action\":\"%s\",\"nodes\":[%s],\"peers\":[%s]%s",
                    sc_action_name(a->kind), buf, pbuf, until);
}

/* Queues the heal of a timed partition; it removes this cut only. */
static void schedule_heal(struct sim_world *w, size_t index, const uint32_t *a, size_t na,
                          const uint32_t *b, size_t nb)
{
    size_t len = (2 + na + nb) * sizeof(uint32_t);
    uint32_t *sides = malloc(len);
    if (!sides)
        return;
    sides[0] = (uint32_t)na;
    sides[1] = (uint32_t)nb;
    memcpy(sides + 2, a, na * sizeof *a);
    memcpy(sides + 2 + na, b, nb * sizeof *b);
    struct sim_event ev = {.time = w->now + w->sc->actions[index].duration, .kind = SEV_ACTION,
                           .node = UINT32_MAX, .src = UINT32_MAX, .id = (uint32_t)index,
                           .aux = PHASE_HEAL, .payload = sides, .len = len};
    if (sim_schedule(w, &ev) < 0)
        free(sides);
}

/* Copies `text` replacing every "{n}" with the occurrence number. */
static void expand(const char *text, uint64_t n, char *out, size_t size)
{
    size_t len = 0;
    for (const char *p = text; *p && len + 1 < size; p++) {
        if (p[0] == '{' && p[1] == 'n' && p[2] == '}') {
            char digits[20];
            size_t d = 0;
            uint64_t v = n;
            do
                digits[d++] = (char)('0' + v % 10);
            while ((v /= 10) > 0);
            while (d > 0 && len + 1 < size)
                out[len++] = digits[--d];
            p += 2;
        } else {
            out[len++] = *p;
        }
    }
    out[len < size ? len : size - 1] = '\0';
}

static void run_command(struct sim_world *w, const struct sc_action *a, uint32_t node)
{
    /* In a repeated command, "{n}" counts the occurrences from 0, so one
     * timeline entry can register thousands of distinct names. */
    uint64_t n = a->every > 0 ? (uint64_t)((w->now - a->at) / a->every) : 0;
    char name[sizeof a->name], arg[sizeof a->arg];
    expand(a->name, n, name, sizeof name);
    expand(a->arg, n, arg, sizeof arg);
    struct cs_command cmd = {.op = a->op, .name = name[0] ? name : NULL,
                             .arg = arg[0] ? arg : NULL, .value = a->value};
    if (w->trace.on) {
        const struct cs_field fields[] = {CS_FSTR("op", a->op), CS_FSTR("name", name)};
        char body[SIM_TRACE_LINE_MAX];
        sim_trace_encode_fields(fields, 2, body, sizeof body);
        sim_trace_event(&w->trace, w->now, w->nodes[node].id, "command", "%s", body);
    }
    struct cs_event ce = {.type = CS_EV_COMMAND};
    ce.u.command.cmd = &cmd;
    if (w->nodes[node].instance)
        sim_note_command(w, node, a->op, name);
    sim_deliver(w, node, w->nodes[node].incarnation, &ce);
}

static void dns_change(struct sim_world *w, const struct sc_action *a, bool add)
{
    if (add)
        sim_dns_add(w, a->dns.name, &a->dns.rec);
    else
        sim_dns_remove(w, a->dns.name, &a->dns.rec);
}

static void apply(struct sim_world *w, size_t index, uint32_t *set, uint32_t *peers)
{
    const struct sc_action *a = &w->sc->actions[index];
    size_t n = resolve_set(w, &a->nodes, a->kind, set);
    size_t np = 0;
    if (a->kind == SC_ACT_PARTITION || a->kind == SC_ACT_CLOG) {
        np = a->peers.count || a->peers.all || a->peers.random_count
                 ? resolve_set(w, &a->peers, a->kind, peers)
                 : complement(w, set, n, peers);
    }
    trace_set(w, a, set, n, peers, np);
    for (size_t i = 0; i < n; i++) {
        uint32_t node = set[i];
        switch (a->kind) {
        case SC_ACT_START:
            if (a->has_boot)
                sim_node_boot(w, node, sim_dist_sample(&a->boot, &w->rng_schedule));
            else
                sim_node_start(w, node);
            break;
        case SC_ACT_KILL: sim_node_kill(w, node); break;
        case SC_ACT_STOP: sim_node_stop(w, node, a->grace); break;
        case SC_ACT_RESTART:
            sim_node_restart(w, node,
                             a->downtime + (a->has_boot ? sim_dist_sample(&a->boot, &w->rng_schedule) : 0),
                             a->new_address, a->crash, a->grace);
            break;
        case SC_ACT_CLOCK_JUMP: sim_node_clock_jump(w, node, a->jump); break;
        case SC_ACT_CLOCK_RATE: sim_node_clock_rate(w, node, a->rate_ppm); break;
        case SC_ACT_COMMAND: run_command(w, a, node); break;
        case SC_ACT_ADVERSARY: sim_adversary_attack(w, a, node); break;
        case SC_ACT_CLOG:
            for (size_t j = 0; j < np; j++) {
                cs_time until = a->duration > 0 ? w->now + a->duration : CS_TIME_NEVER;
                sim_net_clog(w, node, peers[j], until);
                if (!a->oneway)
                    sim_net_clog(w, peers[j], node, until);
            }
            break;
        default: break;
        }
    }
    switch (a->kind) {
    case SC_ACT_PARTITION:
        sim_net_partition(w, set, n, peers, np, a->oneway);
        if (a->duration > 0)
            schedule_heal(w, index, set, n, peers, np);
        break;
    case SC_ACT_HEAL: sim_net_heal(w); break;
    case SC_ACT_DNS_ADD: dns_change(w, a, true); break;
    case SC_ACT_DNS_REMOVE: dns_change(w, a, false); break;
    case SC_ACT_DNS_FAIL: sim_dns_outage(w, a->fail_mode, a->duration); break;
    default: break;
    }
}

void sim_timeline_handle(struct sim_world *w, const struct sim_event *ev)
{
    const struct sc_action *a = &w->sc->actions[ev->id];
    if (ev->aux == PHASE_HEAL) {
        const uint32_t *sides = ev->payload;
        sim_trace_event(&w->trace, w->now, NULL, "action", "\"action\":\"heal\",\"after\":\"%s\"",
                        sc_action_name(a->kind));
        sim_net_unpartition(w, sides + 2, sides[0], sides + 2 + sides[0], sides[1], a->oneway);
        return;
    }
    w->actions_pending--;
    uint32_t *set = malloc(2 * (w->node_count + 1) * sizeof *set);
    if (!set)
        return;
    apply(w, ev->id, set, set + w->node_count + 1);
    free(set);
    if (a->every > 0) {
        cs_time next = w->now + a->every;
        cs_time until = a->until > 0 ? a->until : w->sc->limits.duration;
        if (next <= until)
            schedule_action(w, ev->id, next, PHASE_APPLY);
    }
}
