/*
 * libFuzzer target for product models (src/iot/product_model.c): the service_capabilities
 * documents applications upload, and the checks of reported properties, command paras and
 * resource mappings against an accepted model.
 *
 * Input: one JSON document. Its "service_capabilities" member (or, when it has none, the
 * whole document) is checked as a model; when the model is accepted, its "data" member is
 * checked as each service's reported properties, "paras" as each command's paras,
 * "resource_mappings" as the product's mappings, and the names in "names" are looked up.
 *
 * What must hold: every answer is 0 or -EINVAL, and -EINVAL always comes with a reason;
 * an accepted model has unique, non-empty service ids and command names, and each
 * definition's default_value passes the value check of its own definition; a lookup finds
 * only items with that name; a model accepted once is accepted again after a JSON round
 * trip (what the store keeps is the dumped text).
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "iot/product_model.h"

static void check_rc(int rc, const char *err, const char *what)
{
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "%s: %d", what, rc);
	if (rc)
		FUZZ_CHECK(err[0] != '\0', "%s refused without a reason", what);
}

static void check_defaults(const json_t *list, const char *what)
{
	size_t i;
	const json_t *def;
	json_array_foreach(list, i, def)
	{
		const json_t *dflt = json_object_get(def, "default_value");
		char err[256] = "";
		if (dflt && !json_is_null(dflt))
			FUZZ_CHECK(
			    product_model_check_value(def, dflt, "default", err, sizeof(err)) == 0,
			    "%s[%zu]: an accepted default_value fails its check: %s", what, i, err);
	}
}

static void check_service(const json_t *svc, const json_t *doc)
{
	char err[256] = "";
	const json_t *data = json_object_get(doc, "data");
	if (data) {
		int rc = product_model_check_properties(svc, data, err, sizeof(err));
		check_rc(rc, err, "check_properties");
	}
	check_defaults(json_object_get(svc, "properties"), "properties");
	size_t i;
	const json_t *cmd;
	json_array_foreach(json_object_get(svc, "commands"), i, cmd)
	{
		const char *name = json_string_value(json_object_get(cmd, "command_name"));
		FUZZ_CHECK(name && name[0] && name[0] != '$', "command_name");
		FUZZ_CHECK(product_model_command(svc, name) != NULL, "command %s not found", name);
		check_defaults(json_object_get(cmd, "paras"), "paras");
		err[0] = '\0';
		int rc =
		    product_model_check_paras(cmd, json_object_get(doc, "paras"), err, sizeof(err));
		check_rc(rc, err, "check_paras");
	}
	const json_t *names = json_object_get(doc, "names");
	const json_t *n;
	json_array_foreach(names, i, n)
	{
		const char *s = json_string_value(n);
		if (!s)
			continue;
		const json_t *p = product_model_property(svc, s);
		FUZZ_CHECK(
		    !p || strcmp(json_string_value(json_object_get(p, "property_name")), s) == 0,
		    "property lookup");
		const json_t *c = product_model_command(svc, s);
		FUZZ_CHECK(!c || strcmp(json_string_value(json_object_get(c, "command_name")), s) ==
				     0,
			   "command lookup");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	if (!doc)
		return 0;
	const json_t *caps = json_object_get(doc, "service_capabilities");
	if (!caps)
		caps = doc;
	char err[256] = "";
	int rc = product_model_check(caps, err, sizeof(err));
	check_rc(rc, err, "product_model_check");
	if (rc != 0)
		goto out;

	char *text = json_dumps(caps, JSON_COMPACT);
	json_t *again = text ? json_loads(text, 0, NULL) : NULL;
	err[0] = '\0';
	FUZZ_CHECK(!text || (again && product_model_check(again, err, sizeof(err)) == 0),
		   "the dumped model is refused: %s", err);
	free(text);
	json_decref(again);

	size_t i;
	const json_t *svc;
	json_array_foreach(caps, i, svc)
	{
		const char *id = json_string_value(json_object_get(svc, "service_id"));
		FUZZ_CHECK(id && id[0], "service_id");
		FUZZ_CHECK(product_model_service(caps, id) == svc ||
			       strlen(id) < json_string_length(json_object_get(svc, "service_id")),
			   "service %s is not found as itself", id);
		check_service(svc, doc);
	}
	const json_t *mappings = json_object_get(doc, "resource_mappings");
	if (mappings) {
		err[0] = '\0';
		rc = product_model_check_mappings(caps, mappings, err, sizeof(err));
		check_rc(rc, err, "check_mappings");
	}
out:
	json_decref(doc);
	return 0;
}
