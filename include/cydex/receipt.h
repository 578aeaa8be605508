/* Broker receipts: the broker's signed statement that an envelope is
 * durable in its log at an index (or was a duplicate, or was refused and
 * why). A publisher keeps an envelope in its outbox until it holds an
 * ACCEPTED or DUPLICATE receipt for its hash. See Receipt in
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
    uint8_t envelope_hash[CDX_HASH_BYTES]; /* zero if the envelope did not decode */
    cdx_receipt_status status;
    uint64_t log_index; /* ACCEPTED, DUPLICATE */
    char reason[32];    /* REJECTED: a cdx_errname(), e.g. "bad-signature" */
    uint64_t committed_at_ms;
} cdx_receipt;

const char *cdx_receipt_status_name(cdx_receipt_status s);

/* Signs and encodes; r->broker must be the identity's id. */
cdx_err cdx_receipt_sign(const cdx_receipt *r, const cdx_identity *broker, cdx_bytes *out);

/* Decodes and verifies the broker's signature against the roster (the
 * broker must be a member whose key is valid at committed_at_ms). */
cdx_err cdx_receipt_verify(cdx_receipt *out, const cdx_roster *roster, const uint8_t *data,
                           size_t len, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
