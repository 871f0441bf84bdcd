/*
 * core/registry.c: entries in a slot array with a free list, found through
 * an open-addressing table of slot numbers keyed by XXH3 of the name
 * (folded to a 32-bit tag that both places and pre-checks a name).
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

_Static_assert(sizeof(void *) != 8 || sizeof(struct reg_entry) == 64, "an entry is one cache line");

#define EMPTY 0u
#define GONE UINT32_MAX
#define CHUNK_BYTES 65536

struct reg_chunk {
    struct reg_chunk *next;
    size_t used, size;
    char data[];
};

/* Copies a name into the arena, after a byte that holds its length
 * (reg_name_len). */
static char *name_copy(struct registry *r, const char *name, size_t *name_len)
{
    *name_len = strlen(name);
    size_t len = *name_len + 2;
    struct reg_chunk *c = r->names;
    if (!c || c->size - c->used < len) {
        size_t size = len > CHUNK_BYTES ? len : CHUNK_BYTES;
        c = malloc(sizeof *c + size);
        if (!c)
            return NULL;
        c->next = r->names;
        c->used = 0;
        c->size = size;
        r->names = c;
    }
    char *out = c->data + c->used;
    out[0] = (char)(uint8_t)(*name_len < REG_LEN_LONG ? *name_len : REG_LEN_LONG);
    memcpy(out + 1, name, len - 1);
    c->used += len;
    return out + 1;
}

void registry_init(struct registry *r)
{
    memset(r, 0, sizeof *r);
    r->version = 1;
}

static void extra_free(struct reg_extra *x)
{
    if (x) {
        for (uint8_t i = 0; i < x->meta_count; i++)
            free(x->meta[i]);
        free(x->meta);
    }
    free(x);
}

static void entry_clear(struct reg_entry *e)
{
    extra_free(e->extra);
    memset(e, 0, sizeof *e);
}

void registry_free(struct registry *r)
{
    for (size_t i = 0; i < r->slot_count; i++)
        extra_free(r->slots[i].extra); /* the rest holds no memory of its own */
    free(r->slots);
    free(r->free_slots);
    free(r->table);
    while (r->names) {
        struct reg_chunk *next = r->names->next;
        free(r->names);
        r->names = next;
    }
    registry_init(r);
}

size_t registry_count(const struct registry *r)
{
    return r->live;
}

/* A name's 32-bit tag: XXH3 folded.  The tag alone places a name (its
 * home cell is the tag's low bits), so growing the table moves cells
 * without reading a single name; the tag's remaining bits are compared
 * before any name is. */
static uint32_t name_tag(const char *name)
{
    uint64_t h = XXH3_64bits(name, strlen(name));
    return (uint32_t)(h ^ (h >> 32));
}

/* Whether entry `e` holds `name` (of length `len`): its head first, the
 * arena copy only for the bytes of a long name past the head. */
static bool entry_is(const struct reg_entry *e, const char *name, size_t len)
{
    if (!e->name)
        return false;
    if (len < REG_HEAD) /* the stored name is as long only if the head ends there too */
        return memcmp(e->head, name, len + 1) == 0;
    return memcmp(e->head, name, REG_HEAD) == 0 && strcmp(e->name + REG_HEAD, name + REG_HEAD) == 0;
}

static size_t home_of(uint32_t tag, size_t cap)
{
    return (size_t)tag & (cap - 1);
}

/* Probing compares the stored 32-bit tags first, so a lookup touches an
 * entry only when the tags match. */
static size_t find_pos_hashed(const struct registry *r, const char *name, uint32_t tag)
{
    if (!r->table_cap)
        return SIZE_MAX;
    size_t len = SIZE_MAX; /* measured at the first tag match */
    for (size_t p = home_of(tag, r->table_cap);; p = (p + 1) & (r->table_cap - 1)) {
        uint32_t v = r->table[p].slot;
        if (v == EMPTY)
            return SIZE_MAX;
        if (v == GONE || r->table[p].tag != tag)
            continue;
        if (len == SIZE_MAX)
            len = strlen(name);
        if (entry_is(&r->slots[v - 1], name, len))
            return p;
    }
}

