/* Signed envelopes: build and sign; verify and open.
 *
 * The wire rules are in proto/cydex.proto. Verification runs in a fixed
 * order so that nothing untrusted is decoded before it is authenticated:
 * size cap, outer envelope (canonical encoding, version), signer looked up in
 * the roster, strict Ed25519 over the exact body bytes, then the body is
 * decoded and checked: sender equals signer, the key was valid and not
 * revoked at sent_at_ms, the topic frame (if given) equals the signed topic,
 * sent_at_ms inside the skew window (if a clock is given), and the payload's
 * own rules (cdx_body_check).
 */
#ifndef CYDEX_ENVELOPE_H
#define CYDEX_ENVELOPE_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/message.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A decoded envelope. Immutable once made; may be read from many threads. */
typedef struct cdx_envelope cdx_envelope;

/* Batch signatures (proto BatchAuth): one Ed25519 signature over the RFC
 * 9162 root of a batch of a signer's envelope hashes; each envelope carries
 * its inclusion path. A cache remembers the batch signatures already
 * verified (signer's key, root, size and the signature's very bytes), so
 * that the envelopes of one batch cost one verification between them.
 * One thread at a time; it holds only public data. */
typedef struct cdx_batch_cache cdx_batch_cache;

cdx_batch_cache *cdx_batch_cache_new(void);
void cdx_batch_cache_destroy(cdx_batch_cache **cache);

typedef struct cdx_verify_opts {
    size_t max_size; /* 0 = CDX_ENVELOPE_MAX_DEFAULT */
    /* The bus topic frame, compared byte for byte with the signed topic,
     * length included; NULL = not checked. topic_len: the frame's length
     * (it may hold a NUL); 0 = strlen(topic). */
    const char *topic;
    size_t topic_len;
    uint64_t now_ms;      /* receiver's clock; 0 = no skew check (audits) */
    uint64_t max_skew_ms; /* 0 = CDX_SKEW_DEFAULT_MS */
    /* Decode only the header (sender, seq, sent_at, prev_hash, topic) and
     * the payload's kind; the payload itself stays undecoded and unchecked,
     * except a roster update, which is decoded, and an alert's TLP label
     * (and a sealed alert's count of recipients), which is read to hold it
     * to the TLP rule; the topic rule holds too (cdx_body_check). The
     * signature still covers the whole body. For auditors, who re-check
     * signatures and chains of envelopes whose payloads were checked when
     * they were first accepted. */
    bool header_only;
    /* Keep a pointer to the caller's bytes instead of a copy: the caller
     * keeps them unchanged for as long as the envelope lives. */
    bool borrow;
    /* Batch signatures verified before; NULL: each is verified. Used by
     * cdx_envelope_verify; cdx_envelope_verify_many uses its own. */
    cdx_batch_cache *batch_cache;
} cdx_verify_opts;

/* Checks `body` (cdx_body_check), that its sender is the identity's id, and
 * signs it. out receives the envelope bytes (caller frees); hash (may be
 * NULL) its envelope hash. */
cdx_err cdx_envelope_sign(const cdx_identity *signer, const cdx_body *body, cdx_bytes *out,
                          uint8_t hash[CDX_HASH_BYTES], cdx_errbuf *eb);

/* Verifies bytes as described above; opts may be NULL for the defaults. On
 * success *out owns a copy of everything it needs; the input may be freed. */
cdx_err cdx_envelope_verify(cdx_envelope **out, const cdx_roster *roster, const uint8_t *bytes,
                            size_t len, const cdx_verify_opts *opts, cdx_errbuf *eb);

/* Signs `body` as its sender, `signer`, and returns the envelope as
 * verified, at the cost of a signature, not a verification: the roster
 * must list the signer with this very signing key, valid at the body's
 * sent_at (CDX_ERR_UNKNOWN_SENDER, CDX_ERR_BAD_SIGNATURE, CDX_ERR_KEY_*
 * otherwise), which is what a verification would establish. For a
 * daemon's own envelopes. The bytes are cdx_envelope_bytes(*out). */
cdx_err cdx_envelope_sign_own(cdx_envelope **out, const cdx_identity *signer,
                              const cdx_roster *roster, const cdx_body *body, cdx_errbuf *eb);

/* Signs a run of the signer's own bodies with one signature. Each body
 * added is checked as cdx_envelope_sign_own checks it, and its envelope
 * hash is known at once (the next body may chain to it); finish signs the
 * run's root and hands back each envelope, verified, in the order added,
 * and the signer is empty again. A run of one is signed alone (a plain
 * signature), and so is each body over CDX_BATCH_BODY_MAX bytes (the path
 * would only add to an envelope near the size cap; its verification is
 * mostly hashing anyway). At most CDX_BATCH_MAX bodies a run. */
