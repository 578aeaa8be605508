/* A test's stand-in for an operator or NTP stepping the wall clock: loaded
 * with LD_PRELOAD into a daemon, it takes CDX_TEST_CLOCK_STEP_MS off
 * CLOCK_REALTIME from the moment the file CDX_TEST_CLOCK_STEP_FILE
 * exists. Other clocks are left alone. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*s_clock_fn)(clockid_t, struct timespec *);

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static s_clock_fn real;
    if (!real)
        real = (s_clock_fn)dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    const char *file = getenv("CDX_TEST_CLOCK_STEP_FILE");
    const char *step = getenv("CDX_TEST_CLOCK_STEP_MS");
    if (rc != 0 || id != CLOCK_REALTIME || !file || !step || access(file, F_OK) != 0)
        return rc;
    long long ms = atoll(step);
    long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec - ms * 1000000LL;
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    return rc;
}
