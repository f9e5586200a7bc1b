/*
 * lwm2m_load: the load generator of the benchmarks (the seed of tools/lwm2m-sim's many-device
 * mode).
 *
 * It plays N LwM2M devices at once, each from its own loopback address (127.B.x.y), so the
 * server sees N distinct peers as it would in the field. The devices share a few UDP
 * sockets bound to the wildcard address: a send picks the device's source address with
 * IP_PKTINFO, and a receive learns which device it is for from the same ancillary data.
 * (One socket per device would need N file descriptors; machines that cap RLIMIT_NOFILE
 * at 20k could not play 100k devices.) One thread drives the sockets with epoll and keeps
 * a bounded window of requests in flight;
 * every request carries its send time for the latency histogram, is retransmitted when
 * unanswered (RFC 7252 §4.2 doubling) and is counted lost when it runs out of tries.
 * A device never has more than one request in flight (CoAP NSTART = 1).
 *
 *   --mode echo    Update-shaped CON POST /rd/<id> to a UDP echo server (bench/udp_echo);
 *                  the echoed datagram is the response. This is the ceiling of the rig.
 *   --mode lwm2m   phase "register": every device registers (POST /rd?ep=..., expects
 *                  2.01 with Location-Path rd/<id>); phase "update": --updates rounds of
 *                  POST /rd/<id> per registered device, expecting 2.04.
 *   --mode notify  phase "register"; phase "observe": the devices wait, answering the
 *                  server's requests, until each has been sent an Observe (the benchmark
 *                  script makes the server send them through the REST API); phase
 *                  "notify": --notifications rounds of CON 2.05 notifications per observed
 *                  device (the observation's token, Observe 2, 3, ..., a /3/0 payload in
 *                  the format the Observe asked for, the battery level changing), each
 *                  done when the server's empty ACK comes.
 *   --mode serve   phase "register", then answer the server's requests (Reads, Observes)
 *                  until SIGTERM/SIGINT or --max-seconds; phase "serve" says how many.
 *   --mode report  the platform benchmark's water meter (tests/integration/test_platform.c):
 *                  phase "register" (object links with /19/0 and /19/1); phase "observe":
 *                  wait until each device has been sent an Observe of /19/0/0 (the daemon
 *                  sends it on Register when the product has a codec) or /19/1/0 (the
 *                  script's baseline, through the REST API), answered 2.05 opaque with a
 *                  report; phase "notify": --notifications CON reports [0, battery %, flow
 *                  uint32 big-endian] per device on that observation (Content-Format 42);
 *                  phase "command": until SIGTERM/SIGINT or --max-seconds, every CON PUT of
 *                  /19/1/0 [1, mid hi, mid lo, interval hi, interval lo] is answered 2.04
 *                  and followed by a CON report [2, mid hi, mid lo, errcode 0, result 0]
 *                  (a deviceRsp) on the observation; "ok" counts the reports acknowledged.
 *   --mode soak    the soak benchmark's fleet (bench/soak.sh; lwm2m_soak.h): the water
 *                  meters register and are observed, then for --soak-seconds they Update
 *                  (--rate a second), report (--report-rate a second), reboot
 *                  (--reboot-rate a minute) and answer commands at once, with a line
 *                  "window=K ..." every --window-seconds and "phase=soak ..." at the end.
 *
 * In every mode but echo, the devices answer what the server asks of them as a real
 * client would: a Read or Observe of /3/0, /3/0/0, /3/0/9 or /3/0/20 gets 2.05 with the
 * value in the format of the Accept option (text for one resource, else --format: TLV or
 * SenML CBOR), an Observe (Observe 0) also carries an Observe option and makes the
 * device observed, anything else gets 4.04.
 *
 * Echo mode sends as many Updates (devices x updates) as lwm2m mode's update phase, so the
 * two update rates compare directly; with --shape notify it sends notification-shaped
 * datagrams instead (the same bytes, size and token length as --mode notify's, --format
 * choosing the payload; --format opaque: the water meter's report). Each phase prints one line of key=value pairs on
 * stdout (see bench/README.md); diagnostics go to stderr.
 *
 *   lwm2m_load --mode echo|lwm2m|notify|serve|report|soak --target IPV4:PORT [--devices N]
 *              [--prefix P] [--updates K] [--notifications K] [--format tlv|senml-cbor|opaque]
 *              [--shape update|notify] [--window W] [--timeout-ms MS] [--retries R]
 *              [--max-seconds S] [--pid PID] [--net B] [--rate R] [--soak-seconds S]
 *              [--window-seconds W] [--report-rate R] [--reboot-rate PER_MINUTE]
 *
 * --rate R paces the update and notify phases to at most R new requests a second across
 * all devices (0, the default: as fast as the window allows), so that a fleet can be kept
 * busy at a steady rate while something else is measured (bench/console.sh); a stop
 * signal then ends such a phase (what was not sent counts as lost).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "coap/coap_msg.h"

/* Bounds on what the command line may ask for; they keep every table below bounded. */
#define DEVICES_MAX 1000000u
#define WINDOW_MAX 65536u
#define UPDATES_MAX 100000u
#define RETRIES_MAX 8u
#define TIMEOUT_MS_MAX 60000u
#define SECONDS_MAX 86400u
#define PREFIX_MAX 32
/* Node ids are the prefix and six zero-padded digits. */
#define NODE_MAX (PREFIX_MAX + 8)
/* The daemon's registration ids are 10 characters; room to spare for other servers. */
#define REG_ID_MAX 32
#define TOKEN_LEN 4
/* A Register with the longest prefix is about 100 bytes. */
#define REQ_MAX 256
#define RESP_MAX 2048
/* Datagrams read from one socket per readiness event before moving on. */
#define RECV_BURST 64
/* Sockets the devices share; device i sends and receives on socket i % SOCKETS. */
#define SOCKETS 32u
#define EPOLL_BATCH 512
/* The longest epoll sleep, so the phase deadline is noticed even when all is quiet. */
#define WAIT_MS_MAX 100
/* Loopback addresses per value of the third octet: host octets 1..254. */
#define HOSTS_PER_NET 254u
#define NS_PER_MS 1000000ull
#define NS_PER_US 1000ull

#define REGISTER_LIFETIME "lt=86400"
#define REGISTER_VERSION "lwm2m=1.1"
#define REGISTER_BINDING "b=U"
#define OBJECT_LINKS "</1/0>,</3/0>,</19/0>"
/* --mode report: the water meter also has the downlink instance /19/1. */
#define OBJECT_LINKS_REPORT "</1/0>,</3/0>,</19/0>,</19/1>"
/* Object 19 (BinaryAppDataContainer): /19/0/0 carries the uplink, /19/1/0 the downlink. */
#define BINARY_OBJECT 19
#define MSG_REPORT 0
#define MSG_COMMAND 1
#define MSG_RESPONSE 2
/* A report: message id, battery %, flow (uint32 big-endian); a deviceRsp: message id,
 * mid (uint16 big-endian), errcode, result. */
#define REPORT_LEN 6
#define RESPONSE_LEN 5
#define COMMAND_LEN 5
/* deviceRsp reports a device still owes; the daemon sends a device one command at a time,
 * but the next may come before the previous one's deviceRsp went out. */
#define RSP_QUEUE 8
/* Object 3 (Device) as these devices have it: Manufacturer, Battery Level (changing with
 * every notification), Battery Status. */
#define DEVICE_OBJECT 3
#define RES_MANUFACTURER 0
#define RES_BATTERY_LEVEL 9
#define RES_BATTERY_STATUS 20
#define MANUFACTURER "lwm2md"
/* The largest /3/0 payload: 3 TLVs or 3 SenML records, well under this. */
#define CONTENT_MAX 64


enum mode { MODE_ECHO, MODE_LWM2M, MODE_NOTIFY, MODE_SERVE, MODE_REPORT, MODE_SOAK };
enum phase_kind {
	PHASE_ECHO,
	PHASE_REGISTER,
	PHASE_UPDATE,
	PHASE_NOTIFY,
	PHASE_SERVE,
	PHASE_COMMAND,
	PHASE_SOAK /* --mode soak: requests of several kinds at once (lwm2m_soak.h) */
};

