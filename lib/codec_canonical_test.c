/* One reading of every signed byte: bodies are written here by hand, byte
 * by byte from the rule in proto/cydex.proto (CANONICAL ENCODING), not by
 * the library's encoder, then signed with a member's real key, so that
 * only the encoding is wrong. Each non-canonical body must be refused by
 * acceptance (a full verification) and by the audit (header-only
 * verification) alike, with a reason that names the rule; the canonical
 * one must be accepted by both, read the same, and be what the library's
 * own encoder writes for the same record. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/receipt.h"
#include "fixture.h"
#include "internal.h"
#include "pbwrite.h"

static fixture F;

#define S_ID "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41"

static void s_alert(pbw *a, const char *title)
{
    pbw_alert(a, S_ID, title);
}

static void s_header(pbw *w)
{
    pbw_str(w, 1, "EE");
    pbw_uint(w, 2, 1);
    pbw_uint(w, 3, FIXTURE_T0);
}

static void s_sign(const pbw *body, cdx_bytes *env)
{
    pbw_sign(F.ee, body, env, NULL);
}

/* Acceptance and audit on the same bytes: both refuse with
 * CDX_ERR_NONCANONICAL and a reason holding `why`. */
static void s_refused(const pbw *body, const char *why, int line)
{
    cdx_bytes env;
    s_sign(body, &env);
    for (int audit = 0; audit < 2; audit++) {
        cdx_envelope *e = NULL;
        cdx_errbuf eb = {0};
        cdx_verify_opts o = {.header_only = audit == 1, .topic = audit ? NULL : "alert.health"};
        cdx_err rc = cdx_envelope_verify(&e, F.roster, env.data, env.len, &o, &eb);
        if (rc != CDX_ERR_NONCANONICAL || !strstr(eb.msg, why))
            fprintf(stderr, "line %d (%s): got %s \"%s\", wanted non-canonical \"%s\"\n", line,
                    audit ? "audit" : "acceptance", cdx_errname(rc), eb.msg, why);
        CHECK_EQ(rc, CDX_ERR_NONCANONICAL);
        CHECK(strstr(eb.msg, why) != NULL);
        CHECK(e == NULL);
        cdx_envelope_destroy(&e);
    }
    cdx_bytes_free(&env);
}
#define REFUSED(body, why) s_refused(body, why, __LINE__)

static void test_canonical_body_accepted_alike(void)
{
    pbw a, w = {0};
    s_alert(&a, "Ransomware wave");
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    cdx_bytes env;
    s_sign(&w, &env);
    cdx_envelope *full = NULL, *head = NULL;
    REQUIRE(cdx_envelope_verify(&full, F.roster, env.data, env.len,
                                &(cdx_verify_opts){.topic = "alert.health"}, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&head, F.roster, env.data, env.len,
                                &(cdx_verify_opts){.header_only = true}, NULL) == CDX_OK);
    const cdx_body *x = cdx_envelope_body(full), *y = cdx_envelope_body(head);
    CHECK_STR(x->sender, y->sender);
    CHECK_STR(x->topic, y->topic);
    CHECK_EQ(x->seq, y->seq);
    CHECK_EQ(x->sent_at_ms, y->sent_at_ms);
    CHECK_EQ(x->kind, y->kind);
    CHECK_EQ(x->has_prev_hash, y->has_prev_hash);
    CHECK_STR(x->alert.title, "Ransomware wave");
    /* The library's own encoder writes exactly these bytes. */
    cdx_bytes again;
    REQUIRE(cdx__body_encode(x, 0, &again) == CDX_OK);
    CHECK(again.len == w.n && memcmp(again.data, w.b, w.n) == 0);
    cdx_bytes_free(&again);
    cdx_envelope_destroy(&full);
    cdx_envelope_destroy(&head);
    cdx_bytes_free(&env);
}

