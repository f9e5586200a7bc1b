/*
 * sim_fw: the simulated device's Firmware Update object (see sim_fw.h).
 *
 * The state machine of Core 1.1 §E.6.1: Idle (0) → Downloading (1) on a write of the
 * Package or the Package URI, → Downloaded (2) when the last byte came, → Updating (3) on
 * Execute Update, → Idle with Update Result 1 after the "reboot". A write of an empty
 * URI, or of a Package that is empty or the one byte '\0', goes back to Idle with result
 * 0; a failure goes to Idle with its result.
 * A new download resets the result to 0 (§E.6: "Initial value" when a download starts).
 * A new package or URI while Downloading or Downloaded starts over (a server retrying);
 * while Updating every write is refused (4.05), as are the package on a pull-only device
 * and the URI on a push-only one. The package goes as opaque (ct 42, or none); the URI in
 * any format the codecs decode, its host a literal address (the device resolves no names).
 */
#include "sim_fw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/model.h"

#define FNV_START 2166136261u
#define FNV_PRIME 16777619u

const char sim_fw_usage[] =
	"  --fw                   play the Firmware Update object /5/0 (push on /5/0/0 with\n"
	"                         Block1, pull from /5/0/1 with Block2, Update /5/0/2)\n"
	"  --fw-outcome           success (default), or a failure result: 2..7 or 9 end the\n"
	"                         download with it, 8 makes the Update fail\n"
	"  --fw-new-version V     /3/0/3 after the update (default: the package's first line\n"
	"                         \"LWM2MFW version=<V>\", else \"unknown\")\n"
	"  --fw-version V         the first /3/0/3 (default 1.0.0)\n"
	"  --fw-apply-ms MS       how long the Update takes before the reboot (default 300)\n"
	"  --fw-block-szx 0..6    pull: the Block2 size asked, 16 << szx bytes (default 6)\n"
	"  --fw-block-delay-ms MS pull: wait this long between blocks (a slow device)\n"
	"  --fw-retry-s S         pull: ask an unanswered block again every 2 s for up to S\n"
	"                         seconds, then fail with result 4 (default 60)\n"
	"  --fw-protocols LIST    /5/0/8, e.g. 0,1 (CoAP, CoAPS; the default)\n"
	"  --fw-delivery D        /5/0/9: pull, push or both (default)\n"
	"  --fw-pull-server ADDR  test aid: pull from ADDR (plain UDP) instead of the server\n";

static int64_t clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sim_fw_config_default(struct sim_fw_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->outcome = 1;
	cfg->apply_ms = 300;
	cfg->block_szx = 6;
	cfg->retry_s = 60;
	cfg->protocols[0] = 0;
	cfg->protocols[1] = 1;
	cfg->protocols[2] = -1;
	cfg->delivery = 2;
}

/* A whole decimal number in [min, max], or -1. */
static long number(const char *s, long min, long max)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v >= min && v <= max ? v : -1;
}

static int parse_protocols(struct sim_fw_config *cfg, const char *v)
{
	char buf[64];
	int n = 0;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long p = number(tok, 0, 255);
		if (p < 0 || n == 3)
			return -1;
		cfg->protocols[n++] = (int)p;
	}
	cfg->protocols[n] = -1;
	return n > 0 ? 1 : -1;
}

int sim_fw_option(struct sim_fw_config *cfg, const char *name, const char *v)
{
	long n;
	if (strcmp(name, "--fw-new-version") == 0) {
		cfg->new_version = v;
	} else if (strcmp(name, "--fw-version") == 0) {
		cfg->version = v;
	} else if (strcmp(name, "--fw-outcome") == 0) {
		n = strcmp(v, "success") == 0 ? 1 : number(v, 2, 9);
		if (n < 0)
			return -1;
		cfg->outcome = (int)n;
	} else if (strcmp(name, "--fw-apply-ms") == 0) {
		if ((n = number(v, 0, 3600000)) < 0)
			return -1;
		cfg->apply_ms = (int)n;
	} else if (strcmp(name, "--fw-block-szx") == 0) {
		if ((n = number(v, 0, 6)) < 0)
			return -1;
		cfg->block_szx = (uint8_t)n;
	} else if (strcmp(name, "--fw-block-delay-ms") == 0) {
		if ((n = number(v, 0, 3600000)) < 0)
			return -1;
		cfg->block_delay_ms = (int)n;
	} else if (strcmp(name, "--fw-retry-s") == 0) {
		if ((n = number(v, 1, 86400)) < 0)
			return -1;
		cfg->retry_s = (int)n;
	} else if (strcmp(name, "--fw-protocols") == 0) {
		return parse_protocols(cfg, v);
	} else if (strcmp(name, "--fw-delivery") == 0) {
		cfg->delivery = strcmp(v, "pull") == 0 ? 0 : strcmp(v, "push") == 0 ? 1
			      : strcmp(v, "both") == 0 ? 2 : -1;
		if (cfg->delivery < 0)
			return -1;
	} else if (strcmp(name, "--fw-pull-server") == 0) {
		if (addr_parse(&cfg->pull_server, v) != 0)
			return -1;
		cfg->pull_server_set = true;
	} else {
		return 0;
	}
	return 1;
}

