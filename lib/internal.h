/* Internals shared across libcydex's files (prefix cdx__). Nothing here is
 * part of the public API; binaries must not include it. */
#ifndef CYDEX_LIB_INTERNAL_H
#define CYDEX_LIB_INTERNAL_H

#include "cydex/common.h"
#include "cydex/envelope.h"
#include "cydex/identity.h"
#include "cydex/log.h"
#include "cydex/message.h"

#if defined(__GNUC__)
#define CDX__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CDX__PRINTF(a, b)
#endif

/* ---- small helpers (common.c) ---- */

/* strdup that maps NULL to NULL. */
char *cdx__strdup(const char *s);
/* True for NULL or "". */
bool cdx__empty(const char *s);
/* Strict UTF-8 (RFC 3629: no overlongs, surrogates, or code points past
 * U+10FFFF). proto3 strings must be UTF-8, and JSON, terminals and logs
 * downstream rely on it. NULL counts as valid (absent). */
bool cdx__utf8_valid(const char *s);
/* Bounded copy into a fixed buffer; false (and dst = "") if it does not fit. */
bool cdx__copy_id(char dst[CDX_ID_MAX + 1], const char *src);

/* The header part of cdx_body_check (ids, topic, seq, prev_hash, and that
 * the topic fits the payload's kind). */
cdx_err cdx__body_check_header(const cdx_body *b, cdx_errbuf *eb);

/* The TLP rule of cdx_body_check for a payload of this kind with this
 * label (and, sealed, this many recipients); `id` (may be NULL) names the
 * alert in the message. */
cdx_err cdx__tlp_check(cdx_payload_kind kind, cdx_tlp tlp, size_t n_recipients, const char *id,
                       cdx_errbuf *eb);

/* ---- crypto primitives (digest.c; the only other sodium.h users are
 * identity.c and seal.c) ---- */

cdx_err cdx__sodium_ready(void);
void cdx__random(uint8_t *out, size_t len);
void cdx__wipe(void *p, size_t len);
/* A random (version 4) UUID, 36 characters and NUL. */
void cdx__uuid_v4(char out[CDX_UUID_TEXT]);
/* uint64 as 8 bytes big-endian, and back. */
static inline void cdx__put_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static inline uint64_t cdx__get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* Constant-time comparison; true when equal. */
bool cdx__equal(const uint8_t *a, const uint8_t *b, size_t len);

/* SHA-256 over the concatenation of up to three parts (NULL parts are
 * skipped): the tree hash of RFC 9162. */
void cdx__sha256(uint8_t out[32], const void *a, size_t al, const void *b, size_t bl, const void *c,
                 size_t cl);

/* BLAKE2b-512 of "CyDEx-v1 " purpose 0x00 || data. */
void cdx__digest64(uint8_t out[64], const char *purpose, const uint8_t *data, size_t len);

/* Standard base64 with padding. encode: returns a malloc'd string or NULL.
 * decode: CDX_ERR_FORMAT on bad input; out is the caller's to free. */
char *cdx__base64_encode(const uint8_t *in, size_t len);
cdx_err cdx__base64_decode(cdx_bytes *out, const char *text);

/* Domain separation: "CyDEx-v1 " purpose 0x00. Returns its length (at most
 * CDX__PREFIX_MAX) or 0 if purpose is too long. */
#define CDX__PREFIX_MAX 40u
size_t cdx__domain_prefix(uint8_t out[CDX__PREFIX_MAX], const char *purpose);

/* Ed25519 over exactly these bytes (identity.c): for the envelope path,
 * whose buffer already starts with its domain prefix, and for C2SP signed
 * notes, whose formats carry their own separation. */
cdx_err cdx__sign_raw(const cdx_identity *ident, const uint8_t *msg, size_t len,
                      uint8_t sig[CDX_SIG_BYTES]);
cdx_err cdx__verify_raw(const uint8_t pk[CDX_PK_BYTES], const uint8_t *msg, size_t len,
                        const uint8_t sig[CDX_SIG_BYTES]);

