/* One envelope lost among receipted ones. The broker is stopped (SIGSTOP)
 * while EE's node sends it an alert, then killed with that alert unread
 * and started again: the alert is gone from the bus but waits in EE's
 * outbox. EE goes on publishing, and the broker receipts each new alert
 * as it comes; the lost one must still be resent and logged, once. A
 * resend rule that waited for receipts to stop would never send it again.
 * Processes by PID; ipc:// only. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

#define S_MORE 60 /* alerts published after the loss, at most */

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static int s_publish(proc_capture *cap, const char *node, int k)
{
    char title[32];
    snprintf(title, sizeof title, "Wave %d", k);
    return proc_capture_run(cap, NULL, "cydex", "publish", "--node", node, "--topic",
                            "alert.health", "--tlp", "GREEN", "--title", title, NULL);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee};
    bus_folder(s_dir, F.roster, ids, 2);
    proc_capture cap;
    proc_capture_init(&cap, s_dir);
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
    CHECK_EQ(s_publish(&cap, node, 1), 0);
    CHECK(bus_wait_log(s_p("ee-log"), "EE", 1, 1, 0));

    /* Seq 2 reaches a broker that reads nothing, then dies with it. */
    REQUIRE(kill(broker, SIGSTOP) == 0);
    CHECK_EQ(s_publish(&cap, node, 2), 0);
    CHECK(bus_wait_log(s_p("ee-log"), "EE", 2, 2, 1));
    bus_nap(200); /* in the stopped broker's socket by now */
    bus_kill(broker);
    broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");

    /* Receipts flow for the new alerts; seq 2 must come in among them. */
    int sent = 2;
    uint64_t max = 0, count = 0;
    while (sent < 2 + S_MORE && count < (uint64_t)sent) {
        CHECK_EQ(s_publish(&cap, node, ++sent), 0);
        bus_nap(100);
        bus_log_sender(s_p("alpha-log"), "EE", &max, &count, NULL);
    }
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", (uint64_t)sent, (uint64_t)sent, SIZE_MAX));
    CHECK(bus_wait_log(s_p("ee-log"), "EE", (uint64_t)sent, (uint64_t)sent, 0));
    if (count == (uint64_t)sent)
        fprintf(stderr, "lostone_test: seq 2 logged by the broker after %d more alerts\n",
                sent - 2);

    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);
    /* The node counted the resend that brought seq 2 (its stop line). */
    CHECK(proc_number_before(s_p("ee.log"), " resends of the outbox") >= 1);
    bus_log_sender(s_p("alpha-log"), "EE", &max, &count, NULL);
    CHECK_EQ(max, sent); /* each seq once: a copy is refused, so count == max */
    CHECK_EQ(count, sent);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("ee-log"), F.roster, &rep));

    proc_capture_free(&cap);
    fixture_free(&F);
    int rc = check_done("lostone_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
