/* cydex-audit completeness and report as an auditor drives them, on logs
 * built with the library: a broker's log and a state's log of a small
 * federation (EE, FR, DE) with acks at every stage, a sealed alert, a gap,
 * a withheld tail, an equivocation, an inconsistent tree head, refused
 * envelopes, and strings from the log written to break out of HTML (an
 * alert title and a log origin holding </script>, <img onerror>).
 *
 * With --browser (the report_browser_test), the HTML report is opened in
 * headless Chromium with the network off (a proxy to nowhere, and the
 * page's own policy): it must render with no console error, its script
 * must have run (the DOM it dumps says so), the charts must be in the DOM,
 * and it takes a screenshot (kept as report.png in the test's folder when
 * CDX_KEEP_SCREENSHOT names a folder). Exit 77 (skipped) without chromium.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "internal.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

#define s_run(...) proc_capture_run(&s_cap, NULL, __VA_ARGS__)
#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)
#define T(min) (FIXTURE_T0 + (uint64_t)(min)*60000)

static const char s_evil_title[] =
    "</script><script>alert(1)</script><img src=x onerror=alert(2)> & \"quotes\"";
static const char s_evil_origin[] = "cydex/FR\"><script>alert(3)</script>";

static char *s_p(const char *name)
{
    static char bufs[16][320];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, 320, "%s/%s", s_dir, name);
    return p;
}

/* One sender's chain as the test signs it. */
typedef struct chain {
    const cdx_identity *who;
    uint64_t seq;
    uint8_t last[CDX_HASH_BYTES];
} chain;

static cdx_envelope *s_sign(chain *c, cdx_body *b)
{
    b->seq = ++c->seq;
    b->has_prev_hash = b->seq > 1;
    memcpy(b->prev_hash, c->last, CDX_HASH_BYTES);
    cdx_bytes raw = {0};
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_envelope_sign(c->who, b, &raw, c->last, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "sign: %s\n", cdx_errbuf_msg(&eb, rc));
    REQUIRE(rc == CDX_OK);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_bytes_free(&raw);
    cdx_body_clear(b);
    return e;
}

static cdx_envelope *s_alert(chain *c, uint64_t at, const char *title)
{
    cdx_body b;
    fixture_body(&b, cdx_identity_id(c->who), 0, NULL, "alert.health", at);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 30);
    cdx_uuid_new(b.alert.id);
    if (title) {
        free(b.alert.title);
        b.alert.title = cdx__strdup(title);
    }
    return s_sign(c, &b);
}

static cdx_envelope *s_ack(chain *c, uint64_t at, const cdx_envelope *alert, cdx_ack_stage st)
{
    cdx_body b;
    fixture_body(&b, cdx_identity_id(c->who), 0, NULL, "ack", at);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, cdx_envelope_hash(alert), CDX_HASH_BYTES);
    b.ack.stage = st;
    b.ack.note = cdx__strdup("noted");
    return s_sign(c, &b);
}

static cdx_envelope *s_heartbeat(chain *c, uint64_t at, uint64_t last_seq)
{
    cdx_body b;
    fixture_body(&b, cdx_identity_id(c->who), 0, NULL, "hb", at);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    b.heartbeat.last_seq = last_seq;
    b.heartbeat.interval_ms = 60000;
    return s_sign(c, &b);
}

static void s_put(cdx_log *log, cdx_envelope **env, bool keep)
{
    cdx_log_append_in in = {.env = *env,
                            .received_at_ms = cdx_envelope_body(*env)->sent_at_ms + 50,
                            .received_from = "broker.alpha"};
    cdx_log_append_out out;
    REQUIRE(cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK);
    if (!keep)
        cdx_envelope_destroy(env);
}

