/*
 * lwm2m_link: a no-allocation CoRE link-format parser (RFC 6690 §2) and LwM2M paths.
 *
 * The grammar is parsed left to right with one cursor; every reported string points into
 * the caller's payload. Whitespace is tolerated only where real clients put it: after ','
 * and ';' and around the whole payload.
 */
#include "lwm2m/lwm2m_link.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

struct cursor {
	const char *p;
	const char *end;
};

static void skip_space(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

/* RFC 6690 parmname = 1*( ALPHA / DIGIT / "!" / "#" / "$" / "&" / "+" / "-" / "." / "^" /
 * "_" / "`" / "|" / "~" ); we take letters, digits and the punctuation clients use. */
static bool is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       strchr("!#$&+-.^_`|~", ch) != NULL;
}

/* ptoken characters: anything printable but separators of the link grammar. */
static bool is_token_char(char ch)
{
	return ch > 0x20 && ch < 0x7f && ch != ',' && ch != ';' && ch != '"' && ch != '<' &&
	       ch != '>';
}

static int parse_attr(struct cursor *c, struct lwm2m_link_attr *attr)
{
	const char *name = c->p;
	while (c->p < c->end && is_name_char(*c->p))
		c->p++;
	if (c->p == name)
		return -EBADMSG;
	attr->name = name;
	attr->name_len = (size_t)(c->p - name);
	attr->value = NULL;
	attr->value_len = 0;
	if (c->p == c->end || *c->p != '=')
		return 0;
	c->p++;
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		const char *value = c->p;
		while (c->p < c->end && *c->p != '"') {
			if (*c->p == '\\' && c->p + 1 < c->end)
				c->p++; /* quoted-pair: keep the escape in the value */
			c->p++;
		}
		if (c->p == c->end)
			return -EBADMSG; /* unterminated quoted string */
		attr->value = value;
		attr->value_len = (size_t)(c->p - value);
		c->p++;
		return 0;
	}
	const char *value = c->p;
	while (c->p < c->end && is_token_char(*c->p))
		c->p++;
	/* "ct=" with nothing after it is a valid empty ptoken in practice only as an error. */
	if (c->p == value)
		return -EBADMSG;
	attr->value = value;
	attr->value_len = (size_t)(c->p - value);
	return 0;
}

static int parse_link(struct cursor *c, struct lwm2m_link *link)
{
	if (c->p == c->end || *c->p != '<')
		return -EBADMSG;
	c->p++;
	const char *uri = c->p;
	while (c->p < c->end && *c->p != '>') {
		if (*c->p == '<' || *c->p == ',' || (unsigned char)*c->p < 0x21)
			return -EBADMSG;
		c->p++;
	}
	if (c->p == c->end)
		return -EBADMSG;
	link->uri = uri;
	link->uri_len = (size_t)(c->p - uri);
	link->attr_count = 0;
	c->p++;
	while (c->p < c->end && *c->p == ';') {
		c->p++;
		skip_space(c);
		if (link->attr_count == LWM2M_LINK_MAX_ATTRS)
			return -EBADMSG;
		int rc = parse_attr(c, &link->attrs[link->attr_count]);
		if (rc)
			return rc;
		link->attr_count++;
	}
	return 0;
}

int lwm2m_link_parse(const char *payload, size_t len,
		     int (*cb)(const struct lwm2m_link *link, void *ctx), void *ctx)
{
	struct lwm2m_link link;

	/* No payload at all (a Register without one hands NULL): empty, and NULL + 0 would
	 * be undefined behaviour (C11 §6.5.6). */
	if (payload == NULL)
		return -EBADMSG;
	struct cursor c = { payload, payload + len };
	skip_space(&c);
	if (c.p == c.end)
		return -EBADMSG;
	for (;;) {
		int rc = parse_link(&c, &link);
		if (rc)
			return rc;
		rc = cb(&link, ctx);
		if (rc)
			return rc;
		skip_space(&c);
		if (c.p == c.end)
			return 0;
		if (*c.p != ',')
			return -EBADMSG;
		c.p++;
		skip_space(&c);
		if (c.p == c.end)
			return -EBADMSG; /* trailing ',' */
	}
}

int lwm2m_link_find_attr(const struct lwm2m_link *link, const char *name,
			 const char **value, size_t *value_len)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < link->attr_count; i++) {
		const struct lwm2m_link_attr *a = &link->attrs[i];
		if (a->name_len == n && memcmp(a->name, name, n) == 0) {
			*value = a->value;
			*value_len = a->value_len;
			return 0;
		}
	}
	return -ENOENT;
}

