/*
 * core/addr.h: network addresses as the core sees them (struct cs_addr in
 * env.h): parsing and formatting of IPv4/IPv6 text forms, comparison, and
 * node names of the form `basename@address`.  Pure code, no resolver.
 */
#ifndef CS_ADDR_H
#define CS_ADDR_H

#include "env.h"

#define CS_ADDR_STRLEN 48 /* enough for any IPv6 text form */
#define CS_NODE_NAME_MAX 128

/* Parses "10.0.0.1" or "fd00::1" (no port) into `out`; 0 on success, -1 if
 * the text is not an address. */
int cs_addr_parse(const char *text, struct cs_addr *out);

/* Writes the text form of the address (without port) into `buf`; returns
 * the length written. */
int cs_addr_format(const struct cs_addr *addr, char *buf, size_t size);

/* Compares family and ip (not the port); 0 when equal, else <0 or >0. */
int cs_addr_compare(const struct cs_addr *a, const struct cs_addr *b);

/* True for IPv4 224.0.0.0/4 and IPv6 ff00::/8. */
bool cs_addr_is_multicast(const struct cs_addr *addr);

/* Builds the node name `basename@address` into `buf`; -1 if it does not fit. */
int cs_node_name(const char *basename, const struct cs_addr *addr, char *buf, size_t size);

/* Splits a node name at '@' and parses the address part; -1 on malformed
 * names (no '@', empty basename, or a host part that is not an address). */
int cs_node_name_addr(const char *name, struct cs_addr *out);

#endif
