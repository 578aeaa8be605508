/* Batch signatures on the bus. EE's node is stopped (SIGSTOP) while a
 * relay's worth of publishes queues up for it, then let go: the round that
 * takes them signs them under one batch signature, and the broker and FR's
 * node must take each envelope alone, verified, once, with every log
 * passing the audit. Started again with sign_batches = false, the node
 * signs each envelope alone. Processes by PID; ipc:// only. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

#define S_WAVE 40 /* alerts published while EE's node is stopped, each time */

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Publishes the wave through a node that is stopped until every request
 * is on its way, then waits until FR holds all EE has logged. Returns
 * EE's highest seq. */
static uint64_t s_wave(pid_t ee, const char *node)
{
    int in = open(s_p("wave.json"), O_RDONLY);
    REQUIRE(in >= 0);
    REQUIRE(kill(ee, SIGSTOP) == 0);
    char *argv[] = {"cydex",   "publish",      "--node",  (char *)node,
                    "--topic", "alert.health", "--lines", NULL};
    pid_t pub = bus_run_bg_in(s_p("publish.out"), in, "cydex", argv);
    close(in);
    bus_nap(500); /* the requests wait at the stopped node's socket */
    REQUIRE(kill(ee, SIGCONT) == 0);
    CHECK_EQ(bus_wait_exit(pub, 20000), 0);
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("ee-log"), "EE", &max, &count, NULL);
    CHECK(bus_wait_log(s_p("fr-log"), "EE", max, count, SIZE_MAX));
    return max;
}

/* What EE's node said at its last stop: how many of its envelopes it
 * signed under batch signatures; -1 if it did not say. */
static long long s_said_batched(void)
{
    return proc_number_before(s_p("ee.log"), " envelopes batch-signed");
}

/* EE's alerts in a log with seq in (from, to]: how many, and how many of
 * them batch-signed; alerts sharing a root counted in *shared. */
static void s_count(cdx_log *log, uint64_t from, uint64_t to, size_t *alerts, size_t *batched,
                    size_t *shared)
{
    *alerts = *batched = *shared = 0;
    uint64_t size = 0;
    REQUIRE(cdx_log_size(log, &size) == CDX_OK);
    uint8_t last_root[CDX_HASH_BYTES] = {0};
    for (uint64_t i = 0; i < size; i++) {
        cdx_log_entry e;
        REQUIRE(cdx_log_get(log, i, &e, NULL) == CDX_OK);
        cdx_envelope *env = NULL;
        cdx_batch_info bi;
        if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK &&
            strcmp(cdx_envelope_signer(env), "EE") == 0 &&
            cdx_envelope_body(env)->kind == CDX_PAYLOAD_ALERT &&
            cdx_envelope_body(env)->seq > from && cdx_envelope_body(env)->seq <= to) {
            ++*alerts;
            if (cdx_envelope_batch(env, &bi)) {
                ++*batched;
                *shared += memcmp(bi.root, last_root, CDX_HASH_BYTES) == 0;
                memcpy(last_root, bi.root, CDX_HASH_BYTES);
            }
        }
        cdx_envelope_destroy(&env);
        cdx_log_entry_clear(&e);
    }
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    bus_write_alerts(s_p("wave.json"), S_WAVE, 300);
    char node[320];
    snprintf(node, sizeof node, "ipc://%s", s_p("ee-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth");
    uint64_t first = s_wave(ee, node);
    CHECK_EQ(bus_stop(ee), 0);
    long long said_first = s_said_batched();
    ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "sth",
                             "[node]\nsign_batches = false\n");
    uint64_t second = s_wave(ee, node);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(s_said_batched(), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(broker), 0);

    const char *logs[] = {"ee-log", "alpha-log", "fr-log"};
    for (size_t k = 0; k < 3; k++) {
        cdx_audit_report rep;
        cdx_log *log = bus_audit_open(s_p(logs[k]), F.roster, &rep);
        CHECK(rep.pass);
        REQUIRE(log != NULL);
        size_t alerts, batched, shared;
        s_count(log, 0, first, &alerts, &batched, &shared);
        CHECK_EQ(alerts, S_WAVE); /* each once */
        CHECK(batched >= 2 && shared >= 1);
        CHECK_EQ(batched, said_first); /* the node counted what it did */
        fprintf(stderr, "batchsign_test: %s: %zu of the first %d alerts batch-signed\n", logs[k],
                batched, S_WAVE);
        s_count(log, first, second, &alerts, &batched, &shared);
        CHECK_EQ(alerts, S_WAVE);
        CHECK_EQ(batched, 0);
        cdx_log_destroy(&log);
    }

    fixture_free(&F);
    int rc = check_done("batchsign_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