static void test_order_and_repeats(void)
{
    pbw a, w;
    s_alert(&a, "Ransomware wave");

    /* topic after the payload: what poisoned every log before */
    w = (pbw){0};
    s_header(&w);
    pbw_msg(&w, 10, &a);
    pbw_str(&w, 5, "alert.health");
    REFUSED(&w, "out of field-number order");

    /* seq given twice */
    w = (pbw){0};
    s_header(&w);
    pbw_uint(&w, 3, FIXTURE_T0); /* sent_at_ms again */
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    REFUSED(&w, "appears twice");

    /* the alert twice: protobuf would merge the two parts into one */
    pbw a2;
    s_alert(&a2, "Another reading");
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    pbw_msg(&w, 10, &a2);
    REFUSED(&w, "appears twice");

    /* two members of the payload oneof */
    pbw ack = {0};
    uint8_t h[CDX_HASH_BYTES] = {1};
    pbw_bytes(&ack, 1, h, sizeof h);
    pbw_uint(&ack, 3, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    pbw_msg(&w, 11, &ack);
    REFUSED(&w, "second member of its oneof");

    /* a repeated field split by another field */
    pbw s = {0};
    pbw_str(&s, 1, S_ID);
    pbw_uint(&s, 2, 2);
    pbw_str(&s, 5, "t");
    pbw_str(&s, 8, "health");
    pbw_str(&s, 9, "https://example.org/a");
    pbw_str(&s, 8, "energy");
    pbw_uint(&s, 11, 1);
    pbw_uint(&s, 12, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &s);
    REFUSED(&w, "out of field-number order");

    /* ...while one run of a repeated field is the canonical form */
    s = (pbw){0};
    pbw_str(&s, 1, S_ID);
    pbw_uint(&s, 2, 2);
    pbw_str(&s, 5, "t");
    pbw_str(&s, 8, "health");
    pbw_str(&s, 8, "energy");
    pbw_uint(&s, 11, 1);
    pbw_uint(&s, 12, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &s);
    cdx_bytes env;
    s_sign(&w, &env);

    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    CHECK_EQ(cdx_envelope_body(e)->alert.n_sectors, 2);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
}

static void test_defaults_varints_and_unknowns(void)
{
    pbw a, w;
    s_alert(&a, "Ransomware wave");

    /* an explicit default: severity 0 written out */
    pbw d = {0};
    pbw_str(&d, 1, S_ID);
    pbw_uint(&d, 2, 2);
    pbw_uint(&d, 3, 0);
    pbw_str(&d, 5, "t");
    pbw_uint(&d, 11, 1);
    pbw_uint(&d, 12, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &d);
    REFUSED(&w, "default value");

    /* an empty string written out */
    d = (pbw){0};
    pbw_str(&d, 1, S_ID);
    pbw_uint(&d, 2, 2);
    pbw_str(&d, 4, "");
    pbw_str(&d, 5, "t");
    pbw_uint(&d, 11, 1);
    pbw_uint(&d, 12, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &d);
    REFUSED(&w, "empty");

    /* seq 1 as a two-byte varint */
    w = (pbw){0};
    pbw_str(&w, 1, "EE");
    pbw_tag(&w, 2, 0);
    pbw_raw(&w, "\x81\x00", 2);
    pbw_uint(&w, 3, FIXTURE_T0);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    REFUSED(&w, "varint");

    /* a varint of more than 64 bits */
    w = (pbw){0};
    pbw_str(&w, 1, "EE");
    pbw_uint(&w, 2, 1);
    pbw_tag(&w, 3, 0);
    pbw_raw(&w, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    REFUSED(&w, "varint");

    /* seq with the wrong wire type */
    w = (pbw){0};
    pbw_str(&w, 1, "EE");
    pbw_bytes(&w, 2, "\x01", 1);
    pbw_uint(&w, 3, FIXTURE_T0);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    REFUSED(&w, "wrong wire type");

    /* unknown fields: in the body, and inside the alert */
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    pbw_uint(&w, 20, 1);
    REFUSED(&w, "unknown field 20");
    pbw u = a;
    pbw_uint(&u, 14, 7);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &u);
    REFUSED(&w, "Alert holds unknown field 14");

    /* field 2^32 + 1: a decoder that keeps 32 bits would read field 1 */
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    pbw_bytes(&w, ((uint64_t)1 << 32) + 1, "FR", 2);
    REFUSED(&w, "tag");

    /* a sender "EE\0FR": C reads EE, another reader does not */
    w = (pbw){0};
    pbw_bytes(&w, 1, "EE\0FR", 5);
    pbw_uint(&w, 2, 1);
    pbw_uint(&w, 3, FIXTURE_T0);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &a);
    REFUSED(&w, "NUL");

    /* a title that is not UTF-8, deep inside */
    s_alert(&u, "caf\xc3");
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &u);
    REFUSED(&w, "UTF-8");

    /* an indicator whose own fields are out of order */
    pbw ind = {0}, al = {0};
    pbw_str(&ind, 2, "203.0.113.7");
    pbw_str(&ind, 1, "ip-dst");
    pbw_str(&al, 1, S_ID);
    pbw_uint(&al, 2, 2);
    pbw_str(&al, 5, "t");
    pbw_msg(&al, 7, &ind);
    pbw_uint(&al, 11, 1);
    pbw_uint(&al, 12, 1);
    w = (pbw){0};
    s_header(&w);
    pbw_str(&w, 5, "alert.health");
    pbw_msg(&w, 10, &al);
    REFUSED(&w, "Indicator field type (1) is out of field-number order");
}

