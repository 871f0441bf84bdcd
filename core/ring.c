/*
 * core/ring.c: the consistent hash ring.  Nodes live in an array of name
 * copies sorted by strcmp, each with its point hashes sorted (its row).
 * A change only edits that array.  The first lookups after a change search
 * every row (a binary search per node: the smallest point at or after the
 * hash, ties to the node first in name order); once a ring has been looked
 * up RING_BUILD_AFTER times since its last change, it builds one array of
 * all points sorted by (hash, node name), and lookups search that.  A
 * cluster in flux (the simulator's fuzz runs change rings about once per
 * dozen lookups) never pays for merging points; a steady one (a registry
 * of a million names) searches one array.
 *
 * Each built point names its node by its index in name order, so two rings
 * of the same nodes build the same points: a shared memo keeps the points
 * of recent node sets, and a ring that builds one of them shares them
 * (counted references) instead of sorting its own.  Rows come from the memo
 * too, borrowed rather than copied.  A thousand trackers of a thousand
 * nodes each held 1.5 KB of rows and 4 KB of built points per node (6 GB);
 * with the memo they share one of each.
 */
#include "ring.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

#include "strmap.h"

/* Point hashes are XXH3, whose output is only fixed from xxHash 0.8.0 on:
 * an older library would place names differently. */
#if XXH_VERSION_NUMBER < 800
#error "clustersim needs xxHash 0.8.0 or later (stable XXH3 output)"
#endif

struct ring_point {
    uint64_t hash;
    uint32_t node; /* its node's index in r->nodes (name order) */
};

/* Built points, shared by the rings of one node set and the memo's layout
 * of it: freed with the last reference. */
struct ring_points {
    uint32_t refs;
    unsigned index_bits; /* starts has 2^index_bits + 1 entries, or none (0) */
    size_t count;
    uint32_t *starts;    /* starts[i]: the first point whose hash's top index_bits are >= i,
                            so a lookup searches one bucket's points (after p[]) */
    struct ring_point p[]; /* sorted by (hash, node name) */
};

/* About sixteen points a bucket of the index, up to 4,096 buckets (16 KB,
 * shared like the points); rings under 256 points search them all. */
static unsigned index_bits_for(size_t points)
{
    unsigned bits = 0;
    while (bits < 12 && ((size_t)16 << (bits + 1)) <= points)
        bits++;
    return bits >= 4 ? bits : 0;
}

static void index_points(struct ring_points *b)
{
    if (!b->index_bits)
        return;
    size_t buckets = (size_t)1 << b->index_bits, k = 0;
    for (size_t i = 0; i <= buckets; i++) {
        while (k < b->count && (b->p[k].hash >> (64 - b->index_bits)) < i)
            k++;
        b->starts[i] = (uint32_t)k;
    }
}

/* A name's first bytes, NUL-padded: memcmp of two keys orders them as
 * strcmp orders the names, as far as the keys go (node_search). */
#define RING_KEY 16
struct ring_key {
    char b[RING_KEY];
};

struct ring {
    uint32_t points_per_node;
    uint32_t static_quorum;
    char **nodes; /* sorted by strcmp */
    struct ring_key *keys; /* per node: its name's key, searched without reading names */
    uint64_t **hashes; /* per node, its row: points_per_node sorted point hashes, then their bucket index */
    bool *borrowed;    /* per node: its row is the memo's (not freed with the ring) */
    size_t node_count, node_cap;
    struct ring_points *built; /* a cache of the nodes, NULL while stale */
    bool stale;                /* the points are not built (changed since, or no memory) */
    uint32_t lookups;          /* since the last change, while stale */
    uint32_t build_after;      /* lookups after which a stale ring builds its points */
    struct ring_memo *memo;    /* shared point hashes and layouts, or NULL */
    uint64_t signature;        /* sum of XXH3 of the node names (layout_find) */
};

/* At most this many names are remembered; past it, rings compute again. */
#define MEMO_MAX 4096

