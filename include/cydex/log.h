/* The tamper-evident audit log: one LMDB environment per daemon.
 *
 * Sub-databases (DESIGN.md section 5):
 *   log        index (uint64 BE, from 0) -> LogEntry (proto/cydex.proto)
 *   by_hash    envelope hash -> index
 *   by_sender  sender 0x00 seq (uint64 BE) -> index (uint64 BE) || envelope
 *              hash, one value per envelope (two or more = equivocation)
 *   senders    sender -> highest seq, its hash, entry count
 *   tree       last leaf it covers (uint64 BE) || level (1) -> SHA-256 of
 *              that perfect subtree (RFC 9162), stored as soon as it is
 *              complete; in key order, so appended (schema 1 logs: level
 *              || index)
 *   heads      tree size (uint64 BE) -> signed checkpoint (C2SP text)
 *   meta       schema version, origin, counters, the roster in force and
 *              every roster version the owner worked with (the history)
 *   outbox     envelope hash -> topic 0x00 envelope: the owner's own
 *              envelopes not yet receipted by a broker (nodes)
 *   receipts   number (uint64 BE, from 0, in the order kept) -> a broker's
 *              signed receipt, its bytes as received (nodes: the evidence
 *              that a broker took their own envelopes)
 *   receipted  entry index (uint64 BE) || broker id -> receipt number
 *              (uint64 BE) || status (1) || the broker's log index (uint64
 *              BE): which stored receipt answers for one of the owner's
 *              entries, one per broker
 *
 * Appends go in batches: one write transaction and one fsync per batch, and
 * nothing of a batch is visible or durable unless all of it is. The map
 * grows by itself when full, up to map_max. A cdx_log is used by one thread
 * at a time; several processes may read while one writes.
 */
#ifndef CYDEX_LOG_H
#define CYDEX_LOG_H

#include "cydex/common.h"
#include "cydex/envelope.h"
#include "cydex/identity.h"
#include "cydex/receipt.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Schemas: 1, tree nodes keyed level || index; 2, keyed by the last leaf
 * they cover, then level (appends add to the end); 3, as 2, and outbox
 * rows name their entry instead of holding a copy of its envelope. A log
 * is written on in the schema it was made in. */
#define CDX_LOG_SCHEMA 3u           /* what new logs are written in */
#define CDX_LOG_SCHEMA_OLDEST 1u    /* the oldest still read and appended to */
#define CDX_LOG_FLAG_GAP 1u         /* seq - 1 was missing on arrival */
#define CDX_LOG_FLAG_CHAIN_BREAK 2u /* prev_hash differed from stored seq - 1 */

typedef struct cdx_log cdx_log;

typedef struct cdx_log_opts {
    const char *owner;  /* member id of a new log's owner (signs its checkpoints) */
    const char *origin; /* checkpoint origin for a new log; default "cydex/<owner>" */
    size_t map_initial; /* bytes; 0 = 64 MiB */
    size_t map_max;     /* bytes the map may grow to; 0 = 64 GiB */
    bool read_only;     /* for auditors; works on a read-only copy too */
    bool exclusive;     /* the only process to write it: hold DIR/writer.lock */
} cdx_log_opts;

/* Opens (creating it unless read_only) the log in folder `dir`. Clears
 * stale reader slots. CDX_ERR_NOENT if read_only and there is no log;
 * CDX_ERR_VERSION for another schema; CDX_ERR_FORMAT if not a CyDEx log.
 * With exclusive, the handle holds DIR/writer.lock (an flock, with the
 * process's pid in it, gone with the process however it ends) for its
 * life; CDX_ERR_BUSY, naming the holder's pid, if another process holds
 * it. Readers never take it. */
cdx_err cdx_log_new(cdx_log **out, const char *dir, const cdx_log_opts *opts, cdx_errbuf *eb);
void cdx_log_destroy(cdx_log **log);

/* The checkpoint origin and the owner's member id stored in the log.
 * Borrowed from the log. */
const char *cdx_log_origin(const cdx_log *log);
const char *cdx_log_owner(const cdx_log *log);

typedef enum cdx_log_outcome {
    CDX_LOG_UNSPECIFIED = 0,
    CDX_LOG_ACCEPTED = 1,
    CDX_LOG_EQUIVOCATION = 2
} cdx_log_outcome;

