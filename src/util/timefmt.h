/*
 * timefmt: the platform's time text, IoTDA's yyyyMMdd'T'HHmmss'Z' in UTC
 * ("20261125T101500Z"), written and read in one place.
 */
#ifndef LWM2MD_UTIL_TIMEFMT_H
#define LWM2MD_UTIL_TIMEFMT_H

#include <stdint.h>

#define TIME_TEXT_MAX 17 /* 16 characters and the NUL */

/* unix_s as text in out; returns out ("19700101T000000Z" if it cannot be formatted). */
const char *time_format(int64_t unix_s, char out[TIME_TEXT_MAX]);
/* The seconds since the epoch of such a text, or -1 when it is not one. */
int64_t time_parse(const char *s);
/* The wall clock: milliseconds since the epoch (CLOCK_REALTIME). */
int64_t time_now_ms(void);

#endif
