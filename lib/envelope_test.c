/* Envelope signing and verification: what a receiver must refuse.
 *
 * Every single-bit flip, every truncation, trailing bytes, oversize, an
 * unknown sender, a revoked key, a key outside its validity, a wrong topic,
 * clock skew, a sender who is not the signer, a non-canonical envelope; a
 * key rotated at T, checked against the card valid at each envelope's
 * sent_at; and what breaks the TLP and topic rules (an unsealed TLP:AMBER or RED alert, a
 * sealed GREEN one, an alert on a reserved topic) crafted past the signer's
 * own checks, on the full and the header-only (audit) paths. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/json.h"
#include "fixture.h"
#include "internal.h"

static fixture F;

static cdx_err s_verify(const cdx_bytes *env, const cdx_verify_opts *o)
{
    cdx_envelope *e = NULL;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_envelope_verify(&e, F.roster, env->data, env->len, o, &eb);
    CHECK((rc == CDX_OK) == (e != NULL));
    cdx_envelope_destroy(&e);
    return rc;
}

static void test_round_trip(void)
{
    cdx_bytes env = {0};
    uint8_t hash[CDX_HASH_BYTES];
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 700, &env, hash) == CDX_OK);
    cdx_envelope *e = NULL;
    cdx_verify_opts o = {.topic = "alert.health", .now_ms = FIXTURE_T0 + 1000};
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, &o, NULL) == CDX_OK);
    CHECK(cdx_envelope_verified(e));
    CHECK_STR(cdx_envelope_signer(e), "EE");
    CHECK(memcmp(cdx_envelope_hash(e), hash, CDX_HASH_BYTES) == 0);
    const cdx_body *b = cdx_envelope_body(e);
    CHECK_EQ(b->kind, CDX_PAYLOAD_ALERT);
    CHECK_EQ(b->seq, 1);
    CHECK_EQ(b->sent_at_ms, FIXTURE_T0);
    CHECK_STR(b->alert.title, "Ransomware wave against hospitals");
    CHECK_EQ(strlen(b->alert.description), 700);
    CHECK_EQ(b->alert.n_indicators, 2);
    CHECK_STR(b->alert.indicators[1].type, "sha256");
    CHECK_STR(b->alert.sectors[0], "health");
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(e, &len);
    CHECK(len == env.len && memcmp(raw, env.data, len) == 0);
    cdx_envelope_destroy(&e);
    CHECK(e == NULL);
    cdx_bytes_free(&env);
}

static void test_every_bit_flip_refused(void)
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 200, &env, NULL) == CDX_OK);
    size_t accepted = 0, tried = 0;
    for (size_t i = 0; i < env.len; i++)
        for (int bit = 0; bit < 8; bit++) {
            env.data[i] ^= (uint8_t)(1u << bit);
            if (s_verify(&env, NULL) == CDX_OK) {
                accepted++;
                fprintf(stderr, "bit %d of byte %zu flipped and still accepted\n", bit, i);
            }
            env.data[i] ^= (uint8_t)(1u << bit);
            tried++;
        }
    CHECK_EQ(accepted, 0);
    CHECK_EQ(tried, env.len * 8);
    CHECK_EQ(s_verify(&env, NULL), CDX_OK); /* and the original still verifies */
    cdx_bytes_free(&env);
}

static void test_truncation_and_trailing_bytes(void)
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 100, &env, NULL) == CDX_OK);
    size_t accepted = 0;
    for (size_t n = 0; n < env.len; n++) {
        cdx_bytes cut = {env.data, n};
        if (s_verify(&cut, NULL) == CDX_OK)
            accepted++;
    }
    CHECK_EQ(accepted, 0);
    uint8_t *longer = malloc(env.len + 3);
    memcpy(longer, env.data, env.len);
    const uint8_t tails[][3] = {{0, 0, 0}, {0x08, 0x01, 0}, {0x50, 0x01, 0}};
    for (size_t t = 0; t < 3; t++) {
        for (size_t extra = 1; extra <= 3; extra++) {
            memcpy(longer + env.len, tails[t], 3);
            cdx_bytes more = {longer, env.len + extra};
            CHECK(s_verify(&more, NULL) != CDX_OK);
        }
    }
    free(longer);
    cdx_bytes_free(&env);
}

