/*
 * api_examples: a product's codec examples (docs/api.md "Codec examples"), the sample
 * payloads whoever works on the product's codec tries it on — kept with the product, so
 * that everyone using the console sees the same ones.
 *
 *   GET /v5/iot/{p}/products/{id}/codec/examples  {"examples":[{"name","payload_hex"}]}
 *   PUT the same body: replaces them all
 *
 * Bounded (API_EXAMPLES_MAX of at most API_EXAMPLE_HEX_MAX hex digits, about 42 KB) since
 * they live in the product's row; only name and payload_hex are kept.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_platform.h"

#define API_EXAMPLES_MAX 20
#define API_EXAMPLE_NAME_MAX 64
/* 1024 bytes: what a device's payload, and so a codec test, may hold (CODEC_MAX_PAYLOAD). */
#define API_EXAMPLE_HEX_MAX 2048

static void reply_examples(struct api_call *c, unsigned status, const char *json)
{
	json_t *examples = json_loads(json, 0, NULL);
	if (!json_is_array(examples)) {
		json_decref(examples);
		examples = json_array(); /* a row written by hand: shown as none */
	}
	api_reply(c, status, json_pack("{s:o}", "examples", examples));
}

void api_examples_get(struct api_call *c)
{
	char *json = NULL;
	int rc = store_product_examples_get(c->api->deps.store, c->project_id, c->id, &json);
	if (rc) {
		api_reply_store_error(c, rc, "product");
		return;
	}
	reply_examples(c, 200, json);
	free(json);
}

/* Checks one string member of examples[i]; 0, or -EINVAL with the 400 set. */
static int check_member(struct api_call *c, size_t i, const json_t *item, const char *key,
			size_t min, size_t max, enum api_str_rule rule, const char **out)
{
	char name[48];
	struct api_err err;
	snprintf(name, sizeof(name), "examples[%zu].%s", i, key);
	const json_t *v = json_object_get(item, key);
	if (!json_is_string(v)) {
		api_reply_error(c, 400, "%s must be a string", name);
		return -EINVAL;
	}
	if (api_check_string(name, json_string_value(v), json_string_length(v), min, max, rule,
			     &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

/* The body's examples, checked, as the list to store; NULL with the 400 set. */
static json_t *read_examples(struct api_call *c, const json_t *body)
{
	const json_t *list = json_object_get(body, "examples");
	if (!json_is_array(list)) {
		api_reply_error(c, 400, "examples must be an array");
		return NULL;
	}
	if (json_array_size(list) > API_EXAMPLES_MAX) {
		api_reply_error(c, 400, "examples may hold at most %d examples, not %zu",
				API_EXAMPLES_MAX, json_array_size(list));
		return NULL;
	}
	json_t *out = json_array();
	size_t i;
	const json_t *item;
	json_array_foreach(list, i, item) {
		const char *name, *hex;
		if (!json_is_object(item)) {
			api_reply_error(c, 400, "examples[%zu] must be an object", i);
			goto fail;
		}
		if (check_member(c, i, item, "name", 1, API_EXAMPLE_NAME_MAX, API_STR_ANY, &name) ||
		    check_member(c, i, item, "payload_hex", 0, API_EXAMPLE_HEX_MAX, API_STR_HEX,
				 &hex))
			goto fail;
		/* The console picks an example by its name. */
		for (size_t k = 0; k < i; k++) {
			const char *other =
				json_string_value(json_object_get(json_array_get(out, k), "name"));
			if (other && strcmp(other, name) == 0) {
				api_reply_error(c, 400, "examples[%zu].name is used by examples[%zu]", i,
						k);
				goto fail;
			}
		}
		if (json_array_append_new(out, json_pack("{s:s, s:s}", "name", name, "payload_hex",
							 hex)) != 0) {
			api_reply_error(c, 500, "out of memory");
			goto fail;
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

void api_examples_put(struct api_call *c)
{
	json_t *body = api_body_object(c);
	if (!body)
		return;
	json_t *examples = read_examples(c, body);
	char *text = examples ? json_dumps(examples, JSON_COMPACT) : NULL;
	if (examples && !text) {
		api_reply_error(c, 500, "out of memory");
	} else if (text) {
		int rc = store_product_examples_set(c->api->deps.store, c->project_id, c->id, text);
		if (rc)
			api_reply_store_error(c, rc, "product");
		else
			reply_examples(c, 200, text);
	}
	free(text);
	json_decref(examples);
	json_decref(body);
}
