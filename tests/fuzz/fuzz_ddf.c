/*
 * libFuzzer target for object definitions in OMA DDF XML (src/model/model_ddf.c, expat):
 * the files an operator drops into the models directory, or a vendor ships.
 *
 * What must hold: model_load_ddf answers 0, -EBADMSG (with err saying why), -EEXIST or
 * -ENOMEM; an object it loads is then what model_object() gives for its id, with its
 * resources' ids in range and their types real LwM2M types, and model_type_of agrees with
 * it; loading the same text again is -EEXIST; after model_unload_all the built-in object
 * (or none) is back. Then a TLV payload is decoded against the loaded object, so that a
 * content decoder meets types and multiplicity that came from outside.
 *
 * Input: the XML, as is.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "content/content.h"
#include "fuzz_common.h"
#include "model/model.h"

struct found_loaded {
	const struct model_object *obj;
	size_t count;
};

static void note_loaded(const struct model_object *obj, bool loaded, void *ctx)
{
	struct found_loaded *f = ctx;
	if (loaded) {
		f->obj = obj;
		f->count++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	const char *xml = (const char *)data;
	int rc = model_load_ddf(xml, size, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EEXIST || rc == -ENOMEM, "load: %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(err[0] != '\0', "refused without a reason");
		FUZZ_CHECK(rc != -EEXIST, "nothing was loaded before");
		return 0;
	}
	/* The loaded object is the only one, so find it through model_each. */
	struct found_loaded f = { NULL, 0 };
	model_each(note_loaded, &f);
	const struct model_object *obj = f.obj;
	FUZZ_CHECK(f.count == 1 && obj && model_is_loaded(obj->id) && model_object(obj->id) == obj,
		   "%zu objects loaded", f.count);
	FUZZ_CHECK(obj->id <= LWM2M_ID_MAX && obj->name && obj->version, "object %u", obj->id);
	FUZZ_CHECK(obj->resource_count <= 1024 && (obj->resources || !obj->resource_count),
		   "%zu resources", obj->resource_count);
	for (size_t i = 0; i < obj->resource_count; i++) {
		const struct model_resource *r = &obj->resources[i];
		FUZZ_CHECK(r->id <= LWM2M_ID_MAX && r->name, "resource %zu", i);
		FUZZ_CHECK(r->type <= LWM2M_TYPE_CORELNK, "resource %u: type %u", r->id, r->type);
		FUZZ_CHECK((r->ops & ~(MODEL_OP_R | MODEL_OP_W | MODEL_OP_E)) == 0, "ops %u",
			   r->ops);
		const struct model_resource *found = model_resource(obj, r->id);
		FUZZ_CHECK(found && found->id == r->id, "resource %u not found", r->id);
		bool multiple = false;
		enum lwm2m_type t = model_type_of(NULL, obj->id, r->id, &multiple);
		FUZZ_CHECK(t == found->type && multiple == found->multiple,
			   "model_type_of says %u for resource %u of type %u", t, r->id,
			   found->type);
		FUZZ_CHECK(strlen(model_type_name(r->type)) > 0, "type name");
	}

	/* A device's TLV for an instance of it: one resource per model resource, 4 bytes. */
	uint8_t tlv[4 * 1024 * 7];
	size_t n = 0;
	for (size_t i = 0; i < obj->resource_count && i < 1024; i++) {
		uint16_t id = obj->resources[i].id;
		tlv[n++] = (uint8_t)(0xC0 | (id > 255 ? 0x20 : 0) | 4);
		if (id > 255)
			tlv[n++] = (uint8_t)(id >> 8);
		tlv[n++] = (uint8_t)id;
		memcpy(tlv + n, "\x00\x00\x00\x01", 4);
		n += 4;
	}
	struct lwm2m_path inst = { .len = 2, .ids = { obj->id, 0 } };
	struct lwm2m_values values;
	lwm2m_values_init(&values);
	rc = content_decode(CONTENT_TLV, &inst, tlv, n, model_type_of, NULL, &values);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -E2BIG, "decode: %d", rc);
	lwm2m_values_free(&values);

	FUZZ_CHECK(model_load_ddf(xml, size, err, sizeof(err)) == -EEXIST, "loaded twice");
	uint16_t id = obj->id;
	model_unload_all();
	FUZZ_CHECK(!model_is_loaded(id), "still loaded");
	return 0;
}
