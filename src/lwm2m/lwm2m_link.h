/*
 * lwm2m_link: CoRE Link Format (RFC 6690) as LwM2M 1.1 uses it in Register and Update
 * payloads (OMA-TS-LightweightM2M_Transport §6.2.1 / Core §6.2.1), and LwM2M paths.
 *
 * Part of lwm2m/ in docs/architecture.md. The parser does not allocate: every string it
 * reports points into the caller's payload and carries a length (not NUL-terminated).
 */
#ifndef LWM2MD_LWM2M_LINK_H
#define LWM2MD_LWM2M_LINK_H

#include <stddef.h>
#include <stdint.h>

#define LWM2M_LINK_MAX_ATTRS 16
#define LWM2M_PATH_MAX_DEPTH 4
/* Ids are 0–65534; 65535 is reserved by LwM2M (Core §7.1: MAX_ID). */
#define LWM2M_ID_MAX 65534

struct lwm2m_link_attr {
	const char *name;
	size_t name_len;
	const char *value; /* NULL for a bare attribute ("obs"); quotes removed when quoted */
	size_t value_len;
};

struct lwm2m_link {
	const char *uri; /* between '<' and '>' */
	size_t uri_len;
	size_t attr_count;
	struct lwm2m_link_attr attrs[LWM2M_LINK_MAX_ATTRS];
};

/*
 * Parses a link-format payload: link *("," link), link = "<" URI ">" *(";" attr),
 * attr = name [ "=" ( token | quoted-string ) ]. Optional whitespace after ',' and ';' is
 * tolerated (real clients send it). Calls cb once per link, in order; a non-zero return from
 * cb stops parsing and is returned. Returns 0, or -EBADMSG for malformed input (no '<', an
 * unterminated URI or quoted string, an empty attribute name, trailing ',' or garbage, a
 * link with more than LWM2M_LINK_MAX_ATTRS attributes, an empty payload).
 */
int lwm2m_link_parse(const char *payload, size_t len,
		     int (*cb)(const struct lwm2m_link *link, void *ctx), void *ctx);

/* Finds attribute name in link: 0 with *value and *value_len set (value NULL for a bare
 * attribute), or -ENOENT. */
int lwm2m_link_find_attr(const struct lwm2m_link *link, const char *name,
			 const char **value, size_t *value_len);

/* An LwM2M path: /object[/instance[/resource[/resource-instance]]]; len 0 is "/". */
struct lwm2m_path {
	uint8_t len;
	uint16_t ids[LWM2M_PATH_MAX_DEPTH];
};

/* Parses "/3/0/1" (a leading '/' required, no trailing '/' except for "/" itself, each id
 * decimal 0–LWM2M_ID_MAX without sign or leading '+'). Returns 0 or -EINVAL. */
int lwm2m_path_parse(const char *s, size_t len, struct lwm2m_path *path);

/* Writes "/3/0/1" into buf (NUL-terminated). Returns the length or -ENOBUFS. */
int lwm2m_path_format(const struct lwm2m_path *path, char *buf, size_t cap);

/* What a Register/Update payload says, once checked. */
struct lwm2m_reg_links {
	/* Alternate path from a link with rt="oma.lwm2m" (e.g. "/lwm2m"), "" when the link is
	 * absent or its URI is "/". NUL-terminated. */
	char alt_path[64];
	size_t object_count;   /* links naming an object or an object instance */
	int content_format;    /* ct= of the root link, or -1 when absent */
};

/*
 * Checks a Register/Update payload the way an LwM2M server must: every link is either the
 * root link (carrying rt="oma.lwm2m", URI "/" or an alternate path of one or more segments)
 * or, below the alternate path, "/obj" or "/obj/inst" with ids in range; "ver" and other
 * attributes are accepted. Links deeper than an instance, non-numeric ids, or ids over
 * LWM2M_ID_MAX are malformed. Returns 0 with *out filled, or -EBADMSG.
 */
int lwm2m_reg_links_check(const char *payload, size_t len, struct lwm2m_reg_links *out);

#endif