struct options {
	enum mode mode;
	struct sockaddr_in target;
	const char *target_text;
	uint32_t devices;
	const char *prefix;
	uint32_t updates;
	uint32_t notifications;
	uint16_t format;      /* COAP_CT_LWM2M_TLV, COAP_CT_SENML_CBOR or COAP_CT_OCTET_STREAM */
	bool notify_shape;    /* echo mode: notification-shaped datagrams */
	uint32_t window;
	uint32_t timeout_ms;
	uint32_t retries;
	uint32_t max_seconds;
	long pid;
	uint32_t net;
	uint32_t rate; /* requests a second in the update and notify phases; 0: unpaced */
	/* --mode soak (lwm2m_soak.h): how long, the window of its per-window lines, the
	 * reports a second and the reboots a minute (--rate is the Updates a second). */
	uint32_t soak_seconds;
	uint32_t window_seconds;
	uint32_t report_rate;
	uint32_t reboot_rate;
};

struct device {
	int32_t slot; /* index in load.slots while a request is in flight, else -1 */
	uint32_t rounds_left;
	uint16_t next_mid;
	bool registered;
	uint8_t reg_id_len;
	char reg_id[REG_ID_MAX];
	/* The device's one observation (of /3/0 or one of its resources), once the server
	 * asked for it: the token notifications carry, the format it asked for (Accept) and
	 * the Observe sequence number of the latest response. */
	bool observed;
	uint8_t obs_token_len;
	uint8_t obs_path_len;   /* 2: /3/0, 3: /3/0/<obs_res> */
	uint8_t battery;        /* Battery Level, 0..100 */
	uint16_t obs_res;
	uint16_t obs_format;
	uint32_t obs_seq;
	uint8_t obs_token[COAP_TOKEN_MAX];
	/* --mode report: the observed object (3 or 19), the flow counter, the deviceRsp
	 * reports owed (command mids, oldest first) and the last PUT's message ID, so that a
	 * retransmitted PUT is answered again but not queued twice. */
	uint16_t obs_object;
	uint32_t flow;
	uint16_t rsp_mid[RSP_QUEUE];
	uint8_t rsp_head;
	uint8_t rsp_count;
	bool put_seen;
	uint16_t put_mid;
	/* --mode soak: what the device has to send (SOAK_* bits) and whether it waits in the
	 * ready ring for a free slot. */
	uint8_t soak_pending;
	bool soak_queued;
};

/* One request in flight. The encoded datagram is kept for retransmission, so memory for
 * requests is bounded by the window, not by the device count. */
struct slot {
	bool used;
	bool acked; /* an empty ACK came: the response will follow separately */
	uint8_t tries;
	uint8_t op; /* --mode soak: what the request is (enum soak_op) */
	uint16_t mid;
	uint16_t len;
	uint32_t dev;
	uint8_t token_len;
	uint8_t token[COAP_TOKEN_MAX];
	uint64_t first_ns;
	uint64_t deadline_ns;
	uint8_t data[REQ_MAX];
};


struct phase {
	const char *name;
	enum phase_kind kind;
	uint64_t requests;
	uint64_t issued;
	uint64_t ok;
	uint64_t lost;
	uint64_t err;
	uint64_t retransmits;
	uint64_t server_requests;
	uint64_t req_bytes; /* size of the first request sent, for comparing rigs */
	uint64_t start_ns;
	uint64_t end_ns;
	bool aborted;
	uint64_t codes[256]; /* response codes of requests that were not ok */
	struct hist lat;
};

struct load {
	struct options opt;
	int epfd;
	int fds[SOCKETS];
	uint32_t nfds;
	struct device *dev;
	struct slot *slots;
	uint32_t nslots;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t *ready; /* ring of idle devices with rounds left; each is in it at most once */
	uint32_t ready_head;
	uint32_t ready_count;
	uint64_t next_check_ns;
	uint32_t token_seq;
	struct phase *ph;
	/* Requests the server sent to the devices, over the whole run, by kind. */
	uint64_t reads;
	uint64_t observes;
	uint64_t refused;
	uint64_t commands;      /* --mode report: PUTs of /19/1/0 taken */
	uint64_t commands_lost; /* ... and not queued: RSP_QUEUE was full */
	uint32_t observed; /* devices with an observation */
};

static volatile sig_atomic_t stop_requested;

/* --mode soak's hooks into the common request machinery (lwm2m_soak.h). */
struct slot;
enum outcome { OUT_OK, OUT_LOST, OUT_ERR };
static void soak_finish(struct load *ld, struct slot *s, enum outcome out, uint8_t code,
			uint64_t now);
static void soak_datagram(struct load *ld, uint32_t i, const struct coap_msg *r, uint64_t now);
static void soak_kick(struct load *ld, uint32_t i);

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}


/* Device i's local address: 127.(net + i / 65024).((i / 254) % 256).(1 + i % 254). The
 * host octet skips 0 and 255 so that no address looks like a network or broadcast one. */
static void device_addr(const struct options *o, uint32_t i, struct sockaddr_in *sin)
{
	uint32_t b = o->net + i / (HOSTS_PER_NET * 256u);
	uint32_t c = (i / HOSTS_PER_NET) % 256u;
	uint32_t d = 1u + i % HOSTS_PER_NET;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = 0;
	sin->sin_addr.s_addr = htonl((127u << 24) | (b << 16) | (c << 8) | d);
}

/* The device whose address is sin (the inverse of device_addr), or UINT32_MAX. */
static uint32_t device_of_addr(const struct options *o, const struct in_addr *a)
{
	uint32_t v = ntohl(a->s_addr);
	uint32_t b = (v >> 16) & 0xff, c = (v >> 8) & 0xff, d = v & 0xff;
	if ((v >> 24) != 127 || b < o->net || d == 0 || d > HOSTS_PER_NET)
		return UINT32_MAX;
	uint64_t i = (uint64_t)(b - o->net) * HOSTS_PER_NET * 256u + c * HOSTS_PER_NET + (d - 1);
	return i < o->devices ? (uint32_t)i : UINT32_MAX;
}

/* Reads VmRSS of a process in kB. Returns 0 or -errno. */
static int read_rss_kb(long pid, long *kb)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	char line[256];
	int rc = -ENOENT;
	for (int n = 0; n < 200 && fgets(line, sizeof(line), f) != NULL; n++) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			*kb = strtol(line + 6, NULL, 10);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int open_devices(struct load *ld)
{
	const struct options *o = &ld->opt;
	for (uint32_t i = 0; i < o->devices; i++) {
		struct device *d = &ld->dev[i];
		d->slot = -1;
		/* Message IDs start spread out so that peers do not all use the same ones. */
		d->next_mid = (uint16_t)(i * 7919u);
	}
	ld->nfds = o->devices < SOCKETS ? o->devices : SOCKETS;
	for (uint32_t k = 0; k < ld->nfds; k++) {
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			int err = -errno;
			fprintf(stderr, "lwm2m_load: socket: %s\n", strerror(errno));
			return err;
		}
		ld->fds[k] = fd;
		int on = 1, size = 4 * 1024 * 1024;
		struct sockaddr_in any = {.sin_family = AF_INET};
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
		if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on)) < 0 ||
		    bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
			int err = -errno;
			fprintf(stderr, "lwm2m_load: socket setup: %s\n", strerror(errno));
			return err;
		}
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = k};
		if (epoll_ctl(ld->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			int err = -errno;
			fprintf(stderr, "lwm2m_load: epoll_ctl: %s\n", strerror(errno));
			return err;
		}
	}
	return 0;
}

/* Sends a datagram to the target from device i's own address. A failure is left to the
 * retransmission timer, like a datagram lost on the way. */
static void send_as(struct load *ld, uint32_t i, const void *data, size_t len)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	struct msghdr mh = {
		.msg_name = &ld->opt.target,
		.msg_namelen = sizeof(ld->opt.target),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
	struct in_pktinfo pi;
	memset(&pi, 0, sizeof(pi));
	struct sockaddr_in local;
	device_addr(&ld->opt, i, &local);
	pi.ipi_spec_dst = local.sin_addr;
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	(void)sendmsg(ld->fds[i % ld->nfds], &mh, MSG_DONTWAIT);
}

