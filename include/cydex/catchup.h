/* Catch-up requests and replies (CatchupRequest / CatchupReply in
 * proto/cydex.proto): how a node that missed envelopes, or was away, gets
 * them from a broker's log, streamed in bounded batches. */
#ifndef CYDEX_CATCHUP_H
#define CYDEX_CATCHUP_H

#include "cydex/common.h"
#include "cydex/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_CATCHUP_MAX_CURSORS 1024u
#define CDX_CATCHUP_BATCH_DEFAULT 256u

typedef struct cdx_cursor {
    char sender[CDX_ID_MAX + 1];
    uint64_t last_seq; /* the receiver holds up to here; wants what follows */
} cdx_cursor;

typedef struct cdx_catchup_request {
    /* The requester's tag, 0..16 bytes (request_id_len), echoed exactly in
     * every reply. */
    uint8_t request_id[16];
    size_t request_id_len;
    /* Range mode: one sender, seqs from..to inclusive (to 0 = to the end). */
    char sender[CDX_ID_MAX + 1];
    uint64_t from_seq, to_seq;
    /* Cursor mode (when sender is ""): everything after these; senders not
     * named are sent from seq 1. */
    cdx_cursor *after;
    size_t n_after;
    uint32_t max_batch; /* 0 = CDX_CATCHUP_BATCH_DEFAULT */
    /* Proof mode (proof_new > 0): the broker log's consistency proof from
     * its tree of proof_old entries to proof_new's. */
    uint64_t proof_old, proof_new;
} cdx_catchup_request;

void cdx_catchup_request_clear(cdx_catchup_request *r);
cdx_err cdx_catchup_request_encode(const cdx_catchup_request *r, cdx_bytes *out);
cdx_err cdx_catchup_request_decode(cdx_catchup_request *out, const uint8_t *data, size_t len,
                                   cdx_errbuf *eb);

typedef struct cdx_catchup_reply {
    uint8_t request_id[16]; /* the request's, request_id_len bytes */
    size_t request_id_len;
    cdx_bytes *envelopes; /* in log order per sender, exactly as stored */
    size_t n;
    bool done;
    char error[128];
    /* Proof mode: the consistency proof. */
    uint8_t consistency[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n_consistency;
} cdx_catchup_reply;

void cdx_catchup_reply_clear(cdx_catchup_reply *r);
/* Encodes borrowing r's envelopes. */
cdx_err cdx_catchup_reply_encode(const cdx_catchup_reply *r, cdx_bytes *out);
cdx_err cdx_catchup_reply_decode(cdx_catchup_reply *out, const uint8_t *data, size_t len,
                                 cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
