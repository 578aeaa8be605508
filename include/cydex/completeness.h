/* Provable completeness: whether a log holds every envelope one sender
 * published up to a point, shown from the sender's own signed statements.
 *
 * A sender's envelopes form a hash chain (Body.seq rises by one, and
 * Body.prev_hash is the hash of seq - 1), so every envelope it signed at seq
 * s states that seqs 1..s - 1 exist and names s - 1 by its hash; a
 * heartbeat also states last_seq and last_hash. Only envelopes whose
 * signature verifies against the roster count as statements (a forgery
 * proves nothing, and an entry whose signature fails is not held).
 *
 * From them the check finds: which seqs the log holds; the longest prefix
 * 1..N it holds with the chain unbroken (each seq's prev_hash names the
 * stored seq before it); the highest seq the statements prove exists; and
 * every missing range, each with the first statement that proves it:
 *   gap   seqs missing below a held envelope that carries content;
 *   tail  seqs missing past the sender's last held content, proven only by
 *         its heartbeats (a heartbeat's last_seq, or a heartbeat's own seq
 *         past them): the withheld tail;
 *   fork  a seq the log holds, but another envelope for it than the one
 *         the next statement names (the sender signed two; one is missing).
 *
 * The point the claim is about (the target): by default the highest seq
 * proven; until_seq; or, for until_ms (a time), the last seq published by
 * then, which needs a statement the sender made after that time (an
 * honest sender's seqs rise with its clock: its first envelope after the
 * time, at seq s, shows that everything published by then is 1..s - 1).
 *
 * Verdicts: COMPLETE, every seq 1..target is held with the chain unbroken
 * and target is proven to exist; INCOMPLETE, seqs up to target are missing
 * (listed); NOT_PROVABLE, no signed statement of the sender covers target
 * (complete_to still says how far the log is complete).
 *
 * The result is a plain struct with a text and a JSON form, so that other
 * documents (an evidence bundle) can carry it. Reads the (sender, seq)
 * index only: memory does not grow with the log.
 */
#ifndef CYDEX_COMPLETENESS_H
#define CYDEX_COMPLETENESS_H

#include "cydex/common.h"
#include "cydex/log.h"
#include "cydex/message.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_COMPLETENESS_MAX_MISSING 64u

typedef enum cdx_completeness_verdict {
    CDX_COMPLETE = 1,
    CDX_INCOMPLETE = 2,
    CDX_NOT_PROVABLE = 3
} cdx_completeness_verdict;

/* "complete", "incomplete", "not-provable". */
const char *cdx_completeness_verdict_name(cdx_completeness_verdict v);

/* One signed statement of the sender, held in the log. */
typedef struct cdx_statement {
    bool present;
    uint64_t seq;   /* the statement's own seq */
    uint64_t index; /* its entry in the log */
    uint64_t sent_at_ms;
    cdx_payload_kind kind;
    uint8_t hash[CDX_HASH_BYTES]; /* its envelope hash */
    /* What it states of an earlier seq: names_seq exists, with names_hash
     * (prev_hash: seq - 1; a heartbeat: last_seq and last_hash). */
    uint64_t names_seq;
    bool has_names_hash;
    uint8_t names_hash[CDX_HASH_BYTES];
} cdx_statement;

typedef enum cdx_missing_kind {
    CDX_MISSING_GAP = 1,
    CDX_MISSING_TAIL = 2,
    CDX_MISSING_FORK = 3
} cdx_missing_kind;

/* "gap", "tail", "fork". */
const char *cdx_missing_kind_name(cdx_missing_kind k);

typedef struct cdx_missing {
    uint64_t from, to; /* inclusive */
    cdx_missing_kind kind;
    cdx_statement proof; /* the first statement that proves the range exists */
} cdx_missing;

typedef struct cdx_completeness_opts {
    const char *sender;       /* required */
    const cdx_roster *roster; /* checks the statements' signatures (required) */
    bool has_until_seq;       /* at most one of the two */
    uint64_t until_seq;
    bool has_until_time;
    uint64_t until_ms;
} cdx_completeness_opts;

typedef struct cdx_completeness {
    char sender[CDX_ID_MAX + 1];
    char origin[CDX_ID_MAX + 16]; /* the log's checkpoint origin */
    cdx_completeness_verdict verdict;
    bool has_until_seq, has_until_time;
    uint64_t until_seq, until_ms;
    uint64_t target;       /* the seq the claim is about; 0: none */
    uint64_t complete_to;  /* 1..complete_to held, chain unbroken; 0: none */
    uint64_t proven_to;    /* the highest seq a statement proves exists */
    uint64_t held;         /* the sender's envelopes held and verified */
    uint64_t highest_held; /* 0: none */
    uint64_t unverified;   /* the sender's entries whose signature fails: not counted */
    uint64_t equivocated;  /* seqs for which the log holds two envelopes */
    /* For the target: the first later statement naming it by its hash (or,
     * when nothing later does, the target's own envelope). */
    cdx_statement pin;
    /* until_ms: the sender's first statement made after that time. */
    cdx_statement after;
    /* Every missing range up to proven_to, in seq order: the first
     * CDX_COMPLETENESS_MAX_MISSING listed, all of them counted. */
    size_t n_missing;
    cdx_missing missing[CDX_COMPLETENESS_MAX_MISSING];
    uint64_t missing_ranges; /* all ranges */
    uint64_t missing_seqs;   /* all seqs in them */
    uint64_t missing_ranges_to_target, missing_seqs_to_target;
} cdx_completeness;

/* Runs the check. CDX_OK means it ran and out->verdict holds the answer;
 * CDX_ERR_INVALID for a missing sender or roster; I/O errors otherwise. */
cdx_err cdx_completeness_check(cdx_log *log, const cdx_completeness_opts *opts,
                               cdx_completeness *out, cdx_errbuf *eb);

/* The result as sentences a person reads ("EE 1..41 complete: chain
 * unbroken from seq 1 to 41, and ..."), one claim a line; *out is the
 * caller's to free. */
cdx_err cdx_completeness_text(const cdx_completeness *c, char **out);

/* The result as one line of JSON; *out is the caller's to free. Keys:
 * log, sender, verdict, complete, until, target, complete_to, proven_to,
 * held, highest_held, unverified, equivocated, pin, after, missing (each
 * {from, to, kind, proof}), missing_ranges, missing_seqs, claim. */
cdx_err cdx_completeness_json(const cdx_completeness *c, char **out);

#ifdef __cplusplus
}
#endif
#endif