/* broker.alpha's log ("log") and FR's ("fr", with a hostile origin). */
static void s_build(void)
{
    cdx_log *log = NULL, *fr = NULL;
    cdx_log_opts o = {.owner = "broker.alpha"}, fo = {.owner = "FR", .origin = s_evil_origin};
    REQUIRE(cdx_log_new(&log, s_p("log"), &o, NULL) == CDX_OK);
    REQUIRE(cdx_log_new(&fr, s_p("fr"), &fo, NULL) == CDX_OK);
    cdx_bytes raw;
    REQUIRE(cdx_roster_encode(F.roster, &raw) == CDX_OK);
    REQUIRE(cdx_log_set_roster(log, raw.data, raw.len, NULL) == CDX_OK);
    cdx_bytes_free(&raw);
    chain ee = {.who = F.ee}, frc = {.who = F.fr}, de = {.who = F.de};

    cdx_envelope *a[8];
    for (int i = 1; i <= 6; i++)
        a[i] = s_alert(&ee, T(i * 60), i == 4 ? s_evil_title : NULL);
    for (int i = 1; i <= 6; i++)
        s_put(log, &a[i], true);
    /* FR: received, then mitigated EE 1; investigating EE 2; FR's seq 3
     * never reaches the log (a gap); it acks EE 4 as received. */
    cdx_envelope *e = s_ack(&frc, T(60) + 30000, a[1], CDX_ACK_RECEIVED);
    s_put(log, &e, false);
    e = s_ack(&frc, T(60 + 120), a[1], CDX_ACK_MITIGATED);
    s_put(log, &e, false);
    e = s_ack(&frc, T(125), a[2], CDX_ACK_INVESTIGATING);
    cdx_envelope_destroy(&e); /* FR seq 3: lost */
    e = s_ack(&frc, T(245), a[4], CDX_ACK_RECEIVED);
    s_put(log, &e, false);
    /* DE: not affected by EE 1 after 10 minutes, rejects EE 3; then
     * heartbeats state seqs the log never got (a withheld tail). */
    e = s_ack(&de, T(70), a[1], CDX_ACK_NOT_AFFECTED);
    s_put(log, &e, false);
    e = s_ack(&de, T(190), a[3], CDX_ACK_REJECTED);
    s_put(log, &e, false);
    e = s_alert(&de, T(200), "DE's own alert"); /* seq 3 */
    s_put(log, &e, false);
    for (int i = 0; i < 2; i++) { /* seqs 4, 5: withheld */
        e = s_alert(&de, T(210 + i), "withheld");
        cdx_envelope_destroy(&e);
    }
    e = s_heartbeat(&de, T(300), 5); /* seq 6 states last_seq 5 */
    s_put(log, &e, false);
    /* EE signs a second seq 6: kept as an equivocation. */
    {
        chain fork = ee;
        fork.seq = 5;
        memcpy(fork.last, cdx_envelope_hash(a[5]), CDX_HASH_BYTES);
        e = s_alert(&fork, T(361), "a second seq 6");
        s_put(log, &e, false);
    }
    /* A sealed alert to FR. */
    {
        cdx_body b;
        fixture_body(&b, "EE", 0, NULL, "alert.energy", T(400));
        b.kind = CDX_PAYLOAD_SEALED;
        cdx_alert al;
        fixture_alert(&al, CDX_TLP_RED, 20);
        cdx_member frm;
        cdx_identity_card(F.fr, &frm);
        REQUIRE(cdx_seal_alert(&b.sealed, &al, "EE", ee.seq + 1, "alert.energy", &frm, 1, NULL) ==
                CDX_OK);
        cdx_alert_clear(&al);
        a[7] = s_sign(&ee, &b);
        s_put(log, &a[7], true);
    }
    /* broker.alpha signs a tree head of its own log at size 3 with a root
     * the log does not have there. */
    {
        cdx_body b;
        fixture_body(&b, "broker.alpha", 0, NULL, "sth", T(410));
        b.kind = CDX_PAYLOAD_TREE_HEAD;
        b.tree_head.origin = cdx__strdup("cydex/broker.alpha");
        b.tree_head.size = 3;
        memset(b.tree_head.root, 0x5a, CDX_HASH_BYTES);
        b.tree_head.timestamp_ms = T(410);
        chain br = {.who = F.broker};
        e = s_sign(&br, &b);
        s_put(log, &e, false);
    }
    REQUIRE(cdx_log_count_rejected(log, "bad-signature", 3, NULL) == CDX_OK);
    REQUIRE(cdx_log_count_rejected(log, "clock-skew", 1, NULL) == CDX_OK);
    /* FR's log: EE's alerts 1..3 (already in the broker's: counted once)
     * and FR's ack of the sealed alert, which only FR's log holds. */
    for (int i = 1; i <= 3; i++)
        s_put(fr, &a[i], true);
    e = s_ack(&frc, T(405), a[7], CDX_ACK_ASSISTANCE_OFFERED);
    s_put(fr, &e, false);
    for (int i = 1; i <= 7; i++)
        cdx_envelope_destroy(&a[i]);
    cdx_log_destroy(&log);
    cdx_log_destroy(&fr);
}

