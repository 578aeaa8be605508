/* One reading of every signed byte, on a live bus: a member signs bodies
 * that are not in the canonical encoding (the topic after the payload; the
 * alert given twice, which protobuf would merge) and sends a topic frame
 * with bytes after a NUL. The broker refuses each with a named reason in
 * its receipt, nothing of them reaches FR's node, and both logs audit
 * PASS afterwards (before, such a body was accepted, relayed and logged,
 * and made every log that held it fail its audit for ever). A receipt
 * lists its items in the order the envelopes came, each refused envelope
 * named by its hash. Processes by PID; ipc:// only. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "pbwrite.h"

static fixture F;
static char s_dir[256];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* EE's alert seq `seq` in the canonical form, built by hand. */
static void s_body(pbw *w, uint64_t seq, const uint8_t *prev, const char *title)
{
    pbw a;
    pbw_alert(&a, "0b9f8a4c-2d1e-4f3a-8b7c-6d5e4f3a2b1c", title);
    *w = (pbw){0};
    pbw_str(w, 1, "EE");
    pbw_uint(w, 2, seq);
    pbw_uint(w, 3, cdx_now_ms());
    if (prev)
        pbw_bytes(w, 4, prev, CDX_HASH_BYTES);
    pbw_str(w, 5, "alert.health");
    pbw_msg(w, 10, &a);
}

/* Sends [topic (topic_len bytes)][env] without waiting. */
static void s_send(bus_client *c, const char *topic, size_t topic_len, const cdx_bytes *env)
{
    cdx_bytes frames[2] = {{(uint8_t *)topic, topic_len}, *env};
    REQUIRE(cdx_sock_send(c->dealer, frames, 2, 1000) == CDX_OK);
}

/* Reads receipts (bounded) until `want` items came; returns how many. */
static size_t s_receipts(bus_client *c, cdx_receipt *items, size_t want)
{
    size_t got = 0;
    for (int i = 0; i < 20 && got < want; i++) {
        cdx_msg m;
        if (cdx_sock_recv(c->dealer, &m, 5000) != CDX_OK)
            break;
        cdx_receipt *r = NULL;
        size_t n = 0;
        cdx_errbuf eb = {0};
        CHECK(m.n == 2);
        if (m.n == 2 && cdx_receipt_verify_many(&r, &n, F.roster, m.frame[1].data, m.frame[1].len,
                                                &eb) == CDX_OK) {
            for (size_t k = 0; k < n && got < want; k++)
                items[got++] = r[k];
            free(r);
        } else {
            fprintf(stderr, "receipt: %s\n", eb.msg);
        }
        cdx_msg_clear(&m);
    }
    return got;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member card;
    cdx_identity_card(F.broker, &card);
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, card.curve_pk);

    /* seq 1, honest (hand-built, canonical). */
    pbw w;
    uint8_t h1[32], h[32];
    cdx_bytes env;
    cdx_receipt r;
    s_body(&w, 1, NULL, "Wave I");
    pbw_sign(F.ee, &w, &env, h1);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&env);

    /* seq 2 with the topic after the payload. */
    pbw a;
    pbw_alert(&a, "0b9f8a4c-2d1e-4f3a-8b7c-6d5e4f3a2b1d", "Out of order");
    w = (pbw){0};
    pbw_str(&w, 1, "EE");
    pbw_uint(&w, 2, 2);
    pbw_uint(&w, 3, cdx_now_ms());
    pbw_bytes(&w, 4, h1, 32);
    pbw_msg(&w, 10, &a);
    pbw_str(&w, 5, "alert.health");
    pbw_sign(F.ee, &w, &env, h);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "non-canonical");
    CHECK(memcmp(r.envelope_hash, h, 32) == 0);
    cdx_bytes_free(&env);

    /* seq 2 with the alert given twice: two readings of one signature. */
    pbw a2;
    pbw_alert(&a2, "0b9f8a4c-2d1e-4f3a-8b7c-6d5e4f3a2b1d", "Second reading");
    s_body(&w, 2, h1, "First reading");
    pbw_msg(&w, 10, &a2);
    pbw_sign(F.ee, &w, &env, h);
    CHECK_EQ(bus_publish(&ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
    CHECK_STR(r.reason, "non-canonical");
    cdx_bytes_free(&env);

    /* An honest seq 2 under a topic frame with junk after a NUL. */
    uint8_t h2[32];
    s_body(&w, 2, h1, "Wave II");
    pbw_sign(F.ee, &w, &env, h2);
    static const char junk[] = "alert.health\0junk";
    s_send(&ee, junk, sizeof junk - 1, &env);
    cdx_receipt items[3];
    CHECK_EQ(s_receipts(&ee, items, 1), 1);
    CHECK_EQ(items[0].status, CDX_RECEIPT_REJECTED);
    CHECK_STR(items[0].reason, "topic-mismatch");
    CHECK(memcmp(items[0].envelope_hash, h2, 32) == 0);

    /* In one go: seq 2 honest, garbage, seq 3 honest. The receipts name
     * them in that order, the garbage (no envelope, so no hash) with an
     * empty hash. */
    uint8_t h3[32];
    s_send(&ee, "alert.health", 12, &env);
    cdx_bytes_free(&env);
    static const uint8_t garbage[] = "this is not an envelope";
    s_send(&ee, "alert.health", 12, &(cdx_bytes){(uint8_t *)garbage, sizeof garbage});
    s_body(&w, 3, h2, "Wave III");
    pbw_sign(F.ee, &w, &env, h3);
    s_send(&ee, "alert.health", 12, &env);
    cdx_bytes_free(&env);
    static const uint8_t none[32];
    CHECK_EQ(s_receipts(&ee, items, 3), 3);
    CHECK_EQ(items[0].status, CDX_RECEIPT_ACCEPTED);
    CHECK(memcmp(items[0].envelope_hash, h2, 32) == 0);
    CHECK_EQ(items[1].status, CDX_RECEIPT_REJECTED);
    CHECK_STR(items[1].reason, "malformed");
    CHECK(memcmp(items[1].envelope_hash, none, 32) == 0);
    CHECK_EQ(items[2].status, CDX_RECEIPT_ACCEPTED);
    CHECK(memcmp(items[2].envelope_hash, h3, 32) == 0);

    /* FR holds EE 1..3, the honest ones, and nothing else of EE. */
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 3, 3, SIZE_MAX));
    bus_client_free(&ee);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(broker), 0);
    uint64_t max = 0, count = 0;
    bus_log_sender(s_p("alpha-log"), "EE", &max, &count, NULL);
    CHECK_EQ(max, 3);
    CHECK_EQ(count, 3);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("fr-log"), F.roster, &rep));

    fixture_free(&F);
    int rc = check_done("onereading_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