/* The sealing key pair, for seal.c only. Borrowed from the identity. */
const uint8_t *cdx__identity_seal_secret(const cdx_identity *ident);
const uint8_t *cdx__identity_seal_public(const cdx_identity *ident);
/* The identity a rotation replaced (cdx_identity_keep_previous), or NULL. */
const cdx_identity *cdx__identity_previous(const cdx_identity *ident);

/* ---- files (fileio.c) ---- */

/* Reads a whole file of at most max bytes. */
cdx_err cdx__read_file(const char *path, size_t max, cdx_bytes *out, cdx_errbuf *eb);

/* Writes a file atomically and durably: a temporary file in the same
 * folder, fsync, then rename (or link, when `exclusive`: never replaces an
 * existing file, CDX_ERR_EXISTS). `mode` is applied to the new file. */
cdx_err cdx__write_file(const char *path, const void *data, size_t len, unsigned mode,
                        bool exclusive, cdx_errbuf *eb);

/* ---- Z85 (transport.c, the zmq.h door) ---- */

/* 32 bytes to 40 characters and NUL. */
void cdx__z85_encode_key(char out[41], const uint8_t key[CDX_PK_BYTES]);
cdx_err cdx__z85_decode_key(uint8_t key[CDX_PK_BYTES], const char *text);

/* ---- codec (codec.c, the protobuf-c door) ---- */

/* A minimally encoded varint (at most 64 bits), and a length-delimited
 * value after its tag: false when malformed or cut short. */
bool cdx__pb_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v);
bool cdx__pb_bytes(const uint8_t *p, size_t len, size_t *at, const uint8_t **val, size_t *n);

/* The signed messages held to the one canonical encoding
 * (codec_canonical.c; proto/cydex.proto, CANONICAL ENCODING). */
typedef enum cdx__pb_kind {
    CDX__PB_BODY,
    CDX__PB_ALERT, /* a sealed alert's plaintext */
    CDX__PB_SEALED,
    CDX__PB_ROSTER,
    CDX__PB_SIGNED_ROSTER,
    CDX__PB_RECEIPT_STATEMENT,
} cdx__pb_kind;

/* One top-level field as it lies in the bytes: a varint's value, or where
 * a length-delimited (or fixed-size) value lies. */
typedef struct cdx__pb_value {
    uint64_t v;
    const uint8_t *data;
    size_t len;
} cdx__pb_value;

/* The outermost message's singular fields by number, as the check found
 * them (for the body's header, read without a second decoder). */
#define CDX__PB_TOP_MAX 32u
typedef struct cdx__pb_top {
    bool present[CDX__PB_TOP_MAX];
    size_t count[CDX__PB_TOP_MAX]; /* occurrences, repeated fields' elements included */
    cdx__pb_value field[CDX__PB_TOP_MAX];
    uint32_t oneof; /* the field number of the oneof member present, 0 if none */
} cdx__pb_top;

/* CDX_OK when data is the canonical encoding of a `kind` message; else
 * CDX_ERR_NONCANONICAL with the field and the rule it breaks in eb. top
 * (may be NULL) receives the outermost fields, pointing into data. The
 * only judge of canonical form: signing, acceptance and the audit all
 * call it. No allocation; thread-safe. */
cdx_err cdx__canonical_check(cdx__pb_kind kind, const uint8_t *data, size_t len, cdx__pb_top *top,
                             cdx_errbuf *eb);

/* Serializes a body into out, leaving `headroom` bytes free at the front
 * (for the signing prefix). out->len includes the headroom. */
cdx_err cdx__body_encode(const cdx_body *b, size_t headroom, cdx_bytes *out);
/* Decodes a body: the canonical check (cdx__canonical_check), unless
 * `checked` holds that check's result for these very bytes, then either
 * the header alone (sender, seq, sent_at, prev_hash, topic, the payload's
 * kind, and a roster payload's bytes) read off the check's pass, or the
 * whole body through protobuf-c. */
cdx_err cdx__body_decode(cdx_body *out, const uint8_t *data, size_t len, const cdx__pb_top *checked,
                         bool header_only, cdx_errbuf *eb);

