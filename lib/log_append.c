/* Appends: a batch of verified envelopes is one write transaction and one
 * fsync. Each entry goes in at index = size with MDB_APPEND, with its
 * (sender, seq) row, its hash row, its sender's record and its tree nodes,
 * all in that transaction; a copy of a stored envelope is counted, not
 * stored; a second envelope for one (sender, seq) is kept as evidence. */
#include <stdlib.h>
#include <string.h>

#include "log_internal.h"

#define S_BATCH_SENDERS 64u

/* One append transaction's working state. */
typedef struct s_batch {
    cdx_log *log;
    MDB_txn *txn;
    MDB_cursor *by_sender;
    uint64_t size, dups, equivs;
    cdx_merkle_frontier tree; /* becomes log->frontier on commit */
    struct {
        char id[CDX_ID_MAX + 1];
        cdx__log_sender_rec rec;
    } senders[S_BATCH_SENDERS];
    size_t n_senders;
    int mdb_rc;
    /* by_hash rows of the batch, written sorted at its end (inserting
     * random keys in order touches the B-tree's pages in order). */
    uint8_t (*pend)[CDX_HASH_BYTES + 8];
    size_t n_pend;
} s_batch;

static cdx_err s_put_node(void *ctx, unsigned level, uint64_t index,
                          const uint8_t hash[CDX_HASH_BYTES])
{
    s_batch *b = ctx;
    return cdx__log_node_put(b->log, b->txn, level, index, hash, &b->mdb_rc);
}

/* What by_sender says of an envelope about to be appended. */
typedef struct s_probe {
    bool found;      /* some envelope of (sender, seq) is stored */
    bool dup;        /* this very envelope (its hash) is stored, at dup_index */
    bool prev_found; /* some envelope of (sender, seq - 1) is stored */
    bool prev_match; /* one of them hashes to prev_hash */
    uint64_t dup_index;
} s_probe;

/* Reads the rows of (sender, seq - 1) and (sender, seq), which lie side by
 * side. A copy of a stored envelope has its body, so its sender and seq:
 * its hash among the rows of seq is how duplicates are found. */