/* Built points of a node set that a ring had, for rings that come to the
 * same set (the simulated nodes of a cluster mostly agree on it): points
 * refer to nodes by their index in name order, so equal sets have equal
 * points. */
struct ring_layout {
    uint64_t signature;
    char **names;             /* the set, in name order */
    size_t node_count;
    struct ring_points *built; /* one reference */
};

#define MEMO_LAYOUTS 64

struct ring_memo {
    uint32_t points_per_node;
    struct cs_strmap index;   /* node name -> its row of hashes */
    uint64_t **rows;          /* each a row: points_per_node sorted hashes and their bucket index */
    size_t count, cap;
    struct ring_layout layouts[MEMO_LAYOUTS];
    size_t layout_next;       /* the one replaced next, round robin */
    size_t layouts_taken;
};

struct ring *ring_new(uint32_t points_per_node, uint32_t static_quorum)
{
    struct ring *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->points_per_node = points_per_node ? points_per_node : RING_POINTS_DEFAULT;
    r->static_quorum = static_quorum;
    r->stale = true; /* built after RING_BUILD_AFTER lookups */
    r->build_after = RING_BUILD_AFTER;
    return r;
}

static struct ring_points *points_ref(struct ring_points *b)
{
    if (b)
        b->refs++;
    return b;
}

static void points_unref(struct ring_points *b)
{
    if (b && --b->refs == 0)
        free(b);
}

void ring_free(struct ring *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->node_count; i++) {
        free(r->nodes[i]);
        if (!r->borrowed[i])
            free(r->hashes[i]);
    }
    free(r->nodes);
    free(r->keys);
    free(r->hashes);
    free(r->borrowed);
    points_unref(r->built);
    free(r);
}

uint64_t ring_hash(const char *name)
{
    return XXH64(name, strlen(name), 0);
}

/* Sorts points by hash, stably (points arrive grouped by node in name
 * order, so equal hashes stay in node-name order): a counting pass on the
 * top bits (up to 2,048 buckets: one per point up to 16 nodes, a handful
 * per bucket on rings of hundreds) spreads the uniform hashes, then an
 * insertion sort orders the few that share a bucket.  `tmp` has room for n
 * points. */
static void sort_points(struct ring_point *p, struct ring_point *tmp, size_t n)
{
    enum { MAX_BITS = 11 };
    size_t count[((size_t)1 << MAX_BITS) + 1];
    unsigned bits = 1;
    while (bits < MAX_BITS && ((size_t)1 << bits) < n)
        bits++;
    size_t buckets = (size_t)1 << bits;
    unsigned shift = 64 - bits;
    memset(count, 0, (buckets + 1) * sizeof *count);
    for (size_t i = 0; i < n; i++)
        count[(p[i].hash >> shift) + 1]++;
    for (size_t b = 1; b <= buckets; b++)
        count[b] += count[b - 1];
    for (size_t i = 0; i < n; i++)
        tmp[count[p[i].hash >> shift]++] = p[i];
    for (size_t i = 1; i < n; i++) {
        struct ring_point key = tmp[i];
        size_t j = i;
        for (; j > 0 && tmp[j - 1].hash > key.hash; j--)
            tmp[j] = tmp[j - 1];
        tmp[j] = key;
    }
    memcpy(p, tmp, n * sizeof *p);
}

static void key_of(const char *name, struct ring_key *key)
{
    size_t n = strnlen(name, RING_KEY);
    memset(key->b, 0, RING_KEY);
    memcpy(key->b, name, n);
}

/* The index of node in r->nodes, or where it would be inserted (*found says
 * which). */
