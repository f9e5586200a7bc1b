/*
 * libFuzzer target for a firmware campaign's stored settings (src/firmware/
 * fw_campaign_json.c): the JSON text kept in the campaign's row, which
 * fw_campaign_settings_parse reads back when the daemon starts (fw_campaigns_load). The
 * text is ours when the store is intact, but a store edited by hand, restored from an
 * older version or damaged is outside input all the same.
 *
 * Input: the text (copied and NUL-terminated, as the store hands it over).
 *
 * What must hold: the answer is 0 or -EINVAL; settings parsed (0) come back unchanged
 * from fw_campaign_settings_json → json_dumps → fw_campaign_settings_parse — every field
 * of struct fw_campaign_spec (device_ids stays NULL; a device list is only its count);
 * the text written the second time is the text written the first time; the strings
 * fit their fields; nothing crashes or leaks, accepted or not.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "firmware/fw_campaign_json.h"
#include "fuzz_common.h"

/* Inputs over this are not what a row holds (the API's bodies are far smaller). */
#define MAX_TEXT 65536

static void check_strings(const struct fw_campaign_spec *s)
{
	FUZZ_CHECK(memchr(s->name, '\0', sizeof(s->name)) != NULL, "name unterminated");
	FUZZ_CHECK(memchr(s->package_id, '\0', sizeof(s->package_id)) != NULL,
		   "package_id unterminated");
	FUZZ_CHECK(memchr(s->product_id, '\0', sizeof(s->product_id)) != NULL,
		   "product_id unterminated");
	FUZZ_CHECK(s->from_version_count <= FW_CAMPAIGN_MAX_FROM_VERSIONS, "%u from_versions",
		   s->from_version_count);
	for (unsigned i = 0; i < s->from_version_count; i++)
		FUZZ_CHECK(memchr(s->from_versions[i], '\0', sizeof(s->from_versions[i])) != NULL,
			   "from_versions[%u] unterminated", i);
	FUZZ_CHECK(s->device_ids == NULL, "device_ids set by a parse");
}

/* Every field of the two specs, by name, so that a failure says which. */
static void check_same(const struct fw_campaign_spec *a, const struct fw_campaign_spec *b)
{
	FUZZ_CHECK(strcmp(a->name, b->name) == 0, "name: %s / %s", a->name, b->name);
	FUZZ_CHECK(strcmp(a->package_id, b->package_id) == 0, "package_id: %s / %s",
		   a->package_id, b->package_id);
	FUZZ_CHECK(strcmp(a->product_id, b->product_id) == 0, "product_id: %s / %s",
		   a->product_id, b->product_id);
	FUZZ_CHECK(a->device_id_count == b->device_id_count, "device_count: %u / %u",
		   a->device_id_count, b->device_id_count);
	FUZZ_CHECK(a->from_version_count == b->from_version_count, "from_versions: %u / %u",
		   a->from_version_count, b->from_version_count);
	for (unsigned i = 0; i < a->from_version_count; i++)
		FUZZ_CHECK(strcmp(a->from_versions[i], b->from_versions[i]) == 0,
			   "from_versions[%u]: %s / %s", i, a->from_versions[i],
			   b->from_versions[i]);
	FUZZ_CHECK(a->delivery == b->delivery, "delivery: %d / %d", (int)a->delivery,
		   (int)b->delivery);
	const struct {
		const char *name;
		uint32_t a, b;
	} n[] = {
		{"max_concurrent", a->max_concurrent, b->max_concurrent},
		{"rate_per_minute", a->rate_per_minute, b->rate_per_minute},
		{"retries", a->retries, b->retries},
		{"retry_backoff_s", a->retry_backoff_s, b->retry_backoff_s},
		{"failure_threshold_percent", a->failure_threshold_percent,
		 b->failure_threshold_percent},
		{"failure_min_devices", a->failure_min_devices, b->failure_min_devices},
		{"download_timeout_s", a->download_timeout_s, b->download_timeout_s},
		{"update_timeout_s", a->update_timeout_s, b->update_timeout_s},
	};
	for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
		FUZZ_CHECK(n[i].a == n[i].b, "%s: %u / %u", n[i].name, n[i].a, n[i].b);
}

/* The settings as the store would keep them: NULL only when out of memory. */
static char *dump(const struct fw_campaign_spec *s)
{
	json_t *o = fw_campaign_settings_json(s);
	FUZZ_CHECK(o != NULL, "parsed settings are not written back");
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	FUZZ_CHECK(text != NULL, "written settings do not dump");
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_TEXT)
		return 0;
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	struct fw_campaign_spec first;
	int rc = fw_campaign_settings_parse(text, &first);
	free(text);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "parse: %d", rc);
	if (rc != 0)
		return 0;
	check_strings(&first);

	char *written = dump(&first);
	struct fw_campaign_spec again;
	rc = fw_campaign_settings_parse(written, &again);
	FUZZ_CHECK(rc == 0, "the written settings are refused: %s", written);
	check_strings(&again);
	check_same(&first, &again);

	char *rewritten = dump(&again);
	FUZZ_CHECK(strcmp(written, rewritten) == 0, "written twice: %s / %s", written, rewritten);
	free(written);
	free(rewritten);
	return 0;
}
