/*
 * fw_serve: package blocks to the device whose download token it is (fw_serve.h).
 */
#include "firmware/fw_serve.h"

#include <errno.h>
#include <string.h>

#include "firmware/fw_engine.h"
#include "firmware/fw_package.h"
#include "util/log.h"

/* The largest block served: what one datagram carries (RFC 7959 SZX 6). */
#define FW_SERVE_MAX_SZX 6

/* One block, read from the file for the answer being built (the loop thread's; coap_ep
 * encodes the answer before the next request is served). */
static uint8_t block_buf[1024];
/* The answer's ETag: the first bytes of the package's hash, so that a device resuming a
 * download can tell the package did not change under it (RFC 7959 §2.4). */
static uint8_t etag_buf[8];

bool fw_serve_wants(const struct coap_msg *req)
{
	const struct coap_option *o = coap_msg_find_option(req, COAP_OPTION_URI_PATH);
	return o && o->len == sizeof(FW_SERVE_PATH) - 1 &&
	       memcmp(o->value, FW_SERVE_PATH, o->len) == 0;
}

/* The token: the second Uri-Path segment, which must be the last. */
static bool token_of(const struct coap_msg *req, char *out, size_t cap)
{
	const struct coap_option *seg[3];
	size_t n = 0;
	for (size_t i = 0; i < req->option_count && n < 3; i++)
		if (req->options[i].number == COAP_OPTION_URI_PATH)
			seg[n++] = &req->options[i];
	if (n != 2 || seg[1]->len == 0 || seg[1]->len >= cap)
		return false;
	memcpy(out, seg[1]->value, seg[1]->len);
	out[seg[1]->len] = '\0';
	return strlen(out) == seg[1]->len; /* no NUL inside */
}

/* Is the requester the device the job is for? Over DTLS its identity is its node ID;
 * over plain CoAP it must speak from the address it registered from. */
static bool is_its_device(struct lwm2m_server *lwm2m, const struct fw_job *job,
			  enum lwm2m_transport transport, const char *identity,
			  const struct addr *peer)
{
	if (transport == LWM2M_TRANSPORT_DTLS)
		return identity && strcmp(identity, job->row.node_id) == 0;
	struct lwm2m_registration *reg = lwm2m_server_find_peer(lwm2m, transport, peer);
	return reg && strcmp(reg->endpoint, job->row.node_id) == 0;
}

/* May the job's package be fetched now? While it downloads (and just after: a device
 * may ask for the last block again), until the download's deadline. */
static bool download_open(const struct fw_job *job, int64_t now_ms)
{
	return (job->row.state == FW_STARTING || job->row.state == FW_DOWNLOADING ||
		job->row.state == FW_DOWNLOADED) &&
	       job->row.method == FW_DELIVERY_PULL && now_ms < job->phase_deadline_ms;
}

static void refuse(struct fw_engine *e, struct coap_msg *resp, uint8_t code)
{
	fw_engine_refused(e);
	resp->code = code;
}

void fw_serve_handle(struct fw_engine *e, struct lwm2m_server *lwm2m,
		     enum lwm2m_transport transport, const char *identity,
		     const struct addr *peer, const struct coap_msg *req, struct coap_msg *resp,
		     int64_t now_ms)
{
	char token[STORE_FW_TOKEN_MAX + 1];
	if (req->code != COAP_CODE_GET) {
		refuse(e, resp, COAP_CODE_METHOD_NOT_ALLOWED);
		return;
	}
	struct fw_job *job = token_of(req, token, sizeof(token)) ? fw_engine_find_token(e, token)
								  : NULL;
	if (job && fw_engine_expire_if_late(e, job, now_ms))
		job = NULL; /* its download's time is up: ended as timed out, token gone */
	if (!job || !download_open(job, now_ms)) {
		refuse(e, resp, COAP_CODE_NOT_FOUND);
		return;
	}
	if (!is_its_device(lwm2m, job, transport, identity, peer)) {
		char p[ADDR_STR_MAX];
		LOG_WARN_RATE("firmware", "download refused",
			      "download for '%s' refused to %s: not that device",
			      job->row.node_id, addr_format(peer, p));
		refuse(e, resp, COAP_CODE_FORBIDDEN);
		return;
	}
	struct coap_block want = { .num = 0, .szx = FW_SERVE_MAX_SZX };
	uint32_t value;
	int rc = coap_msg_get_uint_option(req, COAP_OPTION_BLOCK2, &value);
	if (rc == 0) {
		struct coap_block b;
		if (coap_block_decode(value, &b) != 0) {
			refuse(e, resp, COAP_CODE_BAD_OPTION);
			return;
		}
		want.num = b.num;
		if (b.szx < want.szx)
			want.szx = b.szx;
	} else if (rc != -ENOENT) {
		refuse(e, resp, COAP_CODE_BAD_OPTION);
		return;
	}
	uint64_t size = job->pkg->size;
	uint64_t offset = (uint64_t)want.num * COAP_BLOCK_SIZE(want.szx);
	if (offset >= size) {
		/* RFC 7959 §2.2: a block past the end is a bad option. */
		refuse(e, resp, COAP_CODE_BAD_OPTION);
		return;
	}
	ssize_t n = fw_file_pread(job->pkg->file, offset, block_buf, COAP_BLOCK_SIZE(want.szx));
	if (n <= 0) {
		LOG_ERROR("firmware", "reading the package of '%s' at %llu failed: %s",
			  job->row.node_id, (unsigned long long)offset,
			  n < 0 ? strerror((int)-n) : "short file");
		resp->code = COAP_CODE_INTERNAL_SERVER_ERROR;
		return;
	}
	want.more = offset + (uint64_t)n < size;
	resp->code = COAP_CODE_CONTENT;
	fw_engine_etag(job, etag_buf);
	coap_msg_add_option(resp, COAP_OPTION_ETAG, etag_buf, sizeof(etag_buf));
	coap_msg_add_uint_option(resp, COAP_OPTION_CONTENT_FORMAT, COAP_CT_OCTET_STREAM);
	coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK2, coap_block_encode(&want));
	if (want.num == 0)
		coap_msg_add_uint_option(resp, COAP_OPTION_SIZE2, (uint32_t)size);
	coap_msg_set_payload(resp, block_buf, (size_t)n);
	fw_engine_served(e, job, offset + (uint64_t)n, (size_t)n, now_ms);
}
