/*
 * core/timer_tag.c: timer tags by name (timer_tag.h).  Each table is
 * indexed by its module's own timer enum, so a kind added there without a
 * name here shows as "kindN" rather than as a wrong name.
 */
#include "timer_tag.h"

#include "conn_internal.h"
#include "membership_internal.h"
#include "tracker/internal.h"

#include <stdio.h>

static const char *const conn_kinds[] = {
    [CONN_TIMER_SETUP] = "setup",
    [CONN_TIMER_TICK] = "tick",
};
static const char *const membership_kinds[] = {
    [MEMBERSHIP_TIMER_POLL] = "poll",
    [MEMBERSHIP_TIMER_GOSSIP] = "gossip",
    [MEMBERSHIP_TIMER_SERIAL_GUARD] = "serial_guard",
};
static const char *const trk_kinds[] = {
    [TRK_TIMER_START] = "start",
    [TRK_TIMER_CLUSTER_JOIN] = "cluster_join",
    [TRK_TIMER_ANTI_ENTROPY] = "anti_entropy",
    [TRK_TIMER_RETRY_CHECK] = "retry_check",
    [TRK_TIMER_SYNC_TIMEOUT] = "sync_timeout",
    [TRK_TIMER_CALL_TIMEOUT] = "call_timeout",
    [TRK_TIMER_ORPHANS] = "orphans",
    [TRK_TIMER_BATCH_FLUSH] = "batch_flush",
    [TRK_TIMER_PLACEMENT] = "placement",
};
static const char *const ping_kinds[] = {[1] = "poll", [2] = "ping"};

static const struct {
    const char *name;
    const char *const *kinds;
    size_t count;
} modules[] = {
    [CS_TAG_CONN] = {"conn", conn_kinds, sizeof conn_kinds / sizeof *conn_kinds},
    [CS_TAG_MEM] = {"membership", membership_kinds, sizeof membership_kinds / sizeof *membership_kinds},
    [CS_TAG_TRK] = {"tracker", trk_kinds, sizeof trk_kinds / sizeof *trk_kinds},
    [CS_TAG_PING] = {"ping", ping_kinds, sizeof ping_kinds / sizeof *ping_kinds},
};

const char *cs_tag_name(uint64_t tag, char *buf, size_t size)
{
    unsigned module = CS_TAG_MODULE_OF(tag), kind = CS_TAG_KIND_OF(tag);
    const char *mod = module < sizeof modules / sizeof *modules ? modules[module].name : NULL;
    const char *k = mod && kind < modules[module].count ? modules[module].kinds[kind] : NULL;
    if (mod && k)
        snprintf(buf, size, "%s.%s", mod, k);
    else if (mod)
        snprintf(buf, size, "%s.kind%u", mod, kind);
    else
        snprintf(buf, size, "module%u.kind%u", module, kind);
    return buf;
}
