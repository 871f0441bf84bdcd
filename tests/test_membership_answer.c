/*
 * tests/test_membership_answer.c: a DNS round's answer set, driven directly
 * (tests/fuzz/null_env.h, no simulator).  The set is not emptied between
 * rounds: each record stamps its name, names no record of the round named
 * leave when it ends, and an A/AAAA record whose address the set has seen
 * is taken without formatting its name.
 * Whatever the rounds' records, each round's answer must be exactly its
 * records' names, without duplicates, the names it kept in their old order
 * and the new ones after them in record order; a round that names the same
 * nodes in another order (servers rotate records) changes nothing.  Rounds
 * that change nothing skip their reconcile and connect passes (fixed
 * mode): the skipped passes must still count absences and redial lost
 * peers.
 */
#include "tests.h"

#include <stdio.h>
#include <string.h>

#include "../core/addr.h"
#include "../core/conn_internal.h"
#include "../core/membership_internal.h"
#include "fuzz/null_env.h"

struct answer_rig {
    struct null_env env;
    struct membership_config cfg; /* outlives the membership */
    struct membership *m;
};

static void rig_open(struct answer_rig *r, enum membership_mode mode, enum membership_strategy strategy)
{
    null_env_init(&r->env, "10.0.0.100");
    struct membership_config *cfg = &r->cfg;
    membership_config_defaults(cfg);
    cfg->mode = mode;
    cfg->topology_count = 1;
    membership_topology_defaults(&cfg->topologies[0], strategy);
    snprintf(cfg->topologies[0].query, sizeof cfg->topologies[0].query, "svc.local");
    struct membership_callbacks cb = {0};
    r->m = membership_new(&r->env.env, cfg, "app@10.0.0.100", &cb);
    assert_non_null(r->m);
    membership_start(r->m);
}

/* Answers the round's pending query (the first one when the strategy asks
 * two) with `n` records: A records of 10.0.0.<octet>, or SRV records of
 * host<octet>.svc when `srv`. */
static void answer(struct answer_rig *r, const int *octets, size_t n, bool srv, size_t query)
{
    struct topo *t = &r->m->topos[0];
    assert_true(t->round_active);
    struct cs_dns_record rec[16];
    memset(rec, 0, sizeof rec);
    for (size_t i = 0; i < n; i++) {
        char text[32];
        if (srv) {
            rec[i].type = CS_DNS_SRV;
            snprintf(rec[i].target, sizeof rec[i].target, "host%d.svc.", octets[i]);
        } else {
            rec[i].type = CS_DNS_A;
            snprintf(text, sizeof text, "10.0.0.%d", octets[i]);
            assert_int_equal(cs_addr_parse(text, &rec[i].addr), 0);
        }
    }
    struct cs_dns_answer ans = {.status = CS_DNS_OK, .records = rec, .count = n};
    struct cs_event ev = {.type = CS_EV_DNS};
    ev.u.dns.query = t->queries[query];
    ev.u.dns.answer = &ans;
    assert_true(membership_handle(r->m, &ev));
}

static bool listed(char (*names)[CS_NODE_NAME_MAX], size_t count, const char *name)
{
    for (size_t k = 0; k < count; k++)
        if (strcmp(names[k], name) == 0)
            return true;
    return false;
}

/* The answer set must hold the records' names, each once: first the names
 * of the previous answer that stay, in their previous order, then the new
 * ones in record order.  `before` is the previous answer's names. */
