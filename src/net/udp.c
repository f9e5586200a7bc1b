/* udp: see udp.h. */
#include "net/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/log.h"

/* libuv hands recvmmsg a buffer cut into 64 KiB slots, one datagram each; 16 slots let
 * one system call return 16 datagrams. */
#define UDP_SLOT 65536
#define UDP_BATCH 16

struct net_udp {
	uv_udp_t handle;
	struct addr local;
	net_udp_recv_fn cb;
	void *ctx;
	uint64_t send_errors;
	char buf[UDP_SLOT * UDP_BATCH];
};

struct queued_send {
	uv_udp_send_t req;
	size_t len;
	char data[];
};

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	struct net_udp *udp = handle->data;
	buf->base = udp->buf;
	buf->len = sizeof(udp->buf);
}

static void on_recv(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf,
		    const struct sockaddr *sa, unsigned flags)
{
	(void)buf;
	struct net_udp *udp = handle->data;
	if (flags & UV_UDP_MMSG_FREE)
		return; /* the buffer is ours and reused */
	if (nread < 0) {
		LOG_WARN_RATE("net", "udp receive failed", "udp receive failed: %s",
			      uv_strerror((int)nread));
		return;
	}
	if (!sa)
		return; /* nothing more to read */
	if (flags & UV_UDP_PARTIAL)
		return; /* truncated: larger than any datagram we accept */
	struct addr from;
	if (addr_from_sockaddr(&from, sa) != 0)
		return;
	udp->cb(udp->ctx, &from, (const uint8_t *)buf->base, (size_t)nread);
}

/*
 * A burst of requests from thousands of devices arrives faster than one loop iteration
 * drains it; the kernel's default receive buffer (about 200 KB, a few hundred small
 * datagrams at their in-kernel size) then drops the overflow, and every drop costs a
 * device a 2 s CoAP retransmission. Ask for 4 MiB: SO_RCVBUFFORCE lifts the
 * net.core.rmem_max cap when we run as root; otherwise the kernel gives what the cap allows.
 */
#define UDP_SOCKET_BUFFER (4 * 1024 * 1024)

static void grow_socket_buffers(uv_udp_t *handle)
{
	uv_os_fd_t fd;
	if (uv_fileno((uv_handle_t *)handle, &fd) != 0)
		return;
	int size = UDP_SOCKET_BUFFER;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

int net_udp_open(struct net_udp **out, uv_loop_t *loop, const struct addr *bind,
		 net_udp_recv_fn cb, void *ctx)
{
	struct net_udp *udp = calloc(1, sizeof(*udp));
	if (!udp)
		return -ENOMEM;
	udp->cb = cb;
	udp->ctx = ctx;
	int rc = uv_udp_init_ex(loop, &udp->handle, AF_UNSPEC | UV_UDP_RECVMMSG);
	if (rc != 0) {
		free(udp);
		return rc;
	}
	udp->handle.data = udp;
	struct sockaddr_storage ss;
	addr_to_sockaddr(bind, &ss);
	unsigned flags = bind->family == AF_INET6 ? UV_UDP_IPV6ONLY : 0;
	rc = uv_udp_bind(&udp->handle, (const struct sockaddr *)&ss, flags);
	if (rc == 0) {
		int namelen = sizeof(ss);
		rc = uv_udp_getsockname(&udp->handle, (struct sockaddr *)&ss, &namelen);
	}
	if (rc == 0)
		rc = addr_from_sockaddr(&udp->local, (const struct sockaddr *)&ss);
	if (rc == 0) {
		grow_socket_buffers(&udp->handle);
		rc = uv_udp_recv_start(&udp->handle, on_alloc, on_recv);
	}
	if (rc != 0) {
		net_udp_close(udp);
		return rc;
	}
	*out = udp;
	return 0;
}

void net_udp_local_addr(const struct net_udp *udp, struct addr *out)
{
	*out = udp->local;
}

static void on_queued_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free((struct queued_send *)(void *)req); /* req is the first member */
}

void net_udp_send(struct net_udp *udp, const struct addr *to, const uint8_t *data, size_t len)
{
	struct sockaddr_storage ss;
	addr_to_sockaddr(to, &ss);
	uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
	int rc = uv_udp_try_send(&udp->handle, &b, 1, (const struct sockaddr *)&ss);
	if (rc >= 0)
		return;
	if (rc != UV_EAGAIN) {
		udp->send_errors++;
		return;
	}
	/* The socket buffer is full: queue a copy rather than drop a response. */
	struct queued_send *qs = malloc(sizeof(*qs) + len);
	if (!qs) {
		udp->send_errors++;
		return;
	}
	qs->len = len;
	memcpy(qs->data, data, len);
	b = uv_buf_init(qs->data, (unsigned)len);
	if (uv_udp_send(&qs->req, &udp->handle, &b, 1, (const struct sockaddr *)&ss,
			on_queued_sent) != 0) {
		udp->send_errors++;
		free(qs);
	}
}

static void on_closed(uv_handle_t *handle)
{
	free(handle->data);
}

void net_udp_close(struct net_udp *udp)
{
	if (!udp)
		return;
	uv_udp_recv_stop(&udp->handle);
	uv_close((uv_handle_t *)&udp->handle, on_closed);
}

uint64_t net_udp_send_errors(const struct net_udp *udp)
{
	return udp->send_errors;
}