static int set_value(struct sim_fw *fw, uint16_t obj, uint16_t res, uint8_t type, int64_t i,
		     const char *s, size_t len)
{
	struct lwm2m_value v = { .path = { .len = 3, .ids = { obj, 0, res } }, .type = type };
	if (s) {
		v.v.bytes.data = (uint8_t *)s;
		v.v.bytes.len = len;
	} else {
		v.v.i = i;
	}
	return sim_tree_set(fw->tree, &v);
}

static int set_str(struct sim_fw *fw, uint16_t obj, uint16_t res, const char *s)
{
	return set_value(fw, obj, res, LWM2M_TYPE_STRING, 0, s, strlen(s));
}

/* State and result notify their observers at once, so that each change is seen even when
 * two follow each other within one request. */
static void set_state(struct sim_fw *fw, int state)
{
	if (state == fw->state)
		return;
	fw->state = state;
	set_value(fw, 5, 3, LWM2M_TYPE_INTEGER, state, NULL, 0);
	printf("fw state %d\n", state);
	fw->io.changed(fw->io.ctx);
}

static void set_result(struct sim_fw *fw, int result)
{
	if (result == fw->result)
		return;
	fw->result = result;
	set_value(fw, 5, 5, LWM2M_TYPE_INTEGER, result, NULL, 0);
	printf("fw result %d\n", result);
	fw->io.changed(fw->io.ctx);
}

int sim_fw_init(struct sim_fw *fw, const struct sim_fw_config *cfg, const struct sim_fw_io *io,
		struct sim_tree *t, const struct addr *server, bool secure)
{
	memset(fw, 0, sizeof(*fw));
	fw->cfg = *cfg;
	fw->io = *io;
	fw->tree = t;
	fw->server = *server;
	fw->secure = secure;
	int rc = sim_tree_add_instance(t, 5, 0);
	if (rc == -EEXIST)
		rc = 0; /* --tree gave it values already */
	rc = rc ? rc : set_value(fw, 5, 0, LWM2M_TYPE_OPAQUE, 0, "", 0);
	rc = rc ? rc : set_str(fw, 5, 1, "");
	rc = rc ? rc : set_value(fw, 5, 3, LWM2M_TYPE_INTEGER, 0, NULL, 0);
	rc = rc ? rc : set_value(fw, 5, 5, LWM2M_TYPE_INTEGER, 0, NULL, 0);
	rc = rc ? rc : set_str(fw, 5, 6, "");
	rc = rc ? rc : set_str(fw, 5, 7, "");
	for (int i = 0; rc == 0 && i < 4 && cfg->protocols[i] >= 0; i++) {
		struct lwm2m_value v = { .path = { .len = 4, .ids = { 5, 0, 8, (uint16_t)i } },
					 .type = LWM2M_TYPE_INTEGER, .v.i = cfg->protocols[i] };
		rc = sim_tree_set(t, &v);
	}
	rc = rc ? rc : set_value(fw, 5, 9, LWM2M_TYPE_INTEGER, cfg->delivery, NULL, 0);
	if (rc == 0 && cfg->version)
		rc = set_str(fw, 3, 3, cfg->version);
	return rc;
}

/* A download starts: the result goes back to its initial value. */
static void begin(struct sim_fw *fw)
{
	fw->bytes = 0;
	fw->fnv = FNV_START;
	fw->line_len = 0;
	fw->line_done = false;
	fw->pulling = false;
	fw->in_flight = false;
	fw->push_next = 0;
	set_result(fw, 0);
	set_state(fw, 1);
}

