/* Auditing a log: what `cydex-audit verify` does, as a library call.
 *
 * The audit trusts nothing stored in the log but the entries themselves and
 * the owner's signatures. It re-verifies every envelope against the roster
 * in force at its place in the log (starting from the roster it is given;
 * the log's roster history and the roster updates among its entries take
 * over from their place on, each only if it is a valid successor of the
 * roster in force there), each signature against the signer's card valid
 * at the envelope's sent_at (key rotation), rebuilds
 * the Merkle tree from the entries, compares every leaf with the stored
 * tree and every signed checkpoint (stored, or given from outside) with the
 * rebuilt root, and checks each sender's seq continuity and hash chain.
 *
 * Three verdicts come of it. PASS: the log is intact and shows nothing
 * amiss. EVIDENCE: the log is intact (report->pass is true), and it holds
 * proof that a member misbehaved: it signed two different envelopes for
 * one (sender, seq), both stored (the second marked LOG_EQUIVOCATION), or
 * it signed a seq whose prev_hash names another envelope for the seq before
 * than the one stored (so it signed two of those). What a member signed
 * cannot be the log holder's doing, so this says nothing against the log.
 * FAIL: the log is not what its owner wrote (an entry changed, removed,
 * reordered, repeated or mislabelled, a signature that does not verify, a
 * checkpoint that does not hold).
 * Then the brokers' receipts the log keeps (a node's, see cydex/log.h):
 * each broker's signature against the roster in force at the log's end,
 * each item naming an entry of the log, and the receipt index agreeing
 * with the receipts (status, and the broker's log index); a failure there
 * names the receipt (has_bad stays false: no entry is bad).
 */
#ifndef CYDEX_AUDIT_H
#define CYDEX_AUDIT_H

#include "cydex/common.h"
#include "cydex/log.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_AUDIT_MAX_GAPS 32u
#define CDX_AUDIT_MAX_EVIDENCE 32u

typedef struct cdx_audit_gap {
    char sender[CDX_ID_MAX + 1];
    uint64_t from, to; /* missing seqs, inclusive */
} cdx_audit_gap;

/* What an intact log proves a member did. */
typedef enum cdx_audit_evidence_kind {
    /* Two different envelopes for (sender, seq), both in the log: entries
     * `first` and `second`. */
    CDX_AUDIT_EQUIVOCATION = 1,
    /* Entry `second` (the sender's seq + 1) names as its previous envelope
     * another seq than entry `first`, the seq stored: the sender signed two
     * different envelopes for `seq`, one of them not in this log. */
    CDX_AUDIT_FORK = 2
} cdx_audit_evidence_kind;

typedef struct cdx_audit_evidence {
    cdx_audit_evidence_kind kind;
    char sender[CDX_ID_MAX + 1];
    uint64_t seq; /* the seq the sender signed twice */
    uint64_t first, second;
} cdx_audit_evidence;

typedef struct cdx_audit_report {
    bool pass;
    uint64_t entries;  /* in the log */
    uint64_t verified; /* entries [0, verified) passed every check */
    bool has_bad;      /* when !pass: first_bad names an entry */
    uint64_t first_bad;
    char reason[400]; /* when !pass: what failed */
    uint64_t roster_version;
    uint64_t checkpoints;     /* signed checkpoints checked */
    uint64_t last_checkpoint; /* size of the largest one */
    uint64_t senders;
    uint64_t equivocations;                /* (sender, seq) pairs with two envelopes */
    uint64_t gaps;                         /* missing seq ranges, all senders */
    uint64_t receipts;                     /* brokers' receipts stored in the log, checked */
    cdx_audit_gap gap[CDX_AUDIT_MAX_GAPS]; /* the first of them */
    /* When pass: proof of a member's misbehaviour (the EVIDENCE verdict),
     * in (sender, seq) order; the count may exceed what is listed. */
    uint64_t evidence_count;
    cdx_audit_evidence evidence[CDX_AUDIT_MAX_EVIDENCE];
} cdx_audit_report;

typedef struct cdx_audit_opts {
    const cdx_roster *roster;     /* the roster the auditor trusts (required) */
    const char *extra_checkpoint; /* a checkpoint text obtained elsewhere, or NULL */
    unsigned threads;             /* signature checks in parallel; 0 = one per CPU */
    void (*progress)(void *ctx, uint64_t done, uint64_t total); /* may be NULL */
    void *progress_ctx;
} cdx_audit_opts;

/* Whether `roster` can judge `log` at all. CDX_ERR_FORMAT, saying why, when
 * it is plainly another federation's: the roster the log stores names
 * another federation, or shares no member's signing key with it; the log
 * has signed checkpoints and its owner is not in the roster; or not one of
 * the log's first entries (up to 256) has a signature the roster verifies.
 * Judged against such a roster, every entry would read as forged, which
 * says nothing about the log. CDX_OK otherwise; other codes for I/O. */
cdx_err cdx_audit_roster_fits(cdx_log *log, const cdx_roster *roster, cdx_errbuf *eb);

/* Runs the audit. CDX_OK means it ran: the verdict is report->pass (the
 * log is intact) and report->evidence_count (what it proves of members).
 * CDX_ERR_FORMAT when the roster does not fit the log
 * (cdx_audit_roster_fits); another error means it could not run (I/O,
 * memory). */
cdx_err cdx_audit_verify(cdx_log *log, const cdx_audit_opts *opts, cdx_audit_report *report,
                         cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
