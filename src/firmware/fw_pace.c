/*
 * fw_pace: the token bucket of a campaign's start rate and the ring of its recent ends
 * (fw_pace.h).
 */
#include "firmware/fw_pace.h"

#include <string.h>

void fw_bucket_init(struct fw_bucket *b, uint32_t rate_per_minute, int64_t now_ms)
{
	b->per_ms = (double)rate_per_minute / 60000.0;
	b->cap = (double)rate_per_minute * FW_PACE_BURST_S / 60.0;
	if (b->cap < 1.0)
		b->cap = 1.0;
	b->tokens = b->cap;
	b->last_ms = now_ms;
}

bool fw_bucket_take(struct fw_bucket *b, int64_t now_ms)
{
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->per_ms;
		if (b->tokens > b->cap)
			b->tokens = b->cap;
	}
	/* A clock that steps back refills nothing and is followed from there. */
	b->last_ms = now_ms;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

void fw_rate_note(struct fw_rate *r, int64_t now_ms, uint32_t n)
{
	int64_t epoch = now_ms / FW_RATE_SLOT_MS;
	int i = (int)(epoch % FW_RATE_SLOTS);
	if (r->epoch[i] != epoch) {
		r->epoch[i] = epoch;
		r->count[i] = 0;
	}
	r->count[i] += n;
}

double fw_rate_per_minute(const struct fw_rate *r, int64_t now_ms, int64_t since_ms)
{
	int64_t epoch = now_ms / FW_RATE_SLOT_MS;
	uint64_t sum = 0;
	for (int i = 0; i < FW_RATE_SLOTS; i++)
		if (r->epoch[i] > epoch - FW_RATE_SLOTS && r->epoch[i] <= epoch)
			sum += r->count[i];
	/* The window: the whole slots before this one and this one so far. */
	int64_t window = (FW_RATE_SLOTS - 1) * (int64_t)FW_RATE_SLOT_MS + now_ms % FW_RATE_SLOT_MS;
	if (since_ms > 0 && now_ms - since_ms < window)
		window = now_ms - since_ms;
	if (window < 1000)
		return 0.0;
	return (double)sum * 60000.0 / (double)window;
}
