/*
 * api_firmware: the /v5/iot/{project_id}/firmware routes (docs/firmware.md "Packages").
 *
 * An upload is the one route whose body is never gathered in memory: api_http.c calls
 * api_firmware_create when the request's headers are known (the token and query checked,
 * the product and version looked up, the temporary file opened), then
 * api_firmware_upload_chunk with each piece of the body as libmicrohttpd reads it, and
 * api_firmware_upload_end once the body is all there. The file is complete and synced
 * before its row is written, and the 201 waits for that row's commit (api_http.c's held
 * answers), so a package the client was told of has both its row and its bytes.
 */
#include "api/api_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "firmware/fw_package.h"
#include "store/store_firmware.h"
#include "store/store_platform.h"
#include "util/log.h"
#include "util/str.h"
#include "util/token.h"

/* A generated package_id: 12 random bytes, 24 hex characters (as rule ids). */
#define PACKAGE_ID_RANDOM_BYTES 12

/* An upload between its first call and its answer (api_request.upload). */
struct api_fw_upload {
	struct fw_upload *file;
	struct store_fw_package pkg; /* all but sha256, size and create_time */
};

bool api_firmware_is_upload(const char *url, const char *method)
{
	static const char prefix[] = "/v5/iot/", suffix[] = "/firmware";
	const size_t pre = sizeof(prefix) - 1, suf = sizeof(suffix) - 1;
	size_t n = strlen(url);
	if (strcmp(method, "POST") != 0 || n <= pre + suf || strncmp(url, prefix, pre) != 0 ||
	    strcmp(url + n - suf, suffix) != 0)
		return false;
	/* One segment between them: the project. */
	return memchr(url + pre, '/', n - pre - suf) == NULL;
}

uint64_t api_firmware_max_bytes(const struct api_server *api)
{
	return api->deps.firmware_max_bytes ? api->deps.firmware_max_bytes
					    : FW_PACKAGE_DEFAULT_MAX_BYTES;
}

static json_t *package_json(const struct store_fw_package *p)
{
	char t[API_TIME_MAX];
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:o}", "package_id",
			 api_json_str(p->package_id), "product_id", api_json_str(p->product_id),
			 "version", api_json_str(p->version), "description",
			 api_json_str(p->description), "sha256", api_json_str(p->sha256), "size",
			 (json_int_t)p->size, "create_time",
			 api_json_str(api_format_time(p->create_time, t)));
}

/* A version: 1..STORE_FW_VERSION_MAX printable ASCII characters, no space — it is
 * compared byte for byte with what devices report in /3/0/3, where a stray space or a
 * look-alike character would make an update never count as done. */
static bool version_valid(const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n > STORE_FW_VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return false;
	}
	return true;
}

/* One walk over the project's packages: how many, and whether the version is taken. */
struct scan {
	const char *product, *version;
	bool taken;
	unsigned count;
};

static int scan_one(const struct store_fw_package *p, void *ctx)
{
	struct scan *s = ctx;
	s->count++;
	if (strcmp(p->product_id, s->product) == 0 && strcmp(p->version, s->version) == 0)
		s->taken = true;
	return 0;
}

