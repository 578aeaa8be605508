/* A test's stand-in for an operator or NTP stepping the wall clock: loaded
 * with LD_PRELOAD into a daemon, it takes the milliseconds written in the
 * file CDX_TEST_CLOCK_STEP_FILE (read at every call, so the test can step
 * again) off CLOCK_REALTIME. Other clocks are left alone. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

typedef int (*s_clock_fn)(clockid_t, struct timespec *);

static long long s_step_ms(void)
{
    const char *file = getenv("CDX_TEST_CLOCK_STEP_FILE");
    int fd = file ? open(file, O_RDONLY) : -1;
    if (fd < 0)
        return 0;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    return atoll(buf);
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    static s_clock_fn real;
    if (!real)
        real = (s_clock_fn)dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    long long ms = rc == 0 && id == CLOCK_REALTIME ? s_step_ms() : 0;
    if (ms) {
        long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec - ms * 1000000LL;
        ts->tv_sec = (time_t)(ns / 1000000000LL);
        ts->tv_nsec = (long)(ns % 1000000000LL);
    }
    return rc;
}
