/*
 * core/itc.h: interval tree clocks (Almeida, Baquero, Fonte 2008, "Interval
 * Tree Clocks: A Logical Clock for Dynamic Systems"), the logical clocks that
 * Swarm's tracker keeps per node and per registry entry.  This file owns the
 * stamp algebra (seed, fork, event, join, peek, the causal order), the
 * compact binary encoding of a stamp and its text form.
 *
 * A stamp is a pair (id, event).  The id tree says which part of the unit
 * interval the stamp owns: a leaf 0 (nothing) or 1 (everything), or a node
 * (l, r) splitting the interval in halves.  The event tree is a leaf n, or a
 * node (n, l, r) adding n to both halves.  Every tree this module returns is
 * normalized: no id node (0, 0) or (1, 1), and in every event node one child
 * has minimum 0 and the two children are not equal leaves.  So two stamps are
 * equal exactly when their trees (and their encodings) are identical.
 *
 * Trees are immutable and may be shared: a result can point at nodes of its
 * inputs, so the arenas of the inputs must live as long as the result (copy a
 * stamp into another arena with itc_encode + itc_decode).  Stamps must come
 * from these functions.  Nothing here does I/O, reads a clock or draws a
 * random number.
 */
#ifndef CS_ITC_H
#define CS_ITC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trees deeper than this (levels of nodes below the root, a leaf being depth
 * 0) are neither encoded nor decoded. */
#define ITC_MAX_DEPTH 64

/* Tree nodes live in an arena that is freed at once. */
struct itc_arena; /* opaque */

/* A new empty arena, or NULL when out of memory. */
struct itc_arena *itc_arena_new(void);
/* Frees the arena and every node in it; NULL is accepted. */
void itc_arena_free(struct itc_arena *a);
/* Forgets every node (stamps built in the arena become invalid) but keeps the
 * memory for reuse, and clears the failure flag. */
void itc_arena_reset(struct itc_arena *a);
/* True when an allocation failed since the arena was created or last reset.
 * After a failure, results built in the arena are not meaningful (the
 * operations still return well-formed trees, never NULL). */
bool itc_arena_failed(const struct itc_arena *a);

typedef struct itc_id itc_id; /* id tree: leaf 0 or 1, or node (l, r) */
typedef struct itc_ev itc_ev; /* event tree: leaf n, or node (n, l, r) */
struct itc_stamp {
    const itc_id *id;
    const itc_ev *ev;
};

/* The seed stamp (1, 0): owns the whole interval, has seen no event. */
struct itc_stamp itc_seed(struct itc_arena *a);
/* Splits the id of s in two disjoint halves (split in the paper); both halves
 * keep the event tree of s.  Forking an anonymous stamp (id 0) gives two
 * anonymous stamps. */
void itc_fork(struct itc_arena *a, struct itc_stamp s, struct itc_stamp *left,
              struct itc_stamp *right);
/* Records an event (inflate): fills the event tree where the id owns the
 * interval if that raises it, else grows it by one at the cheapest place
 * (fewest expansions of event leaves, then shallowest).  An anonymous stamp
 * (id 0) cannot record events and is returned unchanged. */
struct itc_stamp itc_event(struct itc_arena *a, struct itc_stamp s);
/* Merges two stamps: the sum of the ids (which should be disjoint; if they
 * overlap the result owns their union) and the pointwise maximum of the
 * events. */
struct itc_stamp itc_join(struct itc_arena *a, struct itc_stamp x, struct itc_stamp y);
/* The anonymous copy (0, ev) of s, to send the events without an identity. */
struct itc_stamp itc_peek(struct itc_arena *a, struct itc_stamp s);
/* True when the events of x are pointwise at most those of y (x happened
 * before or equals y); ids are ignored. */
bool itc_leq(struct itc_stamp x, struct itc_stamp y);

enum itc_order { ITC_EQUAL, ITC_BEFORE, ITC_AFTER, ITC_CONCURRENT };
/* The causal order of the events of x relative to y, from itc_leq both ways:
 * EQUAL, BEFORE (x < y), AFTER (x > y) or CONCURRENT. */
enum itc_order itc_compare(struct itc_stamp x, struct itc_stamp y);
/* True for a stamp equal to the seed: id 1 and event 0. */
bool itc_is_seed_like(struct itc_stamp s);

/* Compact binary encoding (for the wire and for storing a clock in a registry
 * entry in a few bytes): returns the length written, or -1 if it does not fit
 * in cap bytes or a tree is deeper than ITC_MAX_DEPTH.
 *
 * Layout: the id tree in preorder as bits, least significant bit of each
 * byte first (node: 1 then left and right; leaf: 0 then its value bit),
 * zero-padded to a whole byte; then the event tree in preorder, each element
 * an unsigned LEB128 varint of 2n (leaf n) or 2n + 1 (node n, then left and
 * right).  The seed is 02 00, an event on the seed 02 02.  Encodings are
 * canonical: equal stamps, equal bytes. */
int itc_encode(struct itc_stamp s, uint8_t *buf, size_t cap);
/* Decodes buf[0..len) into the arena and returns len, or -1 on malformed or
 * truncated input; never reads past len, and recursion stops at
 * ITC_MAX_DEPTH (deeper trees are rejected).  Also rejected: trailing bytes,
 * non-zero padding bits, overlong varints, trees that are not normalized,
 * event counts whose sum along a path exceeds 2^62, and allocation failure
 * (*out is untouched on failure). */
int itc_decode(struct itc_arena *a, const uint8_t *buf, size_t len, struct itc_stamp *out);
/* Text in the shape Elixir prints Swarm's clocks: the seed is "{1, 0}", a
 * forked id "{{1, 0}, 0}" style: id leaves 0/1, id nodes {l, r}, event leaves
 * n, event nodes {n, l, r}; stamp = {id, event}. Returns the length.
 * Like snprintf: writes at most size bytes including the terminating NUL and
 * returns the length of the whole text, so a result >= size means it was
 * truncated. */
int itc_format(struct itc_stamp s, char *buf, size_t size);

#endif
