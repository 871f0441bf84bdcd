/*
 * config/scenario/load_timeline.c: the `timeline` section of a scenario
 * file.  Each timeline entry has `at` (and optionally `every` and `until`)
 * plus exactly one action key.
 */
#include "load_util.h"
#include "../nearest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const action_keys[] = {
    "start", "kill", "stop", "restart", "partition", "heal", "clog", "dns_add", "dns_remove",
    "dns_fail", "clock_jump", "clock_rate", "command", "register", "register_started",
    "unregister", "whereis", "send", "call", "join", "leave", "members", "publish", "multi_call",
    "adversary", NULL,
};

/* One declared node, given by its id (a set of exactly one). */
static bool ld_one_node(struct sc_load *ld, const yaml_node_t *n, const char *what, uint32_t *out)
{
    struct sc_nodeset set = {0};
    if (!ld_nodeset(ld, n, &set))
        return false;
    bool one = !set.all && !set.random_count && set.count == 1;
    if (one)
        *out = set.idx[0];
    else
        yr_error(&ld->rd, n, "expected one node id for %s", what);
    free(set.idx);
    return one;
}

/* adversary: {from, nodes, claim, attack, connections} (sim/adversary.h). */
static bool ld_adversary(struct sc_load *ld, const yaml_node_t *v, struct sc_action *a)
{
    static const char *const keys[] = {"from", "nodes", "claim", "attack", "connections", NULL};
    static const char *const attacks[] = {"wrong_proof", "replayed_proof", "hello_flood", "abandon",
                                          "oversized", "loop", NULL};
    if (!yr_check_map(&ld->rd, v, "adversary", keys))
        return false;
    yaml_node_t *from = yr_get(&ld->rd, v, "from"), *nodes = yr_get(&ld->rd, v, "nodes"), *x;
    if (!from || !nodes) {
        yr_error(&ld->rd, v, "expected 'from' (the node the attacker connects from) and 'nodes' (its targets) "
                        "in adversary");
        return false;
    }
    struct sc_adversary *adv = &a->adv;
    adv->claim_node = -1;
    adv->connections = 1;
    if (!ld_one_node(ld, from, "from", &adv->host) || !ld_nodeset(ld, nodes, &a->nodes))
        return false;
    if ((x = yr_get(&ld->rd, v, "claim"))) {
        const char *s = yr_scalar(&ld->rd, x, "a node id or a node name (basename@host)");
        if (!s)
            return false;
        uint32_t node;
        if (strchr(s, '@')) {
            if (!yr_string(&ld->rd, x, adv->claim_name, sizeof adv->claim_name))
                return false;
        } else if (ld_one_node(ld, x, "claim", &node)) {
            adv->claim_node = (int32_t)node;
        } else {
            return false;
        }
    }
    if ((x = yr_get(&ld->rd, v, "attack"))) {
        int k = yr_enum(&ld->rd, x, "an attack", attacks);
        if (k < 0)
            return false;
        adv->attack = (enum sc_attack)k;
    }
    uint64_t count;
    if ((x = yr_get(&ld->rd, v, "connections"))) {
        if (!yr_uint(&ld->rd, x, 64, &count))
            return false;
        if (count == 0) {
            yr_error(&ld->rd, x, "expected 1 to 64 connections");
            return false;
        }
        adv->connections = (uint32_t)count;
    }
    return true;
}

/* `key: nodeset` or `key: {nodes: set, ...}`; returns the map (or NULL when
 * the short form was used). */
static bool ld_subject(struct sc_load *ld, const yaml_node_t *v, const char *section,
                       const char *const *keys, struct sc_action *a, const yaml_node_t **map)
{
    *map = NULL;
    if (v->type != YAML_MAPPING_NODE || yr_get(&ld->rd, v, "random"))
        return ld_nodeset(ld, v, &a->nodes);
    if (!yr_check_map(&ld->rd, v, section, keys))
        return false;
    *map = v;
    yaml_node_t *nodes = yr_get(&ld->rd, v, "nodes");
    if (!nodes) {
        yr_error(&ld->rd, v, "expected 'nodes' in %s", section);
        return false;
    }
    return ld_nodeset(ld, nodes, &a->nodes);
}

static bool opt_duration(struct sc_load *ld, const yaml_node_t *map, const char *key, bool neg,
                         cs_time *out)
{
    yaml_node_t *v = map ? yr_get(&ld->rd, map, key) : NULL;
    return !v || yr_duration(&ld->rd, v, neg, out);
}

