/*
 * libFuzzer target for the declarative codec (src/iot/codec_decl.c), both of its parsers:
 * the payloads devices send, and the layout documents products upload.
 *
 * Input: [mode (1 byte)][rest]. Mode even: rest is a payload, decoded with a fixed layout
 * that has every field type. Mode odd: rest is a layout document; if it is accepted, a
 * few fixed payloads are decoded with it and a fixed command is encoded.
 * Decode must answer 0 with a well-formed message or a negative errno with an error text.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iot/codec.h"

static const char layout[] =
    "{\"byte_order\":\"little\",\"message_id\":{\"offset\":0,\"type\":\"uint8\"},"
    "\"messages\":["
    "{\"id\":0,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"a\",\"offset\":1,\"type\":\"int8\"},"
    "{\"name\":\"b\",\"offset\":2,\"type\":\"uint16\",\"byte_order\":\"big\"},"
    "{\"name\":\"c\",\"offset\":4,\"type\":\"int32\"},"
    "{\"name\":\"d\",\"offset\":8,\"type\":\"float\"},"
    "{\"name\":\"e\",\"offset\":12,\"type\":\"double\"},"
    "{\"name\":\"f\",\"offset\":20,\"type\":\"string\",\"length\":5},"
    "{\"name\":\"g\",\"offset\":25,\"type\":\"bytes\",\"length\":3},"
    "{\"name\":\"n\",\"offset\":28,\"type\":\"int8\"},"
    "{\"name\":\"s\",\"offset\":29,\"type\":\"varstring\",\"length_field\":\"n\"}]},"
    "{\"id\":1,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"t\",\"offset\":1,\"type\":\"varstring\",\"length\":\"rest\"}]},"
    "{\"id\":2,\"kind\":\"report\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"t\",\"offset\":1,\"type\":\"bytes\",\"length\":\"rest\"}]},"
    "{\"id\":3,\"kind\":\"response\",\"service_id\":\"S\",\"fields\":["
    "{\"name\":\"m\",\"offset\":1,\"type\":\"uint16\",\"role\":\"mid\"},"
    "{\"name\":\"e\",\"offset\":3,\"type\":\"int32\",\"role\":\"errcode\"},"
    "{\"name\":\"r\",\"offset\":7,\"type\":\"uint8\"}]}]}";

static void decode_one(struct codec_decl *d, const uint8_t *p, size_t len)
{
	char err[256] = "";
	json_t *msg = NULL;
	int rc = codec_decl_decode(d, p, len, &msg, err, sizeof(err));
	if (rc == 0) {
		if (!json_string_value(json_object_get(msg, "msgType")))
			__builtin_trap();
		json_decref(msg);
	} else if (rc >= 0 || msg || !err[0]) {
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct codec_decl *fixed;
	char err[256];
	if (!fixed && codec_decl_create(layout, strlen(layout), &fixed, err, sizeof(err)))
		__builtin_trap();
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		if (size - 1 <= CODEC_MAX_PAYLOAD)
			decode_one(fixed, data + 1, size - 1);
		return 0;
	}
	struct codec_decl *d = NULL;
	int rc = codec_decl_create((const char *)data + 1, size - 1, &d, err, sizeof(err));
	if (rc) {
		if (rc != -EINVAL && rc != -ENOMEM)
			__builtin_trap();
		return 0;
	}
	static const uint8_t payloads[][12] = {
		{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 },
		{ 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 },
		{ 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
		{ 3, 0, 7, 0, 0, 0, 0, 1, 0, 0, 0, 0 },
	};
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++)
		for (size_t len = 0; len <= sizeof(payloads[i]); len += 3)
			decode_one(d, payloads[i], len);
	json_t *req = json_pack("{s:s, s:s, s:i, s:{s:i, s:s}}", "serviceId", "S", "cmd", "C",
				"mid", 7, "paras", "a", 1, "s", "x");
	uint8_t out[CODEC_MAX_PAYLOAD];
	size_t n;
	rc = codec_decl_encode(d, req, out, sizeof(out), &n, err, sizeof(err));
	if (rc != 0 && rc != -EINVAL && rc != -ENOSPC && rc != -ENOMEM)
		__builtin_trap();
	json_decref(req);
	codec_decl_destroy(d);
	return 0;
}