/* The next n bytes of the package: counted, checked, and the first line kept. */
static void take(struct sim_fw *fw, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fw->fnv = (fw->fnv ^ p[i]) * FNV_PRIME;
		if (fw->line_done)
			continue;
		if (p[i] == '\n' || fw->line_len == sizeof(fw->line) - 1)
			fw->line_done = true;
		else
			fw->line[fw->line_len++] = (char)p[i];
	}
	fw->bytes += n;
}

/* The value of "key=" in the package's first line "LWM2MFW version=2.0.0 name=x", up to
 * the next space, into out; false when absent. */
static bool line_field(const struct sim_fw *fw, const char *key, char *out, size_t cap)
{
	char line[SIM_FW_LINE_MAX];
	memcpy(line, fw->line, fw->line_len);
	line[fw->line_len] = '\0';
	if (strncmp(line, "LWM2MFW ", 8) != 0)
		return false;
	size_t klen = strlen(key);
	for (char *save = NULL, *tok = strtok_r(line + 8, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (strncmp(tok, key, klen) == 0 && tok[klen] == '=' && tok[klen + 1]) {
			snprintf(out, cap, "%s", tok + klen + 1);
			return true;
		}
	}
	return false;
}

static void fail(struct sim_fw *fw, int result, const char *why)
{
	printf("fw failed %s\n", why);
	fw->pulling = false;
	fw->in_flight = false;
	set_state(fw, 0);
	set_result(fw, result);
}

/* The last byte came: Downloaded, or the failure --fw-outcome asks for. */
static void finish(struct sim_fw *fw)
{
	fw->pulling = false;
	fw->in_flight = false;
	printf("fw downloaded bytes=%llu fnv=%08x\n", (unsigned long long)fw->bytes, fw->fnv);
	if (fw->cfg.new_version)
		snprintf(fw->version, sizeof(fw->version), "%s", fw->cfg.new_version);
	else if (!line_field(fw, "version", fw->version, sizeof(fw->version)))
		snprintf(fw->version, sizeof(fw->version), "unknown");
	char name[65] = "";
	line_field(fw, "name", name, sizeof(name));
	set_str(fw, 5, 6, name);
	set_str(fw, 5, 7, fw->version);
	if (fw->cfg.outcome >= 2 && fw->cfg.outcome != 8) {
		char why[32];
		snprintf(why, sizeof(why), "outcome %d", fw->cfg.outcome);
		fail(fw, fw->cfg.outcome, why);
		return;
	}
	set_state(fw, 2);
}

static void reset_idle(struct sim_fw *fw)
{
	fw->pulling = false;
	fw->in_flight = false;
	fw->push_next = 0;
	set_state(fw, 0);
	set_result(fw, 0);
}

static bool get_block(const struct coap_msg *m, uint16_t option, struct coap_block *b)
{
	uint32_t v;
	return coap_msg_get_uint_option(m, option, &v) == 0 && coap_block_decode(v, b) == 0;
}

/* Write of /5/0/0: one block of the package, or all of it without Block1. */
static uint8_t push(struct sim_fw *fw, const struct coap_msg *req, struct coap_msg *resp)
{
	uint32_t ct;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) == 0 &&
	    ct != CONTENT_OPAQUE)
		return COAP_CODE_UNSUPPORTED_CONTENT_FORMAT; /* the package goes as opaque */
	if (fw->cfg.delivery == 0 || fw->state == 3)
		return COAP_CODE_METHOD_NOT_ALLOWED; /* pull only, or busy updating */
	struct coap_block b = { .num = 0, .more = false, .szx = 6 };
	bool block = get_block(req, COAP_OPTION_BLOCK1, &b);
	size_t size = COAP_BLOCK_SIZE(b.szx);
	if (block)
		coap_msg_add_uint_option(resp, COAP_OPTION_BLOCK1, coap_block_encode(&b));
	/* §E.6: "setting the Package Resource to NULL ('\0')" resets (and so does nothing). */
	if (b.num == 0 && !b.more &&
	    (req->payload_len == 0 || (req->payload_len == 1 && req->payload[0] == 0))) {
		reset_idle(fw);
		return COAP_CODE_CHANGED;
	}
	/* The block answered last time, retransmitted (our answer was lost; the same message
	 * id, RFC 7252 §4.5): the same answer, without taking its bytes twice. */
	if (block && fw->push_next > 0 && b.num + 1 == fw->push_next && req->mid == fw->push_mid)
		return b.more ? COAP_CODE_CONTINUE : COAP_CODE_CHANGED;
	if (b.num == 0)
		begin(fw);
	else if (fw->state != 1 || fw->pulling || b.num != fw->push_next ||
		 fw->bytes != (uint64_t)b.num * size)
		return COAP_CODE_REQUEST_ENTITY_INCOMPLETE; /* RFC 7959 §2.5 */
	if (b.more && req->payload_len != size)
		return COAP_CODE_BAD_REQUEST;
	take(fw, req->payload, req->payload_len);
	if (block)
		printf("fw block num=%u szx=%u\n", b.num, b.szx);
	fw->push_next = b.num + 1;
	fw->push_mid = req->mid;
	if (b.more)
		return COAP_CODE_CONTINUE;
	finish(fw);
	return COAP_CODE_CHANGED;
}

