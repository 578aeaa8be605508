/* A publisher killed mid-stream: EE's node is killed with SIGKILL at a
 * random point of a stream of alerts published through the cydex command,
 * and restarted. Its chain goes on where its log left it, its outbox
 * resends what no broker had receipted, and every log (EE's, the
 * broker's, FR's) holds each seq exactly once and passes the audit. Then
 * EE's node loses its log: started again, it takes its chain back from the
 * broker before it signs anything, so its next alert follows seq N. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"
#include "proc.h"

#define N 30

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture cap;
    proc_capture_init(&cap, s_dir);
    FILE *f = fopen(s_p("alert.json"), "w");
    REQUIRE(f != NULL);
    fputs("{\"title\":\"Scanning wave against ministries\",\"tlp\":\"GREEN\"}", f);
    fclose(f);
    char ee_node[320];
    snprintf(ee_node, sizeof ee_node, "ipc://%s", s_p("ee-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,sth");
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX));

    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int kill_after = 5 + rand() % (N - 10);
    size_t ok = 0;
    for (int seq = 1; seq <= N; seq++) {
        char want[32];
        snprintf(want, sizeof want, "seq %d,", seq);
        int rc = proc_capture_run(&cap, s_p("alert.json"), "cydex", "publish", "--node", ee_node,
                                  "--topic", "alert.health", NULL);
        if (rc == 0 && strstr(cap.out, want))
            ok++;
        else
            fprintf(stderr, "publish %d: exit %d: %s%s\n", seq, rc, cap.out, cap.err);
        if (seq == kill_after) { /* mid-stream, receipts possibly still on their way */
            bus_kill(ee);
            ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
        }
    }
    CHECK_EQ(ok, N); /* the chain went on where the log left it: seqs 1..N */
    CHECK(bus_wait_log(s_p("ee-log"), "EE", N, N, 0)); /* all receipted */
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", N, N, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", N, N, SIZE_MAX));

    /* EE's node loses its log (a disk replaced, a restore that missed it)
     * and is started again while the broker is slow to answer (stopped
     * for half a second): an alert published at once waits, then goes on
     * after seq N, which the broker holds, instead of being signed as a
     * second seq 1 (equivocation by an honest node). */
    CHECK_EQ(bus_stop(ee), 0);
    REQUIRE(rename(s_p("ee-log"), s_p("ee-log.lost")) == 0);
    REQUIRE(kill(broker, SIGSTOP) == 0);
    ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
    int in = open(s_p("alert.json"), O_RDONLY);
    REQUIRE(in >= 0);
    char *const argv[] = {"cydex", "publish", "--node", ee_node, "--topic", "alert.health", NULL};
    pid_t pub = bus_run_bg_in(s_p("late.out"), in, "cydex", argv);
    close(in);
    bus_nap(500);
    REQUIRE(kill(broker, SIGCONT) == 0);
    CHECK_EQ(bus_wait_exit(pub, 10000), 0);
    char next[32], *printed = proc_slurp(s_p("late.out"));
    snprintf(next, sizeof next, "seq %d,", N + 1);
    CHECK(printed && strstr(printed, next) != NULL);
    free(printed);
    char *said = proc_slurp(s_p("ee.log"));
    CHECK(said && strstr(said, "our log ended at seq 0 of our own; the brokers held up to 30"));
    free(said);
    CHECK(bus_wait_log(s_p("ee-log"), "EE", N + 1, N + 1, 0));
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", N + 1, N + 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", N + 1, N + 1, SIZE_MAX));

    /* Started again while the broker stays silent: past the first second
     * a request is answered "busy" at once (a line of publish --lines gets
     * exit 75), not left to time out and run after the command gave up;
     * a single publish is asked again by the command, and goes through
     * once the node signs on (here after 3 s with nothing from the broker:
     * its log is whole), after seq N+1. */
    CHECK_EQ(bus_stop(ee), 0);
    REQUIRE(kill(broker, SIGSTOP) == 0);
    ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
    bus_nap(1300);
    CHECK_EQ(proc_capture_run(&cap, s_p("alert.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", "--lines", NULL),
             75);
    CHECK(strstr(cap.err, "taking back its own envelopes") != NULL);
    CHECK_EQ(proc_capture_run(&cap, s_p("alert.json"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.health", NULL),
             0);
    snprintf(next, sizeof next, "seq %d,", N + 2);
    CHECK(strstr(cap.out, next) != NULL);
    REQUIRE(kill(broker, SIGCONT) == 0);
    CHECK(bus_wait_log(s_p("ee-log"), "EE", N + 2, N + 2, 0));
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", N + 2, N + 2, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", N + 2, N + 2, SIZE_MAX));

    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(broker), 0);
    const char *logs[] = {"ee-log", "alpha-log", "fr-log"};
    for (int i = 0; i < 3; i++) {
        uint64_t max, count;
        bus_log_sender(s_p(logs[i]), "EE", &max, &count, NULL);
        CHECK_EQ(max, N + 2);
        CHECK_EQ(count, N + 2); /* exactly once: nothing duplicated by the resends */
        cdx_audit_report r;
        CHECK(bus_audit(s_p(logs[i]), F.roster, &r));
        CHECK_EQ(r.gaps, 0);
        CHECK_EQ(r.equivocations, 0);
    }
    printf("pubkill_test: EE's node killed after seq %d of %d\n", kill_after, N);
    proc_capture_free(&cap);
    fixture_free(&F);
    int rc = check_done("pubkill_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