static void format_node_id(const struct options *o, uint32_t i, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%06" PRIu32, o->prefix, i);
}

static int add_text_option(struct coap_msg *m, uint16_t number, const char *s)
{
	return coap_msg_add_option(m, number, s, strlen(s));
}

/* The resources of /3/0 these devices have, in order. */
static const uint16_t device_resources[] = {RES_MANUFACTURER, RES_BATTERY_LEVEL,
					    RES_BATTERY_STATUS};

static bool device_has_resource(uint16_t res)
{
	for (size_t k = 0; k < sizeof(device_resources) / sizeof(device_resources[0]); k++) {
		if (device_resources[k] == res)
			return true;
	}
	return false;
}

/* The integer value of a resource (Battery Level or Status); Manufacturer is a string. */
static int resource_int(const struct device *d, uint16_t res)
{
	return res == RES_BATTERY_LEVEL ? d->battery : 0;
}

/* Appends one byte; the callers size buf with CONTENT_MAX, which no payload reaches. */
static void put(uint8_t *buf, size_t cap, size_t *n, uint8_t b)
{
	if (*n < cap)
		buf[*n] = b;
	(*n)++;
}

/* A CBOR head for major type 0 (unsigned) or 3 (text) with a value below 256. */
static void put_cbor_head(uint8_t *buf, size_t cap, size_t *n, uint8_t major, uint8_t v)
{
	if (v < 24) {
		put(buf, cap, n, (uint8_t)(major << 5 | v));
	} else {
		put(buf, cap, n, (uint8_t)(major << 5 | 24));
		put(buf, cap, n, v);
	}
}

static void put_cbor_text(uint8_t *buf, size_t cap, size_t *n, const char *t)
{
	size_t len = strlen(t);
	put_cbor_head(buf, cap, n, 3, (uint8_t)len);
	for (size_t k = 0; k < len; k++)
		put(buf, cap, n, (uint8_t)t[k]);
}

/*
 * Encodes device d's value of /3/0 (path_len 2) or /3/0/res (path_len 3) in format: text
 * (one resource only), LwM2M TLV (Core §7.4.3: one resource TLV each, 8-bit ids, 1-byte
 * integers) or SenML CBOR (RFC 8428 §6, Core §7.4.5: bn -2, n 0, v 2, vs 3). Returns the
 * length, -ENOENT for a resource the device does not have, -ENOTSUP for a format or
 * path/format pair it cannot give (answered 4.06).
 */
static int encode_content(const struct device *d, uint8_t path_len, uint16_t res,
			  uint16_t format, uint8_t *buf, size_t cap)
{
	uint16_t list[3];
	size_t count = 0;
	if (path_len == 2) {
		for (size_t k = 0; k < 3; k++)
			list[count++] = device_resources[k];
	} else if (device_has_resource(res)) {
		list[count++] = res;
	} else {
		return -ENOENT;
	}
	size_t n = 0;
	if (format == COAP_CT_TEXT_PLAIN) {
		if (count != 1)
			return -ENOTSUP;
		int len = list[0] == RES_MANUFACTURER
				  ? snprintf((char *)buf, cap, "%s", MANUFACTURER)
				  : snprintf((char *)buf, cap, "%d", resource_int(d, list[0]));
		return len > 0 && (size_t)len < cap ? len : -ENOBUFS;
	}
	if (format == COAP_CT_LWM2M_TLV) {
		for (size_t k = 0; k < count; k++) {
			/* Type byte: 11 (resource with value), 8-bit id, length in the low 3
			 * bits (every value here is shorter than 8 bytes). */
			if (list[k] == RES_MANUFACTURER) {
				put(buf, cap, &n, (uint8_t)(0xC0 | strlen(MANUFACTURER)));
				put(buf, cap, &n, (uint8_t)list[k]);
				for (const char *c = MANUFACTURER; *c; c++)
					put(buf, cap, &n, (uint8_t)*c);
			} else {
				put(buf, cap, &n, 0xC1);
				put(buf, cap, &n, (uint8_t)list[k]);
				put(buf, cap, &n, (uint8_t)resource_int(d, list[k]));
			}
		}
	} else if (format == COAP_CT_SENML_CBOR) {
		put(buf, cap, &n, (uint8_t)(0x80 | count)); /* array of count records */
		for (size_t k = 0; k < count; k++) {
			char name[16];
			bool first = k == 0;
			put(buf, cap, &n, first ? 0xA3 : 0xA2); /* map of 3 (with bn) or 2 */
			if (first) {
				put(buf, cap, &n, 0x21); /* bn (-2) */
				put_cbor_text(buf, cap, &n, "/3/0/");
			}
			put(buf, cap, &n, 0x00); /* n */
			snprintf(name, sizeof(name), "%u", list[k]);
			put_cbor_text(buf, cap, &n, name);
			if (list[k] == RES_MANUFACTURER) {
				put(buf, cap, &n, 0x03); /* vs */
				put_cbor_text(buf, cap, &n, MANUFACTURER);
			} else {
				put(buf, cap, &n, 0x02); /* v */
				put_cbor_head(buf, cap, &n, 0, (uint8_t)resource_int(d, list[k]));
			}
		}
	} else {
		return -ENOTSUP;
	}
	return n <= cap ? (int)n : -ENOBUFS;
}

/* The water meter's report [0, battery %, flow uint32 big-endian] of d's current values.
 * Returns REPORT_LEN; buf has room for CONTENT_MAX. */
static int encode_report(const struct device *d, uint8_t *buf)
{
	buf[0] = MSG_REPORT;
	buf[1] = d->battery;
	buf[2] = (uint8_t)(d->flow >> 24);
	buf[3] = (uint8_t)(d->flow >> 16);
	buf[4] = (uint8_t)(d->flow >> 8);
	buf[5] = (uint8_t)d->flow;
	return REPORT_LEN;
}

/* The deviceRsp of the oldest command d owes: [2, mid hi, mid lo, errcode 0, result 0]. */
static int encode_response(struct device *d, uint8_t *buf)
{
	uint16_t mid = d->rsp_mid[d->rsp_head];
	d->rsp_head = (uint8_t)((d->rsp_head + 1) % RSP_QUEUE);
	d->rsp_count--;
	buf[0] = MSG_RESPONSE;
	buf[1] = (uint8_t)(mid >> 8);
	buf[2] = (uint8_t)mid;
	buf[3] = 0;
	buf[4] = 0;
	return RESPONSE_LEN;
}

/* A notification of device d's observation: CON 2.05, the observation's token, the next
 * Observe number (RFC 7641 §3.4: increasing), its format and the current value — for the
 * water meter (opaque), a report with new values, or in the command phase the deviceRsp
 * it owes. */
static int build_notification(struct device *d, struct slot *s, bool response)
{
	struct coap_msg m;
	uint8_t content[CONTENT_MAX];
	int len;
	d->obs_seq = (d->obs_seq + 1) & 0xFFFFFF;
	if (d->obs_format == COAP_CT_OCTET_STREAM && response && d->rsp_count > 0) {
		len = encode_response(d, content);
	} else if (d->obs_format == COAP_CT_OCTET_STREAM) {
		d->battery = (uint8_t)((d->battery + 1) % 101);
		d->flow += 7;
		len = encode_report(d, content);
	} else {
		d->battery = (uint8_t)((d->battery + 1) % 101);
		len = encode_content(d, d->obs_path_len, d->obs_res, d->obs_format, content,
				     sizeof(content));
	}
	if (len < 0)
		return len;
	int rc = coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_CONTENT, s->mid, s->token,
			       s->token_len);
	if (rc == 0)
		rc = coap_msg_add_uint_option(&m, COAP_OPTION_OBSERVE, d->obs_seq);
	if (rc == 0)
		rc = coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, d->obs_format);
	if (rc < 0)
		return rc;
	coap_msg_set_payload(&m, content, (size_t)len);
	int n = coap_msg_encode(&m, s->data, sizeof(s->data));
	if (n < 0)
		return n;
	s->len = (uint16_t)n;
	return 0;
}

