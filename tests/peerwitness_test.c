/* Peered brokers witness each other's logs. broker.alpha and broker.beta
 * relay EE's alerts to each other and each signs tree heads of its log;
 * alpha holds each of beta's heads against the one before with a proof
 * from beta's catch-up socket, and counts them (/metrics). Then a head
 * under beta's key with a root beta's log does not have reaches alpha
 * (sent to alpha's ingress, as a relay or a member that beta showed
 * another log would): alpha must say so, name beta, and count one, and go
 * on finding beta's honest heads consistent. Processes by PID; ipc:// and
 * 127.0.0.1 only. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* A sample of alpha's /metrics about beta; -1 if absent. */
static long long s_alpha_says(unsigned port, const char *family)
{
    static bus_reply r;
    bus_http(port, "GET", "/metrics", &r);
    char series[160];
    snprintf(series, sizeof series, "\n%s{peer=\"broker.beta\"} ", family);
    const char *at = strstr(r.body, series);
    return at ? atoll(at + strlen(series)) : -1;
}

static void s_alert(bus_client *ee, uint64_t *seq, uint8_t prev[32])
{
    cdx_bytes env = {0};
    uint8_t h[32];
    ++*seq;
    REQUIRE(fixture_sign_alert(F.ee, *seq, *seq > 1 ? prev : NULL, cdx_now_ms(), 100, &env, h) ==
            CDX_OK);
    memcpy(prev, h, 32);
    cdx_receipt r;
    CHECK_EQ(bus_publish(ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
    cdx_bytes_free(&env);
}

/* Publishes through alpha until alpha has witnessed `count` of beta's
 * heads (bounded); returns what it says. */
static long long s_until_witnessed(unsigned port, bus_client *ee, long long count, uint64_t *seq,
                                   uint8_t prev[32])
{
    long long seen = -1;
    for (int i = 0;
         i < 60 &&
         (seen = s_alpha_says(port, "cydex_broker_peer_tree_heads_witnessed_total")) < count;
         i++) {
        s_alert(ee, seq, prev);
        bus_nap(300);
    }
    return seen;
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    char keys[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.broker, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.beta, keys, NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(F.roster, s_p("roster.bin"), NULL) == CDX_OK);
    char alpha_conf[1024], beta_conf[1024];
    bus_peer_conf(alpha_conf, sizeof alpha_conf - 40, s_dir, "beta", "broker.beta");
    bus_peer_conf(beta_conf, sizeof beta_conf, s_dir, "alpha", "broker.alpha");
    /* metrics in alpha's [broker] section: before its [peer.beta] */
    char alpha_extra[1100];
    snprintf(alpha_extra, sizeof alpha_extra, "metrics = 127.0.0.1:0\n%s", alpha_conf);
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", alpha_extra);
    pid_t beta = bus_start_broker(s_dir, "beta", "broker.beta", beta_conf);
    unsigned port = bus_port(s_dir, "alpha");
    REQUIRE(port > 0);
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member card;
    cdx_identity_card(F.broker, &card);
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, card.curve_pk);
    uint64_t seq = 0;
    uint8_t prev[32] = {0};

    CHECK(s_until_witnessed(port, &ee, 2, &seq, prev) >= 2);
    CHECK_EQ(s_alpha_says(port, "cydex_broker_peer_tree_heads_inconsistent_total"), 0);

    /* beta's key signs a head of its log's present size with a root it
     * does not have; it reaches alpha, not from beta. */
    uint64_t size = 0, max = 0, count = 0, beta_max = 0;
    bus_log_sender(s_p("beta-log"), "broker.beta", &beta_max, &count, NULL);
    cdx_bytes forged;
    bus_false_head(s_p("beta-log"), F.beta, 0, 0xab, &forged, &size);
    cdx_receipt r;
    CHECK_EQ(bus_publish(&ee, F.roster, "sth", forged.data, forged.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&forged);
    char said[200];
    snprintf(said, sizeof said, "INCONSISTENT TREE HEAD: broker.beta's tree head at size %llu ",
             (unsigned long long)size);
    CHECK(bus_wait_file(s_p("alpha.log"), said, 10000));
    CHECK_EQ(s_alpha_says(port, "cydex_broker_peer_tree_heads_inconsistent_total"), 1);
    /* beta's honest heads after it are still consistent with what alpha held. */
    long long before = s_alpha_says(port, "cydex_broker_peer_tree_heads_witnessed_total");
    CHECK(s_until_witnessed(port, &ee, before + 1, &seq, prev) >= before + 1);
    CHECK_EQ(s_alpha_says(port, "cydex_broker_peer_tree_heads_inconsistent_total"), 1);

    bus_client_free(&ee);
    CHECK_EQ(bus_stop(alpha), 0);
    CHECK_EQ(bus_stop(beta), 0);
    bus_log_sender(s_p("alpha-log"), "broker.beta", &max, &count, NULL);
    CHECK(max > beta_max); /* alpha logged the false head and those after it */
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));

    fixture_free(&F);
    int rc = check_done("peerwitness_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
