/*
 * content: LwM2M values and the content formats that carry them (OMA LwM2M 1.1 Core §7.4
 * and Transport): text/plain (0), link-format (40, see lwm2m/lwm2m_link.h), opaque (42),
 * CBOR (60), SenML JSON (110), SenML CBOR (112), TLV (11542), OMA JSON (11543).
 *
 * Part of content/ in docs/architecture.md: below lwm2m/ (which sends and receives these
 * payloads) and above model/ only through the type callback, so that the codecs can be
 * tested without any object model.
 *
 * One representation for every format: a flat list of (full path, typed value) pairs,
 * each path at least as deep as a resource (/3/0/1) and at most a resource instance
 * (/3/0/7/1). Formats that carry no types (TLV, text, CBOR) ask type_of(); untyped
 * resources (unknown objects) decode as OPAQUE for TLV and STRING for text.
 *
 * Decoders never trust their input: every length is checked against what is left, depth
 * and counts are bounded, and malformed input returns -EBADMSG with nothing half-filled
 * (the caller frees the list in every case).
 */
#ifndef LWM2MD_CONTENT_H
#define LWM2MD_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwm2m/lwm2m_link.h"

/* Content-Format numbers (also in coap_msg.h as COAP_CT_*). */
#define CONTENT_TEXT 0
#define CONTENT_LINK 40
#define CONTENT_OPAQUE 42
#define CONTENT_CBOR 60
#define CONTENT_SENML_JSON 110
#define CONTENT_SENML_CBOR 112
#define CONTENT_TLV 11542
#define CONTENT_OMA_JSON 11543

/* A decoded payload may hold at most this many values. */
#define CONTENT_MAX_VALUES 1024

/* LwM2M data types (Core Appendix C). NONE: the model does not know the resource. */
enum lwm2m_type {
	LWM2M_TYPE_NONE = 0,
	LWM2M_TYPE_STRING,
	LWM2M_TYPE_INTEGER,
	LWM2M_TYPE_UNSIGNED,
	LWM2M_TYPE_FLOAT,
	LWM2M_TYPE_BOOLEAN,
	LWM2M_TYPE_OPAQUE,
	LWM2M_TYPE_TIME,     /* seconds since the epoch, as an integer */
	LWM2M_TYPE_OBJLNK,   /* "obj:inst" */
	LWM2M_TYPE_CORELNK,  /* a link-format string */
};

struct lwm2m_value {
	struct lwm2m_path path; /* len 3 (resource) or 4 (resource instance) */
	uint8_t type;           /* enum lwm2m_type; never NONE after decoding */
	union {
		int64_t i;      /* INTEGER, TIME */
		uint64_t u;     /* UNSIGNED */
		double f;       /* FLOAT */
		bool b;         /* BOOLEAN */
		struct {
			uint8_t *data; /* owned by the list; not NUL-terminated */
			size_t len;
		} bytes;        /* STRING, OPAQUE, CORELNK */
		struct {
			uint16_t obj, inst;
		} objlnk;       /* OBJLNK */
	} v;
	int64_t time;           /* SenML/OMA JSON "t" (absolute, seconds) when has_time */
	bool has_time;
};

struct lwm2m_values {
	struct lwm2m_value *items;
	size_t count, cap;
};

/* The type of a resource in the object model: LWM2M_TYPE_NONE when unknown. multiple
 * says whether it is a multiple-instance resource (TLV needs it to encode). */
typedef enum lwm2m_type (*content_type_fn)(void *ctx, uint16_t obj, uint16_t res,
					   bool *multiple);

void lwm2m_values_init(struct lwm2m_values *l);
/* Frees the items and the bytes they own. */
void lwm2m_values_free(struct lwm2m_values *l);
/* Appends a copy of v (copying its bytes). Returns 0, -ENOMEM, or -E2BIG past
 * CONTENT_MAX_VALUES. */
int lwm2m_values_add(struct lwm2m_values *l, const struct lwm2m_value *v);

