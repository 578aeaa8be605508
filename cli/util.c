/* Helpers shared by the cydex commands: errors to exit codes, input and
 * output, small parsers. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_exit_code(cdx_err rc)
{
    switch (rc) {
    case CDX_OK: return CLI_OK;
    case CDX_ERR_INVALID: return CLI_USAGE;
    case CDX_ERR_FORMAT:
    case CDX_ERR_TOO_BIG:
    case CDX_ERR_VERSION: return CLI_DATAERR;
    case CDX_ERR_NOENT: return CLI_NOINPUT;
    case CDX_ERR_EXISTS: return CLI_CANTCREAT;
    case CDX_ERR_IO:
    case CDX_ERR_FULL:
    case CDX_ERR_NOSPACE: return CLI_IOERR;
    case CDX_ERR_KEY_PERMS: return CLI_NOPERM;
    case CDX_ERR_NOMEM:
    case CDX_ERR_CRYPTO: return CLI_SOFTWARE;
    case CDX_ERR_BUSY: return CLI_TEMPFAIL;
    default: return CLI_REFUSED;
    }
}

int cli_fail(const char *cmd, cdx_err rc, const cdx_errbuf *eb)
{
    fprintf(stderr, "cydex %s: %s\n", cmd, cdx_errbuf_msg(eb, rc));
    return cli_exit_code(rc);
}

int cli_usage(const char *cmd, const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "cydex %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\n", usage);
    va_end(ap);
    return CLI_USAGE;
}

cdx_err cli_read_input(const char *path, size_t max, cdx_bytes *out, cdx_errbuf *eb)
{
    out->data = NULL;
    out->len = 0;
    bool is_stdin = !path || strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        return cdx_errf(eb, errno == ENOENT ? CDX_ERR_NOENT : CDX_ERR_IO, "cannot open %s: %s",
                        path, strerror(errno));
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap + 1);
    cdx_err rc = buf ? CDX_OK : CDX_ERR_NOMEM;
    while (rc == CDX_OK) {
        if (len == cap) {
            if (cap > max) {
                rc = cdx_errf(eb, CDX_ERR_TOO_BIG, "%s is larger than %zu bytes",
                              is_stdin ? "standard input" : path, max);
                break;
            }
            uint8_t *grown = realloc(buf, cap * 2 + 1);
            if (!grown) {
                rc = CDX_ERR_NOMEM;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                rc = cdx_errf(eb, CDX_ERR_IO, "cannot read %s", is_stdin ? "standard input" : path);
            }
            break;
        }
    }
    if (!is_stdin)
        fclose(f);
    if (rc == CDX_OK && len > max) {
        rc = cdx_errf(eb, CDX_ERR_TOO_BIG, "input is larger than %zu bytes", max);
    }
    if (rc != CDX_OK) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    out->data = buf;
    out->len = len;
    return CDX_OK;
}

bool cli_stdin_is_terminal(const char *path)
{
    return (!path || strcmp(path, "-") == 0) && isatty(STDIN_FILENO);
}

cdx_err cli_write_output(const char *path, const void *data, size_t len, bool binary,
                         cdx_errbuf *eb)
{
    if (path && strcmp(path, "-") != 0) {
        /* Same atomic write as the library uses for rosters. */
        FILE *f = NULL;
        char tmp[4096];
        int n = snprintf(tmp, sizeof tmp, "%s.tmp~", path);
        if (n < 0 || (size_t)n >= sizeof tmp || !(f = fopen(tmp, "wb"))) {
            return cdx_errf(eb, CDX_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        }
        bool ok = fwrite(data, 1, len, f) == len;
        ok = (fflush(f) == 0) && ok;
        ok = (fsync(fileno(f)) == 0) && ok;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp, path) != 0) {
            unlink(tmp);
            return cdx_errf(eb, CDX_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        }
        return CDX_OK;
    }
    if (binary && isatty(STDOUT_FILENO)) {
        return cdx_errf(
            eb, CDX_ERR_INVALID,
            "refusing to write binary data to a terminal; redirect it or use --out FILE");
    }
    if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
        return cdx_errf(eb, CDX_ERR_IO, "cannot write to standard output: %s", strerror(errno));
    }
    return CDX_OK;
}

cdx_err cli_mkdirs(const char *path, unsigned mode, cdx_errbuf *eb)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) {
        return cdx_errf(eb, CDX_ERR_INVALID, "bad folder name");
    }
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(buf, (mode_t)mode) != 0 && errno != EEXIST)
        goto fail;
    return CDX_OK;
fail:
    return cdx_errf(eb, CDX_ERR_IO, "cannot create folder %s: %s", buf, strerror(errno));
}

cdx_err cli_load_trusted_roster(cdx_roster **out, const char *path, cdx_errbuf *eb)
{
    return cdx_roster_load_trusted(out, path, eb);
}