/* Checks a Package URI (Core §E.6: errors go to the Update Result, the Write succeeds) and
 * keeps its path and query. Returns 0, or 7 (invalid URI) or 9 (unsupported protocol)
 * with why. */
static int check_uri(struct sim_fw *fw, const char *uri, const char **why)
{
	bool coaps = strncmp(uri, "coaps://", 8) == 0;
	const char *rest = coaps ? uri + 8 : strncmp(uri, "coap://", 7) == 0 ? uri + 7 : NULL;
	*why = "unsupported protocol";
	if (!rest && strstr(uri, "://"))
		return 9;
	*why = "invalid uri";
	if (!rest)
		return 7;
	bool supported = false;
	for (int i = 0; i < 4 && fw->cfg.protocols[i] >= 0; i++)
		supported |= fw->cfg.protocols[i] == (coaps ? 1 : 0);
	*why = "unsupported protocol";
	if (!supported)
		return 9;
	*why = coaps ? "coaps uri over plain udp" : "coap uri over dtls";
	if (coaps != fw->secure)
		return 9;
	size_t alen = strcspn(rest, "/?");
	char auth[80];
	*why = "invalid uri";
	if (alen == 0 || alen + 7 > sizeof(auth))
		return 7;
	memcpy(auth, rest, alen);
	auth[alen] = '\0';
	const char *colon = strrchr(auth, ':'), *bracket = strrchr(auth, ']');
	if (!colon || (bracket && colon < bracket) || (!bracket && strchr(auth, ':') != colon))
		snprintf(auth + alen, sizeof(auth) - alen, ":%d", coaps ? 5684 : 5683);
	struct addr a;
	if (addr_parse(&a, auth) != 0)
		return 7; /* a host name: the device resolves none */
	*why = "not the server's address";
	if (!addr_equal(&a, fw->cfg.pull_server_set ? &fw->cfg.pull_server : &fw->server))
		return 7;
	rest += alen;
	size_t plen = strcspn(rest, "?");
	snprintf(fw->uri_path, sizeof(fw->uri_path), "%.*s", (int)plen, rest);
	snprintf(fw->uri_query, sizeof(fw->uri_query), "%s", rest[plen] ? rest + plen + 1 : "");
	return 0;
}

/* Write of /5/0/1, in any format the codecs decode. */
static uint8_t write_uri(struct sim_fw *fw, const struct coap_msg *req, int64_t now_ms)
{
	if (fw->cfg.delivery == 1 || fw->state == 3)
		return COAP_CODE_METHOD_NOT_ALLOWED; /* push only, or busy updating */
	uint32_t ct;
	if (coap_msg_get_uint_option(req, COAP_OPTION_CONTENT_FORMAT, &ct) != 0 || ct > 65535)
		return COAP_CODE_BAD_REQUEST;
	struct lwm2m_path p = { .len = 3, .ids = { 5, 0, 1 } };
	struct lwm2m_values vals;
	lwm2m_values_init(&vals);
	int rc = content_decode((uint16_t)ct, &p, req->payload, req->payload_len, model_type_of,
				NULL, &vals);
	char uri[SIM_FW_URI_MAX + 1];
	bool ok = rc == 0 && vals.count == 1 && vals.items[0].type == LWM2M_TYPE_STRING &&
		  vals.items[0].path.len == 3 && vals.items[0].path.ids[2] == 1 &&
		  vals.items[0].v.bytes.len <= SIM_FW_URI_MAX;
	if (ok)
		snprintf(uri, sizeof(uri), "%.*s", (int)vals.items[0].v.bytes.len,
			 (const char *)vals.items[0].v.bytes.data);
	lwm2m_values_free(&vals);
	if (!ok)
		return rc == -ENOTSUP ? COAP_CODE_UNSUPPORTED_CONTENT_FORMAT : COAP_CODE_BAD_REQUEST;
	set_str(fw, 5, 1, uri);
	if (!uri[0]) {
		reset_idle(fw); /* §E.6: an empty URI */
		return COAP_CODE_CHANGED;
	}
	begin(fw);
	const char *why;
	int result = check_uri(fw, uri, &why);
	if (result) {
		fail(fw, result, why);
		return COAP_CODE_CHANGED;
	}
	fw->pulling = true;
	fw->szx = fw->cfg.block_szx;
	fw->num = 0;
	fw->next_send_ms = now_ms;
	return COAP_CODE_CHANGED;
}