/* Encodes the request of the current phase for device i into s->data. */
static int build_request(struct load *ld, uint32_t i, struct slot *s)
{
	struct device *d = &ld->dev[i];
	if (ld->ph->kind == PHASE_NOTIFY || ld->ph->kind == PHASE_COMMAND ||
	    (ld->ph->kind == PHASE_ECHO && ld->opt.notify_shape))
		return build_notification(d, s, ld->ph->kind == PHASE_COMMAND);
	struct coap_msg m;
	char node[NODE_MAX];
	char q_ep[NODE_MAX + 4];
	int rc = coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, s->mid, s->token,
			       s->token_len);
	if (rc < 0)
		return rc;
	rc = add_text_option(&m, COAP_OPTION_URI_PATH, "rd");
	if (rc < 0)
		return rc;
	if (ld->ph->kind == PHASE_REGISTER) {
		format_node_id(&ld->opt, i, node, sizeof(node));
		snprintf(q_ep, sizeof(q_ep), "ep=%s", node);
		const char *queries[] = {q_ep, REGISTER_LIFETIME, REGISTER_VERSION,
					 REGISTER_BINDING};
		for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
			rc = add_text_option(&m, COAP_OPTION_URI_QUERY, queries[q]);
			if (rc < 0)
				return rc;
		}
		rc = coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT,
					      COAP_CT_LINK_FORMAT);
		if (rc < 0)
			return rc;
		const char *links = ld->opt.mode == MODE_REPORT || ld->opt.mode == MODE_SOAK
					    ? OBJECT_LINKS_REPORT
					    : OBJECT_LINKS;
		coap_msg_set_payload(&m, links, strlen(links));
	} else {
		rc = coap_msg_add_option(&m, COAP_OPTION_URI_PATH, d->reg_id, d->reg_id_len);
		if (rc < 0)
			return rc;
	}
	int n = coap_msg_encode(&m, s->data, sizeof(s->data));
	if (n < 0)
		return n;
	s->len = (uint16_t)n;
	return 0;
}

static void ready_push(struct load *ld, uint32_t i)
{
	uint32_t cap = ld->opt.devices;
	/* Cannot overflow: a device is queued at most once and never while in flight. */
	if (ld->ready_count >= cap)
		return;
	ld->ready[(ld->ready_head + ld->ready_count) % cap] = i;
	ld->ready_count++;
}

static uint32_t ready_pop(struct load *ld)
{
	uint32_t i = ld->ready[ld->ready_head];
	ld->ready_head = (ld->ready_head + 1) % ld->opt.devices;
	ld->ready_count--;
	return i;
}

static void transmit(struct load *ld, const struct slot *s)
{
	send_as(ld, s->dev, s->data, s->len);
}

static void schedule_check(struct load *ld, uint64_t deadline)
{
	if (deadline < ld->next_check_ns)
		ld->next_check_ns = deadline;
}

/* The time a request may take in all: every transmission's timeout, doubling. */
static uint64_t give_up_ns(const struct options *o)
{
	return (uint64_t)o->timeout_ms * NS_PER_MS * ((2ull << o->retries) - 1);
}

/* Starts the next request of device i in a free slot. */
static void issue(struct load *ld, uint32_t i, uint64_t now)
{
	struct device *d = &ld->dev[i];
	uint32_t si = ld->free_slots[--ld->nfree];
	struct slot *s = &ld->slots[si];
	memset(s, 0, offsetof(struct slot, data));
	s->used = true;
	s->dev = i;
	s->mid = d->next_mid++;
	if (ld->ph->kind == PHASE_NOTIFY || ld->ph->kind == PHASE_COMMAND ||
	    (ld->ph->kind == PHASE_ECHO && ld->opt.notify_shape)) {
		/* A notification carries its observation's token. */
		s->token_len = d->obs_token_len;
		memcpy(s->token, d->obs_token, d->obs_token_len);
	} else {
		uint32_t t = ld->token_seq++;
		s->token_len = TOKEN_LEN;
		s->token[0] = (uint8_t)(t >> 24);
		s->token[1] = (uint8_t)(t >> 16);
		s->token[2] = (uint8_t)(t >> 8);
		s->token[3] = (uint8_t)t;
	}
	d->slot = (int32_t)si;
	d->rounds_left--;
	ld->ph->issued++;
	if (build_request(ld, i, s) < 0) {
		/* Only a codec bug gets here; count it and let the timer free the slot. */
		fprintf(stderr, "lwm2m_load: cannot encode request for device %u\n", i);
		s->len = 0;
	} else {
		transmit(ld, s);
		if (ld->ph->req_bytes == 0)
			ld->ph->req_bytes = s->len;
	}
	s->first_ns = now;
	s->tries = 1;
	s->deadline_ns = now + (uint64_t)ld->opt.timeout_ms * NS_PER_MS;
	schedule_check(ld, s->deadline_ns);
}

static void finish(struct load *ld, struct slot *s, enum outcome out, uint8_t code, uint64_t now)
{
	if (ld->ph->kind == PHASE_SOAK) {
		soak_finish(ld, s, out, code, now);
		return;
	}
	struct device *d = &ld->dev[s->dev];
	struct phase *ph = ld->ph;
	switch (out) {
	case OUT_OK:
		ph->ok++;
		hist_add(&ph->lat, (now - s->first_ns) / NS_PER_US);
		break;
	case OUT_LOST:
		ph->lost++;
		break;
	case OUT_ERR:
		ph->err++;
		ph->codes[code]++;
		break;
	}
	s->used = false;
	d->slot = -1;
	ld->free_slots[ld->nfree++] = (uint32_t)(s - ld->slots);
	if (d->rounds_left > 0)
		ready_push(ld, s->dev);
}

/* Register succeeded when the answer is 2.01 with Location-Path "rd", "<id>". */
static bool take_location(struct device *d, const struct coap_msg *r)
{
	const struct coap_option *seg[2];
	size_t n = 0;
	for (size_t k = 0; k < r->option_count; k++) {
		const struct coap_option *o = &r->options[k];
		if (o->number != COAP_OPTION_LOCATION_PATH)
			continue;
		if (n == 2)
			return false;
		seg[n++] = o;
	}
	if (n != 2 || seg[0]->len != 2 || memcmp(seg[0]->value, "rd", 2) != 0 ||
	    seg[1]->len == 0 || seg[1]->len >= REG_ID_MAX)
		return false;
	memcpy(d->reg_id, seg[1]->value, seg[1]->len);
	d->reg_id[seg[1]->len] = '\0';
	d->reg_id_len = (uint8_t)seg[1]->len;
	d->registered = true;
	return true;
}

/* A request's Uri-Path as up to 3 numeric ids. Returns 0, or -ENOENT for anything else. */
static int request_path(const struct coap_msg *r, uint32_t ids[3], size_t *count)
{
	size_t n = 0;
	for (size_t k = 0; k < r->option_count; k++) {
		const struct coap_option *o = &r->options[k];
		if (o->number != COAP_OPTION_URI_PATH)
			continue;
		if (n == 3 || o->len == 0 || o->len > 5)
			return -ENOENT;
		uint32_t v = 0;
		for (size_t c = 0; c < o->len; c++) {
			if (o->value[c] < '0' || o->value[c] > '9')
				return -ENOENT;
			v = v * 10 + (uint32_t)(o->value[c] - '0');
		}
		ids[n++] = v;
	}
	*count = n;
	return 0;
}

/* Which part of /3/0 a request's Uri-Path names: sets *path_len (2 or 3) and *res.
 * Returns 0, or -ENOENT for anything else. */
static int request_target(const struct coap_msg *r, uint8_t *path_len, uint16_t *res)
{
	uint32_t ids[3];
	size_t n = 0;
	if (request_path(r, ids, &n) < 0 || n < 2 || ids[0] != DEVICE_OBJECT || ids[1] != 0)
		return -ENOENT;
	*path_len = (uint8_t)n;
	*res = n == 3 ? (uint16_t)ids[2] : 0;
	return 0;
}

/*
 * --mode report: a command, Core §6.3.3 Write (CON PUT /19/1/0, opaque) of [1, mid hi,
 * mid lo, interval hi, interval lo], is answered 2.04 into m and its deviceRsp is owed:
 * the device sends it as a report once it has nothing else in flight (in the command
 * phase). A retransmitted PUT (the same message ID) is answered again, not owed twice.
 */
