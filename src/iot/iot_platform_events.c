/*
 * iot_platform_events: the platform's events — to the event stream's subscribers (SSE)
 * and, for `property` and `command`, to the project's forwarding rules (push) — and the
 * check that spares building one nobody wants.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iot/iot_platform_internal.h"
#include "iot/push.h"
#include "util/log.h"

static bool pushable(const char *event)
{
	return strcmp(event, "property") == 0 || strcmp(event, "command") == 0;
}

static bool listened(struct iot_platform *p)
{
	return p->deps.publish && (!p->deps.listening || p->deps.listening(p->deps.ctx));
}

/* Whether push would queue the event anywhere, from the rules push keeps in memory (most
 * projects have none, and building and dumping a message nobody takes cost more than the
 * report itself). */
static bool pushed(struct iot_platform *p, const char *project_id, const char *event)
{
	if (!p->deps.push || !pushable(event))
		return false;
	if (event[0] == 'p')
		return push_wants(p->deps.push, project_id, "device.property", "report");
	return push_wants(p->deps.push, project_id, "device.command.status", "update");
}

bool iot_event_wanted(struct iot_platform *p, const char *project_id, const char *event)
{
	return listened(p) || pushed(p, project_id, event);
}

void iot_publish(struct iot_platform *p, const struct store_device *dev, const char *event,
		 json_t *body)
{
	if (!body)
		return;
	json_object_set_new(body, "device_id", json_string(dev->device_id));
	json_object_set_new(body, "node_id", json_string(dev->node_id));
	json_object_set_new(body, "product_id", json_string(dev->product_id));
	if (listened(p)) {
		char *text = json_dumps(body, JSON_COMPACT);
		if (text)
			p->deps.publish(p->deps.ctx, dev->project_id, dev->device_id, event, text);
		free(text);
	}
	if (pushed(p, dev->project_id, event)) {
		json_t *header = iot_push_header(dev);
		json_t *push_body;
		if (event[0] == 'p') {
			push_body = json_pack("{s:[{s:O, s:O, s:O}]}", "services", "service_id",
					      json_object_get(body, "service_id"), "properties",
					      json_object_get(body, "properties"), "event_time",
					      json_object_get(body, "event_time"));
			push_event(p->deps.push, dev->project_id, "device.property", "report", header,
				   push_body);
		} else {
			push_body = json_deep_copy(body);
			push_event(p->deps.push, dev->project_id, "device.command.status", "update",
				   header, push_body);
		}
		json_decref(header);
	}
	json_decref(body);
}

json_t *iot_push_header(const struct store_device *dev)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "device_id", dev->device_id, "node_id",
			 dev->node_id, "product_id", dev->product_id, "app_id", dev->project_id);
}

void iot_codec_error(struct iot_platform *p, const struct store_device *dev,
		     const char *stage, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->stats.codec_errors++;
	LOG_WARN("iot", "%s: %s: %s", dev->node_id, stage, msg);
	iot_publish(p, dev, "codec_error", json_pack("{s:s, s:s}", "stage", stage, "error", msg));
}
