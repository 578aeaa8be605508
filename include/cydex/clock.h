/* Wall-clock time as CyDEx carries it: milliseconds since the Unix epoch,
 * UTC, and its RFC 3339 text form ("2026-11-24T09:30:00.000Z"). */
#ifndef CYDEX_CLOCK_H
#define CYDEX_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "cydex/err.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_TIME_TEXT_MAX 32u

/* Now, from CLOCK_REALTIME: for what is signed, logged and shown. */
uint64_t cdx_now_ms(void);

/* Milliseconds from CLOCK_MONOTONIC (since an unspecified start): for
 * deadlines and periods, which must not stall or fire early when the wall
 * clock is stepped. */
uint64_t cdx_mono_ms(void);

/* Writes t as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (CDX_TIME_TEXT_MAX). */
void cdx_time_format(char out[CDX_TIME_TEXT_MAX], uint64_t t_ms);

/* Parses RFC 3339 ("2026-11-24T09:30:00Z", optional fraction up to
 * milliseconds, "Z" or "+hh:mm"/"-hh:mm" offset), or a bare integer of
 * milliseconds since the epoch. CDX_ERR_FORMAT otherwise. */
cdx_err cdx_time_parse(const char *text, uint64_t *out_ms);

#ifdef __cplusplus
}
#endif
#endif
