/*
 * api_models: the LwM2M object models the server knows — GET /v5/iot/{project}/models and
 * /models/{object_id} (docs/api.md, "Object models"): the built-in core objects and those
 * loaded from DDF files, which type the values of every Device Management call.
 */
#include "api/api_internal.h"

#include <stdlib.h>

#include "model/model.h"

static json_t *model_json(const struct model_object *obj, bool loaded, bool with_resources)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:b, s:b, s:s}", "object_id", obj->id, "name",
			      obj->name, "version", obj->version, "multiple_instances",
			      obj->multiple, "mandatory", obj->mandatory, "source",
			      loaded ? "ddf" : "built-in");
	if (!o || !with_resources)
		return o;
	json_t *list = json_array();
	for (size_t i = 0; list && i < obj->resource_count; i++) {
		const struct model_resource *r = &obj->resources[i];
		char ops[4];
		size_t n = 0;
		if (r->ops & MODEL_OP_R)
			ops[n++] = 'R';
		if (r->ops & MODEL_OP_W)
			ops[n++] = 'W';
		if (r->ops & MODEL_OP_E)
			ops[n++] = 'E';
		ops[n] = '\0';
		json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:s, s:b, s:b}", "id", r->id,
						      "name", r->name, "type",
						      model_type_name(r->type), "operations", ops,
						      "multiple_instances", r->multiple, "mandatory",
						      r->mandatory));
	}
	json_object_set_new(o, "resources", list);
	return o;
}

static void add_model(const struct model_object *obj, bool loaded, void *ctx)
{
	json_array_append_new(ctx, model_json(obj, loaded, false));
}

void api_models_list(struct api_call *c)
{
	json_t *list = json_array();
	if (list)
		model_each(add_model, list);
	api_reply(c, 200, json_pack("{s:o}", "models", list));
}

void api_models_get(struct api_call *c)
{
	char *end;
	long id = strtol(c->id, &end, 10);
	const struct model_object *obj =
		*end || id < 0 || id > LWM2M_ID_MAX ? NULL : model_object((uint16_t)id);
	if (!obj) {
		api_reply_error(c, 404, "object %s is not known (built in, or loaded with --models)",
				c->id);
		return;
	}
	api_reply(c, 200, model_json(obj, model_is_loaded((uint16_t)id), true));
}
