/*
 * rules: the project's forwarding rules (push to applications; docs/api.md, "Push to
 * applications"); tokens: the project's API tokens (GET/POST /v5/iot/{p}/tokens,
 * DELETE /v5/iot/{p}/tokens/{id}).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

/* GET route and a table of the array member of its answer. */
static int list(struct ctl *c, const char *route, const char *member,
		const char *const *cols)
{
	struct ctl_resp r;
	ctl_call(c, "GET", route, NULL, 60, &r);
	int rc = ctl_check(&r, false);
	if (rc == CTL_OK && c->json) {
		ctl_print_raw(&r);
	} else if (rc == CTL_OK) {
		json_t *j = ctl_parse(&r);
		json_t *items = json_is_array(j) ? j : json_object_get(j, member);
		ctl_table(c, items, cols);
		json_decref(j);
	}
	ctl_resp_free(&r);
	return rc;
}

static int rules_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const cols[] = {
		"RULE_ID=rule_id",          "URL=url",           "EVENTS=events",
		"DELIVERED=stats.delivered", "FAILED=stats.failed", "BACKLOG=stats.backlog",
		"BREAKER=stats.breaker",    NULL,
	};
	return list(c, "/forwarding-rules", "rules", cols);
}

static int rules_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *body = json_pack("{s:s}", "url", a->pos[0]);
	const char *events = ctl_opt(a, "events");
	if (events) {
		json_t *list = json_array();
		for (const char *p = events; *p;) {
			size_t n = strcspn(p, ",");
			if (n)
				json_array_append_new(list, json_stringn(p, n));
			p += n + (p[n] == ',');
		}
		json_object_set_new(body, "events", list);
	}
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "POST", "/forwarding-rules", text, 60, &r);
	free(text);
	return ctl_print_answer(c, &r, false);
}

static int rules_delete(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "forwarding-rules", "rule");
}

static int tokens_list(struct ctl *c, const struct ctl_args *a)
{
	static const char *const cols[] = {
		"TOKEN_ID=token_id", "NAME=name", "CREATED=create_time", "LAST_USED=last_used_time",
		NULL,
	};
	return list(c, "/tokens", "tokens", cols);
}

/* tokens create [--name N]: the answer shows the token once. */
static int tokens_create(struct ctl *c, const struct ctl_args *a)
{
	json_t *body = json_object();
	if (ctl_opt(a, "name"))
		json_object_set_new(body, "name", json_string(ctl_opt(a, "name")));
	char *text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	struct ctl_resp r;
	ctl_call(c, "POST", "/tokens", text, 60, &r);
	free(text);
	return ctl_print_answer(c, &r, false);
}

static int tokens_revoke(struct ctl *c, const struct ctl_args *a)
{
	return ctl_delete_each(c, a, "tokens", "token");
}

const struct ctl_command ctl_rules_commands[] = {
	{ "rules", "list", rules_list, 0, 0, "", "", "list the forwarding rules", false },
	{ "rules", "create", rules_create, 1, 1, "events=", "URL [--events E,E...]",
	  "push events to an application's URL", false },
	{ "rules", "delete", rules_delete, 1, CTL_MAX_ARGS, "", "RULE_ID...",
	  "delete forwarding rules", false },
	{ "tokens", "list", tokens_list, 0, 0, "", "", "list the project's API tokens", false },
	{ "tokens", "create", tokens_create, 0, 0, "name=", "[--name NAME]",
	  "create an API token (shown once)", false },
	{ "tokens", "revoke", tokens_revoke, 1, CTL_MAX_ARGS, "", "TOKEN_ID...",
	  "revoke API tokens", false },
	{ NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, false },
};