/* Execute /5/0/2: §E.6, Update "is only executable when the value of the State Resource
 * is Downloaded"; Core §6.3.5 answers a target not allowed for Execute with 4.05. */
static uint8_t execute(struct sim_fw *fw, int64_t now_ms)
{
	if (fw->state != 2)
		return COAP_CODE_METHOD_NOT_ALLOWED;
	printf("fw updating\n");
	set_state(fw, 3);
	fw->apply_at_ms = now_ms + fw->cfg.apply_ms;
	return COAP_CODE_CHANGED;
}

uint8_t sim_fw_request(struct sim_fw *fw, const struct coap_msg *req, struct coap_msg *resp,
		       int64_t now_ms)
{
	char path[64];
	struct lwm2m_path p;
	if (coap_msg_get_path(req, path, sizeof(path)) < 0 ||
	    lwm2m_path_parse(path, strlen(path), &p) != 0 || p.len != 3 || p.ids[0] != 5 ||
	    p.ids[1] != 0)
		return 0;
	/* Write-Attributes (a PUT with only Uri-Query) is sim_dm's. */
	if (req->payload_len == 0 && coap_msg_find_option(req, COAP_OPTION_URI_QUERY))
		return 0;
	const char *what;
	uint8_t code;
	if (req->code == COAP_CODE_PUT && p.ids[2] == 0) {
		what = "PUT(package)";
		code = push(fw, req, resp);
	} else if (req->code == COAP_CODE_PUT && p.ids[2] == 1 &&
		   !coap_msg_find_option(req, COAP_OPTION_BLOCK1)) {
		what = "PUT";
		code = write_uri(fw, req, now_ms);
	} else if (req->code == COAP_CODE_POST && p.ids[2] == 2) {
		what = "POST(execute)";
		code = execute(fw, now_ms);
	} else {
		return 0;
	}
	resp->code = code;
	char c[5];
	if (code != COAP_CODE_CONTINUE)
		printf("answered %s %s %s\n", what, path, coap_code_format(code, c));
	return code;
}

/* Sends the GET of block fw->num: Uri-Path and Uri-Query of the Package URI, Block2. */
static void send_block(struct sim_fw *fw, int64_t now_ms)
{
	struct coap_msg m;
	fw->req_mid = (*fw->io.mid)++;
	fw->token[0] = 'f';
	fw->token[1] = 'w';
	fw->token[2] = (uint8_t)(fw->req_mid >> 8);
	fw->token[3] = (uint8_t)fw->req_mid;
	coap_msg_init(&m, COAP_TYPE_CON, COAP_CODE_GET, fw->req_mid, fw->token, 4);
	coap_msg_add_path(&m, COAP_OPTION_URI_PATH, fw->uri_path);
	for (const char *q = fw->uri_query; *q;) {
		size_t n = strcspn(q, "&");
		if (n)
			coap_msg_add_option(&m, COAP_OPTION_URI_QUERY, q, n);
		q += n + (q[n] ? 1 : 0);
	}
	struct coap_block b = { .num = fw->num, .more = false, .szx = fw->szx };
	coap_msg_add_uint_option(&m, COAP_OPTION_BLOCK2, coap_block_encode(&b));
	int n = coap_msg_encode(&m, fw->out, sizeof(fw->out));
	if (n < 0) {
		fail(fw, 7, "uri too long for a request");
		return;
	}
	fw->out_len = (size_t)n;
	fw->in_flight = true;
	fw->acked = false;
	fw->resends = 0;
	fw->asked_ms = now_ms;
	fw->resend_ms = now_ms + SIM_FW_RESEND_MS;
	fw->io.send(fw->io.ctx, fw->out, fw->out_len, fw->cfg.pull_server_set);
}

