/* What operators' tools see of the daemons. Their HTTP endpoints, as a
 * supervisor and Prometheus see them: /health says 200 while a node hears
 * a broker and 503 once it does not; /metrics counts what was published,
 * logged, accepted and refused (by reason); other paths are 404 and other
 * methods 405; an address that is not HOST:PORT is a configuration error.
 * Every endpoint is on 127.0.0.1 at a port the kernel picks, read from
 * the daemon's log. Their logs as JSON lines, for log shippers; and
 * systemd's readiness protocol (a socket of the test's stands in for it).
 * A broker whose log is full, and one whose log file cannot grow (a file
 * size limit set with prlimit stands in for a full disk): refusals with the
 * reason, /health says why, and a node resends what was refused once there
 * is room. A node whose log is full counts the failures and, given room,
 * fetches what it could not store. Processes by PID. */
#define _GNU_SOURCE /* prlimit */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "internal.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Appends a line to the config file NAME (the last [node] setting wins). */
static void s_write_conf_line(const char *name, const char *line)
{
    FILE *f = fopen(s_p(name), "a");
    REQUIRE(f != NULL);
    fputs(line, f);
    fclose(f);
}

/* How many lines the log file NAME holds, and how many of them are one
 * JSON object each (parsed by jansson). */
static void s_json_lines(const char *name, int *lines, int *objects)
{
    char *log = proc_slurp(s_p(name));
    REQUIRE(log != NULL);
    *lines = *objects = 0;
    for (const char *p = log; *p; (*lines)++) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        json_t *o = json_loadb(p, len, 0, NULL);
        *objects += json_is_object(o);
        json_decref(o);
        p += len + (end != NULL);
    }
    free(log);
}

