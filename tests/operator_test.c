/* What operators and relays do through the cydex command, against live
 * nodes: publish from flags and one JSON alert per line; follow a node's
 * log with tail (JSON lines, sealed alerts opened only where addressed);
 * list and show alerts with who acknowledged them; acknowledge by alert
 * id. DE's node, connected to two peered brokers so that everything comes
 * to it twice, acknowledges on its own (auto_ack), once per alert, and
 * only what it can read. EE's idle heartbeats reveal an alert DE's
 * subscription did not carry, and DE fetches it. status says which broker
 * is heard. FR publishes tree heads of its log, which EE logs. Every log
 * is audited at the end and holds a signed checkpoint. Processes by PID; ipc:// only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;
static char s_ee[320], s_fr[320], s_de[320];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static void s_write(const char *name, const char *text)
{
    FILE *f = fopen(s_p(name), "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* How many times needle occurs in hay. */
static int s_count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The value of "key":"..." at its first occurrence after `from` in text. */
static void s_field(char *out, size_t cap, const char *text, const char *from, const char *key)
{
    out[0] = '\0';
    const char *p = from ? strstr(text, from) : text;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    p = p ? strstr(p, pat) : NULL;
    if (!p)
        return;
    p += strlen(pat);
    const char *end = strchr(p, '"');
    snprintf(out, cap, "%.*s", end ? (int)(end - p) : 0, p);
}

#define HAS(text) CHECK(strstr(s_cap.out, text) != NULL)

