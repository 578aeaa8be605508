/* See proc.h. Every child is waited for by its PID; none outlives a call. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int s_open_or_null(const char *path, int flags)
{
    return open(path ? path : "/dev/null", flags, 0644);
}

int proc_run(char *const argv[], const char *in, const char *out, const char *err,
             unsigned timeout_s)
{
    fflush(NULL); /* or the child would write our buffered output again */
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fi = s_open_or_null(in, O_RDONLY);
        int fo = s_open_or_null(out, O_WRONLY | O_CREAT | O_TRUNC);
        int fe = s_open_or_null(err, O_WRONLY | O_CREAT | O_TRUNC);
        if (fi < 0 || fo < 0 || fe < 0)
            _exit(126);
        dup2(fi, 0);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    struct timespec nap = {0, 10 * 1000 * 1000};
    for (unsigned long waited = 0; waited < timeout_s * 100ul; waited++) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -1;
        nanosleep(&nap, NULL);
    }
    fprintf(stderr, "proc_run: %s took over %u s; killing pid %d\n", argv[0], timeout_s, (int)pid);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 128 + SIGKILL;
}

char *proc_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        exit(2);
    if (f) {
        size_t n;
        while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
            len += n;
            if (len == cap) {
                cap *= 2;
                buf = realloc(buf, cap + 1);
                if (!buf)
                    exit(2);
            }
        }
        fclose(f);
    }
    buf[len] = '\0';
    return buf;
}

long long proc_number_before(const char *path, const char *text)
{
    char *said = proc_slurp(path);
    const char *at = NULL;
    for (const char *p = said; (p = strstr(p, text)) != NULL; p++)
        at = p;
    const char *digits = at;
    while (digits && digits > said && digits[-1] >= '0' && digits[-1] <= '9')
        digits--;
    long long n = digits && digits < at ? strtoll(digits, NULL, 10) : -1;
    free(said);
    return n;
}

void proc_capture_init(proc_capture *c, const char *dir)
{
    memset(c, 0, sizeof *c);
    snprintf(c->out_path, sizeof c->out_path, "%s/stdout", dir);
    snprintf(c->err_path, sizeof c->err_path, "%s/stderr", dir);
}

int proc_capture_run(proc_capture *c, const char *in, const char *prog, ...)
{
    char path[300];
    char *argv[32];
    int n = 0;
    snprintf(path, sizeof path, "%s/%s", CDX_BIN, prog);
    argv[n++] = path;
    va_list ap;
    va_start(ap, prog);
    char *a;
    while ((a = va_arg(ap, char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int rc = proc_run(argv, in, c->out_path, c->err_path, 120);
    free(c->out);
    free(c->err);
    c->out = proc_slurp(c->out_path);
    c->err = proc_slurp(c->err_path);
    return rc;
}

void proc_capture_free(proc_capture *c)
{
    free(c->out);
    free(c->err);
    c->out = c->err = NULL;
}

int proc_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay ? strstr(hay, needle) : NULL; p; p = strstr(p + 1, needle))
        n++;
    return n;
}
