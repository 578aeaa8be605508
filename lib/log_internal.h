/* What the audit log's files (lib/log*.c) share, and only they: the log's
 * handle, its key layouts and helpers. The log is the one door to LMDB
 * (STYLE.md): only these files include lmdb.h.
 *
 *   log.c         opening, the schema, entries' encoding, counters, roster
 *   log_append.c  appends: one transaction and one fsync per batch
 *   log_outbox.c  the owner's envelopes waiting for a broker's receipt
 *   log_receipts.c brokers' receipts for the owner's envelopes, kept
 *   log_read.c    reading entries and the (sender, seq) index
 *   log_room.c    room written ahead of the last page, for small commits
 *   log_tree.c    the Merkle tree's nodes, roots, proofs and checkpoints
 */
#ifndef CYDEX_LOG_INTERNAL_H
#define CYDEX_LOG_INTERNAL_H

#include <lmdb.h>
#include <string.h>

#include "cydex/checkpoint.h"
#include "cydex/log.h"
#include "cydex/merkle.h"
#include "internal.h"

#define CDX__LOG_SENDER_VAL (8u + CDX_HASH_BYTES) /* index || envelope hash */
#define CDX__LOG_SENDER_REC (8u + CDX_HASH_BYTES + 8u)

struct cdx_log {
    MDB_env *env;
    MDB_dbi log, by_hash, by_sender, senders, tree, heads, meta, outbox;
    MDB_dbi receipts, receipted;
    bool has_receipts; /* those two exist (not in a log made before them, read-only) */
    bool read_only;
    int lock_fd;     /* DIR/writer.lock, held while open (opts.exclusive); -1: none */
    unsigned schema; /* the layout of its tree keys (log_tree.c) */
    size_t map_size, map_max;
    char origin[CDX_ORIGIN_MAX + 1];
    char owner[CDX_ID_MAX + 1];
    /* The tree's right edge as of the last commit, so appends merge nodes
     * without reading them back; frontier.size says which tree it is. */
    bool have_frontier;
    cdx_merkle_frontier frontier;
    /* Outbox rows receipted but not yet deleted: they go with the next
     * write transaction (cdx_log_outbox_forget). */
    uint8_t *forget;
    size_t n_forget, cap_forget;
    /* Receipts to keep (cdx_log_receipt_keep), written with the same
     * transactions as the deletions above. */
    struct cdx__log_keep *keep;
    size_t n_keep, cap_keep;
    /* Copies of held envelopes dropped before an append saw them
     * (cdx_log_note_duplicates): counted by the next append. */
    uint64_t dropped_dups;
    /* Room ahead of the last page (log_room.c): the page size (0: none is
     * made), the file's length as last known (never asked of the file after
     * open: a stat makes the next fdatasync slower), its use and the
     * commits since the last decision. */
    struct {
        size_t page;
        uint64_t end, used_at, commits, off_until_ms;
    } room;
    cdx_log_commit_stats commits; /* cdx__log_commit keeps it */
};

typedef struct cdx__log_sender_rec {
    uint64_t max_seq;
    uint8_t max_hash[CDX_HASH_BYTES];
    uint64_t count;
} cdx__log_sender_rec;

static inline MDB_val cdx__log_val(const void *p, size_t n)
{
    return (MDB_val){.mv_size = n, .mv_data = (void *)p};
}

/* An LMDB return code as a cdx_err, with "log: what: LMDB's words" in eb. */
cdx_err cdx__log_mdb(cdx_errbuf *eb, int rc, const char *what);

/* cdx__log_mdb for a write transaction that failed to commit: says when a
 * full disk or the process's file size limit is why (CDX_ERR_NOSPACE). */
cdx_err cdx__log_commit_failed(cdx_log *log, int rc, const char *what, cdx_errbuf *eb);

/* mdb_txn_commit, timed into log->commits when it succeeds. */
int cdx__log_commit(cdx_log *log, MDB_txn *txn);

/* Room ahead of the log's last page (log_room.c): _opened once a writable
 * log is open, _keep after each commit of appends. */
void cdx__log_room_opened(cdx_log *log);
void cdx__log_room_keep(cdx_log *log);

/* An outbox row of schema 3 names its entry: topic NUL, then 0x00 (which
 * no envelope begins with) and the entry's index (uint64 BE). Older logs
 * hold topic NUL envelope. */
#define CDX__LOG_OUTBOX_REF 9u
void cdx__log_outbox_ref(uint8_t out[CDX__LOG_OUTBOX_REF], uint64_t index);

/* The by_sender key: sender 0x00 seq (uint64 BE); returns its length. */
size_t cdx__log_sender_key(uint8_t out[CDX_ID_MAX + 9], const char *sender, uint64_t seq);

/* A read transaction; handles another process having grown the map. */
cdx_err cdx__log_read_txn(cdx_log *log, MDB_txn **txn, cdx_errbuf *eb);

/* The number of entries as of txn. */
cdx_err cdx__log_size_in(cdx_log *log, MDB_txn *txn, uint64_t *size, cdx_errbuf *eb);

/* Orders records that begin with a hash, by it (for qsort). */
int cdx__log_cmp_hash(const void *x, const void *y);

/* Deletes the receipted outbox rows queued on the log and keeps the queued
 * receipts (cdx__log_keep_in), inside txn (the caller's write
 * transaction); an LMDB return code. Once txn commits, the caller calls
 * cdx__log_forget_done. */
int cdx__log_forget_in(cdx_log *log, MDB_txn *txn, size_t *removed);
void cdx__log_forget_done(cdx_log *log);

/* A receipt queued to be kept: its bytes, the items to index. */
typedef struct cdx__log_keep {
    cdx_bytes bytes;
    cdx_receipt *items;
    size_t n;
} cdx__log_keep;

/* Writes the queued receipts inside txn (log_receipts.c); an LMDB return
 * code. cdx__log_keep_clear empties the queue. */
int cdx__log_keep_in(cdx_log *log, MDB_txn *txn);
void cdx__log_keep_clear(cdx_log *log);

/* A tree node by level and index, in the log's schema's key layout. */
cdx_err cdx__log_node_put(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          const uint8_t hash[CDX_HASH_BYTES], int *mdb_rc);
cdx_err cdx__log_node_get(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          uint8_t out[CDX_HASH_BYTES]);

/* Loads the right edge of the tree of `size` leaves: its perfect
 * subtrees, largest first. */
cdx_err cdx__log_frontier_load(cdx_log *log, MDB_txn *txn, uint64_t size, cdx_merkle_frontier *f);

/* A senders row (highest seq, its hash, entry count); zeros if malformed. */
void cdx__log_sender_decode(cdx__log_sender_rec *r, const MDB_val *d);

/* Adds `by` to the counter `name` in meta, inside txn. */
cdx_err cdx__log_bump(cdx_log *log, MDB_txn *txn, const char *name, uint64_t by, cdx_errbuf *eb);

#endif
