/*
 * api_token: the caller's token and its project's tokens (docs/api.md "Tokens").
 *
 * GET /v5/token says which project the caller's X-Auth-Token belongs to (and the token's
 * id): a token belongs to exactly one project, so a client that holds only the token (the
 * console's sign-in) learns the project from it instead of being told. The check is
 * api_http.c's, as for every route: an unknown token is a 401, an expired one too.
 *
 * GET, POST /v5/iot/{p}/tokens and DELETE /v5/iot/{p}/tokens/{id} manage the project's
 * tokens with any of its tokens. A token is shown once, in the answer that creates it:
 * the store keeps only its hash. A revocation is effective at once, the token's open
 * event streams included (api_events_close_token).
 *
 * Every authenticated request verifies its token, and a lookup in the store costs more
 * than a device GET's own read (a read transaction of its own: file locks). So a token
 * found is kept, by its hash (never the token itself), for API_TOKEN_CACHE_MS: a
 * revocation through the API forgets it at once; one by `lwm2md token revoke`, another
 * process on the same database, is seen within that bound (docs/api.md "Tokens"). An
 * unknown token is never kept: each try asks the store, as before.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "util/log.h"
#include "util/str.h"
#include "util/timefmt.h"

/* How stale a token's last_used may get, in seconds. */
#define TOKEN_TOUCH_S 60

/* The slot of a hash: its first 32 bits (hex), a uniform draw since it is a SHA-256. */
static struct api_token_cached *cache_slot(struct api_server *api, const char *hash)
{
	uint32_t v = 0;
	for (int i = 0; i < 8 && hash[i]; i++) {
		char ch = hash[i];
		v = v << 4 | (uint32_t)(ch <= '9' ? ch - '0' : (ch | 0x20) - 'a' + 10);
	}
	return &api->token_cache[v % API_TOKEN_CACHE_SLOTS];
}

int api_token_verify(struct api_server *api, const char *hash, struct store_token *t)
{
	struct api_token_cached *slot = cache_slot(api, hash);
	uint64_t now_ms = uv_now(api->loop);
	bool fresh = strcmp(slot->hash, hash) == 0 && now_ms - slot->read_ms < API_TOKEN_CACHE_MS;
	if (fresh) {
		*t = slot->t;
	} else {
		slot->hash[0] = '\0';
		int rc = store_token_lookup(api->deps.store, hash, t);
		if (rc)
			return rc;
		str_copy(slot->hash, sizeof(slot->hash), hash);
		slot->t = *t;
		slot->read_ms = now_ms;
	}
	/* When it was last used, to the minute: one write a minute at most per token (the
	 * answer that makes it waits for the turn's commit, as every write's does). */
	int64_t now = (int64_t)time(NULL);
	if (now - t->last_used >= TOKEN_TOUCH_S) {
		if (store_token_touch(api->deps.store, hash, now) == 0)
			slot->t.last_used = t->last_used = now;
		else
			LOG_WARN("api", "a token's last use was not recorded");
	}
	return 0;
}

/* Drops a revoked token from the cache: its next request asks the store. */
static void cache_forget(struct api_server *api, const char *hash)
{
	struct api_token_cached *slot = cache_slot(api, hash);
	if (strcmp(slot->hash, hash) == 0)
		slot->hash[0] = '\0';
}

/* A project's tokens are bounded, as its forwarding rules are. */
#define TOKENS_PER_PROJECT_MAX 100
/* Ten years: an expiry further out is a mistake rather than a plan. */
#define EXPIRES_IN_MAX (10LL * 366 * 86400)

static json_t *token_json(const struct store_token *t)
{
	char created[API_TIME_MAX], expires[API_TIME_MAX], used[API_TIME_MAX];
	json_t *o = json_object();
	if (!o)
		return NULL;
	int rc = json_object_set_new(o, "token_id", json_string(t->token_id));
	rc |= json_object_set_new(o, "name", api_json_str(t->name));
	rc |= json_object_set_new(o, "project_id", api_json_str(t->project_id));
	rc |= json_object_set_new(o, "create_time",
				  json_string(api_format_time(t->create_time, created)));
	rc |= json_object_set_new(o, "expire_time",
				  t->expire_time > 0
					  ? json_string(api_format_time(t->expire_time, expires))
					  : json_null());
	rc |= json_object_set_new(o, "last_used_time",
				  t->last_used > 0 ? json_string(api_format_time(t->last_used, used))
						   : json_null());
	if (rc) {
		json_decref(o);
		return NULL;
	}
	return o;
}

