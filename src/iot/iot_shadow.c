/*
 * iot_shadow: the device shadow (IoTDA's), one row per device and service.
 *
 * `reported` is what the device last said, merged report by report. `desired` is what
 * applications want set (PUT …/shadow, or the model's default_value at device creation).
 * A desired change travels as a "$properties" command (IOT_DESIRED_COMMAND) carrying the
 * desired properties the device does not report yet: through the product's codec like any
 * command, or, for a product without a codec, as LwM2M Writes of the mapped resources
 * (iot_mapped.c). It is queued like a delay command, so it goes when the device is next
 * reachable. While one is still PENDING, later changes fold into it rather than queue
 * another. A report that matches a desired value takes it out of `desired`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot/iot_platform_internal.h"
#include "iot/product_model.h"
#include "util/log.h"
#include "util/str.h"

/* A JSON object from the store's text ("{}" when it is not one). */
static json_t *load_object(const char *text)
{
	json_t *o = text ? json_loads(text, 0, NULL) : NULL;
	if (json_is_object(o))
		return o;
	json_decref(o);
	return json_object();
}

/* Whether a reported value is the desired one: 30 and 30.0 are the same number. */
static bool same_value(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal((json_t *)a, (json_t *)b);
}

/* The desired properties the device does not report yet (a new object). */
static json_t *desired_diff(const json_t *desired, const json_t *reported)
{
	json_t *diff = json_object();
	const char *name;
	json_t *value;
	json_object_foreach((json_t *)desired, name, value) {
		if (!same_value(value, json_object_get(reported, name)))
			json_object_set(diff, name, value);
	}
	return diff;
}

/* Brings the device's $properties command for service_id in line with diff. pending is
 * its PENDING one, or NULL: a PENDING one gets diff as its paras (or, with nothing left to
 * set, is done); without one, when allowed, a new one is queued. */
