/*
 * str: bounded string copies. Every fixed-size string field in the project is filled
 * through str_copy, so that truncation is explicit and never overflows.
 */
#ifndef LWM2MD_STR_H
#define LWM2MD_STR_H

#include <stddef.h>

/* Copies src into dst (cap bytes, cap > 0), always NUL-terminating. Returns 0, or -E2BIG
 * when src did not fit and was truncated. */
int str_copy(char *dst, size_t cap, const char *src);
/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no
 * surrogates, nothing over U+10FFFF: what jansson accepts in a string): 1 for ASCII, 0
 * when it is not one. Reads no further than a NUL. */
size_t str_utf8_len(const unsigned char *p);

/* The same for a string of known length that need not be NUL-terminated. */
int str_copy_n(char *dst, size_t cap, const char *src, size_t len);

#endif
