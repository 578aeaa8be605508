/* Sealed alerts: only named recipients open them, and any change to the
 * sealed form, or moving it to another envelope, is detected; and who a
 * recipient list ("FR,DE", "all") names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

static fixture F;

static void s_seal(cdx_sealed *out, cdx_tlp tlp, const cdx_identity *const *to, size_t n)
{
    cdx_member cards[8];
    for (size_t i = 0; i < n; i++)
        cdx_identity_card(to[i], &cards[i]);
    cdx_alert a;
    fixture_alert(&a, tlp, 300);
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_seal_alert(out, &a, "EE", 7, "alert.energy", cards, n, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "seal: %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    cdx_alert_clear(&a);
}

static cdx_err s_open(const cdx_sealed *s, const cdx_identity *me, const char *sender, uint64_t seq,
                      const char *topic)
{
    cdx_alert out;
    cdx_err rc = cdx_seal_open(&out, s, sender, seq, topic, me, NULL);
    if (rc == CDX_OK) {
        CHECK_STR(out.title, "Ransomware wave against hospitals");
        CHECK_EQ(strlen(out.description), 300);
    }
    cdx_alert_clear(&out);
    return rc;
}

static void test_recipients(void)
{
    const cdx_identity *to[] = {F.fr, F.de, F.broker};
    cdx_sealed s;
    s_seal(&s, CDX_TLP_RED, to, 3);
    CHECK_EQ(s.n_recipients, 3);
    CHECK_EQ(s.tlp, CDX_TLP_RED);
    for (size_t i = 0; i < 3; i++)
        CHECK_EQ(s_open(&s, to[i], "EE", 7, "alert.energy"), CDX_OK);
    CHECK_EQ(s_open(&s, F.ee, "EE", 7, "alert.energy"), CDX_ERR_NOT_RECIPIENT);
    CHECK_EQ(s_open(&s, F.xx, "EE", 7, "alert.energy"), CDX_ERR_NOT_RECIPIENT);
    cdx_sealed_clear(&s);
}

static void test_tampering(void)
{
    const cdx_identity *to[] = {F.fr, F.de};
    cdx_sealed s;
    s_seal(&s, CDX_TLP_AMBER, to, 2);
    /* Every byte of the ciphertext, the nonce and FR's wrapped key. */
    size_t opened = 0;
    cdx_bytes *parts[] = {&s.ciphertext, &s.nonce, &s.recipients[0].wrapped_key};
    for (size_t p = 0; p < 3; p++)
        for (size_t i = 0; i < parts[p]->len; i++) {
            parts[p]->data[i] ^= 0x20;
            if (s_open(&s, F.fr, "EE", 7, "alert.energy") == CDX_OK)
                opened++;
            parts[p]->data[i] ^= 0x20;
        }
    CHECK_EQ(opened, 0);
    CHECK_EQ(s_open(&s, F.fr, "EE", 7, "alert.energy"), CDX_OK);
    /* Bound to sender, seq, topic and label. */
    CHECK_EQ(s_open(&s, F.fr, "DE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    CHECK_EQ(s_open(&s, F.fr, "EE", 8, "alert.energy"), CDX_ERR_DECRYPT);
    CHECK_EQ(s_open(&s, F.fr, "EE", 7, "alert.health"), CDX_ERR_DECRYPT);
    s.tlp = CDX_TLP_RED;
    CHECK_EQ(s_open(&s, F.fr, "EE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    s.tlp = CDX_TLP_AMBER;
    /* FR's wrapped key relabelled as DE's does not open for DE. */
    cdx_bytes fr_key = s.recipients[0].wrapped_key;
    s.recipients[0].wrapped_key = s.recipients[1].wrapped_key;
    s.recipients[1].wrapped_key = fr_key;
    CHECK_EQ(s_open(&s, F.de, "EE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    CHECK_EQ(s_open(&s, F.fr, "EE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    /* Truncated pieces are refused, not read past. */
    s.recipients[1].wrapped_key.len--;
    CHECK_EQ(s_open(&s, F.de, "EE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    s.recipients[1].wrapped_key.len++;
    s.ciphertext.len = 3;
    CHECK_EQ(s_open(&s, F.de, "EE", 7, "alert.energy"), CDX_ERR_DECRYPT);
    cdx_sealed_clear(&s);
}

static void test_policy(void)
{
    cdx_alert a;
    cdx_sealed s;
    cdx_member fr, de;
    cdx_identity_card(F.fr, &fr);
    cdx_identity_card(F.de, &de);
    cdx_member both[] = {fr, fr};
    fixture_alert(&a, CDX_TLP_CLEAR, 10);
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &fr, 1, NULL),
             CDX_ERR_TLP_SEALED_BELOW_AMBER);
    a.tlp = CDX_TLP_GREEN;
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &fr, 1, NULL),
             CDX_ERR_TLP_SEALED_BELOW_AMBER);
    a.tlp = CDX_TLP_AMBER;
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &fr, 0, NULL), CDX_ERR_POLICY);
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &fr, 1, NULL), CDX_OK);
    cdx_sealed_clear(&s);
    a.tlp = CDX_TLP_AMBER_STRICT;
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &fr, 0, NULL), CDX_ERR_POLICY);
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", both, 2, NULL), CDX_ERR_INVALID);
    CHECK_EQ(cdx_seal_alert(&s, &a, "EE", 1, "alert.x", &de, 1, NULL), CDX_OK);
    cdx_sealed_clear(&s);
    cdx_alert_clear(&a);
}

