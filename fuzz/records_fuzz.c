/* libFuzzer target: every kind of row a log stores, as a damaged file or
 * someone with write access to data.mdb could leave it, through what
 * reads it: entries (log), their hash and (sender, seq) indexes
 * (by_hash, by_sender), sender records (senders), tree nodes (tree),
 * signed checkpoints (heads), meta rows (schema, origin, owner,
 * counters, refusals, the roster) and outbox rows (outbox).
 *
 * A broker's log (fuzz_log.c) is built once in a mkdtemp folder. Each
 * input changes one row of a copy of it through LMDB, so that the file
 * stays a sound LMDB file and only the log's own decoding is tried (a
 * by_sender value is cut or padded to the table's fixed size):
 *   byte 0: the table (low 3 bits) and what to do (next 2 bits):
 *     0 put: [key length][key][value]       1 replace row k's value: [k][value]
 *     2 replace row k's key: [k][key]        3 delete row k: [k]
 * Then the copy is opened read-only and read every way the daemons and
 * cydex-audit read a log: sizes, entries one by one and in ranges, each
 * sender's rows, gaps, lookups by hash and by seq, the outbox, the
 * checkpoints, roots and proofs, counters, the stored roster, the audit.
 * Nothing may crash, hang or leak (a row that does not decode is an error,
 * never a read past its end), and an outbox row keyed by other than an
 * envelope hash is reported as damage by the outbox's readers. */
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cydex/audit.h"
#include "cydex/checkpoint.h"
#include "cydex/log.h"
#include "cydex/merkle.h"
#include "fixture.h"
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *s_tables[8] = {"log",  "by_hash", "by_sender", "senders",
                                  "tree", "heads",   "meta",      "outbox"};
static char s_work[300], s_data[320];
static uint8_t *s_pristine;
static size_t s_pristine_len;

static void s_free_pristine(void)
{
    free(s_pristine);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char root[256], dir[300];
    fuzz_log_tmpdir(root);
    snprintf(dir, sizeof dir, "%s/records-pristine", root);
    fuzz_log_build(fixture_static(), dir);
    snprintf(s_work, sizeof s_work, "%s/records", root);
    snprintf(s_data, sizeof s_data, "%s/data.mdb", s_work);
    char path[320];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0)
        abort();
    /* Only the pages LMDB uses: the zeros the log writes ahead of its
     * last page (lib/log_room.c) would cost a megabyte of copying an input. */
    uint64_t used, length;
    fixture_log_use(dir, &used, &length);
    s_pristine_len = (size_t)(used < length ? used : length);
    rewind(f);
    s_pristine = malloc(s_pristine_len);
    if (!s_pristine || fread(s_pristine, 1, s_pristine_len, f) != s_pristine_len)
        abort();
    fclose(f);
    atexit(s_free_pristine);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", s_work);
    if (system(cmd) != 0)
        abort();
    return 0;
}

/* The copy, fresh. */
static void s_restore(void)
{
    int fd = open(s_data, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, s_pristine, s_pristine_len) != (ssize_t)s_pristine_len)
        abort();
    close(fd);
}

/* Row k (in key order, wrapping) of the table: its key and value, copied. */
static bool s_row(MDB_txn *txn, MDB_dbi dbi, unsigned k, MDB_val *key, MDB_val *val)
{
    MDB_cursor *c;
    if (mdb_cursor_open(txn, dbi, &c) != 0)
        return false;
    MDB_stat st;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc == 0 && st.ms_entries == 0)
        rc = MDB_NOTFOUND;
    unsigned at = rc == 0 ? k % (unsigned)st.ms_entries : 0;
    if (rc == 0)
        rc = mdb_cursor_get(c, key, val, MDB_FIRST);
    for (unsigned i = 0; rc == 0 && i < at; i++)
        rc = mdb_cursor_get(c, key, val, MDB_NEXT);
    mdb_cursor_close(c);
    return rc == 0;
}

