/* Chaos: two peered brokers and three nodes (EE, FR, DE), each node using
 * both brokers; all three states publish through the cydex command while
 * brokers and nodes are killed with SIGKILL at random and restarted, a
 * node now and then with its log gone (when its outbox was empty), or
 * hang (SIGSTOP) for up to 1.6 s and go on.
 * Afterwards every log holds every envelope each state logged as its own,
 * each seq exactly once, nothing waits in an outbox, and every log passes
 * the audit. Every publish the command confirmed is among them. The kill
 * schedule comes from a seed printed at the start (CHAOS_SEED=N repeats
 * it, give or take the timing). DE publishes through `cydex relay`, which
 * must ride through it all and publish each line exactly once. ipc://
 * endpoints; everything by PID. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"
#include "proc.h"

#define ROUNDS 12
#define MAX_PUBLISH 2000

static fixture F;
static char s_dir[256];

enum { ALPHA, BETA, EE, FR, DE, N_DAEMONS };
static const char *s_name[N_DAEMONS] = {"alpha", "beta", "ee", "fr", "de"};
static const char *s_id[N_DAEMONS] = {"broker.alpha", "broker.beta", "EE", "FR", "DE"};
static pid_t s_pid[N_DAEMONS];
static char s_peer_conf[2][1024], s_node_extra[1024];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static void s_start(int d)
{
    if (d <= BETA)
        s_pid[d] = bus_start_broker(s_dir, s_name[d], s_id[d], s_peer_conf[d]);
    else
        s_pid[d] = bus_start_node_with(s_dir, s_name[d], s_id[d], "alpha", "broker.alpha",
                                       "alert.,sth", s_node_extra);
}

/* A publisher (child process): alerts through its state's node, one
 * cydex publish after another, until the file "stop" exists; writes how
 * many the command confirmed. */
static int s_who;

static void s_publisher(const char *dir, int fd)
{
    char sub[320], node[320], alert[320], stop[320];
    snprintf(sub, sizeof sub, "%s/pub-%s", dir, s_name[s_who]);
    snprintf(node, sizeof node, "ipc://%s/%s-control", dir, s_name[s_who]);
    snprintf(alert, sizeof alert, "%s/alert.json", dir);
    snprintf(stop, sizeof stop, "%s/stop", dir);
    mkdir(sub, 0700);
    proc_capture cap;
    proc_capture_init(&cap, sub);
    unsigned ok = 0, failed = 0;
    struct stat st;
    for (int k = 0; k < MAX_PUBLISH && stat(stop, &st) != 0; k++) {
        if (proc_capture_run(&cap, alert, "cydex", "publish", "--node", node, "--topic",
                             "alert.chaos", NULL) == 0)
            ok++;
        else
            failed++;
        bus_nap(20);
    }
    proc_capture_free(&cap);
    dprintf(fd, "%u %u", ok, failed);
    _exit(0);
}

/* DE's publisher is a relay, as a bridge from a feed runs it: a line every
 * 20 ms into `cydex relay --wait-node 60` until "stop", then the end of
 * the input; the relay must ride through every kill and hang of DE's node
 * and publish each line exactly once (it asks again what was not
 * answered; the node publishes an id once). Writes how many lines went in
 * and whether the relay said it came to their end. */
static void s_relay_publisher(const char *dir, int fd)
{
    char node[320], out[320], stop[320];
    snprintf(node, sizeof node, "ipc://%s/de-control", dir);
    snprintf(out, sizeof out, "%s/relay.out", dir);
    snprintf(stop, sizeof stop, "%s/stop", dir);
    char *argv[] = {"cydex",       "relay",       "--node",      node, "--topic", "alert.chaos",
                    "--subscribe", "alert.relay", "--wait-node", "60", NULL};
    pid_t relay;
    int feed = bus_run_bg_fed(&relay, out, "cydex", argv);
    unsigned lines = 0;
    struct stat st;
    for (int k = 0; k < MAX_PUBLISH && stat(stop, &st) != 0; k++) {
        dprintf(feed, "{\"title\":\"Relayed line %u\",\"tlp\":\"GREEN\"}\n", ++lines);
        bus_nap(20);
    }
    close(feed);
    char err[340];
    snprintf(err, sizeof err, "%s.err", out);
    /* Up to 2 min: its node may have been killed at the end. */
    bool ended = bus_wait_file(err, "{\"end\":true,", 120000);
    int rc = bus_stop(relay);
    dprintf(fd, "%u %u", lines, ended && rc == 0 ? 0u : 1u);
    _exit(0);
}

