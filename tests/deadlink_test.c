/* A dead link is found and made again. Broker alpha's host vanishes
 * without a word and comes back at the same address: its network
 * namespace is deleted (kernel, sockets and all) while its link is down,
 * so no FIN or RST ever reaches the others, and a new one is made in its
 * place. EE's node, which publishes through alpha, learns at its next
 * send. FR's node only receives on its fan-out link from alpha, and broker
 * beta, peered with alpha, only receives on its link to alpha's fan-out
 * (DE's node listens at beta): without pings both would wait on their dead
 * connections for ever. With ping_ms the pings meet the new host's RST,
 * they connect again, and EE's alerts reach FR and DE live; periodic
 * syncs (nodes' and beta's) and EE's heartbeats are off, so nothing else
 * would bring them. Afterwards FR and DE hold each of EE's seqs exactly
 * once and every log passes the audit.
 *
 * Needs root and "ip netns" (iproute2): skipped (77) otherwise. The
 * broker runs in one namespace, the nodes in another, joined by a veth
 * pair; both namespaces are deleted at exit. Processes by PID. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

#define S_SKIP 77
#define S_TRIES 30 /* alerts published after the restart, at most */

static fixture F;
static char s_dir[256], s_ns_b[32], s_ns_n[32], s_veth_b[16], s_veth_n[16];
static const char *s_ip_bin;
static bool s_made_b, s_made_n;

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Runs ip with the words of `args` (separated by spaces); its exit code. */
static int s_ip(const char *args)
{
    char buf[512], *argv[24];
    int n = 0;
    argv[n++] = (char *)s_ip_bin;
    snprintf(buf, sizeof buf, "%s", args);
    for (char *save = NULL, *w = strtok_r(buf, " ", &save); w && n < 23;
         w = strtok_r(NULL, " ", &save))
        argv[n++] = w;
    argv[n] = NULL;
    const char *err = s_dir[0] ? s_p("ip.err") : NULL;
    int rc = proc_run(argv, NULL, NULL, err, 20);
    if (rc != 0 && err) {
        char *said = proc_slurp(err);
        fprintf(stderr, "ip %s: exit %d: %s", args, rc, said);
        free(said);
    }
    return rc;
}

static void s_ipf(const char *fmt, const char *a, const char *b)
{
    char args[512];
    snprintf(args, sizeof args, fmt, a, b);
    CHECK_EQ(s_ip(args), 0);
}

static void s_drop_namespaces(void)
{
    char args[128];
    if (s_made_b) {
        snprintf(args, sizeof args, "netns del %s", s_ns_b);
        s_ip(args);
    }
    if (s_made_n) {
        snprintf(args, sizeof args, "netns del %s", s_ns_n);
        s_ip(args);
    }
    s_made_b = s_made_n = false;
}

/* The broker's namespace and the link to the nodes' (the nodes' end is
 * moved there: a veth pair dies with either end's namespace). */
static void s_make_broker_host(void)
{
    char args[128];
    snprintf(args, sizeof args, "netns add %s", s_ns_b);
    REQUIRE(s_ip(args) == 0);
    s_made_b = true;
    s_ipf("-n %s link set lo up", s_ns_b, "");
    snprintf(args, sizeof args, "link add %s type veth peer name %s", s_veth_b, s_veth_n);
    CHECK_EQ(s_ip(args), 0);
    s_ipf("link set %s netns %s", s_veth_b, s_ns_b);
    s_ipf("link set %s netns %s", s_veth_n, s_ns_n);
    s_ipf("-n %s addr add 10.199.0.1/24 dev %s", s_ns_b, s_veth_b);
    s_ipf("-n %s addr add 10.199.0.2/24 dev %s", s_ns_n, s_veth_n);
    s_ipf("-n %s link set %s up", s_ns_b, s_veth_b);
    s_ipf("-n %s link set %s up", s_ns_n, s_veth_n);
}

