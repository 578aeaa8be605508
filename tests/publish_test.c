/* Publishing through a node, as an operator does with the cydex command:
 * EE's node signs, logs and sends, and keeps each envelope in its outbox
 * until a broker's receipt; with the broker down the envelope waits and is
 * resent when the broker returns; FR receives (a sealed alert too, which
 * FR can open) and acknowledges through its own node, and EE's node logs
 * the ack. Both nodes' logs are audited afterwards. Processes by PID;
 * ipc:// only. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "cydex/transport.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Waits until log NAME holds `who` up to seq (and exactly `outbox`
 * waiting, unless SIZE_MAX). */
static bool s_wait(const char *logname, const char *who, uint64_t seq, size_t outbox)
{
    return bus_wait_log(s_p(logname), who, seq, seq, outbox);
}

static void s_write(const char *name, const char *text)
{
    FILE *f = fopen(s_p(name), "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

#define HAS(text) CHECK(strstr(s_cap.out, text) || strstr(s_cap.err, text))

/* Sends n publish requests and one malformed one without waiting, then
 * reads the n + 1 answers. */
static void s_burst(const char *node, int n)
{
    cdx_transport *t = NULL;
    cdx_sock *s = NULL;
    REQUIRE(cdx_transport_new_local(&t, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect_local(&s, t, CDX_SOCK_DEALER, node, NULL) == CDX_OK);
    static const char alert[] = "{\"title\":\"Burst\",\"tlp\":\"GREEN\"}";
    for (int i = 0; i <= n; i++) {
        const char *body = i == n / 2 ? "{not json" : alert;
        cdx_bytes f[4] = {{(uint8_t *)"publish", 7},
                          {(uint8_t *)"alert.health", 12},
                          {(uint8_t *)"", 0},
                          {(uint8_t *)body, strlen(body)}};
        CHECK_EQ(cdx_sock_send(s, f, 4, 5000), CDX_OK);
    }
    bool seen[64] = {false};
    int ok = 0, errors = 0, error_at = -1;
    for (int i = 0; i <= n; i++) {
        cdx_msg m = {0};
        if (cdx_sock_recv(s, &m, 10000) != CDX_OK)
            break;
        if (m.n == 3 && m.frame[0].len == 2 && !memcmp(m.frame[0].data, "ok", 2)) {
            char seq[24] = "";
            snprintf(seq, sizeof seq, "%.*s", (int)m.frame[2].len, (const char *)m.frame[2].data);
            long v = strtol(seq, NULL, 10);
            if (v >= 4 && v < 4 + n && !seen[v - 4]) {
                seen[v - 4] = true;
                ok++;
            }
        } else if (m.n == 3 && m.frame[0].len == 5 && !memcmp(m.frame[0].data, "error", 5)) {
            errors++;
            error_at = i;
        }
        cdx_msg_clear(&m);
    }
    CHECK_EQ(ok, n);
    CHECK_EQ(errors, 1);
    CHECK_EQ(error_at, n / 2); /* answered in the order asked */
    cdx_sock_destroy(&s);
    cdx_transport_destroy(&t);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture_init(&s_cap, s_dir);
    s_write("green.json", "{\"title\":\"Ransomware wave against hospitals\",\"tlp\":\"GREEN\"}");
    s_write("amber.json", "{\"title\":\"Compromised supplier\",\"tlp\":\"AMBER\"}");
    s_write("red.json", "{\"title\":\"Names of officials\",\"tlp\":\"RED\"}");
    static const char named[] = "{\"id\":\"5f0c2a44-1d3e-4b7a-9c61-0e2f8a7b3c10\",\"title\":"
                                "\"Supplier breach\",\"tlp\":\"GREEN\"}";
    static const char named3[] = "{\"id\":\"5f0c2a44-1d3e-4b7a-9c61-0e2f8a7b3c13\",\"title\":"
                                 "\"DDoS on a ministry\",\"tlp\":\"GREEN\"}";
    s_write("named.json", named);
    s_write("named-other.json", "{\"id\":\"5f0c2a44-1d3e-4b7a-9c61-0e2f8a7b3c10\",\"title\":"
                                "\"Supplier breach, updated\",\"tlp\":\"GREEN\"}");
    s_write("named-amber.json", "{\"id\":\"5f0c2a44-1d3e-4b7a-9c61-0e2f8a7b3c12\",\"title\":"
                                "\"Supplier breach: the names\",\"tlp\":\"AMBER\"}");
    char lines[512];
    snprintf(lines, sizeof lines, "%s\n%s\n%s\n", named3, named3, named);
    s_write("named-lines.json", lines);
    char ee_node[320], fr_node[320];
    snprintf(ee_node, sizeof ee_node, "ipc://%s", s_p("ee-control"));
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,sth");
    CHECK(s_wait("ee-log", "broker.alpha", 1, SIZE_MAX)); /* subscriptions are in place */
    CHECK(s_wait("fr-log", "broker.alpha", 1, SIZE_MAX));

    /* 1. Published, logged by EE's node, receipted, received by FR. */
    CHECK_EQ(proc_capture_run(&s_cap, s_p("green.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", "--json", NULL),
             0);
    HAS("\"seq\":1}");
    char hash1[65] = "";
    const char *h = strstr(s_cap.out, "\"hash\":\"");
    if (h)
        snprintf(hash1, sizeof hash1, "%.64s", h + 8);
    CHECK(s_wait("ee-log", "EE", 1, 0));
    CHECK(s_wait("fr-log", "EE", 1, SIZE_MAX));

    /* 2. The broker is down: the node holds the envelope; it waits. The
     * node's status says so once its link drops (at once: the broker's
     * process is gone), and so does publish: nothing was sent. */
    CHECK_EQ(bus_stop(broker), 0);
    bool down = false;
    for (int i = 0; i < 100 && !down; i++) {
        CHECK_EQ(
            proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
            0);
        down = strstr(s_cap.out, "\"connected\":false") != NULL;
        if (!down)
            bus_nap(100);
    }
    CHECK(down);
    HAS("\"heard_recently\":");
    HAS("\"last_heard_ms_ago\":");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("green.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             0);
    HAS("publish: logged as seq 2, envelope hash ");
    HAS("no broker connected: it waits in the outbox and is sent when one is");
    CHECK(strstr(s_cap.out, "sent to") == NULL);
    CHECK(s_wait("ee-log", "EE", 2, 1)); /* logged, one waiting for a receipt */
    /* status names the oldest waiting envelope and when it was logged. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    HAS("\"waiting_for_receipt\":1");
    HAS("\"oldest_waiting\":{");
    HAS("\"seq\":2");
    HAS("\"logged_at\":\"20");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, NULL), 0);
    HAS("1 waiting for a broker's receipt (the oldest: seq 2, logged 20");
    /* The broker returns: the node resends, gets its receipt. */
    broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    CHECK(s_wait("ee-log", "EE", 2, 0));
    CHECK(s_wait("alpha-log", "EE", 2, SIZE_MAX));

    /* 3. Sealed to FR; and a RED alert unsealed is refused by the node. */
    CHECK_EQ(proc_capture_run(&s_cap, s_p("amber.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.energy", "--to", "FR", NULL),
             0);
    HAS("logged as seq 3");
    HAS("sent to broker.alpha (connected); it stays in the outbox until a broker's receipt");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("red.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.energy", NULL),
             1);
    HAS("must be sealed");
    CHECK(s_wait("fr-log", "EE", 3, SIZE_MAX)); /* 2 arrives live or as a gap filled */

    /* 4. FR acknowledges seq 1 through its node; EE's node logs the ack. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "ack", "--node", fr_node, "--stage",
                              "investigating", "--note", "checking our hospitals", hash1, NULL),
             0);
    HAS("seq 1");
    CHECK(s_wait("ee-log", "FR", 1, SIZE_MAX));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "ack", "--node", fr_node, "--stage",
                              "pondering", hash1, NULL),
             64);

    /* 4b. A burst of requests queued at once (one malformed in the middle):
     * every good one is answered ok with its own seq, 4..43, chained; the
     * bad one is answered with an error in its turn and takes no seq. */
    s_burst(ee_node, 40);
    CHECK(s_wait("fr-log", "EE", 43, SIZE_MAX));
    CHECK(s_wait("ee-log", "EE", 43, 0));

    /* 4c. The nodes say what they did and hold. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    HAS("\"id\":\"EE\"");
    HAS("\"published\":43");
    HAS("\"waiting_for_receipt\":0");
    HAS("\"log_commits\":{\"count\":"); /* its commits and how long they took */
    /* ...in whole microseconds, the 99th percentile no more than the
     * slowest: no float with 17 digits. */
    const char *lc = strstr(s_cap.out, "\"log_commits\":{");
    CHECK(lc && strstr(lc, "\"p99_us\":") && strstr(lc, "\"max_us\":"));
    if (lc) {
        size_t span = strcspn(lc, "}");
        CHECK(memchr(lc, '.', span) == NULL);
        const char *p99 = strstr(lc, "\"p99_us\":"), *max = strstr(lc, "\"max_us\":");
        if (p99 && max)
            CHECK(strtoull(p99 + 9, NULL, 10) <= strtoull(max + 9, NULL, 10));
    }
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", fr_node, NULL), 0);
    HAS(" commits to the log, taking ");
    CHECK(strstr(s_cap.out, "broker.alpha") && strstr(s_cap.out, " connected "));
    HAS("waiting for a broker's receipt");
    CHECK(strstr(s_cap.out, "EE ") && strstr(strstr(s_cap.out, "EE "), " 43 "));

    /* 4d. An alert that names its id is published once: asked again (a
     * relay that lost the answer, a feed read twice) the node answers with
     * the envelope it made then; the same id with other content, topic or
     * recipients is refused (73). So also across a restart of the node,
     * and for two requests of one id in one round. */
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             0);
    HAS("seq 44");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             0);
    HAS("seq 44");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-other.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.health", NULL),
             73);
    HAS("published before (seq 44)");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.energy", NULL),
             73);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-amber.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.energy", "--to", "FR", NULL),
             0);
    HAS("seq 45");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-amber.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.energy", "--to", "FR,EE", NULL),
             0); /* sealed to ourselves as well either way */
    HAS("seq 45");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-amber.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.energy", "--to", "FR,DE", NULL),
             73);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-lines.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.health", "--lines", "--json", NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "\"seq\":46}"), 2);
    CHECK_EQ(proc_count(s_cap.out, "\"seq\":44}"), 1);
    CHECK_EQ(bus_stop(ee), 0);
    ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named-amber.json"), "cydex", "publish", "--node",
                              ee_node, "--topic", "alert.energy", "--to", "FR", NULL),
             0);
    HAS("seq 45");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    HAS("\"publish_repeats\":1");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, NULL), 0);
    HAS("1 repeated publish(es) of an alert id");
    CHECK(s_wait("fr-log", "EE", 46, SIZE_MAX));
    /* A node that has not yet read its log for alert ids (here one entry a
     * round) keeps a publish that names one until it has, then answers it
     * as a repeat, not as a new alert under a used id. */
    CHECK_EQ(bus_stop(ee), 0);
    ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth",
                             "[node]\nquery_step = 1\n");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("named.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             0);
    HAS("seq 44");
    CHECK(bus_wait_file(s_p("ee.log"), "\"publish\" waits while", 5000));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, "--json", NULL),
             0);
    HAS("\"publish_repeats\":1");

    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(broker), 0);
    /* 5. A node that is not running: a clear message, exit 69, no hang. */
    CHECK_EQ(proc_capture_run(&s_cap, s_p("green.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             69);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ee_node, NULL), 69);
    HAS("is cydex-node running");

    /* Both logs verify; EE's three alerts are each in FR's log once, and
     * the sealed one opens with FR's key. */
    const char *logs[] = {"ee-log", "fr-log", "alpha-log"};
    for (int i = 0; i < 3; i++) {
        cdx_audit_report rep;
        CHECK(bus_audit(s_p(logs[i]), F.roster, &rep));
    }
    uint64_t max, count;
    bus_log_sender(s_p("fr-log"), "EE", &max, &count, NULL);
    CHECK_EQ(max, 46);
    CHECK_EQ(count, 46);
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, s_p("fr-log"), &ro, NULL) == CDX_OK);
    uint64_t index;
    cdx_log_entry e;
    REQUIRE(cdx_log_find_seq(log, "EE", 3, &index) == CDX_OK);
    REQUIRE(cdx_log_get(log, index, &e, NULL) == CDX_OK);
    cdx_envelope *env = NULL;
    cdx_alert opened;
    REQUIRE(cdx_envelope_verify(&env, F.roster, e.envelope.data, e.envelope.len, NULL, NULL) ==
            CDX_OK);
    CHECK_EQ(cdx_envelope_open(env, F.fr, &opened, NULL), CDX_OK);
    CHECK_STR(opened.title, "Compromised supplier");
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    cdx_log_destroy(&log);

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("publish_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s (ee.log, fr.log, alpha.log)\n", s_dir);
    return rc;
}
