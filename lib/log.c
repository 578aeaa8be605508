/* The audit log over LMDB: opening it, its schema, entries and counters.
 * The log's files (log_internal.h) are the only ones that include lmdb.h.
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
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "log_internal.h"

#define S_MAP_INITIAL (64u * 1024u * 1024u)
#define S_MAP_MAX ((size_t)64 * 1024 * 1024 * 1024)
#define S_NEAR_FULL ((uint64_t)16 * 1024 * 1024) /* this little room left: "full" */
#define S_NEAR_LIMIT ((uint64_t)1024 * 1024)     /* a file this near its size limit: at it */

cdx_err cdx__log_mdb(cdx_errbuf *eb, int rc, const char *what)
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
cdx_err cdx__log_commit_failed(cdx_log *log, int rc, const char *what, cdx_errbuf *eb)
{
    const char *dir = NULL;
    if ((rc != EIO && rc != ENOSPC && rc != EFBIG) || mdb_env_get_path(log->env, &dir) || !dir)
        return cdx__log_mdb(eb, rc, what);
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
    return cdx__log_mdb(eb, rc, what);
}

/* sender 0x00 seq(8 BE) */
size_t cdx__log_sender_key(uint8_t out[CDX_ID_MAX + 9], const char *sender, uint64_t seq)
{
    size_t n = strlen(sender);
    memcpy(out, sender, n);
    out[n] = 0;
    cdx__put_be64(out + n + 1, seq);
    return n + 9;
}

static const char *s_dbnames[] = {"log",   "by_hash", "by_sender", "senders",  "tree",
                                  "heads", "meta",    "outbox",    "receipts", "receipted"};
#define S_N_DBS (sizeof s_dbnames / sizeof *s_dbnames)

/* LMDB found its own file inconsistent (an altered or cut page) and is
 * about to abort the process: say what that means before it does. */
static void s_damaged(MDB_env *env, const char *what)
{
    const char *dir = NULL;
    if (mdb_env_get_path(env, &dir) != 0 || !dir)
        dir = "?";
    fprintf(stderr,
            "cydex: the log in %s is damaged (LMDB: %s). If it is a daemon's own log: move the "
            "folder aside and restore it from a copy, or start with an empty one (a node takes "
            "back its own envelopes and the rest from the brokers, a broker from its peers).\n",
            dir, what);
    fflush(stderr); /* LMDB aborts next: a buffered stderr would lose it */
}

static cdx_err s_open_env(cdx_log *log, const char *dir, unsigned flags, cdx_errbuf *eb)
{
    int rc = mdb_env_create(&log->env);
    if (rc == 0)
        rc = mdb_env_set_assert(log->env, s_damaged);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(log->env, 16);
    if (rc == 0 && !log->read_only)
        rc = mdb_env_set_mapsize(log->env, log->map_size);
    if (rc == 0)
        rc = mdb_env_open(log->env, dir, flags | MDB_NOTLS, 0600);
    if (rc != 0) {
        mdb_env_close(log->env);
        log->env = NULL;
        return cdx__log_mdb(eb, rc, dir);
    }
    MDB_envinfo info;
    mdb_env_info(log->env, &info);
    log->map_size = info.me_mapsize;
    return CDX_OK;
}

static cdx_err s_meta_put(cdx_log *log, MDB_txn *txn, const char *key, const void *v, size_t n,
                          cdx_errbuf *eb)
{
    MDB_val k = cdx__log_val(key, strlen(key)), d = cdx__log_val(v, n);
    int rc = mdb_put(txn, log->meta, &k, &d, 0);
    return rc ? cdx__log_mdb(eb, rc, "meta") : CDX_OK;
}

