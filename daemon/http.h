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

/* Serves HTTP on `port` (all addresses) from the node's loop; NULL with a
 * message on failure. */
struct clusterd_http *clusterd_http_start(struct px_node *node, uint16_t port, char *err, size_t errlen);
/* Stops serving. */
void clusterd_http_stop(struct clusterd_http *h);

#endif
