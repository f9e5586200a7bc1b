/*
 * fw_campaign_json: a campaign, its settings and its target devices as JSON — the shapes
 * of docs/firmware.md, shared by the API's answers, the event stream and the settings
 * stored in the campaign's row.
 */
#ifndef LWM2MD_FW_CAMPAIGN_JSON_H
#define LWM2MD_FW_CAMPAIGN_JSON_H

#include <jansson.h>

#include "firmware/fw_campaign.h"

/* The settings, defaults filled in. A campaign of a device list shows
 * "targets":{"device_count":N} (the list itself is the campaign's devices). */
json_t *fw_campaign_settings_json(const struct fw_campaign_spec *spec);
/* Reads settings stored by fw_campaign_settings_json (device_ids NULL,
 * device_id_count from device_count). 0, or -EINVAL for text that is not ours. */
int fw_campaign_settings_parse(const char *text, struct fw_campaign_spec *spec);
/* The campaign as the API answers it. NULL when out of memory. */
json_t *fw_campaign_view_json(const struct fw_campaign_view *v);
/* A target device. */
json_t *fw_target_json(const struct store_fw_target *t);

#endif
