/*
 * api_json: field getters and checks for API input. See api_json.h.
 *
 * The API's answer to bad input is a 400 that says which field is wrong and why
 * (docs/architecture.md, security model: "a malformed API body → 400 with error_code and
 * error_msg"); these functions write that message, so every route words it the same way.
 */
#include "api/api_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/str.h"
#include "util/timefmt.h"

/* Longest member name on a dotted path; ours are all short. */
#define KEY_MAX 64

static int fail(struct api_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct api_err *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int api_json_parse_object(const char *buf, size_t len, json_t **out, struct api_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, "body is not valid JSON: %s (line %d, column %d)", jerr.text,
			    jerr.line, jerr.column);
	if (!json_is_object(root)) {
		json_decref(root);
		return fail(err, "body must be a JSON object");
	}
	*out = root;
	return 0;
}

static bool is_id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static bool is_hex_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int api_check_string(const char *name, const char *s, size_t len, size_t min, size_t max,
		     enum api_str_rule rule, struct api_err *err)
{
	if (len < min || len > max) {
		if (min == max)
			return fail(err, "%s must be %zu characters long", name, min);
		return fail(err, "%s must be %zu-%zu characters long", name, min, max);
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\0')
			return fail(err, "%s must not contain NUL characters", name);
		if (rule == API_STR_ID && !is_id_char(c))
			return fail(err, "%s may contain only A-Z, a-z, 0-9, '_' and '-'", name);
		if (rule == API_STR_HEX && !is_hex_char(c))
			return fail(err, "%s must be hex digits (0-9, a-f)", name);
	}
	/* Hex stands for bytes: an odd count would leave half a byte. */
	if (rule == API_STR_HEX && len % 2 != 0)
		return fail(err, "%s must have an even number of hex digits", name);
	return 0;
}

/*
 * Finds the member a dotted path names. Returns 0 with *val (never JSON null), -ENOENT,
 * or -EINVAL when an object on the way is something else.
 */
static int lookup(const json_t *obj, const char *path, json_t **val, struct api_err *err)
{
	const char *seg = path;
	json_t *cur = (json_t *)obj;
	for (;;) {
		const char *dot = strchr(seg, '.');
		size_t seg_len = dot ? (size_t)(dot - seg) : strlen(seg);
		char key[KEY_MAX];
		if (seg_len >= sizeof(key))
			return fail(err, "%s: field name too long", path);
		memcpy(key, seg, seg_len);
		key[seg_len] = '\0';
		json_t *next = json_object_get(cur, key);
		if (!next || json_is_null(next))
			return -ENOENT;
		if (!dot) {
			*val = next;
			return 0;
		}
		if (!json_is_object(next))
			return fail(err, "%.*s must be an object", (int)(dot - path), path);
		cur = next;
		seg = dot + 1;
	}
}

int api_json_string(const json_t *obj, const char *path, size_t min, size_t max,
		    enum api_str_rule rule, char *out, size_t cap, struct api_err *err)
{
	json_t *v;
	int rc = lookup(obj, path, &v, err);
	if (rc != 0)
		return rc;
	if (!json_is_string(v))
		return fail(err, "%s must be a string", path);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	rc = api_check_string(path, s, len, min, max, rule, err);
	if (rc != 0)
		return rc;
	if (len >= cap)
		return fail(err, "%s is too long", path);
	return str_copy_n(out, cap, s, len);
}

int api_json_bool(const json_t *obj, const char *path, bool *out, struct api_err *err)
{
	json_t *v;
	int rc = lookup(obj, path, &v, err);
	if (rc != 0)
		return rc;
	if (!json_is_boolean(v))
		return fail(err, "%s must be true or false", path);
	*out = json_is_true(v);
	return 0;
}

int api_json_int(const json_t *obj, const char *path, int64_t min, int64_t max, int64_t *out,
		 struct api_err *err)
{
	json_t *v;
	int rc = lookup(obj, path, &v, err);
	if (rc != 0)
		return rc;
	if (!json_is_integer(v))
		return fail(err, "%s must be an integer", path);
	json_int_t n = json_integer_value(v);
	if (n < min || n > max)
		return fail(err, "%s must be between %lld and %lld", path, (long long)min,
			    (long long)max);
	*out = (int64_t)n;
	return 0;
}

int api_json_object(const json_t *obj, const char *path, struct api_err *err)
{
	json_t *v;
	int rc = lookup(obj, path, &v, err);
	if (rc != 0)
		return rc;
	if (!json_is_object(v))
		return fail(err, "%s must be an object", path);
	return 0;
}

int api_parse_int(const char *name, const char *s, int64_t min, int64_t max, int64_t dflt,
		  int64_t *out, struct api_err *err)
{
	if (!s) {
		*out = dflt;
		return 0;
	}
	/* Our own digit loop rather than strtoll: no sign, no spaces, no overflow. */
	int64_t n = 0;
	size_t i = 0;
	for (; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 18)
			break;
		n = n * 10 + (s[i] - '0');
	}
	if (i == 0 || s[i] != '\0' || n < min || n > max)
		return fail(err, "%s must be an integer between %lld and %lld", name,
			    (long long)min, (long long)max);
	*out = n;
	return 0;
}

int api_parse_paging(const char *limit_s, const char *offset_s, int64_t *limit,
		     int64_t *offset, struct api_err *err)
{
	int rc = api_parse_int("limit", limit_s, 1, API_LIMIT_MAX, API_LIMIT_DEFAULT, limit, err);
	if (rc != 0)
		return rc;
	return api_parse_int("offset", offset_s, 0, API_OFFSET_MAX, 0, offset, err);
}

const char *api_format_time(int64_t unix_s, char out[API_TIME_MAX])
{
	return time_format(unix_s, out);
}