static int desired_settle(struct iot_platform *p, const struct store_device *dev,
			  const char *service_id, struct store_command *pending,
			  const json_t *diff, bool may_add)
{
	if (!pending) {
		if (!may_add || json_object_size(diff) == 0)
			return 0;
		struct store_command c;
		int rc = iot_command_add(p, dev, service_id, IOT_DESIRED_COMMAND, diff, "delay",
					 IOT_EXPIRE_DEFAULT_S, &c);
		store_command_clear(&c);
		return rc;
	}
	if (json_object_size(diff) == 0) {
		iot_command_set(p, pending, "SUCCESSFUL",
				json_pack("{s:s}", "detail",
					  "the device already reports the desired values"));
		return 0;
	}
	char *paras = json_dumps(diff, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = paras ? store_command_set_paras(p->deps.store, pending->command_id, paras)
		       : -ENOMEM;
	free(paras);
	return rc;
}

/* The device's PENDING $properties of service_id into out: 0, -ENOENT or a store error. */
static int pending_properties(struct iot_platform *p, const struct store_device *dev,
			      const char *service_id, struct store_command *out)
{
	return store_command_pending_named(p->deps.store, dev->device_id, service_id,
					   IOT_DESIRED_COMMAND, out);
}

int iot_shadow_report(struct iot_platform *p, const struct store_device *dev,
		      const char *service_id, const json_t *data, int64_t event_ms)
{
	struct store_shadow sh;
	int rc = iot_cache_shadow_get(p, dev, service_id, &sh);
	bool exists = rc == 0;
	if (rc == -ENOENT) {
		memset(&sh, 0, sizeof(sh));
		str_copy(sh.device_id, sizeof(sh.device_id), dev->device_id);
		str_copy(sh.service_id, sizeof(sh.service_id), service_id);
	} else if (rc) {
		return rc;
	}
	json_t *reported = load_object(sh.reported);
	json_object_update(reported, (json_t *)data);
	char *text = json_dumps(reported, JSON_COMPACT);
	/* What the device now reports is no longer desired. Most shadows desire nothing:
	 * the common report costs no more than the merge. */
	json_t *desired = NULL, *diff = NULL;
	if (sh.desired && strcmp(sh.desired, "{}") != 0) {
		desired = load_object(sh.desired);
		diff = desired_diff(desired, reported);
		char *left = json_object_size(diff) < json_object_size(desired)
				     ? json_dumps(diff, JSON_COMPACT | JSON_SORT_KEYS)
				     : NULL;
		if (left) {
			free(sh.desired);
			sh.desired = left;
			sh.desired_version++;
			sh.desired_time_ms = event_ms;
		} else {
			json_decref(diff);
			diff = NULL; /* nothing cleared (or no memory to say so): all stays */
		}
	}
	json_decref(reported);
	json_decref(desired);
	if (!text) {
		json_decref(diff);
		store_shadow_clear(&sh);
		return -ENOMEM;
	}
	free(sh.reported);
	sh.reported = text;
	sh.reported_version++;
	sh.reported_time_ms = event_ms;
	rc = exists ? store_shadow_update(p->deps.store, &sh) : -ENOENT;
	if (rc == -ENOENT)
		rc = store_shadow_put(p->deps.store, &sh);
	if (rc == 0)
		iot_cache_shadow_stored(p, dev, &sh);
	store_shadow_clear(&sh);
	if (rc == 0 && diff) {
		/* Reports never queue a new one: only a PENDING one is brought in line. */
		struct store_command pending;
		int prc = pending_properties(p, dev, service_id, &pending);
		if (prc == 0) {
			prc = desired_settle(p, dev, service_id, &pending, diff, false);
			store_command_clear(&pending);
		}
		if (prc != 0 && prc != -ENOENT)
			LOG_WARN("iot", "%s: the queued $properties of %s was not updated",
				 dev->node_id, service_id);
	}
	json_decref(diff);
	return rc;
}

/* Whether the platform can carry a desired value of the property to the device. */
static bool deliverable(const struct product_entry *e, const char *service_id,
			const char *property)
{
	return iot_has_codec(e) || iot_mapping_of(e, service_id, property);
}

/* One service's part of a shadow PUT, checked before anything is written. */
struct desired_change {
	const char *service_id;
	struct store_shadow sh;
	json_t *desired;  /* the new desired object */
	json_t *diff;     /* what of it the device does not report */
	struct store_command pending; /* the PENDING $properties to fold into ... */
	bool has_pending;             /* ... when there is one */
};

static void change_clear(struct desired_change *c)
{
	store_shadow_clear(&c->sh);
	json_decref(c->desired);
	json_decref(c->diff);
	if (c->has_pending)
		store_command_clear(&c->pending);
}

/* Checks shadow[i] against the model and the stored shadow; fills ch. */
static int check_change(struct iot_platform *p, const struct store_device *dev,
			const struct product_entry *e, size_t i, const json_t *item,
			struct desired_change *ch, char *err, size_t errlen)
{
	const char *sid = json_string_value(json_object_get(item, "service_id"));
	const json_t *props = json_object_get(item, "desired");
	const json_t *version = json_object_get(item, "version");
	if (!json_is_object(item) || !sid)
		return iot_fail(err, errlen, -EINVAL, "shadow[%zu].service_id is required", i);
	const json_t *svc = product_model_service(e->caps, sid);
	if (!svc)
		return iot_fail(err, errlen, -EINVAL, "shadow[%zu].service_id: %s is not in the product "
				"model", i, sid);
	if (!json_is_object(props))
		return iot_fail(err, errlen, -EINVAL,
			    "shadow[%zu].desired must be an object of properties", i);
	if (version && !json_is_null(version) && !json_is_integer(version))
		return iot_fail(err, errlen, -EINVAL, "shadow[%zu].version must be an integer", i);
	const char *name;
	const json_t *value;
	json_object_foreach((json_t *)props, name, value) {
		const json_t *def = product_model_property(svc, name);
		const char *method = json_string_value(json_object_get(def, "method"));
		char where[160];
		snprintf(where, sizeof(where), "shadow[%zu].desired.%s", i, name);
		if (!def)
			return iot_fail(err, errlen, -EINVAL, "%s: not a property of service %s", where,
				    sid);
		if (!method || !strchr(method, 'W'))
			return iot_fail(err, errlen, -EINVAL, "%s: the property is not writable "
					"(method %s)", where, method ? method : "none");
		if (!deliverable(e, sid, name))
			return iot_fail(err, errlen, -EINVAL, "%s: the product has no codec and the "
					"property is not mapped to a resource", where);
		if (!json_is_null(value)) {
			int rc = product_model_check_value(def, value, where, err, errlen);
			if (rc)
				return rc;
		}
	}
	ch->service_id = sid;
	int rc = store_shadow_get(p->deps.store, dev->device_id, sid, &ch->sh);
	if (rc == -ENOENT) {
		memset(&ch->sh, 0, sizeof(ch->sh));
		str_copy(ch->sh.device_id, sizeof(ch->sh.device_id), dev->device_id);
		str_copy(ch->sh.service_id, sizeof(ch->sh.service_id), sid);
	} else if (rc) {
		return rc;
	}
	if (json_is_integer(version) && json_integer_value(version) != ch->sh.desired_version)
		return iot_fail(err, errlen, -ESTALE, "shadow[%zu].version %lld is not the current "
				"desired version %lld", i, (long long)json_integer_value(version),
			    (long long)ch->sh.desired_version);
	ch->desired = load_object(ch->sh.desired);
	json_object_foreach((json_t *)props, name, value) {
		if (json_is_null(value))
			json_object_del(ch->desired, name);
		else
			json_object_set(ch->desired, name, (json_t *)value);
	}
	json_t *reported = load_object(ch->sh.reported);
	ch->diff = desired_diff(ch->desired, reported);
	json_decref(reported);
	rc = pending_properties(p, dev, sid, &ch->pending);
	if (rc != 0 && rc != -ENOENT)
		return rc;
	ch->has_pending = rc == 0;
	return 0;
}

/* Stores ch's desired properties and queues or folds their delivery. */
static int apply_change(struct iot_platform *p, const struct store_device *dev,
			struct desired_change *ch)
{
	char *text = json_dumps(ch->desired, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	free(ch->sh.desired);
	ch->sh.desired = text;
	ch->sh.desired_version++;
	ch->sh.desired_time_ms = p->deps.now_ms();
	int rc = store_shadow_put(p->deps.store, &ch->sh);
	/* The API's write: what the cache holds of the device's shadows goes (a shadow PUT is
	 * rare next to reports; the next report reads the row again). */
	iot_cache_shadow_forget(p, dev);
	if (rc == 0)
		rc = desired_settle(p, dev, ch->service_id, ch->has_pending ? &ch->pending : NULL,
				    ch->diff, true);
	return rc;
}

int iot_platform_shadow_put(struct iot_platform *p, const struct store_device *dev,
			    const json_t *body, char *err, size_t errlen)
{
	const json_t *items = json_object_get(body, "shadow");
	size_t count = json_array_size(items);
	if (!json_is_array(items) || count == 0)
		return iot_fail(err, errlen, -EINVAL, "shadow must be a non-empty array of "
				"{service_id, desired, version}");
	if (count > PRODUCT_MODEL_MAX_SERVICES)
		return iot_fail(err, errlen, -EINVAL, "shadow has more than %d services",
			    PRODUCT_MODEL_MAX_SERVICES);
	struct product_entry *e = iot_product(p, dev->project_id, dev->product_id);
	if (!e)
		return -ENOMEM;
	struct desired_change *changes = calloc(count, sizeof(*changes));
	if (!changes)
		return -ENOMEM;
	int rc = 0, new_commands = 0;
	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = check_change(p, dev, e, i, json_array_get(items, i), &changes[i], err, errlen);
		for (size_t k = 0; rc == 0 && k < i; k++)
			if (strcmp(changes[k].service_id, changes[i].service_id) == 0)
				rc = iot_fail(err, errlen, -EINVAL, "shadow[%zu].service_id: %s is "
						"given twice", i, changes[i].service_id);
		/* A change with something to send and nothing to fold into needs a command. */
		new_commands += !changes[i].has_pending && json_object_size(changes[i].diff) > 0;
	}
	if (rc == 0 && new_commands)
		rc = iot_command_room(p, dev, new_commands, err, errlen);
	for (size_t i = 0; i < count && rc == 0; i++)
		rc = apply_change(p, dev, &changes[i]);
	for (size_t i = 0; i < count; i++)
		change_clear(&changes[i]);
	free(changes);
	if (rc == 0)
		iot_dispatch(p, dev->node_id); /* reachable now: it goes at once */
	return rc;
}

int iot_platform_shadow_seed(struct iot_platform *p, const struct store_device *dev)
{
	struct product_entry *e = iot_product(p, dev->project_id, dev->product_id);
	if (!e)
		return -ENOMEM;
	size_t i, k;
	const json_t *svc, *def;
	int rc = 0;
	json_array_foreach(e->caps, i, svc) {
		const char *sid = json_string_value(json_object_get(svc, "service_id"));
		json_t *desired = json_object();
		json_array_foreach(json_object_get(svc, "properties"), k, def) {
			const char *name = json_string_value(json_object_get(def, "property_name"));
			const char *method = json_string_value(json_object_get(def, "method"));
			const json_t *dflt = json_object_get(def, "default_value");
			if (name && method && strchr(method, 'W') && dflt && !json_is_null(dflt) &&
			    deliverable(e, sid, name))
				json_object_set(desired, name, (json_t *)dflt);
		}
		if (json_object_size(desired) > 0) {
			struct desired_change ch = { .service_id = sid, .desired = desired };
			str_copy(ch.sh.device_id, sizeof(ch.sh.device_id), dev->device_id);
			str_copy(ch.sh.service_id, sizeof(ch.sh.service_id), sid);
			ch.diff = json_incref(desired);
			rc = apply_change(p, dev, &ch);
			ch.desired = NULL; /* released below */
			change_clear(&ch);
		}
		json_decref(desired);
		if (rc)
			return rc;
	}
	return 0;
}
