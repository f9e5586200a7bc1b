/*
 * libFuzzer target for what the REST API reads from a client before any route logic
 * (src/api/api_json.c and the pure helpers the routes call):
 *
 *  - mode 0, a request body: api_json_parse_object, then every field getter on the dotted
 *    paths the routes use (and a few that are not there, or too long), with each character
 *    rule; and every member's value as an LwM2M value of each type, as a Write's "value"
 *    is read (content_value_from_json, with model_type_parse for its "type");
 *  - mode 1, query strings: the raw query is split at '&' and '=' (as libmicrohttpd hands
 *    the values over: NUL-terminated, percent-decoding aside) and each value goes through
 *    api_parse_int, api_parse_paging, api_format_parse, the id rule of a list filter
 *    (api_check_string), and lwm2m_path_parse as a URL's /lwm2m/{path}; the query
 *    parsing itself, api_query, is libmicrohttpd's and is reached only through a daemon;
 *  - mode 2, base64 as the API's opaque values carry it: what decodes re-encodes to the
 *    canonical padded form of the same bytes.
 *
 * What must hold: answers are 0, -ENOENT or -EINVAL as api_json.h says, a refusal always
 * says why, what a getter copies obeys its bounds and rule, and the integer parser agrees
 * with a plain reference implementation of its rule (digits only, at most 18, in range).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "api/api_json.h"
#include "content/content.h"
#include "fuzz_common.h"
#include "model/model.h"
#include "util/base64.h"

int api_format_parse(const char *s); /* src/api/api_lwm2m.c, declared in api_internal.h */
const char *api_format_name(int format);

#define INPUT_MAX 8192

static const char *const paths[] = {
	"node_id",
	"product_id",
	"device_id",
	"device_name",
	"description",
	"auth_info",
	"auth_info.secret",
	"auth_info.secure_access",
	"auth_info.timeout",
	"auth_info.auth_type",
	"read_format",
	"service_id",
	"command_name",
	"paras",
	"paras.interval",
	"a.b.c.d",
	"url",
	"kind",
	"source",
	"payload_hex",
	"x123456789012345678901234567890123456789012345678901234567890123456789",
	"auth_info.x123456789012345678901234567890123456789012345678901234567890123456789",
};

static void check_err(int rc, const struct api_err *err, const char *what)
{
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL, "%s: %d", what, rc);
	if (rc == -EINVAL)
		FUZZ_CHECK(err->msg[0] && memchr(err->msg, '\0', sizeof(err->msg)), "%s: no reason",
			   what);
}

static bool follows(const char *s, size_t len, enum api_str_rule rule)
{
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool id = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';
		bool hex =
		    (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
		if (c == '\0' || (rule == API_STR_ID && !id) || (rule == API_STR_HEX && !hex))
			return false;
	}
	return rule != API_STR_HEX || len % 2 == 0;
}

static void body_getters(const json_t *obj)
{
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct api_err err = { "" };
		char out[72];
		static const size_t bounds[][2] = { { 0, 0 }, { 1, 8 }, { 8, 64 }, { 0, 70 } };
		for (int rule = API_STR_ANY; rule <= API_STR_HEX; rule++) {
			for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
				memset(out, 'u', sizeof(out));
				int rc = api_json_string(obj, paths[i], bounds[b][0], bounds[b][1],
							 (enum api_str_rule)rule, out, sizeof(out),
							 &err);
				check_err(rc, &err, paths[i]);
				if (rc != 0)
					continue;
				size_t n = strnlen(out, sizeof(out));
				FUZZ_CHECK(n < sizeof(out) && n >= bounds[b][0] &&
					       n <= bounds[b][1],
					   "%s: %zu bytes", paths[i], n);
				FUZZ_CHECK(follows(out, n, (enum api_str_rule)rule), "%s: rule %d",
					   paths[i], rule);
			}
		}
		bool flag;
		check_err(api_json_bool(obj, paths[i], &flag, &err), &err, paths[i]);
		int64_t v = 42;
		int rc = api_json_int(obj, paths[i], -5, 2147483647, &v, &err);
		check_err(rc, &err, paths[i]);
		FUZZ_CHECK(rc != 0 || (v >= -5 && v <= 2147483647), "%s: %lld", paths[i],
			   (long long)v);
		FUZZ_CHECK(rc == 0 || v == 42, "%s: out written on failure", paths[i]);
		check_err(api_json_object(obj, paths[i], &err), &err, paths[i]);
	}
}

