/* The Merkle tree over the entries (RFC 9162), stored node by node as each
 * perfect subtree completes, so that a root, an inclusion proof and a
 * consistency proof each cost O(log n) reads; and the signed checkpoints
 * of it the owner makes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/checkpoint.h"
#include "log_internal.h"

/* Schema 2: the last leaf the node covers (uint64 BE) || level, so that
 * the nodes an append completes, (i, 0), (i, 1), ..., come in key order
 * after every node before them: tree puts are MDB_APPENDs into the
 * rightmost page. Schema 1 (still read and appended to): level || index. */
static size_t s_tree_key(const cdx_log *log, uint8_t out[9], unsigned level, uint64_t index)
{
    if (log->schema == 1) {
        out[0] = (uint8_t)level;
        cdx__put_be64(out + 1, index);
    } else {
        cdx__put_be64(out, ((index + 1) << level) - 1);
        out[8] = (uint8_t)level;
    }
    return 9;
}

cdx_err cdx__log_node_put(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          const uint8_t hash[CDX_HASH_BYTES], int *mdb_rc)
{
    uint8_t key[9];
    MDB_val k = cdx__log_val(key, s_tree_key(log, key, level, index)),
            d = cdx__log_val(hash, CDX_HASH_BYTES);
    *mdb_rc = mdb_put(txn, log->tree, &k, &d, log->schema == 1 ? 0 : MDB_APPEND);
    return *mdb_rc ? CDX_ERR_IO : CDX_OK;
}

cdx_err cdx__log_node_get(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          uint8_t out[CDX_HASH_BYTES])
{
    uint8_t key[9];
    MDB_val k = cdx__log_val(key, s_tree_key(log, key, level, index)), d;
    int rc = mdb_get(txn, log->tree, &k, &d);
    if (rc == MDB_NOTFOUND)
        return CDX_ERR_NOENT;
    if (rc || d.mv_size != CDX_HASH_BYTES)
        return CDX_ERR_CORRUPT;
    memcpy(out, d.mv_data, CDX_HASH_BYTES);
    return CDX_OK;
}

/* Loads the right edge of the tree of `size` leaves: its perfect
 * subtrees, largest first. */
cdx_err cdx__log_frontier_load(cdx_log *log, MDB_txn *txn, uint64_t size, cdx_merkle_frontier *f)
{
    cdx_merkle_frontier_init(f);
    uint64_t offset = 0;
    for (int level = 63; level >= 0; level--) {
        uint64_t span = (uint64_t)1 << level;
        if (!(size & span))
            continue;
        cdx_err rc =
            cdx__log_node_get(log, txn, (unsigned)level, offset >> level, f->hash[f->depth]);
        if (rc != CDX_OK)
            return CDX_ERR_CORRUPT;
        f->level[f->depth++] = (unsigned)level;
        offset += span;
    }
    f->size = size;
    return CDX_OK;
}

typedef struct s_src_ctx {
    cdx_log *log;
    MDB_txn *txn;
} s_src_ctx;

static cdx_err s_src_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    s_src_ctx *s = ctx;
    cdx_err rc = cdx__log_node_get(s->log, s->txn, level, index, out);
    return rc == CDX_ERR_NOENT ? CDX_ERR_CORRUPT : rc;
}

typedef enum { S_ROOT, S_INCLUSION, S_CONSISTENCY } s_tree_kind;

static cdx_err s_tree_op(cdx_log *log, s_tree_kind op, uint64_t a, uint64_t b,
                         uint8_t (*out)[CDX_HASH_BYTES], size_t *n)
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    uint64_t size;
    rc = cdx__log_size_in(log, txn, &size, NULL);
    s_src_ctx ctx = {log, txn};
    cdx_merkle_source src = {s_src_node, &ctx};
    if (rc == CDX_OK) {
        switch (op) {
        case S_ROOT: rc = a > size ? CDX_ERR_INVALID : cdx_merkle_root(&src, a, out[0]); break;
        case S_INCLUSION:
            rc = b > size ? CDX_ERR_INVALID : cdx_merkle_inclusion_proof(&src, a, b, out, n);
            break;
        case S_CONSISTENCY:
            rc = b > size ? CDX_ERR_INVALID : cdx_merkle_consistency_proof(&src, a, b, out, n);
            break;
        }
    }
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_root(cdx_log *log, uint64_t size, uint8_t root[CDX_HASH_BYTES])
{
    return s_tree_op(log, S_ROOT, size, 0, (uint8_t(*)[CDX_HASH_BYTES])root, NULL);
}