static int take_command(struct load *ld, uint32_t i, const struct coap_msg *r,
			struct coap_msg *m)
{
	struct device *d = &ld->dev[i];
	if (r->payload_len < COMMAND_LEN || r->payload[0] != MSG_COMMAND) {
		ld->refused++;
		return coap_msg_init(m, COAP_TYPE_ACK, COAP_CODE_BAD_REQUEST, r->mid, r->token,
				     r->token_len);
	}
	if (!d->put_seen || d->put_mid != r->mid) {
		d->put_seen = true;
		d->put_mid = r->mid;
		ld->commands++;
		if (d->rsp_count == RSP_QUEUE) {
			ld->commands_lost++;
		} else {
			d->rsp_mid[(d->rsp_head + d->rsp_count) % RSP_QUEUE] =
				(uint16_t)(r->payload[1] << 8 | r->payload[2]);
			d->rsp_count++;
			if (ld->ph->kind == PHASE_COMMAND) {
				/* A device is in the ready ring iff it has rounds left and
				 * nothing in flight. */
				ld->ph->requests++;
				if (d->rounds_left++ == 0 && d->slot < 0)
					ready_push(ld, i);
			} else if (ld->ph->kind == PHASE_SOAK) {
				soak_kick(ld, i);
			}
		}
	}
	return coap_msg_init(m, COAP_TYPE_ACK, COAP_CODE_CHANGED, r->mid, r->token, r->token_len);
}

/*
 * Answers a server's request (Core §6.3.1 Read, §6.4.1 Observe) piggybacked on the ACK
 * into m: GET of /3/0 or one of its resources gets 2.05 in the Accept's format (text for
 * one resource, else --format when there is no Accept); with Observe 0 the device records
 * the observation (RFC 7641 §3.1: the response carries an Observe option), with Observe
 * 1 it forgets it. Everything else gets 4.04 or 4.06. content must outlive m.
 */
static int answer_request(struct load *ld, uint32_t i, const struct coap_msg *r,
			  struct coap_msg *m, uint8_t *content, size_t cap)
{
	struct device *d = &ld->dev[i];
	uint8_t path_len;
	uint16_t res;
	uint8_t code = COAP_CODE_CONTENT;
	uint32_t accept, observe;
	bool has_accept = coap_msg_get_uint_option(r, COAP_OPTION_ACCEPT, &accept) == 0;
	bool has_observe = coap_msg_get_uint_option(r, COAP_OPTION_OBSERVE, &observe) == 0;
	int len = -ENOENT;
	uint16_t format = 0;
	uint16_t object = DEVICE_OBJECT;
	uint32_t ids[3];
	size_t n = 0;
	if ((ld->opt.mode == MODE_REPORT || ld->opt.mode == MODE_SOAK) &&
	    request_path(r, ids, &n) == 0 && n == 3 &&
	    ids[0] == BINARY_OBJECT && ids[1] <= 1 && ids[2] == 0) {
		/* The water meter: its reports are read or observed on /19/0/0 (or, for the
		 * baseline, /19/1/0), opaque; commands are written to /19/1/0. */
		if (r->code == COAP_CODE_PUT && ids[1] == 1)
			return take_command(ld, i, r, m);
		object = BINARY_OBJECT;
		path_len = 3;
		res = 0;
		format = COAP_CT_OCTET_STREAM;
		if (r->code != COAP_CODE_GET)
			len = -ENOENT;
		else if (has_accept && accept != COAP_CT_OCTET_STREAM)
			len = -ENOTSUP;
		else
			len = encode_report(d, content);
	} else if (r->code == COAP_CODE_GET && request_target(r, &path_len, &res) == 0) {
		format = has_accept ? (uint16_t)accept
			 : path_len == 3 ? COAP_CT_TEXT_PLAIN
					 : ld->opt.format;
		len = encode_content(d, path_len, res, format, content, cap);
	}
	if (len == -ENOTSUP)
		code = COAP_CODE_NOT_ACCEPTABLE;
	else if (len < 0)
		code = COAP_CODE_NOT_FOUND;
	if (code != COAP_CODE_CONTENT) {
		ld->refused++;
		return coap_msg_init(m, COAP_TYPE_ACK, code, r->mid, r->token, r->token_len);
	}
	int rc = coap_msg_init(m, COAP_TYPE_ACK, code, r->mid, r->token, r->token_len);
	if (rc < 0)
		return rc;
	if (has_observe && observe == 0) {
		ld->observes++;
		if (!d->observed)
			ld->observed++;
		d->observed = true;
		d->obs_token_len = r->token_len;
		memcpy(d->obs_token, r->token, r->token_len);
		d->obs_path_len = path_len;
		d->obs_res = res;
		d->obs_object = object;
		d->obs_format = format;
		d->obs_seq = 1;
		rc = coap_msg_add_uint_option(m, COAP_OPTION_OBSERVE, d->obs_seq);
		if (ld->ph->kind == PHASE_SOAK)
			soak_kick(ld, i); /* deviceRsp reports owed can go now */
	} else {
		ld->reads++;
		if (has_observe && observe == 1 && d->observed && r->token_len == d->obs_token_len &&
		    memcmp(r->token, d->obs_token, r->token_len) == 0) {
			d->observed = false;
			ld->observed--;
		}
	}
	if (rc == 0)
		rc = coap_msg_add_uint_option(m, COAP_OPTION_CONTENT_FORMAT, format);
	if (rc == 0)
		coap_msg_set_payload(m, content, (size_t)len);
	return rc;
}

/* Answers a message the server sent on its own: an empty CON (CoAP ping) with RST, a
 * request as answer_request says, a separate response we no longer wait for with an
 * empty ACK so the server stops retransmitting it. */
static void answer_server(struct load *ld, uint32_t i, const struct coap_msg *r)
{
	if (r->type != COAP_TYPE_CON)
		return;
	struct coap_msg m;
	uint8_t out[RESP_MAX];
	uint8_t content[CONTENT_MAX];
	int rc;
	if (r->code == COAP_CODE_EMPTY) {
		rc = coap_msg_init(&m, COAP_TYPE_RST, COAP_CODE_EMPTY, r->mid, NULL, 0);
	} else if (COAP_CODE_CLASS(r->code) == 0) {
		ld->ph->server_requests++;
		rc = answer_request(ld, i, r, &m, content, sizeof(content));
	} else {
		rc = coap_msg_init(&m, COAP_TYPE_ACK, COAP_CODE_EMPTY, r->mid, NULL, 0);
	}
	if (rc < 0)
		return;
	int n = coap_msg_encode(&m, out, sizeof(out));
	if (n > 0)
		send_as(ld, i, out, (size_t)n);
}

static bool token_matches(const struct slot *s, const struct coap_msg *r)
{
	return r->token_len == s->token_len && memcmp(r->token, s->token, s->token_len) == 0;
}

/* Handles one datagram from the server to device i. */
static void on_datagram(struct load *ld, uint32_t i, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct coap_msg r;
	if (coap_msg_parse(&r, buf, len) < 0)
		return;
	if (ld->ph->kind == PHASE_SOAK) {
		soak_datagram(ld, i, &r, now);
		return;
	}
	struct device *d = &ld->dev[i];
	struct slot *s = d->slot >= 0 ? &ld->slots[d->slot] : NULL;
	enum phase_kind kind = ld->ph->kind;

	if (kind == PHASE_ECHO) {
		/* The echo is our own CON coming back: same message ID and token. */
		if (s != NULL && r.mid == s->mid && token_matches(s, &r))
			finish(ld, s, OUT_OK, r.code, now);
		return;
	}
	bool notifying = kind == PHASE_NOTIFY || kind == PHASE_COMMAND;
	if (notifying && s != NULL && r.mid == s->mid &&
	    (r.type == COAP_TYPE_ACK || r.type == COAP_TYPE_RST)) {
		/* RFC 7641 §4.5: the server acknowledges a CON notification with an empty ACK;
		 * an RST means it does not know the observation. */
		bool ok = r.type == COAP_TYPE_ACK && r.code == COAP_CODE_EMPTY;
		finish(ld, s, ok ? OUT_OK : OUT_ERR, r.code, now);
		return;
	}
	if (s == NULL || notifying) {
		answer_server(ld, i, &r);
		return;
	}
	bool response = false;
	if (r.type == COAP_TYPE_ACK && r.mid == s->mid) {
		if (r.code == COAP_CODE_EMPTY) {
			/* Separate response to follow (RFC 7252 §5.2.2): stop retransmitting,
			 * keep waiting for as long as the request could have taken. */
			s->acked = true;
			s->deadline_ns = now + give_up_ns(&ld->opt);
			schedule_check(ld, s->deadline_ns);
			return;
		}
		response = token_matches(s, &r);
	} else if (r.type == COAP_TYPE_RST && r.mid == s->mid) {
		finish(ld, s, OUT_ERR, COAP_CODE_EMPTY, now);
		return;
	} else if ((r.type == COAP_TYPE_CON || r.type == COAP_TYPE_NON) &&
		   COAP_CODE_CLASS(r.code) >= 2 && token_matches(s, &r)) {
		answer_server(ld, i, &r);
		response = true;
	}
	if (!response) {
		answer_server(ld, i, &r);
		return;
	}
	bool ok;
	if (kind == PHASE_REGISTER)
		ok = r.code == COAP_CODE_CREATED && take_location(d, &r);
	else
		ok = r.code == COAP_CODE_CHANGED;
	finish(ld, s, ok ? OUT_OK : OUT_ERR, r.code, now);
}

