/*
 * iot_settle: endpoints whose registration is still changing (a re-Register storm), and
 * when to look at them again.
 *
 * A device that re-registers again and again within moments — from many source ports, a
 * NAT rebinding loop, an attacker replaying a plain device's Register — would otherwise
 * make the platform start an uplink observation and push two status events for every
 * Register. iot_devices keeps such an endpoint here instead and announces its registration
 * once it has held still for the settle time. A set (hash by endpoint) with a FIFO of due
 * times; each endpoint is in it at most once, so its size is bounded by the registrations.
 */
#ifndef LWM2MD_IOT_SETTLE_H
#define LWM2MD_IOT_SETTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "lwm2m/lwm2m_server.h"
#include "util/hash.h"

struct iot_settle_entry;

struct iot_settle {
	struct hmap map;
	struct iot_settle_entry *head, *tail; /* in the order added: due times ascend */
};

/* 0 or -ENOMEM. */
int iot_settle_init(struct iot_settle *s);
/* Frees every entry. Accepts a zeroed struct. */
void iot_settle_destroy(struct iot_settle *s);
bool iot_settle_contains(const struct iot_settle *s, const char *endpoint);
/* Adds endpoint, due at due_ms; one already in keeps its place. 0 or -ENOMEM. */
int iot_settle_add(struct iot_settle *s, const char *endpoint, int64_t due_ms);
void iot_settle_remove(struct iot_settle *s, const char *endpoint);
/* Takes the oldest entry when it is due at now_ms: 0 with endpoint filled, or -ENOENT. */
int iot_settle_pop_due(struct iot_settle *s, int64_t now_ms,
		       char endpoint[LWM2M_ENDPOINT_MAX + 1]);

#endif