const char *cdx_log_outcome_name(cdx_log_outcome o);

/* One stored entry, copied out of the log (owned by the caller). */
typedef struct cdx_log_entry {
    uint64_t index;
    cdx_bytes envelope;
    uint64_t received_at_ms;
    char received_from[CDX_ID_MAX + 1];
    cdx_log_outcome outcome;
    uint32_t flags;
    /* Filled by cdx_log_scan: the leaf hash the tree holds for this index
     * (what the entry hashed to when it was appended). */
    bool has_tree_leaf;
    uint8_t tree_leaf[CDX_HASH_BYTES];
    /* Filled by cdx_log_scan_sender: the seq it was found under. */
    uint64_t sender_seq;
} cdx_log_entry;

void cdx_log_entry_clear(cdx_log_entry *e);

/* The entry's leaf hash in the log's Merkle tree (see LogEntry). */
void cdx_log_entry_leaf_hash(const cdx_log_entry *e, uint8_t out[CDX_HASH_BYTES]);

/* Serializes an entry as the log stores it (LogEntry); out is the
 * caller's to free. */
cdx_err cdx_log_entry_encode(const cdx_log_entry *e, cdx_bytes *out);

/* Decodes a stored entry value (strict; for tools that read LMDB
 * themselves, and for the fuzzer). */
cdx_err cdx_log_entry_decode(cdx_log_entry *out, const uint8_t *data, size_t len, cdx_errbuf *eb);

typedef struct cdx_log_append_in {
    const cdx_envelope *env; /* verified by the caller */
    uint64_t received_at_ms;
    const char *received_from; /* member id, or "local" */
    bool outbox;               /* also keep it in the outbox until receipted */
} cdx_log_append_in;

typedef enum cdx_append_status {
    CDX_APPEND_STORED = 1,  /* new: stored at index */
    CDX_APPEND_DUPLICATE,   /* already stored at index; nothing written */
    CDX_APPEND_EQUIVOCATION /* stored at index as evidence */
} cdx_append_status;

typedef struct cdx_log_append_out {
    cdx_append_status status;
    uint64_t index;
    uint32_t flags; /* CDX_LOG_FLAG_* */
} cdx_log_append_out;

/* Appends n verified envelopes in one transaction: after CDX_OK all of
 * them are durable; after an error none is. Duplicates (by envelope hash,
 * within the batch too) are refused and counted, never stored twice. */
cdx_err cdx_log_append(cdx_log *log, const cdx_log_append_in *in, size_t n, cdx_log_append_out *out,
                       cdx_errbuf *eb);

/* The outbox: the owner's envelopes waiting for a broker's receipt. fn
 * gets each envelope's bytes in e->envelope and its entry's index in
 * e->index (UINT64_MAX where a schema 2 row does not say; other fields
 * zero) and may take the bytes; `topic` is the bus topic to send it on. With fn NULL, only
 * *count, read without writing anything (those whose receipts came and
 * whose rows wait for deletion are not counted). A row whose key is not an
 * envelope hash (a damaged file) is handed over all the same, and the scan
 * then returns CDX_ERR_CORRUPT. */
typedef cdx_err (*cdx_log_outbox_fn)(void *ctx, const char *topic, cdx_log_entry *e);
cdx_err cdx_log_outbox_scan(cdx_log *log, cdx_log_outbox_fn fn, void *ctx, size_t *count);
/* The index of the oldest entry still waiting for a receipt (the lowest),
 * read without writing: CDX_ERR_NOENT if none waits, or if only rows of a
 * schema 2 log (which do not name their entry) do. *waiting (may be NULL):
 * how many wait, as cdx_log_outbox_scan counts them with fn NULL.
 * CDX_ERR_CORRUPT (*index and *waiting still filled) if a row's key is not
 * an envelope hash. */
cdx_err cdx_log_outbox_oldest(cdx_log *log, uint64_t *index, size_t *waiting);
/* Receipts arrived for n of them (hashes holds n envelope hashes one after
 * the other): their rows are deleted with the next write transaction (an
 * append, or cdx_log_outbox_flush), sparing a commit of their own. A
 * crash before then loses only the deletion: the envelopes are resent
 * and the broker answers "duplicate". cdx_log_outbox_scan and
 * cdx_log_destroy flush first. */
