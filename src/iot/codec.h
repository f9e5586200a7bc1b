/*
 * codec: a product's translation between a device's binary payloads (object 19) and the
 * platform's JSON messages. Two kinds share one contract, the one of IoTDA's codec scripts:
 *
 *   decode(payload bytes, topic)  ->  {"msgType":"deviceReq",
 *                                      "data":[{"serviceId":..,"serviceData":{..},
 *                                               "eventTime":"20261125T101500Z"?}]}
 *                                 or  {"msgType":"deviceRsp","mid":1..65535,
 *                                      "errcode":int,"body":{..}}
 *   encode({"msgType":"cloudReq","serviceId":..,"cmd":..,"paras":{..},"mid":1..65535})
 *                                 ->  payload bytes
 *
 * - CODEC_DECLARATIVE: a JSON document of message layouts (codec_decl*.c,
 *   docs/codec-declarative.md);
 * - CODEC_JS: a JavaScript source defining decode() and encode(), run by Duktape with a
 *   bounded time and heap (codec_js.c, docs/codec-js.md).
 *
 * codec_decode checks the shape above (codec_check_decoded) whatever the kind, so callers
 * get either a well-formed message or an error text; nothing a script returns can reach
 * the shadow unchecked. Every error text names what was wrong (field, offset, exception).
 *
 * A codec is not thread-safe; one thread uses it at a time.
 */
#ifndef LWM2MD_IOT_CODEC_H
#define LWM2MD_IOT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum codec_kind {
	CODEC_DECLARATIVE = 1,
	CODEC_JS = 2,
};

struct codec_limits {
	unsigned time_ms;     /* per decode/encode call (JS); 0 = CODEC_DEFAULT_TIME_MS */
	size_t memory_bytes;  /* heap of one JS codec; 0 = CODEC_DEFAULT_MEMORY */
};

#define CODEC_DEFAULT_TIME_MS 100
#define CODEC_DEFAULT_MEMORY (4u << 20)
#define CODEC_MAX_PAYLOAD 1024 /* bytes a payload may have, either way */

struct codec;

/* Compiles source (not NUL-terminated, len bytes). 0 and *out, or a negative errno with
 * err filled: -EINVAL for a source that does not compile or a layout that is invalid,
 * -ETIMEDOUT for a script whose top level runs out of time, -ENOMEM. */
int codec_create(enum codec_kind kind, const char *source, size_t len,
		 const struct codec_limits *limits, struct codec **out, char *err, size_t errlen);
void codec_destroy(struct codec *codec);

/* payload -> a new reference to the decoded message (checked). 0, or a negative errno with
 * err filled: -EINVAL bad payload or bad result, -ETIMEDOUT the script ran out of time,
 * -ENOMEM out of heap. topic may be NULL. */
int codec_decode(struct codec *codec, const uint8_t *payload, size_t len, const char *topic,
		 json_t **out, char *err, size_t errlen);

/* cloudReq -> payload bytes in out (cap bytes). 0 with *out_len, or a negative errno with
 * err filled (as codec_decode; -ENOSPC if the result does not fit cap). */
int codec_encode(struct codec *codec, const json_t *cloud_req, uint8_t *out, size_t cap,
		 size_t *out_len, char *err, size_t errlen);

/* An error text's line of the codec source, or 0 when it names none. Every error that
 * comes from a known line of the source — a JavaScript syntax error, an exception (its
 * innermost frame in the script), a declarative layout that is not JSON — ends with
 * "(line N)" or "(line N, ...)", the last such mention in the text. */
int codec_error_line(const char *err);

/* 0 if msg has the shape of a deviceReq or deviceRsp (above), else -EINVAL with err
 * naming the first thing wrong. */
int codec_check_decoded(const json_t *msg, char *err, size_t errlen);

/* The kinds' own entry points, dispatched to by codec.c. */
struct codec_js;
int codec_js_create(const char *source, size_t len, const struct codec_limits *limits,
		    struct codec_js **out, char *err, size_t errlen);
void codec_js_destroy(struct codec_js *js);
int codec_js_decode(struct codec_js *js, const uint8_t *payload, size_t len, const char *topic,
		    json_t **out, char *err, size_t errlen);
int codec_js_encode(struct codec_js *js, const json_t *cloud_req, uint8_t *out, size_t cap,
		    size_t *out_len, char *err, size_t errlen);

struct codec_decl;
int codec_decl_create(const char *source, size_t len, struct codec_decl **out, char *err,
		      size_t errlen);
void codec_decl_destroy(struct codec_decl *decl);
int codec_decl_decode(struct codec_decl *decl, const uint8_t *payload, size_t len,
		      json_t **out, char *err, size_t errlen);
int codec_decl_encode(struct codec_decl *decl, const json_t *cloud_req, uint8_t *out,
		      size_t cap, size_t *out_len, char *err, size_t errlen);

#endif
