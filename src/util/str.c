/* str: see str.h. */
#include "util/str.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

int str_copy_n(char *dst, size_t cap, const char *src, size_t len)
{
	int rc = 0;
	if (len >= cap) {
		len = cap - 1;
		rc = -E2BIG;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return rc;
}

int str_copy(char *dst, size_t cap, const char *src)
{
	return str_copy_n(dst, cap, src, strnlen(src, cap));
}

size_t str_utf8_len(const unsigned char *p)
{
	size_t n;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2, cp = p[0] & 0x1Fu;
	else if ((p[0] & 0xF0) == 0xE0)
		n = 3, cp = p[0] & 0x0Fu;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4, cp = p[0] & 0x07u;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) /* also stops at the NUL */
			return 0;
		cp = cp << 6 | (p[i] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}
