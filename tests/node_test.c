/* cydex-node as a process, with a broker: it logs what its topics carry;
 * stopped while a sender goes on, it catches up when it returns; a seq it
 * never saw live (published on a topic it does not subscribe to) is
 * noticed as a gap when the next one arrives and fetched; and its log,
 * audited afterwards, holds every seq exactly once. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"

static fixture F;
static char s_dir[256];

static void s_publish(bus_client *c, uint64_t seq, uint8_t prev[32], const char *topic)
{
    cdx_body b;
    fixture_body(&b, "EE", seq, seq > 1 ? prev : NULL, topic, cdx_now_ms());
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 100);
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, prev, NULL) == CDX_OK);
    cdx_receipt r;
    CHECK_EQ(bus_publish(c, F.roster, topic, env.data, env.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    char keys[300], roster[300], logdir[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.broker, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.fr, keys, NULL) == CDX_OK);
    snprintf(roster, sizeof roster, "%s/roster.bin", s_dir);
    REQUIRE(cdx_roster_save(F.roster, roster, NULL) == CDX_OK);
    snprintf(logdir, sizeof logdir, "%s/fr-log", s_dir);
    cdx_member alpha;
    cdx_identity_card(F.broker, &alpha);

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t node = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.health,sth");
    /* The broker's checkpoints reaching the node show its subscription works. */
    CHECK(bus_wait_log(logdir, "broker.alpha", 1, 1, SIZE_MAX));

    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, alpha.curve_pk);
    uint8_t prev[32];
    uint64_t seq = 0;
    while (seq < 3)
        s_publish(&ee, ++seq, prev, "alert.health");
    CHECK(bus_wait_log(logdir, "EE", 3, 3, SIZE_MAX));

    /* Away for a while: EE publishes 4..6. Back: it catches up. */
    CHECK_EQ(bus_stop(node), 0);
    while (seq < 6)
        s_publish(&ee, ++seq, prev, "alert.health");
    node = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.health,sth");
    CHECK(bus_wait_log(logdir, "EE", 6, 6, SIZE_MAX));

    /* Seq 7 on a topic FR does not subscribe to; seq 8 on one it does:
     * the jump from 6 to 8 is a gap, and 7 is fetched. */
    s_publish(&ee, ++seq, prev, "alert.energy");
    s_publish(&ee, ++seq, prev, "alert.health");
    CHECK(bus_wait_log(logdir, "EE", 8, 8, SIZE_MAX));

    bus_client_free(&ee);
    CHECK_EQ(bus_stop(node), 0);
    CHECK_EQ(bus_stop(broker), 0);

    cdx_audit_report rep;
    cdx_log *log = bus_audit_open(logdir, F.roster, &rep);
    CHECK(rep.pass);
    CHECK_EQ(rep.gaps, 0);
    for (uint64_t s = 1; s <= 8; s++) {
        uint64_t index;
        CHECK_EQ(cdx_log_find_seq(log, "EE", s, &index), CDX_OK);
    }
    cdx_log_destroy(&log);
    uint64_t max, count;
    bus_log_sender(logdir, "EE", &max, &count, NULL);
    CHECK_EQ(count, 8); /* exactly once each */
    fixture_free(&F);
    int rc = check_done("node_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s (fr.log, alpha.log)\n", s_dir);
    return rc;
}