/* An alert's or sealed alert's TLP label (UNSPECIFIED if it has none or an
 * unknown one) and, sealed, its recipients' count, read off a body that
 * passed the canonical check (top: that check's result) without decoding
 * it: for the audit's header-only path. CDX_ERR_INVALID for other payloads. */
cdx_err cdx__body_label(const cdx__pb_top *top, cdx_tlp *tlp, size_t *n_recipients);

cdx_err cdx__alert_encode(const cdx_alert *a, cdx_bytes *out);
cdx_err cdx__alert_decode(cdx_alert *out, const uint8_t *data, size_t len, cdx_errbuf *eb);

/* An envelope's batch signature (proto BatchAuth), decoded. */
#define CDX__BATCH_PATH_MAX 64u
typedef struct cdx__batch_auth {
    uint8_t root[CDX_HASH_BYTES];
    uint8_t root_signature[CDX_SIG_BYTES];
    uint64_t size, index;
    size_t n_path;
    uint8_t path[CDX__BATCH_PATH_MAX][CDX_HASH_BYTES];
} cdx__batch_auth;

/* The outer envelope, decoded. body.data holds `headroom` free bytes and
 * then the body; body.len counts only the body. A batch-signed envelope
 * has has_batch and batch; its `signature` is then the 64-byte digest of
 * its BatchAuth bytes (cdx__digest64, purpose "batch-auth"), what a log
 * leaf commits to in place of a signature. */
typedef struct cdx__outer {
    uint32_t version;
    char signer[CDX_ID_MAX + 1];
    uint8_t *buf; /* owned: headroom + body */
    size_t body_len;
    bool has_signature; /* signed alone or by a batch (has_batch says which) */
    bool has_batch;
    uint8_t signature[CDX_SIG_BYTES];
    cdx__batch_auth batch;
} cdx__outer;

/* The audit of a log's stored receipts (audit_receipts.c): *count of them
 * checked; on a failure, *pass false and why names the receipt. An error
 * only if it could not run. */
cdx_err cdx__audit_receipts(cdx_log *log, const cdx_roster *roster, uint64_t *count, bool *pass,
                            char *why, size_t why_len, cdx_errbuf *eb);

/* The envelope's path leads from its hash to the batch root, and the root
 * is signed by pk (or a signature of these very bytes is in the cache). */
cdx_err cdx__batch_check(const cdx__batch_auth *ba, const uint8_t pk[CDX_PK_BYTES],
                         const uint8_t hash[CDX_HASH_BYTES], cdx_batch_cache *cache);
/* What every signature of a body starts from: the body checked
 * (cdx_body_check, and its sender is the signer) and encoded into buf
 * after the "envelope" domain prefix, which the signature covers with it;
 * *body_at says where the body starts. The caller frees buf. */
cdx_err cdx__sign_prepare(const cdx_identity *signer, const cdx_body *body, cdx_bytes *buf,
                          size_t *body_at, cdx_errbuf *eb);
/* What cdx_envelope_sign_own checks before it signs a body sent at
 * sent_at_ms: the roster lists this very key, valid then. */
cdx_err cdx__own_key_check(const cdx_identity *signer, const cdx_roster *roster,
                           uint64_t sent_at_ms, cdx_errbuf *eb);
/* Our own envelope's bytes, decoded and taken as verified (signed just now
 * by a key cdx__own_key_check passed). */
cdx_err cdx__envelope_own(cdx_envelope **out, const uint8_t *bytes, size_t len, cdx_errbuf *eb);

/* ba NULL: signed alone, by sig; otherwise by the batch (sig unused). */
cdx_err cdx__outer_encode(const char *signer, const uint8_t *body, size_t body_len,
                          const uint8_t sig[CDX_SIG_BYTES], const cdx__batch_auth *ba,
                          cdx_bytes *out);
/* Decodes and insists on the canonical encoding. */
cdx_err cdx__outer_decode(cdx__outer *out, const uint8_t *data, size_t len, size_t headroom,
                          cdx_errbuf *eb);
void cdx__outer_clear(cdx__outer *o);
/* Where the body lies in canonically encoded envelope bytes (no copy, no
 * check of the body itself); false if the bytes are not an envelope. */
