/*
 * Integration: the memory of block-wise (Block1) uploads has one bound for the whole
 * daemon, and real devices still register while it is full.
 *
 * 15 000 sources (127.10.x.y, one per address, sent over a few shared sockets with
 * IP_PKTINFO as bench/lwm2m_load.c does) each start a block-wise Register to /rd — its
 * first 8 blocks of 1 KiB — and go silent. No device is needed for that: the body is
 * assembled before the Register is looked at. Without a bound the daemon kept every
 * upload (8 KiB each here: about 140 MB of RSS; with 63 blocks each, 1 GB). With the
 * pool (16 MiB by default) the RSS stays within 40 MB of where it was, and the project's
 * own client registers with 64-byte blocks during the flood and after it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

#define SOURCES 15000
#define BLOCKS_PER_SOURCE 8
#define BLOCK_SZX 6 /* 1024-byte blocks */
#define SOCKETS 8
/* Datagrams sent but not answered yet: the flood waits for answers past this, so that
 * neither side's socket buffer overflows on a loaded machine. */
#define WINDOW 512
#define RSS_GROWTH_MAX_KB (40 * 1024)

/* Under AddressSanitizer freed memory is held in a quarantine (256 MB by default) to catch
 * use after free, and every block carries redzones and shadow: the daemon is started with
 * a small quarantine and allowed twice the growth. Without the pool it still grows by
 * hundreds of MB. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define RSS_ALLOWANCE_KB (2 * RSS_GROWTH_MAX_KB)
#else
#define RSS_ALLOWANCE_KB RSS_GROWTH_MAX_KB
#endif

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/* A /metrics value, or -1. */
static long metric(struct daemon_proc *d, const char *name)
{
	static char resp[65536];
	if (http_call_auth(d, "GET", "/metrics", NULL, NULL, resp, sizeof(resp)) != 200)
		return -1;
	size_t n = strlen(name);
	for (char *p = strstr(resp, name); p; p = strstr(p + 1, name))
		if ((p == resp || p[-1] == '\n') && p[n] == ' ')
			return strtol(p + n + 1, NULL, 10);
	return -1;
}

struct flood {
	int fds[SOCKETS];
	struct sockaddr_in to;
	long sent, answered, continued, incomplete;
};

/* Source i's address: 127.10.0.1, 127.10.0.2, ... (254 hosts per third octet). */
static struct in_addr source_addr(int i)
{
	struct in_addr a;
	a.s_addr = htonl((127u << 24) | (10u << 16) | ((unsigned)(i / 254) << 8) |
			 (unsigned)(i % 254 + 1));
	return a;
}

static void flood_drain(struct flood *f, int timeout_ms)
{
	struct pollfd p[SOCKETS];
	for (int k = 0; k < SOCKETS; k++)
		p[k] = (struct pollfd){ .fd = f->fds[k], .events = POLLIN };
	if (poll(p, SOCKETS, timeout_ms) <= 0)
		return;
	uint8_t buf[1500];
	for (int k = 0; k < SOCKETS; k++) {
		ssize_t n;
		while ((n = recv(f->fds[k], buf, sizeof(buf), MSG_DONTWAIT)) >= 4) {
			f->answered++;
			if (buf[1] == COAP_CODE_CONTINUE)
				f->continued++;
			else if (buf[1] == COAP_CODE_REQUEST_ENTITY_INCOMPLETE)
				f->incomplete++;
		}
	}
}

