/* Brokers' receipts for the log owner's own envelopes, kept as evidence: a
 * signed receipt is the proof that a broker took an envelope and where in
 * its log it put it, which a state may have to show long after.
 *
 * Shape. A receipt covers what one publisher sent in one poll round (up to
 * hundreds of envelopes under one signature), so it is stored once, in
 * `receipts` under a number that rises by one with each receipt kept, and
 * indexed per entry and broker in `receipted` (entry index || broker ->
 * receipt number, status, the broker's log index). Stored per envelope
 * instead, a round of n envelopes would cost n copies of a receipt that
 * grows with n: n^2. Both tables are keyed in the order things happen (a
 * node's entries and their receipts come in log order), so that keeping a
 * receipt appends to their ends and touches a page or two, as the log's
 * own appends do; keyed by hashes, every commit would dirty pages all over
 * both trees, which a node's commit (on the path of its next alert) pays
 * for in its fsync. The bytes are kept exactly as received, so that anyone
 * can check the broker's signature again (cydex-audit); the index row
 * repeats what the receipt says of the envelope, so that the audit can
 * hold one against the other.
 *
 * Invariants: only an item whose envelope hash names an entry of this log
 * is indexed, under that entry's index; one row per (entry, broker), the
 * first one kept (a resend's DUPLICATE never replaces the ACCEPTED); a
 * stored receipt is named by at least one row; everything is written in
 * the transaction that also deletes the outbox rows the receipts cleared.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

#define S_ROW_VAL (8 + 1 + 8) /* receipt number || status || broker's log index */

void cdx__log_keep_clear(cdx_log *log)
{
    for (size_t i = 0; i < log->n_keep; i++) {
        cdx_bytes_free(&log->keep[i].bytes);
        free(log->keep[i].items);
    }
    log->n_keep = 0;
}

cdx_err cdx_log_receipt_keep(cdx_log *log, const uint8_t *bytes, size_t len,
                             const cdx_receipt *items, size_t n)
{
    if (log->read_only || !bytes || !len)
        return CDX_ERR_INVALID;
    if (!n)
        return CDX_OK;
    if (log->n_keep == log->cap_keep) {
        size_t cap = log->cap_keep ? 2 * log->cap_keep : 8;
        cdx__log_keep *p = realloc(log->keep, cap * sizeof *p);
        if (!p)
            return CDX_ERR_NOMEM;
        log->keep = p;
        log->cap_keep = cap;
    }
    cdx__log_keep *k = &log->keep[log->n_keep];
    k->bytes.data = malloc(len);
    k->items = malloc(n * sizeof *k->items);
    if (!k->bytes.data || !k->items) {
        free(k->bytes.data);
        free(k->items);
        return CDX_ERR_NOMEM;
    }
    memcpy(k->bytes.data, bytes, len);
    k->bytes.len = len;
    memcpy(k->items, items, n * sizeof *items);
    k->n = n;
    log->n_keep++;
    return CDX_OK;
}

/* entry index (8, BE) || broker */
static size_t s_row_key(uint8_t out[8 + CDX_ID_MAX], uint64_t entry, const char *broker)
{
    size_t n = strlen(broker);
    cdx__put_be64(out, entry);
    memcpy(out + 8, broker, n);
    return 8 + n;
}

/* The number the next receipt is kept under. */
static int s_next_number(cdx_log *log, MDB_txn *txn, uint64_t *next)
{
    MDB_cursor *c;
    MDB_val k, d;
    int rc = mdb_cursor_open(txn, log->receipts, &c);
    if (rc)
        return rc;
    rc = mdb_cursor_get(c, &k, &d, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *next = 0;
        return 0;
    }
    if (rc)
        return rc;
    *next = k.mv_size == 8 ? cdx__get_be64(k.mv_data) + 1 : 0;
    return k.mv_size == 8 ? 0 : MDB_CORRUPTED;
}

