/*
 * udp: a UDP socket on the libuv loop, batching receives with recvmmsg.
 *
 * The bottom of docs/architecture.md's picture: it knows addresses and bytes, nothing of
 * CoAP. Every datagram goes to the receive callback; sends are tried synchronously and
 * fall back to a queued send (with a copy) only when the socket buffer is full.
 */
#ifndef LWM2MD_UDP_H
#define LWM2MD_UDP_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "util/addr.h"

struct net_udp;

typedef void (*net_udp_recv_fn)(void *ctx, const struct addr *from, const uint8_t *data,
				size_t len);

/* Binds a socket (port 0 picks one) and starts receiving. IPv6 sockets are IPv6-only, so
 * that an IPv4 socket on the same port can sit beside them. Returns 0 or a negative errno
 * (-EADDRINUSE, ...). */
int net_udp_open(struct net_udp **out, uv_loop_t *loop, const struct addr *bind,
		 net_udp_recv_fn cb, void *ctx);
/* The address actually bound. */
void net_udp_local_addr(const struct net_udp *udp, struct addr *out);
/* Sends one datagram; failures are counted, never fatal (UDP may drop anyway). */
void net_udp_send(struct net_udp *udp, const struct addr *to, const uint8_t *data, size_t len);
/* Stops and closes; the memory is freed by the loop's close callback. Accepts NULL. */
void net_udp_close(struct net_udp *udp);

uint64_t net_udp_send_errors(const struct net_udp *udp);

#endif
