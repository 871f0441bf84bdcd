/*
 * shims/posix/px_node.c: the real-socket node (see px_node.h): the epoll
 * loop, timers, the clock, getrandom, DNS answers, logging, the control and
 * extra watchers, and the graceful stop on SIGTERM (links: px_links.c).  Events the
 * core causes while it handles one (a refused connect, a DNS answer) are
 * queued and delivered by the loop, never re-entrantly.
 */
#define _GNU_SOURCE
#include "px_node.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/addr.h"
#include "../../core/grow.h"
#include "px_internal.h"
#include "../../core/json_text.h"

struct px_node *px_node_of(struct cs_env *env)
{
    return env->impl;
}

cs_time px_mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (cs_time)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void env_log(struct cs_env *env, enum cs_log_level level, const char *line)
{
    px_plog(px_node_of(env), level, "%s", line);
}

void px_plog(struct px_node *n, enum cs_log_level level, const char *fmt, ...)
{
    if ((int)level < n->opt.log_level)
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    px_log_line(n->opt.log_format, level, n->name, line);
}

/* The length of the component a line starts with: the first word of its
 * leading "[...]" (the core's lines: "[swarm] ...", "[swarm on NODE]
 * ...", "[libcluster:k8s] ...", "[conn] ..."), 0 when it has none; `msg`
 * is set to what follows the brackets. */
static size_t component_of(const char *line, const char **msg)
{
    *msg = line;
    if (line[0] != '[')
        return 0;
    size_t len = strcspn(line + 1, "] "), inside = strcspn(line + 1, "]");
    if (len == 0 || len > 63 || line[1 + inside] != ']')
        return 0;
    *msg = line + 2 + inside;
    if (**msg == ' ')
        (*msg)++;
    return len;
}

void px_log_line(enum px_log_format format, enum cs_log_level level, const char *node, const char *line)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char stamp[40];
    snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
    if (format != PX_LOG_JSON) {
        fprintf(stderr, "%s [%s] [%s] %s\n", stamp, names[level & 3], node, line);
        return;
    }
    const char *msg;
    size_t len = component_of(line, &msg);
    char component[64];
    snprintf(component, sizeof component, "%.*s", (int)len, len ? line + 1 : "");
    /* An escape takes at most 6 bytes a byte: these always fit. */
    char esc_node[6 * CS_NODE_NAME_MAX + 1], esc_component[6 * sizeof component + 1], esc_msg[6 * 1024 + 1];
    cs_json_escape(node, esc_node, sizeof esc_node);
    cs_json_escape(len ? component : "clusterd", esc_component, sizeof esc_component);
    cs_json_escape(msg, esc_msg, sizeof esc_msg);
    fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"node\":\"%s\",\"component\":\"%s\",\"msg\":\"%s\"}\n",
            stamp, names[level & 3], esc_node, esc_component, esc_msg);
}

void px_defer_owned(struct px_node *n, const struct cs_event *ev, void *owned)
{
    if (cs_grow((void **)&n->deferred, &n->deferred_cap, n->deferred_count + 1, sizeof *n->deferred) == 0)
        n->deferred[n->deferred_count++] = (struct deferred){*ev, owned};
    else
        free(owned);
}

int px_watch(struct px_node *n, int fd, uint32_t events, uint64_t key, int op)
{
    struct epoll_event ev = {.events = events, .data.u64 = key};
    return epoll_ctl(n->epfd, op, fd, &ev);
}

void px_defer(struct px_node *n, const struct cs_event *ev)
{
    px_defer_owned(n, ev, NULL);
}

static cs_query_id env_dns_query(struct cs_env *env, const char *name, enum cs_dns_type type)
{
    struct px_node *n = px_node_of(env);
    cs_query_id id = ++n->next_query;
    if (!id)
        id = ++n->next_query;
    px_dns_query(n->dns, id, name, type);
    return id;
}