static size_t find_pos(const struct registry *r, const char *name)
{
    return find_pos_hashed(r, name, name_tag(name));
}

bool reg_entry_named(const struct reg_entry *e, const char *name)
{
    return entry_is(e, name, strlen(name));
}

struct reg_entry *registry_get(const struct registry *r, const char *name)
{
    size_t p = find_pos(r, name);
    return p == SIZE_MAX ? NULL : &r->slots[r->table[p].slot - 1];
}

uint32_t registry_prefetch(const struct registry *r, const char *name)
{
    uint32_t tag = name_tag(name);
    if (r->table_cap)
        __builtin_prefetch(&r->table[home_of(tag, r->table_cap)]);
    return tag;
}

#define GET_GROUP 16

void registry_get_many(const struct registry *r, const char *const *names, size_t n,
                       struct reg_entry **out)
{
    uint32_t h[GET_GROUP];
    for (size_t base = 0; base < n; base += GET_GROUP) {
        size_t k = n - base < GET_GROUP ? n - base : GET_GROUP;
        for (size_t i = 0; i < k; i++) {
            h[i] = name_tag(names[base + i]);
            if (r->table_cap)
                __builtin_prefetch(&r->table[home_of(h[i], r->table_cap)]);
        }
        const struct reg_entry *likely[GET_GROUP];
        for (size_t i = 0; i < k; i++) { /* the likely hit's entry ... */
            const struct reg_cell *c = r->table_cap ? &r->table[home_of(h[i], r->table_cap)] : NULL;
            likely[i] = c && c->slot != EMPTY && c->slot != GONE && c->tag == h[i] ? &r->slots[c->slot - 1] : NULL;
            if (likely[i])
                __builtin_prefetch(likely[i]);
        }
        for (size_t i = 0; i < k; i++) /* ... then a long name's tail */
            if (likely[i] && strnlen(names[base + i], REG_HEAD) == REG_HEAD)
                __builtin_prefetch(likely[i]->name);
        for (size_t i = 0; i < k; i++) {
            size_t p = find_pos_hashed(r, names[base + i], h[i]);
            out[base + i] = p == SIZE_MAX ? NULL : &r->slots[r->table[p].slot - 1];
        }
    }
}

/* Moves the live cells into a table of `cap` cells (tombstones dropped),
 * reading the old table in order and no name. */
static int rehash(struct registry *r, size_t cap)
{
    struct reg_cell *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < r->table_cap; i++) {
        const struct reg_cell *c = &r->table[i];
        if (c->slot == EMPTY || c->slot == GONE)
            continue;
        size_t p = home_of(c->tag, cap);
        while (t[p].slot != EMPTY)
            p = (p + 1) & (cap - 1);
        t[p] = *c;
    }
    free(r->table);
    r->table = t;
    r->table_cap = cap;
    r->used = r->live;
    return 0;
}

static int32_t slot_new(struct registry *r)
{
    if (r->free_count)
        return (int32_t)r->free_slots[--r->free_count];
    if (r->slot_count == r->slot_cap) {
        size_t cap = r->slot_cap ? r->slot_cap * 2 : 64;
        struct reg_entry *s = realloc(r->slots, cap * sizeof *s);
        if (!s)
            return -1;
        r->slots = s;
        r->slot_cap = cap;
    }
    memset(&r->slots[r->slot_count], 0, sizeof *r->slots); /* free-listed unused, it must read as free */
    return (int32_t)r->slot_count++;
}

/* Puts a slot on the free list, which grows only as slots are freed (a
 * registry that never shrinks keeps none). */