cdx_err cdx_log_outbox_forget(cdx_log *log, const uint8_t *hashes, size_t n);
/* Deletes what cdx_log_outbox_forget queued now, in one transaction;
 * *removed (may be NULL) says how many rows were there. */
cdx_err cdx_log_outbox_flush(cdx_log *log, size_t *removed);
/* How many deletions (and receipts to keep, cdx_log_receipt_keep) wait
 * for the next write transaction. */
size_t cdx_log_outbox_pending(const cdx_log *log);
/* forget, then flush. */
cdx_err cdx_log_outbox_remove(cdx_log *log, const uint8_t *hashes, size_t n, size_t *removed);

/* ---- brokers' receipts, kept as evidence (nodes) ----
 *
 * A broker's signed receipt is the proof that it took the owner's
 * envelopes. cdx_log_receipt_keep keeps one, its bytes as received (the
 * caller verified them; `items` are what cdx_receipt_verify_many gave, or
 * those of them the caller wants kept), for each item whose envelope hash
 * names an entry of this log and for which no receipt of that broker is
 * kept yet (the first one stands: a resend's DUPLICATE does not replace
 * the ACCEPTED). A receipt that answers for none of them is not stored.
 * Like cdx_log_outbox_forget, it is written with the next write
 * transaction (an append, or cdx_log_outbox_flush), which also deletes the
 * outbox rows it clears, so a receipt costs no commit of its own and an
 * envelope leaves the outbox only with its receipt kept; a crash before
 * then loses both, the envelope is resent and the broker receipts it again
 * (DUPLICATE, at the same index). Logs made before receipts were kept have
 * no receipt tables: read, they hold none; opened for writing, the tables
 * are made (same schema). */
cdx_err cdx_log_receipt_keep(cdx_log *log, const uint8_t *bytes, size_t len,
                             const cdx_receipt *items, size_t n);

/* What a stored receipt says of one envelope, and the receipt itself. */
typedef struct cdx_log_receipt {
    cdx_receipt item;                     /* broker, status, broker's log index, time, reason */
    uint64_t number;                      /* where it is stored (receipts) */
    uint8_t receipt_hash[CDX_HASH_BYTES]; /* BLAKE2b-256 of its bytes: a name to show */
    cdx_bytes receipt;                    /* its bytes as received; empty if missing */
} cdx_log_receipt;

void cdx_log_receipts_free(cdx_log_receipt *r, size_t n);

/* The receipts kept for the entry holding the envelope with this hash,
 * one per broker, by broker id; *out (may be NULL when *n is 0) is the
 * caller's to free with cdx_log_receipts_free. Read from the stored bytes
 * without verifying them (cdx_receipt_verify_many does); where a stored
 * receipt is missing or says nothing of the envelope, item holds what the
 * index row says (committed_at_ms 0). None (CDX_OK) for a hash the log
 * does not hold. */
cdx_err cdx_log_receipts_of(cdx_log *log, const uint8_t envelope_hash[CDX_HASH_BYTES],
                            cdx_log_receipt **out, size_t *n, cdx_errbuf *eb);

/* Every stored receipt, in the order kept: fn gets its number and its
 * bytes, valid during the call only. Stops at fn's first non-OK return. */
typedef cdx_err (*cdx_log_receipt_fn)(void *ctx, uint64_t number, const uint8_t *bytes, size_t len);
cdx_err cdx_log_receipts_scan(cdx_log *log, cdx_log_receipt_fn fn, void *ctx, cdx_errbuf *eb);

/* Every index row (receipted), by entry index then broker. */
typedef struct cdx_log_receipt_row {
    uint64_t entry; /* the index of the owner's entry it answers for */
    char broker[CDX_ID_MAX + 1];
    uint64_t number; /* of the stored receipt */
    cdx_receipt_status status;
    uint64_t log_index; /* in the broker's log */
} cdx_log_receipt_row;
typedef cdx_err (*cdx_log_receipt_row_fn)(void *ctx, const cdx_log_receipt_row *row);
/* A row that is not of that form gives CDX_ERR_CORRUPT (eb says so). */
cdx_err cdx_log_receipt_rows_scan(cdx_log *log, cdx_log_receipt_row_fn fn, void *ctx,
                                  cdx_errbuf *eb);