static void test_oversize(void)
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 2000, &env, NULL) == CDX_OK);
    cdx_verify_opts small = {.max_size = env.len - 1};
    CHECK_EQ(s_verify(&env, &small), CDX_ERR_TOO_BIG);
    small.max_size = env.len;
    CHECK_EQ(s_verify(&env, &small), CDX_OK);
    cdx_bytes_free(&env);
    /* The default cap is 1 MiB: an envelope just over it is refused. */
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, CDX_ENVELOPE_MAX_DEFAULT, &env, NULL) ==
            CDX_OK);
    CHECK(env.len > CDX_ENVELOPE_MAX_DEFAULT);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_TOO_BIG);
    cdx_bytes_free(&env);
}

static void test_roster_checks(void)
{
    cdx_bytes env = {0};
    /* XX is not in the roster. */
    REQUIRE(fixture_sign_alert(F.xx, 1, NULL, FIXTURE_T0, 10, &env, NULL) == CDX_OK);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_UNKNOWN_SENDER);
    cdx_bytes_free(&env);
    /* LV was revoked at T0 + 1h: before is fine, at and after is not. */
    REQUIRE(fixture_sign_alert(F.lv, 1, NULL, FIXTURE_T0, 10, &env, NULL) == CDX_OK);
    CHECK_EQ(s_verify(&env, NULL), CDX_OK);
    cdx_bytes_free(&env);
    REQUIRE(fixture_sign_alert(F.lv, 2, (uint8_t[32]){1}, FIXTURE_T0 + FIXTURE_HOUR, 10, &env,
                               NULL) == CDX_OK);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_KEY_REVOKED);
    cdx_bytes_free(&env);
    /* LT is valid from T0 + 1 day to T0 + 2 days. */
    const struct {
        uint64_t t;
        cdx_err want;
    } lt[] = {{FIXTURE_T0, CDX_ERR_KEY_NOT_VALID},
              {FIXTURE_T0 + FIXTURE_DAY, CDX_OK},
              {FIXTURE_T0 + 2 * FIXTURE_DAY - 1, CDX_OK},
              {FIXTURE_T0 + 2 * FIXTURE_DAY, CDX_ERR_KEY_NOT_VALID}};
    for (size_t i = 0; i < sizeof lt / sizeof *lt; i++) {
        REQUIRE(fixture_sign_alert(F.lt, 1, NULL, lt[i].t, 10, &env, NULL) == CDX_OK);
        CHECK_EQ(s_verify(&env, NULL), lt[i].want);
        cdx_bytes_free(&env);
    }
}

static void test_topic_and_clock(void)
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 10, &env, NULL) == CDX_OK);
    CHECK_EQ(s_verify(&env, &(cdx_verify_opts){.topic = "alert.health"}), CDX_OK);
    CHECK_EQ(s_verify(&env, &(cdx_verify_opts){.topic = "alert.energy"}), CDX_ERR_TOPIC_MISMATCH);
    CHECK_EQ(s_verify(&env, &(cdx_verify_opts){.topic = "alert"}), CDX_ERR_TOPIC_MISMATCH);
    cdx_verify_opts clock = {.now_ms = FIXTURE_T0 + CDX_SKEW_DEFAULT_MS};
    CHECK_EQ(s_verify(&env, &clock), CDX_OK);
    clock.now_ms = FIXTURE_T0 + CDX_SKEW_DEFAULT_MS + 1;
    CHECK_EQ(s_verify(&env, &clock), CDX_ERR_CLOCK_SKEW);
    clock.now_ms = FIXTURE_T0 - CDX_SKEW_DEFAULT_MS - 1;
    CHECK_EQ(s_verify(&env, &clock), CDX_ERR_CLOCK_SKEW);
    clock = (cdx_verify_opts){.now_ms = FIXTURE_T0 + 1000, .max_skew_ms = 999};
    CHECK_EQ(s_verify(&env, &clock), CDX_ERR_CLOCK_SKEW);
    cdx_bytes_free(&env);
}

/* Signs `b` with `key` but names `signer` in the envelope: what a forger
 * can build without the library's own checks. */
static void s_craft(const cdx_identity *key, const char *signer, const cdx_body *b, cdx_bytes *out)
{
    cdx_bytes body = {0};
    uint8_t sig[CDX_SIG_BYTES];
    REQUIRE(cdx__body_encode(b, 0, &body) == CDX_OK);
    REQUIRE(cdx_identity_sign(key, "envelope", body.data, body.len, sig) == CDX_OK);
    REQUIRE(cdx__outer_encode(signer, body.data, body.len, sig, NULL, out) == CDX_OK);
    cdx_bytes_free(&body);
}

