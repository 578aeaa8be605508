/* The daemons' configuration files as an operator copies them from the
 * README, and their check mode (-T) as an operator runs it before
 * `systemctl reload`: comments after values are comments; a mistake exits
 * 78 naming the file and the line (or the setting and section); -T checks
 * what a start would (key, roster, member, log, addresses, brokers' keys)
 * and creates, locks and binds nothing, so that it runs beside the daemon
 * it checks: the daemon goes on serving, its control socket stays. Every
 * process by PID. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static const char *s_write(const char *name, const char *text)
{
    const char *path = s_p(name);
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

static bool s_exists(const char *name)
{
    struct stat st;
    return stat(s_p(name), &st) == 0;
}

static int s_check(const char *prog, const char *conf)
{
    return proc_capture_run(&s_cap, NULL, prog, "-c", s_p(conf), "-T", NULL);
}

/* The broker's configuration, as the README writes it (comments after
 * values), with `extra` after its [broker] settings. */
static void s_broker_conf(char *out, size_t cap, const char *extra)
{
    snprintf(out, cap,
             "# broker.conf\n"
             "[broker]\n"
             "id = broker.alpha\n"
             "key = %s/keys/broker.alpha.secret\n"
             "roster = %s/roster.bin   ; the trust anchor\n"
             "log = %s/alpha-log                # its audit log\n"
             "ingress = ipc://%s/alpha-ingress  # ROUTER: envelopes in, signed receipts out\n"
             "fanout = ipc://%s/alpha-fanout    # XPUB: verified envelopes out, by topic\n"
             "catchup = ipc://%s/alpha-catchup  # ROUTER: what a node or peer missed\n"
             "   checkpoint_ms = 300            # indented: a line of its own\n"
             "%s"
             "\n[peer.beta]                     # one section per peer broker\n"
             "id = broker.beta\n"
             "fanout = ipc://%s/beta-fanout\n"
             "catchup = ipc://%s/beta-catchup\n",
             s_dir, s_dir, s_dir, s_dir, s_dir, s_dir, extra, s_dir, s_dir);
}

static void s_node_conf(char *out, size_t cap, const char *extra, const char *brokers)
{
    snprintf(out, cap,
             "# node.conf\n"
             "[node]\n"
             "id = FR\n"
             "key = %s/keys/FR.secret\n"
             "roster = %s/roster.bin\n"
             "log = %s/fr-log                    # its audit log (and outbox)\n"
             "control = ipc://%s/fr-control      # the cydex command talks here\n"
             "subscribe = alert., ack,sth, hb   # topic prefixes of the live stream\n"
             "                                   # (catch-up still brings everything)\n"
             "resend_ms = 300\n"
             "%s"
             "\n[broker.alpha]                    # one section per broker\n"
             "id = %s\n"
             "ingress = ipc://%s/alpha-ingress\n"
             "fanout = ipc://%s/alpha-fanout\n"
             "catchup = ipc://%s/alpha-catchup\n",
             s_dir, s_dir, s_dir, s_dir, extra, brokers, s_dir, s_dir, s_dir);
}

static void test_broker(void)
{
    char conf[4096];
    s_broker_conf(conf, sizeof conf, "");
    s_write("alpha.conf", conf);
    /* Checked before its first start: valid, and nothing made. */
    CHECK_EQ(s_check("cydex-broker", "alpha.conf"), 0);
    CHECK(strstr(s_cap.out, "configuration of broker.alpha is valid") != NULL);
    CHECK(strstr(s_cap.out, "to be created") != NULL);
    CHECK(strstr(s_cap.out, "ingress ipc://") != NULL && strstr(s_cap.out, "#") == NULL);
    CHECK(!s_exists("alpha-log"));
    CHECK(!s_exists("alpha-ingress"));

    pid_t alpha = bus_spawn(s_dir, "alpha", "cydex-broker", conf, s_p("alpha-catchup"));
    /* Beside the running broker (its log locked, its sockets bound). */
    CHECK_EQ(s_check("cydex-broker", "alpha.conf"), 0);
    CHECK(strstr(s_cap.out, "entries") != NULL);
    CHECK(s_exists("alpha-ingress"));

    /* Mistakes, each with its file and line, exit 78. */
    char want[600];
    s_broker_conf(conf, sizeof conf, "colour = blue   # not a setting\n");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-broker", "bad.conf"), 78);
    snprintf(want, sizeof want, "%s, line 11: unknown setting \"colour\"", s_p("bad.conf"));
    CHECK(strstr(s_cap.err, want) != NULL);
    s_broker_conf(conf, sizeof conf, "[brokers]\nid = x\n");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-broker", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "line 11: unknown section [brokers]") != NULL);
    s_broker_conf(conf, sizeof conf, "[peer.]\n");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-broker", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "line 11: unknown section [peer.]") != NULL);
    s_broker_conf(conf, sizeof conf, "metrics = \"127.0.0.1:9464\"\n");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-broker", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "line 11: the value of \"metrics\" is in quotes") != NULL);
    /* An endpoint that is not one: named, with what one looks like. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-broker", "-c", s_p("alpha.conf"), "-T", "--set",
                              "ingress=tcp://127.0.0.1", NULL),
             78);
    CHECK(strstr(s_cap.err, "ingress = tcp://127.0.0.1 is not an endpoint: tcp://HOST:PORT") !=
          NULL);
    /* A peer the roster does not list as a broker. */
    char peer[4096];
    s_broker_conf(peer, sizeof peer, "");
    char *id = strstr(peer, "id = broker.beta");
    REQUIRE(id != NULL);
    memcpy(id, "id = DE         ", 16); /* DE is a state */
    s_write("bad.conf", peer);
    CHECK_EQ(s_check("cydex-broker", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "peer DE ([peer.beta]) is not a broker of the roster") != NULL);

    CHECK(bus_stop(alpha) == 0);
}