static cdx_err s_open_dbs(cdx_log *log, const cdx_log_opts *opts, cdx_errbuf *eb)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(log->env, NULL, log->read_only ? MDB_RDONLY : 0, &txn);
    if (rc)
        return cdx__log_mdb(eb, rc, "open");
    MDB_dbi *dbis[] = {&log->log,      &log->by_hash,  &log->by_sender, &log->senders,
                       &log->tree,     &log->heads,    &log->meta,      &log->outbox,
                       &log->receipts, &log->receipted};
    _Static_assert(sizeof dbis / sizeof *dbis == S_N_DBS, "a name for every table");
    log->has_receipts = true;
    for (size_t i = 0; i < S_N_DBS && rc == 0; i++) {
        unsigned flags = log->read_only ? 0 : MDB_CREATE;
        if (dbis[i] == &log->by_sender)
            flags |= MDB_DUPSORT | MDB_DUPFIXED;
        rc = mdb_dbi_open(txn, s_dbnames[i], flags, dbis[i]);
        /* A log made before receipts were kept, read: it holds none. */
        bool later = dbis[i] == &log->receipts || dbis[i] == &log->receipted;
        if (rc == MDB_NOTFOUND && later && log->read_only) {
            log->has_receipts = false;
            rc = 0;
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
        if (rc == MDB_NOTFOUND)
            return cdx_errf(eb, CDX_ERR_FORMAT, "log: this is not a CyDEx log (no '%s' table)",
                            "log");
        return cdx__log_mdb(eb, rc, "open tables");
    }
    MDB_val k = cdx__log_val("schema", 6), d;
    cdx_err err = CDX_OK;
    rc = mdb_get(txn, log->meta, &k, &d);
    if (rc == MDB_NOTFOUND && !log->read_only) {
        uint8_t v[8];
        cdx__put_be64(v, CDX_LOG_SCHEMA);
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
        err = cdx__log_mdb(eb, rc, "meta");
    } else if (cdx__get_be64(d.mv_data) < CDX_LOG_SCHEMA_OLDEST ||
               cdx__get_be64(d.mv_data) > CDX_LOG_SCHEMA) {
        err = cdx_errf(eb, CDX_ERR_VERSION, "log: schema version %llu; this program reads %u to %u",
                       (unsigned long long)cdx__get_be64(d.mv_data), CDX_LOG_SCHEMA_OLDEST,
                       CDX_LOG_SCHEMA);
    } else {
        log->schema = (unsigned)cdx__get_be64(d.mv_data);
    }
    if (err == CDX_OK) {
        k = cdx__log_val("origin", 6);
        if (mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size <= CDX_ORIGIN_MAX) {
            memcpy(log->origin, d.mv_data, d.mv_size);
            log->origin[d.mv_size] = '\0';
        }
        k = cdx__log_val("owner", 5);
        if (mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size <= CDX_ID_MAX) {
            memcpy(log->owner, d.mv_data, d.mv_size);
            log->owner[d.mv_size] = '\0';
        }
    }
    if (err != CDX_OK) {
        mdb_txn_abort(txn);
        return err;
    }
    rc = cdx__log_commit(log, txn);
    return rc ? cdx__log_commit_failed(log, rc, "open", eb) : CDX_OK;
}

/* Takes DIR/writer.lock for this process, with its pid in it; if another
 * process holds it, says which and returns CDX_ERR_BUSY. */
