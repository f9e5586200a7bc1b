/*
 * api_lwm2m_internal: what the Device Management routes' files share.
 *
 *   api_lwm2m.c            the single-path operations (Read ... Delete), the wait for the
 *                          device's answer, the observations and their cancellation
 *   api_lwm2m_values.c     request values: JSON "values", raw opaque/text bodies, and the
 *                          Write and Create payloads made of them
 *   api_lwm2m_composite.c  Read-, Observe- and Write-Composite, and the cancellation of an
 *                          Observe-Composite
 *   api_lwm2m_json.c       answers, notifications and Sends as JSON
 */
#ifndef LWM2MD_API_LWM2M_INTERNAL_H
#define LWM2MD_API_LWM2M_INTERNAL_H

#include "api/api_internal.h"
#include "content/content.h"
#include "lwm2m/lwm2m_dm.h"
#include "lwm2m/lwm2m_observe.h"

#define API_DM_TIMEOUT_DEFAULT_S 30
#define API_DM_TIMEOUT_MAX_S 300

/* What every Device Management call starts with: the device, the path, the deadline. */
struct api_dm_target {
	struct store_device device;
	struct lwm2m_path path;
	uint32_t timeout_ms;
	int format; /* ?format=, or -1 */
};

/* The device of the call (c->id) and ?timeout=. 0, or -1 with the reply set. */
int api_dm_device(struct api_call *c, struct api_dm_target *t);
/* Sends dm to t's device; the call then waits for the answer (deferred), or is answered
 * now (409 not registered or asleep, 400 refused, 500). observe (may be NULL) is what an
 * Observe asks with, kept (copied) for the observation the answer makes. */
void api_dm_send(struct api_call *c, struct api_dm_target *t, struct lwm2m_dm_request *dm,
		 const struct lwm2m_observe_request *observe);

/* Write (replace or update) or Create from a JSON body's values (api_lwm2m_values.c). */
void api_dm_write_values(struct api_call *c, struct api_dm_target *t, enum lwm2m_op op);
/* A Write (replace) whose body is the value itself: Content-Type application/octet-stream
 * (opaque) or text/plain (text). Returns false, doing nothing, for any other body. */
bool api_dm_write_raw(struct api_call *c, struct api_dm_target *t);
/* Reads body.values into values, each a resource (instance) under base, typed by "type"
 * or the model. With relative_ok, paths may instead be relative to an instance not named
 * yet ("0", "0/1": a Create that lets the device choose): *relative says so, and their
 * instance id is LWM2M_ID_MAX + 1. 0, or -1 with the 400 set. */
int api_dm_read_values(struct api_call *c, const json_t *body, const struct lwm2m_path *base,
		       bool relative_ok, bool *relative, struct lwm2m_values *values);

/* Cancels an Observe-Composite actively (api_lwm2m_composite.c). */
void api_dm_cancel_composite(struct api_call *c, struct api_dm_target *t,
			     const struct lwm2m_observation *o);

/* One value as {"path","type","value"} (api_lwm2m_json.c). */
json_t *api_dm_value_json(const struct lwm2m_value *v);
/* Adds the format and the decoded content of an answer (or the raw bytes, or the links
 * of a Discover) to o. */
void api_dm_content_json(json_t *o, const struct lwm2m_path *p, int content_format,
			 const uint8_t *payload, size_t len);
/* The device's answer to op on path: operation, path, code, content, and where a Create
 * put the new instance ("location", "instance_id"). */
json_t *api_dm_answer_json(enum lwm2m_op op, const struct lwm2m_path *path,
			   const struct lwm2m_dm_result *res);

#endif