/* Whether the namespaces can be made here at all. */
static bool s_can_run(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "deadlink_test: skipped: needs root for network namespaces\n");
        return false;
    }
    static const char *where[] = {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"};
    for (size_t i = 0; i < sizeof where / sizeof *where && !s_ip_bin; i++)
        if (access(where[i], X_OK) == 0)
            s_ip_bin = where[i];
    if (!s_ip_bin) {
        fprintf(stderr, "deadlink_test: skipped: no ip command (Debian package iproute2)\n");
        return false;
    }
    char args[128];
    snprintf(args, sizeof args, "netns add %s", s_ns_n);
    if (s_ip(args) != 0) {
        fprintf(stderr, "deadlink_test: skipped: cannot make a network namespace here\n");
        return false;
    }
    s_made_n = true;
    snprintf(args, sizeof args, "-n %s link set lo up", s_ns_n); /* beta and DE talk over it */
    return s_ip(args) == 0;
}

/* Waits (bounded) until the daemon's log holds `want` n times. */
static bool s_wait_said(const char *name, const char *want, int n)
{
    for (int waited = 0; waited <= 10000; waited += 100) {
        char *text = proc_slurp(s_p(name));
        int seen = 0;
        for (const char *p = strstr(text, want); p; p = strstr(p + 1, want))
            seen++;
        free(text);
        if (seen >= n)
            return true;
        bus_nap(100);
    }
    fprintf(stderr, "%s never said \"%s\" %d times\n", name, want, n);
    return false;
}

static pid_t s_start_broker(void)
{
    char conf[1024];
    snprintf(conf, sizeof conf,
             "[broker]\nid = broker.alpha\nkey = %s/keys/broker.alpha.secret\n"
             "roster = %s/roster.bin\nlog = %s/alpha-log\ningress = tcp://10.199.0.1:7401\n"
             "fanout = tcp://10.199.0.1:7402\ncatchup = tcp://10.199.0.1:7403\nping_ms = 300\n",
             s_dir, s_dir, s_dir);
    return bus_spawn_in(s_ns_b, s_dir, "alpha", "cydex-broker", conf);
}

/* Beta, in the nodes' namespace, takes alpha's fan-out as its peer; its
 * periodic catch-up from alpha is off. */
static pid_t s_start_beta(void)
{
    char conf[2048];
    snprintf(conf, sizeof conf,
             "[broker]\nid = broker.beta\nkey = %s/keys/broker.beta.secret\n"
             "roster = %s/roster.bin\nlog = %s/beta-log\ningress = tcp://10.199.0.2:7501\n"
             "fanout = tcp://10.199.0.2:7502\ncatchup = tcp://10.199.0.2:7503\nping_ms = 300\n"
             "peer_sync_ms = 3600000\n[peer.alpha]\nid = broker.alpha\n"
             "fanout = tcp://10.199.0.1:7402\ncatchup = tcp://10.199.0.1:7403\n",
             s_dir, s_dir, s_dir);
    pid_t pid = bus_spawn_in(s_ns_n, s_dir, "beta", "cydex-broker", conf);
    REQUIRE(s_wait_said("beta.log", "serving:", 1));
    return pid;
}

/* A node that uses broker `broker` ("alpha", or "beta"). */
static pid_t s_start_node(const char *name, const char *id, const char *broker)
{
    char conf[2048];
    const char *host = strcmp(broker, "alpha") == 0 ? "10.199.0.1:74" : "10.199.0.2:75";
    snprintf(conf, sizeof conf,
             "[node]\nid = %s\nkey = %s/keys/%s.secret\nroster = %s/roster.bin\n"
             "log = %s/%s-log\ncontrol = ipc://%s/%s-control\nsubscribe = alert.\n"
             "resend_ms = 300\nsync_ms = 3600000\nheartbeat_ms = 0\nping_ms = 300\ncosign = false\n"
             "[broker.%s]\nid = broker.%s\ningress = tcp://%s01\nfanout = tcp://%s02\n"
             "catchup = tcp://%s03\n",
             id, s_dir, id, s_dir, s_dir, name, s_dir, name, broker, broker, host, host, host);
    pid_t pid = bus_spawn_in(s_ns_n, s_dir, name, "cydex-node", conf);
    char log[64];
    snprintf(log, sizeof log, "%s.log", name);
    REQUIRE(s_wait_said(log, "running:", 1));
    return pid;
}

