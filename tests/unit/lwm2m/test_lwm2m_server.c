/*
 * Tests of lwm2m_server, the registration interface: Register/Update/De-register,
 * their parameters and defaults, refusals, replacement, expiry and restore — through
 * lwm2m_server_handle with requests built as CoAP messages and hooks that record calls.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lwm2m/lwm2m_server.h"

static int registered_calls, updated_calls, dereg_calls;
static enum lwm2m_dereg_reason last_reason;
static char allowed[64] = "dev1";

static uint8_t authorize(void *ctx, const char *endpoint, enum lwm2m_transport transport,
			 const char *psk_identity, const struct addr *peer, void **owner,
			 const char **why)
{
	(void)ctx;
	*why = "not on the test's list";
	*owner = &registered_calls; /* what the registration then carries */
	(void)transport;
	(void)psk_identity;
	(void)peer;
	return strncmp(endpoint, allowed, strlen(allowed)) == 0 ? 0 : COAP_CODE_FORBIDDEN;
}

static void registered(void *ctx, struct lwm2m_registration *reg)
{
	(void)ctx;
	(void)reg;
	registered_calls++;
}

static void updated(void *ctx, struct lwm2m_registration *reg)
{
	(void)ctx;
	(void)reg;
	updated_calls++;
}

static void deregistered(void *ctx, struct lwm2m_registration *reg,
			 enum lwm2m_dereg_reason reason)
{
	(void)ctx;
	(void)reg;
	dereg_calls++;
	last_reason = reason;
}

static const struct lwm2m_hooks hooks = {authorize, registered, updated, deregistered};
static struct addr peer;
static char location[2][32];

static int setup(void **state)
{
	struct lwm2m_server *srv;
	assert_int_equal(lwm2m_server_create(&srv, &hooks, NULL), 0);
	registered_calls = updated_calls = dereg_calls = 0;
	strcpy(allowed, "dev");
	addr_parse(&peer, "10.1.2.3:40000");
	*state = srv;
	return 0;
}

static int teardown(void **state)
{
	lwm2m_server_destroy(*state);
	return 0;
}

/* Sends a request: method, path ("rd" or "rd/<id>"), query parameters separated by '&',
 * payload. Returns the response code and keeps Location-Path values in location[]. */
static uint8_t call(struct lwm2m_server *srv, uint8_t method, const char *path,
		    const char *query, const char *payload, int64_t now)
{
	struct coap_msg req, resp;
	char qbuf[256];
	coap_msg_init(&req, COAP_TYPE_CON, method, 1, NULL, 0);
	coap_msg_add_path(&req, COAP_OPTION_URI_PATH, path);
	if (query) {
		snprintf(qbuf, sizeof(qbuf), "%s", query);
		for (char *q = strtok(qbuf, "&"); q; q = strtok(NULL, "&"))
			coap_msg_add_option(&req, COAP_OPTION_URI_QUERY, q, strlen(q));
	}
	if (payload)
		coap_msg_set_payload(&req, payload, strlen(payload));
	coap_msg_init(&resp, COAP_TYPE_ACK, COAP_CODE_INTERNAL_SERVER_ERROR, 1, NULL, 0);
	lwm2m_server_handle(srv, LWM2M_TRANSPORT_UDP, NULL, &peer, &req, &resp, now);
	int n = 0;
	for (size_t i = 0; i < resp.option_count && n < 2; i++) {
		const struct coap_option *o = &resp.options[i];
		if (o->number == COAP_OPTION_LOCATION_PATH) {
			snprintf(location[n], sizeof(location[n]), "%.*s", o->len,
				 (const char *)o->value);
			n++;
		}
	}
	return resp.code;
}

static const char *links = "</>;rt=\"oma.lwm2m\";ct=11543,</1/0>,</3/0>,</19/0>";

