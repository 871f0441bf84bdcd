/*
 * real/dns.h: the real world's DNS server: dnsmasq in its own namespace,
 * serving the scenario's zone (A, AAAA, SRV) from files the runner
 * rewrites as the zone changes (A and AAAA through a hosts file and
 * SIGHUP; a change of SRV records restarts it).  Names of the zone with no
 * record answer NXDOMAIN.  With max_answers set, dnsmasq listens on the
 * namespace's loopback behind the truncating front (dns_front.h).  Functions are prefixed rd_.
 */
#ifndef REAL_DNS_H
#define REAL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../sim/scenario.h"

struct rd_record {
    struct sc_dns_entry e;
    bool live;
};

struct rd_server {
    char ns[64];          /* the namespace it runs in */
    char listen[64];      /* its address */
    char dir[512];        /* its files and log */
    uint32_t ttl_s;       /* the TTL of every answer */
    pid_t pid;
    size_t max_answers;   /* > 0: answers go through the truncating front */
    pid_t front_pid;
    struct rd_record *records;
    size_t count, cap;
    char srv_written[8192]; /* the SRV lines of the running configuration */
    bool down;            /* stopped for a servfail outage */
    char err[512];
};

/* Adds or removes a record (removing one that is not there does nothing). */
int rd_add(struct rd_server *d, const struct sc_dns_entry *e);
void rd_remove(struct rd_server *d, const struct sc_dns_entry *e);

/* Writes the files and (re)starts or reloads dnsmasq so that it serves the
 * records now held; 0 or -1 with d->err. */
int rd_publish(struct rd_server *d);

/* Stops dnsmasq (queries are then refused: the servfail outage) or brings
 * it back. */
int rd_outage(struct rd_server *d, bool down);

/* Stops it and frees the records. */
void rd_close(struct rd_server *d);

#endif
