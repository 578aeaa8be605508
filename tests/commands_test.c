/* The cydex command as a new operator meets it, each promise of its
 * --help held: global options before or after the command; a node found
 * without --node when it is the only one of the host; publish on a
 * terminal says what it wants instead of waiting; every value refused is
 * refused with the values it could be; every command's --help lists its
 * exit codes; demo refuses a folder in use at once; keygen takes the ids
 * its help names and nothing else; a roster already in force is not
 * published again. Processes by PID. */
#define _XOPEN_SOURCE 600 /* posix_openpt */
#include <fcntl.h>
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

#define s_cydex(in, ...) proc_capture_run(&s_cap, in, "cydex", __VA_ARGS__)
#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static void test_keygen(void)
{
    const char *keys = s_p("newkeys");
    static const struct {
        const char *id, *role;
    } good[] = {{"EE", "(state)"},
                {"broker.alpha", "(broker)"},
                {"auditor.court", "(auditor)"},
                {"admin.secretariat", "(admin)"},
                {"relay.misp-1", "(relay)"}};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CHECK_EQ(s_cydex(NULL, "keygen", "--id", good[i].id, "--out", keys, NULL), 0);
        HAS(s_cap.out, good[i].role);
    }
    static const char *bad[] = {"ee",     "EST",       "E",          "E1",   "node.x",  "broker.",
                                "broker", "broker..x", "auditor.-x", "FR.x", "x.broker"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ(s_cydex(NULL, "keygen", "--id", bad[i], "--out", keys, NULL), 64);
        HAS(s_cap.err, "is not a member id: a state's ISO 3166-1 alpha-2 code");
    }
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "DE", "--role", "broker", "--out", keys, NULL), 64);
    HAS(s_cap.err, "'DE' is a state's id, not a broker's");
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "DE", "--role", "king", "--out", keys, NULL), 64);
    HAS(s_cap.err, "unknown role 'king': one of state, broker, auditor, admin, relay");
    CHECK_EQ(
        s_cydex(NULL, "keygen", "--id", "broker.beta", "--role", "broker", "--out", keys, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "keygen", "--help", NULL), 0);
    HAS(s_cap.out, "auditor.NAME");
}

static void test_demo_dir(void)
{
    mkdir(s_p("used"), 0700);
    FILE *f = fopen(s_p("used/notes.txt"), "w");
    REQUIRE(f != NULL);
    fputs("mine\n", f);
    fclose(f);
    CHECK_EQ(s_cydex(NULL, "demo", "--dir", s_p("used"), NULL), 73);
    HAS(s_cap.err, "is not empty");
    CHECK(strstr(s_cap.out, "== 1.") == NULL); /* refused before step 1 */
    struct stat st;
    CHECK(stat(s_p("used/EE"), &st) != 0);
    CHECK_EQ(s_cydex(NULL, "demo", "--dir", s_p("used/notes.txt"), NULL), 73);
    HAS(s_cap.err, "is not a folder");

    /* The hints name paths that work from where the user stands (here:
     * where this test runs), not "build/bin/cydex" from anywhere: each one
     * is run as a shell would. */
    CHECK_EQ(s_cydex(NULL, "demo", "--dir", s_p("fresh"), "--offline", NULL), 0);
    char *out = strdup(s_cap.out);
    REQUIRE(out != NULL);
    const char *hints = strstr(out, "; try:\n");
    REQUIRE(hints != NULL);
    int tried = 0;
    for (char *line = strtok(strchr(hints, '\n') + 1, "\n"); line; line = strtok(NULL, "\n")) {
        if (strstr(line, "NEWDIR"))
            continue; /* a folder for the reader to choose */
        char *sh[] = {"/bin/sh", "-c", line, NULL};
        int rc = proc_run(sh, NULL, s_p("hint.out"), s_p("hint.err"), 60);
        int want = strstr(line, "tampered") ? 1 : 0;
        if (rc != want)
            fprintf(stderr, "the demo's hint `%s` exits %d\n", line, rc);
        CHECK_EQ(rc, want);
        tried++;
    }
    CHECK_EQ(tried, 5);
    free(out);
}

