/*
 * tests/test_evq.c: the event queue: time order, ties broken by scheduling
 * order (never by slot or pointer), slot reuse, cancellation by kind, and
 * randomized comparisons against a sorted reference and a model.
 */
#include "tests.h"

#include "../sim/evq.h"
#include "../sim/pcg.h"

#include <stdlib.h>

static void push(struct sim_evq *q, cs_time t, uint32_t id)
{
    struct sim_event ev = {.time = t, .kind = SEV_TIMER, .id = id};
    assert_true(sim_evq_push(q, &ev) >= 0);
}

static void test_evq_time_then_sequence(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    push(&q, 30, 1);
    push(&q, 10, 2);
    push(&q, 20, 3);
    push(&q, 10, 4);
    push(&q, 10, 5);
    assert_int_equal(sim_evq_peek_time(&q), 10);
    const uint32_t order[] = {2, 4, 5, 3, 1};
    struct sim_event ev;
    for (int i = 0; i < 5; i++) {
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.id, order[i]);
    }
    assert_false(sim_evq_pop(&q, &ev));
    assert_true(sim_evq_peek_time(&q) == CS_TIME_NEVER);
    sim_evq_free(&q);
}

static void test_evq_ties_ignore_slots(void **state)
{
    (void)state;
    /* Free slots in a scrambled order, then schedule ties: the pop order
     * must follow scheduling order whatever slots they landed in. */
    struct sim_evq q;
    sim_evq_init(&q);
    for (uint32_t i = 0; i < 100; i++)
        push(&q, (cs_time)(100 - i), i);
    struct sim_event ev;
    for (int i = 0; i < 100; i++)
        sim_evq_pop(&q, &ev);
    for (uint32_t i = 0; i < 50; i++)
        push(&q, 500, i);
    for (uint32_t i = 0; i < 50; i++) {
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.id, i);
    }
    sim_evq_free(&q);
}

static void test_evq_cancel_by_kind(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct sim_event a = {.time = 5, .kind = SEV_TIMER, .id = 1};
    int64_t slot = sim_evq_push(&q, &a);
    push(&q, 6, 2);
    sim_evq_get(&q, (uint32_t)slot)->kind = SEV_NONE;
    struct sim_event ev;
    assert_true(sim_evq_pop(&q, &ev));
    assert_int_equal(ev.kind, SEV_NONE);
    assert_true(sim_evq_pop(&q, &ev));
    assert_int_equal(ev.id, 2);
    sim_evq_free(&q);
}

static int cmp_pair(const void *x, const void *y)
{
    const cs_time *a = x, *b = y;
    if (a[0] != b[0])
        return a[0] < b[0] ? -1 : 1;
    return a[1] < b[1] ? -1 : a[1] > b[1];
}

static void test_evq_random_against_sort(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct pcg32 rng;
    pcg32_seed(&rng, 99, 1);
    enum { N = 20000 };
    cs_time (*ref)[2] = malloc(sizeof(cs_time[2]) * N);
    assert_non_null(ref);
    for (uint32_t i = 0; i < N; i++) {
        cs_time t = pcg32_below(&rng, 1000); /* many ties */
        push(&q, t, i);
        ref[i][0] = t;
        ref[i][1] = i;
    }
    qsort(ref, N, sizeof ref[0], cmp_pair);
    struct sim_event ev;
    for (uint32_t i = 0; i < N; i++) {
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.time, ref[i][0]);
        assert_int_equal(ev.id, (uint32_t)ref[i][1]);
    }
    free(ref);
    sim_evq_free(&q);
}

/* The earliest (time, order) pair of the model still unpopped. */
static size_t model_earliest(cs_time (*model)[2], size_t n)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (model[i][0] != CS_TIME_NEVER &&
            (best == n || model[i][0] < model[best][0] ||
             (model[i][0] == model[best][0] && model[i][1] < model[best][1])))
            best = i;
    return best;
}

static void test_evq_interleaved_against_model(void **state)
{
    (void)state;
    /* Pushes between pops, as the simulator does: mostly at or after the
     * last popped time (ties with it too), at times spread over many bit
     * widths, and now and then before it (the queue re-buckets).  Every pop
     * must be the model's earliest (time, push order). */
    struct sim_evq q;
    sim_evq_init(&q);
    struct pcg32 rng;
    pcg32_seed(&rng, 7, 3);
    enum { N = 6000 };
    cs_time (*model)[2] = calloc(N, sizeof *model);
    assert_non_null(model);
    size_t pushed = 0, popped = 0;
    cs_time now = -5000;
    while (popped < N) {
        uint32_t burst = pushed < N ? pcg32_below(&rng, 4) : 0;
        for (uint32_t k = 0; k < burst && pushed < N; k++) {
            uint32_t shape = pcg32_below(&rng, 10);
            cs_time t = shape == 0   ? now                                             /* a tie */
                        : shape == 1 ? now - (cs_time)pcg32_below(&rng, 100) - 1         /* before */
                                     : now + ((cs_time)pcg32_below(&rng, 1000) << pcg32_below(&rng, 30));
            push(&q, t, (uint32_t)pushed);
            model[pushed][0] = t;
            model[pushed][1] = (cs_time)pushed;
            pushed++;
        }
        if (pushed == popped)
            continue;
        size_t want = model_earliest(model, pushed);
        assert_int_equal(sim_evq_peek_time(&q), model[want][0]);
        struct sim_event ev;
        assert_true(sim_evq_pop(&q, &ev));
        assert_int_equal(ev.time, model[want][0]);
        assert_int_equal(ev.id, (uint32_t)want);
        assert_int_equal(q.count, pushed - popped - 1);
        now = ev.time;
        model[want][0] = CS_TIME_NEVER;
        popped++;
    }
    assert_true(sim_evq_peek_time(&q) == CS_TIME_NEVER);
    free(model);
    sim_evq_free(&q);
}

static void test_evq_frees_payloads(void **state)
{
    (void)state;
    struct sim_evq q;
    sim_evq_init(&q);
    struct sim_event ev = {.time = 1, .kind = SEV_LINK_MSG, .payload = malloc(16), .len = 16};
    sim_evq_push(&q, &ev);
    sim_evq_free(&q); /* the sanitizer build reports a leak if this does not free */
    assert_int_equal(q.count, 0);
}

int test_evq_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evq_time_then_sequence),
        cmocka_unit_test(test_evq_ties_ignore_slots),
        cmocka_unit_test(test_evq_cancel_by_kind),
        cmocka_unit_test(test_evq_random_against_sort),
        cmocka_unit_test(test_evq_interleaved_against_model),
        cmocka_unit_test(test_evq_frees_payloads),
    };
    return cmocka_run_group_tests_name("evq", tests, NULL, NULL);
}
