/*
 * api_lwm2m_composite: POST /v5/iot/{project}/devices/{device}/lwm2m-composite — Read-,
 * Observe- and Write-Composite (Core §6.3.8, §6.4.4, §6.3.9) in SenML JSON or SenML CBOR:
 *   {"operation":"read"|"observe","paths":["/3/0/9","/1/0/1"],"format":"senml-cbor"}
 *   {"operation":"write","values":[{"path":"/1/0/1","value":300}, …]}
 * and the active cancellation of an Observe-Composite (Core §6.4.5), which
 * api_observations_cancel hands over.
 */
#include "api/api_lwm2m_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

/* The paths of a read or observe, into paths (LWM2M_OBSERVE_PATHS_MAX). Returns the
 * count, or -1 with the 400 set. */
static int read_paths(struct api_call *c, const json_t *body, struct lwm2m_path *paths)
{
	const json_t *list = json_object_get(body, "paths");
	const json_t *item;
	size_t n = json_array_size(list), i;
	if (!json_is_array(list) || n == 0 || n > LWM2M_OBSERVE_PATHS_MAX) {
		api_reply_error(c, 400, "paths must be an array of 1-%d LwM2M paths",
				LWM2M_OBSERVE_PATHS_MAX);
		return -1;
	}
	json_array_foreach(list, i, item)
	{
		const char *p = json_string_value(item);
		if (!p || lwm2m_path_parse(p, strlen(p), &paths[i]) != 0 || paths[i].len == 0) {
			api_reply_error(c, 400, "paths[%zu] is not an LwM2M path", i);
			return -1;
		}
	}
	return (int)n;
}

void api_lwm2m_composite(struct api_call *c)
{
	struct api_dm_target t = { .format = CONTENT_SENML_JSON };
	if (api_dm_device(c, &t) != 0)
		return;
	json_t *body = api_body_object(c);
	if (!body)
		return;
	const char *op = json_string_value(json_object_get(body, "operation"));
	const char *f = json_string_value(json_object_get(body, "format"));
	struct lwm2m_path paths[LWM2M_OBSERVE_PATHS_MAX];
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	uint8_t *payload = malloc(LWM2M_DM_MAX_BODY);
	int rc = 0;
	if (!payload) {
		api_reply_error(c, 503, "out of memory");
		goto out;
	}
	if (f && (t.format = api_format_parse(f)) != CONTENT_SENML_JSON &&
	    t.format != CONTENT_SENML_CBOR) {
		api_reply_error(c, 400, "format: composite operations use senml-json or senml-cbor");
		goto out;
	}
	struct lwm2m_dm_request dm = { .accept = t.format, .content_format = t.format,
				       .payload = payload };
	struct lwm2m_observe_request observe = { .format = t.format, .paths = paths };
	if (op && (strcmp(op, "read") == 0 || strcmp(op, "observe") == 0)) {
		dm.op = op[0] == 'r' ? LWM2M_OP_READ_COMPOSITE : LWM2M_OP_OBSERVE_COMPOSITE;
		int n = read_paths(c, body, paths);
		if (n < 0)
			goto out;
		observe.path_count = (size_t)n;
		rc = content_encode_paths((uint16_t)t.format, paths, (size_t)n, payload,
					  LWM2M_DM_MAX_BODY);
	} else if (op && strcmp(op, "write") == 0) {
		dm.op = LWM2M_OP_WRITE_COMPOSITE;
		dm.accept = -1;
		struct lwm2m_path root = { .len = 0 };
		if (api_dm_read_values(c, body, &root, false, NULL, &values) != 0)
			goto out;
		rc = content_encode((uint16_t)t.format, &root, &values, model_type_of, NULL,
				    payload, LWM2M_DM_MAX_BODY);
	} else {
		api_reply_error(c, 400, "operation must be read, observe or write");
		goto out;
	}
	if (rc < 0) {
		api_reply_error(c, rc == -ENOBUFS ? 413 : 400, "the request cannot be encoded%s",
				rc == -ENOBUFS ? ": over 65536 bytes" : "");
		goto out;
	}
	dm.payload_len = (size_t)rc;
	t.path.len = 0;
	api_dm_send(c, &t, &dm, dm.op == LWM2M_OP_OBSERVE_COMPOSITE ? &observe : NULL);
out:
	free(payload);
	lwm2m_values_free(&values);
	json_decref(body);
}

void api_dm_cancel_composite(struct api_call *c, struct api_dm_target *t,
			     const struct lwm2m_observation *o)
{
	/* Core §6.4.5 and RFC 7641 §3.6: FETCH with Observe 1 and the observation's token,
	 * every other option and the payload as in the Observe-Composite — the same paths,
	 * in the same format (64 paths of at most 25 characters fit). */
	uint8_t payload[4096];
	if (o->path_count == 0 || o->format < 0) {
		api_reply_error(c, 400, "observation %llu was stored without its paths (by an "
					"older version); cancel it with ?mode=passive",
				(unsigned long long)o->id);
		return;
	}
	int n = content_encode_paths((uint16_t)o->format, o->paths, o->path_count, payload,
				     sizeof(payload));
	if (n < 0) {
		api_reply_error(c, 500, "the observation's paths cannot be encoded");
		return;
	}
	struct lwm2m_dm_request dm = { .op = LWM2M_OP_OBSERVE_COMPOSITE_CANCEL,
				       .accept = o->format, .content_format = o->format,
				       .payload = payload, .payload_len = (size_t)n,
				       .token = o->token, .token_len = o->token_len };
	t->path.len = 0;
	api_dm_send(c, t, &dm, NULL);
}
