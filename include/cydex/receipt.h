/* Broker receipts: the broker's signed statement that envelopes are
 * durable in its log at an index (or were duplicates, or were refused and
 * why). A publisher keeps an envelope in its outbox until it holds an
 * ACCEPTED or DUPLICATE receipt for its hash. One receipt covers what one
 * publisher sent in one poll round, signed once. See Receipt in
 * proto/cydex.proto; signed with the purpose "receipt". */
#ifndef CYDEX_RECEIPT_H
#define CYDEX_RECEIPT_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cdx_receipt_status {
    CDX_RECEIPT_UNSPECIFIED = 0,
    CDX_RECEIPT_ACCEPTED = 1,
    CDX_RECEIPT_DUPLICATE = 2,
    CDX_RECEIPT_REJECTED = 3
} cdx_receipt_status;

typedef struct cdx_receipt {
    char broker[CDX_ID_MAX + 1];
    /* All zero (and left out of the signed statement) when the bytes were
     * not an envelope, so had no hash. */
    uint8_t envelope_hash[CDX_HASH_BYTES];
    cdx_receipt_status status;
    uint64_t log_index; /* ACCEPTED, DUPLICATE */
    char reason[32];    /* REJECTED: a cdx_errname(), e.g. "bad-signature" */
    uint64_t committed_at_ms;
} cdx_receipt;

const char *cdx_receipt_status_name(cdx_receipt_status s);

/* Envelopes one receipt may cover, at most. */
#define CDX_RECEIPT_MAX_ITEMS 100000u

/* Signs one statement about n envelopes (1..CDX_RECEIPT_MAX_ITEMS) and
 * encodes it; every r[i].broker must be the identity's id; the time is
 * r[0].committed_at_ms. out is the caller's to free. */
cdx_err cdx_receipt_sign_many(const cdx_receipt *r, size_t n, const cdx_identity *broker,
                              cdx_bytes *out);
cdx_err cdx_receipt_sign(const cdx_receipt *r, const cdx_identity *broker, cdx_bytes *out);

/* Decodes and verifies the broker's signature against the roster (the
 * broker must be a member whose key is valid at committed_at_ms): *out
 * gets one cdx_receipt per envelope (the caller frees the array). */
cdx_err cdx_receipt_verify_many(cdx_receipt **out, size_t *n, const cdx_roster *roster,
                                const uint8_t *data, size_t len, cdx_errbuf *eb);

/* cdx_receipt_verify_many for a receipt about one envelope
 * (CDX_ERR_UNSUPPORTED if it covers several). */
cdx_err cdx_receipt_verify(cdx_receipt *out, const cdx_roster *roster, const uint8_t *data,
                           size_t len, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
