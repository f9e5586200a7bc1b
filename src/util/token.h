/*
 * token: random secrets and their hashes — API tokens, generated device secrets.
 * Randomness comes from the kernel's CSPRNG (getrandom); hashing is mbedTLS's SHA-256.
 */
#ifndef LWM2MD_TOKEN_H
#define LWM2MD_TOKEN_H

#include <stddef.h>

/* 32 random bytes as 64 lowercase hex characters. */
#define TOKEN_HEX_LEN 64

/* Writes nbytes random bytes as 2*nbytes lowercase hex characters plus NUL into out
 * (cap >= 2*nbytes+1). Returns 0, -EINVAL when cap is too small, -EIO when the kernel
 * gives no randomness. */
int token_random_hex(char *out, size_t cap, size_t nbytes);

/* Writes the lowercase hex SHA-256 of s (TOKEN_HEX_LEN characters plus NUL). */
void token_hash(const char *s, char out[TOKEN_HEX_LEN + 1]);

#endif
