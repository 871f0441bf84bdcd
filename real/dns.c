/*
 * real/dns.c: dnsmasq for the real world (dns.h).
 */
#define _GNU_SOURCE
#include "dns.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dns_front.h"
#include "exec.h"
#include "../core/grow.h"

static bool same(const struct sc_dns_entry *a, const struct sc_dns_entry *b)
{
    return !strcmp(a->name, b->name) && a->rec.type == b->rec.type &&
           (a->rec.type == CS_DNS_SRV ? !strcmp(a->rec.target, b->rec.target) && a->rec.port == b->rec.port
                                      : cs_addr_compare(&a->rec.addr, &b->rec.addr) == 0);
}

int rd_add(struct rd_server *d, const struct sc_dns_entry *e)
{
    for (size_t i = 0; i < d->count; i++)
        if (same(&d->records[i].e, e)) {
            d->records[i].live = true;
            return 0;
        }
    if (cs_grow((void **)&d->records, &d->cap, d->count + 1, sizeof *d->records) != 0)
        return -1;
    d->records[d->count++] = (struct rd_record){*e, true};
    return 0;
}

void rd_remove(struct rd_server *d, const struct sc_dns_entry *e)
{
    for (size_t i = 0; i < d->count; i++)
        if (same(&d->records[i].e, e))
            d->records[i].live = false;
}

/* The SRV lines and the local= lines (every name the zone ever held answers
 * NXDOMAIN when it holds no record) of the configuration. */
static void config_lines(const struct rd_server *d, char *srv, size_t size)
{
    size_t len = 0;
    srv[0] = '\0';
    for (size_t i = 0; i < d->count; i++) {
        const struct sc_dns_entry *e = &d->records[i].e;
        if (e->rec.type == CS_DNS_SRV && d->records[i].live)
            len += (size_t)snprintf(srv + len, len < size ? size - len : 0, "srv-host=%s,%s,%u\n", e->name,
                                    e->rec.target, (unsigned)e->rec.port);
        bool first = true;
        for (size_t k = 0; k < i && first; k++)
            first = strcmp(d->records[k].e.name, e->name) != 0;
        if (first)
            len += (size_t)snprintf(srv + len, len < size ? size - len : 0, "local=/%s/\n", e->name);
    }
}

static int write_hosts(struct rd_server *d)
{
    char path[600];
    snprintf(path, sizeof path, "%s/hosts", d->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < d->count; i++) {
        const struct sc_dns_entry *e = &d->records[i].e;
        if (!d->records[i].live || e->rec.type == CS_DNS_SRV)
            continue;
        char a[64];
        cs_addr_format(&e->rec.addr, a, sizeof a);
        fprintf(f, "%s %s\n", a, e->name);
    }
    return fclose(f);
}

#define FRONT_UPSTREAM_PORT 5353
#define FRONT_UPSTREAM_PORT_TEXT "5353"

static long file_size(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long size = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
    fclose(f);
    return size < 0 ? 0 : size;
}

/* True once the log holds dnsmasq's "started" line past offset `from`
 * (it writes it after binding its sockets), within 5 s while it runs. */