/* Reads what socket k has: each datagram goes to the device it was addressed to, if it
 * came from the target. */
static void on_readable(struct load *ld, uint32_t k)
{
	uint8_t buf[RESP_MAX];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + 64];
	} ctl;
	for (int burst = 0; burst < RECV_BURST; burst++) {
		struct sockaddr_in from;
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
		struct msghdr mh = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctl.buf,
			.msg_controllen = sizeof(ctl.buf),
		};
		ssize_t n = recvmsg(ld->fds[k], &mh, MSG_DONTWAIT);
		if (n < 0) {
			/* EAGAIN: drained. ECONNREFUSED (ICMP port unreachable) and the like:
			 * the request times out on its own. */
			return;
		}
		if (from.sin_port != ld->opt.target.sin_port ||
		    from.sin_addr.s_addr != ld->opt.target.sin_addr.s_addr)
			continue;
		uint32_t dev = UINT32_MAX;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo pi;
				memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
				dev = device_of_addr(&ld->opt, &pi.ipi_addr);
			}
		}
		if (dev != UINT32_MAX && dev % ld->nfds == k)
			on_datagram(ld, dev, buf, (size_t)n, now_ns());
	}
}

/* Retransmits or gives up on every request whose deadline has passed. */
static void check_timeouts(struct load *ld, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (uint32_t k = 0; k < ld->nslots; k++) {
		struct slot *s = &ld->slots[k];
		if (!s->used)
			continue;
		if (s->deadline_ns > now) {
			if (s->deadline_ns < next)
				next = s->deadline_ns;
			continue;
		}
		if (s->acked || s->tries > ld->opt.retries) {
			finish(ld, s, OUT_LOST, 0, now);
			continue;
		}
		uint64_t timeout = (uint64_t)ld->opt.timeout_ms * NS_PER_MS << s->tries;
		s->tries++;
		ld->ph->retransmits++;
		if (s->len > 0)
			transmit(ld, s);
		s->deadline_ns = now + timeout;
		if (s->deadline_ns < next)
			next = s->deadline_ns;
	}
	ld->next_check_ns = next;
}

/* Counts every request not yet answered as lost when the phase runs out of time. */
static void abandon(struct load *ld, uint64_t now)
{
	for (uint32_t k = 0; k < ld->nslots; k++) {
		if (ld->slots[k].used)
			finish(ld, &ld->slots[k], OUT_LOST, 0, now);
	}
	struct phase *ph = ld->ph;
	ph->lost += ph->requests - ph->issued;
	ph->issued = ph->requests;
	ld->ready_count = 0;
	for (uint32_t i = 0; i < ld->opt.devices; i++)
		ld->dev[i].rounds_left = 0;
	ph->aborted = true;
}

static void run_phase(struct load *ld, struct phase *ph)
{
	const struct options *o = &ld->opt;
	ld->ph = ph;
	ld->ready_head = 0;
	ld->ready_count = 0;
	ld->next_check_ns = UINT64_MAX;
	uint32_t rounds = ph->kind == PHASE_REGISTER ? 1
			  : ph->kind == PHASE_NOTIFY ? o->notifications
						     : o->updates;
	/* The command phase has no rounds of its own: a device owes one report per command
	 * the server sends it, and the phase lasts until a stop signal or --max-seconds. */
	bool open_ended = ph->kind == PHASE_COMMAND;
	for (uint32_t i = 0; i < o->devices; i++) {
		struct device *d = &ld->dev[i];
		d->rounds_left = 0;
		if (open_ended) {
			d->rounds_left = d->rsp_count;
			ph->requests += d->rsp_count;
			if (d->rsp_count > 0)
				ready_push(ld, i);
			continue;
		}
		if (ph->kind == PHASE_UPDATE && !d->registered)
			continue;
		if (ph->kind == PHASE_NOTIFY && !d->observed)
			continue;
		d->rounds_left = rounds;
		if (rounds > 0)
			ready_push(ld, i);
		ph->requests += rounds;
	}

	struct epoll_event events[EPOLL_BATCH];
	ph->start_ns = now_ns();
	uint64_t stop_ns = ph->start_ns + (uint64_t)o->max_seconds * 1000 * NS_PER_MS;
	uint64_t window_lost = ph->requests < o->window ? ph->requests : o->window;
	/* --rate: request k of the phase is not sent before start + k / rate. */
	bool paced = o->rate > 0 && (ph->kind == PHASE_UPDATE || ph->kind == PHASE_NOTIFY);
	uint64_t paced_sent = 0;
	for (;;) {
		uint64_t now = now_ns();
		uint64_t allowed = UINT64_MAX;
		if (paced) {
			allowed = (now - ph->start_ns) / 1000 * o->rate / 1000000 + 1;
			if (stop_requested) {
				abandon(ld, now);
				break;
			}
		}
		while (ld->nfree > 0 && ld->ready_count > 0 && paced_sent < allowed) {
			issue(ld, ready_pop(ld), now);
			paced_sent++;
		}
		if (!open_ended && ld->nfree == ld->nslots && ld->ready_count == 0)
			break;
		if (open_ended && (stop_requested || now >= stop_ns))
			break;
		/* A server that is not there would otherwise cost every device its full
		 * retransmission time; a window's worth of losses and no answer is enough. */
		if (now >= stop_ns || (!open_ended && ph->ok == 0 && ph->err == 0 &&
				       ph->lost >= window_lost && window_lost > 0)) {
			fprintf(stderr, "lwm2m_load: %s: %s, giving up on the rest\n", ph->name,
				now >= stop_ns ? "out of time" : "no answers");
			abandon(ld, now);
			break;
		}
		int wait_ms = WAIT_MS_MAX;
		if (ld->next_check_ns <= now)
			wait_ms = 0;
		else if (ld->next_check_ns - now < (uint64_t)WAIT_MS_MAX * NS_PER_MS)
			wait_ms = (int)((ld->next_check_ns - now + NS_PER_MS - 1) / NS_PER_MS);
		if (paced && paced_sent >= allowed && ld->ready_count > 0 && ld->nfree > 0) {
			/* The next paced request is due at start + paced_sent / rate. */
			uint64_t due = ph->start_ns + paced_sent * 1000000000ull / o->rate;
			int due_ms = due > now ? (int)((due - now + NS_PER_MS - 1) / NS_PER_MS) : 0;
			if (due_ms < wait_ms)
				wait_ms = due_ms;
		}
		int n = epoll_wait(ld->epfd, events, EPOLL_BATCH, wait_ms);
		for (int k = 0; k < n; k++)
			on_readable(ld, events[k].data.u32);
		now = now_ns();
		if (now >= ld->next_check_ns)
			check_timeouts(ld, now);
	}
	ph->end_ns = now_ns();
}

/*
 * No requests of our own: answers the server's until stop_ns, a stop signal, or — when
 * until_observed — every registered device being observed. Returns true when it ended
 * for that last reason.
 */
