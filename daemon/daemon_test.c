/* The daemons' shared rules that need no process: how long a daemon waits
 * for its own chain at start (daemon_chain_wait_over), when a failed
 * write stops counting against /health (daemon_wrote), and how a
 * configuration file is read (daemon_ini_parse). */
#include <string.h>

#include "check.h"
#include "daemon.h"

static void test_chain_wait(void)
{
    const uint64_t grace = DAEMON_CHAIN_GRACE_MS, wait = DAEMON_CHAIN_WAIT_MS;
    /* every one asked has answered to the end: at once */
    CHECK(daemon_chain_wait_over(2, 2, 2, 0));
    /* one of two: after the grace period, not before */
    CHECK(!daemon_chain_wait_over(1, 1, 2, grace - 1));
    CHECK(daemon_chain_wait_over(1, 1, 2, grace));
    /* nothing from anyone: after the wait, not before */
    CHECK(!daemon_chain_wait_over(0, 0, 2, wait - 1));
    CHECK(daemon_chain_wait_over(0, 0, 2, wait));
    /* one still sending: long past the wait, until the cap */
    CHECK(!daemon_chain_wait_over(0, 1, 2, wait));
    CHECK(!daemon_chain_wait_over(0, 1, 2, DAEMON_CHAIN_MAX_MS - 1));
    CHECK(daemon_chain_wait_over(0, 1, 2, DAEMON_CHAIN_MAX_MS));
    /* nobody to ask (a broker without peers): at once */
    CHECK(daemon_chain_wait_over(0, 0, 0, 0));
}

/* A log at its maximum refuses a batch of 50 and takes single entries
 * between: still failing, until 50 go in at once, or a minute has passed
 * since the last failure. */
static void test_writes(void)
{
    daemon_writes w = {0};
    cdx_errbuf eb = {0};
    cdx_errf(&eb, CDX_ERR_FULL, "log: full at its maximum size");
    daemon_wrote(&w, CDX_OK, 3, 1000, NULL);
    CHECK(!w.error[0]);
    daemon_wrote(&w, CDX_ERR_FULL, 50, 2000, &eb);
    CHECK(strstr(w.error, "full at its maximum") != NULL);
    daemon_wrote(&w, CDX_OK, 1, 2100, NULL);
    daemon_wrote(&w, CDX_OK, 49, 2200, NULL);
    CHECK(w.error[0]);
    daemon_wrote(&w, CDX_OK, 50, 2300, NULL);
    CHECK(!w.error[0]);
    daemon_wrote(&w, CDX_ERR_FULL, 50, 10000, &eb);
    daemon_wrote(&w, CDX_ERR_FULL, 2, 20000, &eb); /* a smaller failure: still 50 */
    daemon_wrote(&w, CDX_OK, 10, 20000 + DAEMON_WRITE_HOLD_MS - 1, NULL);
    CHECK(w.error[0]);
    daemon_wrote(&w, CDX_OK, 1, 20000 + DAEMON_WRITE_HOLD_MS, NULL);
    CHECK(!w.error[0]);
    CHECK_EQ(w.failures, 3);
}

/* What an INI handler was called with, in order. */
typedef struct s_seen {
    int n;
    char section[8][200], name[8][64], value[8][256];
    const char *refuse; /* a key refused, with a message */
} s_seen;

static int s_take(void *user, const char *section, const char *name, const char *value)
{
    s_seen *s = user;
    if (s->refuse && strcmp(name, s->refuse) == 0)
        return 0;
    if (s->n < 8) {
        snprintf(s->section[s->n], sizeof s->section[0], "%s", section);
        snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
        snprintf(s->value[s->n], sizeof s->value[0], "%s", value);
    }
    s->n++;
    return 1;
}

static int s_ini(const char *text, s_seen *seen, char *err, size_t errlen)
{
    memset(seen->section, 0, sizeof seen->section);
    seen->n = 0;
    return daemon_ini_parse("t.conf", text, strlen(text), s_take, seen, err, errlen);
}

/* Section names up to 127 characters reach the handler whole (inih keeps
 * 49: two long names sharing those would be one section); a longer one is
 * refused with its line, and so is a line longer than inih's buffer (it
 * would read the rest as a line of its own). The first error is the one
 * told, its line and its message. */
static void test_ini(void)
{
    char name127[128], name128[129], text[1024], err[512];
    s_seen seen = {0};
    memset(name127, 'a', 127);
    name127[127] = '\0';
    memset(name128, 'a', 128);
    name128[128] = '\0';
    snprintf(text, sizeof text, "[%s]\nx = 1\n[%.126sb]\nx = 2\n", name127, name127);
    CHECK_EQ(s_ini(text, &seen, err, sizeof err), 0);
    CHECK_EQ(seen.n, 2);
    CHECK_EQ(strlen(seen.section[0]), 127);
    CHECK(strcmp(seen.section[0], seen.section[1]) != 0);
    snprintf(text, sizeof text, "[node]\nx = 1\n\n[%s]\nx = 2\n", name128);
    CHECK_EQ(s_ini(text, &seen, err, sizeof err), -1);
    CHECK(strstr(err, "t.conf, line 4: section name [aaaa") != NULL);
    CHECK(strstr(err, "longer than 127 characters") != NULL);
    CHECK_EQ(seen.n, 1); /* nothing after it */

    char value[300];
    memset(value, 'v', 200);
    value[200] = '\0';
    snprintf(text, sizeof text, "[node]\nkey = %s\nx = y\n", value);
    CHECK_EQ(s_ini(text, &seen, err, sizeof err), -1);
    CHECK(strstr(err, "t.conf, line 2: line is longer than") != NULL);
    CHECK_EQ(seen.n, 0);

    /* Comments with ';' or '#' after whitespace, as the README writes
     * them; an indented line goes on with the value. */
    CHECK_EQ(s_ini("# head\n[node]   # the node\nid = FR    # ours\nlog = a#b ; c\n"
                   "note = one\n  two\n",
                   &seen, err, sizeof err),
             0);
    CHECK_EQ(seen.n, 4);
    CHECK_STR(seen.value[0], "FR");
    CHECK_STR(seen.value[1], "a#b");
    CHECK_STR(seen.value[3], "two");
    CHECK_STR(seen.section[3], "node");

    /* The first refusal stops the read: its line, its message. */
    seen.refuse = "bad";
    CHECK_EQ(s_ini("[node]\nbad = 1\nworse\n", &seen, err, sizeof err), -1);
    CHECK_STR(err, "t.conf, line 2: refused");
    seen.refuse = NULL;
    CHECK_EQ(s_ini("[node]\nx = 1\nworse\nbad = 1\n", &seen, err, sizeof err), -1);
    CHECK_STR(err, "t.conf, line 3: neither a [section] nor a key = value");
    CHECK_EQ(s_ini("[node\nx = 1\n", &seen, err, sizeof err), -1);
    CHECK(strstr(err, "line 1: a section header without its closing ']'") != NULL);
    CHECK_EQ(daemon_ini_parse("t.conf", "[a]\nx = 1\0\n", 10, s_take, &seen, err, sizeof err), -1);
    CHECK(strstr(err, "line 2: a NUL byte") != NULL);
}

int main(void)
{
    test_chain_wait();
    test_writes();
    test_ini();
    return check_done("daemon_test");
}