/* An answer from c-ares: copied, and delivered by the loop. */
static void dns_done(void *ctx, cs_query_id id, const struct cs_dns_answer *answer)
{
    struct px_node *n = ctx;
    struct {
        struct cs_dns_answer a;
        struct cs_dns_record r[];
    } *copy = malloc(sizeof *copy + answer->count * sizeof copy->r[0]);
    if (!copy)
        return;
    copy->a = *answer;
    memcpy(copy->r, answer->records, answer->count * sizeof copy->r[0]);
    copy->a.records = copy->r;
    struct cs_event ev = {.type = CS_EV_DNS};
    ev.u.dns.query = id;
    ev.u.dns.answer = &copy->a;
    px_defer_owned(n, &ev, copy);
}

static cs_time env_now(struct cs_env *env)
{
    (void)env;
    return px_mono_now();
}

static cs_timer_id env_timer_start(struct cs_env *env, cs_time delay, uint64_t tag)
{
    return px_timers_add(&px_node_of(env)->timers, px_mono_now() + (delay > 0 ? delay : 0), tag);
}

static void env_timer_cancel(struct cs_env *env, cs_timer_id timer)
{
    px_timers_cancel(&px_node_of(env)->timers, timer);
}

static uint64_t env_random(struct cs_env *env)
{
    (void)env;
    uint64_t v = 0;
    while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        ;
    return v;
}

static void env_trace(struct cs_env *env, const char *kind, const struct cs_field *fields, size_t count)
{
    (void)env, (void)kind, (void)fields, (void)count; /* the daemon logs, it does not trace */
}

static void env_stopped(struct cs_env *env)
{
    px_node_of(env)->stopped = true;
}

static void env_reply(struct cs_env *env, const char *op, const char *name, const char *status,
                      const char *owner, int64_t value)
{
    struct px_node *n = px_node_of(env);
    if (!strcmp(op, "call")) /* a count; other replies carry a handle, which is unsigned */
        px_plog(n, CS_LOG_DEBUG, "reply %s %s -> %s %s (%lld)", op, name ? name : "", status, owner ? owner : "",
                (long long)value);
    else
        px_plog(n, CS_LOG_DEBUG, "reply %s %s -> %s %s (%llu)", op, name ? name : "", status, owner ? owner : "",
                (unsigned long long)(uint64_t)value);
    if (n->control)
        px_control_reply(n->control, op, name, status, owner, value);
}

static void bind_env(struct px_node *n)
{
    struct cs_env *e = &n->env;
    e->impl = n;
    e->log_enabled = 1 + n->opt.log_level; /* the core formats no line the daemon would drop */
    e->now = env_now;
    e->timer_start = env_timer_start;
    e->timer_cancel = env_timer_cancel;
    e->link_connect = px_env_link_connect;
    e->link_send = px_env_link_send;
    e->link_close = px_env_link_close;
    e->link_limit = px_env_link_limit;
    e->link_set_cookie = px_env_link_set_cookie;
    e->dgram_send = px_env_dgram_send;
    e->dgram_join = px_env_dgram_join;
    e->dns_query = env_dns_query;
    e->random_u64 = env_random;
    e->trace = env_trace;
    e->log = env_log;
    e->stopped = env_stopped;
    e->reply = env_reply;
}

static int open_listener(struct px_node *n, char *err, size_t errlen)
{
    struct cs_addr self = n->env.self_addr;
    self.port = n->opt.port;
    struct sockaddr_storage ss;
    socklen_t len = px_to_sockaddr(&self, &ss);
    n->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (n->listen_fd >= 0)
        setsockopt(n->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (n->listen_fd < 0 || bind(n->listen_fd, (struct sockaddr *)&ss, len) != 0 || listen(n->listen_fd, 128) != 0) {
        char text[CS_ADDR_STRLEN];
        cs_addr_format(&self, text, sizeof text);
        snprintf(err, errlen, "cannot listen on %s port %u: %s", text, n->opt.port, strerror(errno));
        return -1;
    }
    return px_watch(n, n->listen_fd, EPOLLIN, KEY_LISTEN, EPOLL_CTL_ADD);
}

static int open_signals(struct px_node *n)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    n->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return n->sig_fd < 0 ? -1 : px_watch(n, n->sig_fd, EPOLLIN, KEY_SIGNAL, EPOLL_CTL_ADD);
}

