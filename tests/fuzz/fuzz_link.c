/*
 * libFuzzer target for the CoRE link format (src/lwm2m/lwm2m_link.c) as Register and
 * Update payloads carry it: lwm2m_link_parse, the Register payload check
 * (lwm2m_reg_links_check) and LwM2M paths (lwm2m_path_parse / lwm2m_path_format).
 *
 * What must hold: every string the parser reports lies inside the payload; the links,
 * written out again in link format, parse to the same links; a payload the Register check
 * accepts parses, its alternate path is a path prefix it names, and its object count is
 * at most the number of links; a path that parses formats back to text that parses to the
 * same path, and a formatted path is the canonical form of what was parsed (no leading
 * zeros).
 *
 * Input: a Register payload, as is.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz_common.h"
#include "lwm2m/lwm2m_link.h"

#define PAYLOAD_MAX 4096
#define LINKS_MAX 512

struct collected {
	const char *payload;
	size_t len;
	size_t count;
	struct lwm2m_link links[LINKS_MAX];
	bool quoted[LINKS_MAX][LWM2M_LINK_MAX_ATTRS];
};

static bool inside(const struct collected *c, const char *s, size_t n)
{
	return s >= c->payload && n <= c->len && s - c->payload <= (ptrdiff_t)(c->len - n);
}

static int collect(const struct lwm2m_link *link, void *ctx)
{
	struct collected *c = ctx;
	FUZZ_CHECK(inside(c, link->uri, link->uri_len), "uri outside the payload");
	FUZZ_CHECK(memchr(link->uri, '>', link->uri_len) == NULL, "'>' in a uri");
	FUZZ_CHECK(link->attr_count <= LWM2M_LINK_MAX_ATTRS, "attr_count %zu", link->attr_count);
	for (size_t i = 0; i < link->attr_count; i++) {
		const struct lwm2m_link_attr *a = &link->attrs[i];
		FUZZ_CHECK(a->name_len > 0 && inside(c, a->name, a->name_len), "attr name");
		FUZZ_CHECK(a->value == NULL || inside(c, a->value, a->value_len), "attr value");
		const char *v;
		size_t vn;
		FUZZ_CHECK(lwm2m_link_find_attr(link, "", &v, &vn) == -ENOENT, "empty name found");
	}
	if (c->count == LINKS_MAX)
		return -ENOSPC;
	c->links[c->count] = *link;
	for (size_t i = 0; i < link->attr_count; i++) {
		const char *v = link->attrs[i].value;
		c->quoted[c->count][i] = v && v > c->payload && v[-1] == '"';
	}
	c->count++;
	return 0;
}

/* Writes c's links in link format; returns the length or -1 when out does not hold them. */
static long write_links(const struct collected *c, char *out, size_t cap)
{
	size_t n = 0;
#define PUT(s, len)                                                                                \
	do {                                                                                       \
		if ((len) > cap - n)                                                               \
			return -1;                                                                 \
		memcpy(out + n, (s), (len));                                                       \
		n += (len);                                                                        \
	} while (0)
	for (size_t i = 0; i < c->count; i++) {
		const struct lwm2m_link *l = &c->links[i];
		if (i)
			PUT(",", 1);
		PUT("<", 1);
		PUT(l->uri, l->uri_len);
		PUT(">", 1);
		for (size_t k = 0; k < l->attr_count; k++) {
			const struct lwm2m_link_attr *a = &l->attrs[k];
			PUT(";", 1);
			PUT(a->name, a->name_len);
			if (!a->value)
				continue;
			PUT("=", 1);
			if (c->quoted[i][k])
				PUT("\"", 1);
			PUT(a->value, a->value_len);
			if (c->quoted[i][k])
				PUT("\"", 1);
		}
	}
#undef PUT
	return (long)n;
}

static bool same_links(const struct collected *a, const struct collected *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct lwm2m_link *x = &a->links[i], *y = &b->links[i];
		if (x->uri_len != y->uri_len || memcmp(x->uri, y->uri, x->uri_len) != 0 ||
		    x->attr_count != y->attr_count)
			return false;
		for (size_t k = 0; k < x->attr_count; k++) {
			const struct lwm2m_link_attr *p = &x->attrs[k], *q = &y->attrs[k];
			if (p->name_len != q->name_len ||
			    memcmp(p->name, q->name, p->name_len) != 0 || !p->value != !q->value ||
			    p->value_len != q->value_len ||
			    (p->value && memcmp(p->value, q->value, p->value_len) != 0))
				return false;
		}
	}
	return true;
}

