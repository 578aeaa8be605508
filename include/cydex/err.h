/* CyDEx error codes.
 *
 * Every libcydex function that can fail returns a cdx_err: CDX_OK (0) on
 * success, a positive code otherwise. Functions that parse or judge outside
 * input also take an optional cdx_errbuf, which receives a sentence a person
 * can act on ("alert field 'tlp': unknown label \"PURPLE\""); pass NULL when
 * the code alone is enough. cdx_errbuf lives with the caller: no global or
 * thread-local error state exists.
 */
#ifndef CYDEX_ERR_H
#define CYDEX_ERR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cdx_err {
    CDX_OK = 0,
    CDX_ERR_NOMEM,            /* out of memory */
    CDX_ERR_INVALID,          /* a caller passed a bad argument */
    CDX_ERR_IO,               /* a read or write failed */
    CDX_ERR_NOENT,            /* no such file, member or entry */
    CDX_ERR_EXISTS,           /* refusing to overwrite */
    CDX_ERR_KEY_PERMS,        /* a secret key file others can read */
    CDX_ERR_FORMAT,           /* malformed input (file, JSON, protobuf) */
    CDX_ERR_TOO_BIG,          /* over a size limit */
    CDX_ERR_VERSION,          /* unsupported version */
    CDX_ERR_BAD_SIGNATURE,    /* a signature does not verify */
    CDX_ERR_UNKNOWN_SENDER,   /* signer not in the roster */
    CDX_ERR_KEY_REVOKED,      /* signed at or after the key's revocation */
    CDX_ERR_KEY_NOT_VALID,    /* signed outside the key's validity */
    CDX_ERR_SENDER_MISMATCH,  /* body sender differs from the signer */
    CDX_ERR_TOPIC_MISMATCH,   /* topic frame differs from the signed topic */
    CDX_ERR_CLOCK_SKEW,       /* sent_at_ms outside the skew window */
    CDX_ERR_POLICY,           /* a TLP or role rule is broken */
    CDX_ERR_NOT_RECIPIENT,    /* a sealed alert not addressed to this key */
    CDX_ERR_DECRYPT,          /* sealed content fails authentication */
    CDX_ERR_THRESHOLD,        /* fewer admin signatures than required */
    CDX_ERR_DUPLICATE_SIGNER, /* one admin signed twice */
    CDX_ERR_ROLLBACK,         /* roster version not higher than before */
    CDX_ERR_UNSUPPORTED,      /* valid, but not supported by this version */
    CDX_ERR_CRYPTO,           /* the crypto library failed to start */
    CDX_ERR_FULL,             /* the log reached its configured maximum size */
    CDX_ERR_NOSPACE,          /* the disk is full */
    CDX_ERR_CORRUPT,          /* stored data is damaged or was tampered with */
    CDX_ERR_TIMEOUT,          /* nothing arrived in time */
    CDX_ERR_STOPPED,          /* the transport is shutting down */
    CDX_ERR_BUSY,             /* held by another process (a log another daemon writes) */
    CDX_ERR_NONCANONICAL,     /* signed bytes not in the one canonical encoding */
    /* The TLP rule (proto/cydex.proto): an AMBER, AMBER+STRICT or RED alert
     * in the clear; a CLEAR or GREEN alert sealed. */
    CDX_ERR_TLP_NOT_SEALED,
    CDX_ERR_TLP_SEALED_BELOW_AMBER,
    /* A topic that is not the one for the payload it carries (Body.topic). */
    CDX_ERR_WRONG_TOPIC,
    CDX_ERR__COUNT
} cdx_err;

/* Static English text for a code; never NULL. Thread-safe. */
const char *cdx_strerror(cdx_err err);

/* A short, stable identifier for a code, e.g. "bad-signature", used in
 * logs, receipts and JSON. Never NULL. Thread-safe. */
const char *cdx_errname(cdx_err err);

/* Caller-owned detail for one failed call. */
typedef struct cdx_errbuf {
    cdx_err code;
    char msg[320];
} cdx_errbuf;

/* Fills eb (if not NULL) with code and a formatted message, and returns
 * code, so that `return cdx_errf(eb, CDX_ERR_FORMAT, "...", ...);` reports
 * and fails in one line. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
cdx_err
cdx_errf(cdx_errbuf *eb, cdx_err code, const char *fmt, ...);

/* The detail if any, else cdx_strerror(code). Never NULL. */
const char *cdx_errbuf_msg(const cdx_errbuf *eb, cdx_err code);

#ifdef __cplusplus
}
#endif
#endif
