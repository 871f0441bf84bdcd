/*
 * core/tracker/names.c: the tracker's interned node names (index 0 is
 * self; registry entries name their owners by index) with what is kept per
 * name, the host's numbers for its peers (trk_message_from), and the
 * `nodes` list with the ring that follows it.
 */
#include "internal.h"
#include "../grow.h"

#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL /* short keys: no call into the library */
#include <xxhash.h>

void trk_names_free(struct tracker *t)
{
    for (size_t i = 0; i < t->name_count; i++)
        free(t->names[i] - 1); /* after its length byte (trk_name_len) */
    free(t->names);
    free(t->name_hashes);
    free(t->met);
    free(t->check_out);
    free(t->unknown_since);
    free(t->syncs);
    free(t->pull_state);
    free(t->is_node);
    free(t->owner_live);
    free(t->host_slot);
    free(t->slot_names);
    cs_refmap_free(&t->name_index);
}

/* Room for `cap` names in every per-name array; false when out of memory
 * (the arrays grown so far keep their contents). */
static bool names_room(struct tracker *t, size_t cap)
{
#define GROW(field)                                                  \
    do {                                                             \
        void *grown = realloc(t->field, cap * sizeof *t->field);     \
        if (!grown)                                                  \
            return false;                                            \
        t->field = grown;                                            \
    } while (0)
    GROW(names);
    GROW(name_hashes);
    GROW(met);
    GROW(check_out);
    GROW(unknown_since);
    GROW(syncs);
    GROW(pull_state);
    GROW(is_node);
    GROW(owner_live);
    GROW(host_slot);
#undef GROW
    t->name_cap = cap;
    return true;
}

int32_t trk_name_index(struct tracker *t, const char *name)
{
    /* Runs of one name (a batch's owners, a peer's messages) skip the map. */
    if (t->last_name_index < t->name_count && strcmp(t->names[t->last_name_index], name) == 0)
        return (int32_t)t->last_name_index;
    int32_t i = cs_refmap_get(&t->name_index, name);
    if (i >= 0) {
        t->last_name_index = (uint32_t)i;
        return i;
    }
    if (t->name_count == t->name_cap && !names_room(t, t->name_cap ? t->name_cap * 2 : 8))
        return -1;
    size_t len = strlen(name);
    char *block = malloc(len + 2);
    if (!block)
        return -1;
    block[0] = (char)(uint8_t)(len < REG_LEN_LONG ? len : REG_LEN_LONG);
    char *copy = memcpy(block + 1, name, len + 1);
    if (cs_refmap_put(&t->name_index, copy, (int32_t)t->name_count) != 0) {
        free(block);
        return -1;
    }
    t->names[t->name_count] = copy;
    t->name_hashes[t->name_count] = XXH3_64bits(copy, len);
    t->met[t->name_count] = false;
    t->check_out[t->name_count] = false;
    t->unknown_since[t->name_count] = -1;
    t->syncs[t->name_count] = (struct trk_sync_watch){0, 0, 0};
    t->pull_state[t->name_count] = TRK_PULL_NONE;
    t->is_node[t->name_count] = false;
    t->owner_live[t->name_count] = 0;
    t->host_slot[t->name_count] = -1;
    return (int32_t)t->name_count++;
}

/* A message's sender: through the host's number for it when it gave one
 * (remembered at the first message: a number never names another peer),
 * else by name. */
int32_t trk_sender_index(struct tracker *t, const char *peer, int32_t slot)
{
    if (slot >= 0 && (size_t)slot < t->slot_names_cap && t->slot_names[slot] > 0)
        return t->slot_names[slot];
    int32_t idx = trk_name_index(t, peer);
    if (slot < 0 || idx <= 0)
        return idx;
    size_t old_cap = t->slot_names_cap;
    if (cs_grow((void **)&t->slot_names, &t->slot_names_cap, (size_t)slot + 1, sizeof *t->slot_names) != 0)
        return idx;
    memset(t->slot_names + old_cap, 0, (t->slot_names_cap - old_cap) * sizeof *t->slot_names);
    t->slot_names[slot] = idx;
    t->host_slot[idx] = slot;
    return idx;
}

int32_t trk_event_peer(struct tracker *t, const struct trk_event *ev)
{
    if (ev->peer_index > 0)
        return ev->peer_index;
    return ev->peer ? trk_name_index(t, ev->peer) : -1;
}

const char *trk_name(const struct tracker *t, uint32_t idx)
{
    return idx < t->name_count ? t->names[idx] : "?";
}

size_t trk_name_len(const struct tracker *t, uint32_t idx)
{
    return idx < t->name_count ? reg_stored_len(t->names[idx]) : 1; /* "?" */
}

bool trk_is_node(const struct tracker *t, uint32_t idx)
{
    return idx < t->name_count && t->is_node[idx];
}

void trk_add_node(struct tracker *t, uint32_t idx)
{
    if (idx == 0 || trk_is_node(t, idx))
        return;
    trk_batch_flush(t); /* events made before it was a node are not its (its snapshot carries them) */
    if (cs_grow((void **)&t->nodes, &t->node_cap, t->node_count + 1, sizeof *t->nodes) != 0)
        return;
    t->nodes[t->node_count++] = idx;
    t->is_node[idx] = true;
    if (t->owner_live[idx])
        t->owners_not_nodes--;
    t->met[idx] = true;
    t->node_changes++;
    t->node_list_changed_at = t->env->now(t->env);
    ring_add(t->ring, trk_name(t, idx));
}

void trk_remove_node(struct tracker *t, uint32_t idx)
{
    trk_batch_flush(t); /* the node was one when those events were made */
    for (size_t i = 0; i < t->node_count; i++)
        if (t->nodes[i] == idx) {
            t->is_node[idx] = false;
            if (t->owner_live[idx])
                t->owners_not_nodes++;
            memmove(&t->nodes[i], &t->nodes[i + 1], (t->node_count - i - 1) * sizeof *t->nodes);
            t->node_count--;
            t->node_changes++;
            t->node_list_changed_at = t->env->now(t->env);
            ring_remove(t->ring, trk_name(t, idx));
            break;
        }
    trk_pull_node_removed(t, idx);
    trk_sync_abandon_all(t, idx);
    trk_handoffs_forget(t); /* one may have gone down with its link: look again */
}
