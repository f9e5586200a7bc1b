/*
 * sim_meter: the water meter's application protocol over object 19 (see sim_meter.h).
 * Its values are plain bytes: the server's codec, not this file, gives them meaning.
 */
#include "sim_meter.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* The meter's message ids (first byte of every message). */
#define METER_MSG_REPORT 0
#define METER_MSG_SET_INTERVAL 1
#define METER_MSG_ANSWER 2
#define METER_MSG_PROPERTIES 3
#define METER_MSG_INTERVAL 4
/* An answer's errcode: 0 done, 1 the command was not understood. */
#define METER_ERR_OK 0
#define METER_ERR_BAD_COMMAND 1

/* The battery loses 1 % every this many reports; the flow grows by this many litres per
 * report, so that every report differs from the one before. */
#define METER_BATTERY_DROP_EVERY 3
#define METER_FLOW_START 1000
#define METER_FLOW_STEP 13

static const struct lwm2m_path uplink_path = { .len = 3, .ids = { 19, 0, 0 } };
static const struct lwm2m_path downlink_path = { .len = 3, .ids = { 19, 1, 0 } };

void sim_meter_init(struct sim_meter *m, int report_every_ms, int battery)
{
	memset(m, 0, sizeof(*m));
	m->report_every_ms = report_every_ms;
	m->battery = battery < 0 ? 0 : battery > 100 ? 100 : battery;
	m->flow = METER_FLOW_START;
}

/* Sets /19/0/0 to bytes: one opaque value of the resource, which replaces the resource
 * instances the default tree has there, so that the server's Observe of /19/0/0 with
 * Accept opaque reads exactly these bytes. */
static int publish(struct sim_tree *t, const uint8_t *bytes, size_t len)
{
	struct lwm2m_value v = { .path = uplink_path, .type = LWM2M_TYPE_OPAQUE };
	v.v.bytes.data = (uint8_t *)bytes;
	v.v.bytes.len = len;
	return sim_tree_set(t, &v);
}

static int publish_report(struct sim_meter *m, struct sim_tree *t)
{
	uint8_t r[6] = { METER_MSG_REPORT, (uint8_t)m->battery, (uint8_t)(m->flow >> 24),
			 (uint8_t)(m->flow >> 16), (uint8_t)(m->flow >> 8), (uint8_t)m->flow };
	int rc = publish(t, r, sizeof(r));
	if (rc == 0)
		printf("meter report seq=%u battery=%d flow=%u\n", m->seq, m->battery, m->flow);
	return rc;
}

int sim_meter_start(struct sim_meter *m, struct sim_tree *t, int64_t now_ms)
{
	m->next_report_ms = now_ms + m->report_every_ms;
	return publish_report(m, t);
}

/* Queues a message to go up; false when the queue is full. */
static bool queue_message(struct sim_meter *m, const uint8_t *bytes, uint8_t len)
{
	if (m->answer_count == SIM_METER_MAX_ANSWERS)
		return false;
	struct sim_meter_message *msg = &m->answers[m->answer_count++];
	memcpy(msg->bytes, bytes, len);
	msg->len = len;
	return true;
}

static void queue_answer(struct sim_meter *m, uint16_t mid, uint8_t errcode, uint8_t result)
{
	const uint8_t a[] = { METER_MSG_ANSWER, (uint8_t)(mid >> 8), (uint8_t)mid, errcode,
			      result };
	if (!queue_message(m, a, sizeof(a)))
		printf("meter answer mid=%u dropped (queue full)\n", mid);
}

void sim_meter_on_request(struct sim_meter *m, const struct coap_msg *req, uint8_t code)
{
	char path[64];
	struct lwm2m_path p;
	if (req->code != COAP_CODE_PUT || code != COAP_CODE_CHANGED ||
	    coap_msg_get_path(req, path, sizeof(path)) < 0 ||
	    lwm2m_path_parse(path, strlen(path), &p) != 0 || p.len != downlink_path.len ||
	    memcmp(p.ids, downlink_path.ids, sizeof(p.ids[0]) * p.len) != 0)
		return;
	const uint8_t *b = req->payload;
	size_t len = req->payload_len;
	/* Without a mid there is nothing an answer could refer to. */
	if (len < 3) {
		printf("meter command unparsable len=%zu\n", len);
		return;
	}
	uint16_t mid = (uint16_t)(b[1] << 8 | b[2]);
	if (len != 5 || (b[0] != METER_MSG_SET_INTERVAL && b[0] != METER_MSG_PROPERTIES)) {
		printf("meter command mid=%u refused len=%zu id=%u\n", mid, len, b[0]);
		queue_answer(m, mid, METER_ERR_BAD_COMMAND, 0);
		return;
	}
	m->interval_s = (unsigned)(b[3] << 8 | b[4]);
	printf("meter %s mid=%u interval=%u\n",
	       b[0] == METER_MSG_PROPERTIES ? "properties" : "command", mid, m->interval_s);
	queue_answer(m, mid, METER_ERR_OK, 1);
	/* A desired property set: the meter reports it, as a real one would its new state. */
	const uint8_t r[] = { METER_MSG_INTERVAL, b[3], b[4] };
	if (b[0] == METER_MSG_PROPERTIES && !queue_message(m, r, sizeof(r)))
		printf("meter interval report dropped (queue full)\n");
}

void sim_meter_tick(struct sim_meter *m, struct sim_tree *t, struct sim_dm *dm, int64_t now_ms)
{
	if (m->answer_count > 0) {
		const uint8_t *a = m->answers[0].bytes;
		if (publish(t, a, m->answers[0].len) == 0) {
			if (a[0] == METER_MSG_ANSWER)
				printf("meter answer mid=%u errcode=%u\n",
				       (unsigned)(a[1] << 8 | a[2]), a[3]);
			else
				printf("meter interval report interval=%u\n",
				       (unsigned)(a[1] << 8 | a[2]));
		}
		m->answer_count--;
		memmove(&m->answers[0], &m->answers[1],
			(size_t)m->answer_count * sizeof(m->answers[0]));
		sim_dm_touch(dm, &uplink_path);
		return;
	}
	if (m->report_every_ms <= 0 || now_ms < m->next_report_ms)
		return;
	/* The next report is due report_every_ms after this one was, not after now: a tick
	 * that came late does not shift the meter's rhythm. */
	m->next_report_ms += m->report_every_ms;
	if (m->next_report_ms <= now_ms)
		m->next_report_ms = now_ms + m->report_every_ms;
	m->seq++;
	if (m->seq % METER_BATTERY_DROP_EVERY == 0 && m->battery > 0)
		m->battery--;
	m->flow += METER_FLOW_STEP;
	if (publish_report(m, t) == 0)
		sim_dm_touch(dm, &uplink_path);
}
