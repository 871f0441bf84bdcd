/*
 * core/registry.h: the name table every tracker holds in full: name ->
 * entry {owner node, handle, metadata, clock, version}.  Owners are small
 * indices into a per-tracker table of node names, clocks are interval tree
 * clocks kept encoded (core/itc.h), and the fields most entries leave at
 * their defaults live apart, so an entry is one 64-byte line that also
 * holds the head of its name (its first 7 bytes: room for the origin).  The hash table's 8-byte cells hold a slot and
 * a 32-bit tag: inserting a new name compares tags only, and a hit on a
 * name shorter than REG_HEAD reads the cell and the entry, nothing else.
 * Iteration follows insertion slots, never addresses; callers that need a
 * canonical order sort by name.
 */
#ifndef CS_REGISTRY_H
#define CS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define REG_NAME_MAX 256      /* longer names are refused */
#define REG_CLOCK_MAX 22      /* encoded ITC bytes kept per entry */
#define REG_CLOCK_INLINE 8    /* ... in the entry itself; longer ones in its extra */
#define REG_HEAD 7            /* a name's first bytes, kept in its entry */
#define REG_META_MAX 8        /* meta keys per entry (groups are meta keys) */
#define REG_META_KEY_MAX 64
#define REG_LEN_LONG 255      /* a name's length byte for 255 bytes and more */

enum reg_flags {
    REG_STARTED = 1,   /* started through register_started: restartable */
    REG_TOMBSTONE = 2, /* fixed mode: unregistered, kept so the deletion spreads */
    REG_DEPARTED = 4,  /* fixed mode, with REG_TOMBSTONE: removed because a peer saw the
                          owner depart, not unregistered; a live owner refutes it */
};

/* The fields most entries leave at their defaults, kept apart so that an
 * entry is one 64-byte cache line (the origin, set in most entries of a
 * join storm, those of handed-off or restarted processes, lives in the
 * entry itself). */
struct reg_extra {
    uint8_t meta_count;
    bool origin_zero;     /* the origin is 0 (the entry's origin field cannot say so) */
    uint64_t meta_version;/* fixed mode: last-writer-wins counter of the meta keys */
    int64_t spec;         /* start spec of started processes (counter: initial value) */
    char **meta;          /* "key" strings (group memberships), meta_count of them */
    uint8_t clock[REG_CLOCK_MAX]; /* a clock longer than REG_CLOCK_INLINE */
};

/* The fields a lookup reads come first: with the name's head, a hit on a
 * name shorter than REG_HEAD needs the hash cell and this line, nothing
 * else (the name itself lives in the arena). */
struct reg_entry {
    char head[REG_HEAD];  /* the name's first bytes, NUL-padded */
    uint8_t clock_len;
    uint64_t handle;      /* the process: owner's creation << 32 | local number */
    uint32_t owner;       /* index into the tracker's node table */
    uint32_t flags;
    char *name;           /* the whole name, in the registry's name arena; NULL marks
                             a free slot */
    uint64_t version;     /* fixed mode: last-writer-wins counter of the registration */
    uint64_t origin;      /* fixed mode: handle of the write this copy descends from
                             when it is not the entry's own handle, else 0 */
    struct reg_extra *extra; /* NULL while the clock fits inline and the rest is 0 */
    uint8_t clock[REG_CLOCK_INLINE]; /* the encoded clock when it fits */
};

struct reg_chunk;

struct registry {
    struct reg_entry *slots;
    size_t slot_count, slot_cap;
    uint32_t *free_slots;
    size_t free_count, free_cap;
    struct reg_cell {     /* open addressing, eight cells a cache line: */
        uint32_t slot;    /* slot + 1; 0 empty, UINT32_MAX tombstone */
        uint32_t tag;     /* the name's 32-bit hash: its low bits are the home cell,
                             and only a cell whose tag matches has its entry's name
                             compared, so inserting a new name reads no entry */
    } *table;
    struct reg_chunk *names; /* names are packed into 64 KiB chunks (no per-name
                                malloc); a removed name's bytes are reused only
                                when the registry is freed */
    size_t table_cap, used, live;
    uint64_t version;        /* bumped whenever a name is added or removed (from 1) */
};