static void test_node(void)
{
    char conf[4096];
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 300");
    s_node_conf(conf, sizeof conf, "", "broker.alpha");
    s_write("fr.conf", conf);
    CHECK_EQ(s_check("cydex-node", "fr.conf"), 0);
    CHECK(strstr(s_cap.out, "configuration of FR is valid") != NULL);
    CHECK(!s_exists("fr-log"));
    CHECK(!s_exists("fr-control"));

    pid_t fr = bus_spawn(s_dir, "fr", "cydex-node", conf, s_p("fr-control"));
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("fr-control"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", node, NULL), 0);
    /* Beside the running node: valid; the node's control socket stays,
     * and the node answers on it. */
    CHECK_EQ(s_check("cydex-node", "fr.conf"), 0);
    CHECK(strstr(s_cap.out, "entries") != NULL);
    CHECK(s_exists("fr-control"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", node, NULL), 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", node, "--topic",
                              "alert.energy", "--tlp", "GREEN", "--title", "After the check", NULL),
             0);

    /* Mistakes. */
    char want[600];
    s_node_conf(conf, sizeof conf, "subscribe_all = yes\n", "broker.alpha");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-node", "bad.conf"), 78);
    snprintf(want, sizeof want, "%s, line 11: unknown setting \"subscribe_all\" in [node]",
             s_p("bad.conf"));
    CHECK(strstr(s_cap.err, want) != NULL);
    s_node_conf(conf, sizeof conf, "", "broker.alpha");
    char *sub = strstr(conf, "alert., ack");
    REQUIRE(sub != NULL);
    memcpy(sub, "alert.*    ", 11);
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-node", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "line 8: subscribe: \"alert.*\" is not a topic prefix") != NULL);
    /* A broker section the roster does not know as a broker. */
    s_node_conf(conf, sizeof conf, "", "EE");
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-node", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "EE ([broker.alpha]) is not a broker of the roster") != NULL);
    /* A missing setting names its section. */
    s_node_conf(conf, sizeof conf, "", "broker.alpha");
    char *cu = strstr(conf, "catchup = ipc://");
    REQUIRE(cu != NULL);
    memcpy(cu, "#", 1);
    s_write("bad.conf", conf);
    CHECK_EQ(s_check("cydex-node", "bad.conf"), 78);
    CHECK(strstr(s_cap.err, "missing setting \"catchup\" in [broker.alpha]") != NULL);
    /* A log that cannot be made where it is asked for: 74. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set",
                              "log=/nonexistent/cydex/FR", NULL),
             74);
    CHECK(strstr(s_cap.err, "log /nonexistent/cydex/FR cannot be made") != NULL);
    /* Another member's log. */
    char set[400];
    snprintf(set, sizeof set, "log=%s", s_p("alpha-log"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-node", "-c", s_p("fr.conf"), "-T", "--set", set,
                              NULL),
             78);
    CHECK(strstr(s_cap.err, "is broker.alpha's, not FR's") != NULL);
    /* A key that others can read: 77. */
    REQUIRE(chmod(s_p("keys/FR.secret"), 0644) == 0);
    CHECK_EQ(s_check("cydex-node", "fr.conf"), 77);
    REQUIRE(chmod(s_p("keys/FR.secret"), 0600) == 0);
    /* The running node never noticed. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", node, NULL), 0);

    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(alpha), 0);
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("fr-log"), "FR", &max, &count, NULL);
    CHECK(max >= 1);
}

/* The example configurations a package ships read cleanly: -T goes past
 * every line and stops at the first thing this machine lacks, the key. */
static void test_examples(void)
{
    static const char *const ex[][2] = {{"cydex-node", "node.conf"},
                                        {"cydex-broker", "broker.conf"}};
    for (size_t i = 0; i < 2; i++) {
        char path[600];
        snprintf(path, sizeof path, "%s/../../dist/examples/%s", CDX_VECTORS, ex[i][1]);
        CHECK_EQ(proc_capture_run(&s_cap, NULL, ex[i][0], "-c", path, "-T", NULL), 78);
        CHECK(strstr(s_cap.err, ".secret") != NULL);
        CHECK(strstr(s_cap.err, ", line ") == NULL);
    }
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 5);
    proc_capture_init(&s_cap, s_dir);
    test_broker();
    test_node();
    test_examples();
    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("confcheck_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