/* Every command's --help lists its exit codes. */
static void test_help(void)
{
    static const char *const cmds[][2] = {{"keygen", NULL},  {"sign", NULL},       {"verify", NULL},
                                          {"inspect", NULL}, {"publish", NULL},    {"ack", NULL},
                                          {"status", NULL},  {"tail", NULL},       {"relay", NULL},
                                          {"list", NULL},    {"show", NULL},       {"log", NULL},
                                          {"demo", NULL},    {"roster", "publish"}};
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
        int rc = cmds[i][1] ? s_cydex(NULL, cmds[i][0], cmds[i][1], "--help", NULL)
                            : s_cydex(NULL, cmds[i][0], "--help", NULL);
        CHECK_EQ(rc, 0);
        if (!strstr(s_cap.out, "Exit codes:"))
            fprintf(stderr, "cydex %s --help lists no exit codes\n", cmds[i][0]);
        HAS(s_cap.out, "Exit codes:");
        if (strcmp(cmds[i][0], "keygen") != 0 && strcmp(cmds[i][0], "demo") != 0)
            HAS(s_cap.out, "64 usage");
    }
    CHECK_EQ(s_cydex(NULL, "publish", "--help", NULL), 0);
    HAS(s_cap.out, "CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
    HAS(s_cap.out, "unknown, minor, moderate, severe, extreme");
    HAS(s_cap.out, "actual, exercise, test");
    HAS(s_cap.out, "69 no node running");
    CHECK_EQ(s_cydex(NULL, "ack", "--help", NULL), 0);
    HAS(s_cap.out,
        "received, investigating, not-affected, mitigated, assistance-offered, rejected");
}

/* publish with its standard input on a terminal (a pseudo-terminal here),
 * no --title and no --in: says what it expects, at once. */
static void test_publish_on_terminal(const char *node)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    const char *tty = ptsname(master);
    REQUIRE(tty != NULL);
    char bin[400];
    snprintf(bin, sizeof bin, "%s/cydex", CDX_BIN);
    char *argv[] = {bin, "publish", "--node", (char *)node, "--topic", "alert.energy", NULL};
    CHECK_EQ(proc_run(argv, tty, s_p("tty.out"), s_p("tty.err"), 10), 64);
    char *err = proc_slurp(s_p("tty.err"));
    CHECK(strstr(err, "no alert given: --title TEXT builds one") != NULL);
    free(err);
    char *lines[] = {bin,       "publish",      "--node",  (char *)node,
                     "--topic", "alert.energy", "--lines", NULL};
    CHECK_EQ(proc_run(lines, tty, s_p("tty.out"), s_p("tty.err"), 10), 64);
    close(master);
}

