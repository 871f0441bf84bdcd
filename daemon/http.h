/*
 * daemon/http.h: clusterd's HTTP listener: /healthz, /metrics, /state
 * (see http.c).
 */
#ifndef DAEMON_HTTP_H
#define DAEMON_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "../shims/posix/px_node.h"

struct clusterd_http;

/* Serves HTTP on `port` of `bind_addr` (NULL: every IPv4 address) from the
 * node's loop, with at most `limit` connections at once; `cfg` is the
 * configuration the node runs (/metrics names its modes; it must outlive
 * the listener).  NULL with a message on failure. */
struct cs_addr;
struct cluster_config;
struct clusterd_http *clusterd_http_start(struct px_node *node, const struct cluster_config *cfg,
                                          const struct cs_addr *bind_addr, uint16_t port, unsigned limit, char *err,
                                          size_t errlen);
/* Stops serving. */
void clusterd_http_stop(struct clusterd_http *h);

#endif
