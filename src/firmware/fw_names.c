/*
 * fw_names: the API's names of the firmware module's enums (docs/firmware.md "Device
 * states"): target states, delivery methods and campaign statuses, both ways.
 */
#include "firmware/fw_campaign.h"
#include "firmware/fw_engine.h"

#include <string.h>

static const char *const state_names[FW_STATE_COUNT] = {
	[FW_WAITING] = "waiting",       [FW_STARTING] = "starting",
	[FW_DOWNLOADING] = "downloading", [FW_DOWNLOADED] = "downloaded",
	[FW_UPDATING] = "updating",     [FW_SUCCEEDED] = "succeeded",
	[FW_FAILED] = "failed",         [FW_SKIPPED] = "skipped",
	[FW_CANCELLED] = "cancelled",
};

static const char *const delivery_names[] = {
	[FW_DELIVERY_AUTO] = "auto",
	[FW_DELIVERY_PULL] = "pull",
	[FW_DELIVERY_PUSH] = "push",
};

static const char *const status_names[] = {
	[FW_CAMPAIGN_RUNNING] = "running",     [FW_CAMPAIGN_PAUSED] = "paused",
	[FW_CAMPAIGN_STOPPED] = "stopped",     [FW_CAMPAIGN_CANCELLED] = "cancelled",
	[FW_CAMPAIGN_FINISHED] = "finished",
};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int parse(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

const char *fw_state_name(enum fw_state s)
{
	return (int)s >= 0 && (int)s < FW_STATE_COUNT ? state_names[s] : "unknown";
}

int fw_state_parse(const char *name)
{
	return parse(state_names, FW_STATE_COUNT, name);
}

const char *fw_delivery_name(enum fw_delivery d)
{
	return (int)d >= 0 && (int)d < COUNT(delivery_names) ? delivery_names[d] : "unknown";
}

int fw_delivery_parse(const char *name)
{
	return parse(delivery_names, COUNT(delivery_names), name);
}

bool fw_state_done(enum fw_state s)
{
	return s == FW_SUCCEEDED || s == FW_FAILED || s == FW_SKIPPED || s == FW_CANCELLED;
}

const char *fw_campaign_status_name(enum fw_campaign_status s)
{
	return (int)s >= 0 && (int)s < COUNT(status_names) ? status_names[s] : "unknown";
}
