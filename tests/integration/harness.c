/* harness: see harness.h. Failures call cmocka's fail_msg, so they end the test. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

static uint16_t next_mid = 0x100;

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static const char *daemon_bin(void)
{
	const char *bin = getenv("LWM2MD_BIN");
	if (!bin)
		fail_msg("LWM2MD_BIN is not set (run the tests through ctest)");
	return bin;
}

/* Reads one line from fd (unbuffered, so the rest stays for later). */
static int read_line(int fd, char *buf, size_t cap, int timeout_ms)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, timeout_ms) <= 0)
			return -1;
		char c;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

static void spawn(struct daemon_proc *d, const char *const *extra_args)
{
	const char *argv[32];
	int argc = 0;
	argv[argc++] = daemon_bin();
	argv[argc++] = "--db";
	argv[argc++] = d->db;
	argv[argc++] = "--coap";
	argv[argc++] = d->coap_bind;
	argv[argc++] = "--coaps";
	argv[argc++] = d->coaps_bind;
	argv[argc++] = "--http";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--log-level";
	argv[argc++] = getenv("LWM2MD_LOG_LEVEL") ? getenv("LWM2MD_LOG_LEVEL") : "warn";
	if (!d->push_strict)
		argv[argc++] = "--push-allow-private";
	for (int i = 0; extra_args && extra_args[i] && argc < 30; i++)
		argv[argc++] = extra_args[i];
	argv[argc] = NULL;

	int pipefd[2];
	assert_int_equal(pipe(pipefd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		/* A test that reads the daemon's log names a file for it. */
		const char *log_path = getenv("LWM2MD_TEST_STDERR");
		if (log_path) {
			int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
			if (log_fd >= 0)
				dup2(log_fd, STDERR_FILENO);
		}
		close(pipefd[0]);
		close(pipefd[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	d->pid = pid;
	d->stdout_fd = pipefd[0];

	bool have_coap = false, have_coaps = false, have_http = false;
	char line[256];
	while (!(have_coap && have_coaps && have_http)) {
		if (read_line(d->stdout_fd, line, sizeof(line), 20000) < 0)
			fail_msg("the daemon did not print its ports");
		if (strncmp(line, "listening coap ", 15) == 0 && !have_coap) {
			assert_int_equal(addr_parse(&d->coap, line + 15), 0);
			have_coap = true;
		} else if (strncmp(line, "listening coaps ", 16) == 0 && !have_coaps) {
			assert_int_equal(addr_parse(&d->coaps, line + 16), 0);
			have_coaps = true;
		} else if (strncmp(line, "listening bootstrap-coap ", 25) == 0) {
			assert_int_equal(addr_parse(&d->bs_coap, line + 25), 0);
		} else if (strncmp(line, "listening bootstrap-coaps ", 26) == 0) {
			assert_int_equal(addr_parse(&d->bs_coaps, line + 26), 0);
		} else if (strncmp(line, "listening http ", 15) == 0) {
			assert_int_equal(addr_parse(&d->http, line + 15), 0);
			have_http = true;
		}
	}
}

static void start_on(struct daemon_proc *d, const char *coap_bind, bool push_strict,
		     const char *const *extra_args);

void daemon_start(struct daemon_proc *d, const char *const *extra_args)
{
	start_on(d, "127.0.0.1:0", false, extra_args);
}

void daemon_start_push_strict(struct daemon_proc *d, const char *const *extra_args)
{
	start_on(d, "127.0.0.1:0", true, extra_args);
}

void daemon_start_on(struct daemon_proc *d, const char *coap_bind,
		     const char *const *extra_args)
{
	start_on(d, coap_bind, false, extra_args);
}

static void start_on(struct daemon_proc *d, const char *coap_bind, bool push_strict,
		     const char *const *extra_args)
{
	memset(d, 0, sizeof(*d));
	d->push_strict = push_strict;
	snprintf(d->coap_bind, sizeof(d->coap_bind), "%s", coap_bind);
	snprintf(d->coaps_bind, sizeof(d->coaps_bind), "127.0.0.1:0");
	snprintf(d->dir, sizeof(d->dir), "/tmp/lwm2md-test-XXXXXX");
	assert_non_null(mkdtemp(d->dir));
	snprintf(d->db, sizeof(d->db), "%s/db.sqlite", d->dir);
	char cmd[1024], out[256];
	snprintf(cmd, sizeof(cmd), "%s token create --db %s --project p1 2>/dev/null", daemon_bin(), d->db);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	char *nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	assert_int_equal(strlen(out), 64);
	memcpy(d->token, out, 65);
	spawn(d, extra_args);
}

void daemon_restart(struct daemon_proc *d, const char *const *extra_args)
{
	assert_int_equal(d->pid, 0);
	addr_format(&d->coap, d->coap_bind);
	addr_format(&d->coaps, d->coaps_bind);
	spawn(d, extra_args);
}

void daemon_stop(struct daemon_proc *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	int status = 0;
	for (int i = 0; i < 300; i++) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid)
			break;
		if (i == 299) {
			kill(d->pid, SIGKILL);
			waitpid(d->pid, &status, 0);
			d->pid = 0;
			fail_msg("the daemon did not stop within 30 s of SIGTERM");
		}
		sleep_ms(100);
	}
	d->pid = 0;
	close(d->stdout_fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the daemon exited with status %d (signal %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void daemon_cleanup(struct daemon_proc *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		waitpid(d->pid, NULL, 0);
		d->pid = 0;
	}
	if (d->dir[0]) {
		char cmd[512], out[64];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		run_command(cmd, out, sizeof(out), 10);
	}
}

/* One request with a body of len bytes of content_type. */
static int http_request(struct daemon_proc *d, const char *method, const char *path,
			const char *token, const char *content_type, const void *body,
			size_t blen, char *resp, size_t cap)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&d->http, &ss);
	if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0)
		fail_msg("connect to the API: %s", strerror(errno));
	char req[8192];
	char auth[128] = "";
	if (token)
		snprintf(auth, sizeof(auth), "X-Auth-Token: %s\r\n", token);
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Type: %s"
			 "\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 method, path, auth, content_type, blen);
	assert_true(n > 0 && (size_t)n < sizeof(req));
	assert_int_equal(write(fd, req, (size_t)n), n);
	if (blen)
		assert_int_equal(write(fd, body, blen), (ssize_t)blen);
	static char raw[1 << 20];
	size_t got = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20000) <= 0)
			fail_msg("the API did not answer %s %s", method, path);
		ssize_t r = read(fd, raw + got, sizeof(raw) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	raw[got] = '\0';
	int status = 0;
	if (sscanf(raw, "HTTP/1.%*d %d", &status) != 1)
		fail_msg("not an HTTP response: %.80s", raw);
	const char *b = strstr(raw, "\r\n\r\n");
	b = b ? b + 4 : "";
	if (resp && cap)
		snprintf(resp, cap, "%s", b);
	return status;
}

