/*
 * config/cluster_file_write.c: writes a cluster configuration as a
 * clusterd configuration file (config/cluster_file.h's schema: top-level
 * `membership` and `tracker`), every setting stated, so that reading it
 * back gives the same configuration.  The real world (real/) writes one
 * per node from a scenario's cluster section; tests check the round trip.
 */
#include "cluster_file.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* A double-quoted YAML scalar: backslashes and quotes escaped, control
 * characters as \xNN. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(f, "\\x%02x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void put_duration(FILE *f, const char *key, cs_time t)
{
    fprintf(f, "%s: %" PRId64 "ns", key, (int64_t)t);
}

static void put_topology(FILE *f, const struct membership_topology_config *t)
{
    fprintf(f, "    - name: ");
    put_string(f, t->name);
    fprintf(f, "\n      strategy: %s\n", membership_strategy_name(t->strategy));
    if (t->strategy == MEM_GOSSIP) {
        char group[64];
        cs_addr_format(&t->multicast, group, sizeof group);
        fprintf(f, "      multicast: %s\n      port: %u\n", group, (unsigned)t->gossip_port);
        fprintf(f, "      interval: {min: %" PRId64 "ns, max: %" PRId64 "ns}\n", (int64_t)t->gossip_min,
                (int64_t)t->gossip_max);
        return;
    }
    fprintf(f, "      ");
    put_duration(f, "polling_interval", t->polling_interval);
    fprintf(f, "\n      ");
    put_duration(f, "start_delay", t->start_delay);
    fputc('\n', f);
    if (t->strategy == MEM_STATIC) {
        fprintf(f, "      hosts:\n");
        for (size_t i = 0; i < t->host_count; i++) {
            fprintf(f, "        - ");
            put_string(f, t->hosts[i]);
            fputc('\n', f);
        }
        return;
    }
    fprintf(f, "      query: ");
    put_string(f, t->query);
    fprintf(f, "\n      application_name: ");
    put_string(f, t->app_name);
    fputc('\n', f);
}

static void put_patterns(FILE *f, const char *key, const char (*p)[CONN_PATTERN_MAX], size_t n)
{
    if (n == 0)
        return;
    fprintf(f, "  %s:\n", key);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    - ");
        put_string(f, p[i]);
        fputc('\n', f);
    }
}

static void put_membership(FILE *f, const struct membership_config *m)
{
    fprintf(f, "membership:\n  mode: %s\n  secret: ", m->mode == MEM_LIBCLUSTER ? "libcluster" : "fixed");
    put_string(f, m->conn.secret);
    fprintf(f, "\n  ");
    put_duration(f, "tick_timeout", m->conn.tick_timeout);
    fprintf(f, "\n  ");
    put_duration(f, "setup_timeout", m->conn.setup_timeout);
    fprintf(f, "\n  absent_rounds: %" PRIu32 "\n", m->absent_rounds);
    put_patterns(f, "whitelist", m->conn.whitelist, m->conn.whitelist_count);
    put_patterns(f, "blacklist", m->conn.blacklist, m->conn.blacklist_count);
    if (m->topology_count == 0)
        return;
    fprintf(f, "  topologies:\n");
    for (size_t i = 0; i < m->topology_count; i++)
        put_topology(f, &m->topologies[i]);
}

static void put_tracker(FILE *f, const struct cluster_config *cfg)
{
    if (!cfg->tracker) {
        fprintf(f, "tracker: off\n");
        return;
    }
    const struct trk_config *t = &cfg->trk;
    fprintf(f, "tracker:\n  mode: %s\n", t->mode == TRK_SWARM ? "swarm" : "fixed");
    const struct { const char *key; cs_time v; } durs[] = {
        {"sync_nodes_timeout", t->sync_nodes_timeout}, {"anti_entropy_interval", t->anti_entropy_interval},
        {"retry_interval", t->retry_interval},         {"start_delay", t->start_delay},
        {"start_jitter", t->start_jitter},             {"sync_timeout", t->sync_timeout},
        {"batch_window", t->batch_window},             {"placement_settle", t->placement_settle},
        {"pull_timeout", t->pull_timeout},
    };
    for (size_t i = 0; i < sizeof durs / sizeof durs[0]; i++) {
        fprintf(f, "  ");
        put_duration(f, durs[i].key, durs[i].v);
        fputc('\n', f);
    }
    fprintf(f, "  retry_max: %" PRIu32 "\n  static_quorum: %" PRIu32 "\n", t->retry_max, t->static_quorum);
}

int cluster_file_write(FILE *f, const struct cluster_config *cfg)
{
    fprintf(f, "# written by clustersim: a clusterd configuration (config/cluster_file.h)\n");
    put_membership(f, &cfg->mem);
    put_tracker(f, cfg);
    return ferror(f) ? -1 : 0;
}
