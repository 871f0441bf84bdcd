/*
 * tests/test_registry.c: the registry's name table (core/registry.h).
 * Inserting, finding and removing many names across table growth and
 * tombstones, and churn that rebuilds the table at the same size; the
 * rarely set fields kept apart (origin, spec, meta); the batched lookup
 * registry_get_many answers exactly what
 * registry_get answers, name by name, for present, removed and never-seen
 * names, in batches of every size around its group boundaries.
 */
#include "tests.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/registry.h"

#define NAMES 5000

static void name_of(size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "proc-%zu", i);
}

/* Names 0..NAMES-1 inserted with handle i; every third one removed again. */
static void fill(struct registry *r)
{
    char name[32];
    for (size_t i = 0; i < NAMES; i++) {
        bool created;
        name_of(i, name, sizeof name);
        struct reg_entry *e = registry_put(r, name, &created);
        assert_non_null(e);
        assert_true(created);
        e->handle = i;
    }
    for (size_t i = 0; i < NAMES; i += 3) {
        name_of(i, name, sizeof name);
        registry_remove(r, name);
    }
}

static void test_registry_put_get_remove(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    fill(&r);
    assert_int_equal(registry_count(&r), NAMES - (NAMES + 2) / 3);
    char name[32];
    for (size_t i = 0; i < NAMES; i++) {
        name_of(i, name, sizeof name);
        struct reg_entry *e = registry_get(&r, name);
        if (i % 3 == 0) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->handle, i);
            assert_string_equal(e->name, name);
        }
    }
    bool created;
    struct reg_entry *again = registry_put(&r, "proc-1", &created);
    assert_false(created);
    assert_int_equal(again->handle, 1);
    registry_free(&r);
}

/* Names come and go while at most 64 live: tombstones pile up and the
 * table is rebuilt at the same size (not grown), and every answer stays
 * right through those rebuilds. */
static void test_registry_churn_reuses_the_table(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    char name[32];
    for (size_t i = 0; i < 50000; i++) {
        bool created;
        name_of(i, name, sizeof name);
        struct reg_entry *e = registry_put(&r, name, &created);
        assert_non_null(e);
        assert_true(created);
        e->handle = i;
        if (i >= 64) {
            name_of(i - 64, name, sizeof name);
            registry_remove(&r, name);
        }
    }
    assert_int_equal(registry_count(&r), 64);
    assert_true(r.table_cap <= 128); /* 64 live names need 128 cells (at most 5/8 full after a rehash) */
    for (size_t i = 0; i < 50000; i++) {
        name_of(i, name, sizeof name);
        struct reg_entry *e = registry_get(&r, name);
        if (i < 50000 - 64) {
            assert_null(e);
        } else {
            assert_non_null(e);
            assert_int_equal(e->handle, i);
        }
    }
    registry_free(&r);
}

static void test_registry_get_many_matches_get(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    fill(&r);
    /* Present, removed and never-seen names, in a scrambled order. */
    size_t total = NAMES + 1000;
    char (*names)[32] = calloc(total, sizeof *names);
    const char **ptrs = calloc(total, sizeof *ptrs);
    struct reg_entry **out = calloc(total, sizeof *out);
    assert_true(names && ptrs && out);
    for (size_t i = 0; i < total; i++) {
        name_of((i * 7919) % total, names[i], sizeof names[i]);
        ptrs[i] = names[i];
    }
    size_t sizes[] = {0, 1, 15, 16, 17, 33, total};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        memset(out, 0xff, total * sizeof *out);
        registry_get_many(&r, ptrs, sizes[s], out);
        for (size_t i = 0; i < sizes[s]; i++)
            assert_ptr_equal(out[i], registry_get(&r, ptrs[i]));
        if (sizes[s] < total)
            assert_ptr_equal(out[sizes[s]], (void *)~(uintptr_t)0); /* nothing past n written */
    }
    size_t found = 0;
    for (size_t i = 0; i < total; i++)
        found += out[i] != NULL;
    assert_int_equal(found, registry_count(&r));
    free(names);
    free(ptrs);
    free(out);
    registry_free(&r);
}

