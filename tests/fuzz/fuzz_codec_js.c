/*
 * libFuzzer target for what a JavaScript codec hands back to the platform
 * (src/iot/codec_js.c, src/iot/codec.c): the JS is the product owner's, so its results are
 * outside input as much as a device's bytes are.
 *
 * One fixed codec runs on Duktape. Its decode() turns the payload into a string, one
 * character per byte, and returns it, or the object JSON.parse makes of it when the first
 * byte is 'O' (then it goes back through JSON.stringify): so the fuzzer writes the text
 * codec_js_decode parses and codec_check_decoded checks. Its encode() returns the "out"
 * member of the command it is given, which the fuzzer writes too: what the byte
 * conversion of encode()'s result meets (arrays of anything, non-arrays, holes, floats,
 * numbers out of range, too long).
 *
 * Input: [kind][bytes]. kind even: decode the bytes as a payload (at most
 * CODEC_MAX_PAYLOAD). Odd: the bytes are a JSON object given to encode as the cloudReq.
 *
 * What must hold: decode answers 0 with a message that has the checked shape
 * (codec_check_decoded agrees) or -EINVAL/-ETIMEDOUT/-ENOMEM with a reason; the same text
 * parsed here and checked directly gets the same verdict; encode answers 0 with every
 * byte the script returned, as an integer in -128..255 taken modulo 256, or an error
 * with a reason.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "iot/codec.h"

static const char script[] =
    "function decode(p) {\n"
    "  var s = '';\n"
    "  for (var i = 0; i < p.length; i++) s += String.fromCharCode(p[i]);\n"
    "  if (s.charAt(0) == 'O') return JSON.parse(s.substring(1));\n"
    "  return s;\n"
    "}\n"
    "function encode(j) { return JSON.parse(j).out; }\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct codec *codec;
	char err[512] = "";
	if (!codec) {
		struct codec_limits limits = { .time_ms = 1000, .memory_bytes = 0 };
		if (codec_create(CODEC_JS, script, strlen(script), &limits, &codec, err,
				 sizeof(err)) != 0)
			FUZZ_FAIL("the fixed codec does not load: %s", err);
	}
	if (size == 0)
		return 0;
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	if (data[0] % 2 == 0) {
		if (len > CODEC_MAX_PAYLOAD)
			return 0;
		json_t *msg = NULL;
		int rc = codec_decode(codec, p, len, NULL, &msg, err, sizeof(err));
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ETIMEDOUT || rc == -ENOMEM,
			   "decode: %d", rc);
		if (rc == 0) {
			char why[256];
			FUZZ_CHECK(msg && codec_check_decoded(msg, why, sizeof(why)) == 0,
				   "an unchecked message came through");
			json_decref(msg);
		} else {
			FUZZ_CHECK(!msg && err[0], "decode refused without a reason");
		}
		/* Latin-1 bytes as the script's string, then UTF-8 as codec_js gives it to
		 * jansson: what the platform checked is this text. */
		if (len > 0 && p[0] != 'O') {
			char text[2 * CODEC_MAX_PAYLOAD];
			size_t n = 0;
			bool nul = false;
			for (size_t i = 0; i < len; i++) {
				nul |= p[i] == 0;
				if (p[i] < 0x80) {
					text[n++] = (char)p[i];
				} else {
					text[n++] = (char)(0xC0 | p[i] >> 6);
					text[n++] = (char)(0x80 | (p[i] & 0x3F));
				}
			}
			json_t *direct = json_loadb(text, n, 0, NULL);
			char why[256];
			int want = direct ? codec_check_decoded(direct, why, sizeof(why)) : -EINVAL;
			FUZZ_CHECK(nul || rc == -ETIMEDOUT || rc == -ENOMEM ||
				       (rc == 0) == (want == 0),
				   "codec_decode says %d, the text checks as %d", rc, want);
			json_decref(direct);
		}
		return 0;
	}
	json_t *req = json_loadb((const char *)p, len, 0, NULL);
	if (!json_is_object(req)) {
		json_decref(req);
		return 0;
	}
	uint8_t out[CODEC_MAX_PAYLOAD];
	size_t n = 0;
	int rc = codec_encode(codec, req, out, sizeof(out), &n, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOSPC || rc == -ETIMEDOUT || rc == -ENOMEM,
		   "encode: %d", rc);
	if (rc == 0) {
		const json_t *want = json_object_get(req, "out");
		FUZZ_CHECK(json_is_array(want) && json_array_size(want) == n, "%zu bytes", n);
		for (size_t i = 0; i < n; i++) {
			const json_t *b = json_array_get(want, i);
			FUZZ_CHECK(json_is_number(b), "byte %zu is no number", i);
			double d = json_number_value(b);
			FUZZ_CHECK(d >= -128 && d <= 255 && d == floor(d) &&
				       out[i] == ((int)d & 0xFF),
				   "byte %zu: %g became %u", i, d, out[i]);
		}
	} else {
		FUZZ_CHECK(err[0], "encode refused without a reason");
	}
	json_decref(req);
	return 0;
}
