/*
 * dtls_inmem.h: dtls_load's baseline, mbedTLS's own full PSK handshake with client and
 * server in one process talking through memory (dtls_load --mode inmem). Not a library:
 * included once, by bench/dtls_load.c, after the globals it uses (drbg, suites, key,
 * key_len, now_ms, cpu_seconds, DGRAM_MAX), to keep that file a readable size.
 */
#ifndef LWM2MD_BENCH_DTLS_INMEM_H
#define LWM2MD_BENCH_DTLS_INMEM_H

struct queue {
	uint8_t d[8][DGRAM_MAX];
	size_t len[8];
	int head, count;
};

/* One side's view of the two queues: it writes to out and reads from in. */
struct duplex {
	struct queue *out, *in;
};

static int duplex_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct queue *q = ((struct duplex *)ctx)->out;
	if (q->count == 8 || len > DGRAM_MAX)
		return (int)len; /* dropped, like a full socket */
	int slot = (q->head + q->count) % 8;
	memcpy(q->d[slot], buf, len);
	q->len[slot] = len;
	q->count++;
	return (int)len;
}

static int duplex_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct queue *q = ((struct duplex *)ctx)->in;
	if (q->count == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	size_t n = q->len[q->head] < len ? q->len[q->head] : len;
	memcpy(buf, q->d[q->head], n);
	q->head = (q->head + 1) % 8;
	q->count--;
	return (int)n;
}

static int inmem_psk(void *ctx, mbedtls_ssl_context *ssl, const unsigned char *id, size_t len)
{
	(void)ctx;
	(void)id;
	(void)len;
	return mbedtls_ssl_set_hs_psk(ssl, key, key_len);
}

/* One full handshake, cookie exchange included; returns true when both sides finished. */
static bool inmem_handshake(mbedtls_ssl_config *sconf, mbedtls_ssl_config *cconf, uint32_t i)
{
	static struct queue to_server, to_client;
	memset(&to_server, 0, sizeof(to_server));
	memset(&to_client, 0, sizeof(to_client));
	struct duplex sd = { &to_client, &to_server }, cd = { &to_server, &to_client };
	mbedtls_ssl_context srv, cli;
	mbedtls_timing_delay_context st, ct;
	mbedtls_ssl_init(&srv);
	mbedtls_ssl_init(&cli);
	bool ok = mbedtls_ssl_setup(&srv, sconf) == 0 && mbedtls_ssl_setup(&cli, cconf) == 0;
	mbedtls_ssl_set_bio(&srv, &sd, duplex_send, duplex_recv, NULL);
	mbedtls_ssl_set_bio(&cli, &cd, duplex_send, duplex_recv, NULL);
	mbedtls_ssl_set_timer_cb(&srv, &st, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
	mbedtls_ssl_set_timer_cb(&cli, &ct, mbedtls_timing_set_delay, mbedtls_timing_get_delay);
	uint8_t id[4] = { (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	mbedtls_ssl_set_client_transport_id(&srv, id, sizeof(id));
	int rc_s = MBEDTLS_ERR_SSL_WANT_READ, rc_c = MBEDTLS_ERR_SSL_WANT_READ;
	for (int step = 0; ok && step < 40 && (rc_s != 0 || rc_c != 0); step++) {
		if (rc_c != 0)
			rc_c = mbedtls_ssl_handshake(&cli);
		if (rc_s != 0) {
			rc_s = mbedtls_ssl_handshake(&srv);
			if (rc_s == MBEDTLS_ERR_SSL_HELLO_VERIFY_REQUIRED) {
				mbedtls_ssl_session_reset(&srv);
				mbedtls_ssl_set_client_transport_id(&srv, id, sizeof(id));
				rc_s = MBEDTLS_ERR_SSL_WANT_READ;
			}
		}
		if ((rc_c != 0 && rc_c != MBEDTLS_ERR_SSL_WANT_READ) ||
		    (rc_s != 0 && rc_s != MBEDTLS_ERR_SSL_WANT_READ))
			ok = false;
	}
	mbedtls_ssl_free(&srv);
	mbedtls_ssl_free(&cli);
	return ok && rc_s == 0 && rc_c == 0;
}

static int run_inmem(uint32_t count)
{
	mbedtls_ssl_config sconf, cconf;
	mbedtls_ssl_cookie_ctx cookies;
	mbedtls_ssl_config_init(&sconf);
	mbedtls_ssl_config_init(&cconf);
	mbedtls_ssl_cookie_init(&cookies);
	if (mbedtls_ssl_config_defaults(&sconf, MBEDTLS_SSL_IS_SERVER,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT) ||
	    mbedtls_ssl_config_defaults(&cconf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_DATAGRAM,
					MBEDTLS_SSL_PRESET_DEFAULT) ||
	    mbedtls_ssl_cookie_setup(&cookies, mbedtls_ctr_drbg_random, &drbg))
		return 1;
	mbedtls_ssl_conf_rng(&sconf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_rng(&cconf, mbedtls_ctr_drbg_random, &drbg);
	mbedtls_ssl_conf_ciphersuites(&sconf, suites);
	mbedtls_ssl_conf_ciphersuites(&cconf, suites);
	mbedtls_ssl_conf_dtls_cookies(&sconf, mbedtls_ssl_cookie_write, mbedtls_ssl_cookie_check,
				      &cookies);
	mbedtls_ssl_conf_psk_cb(&sconf, inmem_psk, NULL);
	mbedtls_ssl_conf_psk(&cconf, key, key_len, (const unsigned char *)"bench000000", 11);

	uint64_t t0 = now_ms();
	double cpu0 = cpu_seconds();
	uint32_t done = 0;
	for (uint32_t i = 0; i < count; i++)
		done += inmem_handshake(&sconf, &cconf, i);
	double secs = (double)(now_ms() - t0) / 1000.0, cpu = cpu_seconds() - cpu0;
	/* per_cpu_second: handshakes per second of this process's CPU time, which a shared
	 * machine disturbs less than the wall clock. */
	printf("phase=inmem handshakes=%u failed=%u seconds=%.3f per_second=%.0f "
	       "cpu_seconds=%.3f per_cpu_second=%.0f\n",
	       done, count - done, secs, secs > 0 ? done / secs : 0.0, cpu,
	       cpu > 0 ? done / cpu : 0.0);
	mbedtls_ssl_cookie_free(&cookies);
	mbedtls_ssl_config_free(&sconf);
	mbedtls_ssl_config_free(&cconf);
	return done == count ? 0 : 1;
}

#endif
