/* The outbox: the log owner's own envelopes that no broker has receipted
 * yet, written in the same transaction as their entries (logged and
 * pending, or neither). Receipted rows are deleted with the next write
 * transaction, so a receipt costs no fsync of its own. A row is keyed by
 * the envelope's hash and holds its topic and, from schema 3, its entry's
 * index (older logs: a copy of the envelope; both are read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

/* Orders records that begin with a hash, by it. */
int cdx__log_cmp_hash(const void *x, const void *y)
{
    return memcmp(x, y, CDX_HASH_BYTES);
}

/* The queue of receipted rows, sorted, for lookups (NULL if empty). */
static cdx_err s_forget_sorted(const cdx_log *log, uint8_t (**out)[CDX_HASH_BYTES])
{
    *out = NULL;
    if (!log->n_forget)
        return CDX_OK;
    *out = malloc(log->n_forget * CDX_HASH_BYTES);
    if (!*out)
        return CDX_ERR_NOMEM;
    memcpy(*out, log->forget, log->n_forget * CDX_HASH_BYTES);
    qsort(*out, log->n_forget, CDX_HASH_BYTES, cdx__log_cmp_hash);
    return CDX_OK;
}

/* How many outbox rows no receipt has come for: the table's rows less
 * those queued for deletion (each counted once), read without writing. */
static cdx_err s_outbox_count(cdx_log *log, MDB_txn *txn, size_t *count)
{
    MDB_stat st;
    int mrc = mdb_stat(txn, log->outbox, &st);
    if (mrc)
        return cdx__log_mdb(NULL, mrc, "outbox");
    size_t n = st.ms_entries;
    uint8_t(*q)[CDX_HASH_BYTES] = NULL;
    cdx_err rc = s_forget_sorted(log, &q);
    if (rc != CDX_OK)
        return rc;
    for (size_t i = 0; i < log->n_forget; i++) {
        MDB_val k = cdx__log_val(q[i], CDX_HASH_BYTES), d;
        bool again = i > 0 && memcmp(q[i], q[i - 1], CDX_HASH_BYTES) == 0;
        if (!again && n && mdb_get(txn, log->outbox, &k, &d) == 0)
            n--;
    }
    free(q);
    *count = n;
    return CDX_OK;
}

/* An outbox row's value: topic NUL tail. The tail (and its length, and the
 * topic's), or NULL if the row is not of that form. */
static const uint8_t *s_row_tail(const MDB_val *d, size_t *topic_len, size_t *len)
{
    const uint8_t *nul = memchr(d->mv_data, 0, d->mv_size);
    if (!nul || nul - (const uint8_t *)d->mv_data > CDX_TOPIC_MAX)
        return NULL;
    *topic_len = (size_t)(nul - (const uint8_t *)d->mv_data);
    *len = d->mv_size - *topic_len - 1;
    return nul + 1;
}

/* Whether a row's tail names its entry (schema 3), and which. */
static bool s_row_ref(const uint8_t *tail, size_t len, uint64_t *index)
{
    if (len != CDX__LOG_OUTBOX_REF || tail[0] != 0x00)
        return false;
    *index = cdx__get_be64(tail + 1);
    return true;
}

cdx_err cdx_log_outbox_oldest(cdx_log *log, uint64_t *index, size_t *waiting)
{
    *index = UINT64_MAX;
    if (waiting)
        *waiting = 0;
    uint8_t(*q)[CDX_HASH_BYTES] = NULL;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = s_forget_sorted(log, &q);
    if (rc == CDX_OK)
        rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK) {
        free(q);
        return rc;
    }
    if (mdb_cursor_open(txn, log->outbox, &c) != 0) {
        mdb_txn_abort(txn);
        free(q);
        return CDX_ERR_IO;
    }
    MDB_val k, d;
    bool damaged = false;
    for (int mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST); mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        /* Rows are keyed by an envelope hash; any other key is damage (no
         * receipt can name it), counted as waiting and reported. */
        damaged = damaged || k.mv_size != CDX_HASH_BYTES;
        if (q && k.mv_size == CDX_HASH_BYTES &&
            bsearch(k.mv_data, q, log->n_forget, CDX_HASH_BYTES, cdx__log_cmp_hash))
            continue; /* receipted; its row goes with the next write */
        if (waiting)
            (*waiting)++;
        size_t tl, len;
        uint64_t at;
        const uint8_t *tail = s_row_tail(&d, &tl, &len);
        if (tail && s_row_ref(tail, len, &at) && at < *index)
            *index = at;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    free(q);
    if (damaged)
        return CDX_ERR_CORRUPT;
    return *index == UINT64_MAX ? CDX_ERR_NOENT : CDX_OK;
}

void cdx__log_outbox_ref(uint8_t out[CDX__LOG_OUTBOX_REF], uint64_t index)
{
    out[0] = 0x00;
    cdx__put_be64(out + 1, index);
}

/* The envelope an outbox row's tail gives: named by its entry (schema 3,
 * *index says which) or held whole (*index UINT64_MAX); CDX_ERR_CORRUPT if
 * a named entry is missing or bad. */