static size_t node_search(const struct ring *r, const char *node, bool *found)
{
    struct ring_key key;
    key_of(node, &key);
    bool long_name = key.b[RING_KEY - 1] != '\0'; /* equal keys then say nothing of the rest */
    size_t lo = 0, hi = r->node_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = memcmp(r->keys[mid].b, key.b, RING_KEY);
        if (c == 0 && long_name)
            c = strcmp(r->nodes[mid] + RING_KEY, node + RING_KEY);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

bool ring_contains(const struct ring *r, const char *node)
{
    bool found;
    node_search(r, node, &found);
    return found;
}

size_t ring_node_count(const struct ring *r)
{
    return r->node_count;
}

/* Sorts a node's point hashes: a counting pass on the top byte, then an
 * insertion sort that only has to order the few keys sharing a bucket
 * (hashes are uniform), far cheaper than qsort's calls for 128 keys. */
static void sort_hashes(uint64_t *h, uint64_t *tmp, size_t n)
{
    size_t count[257] = {0};
    for (size_t i = 0; i < n; i++)
        count[(h[i] >> 56) + 1]++;
    for (size_t b = 1; b < 257; b++)
        count[b] += count[b - 1];
    for (size_t i = 0; i < n; i++)
        tmp[count[h[i] >> 56]++] = h[i];
    for (size_t i = 1; i < n; i++) {
        uint64_t key = tmp[i];
        size_t j = i;
        for (; j > 0 && tmp[j - 1] > key; j--)
            tmp[j] = tmp[j - 1];
        tmp[j] = key;
    }
    memcpy(h, tmp, n * sizeof *h);
}

/* A row's bucket index, after its points_per_node hashes: entry b is the
 * index of its first point whose top byte is b or more (STARTS entries, the
 * last one points_per_node), so a lookup scans only the points sharing its
 * hash's top byte (half a point on average at 128 points).  Rows of more
 * than UINT16_MAX points have none and are binary-searched. */
#define STARTS 257

static bool has_starts(size_t points)
{
    return points <= UINT16_MAX;
}

/* The bytes of a row of `points` hashes and its bucket index. */
static size_t row_bytes(size_t points)
{
    return points * sizeof(uint64_t) + (has_starts(points) ? STARTS * sizeof(uint16_t) : 0);
}

static const uint16_t *row_starts(const uint64_t *row, size_t points)
{
    return (const uint16_t *)(row + points);
}

static void index_row(uint64_t *row, size_t points)
{
    if (!has_starts(points))
        return;
    uint16_t *starts = (uint16_t *)(row + points);
    size_t p = 0;
    for (size_t b = 0; b < STARTS; b++) {
        while (p < points && (row[p] >> 56) < b)
            p++;
        starts[b] = (uint16_t)p;
    }
}

/* A node's row: the hashes of its points (sorted), XXH3 of the name
 * seeded with the point's index, and their bucket index. */
static uint64_t *point_hashes(const char *node, size_t n)
{
    uint64_t *h = malloc(row_bytes(n));
    if (!h)
        return NULL;
    size_t len = strlen(node);
    for (size_t i = 0; i < n; i++)
        h[i] = XXH3_64bits_withSeed(node, len, (XXH64_hash_t)i);
    uint64_t *tmp = malloc(n * sizeof *tmp);
    if (!tmp) {
        free(h);
        return NULL;
    }
    sort_hashes(h, tmp, n);
    free(tmp);
    index_row(h, n);
    return h;
}

struct ring_memo *ring_memo_new(uint32_t points_per_node)
{
    struct ring_memo *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->points_per_node = points_per_node ? points_per_node : RING_POINTS_DEFAULT;
    cs_strmap_init(&m->index);
    return m;
}

static void layout_clear(struct ring_layout *l)
{
    for (size_t i = 0; i < l->node_count; i++)
        free(l->names[i]);
    free(l->names);
    points_unref(l->built);
    memset(l, 0, sizeof *l);
}

void ring_memo_free(struct ring_memo *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < MEMO_LAYOUTS; i++)
        layout_clear(&m->layouts[i]);
    for (size_t i = 0; i < m->count; i++)
        free(m->rows[i]);
    free(m->rows);
    cs_strmap_free(&m->index);
    free(m);
}

size_t ring_memo_count(const struct ring_memo *m)
{
    return m ? m->count : 0;
}

