/* cydex-broker as a process: members publish and get signed receipts only
 * after the commit; subscribers get what was accepted; forged, wrong-topic,
 * oversize and garbage frames are refused and counted while honest traffic
 * keeps flowing; a stranger's CURVE key is not admitted; SIGTERM stops it
 * cleanly; and its log, audited afterwards, holds every accepted seq
 * exactly once. ipc:// endpoints in a temporary folder; the broker is
 * started and stopped by its PID. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "cydex/catchup.h"
#include "cydex/receipt.h"
#include "cydex/transport.h"
#include "fixture.h"

static fixture F;
static char s_dir[256];
static uint8_t s_broker_pk[CDX_PK_BYTES];

static cdx_bytes s_alert(const cdx_identity *who, uint64_t seq, uint8_t prev[32], size_t desc,
                         uint8_t hash[32])
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(who, seq, seq > 1 ? prev : NULL, cdx_now_ms(), desc, &env, hash) ==
            CDX_OK);
    return env;
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    char keys[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.broker, keys, NULL) == CDX_OK);
    char roster[300];
    snprintf(roster, sizeof roster, "%s/roster.bin", s_dir);
    REQUIRE(cdx_roster_save(F.roster, roster, NULL) == CDX_OK);
    cdx_member card;
    cdx_identity_card(F.broker, &card);
    memcpy(s_broker_pk, card.curve_pk, CDX_PK_BYTES);

    pid_t pid = bus_start_broker(s_dir, "alpha", "broker.alpha",
                                 "max_envelope = 8192\ncheckpoint_ms = 200");

    /* FR subscribes to everything; the broker's checkpoints on "sth" show
     * when the subscription is in place. */
    cdx_transport *tf = NULL;
    cdx_sock *sub = NULL;
    char ep[300];
    bus_endpoint(ep, s_dir, "alpha", "fanout");
    REQUIRE(cdx_transport_new(&tf, F.fr, F.roster, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect(&sub, tf, CDX_SOCK_SUB, ep, s_broker_pk, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_sock_subscribe(sub, "") == CDX_OK);

    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, s_broker_pk);
    uint8_t prev[32], h[32];
    cdx_receipt r;
    /* EE seq 1 .. 3 */
    for (uint64_t seq = 1; seq <= 3; seq++) {
        cdx_bytes env = s_alert(F.ee, seq, prev, 300, h);
        memcpy(prev, h, 32);
        CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
        CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
        CHECK(memcmp(r.envelope_hash, h, 32) == 0);
        CHECK_STR(r.broker, "broker.alpha");
        cdx_bytes_free(&env);
    }
    /* Attacks: each refused with a reason; honest traffic goes on. */
    cdx_identity *impostor = NULL;
    REQUIRE(cdx_identity_generate(&impostor, "EE", CDX_ROLE_STATE) == CDX_OK);
    cdx_bytes forged = s_alert(impostor, 4, prev, 50, h);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", forged.data, forged.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "bad-signature");
    cdx_bytes_free(&forged);
    cdx_identity_destroy(&impostor);
    cdx_bytes env4 = s_alert(F.ee, 4, prev, 300, h);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.energy", env4.data, env4.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "topic-mismatch");
    const uint8_t garbage[] = "this is not an envelope";
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", garbage, sizeof garbage, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "malformed");
    cdx_bytes big = s_alert(F.ee, 4, prev, 9000, h);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", big.data, big.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "oversize");
    CHECK(memcmp(r.envelope_hash, h, 32) == 0); /* named by its hash */
    cdx_bytes_free(&big);
    /* Past max_envelope + 64 KiB, but within twice max_envelope + 64 KiB:
     * still read, and refused by name (it once got no answer at all). */
    big = s_alert(F.ee, 4, prev, 76000, h);
    REQUIRE(big.len > 8192 + 65536 && big.len < 2 * 8192 + 65536);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", big.data, big.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "oversize");
    cdx_bytes_free(&big);
    /* Past the transport's limit the link is dropped: the broker says so,
     * naming the member, and counts it; EE's connection comes back. */
    big = s_alert(F.ee, 4, prev, 100000, h);
    REQUIRE(big.len > 2 * 8192 + 65536);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", big.data, big.len, &r, 1500),
             CDX_ERR_TIMEOUT);
    cdx_bytes_free(&big);
    CHECK(bus_wait_file(bus_path(s_dir, "alpha.log"), "ingress link from EE closed", 5000));
    /* A stranger is not admitted at all: no receipt. */
    bus_client xx;
    bus_client_new(&xx, F.xx, F.roster, ingress, s_broker_pk);
    cdx_bytes from_xx = s_alert(F.xx, 1, NULL, 20, h);
    CHECK_EQ(bus_publish(&xx, F.roster, "alert.health", from_xx.data, from_xx.len, &r, 700),
             CDX_ERR_TIMEOUT);
    cdx_bytes_free(&from_xx);
    bus_client_free(&xx);
    /* Honest seq 4 now, and seq 4 resent: accepted once, then duplicate. */
    uint8_t h4[32];
    cdx_bytes_free(&env4);
    env4 = s_alert(F.ee, 4, prev, 300, h4);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env4.data, env4.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    uint64_t idx4 = r.log_index;
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env4.data, env4.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_DUPLICATE);
    CHECK_EQ(r.log_index, idx4);
    cdx_bytes_free(&env4);

    /* FR got each accepted alert exactly once, and checkpoints on "sth". */
    size_t alerts = 0, sth = 0;
    bool seen[5] = {false};
    for (int i = 0; i < 200; i++) {
        cdx_msg m;
        if (cdx_sock_recv(sub, &m, i < 20 ? 500 : 50) != CDX_OK)
            break;
        cdx_envelope *e = NULL;
        if (m.n == 2 && cdx_envelope_verify(&e, F.roster, m.frame[1].data, m.frame[1].len, NULL,
                                            NULL) == CDX_OK) {
            const cdx_body *b = cdx_envelope_body(e);
            if (b->kind == CDX_PAYLOAD_TREE_HEAD)
                sth++;
            else if (b->kind == CDX_PAYLOAD_ALERT && b->seq <= 4) {
                CHECK(!seen[b->seq]);
                seen[b->seq] = true;
                alerts++;
            }
        }
        cdx_envelope_destroy(&e);
        cdx_msg_clear(&m);
        if (alerts == 4 && sth > 0 && i > 20)
            break;
    }
    /* A subscriber that joined late may miss the first ones (PUB/SUB drops
     * before the subscription is in place; nodes catch up); the last one,
     * sent well after, must have arrived. */
    CHECK(seen[4]);
    CHECK(sth > 0);

    /* Catch-up: DE asks for what it missed, by range and by cursor. */
    {
        cdx_transport *td = NULL;
        cdx_sock *cu = NULL;
        bus_endpoint(ep, s_dir, "alpha", "catchup");
        REQUIRE(cdx_transport_new(&td, F.de, F.roster, NULL) == CDX_OK);
        REQUIRE(cdx_sock_connect(&cu, td, CDX_SOCK_DEALER, ep, s_broker_pk, NULL, NULL) == CDX_OK);
        cdx_catchup_request q = {.from_seq = 2, .to_seq = 3, .max_batch = 1};
        strcpy(q.sender, "EE");
        q.request_id[0] = 7; /* a one-byte tag: echoed as it is */
        q.request_id_len = 1;
        uint64_t got_seq[8];
        size_t got = 0, replies = 0;
        cdx_cursor after = {.sender = "EE", .last_seq = 2};
        bool done = false;
        for (int round = 0; round < 2; round++) {
            cdx_bytes req;
            REQUIRE(cdx_catchup_request_encode(&q, &req) == CDX_OK);
            CHECK_EQ(cdx_sock_send(cu, &req, 1, 1000), CDX_OK);
            cdx_bytes_free(&req);
            done = false;
            for (int i = 0; i < 64 && !done; i++) {
                cdx_msg m;
                if (cdx_sock_recv(cu, &m, 5000) != CDX_OK)
                    break;
                cdx_catchup_reply rep_;
                REQUIRE(m.n == 1 && cdx_catchup_reply_decode(&rep_, m.frame[0].data, m.frame[0].len,
                                                             NULL) == CDX_OK);
                CHECK_EQ(rep_.request_id[0], q.request_id[0]);
                CHECK_EQ(rep_.request_id_len, 1);
                CHECK_STR(rep_.error, "");
                replies++;
                for (size_t k = 0; k < rep_.n; k++) {
                    cdx_envelope *e = NULL;
                    CHECK_EQ(cdx_envelope_verify(&e, F.roster, rep_.envelopes[k].data,
                                                 rep_.envelopes[k].len, NULL, NULL),
                             CDX_OK);
                    if (e && got < 8 && strcmp(cdx_envelope_body(e)->sender, "EE") == 0)
                        got_seq[got++] = cdx_envelope_body(e)->seq;
                    cdx_envelope_destroy(&e);
                }
                done = rep_.done;
                cdx_catchup_reply_clear(&rep_);
                cdx_msg_clear(&m);
            }
            CHECK(done);
            if (round == 0) {
                /* Range EE 2..3, one per reply: 2, then 3 marked "done". */
                CHECK_EQ(got, 2);
                CHECK(got == 2 && got_seq[0] == 2 && got_seq[1] == 3);
                CHECK_EQ(replies, 2);
                /* Now everything after EE 2 (and every other sender from 1). */
                q = (cdx_catchup_request){.max_batch = 100};
                q.request_id[0] = 8;
                q.request_id_len = 1;
                q.after = &after;
                q.n_after = 1;
                got = replies = 0;
            }
        }
        CHECK_EQ(got, 2); /* EE 3 and 4 */
        CHECK(got == 2 && got_seq[0] == 3 && got_seq[1] == 4);
        cdx_sock_destroy(&cu);
        cdx_transport_destroy(&td);
    }

    CHECK_EQ(bus_stop(pid), 0);
    cdx_sock_destroy(&sub);
    cdx_transport_destroy(&tf);
    bus_client_free(&ee);

    /* The broker's log: verified, EE 1..4 exactly once, refusals counted. */
    char logdir[300];
    snprintf(logdir, sizeof logdir, "%s/alpha-log", s_dir);
    cdx_audit_report rep;
    cdx_log *log = bus_audit_open(logdir, F.roster, &rep);
    CHECK(rep.pass);
    CHECK(rep.checkpoints >= 1);
    cdx_log_sender *s = NULL;
    size_t n = 0;
    REQUIRE(cdx_log_senders(log, &s, &n) == CDX_OK);
    bool ee_ok = false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].id, "EE") == 0)
            ee_ok = s[i].max_seq == 4 && s[i].count == 4;
    CHECK(ee_ok);
    free(s);
    cdx_log_counters c;
    REQUIRE(cdx_log_counters_get(log, &c) == CDX_OK);
    CHECK_EQ(c.duplicates, 1);
    const char *want[] = {"bad-signature", "topic-mismatch", "malformed", "oversize"};
    for (size_t w = 0; w < 4; w++) {
        uint64_t got = 0;
        for (size_t i = 0; i < c.n_rejected; i++)
            if (strcmp(c.rejected[i].reason, want[w]) == 0)
                got = c.rejected[i].count;
        CHECK_EQ(got, w == 3 ? 2 : 1); /* two oversize ones were read and refused */
    }
    cdx_log_destroy(&log);
    fixture_free(&F);
    int rc = check_done("broker_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s (broker.log has the broker's own account)\n", s_dir);
    return rc;
}