/* The length of a string stored after a byte that holds it (the arena's
 * names; the tracker's node names): strlen past REG_LEN_LONG bytes only. */
static inline size_t reg_stored_len(const char *s)
{
    uint8_t n = (uint8_t)s[-1];
    return n < REG_LEN_LONG ? n : REG_LEN_LONG + strlen(s + REG_LEN_LONG);
}

/* The length of an entry's name. */
static inline size_t reg_name_len(const struct reg_entry *e)
{
    return reg_stored_len(e->name);
}

/* Prepares an empty registry. */
void registry_init(struct registry *r);
/* Frees every entry. */
void registry_free(struct registry *r);
/* Number of entries (tombstones included). */
size_t registry_count(const struct registry *r);
/* True when entry `e` holds `name` (what a lookup checks once the tags
 * match: the head, then for a long name the rest in the arena). */
bool reg_entry_named(const struct reg_entry *e, const char *name);
/* The entry of `name`, or NULL. */
struct reg_entry *registry_get(const struct registry *r, const char *name);
/* Looks up n names at once: out[i] is the entry of names[i] or NULL.  The
 * hash cells of a group of names are prefetched together, then their
 * entries, then the entries' names, so the memory misses of one group
 * overlap. */
void registry_get_many(const struct registry *r, const char *const *names, size_t n,
                       struct reg_entry **out);
/* Prefetches the table cell where `name` would be found or inserted (a
 * hint: nothing changes), so callers that know their next names can
 * overlap the memory misses of their lookups.  Returns the name's tag
 * for registry_put_tagged. */
uint32_t registry_prefetch(const struct registry *r, const char *name);
/* Inserts or returns the entry of `name` (zeroed when new); NULL out of memory. */
struct reg_entry *registry_put(struct registry *r, const char *name, bool *created);
/* registry_put with the tag registry_prefetch returned for `name`. */
struct reg_entry *registry_put_tagged(struct registry *r, const char *name, uint32_t tag, bool *created);
/* Removes the entry of `name` if present. */
void registry_remove(struct registry *r, const char *name);
/* Calls fn on every entry (slot order; fn may not add or remove). */
void registry_each(const struct registry *r, void (*fn)(void *ctx, struct reg_entry *e), void *ctx);
/* Sets or clears a meta key (keys stay sorted); -1 when full or out of memory. */
int reg_meta_set(struct reg_entry *e, const char *key, bool on);
/* True when the entry has the meta key. */
bool reg_meta_has(const struct reg_entry *e, const char *key);
/* Clears every meta key. */
void reg_meta_clear(struct reg_entry *e);
/* The number of meta keys, and key i (sorted). */
uint8_t reg_meta_count(const struct reg_entry *e);
const char *reg_meta_key(const struct reg_entry *e, uint8_t i);

/* The rarely set fields, read and written through these (the setters
 * return -1 when out of memory, the entry unchanged).  The origin is the
 * entry's handle unless set to another one; reg_set_handle changes the
 * handle and keeps the origin. */
/* Allocates the extra now (0), so that no setter can fail afterwards;
 * -1 out of memory. */
int reg_reserve_extra(struct reg_entry *e);
/* Allocates what setting the origin needs now (0), so that reg_set_origin
 * to a handle other than 0 and reg_set_handle cannot fail afterwards (only
 * an origin of 0, kept in the extra, takes memory); -1 out of memory. */
int reg_reserve_origin(struct reg_entry *e);
uint64_t reg_origin(const struct reg_entry *e);
int reg_set_origin(struct reg_entry *e, uint64_t origin);
int reg_set_handle(struct reg_entry *e, uint64_t handle);
uint64_t reg_meta_version(const struct reg_entry *e);
int reg_set_meta_version(struct reg_entry *e, uint64_t version);
int64_t reg_spec(const struct reg_entry *e);
int reg_set_spec(struct reg_entry *e, int64_t spec);
/* The encoded clock (clock_len bytes), wherever it is kept. */
const uint8_t *reg_clock(const struct reg_entry *e);
/* Sets it (len <= REG_CLOCK_MAX); -1 (clock unchanged) when too long or
 * out of memory. */
int reg_set_clock(struct reg_entry *e, const uint8_t *clock, size_t len);

#endif
