/* Broker receipts: one signed statement about several envelopes; what a
 * publisher must refuse (a changed byte, a signer who is not a broker,
 * nothing to state). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/receipt.h"
#include "fixture.h"

static fixture F;

static void s_items(cdx_receipt r[3], const char *broker)
{
    memset(r, 0, 3 * sizeof *r);
    for (int i = 0; i < 3; i++) {
        snprintf(r[i].broker, sizeof r[i].broker, "%s", broker);
        r[i].envelope_hash[0] = (uint8_t)(i + 1);
        r[i].status = CDX_RECEIPT_ACCEPTED;
        r[i].log_index = 40 + (uint64_t)i;
        r[i].committed_at_ms = FIXTURE_T0;
    }
    r[1].status = CDX_RECEIPT_DUPLICATE;
    r[2].status = CDX_RECEIPT_REJECTED;
    snprintf(r[2].reason, sizeof r[2].reason, "bad-signature");
}

int main(void)
{
    fixture_init(&F);
    cdx_receipt r[3], *got = NULL, one;
    size_t n = 0;
    cdx_bytes raw = {0};
    s_items(r, "broker.alpha");
    REQUIRE(cdx_receipt_sign_many(r, 3, F.broker, &raw) == CDX_OK);
    REQUIRE(cdx_receipt_verify_many(&got, &n, F.roster, raw.data, raw.len, NULL) == CDX_OK);
    CHECK_EQ(n, 3);
    for (size_t i = 0; i < n && i < 3; i++) {
        CHECK_STR(got[i].broker, "broker.alpha");
        CHECK_EQ(got[i].envelope_hash[0], i + 1);
        CHECK_EQ(got[i].status, r[i].status);
        CHECK_EQ(got[i].log_index, 40 + i);
        CHECK_EQ(got[i].committed_at_ms, FIXTURE_T0);
    }
    CHECK_STR(got[2].reason, "bad-signature");
    free(got);
    /* A receipt about several is not a receipt about one. */
    CHECK_EQ(cdx_receipt_verify(&one, F.roster, raw.data, raw.len, NULL), CDX_ERR_UNSUPPORTED);
    /* Any byte changed: refused. */
    for (size_t i = 0; i < raw.len; i++) {
        raw.data[i] ^= 0x20;
        cdx_err rc = cdx_receipt_verify_many(&got, &n, F.roster, raw.data, raw.len, NULL);
        CHECK(rc != CDX_OK && got == NULL);
        raw.data[i] ^= 0x20;
    }
    cdx_bytes_free(&raw);
    /* One item round-trips through the single-envelope calls. */
    REQUIRE(cdx_receipt_sign(&r[0], F.broker, &raw) == CDX_OK);
    CHECK_EQ(cdx_receipt_verify(&one, F.roster, raw.data, raw.len, NULL), CDX_OK);
    CHECK_EQ(one.log_index, 40);
    cdx_bytes_free(&raw);
    /* A state may not sign receipts; a broker signs for itself only; one
     * says something. */
    s_items(r, "EE");
    REQUIRE(cdx_receipt_sign_many(r, 3, F.ee, &raw) == CDX_OK);
    CHECK_EQ(cdx_receipt_verify_many(&got, &n, F.roster, raw.data, raw.len, NULL), CDX_ERR_POLICY);
    cdx_bytes_free(&raw);
    CHECK_EQ(cdx_receipt_sign_many(r, 3, F.broker, &raw), CDX_ERR_INVALID);
    CHECK_EQ(cdx_receipt_sign_many(r, 0, F.ee, &raw), CDX_ERR_INVALID);
    fixture_free(&F);
    return check_done("receipt_test");
}