/* The topic frame is compared byte for byte, its length included. */
static void test_topic_frame_exact(void)
{
    cdx_bytes env;
    REQUIRE(fixture_sign_alert(F.ee, 1, NULL, FIXTURE_T0, 10, &env, NULL) == CDX_OK);
    static const char frame[] = "alert.health\0junk";
    cdx_envelope *e = NULL;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_envelope_verify(&e, F.roster, env.data, env.len,
                                 &(cdx_verify_opts){.topic = frame, .topic_len = sizeof frame - 1},
                                 &eb),
             CDX_ERR_TOPIC_MISMATCH);
    CHECK(strstr(eb.msg, "17 bytes") != NULL);
    CHECK_EQ(cdx_envelope_verify(&e, F.roster, env.data, env.len,
                                 &(cdx_verify_opts){.topic = frame, .topic_len = 12}, &eb),
             CDX_OK);
    cdx_envelope_destroy(&e);
    CHECK_EQ(cdx_envelope_verify(&e, F.roster, env.data, env.len,
                                 &(cdx_verify_opts){.topic = "alert.healt"}, &eb),
             CDX_ERR_TOPIC_MISMATCH);
    cdx_bytes_free(&env);
}

/* What else is signed whole holds to the same rule: a roster (signed by
 * its admins), a receipt's statement (by its broker) and a sealed alert's
 * plaintext (covered by the sender's signature through its ciphertext). */
static void test_other_signed_messages(void)
{
    pbw a;
    s_alert(&a, "t");
    cdx_alert out;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx__alert_decode(&out, a.b, a.n, &eb), CDX_OK);
    cdx_alert_clear(&out);
    pbw_str(&a, 5, "second title");
    CHECK_EQ(cdx__alert_decode(&out, a.b, a.n, &eb), CDX_ERR_NONCANONICAL);

    pbw r = {0};
    pbw_str(&r, 1, "eu-cyber");
    pbw_uint(&r, 2, 1);
    pbw_uint(&r, 2, 2);
    cdx__roster_data d;
    CHECK_EQ(cdx__roster_data_decode(&d, r.b, r.n, false, &eb), CDX_ERR_NONCANONICAL);

    pbw st = {0}, item = {0};
    uint8_t h[CDX_HASH_BYTES] = {7};
    pbw_bytes(&item, 1, h, sizeof h);
    pbw_uint(&item, 2, 1);
    pbw_uint(&item, 3, 0); /* log_index 0 written out */
    pbw_str(&st, 1, "broker.alpha");
    pbw_uint(&st, 6, FIXTURE_T0);
    pbw_msg(&st, 7, &item);
    cdx_receipt *got = NULL;
    size_t n = 0;
    CHECK_EQ(cdx__receipt_statement_decode(&got, &n, st.b, st.n), CDX_ERR_NONCANONICAL);
    CHECK(got == NULL);
}

int main(void)
{
    fixture_init(&F);
    test_canonical_body_accepted_alike();
    test_order_and_repeats();
    test_defaults_varints_and_unknowns();
    test_topic_frame_exact();
    test_other_signed_messages();
    fixture_free(&F);
    return check_done("codec_canonical_test");
}
