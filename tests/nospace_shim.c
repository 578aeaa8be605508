/* A test's stand-in for a disk that fills up under one kind of write:
 * loaded with LD_PRELOAD, it refuses with ENOSPC every pwrite of 64 KiB of
 * zeros (the room a log writes ahead of its last page, lib/log_room.c; the
 * log's own pages always have a header) while CDX_TEST_NOSPACE_MARK names
 * a file, after the first CDX_TEST_NOSPACE_AFTER of them (default 0: from
 * the first); it adds a byte to that file at each refusal, so the test
 * knows how many there were. Every other write goes through. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*s_pwrite_fn)(int, const void *, size_t, off_t);

static bool s_refuse(const void *buf, size_t n)
{
    static long zeros_seen;
    const char *mark = getenv("CDX_TEST_NOSPACE_MARK"), *after = getenv("CDX_TEST_NOSPACE_AFTER");
    if (!mark || n != 64 * 1024)
        return false;
    const unsigned char *p = buf;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    if (++zeros_seen <= (after ? atol(after) : 0))
        return false;
    int fd = open(mark, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        ssize_t w = write(fd, "x", 1);
        (void)w;
        close(fd);
    }
    return true;
}

static ssize_t s_pass(const char *name, int fd, const void *buf, size_t n, off_t at)
{
    s_pwrite_fn real = (s_pwrite_fn)dlsym(RTLD_NEXT, name);
    if (!real) {
        errno = ENOSYS;
        return -1;
    }
    return real(fd, buf, n, at);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
    if (s_refuse(buf, n)) {
        errno = ENOSPC;
        return -1;
    }
    return s_pass("pwrite", fd, buf, n, at);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t at)
{
    if (s_refuse(buf, n)) {
        errno = ENOSPC;
        return -1;
    }
    return s_pass("pwrite64", fd, buf, n, at);
}
