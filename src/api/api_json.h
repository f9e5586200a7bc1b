/*
 * api_json: reading and checking what an API client sends — JSON body fields, query
 * parameters, paging — and formatting times the IoTDA way.
 *
 * Every check that can refuse input writes the 400's error_msg into a struct api_err,
 * naming the field ("auth_info.secret must be 8-64 hex digits"), so that route handlers
 * stay a list of "get this field, with these bounds". Nothing here allocates, and a value
 * is copied into a caller's fixed-size buffer only after its length was checked. Lengths
 * are in bytes (UTF-8), which is also what the store's fields hold.
 */
#ifndef LWM2MD_API_JSON_H
#define LWM2MD_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Why input was refused: the error_msg of a 400. */
struct api_err {
	char msg[256];
};

/* What characters a string may hold. */
enum api_str_rule {
	API_STR_ANY = 0, /* any UTF-8 but NUL */
	API_STR_ID = 1,  /* [A-Za-z0-9_-]: ids that appear in URL paths and CoAP endpoints */
	API_STR_HEX = 2, /* [0-9A-Fa-f], an even count: bytes written in hex */
};

/* "yyyyMMddTHHmmssZ" plus NUL (util/timefmt.h). */
#define API_TIME_MAX 17
/* Paging bounds of every list route. */
#define API_LIMIT_DEFAULT 10
#define API_LIMIT_MAX 50
#define API_OFFSET_MAX 2147483647

/*
 * Parses a request body that must be one JSON object (duplicate keys refused). Returns 0
 * with *out set (the caller owns it, json_decref), or -EINVAL with err set.
 */
int api_json_parse_object(const char *buf, size_t len, json_t **out, struct api_err *err);

/*
 * Checks that s (len bytes, not necessarily NUL-terminated) is min..max bytes long and
 * follows rule. name is the field's name for the message. Returns 0 or -EINVAL with err.
 */
int api_check_string(const char *name, const char *s, size_t len, size_t min, size_t max,
		     enum api_str_rule rule, struct api_err *err);

/*
 * The field getters. path names a member of obj, dotted for nested objects
 * ("auth_info.secret"); a JSON null counts as absent. Each returns 0 with the value
 * stored, -ENOENT when the member (or an object on the way to it) is absent — *out is
 * then untouched — or -EINVAL with err naming the field when it has the wrong type or
 * fails its bounds.
 */
/* A string of min..max bytes under rule, copied into out (cap must exceed max). */
int api_json_string(const json_t *obj, const char *path, size_t min, size_t max,
		    enum api_str_rule rule, char *out, size_t cap, struct api_err *err);
int api_json_bool(const json_t *obj, const char *path, bool *out, struct api_err *err);
/* An integer in min..max. */
int api_json_int(const json_t *obj, const char *path, int64_t min, int64_t max, int64_t *out,
		 struct api_err *err);
/* Checks that path, when present, is an object (e.g. "auth_info"). Returns 0 when it is,
 * -ENOENT when absent, -EINVAL otherwise. */
int api_json_object(const json_t *obj, const char *path, struct api_err *err);

/*
 * Parses a decimal query parameter: digits only (no sign, no spaces), within min..max.
 * s NULL means absent: 0 with *out = dflt. Returns 0 or -EINVAL with err naming name.
 */
int api_parse_int(const char *name, const char *s, int64_t min, int64_t max, int64_t dflt,
		  int64_t *out, struct api_err *err);

/* limit (1..API_LIMIT_MAX, default API_LIMIT_DEFAULT) and offset (0..API_OFFSET_MAX,
 * default 0) from their query strings (NULL when absent). Returns 0 or -EINVAL. */
int api_parse_paging(const char *limit_s, const char *offset_s, int64_t *limit,
		     int64_t *offset, struct api_err *err);

/* Formats Unix seconds (UTC) as "20261125T045321Z". Returns out. */
const char *api_format_time(int64_t unix_s, char out[API_TIME_MAX]);

#endif