static bool came_up(const char *log, long from, pid_t pid)
{
    for (int waited = 0; waited < 5000 && !rx_exited(pid); waited += 10) {
        FILE *f = fopen(log, "r");
        if (f) {
            char line[512];
            bool up = false;
            if (fseek(f, from, SEEK_SET) == 0)
                while (!up && fgets(line, sizeof line, f))
                    up = strstr(line, "started, version") != NULL;
            fclose(f);
            if (up)
                return true;
        }
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    return false;
}

static int start(struct rd_server *d, const char *lines)
{
    if (d->max_answers && d->front_pid <= 0 &&
        (d->front_pid = rdf_start(d->ns, d->listen, FRONT_UPSTREAM_PORT, d->max_answers)) < 0) {
        snprintf(d->err, sizeof d->err, "cannot start the truncating DNS front");
        d->front_pid = 0;
        return -1;
    }
    char conf[600], hosts[600], log[600], ttl[32], listen[96], confarg[620], hostsarg[620], logarg[620];
    snprintf(conf, sizeof conf, "%s/dnsmasq.conf", d->dir);
    snprintf(hosts, sizeof hosts, "%s/hosts", d->dir);
    snprintf(log, sizeof log, "%s/dnsmasq.log", d->dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fputs(lines, f);
    fclose(f);
    snprintf(ttl, sizeof ttl, "--local-ttl=%u", (unsigned)d->ttl_s);
    snprintf(listen, sizeof listen, "--listen-address=%s", d->max_answers ? "127.0.0.1" : d->listen);
    snprintf(confarg, sizeof confarg, "--conf-file=%s", conf);
    snprintf(hostsarg, sizeof hostsarg, "--addn-hosts=%s", hosts);
    snprintf(logarg, sizeof logarg, "--log-facility=%s", log);
    char *argv[] = {"ip", "netns", "exec", d->ns, "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
                    "--bind-interfaces", listen, d->max_answers ? "--port=" FRONT_UPSTREAM_PORT_TEXT : "--port=53", "--user=root", "--group=root", "--pid-file=",
                    "--log-queries", logarg, ttl, confarg, hostsarg, NULL};
    /* A few tries: on a starved machine the dnsmasq just stopped may hold
     * its port a moment longer, and the new one then exits at once; and a
     * start is only taken once dnsmasq wrote "started" to its log (a
     * restarted one that was alive after 50 ms but never came up left two
     * `make test` runs without DNS for a whole trial). */
    for (int attempt = 0; attempt < 5; attempt++) {
        long logged = file_size(log);
        d->pid = rx_spawn(argv, log);
        if (d->pid < 0) {
            snprintf(d->err, sizeof d->err, "cannot start dnsmasq: %s", strerror(errno));
            d->pid = 0;
            return -1;
        }
        snprintf(d->srv_written, sizeof d->srv_written, "%s", lines);
        nanosleep(&(struct timespec){0, (50 + 100 * attempt) * 1000 * 1000}, NULL); /* it binds its socket */
        if (d->front_pid > 0 && rx_exited(d->front_pid)) {
            snprintf(d->err, sizeof d->err, "the truncating DNS front exited at once");
            d->front_pid = 0;
            return -1;
        }
        if (!rx_exited(d->pid) && came_up(log, logged, d->pid))
            return 0;
        if (!rx_exited(d->pid))
            rx_stop(d->pid, SIGKILL, 2000);
        snprintf(d->err, sizeof d->err, "dnsmasq did not come up, %d times (see %s)", attempt + 1, log);
        d->pid = 0;
    }
    return -1;
}

int rd_publish(struct rd_server *d)
{
    char lines[8192];
    if (write_hosts(d) != 0) {
        snprintf(d->err, sizeof d->err, "cannot write %s/hosts", d->dir);
        return -1;
    }
    config_lines(d, lines, sizeof lines);
    if (d->down)
        return 0;
    if (d->pid > 0 && !strcmp(lines, d->srv_written)) {
        kill(d->pid, SIGHUP); /* re-reads the hosts file */
        return 0;
    }
    if (d->pid > 0)
        rx_stop(d->pid, SIGTERM, 2000);
    d->pid = 0;
    return start(d, lines);
}

int rd_outage(struct rd_server *d, bool down)
{
    if (down == d->down)
        return 0;
    d->down = down;
    if (down) {
        rx_stop(d->pid, SIGTERM, 2000);
        d->pid = 0;
        return 0;
    }
    return rd_publish(d);
}

void rd_close(struct rd_server *d)
{
    if (d->front_pid > 0)
        rx_stop(d->front_pid, SIGTERM, 2000);
    d->front_pid = 0;
    if (d->pid > 0)
        rx_stop(d->pid, SIGTERM, 2000);
    d->pid = 0;
    free(d->records);
    d->records = NULL;
    d->count = d->cap = 0;
}
