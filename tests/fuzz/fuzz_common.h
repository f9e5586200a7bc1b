/*
 * fuzz_common: what the libFuzzer targets of tests/fuzz share (docs/fuzzing.md).
 *
 * A target reads its input with a cursor: a few leading bytes choose what to exercise
 * (a base path, a content type, a route), the rest is the bytes under test. When a target
 * finds its code breaking a promise (a round trip that does not come back equal, an
 * answer outside the documented ones) it calls FUZZ_FAIL, which prints why and aborts, so
 * that libFuzzer saves the input as a crash.
 */
#ifndef LWM2MD_FUZZ_COMMON_H
#define LWM2MD_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_FAIL(...)                                                                             \
	do {                                                                                       \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
		fprintf(stderr, __VA_ARGS__);                                                      \
		fputc('\n', stderr);                                                               \
		abort();                                                                           \
	} while (0)

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			FUZZ_FAIL("check failed: " #cond ": " __VA_ARGS__);                        \
	} while (0)

struct fuzz_in {
	const uint8_t *p;
	size_t left;
};

static inline struct fuzz_in fuzz_in(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	return in;
}

/* The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (in->left == 0)
		return 0;
	in->left--;
	return *in->p++;
}

/* The next two bytes, big-endian. */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t hi = fuzz_u8(in);
	return (uint16_t)(hi << 8 | fuzz_u8(in));
}

/* Up to n bytes (fewer at the end of the input); *len gets how many. */
static inline const uint8_t *fuzz_bytes(struct fuzz_in *in, size_t n, size_t *len)
{
	const uint8_t *p = in->p;
	*len = n < in->left ? n : in->left;
	in->p += *len;
	in->left -= *len;
	return p;
}

#endif
