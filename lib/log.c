/* The audit log over LMDB; the only file that includes lmdb.h.
 *
 * Invariants:
 *  - entries are appended at index = current size with MDB_APPEND and never
 *    rewritten; a batch is one write transaction, committed (and fsynced,
 *    since neither MDB_NOSYNC nor MDB_WRITEMAP is used) before any caller
 *    learns its indexes;
 *  - every index (by_hash, by_sender, senders, tree) is written in the same
 *    transaction as the entry it describes, so they never disagree after a
 *    crash;
 *  - the tree holds every complete perfect subtree, so roots and proofs cost
 *    O(log n) reads (lib/merkle.c);
 *  - anything read inside a transaction is copied out before it ends.
 */
#include <errno.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "cydex/checkpoint.h"
#include "cydex/log.h"
#include "cydex/merkle.h"
#include "internal.h"

#define S_MAP_INITIAL (64u * 1024u * 1024u)
#define S_MAP_MAX ((size_t)64 * 1024 * 1024 * 1024)
#define S_NEAR_FULL ((uint64_t)16 * 1024 * 1024) /* this little room left: "full" */
#define S_NEAR_LIMIT ((uint64_t)1024 * 1024)     /* a file this near its size limit: at it */
#define S_SENDER_VAL (8u + CDX_HASH_BYTES)       /* index || envelope hash */

struct cdx_log {
    MDB_env *env;
    MDB_dbi log, by_hash, by_sender, senders, tree, heads, meta, outbox;
    bool read_only;
    unsigned schema; /* the layout of its tree keys (s_tree_key) */
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
    /* Copies of held envelopes dropped before an append saw them
     * (cdx_log_note_duplicates): counted by the next append. */
    uint64_t dropped_dups;
};

/* ---- small helpers ---- */

static void s_be64(uint8_t out[8], uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        out[i] = (uint8_t)v;
}

static uint64_t s_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static MDB_val s_val(const void *p, size_t n)
{
    return (MDB_val){.mv_size = n, .mv_data = (void *)p};
}

static cdx_err s_mdb(cdx_errbuf *eb, int rc, const char *what)
{
    cdx_err code;
    switch (rc) {
    case MDB_MAP_FULL: code = CDX_ERR_FULL; break;
    case ENOSPC: code = CDX_ERR_NOSPACE; break;
    case ENOMEM: code = CDX_ERR_NOMEM; break;
    case ENOENT: code = CDX_ERR_NOENT; break;
    case MDB_NOTFOUND: code = CDX_ERR_NOENT; break;
    case MDB_VERSION_MISMATCH: code = CDX_ERR_VERSION; break;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_BAD_VALSIZE: code = CDX_ERR_CORRUPT; break;
    default: code = CDX_ERR_IO; break;
    }
    return cdx_errf(eb, code, "log: %s: %s", what, mdb_strerror(rc));
}

/* A write transaction that failed to commit. When it failed writing, say
 * whether the disk or this process's file size limit is why: LMDB reports a
 * short write as EIO, which alone would send the operator looking for a
 * failing disk. */
static cdx_err s_commit_failed(cdx_log *log, int rc, const char *what, cdx_errbuf *eb)
{
    const char *dir = NULL;
    if ((rc != EIO && rc != ENOSPC && rc != EFBIG) || mdb_env_get_path(log->env, &dir) || !dir)
        return s_mdb(eb, rc, what);
    char data[4096];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    struct rlimit lim;
    struct stat st;
    struct statvfs fs;
    if (statvfs(dir, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < S_NEAR_FULL)
        return cdx_errf(eb, CDX_ERR_NOSPACE,
                        "log: %s: no space left on the device that holds %s (%llu KiB free): "
                        "nothing of it was written",
                        what, dir, (unsigned long long)fs.f_bavail * fs.f_frsize / 1024);
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
        stat(data, &st) == 0 && (uint64_t)st.st_size + S_NEAR_LIMIT > (uint64_t)lim.rlim_cur)
        return cdx_errf(eb, CDX_ERR_NOSPACE,
                        "log: %s: %s reached this process's file size limit of %llu bytes "
                        "(ulimit -f; LimitFSIZE= under systemd): nothing of it was written",
                        what, data, (unsigned long long)lim.rlim_cur);
    return s_mdb(eb, rc, what);
}

/* sender 0x00 seq(8 BE) */
static size_t s_sender_key(uint8_t out[CDX_ID_MAX + 9], const char *sender, uint64_t seq)
{
    size_t n = strlen(sender);
    memcpy(out, sender, n);
    out[n] = 0;
    s_be64(out + n + 1, seq);
    return n + 9;
}

/* Schema 2: the last leaf the node covers (uint64 BE) || level, so that
 * the nodes an append completes, (i, 0), (i, 1), ..., come in key order
 * after every node before them: tree puts are MDB_APPENDs into the
 * rightmost page. Schema 1 (still read and appended to): level || index. */
static size_t s_tree_key(const cdx_log *log, uint8_t out[9], unsigned level, uint64_t index)
{
    if (log->schema == 1) {
        out[0] = (uint8_t)level;
        s_be64(out + 1, index);
    } else {
        s_be64(out, ((index + 1) << level) - 1);
        out[8] = (uint8_t)level;
    }
    return 9;
}

/* ---- open / close ---- */

static const char *s_dbnames[] = {"log",  "by_hash", "by_sender", "senders",
                                  "tree", "heads",   "meta",      "outbox"};
#define S_N_DBS (sizeof s_dbnames / sizeof *s_dbnames)