static void assert_answer_after(struct answer_rig *r, char (*before)[CS_NODE_NAME_MAX], size_t before_count,
                                const int *octets, size_t n, bool srv)
{
    const struct name_set *a = &r->m->topos[0].answer;
    char named[16][CS_NODE_NAME_MAX], want[16][CS_NODE_NAME_MAX];
    size_t named_count = 0, count = 0;
    for (size_t i = 0; i < n; i++) {
        char name[CS_NODE_NAME_MAX];
        snprintf(name, sizeof name, srv ? "app@host%d.svc" : "app@10.0.0.%d", octets[i]);
        if (!listed(named, named_count, name))
            snprintf(named[named_count++], CS_NODE_NAME_MAX, "%s", name);
    }
    for (size_t k = 0; k < before_count; k++)
        if (listed(named, named_count, before[k]))
            snprintf(want[count++], CS_NODE_NAME_MAX, "%s", before[k]);
    for (size_t k = 0; k < named_count; k++)
        if (!listed(want, count, named[k]))
            snprintf(want[count++], CS_NODE_NAME_MAX, "%s", named[k]);
    assert_int_equal(a->count, count);
    for (size_t k = 0; k < count; k++) {
        assert_string_equal(a->names[k], want[k]);
        assert_int_equal(name_set_find(a, want[k]), (int32_t)k);
    }
}

/* The same, for a first answer. */
static void assert_answer(struct answer_rig *r, const int *octets, size_t n, bool srv)
{
    assert_answer_after(r, NULL, 0, octets, n, srv);
}

/* Copies the answer's names into `out`; their count. */
static size_t answer_names(struct answer_rig *r, char (*out)[CS_NODE_NAME_MAX])
{
    const struct name_set *a = &r->m->topos[0].answer;
    assert_true(a->count <= 16);
    for (size_t k = 0; k < a->count; k++)
        snprintf(out[k], CS_NODE_NAME_MAX, "%s", a->names[k]);
    return a->count;
}

static void handle(void *instance, const struct cs_event *ev)
{
    membership_handle(instance, ev);
}

/* Starts the next round: the poll timer fires. */
static void next_round(struct answer_rig *r)
{
    r->env.now += CS_SEC(10);
    null_env_fire(&r->env, 0, handle, r->m);
    assert_true(r->m->topos[0].round_active);
}

static void run_rounds(enum membership_mode mode, bool srv)
{
    static const int rounds[][8] = {
        {1, 2, 3},          /* first answer */
        {1, 2, 3},          /* the same again: nothing to add */
        {1, 3},             /* one gone: the rest shifts */
        {1, 3},             /* the same again, after a shift */
        {3, 1, 4},          /* reordered, one new */
        {3, 3, 1, 1, 4, 3}, /* duplicates */
        {3, 1, 4, 5, 6},    /* grows past the previous answer */
        {0},                /* empty (count 0 below) */
        {2, 7},             /* back from empty */
        {2, 7, 8, 9, 10, 11, 12, 13},
        {2, 7, 8, 9, 10, 11, 12, 13},
        {2, 7, 8, 42, 10, 11, 12, 13}, /* one address changed mid-answer */
        {13, 12, 11, 10, 42, 8, 7, 2}, /* the same nodes, rotated */
        {5, 13, 6, 12, 11, 10, 42, 8}, /* two new among the old */
    };
    static const size_t counts[] = {3, 3, 2, 2, 3, 6, 5, 0, 2, 8, 8, 8, 8, 8};
    struct answer_rig r;
    rig_open(&r, mode, srv ? MEM_K8S_DNS_SRV : MEM_K8S_DNS);
    char before[16][CS_NODE_NAME_MAX];
    size_t before_count = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        uint64_t version = r.m->topos[0].answer.version;
        if (i > 0)
            next_round(&r);
        answer(&r, rounds[i], counts[i], srv, 0);
        assert_answer_after(&r, before, before_count, rounds[i], counts[i], srv);
        if (i == 1 || i == 3 || i == 12) /* the same nodes again (rotated for 12): nothing changes */
            assert_true(r.m->topos[0].answer.version == version);
        before_count = answer_names(&r, before);
    }
    membership_free(r.m);
}

static void test_answer_is_each_rounds_records_in_order(void **state)
{
    (void)state;
    /* (Fixed mode: libcluster's rounds end only when its serial connects
     * do, which this rig never completes.) */
    run_rounds(MEM_FIXED, false);
    run_rounds(MEM_FIXED, true);
}

