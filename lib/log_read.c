/* Reading the log: entries by index and in ranges, the (sender, seq)
 * index, gaps, lookups by hash, the senders' records. Every read is its
 * own read transaction; what it returns was copied out of the map. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

/* The entry at k, d, which must be entry `expect`; *out holds nothing on
 * failure (callers clear it whatever happened). */
static cdx_err s_decode_at(MDB_val *k, MDB_val *d, uint64_t expect, cdx_log_entry *out,
                           cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    if (k->mv_size != 8)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a key of %zu bytes after entry %llu", k->mv_size,
                        (unsigned long long)expect);
    uint64_t at = cdx__get_be64(k->mv_data);
    if (at != expect)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: entry %llu is missing (next is %llu)",
                        (unsigned long long)expect, (unsigned long long)at);
    cdx_errbuf inner = {0};
    cdx_err rc = cdx__log_entry_decode(out, d->mv_data, d->mv_size, &inner);
    if (rc != CDX_OK)
        return cdx_errf(eb, rc, "log: entry %llu: %s", (unsigned long long)at, inner.msg);
    out->index = at;
    return CDX_OK;
}

cdx_err cdx_log_get(cdx_log *log, uint64_t index, cdx_log_entry *out, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    uint8_t key[8];
    cdx__put_be64(key, index);
    MDB_val k = cdx__log_val(key, 8), d;
    int mrc = mdb_get(txn, log->log, &k, &d);
    if (mrc == MDB_NOTFOUND)
        rc = cdx_errf(eb, CDX_ERR_NOENT, "log: no entry %llu", (unsigned long long)index);
    else if (mrc)
        rc = cdx__log_mdb(eb, mrc, "get");
    else
        rc = s_decode_at(&k, &d, index, out, eb);
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_scan(cdx_log *log, uint64_t from, uint64_t to, cdx_log_visit_fn fn, void *ctx,
                     cdx_errbuf *eb)
{
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->log, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(eb, mrc, "scan");
    }
    uint8_t key[8];
    cdx__put_be64(key, from);
    MDB_val k = cdx__log_val(key, 8), d;
    mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    for (uint64_t at = from; rc == CDX_OK && at < to && mrc == 0; at++) {
        cdx_log_entry e;
        rc = s_decode_at(&k, &d, at, &e, eb);
        if (rc == CDX_OK)
            e.has_tree_leaf = cdx__log_node_get(log, txn, 0, at, e.tree_leaf) == CDX_OK;
        if (rc == CDX_OK)
            rc = fn(ctx, &e);
        cdx_log_entry_clear(&e);
        if (rc == CDX_OK)
            mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
    }
    if (rc == CDX_OK && mrc && mrc != MDB_NOTFOUND)
        rc = cdx__log_mdb(eb, mrc, "scan");
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_scan_sender(cdx_log *log, const char *sender, uint64_t from, uint64_t to,
                            cdx_log_visit_fn fn, void *ctx, cdx_errbuf *eb)
{
    if (!cdx_id_valid(sender))
        return cdx_errf(eb, CDX_ERR_INVALID, "bad sender id");
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->by_sender, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(eb, mrc, "scan");
    }
    uint8_t key[CDX_ID_MAX + 9];
    size_t prefix = strlen(sender) + 1; /* the id and its 0x00 */
    MDB_val k = cdx__log_val(key, cdx__log_sender_key(key, sender, from)), d;
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != prefix + 8 || memcmp(k.mv_data, key, prefix) != 0)
            break;
        uint64_t seq = cdx__get_be64((uint8_t *)k.mv_data + prefix);
        if (to && seq > to)
            break;
        if (d.mv_size != CDX__LOG_SENDER_VAL) {
            rc = cdx_errf(eb, CDX_ERR_CORRUPT, "log: bad by_sender value");
            break;
        }
        uint64_t index = cdx__get_be64(d.mv_data);
        uint8_t ik[8];
        cdx__put_be64(ik, index);
        MDB_val ek = cdx__log_val(ik, 8), ev;
        if (mdb_get(txn, log->log, &ek, &ev) != 0) {
            rc = cdx_errf(eb, CDX_ERR_CORRUPT, "log: entry %llu is missing",
                          (unsigned long long)index);
            break;
        }
        cdx_log_entry e;
        rc = s_decode_at(&ek, &ev, index, &e, eb);
        e.sender_seq = seq;
        if (rc == CDX_OK)
            rc = fn(ctx, &e);
        cdx_log_entry_clear(&e);
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_sender_gaps(cdx_log *log, const char *sender, uint64_t from, uint64_t to,
                            cdx_log_range *out, size_t cap, size_t *n)
{
    *n = 0;
    if (!cdx_id_valid(sender) || from == 0 || to < from)
        return from && to < from ? CDX_OK : CDX_ERR_INVALID;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->by_sender, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(NULL, mrc, "gaps");
    }
    uint8_t key[CDX_ID_MAX + 9];
    size_t prefix = strlen(sender) + 1;
    MDB_val k = cdx__log_val(key, cdx__log_sender_key(key, sender, from)), d;
    uint64_t want = from; /* the lowest seq not yet seen */
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); mrc == 0 && *n < cap && want <= to;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != prefix + 8 || memcmp(k.mv_data, key, prefix) != 0)
            break;
        uint64_t seq = cdx__get_be64((uint8_t *)k.mv_data + prefix);
        if (seq > want)
            out[(*n)++] = (cdx_log_range){want, seq - 1 < to ? seq - 1 : to};
        if (seq >= want)
            want = seq + 1;
    }
    if (want <= to && *n < cap && (mrc == 0 || mrc == MDB_NOTFOUND))
        out[(*n)++] = (cdx_log_range){want, to};
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return mrc == 0 || mrc == MDB_NOTFOUND ? CDX_OK : cdx__log_mdb(NULL, mrc, "gaps");
}