static cdx_err s_open_env(cdx_log *log, const char *dir, unsigned flags, cdx_errbuf *eb)
{
    int rc = mdb_env_create(&log->env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(log->env, 10);
    if (rc == 0 && !log->read_only)
        rc = mdb_env_set_mapsize(log->env, log->map_size);
    if (rc == 0)
        rc = mdb_env_open(log->env, dir, flags | MDB_NOTLS, 0600);
    if (rc != 0) {
        mdb_env_close(log->env);
        log->env = NULL;
        return s_mdb(eb, rc, dir);
    }
    MDB_envinfo info;
    mdb_env_info(log->env, &info);
    log->map_size = info.me_mapsize;
    return CDX_OK;
}

static cdx_err s_meta_put(cdx_log *log, MDB_txn *txn, const char *key, const void *v, size_t n,
                          cdx_errbuf *eb)
{
    MDB_val k = s_val(key, strlen(key)), d = s_val(v, n);
    int rc = mdb_put(txn, log->meta, &k, &d, 0);
    return rc ? s_mdb(eb, rc, "meta") : CDX_OK;
}

static cdx_err s_open_dbs(cdx_log *log, const cdx_log_opts *opts, cdx_errbuf *eb)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(log->env, NULL, log->read_only ? MDB_RDONLY : 0, &txn);
    if (rc)
        return s_mdb(eb, rc, "open");
    MDB_dbi *dbis[] = {&log->log,  &log->by_hash, &log->by_sender, &log->senders,
                       &log->tree, &log->heads,   &log->meta,      &log->outbox};
    _Static_assert(sizeof dbis / sizeof *dbis == S_N_DBS, "a name for every table");
    for (size_t i = 0; i < S_N_DBS && rc == 0; i++) {
        unsigned flags = log->read_only ? 0 : MDB_CREATE;
        if (dbis[i] == &log->by_sender)
            flags |= MDB_DUPSORT | MDB_DUPFIXED;
        rc = mdb_dbi_open(txn, s_dbnames[i], flags, dbis[i]);
    }
    if (rc) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND)
            return cdx_errf(eb, CDX_ERR_FORMAT, "log: this is not a CyDEx log (no '%s' table)",
                            "log");
        return s_mdb(eb, rc, "open tables");
    }
    MDB_val k = s_val("schema", 6), d;
    cdx_err err = CDX_OK;
    rc = mdb_get(txn, log->meta, &k, &d);
    if (rc == MDB_NOTFOUND && !log->read_only) {
        uint8_t v[8];
        s_be64(v, CDX_LOG_SCHEMA);
        log->schema = CDX_LOG_SCHEMA;
        const char *owner = opts && opts->owner ? opts->owner : "";
        char origin[CDX_ORIGIN_MAX + 1];
        snprintf(origin, sizeof origin, "%s", opts && opts->origin ? opts->origin : "");
        if (!origin[0])
            snprintf(origin, sizeof origin, "cydex/%s", owner[0] ? owner : "log");
        if (owner[0] && !cdx_id_valid(owner))
            err = cdx_errf(eb, CDX_ERR_INVALID, "log: bad owner id \"%s\"", owner);
        if (err == CDX_OK)
            err = s_meta_put(log, txn, "schema", v, 8, eb);
        if (err == CDX_OK)
            err = s_meta_put(log, txn, "origin", origin, strlen(origin), eb);
        if (err == CDX_OK)
            err = s_meta_put(log, txn, "owner", owner, strlen(owner), eb);
    } else if (rc == MDB_NOTFOUND || (rc == 0 && d.mv_size != 8)) {
        err = cdx_errf(eb, CDX_ERR_FORMAT, "log: no schema version: not a CyDEx log");
    } else if (rc) {
        err = s_mdb(eb, rc, "meta");
    } else if (s_get64(d.mv_data) < CDX_LOG_SCHEMA_OLDEST || s_get64(d.mv_data) > CDX_LOG_SCHEMA) {
        err =
            cdx_errf(eb, CDX_ERR_VERSION, "log: schema version %llu; this program reads %u to %u",
                     (unsigned long long)s_get64(d.mv_data), CDX_LOG_SCHEMA_OLDEST, CDX_LOG_SCHEMA);
    } else {
        log->schema = (unsigned)s_get64(d.mv_data);
    }
    if (err == CDX_OK) {
        k = s_val("origin", 6);
        if (mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size <= CDX_ORIGIN_MAX) {
            memcpy(log->origin, d.mv_data, d.mv_size);
            log->origin[d.mv_size] = '\0';
        }
        k = s_val("owner", 5);
        if (mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size <= CDX_ID_MAX) {
            memcpy(log->owner, d.mv_data, d.mv_size);
            log->owner[d.mv_size] = '\0';
        }
    }
    if (err != CDX_OK) {
        mdb_txn_abort(txn);
        return err;
    }
    rc = mdb_txn_commit(txn);
    return rc ? s_commit_failed(log, rc, "open", eb) : CDX_OK;
}

cdx_err cdx_log_new(cdx_log **out, const char *dir, const cdx_log_opts *opts, cdx_errbuf *eb)
{
    *out = NULL;
    if (cdx__sodium_ready() != CDX_OK)
        return CDX_ERR_CRYPTO;
    cdx_log *log = calloc(1, sizeof *log);
    if (!log)
        return CDX_ERR_NOMEM;
    log->read_only = opts && opts->read_only;
    log->map_size = opts && opts->map_initial ? opts->map_initial : S_MAP_INITIAL;
    log->map_max = opts && opts->map_max ? opts->map_max : S_MAP_MAX;
    if (log->map_size > log->map_max)
        log->map_size = log->map_max;
    cdx_err rc = CDX_OK;
    char data[4096];
    snprintf(data, sizeof data, "%s/data.mdb", dir);
    struct stat st;
    if (log->read_only && stat(data, &st) != 0) {
        rc = cdx_errf(eb, CDX_ERR_NOENT, "no log in %s (no data.mdb)", dir);
    } else if (!log->read_only && mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    } else if (log->read_only) {
        /* A copy on read-only media has no usable lock file. */
        rc = s_open_env(log, dir, MDB_RDONLY, NULL);
        if (rc != CDX_OK)
            rc = s_open_env(log, dir, MDB_RDONLY | MDB_NOLOCK, eb);
    } else {
        rc = s_open_env(log, dir, 0, eb);
        int dead = 0;
        if (rc == CDX_OK)
            mdb_reader_check(log->env, &dead);
    }
    if (rc == CDX_OK)
        rc = s_open_dbs(log, opts, eb);
    if (rc != CDX_OK)
        cdx_log_destroy(&log);
    *out = log;
    return rc;
}

