/*
 * tests/fuzz/fuzz_wire.c: libFuzzer / AFL++ target for everything core/
 * decodes from the network.  The first byte picks the surface:
 *   0  frames on an inbound link of a cluster node (handshake, DATA, LEAVE),
 *   1  gossip datagrams to a node of the gossip strategy,
 *   2  tracker messages from a peer, fixed mode,
 *   3  tracker messages from a peer, Swarm mode;
 * the rest is a list of messages, each a length byte then that many bytes.
 * Timers fire between messages.  Bad input must be refused and counted,
 * never crash, leak or corrupt.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../core/cluster.h"
#include "../../core/tracker.h"
#include "null_env.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits the input into messages: a length byte, then the bytes. */
static bool next_message(const uint8_t **data, size_t *size, const uint8_t **msg, size_t *len)
{
    if (*size == 0)
        return false;
    size_t n = (*data)[0];
    if (n > *size - 1)
        n = *size - 1;
    *msg = *data + 1;
    *len = n;
    *data += 1 + n;
    *size -= 1 + n;
    return true;
}

static void cluster_handle(void *instance, const struct cs_event *ev)
{
    cluster_proto.handle(instance, ev);
}

static void fuzz_cluster(const uint8_t *data, size_t size, bool gossip)
{
    struct null_env n;
    null_env_init(&n, "10.0.0.1");
    struct cluster_config cfg;
    cluster_config_defaults(&cfg);
    snprintf(cfg.mem.conn.secret, sizeof cfg.mem.conn.secret, "fuzz-secret");
    cfg.mem.topology_count = 1;
    membership_topology_defaults(&cfg.mem.topologies[0], gossip ? MEM_GOSSIP : MEM_STATIC);
    cfg.tracker = true;
    trk_config_defaults(&cfg.trk);
    void *node = cluster_proto.create(&n.env, &cfg, "app@10.0.0.1");
    if (!node)
        return;
    cluster_proto.start(node);
    struct cs_addr peer;
    cs_addr_parse("10.0.0.2", &peer);
    struct cs_event up = {.type = CS_EV_LINK_UP};
    up.u.link_up.link = 7;
    up.u.link_up.inbound = true;
    up.u.link_up.peer = peer;
    if (!gossip)
        cluster_proto.handle(node, &up);
    const uint8_t *msg;
    size_t len;
    while (next_message(&data, &size, &msg, &len)) {
        struct cs_event ev;
        memset(&ev, 0, sizeof ev);
        if (gossip) {
            ev.type = CS_EV_DGRAM;
            ev.u.dgram.from = peer;
            ev.u.dgram.data = msg;
            ev.u.dgram.len = len;
        } else {
            ev.type = CS_EV_LINK_MSG;
            ev.u.msg.link = 7;
            ev.u.msg.data = msg;
            ev.u.msg.len = len;
        }
        cluster_proto.handle(node, &ev);
        null_env_fire(&n, CS_MSEC(300), cluster_handle, node);
    }
    cluster_proto.destroy(node);
}

static int host_send(void *ctx, const char *peer, int32_t slot, const uint8_t *data, size_t len)
{
    (void)ctx, (void)peer, (void)slot, (void)data, (void)len;
    return 0;
}

static void tracker_handle(void *instance, const struct cs_event *ev)
{
    trk_handle(instance, ev);
}

static void fuzz_tracker(const uint8_t *data, size_t size, enum trk_mode mode)
{
    struct null_env n;
    null_env_init(&n, "10.0.0.1");
    struct trk_config cfg;
    trk_config_defaults(&cfg);
    cfg.mode = mode;
    struct trk_host host = {.send = host_send};
    struct tracker *t = trk_new(&n.env, &cfg, "app@10.0.0.1", 1, &host);
    if (!t)
        return;
    trk_start(t);
    trk_nodeup(t, "app@10.0.0.2");
    null_env_fire(&n, CS_SEC(10), tracker_handle, t); /* start, cluster_wait, join */
    const uint8_t *msg;
    size_t len;
    for (unsigned i = 0; next_message(&data, &size, &msg, &len); i++) {
        /* Two peers, so requests may be parked and forwarded. */
        trk_message(t, i % 3 == 2 ? "app@10.0.0.3" : "app@10.0.0.2", msg, len);
        if (i == 4)
            trk_nodeup(t, "app@10.0.0.3");
        null_env_fire(&n, CS_MSEC(500), tracker_handle, t);
    }
    trk_nodedown(t, "app@10.0.0.2");
    null_env_fire(&n, CS_SEC(6), tracker_handle, t);
    trk_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 4) {
    case 0: fuzz_cluster(data + 1, size - 1, false); break;
    case 1: fuzz_cluster(data + 1, size - 1, true); break;
    case 2: fuzz_tracker(data + 1, size - 1, TRK_FIXED); break;
    default: fuzz_tracker(data + 1, size - 1, TRK_SWARM); break;
    }
    return 0;
}
