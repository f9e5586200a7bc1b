/* token: see token.h. */
#include "util/token.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <mbedtls/sha256.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int token_random_hex(char *out, size_t cap, size_t nbytes)
{
	unsigned char buf[64];
	if (nbytes > sizeof(buf) || cap < 2 * nbytes + 1)
		return -EINVAL;
	size_t got = 0;
	while (got < nbytes) {
		ssize_t n = getrandom(buf + got, nbytes - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -EIO;
		}
		got += (size_t)n;
	}
	to_hex(buf, nbytes, out);
	return 0;
}

void token_hash(const char *s, char out[TOKEN_HEX_LEN + 1])
{
	unsigned char digest[32];
	mbedtls_sha256_ret((const unsigned char *)s, strlen(s), digest, 0);
	to_hex(digest, sizeof(digest), out);
}