static void test_crafted_envelopes(void)
{
    cdx_body b;
    cdx_bytes env = {0};
    fixture_body(&b, "EE", 1, NULL, "alert.health", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 10);

    s_craft(F.ee, "EE", &b, &env); /* the honest case, built by hand */
    CHECK_EQ(s_verify(&env, NULL), CDX_OK);
    cdx_bytes_free(&env);

    s_craft(F.fr, "FR", &b, &env); /* FR signs a body that says it is from EE */
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_SENDER_MISMATCH);
    cdx_bytes_free(&env);

    s_craft(F.fr, "EE", &b, &env); /* FR's signature, EE's name */
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_BAD_SIGNATURE);
    cdx_bytes_free(&env);

    b.alert.tlp = CDX_TLP_RED; /* an unsealed RED alert, past the signer's checks */
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_TLP_NOT_SEALED);
    cdx_bytes_free(&env);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_TLP_NOT_SEALED);
    CHECK(strstr(eb.msg, "must be sealed") != NULL);
    b.alert.tlp = CDX_TLP_AMBER_STRICT;
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_ERR_TLP_NOT_SEALED);
    b.alert.tlp = CDX_TLP_GREEN;

    b.seq = 2; /* seq 2 without prev_hash */
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_FORMAT);
    cdx_bytes_free(&env);
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_ERR_FORMAT);
    b.seq = 1;

    CHECK_EQ(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL), CDX_ERR_SENDER_MISMATCH);

    /* Text that is not UTF-8: the signer refuses it, and so does a receiver
     * when a forger's own tool signs it anyway. */
    const char *bad[] = {"\xff", "caf\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        free(b.alert.title);
        b.alert.title = malloc(16);
        strcpy(b.alert.title, bad[i]);
        CHECK(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL) != CDX_OK);
        s_craft(F.ee, "EE", &b, &env);
        CHECK_EQ(s_verify(&env, NULL), CDX_ERR_NONCANONICAL);
        cdx_bytes_free(&env);
    }
    strcpy(b.alert.title, "caf\xc3\xa9 \xf0\x9f\x94\x92");
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_OK);
    CHECK_EQ(s_verify(&env, NULL), CDX_OK);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

/* Verifies header-only, as the audit does. */
static cdx_err s_verify_header(const cdx_bytes *env)
{
    cdx_envelope *e = NULL;
    cdx_err rc = cdx_envelope_verify(&e, F.roster, env->data, env->len,
                                     &(cdx_verify_opts){.header_only = true}, NULL);
    cdx_envelope_destroy(&e);
    return rc;
}

/* Above GREEN sealed, CLEAR and GREEN never; alerts under "alert.", the
 * others on their own topics: the signer refuses, and so does every
 * verifier (the full check and the audit's header-only one) when a forger
 * signs the bytes by hand. */
