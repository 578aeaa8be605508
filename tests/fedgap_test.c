/* A hole between two brokers: broker.beta is stopped (SIGSTOP) while EE,
 * through broker.alpha only, publishes far more than alpha queues for its
 * peer (fanout_hwm = 20). When beta runs again, EE's next envelope (a
 * heartbeat) reaches it live, above a hole that beta's cursor sync would
 * never look into (its peer_sync_ms is ten minutes here). Beta must ask
 * alpha for the hole itself, and FR's node, which uses beta only, must get
 * every alert: exactly once. Then DE's node starts with a hole in its own
 * log, below seqs it holds, and must fill it. Every log is verified.
 * Processes by PID; ipc:// only. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "cydex/log.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

int main(void)
{
    enum { N = 300, DESC = 12000 };
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 5);
    proc_capture cap;
    proc_capture_init(&cap, s_dir);
    bus_write_alerts(s_p("alerts.jsonl"), N, DESC);

    char alpha_conf[1024], beta_conf[1024];
    bus_peer_conf(alpha_conf, sizeof alpha_conf, s_dir, "beta", "broker.beta");
    bus_peer_conf(beta_conf, sizeof beta_conf, s_dir, "alpha", "broker.alpha");
    strcat(alpha_conf, "[broker]\nfanout_hwm = 20\n");
    strcat(beta_conf, "[broker]\npeer_sync_ms = 600000\n");
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", alpha_conf);
    pid_t beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth",
                                   "[node]\nheartbeat_ms = 300");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "beta", "broker.beta", "alert.,hb",
                                   "[node]\nheartbeat_ms = 0");
    /* The peer link is up: beta holds alpha's checkpoints; FR hears beta. */
    CHECK(bus_wait_log(s_p("beta-log"), "broker.alpha", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "broker.beta", 1, 1, SIZE_MAX));

    REQUIRE(kill(beta, SIGSTOP) == 0);
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));
    CHECK_EQ(proc_capture_run(&cap, s_p("alerts.jsonl"), "cydex", "publish", "--node", node,
                              "--topic", "alert.health", "--lines", NULL),
             0);
    CHECK(bus_wait_log(s_p("alpha-log"), "EE", N, N, SIZE_MAX));
    REQUIRE(kill(beta, SIGCONT) == 0);

    /* EE's heartbeats come after: beta and FR end with every seq. */
    CHECK(bus_wait_log(s_p("beta-log"), "EE", N + 1, N + 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "EE", N + 1, N + 1, SIZE_MAX));

    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(beta), 0);

    /* A node that starts with a hole in its log (EE 5..6 missing below
     * seqs it holds) asks for it, though a cursor sync would not. */
    {
        cdx_log *from = NULL, *to = NULL;
        cdx_log_opts ro = {.read_only = true}, rw = {.owner = "DE"};
        REQUIRE(cdx_log_new(&from, s_p("alpha-log"), &ro, NULL) == CDX_OK);
        REQUIRE(cdx_log_new(&to, s_p("de-log"), &rw, NULL) == CDX_OK);
        for (uint64_t seq = 1; seq <= 10; seq++) {
            uint64_t index;
            cdx_log_entry e = {0};
            cdx_envelope *env = NULL;
            if (seq == 5 || seq == 6)
                continue;
            REQUIRE(cdx_log_find_seq(from, "EE", seq, &index) == CDX_OK &&
                    cdx_log_get(from, index, &e, NULL) == CDX_OK &&
                    cdx_envelope_verify(&env, F.roster, e.envelope.data, e.envelope.len, NULL,
                                        NULL) == CDX_OK);
            cdx_log_append_in in = {.env = env, .received_at_ms = 1, .received_from = "alpha"};
            cdx_log_append_out out;
            CHECK_EQ(cdx_log_append(to, &in, 1, &out, NULL), CDX_OK);
            cdx_envelope_destroy(&env);
            cdx_log_entry_clear(&e);
        }
        cdx_log_destroy(&from);
        cdx_log_destroy(&to);
    }
    uint64_t ee_max = 0, ee_count = 0;
    bus_log_sender(s_p("alpha-log"), "EE", &ee_max, &ee_count, NULL);
    pid_t de = bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "sth",
                                   "[node]\nheartbeat_ms = 0");
    CHECK(bus_wait_log(s_p("de-log"), "EE", ee_max, ee_max, SIZE_MAX));
    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(bus_stop(alpha), 0);

    const char *logs[] = {"alpha-log", "beta-log", "fr-log", "de-log"};
    for (int i = 0; i < 4; i++) {
        uint64_t max = 0, count = 0;
        bus_log_sender(s_p(logs[i]), "EE", &max, &count, NULL);
        CHECK(max > N);
        CHECK_EQ(count, max); /* every seq, once */
        cdx_audit_report rep;
        CHECK(bus_audit(s_p(logs[i]), F.roster, &rep));
    }
    /* The hole was there: beta logged an envelope after a gap. */
    char *beta_log = proc_slurp(s_p("beta.log"));
    CHECK(strstr(beta_log, "asking 1 peer for EE") != NULL);
    free(beta_log);

    proc_capture_free(&cap);
    fixture_free(&F);
    int rc = check_done("fedgap_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
