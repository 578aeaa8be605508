/* Wall-clock and monotonic milliseconds, and RFC 3339 text. Calendar arithmetic is done
 * here (days from civil, after H. Hinnant) rather than with timegm(), which
 * is not in C11 or POSIX, so that the result never depends on TZ. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cydex/clock.h"

uint64_t cdx_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cdx_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int64_t s_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void s_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void cdx_time_format(char out[CDX_TIME_TEXT_MAX], uint64_t t_ms)
{
    uint64_t secs = t_ms / 1000u;
    int64_t days = (int64_t)(secs / 86400u);
    unsigned rem = (unsigned)(secs % 86400u);
    int64_t y;
    unsigned mo, d;
    s_civil_from_days(days, &y, &mo, &d);
    char buf[80]; /* room for any year an int64 holds */
    snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo, d,
             rem / 3600u, rem / 60u % 60u, rem % 60u, (unsigned)(t_ms % 1000u));
    size_t n = strlen(buf) < CDX_TIME_TEXT_MAX ? strlen(buf) : CDX_TIME_TEXT_MAX - 1;
    memcpy(out, buf, n);
    out[n] = '\0';
}

static bool s_digits(const char *s, int n, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

cdx_err cdx_time_parse(const char *text, uint64_t *out_ms)
{
    if (!text || !text[0])
        return CDX_ERR_FORMAT;
    size_t n = strlen(text);
    size_t i = 0;
    while (i < n && text[i] >= '0' && text[i] <= '9')
        i++;
    if (i == n) { /* bare milliseconds */
        if (n > 15)
            return CDX_ERR_FORMAT;
        *out_ms = strtoull(text, NULL, 10);
        return CDX_OK;
    }
    unsigned y, mo, d, h, mi, s, ms = 0;
    if (n < 20 || !s_digits(text, 4, &y) || text[4] != '-' || !s_digits(text + 5, 2, &mo) ||
        text[7] != '-' || !s_digits(text + 8, 2, &d) || (text[10] != 'T' && text[10] != 't') ||
        !s_digits(text + 11, 2, &h) || text[13] != ':' || !s_digits(text + 14, 2, &mi) ||
        text[16] != ':' || !s_digits(text + 17, 2, &s))
        return CDX_ERR_FORMAT;
    const char *p = text + 19;
    if (*p == '.') {
        p++;
        int k = 0;
        unsigned scale = 100;
        while (*p >= '0' && *p <= '9') {
            if (k < 3)
                ms += (unsigned)(*p - '0') * scale;
            scale /= 10;
            k++;
            p++;
        }
        if (k == 0)
            return CDX_ERR_FORMAT;
    }
    int64_t offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        unsigned oh, om;
        if (!s_digits(p + 1, 2, &oh) || p[3] != ':' || !s_digits(p + 4, 2, &om) || oh > 23 ||
            om > 59)
            return CDX_ERR_FORMAT;
        offset_s = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return CDX_ERR_FORMAT;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
        return CDX_ERR_FORMAT;
    int64_t secs = s_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    if (secs < 0)
        return CDX_ERR_FORMAT;
    *out_ms = (uint64_t)secs * 1000u + ms;
    return CDX_OK;
}