static void test_tlp_and_topics(void)
{
    static const cdx_tlp above[] = {CDX_TLP_AMBER, CDX_TLP_AMBER_STRICT, CDX_TLP_RED};
    cdx_bytes env = {0};
    cdx_errbuf eb = {0};
    cdx_body b;
    fixture_body(&b, "EE", 1, NULL, "alert.health", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 10);
    for (size_t i = 0; i < sizeof above / sizeof *above; i++) {
        b.alert.tlp = above[i];
        CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_TLP_NOT_SEALED);
        CHECK(strstr(eb.msg, cdx_tlp_name(above[i])) && strstr(eb.msg, "must be sealed"));
        CHECK_STR(cdx_errname(CDX_ERR_TLP_NOT_SEALED), "tlp-not-sealed");
        s_craft(F.ee, "EE", &b, &env);
        CHECK_EQ(s_verify(&env, NULL), CDX_ERR_TLP_NOT_SEALED);
        CHECK_EQ(s_verify_header(&env), CDX_ERR_TLP_NOT_SEALED);
        cdx_bytes_free(&env);
    }
    b.alert.tlp = CDX_TLP_CLEAR;
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify(&env, NULL), CDX_OK);
    CHECK_EQ(s_verify_header(&env), CDX_OK);
    cdx_bytes_free(&env);

    /* Topics: an alert under "alert." only. */
    static const char *const bad[] = {"sth",     "ack",    "hb",     "roster",
                                      "energy",  "alerts", "alertx", "alert..x",
                                      "x.alert", "alert",  "alert.", "alert.x."};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        free(b.topic);
        b.topic = strdup(bad[i]);
        CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_WRONG_TOPIC);
        s_craft(F.ee, "EE", &b, &env);
        CHECK_EQ(s_verify(&env, NULL), CDX_ERR_WRONG_TOPIC);
        CHECK_EQ(s_verify_header(&env), CDX_ERR_WRONG_TOPIC);
        cdx_bytes_free(&env);
    }
    free(b.topic);
    b.topic = strdup("sth");
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_WRONG_TOPIC);
    CHECK(strstr(eb.msg, "\"sth\" is reserved for tree heads") != NULL);
    static const char *const good[] = {"alert.x", "alert.energy", "alert.energy.grid-ops_2"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        free(b.topic);
        b.topic = strdup(good[i]);
        CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_OK);
        cdx_bytes_free(&env);
    }

    /* Sealed: AMBER and above only. */
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_AMBER, 10);
    cdx_member fr;
    cdx_identity_card(F.fr, &fr);
    cdx_alert_clear(&b.alert);
    b.kind = CDX_PAYLOAD_SEALED;
    REQUIRE(cdx_seal_alert(&b.sealed, &a, "EE", 1, b.topic, &fr, 1, NULL) == CDX_OK);
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_OK);
    cdx_bytes_free(&env);
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify_header(&env), CDX_OK);
    cdx_bytes_free(&env);
    free(b.topic);
    b.topic = strdup("hb"); /* a sealed alert is an alert: not on a reserved topic */
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_WRONG_TOPIC);
    cdx_bytes_free(&env);
    free(b.topic);
    b.topic = strdup("alert.health");
    static const cdx_tlp below[] = {CDX_TLP_CLEAR, CDX_TLP_GREEN};
    for (size_t i = 0; i < 2; i++) {
        b.sealed.tlp = below[i];
        CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_TLP_SEALED_BELOW_AMBER);
        CHECK_STR(cdx_errname(CDX_ERR_TLP_SEALED_BELOW_AMBER), "tlp-sealed-below-amber");
        s_craft(F.ee, "EE", &b, &env);
        CHECK_EQ(s_verify(&env, NULL), CDX_ERR_TLP_SEALED_BELOW_AMBER);
        CHECK_EQ(s_verify_header(&env), CDX_ERR_TLP_SEALED_BELOW_AMBER);
        cdx_bytes_free(&env);
    }
    b.sealed.tlp = CDX_TLP_RED;
    size_t n = b.sealed.n_recipients;
    b.sealed.n_recipients = 0; /* sealed to nobody */
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_POLICY);
    CHECK_EQ(s_verify_header(&env), CDX_ERR_POLICY);
    cdx_bytes_free(&env);
    b.sealed.n_recipients = n;
    cdx_alert_clear(&a);

    /* The other payloads on their own topics only. */
    cdx_body_clear(&b);
    fixture_body(&b, "EE", 1, NULL, "alert.health", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb), CDX_ERR_WRONG_TOPIC);
    CHECK(strstr(eb.msg, "a heartbeat goes on topic \"hb\"") != NULL);
    free(b.topic);
    b.topic = strdup("sth");
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_ERR_WRONG_TOPIC);
    s_craft(F.ee, "EE", &b, &env);
    CHECK_EQ(s_verify_header(&env), CDX_ERR_WRONG_TOPIC);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
    CHECK(cdx_topic_fits("ack", CDX_PAYLOAD_ACK) && !cdx_topic_fits("alert.x", CDX_PAYLOAD_ACK));
    CHECK(cdx_topic_fits("sth", CDX_PAYLOAD_WITNESS) &&
          cdx_topic_fits("sth", CDX_PAYLOAD_TREE_HEAD));
    CHECK(cdx_topic_fits("roster", CDX_PAYLOAD_ROSTER) &&
          !cdx_topic_fits("hb", CDX_PAYLOAD_ROSTER));
}