/* A service manager's notification socket (systemd's NOTIFY_SOCKET). */
static int s_notify_socket(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    REQUIRE(fd >= 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    REQUIRE(strlen(path) < sizeof a.sun_path);
    strcpy(a.sun_path, path);
    REQUIRE(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* The next notification, "" if none came within 10 s. */
static void s_notified(int fd, char *out, size_t cap)
{
    ssize_t n = recv(fd, out, cap - 1, 0);
    out[n > 0 ? n : 0] = '\0';
}

/* Signs EE's alert `seq` (4 KiB, after prev, which it then names) and
 * publishes it through pub; the broker's receipt in *rc. The envelope in
 * *keep if keep is not NULL (the caller frees it). */
static void s_publish_4k(bus_client *pub, uint64_t seq, uint8_t prev[CDX_HASH_BYTES],
                         cdx_receipt *rc, cdx_bytes *keep)
{
    cdx_bytes env = {0};
    uint8_t h[CDX_HASH_BYTES];
    REQUIRE(fixture_sign_alert(F.ee, seq, seq > 1 ? prev : NULL, cdx_now_ms(), 4000, &env, h) ==
            CDX_OK);
    memcpy(prev, h, CDX_HASH_BYTES);
    REQUIRE(bus_publish(pub, F.roster, "alert.health", env.data, env.len, rc, 5000) == CDX_OK);
    if (keep)
        *keep = env;
    else
        cdx_bytes_free(&env);
}

/* The value of the sample `series` (name and labels, as printed) in a
 * metrics page; -1 if absent. */
static long long s_sample(const char *page, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = page; (p = strstr(p, series)) != NULL; p += n)
        if ((p == page || p[-1] == '\n') && p[n] == ' ')
            return atoll(p + n + 1);
    return -1;
}

/* Asks until the page at path has `series` at least `want` (bounded). */
static bool s_until_sample(unsigned port, const char *series, long long want, bus_reply *r)
{
    for (int i = 0; i < 100; i++) {
        bus_http(port, "GET", "/metrics", r);
        if (s_sample(r->body, series) >= want)
            return true;
        bus_nap(100);
    }
    fprintf(stderr, "never saw %s >= %lld in:\n%s", series, want, r->body);
    return false;
}

/* The commit-duration histogram of a metrics page: there, with buckets
 * that never shrink up to +Inf == _count, and at least `min` commits. */
static void s_check_commit_histogram(const char *page, long long min)
{
    CHECK(strstr(page, "# TYPE cydex_log_commit_seconds histogram\n") != NULL);
    long long count = s_sample(page, "cydex_log_commit_seconds_count"), last = 0;
    CHECK(count >= min);
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++) {
        char series[96];
        snprintf(series, sizeof series, "cydex_log_commit_seconds_bucket{le=\"%g\"}",
                 cdx_log_commit_bucket_us[i] / 1e6);
        long long v = s_sample(page, series);
        CHECK(v >= last && v <= count);
        last = v;
    }
    CHECK_EQ(s_sample(page, "cydex_log_commit_seconds_bucket{le=\"+Inf\"}"), count);
    CHECK(strstr(page, "\ncydex_log_commit_seconds_sum ") != NULL);
}

static bool s_until_status(unsigned port, const char *path, int want, bus_reply *r)
{
    for (int i = 0; i < 100; i++) {
        bus_http(port, "GET", path, r);
        if (r->status == want)
            return true;
        bus_nap(100);
    }
    fprintf(stderr, "%s never answered %d; last %d %s\n", path, want, r->status, r->body);
    return false;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    static bus_reply r;

    /* The broker runs as systemd's Type=notify service would. */
    int notify = s_notify_socket(s_p("notify"));
    setenv("NOTIFY_SOCKET", s_p("notify"), 1);
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha",
                                    "metrics = 127.0.0.1:0\ncheckpoint_ms = 300\n"
                                    "log_format = json");
    unsetenv("NOTIFY_SOCKET");
    char note[256];
    s_notified(notify, note, sizeof note);
    CHECK(strstr(note, "READY=1") != NULL);
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth",
                                   "[node]\nmetrics = 127.0.0.1:0");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,sth",
                                   "[node]\nmetrics = 127.0.0.1:0\nheartbeat_ms = 0\n"
                                   "log_format = json");
    unsigned pb = bus_port(s_dir, "alpha"), pe = bus_port(s_dir, "ee"), pf = bus_port(s_dir, "fr");
    REQUIRE(pb && pe && pf);

    /* Health: the broker at once; each node once it hears the broker. */
    bus_http(pb, "GET", "/health", &r);
    CHECK_EQ(r.status, 200);
    CHECK(strstr(r.body, "\"status\":\"ok\"") && strstr(r.body, "\"id\":\"broker.alpha\""));
    CHECK(s_until_status(pf, "/health", 200, &r));
    CHECK(strstr(r.body, "\"brokers_connected\":1") != NULL);

    /* Three alerts from EE; one garbage frame and one forgery straight to
     * the broker. */
    char ctl[320];
    snprintf(ctl, sizeof ctl, "ipc://%s", s_p("ee-control"));
    for (int i = 0; i < 3; i++)
        CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ctl, "--topic",
                                  "alert.health", "--tlp", "GREEN", "--title", "Metrics wave",
                                  NULL),
                 0);
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member card;
    cdx_identity_card(F.broker, &card);
    bus_client de;
    bus_client_new(&de, F.fr, F.roster, ingress, card.curve_pk);
    cdx_receipt rc;
    const uint8_t garbage[] = "not an envelope";
    CHECK_EQ(bus_publish(&de, F.roster, "alert.health", garbage, sizeof garbage, &rc, 5000),
             CDX_OK);
    cdx_bytes forged = {0};
    uint8_t h[CDX_HASH_BYTES];
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, cdx_now_ms(), 10, &forged, h) == CDX_OK);
    forged.data[forged.len - 1] ^= 1; /* the signature is the last field */
    CHECK_EQ(bus_publish(&de, F.roster, "alert.health", forged.data, forged.len, &rc, 5000),
             CDX_OK);
    cdx_bytes_free(&forged);
    const uint8_t body[] = {0x0a, 0x01, 'x'}, sig[CDX_SIG_BYTES] = {0};
    cdx_bytes strange = {0};
    REQUIRE(cdx__outer_encode("\xc3\x28\xff", body, sizeof body, sig, NULL, &strange) == CDX_OK);
    CHECK_EQ(bus_publish(&de, F.roster, "alert.health", strange.data, strange.len, &rc, 5000),
             CDX_OK);
    CHECK_EQ(rc.status, CDX_RECEIPT_REJECTED);
    cdx_bytes_free(&strange);
    bus_client_free(&de);

    /* What each says of it. */
    CHECK(s_until_sample(pf, "cydex_node_sender_max_seq{sender=\"EE\"}", 3, &r));
    CHECK(s_sample(r.body, "cydex_node_envelopes_logged_total") >= 3);
    CHECK_EQ(s_sample(r.body, "cydex_node_envelopes_refused_total"), 0);
    CHECK_EQ(s_sample(r.body, "cydex_node_sender_missing_seqs{sender=\"EE\"}"), 0);
    CHECK_EQ(s_sample(r.body, "cydex_node_broker_connected{broker=\"broker.alpha\"}"), 1);
    CHECK(strstr(r.body, "# TYPE cydex_node_envelopes_logged_total counter\n") != NULL);
    CHECK(strstr(r.body, "# TYPE cydex_node_outbox_resends_total counter\n") != NULL);
    CHECK(strstr(r.body, "# TYPE cydex_node_outbox_oldest_waiting_seconds gauge\n") != NULL);
    CHECK_EQ(s_sample(r.body, "cydex_node_tree_heads_inconsistent_total"), 0);
    CHECK(strstr(r.body, "# TYPE cydex_node_tree_heads_witnessed_total counter\n") != NULL);
    CHECK(strstr(r.body, "# TYPE cydex_node_tree_heads_cosigned_total counter\n") != NULL);
    CHECK(s_until_sample(pe, "cydex_node_published_total", 3, &r));
    CHECK_EQ(s_sample(r.body, "cydex_node_published_total"), 3);
    CHECK(s_sample(r.body, "cydex_node_signatures_total") >= 1); /* one a run at least */
    CHECK(strstr(r.body, "# TYPE cydex_node_batch_signed_total counter\n") != NULL);
    CHECK(s_sample(r.body, "cydex_log_entries") >= 3);
    s_check_commit_histogram(r.body, 1); /* EE logged its three */
    CHECK(s_until_sample(pb, "cydex_broker_envelopes_refused_total{reason=\"malformed\"}", 1, &r));
    CHECK_EQ(s_sample(r.body, "cydex_broker_envelopes_refused_total{reason=\"bad-signature\"}"), 1);
    CHECK(s_sample(r.body, "cydex_broker_envelopes_accepted_total") >= 3);
    CHECK_EQ(s_sample(r.body, "cydex_log_append_failing"), 0);
    CHECK(s_sample(r.body, "cydex_roster_version") >= 1);
    s_check_commit_histogram(r.body, 3); /* the accepted, and the two refusals counted */

    /* Only two pages, GET and HEAD only. */
    bus_http(pb, "GET", "/nope", &r);
    CHECK_EQ(r.status, 404);
    bus_http(pe, "POST", "/metrics", &r);
    CHECK_EQ(r.status, 405);
    bus_http(pe, "HEAD", "/health", &r);
    CHECK_EQ(r.status, 200);

    /* A second daemon started on a running one's log (the same config
     * started twice) stops at once, saying which process holds it, and
     * takes nothing from the first: its control socket still answers. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), NULL), 75);
    char holder[64];
    snprintf(holder, sizeof holder, "another process (pid %d) writes the log", (int)fr);
    CHECK(strstr(s_cap.err, holder) != NULL);
    char fr_node[320];
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", fr_node, NULL), 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-broker", "-c", s_p("alpha.conf"), NULL), 75);
    snprintf(holder, sizeof holder, "another process (pid %d) writes the log", (int)broker);
    CHECK(strstr(s_cap.err, holder) != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "log", "checkpoint", "--dir", s_p("alpha-log"),
                              "--key", s_p("keys/broker.alpha.secret"), NULL),
             75); /* the offline tool too */
    CHECK(strstr(s_cap.err, holder) != NULL);

    /* The broker goes, saying so to its service manager; FR says so within
     * two sync periods. */
    CHECK_EQ(bus_stop(broker), 0);
    s_notified(notify, note, sizeof note);
    CHECK(strstr(note, "STOPPING=1") != NULL);
    close(notify);
    CHECK(s_until_status(pf, "/health", 503, &r));
    CHECK(strstr(r.body, "\"brokers_connected\":0") != NULL);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(fr), 0);

    /* FR logged JSON lines, one object each, the first saying it runs. */
    char *log = proc_slurp(s_p("fr.log"));
    REQUIRE(log != NULL);
    CHECK(strncmp(log, "{\"time\":\"20", 10) == 0);
    const char *running = strstr(log, "\"msg\":\"running: 1 broker");
    CHECK(running != NULL && strstr(log, "\"id\":\"FR\"") != NULL);
    free(log);
    int lines = 0, objects = 0;
    s_json_lines("fr.log", &lines, &objects);
    CHECK(lines >= 2);
    CHECK_EQ(objects, lines);
    /* The broker too, even quoting bytes that are not UTF-8 (a signer id
     * of a forged envelope). */
    s_json_lines("alpha.log", &lines, &objects);
    CHECK(lines >= 2);
    CHECK_EQ(objects, lines);
    char *alpha_log = proc_slurp(s_p("alpha.log"));
    CHECK(alpha_log && strstr(alpha_log, "is not in roster") != NULL);
    free(alpha_log);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", NULL), 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set",
                              "log_format=yaml", NULL),
             78);
    CHECK(strstr(s_cap.err, "log_format must be text or json") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "--set",
                              "log_format", NULL),
             64);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set",
                              "query_step=0", NULL),
             78);
    CHECK(strstr(s_cap.err, "query_step must be 1 to 10000000") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set",
                              "map_max_mb=0", NULL),
             78);
    CHECK(strstr(s_cap.err, "map_max_mb must be 1 to 16777216") != NULL);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set",
                              "ping_ms=7200000", NULL),
             78);
    CHECK(strstr(s_cap.err, "ping_ms must be at most 3600000") != NULL);
    s_write_conf_line("fr.conf", "log_format = yaml\n"); /* in the file, the same */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", NULL), 78);
    CHECK(strstr(s_cap.err, "log_format must be text or json") != NULL);

    /* An address that is not HOST:PORT is refused before anything starts. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-broker", "-c", s_p("alpha.conf"), "-T", "--set",
                              "metrics=localhost", NULL),
             78);
    CHECK(strstr(s_cap.err, "HOST:PORT") != NULL);
    /* Pings on links: off, or every 100 ms to an hour. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-broker", "-c", s_p("alpha.conf"), "-T", "--set",
                              "ping_ms=0", NULL),
             0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-broker", "-c", s_p("alpha.conf"), "-T", "--set",
                              "ping_ms=50", NULL),
             78);
    CHECK(strstr(s_cap.err, "ping_ms must be 0 (never) or from 100 to 3600000") != NULL);

    /* A broker whose log reached its maximum says so on /health and goes
     * on answering: publishers get refusals, not silence. */
    pid_t tiny =
        bus_start_broker(s_dir, "tiny", "broker.alpha", "map_max_mb = 1\nmetrics = 127.0.0.1:0");
    unsigned pt = bus_port(s_dir, "tiny");
    REQUIRE(pt);
    char tiny_in[256];
    bus_endpoint(tiny_in, s_dir, "tiny", "ingress");
    bus_client pub;
    bus_client_new(&pub, F.ee, F.roster, tiny_in, card.curve_pk);
    uint8_t prev[CDX_HASH_BYTES];
    bool full = false;
    for (uint64_t seq = 1; seq <= 1000 && !full; seq++) {
        s_publish_4k(&pub, seq, prev, &rc, NULL);
        full = rc.status == CDX_RECEIPT_REJECTED;
    }
    CHECK(full);
    CHECK_STR(rc.reason, "log-full");
    bus_client_free(&pub);
    bus_http(pt, "GET", "/health", &r);
    CHECK_EQ(r.status, 503);
    CHECK(strstr(r.body, "\"status\":\"failing\"") && strstr(r.body, "maximum size"));
    bus_http(pt, "GET", "/metrics", &r);
    CHECK_EQ(r.status, 200);
    CHECK_EQ(s_sample(r.body, "cydex_log_append_failing"), 1);
    CHECK(s_sample(r.body, "cydex_log_append_failures_total") >= 1);
    CHECK_EQ(bus_stop(tiny), 0);

    /* A node whose log reached its maximum counts the failed commits on
     * /metrics and says why in its log; restarted with room, it fetches
     * from the broker everything it could not store. */
    enum { S_BIG_ALERTS = 400 }; /* 4 KiB each: more than 1 MiB */
    pid_t roomy = bus_start_broker(s_dir, "roomy", "broker.alpha", "");
    pid_t small = bus_start_node_with(s_dir, "small", "FR", "roomy", "broker.alpha", "alert.",
                                      "[node]\nmap_max_mb = 1\nmetrics = 127.0.0.1:0\n");
    unsigned ps = bus_port(s_dir, "small");
    REQUIRE(ps);
    char roomy_in[256];
    bus_endpoint(roomy_in, s_dir, "roomy", "ingress");
    bus_client_new(&pub, F.ee, F.roster, roomy_in, card.curve_pk);
    bus_nap(300); /* the node's subscription reaches the broker */
    for (uint64_t seq = 1; seq <= S_BIG_ALERTS; seq++) {
        s_publish_4k(&pub, seq, prev, &rc, NULL);
        CHECK_EQ(rc.status, CDX_RECEIPT_ACCEPTED);
    }
    bus_client_free(&pub);
    CHECK(s_until_sample(ps, "cydex_log_append_failures_total", 1, &r));
    char *small_said = proc_slurp(s_p("small.log"));
    CHECK(small_said && strstr(small_said, "full at its maximum size of 1 MiB"));
    free(small_said);
    uint64_t small_max = 0, small_count = 0;
    bus_log_sender(s_p("small-log"), "EE", &small_max, &small_count, NULL);
    CHECK(small_count < S_BIG_ALERTS);
    CHECK_EQ(bus_stop(small), 0);
    small = bus_start_node_with(s_dir, "small", "FR", "roomy", "broker.alpha", "alert.",
                                "[node]\nmap_max_mb = 16\n");
    CHECK(bus_wait_log(s_p("small-log"), "EE", S_BIG_ALERTS, S_BIG_ALERTS, SIZE_MAX));
    CHECK_EQ(bus_stop(small), 0);
    CHECK_EQ(bus_stop(roomy), 0);
    cdx_audit_report rep;
    REQUIRE(bus_audit(s_p("small-log"), F.roster, &rep));
    CHECK(rep.pass);

    /* A broker whose log file cannot grow (here the file size limit an
     * operator set reaches it, through prlimit; a full disk fails the same
     * write) is not killed by SIGXFSZ: it refuses with no-space, says why on
     * /health, and takes the refused envelope once there is room. */
    pid_t fill = bus_start_broker(s_dir, "fill", "broker.alpha", "metrics = 127.0.0.1:0");
    unsigned pl = bus_port(s_dir, "fill");
    REQUIRE(pl);
    char fill_in[256];
    bus_endpoint(fill_in, s_dir, "fill", "ingress");
    bus_client_new(&pub, F.ee, F.roster, fill_in, card.curve_pk);
    /* The limit lies past what the log uses: its file may hold room
     * written ahead, which is space the log has. */
    uint64_t used, length;
    fixture_log_use(s_p("fill-log"), &used, &length);
    struct rlimit was, lim;
    REQUIRE(prlimit(fill, RLIMIT_FSIZE, NULL, &was) == 0);
    lim = (struct rlimit){.rlim_cur = (rlim_t)used + 128 * 1024, .rlim_max = was.rlim_max};
    REQUIRE(prlimit(fill, RLIMIT_FSIZE, &lim, NULL) == 0);
    cdx_bytes refused = {0};
    uint64_t seq = 0, accepted = 0;
    while (seq < 1000 && !refused.data) {
        cdx_bytes env = {0};
        seq++;
        s_publish_4k(&pub, seq, prev, &rc, &env);
        if (rc.status == CDX_RECEIPT_ACCEPTED)
            accepted++;
        if (rc.status == CDX_RECEIPT_REJECTED)
            refused = env; /* kept, as a node's outbox keeps it */
        else
            cdx_bytes_free(&env);
    }
    REQUIRE(refused.data);
    CHECK(accepted > 0);
    CHECK_STR(rc.reason, "no-space");
    bus_http(pl, "GET", "/health", &r);
    CHECK_EQ(r.status, 503);
    CHECK(strstr(r.body, "file size limit") != NULL);
    REQUIRE(prlimit(fill, RLIMIT_FSIZE, &was, NULL) == 0); /* room again */
    REQUIRE(bus_publish(&pub, F.roster, "alert.health", refused.data, refused.len, &rc, 5000) ==
            CDX_OK);
    CHECK_EQ(rc.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&refused);
    s_publish_4k(&pub, seq + 1, prev, &rc, NULL);
    CHECK_EQ(rc.status, CDX_RECEIPT_ACCEPTED);
    bus_http(pl, "GET", "/health", &r);
    CHECK_EQ(r.status, 200);
    bus_client_free(&pub);

    /* A node publishing through that broker when it is full again keeps
     * what was refused in its outbox and resends it once there is room:
     * the broker ends up with each of the node's alerts once. */
    fixture_log_use(s_p("fill-log"), &used, &length);
    lim.rlim_cur = (rlim_t)used + 64 * 1024;
    REQUIRE(prlimit(fill, RLIMIT_FSIZE, &lim, NULL) == 0);
    pid_t de_node = bus_start_node(s_dir, "de", "DE", "fill", "broker.alpha", "sth");
    enum { S_FILL_ALERTS = 40 }; /* 4 KiB each: more than 64 KiB */
    bus_write_alerts(s_p("fill.jsonl"), S_FILL_ALERTS, 4000);
    char de_ctl[320];
    snprintf(de_ctl, sizeof de_ctl, "ipc://%s", s_p("de-control"));
    CHECK_EQ(proc_capture_run(&s_cap, s_p("fill.jsonl"), "cydex", "publish", "--node", de_ctl,
                              "--topic", "alert.health", "--lines", NULL),
             0);
    CHECK(bus_wait_file(s_p("de.log"), "no-space (will resend)", 10000));
    REQUIRE(prlimit(fill, RLIMIT_FSIZE, &was, NULL) == 0);
    CHECK(bus_wait_log(s_p("fill-log"), "DE", S_FILL_ALERTS, S_FILL_ALERTS, SIZE_MAX));
    CHECK(bus_wait_log(s_p("de-log"), "DE", S_FILL_ALERTS, S_FILL_ALERTS, 0));
    CHECK_EQ(bus_stop(de_node), 0);
    CHECK_EQ(bus_stop(fill), 0);
    REQUIRE(bus_audit(s_p("fill-log"), F.roster, &rep));
    CHECK(rep.pass);
    CHECK_EQ(rep.gaps, 0);
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("fill-log"), "EE", &max, &count, NULL);
    CHECK_EQ(max, seq + 1);
    CHECK_EQ(count, seq + 1); /* each once: what was accepted, the refused one, the next */
    bus_log_sender(s_p("fill-log"), "DE", &max, &count, NULL);
    CHECK_EQ(max, S_FILL_ALERTS);
    CHECK_EQ(count, S_FILL_ALERTS);

    fixture_free(&F);
    proc_capture_free(&s_cap);
    int rc_done = check_done("ops_test");
    if (rc_done == 0)
        fixture_rmtree(s_dir);
    return rc_done;
}