/* Parses one decimal id of 1–5 digits into *id; returns the characters used or -EINVAL. */
static int parse_id(const char *s, const char *end, uint16_t *id)
{
	uint32_t v = 0;
	const char *p = s;
	while (p < end && *p >= '0' && *p <= '9') {
		if (p - s == 5)
			return -EINVAL;
		v = v * 10 + (uint32_t)(*p - '0');
		p++;
	}
	if (p == s || v > LWM2M_ID_MAX)
		return -EINVAL;
	*id = (uint16_t)v;
	return (int)(p - s);
}

int lwm2m_path_parse(const char *s, size_t len, struct lwm2m_path *path)
{
	const char *p = s, *end = s + len;

	path->len = 0;
	if (len == 0 || *p != '/')
		return -EINVAL;
	if (len == 1)
		return 0;
	while (p < end) {
		if (*p != '/' || path->len == LWM2M_PATH_MAX_DEPTH)
			return -EINVAL;
		p++;
		int n = parse_id(p, end, &path->ids[path->len]);
		if (n < 0)
			return n;
		path->len++;
		p += n;
	}
	return 0;
}

int lwm2m_path_format(const struct lwm2m_path *path, char *buf, size_t cap)
{
	size_t used = 0;

	if (cap == 0)
		return -ENOBUFS;
	if (path->len == 0) {
		if (cap < 2)
			return -ENOBUFS;
		memcpy(buf, "/", 2);
		return 1;
	}
	for (uint8_t i = 0; i < path->len && i < LWM2M_PATH_MAX_DEPTH; i++) {
		char seg[8];
		int n = 0;
		uint16_t v = path->ids[i];
		char digits[6];
		int d = 0;
		do {
			digits[d++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		seg[n++] = '/';
		while (d)
			seg[n++] = digits[--d];
		if (used + (size_t)n + 1 > cap)
			return -ENOBUFS;
		memcpy(buf + used, seg, (size_t)n);
		used += (size_t)n;
	}
	buf[used] = '\0';
	return (int)used;
}

struct reg_check {
	struct lwm2m_reg_links *out;
	bool seen_root;
	bool seen_object;
};

static bool attr_equals(const struct lwm2m_link *link, const char *name, const char *want)
{
	const char *v;
	size_t n;
	if (lwm2m_link_find_attr(link, name, &v, &n) != 0 || v == NULL)
		return false;
	return n == strlen(want) && memcmp(v, want, n) == 0;
}

/* Parses a decimal content format (0–65535) from an attribute value. */
static int parse_ct(const char *v, size_t n)
{
	if (v == NULL || n == 0 || n > 5)
		return -1;
	int ct = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		ct = ct * 10 + (v[i] - '0');
	}
	return ct <= 65535 ? ct : -1;
}

static int check_reg_link(const struct lwm2m_link *link, void *ctx)
{
	struct reg_check *rc = ctx;
	struct lwm2m_reg_links *out = rc->out;

	if (attr_equals(link, "rt", "oma.lwm2m")) {
		/* The root link: "/" or an alternate path such as "/lwm2m"; once, first. */
		if (rc->seen_root || rc->seen_object || link->uri_len == 0 || link->uri[0] != '/' ||
		    link->uri_len >= sizeof(out->alt_path))
			return -EBADMSG;
		rc->seen_root = true;
		size_t n = link->uri_len;
		while (n > 1 && link->uri[n - 1] == '/')
			n--; /* "/lwm2m/" names the same alternate path as "/lwm2m" */
		if (n > 1) {
			memcpy(out->alt_path, link->uri, n);
			out->alt_path[n] = '\0';
		}
		const char *v;
		size_t vn;
		if (lwm2m_link_find_attr(link, "ct", &v, &vn) == 0) {
			/* LwM2M 1.1 allows a list: ct="60 110 112 11542"; keep the first. */
			size_t first = 0;
			while (v != NULL && first < vn && v[first] != ' ')
				first++;
			out->content_format = parse_ct(v, first);
			if (out->content_format < 0)
				return -EBADMSG;
		}
		return 0;
	}
	/* An object or object-instance link below the alternate path. */
	size_t alt = strlen(out->alt_path);
	if (link->uri_len <= alt || memcmp(link->uri, out->alt_path, alt) != 0)
		return -EBADMSG;
	struct lwm2m_path path;
	if (lwm2m_path_parse(link->uri + alt, link->uri_len - alt, &path) != 0 || path.len == 0 ||
	    path.len > 2)
		return -EBADMSG;
	rc->seen_object = true;
	out->object_count++;
	return 0;
}

int lwm2m_reg_links_check(const char *payload, size_t len, struct lwm2m_reg_links *out)
{
	struct reg_check rc = { .out = out };

	memset(out, 0, sizeof(*out));
	out->content_format = -1;
	int err = lwm2m_link_parse(payload, len, check_reg_link, &rc);
	if (err)
		memset(out->alt_path, 0, sizeof(out->alt_path));
	return err ? -EBADMSG : 0;
}
