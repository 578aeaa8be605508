/* A subscriber that falls behind: FR's node is stopped (SIGSTOP) while EE
 * publishes far more than the broker queues for one subscriber
 * (fanout_hwm = 20) and the socket buffers hold. Then a relay reads it all
 * back through cydex tail, more than one answer's worth. The broker drops what FR
 * cannot take instead of growing; when FR runs again it notices the gaps
 * and fills them from catch-up: its log ends with every one of EE's seqs,
 * exactly once, some of them marked as having arrived after a gap.
 * Processes by PID; ipc:// only. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/log.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

typedef struct s_flags {
    uint64_t gaps, entries;
} s_flags;

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_flags *f = ctx;
    f->entries++;
    f->gaps += (e->flags & CDX_LOG_FLAG_GAP) != 0;
    return CDX_OK;
}

static int s_count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
        n++;
    return n;
}

int main(void)
{
    enum { N = 400, DESC = 12000 };
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture cap;
    proc_capture_init(&cap, s_dir);

    /* N alerts of 12 KB, one per line: 5 MB, far past 20 queued and what
     * the kernel buffers. */
    bus_write_alerts(s_p("alerts.jsonl"), N, DESC);

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "fanout_hwm = 20");
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth",
                                   "[node]\nheartbeat_ms = 300");
    /* FR asks for what it missed only when a gap shows, not on a timer. */
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,hb",
                                   "[node]\nheartbeat_ms = 0\nsync_ms = 600000");
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX)); /* subscribed */

    REQUIRE(kill(fr, SIGSTOP) == 0);
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));
    CHECK_EQ(proc_capture_run(&cap, s_p("alerts.jsonl"), "cydex", "publish", "--node", node,
                              "--topic", "alert.health", "--lines", NULL),
             0);
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", N, N, SIZE_MAX)); /* the broker has them all */
    REQUIRE(kill(fr, SIGCONT) == 0);

    /* EE's heartbeats come after its last alert: FR learns of all of it. */
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("ee-log"), "EE", &max, &count, NULL);
    CHECK(max >= N);
    CHECK(bus_wait_log(s_p("fr-log"), "EE", N, N, SIZE_MAX));

    /* A relay reading all of it back: more than one answer's worth of
     * JSON (the node cuts answers at 4 MiB; each must pass the socket). */
    char fr_node[320];
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));
    CHECK_EQ(proc_capture_run(&cap, NULL, "cydex", "tail", "--node", fr_node, "--from", "0",
                              "--topic", "alert.", "--count", "400", "--json", "--timeout", "60",
                              NULL),
             0);
    CHECK_EQ(s_count_lines(cap.out), N);
    CHECK(strstr(cap.out, "\"title\":\"Wave 399\"") != NULL);

    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("fr-log"), F.roster, &rep));
    /* Every alert exactly once; the live path dropped some, which a gap
     * showed and catch-up filled. */
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, s_p("fr-log"), &ro, NULL) == CDX_OK);
    s_flags fl = {0};
    CHECK_EQ(cdx_log_scan_sender(log, "EE", 1, 0, s_visit, &fl, NULL), CDX_OK);
    CHECK(fl.entries >= N); /* the alerts and EE's heartbeats after them */
    CHECK(fl.gaps >= 1);    /* what came after the drop was logged with a gap before it */
    cdx_log_destroy(&log);
    bus_log_sender(s_p("fr-log"), "EE", &max, &count, NULL);
    CHECK_EQ(count, max); /* nothing twice, nothing missing below the last */

    proc_capture_free(&cap);
    fixture_free(&F);
    int rc = check_done("slowsub_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