static void control_command(void *ctx, const struct cs_command *cmd)
{
    struct px_node *n = ctx;
    struct cs_event ev = {.type = CS_EV_COMMAND};
    ev.u.command.cmd = cmd;
    n->opt.proto->handle(n->instance, &ev);
}

/* The links are busy: counted once a pause. */
static bool control_busy(void *ctx)
{
    struct px_node *n = ctx;
    bool busy = px_links_busy(n);
    n->stats.control_pauses += busy && !n->control_paused;
    n->control_paused = busy;
    return busy;
}

static int control_dump(void *ctx, char *buf, size_t size)
{
    struct px_node *n = ctx;
    return n->opt.proto->dump ? n->opt.proto->dump(n->instance, buf, size) : snprintf(buf, size, "%s", "");
}

struct view_buf {
    char *buf;
    size_t size, len;
};

static void view_name(void *ctx, const char *name)
{
    struct view_buf *v = ctx;
    if (v->len < v->size)
        v->len += (size_t)snprintf(v->buf + v->len, v->size - v->len, "%s\"%s\"", v->len ? "," : "", name);
}

static int control_view(void *ctx, char *buf, size_t size)
{
    struct px_node *n = ctx;
    struct view_buf v = {buf, size, 0};
    buf[0] = '\0';
    n->opt.proto->view(n->instance, view_name, &v);
    return (int)(v.len < size ? v.len : size - 1);
}

/* The probe the real world polls (px_control.h): one JSON object. */
static int control_probe(void *ctx, char *buf, size_t size)
{
    struct px_node *n = ctx;
    const struct cs_proto *p = n->opt.proto;
    static char view[65536], key[4096], dump[65536], esc_dump[131072], esc_key[8192], esc_wait[512];
    control_view(ctx, view, sizeof view);
    key[0] = dump[0] = '\0';
    if (p->state_key && p->state_key(n->instance, key, sizeof key) < 0)
        key[0] = '\0';
    if (control_dump(ctx, dump, sizeof dump) < 0)
        dump[0] = '\0';
    size_t count = 0;
    uint64_t sum = 0;
    if (p->registry_digest)
        p->registry_digest(n->instance, &count, &sum);
    const char *waiting = p->waiting_for ? p->waiting_for(n->instance) : NULL;
    cs_json_escape(key, esc_key, sizeof esc_key);
    cs_json_escape(dump, esc_dump, sizeof esc_dump);
    cs_json_escape(waiting ? waiting : "", esc_wait, sizeof esc_wait);
    int len = snprintf(buf, size,
                       "{\"name\":\"%s\",\"stopping\":%s,\"settled\":%s,\"view\":[%s],\"state_key\":\"%s\","
                       "\"registry\":{\"count\":%zu,\"digest\":\"%016llx\"},\"waiting_for\":\"%s\","
                       "\"frames_in\":%llu,\"frames_out\":%llu,\"dump\":\"%s\"}",
                       n->name, n->stopping ? "true" : "false", p->settled(n->instance) ? "true" : "false", view,
                       esc_key, count, (unsigned long long)sum, esc_wait, (unsigned long long)n->stats.frames_in,
                       (unsigned long long)n->stats.frames_out, esc_dump);
    return len > 0 && (size_t)len < size ? len : -1;
}

