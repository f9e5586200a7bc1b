/*
 * api_console: serving the console's files (see api_console.h) and the headers that keep
 * a browser from running anything but them.
 *
 * `/` and `/console` redirect to `/console/`, which is index.html; every other
 * `/console/<path>` is one embedded file or a 404. The files are revalidated on each load
 * (Cache-Control: no-cache, with a strong ETag and 304 Not Modified), so a new daemon's
 * console is never mixed with an old one's cached modules. HTML pages get a strict
 * Content-Security-Policy: only the daemon's own scripts, styles and API, no inline
 * script or style, no framing. A browser that accepts gzip gets the copy gzipped at build
 * time (a third of the bytes), under its own ETag.
 */
#include "api/api_console.h"

#include <string.h>
#include <strings.h>

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

/* Whether a weight ("q=" value, RFC 9110 12.4.2) between q and end is zero: "0", "0.",
 * "0.000". */
static bool weight_is_zero(const char *q, const char *end)
{
	if (q >= end || *q != '0')
		return false;
	q++;
	if (q < end && *q == '.') {
		q++;
		while (q < end && *q == '0')
			q++;
	}
	return q >= end || *q == ' ' || *q == '\t' || *q == ';';
}

/* Whether an Accept-Encoding value accepts gzip (RFC 9110 12.5.3): "gzip", "x-gzip" or
 * "*" among its comma-separated codings, with no weight of 0 ("gzip;q=0" refuses it). */
bool api_accepts_gzip(const char *accept)
{
	for (const char *p = accept; p && *p;) {
		p += strspn(p, " \t,");
		const char *end = p + strcspn(p, ",");
		size_t n = strcspn(p, " \t;,");
		bool named = (n == 4 && strncasecmp(p, "gzip", 4) == 0) ||
			     (n == 6 && strncasecmp(p, "x-gzip", 6) == 0) || (n == 1 && *p == '*');
		bool refused = false;
		for (const char *param = memchr(p, ';', (size_t)(end - p)); named && param;
		     param = memchr(param + 1, ';', (size_t)(end - param - 1))) {
			const char *q = param + 1 + strspn(param + 1, " \t");
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=')
				refused = weight_is_zero(q + 2, end);
		}
		if (named && !refused)
			return true;
		p = end;
	}
	return false;
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
	c->asset_gzip = a->gzip && api_accepts_gzip(MHD_lookup_connection_value(
					   c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
	const char *etag = c->asset_gzip ? a->gzip_etag : a->etag;
	const char *match =
		MHD_lookup_connection_value(c->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
	c->status = match && strcmp(match, etag) == 0 ? 304 : 200;
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
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG,
				c->asset_gzip ? c->asset->gzip_etag : c->asset->etag);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	if (c->asset->gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
	if (c->asset_gzip)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (strncmp(c->asset->content_type, "text/html", 9) == 0)
		MHD_add_response_header(resp, "Content-Security-Policy", CONSOLE_CSP);
}