static cdx_err s_row_envelope(cdx_log *log, MDB_txn *txn, const uint8_t *tail, size_t len,
                              cdx_bytes *out, uint64_t *index)
{
    if (!s_row_ref(tail, len, index)) {
        *index = UINT64_MAX;
        out->data = malloc(len + 1);
        if (!out->data)
            return CDX_ERR_NOMEM;
        memcpy(out->data, tail, len);
        out->len = len;
        return CDX_OK;
    }
    uint8_t key[8];
    cdx__put_be64(key, *index);
    MDB_val k = cdx__log_val(key, 8), d;
    if (mdb_get(txn, log->log, &k, &d) != 0)
        return CDX_ERR_CORRUPT;
    cdx_log_entry e;
    cdx_err rc = cdx__log_entry_decode(&e, d.mv_data, d.mv_size, NULL);
    if (rc != CDX_OK)
        return rc == CDX_ERR_NOMEM ? rc : CDX_ERR_CORRUPT;
    *out = e.envelope; /* taken: the rest of e owns nothing */
    return CDX_OK;
}

cdx_err cdx_log_outbox_scan(cdx_log *log, cdx_log_outbox_fn fn, void *ctx, size_t *count)
{
    MDB_txn *txn;
    MDB_cursor *c;
    if (count)
        *count = 0;
    cdx_err rc = fn ? cdx_log_outbox_flush(log, NULL) : CDX_OK;
    if (rc == CDX_OK)
        rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    if (!fn) { /* only how many, without writing */
        size_t n = 0;
        rc = s_outbox_count(log, txn, &n);
        if (count)
            *count = n;
        mdb_txn_abort(txn);
        return rc;
    }
    if (mdb_cursor_open(txn, log->outbox, &c) != 0) {
        mdb_txn_abort(txn);
        return CDX_ERR_IO;
    }
    MDB_val k, d;
    bool damaged = false;
    for (int mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        size_t tl, len;
        /* A key that is not a hash is damage: its envelope is still sent
         * (a copy costs nothing), and the scan says so when done. */
        damaged = damaged || k.mv_size != CDX_HASH_BYTES;
        const uint8_t *tail = s_row_tail(&d, &tl, &len);
        if (!tail)
            continue;
        char topic[CDX_TOPIC_MAX + 1];
        memcpy(topic, d.mv_data, tl + 1);
        cdx_log_entry e = {0};
        rc = s_row_envelope(log, txn, tail, len, &e.envelope, &e.index);
        if (rc == CDX_ERR_CORRUPT) { /* its entry is not there to send: skipped */
            rc = CDX_OK;
            continue;
        }
        if (rc != CDX_OK)
            break;
        rc = fn(ctx, topic, &e);
        cdx_log_entry_clear(&e);
        if (count)
            (*count)++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc == CDX_OK && damaged ? CDX_ERR_CORRUPT : rc;
}

/* Deletes the rows waiting in log->forget inside txn, and keeps the
 * receipts that cleared them (the caller commits and then clears both). */
int cdx__log_forget_in(cdx_log *log, MDB_txn *txn, size_t *removed)
{
    int kept = cdx__log_keep_in(log, txn);
    if (kept)
        return kept;
    size_t gone = 0;
    for (size_t i = 0; i < log->n_forget; i++) {
        MDB_val k = cdx__log_val(log->forget + i * CDX_HASH_BYTES, CDX_HASH_BYTES);
        int mrc = mdb_del(txn, log->outbox, &k, NULL);
        if (mrc == 0)
            gone++;
        else if (mrc != MDB_NOTFOUND) /* not there: a second broker's receipt, or a resend's */
            return mrc;
    }
    if (removed)
        *removed = gone;
    return 0;
}

cdx_err cdx_log_outbox_forget(cdx_log *log, const uint8_t *hashes, size_t n)
{
    if (log->read_only)
        return CDX_ERR_INVALID;
    if (log->n_forget + n > log->cap_forget) {
        size_t cap = 2 * (log->n_forget + n);
        uint8_t *p = realloc(log->forget, cap * CDX_HASH_BYTES);
        if (!p)
            return CDX_ERR_NOMEM;
        log->forget = p;
        log->cap_forget = cap;
    }
    if (n)
        memcpy(log->forget + log->n_forget * CDX_HASH_BYTES, hashes, n * CDX_HASH_BYTES);
    log->n_forget += n;
    return CDX_OK;
}

void cdx__log_forget_done(cdx_log *log)
{
    log->n_forget = 0;
    cdx__log_keep_clear(log);
}

size_t cdx_log_outbox_pending(const cdx_log *log)
{
    return log->n_forget + log->n_keep;
}

cdx_err cdx_log_outbox_flush(cdx_log *log, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (log->n_forget == 0 && log->n_keep == 0)
        return CDX_OK;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (!mrc && (mrc = cdx__log_forget_in(log, txn, removed)) != 0)
        mdb_txn_abort(txn);
    else if (!mrc)
        mrc = cdx__log_commit(log, txn);
    if (mrc)
        return cdx__log_commit_failed(log, mrc, "outbox", NULL);
    cdx__log_forget_done(log);
    return CDX_OK;
}

cdx_err cdx_log_outbox_remove(cdx_log *log, const uint8_t *hashes, size_t n, size_t *removed)
{
    if (removed)
        *removed = 0;
    cdx_err rc = cdx_log_outbox_forget(log, hashes, n);
    return rc == CDX_OK ? cdx_log_outbox_flush(log, removed) : rc;
}