#define CDX_BATCH_MAX 256u
#define CDX_BATCH_BODY_MAX (64u * 1024u)

typedef struct cdx_batch_signer cdx_batch_signer;

cdx_err cdx_batch_signer_new(cdx_batch_signer **out, const cdx_identity *signer);
void cdx_batch_signer_destroy(cdx_batch_signer **bs);
/* CDX_ERR_INVALID once the run holds CDX_BATCH_MAX bodies. */
cdx_err cdx_batch_signer_add(cdx_batch_signer *bs, const cdx_roster *roster, const cdx_body *body,
                             uint8_t hash[CDX_HASH_BYTES], cdx_errbuf *eb);
size_t cdx_batch_signer_count(const cdx_batch_signer *bs);
/* Drops the run without signing it. */
void cdx_batch_signer_clear(cdx_batch_signer *bs);
/* out receives cdx_batch_signer_count envelopes (the caller destroys
 * them); on failure none, and the run is dropped all the same. */
cdx_err cdx_batch_signer_finish(cdx_batch_signer *bs, cdx_envelope **out, cdx_errbuf *eb);

/* One envelope of a batch to verify: bytes and opts in; env (verified, or
 * NULL), rc and eb (why not) out. A caller that already has the envelope's
 * hash from cdx_envelope_peek_hash of these very bytes may set hash and
 * hash_known, and the verification does not hash the body again (the
 * signature is checked all the same); a wrong hash there would be taken as
 * the envelope's. */
typedef struct cdx_verify_job {
    const uint8_t *bytes;
    size_t len;
    cdx_verify_opts opts;
    bool hash_known;
    uint8_t hash[CDX_HASH_BYTES];
    cdx_envelope *env;
    cdx_err rc;
    cdx_errbuf eb;
} cdx_verify_job;

typedef struct cdx_verify_batch {
    const cdx_roster *roster; /* read by every thread: not changed meanwhile */
    cdx_verify_job *jobs;
    size_t n;
    unsigned threads; /* this one included; 0 or 1: here, in order */
    /* For the calling thread's share (may be NULL); the other threads each
     * use a cache of their own for the call. */
    cdx_batch_cache *cache;
} cdx_verify_batch;

/* cdx_envelope_verify for each job, spread over up to `threads` threads
 * (started and joined within the call; small batches stay on this one).
 * Each job's env is the caller's to destroy. */
void cdx_envelope_verify_many(const cdx_verify_batch *v);

/* The envelope hash the bytes would have once verified (what the log
 * deduplicates by), found without verifying or decoding the body: to drop
 * a copy of an envelope already held before paying for a verification.
 * CDX_ERR_FORMAT if the bytes are not an envelope. Trust nothing else of
 * them: an envelope with this hash is held, but these bytes may carry a
 * broken signature (a copy with its body unchanged changes nothing). */
cdx_err cdx_envelope_peek_hash(const uint8_t *bytes, size_t len, uint8_t out[CDX_HASH_BYTES]);

/* Decodes without trusting anything (for `cydex inspect` and forensics):
 * checks only the encodings. cdx_envelope_verified() is false. */
cdx_err cdx_envelope_inspect(cdx_envelope **out, const uint8_t *bytes, size_t len, cdx_errbuf *eb);

void cdx_envelope_destroy(cdx_envelope **env);

bool cdx_envelope_verified(const cdx_envelope *env);
const char *cdx_envelope_signer(const cdx_envelope *env);
const cdx_body *cdx_envelope_body(const cdx_envelope *env);
const uint8_t *cdx_envelope_hash(const cdx_envelope *env);
/* The signature; for a batch-signed envelope, a 64-byte digest of its
 * batch signature and path (what a log leaf commits to instead). */
const uint8_t *cdx_envelope_signature(const cdx_envelope *env);

/* Whether the envelope is batch-signed, and if so (out may be NULL) the
 * batch's root, root signature, size and this envelope's place in it. */
typedef struct cdx_batch_info {
    uint8_t root[CDX_HASH_BYTES];
    uint8_t root_signature[CDX_SIG_BYTES];
    uint64_t size, index;
} cdx_batch_info;
bool cdx_envelope_batch(const cdx_envelope *env, cdx_batch_info *out);
/* The envelope bytes exactly as given. */
const uint8_t *cdx_envelope_bytes(const cdx_envelope *env, size_t *len);

/* Opens a sealed alert addressed to `me` into *out (caller clears).
 * CDX_ERR_INVALID if the envelope carries no sealed payload,
 * CDX_ERR_NOT_RECIPIENT, CDX_ERR_DECRYPT if anything was altered. */
cdx_err cdx_envelope_open(const cdx_envelope *env, const cdx_identity *me, cdx_alert *out,
                          cdx_errbuf *eb);

/* The envelope hash: BLAKE2b-256 of data (an envelope's body bytes). */
void cdx_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