int http_call_auth(struct daemon_proc *d, const char *method, const char *path,
		   const char *body, const char *token, char *resp, size_t cap)
{
	return http_request(d, method, path, token, "application/json", body,
			    body ? strlen(body) : 0, resp, cap);
}

int http_call_type(struct daemon_proc *d, const char *method, const char *path,
		   const char *content_type, const void *body, size_t len, char *resp,
		   size_t cap)
{
	return http_request(d, method, path, d->token, content_type, body, len, resp, cap);
}

int http_call(struct daemon_proc *d, const char *method, const char *path, const char *body,
	      char *resp, size_t cap)
{
	return http_call_auth(d, method, path, body, d->token, resp, cap);
}

void api_create_product(struct daemon_proc *d, const char *product_id)
{
	char body[256], resp[4096];
	snprintf(body, sizeof(body),
		 "{\"product_id\":\"%s\",\"name\":\"Water meter\",\"protocol_type\":\"LwM2M\","
		 "\"data_format\":\"binary\"}",
		 product_id);
	int status = http_call(d, "POST", "/v5/iot/p1/products", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("product create: %d %s", status, resp);
}

void api_create_device(struct daemon_proc *d, const char *product_id, const char *node_id,
		       bool secure_access, int timeout)
{
	char body[512], resp[4096];
	snprintf(body, sizeof(body),
		 "{\"node_id\":\"%s\",\"product_id\":\"%s\",\"auth_info\":{\"secure_access\":%s,"
		 "\"timeout\":%d}}",
		 node_id, product_id, secure_access ? "true" : "false", timeout);
	int status = http_call(d, "POST", "/v5/iot/p1/devices", body, resp, sizeof(resp));
	if (status != 201)
		fail_msg("device create: %d %s", status, resp);
}

int api_device_field(struct daemon_proc *d, const char *device_id, const char *field,
		     char *value, size_t cap)
{
	char path[256], resp[16384], key[64];
	snprintf(path, sizeof(path), "/v5/iot/p1/devices/%s", device_id);
	if (http_call(d, "GET", path, NULL, resp, sizeof(resp)) != 200)
		return -1;
	snprintf(key, sizeof(key), "\"%s\":", field);
	const char *p = strstr(resp, key);
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ')
		p++;
	size_t n = 0;
	if (*p == '"') {
		p++;
		/* JSON escapes (\") stay in the value; only an unescaped quote ends it. */
		while (p[n] && p[n] != '"')
			n += p[n] == '\\' && p[n + 1] ? 2 : 1;
	} else {
		while (p[n] && p[n] != ',' && p[n] != '}')
			n++;
	}
	if (n >= cap)
		n = cap - 1;
	memcpy(value, p, n);
	value[n] = '\0';
	return 0;
}

int api_wait_status(struct daemon_proc *d, const char *device_id, const char *want,
		    int timeout_ms)
{
	char status[32] = "";
	for (int waited = 0; waited <= timeout_ms; waited += 50) {
		if (api_device_field(d, device_id, "status", status, sizeof(status)) == 0 &&
		    strcmp(status, want) == 0)
			return 0;
		sleep_ms(50);
	}
	print_message("device %s status is '%s', wanted '%s'\n", device_id, status, want);
	return -1;
}

int coap_socket(const char *bind_addr)
{
	struct addr a;
	assert_int_equal(addr_parse(&a, bind_addr), 0);
	int fd = socket(a.family, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(&a, &ss);
	if (bind(fd, (struct sockaddr *)&ss, (socklen_t)sl) != 0)
		fail_msg("bind %s: %s", bind_addr, strerror(errno));
	return fd;
}

void coap_send_raw(int fd, const struct addr *to, const void *data, size_t len)
{
	struct sockaddr_storage ss;
	size_t sl = addr_to_sockaddr(to, &ss);
	assert_int_equal(sendto(fd, data, len, 0, (struct sockaddr *)&ss, (socklen_t)sl),
			 (ssize_t)len);
}

ssize_t coap_recv_raw(int fd, uint8_t *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) <= 0)
		return -1;
	return recv(fd, buf, cap, 0);
}

