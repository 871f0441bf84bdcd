/*
 * tests/test_tracker_input.c: bad input to the tracker, in both modes
 * (group "tracker-input"), on the harness of tracker_harness.h: unknown and
 * empty messages, truncated ones, over-long names (on the wire and in a
 * command), owners without '@', bad clocks in entries and in snapshots, a
 * bad entry among good ones.  Each is counted once under the right stat
 * and changes neither the state, the registry nor the queue; a good
 * snapshot still works afterwards.  Forged messages follow the wire layout
 * of core/tracker_msg.c.
 */
#include "tests.h"
#include "tracker_harness.h"

#include <string.h>

/* ==== bad input, both modes ================================================= */

static void check_refused(struct harness *h, int i, const uint8_t *data, size_t len,
                          const char *what, uint64_t (*counter)(const struct trk_stats *))
{
    const struct trk_stats *st = trk_stats(T(i));
    struct trk_stats before = *st;
    enum trk_state s = trk_state(T(i));
    size_t count = h_count(h, i);
    uint64_t sum = h_sum(h, i);
    size_t queued = h->qlen;
    trk_message(T(i), NAME[1], data, len);
    if (counter(st) != counter(&before) + 1)
        fail_msg("%s: not counted", what);
    if (st->malformed + st->unknown_type + st->bad_clock + st->name_too_long !=
        before.malformed + before.unknown_type + before.bad_clock + before.name_too_long + 1)
        fail_msg("%s: counted more than once", what);
    if (trk_state(T(i)) != s)
        fail_msg("%s: state changed", what);
    if (h_count(h, i) != count || h_sum(h, i) != sum)
        fail_msg("%s: registry changed", what);
    if (h->qlen != queued)
        fail_msg("%s: answered", what);
}

static uint64_t c_malformed(const struct trk_stats *s) { return s->malformed; }
static uint64_t c_unknown(const struct trk_stats *s) { return s->unknown_type; }
static uint64_t c_bad_clock(const struct trk_stats *s) { return s->bad_clock; }
static uint64_t c_malformed_or_long(const struct trk_stats *s) { return s->malformed + s->name_too_long; }

/* Every kind of bad input to tracker A, in `mode`: first while A tracks
 * (with a name registered), then (the sync_recv cases) while A waits for
 * B's sync_recv in syncing (swarm) or in cluster_wait (fixed). */
