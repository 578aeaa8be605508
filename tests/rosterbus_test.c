/* Roster updates over the bus: EE's operator hands roster v2 (DE revoked,
 * signed by two admins of v1) to EE's node, which puts it in force and
 * publishes it on "roster"; the broker and FR's node put it in force too,
 * DE can no longer publish, and DE's node says so on /health (503). A v2
 * with one signature is refused. The broker restarted keeps v2 (from its
 * log); FR's node takes v3 from its roster file on SIGHUP. Then v4 rotates
 * EE's keys a moment ahead: EE's node, given the new key as next_key, says
 * so in `cydex status`, signs with the new key once the time comes (its
 * envelopes verify only under v4), while the old key and its CURVE key are
 * refused from then on. Every log verifies from the v1 anchor, following
 * the roster history it keeps, EE's old and new envelopes alike.
 * Processes by PID; ipc:// only. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/json.h"
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

static bool s_until_health(unsigned port, int want, const char *says, bus_reply *r)
{
    for (int i = 0; i < 100; i++) {
        bus_http(port, "GET", "/health", r);
        if (r->status == want && (!says || strstr(r->body, says)))
            return true;
        bus_nap(100);
    }
    fprintf(stderr, "/health never answered %d (%s); last %d %s\n", want, says ? says : "",
            r->status, r->body);
    return false;
}

/* EE's envelopes in a log: how many verify under `old` (v2: EE's first key
 * only), and how many verify under `now` (v4, both keys with their
 * windows) but not under `old`: the new key's. */
typedef struct s_ee_count {
    const cdx_roster *old, *now;
    int old_key, new_key, neither;
} s_ee_count;