size_t ring_memo_layouts_taken(const struct ring_memo *m)
{
    return m ? m->layouts_taken : 0;
}

int ring_use_memo(struct ring *r, struct ring_memo *memo)
{
    size_t bytes = row_bytes(r->points_per_node);
    for (size_t i = 0; i < r->node_count; i++) /* rows borrowed from the memo left become our own */
        if (r->borrowed[i]) {
            uint64_t *own = malloc(bytes);
            if (!own)
                return -1;
            memcpy(own, r->hashes[i], bytes);
            r->hashes[i] = own;
            r->borrowed[i] = false;
        }
    r->memo = memo && memo->points_per_node == r->points_per_node ? memo : NULL;
    return 0;
}

/* Remembers a copy of a node's hashes (best effort: a full memo or no
 * memory leaves it out). */
static void memo_keep(struct ring_memo *m, const char *node, const uint64_t *hashes)
{
    if (m->count == MEMO_MAX)
        return;
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t **rows = realloc(m->rows, cap * sizeof *rows);
        if (!rows)
            return;
        m->rows = rows;
        m->cap = cap;
    }
    size_t bytes = row_bytes(m->points_per_node);
    uint64_t *row = malloc(bytes);
    if (!row || cs_strmap_put(&m->index, node, (int32_t)m->count) != 0) {
        free(row);
        return;
    }
    memcpy(row, hashes, bytes);
    m->rows[m->count++] = row;
}

/* The memo's layout of the ring's node set, or NULL. */
static const struct ring_layout *layout_find(const struct ring *r)
{
    if (!r->memo)
        return NULL;
    for (size_t i = 0; i < MEMO_LAYOUTS; i++) {
        const struct ring_layout *l = &r->memo->layouts[i];
        if (l->built && l->signature == r->signature && l->node_count == r->node_count) {
            size_t k = 0;
            while (k < r->node_count && strcmp(l->names[k], r->nodes[k]) == 0)
                k++;
            if (k == r->node_count)
                return l;
        }
    }
    return NULL;
}

/* Offers the ring's built points to the memo (best effort: without memory
 * nothing is kept), in place of its oldest layout. */
static void layout_keep(struct ring *r)
{
    struct ring_memo *m = r->memo;
    if (!m || r->stale)
        return;
    struct ring_layout *l = &m->layouts[m->layout_next];
    m->layout_next = (m->layout_next + 1) % MEMO_LAYOUTS;
    layout_clear(l);
    l->names = calloc(r->node_count ? r->node_count : 1, sizeof *l->names);
    for (size_t i = 0; l->names && i < r->node_count; i++, l->node_count++)
        if (!(l->names[i] = strdup(r->nodes[i])))
            break;
    if (!l->names || l->node_count != r->node_count) {
        layout_clear(l);
        return;
    }
    l->built = points_ref(r->built);
    l->signature = r->signature;
}

/* Shares the memo's points of this node set, when it has them: true. */
static bool layout_take(struct ring *r)
{
    const struct ring_layout *l = layout_find(r);
    if (!l)
        return false;
    r->built = points_ref(l->built);
    r->stale = false;
    r->memo->layouts_taken++;
    return true;
}

static uint64_t name_hash(const char *node)
{
    return XXH3_64bits(node, strlen(node));
}

/* A node's sorted point hashes (and their bucket index): the memo's row,
 * borrowed, when it has one (it keeps what it took for as long as it
 * lives), else a row of the ring's own, computed and offered to the memo. */
static uint64_t *ring_point_hashes(struct ring *r, const char *node, bool *borrowed)
{
    struct ring_memo *m = r->memo;
    int32_t at = m ? cs_strmap_get(&m->index, node) : -1;
    *borrowed = at >= 0;
    if (at >= 0)
        return m->rows[at];
    uint64_t *h = point_hashes(node, r->points_per_node);
    if (h && m)
        memo_keep(m, node, h);
    return h;
}