bool cdx__outer_body(const uint8_t *data, size_t len, const uint8_t **body, size_t *body_len);

/* The leaf hash of an entry whose envelope is known (verified): signer,
 * envelope hash and signature as in LogEntry's leaf layout. */
void cdx__log_leaf_hash(const cdx_log_entry *e, const char *signer,
                        const uint8_t env_hash[CDX_HASH_BYTES], const uint8_t sig[CDX_SIG_BYTES],
                        uint8_t out[CDX_HASH_BYTES]);

/* Receipts: the statement's encoding, and the signed wrapper. */
struct cdx_receipt;
/* fn(ctx, from, to) over [0, n) in up to `threads` slices of at least
 * min_per_thread items, in parallel (lib/parallel.c); returns when all are
 * done. */
typedef void (*cdx__range_fn)(void *ctx, size_t from, size_t to);
void cdx__parallel(size_t n, unsigned threads, size_t min_per_thread, cdx__range_fn fn, void *ctx);
/* Online CPUs, 1..64. */
unsigned cdx__cpus(void);

/* A statement about n >= 1 envelopes (broker and time from r[0]); decode
 * gives a malloc'd array of one cdx_receipt per envelope. */
cdx_err cdx__receipt_statement_encode(const struct cdx_receipt *r, size_t n, cdx_bytes *out);
cdx_err cdx__receipt_statement_decode(struct cdx_receipt **out, size_t *n, const uint8_t *data,
                                      size_t len);
cdx_err cdx__receipt_encode(const cdx_bytes *statement, const uint8_t sig[CDX_SIG_BYTES],
                            cdx_bytes *out);
cdx_err cdx__receipt_decode(cdx_bytes *statement, uint8_t sig[CDX_SIG_BYTES], const uint8_t *data,
                            size_t len);

/* Audit log entries (LogEntry). */
cdx_err cdx__log_entry_encode(const cdx_log_entry *e, cdx_bytes *out);
/* Encoded size, and encoding into a buffer of that size (LMDB's page). */
size_t cdx__log_entry_size(const cdx_log_entry *e);
void cdx__log_entry_pack(const cdx_log_entry *e, uint8_t *dst);
cdx_err cdx__log_entry_decode(cdx_log_entry *out, const uint8_t *data, size_t len, cdx_errbuf *eb);

/* The roster's content and its signatures. */
typedef struct cdx__admin {
    char id[CDX_ID_MAX + 1];
    uint8_t sign_pk[CDX_PK_BYTES];
} cdx__admin;

typedef struct cdx__rsig {
    char admin_id[CDX_ID_MAX + 1];
    uint8_t sig[CDX_SIG_BYTES];
} cdx__rsig;

typedef struct cdx__roster_data {
    char *federation;
    uint64_t version;
    uint64_t issued_at_ms;
    uint32_t threshold;
    cdx_member *members;
    size_t n_members;
    cdx__admin *admins;
    size_t n_admins;
} cdx__roster_data;

void cdx__roster_data_clear(cdx__roster_data *d);
cdx_err cdx__roster_data_encode(const cdx__roster_data *d, cdx_bytes *out);
/* checked: the bytes passed cdx__canonical_check (CDX__PB_ROSTER) already. */
cdx_err cdx__roster_data_decode(cdx__roster_data *out, const uint8_t *data, size_t len,
                                bool checked, cdx_errbuf *eb);
cdx_err cdx__signed_roster_encode(const cdx_bytes *roster, const cdx__rsig *sigs, size_t n,
                                  cdx_bytes *out);
cdx_err cdx__signed_roster_decode(cdx_bytes *roster, cdx__rsig **sigs, size_t *n,
                                  const uint8_t *data, size_t len, cdx_errbuf *eb);

/* A serialized Roster's top-level fields, as the canonical check reads
 * them in place (roster.c): so that limits and the version are known
 * before anything is decoded or allocated. */
typedef struct cdx__roster_peek {
    const uint8_t *federation; /* not NUL-terminated; NULL if absent */
    size_t federation_len;
    uint64_t version;
    size_t n_members, n_admins;
} cdx__roster_peek;

#endif