static bool serve(struct load *ld, struct phase *ph, uint64_t stop_ns, uint32_t until_observed)
{
	struct epoll_event events[EPOLL_BATCH];
	ld->ph = ph;
	ph->start_ns = now_ns();
	bool done = false;
	while (!stop_requested) {
		if (until_observed > 0 && ld->observed >= until_observed) {
			done = true;
			break;
		}
		uint64_t now = now_ns();
		if (now >= stop_ns)
			break;
		int n = epoll_wait(ld->epfd, events, EPOLL_BATCH, WAIT_MS_MAX);
		for (int k = 0; k < n; k++)
			on_readable(ld, events[k].data.u32);
	}
	ph->end_ns = now_ns();
	ph->aborted = !done && until_observed > 0;
	return done;
}

static void print_serve(const struct load *ld, const struct phase *ph, uint64_t registered)
{
	printf("phase=%s devices=%u registered=%" PRIu64 " observed=%u seconds=%.3f"
	       " server_requests=%" PRIu64 " reads=%" PRIu64 " observes=%" PRIu64
	       " refused=%" PRIu64 " aborted=%d\n",
	       ph->name, ld->opt.devices, registered, ld->observed,
	       (double)(ph->end_ns - ph->start_ns) / 1e9, ph->server_requests, ld->reads,
	       ld->observes, ld->refused, ph->aborted ? 1 : 0);
	fflush(stdout);
}

static void print_phase(const struct load *ld, const struct phase *ph)
{
	double secs = (double)(ph->end_ns - ph->start_ns) / 1e9;
	double rps = secs > 0 ? (double)ph->ok / secs : 0.0;
	printf("phase=%s devices=%u requests=%" PRIu64 " ok=%" PRIu64 " lost=%" PRIu64
	       " err=%" PRIu64 " retransmits=%" PRIu64 " seconds=%.3f rps=%.0f p50_us=%" PRIu64
	       " p90_us=%" PRIu64 " p99_us=%" PRIu64 " p999_us=%" PRIu64 " max_us=%" PRIu64
	       " window=%u server_requests=%" PRIu64 " aborted=%d req_bytes=%" PRIu64 "\n",
	       ph->name, ld->opt.devices, ph->requests, ph->ok, ph->lost, ph->err,
	       ph->retransmits, secs, rps, hist_quantile(&ph->lat, 0.50),
	       hist_quantile(&ph->lat, 0.90), hist_quantile(&ph->lat, 0.99),
	       hist_quantile(&ph->lat, 0.999), ph->lat.max, ld->nslots, ph->server_requests,
	       ph->aborted ? 1 : 0, ph->req_bytes);
	fflush(stdout);
	for (int c = 0; c < 256; c++) {
		char name[5];
		if (ph->codes[c] > 0)
			fprintf(stderr, "lwm2m_load: %s: %" PRIu64 " answered %s\n", ph->name,
				ph->codes[c],
				c == 0 ? "RST" : coap_code_format((uint8_t)c, name));
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: lwm2m_load --mode echo|lwm2m|notify|serve|report|soak --target IPV4:PORT\n"
		"                  [--devices N] [--prefix P] [--updates K] [--notifications K]\n"
		"                  [--format tlv|senml-cbor|opaque] [--shape update|notify]\n"
		"                  [--window W] [--timeout-ms MS] [--retries R]\n"
		"                  [--max-seconds S] [--pid PID] [--net B] [--rate R]\n"
		"                  [--soak-seconds S] [--window-seconds W] [--report-rate R]\n"
		"                  [--reboot-rate PER_MINUTE]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	*o = (struct options){
		.mode = MODE_LWM2M,
		.devices = 1000,
		.prefix = "bench",
		.updates = 10,
		.notifications = 10,
		.format = COAP_CT_LWM2M_TLV,
		.window = 256,
		.timeout_ms = 1000,
		.retries = 2,
		.max_seconds = 300,
		.pid = 0,
		.net = 1,
		.soak_seconds = 60,
		.window_seconds = 10,
	};
	bool have_mode = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			return -EINVAL;
		i++;
		int rc = 0;
		uint32_t pid;
		if (strcmp(a, "--mode") == 0) {
			have_mode = true;
			if (strcmp(v, "echo") == 0)
				o->mode = MODE_ECHO;
			else if (strcmp(v, "lwm2m") == 0)
				o->mode = MODE_LWM2M;
			else if (strcmp(v, "notify") == 0)
				o->mode = MODE_NOTIFY;
			else if (strcmp(v, "serve") == 0)
				o->mode = MODE_SERVE;
			else if (strcmp(v, "report") == 0)
				o->mode = MODE_REPORT;
			else if (strcmp(v, "soak") == 0)
				o->mode = MODE_SOAK;
			else
				rc = -EINVAL;
		} else if (strcmp(a, "--notifications") == 0) {
			rc = parse_u32(v, 0, UPDATES_MAX, &o->notifications);
		} else if (strcmp(a, "--format") == 0) {
			if (strcmp(v, "tlv") == 0)
				o->format = COAP_CT_LWM2M_TLV;
			else if (strcmp(v, "senml-cbor") == 0)
				o->format = COAP_CT_SENML_CBOR;
			else if (strcmp(v, "opaque") == 0)
				o->format = COAP_CT_OCTET_STREAM;
			else
				rc = -EINVAL;
		} else if (strcmp(a, "--shape") == 0) {
			if (strcmp(v, "update") == 0 || strcmp(v, "notify") == 0)
				o->notify_shape = v[0] == 'n';
			else
				rc = -EINVAL;
		} else if (strcmp(a, "--target") == 0) {
			o->target_text = v;
			rc = parse_target(v, &o->target);
		} else if (strcmp(a, "--devices") == 0) {
			rc = parse_u32(v, 1, DEVICES_MAX, &o->devices);
		} else if (strcmp(a, "--prefix") == 0) {
			o->prefix = v;
			rc = strlen(v) <= PREFIX_MAX ? 0 : -EINVAL;
		} else if (strcmp(a, "--updates") == 0) {
			rc = parse_u32(v, 0, UPDATES_MAX, &o->updates);
		} else if (strcmp(a, "--window") == 0) {
			rc = parse_u32(v, 1, WINDOW_MAX, &o->window);
		} else if (strcmp(a, "--timeout-ms") == 0) {
			rc = parse_u32(v, 1, TIMEOUT_MS_MAX, &o->timeout_ms);
		} else if (strcmp(a, "--retries") == 0) {
			rc = parse_u32(v, 0, RETRIES_MAX, &o->retries);
		} else if (strcmp(a, "--max-seconds") == 0) {
			rc = parse_u32(v, 1, SECONDS_MAX, &o->max_seconds);
		} else if (strcmp(a, "--pid") == 0) {
			rc = parse_u32(v, 1, INT32_MAX, &pid);
			o->pid = (long)pid;
		} else if (strcmp(a, "--net") == 0) {
			rc = parse_u32(v, 1, 254, &o->net);
		} else if (strcmp(a, "--rate") == 0) {
			rc = parse_u32(v, 0, 10000000, &o->rate);
		} else if (strcmp(a, "--soak-seconds") == 0) {
			rc = parse_u32(v, 1, SECONDS_MAX, &o->soak_seconds);
		} else if (strcmp(a, "--window-seconds") == 0) {
			rc = parse_u32(v, 1, SECONDS_MAX, &o->window_seconds);
		} else if (strcmp(a, "--report-rate") == 0) {
			rc = parse_u32(v, 0, 10000000, &o->report_rate);
		} else if (strcmp(a, "--reboot-rate") == 0) {
			rc = parse_u32(v, 0, 1000000, &o->reboot_rate);
		} else {
			rc = -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, "lwm2m_load: bad %s '%s'\n", a, v);
			return rc;
		}
	}
	if (!have_mode || o->target_text == NULL)
		return -EINVAL;
	/* The address plan must stay inside 127.0.0.0/8. */
	if (o->net + (o->devices - 1) / (HOSTS_PER_NET * 256u) > 254) {
		fprintf(stderr, "lwm2m_load: too many devices for --net %u\n", o->net);
		return -EINVAL;
	}
	return 0;
}