static void test_outer_encoding(void)
{
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 10, &env, NULL) == CDX_OK);
    /* Canonical envelope: field 1 (version) comes first as 08 01. */
    REQUIRE(env.data[0] == 0x08 && env.data[1] == 0x01);
    env.data[1] = 0x02;
    CHECK_EQ(s_verify(&env, NULL), CDX_ERR_VERSION);
    env.data[1] = 0x01;
    /* An unknown field appended (field 9, varint 1) is not canonical. */
    uint8_t *more = malloc(env.len + 2);
    memcpy(more, env.data, env.len);
    more[env.len] = 0x48;
    more[env.len + 1] = 0x01;
    cdx_bytes m = {more, env.len + 2};
    CHECK_EQ(s_verify(&m, NULL), CDX_ERR_FORMAT);
    /* The same envelope with version written twice decodes, but is not canonical. */
    memcpy(more + 2, env.data, env.len);
    more[0] = 0x08;
    more[1] = 0x01;
    CHECK_EQ(s_verify(&m, NULL), CDX_ERR_FORMAT);
    free(more);
    /* Inspect decodes without a roster and says it is unverified. */
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_inspect(&e, env.data, env.len, NULL) == CDX_OK);
    CHECK(!cdx_envelope_verified(e));
    CHECK_STR(cdx_envelope_body(e)->sender, "EE");
    cdx_envelope_destroy(&e);
    CHECK_EQ(cdx_envelope_inspect(&e, env.data, env.len - 1, NULL), CDX_ERR_FORMAT);
    CHECK(e == NULL);
    cdx_bytes_free(&env);
}

static void test_other_payloads(void)
{
    uint8_t h1[CDX_HASH_BYTES];
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 10, &env, h1) == CDX_OK);
    cdx_bytes_free(&env);

    cdx_body b;
    fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 5);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, h1, CDX_HASH_BYTES);
    b.ack.stage = CDX_ACK_MITIGATED;
    REQUIRE(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL) == CDX_OK);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    CHECK_EQ(cdx_envelope_body(e)->ack.stage, CDX_ACK_MITIGATED);
    CHECK(memcmp(cdx_envelope_body(e)->ack.alert_hash, h1, CDX_HASH_BYTES) == 0);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
    b.ack.stage = CDX_ACK_UNSPECIFIED;
    CHECK_EQ(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL), CDX_ERR_FORMAT);
    cdx_body_clear(&b);

    fixture_body(&b, "EE", 2, h1, "hb", FIXTURE_T0 + 9);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    b.heartbeat.last_seq = 1;
    b.heartbeat.has_last_hash = true;
    memcpy(b.heartbeat.last_hash, h1, CDX_HASH_BYTES);
    b.heartbeat.interval_ms = 5000;
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    CHECK_EQ(cdx_envelope_body(e)->heartbeat.last_seq, 1);
    CHECK_EQ(cdx_envelope_body(e)->heartbeat.interval_ms, 5000);
    CHECK(cdx_envelope_body(e)->heartbeat.has_last_hash);
    CHECK(memcmp(cdx_envelope_body(e)->prev_hash, h1, CDX_HASH_BYTES) == 0);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);

    /* A roster travels as a payload and comes out byte for byte. */
    cdx_bytes roster = {0};
    REQUIRE(cdx_roster_encode(F.roster, &roster) == CDX_OK);
    fixture_body(&b, "EE", 3, h1, "roster", FIXTURE_T0 + 10);
    b.kind = CDX_PAYLOAD_ROSTER;
    b.roster = roster;
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    const cdx_bytes *got = &cdx_envelope_body(e)->roster;
    CHECK(got->len == roster.len && memcmp(got->data, roster.data, roster.len) == 0);
    cdx_roster *r2 = NULL;
    CHECK_EQ(cdx_roster_decode(&r2, got->data, got->len, NULL), CDX_OK);
    CHECK_EQ(cdx_roster_verify(r2, NULL, NULL), CDX_OK);
    cdx_roster_destroy(&r2);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);

    fixture_body(&b, "broker.alpha", 1, NULL, "sth", FIXTURE_T0 + 11);
    b.kind = CDX_PAYLOAD_TREE_HEAD;
    b.tree_head.origin = malloc(32);
    strcpy(b.tree_head.origin, "cydex/broker.alpha");
    b.tree_head.size = 42;
    memcpy(b.tree_head.root, h1, CDX_HASH_BYTES);
    b.tree_head.timestamp_ms = FIXTURE_T0 + 11;
    REQUIRE(cdx_envelope_sign(F.broker, &b, &env, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    CHECK_EQ(cdx_envelope_body(e)->tree_head.size, 42);
    CHECK_STR(cdx_envelope_body(e)->tree_head.origin, "cydex/broker.alpha");
    cdx_envelope_destroy(&e);
    cdx_body_clear(&b);

    /* A co-signature carries that head as the broker signed it, byte for
     * byte, and its JSON says what the head says. */
    fixture_body(&b, "FR", 4, h1, "sth", FIXTURE_T0 + 12);
    b.kind = CDX_PAYLOAD_WITNESS;
    b.witness = env; /* the broker's head, now the body's */
    REQUIRE(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    got = &cdx_envelope_body(e)->witness;
    CHECK(got->len == b.witness.len && memcmp(got->data, b.witness.data, got->len) == 0);
    char *json = NULL;
    REQUIRE(cdx_json_from_body(&json, cdx_envelope_body(e), false) == CDX_OK);
    CHECK(strstr(json, "\"witness\":{") && strstr(json, "\"broker\":\"broker.alpha\"") &&
          strstr(json, "\"size\":42") && strstr(json, "\"head\":\""));
    cdx_body back = {0};
    CHECK_EQ(cdx_json_to_body(&back, json, strlen(json), NULL), CDX_OK);
    CHECK(back.kind == CDX_PAYLOAD_WITNESS && back.witness.len == got->len);
    cdx_body_clear(&back);
    char *lie = strstr(json, "\"size\":42");
    REQUIRE(lie);
    lie[8] = '3'; /* the JSON says 43 of a head of 42 */
    CHECK_EQ(cdx_json_to_body(&back, json, strlen(json), NULL), CDX_ERR_FORMAT);
    free(json);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
    /* Empty, or past CDX_WITNESS_HEAD_MAX: refused before signing. */
    cdx_bytes_free(&b.witness);
    CHECK_EQ(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL), CDX_ERR_FORMAT);
    b.witness.data = calloc(1, CDX_WITNESS_HEAD_MAX + 1);
    REQUIRE(b.witness.data);
    b.witness.len = CDX_WITNESS_HEAD_MAX + 1;
    CHECK_EQ(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL), CDX_ERR_FORMAT);
    cdx_body_clear(&b);
}