static void slot_free(struct registry *r, uint32_t slot)
{
    if (r->free_count == r->free_cap) {
        size_t cap = r->free_cap ? r->free_cap * 2 : 64;
        uint32_t *f = realloc(r->free_slots, cap * sizeof *f);
        if (!f)
            return; /* the slot stays unused until the registry is freed */
        r->free_slots = f;
        r->free_cap = cap;
    }
    r->free_slots[r->free_count++] = slot;
}

struct reg_entry *registry_put(struct registry *r, const char *name, bool *created)
{
    return registry_put_tagged(r, name, name_tag(name), created);
}

struct reg_entry *registry_put_tagged(struct registry *r, const char *name, uint32_t tag, bool *created)
{
    *created = false;
    size_t found = find_pos_hashed(r, name, tag);
    if (found != SIZE_MAX)
        return &r->slots[r->table[found].slot - 1];
    struct reg_entry *e;
    /* At most three quarters full (removed names' cells counted), and at
     * most five eighths after a rehash: probes stay within a cache line or
     * two (a cell is 8 bytes and its tag is compared before any name),
     * and a registry of 10,000 names takes 16,384 cells, not 32,768. */
    if ((r->used + 1) * 4 > r->table_cap * 3) {
        size_t cap = r->table_cap ? r->table_cap : 64;
        while ((r->live + 1) * 8 > cap * 5)
            cap *= 2;
        if (rehash(r, cap) != 0)
            return NULL;
    }
    int32_t slot = slot_new(r);
    size_t len;
    char *copy = slot >= 0 ? name_copy(r, name, &len) : NULL;
    if (!copy) {
        if (slot >= 0)
            slot_free(r, (uint32_t)slot);
        return NULL;
    }
    e = &r->slots[slot]; /* zeroed: fresh from slot_new, or cleared when it was freed */
    e->name = copy;
    memcpy(e->head, copy, len < REG_HEAD ? len : REG_HEAD); /* zero-padded, unterminated when longer */
    size_t p = home_of(tag, r->table_cap);
    while (r->table[p].slot != EMPTY && r->table[p].slot != GONE)
        p = (p + 1) & (r->table_cap - 1);
    if (r->table[p].slot == EMPTY)
        r->used++;
    r->table[p].slot = (uint32_t)slot + 1;
    r->table[p].tag = tag;
    r->live++;
    r->version++;
    *created = true;
    return e;
}

void registry_remove(struct registry *r, const char *name)
{
    size_t p = find_pos(r, name);
    if (p == SIZE_MAX)
        return;
    uint32_t slot = r->table[p].slot - 1;
    r->table[p].slot = GONE;
    entry_clear(&r->slots[slot]);
    slot_free(r, slot);
    r->live--;
    r->version++;
}

void registry_each(const struct registry *r, void (*fn)(void *ctx, struct reg_entry *e), void *ctx)
{
    for (size_t i = 0; i < r->slot_count; i++)
        if (r->slots[i].name)
            fn(ctx, &r->slots[i]);
}

/* The entry's extra, allocated on first use; NULL out of memory. */
static struct reg_extra *extra_of(struct reg_entry *e)
{
    if (!e->extra)
        e->extra = calloc(1, sizeof *e->extra);
    return e->extra;
}

int reg_reserve_extra(struct reg_entry *e)
{
    return extra_of(e) ? 0 : -1;
}

int reg_reserve_origin(struct reg_entry *e)
{
    /* reg_set_handle keeps the origin apart from the new handle: an origin
     * of 0 (an entry without a handle yet, or one set so) needs the extra */
    return reg_origin(e) != 0 || extra_of(e) ? 0 : -1;
}

uint64_t reg_origin(const struct reg_entry *e)
{
    if (e->origin)
        return e->origin;
    return e->extra && e->extra->origin_zero ? 0 : e->handle;
}

int reg_set_origin(struct reg_entry *e, uint64_t origin)
{
    if (origin == 0 && e->handle != 0) { /* the field's 0 means "the handle" */
        if (!extra_of(e))
            return -1;
        e->extra->origin_zero = true;
        e->origin = 0;
        return 0;
    }
    if (e->extra)
        e->extra->origin_zero = false;
    e->origin = origin == e->handle ? 0 : origin;
    return 0;
}