/* Number of entries. */
cdx_err cdx_log_size(cdx_log *log, uint64_t *size);

/* One entry; CDX_ERR_NOENT past the end. */
cdx_err cdx_log_get(cdx_log *log, uint64_t index, cdx_log_entry *out, cdx_errbuf *eb);

/* Calls fn for entries [from, to) in order (to = UINT64_MAX: to the end),
 * each copied out of LMDB and valid during the call only; fn may take the
 * entry's envelope buffer for itself (leaving e->envelope zeroed). Stops at
 * the first non-OK return of fn and returns it. A hole in the indexes or an
 * entry that does not decode gives CDX_ERR_CORRUPT naming the index. */
typedef cdx_err (*cdx_log_visit_fn)(void *ctx, cdx_log_entry *e);
cdx_err cdx_log_scan(cdx_log *log, uint64_t from, uint64_t to, cdx_log_visit_fn fn, void *ctx,
                     cdx_errbuf *eb);

/* Calls fn for the stored envelopes of one sender with seq in [from, to]
 * (to 0: to the last), in seq order (two for a seq if it equivocated). */
cdx_err cdx_log_scan_sender(cdx_log *log, const char *sender, uint64_t from, uint64_t to,
                            cdx_log_visit_fn fn, void *ctx, cdx_errbuf *eb);

typedef struct cdx_log_range {
    uint64_t from, to; /* inclusive */
} cdx_log_range;

/* The seqs of `sender` in [from, to] the log does not hold, as up to cap
 * ranges in order (*n of them). Reads the (sender, seq) index only. */
cdx_err cdx_log_sender_gaps(cdx_log *log, const char *sender, uint64_t from, uint64_t to,
                            cdx_log_range *out, size_t cap, size_t *n);

cdx_err cdx_log_find_hash(cdx_log *log, const uint8_t hash[CDX_HASH_BYTES], uint64_t *index);
/* Whether the log holds an envelope with each of n hashes (as
 * cdx_envelope_peek_hash finds them), held[i] for each, in one read
 * transaction; where known (may be NULL: all) says a hash is not known,
 * held[i] is false. For dropping copies of held envelopes before paying to
 * verify them. */
cdx_err cdx_log_held(cdx_log *log, const uint8_t (*hashes)[CDX_HASH_BYTES], const bool *known,
                     size_t n, bool *held);
/* n copies of held envelopes were dropped before cdx_log_append saw them:
 * the next append's transaction counts them with the duplicates. */
void cdx_log_note_duplicates(cdx_log *log, uint64_t n);
/* The first stored envelope of (sender, seq); CDX_ERR_NOENT if none. */
cdx_err cdx_log_find_seq(cdx_log *log, const char *sender, uint64_t seq, uint64_t *index);

typedef struct cdx_log_sender {
    char id[CDX_ID_MAX + 1];
    uint64_t max_seq;
    uint8_t max_hash[CDX_HASH_BYTES];
    uint64_t count;
} cdx_log_sender;

/* One sender; CDX_ERR_NOENT (and *out zeroed) if the log holds none of it. */
cdx_err cdx_log_sender_get(cdx_log *log, const char *id, cdx_log_sender *out);

/* All senders, by id; *out is the caller's to free(). */
cdx_err cdx_log_senders(cdx_log *log, cdx_log_sender **out, size_t *n);

#define CDX_LOG_MAX_REASONS 32u

typedef struct cdx_log_counters {
    uint64_t duplicates;    /* appends refused as duplicates */
    uint64_t equivocations; /* entries stored as equivocation evidence */
    size_t n_rejected;      /* envelopes the owner refused, by reason */
    struct {
        char reason[32];
        uint64_t count;
    } rejected[CDX_LOG_MAX_REASONS];
} cdx_log_counters;

cdx_err cdx_log_counters_get(cdx_log *log, cdx_log_counters *out);

/* Counts `n` envelopes refused for `reason` (a cdx_errname(), e.g.
 * "bad-signature"), durably. Refused envelopes are not logged as entries:
 * a flood of forgeries must not fill the log. */
cdx_err cdx_log_count_rejected(cdx_log *log, const char *reason, uint64_t n, cdx_errbuf *eb);

/* ---- its commits' durations ---- */