int cdx__log_keep_in(cdx_log *log, MDB_txn *txn)
{
    if (!log->n_keep)
        return 0;
    uint64_t number;
    int rc = s_next_number(log, txn, &number);
    for (size_t i = 0; rc == 0 && i < log->n_keep; i++) {
        const cdx__log_keep *k = &log->keep[i];
        size_t indexed = 0;
        for (size_t j = 0; rc == 0 && j < k->n; j++) {
            const cdx_receipt *it = &k->items[j];
            uint8_t key[8 + CDX_ID_MAX], val[S_ROW_VAL];
            if (!cdx_id_valid(it->broker) || it->status == CDX_RECEIPT_UNSPECIFIED)
                continue;
            MDB_val hk = cdx__log_val(it->envelope_hash, CDX_HASH_BYTES), d;
            rc = mdb_get(txn, log->by_hash, &hk, &d);
            if (rc == MDB_NOTFOUND || (rc == 0 && d.mv_size != 8)) {
                rc = 0; /* not an envelope of this log */
                continue;
            }
            if (rc)
                break;
            MDB_val rk = cdx__log_val(key, s_row_key(key, cdx__get_be64(d.mv_data), it->broker));
            cdx__put_be64(val, number);
            val[8] = (uint8_t)it->status;
            cdx__put_be64(val + 9, it->log_index);
            MDB_val rv = cdx__log_val(val, sizeof val);
            rc = mdb_put(txn, log->receipted, &rk, &rv, MDB_NOOVERWRITE);
            if (rc == MDB_KEYEXIST) {
                rc = 0; /* that broker's first receipt for it stands */
                continue;
            }
            indexed += rc == 0;
        }
        if (rc || !indexed)
            continue;
        uint8_t nb[8];
        cdx__put_be64(nb, number++);
        MDB_val nk = cdx__log_val(nb, 8), nv = cdx__log_val(k->bytes.data, k->bytes.len);
        rc = mdb_put(txn, log->receipts, &nk, &nv, MDB_APPEND);
    }
    return rc;
}

void cdx_log_receipts_free(cdx_log_receipt *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        cdx_bytes_free(&r[i].receipt);
    free(r);
}

/* A row, decoded; false if it is not of the form. */
static bool s_row(const MDB_val *k, const MDB_val *d, cdx_log_receipt_row *out)
{
    if (k->mv_size <= 8 || k->mv_size > 8 + CDX_ID_MAX || d->mv_size != S_ROW_VAL)
        return false;
    memset(out, 0, sizeof *out);
    out->entry = cdx__get_be64(k->mv_data);
    memcpy(out->broker, (const uint8_t *)k->mv_data + 8, k->mv_size - 8);
    const uint8_t *v = d->mv_data;
    out->number = cdx__get_be64(v);
    out->status = (cdx_receipt_status)v[8];
    out->log_index = cdx__get_be64(v + 9);
    return cdx_id_valid(out->broker);
}

/* Fills r from its row and, where the stored receipt has an item for the
 * envelope, from that. */
static cdx_err s_fill(cdx_log *log, MDB_txn *txn, const cdx_log_receipt_row *row,
                      const uint8_t *envelope_hash, cdx_log_receipt *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->item.broker, sizeof r->item.broker, "%s", row->broker);
    memcpy(r->item.envelope_hash, envelope_hash, CDX_HASH_BYTES);
    r->item.status = row->status;
    r->item.log_index = row->log_index;
    r->number = row->number;
    uint8_t nb[8];
    cdx__put_be64(nb, row->number);
    MDB_val k = cdx__log_val(nb, 8), d;
    if (mdb_get(txn, log->receipts, &k, &d) != 0)
        return CDX_OK;
    r->receipt.data = malloc(d.mv_size);
    if (!r->receipt.data)
        return CDX_ERR_NOMEM;
    memcpy(r->receipt.data, d.mv_data, d.mv_size);
    r->receipt.len = d.mv_size;
    cdx_hash(r->receipt_hash, r->receipt.data, r->receipt.len);
    cdx_bytes st = {0};
    uint8_t sig[CDX_SIG_BYTES];
    cdx_receipt *items = NULL;
    size_t n = 0;
    if (cdx__receipt_decode(&st, sig, r->receipt.data, r->receipt.len) == CDX_OK &&
        cdx__receipt_statement_decode(&items, &n, st.data, st.len) == CDX_OK)
        for (size_t i = 0; i < n; i++)
            if (memcmp(items[i].envelope_hash, envelope_hash, CDX_HASH_BYTES) == 0 &&
                strcmp(items[i].broker, row->broker) == 0) {
                r->item = items[i];
                break;
            }
    free(items);
    cdx_bytes_free(&st);
    return CDX_OK;
}