static void test_node(void)
{
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 300");
    /* The node's control socket where an installed node has it:
     * RUNDIR/ID.control. */
    mkdir(s_p("run"), 0700);
    char conf[2048];
    snprintf(conf, sizeof conf,
             "[node]\nid = FR\nkey = %s\nroster = %s\nlog = %s\ncontrol = ipc://%s\n"
             "resend_ms = 300\nsync_ms = 500\ncosign = false\nheartbeat_ms = 0\n"
             "[broker.alpha]\nid = broker.alpha\ningress = ipc://%s\nfanout = ipc://%s\n"
             "catchup = ipc://%s\n",
             s_p("keys/FR.secret"), s_p("roster.bin"), s_p("fr-log"), s_p("run/FR.control"),
             s_p("alpha-ingress"), s_p("alpha-fanout"), s_p("alpha-catchup"));
    pid_t fr = bus_spawn(s_dir, "fr", "cydex-node", conf, s_p("run/FR.control"));
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("run/FR.control"));

    /* --node before the command, as well as after it. */
    unsetenv("CYDEX_NODE");
    unsetenv("CYDEX_RUNTIME_DIR");
    CHECK_EQ(s_cydex(NULL, "--node", node, "status", NULL), 0);
    HAS(s_cap.out, "FR: ");
    CHECK_EQ(s_cydex(NULL, "status", "--node", node, NULL), 0);
    char eq[340];
    snprintf(eq, sizeof eq, "--node=%s", node);
    CHECK_EQ(s_cydex(NULL, eq, "list", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "--node", node, "publish", "--topic", "alert.energy", "--tlp", "GREEN",
                     "--title", "Grid alarm", "--json", NULL),
             0);
    HAS(s_cap.out, "\"seq\":1}");
    CHECK_EQ(s_cydex(NULL, "--node", node, NULL), 64);
    CHECK_EQ(s_cydex(NULL, "--node", NULL), 64);

    /* No --node: the only node of the host, found in the runtime folder. */
    setenv("CYDEX_RUNTIME_DIR", s_p("run"), 1);
    CHECK_EQ(s_cydex(NULL, "status", NULL), 0);
    HAS(s_cap.out, "FR: ");
    CHECK_EQ(s_cydex(NULL, "list", NULL), 0);
    HAS(s_cap.out, "Grid alarm");
    /* Two sockets: which one is not for cydex to guess. */
    pid_t other = bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "", "");
    REQUIRE(symlink(s_p("de-control"), s_p("run/DE.control")) == 0);
    CHECK_EQ(s_cydex(NULL, "status", NULL), 64);
    HAS(s_cap.err, "2 nodes on this host");
    HAS(s_cap.err, "run/DE.control");
    HAS(s_cap.err, "run/FR.control");
    unlink(s_p("run/DE.control"));
    CHECK_EQ(bus_stop(other), 0);
    setenv("CYDEX_RUNTIME_DIR", s_p("nowhere"), 1);
    CHECK_EQ(s_cydex(NULL, "status", NULL), 64);
    HAS(s_cap.err, "no node named, and no node's control socket in");
    unsetenv("CYDEX_RUNTIME_DIR");

    test_publish_on_terminal(node);

    /* A value refused names the values it could be. */
    CHECK_EQ(s_cydex(NULL, "publish", "--node", node, "--topic", "alert.x", "--tlp", "WHITE",
                     "--title", "t", NULL),
             64);
    HAS(s_cap.err,
        "--tlp 'WHITE' is not a TLP label: one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED");
    CHECK_EQ(s_cydex(NULL, "publish", "--node", node, "--topic", "alert.x", "--tlp", "GREEN",
                     "--title", "t", "--severity", "high", NULL),
             64);
    HAS(s_cap.err, "one of unknown, minor, moderate, severe, extreme");
    FILE *f = fopen(s_p("drill.json"), "w");
    REQUIRE(f != NULL);
    fputs("{\"title\":\"t\",\"tlp\":\"GREEN\",\"status\":\"drill\"}", f);
    fclose(f);
    CHECK_EQ(s_cydex(NULL, "publish", "--node", node, "--topic", "alert.x", "--in",
                     s_p("drill.json"), NULL),
             65);
    HAS(s_cap.err, "unknown status \"drill\" (one of actual, exercise, test)");
    CHECK_EQ(s_cydex(NULL, "ack", "--node", node, "--stage", "done", "x", NULL), 64);
    HAS(s_cap.err, "one of received, investigating, not-affected, mitigated, assistance-offered, "
                   "rejected");

    /* The roster in force, published again: said, not signed again. */
    CHECK_EQ(s_cydex(NULL, "roster", "publish", "--node", node, s_p("roster.bin"), NULL), 0);
    HAS(s_cap.out, "roster v1 of");
    HAS(s_cap.out, "is already in force at this node: nothing published");
    CHECK_EQ(s_cydex(NULL, "--node", node, "roster", "publish", "--json", s_p("roster.bin"), NULL),
             0);
    HAS(s_cap.out, "{\"in_force\":true,\"version\":1}");
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("fr-log"), "FR", &max, &count, NULL);
    CHECK_EQ(max, 1); /* the alert only */
    CHECK_EQ(s_cydex(NULL, "roster", "publish", "--node", node, "--again", "--json",
                     s_p("roster.bin"), NULL),
             0);
    HAS(s_cap.out, "\"seq\":2}");

    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(alpha), 0);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    test_keygen();
    test_demo_dir();
    test_help();
    test_node();
    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("commands_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