static void test_registry_get_many_empty_table(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    const char *names[] = {"a", "b"};
    struct reg_entry *out[2] = {(void *)1, (void *)1};
    registry_get_many(&r, names, 2, out);
    assert_null(out[0]);
    assert_null(out[1]);
    registry_free(&r);
}

/* The rarely set fields: defaults without an extra allocation; the origin
 * follows the handle until set apart, and reg_set_handle keeps a set-apart
 * origin (a restart continues the same write); meta keys stay sorted and
 * clear; removal and registry_free release everything (ASan checks). */
/* A new entry `name` of a fresh registry r, with this handle. */
static struct reg_entry *entry_with_handle(struct registry *r, const char *name, uint64_t handle)
{
    bool created;
    struct reg_entry *e = registry_put(r, name, &created);
    assert_non_null(e);
    assert_true(created);
    e->handle = handle;
    return e;
}

static void test_registry_extra_fields(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    bool created;
    struct reg_entry *e = entry_with_handle(&r, "x", 7);
    assert_int_equal(reg_origin(e), 7);
    assert_int_equal(reg_set_origin(e, 7), 0);
    assert_int_equal(reg_set_spec(e, 0), 0);
    assert_int_equal(reg_set_meta_version(e, 0), 0);
    assert_null(e->extra); /* defaults cost nothing */
    assert_int_equal(reg_spec(e), 0);
    assert_int_equal(reg_meta_version(e), 0);
    assert_int_equal(reg_meta_count(e), 0);
    assert_null(reg_meta_key(e, 0));
    e->handle = 9; /* an origin never set apart follows the handle */
    assert_int_equal(reg_origin(e), 9);
    assert_int_equal(reg_set_origin(e, 5), 0);
    assert_int_equal(reg_origin(e), 5);
    assert_int_equal(reg_set_handle(e, 11), 0);
    assert_int_equal(e->handle, 11);
    assert_int_equal(reg_origin(e), 5);
    assert_int_equal(reg_set_origin(e, 11), 0);
    assert_int_equal(reg_set_handle(e, 12), 0);
    assert_int_equal(reg_origin(e), 11); /* kept, now set apart */
    assert_int_equal(reg_set_spec(e, -3), 0);
    assert_int_equal(reg_spec(e), -3);
    assert_int_equal(reg_set_meta_version(e, 44), 0);
    assert_int_equal(reg_meta_version(e), 44);
    assert_int_equal(reg_meta_set(e, "g2", true), 0);
    assert_int_equal(reg_meta_set(e, "g1", true), 0);
    assert_int_equal(reg_meta_set(e, "g3", true), 0);
    assert_int_equal(reg_meta_set(e, "g1", true), 0);
    assert_int_equal(reg_meta_count(e), 3);
    assert_string_equal(reg_meta_key(e, 0), "g1");
    assert_string_equal(reg_meta_key(e, 2), "g3");
    assert_int_equal(reg_meta_set(e, "g2", false), 0);
    assert_true(reg_meta_has(e, "g3"));
    assert_false(reg_meta_has(e, "g2"));
    reg_meta_clear(e);
    assert_int_equal(reg_meta_count(e), 0);
    assert_int_equal(reg_meta_set(e, "g4", true), 0);
    struct reg_entry *f = registry_put(&r, "y", &created);
    assert_int_equal(reg_meta_set(f, "only", true), 0);
    registry_remove(&r, "y");
    f = registry_put(&r, "y", &created);
    assert_true(created);
    assert_null(f->extra); /* a reused slot starts clean */
    registry_free(&r);
}

/* An origin (a handed-off process's) lives in the entry, with no
 * allocation; one back at the handle follows the handle again; another
 * field's extra leaves it where it is; an origin of 0 (hostile input, or an
 * entry without a handle whose handle is then set) is kept in the extra,
 * and given up when another origin is set.  ASan checks nothing leaks. */