static void test_completeness_cli(void)
{
    const char *log = s_p("log"), *roster = s_p("roster.bin");
    /* EE: 1..7 held (and a second seq 6, which its seq 7 does not name:
     * both seq 6s are held, so nothing is missing). */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", "--roster", roster, NULL),
             0);
    HAS(s_cap.out, "COMPLETE: EE 1..7 complete in cydex/broker.alpha");
    HAS(s_cap.out, "note: the log holds two envelopes for 1 seq of EE");
    /* FR's seq 3 is missing: its seq 4 names it. */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "FR", "--roster", roster, NULL),
             1);
    HAS(s_cap.out, "INCOMPLETE: FR in cydex/broker.alpha up to seq 4");
    HAS(s_cap.out, "missing: seq 3 (gap): FR's seq 4 (ack, entry #8)");
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "FR", "--until", "2", "--roster",
                   roster, NULL),
             0);
    HAS(s_cap.out, "COMPLETE: FR 1..2 complete");
    /* DE's heartbeat states seqs 4..5, which the log never got. */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "DE", "--roster", roster,
                   "--json", NULL),
             1);
    json_error_t jerr;
    json_t *j = json_loads(s_cap.out, 0, &jerr);
    CHECK(j != NULL);
    CHECK_STR(json_string_value(json_object_get(j, "verdict")), "incomplete");
    json_t *m0 = json_array_get(json_object_get(j, "missing"), 0);
    CHECK_EQ(json_integer_value(json_object_get(m0, "from")), 4);
    CHECK_EQ(json_integer_value(json_object_get(m0, "to")), 5);
    CHECK_STR(json_string_value(json_object_get(m0, "kind")), "tail");
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(m0, "proof"), "seq")), 6);
    json_decref(j);
    /* Up to a time after EE's last statement: not provable. */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", "--until",
                   "2026-01-01T00:00:00Z", "--roster", roster, NULL),
             1);
    HAS(s_cap.out, "NOT PROVABLE: everything EE published up to 2026-01-01T00:00:00.000Z");
    /* Up to a time between EE 2 and EE 3. */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", "--until",
                   "2025-11-24T18:30:00Z", "--roster", roster, NULL),
             0);
    HAS(s_cap.out, "COMPLETE: EE 1..2 complete in cydex/broker.alpha (everything EE published up "
                   "to 2025-11-24T18:30:00.000Z)");
    /* The roster the log stores, with a warning. */
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", NULL), 0);
    HAS(s_cap.err, "judging by the roster stored in the log");

    CHECK_EQ(s_run("cydex-audit", "completeness", log, NULL), 64);
    HAS(s_cap.err, "--sender ID is required");
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", "--until", "soon", NULL),
             64);
    CHECK_EQ(s_run("cydex-audit", "completeness", log, "--sender", "EE", "--until", "0", NULL), 64);
    CHECK_EQ(s_run("cydex-audit", "completeness", s_p("nolog"), "--sender", "EE", NULL), 66);
    CHECK_EQ(s_run("cydex-audit", "completeness", "--help", NULL), 0);
    HAS(s_cap.out, "Exit 0 complete up to the point; 1 seqs missing, or not provable that far");
}

/* Every "<script" in the page is the page's own. */
static size_t s_count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