/* Block num of source i's Register, sent from its own address. */
static void flood_send(struct flood *f, int i, uint32_t num)
{
	static uint8_t links[1024];
	if (links[0] == 0)
		for (size_t k = 0; k < sizeof(links); k++)
			links[k] = (uint8_t)"</3303/0>,"[k % 10];
	char ep[32];
	struct coap_msg m;
	uint8_t buf[1400];
	snprintf(ep, sizeof(ep), "ep=flood%05d", i);
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, (uint16_t)(i * BLOCKS_PER_SOURCE + num),
		      (const uint8_t *)"fl", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, ep, strlen(ep));
	struct coap_block b = { .num = num, .more = true, .szx = BLOCK_SZX };
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK1, coap_block_encode(&b));
	coap_msg_set_payload(&m, links, sizeof(links));
	int len = coap_msg_encode(&m, buf, sizeof(buf));
	assert_true(len > 0);

	/* IP_PKTINFO picks the source address of this one datagram. */
	union {
		struct cmsghdr align;
		char bytes[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = { .iov_base = buf, .iov_len = (size_t)len };
	struct msghdr mh = {
		.msg_name = &f->to, .msg_namelen = sizeof(f->to), .msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.bytes, .msg_controllen = sizeof(control.bytes),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi = { .ipi_spec_dst = source_addr(i) };
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	while (f->sent - f->answered > WINDOW)
		flood_drain(f, 5);
	if (sendmsg(f->fds[i % SOCKETS], &mh, 0) == len)
		f->sent++;
}

/* The project's client registering block-wise (64-byte blocks, ~700 bytes of links). */
struct sim_run {
	pthread_t thread;
	char cmd[2048];
	char out[4096];
	int rc;
};

static void *sim_thread(void *arg)
{
	struct sim_run *r = arg;
	r->rc = run_command(r->cmd, r->out, sizeof(r->out), 60);
	return NULL;
}

static void sim_prepare(struct sim_run *r, struct daemon_proc *d, const char *ep)
{
	char objects[1024], addr[ADDR_STR_MAX];
	size_t n = (size_t)snprintf(objects, sizeof(objects), "</>;rt=\"oma.lwm2m\"");
	for (int i = 0; i < 80; i++)
		n += (size_t)snprintf(objects + n, sizeof(objects) - n, ",</%d/0>", 3300 + i);
	snprintf(r->cmd, sizeof(r->cmd), "%s --server %s --ep %s --block-size 64 --objects '%s'",
		 sim_bin(), addr_format(&d->coap, addr), ep, objects);
}

static int setup(void **state)
{
	static struct daemon_proc d;
#ifdef UNDER_ASAN
	static char asan[512];
	const char *given = getenv("ASAN_OPTIONS");
	snprintf(asan, sizeof(asan), "%s%squarantine_size_mb=1", given ? given : "",
		 given && *given ? ":" : "");
	setenv("ASAN_OPTIONS", asan, 1);
#endif
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");
	api_create_device(&d, "meter", "blk0001", false, 0);
	api_create_device(&d, "meter", "blk0002", false, 0);
	*state = &d;
	return 0;
}

static int teardown(void **state)
{
	struct daemon_proc *d = *state;
	daemon_stop(d);
	daemon_cleanup(d);
	return 0;
}

static void test_block1_flood_is_bounded(void **state)
{
	struct daemon_proc *d = *state;
	long before = rss_kb(d->pid);

	struct flood f = { .sent = 0 };
	f.to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(d->coap.port) };
	f.to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int k = 0; k < SOCKETS; k++) {
		f.fds[k] = socket(AF_INET, SOCK_DGRAM, 0);
		assert_true(f.fds[k] >= 0);
		int on = 1, size = 1 << 20;
		setsockopt(f.fds[k], IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		setsockopt(f.fds[k], SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
		struct sockaddr_in any = { .sin_family = AF_INET };
		assert_int_equal(bind(f.fds[k], (struct sockaddr *)&any, sizeof(any)), 0);
	}

	/* Each source sends its blocks one after the other, then goes silent; halfway, a
	 * real device registers block-wise beside the flood. */
	struct sim_run during;
	sim_prepare(&during, d, "blk0001");
	for (int i = 0; i < SOURCES; i++) {
		if (i == SOURCES / 2)
			assert_int_equal(pthread_create(&during.thread, NULL, sim_thread, &during),
					 0);
		for (uint32_t num = 0; num < BLOCKS_PER_SOURCE; num++)
			flood_send(&f, i, num);
	}
	for (int i = 0; i < 20 && f.answered < f.sent; i++)
		flood_drain(&f, 100);
	pthread_join(during.thread, NULL);
	long after = rss_kb(d->pid);
	print_message("flood: %ld datagrams sent, %ld answered (%ld 2.31, %ld 4.08); "
		      "RSS %ld kB before, %ld kB after\n",
		      f.sent, f.answered, f.continued, f.incomplete, before, after);
	for (int k = 0; k < SOCKETS; k++)
		close(f.fds[k]);

	if (during.rc != 0 || !strstr(during.out, "registered rd/"))
		fail_msg("block-wise Register during the flood (%d): %s", during.rc, during.out);
	/* The flood was served, not dropped: at least the first blocks got 2.31. */
	assert_true(f.continued >= SOURCES);
	if (after - before > RSS_ALLOWANCE_KB)
		fail_msg("RSS grew from %ld kB to %ld kB", before, after);
	long limit = metric(d, "lwm2md_coap_block1_bytes_limit");
	assert_int_equal(limit, 16L << 20);
	long held = metric(d, "lwm2md_coap_block1_bytes");
	assert_true(held > 0 && held <= limit);
	assert_true(metric(d, "lwm2md_coap_block1_dropped_total") > 0);

	/* After the flood, with the pool still full of stalled uploads. */
	struct sim_run later;
	sim_prepare(&later, d, "blk0002");
	sim_thread(&later);
	if (later.rc != 0 || !strstr(later.out, "registered rd/"))
		fail_msg("block-wise Register after the flood (%d): %s", later.rc, later.out);
	assert_int_equal(api_wait_status(d, "meter_blk0001", "ONLINE", 3000), 0);
	assert_int_equal(api_wait_status(d, "meter_blk0002", "ONLINE", 3000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_block1_flood_is_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