struct px_node *px_node_new(const struct px_options *opt, char *err, size_t errlen)
{
    struct px_node *n = calloc(1, sizeof *n);
    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->opt = *opt;
    n->listen_fd = n->sig_fd = n->dgram_fd = -1;
    /* Kept for the moment descriptors run out: closing it lets us accept
     * and drop a connection instead of spinning on a failing accept. */
    n->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    snprintf(n->name, sizeof n->name, "%s", opt->name);
    px_timers_init(&n->timers);
    bind_env(n);
    n->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (cs_node_name_addr(opt->name, &n->env.self_addr) != 0) {
        snprintf(err, errlen, "'%s' is not a node name of the form basename@address", opt->name);
        px_node_free(n);
        return NULL;
    }
    if (n->epfd < 0 || open_listener(n, err, errlen) != 0 || open_signals(n) != 0) {
        if (!err[0])
            snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
        px_node_free(n);
        return NULL;
    }
    n->instance = opt->proto->create(&n->env, opt->config, opt->name);
    if (!n->instance) {
        snprintf(err, errlen, "the protocol could not be created (bad configuration or out of memory)");
        px_node_free(n);
        return NULL;
    }
    if (!(n->dns = px_dns_new(n->epfd, opt->dns_servers, opt->dns_udp_only, dns_done, n, err, errlen))) {
        px_node_free(n);
        return NULL;
    }
    struct px_control_host host = {n, control_command, control_dump, control_view, control_probe, control_busy};
    if (opt->control_path && !(n->control = px_control_new(n->epfd, opt->control_path, &host, err, errlen))) {
        px_node_free(n);
        return NULL;
    }
    return n;
}

/* ---- the loop ---- */

void px_deliver(struct px_node *n, const struct cs_event *ev)
{
    n->opt.proto->handle(n->instance, ev);
}

/* Tells the core a link went, from the loop (not from inside a core call). */
void px_deliver_down(struct px_node *n, cs_link_id id, enum cs_link_down_reason why)
{
    struct cs_event ev = {.type = CS_EV_LINK_DOWN};
    ev.u.link_down.link = id;
    ev.u.link_down.reason = why;
    px_deliver(n, &ev);
}

static void on_signal(struct px_node *n)
{
    struct signalfd_siginfo info;
    while (read(n->sig_fd, &info, sizeof info) == (ssize_t)sizeof info) {
        if (n->stopping) {
            px_plog(n, CS_LOG_WARN, "second signal: exiting at once");
            n->stopped = true;
            return;
        }
        px_plog(n, CS_LOG_INFO, "signal %u: leaving gracefully (at most %lld ms)", info.ssi_signo,
             (long long)(n->opt.grace / 1000000));
        n->stopping = true;
        n->stop_deadline = px_mono_now() + n->opt.grace;
        struct cs_event ev = {.type = CS_EV_STOP};
        ev.u.stop.grace = n->opt.grace;
        px_deliver(n, &ev);
    }
}

static void run_deferred(struct px_node *n)
{
    while (n->deferred_count && !n->stopped) {
        struct deferred d = n->deferred[0];
        memmove(n->deferred, n->deferred + 1, --n->deferred_count * sizeof *n->deferred);
        px_deliver(n, &d.ev);
        free(d.owned);
    }
}

static int wait_ms(struct px_node *n)
{
    if (n->deferred_count)
        return 0;
    cs_time next = px_timers_next(&n->timers);
    if (n->stopping && (next < 0 || n->stop_deadline < next))
        next = n->stop_deadline;
    int dns = px_dns_wait_ms(n->dns);
    int extra = n->extra.wait_ms ? n->extra.wait_ms(n->extra.ctx) : -1;
    if (extra >= 0 && (dns < 0 || extra < dns))
        dns = extra;
    int ms = n->listen_paused ? 100 : 1000;
    if (next >= 0) {
        cs_time left = next - px_mono_now();
        ms = left <= 0 ? 0 : (int)((left + 999999) / 1000000);
    }
    return dns >= 0 && dns < ms ? dns : ms;
}