static void test_report_html_json(void)
{
    const char *log = s_p("log"), *fr = s_p("fr"), *html = s_p("report.html");
    CHECK_EQ(s_run("cydex-audit", "report", log, fr, "--html", html, "--json", "--key",
                   s_p("keys/FR.secret"), NULL),
             0);
    char *page = proc_slurp(html);
    CHECK(strncmp(page, "<!DOCTYPE html>", 15) == 0);
    /* Hostile strings are text. */
    CHECK_EQ(s_count(page, "<script"), 1);
    CHECK(strstr(page, "<img") == NULL);
    CHECK(strstr(page, "alert(1)</script>") == NULL);
    HAS(page, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x "
              "onerror=alert(2)&gt; &amp; &quot;quotes&quot;");
    HAS(page, "cydex/FR&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;");
    /* Nothing to fetch: no external reference at all. */
    CHECK(strstr(page, "http://") == NULL && strstr(page, "https://") == NULL);
    CHECK(strstr(page, "src=\"") == NULL && strstr(page, "href=\"http") == NULL);
    HAS(page, "Content-Security-Policy\" content=\"default-src 'none'");
    HAS(page, "@media print");
    /* The sections and their charts. */
    HAS(page, "<svg class=chart id=chart-alerts");
    HAS(page, "<svg class=chart id=chart-latency");
    HAS(page, "<svg class=chart id=chart-refused");
    HAS(page, "The latest 9 of 9 alerts");
    HAS(page, "title=\"mitigated\">M</td>");
    HAS(page, "title=\"assistance-offered\">AO</td>"); /* FR's log: FR's ack of the sealed one */
    HAS(page, "title=\"rejected\">X</td>");
    HAS(page, "tail (stated by a heartbeat)");
    HAS(page, "another root than the log's at that size");
    HAS(page, "clock-skew");
    free(page);

    json_error_t jerr;
    json_t *j = json_loads(s_cap.out, 0, &jerr);
    CHECK(j != NULL);
    if (!j)
        fprintf(stderr, "report --json: %s\n%s\n", jerr.text, s_cap.out);
    CHECK_EQ(json_integer_value(json_object_get(j, "entries")), 17); /* 16 + FR's one ack */
    CHECK_EQ(json_integer_value(json_object_get(j, "alerts")), 9);
    CHECK_EQ(json_integer_value(json_object_get(j, "equivocations")), 1);
    CHECK_EQ(json_integer_value(json_object_get(j, "gaps_total")), 3); /* and FR 1..4 in FR's log */
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "tree_heads"), "inconsistent")),
             1);
    CHECK_EQ(json_integer_value(json_object_get(json_object_get(j, "rejected"), "bad-signature")),
             3);
    json_t *senders = json_object_get(j, "senders"), *frj = NULL;
    for (size_t i = 0; i < json_array_size(senders); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(senders, i), "id")), "FR") == 0)
            frj = json_array_get(senders, i);
    REQUIRE(frj != NULL);
    CHECK_EQ(json_integer_value(json_object_get(frj, "acked_alerts")), 3); /* EE 1, 4, 7 */
    CHECK_EQ(json_integer_value(json_object_get(frj, "acks")), 4);
    json_t *lat = json_object_get(frj, "ack_latency");
    CHECK_EQ(json_integer_value(json_object_get(lat, "min_ms")), 30000);  /* EE 1, first ack */
    CHECK_EQ(json_integer_value(json_object_get(lat, "max_ms")), 300000); /* EE 4 */
    /* The sealed alert, opened with FR's key, is named; the hostile title
     * is a plain string. */
    json_t *rows = json_object_get(json_object_get(j, "matrix"), "alerts");
    CHECK_EQ(json_array_size(rows), 9);
    bool evil = false;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        const char *t = json_string_value(json_object_get(json_array_get(rows, i), "title"));
        evil = evil || (t && strcmp(t, s_evil_title) == 0);
    }
    CHECK(evil);
    json_decref(j);

    /* Text, and the errors. */
    CHECK_EQ(s_run("cydex-audit", "report", log, NULL), 0);
    HAS(s_cap.out, "report on cydex/broker.alpha: 16 entries");
    HAS(s_cap.out, "gaps: 2 ranges, 3 seqs: DE 4-5 (tail) FR 3-3");
    HAS(s_cap.out, "inconsistent tree heads: 1 of 1 checked");
    HAS(s_cap.out, "refused: 0 duplicates, 3 bad-signature, 1 clock-skew");
    CHECK_EQ(s_run("cydex-audit", "report", s_p("nolog"), NULL), 66);
    CHECK_EQ(s_run("cydex-audit", "report", NULL), 64);
    CHECK_EQ(s_run("cydex-audit", "report", log, "--html", s_p("no/such/dir/r.html"), NULL), 74);
    CHECK_EQ(s_run("cydex-audit", "report", log, "--matrix", "0", NULL), 64);
}

/* ---- in a real browser ---- */