cdx_err cdx_log_inclusion(cdx_log *log, uint64_t index, uint64_t size,
                          uint8_t (*path)[CDX_HASH_BYTES], size_t *n)
{
    return s_tree_op(log, S_INCLUSION, index, size, path, n);
}

cdx_err cdx_log_consistency(cdx_log *log, uint64_t old_size, uint64_t new_size,
                            uint8_t (*proof)[CDX_HASH_BYTES], size_t *n)
{
    return s_tree_op(log, S_CONSISTENCY, old_size, new_size, proof, n);
}

cdx_err cdx_log_tree_node(cdx_log *log, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__log_node_get(log, txn, level, index, out);
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_checkpoint(cdx_log *log, const cdx_identity *owner, uint64_t now_ms, char **text,
                           cdx_errbuf *eb)
{
    if (text)
        *text = NULL;
    if (log->read_only)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: opened read-only");
    if (strcmp(cdx_identity_id(owner), log->owner) != 0)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: %s cannot sign checkpoints of %s's log",
                        cdx_identity_id(owner), log->owner[0] ? log->owner : "nobody");
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (mrc)
        return cdx__log_mdb(eb, mrc, "checkpoint");
    uint64_t size;
    uint8_t root[CDX_HASH_BYTES];
    char *note = NULL;
    cdx_err rc = cdx__log_size_in(log, txn, &size, eb);
    s_src_ctx ctx = {log, txn};
    cdx_merkle_source src = {s_src_node, &ctx};
    if (rc == CDX_OK)
        rc = cdx_merkle_root(&src, size, root);
    if (rc == CDX_OK)
        rc = cdx_checkpoint_sign(&note, log->origin, size, root, now_ms / 1000, owner);
    if (rc == CDX_OK) {
        uint8_t key[8];
        cdx__put_be64(key, size);
        MDB_val k = cdx__log_val(key, 8), d = cdx__log_val(note, strlen(note));
        mrc = mdb_put(txn, log->heads, &k, &d, 0);
        rc = mrc ? cdx__log_commit_failed(log, mrc, "checkpoint", eb) : CDX_OK;
    }
    if (rc == CDX_OK) {
        mrc = cdx__log_commit(log, txn);
        rc = mrc ? cdx__log_commit_failed(log, mrc, "checkpoint", eb) : CDX_OK;
    } else {
        mdb_txn_abort(txn);
    }
    if (rc == CDX_OK && text)
        *text = note;
    else
        free(note);
    return rc;
}

cdx_err cdx_log_checkpoints(cdx_log *log, char ***texts, size_t *n)
{
    *texts = NULL;
    *n = 0;
    MDB_txn *txn;
    MDB_cursor *c;
    MDB_stat st;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    if (mdb_stat(txn, log->heads, &st) || mdb_cursor_open(txn, log->heads, &c)) {
        mdb_txn_abort(txn);
        return CDX_ERR_IO;
    }
    *texts = calloc(st.ms_entries + 1, sizeof **texts);
    if (!*texts)
        rc = CDX_ERR_NOMEM;
    MDB_val k, d;
    for (int mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST);
         rc == CDX_OK && mrc == 0 && *n < st.ms_entries;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        char *t = malloc(d.mv_size + 1);
        if (!t) {
            rc = CDX_ERR_NOMEM;
            break;
        }
        memcpy(t, d.mv_data, d.mv_size);
        t[d.mv_size] = '\0';
        (*texts)[(*n)++] = t;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}
