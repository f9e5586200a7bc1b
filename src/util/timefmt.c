/*
 * timefmt: yyyyMMdd'T'HHmmss'Z'.
 */
#include "util/timefmt.h"

#include <string.h>
#include <time.h>

#include "util/str.h"

#define FORMAT "%Y%m%dT%H%M%SZ"

const char *time_format(int64_t unix_s, char out[TIME_TEXT_MAX])
{
	time_t t = (time_t)unix_s;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(out, TIME_TEXT_MAX, FORMAT, &tm) == 0)
		str_copy(out, TIME_TEXT_MAX, "19700101T000000Z");
	return out;
}

int64_t time_parse(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s && strlen(s) == TIME_TEXT_MAX - 1 ? strptime(s, FORMAT, &tm) : NULL;
	if (!end || *end)
		return -1;
	return (int64_t)timegm(&tm);
}

int64_t time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
