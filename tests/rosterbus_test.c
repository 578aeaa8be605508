/* Roster updates over the bus: EE's operator hands roster v2 (DE revoked,
 * signed by two admins of v1) to EE's node, which puts it in force and
 * publishes it on "roster"; the broker and FR's node put it in force too,
 * and DE can no longer publish. A v2 with one signature is refused. The
 * broker restarted keeps v2 (from its log); FR's node takes v3 from its
 * roster file on SIGHUP. Every log verifies from the v1 anchor, following
 * the updates it holds. Processes by PID; ipc:// only. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Waits (bounded) until the daemon's log file says `what`. */
static bool s_log_says(const char *daemon_log, const char *what)
{
    for (int i = 0; i < 200; i++) {
        char *text = proc_slurp(s_p(daemon_log));
        bool found = strstr(text, what) != NULL;
        free(text);
        if (found)
            return true;
        bus_nap(50);
    }
    fprintf(stderr, "%s never said \"%s\"\n", daemon_log, what);
    return false;
}

/* The next version of prev, with `edit` applied, signed by the given
 * admins of prev, saved to name. */
static void s_next(const cdx_roster *prev, const char *name, const char *revoke,
                   const cdx_identity *const *admins, size_t n, cdx_roster **out)
{
    cdx_roster *r = NULL;
    REQUIRE(cdx_roster_next(&r, prev, cdx_now_ms()) == CDX_OK);
    if (revoke)
        REQUIRE(cdx_roster_revoke(r, revoke, cdx_now_ms(), NULL) == CDX_OK);
    for (size_t i = 0; i < n; i++)
        REQUIRE(cdx_roster_sign(r, prev, admins[i], NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(r, s_p(name), NULL) == CDX_OK);
    if (out)
        *out = r;
    else
        cdx_roster_destroy(&r);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    char ee_node[320], de_node[320], fr_node[320];
    snprintf(ee_node, sizeof ee_node, "ipc://%s", s_p("ee-control"));
    snprintf(de_node, sizeof de_node, "ipc://%s", s_p("de-control"));
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,roster,sth");
    pid_t de = bus_start_node(s_dir, "de", "DE", "alpha", "broker.alpha", "");
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX));

    /* DE, still a member, publishes. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", de_node, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "Before", NULL),
             0);
    CHECK(bus_wait_log(s_p("fr-log"), "DE", 1, 1, SIZE_MAX));

    /* v2 with one admin's signature of the two v1 requires: refused. */
    const cdx_identity *one[] = {F.ee}, *two[] = {F.ee, F.fr};
    s_next(F.roster, "roster-bad.bin", "DE", one, 1, NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "roster", "publish", "--node", ee_node,
                              s_p("roster-bad.bin"), NULL),
             1);
    /* v2, DE revoked, signed by two: in force everywhere. */
    cdx_roster *v2 = NULL;
    s_next(F.roster, "roster-v2.bin", "DE", two, 2, &v2);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "roster", "publish", "--node", ee_node,
                              s_p("roster-v2.bin"), "--json", NULL),
             0);
    CHECK(strstr(s_cap.out, "\"seq\":1}") != NULL);
    CHECK(s_log_says("ee.log", "roster v2 in force (from the control socket)"));
    CHECK(s_log_says("alpha.log", "roster v2 in force (from the bus)"));
    CHECK(s_log_says("fr.log", "roster v2 in force (published by EE)"));
    CHECK(s_log_says("de.log", "roster v2 in force (published by EE)"));

    /* DE's key is revoked now: its node will not sign with it. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", de_node, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "After", NULL),
             1);
    CHECK(strstr(s_cap.err, "revoked") != NULL);

    /* The broker, restarted with the v1 file, keeps v2 from its log. */
    CHECK_EQ(bus_stop(broker), 0);
    broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    CHECK(s_log_says("alpha.log", "using roster v2 from the log"));

    /* v3 in FR's roster file, then SIGHUP. */
    s_next(v2, "roster.bin", NULL, two, 2, NULL);
    REQUIRE(kill(fr, SIGHUP) == 0);
    CHECK(s_log_says("fr.log", "SIGHUP: roster v3 in force"));
    cdx_roster_destroy(&v2);

    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("fr-log"), "DE", &max, &count, NULL);
    CHECK_EQ(max, 1); /* DE's "Before", nothing after */
    const char *logs[] = {"ee-log", "fr-log", "de-log", "alpha-log"};
    for (int i = 0; i < 4; i++) {
        cdx_audit_report rep;
        CHECK(bus_audit(s_p(logs[i]), F.roster, &rep));
    }

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("rosterbus_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
