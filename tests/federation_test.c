/* A federation of two brokers, peered both ways: what EE publishes to
 * alpha reaches FR subscribed at beta; beta killed with SIGKILL while EE
 * goes on publishing catches up when it returns; the loop alpha -> beta ->
 * alpha ends at the first duplicate; beta, its log lost, takes its own
 * chain of checkpoints back from alpha before it signs another; and both
 * logs, audited afterwards, hold every seq exactly once and no
 * equivocation. ipc:// endpoints; brokers by PID. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"

static fixture F;
static char s_dir[256];

static const char *s_log_of(const char *name)
{
    static char dir[300];
    snprintf(dir, sizeof dir, "%s/%s-log", s_dir, name);
    return dir;
}

static void s_audit(const char *name, uint64_t want)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/%s-log", s_dir, name);
    cdx_audit_report r;
    CHECK(bus_audit(dir, F.roster, &r));
    CHECK_EQ(r.equivocations, 0);
    uint64_t max, count;
    bus_log_sender(dir, "EE", &max, &count, NULL);
    CHECK_EQ(max, want);
    CHECK_EQ(count, want); /* every seq exactly once */
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, dir, &ro, NULL) == CDX_OK);
    for (uint64_t seq = 1; seq <= want; seq++) {
        uint64_t index;
        CHECK_EQ(cdx_log_find_seq(log, "EE", seq, &index), CDX_OK);
    }
    cdx_log_destroy(&log);
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    char keys[300], roster[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.broker, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.beta, keys, NULL) == CDX_OK);
    snprintf(roster, sizeof roster, "%s/roster.bin", s_dir);
    REQUIRE(cdx_roster_save(F.roster, roster, NULL) == CDX_OK);
    cdx_member alpha_card;
    cdx_identity_card(F.broker, &alpha_card);

    char alpha_conf[1024], beta_conf[1024];
    bus_peer_conf(alpha_conf, sizeof alpha_conf, s_dir, "beta", "broker.beta");
    bus_peer_conf(beta_conf, sizeof beta_conf, s_dir, "alpha", "broker.alpha");
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", alpha_conf);
    pid_t beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);

    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, alpha_card.curve_pk);
    uint8_t prev[32], h[32];
    cdx_receipt r;
    uint64_t seq = 0;
    for (; seq < 3;) {
        seq++;
        cdx_bytes env = {0};
        REQUIRE(fixture_sign_alert(F.ee, seq, seq > 1 ? prev : NULL, cdx_now_ms(), 200, &env, h) ==
                CDX_OK);
        memcpy(prev, h, 32);
        CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
        CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
        cdx_bytes_free(&env);
    }
    CHECK(bus_wait_log(s_log_of("beta"), "EE", 3, 3, SIZE_MAX)); /* relayed by the peer link */

    /* beta dies mid-stream; EE goes on publishing to alpha. */
    bus_kill(beta);
    for (; seq < 6;) {
        seq++;
        cdx_bytes env = {0};
        REQUIRE(fixture_sign_alert(F.ee, seq, prev, cdx_now_ms(), 200, &env, h) == CDX_OK);
        memcpy(prev, h, 32);
        CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
        CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
        cdx_bytes_free(&env);
    }
    /* beta returns and catches up from alpha. */
    beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);
    CHECK(bus_wait_log(s_log_of("beta"), "EE", 6, 6, SIZE_MAX));
    bus_nap(600); /* a few sync rounds each way: they must change nothing */

    /* beta loses its log and starts again: its first checkpoint waits for
     * alpha's catch-up, which brings back beta's own chain of checkpoints,
     * so it goes on from there instead of signing a second seq 1 (the
     * audit below finds no equivocation in either log). */
    uint64_t beta_max = 0, beta_count = 0;
    bus_log_sender(s_log_of("alpha"), "broker.beta", &beta_max, &beta_count, NULL);
    CHECK(beta_max > 0);
    CHECK_EQ(bus_stop(beta), 0);
    char lost[320];
    snprintf(lost, sizeof lost, "%s.lost", s_log_of("beta"));
    REQUIRE(rename(s_log_of("beta"), lost) == 0);
    beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);
    CHECK(bus_wait_log(s_log_of("beta"), "EE", 6, 6, SIZE_MAX));
    CHECK(bus_wait_log(s_log_of("alpha"), "broker.beta", beta_max + 1, beta_max + 1, SIZE_MAX));
    bus_client_free(&ee);
    CHECK_EQ(bus_stop(alpha), 0);
    CHECK_EQ(bus_stop(beta), 0);

    s_audit("alpha", 6);
    s_audit("beta", 6);
    fixture_free(&F);
    int rc = check_done("federation_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