/* Runs cydex with args until `want` shows in its stdout (bounded). */
static bool s_until(const char *want, char *const *args)
{
    for (int i = 0; i < 100; i++) {
        proc_capture_run(&s_cap, NULL, "cydex", args[0], args[1], args[2], args[3], args[4],
                         args[5], NULL);
        if (strstr(s_cap.out, want))
            return true;
        bus_nap(100);
    }
    fprintf(stderr, "never saw %s; last output:\n%s%s", want, s_cap.out, s_cap.err);
    return false;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 5);
    proc_capture_init(&s_cap, s_dir);
    snprintf(s_ee, sizeof s_ee, "ipc://%s", s_p("ee-control"));
    snprintf(s_fr, sizeof s_fr, "ipc://%s", s_p("fr-control"));
    snprintf(s_de, sizeof s_de, "ipc://%s", s_p("de-control"));

    /* Two brokers, peered: DE, connected to both, gets everything twice. */
    char alpha_conf[1024], beta_conf[1024], de_conf[2048];
    bus_peer_conf(alpha_conf, sizeof alpha_conf, s_dir, "beta", "broker.beta");
    bus_peer_conf(beta_conf, sizeof beta_conf, s_dir, "alpha", "broker.alpha");
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", alpha_conf);
    pid_t beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);
    /* alpha's first checkpoint (after its peer's first catch-up), which
     * every node then fetches as it starts */
    CHECK(bus_wait_log(s_p("alpha-log"), "broker.alpha", 1, 1, SIZE_MAX));
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "",
                                   "[node]\nheartbeat_ms = 300");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,ack,sth",
                                   "[node]\nheartbeat_ms = 0\ncheckpoint_ms = 300");
    /* DE hears alert.health and heartbeats only, and asks for more
     * rarely: what else it gets, a heartbeat made it ask for. */
    char in[256], fan[256], cu[256];
    bus_endpoint(in, s_dir, "beta", "ingress");
    bus_endpoint(fan, s_dir, "beta", "fanout");
    bus_endpoint(cu, s_dir, "beta", "catchup");
    snprintf(de_conf, sizeof de_conf,
             "[node]\nheartbeat_ms = 0\nauto_ack = true\nsync_ms = 600000\n"
             "[broker.beta]\nid = broker.beta\ningress = %s\nfanout = %s\ncatchup = %s\n",
             in, fan, cu);
    pid_t de =
        bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "alert.health,hb", de_conf);
    CHECK(bus_wait_log(s_p("ee-log"), "broker.alpha", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("de-log"), "broker.alpha", 1, 1, SIZE_MAX));

    /* A relay follows DE's alerts live, from before they exist. */
    char *tail_de[] = {"cydex",  "tail",    "--node", s_de,     "--from",    "0",  "--topic",
                       "alert.", "--count", "5",      "--json", "--timeout", "30", NULL};
    pid_t tail = bus_run_bg(s_p("tail-de.out"), "cydex", tail_de);

    /* 1. From flags; from lines (one malformed); sealed to FR; on a topic
     * DE does not hear. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title",
                              "Ransomware wave against hospitals", "--severity", "severe", "--json",
                              NULL),
             0);
    char hash_a[65];
    s_field(hash_a, sizeof hash_a, s_cap.out, NULL, "hash");
    CHECK_EQ(strlen(hash_a), 64);
    s_write("lines.jsonl", "{\"title\":\"Phishing wave\",\"tlp\":\"GREEN\"}\n"
                           "{oops\n"
                           "\n"
                           "{\"title\":\"Wiper in the wild\",\"tlp\":\"CLEAR\"}\n");
    CHECK_EQ(proc_capture_run(&s_cap, s_p("lines.jsonl"), "cydex", "publish", "--node", s_ee,
                              "--topic", "alert.health", "--lines", "--json", NULL),
             65);
    /* One result per alert line, in input order: 1 and 4 published, 2 not. */
    const char *r1 = strstr(s_cap.out, "{\"line\":1,\"hash\"");
    const char *r2 = strstr(s_cap.out, "{\"line\":2,\"exit\":65");
    const char *r4 = strstr(s_cap.out, "{\"line\":4,\"hash\"");
    CHECK(r1 && r2 && r4 && r1 < r2 && r2 < r4);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.health", "--to", "FR", "--tlp", "AMBER", "--title",
                              "Compromised supplier", NULL),
             0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.finance", "--tlp", "GREEN", "--title", "DDoS on a ministry",
                              NULL),
             0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.finance", "--title", "x", "--in", "-", NULL),
             64);
    /* Too big for any broker: the node says so and takes no seq for it. */
    {
        enum { BIG = 1200 * 1000 };
        char *big = malloc(BIG + 100);
        REQUIRE(big != NULL);
        int at = snprintf(big, 100, "{\"title\":\"Huge\",\"tlp\":\"GREEN\",\"description\":\"");
        memset(big + at, 'x', BIG);
        snprintf(big + at + BIG, 10, "\"}");
        s_write("big.json", big);
        free(big);
    }
    CHECK_EQ(proc_capture_run(&s_cap, s_p("big.json"), "cydex", "publish", "--node", s_ee,
                              "--topic", "alert.finance", NULL),
             65);
    CHECK(strstr(s_cap.err, "the limit is 1048576") != NULL);

    /* 2. DE's tail saw all five, verified; the sealed one stayed sealed. */
    CHECK_EQ(bus_wait_exit(tail, 35000), 0);
    char *out = proc_slurp(s_p("tail-de.out"));
    CHECK_EQ(s_count(out, "\n"), 5);
    CHECK_EQ(s_count(out, "\"verified\":true"), 5);
    CHECK_EQ(s_count(out, "\"sealed\":{"), 1);
    CHECK_EQ(s_count(out, "\"opened\""), 0);
    CHECK(strstr(out, "DDoS on a ministry") != NULL); /* fetched after a heartbeat */
    free(out);
    /* At FR, the addressee, tail opens it. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "tail", "--node", s_fr, "--from", "0",
                              "--topic", "alert.", "--count", "5", "--json", "--timeout", "20",
                              NULL),
             0);
    CHECK_EQ(s_count(s_cap.out, "\"opened\":{"), 1);
    CHECK(strstr(s_cap.out, "Compromised supplier") != NULL);

    /* 3. FR lists what it has not acknowledged, acks one by its id. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", s_fr, "--unacked", "--json",
                              NULL),
             0);
    HAS("\"total\":5");
    char id_a[64];
    s_field(id_a, sizeof id_a, s_cap.out, hash_a, "id");
    CHECK_EQ(strlen(id_a), 36);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "ack", "--node", s_fr, "--stage",
                              "investigating", "--note", "checking our hospitals", id_a, NULL),
             0);
    setenv("CYDEX_NODE", s_fr, 1); /* instead of --node, as an operator's shell would */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--unacked", "--json", NULL), 0);
    unsetenv("CYDEX_NODE");
    HAS("\"total\":4");
    CHECK(strstr(s_cap.out, id_a) == NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "ack", "--node", s_fr, "--stage", "received",
                              "no-such-alert", NULL),
             66);

    /* 4. EE sees who acknowledged what: FR by hand, DE on its own for the
     * four it can read (not the one sealed to FR), each once. */
    char *show_a[6] = {"show", "--node", s_ee, "--json", hash_a, NULL};
    CHECK(s_until("\"note\":\"checking our hospitals\"", show_a));
    CHECK(strstr(s_cap.out, "\"by\":\"DE\",\"stage\":\"received\"") != NULL);
    char *list_ee[6] = {"list", "--node", s_ee, "--json", "--limit", "0"};
    CHECK(s_until("DDoS on a ministry", list_ee));
    CHECK(strstr(s_cap.out, "Compromised supplier") != NULL); /* sealed to FR, and to EE */
    bus_wait_log(s_p("ee-log"), "DE", 4, 4, SIZE_MAX);
    proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", s_ee, "--json", NULL);
    CHECK_EQ(s_count(s_cap.out, "\"by\":\"DE\""), 4);
    CHECK_EQ(s_count(s_cap.out, "\"by\":\"FR\""), 1);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", s_ee, id_a, NULL), 0);
    HAS("Ransomware wave against hospitals");
    CHECK(strstr(s_cap.out, "FR     investigating") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", s_ee, "nothing", NULL), 66);

    /* Everything came to DE twice; the second copies cost no verification
     * and nothing was refused. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", s_de, "--json", NULL), 0);
    HAS("\"refused\":0");
    CHECK(strstr(s_cap.out, "\"copies_dropped\":") != NULL &&
          strstr(s_cap.out, "\"copies_dropped\":0") == NULL);

    /* DE restarts: the catch-up brings nothing it would ack again. */
    CHECK_EQ(bus_stop(de), 0);
    de =
        bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "alert.health,hb", de_conf);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "After the restart",
                              NULL),
             0);
    CHECK(bus_wait_log(s_p("ee-log"), "DE", 5, 5, SIZE_MAX));

    /* 5. Heartbeats and status. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", s_ee, "--json", NULL), 0);
    CHECK(strstr(s_cap.out, "\"heartbeats\":0") == NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", s_fr, NULL), 0);
    CHECK(strstr(s_cap.out, "broker.alpha") && strstr(s_cap.out, " connected "));

    /* What FR has not acknowledged, once it holds the last alert. */
    char *unacked_fr[6] = {"list", "--node", s_fr, "--unacked", "--json", NULL};
    CHECK(s_until("After the restart", unacked_fr));
    char total[32] = "";
    const char *t = strstr(s_cap.out, "\"total\":");
    if (t)
        snprintf(total, sizeof total, "%.*s", (int)strcspn(t, ","), t);

    /* A tail told not to wait for a node that stops ends, saying so; by
     * default a tail waits for it and follows on from where it was. */
    char *tail_fr[] = {"cydex", "tail",        "--node", s_fr, "--timeout",
                       "30",    "--wait-node", "0",      NULL};
    tail = bus_run_bg(s_p("tail-fr.out"), "cydex", tail_fr);
    char *tail_on[] = {"cydex", "tail", "--node", s_fr, "--json", NULL};
    pid_t patient = bus_run_bg(s_p("tail-on.out"), "cydex", tail_on);
    bus_nap(300);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_wait_exit(tail, 15000), 69);

    /* FR again, reading its log for questions one entry a round: a list
     * asked at once waits while the log is read between rounds of traffic,
     * then says what it said before. */
    fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,ack,sth",
                             "[node]\nheartbeat_ms = 0\nquery_step = 1");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", s_fr, "--unacked", "--json",
                              NULL),
             0);
    CHECK(total[0] && strstr(s_cap.out, total) != NULL);
    HAS("After the restart");
    char *said = proc_slurp(s_p("fr.log"));
    CHECK(said && strstr(said, "\"alerts\" waits while") != NULL);
    free(said);
    /* The patient tail is back on FR's log: an alert logged now shows,
     * and no entry shows twice. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", s_ee, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "Seen across a restart",
                              NULL),
             0);
    char *seen = NULL;
    for (int i = 0; i < 100 && !(seen && strstr(seen, "Seen across a restart")); i++) {
        free(seen);
        bus_nap(100);
        seen = proc_slurp(s_p("tail-on.out"));
    }
    CHECK(seen && strstr(seen, "Seen across a restart"));
    CHECK_EQ(bus_stop(patient), 0);
    CHECK(bus_wait_log(s_p("de-log"), "DE", 6, 6, SIZE_MAX)); /* DE acked it too */
    char *lines = seen ? seen : "";
    uint64_t last = 0;
    bool first = true, ascending = true;
    for (const char *p = strstr(lines, "\"index\":"); p; p = strstr(p + 1, "\"index\":")) {
        uint64_t index = strtoull(p + 8, NULL, 10);
        ascending = ascending && (first || index > last);
        first = false;
        last = index;
    }
    CHECK(ascending); /* each entry once, in log order */
    free(seen);
    char *tail_said = proc_slurp(s_p("tail-on.out.err"));
    CHECK(tail_said && strstr(tail_said, "waiting up to 60 s for it to come back") &&
          strstr(tail_said, "the node is back; following on from index"));
    free(tail_said);
    CHECK_EQ(bus_stop(fr), 0);

    CHECK_EQ(bus_stop(broker), 0);
    CHECK_EQ(bus_stop(beta), 0);
    char *status_ee[6] = {"status", "--node", s_ee, NULL};
    CHECK(s_until(" silent ", status_ee)); /* about two sync periods after */
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", s_ee, NULL), 69);

    /* Each of DE's acks names a different alert; DE's log holds every
     * seq of EE's it announced, and every log verifies. */
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("de-log"), "DE", &max, &count, NULL);
    CHECK_EQ(max, 6);
    bus_log_sender(s_p("de-log"), "EE", &max, &count, NULL);
    CHECK(max >= 7);
    CHECK_EQ(count, max);
    const char *logs[] = {"ee-log", "fr-log", "de-log", "alpha-log", "beta-log"};
    for (int i = 0; i < 5; i++) {
        cdx_audit_report rep;
        CHECK(bus_audit(s_p(logs[i]), F.roster, &rep));
        CHECK(rep.checkpoints >= 1); /* every node signs its log at least when it stops */
    }
    /* FR published its tree heads; EE logged them as a witness. */
    bus_log_sender(s_p("ee-log"), "FR", &max, &count, NULL);
    CHECK(count >= 2); /* its ack, and at least one tree head */

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("operator_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
