/*
 * shims/posix/px_dns.c: c-ares bound to the epoll loop (see px_dns.h).
 */
#define _DEFAULT_SOURCE
#include "px_dns.h"

#include <sys/select.h>
#include <sys/time.h>

#include <ares.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#define MAX_RECORDS 256

struct px_dns {
    int epfd;
    ares_channel channel;
    px_dns_done done;
    void *ctx;
};

struct query {
    struct px_dns *d;
    cs_query_id id;
    enum cs_dns_type type;
};

static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    struct px_dns *d = data;
    struct epoll_event ev = {.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0),
                             .data.u64 = PX_DNS_KEY_BASE + (uint64_t)fd};
    if (!readable && !writable) {
        epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
        return;
    }
    if (epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
        epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

struct px_dns *px_dns_new(int epfd, const char *servers, bool udp_only, px_dns_done done, void *ctx, char *err, size_t errlen)
{
    static int library;
    if (!library && ares_library_init(ARES_LIB_INIT_ALL) == ARES_SUCCESS)
        library = 1;
    struct px_dns *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->epfd = epfd;
    d->done = done;
    d->ctx = ctx;
    struct ares_options opts = {.sock_state_cb = sock_state, .sock_state_cb_data = d, .timeout = 2000, .tries = 2,
                                .flags = udp_only ? ARES_FLAG_IGNTC : 0};
    int rc = ares_init_options(&d->channel, &opts,
                               ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
    if (rc == ARES_SUCCESS && servers && servers[0])
        rc = ares_set_servers_ports_csv(d->channel, servers);
    if (rc != ARES_SUCCESS) {
        snprintf(err, errlen, "cannot set up the resolver%s%s: %s", servers ? " for " : "", servers ? servers : "",
                 ares_strerror(rc));
        if (d->channel)
            ares_destroy(d->channel);
        free(d);
        return NULL;
    }
    return d;
}

static enum cs_dns_status status_of(int rc)
{
    switch (rc) {
    case ARES_SUCCESS: return CS_DNS_OK;
    case ARES_ENOTFOUND:
    case ARES_ENODATA: return CS_DNS_NXDOMAIN;
    case ARES_ETIMEOUT: return CS_DNS_TIMEOUT;
    default: return CS_DNS_SERVFAIL;
    }
}

static size_t parse_addresses(const struct query *q, const unsigned char *buf, int len, struct cs_dns_record *out)
{
    size_t n = 0;
    if (q->type == CS_DNS_A) {
        struct ares_addrttl a[MAX_RECORDS];
        int count = MAX_RECORDS;
        if (ares_parse_a_reply(buf, len, NULL, a, &count) != ARES_SUCCESS)
            return 0;
        for (int i = 0; i < count; i++, n++) {
            out[n] = (struct cs_dns_record){.type = CS_DNS_A, .ttl_s = (uint32_t)a[i].ttl};
            out[n].addr.family = 4;
            memcpy(out[n].addr.ip, &a[i].ipaddr, 4);
        }
    } else {
        struct ares_addr6ttl a[MAX_RECORDS];
        int count = MAX_RECORDS;
        if (ares_parse_aaaa_reply(buf, len, NULL, a, &count) != ARES_SUCCESS)
            return 0;
        for (int i = 0; i < count; i++, n++) {
            out[n] = (struct cs_dns_record){.type = CS_DNS_AAAA, .ttl_s = (uint32_t)a[i].ttl};
            out[n].addr.family = 6;
            memcpy(out[n].addr.ip, &a[i].ip6addr, 16);
        }
    }
    return n;
}

static size_t parse_srv(const unsigned char *buf, int len, struct cs_dns_record *out)
{
    struct ares_srv_reply *srv = NULL;
    if (ares_parse_srv_reply(buf, len, &srv) != ARES_SUCCESS)
        return 0;
    size_t n = 0;
    for (struct ares_srv_reply *s = srv; s && n < MAX_RECORDS; s = s->next, n++) {
        out[n] = (struct cs_dns_record){.type = CS_DNS_SRV, .port = s->port, .priority = s->priority,
                                        .weight = s->weight, .ttl_s = 0};
        snprintf(out[n].target, sizeof out[n].target, "%s", s->host);
    }
    ares_free_data(srv);
    return n;
}

static void answered(void *arg, int rc, int timeouts, unsigned char *buf, int len)
{
    (void)timeouts;
    struct query *q = arg;
    static struct cs_dns_record records[MAX_RECORDS];
    struct cs_dns_answer a = {.status = status_of(rc), .records = records,
                              .truncated = rc == ARES_SUCCESS && len > 2 && (buf[2] & 0x02)}; /* the TC bit */
    if (rc == ARES_SUCCESS)
        a.count = q->type == CS_DNS_SRV ? parse_srv(buf, len, records) : parse_addresses(q, buf, len, records);
    if (rc == ARES_SUCCESS && a.count == 0)
        a.status = CS_DNS_NXDOMAIN; /* the name exists without records of this type */
    if (rc != ARES_EDESTRUCTION)
        q->d->done(q->d->ctx, q->id, &a);
    free(q);
}

void px_dns_query(struct px_dns *d, cs_query_id id, const char *name, enum cs_dns_type type)
{
    struct query *q = malloc(sizeof *q);
    if (!q)
        return;
    *q = (struct query){d, id, type};
    int t = type == CS_DNS_A ? 1 : type == CS_DNS_AAAA ? 28 : 33;
    ares_query(d->channel, name, 1 /* C_IN */, t, answered, q);
}

void px_dns_event(struct px_dns *d, uint64_t key, uint32_t events)
{
    ares_socket_t fd = (ares_socket_t)(key - PX_DNS_KEY_BASE);
    ares_process_fd(d->channel, (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? fd : ARES_SOCKET_BAD,
                    (events & EPOLLOUT) ? fd : ARES_SOCKET_BAD);
}

int px_dns_wait_ms(struct px_dns *d)
{
    struct timeval tv, *t = ares_timeout(d->channel, NULL, &tv);
    return t ? (int)(t->tv_sec * 1000 + (t->tv_usec + 999) / 1000) : -1;
}

void px_dns_timeouts(struct px_dns *d)
{
    ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
}

void px_dns_free(struct px_dns *d)
{
    if (!d)
        return;
    ares_destroy(d->channel);
    free(d);
}