static bool ld_lifecycle(struct sc_load *ld, const yaml_node_t *v, struct sc_action *a)
{
    static const char *const stop_keys[] = {"nodes", "grace", NULL};
    static const char *const restart_keys[] = {"nodes", "downtime", "address", "how", "grace", "boot", NULL};
    static const char *const start_keys[] = {"nodes", "boot", NULL};
    static const char *const plain_keys[] = {"nodes", NULL};
    const yaml_node_t *map;
    const char *const *keys = a->kind == SC_ACT_STOP      ? stop_keys
                              : a->kind == SC_ACT_RESTART ? restart_keys
                              : a->kind == SC_ACT_START   ? start_keys
                                                          : plain_keys;
    if (!ld_subject(ld, v, sc_action_name(a->kind), keys, a, &map))
        return false;
    a->grace = CS_SEC(30); /* Kubernetes' default terminationGracePeriodSeconds */
    a->downtime = CS_SEC(1);
    if (!opt_duration(ld, map, "grace", false, &a->grace) ||
        !opt_duration(ld, map, "downtime", false, &a->downtime))
        return false;
    yaml_node_t *x;
    if (map && (x = yr_get(&ld->rd, map, "boot"))) {
        if (!ld_dist(ld, x, &a->boot))
            return false;
        a->has_boot = true;
    }
    static const char *const addr_modes[] = {"keep", "new", NULL};
    static const char *const how[] = {"stop", "crash", NULL};
    int m;
    if (map && (x = yr_get(&ld->rd, map, "address"))) {
        if ((m = yr_enum(&ld->rd, x, "an address mode", addr_modes)) < 0)
            return false;
        a->new_address = m == 1;
    }
    if (map && (x = yr_get(&ld->rd, map, "how"))) {
        if ((m = yr_enum(&ld->rd, x, "a way to stop", how)) < 0)
            return false;
        a->crash = m == 1;
    }
    return true;
}

static bool ld_cut(struct sc_load *ld, const yaml_node_t *v, struct sc_action *a)
{
    static const char *const part_keys[] = {"nodes", "from", "to", "oneway", "for", NULL};
    const char *section = sc_action_name(a->kind);
    if (!yr_check_map(&ld->rd, v, section, part_keys))
        return false;
    yaml_node_t *from = yr_get(&ld->rd, v, "from");
    yaml_node_t *nodes = yr_get(&ld->rd, v, "nodes");
    if (!from)
        from = nodes;
    if (!from || (nodes && yr_get(&ld->rd, v, "from"))) {
        yr_error(&ld->rd, v, "expected exactly one of 'nodes' or 'from' in %s", section);
        return false;
    }
    if (!ld_nodeset(ld, from, &a->nodes))
        return false;
    yaml_node_t *x;
    if ((x = yr_get(&ld->rd, v, "to")) && !ld_nodeset(ld, x, &a->peers))
        return false;
    if ((x = yr_get(&ld->rd, v, "oneway")) && !yr_bool(&ld->rd, x, &a->oneway))
        return false;
    return opt_duration(ld, v, "for", false, &a->duration);
}

static bool ld_dns_fail(struct sc_load *ld, const yaml_node_t *v, struct sc_action *a)
{
    static const char *const keys[] = {"mode", "for", NULL};
    static const char *const modes[] = {"servfail", "nxdomain", "timeout", NULL};
    static const enum cs_dns_status codes[] = {CS_DNS_SERVFAIL, CS_DNS_NXDOMAIN, CS_DNS_TIMEOUT};
    if (!yr_check_map(&ld->rd, v, "dns_fail", keys))
        return false;
    a->fail_mode = CS_DNS_SERVFAIL;
    yaml_node_t *x;
    int m;
    if ((x = yr_get(&ld->rd, v, "mode"))) {
        if ((m = yr_enum(&ld->rd, x, "a failure mode", modes)) < 0)
            return false;
        a->fail_mode = codes[m];
    }
    return opt_duration(ld, v, "for", false, &a->duration);
}

