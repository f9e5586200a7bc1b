/*
 * model: LwM2M object definitions — which resources an object has, their types, whether
 * they are multiple-instance, and which operations they allow.
 *
 * The core objects (0 Security, 1 Server, 2 Access Control, 3 Device, 4 Connectivity
 * Monitoring, 5 Firmware Update, 6 Location, 7 Connectivity Statistics, 19 BinaryAppData
 * Container) are built in, written from the OMA LwM2M 1.1 specification and the OMA
 * registry's object definitions. Unknown objects and resources are not errors: their
 * values stay untyped (LWM2M_TYPE_NONE) and content/ decodes them as opaque or strings.
 */
#ifndef LWM2MD_MODEL_H
#define LWM2MD_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "content/content.h"

enum model_ops {
	MODEL_OP_R = 1,
	MODEL_OP_W = 2,
	MODEL_OP_E = 4,
};

struct model_resource {
	uint16_t id;
	const char *name;
	uint8_t type;     /* enum lwm2m_type; NONE for executable resources */
	uint8_t ops;      /* enum model_ops */
	bool multiple;
	bool mandatory;
};

struct model_object {
	uint16_t id;
	const char *name;
	const char *version; /* object version, e.g. "1.1" */
	bool multiple;       /* multiple instances */
	bool mandatory;
	size_t resource_count;
	const struct model_resource *resources;
};

/*
 * Loads an object definition in OMA's DDF XML (the LwM2M registry's format) from text. A
 * loaded object replaces the built-in one of the same id. Returns 0, -EBADMSG (not XML,
 * or no ObjectID / resource IDs out of range / unknown types: err says what), -EEXIST
 * (an object of that id was loaded already), -ENOMEM.
 */
int model_load_ddf(const char *xml, size_t len, char *err, size_t err_cap);
/* Loads every *.xml file of a directory; returns how many, or a negative errno (the
 * first failing file is logged and named in err). */
int model_load_dir(const char *dir, char *err, size_t err_cap);
/* Whether object id was loaded from a DDF file (rather than built in). */
bool model_is_loaded(uint16_t id);
/* Forgets every loaded object (tests; shutdown). */
void model_unload_all(void);

/* The object with this id (loaded, else built in), or NULL. */
const struct model_object *model_object(uint16_t id);
/* The resource of an object, or NULL. */
const struct model_resource *model_resource(const struct model_object *obj, uint16_t id);
/* Every built-in object, in id order: *count gets how many. */
const struct model_object *model_objects(size_t *count);
/* Calls fn for every object the server knows (loaded ones, then the built-in ones they do
 * not replace), in no particular order. */
void model_each(void (*fn)(const struct model_object *obj, bool loaded, void *ctx), void *ctx);

/* A content_type_fn over the built-in models (ctx unused). */
enum lwm2m_type model_type_of(void *ctx, uint16_t obj, uint16_t res, bool *multiple);

/* "string", "integer", ... for the API; "none" for NONE. */
const char *model_type_name(uint8_t type);
/* The inverse; returns -1 for an unknown name. */
int model_type_parse(const char *name);

#endif
