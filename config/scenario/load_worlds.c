/*
 * config/scenario/load_worlds.c: the `worlds` key (sim, real) and what a
 * scenario that asks for the real world may contain.  The real world
 * (real/, `clustersim run --real`) runs clusterd processes in network
 * namespaces, dnsmasq and the kernel's own fault tools; what it cannot
 * perform is refused here at the file position that asks for it, with the
 * reason, so that a scenario marked for both worlds runs unchanged in both.
 */
#include <string.h>

#include "load_util.h"

bool ld_world_list(struct sc_load *ld, const yaml_node_t *n, unsigned *worlds)
{
    static const char *const names[] = {"sim", "real", NULL};
    *worlds = 0;
    if (n->type == YAML_SCALAR_NODE) {
        int w = yr_enum(&ld->rd, n, "a world", names);
        if (w < 0)
            return false;
        *worlds = 1u << w;
        return true;
    }
    if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top == n->data.sequence.items.start) {
        yr_error(&ld->rd, n, "expected a list of worlds: [sim], [real] or [sim, real]");
        return false;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        int w = yr_enum(&ld->rd, yr_node(&ld->rd, *it), "a world", names);
        if (w < 0)
            return false;
        *worlds |= 1u << w;
    }
    return true;
}

bool ld_worlds(struct sc_load *ld, const yaml_node_t *n)
{
    unsigned worlds;
    ld->sc->worlds_pos = ld_pos(n);
    if (!ld_world_list(ld, n, &worlds))
        return false;
    ld->sc->worlds = worlds;
    return true;
}

/* The reason the real world cannot perform an action, or NULL. */
static const char *action_refusal(const struct sc_action *a)
{
    switch (a->kind) {
    case SC_ACT_CLOG:
        return "the real world cannot hold a link's messages and release them later (a clog): use a "
               "partition or network latency";
    case SC_ACT_CLOCK_JUMP:
    case SC_ACT_CLOCK_RATE:
        return "the real world cannot change a running daemon's clock";
    case SC_ACT_ADVERSARY:
        return "the real world has no adversary node (scripts/check-hostile.sh attacks real daemons)";
    case SC_ACT_DNS_FAIL:
        if (a->fail_mode != CS_DNS_TIMEOUT && a->fail_mode != CS_DNS_SERVFAIL)
            return "the real world's DNS outages are `timeout` (queries dropped) or `servfail` (the server "
                   "gone: queries refused)";
        return NULL;
    default:
        return NULL;
    }
}

static const char *expect_refusal(const struct sc_expect *e)
{
    switch (e->kind) {
    case SC_EXP_NO_LOSS:
    case SC_EXP_PLACEMENT:
    case SC_EXP_LOSERS_KILLED:
        return "the real world reads each daemon's registry digest, not every entry: no_loss, placement "
               "and losers_killed are judged in the simulator only";
    default:
        return NULL;
    }
}

static bool dist_refused(struct sc_load *ld, const struct sim_dist *d, const char *what)
{
    if (d->kind != SIM_DIST_EXP)
        return false;
    yr_error_at(&ld->rd, ld->sc->worlds_pos.line, ld->sc->worlds_pos.col,
                "worlds: real: %s is exponential, which tc netem cannot draw (use fixed or uniform)", what);
    return true;
}

static bool settings_refused(struct sc_load *ld)
{
    const struct scenario *sc = ld->sc;
    const struct sc_pos *w = &sc->worlds_pos;
    if (sc->cluster.protocol != SC_PROTO_CLUSTER) {
        yr_error_at(&ld->rd, w->line, w->col, "worlds: real: clusterd runs protocol `cluster`; this "
                    "scenario runs `ping`");
        return true;
    }
    if (sc->cluster.naming != SC_NAMING_IP) {
        yr_error_at(&ld->rd, w->line, w->col, "worlds: real: nodes are named by address (basename@ip); "
                    "hostname naming is simulated only");
        return true;
    }
    if (sc->cluster.node_count > SC_REAL_MAX_NODES) {
        yr_error_at(&ld->rd, w->line, w->col, "worlds: real: at most %d nodes (a namespace and a daemon "
                    "each), found %zu", SC_REAL_MAX_NODES, sc->cluster.node_count);
        return true;
    }
    for (size_t i = 0; i < sc->cluster.node_count; i++) {
        const struct sc_node *n = &sc->cluster.nodes[i];
        if (n->drift_ppm != 0 || n->clock_offset != 0) {
            yr_error_at(&ld->rd, n->pos.line, n->pos.col, "worlds: real: node %s has a clock error; the "
                        "real world runs every daemon on the host's clock", n->id);
            return true;
        }
        if (n->addr.family == 6) {
            yr_error_at(&ld->rd, n->pos.line, n->pos.col, "worlds: real: node %s has an IPv6 address; the "
                        "real world's bridge is IPv4", n->id);
            return true;
        }
    }
    if (sc->net.dgram_loss > 0 || sc->net.dgram_duplicate > 0 || sc->net.dgram_reorder > 0) {
        yr_error_at(&ld->rd, w->line, w->col, "worlds: real: datagram loss, duplication and reordering "
                    "are simulated only (tc netem would apply them to the links too)");
        return true;
    }
    if (sc->entropy_len) {
        yr_error_at(&ld->rd, w->line, w->col, "worlds: real: recorded entropy replays a simulated run only");
        return true;
    }
    return dist_refused(ld, &sc->net.latency, "network.latency") ||
           dist_refused(ld, &sc->dns.ready_delay, "dns.service.ready_delay") ||
           dist_refused(ld, &sc->dns.removal_delay, "dns.service.removal_delay") ||
           dist_refused(ld, &sc->dns.propagation, "dns.propagation");
}

bool ld_check_worlds(struct sc_load *ld)
{
    const struct scenario *sc = ld->sc;
    for (size_t i = 0; i < sc->expect_count; i++)
        if (sc->expects[i].worlds & ~sc->worlds) {
            yr_error_at(&ld->rd, sc->expects[i].worlds_pos.line, sc->expects[i].worlds_pos.col,
                        "this expectation's worlds are not all among the scenario's `worlds` (default [sim])");
            return false;
        }
    if (!(sc->worlds & SC_WORLD_REAL))
        return true;
    if (settings_refused(ld))
        return false;
    for (size_t i = 0; i < sc->action_count; i++) {
        const struct sc_action *a = &sc->actions[i];
        const char *why = action_refusal(a);
        if (why) {
            yr_error_at(&ld->rd, a->pos.line, a->pos.col, "%s: not in the real world (the scenario asks "
                        "for it in `worlds`): %s", sc_action_name(a->kind), why);
            return false;
        }
    }
    for (size_t i = 0; i < sc->expect_count; i++) {
        const char *why = sc_expect_in_world(&sc->expects[i], SC_WORLD_REAL) ? expect_refusal(&sc->expects[i]) : NULL;
        if (why) {
            yr_error_at(&ld->rd, sc->expects[i].pos.line, sc->expects[i].pos.col,
                        "not in the real world (the scenario asks for it in `worlds`; an expectation may say "
                        "`worlds: [sim]`): %s", why);
            return false;
        }
    }
    return true;
}