/* The query, the product and the room for one more package: 0, or an error reply set. */
static int check_upload(struct api_call *c, struct store_fw_package *pkg)
{
	struct api_err err;
	const char *product = api_query(c, "product_id");
	const char *version = api_query(c, "version");
	const char *description = api_query(c, "description");
	struct store *s = c->api->deps.store;

	if (!product || !version) {
		api_reply_error(c, 400, "query parameters product_id and version are required");
		return -EINVAL;
	}
	if (api_check_string("product_id", product, strlen(product), 1, STORE_ID_MAX,
			     API_STR_ID, &err) != 0 ||
	    (description && api_check_string("description", description, strlen(description),
					     0, STORE_TEXT_MAX, API_STR_ANY, &err) != 0)) {
		api_reply_error(c, 400, "%s", err.msg);
		return -EINVAL;
	}
	/* A query is bytes: what is not UTF-8 could not be shown back as JSON. */
	json_t *text = description ? json_string(description) : NULL;
	if (description && !text) {
		api_reply_error(c, 400, "description must be UTF-8");
		return -EINVAL;
	}
	json_decref(text);
	if (!version_valid(version)) {
		api_reply_error(c, 400,
				"version must be 1-%d printable ASCII characters without spaces",
				STORE_FW_VERSION_MAX);
		return -EINVAL;
	}
	struct store_product prod;
	int rc = store_product_get(s, c->project_id, product, &prod);
	if (rc == -ENOENT)
		api_reply_error(c, 404, "product %s not found", product);
	else if (rc != 0)
		api_reply_store_error(c, rc, "product");
	if (rc != 0)
		return rc;
	/* Refused now rather than after the body: the client need not send it for nothing.
	 * The row's unique key still decides at the end. */
	struct scan scan = {.product = product, .version = version};
	rc = store_fw_package_list(s, c->project_id, NULL, scan_one, &scan);
	if (rc != 0) {
		api_reply_store_error(c, rc, "firmware packages");
		return rc;
	}
	if (scan.taken) {
		api_reply_error(c, 409, "product %s already has version %s", product, version);
		return -EEXIST;
	}
	if (scan.count >= API_FW_PACKAGES_MAX) {
		api_reply_error(c, 400, "a project has at most %d firmware packages",
				API_FW_PACKAGES_MAX);
		return -ENOSPC;
	}
	memset(pkg, 0, sizeof(*pkg));
	str_copy(pkg->project_id, sizeof(pkg->project_id), c->project_id);
	str_copy(pkg->product_id, sizeof(pkg->product_id), product);
	str_copy(pkg->version, sizeof(pkg->version), version);
	str_copy(pkg->description, sizeof(pkg->description), description ? description : "");
	return 0;
}

void api_firmware_create(struct api_call *c)
{
	struct api_server *api = c->api;
	struct api_request *req = c->req;

	if (!req || !req->streamed) {
		api_reply_error(c, 500, "a firmware upload must be streamed");
		return;
	}
	if (!api->deps.firmware_dir[0]) {
		api_reply_error(c, 503, "firmware packages are not configured");
		return;
	}
	struct api_fw_upload *up = calloc(1, sizeof(*up));
	if (!up) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	if (check_upload(c, &up->pkg) != 0) {
		free(up);
		return;
	}
	int rc = fw_upload_begin(&up->file, api->deps.firmware_dir, api_firmware_max_bytes(api));
	if (rc != 0) {
		LOG_ERROR("api", "firmware upload into %s: %s", api->deps.firmware_dir,
			  strerror(-rc));
		api_reply_error(c, 507, "the firmware directory cannot be written");
		free(up);
		return;
	}
	/* No reply yet: the body follows (api_http.c). */
	req->upload = up;
}

void api_firmware_upload_free(struct api_request *req)
{
	struct api_fw_upload *up = req->upload;
	if (!up)
		return;
	fw_upload_abort(up->file); /* removes the temporary file */
	free(up);
	req->upload = NULL;
}

/* Ends the upload with an error answered once the body is read. */
static void upload_fail(struct api_request *req, unsigned status, const char *msg)
{
	api_firmware_upload_free(req);
	json_decref(req->reply);
	req->status = status;
	req->reply = api_error_json(status, msg);
}

void api_firmware_upload_chunk(struct api_server *api, struct api_request *req,
			       const void *data, size_t len)
{
	struct api_fw_upload *up = req->upload;
	char msg[128];
	if (!up)
		return;
	int rc = fw_upload_write(up->file, data, len);
	if (rc == -EFBIG) {
		snprintf(msg, sizeof(msg), "the package is larger than %" PRIu64 " bytes",
			 api_firmware_max_bytes(api));
		upload_fail(req, 413, msg);
	} else if (rc != 0) {
		LOG_ERROR("api", "firmware upload: writing: %s", strerror(-rc));
		upload_fail(req, 507, "the package could not be written to disk");
	}
}