/* How long the log's write transactions took to commit, since it was
 * opened: the pages written and flushed to the device, which on a daemon's
 * path is most of an envelope's latency. Cumulative buckets, as Prometheus
 * histograms have them: le[i] counts the commits that took at most
 * cdx_log_commit_bucket_us[i]. */
#define CDX_LOG_COMMIT_BUCKETS 13
extern const uint32_t cdx_log_commit_bucket_us[CDX_LOG_COMMIT_BUCKETS];

typedef struct cdx_log_commit_stats {
    uint64_t count;  /* commits that succeeded */
    uint64_t sum_us; /* their time in all */
    uint64_t max_us;
    uint64_t le[CDX_LOG_COMMIT_BUCKETS];
} cdx_log_commit_stats;

void cdx_log_commit_stats_get(const cdx_log *log, cdx_log_commit_stats *out);

/* The commits of `now` not in `before` (an earlier reading of the same
 * log; all zero for "since the log was opened"); max_us stays now's. */
void cdx_log_commit_stats_since(const cdx_log_commit_stats *now, const cdx_log_commit_stats *before,
                                cdx_log_commit_stats *out);

/* The q-quantile (0..1) of those durations in microseconds, interpolated
 * inside its bucket as Prometheus's histogram_quantile() does, and never
 * above max_us (the slowest commit seen); a quantile past the last bucket
 * is max_us. 0 when there were no commits. */
double cdx_log_commit_quantile_us(const cdx_log_commit_stats *s, double q);

/* ---- the tree ---- */

cdx_err cdx_log_root(cdx_log *log, uint64_t size, uint8_t root[CDX_HASH_BYTES]);
/* path holds CDX_MERKLE_MAX_PROOF hashes. */
cdx_err cdx_log_inclusion(cdx_log *log, uint64_t index, uint64_t size,
                          uint8_t (*path)[CDX_HASH_BYTES], size_t *n);
cdx_err cdx_log_consistency(cdx_log *log, uint64_t old_size, uint64_t new_size,
                            uint8_t (*proof)[CDX_HASH_BYTES], size_t *n);
/* A stored subtree hash; CDX_ERR_NOENT if not (yet) stored. */
cdx_err cdx_log_tree_node(cdx_log *log, unsigned level, uint64_t index,
                          uint8_t out[CDX_HASH_BYTES]);

/* ---- checkpoints and the roster ---- */

/* Signs a checkpoint of the whole log as it is now with the owner's key
 * (CDX_ERR_INVALID if `owner` is not the log's owner), stores it, and
 * returns its text (caller frees) if text is not NULL. */
cdx_err cdx_log_checkpoint(cdx_log *log, const cdx_identity *owner, uint64_t now_ms, char **text,
                           cdx_errbuf *eb);

/* Every stored checkpoint text, by tree size; free each and the array. */
cdx_err cdx_log_checkpoints(cdx_log *log, char ***texts, size_t *n);

/* Stores / reads the roster the owner is working with (serialized
 * SignedRoster). The auditor may use it, but trusts only a roster it is
 * given. */
cdx_err cdx_log_set_roster(cdx_log *log, const uint8_t *data, size_t len, cdx_errbuf *eb);
cdx_err cdx_log_get_roster(cdx_log *log, cdx_bytes *out);

/* The roster history: cdx_log_set_roster, and the roster also kept under
 * its version with the log's size when it was first stored (the index of
 * the first entry logged under it), in the same transaction, so that an
 * audit years later checks each entry against the roster in force when it
 * was logged (cydex/audit.h). A version kept before is not kept again. */
cdx_err cdx_log_keep_roster(cdx_log *log, uint64_t version, const uint8_t *data, size_t len,
                            cdx_errbuf *eb);

typedef struct cdx_log_roster {
    uint64_t version;
    uint64_t from_index; /* in force for entries from this index on */
    cdx_bytes roster;    /* serialized SignedRoster, as stored (not verified) */
} cdx_log_roster;

/* Every roster kept, by version; free with cdx_log_rosters_free. */
cdx_err cdx_log_rosters(cdx_log *log, cdx_log_roster **out, size_t *n);
void cdx_log_rosters_free(cdx_log_roster *r, size_t n);

#ifdef __cplusplus
}
#endif
#endif
