/*
 * harness: what every integration test needs to talk to a real lwm2md.
 *
 * It starts the daemon binary ($LWM2MD_BIN) on free loopback ports with a fresh
 * database in a temporary directory, reads the ports it prints, creates an API token,
 * and offers a blocking HTTP/1.1 client and a raw CoAP-over-UDP client. Nothing is
 * mocked: the bytes cross real sockets.
 */
#ifndef LWM2MD_TEST_HARNESS_H
#define LWM2MD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "coap/coap_msg.h"
#include "util/addr.h"

struct daemon_proc {
	pid_t pid;
	char dir[256];   /* temporary directory holding the database */
	char db[300];
	char token[80];  /* API token for project "p1" */
	struct addr coap;
	struct addr coaps; /* the first DTLS socket */
	struct addr http;
	struct addr bs_coap;  /* the Bootstrap-Server's sockets, when started with them */
	struct addr bs_coaps;
	char coap_bind[64];  /* what --coap was given ("127.0.0.1:0" by default) */
	char coaps_bind[64]; /* what --coaps was given ("127.0.0.1:0") */
	int stdout_fd;
	/* Without --push-allow-private. The tests' receivers listen on loopback, which push
	 * refuses by default, so every daemon gets the flag unless a test asks otherwise. */
	bool push_strict;
};

/* Creates the temp dir, database and token, and starts the daemon. extra_args (may be
 * NULL) is a NULL-terminated list of further arguments. Fails the test on error. */
void daemon_start(struct daemon_proc *d, const char *const *extra_args);
/* The same without --push-allow-private (kept across daemon_restart). */
void daemon_start_push_strict(struct daemon_proc *d, const char *const *extra_args);
/* The same with CoAP bound to coap_bind (e.g. "[::1]:0"). */
void daemon_start_on(struct daemon_proc *d, const char *coap_bind,
		     const char *const *extra_args);
/* Starts again on the same database (after daemon_stop) and the same CoAP and CoAPS
 * ports, as devices would expect of a restarted server. */
void daemon_restart(struct daemon_proc *d, const char *const *extra_args);
/* SIGTERM and wait; fails the test unless the daemon exits 0 (under ASan, a leak or an
 * error makes it exit non-zero). */
void daemon_stop(struct daemon_proc *d);
/* Stops when running and removes the temporary directory. */
void daemon_cleanup(struct daemon_proc *d);

/* One HTTP request to the daemon's API with its token (auth false: without). Returns
 * the status code; the body goes into resp (NUL-terminated, truncated to cap). */
int http_call(struct daemon_proc *d, const char *method, const char *path, const char *body,
	      char *resp, size_t cap);
int http_call_auth(struct daemon_proc *d, const char *method, const char *path,
		   const char *body, const char *token, char *resp, size_t cap);
/* The same with a body of len bytes (any, NULs included) sent as content_type. */
int http_call_type(struct daemon_proc *d, const char *method, const char *path,
		   const char *content_type, const void *body, size_t len, char *resp,
		   size_t cap);

/* Creates product "meter" and a device with node_id, secure_access and timeout through
 * the API; fails the test on error. */
void api_create_product(struct daemon_proc *d, const char *product_id);
void api_create_device(struct daemon_proc *d, const char *product_id, const char *node_id,
		       bool secure_access, int timeout);
/* The device's JSON field value (a crude lookup of "name":"value" or "name":number in
 * the device GET body): 0 and value copied, or -1. */
int api_device_field(struct daemon_proc *d, const char *device_id, const char *field,
		     char *value, size_t cap);
/* Polls the device GET until "status" equals want, up to timeout_ms. Returns 0 or -1. */
int api_wait_status(struct daemon_proc *d, const char *device_id, const char *want,
		    int timeout_ms);

/* A UDP socket bound to bind_addr (e.g. "127.0.0.1:0" or "[::1]:0"). */
int coap_socket(const char *bind_addr);
/* Sends len bytes to the daemon's CoAP address (or to `to` when not NULL). */
void coap_send_raw(int fd, const struct addr *to, const void *data, size_t len);
/* Waits up to timeout_ms for a datagram; returns its length or -1 on timeout. */
ssize_t coap_recv_raw(int fd, uint8_t *buf, size_t cap, int timeout_ms);
/* Sends msg and waits for the answer with the same message id (ACK/RST) or, for NON,
 * the same token; parses it into resp, whose pointers go into buf. Returns 0 or -1. */
int coap_exchange(int fd, const struct addr *to, struct coap_msg *msg, struct coap_msg *resp,
		  uint8_t *buf, size_t cap);

/* Builds a Register (CON POST /rd?ep=&lt=&lwm2m=1.1&b=U with link payload). */
void coap_build_register(struct coap_msg *m, uint16_t mid, const char *ep, const char *lt,
			 const char *links);
/* Registers and returns the registration id (10 chars) in id; returns the CoAP code. */
uint8_t coap_register(int fd, const struct addr *to, const char *ep, const char *lt,
		      const char *links, char id[32]);