void cdx_log_destroy(cdx_log **log)
{
    if (!log || !*log)
        return;
    if ((*log)->env && (*log)->n_forget)
        cdx_log_outbox_flush(*log, NULL); /* best effort: if not, a restart resends */
    if ((*log)->env)
        mdb_env_close((*log)->env);
    free((*log)->forget);
    free(*log);
    *log = NULL;
}

const char *cdx_log_origin(const cdx_log *log)
{
    return log->origin;
}

const char *cdx_log_owner(const cdx_log *log)
{
    return log->owner;
}

/* A read transaction; handles another process having grown the map. */
static cdx_err s_read_txn(cdx_log *log, MDB_txn **txn, cdx_errbuf *eb)
{
    int rc = mdb_txn_begin(log->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(log->env, 0);
        rc = mdb_txn_begin(log->env, NULL, MDB_RDONLY, txn);
    }
    return rc ? s_mdb(eb, rc, "read") : CDX_OK;
}

/* ---- entries ---- */

const char *cdx_log_outcome_name(cdx_log_outcome o)
{
    return o == CDX_LOG_ACCEPTED ? "accepted" : o == CDX_LOG_EQUIVOCATION ? "equivocation" : "?";
}

void cdx_log_entry_clear(cdx_log_entry *e)
{
    if (!e)
        return;
    cdx_bytes_free(&e->envelope);
    memset(e, 0, sizeof *e);
}

void cdx__log_leaf_hash(const cdx_log_entry *e, const char *signer,
                        const uint8_t env_hash[CDX_HASH_BYTES], const uint8_t sig[CDX_SIG_BYTES],
                        uint8_t out[CDX_HASH_BYTES])
{
    uint8_t leaf[1 + 1 + 4 + 8 + 1 + CDX_ID_MAX + 1 + CDX_ID_MAX + CDX_HASH_BYTES + CDX_SIG_BYTES];
    size_t n = 0, from = strlen(e->received_from), sl = strlen(signer);
    leaf[n++] = 0x01;
    leaf[n++] = (uint8_t)e->outcome;
    for (int i = 3; i >= 0; i--)
        leaf[n++] = (uint8_t)(e->flags >> (8 * i));
    s_be64(leaf + n, e->received_at_ms);
    n += 8;
    leaf[n++] = (uint8_t)from;
    memcpy(leaf + n, e->received_from, from);
    n += from;
    leaf[n++] = (uint8_t)sl;
    memcpy(leaf + n, signer, sl);
    n += sl;
    memcpy(leaf + n, env_hash, CDX_HASH_BYTES);
    n += CDX_HASH_BYTES;
    memcpy(leaf + n, sig, CDX_SIG_BYTES);
    n += CDX_SIG_BYTES;
    cdx_merkle_leaf_hash(out, leaf, n);
}

void cdx_log_entry_leaf_hash(const cdx_log_entry *e, uint8_t out[CDX_HASH_BYTES])
{
    cdx__outer outer;
    uint8_t h[CDX_HASH_BYTES];
    static const uint8_t no_sig[CDX_SIG_BYTES];
    if (cdx__outer_decode(&outer, e->envelope.data, e->envelope.len, 0, NULL) == CDX_OK &&
        outer.version == CDX_WIRE_VERSION && outer.has_signature) {
        cdx_hash(h, outer.buf, outer.body_len);
        cdx__log_leaf_hash(e, outer.signer, h, outer.signature, out);
    } else {
        cdx_hash(h, e->envelope.data, e->envelope.len);
        cdx__log_leaf_hash(e, "", h, no_sig, out);
    }
    cdx__outer_clear(&outer);
}

cdx_err cdx_log_entry_encode(const cdx_log_entry *e, cdx_bytes *out)
{
    return cdx__log_entry_encode(e, out);
}

cdx_err cdx_log_entry_decode(cdx_log_entry *out, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    return cdx__log_entry_decode(out, data, len, eb);
}

static cdx_err s_size_in(cdx_log *log, MDB_txn *txn, uint64_t *size, cdx_errbuf *eb)
{
    MDB_cursor *c;
    MDB_val k, d;
    int rc = mdb_cursor_open(txn, log->log, &c);
    if (rc)
        return s_mdb(eb, rc, "size");
    rc = mdb_cursor_get(c, &k, &d, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *size = 0;
        return CDX_OK;
    }
    if (rc)
        return s_mdb(eb, rc, "size");
    if (k.mv_size != 8)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a key of %zu bytes in the entry table",
                        k.mv_size);
    *size = s_get64(k.mv_data) + 1;
    return CDX_OK;
}

/* Orders records that begin with a hash, by it. */
static int s_cmp_hash(const void *x, const void *y)
{
    return memcmp(x, y, CDX_HASH_BYTES);
}

/* How many outbox rows no receipt has come for: the table's rows less
 * those queued for deletion (each counted once), read without writing. */