static void s_own_body(cdx_body *b, const char *sender, uint64_t seq, const uint8_t *prev,
                       uint64_t t, size_t desc_len)
{
    fixture_body(b, sender, seq, prev, "alert.health", t);
    fixture_alert(&b->alert, CDX_TLP_GREEN, desc_len);
    b->kind = CDX_PAYLOAD_ALERT;
}

/* A daemon's own envelope, signed without a verification: the same bytes
 * and body a verification gives, and the same roster refusals. */
static void test_sign_own(void)
{
    cdx_body b = {0};
    s_own_body(&b, "EE", 1, NULL, FIXTURE_T0, 200);
    cdx_envelope *own = NULL, *v = NULL;
    REQUIRE(cdx_envelope_sign_own(&own, F.ee, F.roster, &b, NULL) == CDX_OK);
    CHECK(cdx_envelope_verified(own));
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(own, &len);
    REQUIRE(cdx_envelope_verify(&v, F.roster, raw, len, NULL, NULL) == CDX_OK);
    CHECK(memcmp(cdx_envelope_hash(own), cdx_envelope_hash(v), CDX_HASH_BYTES) == 0);
    CHECK_STR(cdx_envelope_body(own)->alert.title, cdx_envelope_body(v)->alert.title);
    cdx_envelope_destroy(&own);
    cdx_envelope_destroy(&v);
    cdx_body_clear(&b);
    /* Not in the roster; a key file that is not the roster's; revoked. */
    s_own_body(&b, "XX", 1, NULL, FIXTURE_T0, 10);
    CHECK_EQ(cdx_envelope_sign_own(&own, F.xx, F.roster, &b, NULL), CDX_ERR_UNKNOWN_SENDER);
    cdx_body_clear(&b);
    s_own_body(&b, "EE", 1, NULL, FIXTURE_T0, 10);
    CHECK_EQ(cdx_envelope_sign_own(&own, F.fr, F.roster, &b, NULL), CDX_ERR_SENDER_MISMATCH);
    cdx_body_clear(&b);
    s_own_body(&b, "LV", 2, (uint8_t[32]){1}, FIXTURE_T0 + FIXTURE_HOUR, 10);
    CHECK_EQ(cdx_envelope_sign_own(&own, F.lv, F.roster, &b, NULL), CDX_ERR_KEY_REVOKED);
    CHECK(own == NULL);
    cdx_body_clear(&b);
}

/* A batch verified on several threads judges each envelope as one
 * verification alone would: good ones pass, a forgery and garbage fail,
 * each with its own reason, whether or not its hash came with it. */
