/*
 * libFuzzer target for the firmware download server (src/firmware/fw_serve.c): the
 * datagrams devices send for GET /fw/<token>, as the daemon hands them to
 * fw_serve_handle, with one device ("dev1", registered from 127.0.0.1:5000, or over DTLS
 * by its identity) downloading a 3000-byte package under a known token.
 *
 * Input: records of [peer (1 byte)][length (2 bytes)][datagram]. The peer byte's low two
 * bits pick who sends: the device over CoAP, a stranger over CoAP, the device over DTLS,
 * another identity over DTLS. When its bit 2 is set, a datagram that parses has its
 * Uri-Path replaced by fw/<the token>, so that the block handling behind the token check
 * is reached.
 *
 * What must hold: the answer is 2.05, 4.02, 4.03, 4.04 or 4.05; a 2.05 goes only to the
 * device itself, carries a Block2 that decodes with at most 1024 bytes and exactly the
 * package's bytes at that block's offset, the package's ETag, Size2 on block 0, and M set
 * exactly when more bytes follow; everything else is refused before any byte is read.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "firmware/fw_engine.h"
#include "firmware/fw_package.h"
#include "firmware/fw_serve.h"
#include "fuzz_common.h"
#include "lwm2m/lwm2m_observe.h"
#include "lwm2m/lwm2m_requests.h"
#include "lwm2m/lwm2m_server.h"

#define PKG_SIZE 3000
#define TOKEN "00112233445566778899aabbccddeeff"

static struct lwm2m_server *srv;
static struct lwm2m_requests *requests;
static struct lwm2m_observations *obs;
static struct fw_engine *engine;
static struct fw_target_package pkg;
static struct fw_job job;
static uint8_t package[PKG_SIZE];
static struct addr device_addr, stranger_addr;

static uint8_t allow(void *ctx, const char *ep, enum lwm2m_transport t, const char *id,
		     const struct addr *peer, void **owner, const char **why)
{
	(void)ctx, (void)ep, (void)t, (void)id, (void)peer, (void)owner, (void)why;
	return 0;
}

/* Nobody is reachable: the engine's requests (on resume) fail at once, none goes out. */
static int no_route(void *ctx, const char *node_id, struct lwm2m_route *route)
{
	(void)ctx, (void)node_id, (void)route;
	return -ENOTCONN;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t zero_ms(void)
{
	return 0;
}

static void setup(void)
{
	static const struct lwm2m_hooks hooks = { .authorize = allow };
	if (lwm2m_server_create(&srv, &hooks, NULL) != 0 ||
	    lwm2m_requests_create(&requests, uv_default_loop(), no_route, zero_ms, NULL) != 0 ||
	    lwm2m_observations_create(&obs) != 0)
		FUZZ_FAIL("setup");
	addr_parse(&device_addr, "127.0.0.1:5000");
	addr_parse(&stranger_addr, "127.0.0.1:5001");
	struct lwm2m_registration reg = { .lifetime = 86400, .transport = LWM2M_TRANSPORT_UDP };
	strcpy(reg.endpoint, "dev1");
	strcpy(reg.id, "abcdefghij");
	strcpy(reg.version, "1.1");
	strcpy(reg.binding, "U");
	reg.peer = device_addr;
	reg.updated_at_ms = reg.registered_at_ms = wall_ms();
	if (lwm2m_server_restore(srv, &reg) != 0)
		FUZZ_FAIL("restore");

	char dir[] = "/tmp/fuzz_fw_serve.XXXXXX";
	if (!mkdtemp(dir))
		FUZZ_FAIL("mkdtemp");
	for (size_t i = 0; i < PKG_SIZE; i++)
		package[i] = (uint8_t)(i * 7 + 3);
	struct fw_upload *u;
	uint64_t size;
	if (fw_upload_begin(&u, dir, PKG_SIZE) != 0 || fw_upload_write(u, package, PKG_SIZE) != 0 ||
	    fw_upload_finish(u, pkg.sha256, &size) != 0 ||
	    fw_file_open(dir, pkg.sha256, &pkg.file) != 0)
		FUZZ_FAIL("package");
	pkg.size = size;
	strcpy(pkg.version, "2.0.0");
	pkg.delivery = FW_DELIVERY_PULL;
	pkg.download_timeout_s = 604800;
	pkg.update_timeout_s = 600;

	struct fw_engine_config cfg = { .coap_base = "coap://127.0.0.1:5683" };
	static const struct fw_engine_hooks no_hooks = { 0 };
	if (fw_engine_create(&engine, uv_default_loop(), srv, requests, obs, &cfg, &no_hooks,
			     NULL) != 0)
		FUZZ_FAIL("engine");
	/* A download under way, as a restart finds it: state, method, token and deadline
	 * from its row. */
	job.pkg = &pkg;
	strcpy(job.row.node_id, "dev1");
	strcpy(job.row.device_id, "d1");
	strcpy(job.row.token, TOKEN);
	job.row.state = FW_DOWNLOADING;
	job.row.method = FW_DELIVERY_PULL;
	job.row.next_ms = INT64_MAX / 2;
	if (fw_engine_resume(engine, &job) != 0)
		FUZZ_FAIL("resume");
}

/* msg with its Uri-Path replaced by fw/<TOKEN> (into out, options pointing into msg). */
static void aim_at_token(const struct coap_msg *msg, struct coap_msg *out)
{
	*out = *msg;
	out->option_count = 0;
	for (size_t i = 0; i < msg->option_count; i++)
		if (msg->options[i].number != COAP_OPTION_URI_PATH)
			coap_msg_add_option(out, msg->options[i].number, msg->options[i].value,
					    msg->options[i].len);
	coap_msg_add_option(out, COAP_OPTION_URI_PATH, "fw", 2);
	coap_msg_add_option(out, COAP_OPTION_URI_PATH, TOKEN, strlen(TOKEN));
}

static void check_answer(const struct coap_msg *resp, bool is_device)
{
	switch (resp->code) {
	case COAP_CODE_BAD_OPTION:
	case COAP_CODE_FORBIDDEN:
	case COAP_CODE_NOT_FOUND:
	case COAP_CODE_METHOD_NOT_ALLOWED:
		FUZZ_CHECK(resp->payload_len == 0, "a refusal with a payload");
		return;
	case COAP_CODE_CONTENT:
		break;
	default:
		FUZZ_FAIL("answer code %u", resp->code);
	}
	FUZZ_CHECK(is_device, "a block went to someone else");
	uint32_t v;
	struct coap_block b;
	FUZZ_CHECK(coap_msg_get_uint_option(resp, COAP_OPTION_BLOCK2, &v) == 0 &&
			   coap_block_decode(v, &b) == 0,
		   "2.05 without a valid Block2");
	size_t bsize = COAP_BLOCK_SIZE(b.szx);
	size_t offset = (size_t)b.num * bsize;
	FUZZ_CHECK(bsize <= 1024 && resp->payload_len <= bsize && offset < PKG_SIZE,
		   "block %u szx %u: %zu bytes", b.num, b.szx, resp->payload_len);
	FUZZ_CHECK(memcmp(resp->payload, package + offset, resp->payload_len) == 0,
		   "wrong bytes at %zu", offset);
	FUZZ_CHECK(b.more == (offset + resp->payload_len < PKG_SIZE), "M flag at %zu", offset);
	FUZZ_CHECK(b.more || offset + resp->payload_len == PKG_SIZE, "short last block");
	const struct coap_option *etag = coap_msg_find_option(resp, COAP_OPTION_ETAG);
	FUZZ_CHECK(etag && etag->len == 8, "no ETag");
	if (b.num == 0)
		FUZZ_CHECK(coap_msg_get_uint_option(resp, COAP_OPTION_SIZE2, &v) == 0 &&
				   v == PKG_SIZE,
			   "block 0 without Size2");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	if (!ready) {
		setup();
		ready = true;
	}
	struct fuzz_in in = fuzz_in(data, size);
	while (in.left >= 3) {
		uint8_t who = fuzz_u8(&in);
		size_t len;
		const uint8_t *dgram = fuzz_bytes(&in, fuzz_u16(&in), &len);
		struct coap_msg msg, aimed, resp;
		if (coap_msg_parse(&msg, dgram, len) != 0 || COAP_CODE_CLASS(msg.code) != 0 ||
		    msg.code == COAP_CODE_EMPTY)
			continue;
		const struct coap_msg *req = &msg;
		if (who & 4) {
			aim_at_token(&msg, &aimed);
			req = &aimed;
		}
		if (!fw_serve_wants(req))
			continue;
		static const char *const identities[] = { NULL, NULL, "dev1", "dev2" };
		enum lwm2m_transport t = (who & 3) >= 2 ? LWM2M_TRANSPORT_DTLS : LWM2M_TRANSPORT_UDP;
		const struct addr *peer = (who & 3) == 1 ? &stranger_addr : &device_addr;
		coap_msg_init(&resp, COAP_TYPE_ACK, COAP_CODE_INTERNAL_SERVER_ERROR, req->mid,
			      req->token, req->token_len);
		fw_serve_handle(engine, srv, t, identities[who & 3], peer, req, &resp,
				wall_ms());
		check_answer(&resp, (who & 3) == 0 || (who & 3) == 2);
	}
	return 0;
}