/* Who a --to list names: ids, or "all" (also "*"): every state of the
 * roster whose key is valid and not revoked at that time, nobody else. */
static void s_ids(const cdx_member *m, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "," : "", m[i].id);
}

static void test_recipient_lists(void)
{
    cdx_member *m = NULL;
    size_t n = 0;
    char ids[256];
    uint64_t now = cdx_now_ms(); /* LV revoked, LT's window over */
    CHECK_EQ(cdx_seal_recipients(F.roster, "all", now, &m, &n, NULL), CDX_OK);
    s_ids(m, n, ids, sizeof ids);
    CHECK_STR(ids, "EE,FR,DE");
    free(m);
    CHECK_EQ(cdx_seal_recipients(F.roster, "*", now, &m, &n, NULL), CDX_OK);
    CHECK_EQ(n, 3);
    free(m);
    /* A day after T0: LT is valid, LV revoked. */
    CHECK_EQ(cdx_seal_recipients(F.roster, "all", FIXTURE_T0 + FIXTURE_DAY + 1, &m, &n, NULL),
             CDX_OK);
    s_ids(m, n, ids, sizeof ids);
    CHECK_STR(ids, "EE,FR,DE,LT");
    free(m);
    CHECK_EQ(cdx_seal_recipients(F.roster, "all", FIXTURE_T0, &m, &n, NULL), CDX_OK);
    s_ids(m, n, ids, sizeof ids);
    CHECK_STR(ids, "EE,FR,DE,LV");
    free(m);
    CHECK_EQ(cdx_seal_recipients(F.roster, "FR,DE", now, &m, &n, NULL), CDX_OK);
    s_ids(m, n, ids, sizeof ids);
    CHECK_STR(ids, "FR,DE");
    free(m);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_seal_recipients(F.roster, "FR,XX", now, &m, &n, &eb), CDX_ERR_UNKNOWN_SENDER);
    CHECK(strstr(eb.msg, "XX is not in the roster") != NULL);
    CHECK(m == NULL && n == 0);
    CHECK_EQ(cdx_seal_recipients(F.roster, "LV", now, &m, &n, NULL), CDX_ERR_KEY_REVOKED);
    CHECK_EQ(cdx_seal_recipients(F.roster, "LT", now, &m, &n, NULL), CDX_ERR_KEY_NOT_VALID);
    CHECK_EQ(cdx_seal_recipients(F.roster, "FR,FR", now, &m, &n, NULL), CDX_ERR_INVALID);
    CHECK_EQ(cdx_seal_recipients(F.roster, "all,FR", now, &m, &n, NULL), CDX_ERR_INVALID);
    CHECK_EQ(cdx_seal_recipients(F.roster, "FR,,DE", now, &m, &n, NULL), CDX_ERR_INVALID);
    CHECK_EQ(cdx_seal_recipients(F.roster, "", now, &m, &n, NULL), CDX_ERR_INVALID);
    CHECK(m == NULL);
}

/* Through envelopes: brokers verify a sealed alert; a byte changed in it
 * fails the signature before anyone tries to open it. */
static void test_in_envelope(void)
{
    cdx_body b;
    fixture_body(&b, "EE", 7, (uint8_t[32]){9}, "alert.energy", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_SEALED;
    const cdx_identity *to[] = {F.fr};
    cdx_sealed_clear(&b.sealed);
    s_seal(&b.sealed, CDX_TLP_AMBER, to, 1);
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL) == CDX_OK);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    cdx_alert out;
    CHECK_EQ(cdx_envelope_open(e, F.fr, &out, NULL), CDX_OK);
    CHECK_EQ(out.tlp, CDX_TLP_AMBER);
    cdx_alert_clear(&out);
    CHECK_EQ(cdx_envelope_open(e, F.de, &out, NULL), CDX_ERR_NOT_RECIPIENT);
    cdx_envelope_destroy(&e);
    env.data[env.len - 80] ^= 1; /* inside the sealed payload */
    CHECK_EQ(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL),
             CDX_ERR_BAD_SIGNATURE);
    cdx_bytes_free(&env);
    /* A sealed GREEN label is refused by the signer. */
    b.sealed.tlp = CDX_TLP_GREEN;
    CHECK_EQ(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL), CDX_ERR_TLP_SEALED_BELOW_AMBER);
    cdx_body_clear(&b);
}

int main(void)
{
    fixture_init(&F);
    test_recipients();
    test_recipient_lists();
    test_tampering();
    test_policy();
    test_in_envelope();
    fixture_free(&F);
    return check_done("seal_test");
}