static cdx_err s_outbox_count(cdx_log *log, MDB_txn *txn, size_t *count)
{
    MDB_stat st;
    int mrc = mdb_stat(txn, log->outbox, &st);
    if (mrc)
        return s_mdb(NULL, mrc, "outbox");
    size_t n = st.ms_entries;
    uint8_t(*q)[CDX_HASH_BYTES] = log->n_forget ? malloc(log->n_forget * CDX_HASH_BYTES) : NULL;
    if (log->n_forget && !q)
        return CDX_ERR_NOMEM;
    if (q) {
        memcpy(q, log->forget, log->n_forget * CDX_HASH_BYTES);
        qsort(q, log->n_forget, CDX_HASH_BYTES, s_cmp_hash);
    }
    for (size_t i = 0; i < log->n_forget; i++) {
        MDB_val k = s_val(q[i], CDX_HASH_BYTES), d;
        bool again = i > 0 && memcmp(q[i], q[i - 1], CDX_HASH_BYTES) == 0;
        if (!again && n && mdb_get(txn, log->outbox, &k, &d) == 0)
            n--;
    }
    free(q);
    *count = n;
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
        rc = s_read_txn(log, &txn, NULL);
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
    for (int mrc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        const uint8_t *nul = memchr(d.mv_data, 0, d.mv_size);
        if (!nul || nul - (const uint8_t *)d.mv_data > CDX_TOPIC_MAX)
            continue;
        char topic[CDX_TOPIC_MAX + 1];
        size_t tl = (size_t)(nul - (const uint8_t *)d.mv_data);
        memcpy(topic, d.mv_data, tl + 1);
        cdx_log_entry e = {0};
        e.envelope.len = d.mv_size - tl - 1;
        e.envelope.data = malloc(e.envelope.len + 1);
        if (!e.envelope.data) {
            rc = CDX_ERR_NOMEM;
            break;
        }
        memcpy(e.envelope.data, nul + 1, e.envelope.len);
        rc = fn ? fn(ctx, topic, &e) : CDX_OK;
        cdx_log_entry_clear(&e);
        if (count)
            (*count)++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

/* Deletes the rows waiting in log->forget inside txn (the caller commits
 * and then clears the list). */
static int s_forget_in(cdx_log *log, MDB_txn *txn, size_t *removed)
{
    size_t gone = 0;
    for (size_t i = 0; i < log->n_forget; i++) {
        MDB_val k = s_val(log->forget + i * CDX_HASH_BYTES, CDX_HASH_BYTES);
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

size_t cdx_log_outbox_pending(const cdx_log *log)
{
    return log->n_forget;
}

cdx_err cdx_log_outbox_flush(cdx_log *log, size_t *removed)
{
    if (removed)
        *removed = 0;
    if (log->n_forget == 0)
        return CDX_OK;
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (!mrc && (mrc = s_forget_in(log, txn, removed)) != 0)
        mdb_txn_abort(txn);
    else if (!mrc)
        mrc = mdb_txn_commit(txn);
    if (mrc)
        return s_commit_failed(log, mrc, "outbox", NULL);
    log->n_forget = 0;
    return CDX_OK;
}

cdx_err cdx_log_outbox_remove(cdx_log *log, const uint8_t *hashes, size_t n, size_t *removed)
{
    if (removed)
        *removed = 0;
    cdx_err rc = cdx_log_outbox_forget(log, hashes, n);
    return rc == CDX_OK ? cdx_log_outbox_flush(log, removed) : rc;
}

cdx_err cdx_log_size(cdx_log *log, uint64_t *size)
{
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc == CDX_OK) {
        rc = s_size_in(log, txn, size, NULL);
        mdb_txn_abort(txn);
    }
    return rc;
}

static cdx_err s_node_put(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          const uint8_t hash[CDX_HASH_BYTES], int *mdb_rc)
{
    uint8_t key[9];
    MDB_val k = s_val(key, s_tree_key(log, key, level, index)), d = s_val(hash, CDX_HASH_BYTES);
    *mdb_rc = mdb_put(txn, log->tree, &k, &d, log->schema == 1 ? 0 : MDB_APPEND);
    return *mdb_rc ? CDX_ERR_IO : CDX_OK;
}

static cdx_err s_node_get(cdx_log *log, MDB_txn *txn, unsigned level, uint64_t index,
                          uint8_t out[CDX_HASH_BYTES])
{
    uint8_t key[9];
    MDB_val k = s_val(key, s_tree_key(log, key, level, index)), d;
    int rc = mdb_get(txn, log->tree, &k, &d);
    if (rc == MDB_NOTFOUND)
        return CDX_ERR_NOENT;
    if (rc || d.mv_size != CDX_HASH_BYTES)
        return CDX_ERR_CORRUPT;
    memcpy(out, d.mv_data, CDX_HASH_BYTES);
    return CDX_OK;
}

typedef struct s_sender_rec {
    uint64_t max_seq;
    uint8_t max_hash[CDX_HASH_BYTES];
    uint64_t count;
} s_sender_rec;

#define S_SENDER_REC (8u + CDX_HASH_BYTES + 8u)
#define S_BATCH_SENDERS 64u

static void s_sender_decode(s_sender_rec *r, const MDB_val *d)
{
    memset(r, 0, sizeof *r);
    if (d->mv_size != S_SENDER_REC)
        return;
    const uint8_t *p = d->mv_data;
    r->max_seq = s_get64(p);
    memcpy(r->max_hash, p + 8, CDX_HASH_BYTES);
    r->count = s_get64(p + 8 + CDX_HASH_BYTES);
}

static uint64_t s_counter(cdx_log *log, MDB_txn *txn, const char *name)
{
    MDB_val k = s_val(name, strlen(name)), d;
    return mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size == 8 ? s_get64(d.mv_data) : 0;
}

/* One append transaction's working state. */
typedef struct s_batch {
    cdx_log *log;
    MDB_txn *txn;
    MDB_cursor *by_sender;
    uint64_t size, dups, equivs;
    cdx_merkle_frontier tree; /* becomes log->frontier on commit */
    struct {
        char id[CDX_ID_MAX + 1];
        s_sender_rec rec;
    } senders[S_BATCH_SENDERS];
    size_t n_senders;
    int mdb_rc;
    /* by_hash rows of the batch, written sorted at its end (inserting
     * random keys in order touches the B-tree's pages in order). */
    uint8_t (*pend)[CDX_HASH_BYTES + 8];
    size_t n_pend;
} s_batch;

/* Loads the right edge of the tree of `size` leaves: its perfect
 * subtrees, largest first. */
static cdx_err s_frontier_load(cdx_log *log, MDB_txn *txn, uint64_t size, cdx_merkle_frontier *f)
{
    cdx_merkle_frontier_init(f);
    uint64_t offset = 0;
    for (int level = 63; level >= 0; level--) {
        uint64_t span = (uint64_t)1 << level;
        if (!(size & span))
            continue;
        cdx_err rc = s_node_get(log, txn, (unsigned)level, offset >> level, f->hash[f->depth]);
        if (rc != CDX_OK)
            return CDX_ERR_CORRUPT;
        f->level[f->depth++] = (unsigned)level;
        offset += span;
    }
    f->size = size;
    return CDX_OK;
}

static cdx_err s_put_node(void *ctx, unsigned level, uint64_t index,
                          const uint8_t hash[CDX_HASH_BYTES])
{
    s_batch *b = ctx;
    return s_node_put(b->log, b->txn, level, index, hash, &b->mdb_rc);
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
    size_t ls = s_sender_key(ks, sender, seq);
    MDB_val k, d;
    int rc;
    memset(p, 0, sizeof *p);
    if (seq > 1) {
        size_t lp = s_sender_key(kp, sender, seq - 1);
        k = s_val(kp, lp);
        rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
        while (rc == 0 && k.mv_size == lp && memcmp(k.mv_data, kp, lp) == 0) {
            p->prev_found = true;
            if (d.mv_size == S_SENDER_VAL &&
                memcmp((uint8_t *)d.mv_data + 8, prev_hash, CDX_HASH_BYTES) == 0)
                p->prev_match = true;
            rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
        }
    } else {
        k = s_val(ks, ls);
        rc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    }
    while (rc == 0 && k.mv_size == ls && memcmp(k.mv_data, ks, ls) == 0) {
        p->found = true;
        if (d.mv_size == S_SENDER_VAL &&
            memcmp((uint8_t *)d.mv_data + 8, hash, CDX_HASH_BYTES) == 0) {
            p->dup = true;
            p->dup_index = s_get64(d.mv_data);
        }
        rc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static cdx_err s_flush_senders(s_batch *b, cdx_errbuf *eb)
{
    for (size_t i = 0; i < b->n_senders; i++) {
        uint8_t rv[S_SENDER_REC];
        const s_sender_rec *r = &b->senders[i].rec;
        s_be64(rv, r->max_seq);
        memcpy(rv + 8, r->max_hash, CDX_HASH_BYTES);
        s_be64(rv + 8 + CDX_HASH_BYTES, r->count);
        MDB_val k = s_val(b->senders[i].id, strlen(b->senders[i].id)), d = s_val(rv, sizeof rv);
        if ((b->mdb_rc = mdb_put(b->txn, b->log->senders, &k, &d, 0)))
            return s_mdb(eb, b->mdb_rc, "senders");
    }
    b->n_senders = 0;
    return CDX_OK;
}

/* The batch's copy of a sender's record, read on first use. */
static cdx_err s_sender_rec_of(s_batch *b, const char *id, s_sender_rec **out, cdx_errbuf *eb)
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
    MDB_val k = s_val(id, strlen(id)), d;
    size_t i = b->n_senders++;
    cdx__copy_id(b->senders[i].id, id);
    b->mdb_rc = mdb_get(b->txn, b->log->senders, &k, &d);
    if (b->mdb_rc == 0)
        s_sender_decode(&b->senders[i].rec, &d);
    else if (b->mdb_rc == MDB_NOTFOUND)
        memset(&b->senders[i].rec, 0, sizeof b->senders[i].rec);
    else
        return s_mdb(eb, b->mdb_rc, "senders");
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
        return s_mdb(eb, b->mdb_rc, "by_sender");
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
    uint8_t ikey[8], sval[S_SENDER_VAL], skey[CDX_ID_MAX + 9];
    s_be64(ikey, e.index);
    k = s_val(ikey, 8);
    d.mv_size = cdx__log_entry_size(&e);
    d.mv_data = NULL;
    if ((b->mdb_rc = mdb_put(txn, log->log, &k, &d, MDB_APPEND | MDB_RESERVE)))
        return s_mdb(eb, b->mdb_rc, "append");
    cdx__log_entry_pack(&e, d.mv_data);

    memcpy(b->pend[b->n_pend], h, CDX_HASH_BYTES);
    memcpy(b->pend[b->n_pend] + CDX_HASH_BYTES, ikey, 8);
    b->n_pend++;
    memcpy(sval, ikey, 8);
    memcpy(sval + 8, h, CDX_HASH_BYTES);
    k = s_val(skey, s_sender_key(skey, body->sender, body->seq));
    d = s_val(sval, sizeof sval);
    if ((b->mdb_rc = mdb_put(txn, log->by_sender, &k, &d, 0)))
        return s_mdb(eb, b->mdb_rc, "by_sender");

    if (in->outbox) { /* in the same transaction: logged and pending, or neither */
        size_t tl = strlen(body->topic);
        k = s_val(h, CDX_HASH_BYTES);
        d.mv_size = tl + 1 + raw_len;
        d.mv_data = NULL;
        if ((b->mdb_rc = mdb_put(txn, log->outbox, &k, &d, MDB_RESERVE)))
            return s_mdb(eb, b->mdb_rc, "outbox");
        memcpy(d.mv_data, body->topic, tl + 1);
        memcpy((uint8_t *)d.mv_data + tl + 1, e.envelope.data, raw_len);
    }

    s_sender_rec *rec = NULL;
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
        return s_mdb(eb, b->mdb_rc, "tree");
    if (e.outcome == CDX_LOG_EQUIVOCATION)
        b->equivs++;
    out->status = e.outcome == CDX_LOG_ACCEPTED ? CDX_APPEND_STORED : CDX_APPEND_EQUIVOCATION;
    out->index = e.index;
    out->flags = e.flags;
    b->size++;
    return CDX_OK;
}

static cdx_err s_bump(cdx_log *log, MDB_txn *txn, const char *name, uint64_t by, cdx_errbuf *eb)
{
    if (!by)
        return CDX_OK;
    uint8_t v[8];
    s_be64(v, s_counter(log, txn, name) + by);
    return s_meta_put(log, txn, name, v, 8, eb);
}

/* The whole batch inside one transaction; the caller commits or aborts. */
static cdx_err s_append_batch(s_batch *b, const cdx_log_append_in *in, size_t n,
                              cdx_log_append_out *out, cdx_errbuf *eb)
{
    cdx_log *log = b->log;
    cdx_err rc = s_size_in(log, b->txn, &b->size, eb);
    if (rc != CDX_OK)
        return rc;
    if (log->have_frontier && log->frontier.size == b->size)
        b->tree = log->frontier;
    else if ((rc = s_frontier_load(log, b->txn, b->size, &b->tree)) != CDX_OK)
        return cdx_errf(eb, rc, "log: the tree is missing a node of its right edge");
    if ((b->mdb_rc = mdb_cursor_open(b->txn, log->by_sender, &b->by_sender)))
        return s_mdb(eb, b->mdb_rc, "by_sender");
    b->pend = malloc((n ? n : 1) * sizeof *b->pend);
    if (!b->pend)
        rc = CDX_ERR_NOMEM;
    for (size_t i = 0; rc == CDX_OK && i < n; i++)
        rc = s_append_one(b, &in[i], &out[i], eb);
    if (rc == CDX_OK && b->n_pend > 1)
        qsort(b->pend, b->n_pend, sizeof *b->pend, s_cmp_hash);
    for (size_t i = 0; rc == CDX_OK && i < b->n_pend; i++) {
        MDB_val k = s_val(b->pend[i], CDX_HASH_BYTES), d = s_val(b->pend[i] + CDX_HASH_BYTES, 8);
        if ((b->mdb_rc = mdb_put(b->txn, log->by_hash, &k, &d, 0)))
            rc = s_mdb(eb, b->mdb_rc, "by_hash");
    }
    free(b->pend);
    b->pend = NULL;
    b->n_pend = 0;
    mdb_cursor_close(b->by_sender);
    if (rc == CDX_OK)
        rc = s_flush_senders(b, eb);
    if (rc == CDX_OK)
        rc = s_bump(log, b->txn, "count/duplicates", b->dups + log->dropped_dups, eb);
    if (rc == CDX_OK)
        rc = s_bump(log, b->txn, "count/equivocations", b->equivs, eb);
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
            rc = s_mdb(eb, mrc, "begin");
            break;
        }
        rc = s_append_batch(b, in, n, out, eb);
        if (rc == CDX_OK && (b->mdb_rc = s_forget_in(log, b->txn, NULL)) != 0)
            rc = s_mdb(eb, b->mdb_rc, "outbox");
        if (rc == CDX_OK) {
            mrc = mdb_txn_commit(b->txn); /* durable: this is the fsync */
            if (mrc == 0) {
                log->frontier = b->tree;
                log->have_frontier = true;
                log->n_forget = 0; /* receipted rows went with it */
                log->dropped_dups = 0;
                break;
            }
            rc = s_commit_failed(log, mrc, "commit", eb);
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
            rc = s_mdb(eb, mrc, "grow");
            break;
        }
        log->map_size = next;
    }
    free(b);
    return rc;
}

/* ---- reading ---- */

static cdx_err s_decode_at(MDB_val *k, MDB_val *d, uint64_t expect, cdx_log_entry *out,
                           cdx_errbuf *eb)
{
    if (k->mv_size != 8)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a key of %zu bytes after entry %llu", k->mv_size,
                        (unsigned long long)expect);
    uint64_t at = s_get64(k->mv_data);
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
    cdx_err rc = s_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    uint8_t key[8];
    s_be64(key, index);
    MDB_val k = s_val(key, 8), d;
    int mrc = mdb_get(txn, log->log, &k, &d);
    if (mrc == MDB_NOTFOUND)
        rc = cdx_errf(eb, CDX_ERR_NOENT, "log: no entry %llu", (unsigned long long)index);
    else if (mrc)
        rc = s_mdb(eb, mrc, "get");
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
    cdx_err rc = s_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->log, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return s_mdb(eb, mrc, "scan");
    }
    uint8_t key[8];
    s_be64(key, from);
    MDB_val k = s_val(key, 8), d;
    mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
    for (uint64_t at = from; rc == CDX_OK && at < to && mrc == 0; at++) {
        cdx_log_entry e;
        rc = s_decode_at(&k, &d, at, &e, eb);
        if (rc == CDX_OK)
            e.has_tree_leaf = s_node_get(log, txn, 0, at, e.tree_leaf) == CDX_OK;
        if (rc == CDX_OK)
            rc = fn(ctx, &e);
        cdx_log_entry_clear(&e);
        if (rc == CDX_OK)
            mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT);
    }
    if (rc == CDX_OK && mrc && mrc != MDB_NOTFOUND)
        rc = s_mdb(eb, mrc, "scan");
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
    cdx_err rc = s_read_txn(log, &txn, eb);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->by_sender, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return s_mdb(eb, mrc, "scan");
    }
    uint8_t key[CDX_ID_MAX + 9];
    size_t prefix = strlen(sender) + 1; /* the id and its 0x00 */
    MDB_val k = s_val(key, s_sender_key(key, sender, from)), d;
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); rc == CDX_OK && mrc == 0;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != prefix + 8 || memcmp(k.mv_data, key, prefix) != 0)
            break;
        uint64_t seq = s_get64((uint8_t *)k.mv_data + prefix);
        if (to && seq > to)
            break;
        if (d.mv_size != S_SENDER_VAL) {
            rc = cdx_errf(eb, CDX_ERR_CORRUPT, "log: bad by_sender value");
            break;
        }
        uint64_t index = s_get64(d.mv_data);
        uint8_t ik[8];
        s_be64(ik, index);
        MDB_val ek = s_val(ik, 8), ev;
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
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    int mrc = mdb_cursor_open(txn, log->by_sender, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return s_mdb(NULL, mrc, "gaps");
    }
    uint8_t key[CDX_ID_MAX + 9];
    size_t prefix = strlen(sender) + 1;
    MDB_val k = s_val(key, s_sender_key(key, sender, from)), d;
    uint64_t want = from; /* the lowest seq not yet seen */
    for (mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); mrc == 0 && *n < cap && want <= to;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != prefix + 8 || memcmp(k.mv_data, key, prefix) != 0)
            break;
        uint64_t seq = s_get64((uint8_t *)k.mv_data + prefix);
        if (seq > want)
            out[(*n)++] = (cdx_log_range){want, seq - 1 < to ? seq - 1 : to};
        if (seq >= want)
            want = seq + 1;
    }
    if (want <= to && *n < cap && (mrc == 0 || mrc == MDB_NOTFOUND))
        out[(*n)++] = (cdx_log_range){want, to};
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return mrc == 0 || mrc == MDB_NOTFOUND ? CDX_OK : s_mdb(NULL, mrc, "gaps");
}