/* Each member as a Write's value of every type (and of the type its name gives). */
static void write_values(const json_t *obj)
{
	const char *key;
	const json_t *value;
	json_object_foreach((json_t *)obj, key, value)
	{
		int named = model_type_parse(key);
		FUZZ_CHECK(named >= -1 && named <= LWM2M_TYPE_CORELNK, "type %s: %d", key, named);
		if (named >= 0)
			FUZZ_CHECK(strcmp(model_type_name((uint8_t)named), key) == 0, "name of %d",
				   named);
		for (int type = -1; type <= LWM2M_TYPE_CORELNK + 1; type++) {
			struct lwm2m_value v = { 0 };
			uint8_t buf[64];
			int rc = content_value_from_json(value, type, &v, buf, sizeof(buf));
			FUZZ_CHECK(rc == 0 || rc == -EINVAL, "value as type %d: %d", type, rc);
			if (rc != 0)
				continue;
			FUZZ_CHECK(v.type > LWM2M_TYPE_NONE && v.type <= LWM2M_TYPE_CORELNK &&
				       (type <= 0 || v.type == type),
				   "type %d gave %u", type, v.type);
			if (v.type == LWM2M_TYPE_OPAQUE)
				FUZZ_CHECK(v.v.bytes.data == buf && v.v.bytes.len <= sizeof(buf),
					   "opaque");
			if (v.type == LWM2M_TYPE_STRING || v.type == LWM2M_TYPE_CORELNK)
				FUZZ_CHECK(json_is_string(value) &&
					       v.v.bytes.len == json_string_length(value),
					   "string");
			/* What the API accepted must be sendable: one value in text and TLV. */
			v.path = (struct lwm2m_path){ .len = 3, .ids = { 9999, 0, 1 } };
			struct lwm2m_values list = { .items = &v, .count = 1, .cap = 1 };
			uint8_t out[256];
			int n = content_encode(CONTENT_TLV, &v.path, &list, NULL, NULL, out,
					       sizeof(out));
			FUZZ_CHECK(n > 0 || n == -ENOBUFS, "TLV of an accepted value: %d", n);
			n = content_encode(CONTENT_TEXT, &v.path, &list, NULL, NULL, out,
					   sizeof(out));
			FUZZ_CHECK(n >= 0 || n == -ENOBUFS, "text of an accepted value: %d", n);
		}
	}
}

/* The reference for api_parse_int's rule. */
static bool int_ok(const char *s, int64_t min, int64_t max, int64_t *out)
{
	size_t n = strlen(s);
	if (n == 0 || n > 18)
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

static void query_value(const char *name, const char *value)
{
	struct api_err err = { "" };
	int64_t v = -1, want = -1;
	static const int64_t ranges[][2] = { { 1, 50 }, { 0, 2147483647 }, { 1, 300 }, { 0, 0 } };
	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
		int rc = api_parse_int(name, value, ranges[r][0], ranges[r][1], 7, &v, &err);
		check_err(rc, &err, "api_parse_int");
		bool ok = int_ok(value, ranges[r][0], ranges[r][1], &want);
		FUZZ_CHECK((rc == 0) == ok && (!ok || v == want), "api_parse_int('%s') = %d, %lld",
			   value, rc, (long long)v);
	}
	int64_t limit = -1, offset = -1;
	int rc = api_parse_paging(value, name, &limit, &offset, &err);
	check_err(rc, &err, "api_parse_paging");
	if (rc == 0)
		FUZZ_CHECK(limit >= 1 && limit <= API_LIMIT_MAX && offset >= 0 &&
			       offset <= API_OFFSET_MAX,
			   "paging %lld %lld", (long long)limit, (long long)offset);
	int f = api_format_parse(value);
	if (f >= 0) {
		const char *fname = api_format_name(f);
		FUZZ_CHECK(fname && api_format_parse(fname) == f, "format %d", f);
	}
	check_err(api_check_string("device_id", value, strlen(value), 0, 128, API_STR_ID, &err),
		  &err, "api_check_string");
	struct lwm2m_path path;
	if (lwm2m_path_parse(value, strlen(value), &path) == 0) {
		char text[40];
		FUZZ_CHECK(lwm2m_path_format(&path, text, sizeof(text)) > 0, "path format");
	}
}

static void query(char *q)
{
	char *save = NULL;
	for (char *pair = strtok_r(q, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(pair, '=');
		if (eq)
			*eq = '\0';
		query_value(pair, eq ? eq + 1 : "");
		query_value(eq ? eq + 1 : "", pair);
	}
}

static void base64(const char *s, size_t len)
{
	uint8_t buf[INPUT_MAX];
	char again[BASE64_ENCODED_LEN(INPUT_MAX) + 1];
	long n = base64_decode(s, len, buf, sizeof(buf));
	FUZZ_CHECK(n >= 0 || n == -EINVAL, "base64_decode: %ld", n);
	if (n < 0)
		return;
	size_t m = base64_encode(buf, (size_t)n, again);
	FUZZ_CHECK(m == BASE64_ENCODED_LEN((size_t)n) && strlen(again) == m, "encode");
	/* The input, padded to a whole group, is the canonical form. */
	FUZZ_CHECK(len <= m && memcmp(again, s, len) == 0, "'%.*s' re-encodes as '%s'", (int)len, s,
		   again);
	for (size_t i = len; i < m; i++)
		FUZZ_CHECK(again[i] == '=', "padding");
	if (n > 0)
		FUZZ_CHECK(base64_decode(s, len, buf, (size_t)n - 1) == -ENOBUFS, "short buffer");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[INPUT_MAX + 1];
	if (size == 0 || size > INPUT_MAX)
		return 0;
	uint8_t mode = data[0] % 3;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (mode == 0) {
		json_t *obj = NULL;
		struct api_err err = { "" };
		int rc = api_json_parse_object(text, size - 1, &obj, &err);
		check_err(rc, &err, "api_json_parse_object");
		FUZZ_CHECK(rc != -ENOENT, "parse: -ENOENT");
		if (rc != 0)
			return 0;
		FUZZ_CHECK(json_is_object(obj), "not an object");
		body_getters(obj);
		write_values(obj);
		json_decref(obj);
	} else if (mode == 1) {
		query(text);
	} else {
		base64(text, size - 1);
	}
	return 0;
}
