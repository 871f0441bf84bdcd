/*
 * sim/dist.c: sampling and formatting of delay distributions.
 */
#include "dist.h"

#include <math.h>
#include <stdio.h>

struct sim_dist sim_dist_fixed(cs_time v)
{
    struct sim_dist d = {SIM_DIST_FIXED, v, v};
    return d;
}

cs_time sim_dist_sample(const struct sim_dist *d, struct pcg32 *rng)
{
    switch (d->kind) {
    case SIM_DIST_FIXED:
        return d->a;
    case SIM_DIST_UNIFORM:
        if (d->b <= d->a)
            return d->a;
        return d->a + (cs_time)pcg32_below64(rng, (uint64_t)(d->b - d->a) + 1);
    case SIM_DIST_EXP: {
        double u = pcg32_unit(rng);
        double extra = -log1p(-u) * (double)d->b;
        if (extra > 1e18)
            extra = 1e18;
        return d->a + (cs_time)extra;
    }
    }
    return d->a;
}

int sim_duration_format(cs_time t, char *buf, size_t size)
{
    static const struct { cs_time unit; const char *name; } units[] = {
        {CS_SEC(3600), "h"}, {CS_SEC(60), "m"}, {CS_SEC(1), "s"},
        {CS_MSEC(1), "ms"},  {CS_USEC(1), "us"}, {1, "ns"},
    };
    const char *sign = t < 0 ? "-" : "";
    cs_time v = t < 0 ? -t : t;
    if (v == 0)
        return snprintf(buf, size, "0s");
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (v % units[i].unit == 0)
            return snprintf(buf, size, "%s%lld%s", sign, (long long)(v / units[i].unit),
                            units[i].name);
    return snprintf(buf, size, "%s%.9gs", sign, (double)v / 1e9);
}

int sim_dist_format(const struct sim_dist *d, char *buf, size_t size)
{
    char a[32], b[32];
    sim_duration_format(d->a, a, sizeof a);
    sim_duration_format(d->b, b, sizeof b);
    switch (d->kind) {
    case SIM_DIST_UNIFORM:
        return snprintf(buf, size, "uniform(%s..%s)", a, b);
    case SIM_DIST_EXP:
        return snprintf(buf, size, "exponential(min %s, mean %s)", a, b);
    default:
        return snprintf(buf, size, "%s", a);
    }
}
