/* Signed broker receipts (see cydex/receipt.h). */
#include <stdlib.h>
#include <string.h>

#include "cydex/receipt.h"
#include "internal.h"

const char *cdx_receipt_status_name(cdx_receipt_status s)
{
    switch (s) {
    case CDX_RECEIPT_ACCEPTED: return "accepted";
    case CDX_RECEIPT_DUPLICATE: return "duplicate";
    case CDX_RECEIPT_REJECTED: return "rejected";
    default: return "unspecified";
    }
}

cdx_err cdx_receipt_sign_many(const cdx_receipt *r, size_t n, const cdx_identity *broker,
                              cdx_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    if (n == 0 || n > CDX_RECEIPT_MAX_ITEMS)
        return CDX_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].broker, cdx_identity_id(broker)) != 0)
            return CDX_ERR_INVALID;
    cdx_bytes st;
    uint8_t sig[CDX_SIG_BYTES];
    cdx_err rc = cdx__receipt_statement_encode(r, n, &st);
    if (rc == CDX_OK)
        rc = cdx_identity_sign(broker, "receipt", st.data, st.len, sig);
    if (rc == CDX_OK)
        rc = cdx__receipt_encode(&st, sig, out);
    cdx_bytes_free(&st);
    return rc;
}

cdx_err cdx_receipt_sign(const cdx_receipt *r, const cdx_identity *broker, cdx_bytes *out)
{
    return cdx_receipt_sign_many(r, 1, broker, out);
}

cdx_err cdx_receipt_verify_many(cdx_receipt **out, size_t *n, const cdx_roster *roster,
                                const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    *out = NULL;
    *n = 0;
    cdx_bytes st = {0};
    uint8_t sig[CDX_SIG_BYTES];
    cdx_receipt *r = NULL;
    size_t count = 0;
    cdx_err rc = cdx__receipt_decode(&st, sig, data, len);
    if (rc == CDX_OK)
        rc = cdx__receipt_statement_decode(&r, &count, st.data, st.len);
    if (rc == CDX_OK && count > CDX_RECEIPT_MAX_ITEMS)
        rc = CDX_ERR_TOO_BIG;
    if (rc != CDX_OK) {
        cdx_bytes_free(&st);
        free(r);
        return cdx_errf(eb, rc, "receipt is malformed");
    }
    const cdx_member *m = cdx_roster_find_at(roster, r[0].broker, r[0].committed_at_ms);
    if (!m)
        m = cdx_roster_find(roster, r[0].broker);
    if (!m)
        rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "receipt from %s, who is not in the roster",
                      r[0].broker);
    else if (m->role != CDX_ROLE_BROKER)
        rc = cdx_errf(eb, CDX_ERR_POLICY, "receipt from %s, who is not a broker", r[0].broker);
    else if (cdx_signature_verify(m->sign_pk, "receipt", st.data, st.len, sig) != CDX_OK)
        rc = cdx_errf(eb, CDX_ERR_BAD_SIGNATURE, "receipt signature of %s does not verify",
                      r[0].broker);
    else
        rc = cdx_member_key_valid_at(m, r[0].committed_at_ms);
    cdx_bytes_free(&st);
    if (rc != CDX_OK) {
        free(r);
        return rc;
    }
    *out = r;
    *n = count;
    return CDX_OK;
}

cdx_err cdx_receipt_verify(cdx_receipt *out, const cdx_roster *roster, const uint8_t *data,
                           size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    cdx_receipt *r = NULL;
    size_t n = 0;
    cdx_err rc = cdx_receipt_verify_many(&r, &n, roster, data, len, eb);
    if (rc == CDX_OK && n != 1)
        rc = cdx_errf(eb, CDX_ERR_UNSUPPORTED, "receipt about %zu envelopes, not one", n);
    if (rc == CDX_OK)
        *out = r[0];
    free(r);
    return rc;
}