static void check_path(const char *s, size_t len)
{
	struct lwm2m_path p, again;
	if (lwm2m_path_parse(s, len, &p) != 0)
		return;
	FUZZ_CHECK(p.len <= LWM2M_PATH_MAX_DEPTH, "depth %u", p.len);
	char text[64];
	int n = lwm2m_path_format(&p, text, sizeof(text));
	FUZZ_CHECK(n > 0 && (size_t)n == strlen(text), "format gave %d", n);
	FUZZ_CHECK(lwm2m_path_parse(text, (size_t)n, &again) == 0 && again.len == p.len &&
		       memcmp(again.ids, p.ids, p.len * sizeof(p.ids[0])) == 0,
		   "'%s' does not parse back", text);
	/* Canonical text: the same as the input unless an id had leading zeros. */
	bool zeros = false;
	for (size_t i = 0; i + 1 < len; i++)
		zeros |= s[i] == '/' && s[i + 1] == '0' && i + 2 < len && s[i + 2] != '/';
	FUZZ_CHECK(zeros || ((size_t)n == len && memcmp(text, s, len) == 0),
		   "'%s' is not what was parsed", text);
	/* Too small a buffer is -ENOBUFS, never a cut path. */
	for (size_t cap = 0; cap < (size_t)n + 1; cap++)
		FUZZ_CHECK(lwm2m_path_format(&p, text, cap) == -ENOBUFS, "cap %zu", cap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > PAYLOAD_MAX)
		return 0;
	static struct collected first, second;
	static char rewritten[2 * PAYLOAD_MAX + 16];
	const char *payload = (const char *)data;

	check_path(payload, size);

	first.payload = payload;
	first.len = size;
	first.count = 0;
	int rc = lwm2m_link_parse(payload, size, collect, &first);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -ENOSPC, "lwm2m_link_parse returned %d", rc);

	struct lwm2m_reg_links reg;
	int reg_rc = lwm2m_reg_links_check(payload, size, &reg);
	FUZZ_CHECK(reg_rc == 0 || reg_rc == -EBADMSG, "lwm2m_reg_links_check returned %d", reg_rc);
	if (reg_rc == 0) {
		FUZZ_CHECK(rc != -EBADMSG, "Register check accepts what the parser refuses");
		FUZZ_CHECK(reg.object_count <= first.count || rc == -ENOSPC, "object_count %zu",
			   reg.object_count);
		size_t alt = strnlen(reg.alt_path, sizeof(reg.alt_path));
		FUZZ_CHECK(alt < sizeof(reg.alt_path), "alt_path not terminated");
		FUZZ_CHECK(alt == 0 || (reg.alt_path[0] == '/' && alt > 1), "alt_path '%s'",
			   reg.alt_path);
		FUZZ_CHECK(reg.content_format >= -1 && reg.content_format <= 65535, "ct %d",
			   reg.content_format);
	} else {
		FUZZ_CHECK(reg.alt_path[0] == '\0', "alt_path left behind on failure");
	}
	if (rc != 0)
		return 0;

	for (size_t i = 0; i < first.count; i++)
		check_path(first.links[i].uri, first.links[i].uri_len);

	long n = write_links(&first, rewritten, sizeof(rewritten));
	FUZZ_CHECK(n > 0, "rewritten links do not fit");
	second.payload = rewritten;
	second.len = (size_t)n;
	second.count = 0;
	rc = lwm2m_link_parse(rewritten, (size_t)n, collect, &second);
	FUZZ_CHECK(rc == 0, "rewritten links '%.*s' do not parse: %d", (int)n, rewritten, rc);
	FUZZ_CHECK(same_links(&first, &second), "rewritten links '%.*s' parse differently", (int)n,
		   rewritten);
	struct lwm2m_reg_links reg2;
	int reg2_rc = lwm2m_reg_links_check(rewritten, (size_t)n, &reg2);
	FUZZ_CHECK(reg2_rc == reg_rc, "Register check: %d on the payload, %d rewritten", reg_rc,
		   reg2_rc);
	if (reg_rc == 0)
		FUZZ_CHECK(reg2.object_count == reg.object_count &&
			       reg2.content_format == reg.content_format &&
			       strcmp(reg2.alt_path, reg.alt_path) == 0,
			   "Register check differs on the rewritten links");
	return 0;
}
