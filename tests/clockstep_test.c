/* The wall clock stepped back under a running node (an operator, or NTP
 * correcting it, four minutes back: still inside the brokers' clock-skew
 * window) must not stall the node's timers. EE's node runs with a shim
 * (tests/clockstep_shim.c, LD_PRELOAD) that steps its CLOCK_REALTIME back
 * when the test says so; its heartbeats must go on coming at their pace,
 * now stamped four minutes earlier. With its timers on the wall clock the
 * next one would come four minutes late. Then its clock goes ten minutes
 * back, past the window: the broker refuses what it publishes, and the
 * node says so in `cydex status`, on /health and in its log, with the two
 * clocks side by side. ipc:// endpoints; PIDs. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "cydex/envelope.h"
#include "cydex/log.h"
#include "fixture.h"
#include "proc.h"

#define STEP_MS 240000
#define FAR_STEP_MS 600000

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static void s_step(const char *ms)
{
    FILE *f = fopen(s_p("step"), "w");
    REQUIRE(f != NULL);
    fputs(ms, f);
    fclose(f);
}

/* sent_at of EE's envelope at seq in the broker's log (0 if not found). */
static uint64_t s_sent_at(uint64_t seq)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    uint64_t index, sent = 0;
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    if (cdx_log_new(&log, s_p("alpha-log"), &ro, NULL) == CDX_OK &&
        cdx_log_find_seq(log, "EE", seq, &index) == CDX_OK &&
        cdx_log_get(log, index, &e, NULL) == CDX_OK &&
        cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK)
        sent = cdx_envelope_body(env)->sent_at_ms;
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    cdx_log_destroy(&log);
    return sent;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee};
    bus_folder(s_dir, F.roster, ids, 2);
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");

    /* Only EE's node gets the shim. */
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[512];
    snprintf(asan_opts, sizeof asan_opts, "%s%sverify_asan_link_order=0", asan ? asan : "",
             asan && asan[0] ? ":" : "");
    REQUIRE(setenv("LD_PRELOAD", CDX_CLOCKSTEP_SHIM, 1) == 0);
    REQUIRE(setenv("CDX_TEST_CLOCK_STEP_FILE", s_p("step"), 1) == 0);
    REQUIRE(setenv("ASAN_OPTIONS", asan_opts, 1) == 0);
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth",
                                   "[node]\nheartbeat_ms = 300\nmetrics = 127.0.0.1:0\n");
    unsetenv("LD_PRELOAD");
    unsetenv("CDX_TEST_CLOCK_STEP_FILE");
    if (asan)
        setenv("ASAN_OPTIONS", asan, 1);
    else
        unsetenv("ASAN_OPTIONS");

    CHECK(bus_wait_log(s_p("alpha-log"), "EE", 1, 1, SIZE_MAX)); /* its first heartbeat */
    s_step("240000"); /* STEP_MS: EE's wall clock goes back four minutes */
    uint64_t stepped_at = cdx_now_ms(), max = 0, count = 0;
    bus_log_sender(s_p("alpha-log"), "EE", &max, &count, NULL);
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", max + 2, max + 2, SIZE_MAX));
    uint64_t sent = s_sent_at(max + 2);
    CHECK(sent > 0 && sent + STEP_MS / 2 < stepped_at); /* stamped by the stepped clock */

    /* Ten minutes back: past the broker's five-minute window. */
    s_step("600000"); /* FAR_STEP_MS */
    proc_capture cap;
    proc_capture_init(&cap, s_dir);
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));
    FILE *a = fopen(s_p("alert.json"), "w");
    REQUIRE(a != NULL);
    fputs("{\"title\":\"DDoS on a ministry\",\"tlp\":\"GREEN\"}", a);
    fclose(a);
    CHECK_EQ(proc_capture_run(&cap, s_p("alert.json"), "cydex", "publish", "--node", node,
                              "--topic", "alert.health", NULL),
             0);
    bool told = false;
    for (int i = 0; i < 100 && !told; i++) { /* bounded: about 10 s */
        CHECK_EQ(proc_capture_run(&cap, NULL, "cydex", "status", "--node", node, NULL), 0);
        told = strstr(cap.out, "of our envelopes refused by a broker for good") != NULL;
        if (!told)
            bus_nap(100);
    }
    CHECK(told);
    CHECK(strstr(cap.out, "clock-skew") && strstr(cap.out, "check this host's time"));
    CHECK(strstr(cap.out, "its clock reads +60")); /* about +600 s from ours */
    char *said = proc_slurp(s_p("ee.log"));
    CHECK(said && strstr(said, "broker.alpha refused one of our envelopes: clock-skew"));
    free(said);
    unsigned port = bus_port(s_dir, "ee");
    REQUIRE(port);
    static bus_reply r;
    bus_http(port, "GET", "/health", &r);
    CHECK_EQ(r.status, 503);
    CHECK(strstr(r.body, "\"failing\"") && strstr(r.body, "clock-skew"));

    /* The clock put right: the next alert is taken, and /health is well. */
    s_step("0");
    CHECK_EQ(proc_capture_run(&cap, s_p("alert.json"), "cydex", "publish", "--node", node,
                              "--topic", "alert.health", NULL),
             0);
    for (int i = 0; i < 100 && r.status != 200; i++) { /* bounded: about 10 s */
        bus_nap(100);
        bus_http(port, "GET", "/health", &r);
    }
    CHECK_EQ(r.status, 200);
    proc_capture_free(&cap);

    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));
    fixture_free(&F);
    int rc = check_done("clockstep_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