static void test_verify_many(void)
{
    enum { N = 64 };
    cdx_bytes raw[N];
    cdx_verify_job jobs[N];
    uint8_t prev[CDX_HASH_BYTES], h[CDX_HASH_BYTES];
    for (int i = 0; i < N; i++) {
        REQUIRE(fixture_sign_alert(F.ee, (uint64_t)i + 1, i ? prev : NULL, FIXTURE_T0, 50, &raw[i],
                                   h) == CDX_OK);
        memcpy(prev, h, CDX_HASH_BYTES);
        jobs[i] = (cdx_verify_job){.bytes = raw[i].data, .len = raw[i].len};
        /* Every other job comes with its hash, as a node that looked for
         * copies hands it on. */
        jobs[i].hash_known =
            i % 2 == 0 && cdx_envelope_peek_hash(raw[i].data, raw[i].len, jobs[i].hash) == CDX_OK;
    }
    raw[10].data[raw[10].len - 5] ^= 1;   /* a forgery: the signature no longer fits */
    jobs[20].len = 3;                     /* garbage */
    jobs[30].opts.topic = "alert.energy"; /* not the signed topic */
    cdx_envelope_verify_many(
        &(cdx_verify_batch){.roster = F.roster, .jobs = jobs, .n = N, .threads = 4});
    for (int i = 0; i < N; i++) {
        cdx_envelope *one = NULL;
        cdx_err alone =
            cdx_envelope_verify(&one, F.roster, jobs[i].bytes, jobs[i].len, &jobs[i].opts, NULL);
        CHECK_EQ(jobs[i].rc, alone);
        CHECK((jobs[i].rc == CDX_OK) == (jobs[i].env != NULL));
        if (jobs[i].env)
            CHECK_EQ(cdx_envelope_body(jobs[i].env)->seq, i + 1);
        if (jobs[i].env && one) /* the same hash, given or computed */
            CHECK(memcmp(cdx_envelope_hash(jobs[i].env), cdx_envelope_hash(one), CDX_HASH_BYTES) ==
                  0);
        cdx_envelope_destroy(&one);
        cdx_envelope_destroy(&jobs[i].env);
        cdx_bytes_free(&raw[i]);
    }
    CHECK(jobs[10].rc != CDX_OK && jobs[20].rc != CDX_OK); /* 10's hash was given: no matter */
    CHECK(jobs[10].hash_known);
    CHECK_EQ(jobs[30].rc, CDX_ERR_TOPIC_MISMATCH);
    CHECK_EQ(jobs[0].rc, CDX_OK);
}

/* EE's keys rotated at T (roster v2): what the old key signed before T
 * verifies, also after the rotation; from T on only the new key's does,
 * plain or batch-signed; each key file signs only inside its window; an
 * alert sealed to the old sealing key still opens once the new identity
 * keeps the old one. */
