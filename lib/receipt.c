/* Signed broker receipts (see cydex/receipt.h). */
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

cdx_err cdx_receipt_sign(const cdx_receipt *r, const cdx_identity *broker, cdx_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    if (strcmp(r->broker, cdx_identity_id(broker)) != 0)
        return CDX_ERR_INVALID;
    cdx_bytes st;
    uint8_t sig[CDX_SIG_BYTES];
    cdx_err rc = cdx__receipt_statement_encode(r, &st);
    if (rc == CDX_OK)
        rc = cdx_identity_sign(broker, "receipt", st.data, st.len, sig);
    if (rc == CDX_OK)
        rc = cdx__receipt_encode(&st, sig, out);
    cdx_bytes_free(&st);
    return rc;
}

cdx_err cdx_receipt_verify(cdx_receipt *out, const cdx_roster *roster, const uint8_t *data,
                           size_t len, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    cdx_bytes st = {0};
    uint8_t sig[CDX_SIG_BYTES];
    cdx_err rc = cdx__receipt_decode(&st, sig, data, len);
    if (rc == CDX_OK)
        rc = cdx__receipt_statement_decode(out, st.data, st.len);
    if (rc != CDX_OK) {
        cdx_bytes_free(&st);
        return cdx_errf(eb, rc, "receipt is malformed");
    }
    const cdx_member *m = cdx_roster_find(roster, out->broker);
    if (!m)
        rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "receipt from %s, who is not in the roster",
                      out->broker);
    else if (m->role != CDX_ROLE_BROKER)
        rc = cdx_errf(eb, CDX_ERR_POLICY, "receipt from %s, who is not a broker", out->broker);
    else if (cdx_signature_verify(m->sign_pk, "receipt", st.data, st.len, sig) != CDX_OK)
        rc = cdx_errf(eb, CDX_ERR_BAD_SIGNATURE, "receipt signature of %s does not verify",
                      out->broker);
    else
        rc = cdx_member_key_valid_at(m, out->committed_at_ms);
    cdx_bytes_free(&st);
    return rc;
}