cdx_err cdx_log_find_hash(cdx_log *log, const uint8_t hash[CDX_HASH_BYTES], uint64_t *index)
{
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = s_val(hash, CDX_HASH_BYTES), d;
    int mrc = mdb_get(txn, log->by_hash, &k, &d);
    if (mrc == 0 && d.mv_size == 8)
        *index = s_get64(d.mv_data);
    mdb_txn_abort(txn);
    return mrc == 0 ? CDX_OK : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT : s_mdb(NULL, mrc, "find");
}

cdx_err cdx_log_held(cdx_log *log, const uint8_t *const *data, const size_t *len, size_t n,
                     bool *held)
{
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        uint8_t h[CDX_HASH_BYTES];
        held[i] = false;
        if (cdx_envelope_peek_hash(data[i], len[i], h) != CDX_OK)
            continue;
        MDB_val k = s_val(h, CDX_HASH_BYTES), d;
        int mrc = mdb_get(txn, log->by_hash, &k, &d);
        held[i] = mrc == 0;
        if (mrc && mrc != MDB_NOTFOUND)
            rc = s_mdb(NULL, mrc, "find");
    }
    mdb_txn_abort(txn);
    return rc;
}

void cdx_log_note_duplicates(cdx_log *log, uint64_t n)
{
    log->dropped_dups += n;
}

