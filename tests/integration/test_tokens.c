/*
 * Integration test: a project's tokens (docs/api.md "Tokens") — listed, created (shown
 * once), revoked through the API, a revocation effective at once, the token's open event
 * stream included; an expired token is a 401 and its stream ends; and the daemon binary's
 * subcommands on the database (lwm2md token list|create|revoke, project
 * list|create|delete), a revocation there ending the token's stream within seconds, a
 * project with products refused deletion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"

/* The string value of "name":"..." in json (a crude lookup), copied into out. */
static void field(const char *json, const char *name, char *out, size_t cap)
{
	char key[64];
	snprintf(key, sizeof(key), "\"%s\":\"", name);
	const char *p = strstr(json, key);
	if (!p)
		fail_msg("no %s in %s", name, json);
	p += strlen(key);
	size_t n = strcspn(p, "\"");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* Creates a token through the API (body as given): its secret and id. */
static void create_token(struct daemon_proc *d, const char *body, char secret[80],
			 char id[32])
{
	char resp[2048];
	assert_int_equal(http_call(d, "POST", "/v5/iot/p1/tokens", body, resp, sizeof(resp)),
			 201);
	field(resp, "token", secret, 80);
	field(resp, "token_id", id, 32);
	assert_int_equal(strlen(secret), 64);
}

/* An event stream opened with token instead of the harness's. */
static void stream_open_as(struct stream *s, struct daemon_proc *d, const char *token)
{
	char saved[sizeof(d->token)];
	memcpy(saved, d->token, sizeof(saved));
	snprintf(d->token, sizeof(d->token), "%s", token);
	stream_open(s, d, "");
	memcpy(d->token, saved, sizeof(saved));
	assert_int_equal(stream_wait(s, ": lwm2md events", 3000), 0);
}

/* The end of a chunked response: the daemon ended the stream. */
#define STREAM_END "\r\n0\r\n\r\n"

static void test_list_create_revoke(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[4096], secret[80], id[32], mine[32];
	daemon_start(&d, NULL);

	/* The harness's token: listed, marked as the caller's, without any secret. */
	assert_int_equal(http_call(&d, "GET", "/v5/token", NULL, resp, sizeof(resp)), 200);
	field(resp, "token_id", mine, sizeof(mine));
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/tokens", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"count\":1");
	assert_in(resp, mine);
	assert_in(resp, "\"current\":true");
	assert_null(strstr(resp, d.token));
	assert_null(strstr(resp, "\"token\""));

	/* Created with a name and an expiry; shown once; never used yet; it works at once. */
	create_token(&d, "{\"name\":\"ci runner\",\"expires_in\":86400}", secret, id);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/tokens", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"last_used_time\":null");
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 200);
	assert_in(resp, id);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/iot/p1/products", NULL, secret, resp,
					sizeof(resp)),
			 200);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/tokens", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"count\":2");
	assert_in(resp, "\"name\":\"ci runner\"");
	assert_null(strstr(resp, secret));
	assert_null(strstr(resp, "\"last_used_time\":null")); /* both were used now */

	/* Bad requests. */
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/tokens", "{\"expires_in\":0}", resp,
				   sizeof(resp)),
			 400);
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/tokens",
				   "{\"expire_time\":\"20200101T000000Z\"}", resp, sizeof(resp)),
			 400);
	assert_int_equal(http_call(&d, "POST", "/v5/iot/p1/tokens", "{\"name\":7}", resp,
				   sizeof(resp)),
			 400);
	/* An empty body is a token without name or expiry. */
	char secret2[80], id2[32];
	create_token(&d, NULL, secret2, id2);
	assert_int_equal(http_call(&d, "DELETE", "/v5/iot/p1/tokens/nope", NULL, resp,
				   sizeof(resp)),
			 404);

	/* Revoked: refused at once; revoking again is a 404. A token may revoke itself. */
	char path[128];
	snprintf(path, sizeof(path), "/v5/iot/p1/tokens/%s", id);
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 401);
	assert_in(resp, "X-Auth-Token is not valid");
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 404);
	snprintf(path, sizeof(path), "/v5/iot/p1/tokens/%s", id2);
	assert_int_equal(http_call_auth(&d, "DELETE", path, NULL, secret2, resp, sizeof(resp)),
			 204);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret2, resp, sizeof(resp)),
			 401);

	/* Another project's token sees none of these. */
	char out[512], cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s token create --db %s --project p2 2>/dev/null",
		 getenv("LWM2MD_BIN"), d.db);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	out[strcspn(out, "\n")] = '\0';
	assert_int_equal(http_call_auth(&d, "GET", "/v5/iot/p1/tokens", NULL, out, resp,
					sizeof(resp)),
			 404);
	assert_int_equal(http_call_auth(&d, "DELETE", "/v5/iot/p2/tokens/x", NULL, d.token, resp,
					sizeof(resp)),
			 404);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/tokens", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"count\":1");
	daemon_cleanup(&d);
}