/* The points are a cache of the rows: a change drops them. */
static void changed(struct ring *r)
{
    r->stale = true;
    r->lookups = 0;
    points_unref(r->built);
    r->built = NULL;
}

void ring_set_build_after(struct ring *r, uint32_t lookups)
{
    r->build_after = lookups;
}

int ring_add(struct ring *r, const char *node)
{
    bool found;
    size_t at = node_search(r, node, &found);
    if (found)
        return 0;
    char *copy = strdup(node);
    bool borrowed = false;
    uint64_t *hashes = copy ? ring_point_hashes(r, node, &borrowed) : NULL;
    if (!hashes) {
        free(copy);
        return -1;
    }
    if (r->node_count == r->node_cap) {
        size_t cap = r->node_cap ? r->node_cap * 2 : 8;
        char **nodes = realloc(r->nodes, cap * sizeof *nodes);
        uint64_t **h = nodes ? realloc(r->hashes, cap * sizeof *h) : NULL;
        bool *b = h ? realloc(r->borrowed, cap * sizeof *b) : NULL;
        struct ring_key *k = b ? realloc(r->keys, cap * sizeof *k) : NULL;
        if (nodes)
            r->nodes = nodes;
        if (h)
            r->hashes = h;
        if (b)
            r->borrowed = b;
        if (!k) {
            free(copy);
            if (!borrowed)
                free(hashes);
            return -1;
        }
        r->keys = k;
        r->node_cap = cap;
    }
    memmove(&r->nodes[at + 1], &r->nodes[at], (r->node_count - at) * sizeof *r->nodes);
    memmove(&r->keys[at + 1], &r->keys[at], (r->node_count - at) * sizeof *r->keys);
    memmove(&r->hashes[at + 1], &r->hashes[at], (r->node_count - at) * sizeof *r->hashes);
    memmove(&r->borrowed[at + 1], &r->borrowed[at], (r->node_count - at) * sizeof *r->borrowed);
    r->nodes[at] = copy;
    key_of(copy, &r->keys[at]);
    r->hashes[at] = hashes;
    r->borrowed[at] = borrowed;
    r->node_count++;
    r->signature += name_hash(copy);
    changed(r);
    return 0;
}

void ring_remove(struct ring *r, const char *node)
{
    bool found;
    size_t at = node_search(r, node, &found);
    if (!found)
        return;
    r->signature -= name_hash(r->nodes[at]);
    free(r->nodes[at]);
    if (!r->borrowed[at])
        free(r->hashes[at]);
    memmove(&r->nodes[at], &r->nodes[at + 1], (r->node_count - at - 1) * sizeof *r->nodes);
    memmove(&r->keys[at], &r->keys[at + 1], (r->node_count - at - 1) * sizeof *r->keys);
    memmove(&r->hashes[at], &r->hashes[at + 1], (r->node_count - at - 1) * sizeof *r->hashes);
    memmove(&r->borrowed[at], &r->borrowed[at + 1], (r->node_count - at - 1) * sizeof *r->borrowed);
    r->node_count--;
    changed(r);
}

/* Builds the array of every node's points, sorted (or takes it from the
 * memo's layouts). */
static int rebuild(struct ring *r)
{
    size_t n = r->points_per_node;
    if (r->node_count > SIZE_MAX / sizeof(struct ring_point) / n)
        return -1;
    size_t need = r->node_count * n;
    if (layout_take(r))
        return 0;
    unsigned bits = index_bits_for(need);
    size_t index_len = bits ? ((size_t)1 << bits) + 1 : 0;
    struct ring_points *b = malloc(sizeof *b + (need ? need : 1) * sizeof *b->p + index_len * sizeof *b->starts);
    struct ring_point *scratch = b ? malloc((need ? need : 1) * sizeof *scratch) : NULL;
    if (!scratch) {
        free(b);
        return -1;
    }
    size_t k = 0;
    for (size_t node = 0; node < r->node_count; node++)
        for (size_t i = 0; i < n; i++, k++) {
            b->p[k].hash = r->hashes[node][i];
            b->p[k].node = (uint32_t)node;
        }
    if (k)
        sort_points(b->p, scratch, k);
    free(scratch);
    b->count = k;
    b->refs = 1;
    b->index_bits = bits;
    b->starts = (uint32_t *)(b->p + (need ? need : 1));
    index_points(b);
    r->built = b;
    r->stale = false;
    layout_keep(r);
    return 0;
}