static void test_register_defaults(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1", "</1/0>,</3/0>", 1000),
			 COAP_CODE_CREATED);
	assert_string_equal(location[0], "rd");
	assert_int_equal(strlen(location[1]), LWM2M_REG_ID_LEN);
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(srv, "dev1");
	assert_non_null(reg);
	assert_string_equal(reg->id, location[1]);
	assert_ptr_equal(lwm2m_server_find_id(srv, location[1]), reg);
	/* Core §6.2.1 defaults: lifetime 86400, version 1.0, binding U. */
	assert_int_equal(reg->lifetime, 86400);
	assert_string_equal(reg->version, "1.0");
	assert_string_equal(reg->binding, "U");
	assert_false(reg->queue_mode);
	assert_string_equal(reg->links, "</1/0>,</3/0>");
	assert_true(addr_equal(&reg->peer, &peer));
	assert_int_equal(reg->registered_at_ms, 1000);
	assert_ptr_equal(reg->owner, &registered_calls); /* authorize's, kept */
	assert_int_equal(registered_calls, 1);
	assert_int_equal(lwm2m_server_count(srv), 1);
}

static void test_register_with_parameters(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd",
			      "ep=dev2&lt=300&lwm2m=1.1&b=U&Q&sms=123&pid=7&unknown=x", links, 0),
			 COAP_CODE_CREATED);
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(srv, "dev2");
	assert_non_null(reg);
	assert_int_equal(reg->lifetime, 300);
	assert_string_equal(reg->version, "1.1");
	assert_true(reg->queue_mode);
	/* LwM2M 1.0 queue mode is the binding UQ. */
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev3&b=UQ", "</1/0>", 0),
			 COAP_CODE_CREATED);
	assert_true(lwm2m_server_find_endpoint(srv, "dev3")->queue_mode);
}

static void test_register_refusals(void **state)
{
	struct lwm2m_server *srv = *state;
	/* Unknown device: 4.03 from the owner. */
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=other", links, 0),
			 COAP_CODE_FORBIDDEN);
	/* Newer version: 4.12 so the client falls back. */
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1&lwm2m=1.2", links, 0),
			 COAP_CODE_PRECONDITION_FAILED);
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1&lwm2m=2.0", links, 0),
			 COAP_CODE_PRECONDITION_FAILED);
	const char *bad_queries[] = {
		NULL,                 /* no endpoint */
		"ep=",                /* empty endpoint */
		"ep=dev1&lt=0",       /* lifetime 0 */
		"ep=dev1&lt=abc",     /* not a number */
		"ep=dev1&lt=99999999999",
		"ep=dev1&lt=-5",
		"ep=dev1&lwm2m=1",    /* malformed version */
		"ep=dev1&lwm2m=x.y",
		"ep=dev1&b=X",        /* unknown binding */
		"ep=dev1&b=UU",       /* repeated binding letter */
		"ep=dev 1",           /* space in endpoint */
		"ep=dev1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65+ */
	};
	for (size_t i = 0; i < sizeof(bad_queries) / sizeof(bad_queries[0]); i++)
		assert_int_equal(call(srv, COAP_CODE_POST, "rd", bad_queries[i], links, 0),
				 COAP_CODE_BAD_REQUEST);
	const char *bad_links[] = {"", "garbage", "</1/0", "</3/0/1>", "</65535>", "</a/0>"};
	for (size_t i = 0; i < sizeof(bad_links) / sizeof(bad_links[0]); i++)
		assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1", bad_links[i], 0),
				 COAP_CODE_BAD_REQUEST);
	/* Wrong method on /rd, unknown paths. */
	assert_int_equal(call(srv, COAP_CODE_GET, "rd", "ep=dev1", NULL, 0),
			 COAP_CODE_METHOD_NOT_ALLOWED);
	assert_int_equal(call(srv, COAP_CODE_POST, "bs", "ep=dev1", NULL, 0), COAP_CODE_NOT_FOUND);
	assert_int_equal(call(srv, COAP_CODE_POST, "rd/a/b", NULL, NULL, 0), COAP_CODE_NOT_FOUND);
	assert_int_equal(lwm2m_server_count(srv), 0);
	assert_int_equal(registered_calls, 0);
	assert_int_equal(lwm2m_server_stats(srv)->rejected_registrations,
			 3 + 12 + 6);
}

static void test_wrong_content_format_refused(void **state)
{
	struct coap_msg req, resp;
	coap_msg_init(&req, COAP_TYPE_CON, COAP_CODE_POST, 1, NULL, 0);
	coap_msg_add_path(&req, COAP_OPTION_URI_PATH, "rd");
	coap_msg_add_uint_option(&req, COAP_OPTION_CONTENT_FORMAT, COAP_CT_SENML_JSON);
	coap_msg_add_option(&req, COAP_OPTION_URI_QUERY, "ep=dev1", 7);
	coap_msg_set_payload(&req, "</1/0>", 6);
	coap_msg_init(&resp, COAP_TYPE_ACK, 0, 1, NULL, 0);
	lwm2m_server_handle(*state, LWM2M_TRANSPORT_UDP, NULL, &peer, &req, &resp, 0);
	assert_int_equal(resp.code, COAP_CODE_BAD_REQUEST);
}