int coap_exchange(int fd, const struct addr *to, struct coap_msg *msg, struct coap_msg *resp,
		  uint8_t *buf, size_t cap)
{
	uint8_t out[2048];
	int len = coap_msg_encode(msg, out, sizeof(out));
	assert_true(len > 0);
	coap_send_raw(fd, to, out, (size_t)len);
	for (int tries = 0; tries < 20; tries++) {
		ssize_t n = coap_recv_raw(fd, buf, cap, 5000);
		if (n < 0)
			return -1;
		if (coap_msg_parse(resp, buf, (size_t)n) != 0)
			continue;
		if (msg->type == COAP_TYPE_CON && resp->mid == msg->mid)
			return 0;
		if (msg->type == COAP_TYPE_NON && resp->token_len == msg->token_len &&
		    memcmp(resp->token, msg->token, msg->token_len) == 0)
			return 0;
	}
	return -1;
}

void coap_build_register(struct coap_msg *m, uint16_t mid, const char *ep, const char *lt,
			 const char *links)
{
	static char q_ep[128], q_lt[64];
	snprintf(q_ep, sizeof(q_ep), "ep=%s", ep);
	snprintf(q_lt, sizeof(q_lt), "lt=%s", lt);
	uint8_t token[4] = {(uint8_t)(mid >> 8), (uint8_t)mid, 0xAB, 0xCD};
	coap_msg_init(m, COAP_TYPE_CON, COAP_CODE_POST, mid, token, sizeof(token));
	coap_msg_add_option(m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_uint_option(m, COAP_OPTION_CONTENT_FORMAT, COAP_CT_LINK_FORMAT);
	coap_msg_add_option(m, COAP_OPTION_URI_QUERY, q_ep, strlen(q_ep));
	coap_msg_add_option(m, COAP_OPTION_URI_QUERY, q_lt, strlen(q_lt));
	coap_msg_add_option(m, COAP_OPTION_URI_QUERY, "lwm2m=1.1", 9);
	coap_msg_add_option(m, COAP_OPTION_URI_QUERY, "b=U", 3);
	coap_msg_set_payload(m, links, strlen(links));
}

uint8_t coap_register(int fd, const struct addr *to, const char *ep, const char *lt,
		      const char *links, char id[32])
{
	struct coap_msg m, r;
	uint8_t buf[2048];
	coap_build_register(&m, next_mid++, ep, lt, links);
	if (coap_exchange(fd, to, &m, &r, buf, sizeof(buf)) != 0)
		fail_msg("no answer to Register of %s", ep);
	id[0] = '\0';
	int seg = 0;
	for (size_t i = 0; i < r.option_count; i++) {
		const struct coap_option *o = &r.options[i];
		if (o->number != COAP_OPTION_LOCATION_PATH)
			continue;
		if (seg == 0 && (o->len != 2 || memcmp(o->value, "rd", 2) != 0))
			fail_msg("Location-Path does not start with rd");
		if (seg == 1)
			snprintf(id, 32, "%.*s", o->len, (const char *)o->value);
		seg++;
	}
	return r.code;
}

static uint8_t rd_call(int fd, const struct addr *to, uint8_t method, const char *id,
		       const char *query)
{
	struct coap_msg m, r;
	uint8_t buf[2048];
	coap_msg_init(&m, COAP_TYPE_CON, method, next_mid++, (const uint8_t *)"\x01", 1);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, id, strlen(id));
	if (query)
		coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, query, strlen(query));
	if (coap_exchange(fd, to, &m, &r, buf, sizeof(buf)) != 0)
		fail_msg("no answer to %s rd/%s", method == COAP_CODE_DELETE ? "DELETE" : "POST",
			 id);
	return r.code;
}