static void test_registry_origin_in_the_entry(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    struct reg_entry *e = entry_with_handle(&r, "x", 7);
    assert_int_equal(reg_set_origin(e, 5), 0);
    assert_null(e->extra); /* an origin takes no allocation */
    assert_int_equal(e->origin, 5);
    assert_int_equal(reg_origin(e), 5);
    assert_int_equal(reg_set_handle(e, 8), 0);
    assert_int_equal(reg_origin(e), 5);
    assert_int_equal(reg_set_origin(e, 8), 0);
    assert_int_equal(e->origin, 0); /* follows the handle again */
    assert_int_equal(reg_reserve_origin(e), 0);
    assert_null(e->extra);
    assert_int_equal(reg_origin(e), 8);
    e->handle = 9;
    assert_int_equal(reg_origin(e), 9);
    assert_int_equal(reg_set_origin(e, 4), 0);
    assert_int_equal(reg_set_spec(e, 3), 0); /* the extra comes, the origin stays in the entry */
    assert_non_null(e->extra);
    assert_int_equal(reg_origin(e), 4);
    assert_int_equal(reg_spec(e), 3);
    struct reg_entry *f = entry_with_handle(&r, "y", 2);
    assert_int_equal(reg_set_origin(f, 0), 0); /* an origin of 0 is kept in the extra */
    assert_non_null(f->extra);
    assert_int_equal(reg_origin(f), 0);
    assert_int_equal(reg_set_handle(f, 6), 0);
    assert_int_equal(reg_origin(f), 0);
    assert_int_equal(reg_set_origin(f, 3), 0); /* and given up for any other */
    assert_int_equal(reg_origin(f), 3);
    assert_int_equal(reg_set_origin(f, 6), 0);
    assert_int_equal(reg_origin(f), 6);
    f->handle = 10;
    assert_int_equal(reg_origin(f), 10);
    struct reg_entry *g = entry_with_handle(&r, "z", 0); /* no handle yet: the origin is 0 */
    assert_int_equal(reg_reserve_origin(g), 0);
    assert_non_null(g->extra);
    assert_int_equal(reg_set_handle(g, 4), 0);
    assert_int_equal(reg_origin(g), 0); /* kept apart from the new handle */
    registry_remove(&r, "z"); /* its extra goes with it */
    registry_free(&r);
}

/* Names of every length from 0 to 40 over a two-letter alphabet, so many
 * share their first REG_HEAD bytes or are prefixes of one another: each is
 * found as itself (get and get_many), each entry answers to its own name
 * and no other, and a name that differs only past the head or only by its
 * length is not found. */
static void test_registry_names_around_the_head(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    char names[41 * 4][48];
    size_t count = 0;
    for (size_t len = 0; len <= 40; len++)
        for (int variant = 0; variant < 4; variant++) {
            char *n = names[count];
            memset(n, 'a', len);
            n[len] = '\0';
            if (len > 0 && (variant & 1))
                n[len - 1] = 'b'; /* differs in the last byte */
            if (len > REG_HEAD && (variant & 2))
                n[REG_HEAD] = 'b'; /* differs just past the head */
            bool dup = false;
            for (size_t j = 0; j < count && !dup; j++)
                dup = strcmp(names[j], n) == 0;
            if (dup)
                continue;
            bool created;
            struct reg_entry *e = registry_put(&r, n, &created);
            assert_non_null(e);
            assert_true(created);
            e->handle = count + 1;
            count++;
        }
    const char *ptrs[41 * 4];
    struct reg_entry *many[41 * 4];
    for (size_t i = 0; i < count; i++)
        ptrs[i] = names[i];
    registry_get_many(&r, ptrs, count, many);
    for (size_t i = 0; i < count; i++) {
        struct reg_entry *e = registry_get(&r, names[i]);
        assert_non_null(e);
        assert_int_equal(e->handle, i + 1);
        assert_string_equal(e->name, names[i]);
        assert_ptr_equal(many[i], e);
    }
    /* Every entry answers to its own name and to no other (lookups only
     * compare names after a tag match, so this is the check itself). */
    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < count; j++)
            if (reg_entry_named(many[i], names[j]) != (i == j))
                fail_msg("entry \"%s\" %s \"%s\"", names[i], i == j ? "refused" : "took", names[j]);
    char probe[64];
    memset(probe, 'a', 41);
    probe[41] = '\0';
    assert_null(registry_get(&r, probe)); /* longer than any */
    memset(probe, 'c', 20);
    probe[20] = '\0';
    assert_null(registry_get(&r, probe));
    memset(probe, 'a', 20);
    probe[REG_HEAD + 1] = 'c'; /* a stored head, an unknown tail */
    assert_null(registry_get(&r, probe));
    registry_free(&r);
}

