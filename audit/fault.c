/* A damaged log gives a FAIL, not a crash.
 *
 * LMDB trusts its pages: a page whose header an attacker (or a failing
 * disk) altered can make it stop on an assertion (SIGABRT) or read outside
 * its map (SIGSEGV, SIGBUS). cydex-audit reads copies that anyone may have
 * edited, so once a log is open these signals end it with exit 1 and a
 * message that says what they mean. The message is made when the guard is
 * armed: a signal handler may only write(2) and _exit(2). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"

/* What the handler writes: the only state it may touch. */
static char s_said[512];
static size_t s_said_len;

static void s_write(const char *text, size_t len)
{
    while (len) {
        ssize_t w = write(STDERR_FILENO, text, len);
        if (w <= 0)
            return;
        text += w;
        len -= (size_t)w;
    }
}

static void s_on_fault(int sig)
{
    const char *name = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : "SIGABRT";
    s_write(s_said, s_said_len);
    s_write(name, strlen(name));
    s_write(")\n", 2);
    _exit(CLI_REFUSED);
}

void audit_fault_guard(const char *cmd, const char *dir)
{
    int n = snprintf(s_said, sizeof s_said,
                     "cydex-audit %s: FAIL: %s is damaged: its LMDB pages were altered or cut "
                     "short, and reading them stopped (",
                     cmd, dir);
    s_said_len = n < 0 ? 0 : (size_t)n < sizeof s_said ? (size_t)n : sizeof s_said - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_fault;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
}