cdx_err cdx_log_find_seq(cdx_log *log, const char *sender, uint64_t seq, uint64_t *index)
{
    if (!cdx_id_valid(sender))
        return CDX_ERR_INVALID;
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    uint8_t key[CDX_ID_MAX + 9];
    MDB_val k = s_val(key, s_sender_key(key, sender, seq)), d;
    int mrc = mdb_get(txn, log->by_sender, &k, &d);
    if (mrc == 0 && d.mv_size == S_SENDER_VAL)
        *index = s_get64(d.mv_data);
    mdb_txn_abort(txn);
    return mrc == 0 ? CDX_OK : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT : s_mdb(NULL, mrc, "find");
}

cdx_err cdx_log_sender_get(cdx_log *log, const char *id, cdx_log_sender *out)
{
    memset(out, 0, sizeof *out);
    if (!cdx_id_valid(id))
        return CDX_ERR_INVALID;
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = s_val(id, strlen(id)), d;
    int mrc = mdb_get(txn, log->senders, &k, &d);
    if (mrc == 0) {
        s_sender_rec r;
        s_sender_decode(&r, &d);
        cdx__copy_id(out->id, id);
        out->max_seq = r.max_seq;
        memcpy(out->max_hash, r.max_hash, CDX_HASH_BYTES);
        out->count = r.count;
    }
    mdb_txn_abort(txn);
    return mrc == 0 ? CDX_OK : mrc == MDB_NOTFOUND ? CDX_ERR_NOENT : s_mdb(NULL, mrc, "senders");
}