static cdx_err s_lock(cdx_log *log, const char *dir, cdx_errbuf *eb)
{
    char path[4096], pid[32] = "";
    snprintf(path, sizeof path, "%s/writer.lock", dir);
    log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (log->lock_fd < 0)
        return cdx_errf(eb, CDX_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (flock(log->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        ssize_t n = pread(log->lock_fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(log->lock_fd);
        log->lock_fd = -1;
        if (e != EWOULDBLOCK)
            return cdx_errf(eb, CDX_ERR_IO, "cannot lock %s: %s", path, strerror(e));
        return cdx_errf(eb, CDX_ERR_BUSY,
                        "another process (pid %s) writes the log %s: stop it first, or give this "
                        "one a log of its own",
                        pid[0] ? pid : "?", dir);
    }
    char mine[32];
    int len = snprintf(mine, sizeof mine, "%ld\n", (long)getpid());
    if (ftruncate(log->lock_fd, 0) != 0 || pwrite(log->lock_fd, mine, (size_t)len, 0) != len)
        return cdx_errf(eb, CDX_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return CDX_OK;
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
    log->lock_fd = -1;
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
    } else if (!log->read_only && opts && opts->exclusive &&
               (rc = s_lock(log, dir, eb)) != CDX_OK) {
        /* said by s_lock */
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
    if (rc == CDX_OK)
        cdx__log_room_opened(log);
    if (rc != CDX_OK)
        cdx_log_destroy(&log);
    *out = log;
    return rc;
}

void cdx_log_destroy(cdx_log **log)
{
    if (!log || !*log)
        return;
    if ((*log)->env && ((*log)->n_forget || (*log)->n_keep))
        cdx_log_outbox_flush(*log, NULL); /* best effort: if not, a restart resends */
    if ((*log)->env)
        mdb_env_close((*log)->env);
    if ((*log)->lock_fd >= 0)
        close((*log)->lock_fd); /* and the lock with it */
    free((*log)->forget);
    cdx__log_keep_clear(*log);
    free((*log)->keep);
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
cdx_err cdx__log_read_txn(cdx_log *log, MDB_txn **txn, cdx_errbuf *eb)
{
    int rc = mdb_txn_begin(log->env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(log->env, 0);
        rc = mdb_txn_begin(log->env, NULL, MDB_RDONLY, txn);
    }
    return rc ? cdx__log_mdb(eb, rc, "read") : CDX_OK;
}

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
    cdx__put_be64(leaf + n, e->received_at_ms);
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

cdx_err cdx__log_size_in(cdx_log *log, MDB_txn *txn, uint64_t *size, cdx_errbuf *eb)
{
    MDB_cursor *c;
    MDB_val k, d;
    int rc = mdb_cursor_open(txn, log->log, &c);
    if (rc)
        return cdx__log_mdb(eb, rc, "size");
    rc = mdb_cursor_get(c, &k, &d, MDB_LAST);
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) {
        *size = 0;
        return CDX_OK;
    }
    if (rc)
        return cdx__log_mdb(eb, rc, "size");
    if (k.mv_size != 8)
        return cdx_errf(eb, CDX_ERR_CORRUPT, "log: a key of %zu bytes in the entry table",
                        k.mv_size);
    *size = cdx__get_be64(k.mv_data) + 1;
    return CDX_OK;
}

cdx_err cdx_log_size(cdx_log *log, uint64_t *size)
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc == CDX_OK) {
        rc = cdx__log_size_in(log, txn, size, NULL);
        mdb_txn_abort(txn);
    }
    return rc;
}

void cdx__log_sender_decode(cdx__log_sender_rec *r, const MDB_val *d)
{
    memset(r, 0, sizeof *r);
    if (d->mv_size != CDX__LOG_SENDER_REC)
        return;
    const uint8_t *p = d->mv_data;
    r->max_seq = cdx__get_be64(p);
    memcpy(r->max_hash, p + 8, CDX_HASH_BYTES);
    r->count = cdx__get_be64(p + 8 + CDX_HASH_BYTES);
}

static uint64_t s_counter(cdx_log *log, MDB_txn *txn, const char *name)
{
    MDB_val k = cdx__log_val(name, strlen(name)), d;
    return mdb_get(txn, log->meta, &k, &d) == 0 && d.mv_size == 8 ? cdx__get_be64(d.mv_data) : 0;
}

cdx_err cdx__log_bump(cdx_log *log, MDB_txn *txn, const char *name, uint64_t by, cdx_errbuf *eb)
{
    if (!by)
        return CDX_OK;
    uint8_t v[8];
    cdx__put_be64(v, s_counter(log, txn, name) + by);
    return s_meta_put(log, txn, name, v, 8, eb);
}

cdx_err cdx_log_counters_get(cdx_log *log, cdx_log_counters *out)
{
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    memset(out, 0, sizeof *out);
    out->duplicates = s_counter(log, txn, "count/duplicates");
    out->equivocations = s_counter(log, txn, "count/equivocations");
    MDB_cursor *c;
    if (mdb_cursor_open(txn, log->meta, &c) == 0) {
        static const char prefix[] = "rejected/";
        MDB_val k = cdx__log_val(prefix, sizeof prefix - 1), d;
        int mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE);
        for (; mrc == 0 && out->n_rejected < CDX_LOG_MAX_REASONS;
             mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
            size_t pl = sizeof prefix - 1;
            if (k.mv_size <= pl || memcmp(k.mv_data, prefix, pl) != 0)
                break;
            size_t rl = k.mv_size - pl < 31 ? k.mv_size - pl : 31;
            memcpy(out->rejected[out->n_rejected].reason, (char *)k.mv_data + pl, rl);
            out->rejected[out->n_rejected].reason[rl] = '\0';
            out->rejected[out->n_rejected].count = d.mv_size == 8 ? cdx__get_be64(d.mv_data) : 0;
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
        return cdx__log_mdb(eb, mrc, "count");
    cdx_err rc = cdx__log_bump(log, txn, name, n, eb);
    if (rc == CDX_OK) {
        mrc = cdx__log_commit(log, txn);
        return mrc ? cdx__log_commit_failed(log, mrc, "count", eb) : CDX_OK;
    }
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
        return cdx__log_mdb(eb, mrc, "roster");
    cdx_err rc = s_meta_put(log, txn, "roster", data, len, eb);
    if (rc == CDX_OK) {
        mrc = cdx__log_commit(log, txn);
        return mrc ? cdx__log_commit_failed(log, mrc, "roster", eb) : CDX_OK;
    }
    mdb_txn_abort(txn);
    return rc;
}

/* "roster/" and the version, big-endian, so that versions sort. */
static MDB_val s_roster_key(uint8_t key[15], uint64_t version)
{
    memcpy(key, "roster/", 7);
    cdx__put_be64(key + 7, version);
    return cdx__log_val(key, 15);
}

cdx_err cdx_log_keep_roster(cdx_log *log, uint64_t version, const uint8_t *data, size_t len,
                            cdx_errbuf *eb)
{
    if (log->read_only)
        return cdx_errf(eb, CDX_ERR_INVALID, "log: opened read-only");
    MDB_txn *txn;
    int mrc = mdb_txn_begin(log->env, NULL, 0, &txn);
    if (mrc)
        return cdx__log_mdb(eb, mrc, "roster");
    uint8_t key[15];
    MDB_val k = s_roster_key(key, version), d;
    uint64_t size = 0;
    cdx_err rc = s_meta_put(log, txn, "roster", data, len, eb);
    if (rc == CDX_OK && mdb_get(txn, log->meta, &k, &d) == MDB_NOTFOUND) {
        rc = cdx__log_size_in(log, txn, &size, eb);
        if (rc == CDX_OK) {
            d.mv_size = 8 + len;
            mrc = mdb_put(txn, log->meta, &k, &d, MDB_RESERVE);
            if (mrc)
                rc = cdx__log_mdb(eb, mrc, "roster");
        }
        if (rc == CDX_OK) {
            cdx__put_be64(d.mv_data, size);
            memcpy((uint8_t *)d.mv_data + 8, data, len);
        }
    }
    if (rc == CDX_OK) {
        mrc = cdx__log_commit(log, txn);
        return mrc ? cdx__log_commit_failed(log, mrc, "roster", eb) : CDX_OK;
    }
    mdb_txn_abort(txn);
    return rc;
}

void cdx_log_rosters_free(cdx_log_roster *r, size_t n)
{
    for (size_t i = 0; r && i < n; i++)
        cdx_bytes_free(&r[i].roster);
    free(r);
}

cdx_err cdx_log_rosters(cdx_log *log, cdx_log_roster **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_cursor *c;
    if (mdb_cursor_open(txn, log->meta, &c) != 0) {
        mdb_txn_abort(txn);
        return CDX_ERR_IO;
    }
    uint8_t key[15];
    MDB_val k = s_roster_key(key, 0), d;
    size_t cap = 0;
    for (int mrc = mdb_cursor_get(c, &k, &d, MDB_SET_RANGE); mrc == 0 && rc == CDX_OK;
         mrc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (k.mv_size != 15 || memcmp(k.mv_data, "roster/", 7) != 0)
            break;
        if (d.mv_size < 8)
            continue; /* not ours to judge: the audit finds the roster missing */
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            cdx_log_roster *grown = realloc(*out, cap * sizeof *grown);
            if (!grown) {
                rc = CDX_ERR_NOMEM;
                break;
            }
            *out = grown;
        }
        cdx_log_roster *r = &(*out)[*n];
        r->version = cdx__get_be64((const uint8_t *)k.mv_data + 7);
        r->from_index = cdx__get_be64(d.mv_data);
        r->roster.len = d.mv_size - 8;
        r->roster.data = malloc(r->roster.len + 1);
        if (!r->roster.data) {
            rc = CDX_ERR_NOMEM;
            break;
        }
        memcpy(r->roster.data, (const uint8_t *)d.mv_data + 8, r->roster.len);
        (*n)++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    if (rc != CDX_OK) {
        cdx_log_rosters_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

cdx_err cdx_log_get_roster(cdx_log *log, cdx_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    MDB_txn *txn;
    cdx_err rc = cdx__log_read_txn(log, &txn, NULL);
    if (rc != CDX_OK)
        return rc;
    MDB_val k = cdx__log_val("roster", 6), d;
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