static int s_seq_probe(MDB_cursor *c, const char *sender, uint64_t seq, const uint8_t *prev_hash,
                       const uint8_t *hash, s_probe *p)
{
    uint8_t kp[CDX_ID_MAX + 9], ks[CDX_ID_MAX + 9];
    size_t ls = cdx__log_sender_key(ks, sender, seq);
    MDB_val k, d;
    int rc;
    memset(p, 0, sizeof *p);
    if (seq > 1) {
        size_t lp = cdx__log_sender_key(kp, sender, seq - 1);
        k = cdx__log_val(kp, lp);
        rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size == lp && memcmp(k.mv_data, kp, lp) == 0) {
            p->prev_found = true;
            if (d.mv_size == CDX__LOG_SENDER_VAL &&
                memcmp((uint8_t *)d.mv_data + 8, prev_hash, CDX_HASH_BYTES) == 0)
                p->prev_match = true;
            rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
        }
    } else {
        k = cdx__log_val(ks, ls);
        rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    }
    while (rc == 0 && k.mv_size == ls && memcmp(k.mv_data, ks, ls) == 0) {
        p->found = true;
        if (d.mv_size == CDX__LOG_SENDER_VAL &&
            memcmp((uint8_t *)d.mv_data + 8, hash, CDX_HASH_BYTES) == 0) {
            p->dup = true;
            p->dup_index = cdx__get_be64(d.mv_data);
        }
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static cdx_err s_flush_senders(s_batch *b, cdx_errbuf *eb)
{
    for (size_t i = 0; i < b->n_senders; i++) {
        uint8_t rv[CDX__LOG_SENDER_REC];
        const cdx__log_sender_rec *r = &b->senders[i].rec;
        cdx__put_be64(rv, r->max_seq);
        memcpy(rv + 8, r->max_hash, CDX_HASH_BYTES);
        cdx__put_be64(rv + 8 + CDX_HASH_BYTES, r->count);
        MDB_val k = cdx__log_val(b->senders[i].id, strlen(b->senders[i].id)),
                d = cdx__log_val(rv, sizeof rv);
        if ((b->mdb_rc = mdb_put(b->txn, b->log->senders, &k, &d, 0)))
            return cdx__log_mdb(eb, b->mdb_rc, "senders");
    }
    b->n_senders = 0;
    return CDX_OK;
}

/* The batch's copy of a sender's record, read on first use. */
static cdx_err s_sender_rec_of(s_batch *b, const char *id, cdx__log_sender_rec **out,
                               cdx_errbuf *eb)
{
    for (size_t i = 0; i < b->n_senders; i++)
        if (strcmp(b->senders[i].id, id) == 0) {
            *out = &b->senders[i].rec;
            return CDX_OK;
        }
    if (b->n_senders == S_BATCH_SENDERS) {
        cdx_err rc = s_flush_senders(b, eb);
        if (rc != CDX_OK)
            return rc;
    }
    MDB_val k = cdx__log_val(id, strlen(id)), d;
    size_t i = b->n_senders++;
    cdx__copy_id(b->senders[i].id, id);
    b->mdb_rc = mdb_get(b->txn, b->log->senders, &k, &d);
    if (b->mdb_rc == 0)
        cdx__log_sender_decode(&b->senders[i].rec, &d);
    else if (b->mdb_rc == MDB_NOTFOUND)
        memset(&b->senders[i].rec, 0, sizeof b->senders[i].rec);
    else
        return cdx__log_mdb(eb, b->mdb_rc, "senders");
    b->mdb_rc = 0;
    *out = &b->senders[i].rec;
    return CDX_OK;
}

static cdx_err s_append_one(s_batch *b, const cdx_log_append_in *in, cdx_log_append_out *out,
                            cdx_errbuf *eb)
{
    cdx_log *log = b->log;
    MDB_txn *txn = b->txn;
    const cdx_body *body = cdx_envelope_body(in->env);
    const uint8_t *h = cdx_envelope_hash(in->env);
    MDB_val k, d;
    memset(out, 0, sizeof *out);
    s_probe p;
    if ((b->mdb_rc = s_seq_probe(b->by_sender, body->sender, body->seq, body->prev_hash, h, &p)))
        return cdx__log_mdb(eb, b->mdb_rc, "by_sender");
    if (p.dup) { /* stored before, or earlier in this batch */
        out->status = CDX_APPEND_DUPLICATE;
        out->index = p.dup_index;
        b->dups++;
        return CDX_OK;
    }
    cdx_log_entry e = {0};
    e.outcome = p.found ? CDX_LOG_EQUIVOCATION : CDX_LOG_ACCEPTED;
    if (body->seq > 1 && !p.prev_found)
        e.flags |= CDX_LOG_FLAG_GAP;
    else if (body->seq > 1 && !p.prev_match)
        e.flags |= CDX_LOG_FLAG_CHAIN_BREAK;
    size_t raw_len;
    e.envelope.data = (uint8_t *)cdx_envelope_bytes(in->env, &raw_len);
    e.envelope.len = raw_len;
    e.index = b->size;
    e.received_at_ms = in->received_at_ms;
    if (!cdx__copy_id(e.received_from, in->received_from ? in->received_from : "local"))
        return cdx_errf(eb, CDX_ERR_INVALID, "received_from is too long");

    /* The entry, encoded straight into its place in the map. */
    uint8_t ikey[8], sval[CDX__LOG_SENDER_VAL], skey[CDX_ID_MAX + 9];
    cdx__put_be64(ikey, e.index);
    k = cdx__log_val(ikey, 8);
    d.mv_size = cdx__log_entry_size(&e);
    d.mv_data = NULL;
    if ((b->mdb_rc = mdb_put(txn, log->log, &k, &d, MDB_APPEND | MDB_RESERVE)))
        return cdx__log_mdb(eb, b->mdb_rc, "append");
    cdx__log_entry_pack(&e, d.mv_data);

    memcpy(b->pend[b->n_pend], h, CDX_HASH_BYTES);
    memcpy(b->pend[b->n_pend] + CDX_HASH_BYTES, ikey, 8);
    b->n_pend++;
    memcpy(sval, ikey, 8);
    memcpy(sval + 8, h, CDX_HASH_BYTES);
    k = cdx__log_val(skey, cdx__log_sender_key(skey, body->sender, body->seq));
    d = cdx__log_val(sval, sizeof sval);
    if ((b->mdb_rc = mdb_put(txn, log->by_sender, &k, &d, 0)))
        return cdx__log_mdb(eb, b->mdb_rc, "by_sender");

    if (in->outbox) { /* in the same transaction: logged and pending, or neither */
        size_t tl = strlen(body->topic);
        bool ref = log->schema >= 3; /* the entry's index, not a second copy */
        k = cdx__log_val(h, CDX_HASH_BYTES);
        d.mv_size = tl + 1 + (ref ? CDX__LOG_OUTBOX_REF : raw_len);
        d.mv_data = NULL;
        if ((b->mdb_rc = mdb_put(txn, log->outbox, &k, &d, MDB_RESERVE)))
            return cdx__log_mdb(eb, b->mdb_rc, "outbox");
        memcpy(d.mv_data, body->topic, tl + 1);
        if (ref)
            cdx__log_outbox_ref((uint8_t *)d.mv_data + tl + 1, e.index);
        else
            memcpy((uint8_t *)d.mv_data + tl + 1, e.envelope.data, raw_len);
    }

    cdx__log_sender_rec *rec = NULL;
    cdx_err rc = s_sender_rec_of(b, body->sender, &rec, eb);
    if (rc != CDX_OK)
        return rc;
    rec->count++;
    if (e.outcome == CDX_LOG_ACCEPTED && body->seq > rec->max_seq) {
        rec->max_seq = body->seq;
        memcpy(rec->max_hash, h, CDX_HASH_BYTES);
    }

    uint8_t leaf[CDX_HASH_BYTES];
    cdx__log_leaf_hash(&e, cdx_envelope_signer(in->env), h, cdx_envelope_signature(in->env), leaf);
    rc = cdx_merkle_frontier_add(&b->tree, leaf, s_put_node, b);
    if (rc != CDX_OK)
        return cdx__log_mdb(eb, b->mdb_rc, "tree");
    if (e.outcome == CDX_LOG_EQUIVOCATION)
        b->equivs++;
    out->status = e.outcome == CDX_LOG_ACCEPTED ? CDX_APPEND_STORED : CDX_APPEND_EQUIVOCATION;
    out->index = e.index;
    out->flags = e.flags;
    b->size++;
    return CDX_OK;
}

/* The whole batch inside one transaction; the caller commits or aborts. */
static cdx_err s_append_batch(s_batch *b, const cdx_log_append_in *in, size_t n,
                              cdx_log_append_out *out, cdx_errbuf *eb)
{
    cdx_log *log = b->log;
    cdx_err rc = cdx__log_size_in(log, b->txn, &b->size, eb);
    if (rc != CDX_OK)
        return rc;
    if (log->have_frontier && log->frontier.size == b->size)
        b->tree = log->frontier;
    else if ((rc = cdx__log_frontier_load(log, b->txn, b->size, &b->tree)) != CDX_OK)
        return cdx_errf(eb, rc, "log: the tree is missing a node of its right edge");
    if ((b->mdb_rc = mdb_cursor_open(b->txn, log->by_sender, &b->by_sender)))
        return cdx__log_mdb(eb, b->mdb_rc, "by_sender");
    b->pend = malloc((n ? n : 1) * sizeof *b->pend);
    if (!b->pend)
        rc = CDX_ERR_NOMEM;
    for (size_t i = 0; rc == CDX_OK && i < n; i++)
        rc = s_append_one(b, &in[i], &out[i], eb);
    if (rc == CDX_OK && b->n_pend > 1)
        qsort(b->pend, b->n_pend, sizeof *b->pend, cdx__log_cmp_hash);
    for (size_t i = 0; rc == CDX_OK && i < b->n_pend; i++) {
        MDB_val k = cdx__log_val(b->pend[i], CDX_HASH_BYTES),
                d = cdx__log_val(b->pend[i] + CDX_HASH_BYTES, 8);
        if ((b->mdb_rc = mdb_put(b->txn, log->by_hash, &k, &d, 0)))
            rc = cdx__log_mdb(eb, b->mdb_rc, "by_hash");
    }
    free(b->pend);
    b->pend = NULL;
    b->n_pend = 0;
    mdb_cursor_close(b->by_sender);
    if (rc == CDX_OK)
        rc = s_flush_senders(b, eb);
    if (rc == CDX_OK)
        rc = cdx__log_bump(log, b->txn, "count/duplicates", b->dups + log->dropped_dups, eb);
    if (rc == CDX_OK)
        rc = cdx__log_bump(log, b->txn, "count/equivocations", b->equivs, eb);
    return rc;
}

cdx_err cdx_log_append(cdx_log *log, const cdx_log_append_in *in, size_t n, cdx_log_append_out *out,
                       cdx_errbuf *eb)
{
    if (log->read_only)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: opened read-only");
    for (size_t i = 0; i < n; i++)
        if (!in[i].env || !cdx_envelope_verified(in[i].env))
            return cdx_errf(eb, CDX_ERR_INVALID, "log: only verified envelopes are appended");
    s_batch *b = malloc(sizeof *b);
    if (!b)
        return CDX_ERR_NOMEM;
    cdx_err rc;
    for (;;) {
        memset(b, 0, sizeof *b);
        b->log = log;
        int mrc = mdb_txn_begin(log->env, NULL, 0, &b->txn);
        if (mrc == MDB_MAP_RESIZED) {
            mdb_env_set_mapsize(log->env, 0);
            continue;
        }
        if (mrc) {
            rc = cdx__log_mdb(eb, mrc, "begin");
            break;
        }
        rc = s_append_batch(b, in, n, out, eb);
        if (rc == CDX_OK && (b->mdb_rc = cdx__log_forget_in(log, b->txn, NULL)) != 0)
            rc = cdx__log_mdb(eb, b->mdb_rc, "outbox");
        if (rc == CDX_OK) {
            mrc = cdx__log_commit(log, b->txn); /* durable: this is the fsync */
            if (mrc == 0) {
                log->frontier = b->tree;
                log->have_frontier = true;
                cdx__log_forget_done(log); /* receipted rows went with it, receipts kept */
                log->dropped_dups = 0;
                cdx__log_room_keep(log);
                break;
            }
            rc = cdx__log_commit_failed(log, mrc, "commit", eb);
        } else {
            mdb_txn_abort(b->txn);
        }
        if (rc != CDX_ERR_FULL)
            break;
        /* The map is full: grow it (no transaction is open now) and redo
         * the whole batch, up to map_max. */
        if (log->map_size >= log->map_max) {
            rc = cdx_errf(eb, CDX_ERR_FULL,
                          "log: full at its maximum size of %zu MiB; nothing of this batch "
                          "was written (raise the maximum or archive the log)",
                          log->map_max >> 20);
            break;
        }
        size_t next = log->map_size * 2 < log->map_max ? log->map_size * 2 : log->map_max;
        mrc = mdb_env_set_mapsize(log->env, next);
        if (mrc) {
            rc = cdx__log_mdb(eb, mrc, "grow");
            break;
        }
        log->map_size = next;
    }
    free(b);
    return rc;
}

void cdx_log_note_duplicates(cdx_log *log, uint64_t n)
{
    log->dropped_dups += n;
}