cdx_err cdx_log_senders(cdx_log *log, cdx_log_sender **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn;
    MDB_cursor *c;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_stat st;
    int mrc = mdb_stat(txn, log->senders, &st);
    if (mrc == 0)
        mrc = mdb_cursor_open(txn, log->senders, &c);
    if (mrc) {
        mdb_txn_abort(txn);
        return s_mdb(NULL, mrc, "senders");
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
        s_sender_rec r;
        s_sender_decode(&r, &d);
        s->max_seq = r.max_seq;
        memcpy(s->max_hash, r.max_hash, CDX_HASH_BYTES);
        s->count = r.count;
        (*n)++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_counters_get(cdx_log *log, cdx_log_counters *out)
{
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->duplicates = s_counter(log, txn, "count/duplicates");
    out->equivocations = s_counter(log, txn, "count/equivocations");
    MDB_cursor *c;
    if (mdb_cursor_open(txn, log->meta, &c) == 0) {
        static const char prefix[] = "rejected/";
        MDB_val k = s_val(prefix, sizeof prefix - 1), d;
        int mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
        for (; mrc == 0 && out->n_rejected < CDX_LOG_MAX_REASONS;
             mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
            size_t pl = sizeof prefix - 1;
            if (k.mv_size <= pl || memcmp(k.mv_data, prefix, pl) != 0)
                break;
            size_t rl = k.mv_size - pl < 31 ? k.mv_size - pl : 31;
            memcpy(out->rejected[out->n_rejected].reason, (char *)k.mv_data + pl, rl);
            out->rejected[out->n_rejected].reason[rl] = '\0';
            out->rejected[out->n_rejected].count = d.mv_size == 8 ? s_get64(d.mv_data) : 0;
            out->n_rejected++;
        }
        mdb_cursor_close(c);
    }
    mdb_txn_abort(txn);
    return CDX_OK;
}

cdx_err cdx_log_count_rejected(cdx_log *log, const char *reason, uint64_t n, cdx_errbuf *eb)
{
    if (log->read_only || !cdx_topic_valid(reason) || strlen(reason) > 31)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: cannot count rejection \"%s\"", reason);
    char name[48];
    snprintf(name, sizeof name, "rejected/%s", reason);
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (mrc)
        return s_mdb(eb, mrc, "count");
    cdx_err rc = s_bump(log, txn, name, n, eb);
    if (rc == CDX_OK) {
        mrc = mdb_txn_commit(txn);
        return mrc ? s_commit_failed(log, mrc, "count", eb) : CDX_OK;
    }
    mdb_txn_abort(txn);
    return rc;
}

/* ---- the tree ---- */

typedef struct s_src_ctx {
    cdx_log *log;
    MDB_txn *txn;
} s_src_ctx;

static cdx_err s_src_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    s_src_ctx *s = ctx;
    cdx_err rc = s_node_get(s->log, s->txn, level, index, out);
    return rc == CDX_ERR_NOENT ? CDX_ERR_CORRUPT : rc;
}

