/* The broker's catch-up server as a client sees its replies (no sockets:
 * the server's send function collects them): a seq with more envelopes
 * than a reply holds (an equivocating sender signed it three times) is
 * sent across replies of at most max_batch envelopes, each envelope once,
 * and the stream ends; a cursor at the highest seq there is gets nothing
 * (last_seq + 1 used to wrap to 0: everything again); a sender named in
 * two cursors is sent what follows the lower. */
#include <stdlib.h>
#include <string.h>

#include "../broker/catchup.h"
#include "check.h"
#include "cydex/catchup.h"
#include "fixture.h"

static fixture F;
static cdx_log *s_log;
static char s_dir[256];

/* What one client was sent. */
typedef struct s_client {
    size_t replies, envelopes, most; /* most: envelopes in one reply */
    size_t done;
    uint64_t seqs[32];
    char senders[32][CDX_ID_MAX + 1];
} s_client;

static cdx_err s_send(void *ctx, const cdx_bytes *rid, const cdx_bytes *reply)
{
    s_client *c = ctx;
    (void)rid;
    cdx_catchup_reply rep;
    REQUIRE(cdx_catchup_reply_decode(&rep, reply->data, reply->len, NULL) == CDX_OK);
    c->replies++;
    c->done += rep.done;
    if (rep.n > c->most)
        c->most = rep.n;
    for (size_t i = 0; i < rep.n; i++) {
        cdx_envelope *env = NULL;
        REQUIRE(cdx_envelope_inspect(&env, rep.envelopes[i].data, rep.envelopes[i].len, NULL) ==
                CDX_OK);
        if (c->envelopes < 32) {
            c->seqs[c->envelopes] = cdx_envelope_body(env)->seq;
            strcpy(c->senders[c->envelopes], cdx_envelope_body(env)->sender);
        }
        c->envelopes++;
        cdx_envelope_destroy(&env);
    }
    cdx_catchup_reply_clear(&rep);
    return CDX_OK;
}

/* Serves one request to its end (at most 100 turns); false if it never
 * ends. */
static bool s_serve(const cdx_catchup_request *q, s_client *c)
{
    memset(c, 0, sizeof *c);
    daemon_logger say = {.id = "catchup_test"};
    broker_catchup *srv = NULL;
    REQUIRE(broker_catchup_new_with(&srv, s_send, c, s_log, &say) == CDX_OK);
    cdx_bytes req = {0}, rid = {(uint8_t *)"client", 6};
    REQUIRE(cdx_catchup_request_encode(q, &req) == CDX_OK);
    broker_catchup_take(srv, &rid, req.data, req.len);
    cdx_bytes_free(&req);
    int turns = 0;
    while (broker_catchup_pump(srv) > 0 && turns < 100)
        turns++;
    bool ended = broker_catchup_streams(srv) == 0;
    broker_catchup_destroy(&srv);
    return ended;
}

static void s_append(cdx_body *b, const cdx_identity *who, uint8_t hash[CDX_HASH_BYTES])
{
    cdx_bytes raw = {0};
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_sign(who, b, &raw, hash, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&env, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_log_append_in in = {.env = env, .received_at_ms = FIXTURE_T0, .received_from = "EE"};
    cdx_log_append_out out;
    REQUIRE(cdx_log_append(s_log, &in, 1, &out, NULL) == CDX_OK);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&raw);
    cdx_body_clear(b);
}

/* EE seq 1, seq 2 three times over (three titles), seq 3; FR seq 1. */
static void s_build(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/log", s_dir);
    cdx_log_opts o = {.owner = "broker.alpha"};
    REQUIRE(cdx_log_new(&s_log, dir, &o, NULL) == CDX_OK);
    uint8_t h1[CDX_HASH_BYTES], h2[CDX_HASH_BYTES];
    static const char *titles[] = {"first", "second", "third"};
    cdx_body b;
    fixture_body(&b, "EE", 1, NULL, "alert.health", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 10);
    s_append(&b, F.ee, h1);
    for (int i = 0; i < 3; i++) {
        fixture_body(&b, "EE", 2, h1, "alert.health", FIXTURE_T0 + 1);
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 10);
        free(b.alert.title);
        b.alert.title = malloc(16);
        strcpy(b.alert.title, titles[i]);
        s_append(&b, F.ee, h2);
    }
    fixture_body(&b, "EE", 3, h2, "hb", FIXTURE_T0 + 2);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    s_append(&b, F.ee, NULL);
    fixture_body(&b, "FR", 1, NULL, "hb", FIXTURE_T0 + 3);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    s_append(&b, F.fr, NULL);
}

static void test_seq_past_a_reply(void)
{
    cdx_catchup_request q = {.from_seq = 2, .to_seq = 2, .max_batch = 1};
    strcpy(q.sender, "EE");
    s_client c;
    CHECK(s_serve(&q, &c));
    CHECK_EQ(c.envelopes, 3); /* seq 2's three, each once */
    CHECK_EQ(c.most, 1);      /* at most max_batch a reply */
    CHECK_EQ(c.done, 1);
    q.max_batch = 2;
    q.from_seq = 1;
    q.to_seq = 0;
    CHECK(s_serve(&q, &c));
    CHECK_EQ(c.envelopes, 5);
    CHECK_EQ(c.most, 2);
    CHECK_EQ(c.replies, 3);
    for (size_t i = 0; i < c.envelopes && i < 5; i++)
        CHECK_EQ(c.seqs[i], i == 0 ? 1 : i < 4 ? 2 : 3);
}

static void test_cursors(void)
{
    cdx_cursor top[2] = {{.sender = "EE", .last_seq = UINT64_MAX}};
    cdx_catchup_request q = {.after = top, .n_after = 1};
    s_client c;
    CHECK(s_serve(&q, &c));
    CHECK_EQ(c.done, 1);
    CHECK_EQ(c.envelopes, 1); /* FR's only, nothing of EE's */
    CHECK_STR(c.senders[0], "FR");
    top[1] = (cdx_cursor){.sender = "EE", .last_seq = 2};
    top[0].last_seq = 1;
    q.n_after = 2; /* EE named twice: after the lower, seq 1 */
    CHECK(s_serve(&q, &c));
    CHECK_EQ(c.envelopes, 5); /* EE 2 (three), EE 3, FR 1 */
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    s_build();
    test_seq_past_a_reply();
    test_cursors();
    cdx_log_destroy(&s_log);
    fixture_free(&F);
    int rc = check_done("catchup_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
