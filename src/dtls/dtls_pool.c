/*
 * dtls_pool: a bounded stack of mbedTLS SSL contexts for new sessions to reuse.
 *
 * Each context owns two record buffers of MBEDTLS_SSL_IN/OUT_CONTENT_LEN (16 KB each in
 * Debian's build, which has no MBEDTLS_SSL_VARIABLE_BUFFER_LENGTH): a context allocated
 * fresh for every handshake or wake-up costs the kernel zeroing ~36 KB of new pages. A
 * context whose session ends or hibernates is instead reset (mbedtls_ssl_session_reset:
 * keys, transform, handshake state with its PSK, peer id, counters and buffers' contents
 * are cleared, the buffers kept) and pushed here, up to max; get pops one, last in first
 * out so that the most recently touched memory is used first.
 */
#include <errno.h>
#include <stdlib.h>

#include "dtls/dtls_internal.h"

int dtls_pool_init(struct dtls_pool *p, size_t max)
{
	p->count = 0;
	p->max = max;
	p->reused = p->created = 0;
	p->free = NULL;
	if (max > 0) {
		p->free = calloc(max, sizeof(*p->free));
		if (!p->free)
			return -ENOMEM;
	}
	return 0;
}

static void free_ssl(mbedtls_ssl_context *ssl)
{
	mbedtls_ssl_free(ssl);
	free(ssl);
}

void dtls_pool_destroy(struct dtls_pool *p)
{
	while (p->count > 0)
		free_ssl(p->free[--p->count]);
	free(p->free);
	p->free = NULL;
	p->max = 0;
}

mbedtls_ssl_context *dtls_pool_get(struct dtls_pool *p, const mbedtls_ssl_config *conf)
{
	if (p->count > 0) {
		p->reused++;
		return p->free[--p->count];
	}
	mbedtls_ssl_context *ssl = malloc(sizeof(*ssl));
	if (!ssl)
		return NULL;
	mbedtls_ssl_init(ssl);
	if (mbedtls_ssl_setup(ssl, conf) != 0) {
		free_ssl(ssl);
		return NULL;
	}
	p->created++;
	return ssl;
}

void dtls_pool_discard(mbedtls_ssl_context *ssl)
{
	if (ssl)
		free_ssl(ssl);
}

void dtls_pool_put(struct dtls_pool *p, mbedtls_ssl_context *ssl)
{
	if (!ssl)
		return;
	/* The reset drops the previous owner's callbacks' context too: nothing may call
	 * back into a session that is gone. A context that cannot be reset is not kept. */
	if (p->count == p->max || mbedtls_ssl_session_reset(ssl) != 0) {
		free_ssl(ssl);
		return;
	}
	mbedtls_ssl_set_bio(ssl, NULL, NULL, NULL, NULL);
	mbedtls_ssl_set_timer_cb(ssl, NULL, NULL, NULL);
	p->free[p->count++] = ssl;
}