uint8_t coap_update(int fd, const struct addr *to, const char *id, const char *query)
{
	return rd_call(fd, to, COAP_CODE_POST, id, query);
}

uint8_t coap_deregister(int fd, const struct addr *to, const char *id)
{
	return rd_call(fd, to, COAP_CODE_DELETE, id, NULL);
}

int run_command(const char *cmd, char *out, size_t cap, int timeout_s)
{
	char secs[16];
	snprintf(secs, sizeof(secs), "%d", timeout_s);
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execlp("timeout", "timeout", secs, "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	size_t n = 0;
	ssize_t r;
	char sink[512];
	while ((r = read(pipefd[0], n + 1 < cap ? out + n : sink,
			 n + 1 < cap ? cap - 1 - n : sizeof(sink))) > 0)
		if (n + 1 < cap)
			n += (size_t)r;
	close(pipefd[0]);
	out[n] = '\0';
	int status;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

uint8_t coap_send_dp(int fd, struct daemon_proc *d, uint16_t mid, int ct, const char *payload)
{
	struct coap_msg m, resp;
	uint8_t buf[1500];
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_POST, mid, (const uint8_t *)"dp", 2);
	coap_msg_add_option(&m, COAP_OPTION_URI_PATH, "dp", 2);
	coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT, (uint32_t)ct);
	coap_msg_set_payload(&m, payload, strlen(payload));
	assert_int_equal(coap_exchange(fd, &d->coap, &m, &resp, buf, sizeof(buf)), 0);
	return resp.code;
}