/* dns_poll asks A and AAAA: the round's answer is both answers' names in
 * arrival order, and a second round that repeats the first reuses it. */
static void test_two_query_round_joins_answers(void **state)
{
    (void)state;
    struct answer_rig r;
    rig_open(&r, MEM_FIXED, MEM_DNS_POLL);
    static const int first[] = {1, 2}, second[] = {2, 3}, both[] = {1, 2, 3};
    for (int round = 0; round < 3; round++) {
        if (round > 0)
            next_round(&r);
        answer(&r, first, 2, false, 0);
        answer(&r, round == 2 ? first : second, 2, false, 1);
        assert_answer(&r, round == 2 ? first : both, round == 2 ? 2 : 3, false);
    }
    membership_free(r.m);
}

static bool discovered(struct answer_rig *r, int octet)
{
    char name[CS_NODE_NAME_MAX];
    snprintf(name, sizeof name, "app@10.0.0.%d", octet);
    return name_set_find(&r->m->topos[0].discovered, name) >= 0;
}

/* The transport reports the dial of 10.0.0.<octet> failed. */
static void dial_fails(struct answer_rig *r, int octet)
{
    char name[CS_NODE_NAME_MAX];
    snprintf(name, sizeof name, "app@10.0.0.%d", octet);
    struct conn *c = r->m->conn;
    int32_t pi = conn_peer_find(c, name);
    assert_true(pi >= 0 && c->peers[pi].dialling >= 0);
    struct cs_event ev = {.type = CS_EV_LINK_DOWN};
    ev.u.link_down.link = c->links[c->peers[pi].dialling].id;
    assert_true(membership_handle(r->m, &ev));
    assert_true(c->peers[pi].dialling < 0);
}

static void test_unchanged_rounds_still_count_absences_and_redial(void **state)
{
    (void)state;
    struct answer_rig r;
    null_env_init(&r.env, "10.0.0.100");
    membership_config_defaults(&r.cfg);
    r.cfg.conn.setup_timeout = CS_SEC(3600); /* dials stay pending between rounds */
    r.cfg.topology_count = 1;
    membership_topology_defaults(&r.cfg.topologies[0], MEM_K8S_DNS);
    snprintf(r.cfg.topologies[0].query, sizeof r.cfg.topologies[0].query, "svc.local");
    struct membership_callbacks cb = {0};
    r.m = membership_new(&r.env.env, &r.cfg, "app@10.0.0.100", &cb);
    assert_non_null(r.m);
    membership_start(r.m);
    static const int all[] = {1, 2, 3}, no2[] = {1, 3};
    answer(&r, all, 3, false, 0);
    assert_int_equal(r.m->stats.connects, 3);
    next_round(&r);
    answer(&r, all, 3, false, 0); /* every peer is dialling: nothing to do */
    assert_int_equal(r.m->stats.connects, 3);
    dial_fails(&r, 2);
    next_round(&r);
    answer(&r, all, 3, false, 0); /* same names, but peer 2 needs a new dial */
    assert_int_equal(r.m->stats.connects, 4);
    /* Absent from two complete answers, back, then absent from three. */
    for (int round = 0; round < 6; round++) {
        next_round(&r);
        bool back = round == 2;
        answer(&r, back ? all : no2, back ? 3 : 2, false, 0);
        assert_true(discovered(&r, 1) && discovered(&r, 3));
        assert_int_equal(discovered(&r, 2), round < 5);
    }
    membership_free(r.m);
}

int test_membership_answer_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_answer_is_each_rounds_records_in_order),
        cmocka_unit_test(test_two_query_round_joins_answers),
        cmocka_unit_test(test_unchanged_rounds_still_count_absences_and_redial),
    };
    return cmocka_run_group_tests_name("membership answer", tests, NULL, NULL);
}