static int setup(struct load *ld)
{
	const struct options *o = &ld->opt;
	ld->nslots = o->window < o->devices ? o->window : o->devices;
	ld->dev = calloc(o->devices, sizeof(*ld->dev));
	ld->ready = calloc(o->devices, sizeof(*ld->ready));
	ld->slots = calloc(ld->nslots, sizeof(*ld->slots));
	ld->free_slots = calloc(ld->nslots, sizeof(*ld->free_slots));
	if (ld->dev == NULL || ld->ready == NULL || ld->slots == NULL || ld->free_slots == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < ld->nslots; k++)
		ld->free_slots[k] = ld->nslots - 1 - k;
	ld->nfree = ld->nslots;
	ld->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ld->epfd < 0)
		return -errno;
	return open_devices(ld);
}

static void teardown(struct load *ld)
{
	for (uint32_t k = 0; k < ld->nfds; k++)
		close(ld->fds[k]);
	if (ld->epfd >= 0)
		close(ld->epfd);
	free(ld->dev);
	free(ld->ready);
	free(ld->slots);
	free(ld->free_slots);
}

/* Echo mode needs a registration id per device for its Update-shaped datagrams; it gets
 * one of the same length as the daemon's (10 characters). */
static void fake_registrations(struct load *ld)
{
	for (uint32_t i = 0; i < ld->opt.devices; i++) {
		struct device *d = &ld->dev[i];
		int n = snprintf(d->reg_id, sizeof(d->reg_id), "e%09" PRIu32, i);
		d->reg_id_len = (uint8_t)n;
		d->registered = true;
		/* The daemon's tokens are 8 bytes; the observation is of /3/0. */
		d->observed = true;
		d->obs_token_len = COAP_TOKEN_MAX;
		for (uint32_t k = 0; k < COAP_TOKEN_MAX; k++)
			d->obs_token[k] = (uint8_t)((i * 2654435761u) >> (k % 4 * 8) ^ k);
		d->obs_path_len = 2;
		d->obs_format = ld->opt.format;
		d->obs_seq = 1;
	}
}

#include "lwm2m_soak.h"

int main(int argc, char **argv)
{
	static struct load ld;
	ld.epfd = -1;
	if (parse_options(argc, argv, &ld.opt) < 0) {
		usage();
		return 2;
	}
	uint64_t t0 = now_ns();
	int rc = setup(&ld);
	if (rc < 0) {
		fprintf(stderr, "lwm2m_load: setup: %s\n", strerror(-rc));
		teardown(&ld);
		return 1;
	}
	fprintf(stderr, "lwm2m_load: %u devices ready in %.2f s, target %s\n", ld.opt.devices,
		(double)(now_ns() - t0) / 1e9, ld.opt.target_text);

	/* Phases are big (the histogram alone is 18 kB): keep them off the stack. */
	static struct phase echo = {.name = "echo", .kind = PHASE_ECHO};
	static struct phase reg = {.name = "register", .kind = PHASE_REGISTER};
	static struct phase upd = {.name = "update", .kind = PHASE_UPDATE};
	static struct phase obs = {.name = "observe", .kind = PHASE_SERVE};
	static struct phase ntf = {.name = "notify", .kind = PHASE_NOTIFY};
	static struct phase srv = {.name = "serve", .kind = PHASE_SERVE};
	static struct phase cmd = {.name = "command", .kind = PHASE_COMMAND};
	int status = 0;
	for (uint32_t i = 0; i < ld.opt.devices; i++) {
		ld.dev[i].battery = (uint8_t)(i % 101);
		ld.dev[i].flow = i * 1000u;
	}
	if (ld.opt.mode == MODE_ECHO) {
		/* An echo of ld.opt.updates rounds; notification-shaped with --shape notify. */
		fake_registrations(&ld);
		run_phase(&ld, &echo);
		print_phase(&ld, &echo);
		status = echo.ok == echo.requests ? 0 : 1;
	} else if (ld.opt.mode == MODE_SOAK) {
		status = soak_main(&ld);
	} else if (ld.opt.mode == MODE_REPORT) {
		struct sigaction sa = {.sa_handler = on_stop_signal};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		run_phase(&ld, &reg);
		print_phase(&ld, &reg);
		uint64_t stop = now_ns() + (uint64_t)ld.opt.max_seconds * 1000 * NS_PER_MS;
		/* The daemon observes /19/0/0 on Register when the product has a codec; for the
		 * baseline the script observes /19/1/0 through the REST API meanwhile. */
		bool all = reg.ok > 0 && serve(&ld, &obs, stop, (uint32_t)reg.ok);
		print_serve(&ld, &obs, reg.ok);
		if (all) {
			run_phase(&ld, &ntf);
			print_phase(&ld, &ntf);
			/* What the shadow must now hold, for the script to compare. */
			uint32_t probe[3] = {0, ld.opt.devices / 2, ld.opt.devices - 1};
			for (size_t k = 0; k < 3; k++) {
				char node[NODE_MAX];
				const struct device *d = &ld.dev[probe[k]];
				format_node_id(&ld.opt, probe[k], node, sizeof(node));
				if (d->observed && d->obs_format == COAP_CT_OCTET_STREAM)
					printf("last node=%s battery=%u flow=%" PRIu32 "\n", node,
					       d->battery, d->flow);
			}
			fflush(stdout);
			/* Commands come from the script through the REST API; each is answered
			 * 2.04 and then its deviceRsp report. */
			if (!stop_requested) {
				printf("phase=command-ready\n");
				fflush(stdout);
				run_phase(&ld, &cmd);
				print_phase(&ld, &cmd);
				printf("commands devices=%u taken=%" PRIu64 " queue_full=%" PRIu64 "\n",
				       ld.opt.devices, ld.commands, ld.commands_lost);
				fflush(stdout);
			}
		}
		status = all && reg.ok == reg.requests && ntf.ok == ntf.requests ? 0 : 1;
	} else if (ld.opt.mode == MODE_NOTIFY || ld.opt.mode == MODE_SERVE) {
		struct sigaction sa = {.sa_handler = on_stop_signal};
		sigemptyset(&sa.sa_mask);
		if (ld.opt.mode == MODE_SERVE) {
			sigaction(SIGTERM, &sa, NULL);
			sigaction(SIGINT, &sa, NULL);
		}
		run_phase(&ld, &reg);
		print_phase(&ld, &reg);
		uint64_t stop = now_ns() + (uint64_t)ld.opt.max_seconds * 1000 * NS_PER_MS;
		if (ld.opt.mode == MODE_SERVE) {
			serve(&ld, &srv, stop, 0);
			print_serve(&ld, &srv, reg.ok);
			status = reg.ok == reg.requests ? 0 : 1;
		} else {
			/* Observations are made by whoever drives the REST API meanwhile. */
			bool all = reg.ok > 0 && serve(&ld, &obs, stop, (uint32_t)reg.ok);
			print_serve(&ld, &obs, reg.ok);
			if (all) {
				run_phase(&ld, &ntf);
				print_phase(&ld, &ntf);
			}
			status = all && reg.ok == reg.requests && ntf.ok == ntf.requests ? 0 : 1;
		}
	} else {
		long rss_before = 0, rss_after = 0;
		bool rss = ld.opt.pid > 0 && read_rss_kb(ld.opt.pid, &rss_before) == 0;
		if (ld.opt.pid > 0 && !rss)
			fprintf(stderr, "lwm2m_load: cannot read VmRSS of pid %ld\n", ld.opt.pid);
		run_phase(&ld, &reg);
		print_phase(&ld, &reg);
		if (rss && read_rss_kb(ld.opt.pid, &rss_after) == 0) {
			long long per = reg.ok > 0 ? (long long)(rss_after - rss_before) * 1024 /
							     (long long)reg.ok
						   : 0;
			printf("memory pid=%ld registered=%" PRIu64 " rss_before_kb=%ld "
			       "rss_after_kb=%ld rss_per_device_bytes=%lld\n",
			       ld.opt.pid, reg.ok, rss_before, rss_after, per);
			fflush(stdout);
		}
		run_phase(&ld, &upd);
		print_phase(&ld, &upd);
		status = reg.ok == reg.requests && upd.ok == upd.requests ? 0 : 1;
	}
	teardown(&ld);
	return status;
}
