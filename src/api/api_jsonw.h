/*
 * api_jsonw: JSON text written straight into one growing buffer, for the answers that
 * carry many objects (a page of the device list) or are asked for most (a device GET).
 *
 * Building a jansson tree for each device and dumping it costs a dozen allocations an
 * object and a hash table per object: most of what a page of 50 devices cost the event
 * loop (docs/benchmarks.md, "The API at a million devices"). The text written here is
 * byte for byte what json_dumpb(JSON_COMPACT) writes for the same members in the same
 * order — strings escaped as jansson escapes them, and a string that is not valid UTF-8
 * written as "" as api_json_str makes it — so that an answer does not change with the
 * way it was built (tests/unit/api/test_api_jsonw.c compares the two).
 *
 * A failed allocation is remembered: what follows is dropped and api_jsonw_take returns
 * NULL, so that a route checks once, at the end.
 */
#ifndef LWM2MD_API_JSONW_H
#define LWM2MD_API_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct api_jsonw {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;
};

/* An empty writer; initial bytes reserved (0: grows from the first write). */
void api_jsonw_init(struct api_jsonw *w, size_t reserve);
/* Bytes as they are: punctuation and member names the caller spells as JSON. */
void api_jsonw_raw(struct api_jsonw *w, const char *s, size_t n);
#define api_jsonw_lit(w, s) api_jsonw_raw((w), (s), sizeof(s) - 1)
/* A JSON string: quoted and escaped as jansson does; "" when s is NULL or is not valid
 * UTF-8 (RFC 3629). */
void api_jsonw_str(struct api_jsonw *w, const char *s);
void api_jsonw_int(struct api_jsonw *w, int64_t v);
/* A time as api_format_time writes it, quoted: "yyyyMMddTHHmmssZ" (UTC). */
void api_jsonw_time(struct api_jsonw *w, int64_t unix_s);
void api_jsonw_bool(struct api_jsonw *w, bool v);
/* A jansson value, compact; NULL counts as a failure (as json_object_set_new's). */
void api_jsonw_value(struct api_jsonw *w, const json_t *v);
/* The text with a line end (as api_http.c ends a JSON answer), for the caller to free,
 * and its length; NULL after a failure. The writer is empty afterwards. */
char *api_jsonw_take(struct api_jsonw *w, size_t *len);
void api_jsonw_free(struct api_jsonw *w);

#endif