static const char *s_chromium(void)
{
    static const char *const names[] = {"/usr/bin/chromium", "/usr/bin/chromium-browser",
                                        "/usr/bin/google-chrome"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (access(names[i], X_OK) == 0)
            return names[i];
    return NULL;
}

static int test_browser(void)
{
    const char *chromium = s_chromium();
    if (!chromium) {
        printf("report_browser_test: no chromium: skipped\n");
        return 77;
    }
    const char *log = s_p("log"), *fr = s_p("fr");
    char html[320], url[400], shot[320], dom[320], err[320], profile[320];
    snprintf(html, sizeof html, "%s", s_p("report.html"));
    REQUIRE(s_run("cydex-audit", "report", log, fr, "--html", html, NULL) == 0);
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(shot, sizeof shot, "%s", s_p("report.png"));
    snprintf(dom, sizeof dom, "%s", s_p("dom.html"));
    snprintf(err, sizeof err, "%s", s_p("chromium.err"));
    snprintf(profile, sizeof profile, "%s", s_p("profile"));
    char shot_arg[400], profile_arg[400];
    snprintf(shot_arg, sizeof shot_arg, "--screenshot=%s", shot);
    snprintf(profile_arg, sizeof profile_arg, "--user-data-dir=%s", profile);
    /* The network off: every request would go to a proxy that is not
     * there (port 9 of the loopback, nothing listens), and the page's
     * policy allows none. */
    char *common[] = {(char *)chromium,
                      "--headless",
                      "--disable-gpu",
                      "--no-sandbox",
                      "--no-first-run",
                      "--disable-extensions",
                      "--disable-sync",
                      "--disable-background-networking",
                      "--disable-component-update",
                      "--proxy-server=127.0.0.1:9",
                      "--proxy-bypass-list=<-loopback>",
                      "--enable-logging=stderr",
                      "--v=0",
                      profile_arg,
                      "--window-size=1200,4200",
                      "--virtual-time-budget=3000",
                      NULL,
                      NULL,
                      NULL};
    size_t n = 16;
    common[n] = "--dump-dom";
    common[n + 1] = url;
    int rc = proc_run(common, NULL, dom, err, 90);
    CHECK_EQ(rc, 0);
    char *d = proc_slurp(dom), *e = proc_slurp(err);
    /* The page's script ran under its own policy... */
    HAS(d, "<html lang=\"en\" class=\"js\">");
    /* ...and the charts are in the rendered DOM. */
    HAS(d, "id=\"chart-alerts\"");
    HAS(d, "id=\"chart-latency\"");
    HAS(d, "id=\"chart-refused\"");
    CHECK(s_count(d, "<rect") > 10);
    /* The hostile title rendered as text, not as elements. */
    CHECK(strstr(d, "<img") == NULL);
    HAS(d, "&lt;/script&gt;&lt;script&gt;alert(1)");
    /* No console message, no refused load, no script error. */
    CHECK(strstr(e, "CONSOLE") == NULL);
    CHECK(strstr(e, "Refused to") == NULL);
    CHECK(strstr(e, "Uncaught") == NULL);
    if (strstr(e, "CONSOLE") || strstr(e, "Refused to") || strstr(e, "Uncaught"))
        fprintf(stderr, "chromium said:\n%s\n", e);
    free(d);
    free(e);

    common[n] = shot_arg;
    common[n + 1] = url;
    rc = proc_run(common, NULL, NULL, err, 90);
    CHECK_EQ(rc, 0);
    struct stat st;
    CHECK(stat(shot, &st) == 0 && st.st_size > 20000); /* a page with charts, not a blank one */
    const char *keep = getenv("CDX_KEEP_SCREENSHOT");
    if (keep && *keep) {
        char cmd[900];
        snprintf(cmd, sizeof cmd, "cp '%s' '%s/report.png' && cp '%s' '%s/report.html'", shot, keep,
                 html, keep);
        CHECK(system(cmd) == 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    bool browser = argc > 1 && strcmp(argv[1], "--browser") == 0;
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    proc_capture_init(&s_cap, s_dir);
    char keys[320];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.fr, keys, NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(F.roster, s_p("roster.bin"), NULL) == CDX_OK);
    s_build();
    int skip = 0;
    if (browser) {
        skip = test_browser();
    } else {
        test_completeness_cli();
        test_report_html_json();
    }
    fixture_free(&F);
    proc_capture_free(&s_cap);
    if (skip == 77) {
        fixture_rmtree(s_dir);
        return 77;
    }
    int rc = check_done(browser ? "report_browser_test" : "audit_report_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
