/*
 * core/membership_mode.c: what differs between the membership's two modes
 * (membership.h), as one table each: a rule is either a property the
 * shared code reads (membership.c) or the reconciliation function of a
 * finished lookup round.  Each property of the libcluster table names the
 * libcluster 3.5 or Erlang step it reproduces (docs/libcluster-model.md);
 * the fixed table's say what replaces it.  membership_mode_of is the only
 * place that reads the configured mode.
 */
#include "membership_internal.h"

#include <stdio.h>

/* libcluster: the answer is the truth, an error or a partial answer too.
 * Kubernetes.DNS and DNSSRV take a failed lookup as an empty list of
 * nodes and disconnect every node they discovered before; a truncated
 * answer prunes the nodes it left out. */
static void reconcile_libcluster(struct membership *m, struct topo *t)
{
    struct name_set *d = &t->discovered;
    if (t->round_failed) {
        cs_logf(m->env, CS_LOG_WARN, "[libcluster:%s] lookup of %s failed", t->cfg->name, t->cfg->query);
        name_set_clear(&t->answer); /* an error reads as "no nodes" */
        membership_memo_void(t);
    }
    for (size_t i = d->count; i-- > 0;) {
        if (name_set_find(&t->answer, d->names[i]) >= 0)
            continue;
        char name[CS_NODE_NAME_MAX];
        snprintf(name, sizeof name, "%s", d->names[i]);
        name_set_remove(d, name);
        membership_disconnect_vanished(m, t, name);
    }
    for (size_t i = 0; i < t->answer.count; i++)
        name_set_add(d, t->answer.names[i]);
}

/* fixed: keep the view on errors; only complete answers count absences,
 * and a node leaves after absent_rounds complete answers in a row missed
 * it. */
static void reconcile_fixed(struct membership *m, struct topo *t)
{
    struct name_set *d = &t->discovered;
    if (t->round_failed) {
        cs_logf(m->env, CS_LOG_WARN, "[libcluster:%s] lookup of %s failed, keeping the previous view", t->cfg->name,
                t->cfg->query);
        return;
    }
    /* The same complete answer as at a reconcile that found every
     * discovered name in it, and nothing discovered since: every add
     * below would find its name (absent already 0), every check would
     * find it answered. */
    if (!t->round_truncated && t->quiet_answer_version == t->answer.version &&
        t->quiet_discovered_version == d->version)
        return;
    t->quiet_answer_version = t->quiet_discovered_version = 0;
    for (size_t i = 0; i < t->answer.count; i++) {
        int32_t k = name_set_add(d, t->answer.names[i]);
        if (k >= 0)
            d->info[k].absent = 0;
    }
    if (t->round_truncated)
        return;
    bool all_answered = true;
    for (size_t i = d->count; i-- > 0;) {
        if (name_set_find(&t->answer, d->names[i]) >= 0)
            continue;
        all_answered = false;
        if (++d->info[i].absent < m->cfg->absent_rounds)
            continue;
        char name[CS_NODE_NAME_MAX];
        snprintf(name, sizeof name, "%s", d->names[i]);
        name_set_remove(d, name);
        membership_disconnect_vanished(m, t, name);
    }
    if (all_answered) {
        t->quiet_answer_version = t->answer.version;
        t->quiet_discovered_version = d->version;
    }
}

static const struct membership_mode_ops libcluster_mode = {
    .name = "libcluster",
    /* Erlang distribution settles a simultaneous connect as soon as the
     * peer's name arrives (conn.h, hello_decides). */
    .hello_decides = true,
    /* Strategies call Node.connect/1 for one node after another, each
     * blocking until it succeeds or net_setuptime passes. */
    .serial_connects = true,
    /* Kubernetes.DNS and DNSSRV: the first round leaves an extra :load
     * timer behind, so a second polling chain runs forever. */
    .second_poll_chain = true,
    /* :inet_res gives what the truncated UDP answer held. */
    .retries_truncated = false,
    /* A stopping node's libcluster application stops (its strategies poll
     * and dial no more) and the VM exits: peers see nodedown when its
     * connections close, with no announcement before. */
    .announces_leave = false,
    .reconcile = reconcile_libcluster,
};

static const struct membership_mode_ops fixed_mode = {
    .name = "fixed",
    .hello_decides = false,   /* decided on the proven REPLY (conn.h) */
    .serial_connects = false, /* every discovered node at once */
    .second_poll_chain = false,
    .retries_truncated = true, /* asked again, as a resolver retries over TCP */
    .announces_leave = true,  /* LEAVE before the links close */
    .reconcile = reconcile_fixed,
};

const struct membership_mode_ops *membership_mode_of(enum membership_mode mode)
{
    return mode == MEM_LIBCLUSTER ? &libcluster_mode : &fixed_mode;
}

const char *membership_mode_name(const struct membership *m)
{
    return m->mode->name;
}
