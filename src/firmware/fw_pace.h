/*
 * fw_pace: a campaign's pacing arithmetic, apart from the campaign so that it is tested
 * alone: the start rate's token bucket and the recent rate of ended targets.
 */
#ifndef LWM2MD_FW_PACE_H
#define LWM2MD_FW_PACE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The burst a start rate allows, in seconds of the rate: the bucket holds at most
 * rate_per_minute * FW_PACE_BURST_S / 60 starts (at least 1), so that a campaign ticked
 * once a second keeps its rate, and any 60 s window holds at most rate + that many
 * starts.
 */
#define FW_PACE_BURST_S 2

struct fw_bucket {
	double tokens;
	double cap;
	double per_ms;  /* tokens added per millisecond */
	int64_t last_ms;
};

/* A full bucket at now_ms. */
void fw_bucket_init(struct fw_bucket *b, uint32_t rate_per_minute, int64_t now_ms);
/* Refills for the time since the last call, then takes one start if there is one. */
bool fw_bucket_take(struct fw_bucket *b, int64_t now_ms);

/* Ended targets over the last FW_RATE_SLOTS * FW_RATE_SLOT_MS: 5 minutes by 10 s. */
#define FW_RATE_SLOTS 30
#define FW_RATE_SLOT_MS 10000

struct fw_rate {
	uint32_t count[FW_RATE_SLOTS];
	int64_t epoch[FW_RATE_SLOTS]; /* which slot-long period count is of */
};

void fw_rate_note(struct fw_rate *r, int64_t now_ms, uint32_t n);
/* Per minute over the window, or over the time since since_ms when that is shorter (a
 * campaign that began a minute ago); 0 before a first whole second. */
double fw_rate_per_minute(const struct fw_rate *r, int64_t now_ms, int64_t since_ms);

#endif
