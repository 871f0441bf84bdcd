/*
 * shims/posix/px_dns.h: asynchronous DNS for the real-socket node (A, AAAA
 * and SRV) with c-ares, driven by the node's epoll loop: c-ares tells which
 * sockets to watch, the loop feeds their events back, and answers arrive
 * through a callback from px_dns_event / px_dns_timeouts (never from inside
 * px_dns_query).  The nameserver is configurable (tests point it at a local
 * dnsmasq); c-ares retries truncated answers over TCP itself.
 */
#ifndef SHIMS_POSIX_PX_DNS_H
#define SHIMS_POSIX_PX_DNS_H

#include <stdint.h>

#include "../../core/env.h"

#define PX_DNS_KEY_BASE (1ULL << 41) /* epoll keys at or above belong here */

struct px_dns;

/* Receives an answer; `answer` is valid during the call only. */
typedef void (*px_dns_done)(void *ctx, cs_query_id id, const struct cs_dns_answer *answer);

/* Creates the resolver; `servers` is NULL (the system's) or c-ares' CSV
 * form "127.0.0.1:5353,[::1]:53".  With `udp_only`, an answer that came
 * truncated over UDP is used as it came and reported truncated, instead of
 * being asked again over TCP.  NULL with a message on failure. */
struct px_dns *px_dns_new(int epfd, const char *servers, bool udp_only, px_dns_done done, void *ctx, char *err, size_t errlen);
/* Starts a query; its answer comes later through `done`. */
void px_dns_query(struct px_dns *d, cs_query_id id, const char *name, enum cs_dns_type type);
/* Handles an epoll event whose key is >= PX_DNS_KEY_BASE. */
void px_dns_event(struct px_dns *d, uint64_t key, uint32_t events);
/* Milliseconds until c-ares needs px_dns_timeouts, or -1 with nothing pending. */
int px_dns_wait_ms(struct px_dns *d);
/* Runs c-ares' timeouts and retries. */
void px_dns_timeouts(struct px_dns *d);
void px_dns_free(struct px_dns *d);

#endif