/* Update (POST /rd/id) or De-register (DELETE /rd/id); returns the CoAP code. */
uint8_t coap_update(int fd, const struct addr *to, const char *id, const char *query);
uint8_t coap_deregister(int fd, const struct addr *to, const char *id);
/* An LwM2M 1.1 Send (CON POST /dp) of payload in format ct; returns the response code. */
uint8_t coap_send_dp(int fd, struct daemon_proc *d, uint16_t mid, int ct, const char *payload);

/* Runs a command line through /bin/sh with a timeout, capturing stdout+stderr. Returns
 * the exit status (or -1). */
int run_command(const char *cmd, char *out, size_t cap, int timeout_s);

void sleep_ms(int ms);
/* $LWM2M_SIM_BIN, the simulator (fails the test when unset). */
const char *sim_bin(void);
/* The text of the simulator's output file so far: a static buffer, overwritten by the
 * next call; "" when it cannot be read. */
const char *sim_output_of(const char *path);

/* An event stream (GET /v5/iot/p1/events{query}) read as it comes (harness_sse.c). */
struct stream {
	int fd;
	char buf[65536]; /* everything received, NUL-terminated */
	size_t len;
};
void stream_open(struct stream *s, struct daemon_proc *d, const char *query);
/* Reads until needle is in the buffer, up to timeout_ms. Returns 0 or -1. */
int stream_wait(struct stream *s, const char *needle, int timeout_ms);

/* An API call on its own thread, for calls that wait while the test plays the device. */
struct api_async {
	pthread_t thread;
	struct daemon_proc *d;
	const char *method;
	char path[256];
	const void *body;
	const char *content_type; /* NULL: JSON, body a string */
	size_t body_len;
	int status;
	char resp[16384];
};
void api_async_start(struct api_async *c, struct daemon_proc *d, const char *method,
		     const char *path, const char *body);
/* The same with a body of len bytes sent as content_type (http_call_type). */
void api_async_start_raw(struct api_async *c, struct daemon_proc *d, const char *method,
			 const char *path, const char *content_type, const void *body, size_t len);
void api_async_wait(struct api_async *c);

/* The device's side of a server request: waits up to 5 s for it on fd and parses it into
 * m (pointers into buf); fails the test unless it is a CON. */
void coap_receive_request(int fd, struct coap_msg *m, uint8_t *buf, size_t cap);
/* Answers req with a piggybacked ACK of code to `to`, with a Content-Format when ct >= 0,
 * a block option when block_option is not 0, and payload. */
void coap_answer(int fd, const struct addr *to, const struct coap_msg *req, uint8_t code,
		 int ct, uint16_t block_option, const struct coap_block *block,
		 const void *payload, size_t len);
void coap_assert_path(const struct coap_msg *m, const char *want);
/* Fails the test, showing both, unless needle is in haystack. */
void assert_in(const char *haystack, const char *needle);

/* An application's HTTP endpoint (harness_receiver.c): a thread that accepts POSTs on
 * 127.0.0.1:port, keeps each body, and answers 200 — or 500 to the first `fail_first`
 * requests; or, hanging, accepts connections and never answers. */
#define RECEIVER_MAX 64
struct receiver {
	int listen_fd;
	int port;
	int fail_first;
	bool hang;
	int held[RECEIVER_MAX]; /* a hanging receiver's connections */
	int held_count;
	pthread_t thread;
	pthread_mutex_t lock;
	int requests;            /* all, failed ones included */
	int count;               /* bodies kept (2xx answered) */
	char *bodies[RECEIVER_MAX];
	bool stop;
};
/* Starts on port (0: a free one). */
void receiver_start(struct receiver *r, int port, int fail_first);
/* Starts one that accepts connections and never answers them (port 0: a free one). */
void receiver_start_hanging(struct receiver *r, int port);
/* How many requests (or, hanging, connections) it has had. */
int receiver_requests(struct receiver *r);
void receiver_stop(struct receiver *r);
/* Waits until a kept body contains every needle (NULL-terminated), up to timeout_ms;
 * returns a copy of that body (free it) or NULL. */
char *receiver_wait(struct receiver *r, int timeout_ms, ...);

/* The API's limits under load (harness_load.c). */
/* A monotonic clock in milliseconds. */
int64_t mono_ms(void);
/* Creates an API token for project (the project is created too); fails the test on error. */
void daemon_token_create(struct daemon_proc *d, const char *project, char token[80]);
/* A TCP connection to `to` from from_ip (e.g. "127.0.0.3"; NULL: any), within timeout_ms:
 * a blocking socket, or -1. */
int tcp_connect_from(const struct addr *to, const char *from_ip, int timeout_ms);
/* GET path (with token when not NULL) on a new connection; the status, or -1 when no
 * whole answer came within timeout_ms — without failing the test. The body goes to resp. */
int http_get_within(struct daemon_proc *d, const char *path, const char *token, int timeout_ms,
		    char *resp, size_t cap);
/* The daemon's open file descriptors (/proc/PID/fd), or -1. */
int daemon_fd_count(const struct daemon_proc *d);
/* The value of a series in /metrics, e.g. "lwm2md_http_event_streams", or -1 when absent
 * or /metrics did not answer. */
long long metric_value(struct daemon_proc *d, const char *series);

#endif
