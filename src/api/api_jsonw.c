/*
 * api_jsonw: JSON text in one buffer, as jansson's compact dump writes it (api_jsonw.h).
 */
#include "api/api_jsonw.h"

#include <stdlib.h>
#include <string.h>

#include "util/str.h"
#include "util/timefmt.h"

/* The first allocation when none was reserved: a device is ~350 bytes. */
#define JSONW_FIRST_CAP 1024

void api_jsonw_init(struct api_jsonw *w, size_t reserve)
{
	memset(w, 0, sizeof(*w));
	if (reserve) {
		w->buf = malloc(reserve);
		w->cap = w->buf ? reserve : 0;
		w->failed = w->buf == NULL;
	}
}

/* Room for n more bytes (and a line end). */
static bool grow(struct api_jsonw *w, size_t n)
{
	if (w->failed)
		return false;
	if (n + 1 <= w->cap - w->len)
		return true;
	size_t cap = w->cap ? w->cap : JSONW_FIRST_CAP;
	while (cap - w->len < n + 1) {
		if (cap > SIZE_MAX / 2) {
			w->failed = true;
			return false;
		}
		cap *= 2;
	}
	char *buf = realloc(w->buf, cap);
	if (!buf) {
		w->failed = true;
		return false;
	}
	w->buf = buf;
	w->cap = cap;
	return true;
}

void api_jsonw_raw(struct api_jsonw *w, const char *s, size_t n)
{
	if (!grow(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void api_jsonw_str(struct api_jsonw *w, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);
	/* At most 6 bytes out per byte in (a control character as \u00XX), and the quotes. */
	if (n > (SIZE_MAX - 2) / 6 || !grow(w, 6 * n + 2))
		return;
	size_t start = w->len;
	char *out = w->buf + w->len;
	*out++ = '"';
	while (*p) {
		unsigned char b = *p;
		if (b >= 0x80) {
			size_t k = str_utf8_len(p);
			if (k == 0) { /* not UTF-8: "" as api_json_str writes it */
				w->len = start;
				api_jsonw_lit(w, "\"\"");
				return;
			}
			memcpy(out, p, k);
			out += k;
			p += k;
			continue;
		}
		p++;
		if (b >= 0x20 && b != '"' && b != '\\') {
			*out++ = (char)b;
			continue;
		}
		*out++ = '\\';
		switch (b) {
		case '"':
		case '\\':
			*out++ = (char)b;
			break;
		case '\b':
			*out++ = 'b';
			break;
		case '\f':
			*out++ = 'f';
			break;
		case '\n':
			*out++ = 'n';
			break;
		case '\r':
			*out++ = 'r';
			break;
		case '\t':
			*out++ = 't';
			break;
		default: /* jansson's "\u%04X" */
			memcpy(out, "u00", 3);
			out[3] = hex[b >> 4];
			out[4] = hex[b & 15];
			out += 5;
			break;
		}
	}
	*out++ = '"';
	w->len = (size_t)(out - w->buf);
}

void api_jsonw_int(struct api_jsonw *w, int64_t v)
{
	char text[24];
	size_t at = sizeof(text);
	/* Digits from the end, in unsigned arithmetic: INT64_MIN has no positive twin. */
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do {
		text[--at] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		text[--at] = '-';
	api_jsonw_raw(w, text + at, sizeof(text) - at);
}

/* The first second of year 10000: beyond it (and before 1970) time_format's strftime
 * answers, whatever it makes of such a year. */
#define TIME_FAST_END 253402300800LL

static void two_digits(char *out, unsigned v)
{
	out[0] = (char)('0' + v / 10);
	out[1] = (char)('0' + v % 10);
}

void api_jsonw_time(struct api_jsonw *w, int64_t unix_s)
{
	if (unix_s < 0 || unix_s >= TIME_FAST_END) {
		char text[TIME_TEXT_MAX];
		api_jsonw_str(w, time_format(unix_s, text));
		return;
	}
	/* The civil date of a day count (days since 1970-01-01), by 400-year eras of
	 * 146097 days that start on 1 March, so that the leap day ends a year. */
	int64_t days = unix_s / 86400, secs = unix_s % 86400;
	int64_t z = days + 719468;
	int64_t era = z / 146097;
	int64_t doe = z - era * 146097;                                      /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                                    /* March = 0 */
	unsigned day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	unsigned month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	unsigned year = (unsigned)(yoe + era * 400 + (month <= 2));
	char text[18] = "\"yyyyMMddTHHmmssZ\"";
	two_digits(text + 1, year / 100);
	two_digits(text + 3, year % 100);
	two_digits(text + 5, month);
	two_digits(text + 7, day);
	two_digits(text + 10, (unsigned)(secs / 3600));
	two_digits(text + 12, (unsigned)(secs / 60 % 60));
	two_digits(text + 14, (unsigned)(secs % 60));
	api_jsonw_raw(w, text, sizeof(text));
}

void api_jsonw_bool(struct api_jsonw *w, bool v)
{
	if (v)
		api_jsonw_lit(w, "true");
	else
		api_jsonw_lit(w, "false");
}

void api_jsonw_value(struct api_jsonw *w, const json_t *v)
{
	size_t n = v ? json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY) : 0;
	if (n == 0 || !grow(w, n)) {
		w->failed = true;
		return;
	}
	if (json_dumpb(v, w->buf + w->len, n, JSON_COMPACT | JSON_ENCODE_ANY) != n) {
		w->failed = true;
		return;
	}
	w->len += n;
}

char *api_jsonw_take(struct api_jsonw *w, size_t *len)
{
	if (!grow(w, 0)) { /* room for the line end is always kept, but a failure is final */
		api_jsonw_free(w);
		return NULL;
	}
	w->buf[w->len++] = '\n';
	char *text = w->buf;
	*len = w->len;
	memset(w, 0, sizeof(*w));
	return text;
}

void api_jsonw_free(struct api_jsonw *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}