static cdx_err s_count_ee(void *ctx, cdx_log_entry *e)
{
    s_ee_count *c = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) == CDX_OK &&
        strcmp(cdx_envelope_signer(env), "EE") == 0) {
        cdx_envelope *a = NULL, *b = NULL;
        bool under_old = cdx_envelope_verify(&a, c->old, e->envelope.data, e->envelope.len, NULL,
                                             NULL) == CDX_OK;
        bool under_now = cdx_envelope_verify(&b, c->now, e->envelope.data, e->envelope.len, NULL,
                                             NULL) == CDX_OK;
        c->old_key += under_old && under_now;
        c->new_key += !under_old && under_now;
        c->neither += !under_now;
        cdx_envelope_destroy(&a);
        cdx_envelope_destroy(&b);
    }
    cdx_envelope_destroy(&env);
    return CDX_OK;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    REQUIRE(cdx_roster_save(F.roster, s_p("roster-v1.bin"), NULL) == CDX_OK);
    char ee_node[320], de_node[320], fr_node[320];
    snprintf(ee_node, sizeof ee_node, "ipc://%s", s_p("ee-control"));
    snprintf(de_node, sizeof de_node, "ipc://%s", s_p("de-control"));
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    /* EE's next keys, made beforehand, named in its config. */
    cdx_identity *ee2 = NULL;
    uint8_t seed[32];
    memset(seed, 0x61, sizeof seed);
    REQUIRE(cdx_identity_from_seed(&ee2, "EE", CDX_ROLE_STATE, seed) == CDX_OK);
    REQUIRE(mkdir(s_p("keys2"), 0700) == 0);
    REQUIRE(cdx_identity_save(ee2, s_p("keys2"), NULL) == CDX_OK);
    char ee_extra[600];
    snprintf(ee_extra, sizeof ee_extra, "[node]\nnext_key = %s\ncheckpoint_ms = 300",
             s_p("keys2/EE.secret"));
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "", ee_extra);
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,roster,sth");
    pid_t de = bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "",
                                   "[node]\nmetrics = 127.0.0.1:0");
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX));
    static bus_reply hr;
    unsigned de_port = bus_port(s_dir, "de");
    REQUIRE(de_port);
    CHECK(s_until_health(de_port, 200, NULL, &hr));

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
    /* EE's own envelope (its seq: a heartbeat may have gone before it) */
    CHECK(strstr(s_cap.out, "\"seq\":") != NULL && strstr(s_cap.out, "\"hash\":\"") != NULL);
    CHECK(s_log_says("ee.log", "roster v2 in force (from the control socket)"));
    CHECK(s_log_says("alpha.log", "roster v2 in force (from the bus)"));
    CHECK(s_log_says("fr.log", "roster v2 in force (published by EE)"));
    CHECK(s_log_says("de.log", "roster v2 in force (published by EE)"));

    /* DE's key is revoked now: its node will not sign with it. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", de_node, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "After", NULL),
             1);
    CHECK(strstr(s_cap.err, "revoked") != NULL);
    /* ...and its node is not healthy, saying why. */
    CHECK(s_until_health(de_port, 503, "our key is revoked since", &hr));
    CHECK(strstr(hr.body, "\"status\":\"failing\"") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", de_node, NULL), 0);
    CHECK(strstr(s_cap.out, "roster v2 in force; our key: REVOKED since") != NULL);

    /* The broker, restarted with the v1 file, keeps v2 from its log. */
    CHECK_EQ(bus_stop(broker), 0);
    broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    CHECK(s_log_says("alpha.log", "using roster v2 from the log"));

    /* v3 in FR's roster file, then SIGHUP. */
    s_next(v2, "roster.bin", NULL, two, 2, NULL);
    REQUIRE(kill(fr, SIGHUP) == 0);
    CHECK(s_log_says("fr.log", "SIGHUP: roster v3 in force"));
    cdx_roster *v3 = NULL;
    REQUIRE(cdx_roster_load(&v3, s_p("roster.bin"), NULL) == CDX_OK);

    /* EE publishes with its first key. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "Old key", NULL),
             0);
    /* v4 rotates EE's keys a moment from now, signed by v3's admins. */
    uint64_t T = cdx_now_ms() + 3000;
    cdx_member ee2_card;
    cdx_identity_card(ee2, &ee2_card);
    cdx_roster *v4 = NULL;
    REQUIRE(cdx_roster_next(&v4, v3, cdx_now_ms()) == CDX_OK);
    REQUIRE(cdx_roster_rotate(v4, "EE", &ee2_card, T, NULL) == CDX_OK);
    for (int i = 0; i < 2; i++)
        REQUIRE(cdx_roster_sign(v4, v3, two[i], NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(v4, s_p("roster-v4.bin"), NULL) == CDX_OK);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "roster", "publish", "--node", ee_node,
                              s_p("roster-v4.bin"), NULL),
             0);
    /* Before T, EE's node says its key is rotating out, next_key ready
     * (asked at once: T is a few seconds away). */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    CHECK(strstr(s_cap.out, "\"roster_version\":4") != NULL);
    CHECK(strstr(s_cap.out, "\"state\":\"ending\"") != NULL);
    CHECK(strstr(s_cap.out, "\"next_key\":true") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, NULL), 0);
    CHECK(strstr(s_cap.out, "roster v4 in force; our key: valid, rotating out at") != NULL);
    CHECK(s_log_says("alpha.log", "roster v4 in force (from the bus)"));
    CHECK(s_log_says("fr.log", "roster v4 in force (published by EE)"));
    /* At T the node takes the new key, and publishes with it. */
    CHECK(s_log_says("ee.log", "now signing with next_key"));
    CHECK(cdx_now_ms() >= T);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    CHECK(strstr(s_cap.out, "\"state\":\"valid\"") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "New key", NULL),
             0);
    uint64_t ee_max = 0, ee_count = 0;
    bus_log_sender(s_p("ee-log"), "EE", &ee_max, &ee_count, NULL);
    CHECK(bus_wait_log(s_p("fr-log"), "EE", ee_max, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", ee_max, 1, SIZE_MAX));

    /* From T on the old key is refused: an envelope it signs now, sent
     * over a link with the new CURVE key, and a link with the old one. */
    cdx_member broker_card;
    cdx_identity_card(F.broker, &broker_card);
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_bytes forged = {0};
    REQUIRE(fixture_sign_alert(F.ee, ee_max + 1, (uint8_t[32]){1}, cdx_now_ms(), 10, &forged,
                               NULL) == CDX_OK);
    bus_client c;
    bus_client_new(&c, ee2, v4, ingress, broker_card.curve_pk);
    cdx_receipt rec;
    CHECK_EQ(bus_publish(&c, v4, "alert.health", forged.data, forged.len, &rec, 5000), CDX_OK);
    CHECK_EQ(rec.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(rec.reason, "bad-signature");
    bus_client_free(&c);
    bus_client_new(&c, F.ee, v4, ingress, broker_card.curve_pk);
    CHECK_EQ(bus_publish(&c, v4, "alert.health", forged.data, forged.len, &rec, 1500),
             CDX_ERR_TIMEOUT); /* not admitted: no answer */
    bus_client_free(&c);
    cdx_bytes_free(&forged);
    cdx_roster_destroy(&v2);

    /* v4 alone is no trust anchor (EE's admin key changed): a broker
     * restarted with it as its roster file takes it, as it follows from
     * the roster history of its log. */
    CHECK_EQ(bus_stop(broker), 0);
    REQUIRE(cdx_roster_save(v4, s_p("roster.bin"), NULL) == CDX_OK);
    CHECK(cdx_roster_verify(v4, NULL, NULL) != CDX_OK);
    broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    CHECK(s_log_says("alpha.log", "roster v4\n"));

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
        if (i != 2) /* DE's node heard no more after v2: its log ends there */
            CHECK_EQ(rep.roster_version, 4);
    }
    /* EE's envelopes, old key and new, in the logs of EE, FR and the broker. */
    cdx_roster *v2_again = NULL;
    REQUIRE(cdx_roster_load(&v2_again, s_p("roster-v2.bin"), NULL) == CDX_OK);
    const char *ee_logs[] = {"ee-log", "fr-log", "alpha-log"};
    for (int i = 0; i < 3; i++) {
        cdx_log *log = NULL;
        cdx_log_opts ro = {.read_only = true};
        REQUIRE(cdx_log_new(&log, s_p(ee_logs[i]), &ro, NULL) == CDX_OK);
        s_ee_count cnt = {.old = v2_again, .now = v4};
        REQUIRE(cdx_log_scan(log, 0, UINT64_MAX, s_count_ee, &cnt, NULL) == CDX_OK);
        CHECK(cnt.old_key >= 2); /* the rosters EE published, "Old key" */
        CHECK(cnt.new_key >= 1); /* "New key" */
        CHECK_EQ(cnt.neither, 0);
        cdx_log_destroy(&log);
    }
    /* And as an auditor sees it, from the v1 file or from the log alone. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", s_p("fr-log"), "--roster",
                              s_p("roster-v1.bin"), NULL),
             0);
    CHECK(strstr(s_cap.out, "PASS") != NULL && strstr(s_cap.out, "roster: v4") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", s_p("ee-log"), NULL), 0);
    CHECK(strstr(s_cap.out, "PASS") != NULL && strstr(s_cap.out, "roster: v4") != NULL);
    cdx_roster_destroy(&v2_again);
    cdx_roster_destroy(&v3);
    cdx_roster_destroy(&v4);
    cdx_identity_destroy(&ee2);

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("rosterbus_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