cdx_err cdx_log_receipts_of(cdx_log *log, const uint8_t envelope_hash[CDX_HASH_BYTES],
                            cdx_log_receipt **out, size_t *n, cdx_errbuf *eb)
{
    *out = NULL;
    *n = 0;
    if (!log->has_receipts)
        return CDX_OK;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    MDB_val hk = cdx__log_val(envelope_hash, CDX_HASH_BYTES), hd;
    int mrc = mdb_get(txn, log->by_hash, &hk, &hd);
    if (mrc || hd.mv_size != 8) {
        mdb_txn_abort(txn);
        return mrc && mrc != MDB_NOTFOUND ? cdx__log_mdb(eb, mrc, "by_hash") : CDX_OK;
    }
    uint8_t prefix[8];
    memcpy(prefix, hd.mv_data, 8);
    mrc = mdb_cursor_open(txn, log->receipted, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(eb, mrc, "receipted");
    }
    cdx_log_receipt *list = NULL;
    size_t count = 0, cap = 0;
    MDB_val k = cdx__log_val(prefix, 8), d;
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size < 8 || memcmp(k.mv_data, prefix, 8) != 0)
            break;
        cdx_log_receipt_row row;
        if (!s_row(&k, &d, &row)) {
            rc = cdx_errf(eb, CDX_ERR_CORRUPT, "log: a malformed row in the receipt index");
            break;
        }
        if (count == cap) {
            size_t want = cap ? 2 * cap : 4;
            cdx_log_receipt *p = realloc(list, want * sizeof *p);
            if (!p) {
                rc = CDX_ERR_NOMEM;
                break;
            }
            list = p;
            cap = want;
        }
        rc = s_fill(log, txn, &row, envelope_hash, &list[count]);
        count += rc == CDX_OK;
    }
    if (rc == CDX_OK && mrc && mrc != MDB_NOTFOUND)
        rc = cdx__log_mdb(eb, mrc, "receipted");
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (rc != CDX_OK) {
        cdx_log_receipts_free(list, count);
        return rc;
    }
    *out = list;
    *n = count;
    return CDX_OK;
}

/* Every row of one of the receipt tables, in key order, to visit; in one
 * read transaction. */
typedef cdx_err (*s_visit_fn)(void *ctx, const MDB_val *k, const MDB_val *d, cdx_errbuf *eb);

static cdx_err s_each(cdx_log *log, MDB_dbi dbi, const char *table, s_visit_fn visit, void *ctx,
                      cdx_errbuf *eb)
{
    if (!log->has_receipts)
        return CDX_OK;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, dbi, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(eb, mrc, table);
    }
    MDB_val k, d;
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT))
        rc = visit(ctx, &k, &d, eb);
    if (rc == CDX_OK && mrc && mrc != MDB_NOTFOUND)
        rc = cdx__log_mdb(eb, mrc, table);
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

typedef struct s_scan {
    cdx_log_receipt_fn fn;
    cdx_log_receipt_row_fn row_fn;
    void *ctx;
} s_scan;

static cdx_err s_visit_receipt(void *ctx, const MDB_val *k, const MDB_val *d, cdx_errbuf *eb)
{
    const s_scan *s = ctx;
    if (k->mv_size != 8)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a receipt stored under a %zu-byte key",
                        k->mv_size);
    return s->fn(s->ctx, cdx__get_be64(k->mv_data), d->mv_data, d->mv_size);
}

static cdx_err s_visit_row(void *ctx, const MDB_val *k, const MDB_val *d, cdx_errbuf *eb)
{
    const s_scan *s = ctx;
    cdx_log_receipt_row row;
    if (!s_row(k, d, &row))
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a malformed row in the receipt index");
    return s->row_fn(s->ctx, &row);
}

cdx_err cdx_log_receipts_scan(cdx_log *log, cdx_log_receipt_fn fn, void *ctx, cdx_errbuf *eb)
{
    s_scan s = {.fn = fn, .ctx = ctx};
    return s_each(log, log->receipts, "receipts", s_visit_receipt, &s, eb);
}

cdx_err cdx_log_receipt_rows_scan(cdx_log *log, cdx_log_receipt_row_fn fn, void *ctx,
                                  cdx_errbuf *eb)
{
    s_scan s = {.row_fn = fn, .ctx = ctx};
    return s_each(log, log->receipted, "receipted", s_visit_row, &s, eb);
}
