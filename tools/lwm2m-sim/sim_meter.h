/*
 * sim_meter: the simulated device as a binary NB-IoT water meter (lwm2m-sim --meter) —
 * the meter's own application protocol, carried in BinaryAppDataContainer (object 19):
 *   uplink   /19/0/0  report  [0, battery %, flow in litres (uint32, big-endian)]
 *                     answer  [2, mid hi, mid lo, errcode, result]
 *                     interval [4, interval hi, interval lo] (after a $properties)
 *   downlink /19/1/0  SET_INTERVAL [1, mid hi, mid lo, interval hi, interval lo]
 *                     $properties  [3, mid hi, mid lo, interval hi, interval lo]: the
 *                     platform's desired-shadow command, answered like SET_INTERVAL and
 *                     followed by the interval report, so the desired value clears
 * the layout of examples/watermeter/ (layout.json, codec.js), which the platform tests
 * and the README's walk-through give the server's codecs.
 *
 * It knows no sockets and sends nothing itself: it sets new values of /19/0/0 in the
 * object tree, and the server's observation of /19/0/0 (sim_dm.c) turns each into a
 * notification. It prints one line per event so that tests can follow it:
 *   meter report seq=3 battery=89 flow=1039    meter command mid=7 interval=300
 *   meter command mid=8 refused len=4 id=1     meter answer mid=7 errcode=0
 *   meter properties mid=9 interval=120        meter interval report interval=120
 */
#ifndef LWM2M_SIM_METER_H
#define LWM2M_SIM_METER_H

#include <stdbool.h>
#include <stdint.h>

#include "coap/coap_msg.h"
#include "sim_dm.h"
#include "sim_tree.h"

/* Messages waiting to go up (answers, interval reports); a server sends one command at
 * a time, so a few suffice. */
#define SIM_METER_MAX_ANSWERS 8
#define SIM_METER_ANSWER_LEN 5

struct sim_meter_message {
	uint8_t bytes[SIM_METER_ANSWER_LEN];
	uint8_t len;
};

struct sim_meter {
	int report_every_ms;
	int64_t next_report_ms;
	uint32_t seq;        /* of the latest report; the first is 0 */
	int battery;         /* %, never below 0 */
	uint32_t flow;       /* litres, grows with every report */
	unsigned interval_s; /* of the latest SET_INTERVAL: stored and printed only */
	struct sim_meter_message answers[SIM_METER_MAX_ANSWERS]; /* oldest first */
	int answer_count;
};

/* Sets up a meter that reports every report_every_ms, starting at battery %. */
void sim_meter_init(struct sim_meter *m, int report_every_ms, int battery);

/* Puts the first report (seq 0) into the tree, as the current value of /19/0/0, which
 * the server's Observe then reads; the next report comes due report_every_ms after
 * now_ms. Returns 0 or the negative errno of sim_tree_set. */
int sim_meter_start(struct sim_meter *m, struct sim_tree *t, int64_t now_ms);

/* A request the device answered with code: a Write of /19/1/0 that the device took
 * (2.04) is a command, whose answer is queued for sim_meter_tick (a $properties's
 * followed by the interval report). A payload of another length or message id gets
 * errcode 1; one without a mid (under 3 bytes) no answer. */
void sim_meter_on_request(struct sim_meter *m, const struct coap_msg *req, uint8_t code);

/* Publishes at most one new value of /19/0/0 — the oldest queued answer, else a report
 * when one is due — and marks it changed in dm, so that sim_dm_tick notifies it even if
 * its bytes repeat. Call it right before sim_dm_tick: one value per tick, so that none
 * is overwritten before it is notified. */
void sim_meter_tick(struct sim_meter *m, struct sim_tree *t, struct sim_dm *dm, int64_t now_ms);

#endif