void api_firmware_upload_end(struct api_call *c)
{
	struct api_request *req = c->req;
	struct api_fw_upload *up = req->upload;
	struct store *s = c->api->deps.store;
	const char *dir = c->api->deps.firmware_dir;
	struct store_fw_package *p = &up->pkg;

	int rc = fw_upload_finish(up->file, p->sha256, &p->size);
	up->file = NULL; /* freed by finish, whatever it said */
	if (rc == -EINVAL) {
		api_reply_error(c, 400, "the package is empty");
		goto out;
	}
	if (rc != 0) {
		LOG_ERROR("api", "firmware upload: storing the file: %s", strerror(-rc));
		api_reply_error(c, 507, "the package could not be stored on disk");
		goto out;
	}
	if (token_random_hex(p->package_id, sizeof(p->package_id), PACKAGE_ID_RANDOM_BYTES)) {
		api_reply_error(c, 500, "no randomness for a package_id");
		rc = -EIO;
	} else {
		p->create_time = (int64_t)time(NULL);
		rc = store_fw_package_put(s, p);
		if (rc == -EEXIST)
			api_reply_error(c, 409, "product %s already has version %s",
					p->product_id, p->version);
		else if (rc != 0)
			api_reply_store_error(c, rc, "firmware package");
		else
			api_reply(c, 201, package_json(p));
	}
	/* No row names the file (a version taken meanwhile): it goes, unless another
	 * package has the same bytes. */
	int refs = 1;
	if (rc != 0 && store_fw_sha_refs(s, p->sha256, &refs) == 0 && refs == 0)
		fw_package_file_remove(dir, p->sha256);
out:
	free(up);
	req->upload = NULL;
}

struct list_ctx {
	json_t *items;
	int rc;
};

static int list_one(const struct store_fw_package *p, void *ctx)
{
	struct list_ctx *l = ctx;
	json_t *o = package_json(p);
	if (!o || json_array_append_new(l->items, o) != 0) {
		l->rc = -ENOMEM;
		return 1;
	}
	return 0;
}

void api_firmware_list(struct api_call *c)
{
	struct api_err err;
	const char *product = api_query(c, "product_id");
	if (product && api_check_string("product_id", product, strlen(product), 1, STORE_ID_MAX,
					API_STR_ID, &err) != 0) {
		api_reply_error(c, 400, "%s", err.msg);
		return;
	}
	struct list_ctx l = {.items = json_array()};
	if (!l.items) {
		api_reply_error(c, 500, "out of memory");
		return;
	}
	int rc = store_fw_package_list(c->api->deps.store, c->project_id, product, list_one, &l);
	if (rc == 0)
		rc = l.rc;
	if (rc != 0) {
		json_decref(l.items);
		api_reply_store_error(c, rc, "firmware packages");
		return;
	}
	size_t n = json_array_size(l.items);
	api_reply(c, 200, json_pack("{s:o, s:I}", "packages", l.items, "count", (json_int_t)n));
}

void api_firmware_get(struct api_call *c)
{
	struct store_fw_package p;
	int rc = store_fw_package_get(c->api->deps.store, c->project_id, c->id, &p);
	if (rc != 0) {
		api_reply_store_error(c, rc, "firmware package");
		return;
	}
	api_reply(c, 200, package_json(&p));
}

void api_firmware_delete(struct api_call *c)
{
	struct store *s = c->api->deps.store;
	struct store_fw_package p;
	int rc = store_fw_package_get(s, c->project_id, c->id, &p);
	if (rc == 0)
		rc = store_fw_package_delete(s, c->project_id, c->id);
	if (rc == -EBUSY) {
		api_reply_error(c, 409, "firmware package %s is used by a running or paused "
					"campaign", c->id);
		return;
	}
	if (rc != 0) {
		api_reply_store_error(c, rc, "firmware package");
		return;
	}
	/* The file goes with the last package that has its bytes. */
	int refs = 1;
	rc = store_fw_sha_refs(s, p.sha256, &refs);
	if (rc == 0 && refs == 0 && c->api->deps.firmware_dir[0]) {
		rc = fw_package_file_remove(c->api->deps.firmware_dir, p.sha256);
		if (rc != 0 && rc != -ENOENT)
			LOG_WARN("api", "firmware file %s not removed: %s", p.sha256,
				 strerror(-rc));
	}
	api_reply(c, 204, NULL);
}
