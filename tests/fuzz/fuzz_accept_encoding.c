/*
 * libFuzzer target for the Accept-Encoding check with which the daemon chooses to send a
 * console file gzipped (api_accepts_gzip, src/api/api_console.c).
 *
 * What must hold: a value that names neither gzip (in any case) nor "*" never accepts it;
 * a coding that names nothing ("identity, " before the value) changes no verdict; ", gzip"
 * after any value accepts it (a coding is its own list element, whatever came before).
 * The value is read from a buffer of exactly its length, so ASan sees any read past it.
 *
 * Input: the header's value, as is (up to its first NUL, as libmicrohttpd gives it).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_console.h"
#include "fuzz_common.h"

#define VALUE_MAX 1024

/* A heap copy of len bytes of data, NUL-terminated, between prefix and suffix. */
static char *copy(const char *prefix, const uint8_t *data, size_t len, const char *suffix)
{
	size_t a = strlen(prefix), c = strlen(suffix);
	char *s = malloc(a + len + c + 1);
	if (!s)
		abort();
	memcpy(s, prefix, a);
	memcpy(s + a, data, len);
	memcpy(s + a + len, suffix, c + 1);
	return s;
}

static bool names_gzip_or_any(const char *s)
{
	if (strchr(s, '*'))
		return true;
	for (; *s; s++) {
		if (strncasecmp(s, "gzip", 4) == 0)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = strnlen((const char *)data, size < VALUE_MAX ? size : VALUE_MAX);
	char *value = copy("", data, len, "");
	char *after_identity = copy("identity, ", data, len, "");
	char *then_gzip = copy("", data, len, ", gzip");

	bool accepts = api_accepts_gzip(value);
	FUZZ_CHECK(!accepts || names_gzip_or_any(value), "accepted gzip from \"%s\"", value);
	FUZZ_CHECK(api_accepts_gzip(after_identity) == accepts,
		   "\"identity, \" changed the verdict on \"%s\"", value);
	FUZZ_CHECK(api_accepts_gzip(then_gzip), "\"%s\" refused gzip", then_gzip);

	free(value);
	free(after_identity);
	free(then_gzip);
	return 0;
}