static bool ld_clock(struct sc_load *ld, const yaml_node_t *v, struct sc_action *a)
{
    static const char *const jump_keys[] = {"nodes", "by", NULL};
    static const char *const rate_keys[] = {"nodes", "ppm", NULL};
    bool jump = a->kind == SC_ACT_CLOCK_JUMP;
    const char *key = jump ? "by" : "ppm";
    if (!yr_check_map(&ld->rd, v, sc_action_name(a->kind), jump ? jump_keys : rate_keys))
        return false;
    yaml_node_t *nodes = yr_get(&ld->rd, v, "nodes"), *x = yr_get(&ld->rd, v, key);
    if (!nodes || !x) {
        yr_error(&ld->rd, v, "expected 'nodes' and '%s' in %s", key, sc_action_name(a->kind));
        return false;
    }
    if (!ld_nodeset(ld, nodes, &a->nodes))
        return false;
    if (jump)
        return yr_duration(&ld->rd, x, true, &a->jump);
    return ld_ppm(ld, x, "ppm", &a->rate_ppm);
}

static bool ld_command(struct sc_load *ld, const yaml_node_t *v, const char *op, struct sc_action *a)
{
    static const char *const keys[] = {"node", "op", "name", "arg", "value", NULL};
    if (!yr_check_map(&ld->rd, v, op, keys))
        return false;
    yaml_node_t *x = yr_get(&ld->rd, v, "node");
    if (!x) {
        yr_error(&ld->rd, v, "expected 'node' in %s", op);
        return false;
    }
    if (!ld_nodeset(ld, x, &a->nodes))
        return false;
    if (strcmp(op, "command") == 0) {
        if (!(x = yr_get(&ld->rd, v, "op"))) {
            yr_error(&ld->rd, v, "expected 'op' in command");
            return false;
        }
        if (!yr_string(&ld->rd, x, a->op, sizeof a->op))
            return false;
    } else {
        if (yr_get(&ld->rd, v, "op")) {
            yr_error(&ld->rd, yr_get(&ld->rd, v, "op"), "'op' is only allowed in a generic command");
            return false;
        }
        snprintf(a->op, sizeof a->op, "%s", op);
    }
    if ((x = yr_get(&ld->rd, v, "name")) && !yr_string(&ld->rd, x, a->name, sizeof a->name))
        return false;
    if ((x = yr_get(&ld->rd, v, "arg")) && !yr_string(&ld->rd, x, a->arg, sizeof a->arg))
        return false;
    if ((x = yr_get(&ld->rd, v, "value"))) {
        double d;
        if (!yr_number(&ld->rd, x, &d))
            return false;
        /* Out-of-range conversions to int64_t are undefined behaviour. */
        if (d != floor(d) || d < -9.2e18 || d > 9.2e18) {
            yr_error(&ld->rd, x, "expected a whole number for value, found '%s'",
                     (const char *)x->data.scalar.value);
            return false;
        }
        a->value = (int64_t)d;
    }
    return true;
}

static bool ld_action_body(struct sc_load *ld, const char *key, const yaml_node_t *v,
                           struct sc_action *a)
{
    static const struct { const char *key; enum sc_action_kind kind; } kinds[] = {
        {"start", SC_ACT_START}, {"kill", SC_ACT_KILL}, {"stop", SC_ACT_STOP},
        {"restart", SC_ACT_RESTART}, {"partition", SC_ACT_PARTITION}, {"heal", SC_ACT_HEAL},
        {"clog", SC_ACT_CLOG}, {"dns_add", SC_ACT_DNS_ADD}, {"dns_remove", SC_ACT_DNS_REMOVE},
        {"dns_fail", SC_ACT_DNS_FAIL}, {"clock_jump", SC_ACT_CLOCK_JUMP},
        {"clock_rate", SC_ACT_CLOCK_RATE}, {"adversary", SC_ACT_ADVERSARY},
    };
    a->kind = SC_ACT_COMMAND;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].key, key) == 0)
            a->kind = kinds[i].kind;
    switch (a->kind) {
    case SC_ACT_START:
    case SC_ACT_KILL:
    case SC_ACT_STOP:
    case SC_ACT_RESTART:
        return ld_lifecycle(ld, v, a);
    case SC_ACT_PARTITION:
    case SC_ACT_CLOG:
        return ld_cut(ld, v, a);
    case SC_ACT_HEAL: {
        const char *s = yr_scalar(&ld->rd, v, "'all'");
        if (s && strcmp(s, "all") != 0)
            yr_error(&ld->rd, v, "expected 'all' (heal removes every partition), found '%s'", s);
        return !ld->rd.failed;
    }
    case SC_ACT_DNS_ADD:
    case SC_ACT_DNS_REMOVE:
        return ld_dns_record(ld, v, &a->dns);
    case SC_ACT_DNS_FAIL:
        return ld_dns_fail(ld, v, a);
    case SC_ACT_CLOCK_JUMP:
    case SC_ACT_CLOCK_RATE:
        return ld_clock(ld, v, a);
    case SC_ACT_COMMAND:
        return ld_command(ld, v, key, a);
    case SC_ACT_ADVERSARY:
        return ld_adversary(ld, v, a);
    }
    return false;
}