static int s_publish(proc_capture *cap, int k)
{
    char node[300], title[32];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));
    snprintf(title, sizeof title, "Wave %d", k);
    return proc_capture_run(cap, NULL, "cydex", "publish", "--node", node, "--topic",
                            "alert.health", "--tlp", "GREEN", "--title", title, NULL);
}

int main(void)
{
    snprintf(s_ns_b, sizeof s_ns_b, "cdxdl%db", (int)getpid());
    snprintf(s_ns_n, sizeof s_ns_n, "cdxdl%dn", (int)getpid());
    snprintf(s_veth_b, sizeof s_veth_b, "dlb%d", (int)getpid() % 10000000);
    snprintf(s_veth_n, sizeof s_veth_n, "dln%d", (int)getpid() % 10000000);
    atexit(s_drop_namespaces); /* before bus.c's, so it runs after the daemons are killed */
    if (!s_can_run()) {
        s_drop_namespaces();
        return S_SKIP;
    }
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 5);
    proc_capture cap;
    proc_capture_init(&cap, s_dir);

    s_make_broker_host();
    pid_t broker = s_start_broker();
    REQUIRE(s_wait_said("alpha.log", "serving:", 1));
    pid_t beta = s_start_beta();
    pid_t ee = s_start_node("ee", "EE", "alpha");
    pid_t fr = s_start_node("fr", "FR", "alpha");
    pid_t de = s_start_node("de", "DE", "beta");

    CHECK_EQ(s_publish(&cap, 1), 0);
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("de-log"), "EE", 1, 1, SIZE_MAX)); /* through beta */

    /* The host vanishes: the link goes down first, so nothing it says as
     * its processes and sockets die ever leaves it. */
    s_ipf("-n %s link set %s down", s_ns_b, s_veth_b);
    bus_kill(broker);
    s_ipf("-n %s link del %s", s_ns_n, s_veth_n); /* and its other end: the pair goes now,
                                                    not when the kernel gets round to the
                                                    namespace */
    char args[128];
    snprintf(args, sizeof args, "netns del %s", s_ns_b);
    CHECK_EQ(s_ip(args), 0);
    s_made_b = false;
    s_make_broker_host();
    broker = s_start_broker();
    REQUIRE(s_wait_said("alpha.log", "serving:", 2));

    /* EE publishes until FR and DE have one of the new alerts; the gaps
     * before it are filled by catch-up. */
    int sent = 1;
    uint64_t max = 0, count = 0, de_count = 0;
    while (sent < 1 + S_TRIES && (count < 2 || de_count < 2)) {
        CHECK_EQ(s_publish(&cap, ++sent), 0);
        bus_nap(500);
        bus_log_sender(s_p("fr-log"), "EE", &max, &count, NULL);
        bus_log_sender(s_p("de-log"), "EE", &max, &de_count, NULL);
    }
    CHECK(count >= 2);    /* FR hears from alpha again */
    CHECK(de_count >= 2); /* beta hears from alpha again, and DE from beta */
    const char *logs[] = {"fr-log", "de-log", "beta-log"};
    for (int i = 0; i < 3; i++) {
        CHECK(bus_wait_log(s_p(logs[i]), "EE", (uint64_t)sent, (uint64_t)sent, SIZE_MAX));
        bus_log_sender(s_p(logs[i]), "EE", &max, &count, NULL);
        CHECK_EQ(max, sent); /* each seq once: a copy is refused, so count == max == sent */
        CHECK_EQ(count, sent);
    }
    CHECK(bus_wait_log(s_p("ee-log"), "EE", (uint64_t)sent, (uint64_t)sent, 0));
    fprintf(stderr, "deadlink_test: %d alerts published after the broker's host came back\n",
            sent - 1);

    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(beta), 0);
    CHECK_EQ(bus_stop(broker), 0);
    const char *audited[] = {"fr-log", "de-log", "ee-log", "beta-log", "alpha-log"};
    for (int i = 0; i < 5; i++) {
        cdx_audit_report rep;
        CHECK(bus_audit(s_p(audited[i]), F.roster, &rep));
    }

    s_drop_namespaces();
    proc_capture_free(&cap);
    fixture_free(&F);
    int rc = check_done("deadlink_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
