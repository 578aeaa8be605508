/* RFC 3339 formatting and parsing, against dates worked out by hand. */
#include "check.h"
#include "cydex/clock.h"

static uint64_t s_parse(const char *t)
{
    uint64_t v = 0;
    CHECK_EQ(cdx_time_parse(t, &v), CDX_OK);
    return v;
}

int main(void)
{
    char buf[CDX_TIME_TEXT_MAX];
    cdx_time_format(buf, 0);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    cdx_time_format(buf, 1764000000000ull);
    CHECK_STR(buf, "2025-11-24T16:00:00.000Z");
    cdx_time_format(buf, 951782400123ull); /* a leap day */
    CHECK_STR(buf, "2000-02-29T00:00:00.123Z");

    CHECK_EQ(s_parse("2025-11-24T16:00:00Z"), 1764000000000ull);
    CHECK_EQ(s_parse("2025-11-24T18:00:00+02:00"), 1764000000000ull);
    CHECK_EQ(s_parse("2025-11-24T15:30:00.5-00:30"), 1764000000500ull);
    CHECK_EQ(s_parse("2000-02-29T00:00:00.123456Z"), 951782400123ull);
    CHECK_EQ(s_parse("1764000000000"), 1764000000000ull);
    for (uint64_t t = 0; t < 4102444800000ull; t += 86399999ull * 37) {
        uint64_t back = 0;
        cdx_time_format(buf, t);
        CHECK(cdx_time_parse(buf, &back) == CDX_OK && back == t);
    }
    const char *bad[] = {"",
                         "yesterday",
                         "2025-11-24",
                         "2025-11-24T16:00:00",
                         "2025-13-01T00:00:00Z",
                         "2025-11-24T25:00:00Z",
                         "2025-11-24T16:00:00.Z",
                         "2025-11-24T16:00:00+2:00",
                         "2025-11-24T16:00:00Zjunk",
                         "12345678901234567890"};
    uint64_t v;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ(cdx_time_parse(bad[i], &v), CDX_ERR_FORMAT);
    return check_done("clock_test");
}
