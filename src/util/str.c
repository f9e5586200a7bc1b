/* str: see str.h. */
#include "util/str.h"

#include <errno.h>
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
