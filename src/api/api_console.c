/*
 * api_console: serving the console's files (see api_console.h) and the headers that keep
 * a browser from running anything but them.
 *
 * `/` and `/console` redirect to `/console/`, which is index.html; every other
 * `/console/<path>` is one embedded file or a 404. The files are revalidated on each load
 * (Cache-Control: no-cache, with a strong ETag and 304 Not Modified), so a new daemon's
 * console is never mixed with an old one's cached modules. HTML pages get a strict
 * Content-Security-Policy: only the daemon's own scripts, styles and API, no inline
 * script or style, no framing.
 */
#include "api/api_console.h"

#include <string.h>

#include "api/api_internal.h"

#define CONSOLE_PREFIX "/console/"
#define CONSOLE_CSP                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "  \
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "       \
	"frame-ancestors 'none'"

const struct api_asset *api_console_find(const char *path)
{
	char index[sizeof(CONSOLE_PREFIX) + 16];
	if (strcmp(path, CONSOLE_PREFIX) == 0) {
		memcpy(index, CONSOLE_PREFIX "index.html", sizeof(CONSOLE_PREFIX "index.html"));
		path = index;
	}
	for (unsigned i = 0; i < api_console_asset_count; i++) {
		if (strcmp(api_console_assets[i].path, path) == 0)
			return &api_console_assets[i];
	}
	return NULL;
}

static bool is_console_path(const char *url)
{
	return strcmp(url, "/") == 0 || strcmp(url, "/console") == 0 ||
	       strncmp(url, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) == 0;
}

bool api_console_route(struct api_call *c, const char *url, const char *method)
{
	if (!is_console_path(url))
		return false;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		api_reply_error(c, 405, "method %s not allowed here (allowed: GET, HEAD)", method);
		c->allow = "GET, HEAD";
		return true;
	}
	if (strncmp(url, CONSOLE_PREFIX, strlen(CONSOLE_PREFIX)) != 0) {
		c->status = 302;
		c->location = CONSOLE_PREFIX;
		return true;
	}
	const struct api_asset *a = api_console_find(url);
	if (!a) {
		api_reply_error(c, 404, "no such file in the console");
		return true;
	}
	c->asset = a;
	const char *match =
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	c->status = match && strcmp(match, a->etag) == 0 ? 304 : 200;
	return true;
}

void api_console_headers(struct MHD_Response *resp, const struct api_call *c)
{
	/* On every answer: no MIME sniffing, no framing by another site. */
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (c->location)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, c->location);
	if (!c->asset)
		return;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, c->asset->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	if (strncmp(c->asset->content_type, "text/html", 9) == 0)
		MHD_add_response_header(resp, "Content-Security-Policy", CONSOLE_CSP);
}