/* Each line 1..n of the relay's results once, answered with a seq, the
 * seqs all different: n alerts, none twice. */
static bool s_relay_once(unsigned n)
{
    char *text = proc_slurp(s_p("relay.out.err"));
    REQUIRE(text != NULL);
    unsigned char *seen = calloc(n + 1, 1);
    uint64_t *seqs = calloc(n + 1, sizeof *seqs);
    REQUIRE(seen && seqs);
    bool ok = true;
    for (const char *l = strstr(text, "{\"line\":"); l; l = strstr(l + 1, "{\"line\":")) {
        unsigned line = 0;
        char hash[65];
        unsigned long long seq = 0;
        if (sscanf(l, "{\"line\":%u,\"hash\":\"%64[0-9a-f]\",\"seq\":%llu}", &line, hash, &seq) !=
                3 ||
            line == 0 || line > n || seen[line]) {
            fprintf(stderr, "relay result out of place: %.120s\n", l);
            ok = false;
            continue;
        }
        seen[line] = 1;
        seqs[line] = seq;
    }
    for (unsigned i = 1; i <= n; i++) {
        if (!seen[i]) {
            fprintf(stderr, "relay line %u has no result\n", i);
            ok = false;
        }
        for (unsigned j = 1; j < i && seen[i]; j++)
            if (seen[j] && seqs[j] == seqs[i]) {
                fprintf(stderr, "relay lines %u and %u both got seq %llu\n", j, i,
                        (unsigned long long)seqs[i]);
                ok = false;
            }
    }
    free(seen);
    free(seqs);
    free(text);
    return ok;
}

static const char *s_log(int d)
{
    static char name[8][300];
    static int turn;
    char *out = name[turn++ % 8];
    snprintf(out, sizeof name[0], "%s/%s-log", s_dir, s_name[d]);
    return out;
}

/* True once every daemon's log holds, of each state, exactly what that
 * state's own log holds of it (re-read each time: a node may still sign a
 * tree head of its own). Waits at most about a minute in all; then says
 * what differs. */