/* A table grows to at most three quarters full: 10,000 names (a tracker's
 * share of a 1,000-pod storm) take 16,384 cells, and every one is found. */
static void test_registry_table_size(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    char name[32];
    for (size_t i = 0; i < 10000; i++) {
        bool created;
        name_of(i, name, sizeof name);
        assert_non_null(registry_put(&r, name, &created));
        assert_true(created);
        assert_true((r.used) * 4 <= r.table_cap * 3);
    }
    assert_int_equal(r.table_cap, 16384);
    for (size_t i = 0; i < 10000; i++) {
        name_of(i, name, sizeof name);
        assert_non_null(registry_get(&r, name));
    }
    name_of(10000, name, sizeof name);
    assert_null(registry_get(&r, name));
    registry_free(&r);
}

/* An entry knows its name's length without reading the name, at every
 * length around the length byte's limit too (names that long are refused
 * by commands and by the wire, not by the registry). */
static void test_registry_name_lengths(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    static const size_t lengths[] = {1, 2, REG_HEAD - 1, REG_HEAD, REG_HEAD + 1, 100, REG_LEN_LONG - 1,
                                     REG_LEN_LONG, REG_LEN_LONG + 1, 300, 1000, 70000};
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        char *name = malloc(lengths[i] + 1);
        assert_non_null(name);
        for (size_t k = 0; k < lengths[i]; k++)
            name[k] = (char)('a' + (k + i) % 26);
        name[lengths[i]] = '\0';
        bool created;
        struct reg_entry *e = registry_put(&r, name, &created);
        assert_non_null(e);
        assert_true(created);
        e->handle = i + 1;
        free(name);
    }
    for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
        size_t seen = 0;
        for (size_t s = 0; s < r.slot_count; s++)
            if (r.slots[s].name && r.slots[s].handle == i + 1) {
                assert_int_equal(reg_name_len(&r.slots[s]), lengths[i]);
                assert_int_equal(strlen(r.slots[s].name), lengths[i]);
                seen++;
            }
        assert_int_equal(seen, 1);
    }
    registry_free(&r);
}

/* A clock longer than the inline bytes moves to the extra and back. */
static void test_registry_clock_inline_and_spilled(void **state)
{
    (void)state;
    struct registry r;
    registry_init(&r);
    bool created;
    struct reg_entry *e = registry_put(&r, "c", &created);
    uint8_t small[3] = {1, 2, 3}, big[REG_CLOCK_MAX], huge[REG_CLOCK_MAX + 1] = {0};
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(0xa0 + i);
    assert_int_equal(reg_set_clock(e, small, sizeof small), 0);
    assert_null(e->extra);
    assert_int_equal(e->clock_len, 3);
    assert_memory_equal(reg_clock(e), small, 3);
    assert_int_equal(reg_set_clock(e, big, sizeof big), 0);
    assert_non_null(e->extra);
    assert_int_equal(e->clock_len, REG_CLOCK_MAX);
    assert_memory_equal(reg_clock(e), big, sizeof big);
    assert_int_equal(reg_set_clock(e, huge, sizeof huge), -1);
    assert_memory_equal(reg_clock(e), big, sizeof big); /* unchanged */
    assert_int_equal(reg_set_clock(e, small, 2), 0);
    assert_int_equal(e->clock_len, 2);
    assert_memory_equal(reg_clock(e), small, 2);
    registry_free(&r);
}

int test_registry_run(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_put_get_remove),
        cmocka_unit_test(test_registry_churn_reuses_the_table),
        cmocka_unit_test(test_registry_get_many_matches_get),
        cmocka_unit_test(test_registry_get_many_empty_table),
        cmocka_unit_test(test_registry_extra_fields),
        cmocka_unit_test(test_registry_origin_in_the_entry),
        cmocka_unit_test(test_registry_names_around_the_head),
        cmocka_unit_test(test_registry_name_lengths),
        cmocka_unit_test(test_registry_table_size),
        cmocka_unit_test(test_registry_clock_inline_and_spilled),
    };
    return cmocka_run_group_tests_name("registry", tests, NULL, NULL);
}