static void *api_async_run(void *arg)
{
	struct api_async *c = arg;
	if (c->content_type)
		c->status = http_call_type(c->d, c->method, c->path, c->content_type, c->body,
					   c->body_len, c->resp, sizeof(c->resp));
	else
		c->status = http_call(c->d, c->method, c->path, c->body, c->resp,
				      sizeof(c->resp));
	return NULL;
}

void api_async_start(struct api_async *c, struct daemon_proc *d, const char *method,
		     const char *path, const char *body)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->method = method;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->body = body;
	assert_int_equal(pthread_create(&c->thread, NULL, api_async_run, c), 0);
}

void api_async_start_raw(struct api_async *c, struct daemon_proc *d, const char *method,
			 const char *path, const char *content_type, const void *body, size_t len)
{
	memset(c, 0, sizeof(*c));
	c->d = d;
	c->method = method;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->body = body;
	c->content_type = content_type;
	c->body_len = len;
	assert_int_equal(pthread_create(&c->thread, NULL, api_async_run, c), 0);
}

void api_async_wait(struct api_async *c)
{
	pthread_join(c->thread, NULL);
}

void coap_receive_request(int fd, struct coap_msg *m, uint8_t *buf, size_t cap)
{
	ssize_t n = coap_recv_raw(fd, buf, cap, 5000);
	if (n <= 0)
		fail_msg("the device got no request");
	assert_int_equal(coap_msg_parse(m, buf, (size_t)n), 0);
	assert_int_equal(m->type, COAP_TYPE_CON);
}

void coap_answer(int fd, const struct addr *to, const struct coap_msg *req, uint8_t code,
		 int ct, uint16_t block_option, const struct coap_block *block,
		 const void *payload, size_t len)
{
	struct coap_msg m;
	uint8_t out[1500];
	assert_int_equal(coap_msg_init(&m, COAP_TYPE_ACK, code, req->mid, req->token,
				       req->token_len),
			 0);
	if (ct >= 0)
		assert_int_equal(coap_msg_add_uint_option(&m, COAP_OPTION_CONTENT_FORMAT,
							  (uint32_t)ct),
				 0);
	if (block_option)
		assert_int_equal(coap_msg_add_uint_option(&m, block_option, coap_block_encode(block)),
				 0);
	if (len)
		coap_msg_set_payload(&m, payload, len);
	int n = coap_msg_encode(&m, out, sizeof(out));
	assert_true(n > 0);
	coap_send_raw(fd, to, out, (size_t)n);
}

void coap_assert_path(const struct coap_msg *m, const char *want)
{
	char path[64];
	assert_true(coap_msg_get_path(m, path, sizeof(path)) > 0);
	assert_string_equal(path, want);
}

void assert_in(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle))
		fail_msg("'%s' not in %s", needle, haystack);
}

const char *sim_bin(void)
{
	const char *bin = getenv("LWM2M_SIM_BIN");
	if (!bin)
		fail_msg("LWM2M_SIM_BIN is not set (run the tests through ctest)");
	return bin;
}

const char *sim_output_of(const char *path)
{
	static char out[65536];
	out[0] = '\0';
	int fd = open(path, O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, out, sizeof(out) - 1);
		out[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	return out;
}