static void test_rotated_key(void)
{
    const uint64_t T = FIXTURE_T0 + FIXTURE_DAY;
    uint8_t seed[32];
    memset(seed, 0x52, sizeof seed);
    cdx_identity *ee2 = NULL, *ee1 = NULL;
    REQUIRE(cdx_identity_from_seed(&ee2, "EE", CDX_ROLE_STATE, seed) == CDX_OK);
    memset(seed, 1, sizeof seed); /* the fixture's EE */
    REQUIRE(cdx_identity_from_seed(&ee1, "EE", CDX_ROLE_STATE, seed) == CDX_OK);
    cdx_member new_card;
    cdx_identity_card(ee2, &new_card);
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, F.roster, FIXTURE_T0 + 1) == CDX_OK);
    REQUIRE(cdx_roster_rotate(v2, "EE", &new_card, T, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.fr, NULL) == CDX_OK);
    REQUIRE(cdx_roster_verify(v2, F.roster, NULL) == CDX_OK);

    const struct {
        const cdx_identity *who;
        uint64_t t;
        cdx_err want;
    } cases[] = {
        {F.ee, T - 1, CDX_OK},            /* old key, before T */
        {F.ee, T, CDX_ERR_BAD_SIGNATURE}, /* old key at T: the new one is in force */
        {F.ee, T + FIXTURE_HOUR, CDX_ERR_BAD_SIGNATURE},
        {ee2, T, CDX_OK}, /* new key from T */
        {ee2, T + FIXTURE_DAY, CDX_OK},
        {ee2, T - 1, CDX_ERR_BAD_SIGNATURE}, /* new key before T */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cdx_bytes env = {0};
        REQUIRE(fixture_sign_alert(cases[i].who, 1, NULL, cases[i].t, 10, &env, NULL) == CDX_OK);
        cdx_envelope *e = NULL;
        cdx_errbuf eb = {0};
        CHECK_EQ(cdx_envelope_verify(&e, v2, env.data, env.len, NULL, &eb), cases[i].want);
        cdx_envelope_destroy(&e);
        cdx_bytes_free(&env);
    }
    /* Batch-signed by the new key after T, by the old before. */
    const cdx_identity *signers[] = {F.ee, ee2};
    const uint64_t times[] = {T - 10, T + 10};
    for (int k = 0; k < 2; k++) {
        cdx_batch_signer *bs = NULL;
        REQUIRE(cdx_batch_signer_new(&bs, signers[k]) == CDX_OK);
        cdx_body b[2];
        uint8_t h[CDX_HASH_BYTES];
        for (int i = 0; i < 2; i++) {
            memset(&b[i], 0, sizeof b[i]);
            s_own_body(&b[i], "EE", (uint64_t)i + 1, i ? h : NULL, times[k], 20);
            REQUIRE(cdx_batch_signer_add(bs, v2, &b[i], h, NULL) == CDX_OK);
        }
        cdx_envelope *out[2] = {NULL, NULL};
        REQUIRE(cdx_batch_signer_finish(bs, out, NULL) == CDX_OK);
        for (int i = 0; i < 2; i++) {
            size_t len;
            const uint8_t *raw = cdx_envelope_bytes(out[i], &len);
            cdx_envelope *v = NULL;
            CHECK_EQ(cdx_envelope_verify(&v, v2, raw, len, NULL, NULL), CDX_OK);
            cdx_envelope_destroy(&v);
            cdx_envelope_destroy(&out[i]);
            cdx_body_clear(&b[i]);
        }
        cdx_batch_signer_destroy(&bs);
    }
    /* Each key file signs its own envelopes only inside its window. */
    cdx_body b = {0};
    cdx_envelope *own = NULL;
    cdx_errbuf eb = {0};
    s_own_body(&b, "EE", 1, NULL, T, 10);
    CHECK_EQ(cdx_envelope_sign_own(&own, F.ee, v2, &b, &eb), CDX_ERR_KEY_NOT_VALID);
    CHECK(strstr(eb.msg, "is no longer valid now: the roster has rotated it") != NULL);
    REQUIRE(cdx_envelope_sign_own(&own, ee2, v2, &b, NULL) == CDX_OK);
    cdx_envelope_destroy(&own);
    cdx_body_clear(&b);
    s_own_body(&b, "EE", 1, NULL, T - 1, 10);
    CHECK_EQ(cdx_envelope_sign_own(&own, ee2, v2, &b, &eb), CDX_ERR_KEY_NOT_VALID);
    CHECK(strstr(eb.msg, "is not valid yet") != NULL);
    REQUIRE(cdx_envelope_sign_own(&own, F.ee, v2, &b, NULL) == CDX_OK);
    cdx_envelope_destroy(&own);
    cdx_body_clear(&b);

    /* Sealed to EE's old card before T: the new identity opens it only
     * with the old one kept. */
    cdx_alert a, opened;
    fixture_alert(&a, CDX_TLP_AMBER, 30);
    cdx_sealed sealed = {0};
    const cdx_member *old_card = cdx_roster_find_at(v2, "EE", T - 1);
    REQUIRE(old_card != NULL);
    REQUIRE(cdx_seal_alert(&sealed, &a, "FR", 3, "alert.health", old_card, 1, NULL) == CDX_OK);
    CHECK(cdx_seal_open(&opened, &sealed, "FR", 3, "alert.health", ee2, NULL) != CDX_OK);
    CHECK_EQ(cdx_identity_keep_previous(ee2, &ee1), CDX_OK);
    CHECK(ee1 == NULL);
    REQUIRE(cdx_seal_open(&opened, &sealed, "FR", 3, "alert.health", ee2, NULL) == CDX_OK);
    CHECK_STR(opened.title, a.title);
    cdx_alert_clear(&opened);
    cdx_sealed_clear(&sealed);
    cdx_alert_clear(&a);
    cdx_roster_destroy(&v2);
    cdx_identity_destroy(&ee2);
}

int main(void)
{
    fixture_init(&F);
    test_round_trip();
    test_every_bit_flip_refused();
    test_truncation_and_trailing_bytes();
    test_oversize();
    test_roster_checks();
    test_topic_and_clock();
    test_crafted_envelopes();
    test_tlp_and_topics();
    test_outer_encoding();
    test_other_payloads();
    test_sign_own();
    test_verify_many();
    test_rotated_key();
    fixture_free(&F);
    return check_done("envelope_test");
}