typedef enum { S_ROOT, S_INCLUSION, S_CONSISTENCY } s_tree_kind;

static cdx_err s_tree_op(cdx_log *log, s_tree_kind op, uint64_t a, uint64_t b,
                         uint8_t (*out)[CDX_HASH_BYTES], size_t *n)
{
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    uint64_t size;
    rc = s_size_in(log, txn, &size, NULL);
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
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    rc = s_node_get(log, txn, level, index, out);
    mdb_txn_abort(txn);
    return rc;
}

/* ---- checkpoints and roster ---- */

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
        return s_mdb(eb, mrc, "checkpoint");
    uint64_t size;
    uint8_t root[CDX_HASH_BYTES];
    char *note = NULL;
    cdx_err rc = s_size_in(log, txn, &size, eb);
    s_src_ctx ctx = {log, txn};
    cdx_merkle_source src = {s_src_node, &ctx};
    if (rc == CDX_OK)
        rc = cdx_merkle_root(&src, size, root);
    if (rc == CDX_OK)
        rc = cdx_checkpoint_sign(&note, log->origin, size, root, now_ms / 1000, owner);
    if (rc == CDX_OK) {
        uint8_t key[8];
        s_be64(key, size);
        MDB_val k = s_val(key, 8), d = s_val(note, strlen(note));
        mrc = mdb_put(txn, log->heads, &k, &d, 0);
        rc = mrc ? s_commit_failed(log, mrc, "checkpoint", eb) : CDX_OK;
    }
    if (rc == CDX_OK) {
        mrc = mdb_txn_commit(txn);
        rc = mrc ? s_commit_failed(log, mrc, "checkpoint", eb) : CDX_OK;
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
    cdx_err rc = s_read_txn(log, &txn, NULL);
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

cdx_err cdx_log_set_roster(cdx_log *log, const uint8_t *data, size_t len, cdx_errbuf *eb)
{
    if (log->read_only)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: opened read-only");
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (mrc)
        return s_mdb(eb, mrc, "roster");
    cdx_err rc = s_meta_put(log, txn, "roster", data, len, eb);
    if (rc == CDX_OK) {
        mrc = mdb_txn_commit(txn);
        return mrc ? s_commit_failed(log, mrc, "roster", eb) : CDX_OK;
    }
    mdb_txn_abort(txn);
    return rc;
}

cdx_err cdx_log_get_roster(cdx_log *log, cdx_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    MDB_txn *txn;
    cdx_err rc = s_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = s_val("roster", 6), d;
    int mrc = mdb_get(txn, log->meta, &k, &d);
    if (mrc == 0) {
        out->data = malloc(d.mv_size + 1);
        if (out->data) {
            memcpy(out->data, d.mv_data, d.mv_size);
            out->len = d.mv_size;
        }
        rc = out->data ? CDX_OK : CDX_ERR_NOMEM;
    } else {
        rc = mrc == MDB_NOTFOUND ? CDX_ERR_NOENT : CDX_ERR_IO;
    }
    mdb_txn_abort(txn);
    return rc;
}