void api_token_get(struct api_call *c)
{
	api_reply(c, 200,
		  json_pack("{s:s,s:s}", "project_id", c->project_id, "token_id", c->token_id));
}

struct list_ctx {
	json_t *tokens;
	const char *mine;
};

static int list_one(void *ctx, const struct store_token *t)
{
	struct list_ctx *l = ctx;
	json_t *o = token_json(t);
	if (!o || json_object_set_new(o, "current", json_boolean(strcmp(t->token_id, l->mine) == 0)))
		goto oom;
	if (json_array_append_new(l->tokens, o) == 0)
		return 0;
	o = NULL;
oom:
	json_decref(o);
	return -ENOMEM;
}

void api_tokens_list(struct api_call *c)
{
	struct list_ctx l = {json_array(), c->token_id};
	if (!l.tokens) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	int rc = store_token_list(c->api->deps.store, c->project_id, list_one, &l);
	if (rc) {
		json_decref(l.tokens);
		api_reply_store_error(c, rc, "tokens");
		return;
	}
	api_reply(c, 200,
		  json_pack("{s:o,s:I}", "tokens", l.tokens, "count",
			    (json_int_t)json_array_size(l.tokens)));
}

static int count_one(void *ctx, const struct store_token *t)
{
	(void)t;
	(*(int *)ctx)++;
	return 0;
}

void api_tokens_create(struct api_call *c)
{
	json_t *body = c->body_len ? api_body_object(c) : json_object();
	if (!body) {
		if (c->status == 0)
			api_reply_error(c, 500, "out of memory");
		return;
	}
	struct store_token t;
	memset(&t, 0, sizeof(t));
	str_copy(t.project_id, sizeof(t.project_id), c->project_id);
	int64_t now = (int64_t)time(NULL), expires_in = 0;
	int rc = api_field_string(c, body, "name", 0, STORE_TOKEN_NAME_MAX, API_STR_ANY, t.name,
				  sizeof(t.name), false);
	if (rc == -EINVAL)
		goto out;
	rc = api_field_int(c, body, "expires_in", 1, EXPIRES_IN_MAX, &expires_in);
	if (rc == -EINVAL)
		goto out;
	if (rc == 0)
		t.expire_time = now + expires_in;
	char when[API_TIME_MAX + 1];
	rc = api_field_string(c, body, "expire_time", 16, 16, API_STR_ANY, when, sizeof(when),
			      false);
	if (rc == -EINVAL)
		goto out;
	if (rc == 0) {
		int64_t at = time_parse(when);
		if (t.expire_time) {
			api_reply_error(c, 400, "give expires_in or expire_time, not both");
			goto out;
		}
		if (at < 0 || at <= now || at - now > EXPIRES_IN_MAX) {
			api_reply_error(c, 400, "expire_time must be a time to come, as "
						"yyyyMMddTHHmmssZ (UTC), within ten years");
			goto out;
		}
		t.expire_time = at;
	}
	int count = 0;
	rc = store_token_list(c->api->deps.store, c->project_id, count_one, &count);
	if (rc) {
		api_reply_store_error(c, rc, "tokens");
		goto out;
	}
	if (count >= TOKENS_PER_PROJECT_MAX) {
		api_reply_error(c, 400, "a project has at most %d tokens; revoke one first",
				TOKENS_PER_PROJECT_MAX);
		goto out;
	}
	char secret[TOKEN_HEX_LEN + 1], hash[TOKEN_HEX_LEN + 1];
	if (token_random_hex(secret, sizeof(secret), TOKEN_HEX_LEN / 2) != 0) {
		api_reply_error(c, 500, "no randomness for a token");
		goto out;
	}
	token_hash(secret, hash);
	rc = store_token_add(c->api->deps.store, &t, hash);
	if (rc) {
		api_reply_store_error(c, rc, "token");
		goto out;
	}
	json_t *o = token_json(&t);
	if (o && json_object_set_new(o, "token", json_string(secret)) != 0) {
		json_decref(o);
		o = NULL;
	}
	api_reply(c, 201, o);
out:
	json_decref(body);
}

void api_tokens_delete(struct api_call *c)
{
	char hash[STORE_TOKEN_HASH_MAX + 1] = "";
	int rc = store_token_delete(c->api->deps.store, c->project_id, c->id, hash);
	if (rc) {
		api_reply_store_error(c, rc, "token");
		return;
	}
	cache_forget(c->api, hash);
	api_events_close_token(c->api, hash);
	api_reply(c, 204, NULL);
}