static void test_update_and_deregister(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1&lt=60", links, 1000),
			 COAP_CODE_CREATED);
	char path[64];
	snprintf(path, sizeof(path), "rd/%s", location[1]);
	struct addr moved;
	addr_parse(&moved, "10.9.9.9:1234");
	struct addr orig = peer;
	peer = moved;
	assert_int_equal(call(srv, COAP_CODE_POST, path, "lt=120&b=UQ", "</1/0>,</3303/0>", 5000),
			 COAP_CODE_CHANGED);
	peer = orig;
	struct lwm2m_registration *reg = lwm2m_server_find_endpoint(srv, "dev1");
	assert_int_equal(reg->lifetime, 120);
	assert_string_equal(reg->binding, "UQ");
	assert_true(reg->queue_mode);
	assert_string_equal(reg->links, "</1/0>,</3303/0>");
	assert_true(addr_equal(&reg->peer, &moved));
	assert_int_equal(reg->updated_at_ms, 5000);
	/* The heap keeps the earlier time (an Update that extends does not re-queue); the tick
	 * then re-queues the registration at its real expiry instead of ending it. */
	assert_int_equal(lwm2m_server_next_deadline(srv), 61000); /* registered at 1 s, lt 60 */
	lwm2m_server_tick(srv, 61000);
	assert_ptr_equal(lwm2m_server_find_endpoint(srv, "dev1"), reg);
	assert_int_equal(lwm2m_server_next_deadline(srv), 5000 + 120000);
	assert_int_equal(updated_calls, 1);
	/* An Update with a bad payload changes nothing. */
	assert_int_equal(call(srv, COAP_CODE_POST, path, NULL, "<<", 6000), COAP_CODE_BAD_REQUEST);
	assert_string_equal(reg->links, "</1/0>,</3303/0>");
	/* Unknown ids and wrong methods. */
	assert_int_equal(call(srv, COAP_CODE_POST, "rd/0123456789", NULL, NULL, 0),
			 COAP_CODE_NOT_FOUND);
	assert_int_equal(call(srv, COAP_CODE_POST, "rd/short", NULL, NULL, 0), COAP_CODE_NOT_FOUND);
	assert_int_equal(call(srv, COAP_CODE_PUT, path, NULL, NULL, 0),
			 COAP_CODE_METHOD_NOT_ALLOWED);
	assert_int_equal(call(srv, COAP_CODE_DELETE, path, NULL, NULL, 7000), COAP_CODE_DELETED);
	assert_int_equal(dereg_calls, 1);
	assert_int_equal(last_reason, LWM2M_DEREG_REQUESTED);
	assert_int_equal(lwm2m_server_count(srv), 0);
	assert_int_equal(call(srv, COAP_CODE_DELETE, path, NULL, NULL, 7000), COAP_CODE_NOT_FOUND);
}

static void test_update_over_other_transport_is_not_found(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1", links, 0), COAP_CODE_CREATED);
	struct coap_msg req, resp;
	coap_msg_init(&req, COAP_TYPE_CON, COAP_CODE_POST, 1, NULL, 0);
	coap_msg_add_option(&req, COAP_OPTION_URI_PATH, "rd", 2);
	coap_msg_add_option(&req, COAP_OPTION_URI_PATH, location[1], strlen(location[1]));
	coap_msg_init(&resp, COAP_TYPE_ACK, 0, 1, NULL, 0);
	lwm2m_server_handle(srv, LWM2M_TRANSPORT_DTLS, "dev1", &peer, &req, &resp, 0);
	assert_int_equal(resp.code, COAP_CODE_NOT_FOUND);
}

static void test_register_again_replaces(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1", links, 0), COAP_CODE_CREATED);
	char first[32];
	strcpy(first, location[1]);
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1", links, 10), COAP_CODE_CREATED);
	assert_string_not_equal(first, location[1]);
	assert_int_equal(lwm2m_server_count(srv), 1);
	assert_null(lwm2m_server_find_id(srv, first));
	assert_int_equal(last_reason, LWM2M_DEREG_REPLACED);
	assert_int_equal(registered_calls, 2);
}

