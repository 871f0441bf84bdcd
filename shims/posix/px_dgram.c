/*
 * shims/posix/px_dgram.c: datagrams of the real-socket node (gossip): one
 * UDP socket, bound at the first send or join to the group's port (shared
 * with other nodes on the same host), multicast out of the node's own
 * address with loopback on, so several daemons on one machine hear each
 * other.  Received datagrams become CS_EV_DGRAM events.  IPv4 groups only.
 */
#define _GNU_SOURCE
#include "px_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* Opens the socket bound to `port` on first use; -1 when it cannot. */
static int dgram_socket(struct px_node *n, uint16_t port)
{
    if (n->dgram_fd >= 0)
        return n->dgram_fd;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    unsigned char ttl = 1, loop = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    struct in_addr self;
    memcpy(&self, n->env.self_addr.ip, 4);
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &self, sizeof self);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_ANY)};
    if (bind(fd, (struct sockaddr *)&any, sizeof any) != 0 || px_watch(n, fd, EPOLLIN, PX_KEY_DGRAM, EPOLL_CTL_ADD) != 0) {
        px_plog(n, CS_LOG_WARN, "cannot open the gossip socket on port %u: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    n->dgram_fd = fd;
    return fd;
}

int px_env_dgram_send(struct cs_env *env, const struct cs_addr *to, const void *data, size_t len)
{
    struct px_node *n = px_node_of(env);
    if (to->family != 4 || dgram_socket(n, to->port) < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = px_to_sockaddr(to, &ss);
    return sendto(n->dgram_fd, data, len, 0, (struct sockaddr *)&ss, sl) == (ssize_t)len ? 0 : -1;
}

int px_env_dgram_join(struct cs_env *env, const struct cs_addr *group)
{
    struct px_node *n = px_node_of(env);
    if (group->family != 4 || dgram_socket(n, group->port) < 0)
        return -1;
    struct ip_mreq m;
    memcpy(&m.imr_multiaddr, group->ip, 4);
    memcpy(&m.imr_interface, n->env.self_addr.ip, 4);
    if (setsockopt(n->dgram_fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) != 0) {
        px_plog(n, CS_LOG_WARN, "cannot join the gossip group: %s", strerror(errno));
        return -1;
    }
    return 0;
}

void px_dgram_readable(struct px_node *n)
{
    uint8_t buf[65536];
    for (;;) {
        struct sockaddr_storage from;
        socklen_t fl = sizeof from;
        ssize_t r = recvfrom(n->dgram_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (r < 0)
            return;
        struct cs_event ev = {.type = CS_EV_DGRAM};
        px_from_sockaddr(&from, &ev.u.dgram.from);
        ev.u.dgram.data = buf;
        ev.u.dgram.len = (size_t)r;
        px_deliver(n, &ev);
        if (n->dgram_fd < 0)
            return;
    }
}

void px_dgram_close(struct px_node *n)
{
    if (n->dgram_fd >= 0)
        close(n->dgram_fd);
    n->dgram_fd = -1;
}