/* The owner of hash h from the rows: the smallest point at or after h
 * (equal points: the node first in name order, as in the built array),
 * else, wrapping, the smallest point of all. */
static const char *owner_by_rows(const struct ring *r, uint64_t h)
{
    size_t n = r->points_per_node, best = SIZE_MAX, lowest = 0;
    uint64_t best_hash = 0;
    for (size_t i = 0; i < r->node_count; i++) {
        const uint64_t *row = r->hashes[i];
        if (row[0] < r->hashes[lowest][0])
            lowest = i;
        size_t lo = 0, hi = n;
        if (has_starts(n)) { /* the first point at or after h is in h's bucket, or starts the next */
            const uint16_t *starts = row_starts(row, n);
            lo = starts[h >> 56];
            hi = starts[(h >> 56) + 1];
            while (lo < hi && row[lo] < h)
                lo++;
        } else {
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (row[mid] < h)
                    lo = mid + 1;
                else
                    hi = mid;
            }
        }
        if (lo < n && (best == SIZE_MAX || row[lo] < best_hash)) {
            best = i;
            best_hash = row[lo];
        }
    }
    return r->nodes[best != SIZE_MAX ? best : lowest];
}

const char *ring_owner_hash(const struct ring *r, uint64_t h)
{
    if (r->node_count == 0 || r->node_count < r->static_quorum)
        return NULL;
    if (r->stale) { /* the points are a cache: the rows answer too */
        struct ring *w = (struct ring *)r;
        if (w->lookups < w->build_after) {
            w->lookups++;
            return owner_by_rows(r, h);
        }
        if (rebuild(w) != 0)
            return owner_by_rows(r, h); /* no memory for the points */
    }
    /* The first point whose hash is >= h; among equal hashes the array order
     * (by node name) makes the lowest-sorted node win. */
    const struct ring_point *points = r->built->p;
    size_t lo = 0, hi = r->built->count;
    if (r->built->index_bits) { /* the first point at or after h is in h's bucket, or starts the next */
        size_t bucket = (size_t)(h >> (64 - r->built->index_bits));
        lo = r->built->starts[bucket];
        hi = r->built->starts[bucket + 1];
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (points[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == r->built->count)
        lo = 0;
    return r->nodes[points[lo].node];
}

const char *ring_owner(const struct ring *r, const char *name)
{
    return ring_owner_hash(r, ring_hash(name));
}

void ring_each_node(const struct ring *r, void (*fn)(void *ctx, const char *node), void *ctx)
{
    for (size_t i = 0; i < r->node_count; i++)
        fn(ctx, r->nodes[i]);
}

/* Appends s to buf (at most size bytes with the NUL), counting its full
 * length in *len. */
static void append(char *buf, size_t size, size_t *len, const char *s)
{
    size_t n = strlen(s);
    if (*len + 1 < size) {
        size_t room = size - 1 - *len;
        memcpy(buf + *len, s, n < room ? n : room);
    }
    *len += n;
}

int ring_format(const struct ring *r, char *buf, size_t size)
{
    size_t len = 0;
    append(buf, size, &len, "#<Ring[");
    for (size_t i = 0; i < r->node_count; i++) {
        if (i > 0)
            append(buf, size, &len, ", ");
        append(buf, size, &len, r->nodes[i]);
    }
    append(buf, size, &len, "]>");
    if (size > 0)
        buf[len < size ? len : size - 1] = '\0';
    return len > (size_t)INT_MAX ? INT_MAX : (int)len;
}
