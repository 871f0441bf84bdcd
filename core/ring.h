/*
 * core/ring.h: the placement ring of Swarm's ring distribution (see
 * docs/swarm-model.md, "Placement and handoff"): a consistent
 * hash ring with RING_POINTS_DEFAULT points per node, where a name's owner is
 * the node of the first point at or after hash(name), wrapping around; and
 * its StaticQuorumRing variant, which names no owner while fewer than
 * `static_quorum` nodes are in the ring.
 *
 * A ring owns copies of its node names, each node's sorted point hashes,
 * and (once looked up RING_BUILD_AFTER times since its last change) a
 * sorted array of all their points.  It is pure: no I/O, no clock, no
 * randomness; the result depends only on the set of nodes (never on the
 * order of additions and removals, nor on addresses, nor on whether the
 * array is built).
 *
 * Hashes, exactly (xxHash, so the values are the same on every platform):
 *   - hash(name)       = XXH64(the bytes of name without its NUL, seed 0);
 *   - point i of node  = XXH3_64bits_withSeed(the bytes of the node name
 *                              without its NUL, seed i),
 *     for i = 0 .. points_per_node - 1.
 * Points use a different function from names (and XXH3 of a short input
 * costs a few nanoseconds: every membership change hashes 128 points).
 *
 * Points are kept sorted by (hash, node name); two points with equal hashes
 * are ordered by strcmp of their node names, so the first point at or after
 * a hash is well defined whatever the insertion order.  Lookups are binary
 * searches: one per node before the array is built, O(log(nodes * points))
 * after.
 */
#ifndef CS_RING_H
#define CS_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_POINTS_DEFAULT 128
/* Lookups after a change that search the nodes' rows before the ring
 * builds its sorted array of points. */
#define RING_BUILD_AFTER 64

struct ring; /* opaque */

/* A cache of node point hashes, and of the built points of recent node
 * sets, that several rings may share (a simulator's nodes all hash the same
 * names, and mostly agree on the set): a pure memo, so a ring places names
 * the same with or without it.  Not thread-safe: share it only among rings
 * used by one thread. */
struct ring_memo;

/* An empty memo for rings of points_per_node points (0: the default); NULL
 * when out of memory. */
struct ring_memo *ring_memo_new(uint32_t points_per_node);

/* Frees the memo; NULL is a no-op.  The rings that use it must be freed or
 * detached first (ring_use_memo(r, NULL)), which gives them their own
 * copies of the point hashes they borrowed. */
void ring_memo_free(struct ring_memo *memo);

/* How many nodes' hashes the memo holds. */
size_t ring_memo_count(const struct ring_memo *memo);
/* How many times a ring took the built points of its node set from the
 * memo (a layout another ring with those nodes left there) instead of
 * sorting its own. */
size_t ring_memo_layouts_taken(const struct ring_memo *memo);

/* Makes the ring borrow point hashes (and share built layouts) from the
 * memo, and add those it computes; NULL (the default) computes every
 * node's points.  Rows borrowed from the memo used before become the
 * ring's own copies first; -1 (nothing changed but some copies) when out
 * of memory for them.  The memo must outlive the ring's use of it. */
int ring_use_memo(struct ring *r, struct ring_memo *memo);

/* A new empty ring with points_per_node points per node (0 means
 * RING_POINTS_DEFAULT) and a static quorum: while the ring holds fewer than
 * static_quorum nodes no name has an owner (0 or 1 gives a plain Ring; Swarm's
 * StaticQuorumRing defaults to 2).  NULL when out of memory. */
struct ring *ring_new(uint32_t points_per_node, uint32_t static_quorum);

/* Sets after how many lookups since its last change the ring builds its
 * array of points (RING_BUILD_AFTER by default; 0: at the first lookup;
 * UINT32_MAX: never).  Placement is the same either way. */
void ring_set_build_after(struct ring *r, uint32_t lookups);

/* Frees the ring, its node names and its points; NULL is a no-op. */
void ring_free(struct ring *r);

/* Adds node (the name is copied) with its points_per_node points.
 * Idempotent: adding a node already present changes nothing.  0, or -1 out
 * of memory (the ring is then unchanged). */
int ring_add(struct ring *r, const char *node);

/* Removes node and its points; a no-op if it is absent.  Pointers returned
 * for this node by ring_owner become invalid. */
void ring_remove(struct ring *r, const char *node);

/* Whether node is in the ring. */
bool ring_contains(const struct ring *r, const char *node);

/* The number of nodes in the ring. */
size_t ring_node_count(const struct ring *r);

/* The owner of `name`: the node of the first point at or after hash(name),
 * wrapping; NULL when the ring is empty or below the static quorum. The
 * pointer stays valid until that node is removed or the ring freed. */
const char *ring_owner(const struct ring *r, const char *name);

/* Same, with the name's hash precomputed by ring_hash (for tight loops). */
const char *ring_owner_hash(const struct ring *r, uint64_t h);

/* hash(name) as defined above: XXH64 of the name's bytes, seed 0. */
uint64_t ring_hash(const char *name);

/* Calls fn for every node, in sorted name order (strcmp).  fn must not add
 * or remove nodes of this ring. */
void ring_each_node(const struct ring *r, void (*fn)(void *ctx, const char *node), void *ctx);

/* Text like Swarm's inspect: "#<Ring[app@10.0.0.1, app@10.0.0.2]>" (nodes
 * sorted; "#<Ring[]>" when empty).  Writes at most size bytes including the
 * terminating NUL (always terminated when size > 0, truncated if needed) and
 * returns the length of the full text, like snprintf: the output was
 * truncated when the result is >= size. */
int ring_format(const struct ring *r, char *buf, size_t size);

#endif
