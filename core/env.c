/*
 * core/env.c: small helpers on top of the environment seam (formatted log
 * lines, unbiased bounded random numbers).  Pure: everything goes
 * through the function pointers of struct cs_env.
 */
#include "env.h"

#include <stdio.h>

void cs_logf(struct cs_env *env, enum cs_log_level level, const char *fmt, ...)
{
    if (!env->log || !env->log_enabled || (int)level < env->log_enabled - 1)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    env->log(env, level, line);
}

uint64_t cs_random_below(struct cs_env *env, uint64_t bound)
{
    if (bound == 0)
        return 0;
    /* Rejection sampling: draws below `threshold` would bias the modulo. */
    uint64_t threshold = (0 - bound) % bound;
    for (;;) {
        uint64_t r = env->random_u64(env);
        if (r >= threshold)
            return r % bound;
    }
}

uint64_t cs_choose(struct cs_env *env, uint64_t bound)
{
    if (bound <= 1)
        return 0;
    if (env->choose)
        return env->choose(env, bound) % bound;
    return cs_random_below(env, bound);
}