/*
 * Decodes payload of content format `format` that answered a request on `base` (the path
 * the request named: /obj, /obj/inst, /obj/inst/res or /obj/inst/res/ri; for composite
 * operations and Send the root "/"). Appends to out. Returns 0, -EBADMSG (malformed, or
 * paths outside base), -ENOTSUP (a format we do not decode here, e.g. link-format),
 * -E2BIG, -ENOMEM.
 */
int content_decode(uint16_t format, const struct lwm2m_path *base, const uint8_t *payload,
		   size_t len, content_type_fn type_of, void *ctx, struct lwm2m_values *out);

/*
 * Encodes values (each under base) in `format` into buf for a Write/Create/Execute
 * payload. Returns the length, -ENOBUFS, -EINVAL (a value the format cannot carry:
 * several values in text/opaque, a path outside base), -ENOTSUP.
 */
int content_encode(uint16_t format, const struct lwm2m_path *base,
		   const struct lwm2m_values *values, content_type_fn type_of, void *ctx,
		   uint8_t *buf, size_t cap);

/* Per-format entry points, used by content_decode/content_encode. */
int content_text_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_text_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			uint8_t *buf, size_t cap);
int content_opaque_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			  struct lwm2m_values *out);
int content_opaque_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			  uint8_t *buf, size_t cap);
int content_tlv_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
		       content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_tlv_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
		       content_type_fn type_of, void *ctx, uint8_t *buf, size_t cap);
int content_cbor_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_cbor_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			uint8_t *buf, size_t cap);
int content_senml_json_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			      content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_senml_json_encode(const struct lwm2m_path *base,
			      const struct lwm2m_values *values, uint8_t *buf, size_t cap);
int content_senml_cbor_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			      content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_senml_cbor_encode(const struct lwm2m_path *base,
			      const struct lwm2m_values *values, uint8_t *buf, size_t cap);
int content_oma_json_decode(const struct lwm2m_path *base, const uint8_t *p, size_t len,
			    content_type_fn type_of, void *ctx, struct lwm2m_values *out);
int content_oma_json_encode(const struct lwm2m_path *base, const struct lwm2m_values *values,
			    uint8_t *buf, size_t cap);

/* SenML naming paths without values (the payload of Read-/Observe-Composite, Core
 * §6.3.8): in JSON [{"n":"/3/0/0"},{"n":"/1/0"}], in CBOR the same records with label 0.
 * content_encode_paths picks by format (-ENOTSUP for other formats). Each returns the
 * length, -ENOBUFS or -EINVAL. */
int content_encode_paths(uint16_t format, const struct lwm2m_path *paths, size_t count,
			 uint8_t *buf, size_t cap);
int content_senml_json_encode_paths(const struct lwm2m_path *paths, size_t count, uint8_t *buf,
				    size_t cap);
int content_senml_cbor_encode_paths(const struct lwm2m_path *paths, size_t count, uint8_t *buf,
				    size_t cap);

/* SenML records parsed into a jansson array (content_senml_*.c). */
typedef struct json_t json_t;
int content_senml_decode_doc(const struct lwm2m_path *base, json_t *doc,
			     content_type_fn type_of, void *ctx, struct lwm2m_values *out);

/* A JSON value as the LwM2M value of a resource of type (<= 0: untyped, the JSON value's
 * own — string, integer, float or boolean): strings, and objlnk as "obj:inst"; opaque as
 * base64, decoded into buf (cap bytes). Strings point into value; v->path is left as it
 * is. 0, or -EINVAL when the value does not fit the type. */
int content_value_from_json(const json_t *value, int type, struct lwm2m_value *v,
			    uint8_t *buf, size_t cap);

/* Checks a CBOR item's headers (definite lengths within the bytes, at most depth levels)
 * before libcbor allocates what they declare. Returns the item's size or -1. */
long content_cbor_check(const uint8_t *p, size_t len, int depth);

/* True when path is base or below it. */
bool lwm2m_path_under(const struct lwm2m_path *path, const struct lwm2m_path *base);

#endif
