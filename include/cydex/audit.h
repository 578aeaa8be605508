/* Auditing a log: what `cydex-audit verify` does, as a library call.
 *
 * The audit trusts nothing stored in the log but the entries themselves and
 * the owner's signatures. It re-verifies every envelope against the roster
 * in force at its place in the log (starting from the roster it is given;
 * valid roster updates found in the log take over from then on), rebuilds
 * the Merkle tree from the entries, compares every leaf with the stored
 * tree and every signed checkpoint (stored, or given from outside) with the
 * rebuilt root, and checks each sender's seq continuity and hash chain.
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

typedef struct cdx_audit_gap {
    char sender[CDX_ID_MAX + 1];
    uint64_t from, to; /* missing seqs, inclusive */
} cdx_audit_gap;

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
} cdx_audit_report;

typedef struct cdx_audit_opts {
    const cdx_roster *roster;     /* the roster the auditor trusts (required) */
    const char *extra_checkpoint; /* a checkpoint text obtained elsewhere, or NULL */
    unsigned threads;             /* signature checks in parallel; 0 = one per CPU */
    void (*progress)(void *ctx, uint64_t done, uint64_t total); /* may be NULL */
    void *progress_ctx;
} cdx_audit_opts;

/* Runs the audit. CDX_OK means it ran: the verdict is report->pass. An
 * error means it could not run (I/O, memory). */
cdx_err cdx_audit_verify(cdx_log *log, const cdx_audit_opts *opts, cdx_audit_report *report,
                         cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