bool sim_fw_response(struct sim_fw *fw, const struct coap_msg *m, int64_t now_ms)
{
	if (!fw->pulling || !fw->in_flight)
		return false;
	bool same_mid = m->mid == fw->req_mid;
	if (same_mid && m->type == COAP_TYPE_ACK && m->code == COAP_CODE_EMPTY) {
		fw->acked = true; /* a separate response follows (RFC 7252 §5.2.2) */
		return true;
	}
	if (same_mid && m->type == COAP_TYPE_RST) {
		fail(fw, 4, "reset by the server");
		return true;
	}
	if (COAP_CODE_CLASS(m->code) < 2 || m->token_len != 4 || memcmp(m->token, fw->token, 4) ||
	    (m->type == COAP_TYPE_ACK && !same_mid))
		return false;
	if (m->type == COAP_TYPE_CON) {
		uint8_t out[8];
		struct coap_msg ack;
		coap_msg_init(&ack, COAP_TYPE_ACK, COAP_CODE_EMPTY, m->mid, NULL, 0);
		int n = coap_msg_encode(&ack, out, sizeof(out));
		if (n > 0)
			fw->io.send(fw->io.ctx, out, (size_t)n, fw->cfg.pull_server_set);
	}
	fw->in_flight = false;
	char c[5], why[48];
	if (m->code != COAP_CODE_CONTENT) {
		snprintf(why, sizeof(why), "answer %s", coap_code_format(m->code, c));
		fail(fw, 4, why);
		return true;
	}
	struct coap_block b = { .num = fw->num, .more = false, .szx = fw->szx };
	bool block = get_block(m, COAP_OPTION_BLOCK2, &b);
	size_t size = COAP_BLOCK_SIZE(b.szx);
	/* RFC 7959 §2.4: the server may answer with a smaller block; its offset must be ours. */
	if (block && ((uint64_t)b.num * size != fw->bytes || b.szx > fw->szx ||
		      (b.more && m->payload_len != size))) {
		snprintf(why, sizeof(why), "block num=%u szx=%u out of place", b.num, b.szx);
		fail(fw, 4, why);
		return true;
	}
	take(fw, m->payload, m->payload_len);
	printf("fw block num=%u szx=%u\n", b.num, b.szx);
	if (!b.more) {
		finish(fw);
		return true;
	}
	fw->szx = b.szx;
	fw->num = (uint32_t)(fw->bytes / size);
	fw->next_send_ms = now_ms + fw->cfg.block_delay_ms;
	return true;
}

void sim_fw_tick(struct sim_fw *fw, int64_t now_ms)
{
	if (fw->pulling && !fw->in_flight && now_ms >= fw->next_send_ms) {
		send_block(fw, now_ms);
	} else if (fw->pulling && fw->in_flight && now_ms >= fw->resend_ms) {
		/* Every 2 s for retry_s seconds; it gives up 2 s after the last resend. */
		int64_t left = fw->asked_ms + (int64_t)fw->cfg.retry_s * 1000 - now_ms;
		if (left + SIM_FW_RESEND_MS <= 0) {
			char why[48];
			snprintf(why, sizeof(why), "no answer for %d s", fw->cfg.retry_s);
			fail(fw, 4, why);
			return;
		}
		if (!fw->acked && fw->secure && fw->resends >= 1 && left > 0) {
			fw->io.reconnect(fw->io.ctx, (int)(left < SIM_FW_HANDSHAKE_MS
							  ? left : SIM_FW_HANDSHAKE_MS));
			now_ms = clock_ms(); /* the handshake took its time */
		}
		fw->resend_ms = now_ms + SIM_FW_RESEND_MS;
		fw->resends++;
		if (!fw->acked) {
			/* The same message: a server that restarted has no record of it, one
			 * that answered before answers again from its deduplication. */
			printf("fw retry num=%u\n", fw->num);
			fw->io.send(fw->io.ctx, fw->out, fw->out_len, fw->cfg.pull_server_set);
		}
	}
	if (fw->state == 3 && !fw->reboot_due && now_ms >= fw->apply_at_ms) {
		if (fw->cfg.outcome == 8) {
			printf("fw failed update\n");
			set_state(fw, 2);
			set_result(fw, 8);
			return;
		}
		fw->reboot_due = true;
	}
}

void sim_fw_rebooted(struct sim_fw *fw)
{
	fw->reboot_due = false;
	set_str(fw, 3, 3, fw->version);
	printf("fw rebooted version=%s\n", fw->version);
	set_state(fw, 0);
	set_result(fw, 1);
}

bool sim_fw_busy(const struct sim_fw *fw)
{
	return fw->pulling;
}