/* by_sender holds fixed-size values (MDB_DUPFIXED: LMDB takes every
 * value to be the size of the first), so values for it are cut or padded
 * to that size; a file that broke the rule would be damage of LMDB's own
 * pages, which is not what this target tries. */
#define S_SENDER_VAL (8u + CDX_HASH_BYTES)

static MDB_val s_fixed(uint8_t buf[S_SENDER_VAL], const MDB_val *v)
{
    memcpy(buf, v->mv_data, v->mv_size < S_SENDER_VAL ? v->mv_size : S_SENDER_VAL);
    return (MDB_val){S_SENDER_VAL, buf};
}

/* Makes the input's change to the copy; true if it wrote an outbox row
 * whose key is not an envelope hash. */
static bool s_change(const uint8_t *data, size_t size)
{
    if (size < 2)
        return false;
    unsigned table = data[0] & 7, op = data[0] >> 3 & 3;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    if (mdb_env_create(&env) != 0)
        abort();
    mdb_env_set_maxdbs(env, 10);
    mdb_env_set_mapsize(env, 64u << 20);
    if (mdb_env_open(env, s_work, MDB_NOSYNC | MDB_NOLOCK, 0600) != 0 ||
        mdb_txn_begin(env, NULL, 0, &txn) != 0)
        abort();
    unsigned flags = table == 2 ? MDB_DUPSORT | MDB_DUPFIXED : 0;
    if (mdb_dbi_open(txn, s_tables[table], flags, &dbi) != 0)
        abort();
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    MDB_val k, v, k2, v2;
    uint8_t keep_k[512], keep_v[4096], fixed[S_SENDER_VAL] = {0};
    int rc = 0;
    size_t new_key = 32;
    if (op == 0) {
        size_t kl = p[0] < left - 1 ? p[0] : left - 1;
        k = (MDB_val){kl, (void *)(p + 1)};
        v = (MDB_val){left - 1 - kl, (void *)(p + 1 + kl)};
        if (table == 2)
            v = s_fixed(fixed, &v);
        rc = k.mv_size ? mdb_put(txn, dbi, &k, &v, 0) : 0;
        new_key = k.mv_size ? k.mv_size : 32;
    } else if (s_row(txn, dbi, p[0], &k, &v) && k.mv_size <= sizeof keep_k &&
               v.mv_size <= sizeof keep_v) {
        memcpy(keep_k, k.mv_data, k.mv_size);
        memcpy(keep_v, v.mv_data, v.mv_size);
        k2 = (MDB_val){k.mv_size, keep_k};
        v2 = (MDB_val){v.mv_size, keep_v};
        rc = mdb_del(txn, dbi, &k2, table == 2 ? &v2 : NULL);
        MDB_val nk = {left - 1, (void *)(p + 1)}, nv = nk;
        if (table == 2)
            nv = s_fixed(fixed, &nk);
        if (rc == 0 && op == 1)
            rc = mdb_put(txn, dbi, &k2, &nv, 0);
        else if (rc == 0 && op == 2 && nk.mv_size)
            rc = mdb_put(txn, dbi, &nk, &v2, 0);
        if (op == 2 && nk.mv_size)
            new_key = nk.mv_size;
    }
    /* LMDB refuses some (a key too long, a value of another size in a
     * table of fixed-size values): then the copy is left as it was. */
    if (rc == 0)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc == 0 && table == 7 && new_key != CDX_HASH_BYTES;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    size_t *n = ctx;
    (*n)++;
    (void)e;
    return CDX_OK;
}

static cdx_err s_outbox(void *ctx, const char *topic, cdx_log_entry *e)
{
    (void)topic;
    return s_visit(ctx, e);
}

/* Reads the copy every way the programs do; an outbox row keyed by other
 * than a hash (bad_key) must be reported as damage. */
