/* The daemons' shared rules that need no process: how long a daemon waits
 * for its own chain at start (daemon_chain_wait_over). */
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

int main(void)
{
    test_chain_wait();
    return check_done("daemon_test");
}