int reg_set_handle(struct reg_entry *e, uint64_t handle)
{
    uint64_t origin = reg_origin(e);
    if (origin != handle && reg_reserve_origin(e) != 0)
        return -1;
    e->handle = handle;
    return reg_set_origin(e, origin);
}

uint64_t reg_meta_version(const struct reg_entry *e)
{
    const struct reg_extra *x = e->extra;
    return x ? x->meta_version : 0;
}

int reg_set_meta_version(struct reg_entry *e, uint64_t version)
{
    if (!version && !e->extra)
        return 0;
    struct reg_extra *x = extra_of(e);
    if (!x)
        return -1;
    x->meta_version = version;
    return 0;
}

int64_t reg_spec(const struct reg_entry *e)
{
    const struct reg_extra *x = e->extra;
    return x ? x->spec : 0;
}

int reg_set_spec(struct reg_entry *e, int64_t spec)
{
    if (!spec && !e->extra)
        return 0;
    struct reg_extra *x = extra_of(e);
    if (!x)
        return -1;
    x->spec = spec;
    return 0;
}

const uint8_t *reg_clock(const struct reg_entry *e)
{
    const struct reg_extra *x = e->extra;
    return e->clock_len > REG_CLOCK_INLINE && x ? x->clock : e->clock;
}

int reg_set_clock(struct reg_entry *e, const uint8_t *clock, size_t len)
{
    if (len > REG_CLOCK_MAX)
        return -1;
    uint8_t *to = e->clock;
    if (len > REG_CLOCK_INLINE) {
        struct reg_extra *x = extra_of(e);
        if (!x)
            return -1;
        to = x->clock;
    }
    memmove(to, clock, len);
    e->clock_len = (uint8_t)len;
    return 0;
}

uint8_t reg_meta_count(const struct reg_entry *e)
{
    const struct reg_extra *x = e->extra;
    return x ? x->meta_count : 0;
}

const char *reg_meta_key(const struct reg_entry *e, uint8_t i)
{
    return i < reg_meta_count(e) ? e->extra->meta[i] : NULL;
}

bool reg_meta_has(const struct reg_entry *e, const char *key)
{
    for (uint8_t i = 0; i < reg_meta_count(e); i++)
        if (strcmp(e->extra->meta[i], key) == 0)
            return true;
    return false;
}

void reg_meta_clear(struct reg_entry *e)
{
    struct reg_extra *x = e->extra;
    if (!x)
        return;
    for (uint8_t i = 0; i < x->meta_count; i++)
        free(x->meta[i]);
    x->meta_count = 0;
}

int reg_meta_set(struct reg_entry *e, const char *key, bool on)
{
    uint8_t count = reg_meta_count(e), at = 0; /* keys are kept sorted, so equal sets are equal lists */
    while (at < count && strcmp(e->extra->meta[at], key) < 0)
        at++;
    bool present = at < count && strcmp(e->extra->meta[at], key) == 0;
    if (present && !on) {
        struct reg_extra *x = e->extra;
        free(x->meta[at]);
        memmove(&x->meta[at], &x->meta[at + 1], (size_t)(count - at - 1) * sizeof *x->meta);
        x->meta_count--;
    }
    if (present || !on)
        return 0;
    if (count == REG_META_MAX || strlen(key) >= REG_META_KEY_MAX)
        return -1;
    struct reg_extra *x = extra_of(e);
    if (!x)
        return -1;
    char **m = realloc(x->meta, (count + 1u) * sizeof *m);
    if (!m)
        return -1;
    x->meta = m;
    char *copy = strdup(key);
    if (!copy)
        return -1;
    memmove(&m[at + 1], &m[at], (size_t)(count - at) * sizeof *m);
    m[at] = copy;
    x->meta_count++;
    return 0;
}
