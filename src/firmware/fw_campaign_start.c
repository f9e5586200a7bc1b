/*
 * fw_campaign_start: a campaign's beginning — its settings checked, its package and
 * product found, its targets resolved into rows, its package file opened — and its
 * return after a restart (fw_campaigns_load).
 *
 * Resolving a product's devices is one INSERT ... SELECT in the store: 100 000 devices
 * never cross into C. A device list (at most FW_CAMPAIGN_MAX_DEVICE_IDS) is checked one
 * id at a time: each must be a device of the project and of the package's product, and
 * appear once.
 */
#include "firmware/fw_campaign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/fw_campaign_internal.h"
#include "firmware/fw_campaign_json.h"
#include "firmware/fw_package.h"
#include "store/store_search.h"
#include "util/log.h"
#include "util/str.h"
#include "util/token.h"

/* The campaign id: random hex, as long as a token id. */
#define CAMPAIGN_ID_BYTES 8

/* A bound outside its range: the setting's name and its bounds. */
struct bound {
	const char *name;
	uint32_t value, min, max;
};

static const char *check_spec(struct fw_campaigns *fc, const struct fw_campaign_spec *s)
{
	const struct bound bounds[] = {
		{"max_concurrent", s->max_concurrent, 1, 100000},
		{"rate_per_minute", s->rate_per_minute, 1, 1000000},
		{"retries", s->retries, 0, 10},
		{"retry_backoff_s", s->retry_backoff_s, 1, 86400},
		{"failure_threshold_percent", s->failure_threshold_percent, 1, 100},
		{"failure_min_devices", s->failure_min_devices, 1, FW_CAMPAIGN_MAX_TARGETS},
		{"download_timeout_s", s->download_timeout_s, 10, 604800},
		{"update_timeout_s", s->update_timeout_s, 10, 86400},
	};
	for (size_t i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++) {
		if (bounds[i].value < bounds[i].min || bounds[i].value > bounds[i].max) {
			snprintf(fc->why, sizeof(fc->why), "%s must be %u-%u", bounds[i].name,
				 bounds[i].min, bounds[i].max);
			return fc->why;
		}
	}
	if (!s->package_id[0])
		return "package_id is required";
	if ((int)s->delivery < FW_DELIVERY_AUTO || s->delivery > FW_DELIVERY_PUSH)
		return "delivery must be auto, pull or push";
	if (s->from_version_count > FW_CAMPAIGN_MAX_FROM_VERSIONS)
		return "targets.from_versions: at most 16 versions";
	for (unsigned i = 0; i < s->from_version_count; i++)
		if (!s->from_versions[i][0])
			return "targets.from_versions: a version is 1-64 characters";
	if (s->product_id[0] && s->device_id_count > 0)
		return "targets: give product_id or device_ids, not both";
	if (!s->product_id[0] && s->device_id_count == 0)
		return "targets: give product_id or device_ids (a non-empty list)";
	if (s->device_id_count > 0 && !s->device_ids)
		return "targets.device_ids: the list is missing";
	return NULL;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A device id given twice, or NULL. */
static const char *duplicate_id(const struct fw_campaign_spec *s)
{
	const char **ids = malloc(s->device_id_count * sizeof(*ids));
	const char *dup = NULL;
	if (!ids)
		return NULL;
	for (unsigned i = 0; i < s->device_id_count; i++)
		ids[i] = s->device_ids[i];
	qsort(ids, s->device_id_count, sizeof(*ids), cmp_ids);
	for (unsigned i = 1; i < s->device_id_count && !dup; i++)
		if (strcmp(ids[i - 1], ids[i]) == 0)
			dup = ids[i];
	free(ids);
	return dup;
}

/* The project's campaigns: those not ended, and all it keeps. */
static void count_in_project(struct fw_campaigns *fc, const char *project_id,
			     unsigned *active, unsigned *kept)
{
	*active = *kept = 0;
	for (struct fw_campaign *c = fc->head; c; c = c->next) {
		if (strcmp(c->project_id, project_id) != 0)
			continue;
		(*kept)++;
		if (!fw_campaign_ended(c))
			(*active)++;
	}
}

/* Inserts the rows of a device list (inside the caller's transaction). */
static int add_device_list(struct fw_campaigns *fc, struct fw_campaign *c,
			   const struct fw_campaign_spec *s, const char **why)
{
	struct store_device *dev = malloc(sizeof(*dev));
	struct store_fw_target *t = calloc(1, sizeof(*t));
	int rc = dev && t ? 0 : -ENOMEM;
	for (unsigned i = 0; rc == 0 && i < s->device_id_count; i++) {
		rc = store_device_get(fc->deps.store, c->project_id, s->device_ids[i], dev);
		if (rc == -ENOENT) {
			snprintf(fc->why, sizeof(fc->why),
				 "targets.device_ids[%u]: no device %.64s in this project", i,
				 s->device_ids[i]);
			*why = fc->why;
			rc = -EINVAL;
		} else if (rc == 0 && strcmp(dev->product_id, c->product_id) != 0) {
			snprintf(fc->why, sizeof(fc->why),
				 "targets.device_ids[%u]: device %.64s is of product %.32s, the "
				 "package of product %.32s",
				 i, s->device_ids[i], dev->product_id, c->product_id);
			*why = fc->why;
			rc = -EINVAL;
		}
		if (rc)
			break;
		str_copy(t->campaign_id, sizeof(t->campaign_id), c->campaign_id);
		t->seq = i;
		str_copy(t->device_id, sizeof(t->device_id), dev->device_id);
		str_copy(t->node_id, sizeof(t->node_id), dev->node_id);
		t->state = FW_WAITING;
		t->updated_ms = fc->now_ms;
		rc = store_fw_target_put(fc->deps.store, t);
	}
	free(dev);
	free(t);
	return rc;
}

/* The campaign's row and its targets, in one transaction. */
static int store_campaign(struct fw_campaigns *fc, struct fw_campaign *c,
			  const struct fw_campaign_spec *s, const char **why)
{
	json_t *settings = fw_campaign_settings_json(&c->spec);
	char *text = settings ? json_dumps(settings, JSON_COMPACT) : NULL;
	json_decref(settings);
	if (!text)
		return -ENOMEM;
	struct store_fw_campaign row;
	memset(&row, 0, sizeof(row));
	str_copy(row.project_id, sizeof(row.project_id), c->project_id);
	str_copy(row.campaign_id, sizeof(row.campaign_id), c->campaign_id);
	str_copy(row.package_id, sizeof(row.package_id), c->spec.package_id);
	row.spec = text;
	row.status = (int)c->status;
	row.create_time = c->create_time;
	row.start_ms = c->start_ms;
	int rc = store_begin(fc->deps.store);
	if (rc) {
		free(text);
		return rc;
	}
	rc = store_fw_campaign_put(fc->deps.store, &row);
	free(text);
	if (rc == 0 && s->product_id[0])
		rc = store_fw_targets_add_product(fc->deps.store, c->campaign_id, c->project_id,
						  c->product_id, FW_CAMPAIGN_MAX_TARGETS,
						  fc->now_ms, &c->targets);
	else if (rc == 0) {
		rc = add_device_list(fc, c, s, why);
		c->targets = s->device_id_count;
	}
	if (rc == 0 && c->targets == 0) {
		*why = "targets.product_id: the product has no devices";
		rc = -EINVAL;
	}
	if (rc) {
		store_rollback(fc->deps.store);
		return rc;
	}
	return store_commit(fc->deps.store);
}

/* Fills the package half of c from the stored package: product, version, file. */
static int open_package(struct fw_campaigns *fc, struct fw_campaign *c,
			struct store_fw_package *p, const char **why)
{
	int rc = store_fw_package_get(fc->deps.store, c->project_id, c->spec.package_id, p);
	if (rc == -ENOENT)
		*why = "package_id: no such package";
	if (rc)
		return rc;
	str_copy(c->product_id, sizeof(c->product_id), p->product_id);
	str_copy(c->pkg.version, sizeof(c->pkg.version), p->version);
	c->pkg.size = p->size;
	str_copy(c->pkg.sha256, sizeof(c->pkg.sha256), p->sha256);
	c->pkg.from_versions = c->spec.from_versions;
	c->pkg.from_version_count = c->spec.from_version_count;
	c->pkg.delivery = c->spec.delivery;
	c->pkg.download_timeout_s = c->spec.download_timeout_s;
	c->pkg.update_timeout_s = c->spec.update_timeout_s;
	return 0;
}

static int open_file(struct fw_campaigns *fc, struct fw_campaign *c,
		     const struct store_fw_package *p, const char **why)
{
	int rc = fw_file_open(fc->firmware_dir, p->sha256, &c->pkg.file);
	if (rc) {
		LOG_ERROR("firmware", "package %s: file %s/%s: %s", p->package_id,
			  fc->firmware_dir, p->sha256, strerror(-rc));
		*why = "the package's file cannot be opened";
	}
	return rc;
}

int fw_campaigns_start(struct fw_campaigns *fc, const char *project_id,
		       const struct fw_campaign_spec *spec, char *id, const char **why)
{
	static const char *unused;
	if (!why)
		why = &unused;
	*why = "";
	if ((*why = check_spec(fc, spec)) != NULL)
		return -EINVAL;
	*why = "";
	if (spec->device_id_count > FW_CAMPAIGN_MAX_DEVICE_IDS) {
		*why = "targets.device_ids: at most 10000 devices";
		return -E2BIG;
	}
	if (spec->device_id_count > 0) {
		const char *dup = duplicate_id(spec);
		if (dup) {
			snprintf(fc->why, sizeof(fc->why), "targets.device_ids: %.64s is given twice",
				 dup);
			*why = fc->why;
			return -EINVAL;
		}
	}
	unsigned active, kept;
	count_in_project(fc, project_id, &active, &kept);
	if (active >= FW_CAMPAIGN_MAX_ACTIVE) {
		*why = "the project has 100 campaigns running or paused";
		return -EBUSY;
	}
	if (kept >= FW_CAMPAIGN_MAX_KEPT) {
		*why = "the project keeps 1000 campaigns: delete ended ones first";
		return -EBUSY;
	}
	struct fw_campaign *c = calloc(1, sizeof(*c));
	struct store_fw_package *p = malloc(sizeof(*p));
	struct store_product *prod = malloc(sizeof(*prod));
	int rc = c && p && prod ? 0 : -ENOMEM;
	if (rc)
		goto out;
	c->fc = fc;
	str_copy(c->project_id, sizeof(c->project_id), project_id);
	c->spec = *spec;
	c->spec.device_ids = NULL;
	rc = open_package(fc, c, p, why);
	if (rc)
		goto out;
	if (spec->product_id[0] && strcmp(spec->product_id, c->product_id) != 0) {
		snprintf(fc->why, sizeof(fc->why),
			 "targets.product_id: the package is of product %.64s", c->product_id);
		*why = fc->why;
		rc = -EINVAL;
		goto out;
	}
	rc = store_product_get(fc->deps.store, project_id, c->product_id, prod);
	if (rc == -ENOENT)
		*why = "product: the package's product does not exist";
	if (rc)
		goto out;
	if (spec->product_id[0]) {
		struct store_device_counts n;
		rc = store_device_counts(fc->deps.store, project_id, c->product_id, &n);
		if (rc)
			goto out;
		if (n.total > FW_CAMPAIGN_MAX_TARGETS) {
			*why = "targets.product_id: the product has over 1000000 devices";
			rc = -E2BIG;
			goto out;
		}
	}
	rc = open_file(fc, c, p, why);
	if (rc)
		goto out;
	if (token_random_hex(c->campaign_id, sizeof(c->campaign_id), CAMPAIGN_ID_BYTES)) {
		rc = -EIO;
		goto out;
	}
	c->status = FW_CAMPAIGN_RUNNING;
	c->create_time = fc->now_ms / 1000;
	c->start_ms = fc->now_ms;
	c->cursor = -1;
	rc = store_campaign(fc, c, spec, why);
	if (rc)
		goto out;
	c->counts[FW_WAITING] = c->targets;
	fw_bucket_init(&c->bucket, c->spec.rate_per_minute, fc->now_ms);
	fw_campaign_link(fc, c);
	str_copy(id, STORE_ID_MAX + 1, c->campaign_id);
	LOG_INFO("firmware", "campaign %s of project %s: %u devices to %s", c->campaign_id,
		 project_id, c->targets, c->pkg.version);
	fw_campaign_publish(c);
	c = NULL;
out:
	if (c)
		fw_file_release(c->pkg.file);
	free(c);
	free(p);
	free(prod);
	return rc;
}

/* Loading. */

static int load_job(const struct store_fw_target *t, void *ctx)
{
	struct fw_campaign *c = ctx;
	bool running = t->state > FW_WAITING && t->state <= FW_UPDATING;
	/* A stopped campaign starts nothing again: its retries stay waiting rows. */
	if (!running && c->status == FW_CAMPAIGN_STOPPED)
		return 0;
	return fw_campaign_job_new(c, t) ? 0 : -ENOMEM;
}

/* Hands the campaign's running jobs back to the engine. */
static void resume_jobs(struct fw_campaigns *fc, struct fw_campaign *c)
{
	for (struct cjob *cj = c->retries, *next; cj; cj = next) {
		next = cj->next;
		if (cj->job.row.state == FW_WAITING)
			continue;
		fw_campaign_job_running(c, cj);
		if (fw_engine_resume(fc->deps.engine, &cj->job) == 0)
			continue;
		cj->job.row.state = FW_FAILED;
		str_copy(cj->job.row.reason, sizeof(cj->job.row.reason),
			 "the update could not be resumed after a restart");
		cj->job.transient = true;
		fw_campaigns_job_changed(fc, &cj->job);
	}
}

static void load_targets(struct fw_campaigns *fc, struct fw_campaign *c)
{
	struct store_fw_target_stats st;
	if (store_fw_target_stats(fc->deps.store, c->campaign_id, &st) == 0) {
		for (int s = 0; s < FW_STATE_COUNT; s++) {
			c->counts[s] = st.counts[s];
			c->targets += st.counts[s];
		}
		c->bytes_served = st.bytes;
		c->cursor = st.last_started;
	}
	if (fw_campaign_ended(c) && c->status != FW_CAMPAIGN_STOPPED)
		return;
	const char *why = "";
	struct store_fw_package p;
	int rc = open_package(fc, c, &p, &why);
	if (rc == 0)
		rc = open_file(fc, c, &p, &why);
	if (rc) {
		if (!fw_campaign_ended(c)) {
			char reason[STORE_FW_REASON_MAX + 1];
			snprintf(reason, sizeof(reason), "at start: %s",
				 rc == -ENOENT && why[0] ? why : strerror(-rc));
			fw_campaign_set_status(c, FW_CAMPAIGN_STOPPED, reason);
		}
		return; /* its running targets stay as stored: nothing can serve them */
	}
	if (store_fw_target_each_active(fc->deps.store, c->campaign_id, load_job, c) != 0)
		LOG_ERROR("firmware", "campaign %s: its running targets were not all read",
			  c->campaign_id);
	/* A job that cannot be resumed ends now, and may end the campaign: nothing else is
	 * let go of until the walk is over. */
	fc->loading = true;
	resume_jobs(fc, c);
	fc->loading = false;
	fw_campaign_release_ended(c);
}

static int load_one(const struct store_fw_campaign *row, void *ctx)
{
	struct fw_campaigns *fc = ctx;
	struct fw_campaign *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	str_copy(c->project_id, sizeof(c->project_id), row->project_id);
	str_copy(c->campaign_id, sizeof(c->campaign_id), row->campaign_id);
	if (fw_campaign_settings_parse(row->spec, &c->spec) != 0) {
		LOG_ERROR("firmware", "campaign %s: its stored settings do not read",
			  row->campaign_id);
		str_copy(c->spec.package_id, sizeof(c->spec.package_id), row->package_id);
	}
	c->status = (enum fw_campaign_status)row->status;
	str_copy(c->stop_reason, sizeof(c->stop_reason), row->stop_reason);
	c->create_time = row->create_time;
	c->start_ms = row->start_ms;
	c->end_ms = row->end_ms;
	c->cursor = -1;
	fw_bucket_init(&c->bucket, c->spec.rate_per_minute ? c->spec.rate_per_minute : 1,
		       fc->now_ms);
	fw_campaign_link(fc, c);
	return 0;
}

int fw_campaigns_load(struct fw_campaigns *fc)
{
	/* The rows first, then the jobs: nothing is written while the walk reads. */
	int rc = store_fw_campaign_each(fc->deps.store, load_one, fc);
	if (rc)
		return rc;
	unsigned n = 0;
	for (struct fw_campaign *c = fc->head; c; c = c->next, n++)
		load_targets(fc, c);
	if (n)
		LOG_INFO("firmware", "%u campaigns loaded", n);
	return 0;
}