cdx_err cdx_log_find_hash(cdx_log *log, const uint8_t hash[CDX_HASH_BYTES], uint64_t *index)
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = cdx__log_val(hash, CDX_HASH_BYTES), d;
    int mrc = mdb_get(txn, log->by_hash, &k, &d);
    if (mrc == 0 && d.mv_size == 8)
        *index = cdx__get_be64(d.mv_data);
    mdb_txn_abort(txn);
    return mrc == 0              ? CDX_OK
           : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT
                                 : cdx__log_mdb(NULL, mrc, "find");
}

cdx_err cdx_log_held(cdx_log *log, const uint8_t (*hashes)[CDX_HASH_BYTES], const bool *known,
                     size_t n, bool *held)
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        held[i] = false;
        if (known && !known[i])
            continue;
        MDB_val k = cdx__log_val(hashes[i], CDX_HASH_BYTES), d;
        int mrc = mdb_get(txn, log->by_hash, &k, &d);
        held[i] = mrc == 0;
        if (mrc && mrc != MDB_NOTFOUND)
            rc = cdx__log_mdb(NULL, mrc, "find");
    }
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_find_seq(cdx_log *log, const char *sender, uint64_t seq, uint64_t *index)
{
    if (!cdx_id_valid(sender))
        return CDX_ERR_INVALID;
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    uint8_t key[CDX_ID_MAX + 9];
    MDB_val k = cdx__log_val(key, cdx__log_sender_key(key, sender, seq)), d;
    int mrc = mdb_get(txn, log->by_sender, &k, &d);
    if (mrc == 0 && d.mv_size == CDX__LOG_SENDER_VAL)
        *index = cdx__get_be64(d.mv_data);
    mdb_txn_abort(txn);
    return mrc == 0              ? CDX_OK
           : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT
                                 : cdx__log_mdb(NULL, mrc, "find");
}

cdx_err cdx_log_sender_get(cdx_log *log, const char *id, cdx_log_sender *out)
{
    memset(out, 0, sizeof *out);
    if (!cdx_id_valid(id))
        return CDX_ERR_INVALID;
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = cdx__log_val(id, strlen(id)), d;
    int mrc = mdb_get(txn, log->senders, &k, &d);
    if (mrc == 0) {
        cdx__log_sender_rec r;
        cdx__log_sender_decode(&r, &d);
        cdx__copy_id(out->id, id);
        out->max_seq = r.max_seq;
        memcpy(out->max_hash, r.max_hash, CDX_HASH_BYTES);
        out->count = r.count;
    }
    mdb_txn_abort(txn);
    return mrc == 0              ? CDX_OK
           : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT
                                 : cdx__log_mdb(NULL, mrc, "senders");
}

cdx_err cdx_log_senders(cdx_log *log, cdx_log_sender **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_stat st;
    int mrc = mdb_stat(txn, log->senders, &st);
    if (mrc == 0)
        mrc = mdb_cursor_open(txn, log->senders, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return cdx__log_mdb(NULL, mrc, "senders");
    }
    *out = calloc(st.ms_entries + 1, sizeof **out);
    if (!*out)
        rc = CDX_ERR_NOMEM;
    MDB_val k, d;
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == CDX_OK && mrc == 0 && *n < st.ms_entries;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        cdx_log_sender *s = &(*out)[*n];
        if (k.mv_size > CDX_ID_MAX)
            continue;
        memcpy(s->id, k.mv_data, k.mv_size);
        s->id[k.mv_size] = '\0';
        cdx__log_sender_rec r;
        cdx__log_sender_decode(&r, &d);
        s->max_seq = r.max_seq;
        memcpy(s->max_hash, r.max_hash, CDX_HASH_BYTES);
        s->count = r.count;
        (*n)++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}
