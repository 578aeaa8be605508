/* Whole-file reads and atomic, durable writes. A write never leaves a
 * half-written file under the final name: data goes to a temporary file in
 * the same folder, is fsynced, and only then takes the final name. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

cdx_err cdx__read_file(const char *path, size_t max, cdx_bytes *out, cdx_errbuf *eb)
{
    out->data = NULL;
    out->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cdx_errf(eb, errno == ENOENT ? CDX_ERR_NOENT : CDX_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return cdx_errf(eb, CDX_ERR_IO, "%s is not a regular file", path);
    }
    if ((size_t)st.st_size > max) {
        close(fd);
        return cdx_errf(eb, CDX_ERR_TOO_BIG, "%s is %lld bytes; the limit is %zu", path,
                        (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size + 1, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return CDX_ERR_NOMEM;
    }
    for (;;) {
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return cdx_errf(eb, CDX_ERR_IO, "cannot read %s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (len == cap) { /* grew while we read it */
            free(buf);
            close(fd);
            return cdx_errf(eb, CDX_ERR_TOO_BIG, "%s changed size while being read", path);
        }
    }
    close(fd);
    out->data = buf;
    out->len = len;
    return CDX_OK;
}

static cdx_err s_write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return CDX_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return CDX_OK;
}

/* fsync the folder holding path, so the new name itself is durable. */
static void s_sync_dir(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0)
            n = 1;
        if (n >= sizeof dir)
            return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

cdx_err cdx__write_file(const char *path, const void *data, size_t len, unsigned mode,
                        bool exclusive, cdx_errbuf *eb)
{
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return CDX_ERR_NOMEM;
    if (exclusive && access(path, F_OK) == 0) {
        free(tmp);
        return cdx_errf(eb, CDX_ERR_EXISTS, "%s exists; refusing to overwrite it", path);
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        uint8_t r[4];
        cdx__random(r, sizeof r);
        snprintf(tmp, n + 16, "%s.%02x%02x%02x%02x~", path, r[0], r[1], r[2], r[3]);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, (mode_t)mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return cdx_errf(eb, CDX_ERR_IO, "cannot create %s: %s", path, strerror(e));
    }
    cdx_err rc = CDX_OK;
    if (fchmod(fd, (mode_t)mode) != 0 || s_write_all(fd, data, len) != CDX_OK || fsync(fd) != 0)
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (close(fd) != 0 && rc == CDX_OK)
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (rc == CDX_OK) {
        if (exclusive) {
            /* link() fails if path exists: no window in which we overwrite. */
            if (link(tmp, path) != 0)
                rc = cdx_errf(eb, errno == EEXIST ? CDX_ERR_EXISTS : CDX_ERR_IO,
                              "cannot create %s: %s", path, strerror(errno));
            unlink(tmp);
        } else if (rename(tmp, path) != 0) {
            rc = cdx_errf(eb, CDX_ERR_IO, "cannot rename to %s: %s", path, strerror(errno));
        }
    }
    if (rc != CDX_OK)
        unlink(tmp);
    else
        s_sync_dir(path);
    free(tmp);
    return rc;
}