static void s_read_all(bool bad_key)
{
    fixture *f = fixture_static();
    cdx_log *log = NULL;
    cdx_log_opts o = {.read_only = true};
    if (cdx_log_new(&log, s_work, &o, NULL) != CDX_OK) {
        cdx_log_destroy(&log);
        return;
    }
    (void)cdx_log_origin(log);
    (void)cdx_log_owner(log);
    uint64_t size = 0;
    cdx_log_size(log, &size);
    size_t visited = 0;
    uint8_t hashes[64][CDX_HASH_BYTES];
    bool known[64] = {false}, held[64];
    for (uint64_t i = 0; i < size && i < 64; i++) {
        cdx_log_entry e;
        if (cdx_log_get(log, i, &e, NULL) == CDX_OK) {
            cdx_envelope *env = NULL;
            if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
                memcpy(hashes[i], cdx_envelope_hash(env), CDX_HASH_BYTES);
                known[i] = true;
                uint64_t at;
                cdx_log_find_hash(log, hashes[i], &at);
                cdx_log_find_seq(log, cdx_envelope_body(env)->sender, cdx_envelope_body(env)->seq,
                                 &at);
            }
            cdx_envelope_destroy(&env);
        }
        cdx_log_entry_clear(&e);
    }
    cdx_log_held(log, (const uint8_t(*)[CDX_HASH_BYTES])hashes, known, size < 64 ? size : 64, held);
    cdx_log_scan(log, 0, UINT64_MAX, s_visit, &visited, NULL);
    cdx_log_sender *s = NULL;
    size_t ns = 0;
    if (cdx_log_senders(log, &s, &ns) == CDX_OK)
        for (size_t i = 0; i < ns; i++) {
            cdx_log_sender one;
            cdx_log_sender_get(log, s[i].id, &one);
            cdx_log_scan_sender(log, s[i].id, 1, 0, s_visit, &visited, NULL);
            cdx_log_range r[8];
            size_t nr = 0;
            cdx_log_sender_gaps(log, s[i].id, 1, s[i].max_seq, r, 8, &nr);
        }
    free(s);
    size_t count = 0;
    uint64_t oldest;
    cdx_log_outbox_scan(log, NULL, NULL, &count);
    cdx_err scanned = cdx_log_outbox_scan(log, s_outbox, &visited, &count);
    cdx_err found = cdx_log_outbox_oldest(log, &oldest, &count);
    if (bad_key && (scanned != CDX_ERR_CORRUPT || found != CDX_ERR_CORRUPT)) {
        fprintf(stderr, "records: an outbox key that is not a hash was not reported\n");
        abort();
    }
    char **texts = NULL;
    size_t nt = 0;
    if (cdx_log_checkpoints(log, &texts, &nt) == CDX_OK)
        for (size_t i = 0; i < nt; i++) {
            cdx_checkpoint cp;
            cdx_checkpoint_parse(&cp, texts[i], strlen(texts[i]), NULL);
            free(texts[i]);
        }
    free(texts);
    uint8_t root[CDX_HASH_BYTES], proof[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t np;
    cdx_log_root(log, size, root);
    if (size) {
        cdx_log_inclusion(log, size / 2, size, proof, &np);
        cdx_log_consistency(log, size / 3, size, proof, &np);
        cdx_log_tree_node(log, 1, 0, root);
    }
    cdx_log_counters counters;
    cdx_log_counters_get(log, &counters);
    cdx_bytes stored = {0};
    if (cdx_log_get_roster(log, &stored) == CDX_OK) {
        cdx_roster *r = NULL;
        if (cdx_roster_decode(&r, stored.data, stored.len, NULL) == CDX_OK)
            cdx_roster_verify(r, NULL, NULL);
        cdx_roster_destroy(&r);
    }
    cdx_bytes_free(&stored);
    cdx_audit_opts ao = {.roster = f->roster, .threads = 1};
    cdx_audit_report rep;
    cdx_audit_verify(log, &ao, &rep, NULL);
    cdx_log_destroy(&log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_restore();
    s_read_all(s_change(data, size));
    return 0;
}