static bool ld_action(struct sc_load *ld, const yaml_node_t *n, struct sc_action *a)
{
    if (n->type != YAML_MAPPING_NODE) {
        yr_error(&ld->rd, n, "expected a timeline entry (a mapping with 'at' and one action)");
        return false;
    }
    const char *action = NULL;
    yaml_node_t *body = NULL, *action_key = NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yr_node(&ld->rd, p->key);
        const char *key = yr_scalar(&ld->rd, k, "a key");
        if (!key)
            return false;
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *qk = yr_node(&ld->rd, q->key);
            if (qk->type == YAML_SCALAR_NODE && strcmp((char *)qk->data.scalar.value, key) == 0) {
                yr_error(&ld->rd, k, "duplicate key '%s' in a timeline entry", key);
                return false;
            }
        }
        if (!strcmp(key, "at") || !strcmp(key, "every") || !strcmp(key, "until"))
            continue;
        bool known = false;
        for (const char *const *ak = action_keys; *ak && !known; ak++)
            known = strcmp(*ak, key) == 0;
        if (!known) {
            size_t count = 0;
            while (action_keys[count])
                count++;
            const char *near = cs_nearest(key, action_keys, count);
            char hint[80] = "";
            if (near)
                snprintf(hint, sizeof hint, " (did you mean '%s'?)", near);
            yr_error(&ld->rd, k, "unknown key '%s' in a timeline entry%s (expected at, every, until and "
                            "one action: start, kill, stop, restart, partition, heal, clog, "
                            "dns_add, dns_remove, dns_fail, clock_jump, clock_rate, register, "
                            "register_started, unregister, whereis, send, call, join, leave, "
                            "members, publish, multi_call, command, adversary)", key, hint);
            return false;
        }
        if (action) {
            yr_error(&ld->rd, k, "expected one action per timeline entry, found '%s' and '%s'", action, key);
            return false;
        }
        action = key;
        action_key = k;
        body = yr_node(&ld->rd, p->value);
    }
    yaml_node_t *at = yr_get(&ld->rd, n, "at");
    if (!at) {
        yr_error(&ld->rd, n, "expected 'at' (when the action happens) in a timeline entry");
        return false;
    }
    if (!action) {
        yr_error(&ld->rd, n, "expected an action in a timeline entry");
        return false;
    }
    a->pos = ld_pos(action_key);
    if (!yr_duration(&ld->rd, at, false, &a->at) || !opt_duration(ld, n, "every", false, &a->every) ||
        !opt_duration(ld, n, "until", false, &a->until))
        return false;
    if (yr_get(&ld->rd, n, "every") && a->every < LD_EVERY_MIN) {
        yr_error(&ld->rd, yr_get(&ld->rd, n, "every"), "expected a repeat interval of at least 1us");
        return false;
    }
    yaml_node_t *until = yr_get(&ld->rd, n, "until");
    if (until && !yr_get(&ld->rd, n, "every")) {
        yr_error(&ld->rd, until, "'until' only makes sense with 'every'");
        return false;
    }
    if (until && a->until < a->at) {
        yr_error(&ld->rd, until, "expected 'until' at or after 'at'");
        return false;
    }
    if (a->at > ld->sc->limits.duration) {
        yr_error(&ld->rd, at, "this action is after the run limit (limits.duration); raise the limit or "
                         "move the action");
        return false;
    }
    return ld_action_body(ld, action, body, a);
}

bool ld_timeline(struct sc_load *ld, const yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        yr_error(&ld->rd, n, "expected a list of timeline entries");
        return false;
    }
    size_t count = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    ld->sc->actions = calloc(count ? count : 1, sizeof *ld->sc->actions);
    if (!ld->sc->actions)
        return false;
    for (size_t i = 0; i < count; i++) {
        ld->sc->action_count = i + 1; /* so scenario_free releases partial node sets */
        if (!ld_action(ld, yr_node(&ld->rd, n->data.sequence.items.start[i]), &ld->sc->actions[i]))
            return false;
    }
    return true;
}
