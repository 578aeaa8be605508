/* The daemons' shared rules that need no process: how long a daemon waits
 * for its own chain at start (daemon_chain_wait_over), and when a failed
 * write stops counting against /health (daemon_wrote). */
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

int main(void)
{
    test_chain_wait();
    test_writes();
    return check_done("daemon_test");
}
