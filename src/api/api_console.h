/*
 * api_console: the web console's files, built into the daemon (cmake/embed_console.cmake
 * turns console/ into api_console_assets at build time) and served on the API's own port
 * under /console/, so that the console is a client of the same-origin REST API and works
 * with no internet and nothing installed beside the binary.
 */
#ifndef LWM2MD_API_CONSOLE_H
#define LWM2MD_API_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

struct api_asset {
	const char *path;         /* "/console/index.html" */
	const char *content_type;
	const char *etag;         /* a strong ETag, quoted: the start of the SHA-256 */
	const unsigned char *data;
	size_t len;
	/* The same file gzipped, for a client that accepts it; NULL when not smaller. */
	const unsigned char *gzip;
	size_t gzip_len;
	const char *gzip_etag; /* the ETag with "-gz": another representation, another tag */
};

/* The generated table (build/console_assets.c). */
extern const struct api_asset api_console_assets[];
extern const unsigned api_console_asset_count;

/* Whether an Accept-Encoding header's value (may be NULL) accepts gzip. */
bool api_accepts_gzip(const char *accept);

/* The asset at path ("/console/" is index.html), or NULL. */
const struct api_asset *api_console_find(const char *path);

#endif