int px_node_run(struct px_node *n)
{
    n->opt.proto->start(n->instance);
    px_plog(n, CS_LOG_INFO, "listening on port %u", n->opt.port);
    while (!n->stopped) {
        if (n->listen_paused && px_mono_now() >= n->listen_paused_until &&
            px_watch(n, n->listen_fd, EPOLLIN, KEY_LISTEN, EPOLL_CTL_ADD) == 0)
            n->listen_paused = false;
        run_deferred(n);
        px_links_flush(n);
        px_control_flush(n->control);
        struct epoll_event evs[64];
        /* The extra watch's own timeouts (libmicrohttpd's idle connections
         * and the work it left for a next run) come due without any event
         * on its descriptor: it runs then too. */
        int extra_ms = n->extra.wait_ms ? n->extra.wait_ms(n->extra.ctx) : -1;
        cs_time extra_due = extra_ms >= 0 ? px_mono_now() + CS_MSEC(extra_ms) : CS_TIME_NEVER;
        bool extra_ran = false;
        int count = epoll_wait(n->epfd, evs, 64, wait_ms(n));
        if (count < 0 && errno != EINTR)
            return -1;
        for (int i = 0; i < count && !n->stopped; i++) {
            uint64_t key = evs[i].data.u64;
            if (key == KEY_LISTEN)
                px_accept_links(n);
            else if (key == KEY_SIGNAL)
                on_signal(n);
            else if (key == PX_KEY_DGRAM)
                px_dgram_readable(n);
            else if (key == KEY_EXTRA && n->extra.ready)
                n->extra.ready(n->extra.ctx), extra_ran = true;
            else if (key >= PX_DNS_KEY_BASE)
                px_dns_event(n->dns, key, evs[i].events);
            else if (key >= PX_CONTROL_KEY_BASE && n->control)
                px_control_event(n->control, key, evs[i].events);
            else
                px_on_link_event(n, (cs_link_id)(key - KEY_LINK_BASE), evs[i].events);
        }
        if (!extra_ran && !n->stopped && n->extra.ready && px_mono_now() >= extra_due)
            n->extra.ready(n->extra.ctx);
        px_dns_timeouts(n->dns);
        struct px_timer t;
        cs_time now = px_mono_now();
        while (!n->stopped && px_timers_pop_due(&n->timers, now, &t)) {
            struct cs_event ev = {.type = CS_EV_TIMER};
            ev.u.timer.id = t.id;
            ev.u.timer.tag = t.tag;
            px_deliver(n, &ev);
        }
        if (n->stopping && !n->stopped && px_mono_now() >= n->stop_deadline) {
            px_plog(n, CS_LOG_WARN, "the graceful stop ran out of time: exiting");
            n->stopped = true;
        }
    }
    /* The stop ran inside the loop: what it sent leaves before the links
     * close, as a VM's links close behind everything already sent. */
    px_links_flush_last(n);
    px_plog(n, CS_LOG_INFO, "stopped");
    return 0;
}

int px_node_watch(struct px_node *n, int fd, void (*ready)(void *ctx), int (*bound_ms)(void *ctx), void *ctx)
{
    n->extra.ready = ready;
    n->extra.wait_ms = bound_ms;
    n->extra.ctx = ctx;
    return px_watch(n, fd, EPOLLIN, KEY_EXTRA, EPOLL_CTL_ADD);
}

void *px_node_instance(struct px_node *n)
{
    return n->instance;
}

bool px_node_stopping(const struct px_node *n)
{
    return n->stopping;
}

const struct px_stats *px_node_stats(const struct px_node *n)
{
    return &n->stats;
}

uint64_t px_node_control_refused(const struct px_node *n, int why)
{
    return n->control ? px_control_refused_by(n->control, (enum px_control_refusal)why) : 0;
}

void px_node_free(struct px_node *n)
{
    if (!n)
        return;
    px_control_free(n->control);
    if (n->instance)
        n->opt.proto->destroy(n->instance);
    while (n->link_count)
        px_link_forget(n, &n->links[0]);
    px_dgram_close(n);
    free(n->links);
    for (size_t i = 0; i < n->deferred_count; i++)
        free(n->deferred[i].owned);
    free(n->deferred);
    px_dns_free(n->dns);
    px_timers_free(&n->timers);
    if (n->listen_fd >= 0)
        close(n->listen_fd);
    if (n->reserve_fd >= 0)
        close(n->reserve_fd);
    if (n->sig_fd >= 0)
        close(n->sig_fd);
    if (n->epfd >= 0)
        close(n->epfd);
    free(n);
}
