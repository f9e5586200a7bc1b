/*
 * codec_decl_internal: what the two halves of the declarative codec share. The layout half
 * (codec_decl_layout.c) checks a layout document and compiles it into the tables below; the
 * codec half (codec_decl.c) decodes and encodes payloads by walking them. Nothing outside
 * src/iot/codec_decl*.c includes this; callers use codec.h.
 */
#ifndef LWM2MD_IOT_CODEC_DECL_INTERNAL_H
#define LWM2MD_IOT_CODEC_DECL_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "iot/codec.h"

#define DECL_MAX_MESSAGES 256	     /* messages in one layout */
#define DECL_MAX_FIELDS 128	     /* fields in one message */
#define DECL_MAX_NAME 64	     /* bytes of a field name, service_id or command */
#define DECL_VARIABLE ((unsigned)-1) /* the end of a field whose length the payload gives */

enum decl_type {
	DECL_INT8,
	DECL_UINT8,
	DECL_INT16,
	DECL_UINT16,
	DECL_INT32,
	DECL_UINT32,
	DECL_FLOAT,
	DECL_DOUBLE,
	DECL_STRING,
	DECL_VARSTRING,
	DECL_BYTES,
};

struct codec_decl_type {
	const char *name;
	unsigned size; /* bytes; 0 for the types whose length the layout or payload gives */
	bool integer;
	long long min, max;
};

/* Indexed by enum decl_type. */
extern const struct codec_decl_type codec_decl_types[];
#define DECL_NTYPES ((size_t)DECL_BYTES + 1)

enum decl_kind { DECL_REPORT, DECL_RESPONSE, DECL_COMMAND };
enum decl_role { DECL_ROLE_NONE, DECL_ROLE_MID, DECL_ROLE_ERRCODE };

struct decl_field {
	const char *name; /* borrowed from the layout document */
	enum decl_type type;
	bool little; /* byte order of integers and floats */
	enum decl_role role;
	unsigned offset;
	unsigned length;   /* string, bytes: fixed length in bytes */
	bool rest;	   /* varstring, bytes: to the end of the payload */
	int length_field;  /* varstring: index of the earlier integer field giving the length */
	bool is_length;	   /* a varstring's length: computed on encode, not taken from paras */
	const json_t *def; /* encode default (borrowed), or NULL */
};

struct decl_msg {
	long long id;
	enum decl_kind kind;
	const char *service_id; /* borrowed */
	const char *command;	/* borrowed; NULL for reports */
	struct decl_field *fields;
	size_t n_fields;
	int mid;     /* index of the role:"mid" field, -1 for reports */
	int errcode; /* index of the role:"errcode" field, or -1 */
};

struct codec_decl {
	json_t *doc; /* owns every string the tables borrow */
	struct decl_field msg_id;
	struct decl_msg *msgs;
	size_t n_msgs;
};

/* The byte after f, or DECL_VARIABLE if the payload decides. */
static inline unsigned codec_decl_field_end(const struct decl_field *f)
{
	if (f->type == DECL_VARSTRING || f->rest)
		return DECL_VARIABLE;
	unsigned size = codec_decl_types[f->type].size ? codec_decl_types[f->type].size : f->length;
	return f->offset + size;
}

/* "an integer", "a string", ... for error texts. */
const char *codec_decl_json_kind(const json_t *v);

/* Writes v as field f of message m into buf (CODEC_MAX_PAYLOAD bytes) and moves *end past
 * it; a varstring also writes its length field. 0, or -EINVAL (v does not suit f) or
 * -ENOSPC (it would end past CODEC_MAX_PAYLOAD) with err starting with what. Create uses it
 * to check defaults. */
int codec_decl_put_value(const struct decl_msg *m, const struct decl_field *f, const json_t *v,
			 uint8_t *buf, size_t *end, const char *what, char *err, size_t errlen);

#endif