static void test_revoke_closes_stream(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[2048], secret[80], id[32], path[128];
	daemon_start(&d, NULL);
	create_token(&d, "{\"name\":\"viewer\"}", secret, id);
	static struct stream theirs, ours;
	stream_open_as(&theirs, &d, secret);
	stream_open(&ours, &d, "");
	assert_int_equal(stream_wait(&ours, ": lwm2md events", 3000), 0);

	snprintf(path, sizeof(path), "/v5/iot/p1/tokens/%s", id);
	assert_int_equal(http_call(&d, "DELETE", path, NULL, resp, sizeof(resp)), 204);
	/* At once, not at the next heartbeat; the other token's stream stays. */
	assert_int_equal(stream_wait(&theirs, STREAM_END, 500), 0);
	assert_int_equal(stream_wait(&ours, STREAM_END, 300), -1);
	close(theirs.fd);
	close(ours.fd);
	daemon_cleanup(&d);
}

static void test_expired(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[2048], secret[80], id[32];
	daemon_start(&d, NULL);
	create_token(&d, "{\"expires_in\":2}", secret, id);
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/tokens", NULL, resp, sizeof(resp)), 200);
	assert_in(resp, "\"expire_time\":\"2");
	static struct stream s;
	stream_open_as(&s, &d, secret);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 200);
	/* Its stream ends when it expires (the sweep checks every second). */
	assert_int_equal(stream_wait(&s, STREAM_END, 5000), 0);
	close(s.fd);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 401);
	assert_in(resp, "X-Auth-Token has expired");
	daemon_cleanup(&d);
}

/* Runs `lwm2md ARGS --db DB`, its stdout and stderr into out: its exit status. */
static int lwm2md(const struct daemon_proc *d, const char *args, char *out, size_t cap)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "%s %s --db %s 2>&1", getenv("LWM2MD_BIN"), args, d->db);
	return run_command(cmd, out, cap, 30);
}

static void test_cli(void **state)
{
	(void)state;
	struct daemon_proc d;
	char resp[4096], out[4096], secret[80], id[32];
	daemon_start(&d, NULL);
	api_create_product(&d, "meter");

	/* Created on the database while the daemon runs: the daemon takes it at once. */
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "%s token create --db %s --project p1 --name cli --expires 7d 2>/dev/null",
		 getenv("LWM2MD_BIN"), d.db);
	assert_int_equal(run_command(cmd, out, sizeof(out), 30), 0);
	out[strcspn(out, "\n")] = '\0';
	snprintf(secret, sizeof(secret), "%.64s", out);
	assert_int_equal(strlen(secret), 64);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 200);
	field(resp, "token_id", id, sizeof(id));

	/* Listed with its id, project, name and expiry; never a secret. */
	assert_int_equal(lwm2md(&d, "token list --project p1", out, sizeof(out)), 0);
	assert_in(out, id);
	assert_in(out, "cli");
	assert_null(strstr(out, secret));
	assert_null(strstr(out, d.token));

	/* Revoked from the command line: the daemon refuses it within half a second (it keeps
	 * a token it verified that long: API_TOKEN_CACHE_MS; docs/api.md "Tokens"), and ends
	 * its open stream within seconds. Twice the bound, for a loaded machine. */
	static struct stream s;
	stream_open_as(&s, &d, secret);
	char args[128];
	snprintf(args, sizeof(args), "token revoke %s", id);
	assert_int_equal(lwm2md(&d, args, out, sizeof(out)), 0);
	usleep(1000 * 1000);
	assert_int_equal(http_call_auth(&d, "GET", "/v5/token", NULL, secret, resp, sizeof(resp)),
			 401);
	assert_int_equal(stream_wait(&s, STREAM_END, 8000), 0);
	close(s.fd);
	assert_int_not_equal(lwm2md(&d, args, out, sizeof(out)), 0);
	assert_in(out, "no token");

	/* Projects: a project with a product is not deleted, and says why. */
	assert_int_equal(lwm2md(&d, "project create p9", out, sizeof(out)), 0);
	assert_int_not_equal(lwm2md(&d, "project create p9", out, sizeof(out)), 0);
	assert_in(out, "already exists");
	assert_int_equal(lwm2md(&d, "project list", out, sizeof(out)), 0);
	assert_in(out, "p1 ");
	assert_in(out, "p9 ");
	assert_int_not_equal(lwm2md(&d, "project delete p1", out, sizeof(out)), 0);
	assert_in(out, "still has products or devices");
	assert_int_equal(http_call(&d, "GET", "/v5/iot/p1/products/meter", NULL, resp,
				   sizeof(resp)),
			 200);
	assert_int_equal(lwm2md(&d, "project delete p9", out, sizeof(out)), 0);
	assert_int_not_equal(lwm2md(&d, "project delete p9", out, sizeof(out)), 0);
	assert_in(out, "no project p9");
	/* An expiry as a date (UTC), listed as the API writes times. */
	assert_int_equal(lwm2md(&d, "token create --project p1 --expires 2099-01-31T12:00:00Z",
				out, sizeof(out)),
			 0);
	assert_int_equal(lwm2md(&d, "token list", out, sizeof(out)), 0);
	assert_in(out, "20990131T120000Z");
	/* Bad usage is exit status 2. */
	assert_int_equal(lwm2md(&d, "token create --expires soon --project p1", out, sizeof(out)),
			 2);
	assert_int_equal(lwm2md(&d, "token create --expires 2020-01-01 --project p1", out,
				sizeof(out)),
			 2);
	assert_int_equal(lwm2md(&d, "project frobnicate", out, sizeof(out)), 2);
	assert_in(out, "usage:");
	daemon_cleanup(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_create_revoke),
		cmocka_unit_test(test_revoke_closes_stream),
		cmocka_unit_test(test_expired),
		cmocka_unit_test(test_cli),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
