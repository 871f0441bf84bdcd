/*
 * real/dns_front.h: the truncating front of the real world's DNS server.
 *
 * dnsmasq answers with every record it holds and has no way to cap an
 * answer; a scenario's `dns.max_answers: K` asks for answers of at most K
 * records, marked truncated (the TC bit), as a UDP answer cut to fit is.
 * The front listens where the nodes send their queries, forwards each one
 * to dnsmasq (which then listens on the namespace's loopback), and passes
 * the answer back, cut to K records when it holds more: a window at a
 * random rotation for A and AAAA answers (as servers rotate them), the
 * first K records otherwise (a compressed name may point into an earlier
 * record, so only a prefix is certain to stay valid).  When dnsmasq is
 * stopped (a servfail outage) the front answers SERVFAIL.  It serves UDP
 * only, as a truncated answer's resolver does not retry over TCP in the
 * model (clusterd runs with --dns-udp-only beside it).  Functions are
 * prefixed rdf_.
 */
#ifndef REAL_DNS_FRONT_H
#define REAL_DNS_FRONT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Cuts the DNS answer msg[0..len) to at most `max_answers` answer records
 * in place (the rotation picks the first kept record from `draw`), drops
 * the authority and additional sections and sets TC.  Returns the new
 * length; the answer is left as it was (and its length returned) when it
 * holds no more than max_answers records or cannot be parsed. */
size_t rdf_cut(uint8_t *msg, size_t len, size_t max_answers, uint32_t draw);

/* Starts the front as a child process inside namespace `ns`: it listens on
 * `listen_ip` port 53 (UDP) and forwards to 127.0.0.1:`upstream_port`.
 * The child dies with clustersim.  Its PID, or -1. */
pid_t rdf_start(const char *ns, const char *listen_ip, uint16_t upstream_port, size_t max_answers);

#endif