static bool s_converged(void)
{
    for (int round = 0;; round++) {
        bool same = true, last = round == 600;
        for (int k = EE; k <= DE; k++) {
            uint64_t max = 0, own = 0;
            bus_log_sender(s_log(k), s_id[k], &max, &own, NULL);
            for (int d = 0; d < N_DAEMONS; d++) {
                uint64_t dmax = 0, have = 0;
                bus_log_sender(s_log(d), s_id[k], &dmax, &have, NULL);
                if (dmax != own || have != own || max != own) {
                    same = false;
                    if (last)
                        fprintf(stderr,
                                "%s holds %s up to seq %llu, %llu envelopes; %s holds %llu\n",
                                s_log(d), s_id[k], (unsigned long long)dmax,
                                (unsigned long long)have, s_id[k], (unsigned long long)own);
                }
            }
        }
        if (same || last)
            return same;
        bus_nap(100);
    }
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 5);
    FILE *f = fopen(s_p("alert.json"), "w");
    REQUIRE(f != NULL);
    fputs("{\"title\":\"Ransomware wave against hospitals\",\"tlp\":\"GREEN\"}", f);
    fclose(f);

    const char *env_seed = getenv("CHAOS_SEED");
    unsigned seed = env_seed ? (unsigned)strtoul(env_seed, NULL, 10)
                             : (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "chaos_test: CHAOS_SEED=%u\n", seed);
    srand(seed);

    bus_peer_conf(s_peer_conf[ALPHA], sizeof s_peer_conf[ALPHA], s_dir, "beta", "broker.beta");
    bus_peer_conf(s_peer_conf[BETA], sizeof s_peer_conf[BETA], s_dir, "alpha", "broker.alpha");
    char in[256], fan[256], cu[256];
    bus_endpoint(in, s_dir, "beta", "ingress");
    bus_endpoint(fan, s_dir, "beta", "fanout");
    bus_endpoint(cu, s_dir, "beta", "catchup");
    snprintf(s_node_extra, sizeof s_node_extra,
             "[node]\nheartbeat_ms = 0\ncheckpoint_ms = 0\n" /* alerts only in the chains */
             "[broker.beta]\nid = broker.beta\ningress = %s\nfanout = %s\ncatchup = %s\n",
             in, fan, cu);
    for (int d = 0; d < N_DAEMONS; d++)
        s_start(d);

    pid_t pub[3];
    int pub_fd[3];
    for (int k = 0; k < 3; k++) {
        s_who = EE + k;
        pub[k] = fixture_fork(EE + k == DE ? s_relay_publisher : s_publisher, s_dir, &pub_fd[k]);
    }

    /* Kill one daemon at a time, at random moments, for a random while. */
    int kills[N_DAEMONS] = {0}, wiped = 0, hung = 0;
    for (int r = 0; r < ROUNDS; r++) {
        bus_nap(200 + rand() % 700);
        int d = rand() % N_DAEMONS;
        if (rand() % 4 == 0) { /* hung for a while (SIGSTOP), then goes on */
            REQUIRE(kill(s_pid[d], SIGSTOP) == 0);
            hung++;
            bus_nap(100 + rand() % 1500);
            REQUIRE(kill(s_pid[d], SIGCONT) == 0);
            continue;
        }
        bus_kill(s_pid[d]);
        kills[d]++;
        /* Now and then a node also loses its log (once a broker holds all
         * it signed: its outbox is empty), and must take it back. */
        size_t outbox = 1;
        uint64_t max = 0, count = 0;
        if (d >= EE && rand() % 3 == 0) {
            bus_log_sender(s_log(d), s_id[d], &max, &count, &outbox);
            if (outbox == 0) {
                char lost[340];
                snprintf(lost, sizeof lost, "%s.lost%d", s_log(d), r);
                REQUIRE(rename(s_log(d), lost) == 0);
                wiped++;
            }
        }
        bus_nap(50 + rand() % 600);
        s_start(d);
    }
    f = fopen(s_p("stop"), "w");
    REQUIRE(f != NULL);
    fclose(f);
    fprintf(stderr,
            "chaos_test: killed alpha %d, beta %d, EE %d, FR %d, DE %d times; %d node logs lost; "
            "%d hung for a while\n",
            kills[ALPHA], kills[BETA], kills[EE], kills[FR], kills[DE], wiped, hung);

    unsigned confirmed[3] = {0};
    for (int k = 0; k < 3; k++) {
        char buf[64];
        unsigned failed = 0;
        fixture_read_all(pub_fd[k], buf, sizeof buf);
        close(pub_fd[k]);
        CHECK_EQ(bus_wait_exit(pub[k], 130000), 0);
        CHECK_EQ(sscanf(buf, "%u %u", &confirmed[k], &failed), 2);
        fprintf(stderr, "chaos_test: %s published %u (%u not confirmed)\n", s_id[EE + k],
                confirmed[k], failed);
        CHECK(confirmed[k] > 0);
        if (EE + k == DE) /* the relay: every line, and it ended well */
            CHECK_EQ(failed, 0);
    }
    CHECK(s_relay_once(confirmed[DE - EE]));

    /* What each state logged as its own is what everyone must hold, and a
     * publish the command confirmed is never lost. */
    CHECK(s_converged());
    uint64_t own[3];
    for (int k = 0; k < 3; k++) {
        uint64_t max = 0;
        bus_log_sender(s_log(EE + k), s_id[EE + k], &max, &own[k], NULL);
        if (EE + k == DE)
            CHECK_EQ(own[k], confirmed[k]); /* the relay's lines, each once */
        else
            CHECK(own[k] >= confirmed[k]);
        CHECK(bus_wait_log(s_log(EE + k), s_id[EE + k], max, own[k], 0)); /* outbox empty */
    }

    for (int d = N_DAEMONS - 1; d >= 0; d--)
        CHECK_EQ(bus_stop(s_pid[d]), 0);
    for (int d = 0; d < N_DAEMONS; d++) {
        cdx_audit_report rep;
        CHECK(bus_audit(s_log(d), F.roster, &rep));
        CHECK_EQ(rep.equivocations, 0);
        for (int k = 0; k < 3; k++) {
            uint64_t max = 0, count = 0;
            bus_log_sender(s_log(d), s_id[EE + k], &max, &count, NULL);
            CHECK_EQ(max, own[k]); /* each seq, exactly once */
            CHECK_EQ(count, own[k]);
        }
    }

    fixture_free(&F);
    int rc = check_done("chaos_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
