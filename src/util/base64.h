/*
 * base64: RFC 4648 §4 (standard alphabet, padded) for the API's opaque values.
 */
#ifndef LWM2MD_BASE64_H
#define LWM2MD_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* The encoded length of n bytes, without the NUL. */
#define BASE64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Writes the padded encoding of data and a NUL into out (BASE64_ENCODED_LEN(len) + 1
 * bytes). Returns the length. */
size_t base64_encode(const uint8_t *data, size_t len, char *out);
/* Decodes s (padding optional, no whitespace) into out (at most cap bytes). Returns the
 * decoded length or -EINVAL (a character outside the alphabet, bad padding, a stray
 * trailing symbol) or -ENOBUFS. */
long base64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

#endif