static void bad_input(enum trk_mode mode)
{
    struct harness *h = h_new(mode, 2);
    h_cluster(h, 2);
    h_cmd(h, 0, "register", "keep", NULL, 1);
    h_settle(h);
    uint8_t clock[16], badclock[1] = {0xff}, buf[1024];
    size_t cl = clock_after(1, clock, sizeof clock);
    struct itc_arena *a = itc_arena_new();
    struct itc_stamp st;
    assert_true(itc_decode(a, badclock, 1, &st) < 0);
    itc_arena_free(a);
    struct fentry good = {"zz", NAME[1], (uint64_t)2 << 32 | 99, 50, 0, clock, cl};

    uint8_t unknown[3] = {0x63, 1, 2};
    check_refused(h, 0, unknown, sizeof unknown, "unknown type", c_unknown);
    uint8_t zero[1] = {0};
    check_refused(h, 0, zero, 1, "type 0", c_unknown);
    check_refused(h, 0, NULL, 0, "empty", c_malformed);

    size_t len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &good);
    check_refused(h, 0, buf, len - 1, "truncated track", c_malformed);
    check_refused(h, 0, buf, 5, "very truncated track", c_malformed);

    char longname[301];
    memset(longname, 'n', 300);
    longname[300] = '\0';
    struct fentry lng = good;
    lng.name = longname;
    len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &lng);
    check_refused(h, 0, buf, len, "300-byte name", c_malformed_or_long);

    struct fentry noat = good;
    noat.owner = "nonode";
    len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &noat);
    check_refused(h, 0, buf, len, "owner without @", c_malformed);

    struct fentry handleless = good; /* a live entry names its process; only tombstones may not */
    handleless.handle = 0;
    len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &handleless);
    check_refused(h, 0, buf, len, "live entry without a handle", c_malformed);

    struct fentry badentry = good;
    badentry.clock = badclock;
    badentry.clock_len = 1;
    len = forge_event(buf, sizeof buf, TRK_MSG_TRACK, &badentry);
    check_refused(h, 0, buf, len, "track with a bad clock", c_bad_clock);

    /* a command with a 300-byte name */
    uint64_t long_before = trk_stats(T(0))->name_too_long;
    h_cmd(h, 0, "register", longname, NULL, 1);
    assert_int_equal(trk_stats(T(0))->name_too_long, long_before + 1);
    assert_string_equal(h_last_reply(h, 0)->status, "error");

    /* snapshots: now A expects one from B */
    h_free(h);
    H = NULL;
    h = h_new(mode, 2);
    h_start(h, 0);
    h_start(h, 1);
    h_learn(h, 1, 0);
    h_learn(h, 0, 1);
    h_drop(h, -1, -1); /* fixed mode's snapshot pushes: lost */
    if (mode == TRK_SWARM) {
        h_pick(h, 0, 1);
        h_fire(h, 0, TRK_TIMER_CLUSTER_JOIN);
        h_drop(h, 0, 1);
        assert_int_equal(trk_state(T(0)), TRK_SYNCING);
    }
    uint8_t seed[8];
    size_t sl = clock_after(0, seed, sizeof seed);
    len = forge_snapshot(buf, sizeof buf, TRK_MSG_SYNC_RECV, NAME[1], badclock, 1, &good, 1);
    check_refused(h, 0, buf, len, "sync_recv with a bad clock", c_bad_clock);
    struct fentry two[2] = {good, noat};
    len = forge_snapshot(buf, sizeof buf, TRK_MSG_SYNC_RECV, NAME[1], seed, sl, two, 2);
    check_refused(h, 0, buf, len, "sync_recv with a bad second entry", c_malformed);
    len = forge_snapshot(buf, sizeof buf, TRK_MSG_SYNC_RECV, NAME[1], seed, sl, &good, 1);
    check_refused(h, 0, buf, len - 3, "truncated sync_recv", c_malformed);
    /* and the good one still works */
    trk_message(T(0), NAME[1], buf, len);
    assert_string_equal(h_owner(h, 0, "zz"), NAME[1]);
    if (mode == TRK_SWARM)
        assert_int_equal(trk_state(T(0)), TRK_TRACKING);
}

static void test_bad_input_swarm(void **state)
{
    (void)state;
    bad_input(TRK_SWARM);
}

static void test_bad_input_fixed(void **state)
{
    (void)state;
    bad_input(TRK_FIXED);
}

/* Interned node names know their lengths (trk_name_len, what entries are
 * encoded with) at and past the length byte's limit, and a number past the
 * table is "?". */
static void test_name_lengths(void **state)
{
    (void)state;
    h_new(TRK_FIXED, 1);
    static const size_t lengths[] = {1, 12, REG_LEN_LONG - 1, REG_LEN_LONG, REG_LEN_LONG + 1, 600};
    char name[601];
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        memset(name, 'a' + (int)i, lengths[i]);
        name[lengths[i]] = '\0';
        int32_t idx = trk_name_index(T(0), name);
        assert_true(idx > 0);
        assert_int_equal(trk_name_len(T(0), (uint32_t)idx), lengths[i]);
        assert_string_equal(trk_name(T(0), (uint32_t)idx), name);
    }
    assert_int_equal(trk_name_len(T(0), 0), strlen(NAME[0]));
    assert_int_equal(trk_name_len(T(0), 1000), strlen(trk_name(T(0), 1000)));
}

/* ---- the group ------------------------------------------------------------- */

int test_tracker_input_run(void)
{
    const struct CMUnitTest tests[] = {
        T_(test_bad_input_swarm),
        T_(test_bad_input_fixed),
        T_(test_name_lengths),
    };
    return cmocka_run_group_tests_name("tracker-input", tests, NULL, NULL);
}