static void test_lifetime_expiry(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1&lt=10", links, 1000),
			 COAP_CODE_CREATED);
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev2&lt=20", links, 1000),
			 COAP_CODE_CREATED);
	assert_int_equal(lwm2m_server_next_deadline(srv), 11000);
	lwm2m_server_tick(srv, 10999);
	assert_int_equal(lwm2m_server_count(srv), 2);
	lwm2m_server_tick(srv, 11000);
	assert_int_equal(lwm2m_server_count(srv), 1);
	assert_int_equal(last_reason, LWM2M_DEREG_EXPIRED);
	assert_null(lwm2m_server_find_endpoint(srv, "dev1"));
	lwm2m_server_tick(srv, 100000);
	assert_int_equal(lwm2m_server_count(srv), 0);
	assert_int_equal(lwm2m_server_next_deadline(srv), INT64_MAX);
	assert_int_equal(lwm2m_server_stats(srv)->expirations, 2);
}

/* Updates move expiries both ways: later ones are found at the old time and re-queued,
 * an earlier one (a shorter lifetime) is queued at once. */
static void test_update_moves_expiry(void **state)
{
	struct lwm2m_server *srv = *state;
	assert_int_equal(call(srv, COAP_CODE_POST, "rd", "ep=dev1&lt=100", links, 0),
			 COAP_CODE_CREATED);
	char path[32];
	snprintf(path, sizeof(path), "rd/%s", lwm2m_server_find_endpoint(srv, "dev1")->id);
	for (int64_t t = 50000; t <= 250000; t += 50000) /* every 50 s: never expires */
		assert_int_equal(call(srv, COAP_CODE_POST, path, NULL, NULL, t), COAP_CODE_CHANGED);
	for (int64_t t = 0; t <= 349999; t += 1000)
		lwm2m_server_tick(srv, t);
	assert_int_equal(lwm2m_server_count(srv), 1);
	assert_int_equal(lwm2m_server_stats(srv)->expirations, 0);
	/* Shortened to 5 s at 300 s: ends at 305 s, not at 350 s. */
	assert_int_equal(call(srv, COAP_CODE_POST, path, "lt=5", NULL, 300000), COAP_CODE_CHANGED);
	assert_int_equal(lwm2m_server_next_deadline(srv), 305000);
	lwm2m_server_tick(srv, 304999);
	assert_int_equal(lwm2m_server_count(srv), 1);
	lwm2m_server_tick(srv, 305000);
	assert_int_equal(lwm2m_server_count(srv), 0);
	assert_int_equal(last_reason, LWM2M_DEREG_EXPIRED);
}

static void test_restore(void **state)
{
	struct lwm2m_server *srv = *state;
	struct lwm2m_registration r;
	memset(&r, 0, sizeof(r));
	strcpy(r.endpoint, "dev9");
	strcpy(r.id, "AbCdEfGhIj");
	r.lifetime = 100;
	strcpy(r.binding, "U");
	strcpy(r.version, "1.1");
	r.links = "</1/0>";
	r.updated_at_ms = 5000;
	assert_int_equal(lwm2m_server_restore(srv, &r), 0);
	assert_int_equal(lwm2m_server_restore(srv, &r), -EEXIST);
	assert_int_equal(registered_calls, 0);
	struct lwm2m_registration *got = lwm2m_server_find_id(srv, "AbCdEfGhIj");
	assert_non_null(got);
	assert_ptr_not_equal(got->links, r.links);
	assert_string_equal(got->links, "</1/0>");
	assert_int_equal(lwm2m_server_next_deadline(srv), 105000);
	/* The restored registration accepts its Update. */
	assert_int_equal(call(srv, COAP_CODE_POST, "rd/AbCdEfGhIj", NULL, NULL, 6000),
			 COAP_CODE_CHANGED);
	strcpy(r.id, "short");
	strcpy(r.endpoint, "dev10");
	assert_int_equal(lwm2m_server_restore(srv, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_with_parameters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_content_format_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_and_deregister, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_over_other_transport_is_not_found,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_again_replaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_moves_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifetime_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restore, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
