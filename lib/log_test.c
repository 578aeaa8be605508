/* The audit log: appends, duplicates, equivocation, gaps, the tree and its
 * proofs, checkpoints, map growth and a full map; and tampering done as an
 * attacker with write access to the files would, through LMDB itself:
 * change a byte, delete, swap, truncate, replace a checkpoint, rewrite an
 * entry together with its tree. Each time the audit fails and names it.
 * And the brokers' receipts a node keeps: stored, read back, audited. */
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "cydex/audit.h"
#include "cydex/checkpoint.h"
#include "cydex/merkle.h"
#include "fixture.h"
#include "internal.h"

static fixture F;
static char s_root[256];

/* An envelope from `who`, seq, chained to prev (NULL for seq 1); hash out. */
static cdx_envelope *s_env(const cdx_identity *who, uint64_t seq, const uint8_t *prev, size_t desc,
                           uint8_t hash[CDX_HASH_BYTES])
{
    cdx_bytes raw = {0};
    REQUIRE(fixture_sign_alert(who, seq, prev, FIXTURE_T0 + seq, desc, &raw, hash) == CDX_OK);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_bytes_free(&raw);
    return e;
}

static cdx_err s_append1(cdx_log *log, cdx_envelope *env, cdx_log_append_out *out)
{
    cdx_log_append_in in = {
        .env = env, .received_at_ms = FIXTURE_T0 + 100, .received_from = "broker.alpha"};
    return cdx_log_append(log, &in, 1, out, NULL);
}

static cdx_log *s_open(const char *dir, bool ro)
{
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "broker.alpha", .read_only = ro};
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_log_new(&log, dir, &o, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "open %s: %s\n", dir, eb.msg);
    REQUIRE(rc == CDX_OK);
    return log;
}

static cdx_audit_report s_audit(const char *dir)
{
    cdx_log *log = s_open(dir, true);
    cdx_audit_opts o = {.roster = F.roster, .threads = 2};
    cdx_audit_report r;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_audit_verify(log, &o, &r, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "audit: %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    cdx_log_destroy(&log);
    return r;
}

/* How many of the inclusion proofs (every 7th entry) and consistency
 * proofs for every tree size up to `size` fail to verify. */
static size_t s_bad_proofs(cdx_log *log, uint64_t size)
{
    cdx_log_entry e;
    size_t bad = 0;
    for (uint64_t sz = 1; sz <= size; sz++) {
        uint8_t root[32], path[CDX_MERKLE_MAX_PROOF][32];
        REQUIRE(cdx_log_root(log, sz, root) == CDX_OK);
        for (uint64_t i = 0; i < sz; i += 7) {
            size_t pn;
            uint8_t leaf[32];
            REQUIRE(cdx_log_get(log, i, &e, NULL) == CDX_OK);
            cdx_log_entry_leaf_hash(&e, leaf);
            cdx_log_entry_clear(&e);
            if (cdx_log_inclusion(log, i, sz, path, &pn) != CDX_OK ||
                cdx_merkle_verify_inclusion(leaf, i, sz, (const uint8_t(*)[32])path, pn, root) !=
                    CDX_OK)
                bad++;
        }
        uint8_t old[32];
        size_t pn;
        uint64_t m = sz / 2 + 1;
        REQUIRE(cdx_log_root(log, m, old) == CDX_OK);
        if (cdx_log_consistency(log, m, sz, path, &pn) != CDX_OK ||
            cdx_merkle_verify_consistency(m, sz, old, root, (const uint8_t(*)[32])path, pn) !=
                CDX_OK)
            bad++;
    }
    return bad;
}

/* The honest log every tampering test starts from: EE 1..40 (seq 3 twice:
 * equivocation), FR 1..5 then 8..9 (a gap), checkpoints at 20 and 45. */
static void s_build_honest(const char *dir, uint64_t *size_out)
{
    cdx_log *log = s_open(dir, false);
    uint8_t prev[CDX_HASH_BYTES], h[CDX_HASH_BYTES];
    cdx_log_append_in in[64];
    cdx_log_append_out out[64];
    cdx_envelope *envs[64];
    size_t n = 0;
    for (uint64_t seq = 1; seq <= 40; seq++) {
        envs[n] = s_env(F.ee, seq, seq > 1 ? prev : NULL, 100 + seq, h);
        memcpy(prev, h, sizeof h);
        in[n] = (cdx_log_append_in){
            .env = envs[n], .received_at_ms = FIXTURE_T0 + seq, .received_from = "EE"};
        n++;
        if (n == 10) { /* batches of 10 */
            REQUIRE(cdx_log_append(log, in, n, out, NULL) == CDX_OK);
            for (size_t i = 0; i < n; i++)
                cdx_envelope_destroy(&envs[i]);
            n = 0;
        }
        if (seq == 20) {
            REQUIRE(cdx_log_checkpoint(log, F.broker, FIXTURE_T0 + 20000, NULL, NULL) == CDX_OK);
        }
    }
    /* EE equivocates at seq 3: a different alert. */
    uint8_t h2[CDX_HASH_BYTES], ee2[CDX_HASH_BYTES];
    cdx_envelope *first = s_env(F.ee, 1, NULL, 101, h2);
    cdx_envelope *second = s_env(F.ee, 2, h2, 102, ee2);
    cdx_envelope *evil = s_env(F.ee, 3, ee2, 999, h);
    cdx_log_append_out o;
    CHECK_EQ(s_append1(log, evil, &o), CDX_OK);
    CHECK_EQ(o.status, CDX_APPEND_EQUIVOCATION);
    CHECK_EQ(o.index, 40);
    CHECK_EQ(s_append1(log, evil, &o), CDX_OK); /* and again: a duplicate */
    CHECK_EQ(o.status, CDX_APPEND_DUPLICATE);
    CHECK_EQ(o.index, 40);
    cdx_envelope_destroy(&first);
    cdx_envelope_destroy(&second);
    cdx_envelope_destroy(&evil);
    /* FR: 1..5, then 8, 9 (6 and 7 lost). */
    n = 0;
    for (uint64_t seq = 1; seq <= 9; seq++) {
        cdx_envelope *e = s_env(F.fr, seq, seq > 1 ? prev : NULL, 50, h);
        memcpy(prev, h, sizeof h);
        if (seq == 6 || seq == 7) {
            cdx_envelope_destroy(&e);
            continue;
        }
        envs[n] = e;
        in[n] = (cdx_log_append_in){
            .env = e, .received_at_ms = FIXTURE_T0 + 100 + seq, .received_from = "FR"};
        n++;
    }
    REQUIRE(cdx_log_append(log, in, n, out, NULL) == CDX_OK);
    CHECK_EQ(out[5].flags, CDX_LOG_FLAG_GAP); /* FR 8 after 5 */
    CHECK_EQ(out[0].flags, 0);
    CHECK_EQ(out[6].flags, 0);
    for (size_t i = 0; i < n; i++)
        cdx_envelope_destroy(&envs[i]);
    REQUIRE(cdx_log_checkpoint(log, F.broker, FIXTURE_T0 + 50000, NULL, NULL) == CDX_OK);
    REQUIRE(cdx_log_size(log, size_out) == CDX_OK);
    cdx_log_destroy(&log);
}

static void test_honest(const char *dir)
{
    uint64_t size;
    /* A checkpoint of the empty log, as a broker signs at its first start. */
    cdx_log *empty = s_open(dir, false);
    REQUIRE(cdx_log_checkpoint(empty, F.broker, FIXTURE_T0, NULL, NULL) == CDX_OK);
    cdx_log_destroy(&empty);
    s_build_honest(dir, &size);
    CHECK_EQ(size, 48);
    cdx_log *log = s_open(dir, true);
    cdx_log_counters c;
    REQUIRE(cdx_log_counters_get(log, &c) == CDX_OK);
    CHECK_EQ(c.duplicates, 1);
    CHECK_EQ(c.equivocations, 1);
    cdx_log_sender *s = NULL;
    size_t n;
    REQUIRE(cdx_log_senders(log, &s, &n) == CDX_OK);
    CHECK_EQ(n, 2);
    CHECK_STR(s[0].id, "EE");
    CHECK_EQ(s[0].max_seq, 40);
    CHECK_EQ(s[0].count, 41);
    CHECK_STR(s[1].id, "FR");
    CHECK_EQ(s[1].max_seq, 9);
    free(s);
    cdx_log_sender one;
    CHECK_EQ(cdx_log_sender_get(log, "FR", &one), CDX_OK);
    CHECK_STR(one.id, "FR");
    CHECK_EQ(one.max_seq, 9);
    CHECK_EQ(one.count, 7); /* 1..5, 8, 9 */
    CHECK_EQ(cdx_log_sender_get(log, "DE", &one), CDX_ERR_NOENT);
    CHECK_EQ(one.max_seq, 0);
    uint64_t idx;
    CHECK_EQ(cdx_log_find_seq(log, "FR", 8, &idx), CDX_OK);
    CHECK_EQ(idx, 46);
    CHECK_EQ(cdx_log_find_seq(log, "FR", 6, &idx), CDX_ERR_NOENT);
    cdx_log_entry e;
    REQUIRE(cdx_log_get(log, 46, &e, NULL) == CDX_OK);
    CHECK_STR(e.received_from, "FR");
    CHECK_EQ(e.outcome, CDX_LOG_ACCEPTED);
    CHECK_EQ(e.flags, CDX_LOG_FLAG_GAP);
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_verify(&env, F.roster, e.envelope.data, e.envelope.len, NULL, NULL) ==
            CDX_OK);
    CHECK_EQ(cdx_log_find_hash(log, cdx_envelope_hash(env), &idx), CDX_OK);
    CHECK_EQ(idx, 46);
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    CHECK_EQ(cdx_log_get(log, 48, &e, NULL), CDX_ERR_NOENT);

    /* The tree: every inclusion proof and consistency proof verifies. */
    CHECK_EQ(s_bad_proofs(log, size), 0);

    /* Checkpoints: stored, parseable, signed by the owner only. */
    char **texts;
    REQUIRE(cdx_log_checkpoints(log, &texts, &n) == CDX_OK);
    CHECK_EQ(n, 3);
    cdx_checkpoint cp;
    REQUIRE(cdx_checkpoint_parse(&cp, texts[2], strlen(texts[2]), NULL) == CDX_OK);
    CHECK_STR(cp.origin, "cydex/broker.alpha");
    CHECK_EQ(cp.size, 48);
    CHECK_EQ(cp.time_s, (FIXTURE_T0 + 50000) / 1000);
    cdx_member owner, other;
    cdx_identity_card(F.broker, &owner);
    cdx_identity_card(F.ee, &other);
    CHECK_EQ(cdx_checkpoint_verify(&cp, owner.sign_pk, NULL), CDX_OK);
    CHECK_EQ(cdx_checkpoint_verify(&cp, other.sign_pk, NULL), CDX_ERR_BAD_SIGNATURE);
    uint8_t root[32];
    REQUIRE(cdx_log_root(log, 48, root) == CDX_OK);
    CHECK(memcmp(root, cp.root, 32) == 0);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    cdx_log_destroy(&log);

    log = s_open(dir, false);
    CHECK_EQ(cdx_log_checkpoint(log, F.ee, FIXTURE_T0, NULL, NULL), CDX_ERR_INVALID);
    cdx_log_destroy(&log);

    cdx_audit_report r = s_audit(dir);
    if (!r.pass)
        fprintf(stderr, "honest log failed: %s\n", r.reason);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 48);
    CHECK_EQ(r.checkpoints, 3);
    CHECK_EQ(r.last_checkpoint, 48);
    CHECK_EQ(r.equivocations, 1);
    CHECK_EQ(r.gaps, 1);
    CHECK_STR(r.gap[0].sender, "FR");
    CHECK_EQ(r.gap[0].from, 6);
    CHECK_EQ(r.gap[0].to, 7);
    CHECK_EQ(r.senders, 2);
}

/* ---- tampering, through LMDB ---- */

typedef struct s_lmdb {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi log, tree, heads;
} s_lmdb;

static void s_copy(const char *from, const char *to)
{
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s' && cp '%s/data.mdb' '%s/'", to, to,
             from, to);
    REQUIRE(system(cmd) == 0);
}

static void s_tamper_begin(s_lmdb *t, const char *dir)
{
    REQUIRE(mdb_env_create(&t->env) == 0);
    mdb_env_set_maxdbs(t->env, 8);
    REQUIRE(mdb_env_open(t->env, dir, 0, 0600) == 0);
    REQUIRE(mdb_txn_begin(t->env, NULL, 0, &t->txn) == 0);
    REQUIRE(mdb_dbi_open(t->txn, "log", 0, &t->log) == 0);
    REQUIRE(mdb_dbi_open(t->txn, "tree", 0, &t->tree) == 0);
    REQUIRE(mdb_dbi_open(t->txn, "heads", 0, &t->heads) == 0);
}

static void s_tamper_end(s_lmdb *t)
{
    REQUIRE(mdb_txn_commit(t->txn) == 0);
    mdb_env_close(t->env);
}

static MDB_val s_key(uint8_t buf[8], uint64_t i)
{
    for (int b = 7; b >= 0; b--, i >>= 8)
        buf[b] = (uint8_t)i;
    return (MDB_val){8, buf};
}

/* A tree node's key, as the log of that schema writes it (log.h). */
static MDB_val s_node_key(uint8_t key[9], unsigned schema, unsigned level, uint64_t index)
{
    uint64_t v = schema == 1 ? index : ((index + 1) << level) - 1;
    uint8_t *p = schema == 1 ? key + 1 : key;
    for (int b = 7; b >= 0; b--, v >>= 8)
        p[b] = (uint8_t)v;
    key[schema == 1 ? 0 : 8] = (uint8_t)level;
    return (MDB_val){9, key};
}

/* Reads entry i's value into a malloc'd copy. */
static MDB_val s_read(s_lmdb *t, uint64_t i)
{
    uint8_t kb[8];
    MDB_val k = s_key(kb, i), d;
    REQUIRE(mdb_get(t->txn, t->log, &k, &d) == 0);
    void *copy = malloc(d.mv_size);
    memcpy(copy, d.mv_data, d.mv_size);
    return (MDB_val){d.mv_size, copy};
}

static void s_write(s_lmdb *t, uint64_t i, MDB_val v)
{
    uint8_t kb[8];
    MDB_val k = s_key(kb, i);
    REQUIRE(mdb_put(t->txn, t->log, &k, &v, 0) == 0);
}

static void s_expect_fail(const char *dir, const char *what, bool names, uint64_t index,
                          const char *needle)
{
    cdx_audit_report r = s_audit(dir);
    if (r.pass || (names && (!r.has_bad || r.first_bad != index)) || !strstr(r.reason, needle))
        fprintf(stderr, "%s: pass=%d bad=%d@%llu reason: %s\n", what, r.pass, r.has_bad,
                (unsigned long long)r.first_bad, r.reason);
    CHECK(!r.pass);
    if (names) {
        CHECK(r.has_bad);
        CHECK_EQ(r.first_bad, index);
    }
    CHECK(strstr(r.reason, needle) != NULL);
}

static void test_tampering(const char *honest)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/t", s_root);
    s_lmdb t;

    /* 1. One byte of one stored entry, inside the envelope: for every
     * entry tried, the audit names it. */
    const uint64_t targets[] = {0, 7, 21, 40, 47};
    for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
        s_copy(honest, dir);
        s_tamper_begin(&t, dir);
        MDB_val v = s_read(&t, targets[i]);
        ((uint8_t *)v.mv_data)[v.mv_size / 2] ^= 0x10;
        s_write(&t, targets[i], v);
        free(v.mv_data);
        s_tamper_end(&t);
        s_expect_fail(dir, "byte changed", true, targets[i], "changed after it was written");
    }
    /* ... and a byte of the record around it (received_at). */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    MDB_val v = s_read(&t, 12);
    ((uint8_t *)v.mv_data)[v.mv_size - 3] ^= 0x01;
    s_write(&t, 12, v);
    free(v.mv_data);
    s_tamper_end(&t);
    s_expect_fail(dir, "record changed", true, 12, "entry 12");

    /* 2. Delete an entry. */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    uint8_t kb[8];
    MDB_val k = s_key(kb, 30);
    REQUIRE(mdb_del(t.txn, t.log, &k, NULL) == 0);
    s_tamper_end(&t);
    s_expect_fail(dir, "deleted", true, 30, "entry 30 is missing");

    /* 3. Swap two entries. */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    MDB_val a = s_read(&t, 5), b = s_read(&t, 9);
    s_write(&t, 5, b);
    s_write(&t, 9, a);
    free(a.mv_data);
    free(b.mv_data);
    s_tamper_end(&t);
    s_expect_fail(dir, "swapped", true, 5, "entry 5 does not match");

    /* 4. Truncate below the last checkpoint. */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    for (uint64_t i = 44; i < 48; i++) {
        k = s_key(kb, i);
        REQUIRE(mdb_del(t.txn, t.log, &k, NULL) == 0);
    }
    s_tamper_end(&t);
    s_expect_fail(dir, "truncated", true, 44, "truncated");

    /* 5. Replace a checkpoint: one signed by another key, and one whose
     * root was edited. */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    uint8_t root[32] = {1};
    char *forged = NULL;
    REQUIRE(cdx_checkpoint_sign(&forged, "cydex/broker.alpha", 20, root, 1, F.xx) == CDX_OK);
    k = s_key(kb, 20);
    MDB_val d = {strlen(forged), forged};
    REQUIRE(mdb_put(t.txn, t.heads, &k, &d, 0) == 0);
    s_tamper_end(&t);
    free(forged);
    s_expect_fail(dir, "checkpoint by another key", false, 0, "does not verify");

    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    k = s_key(kb, 48);
    REQUIRE(mdb_get(t.txn, t.heads, &k, &d) == 0);
    char *text = malloc(d.mv_size + 1);
    memcpy(text, d.mv_data, d.mv_size);
    text[d.mv_size] = '\0';
    char *line3 = strchr(strchr(text, '\n') + 1, '\n') + 1;
    line3[0] = line3[0] == 'A' ? 'B' : 'A';
    d = (MDB_val){strlen(text), text};
    REQUIRE(mdb_put(t.txn, t.heads, &k, &d, 0) == 0);
    s_tamper_end(&t);
    free(text);
    s_expect_fail(dir, "checkpoint root edited", false, 0, "does not verify");

    /* 6. A careful attacker: rewrites entry 25 as a different valid
     * envelope AND rewrites the tree above it to match. Only the signed
     * checkpoint at 48 can catch it. */
    s_copy(honest, dir);
    s_tamper_begin(&t, dir);
    cdx_log_entry e;
    MDB_val old = s_read(&t, 25);
    REQUIRE(cdx_log_entry_decode(&e, old.mv_data, old.mv_size, NULL) == CDX_OK);
    free(old.mv_data);
    uint8_t h[32];
    cdx_envelope *other = s_env(F.de, 1, NULL, 30, h);
    cdx_bytes_free(&e.envelope);
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(other, &len);
    e.envelope.data = malloc(len);
    memcpy(e.envelope.data, raw, len);
    e.envelope.len = len;
    /* Re-encode through the library's own codec, then fix the tree. */
    cdx_envelope_destroy(&other);
    cdx_bytes enc;
    REQUIRE(cdx__log_entry_encode(&e, &enc) == CDX_OK);
    s_write(&t, 25, (MDB_val){enc.len, enc.data});
    uint8_t leaf[32], node[32];
    cdx_log_entry_leaf_hash(&e, leaf);
    memcpy(node, leaf, 32);
    uint64_t idx = 25;
    for (unsigned level = 0;; level++) {
        uint8_t key[9], sib_key[9];
        MDB_val tk = s_node_key(key, 2, level, idx), tv;
        if (mdb_get(t.txn, t.tree, &tk, &tv) != 0)
            break; /* that subtree is not complete yet */
        tv = (MDB_val){32, node};
        REQUIRE(mdb_put(t.txn, t.tree, &tk, &tv, 0) == 0);
        MDB_val sk = s_node_key(sib_key, 2, level, idx ^ 1), sv;
        if (mdb_get(t.txn, t.tree, &sk, &sv) != 0)
            break;
        if (idx & 1)
            cdx_merkle_node_hash(node, sv.mv_data, node);
        else
            cdx_merkle_node_hash(node, node, sv.mv_data);
        idx >>= 1;
    }
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&e);
    s_tamper_end(&t);
    s_expect_fail(dir, "entry and tree rewritten", true, 20, "signed checkpoint at size 48");

    /* 7. The same log, with no checkpoint stored, still fails against a
     * checkpoint the auditor got from the bus beforehand. */
    cdx_log *log = s_open(honest, true);
    char **texts;
    size_t n;
    REQUIRE(cdx_log_checkpoints(log, &texts, &n) == CDX_OK && n == 3);
    cdx_log_destroy(&log);
    s_tamper_begin(&t, dir);
    REQUIRE(mdb_drop(t.txn, t.heads, 0) == 0);
    s_tamper_end(&t);
    cdx_audit_report r = s_audit(dir);
    CHECK(r.pass); /* nothing stored contradicts it any more ... */
    log = s_open(dir, true);
    cdx_audit_opts o = {.roster = F.roster, .extra_checkpoint = texts[2], .threads = 1};
    REQUIRE(cdx_audit_verify(log, &o, &r, NULL) == CDX_OK);
    CHECK(!r.pass); /* ... but the checkpoint published earlier does */
    CHECK(strstr(r.reason, "signed checkpoint at size 48") != NULL);
    cdx_log_destroy(&log);
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
}

/* A log written under schema 1 (tree keyed level || index) is still read,
 * verified, proved from and appended to, in its own layout. It is made
 * from the honest log by moving every tree node to its schema 1 key. */
static void test_schema1(const char *honest)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/v1", s_root);
    s_copy(honest, dir);
    s_lmdb t;
    s_tamper_begin(&t, dir);
    MDB_cursor *c;
    REQUIRE(mdb_cursor_open(t.txn, t.tree, &c) == 0);
    uint8_t(*rows)[9 + 32] = NULL;
    size_t n = 0;
    MDB_val k, v;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        REQUIRE(k.mv_size == 9 && v.mv_size == 32);
        rows = realloc(rows, (n + 1) * sizeof *rows);
        REQUIRE(rows != NULL);
        uint64_t last = 0;
        for (int b = 0; b < 8; b++)
            last = last << 8 | ((uint8_t *)k.mv_data)[b];
        unsigned level = ((uint8_t *)k.mv_data)[8];
        s_node_key(rows[n], 1, level, ((last + 1) >> level) - 1);
        memcpy(rows[n] + 9, v.mv_data, 32);
        n++;
    }
    mdb_cursor_close(c);
    CHECK_EQ(n, 63 + 31); /* 48 leaves: the perfect subtrees of 32 and of 16 */
    REQUIRE(mdb_drop(t.txn, t.tree, 0) == 0);
    for (size_t i = 0; i < n; i++) {
        k = (MDB_val){9, rows[i]};
        v = (MDB_val){32, rows[i] + 9};
        REQUIRE(mdb_put(t.txn, t.tree, &k, &v, 0) == 0);
    }
    free(rows);
    MDB_dbi meta;
    REQUIRE(mdb_dbi_open(t.txn, "meta", 0, &meta) == 0);
    uint8_t one[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    k = (MDB_val){6, "schema"};
    v = (MDB_val){8, one};
    REQUIRE(mdb_put(t.txn, meta, &k, &v, 0) == 0);
    s_tamper_end(&t);

    cdx_audit_report r = s_audit(dir);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 48);
    cdx_log *log = s_open(dir, false);
    CHECK_EQ(s_bad_proofs(log, 48), 0);
    cdx_log_append_in in[5];
    cdx_log_append_out out[5];
    cdx_envelope *envs[5];
    uint8_t prev[CDX_HASH_BYTES], h[CDX_HASH_BYTES];
    for (uint64_t seq = 1; seq <= 5; seq++) {
        envs[seq - 1] = s_env(F.de, seq, seq > 1 ? prev : NULL, 60, h);
        memcpy(prev, h, sizeof h);
        in[seq - 1] = (cdx_log_append_in){
            .env = envs[seq - 1], .received_at_ms = FIXTURE_T0 + 200 + seq, .received_from = "DE"};
    }
    REQUIRE(cdx_log_append(log, in, 5, out, NULL) == CDX_OK);
    for (size_t i = 0; i < 5; i++) {
        CHECK_EQ(out[i].status, CDX_APPEND_STORED);
        cdx_envelope_destroy(&envs[i]);
    }
    REQUIRE(cdx_log_checkpoint(log, F.broker, FIXTURE_T0 + 60000, NULL, NULL) == CDX_OK);
    CHECK_EQ(s_bad_proofs(log, 53), 0);
    cdx_log_destroy(&log);
    r = s_audit(dir);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 53);
    CHECK_EQ(r.last_checkpoint, 53);

    /* The new nodes went in under schema 1 keys: leaf 52, and the subtree
     * of leaves 48..51 (level 2, index 12). */
    s_tamper_begin(&t, dir);
    uint8_t key[9];
    k = s_node_key(key, 1, 0, 52);
    CHECK_EQ(mdb_get(t.txn, t.tree, &k, &v), 0);
    k = s_node_key(key, 1, 2, 12);
    CHECK_EQ(mdb_get(t.txn, t.tree, &k, &v), 0);
    k = s_node_key(key, 2, 2, 12);
    CHECK_EQ(mdb_get(t.txn, t.tree, &k, &v), MDB_NOTFOUND);
    mdb_txn_abort(t.txn);
    mdb_env_close(t.env);
}

static void test_map(void)
{
    char dir[300];
    /* Grows by itself from a tiny map. */
    snprintf(dir, sizeof dir, "%s/grow", s_root);
    cdx_log *log = NULL;
    cdx_log_opts o = {
        .owner = "broker.alpha", .map_initial = 128 * 1024, .map_max = 16 * 1024 * 1024};
    REQUIRE(cdx_log_new(&log, dir, &o, NULL) == CDX_OK);
    uint8_t prev[32], h[32];
    for (uint64_t seq = 1; seq <= 300; seq++) {
        cdx_envelope *e = s_env(F.ee, seq, seq > 1 ? prev : NULL, 2000, h);
        memcpy(prev, h, 32);
        cdx_log_append_out out;
        CHECK_EQ(s_append1(log, e, &out), CDX_OK);
        cdx_envelope_destroy(&e);
    }
    uint64_t size;
    REQUIRE(cdx_log_size(log, &size) == CDX_OK);
    CHECK_EQ(size, 300);
    cdx_log_destroy(&log);

    /* A full map: a clear error, and nothing of the failed batch. */
    snprintf(dir, sizeof dir, "%s/full", s_root);
    o.map_max = 256 * 1024;
    REQUIRE(cdx_log_new(&log, dir, &o, NULL) == CDX_OK);
    cdx_err rc = CDX_OK;
    uint64_t stored = 0, seq = 1;
    cdx_errbuf eb = {0};
    while (rc == CDX_OK && seq < 10000) {
        cdx_envelope *batch[5];
        cdx_log_append_in in[5];
        cdx_log_append_out out[5];
        for (int i = 0; i < 5; i++, seq++) {
            batch[i] = s_env(F.ee, seq, seq > 1 ? prev : NULL, 3000, h);
            memcpy(prev, h, 32);
            in[i] = (cdx_log_append_in){
                .env = batch[i], .received_at_ms = FIXTURE_T0, .received_from = "EE"};
        }
        rc = cdx_log_append(log, in, 5, out, &eb);
        if (rc == CDX_OK)
            stored += 5;
        for (int i = 0; i < 5; i++)
            cdx_envelope_destroy(&batch[i]);
    }
    CHECK_EQ(rc, CDX_ERR_FULL);
    CHECK(strstr(eb.msg, "nothing of this batch was written") != NULL);
    CHECK(stored > 0);
    REQUIRE(cdx_log_size(log, &size) == CDX_OK);
    CHECK_EQ(size, stored);
    cdx_log_destroy(&log);
    cdx_audit_report r = s_audit(dir);
    CHECK(r.pass);
    CHECK_EQ(r.verified, stored);

    /* Opening a missing log read-only, and a log of another schema. */
    snprintf(dir, sizeof dir, "%s/none", s_root);
    cdx_log_opts ro = {.read_only = true};
    CHECK_EQ(cdx_log_new(&log, dir, &ro, NULL), CDX_ERR_NOENT);
    snprintf(dir, sizeof dir, "%s/grow", s_root);
    s_lmdb t;
    s_tamper_begin(&t, dir);
    MDB_dbi meta;
    REQUIRE(mdb_dbi_open(t.txn, "meta", 0, &meta) == 0);
    uint8_t four[8] = {0, 0, 0, 0, 0, 0, 0, 4};
    MDB_val k = {6, "schema"}, v = {8, four};
    REQUIRE(mdb_put(t.txn, meta, &k, &v, 0) == 0);
    s_tamper_end(&t);
    eb.msg[0] = '\0';
    CHECK_EQ(cdx_log_new(&log, dir, &ro, &eb), CDX_ERR_VERSION);
    CHECK(strstr(eb.msg, "schema version 4") != NULL);
}

static cdx_err s_count_outbox(void *ctx, const char *topic, cdx_log_entry *e)
{
    (*(size_t *)ctx)++;
    CHECK_STR(topic, "alert.health");
    CHECK(e->envelope.len > 0);
    return CDX_OK;
}

/* The owner's envelopes wait in the outbox, across a reopen, until their
 * receipts remove them, several in one transaction. */
static void test_outbox(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/outbox", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h[3][CDX_HASH_BYTES], prev[CDX_HASH_BYTES];
    cdx_envelope *e[3];
    cdx_log_append_in in[3];
    cdx_log_append_out out[3];
    for (int i = 0; i < 3; i++) {
        e[i] = s_env(F.ee, (uint64_t)i + 1, i ? prev : NULL, 10, h[i]);
        memcpy(prev, h[i], CDX_HASH_BYTES);
        in[i] = (cdx_log_append_in){
            .env = e[i], .received_at_ms = FIXTURE_T0, .received_from = "local", .outbox = true};
    }
    REQUIRE(cdx_log_append(log, in, 3, out, NULL) == CDX_OK);
    cdx_log_destroy(&log);
    log = s_open(dir, false);
    size_t count = 0, seen = 0, removed = 9;
    REQUIRE(cdx_log_outbox_scan(log, s_count_outbox, &seen, &count) == CDX_OK);
    CHECK_EQ(count, 3);
    CHECK_EQ(seen, 3);
    uint64_t oldest = 0;
    size_t waiting = 0;
    CHECK_EQ(cdx_log_outbox_oldest(log, &oldest, &waiting), CDX_OK);
    CHECK_EQ(oldest, out[0].index);
    CHECK_EQ(waiting, 3);
    uint8_t gone[3 * CDX_HASH_BYTES] = {0}; /* 0 and 2, and one never there */
    memcpy(gone, h[0], CDX_HASH_BYTES);
    memcpy(gone + CDX_HASH_BYTES, h[2], CDX_HASH_BYTES);
    gone[2 * CDX_HASH_BYTES] = 7;
    CHECK_EQ(cdx_log_outbox_remove(log, gone, 3, &removed), CDX_OK);
    CHECK_EQ(removed, 2);
    CHECK_EQ(cdx_log_outbox_remove(log, gone, 3, &removed), CDX_OK); /* again: nothing */
    CHECK_EQ(removed, 0);
    CHECK_EQ(cdx_log_outbox_scan(log, NULL, NULL, &count), CDX_OK);
    CHECK_EQ(count, 1);
    CHECK_EQ(cdx_log_outbox_oldest(log, &oldest, &waiting), CDX_OK);
    CHECK_EQ(oldest, out[1].index);
    CHECK_EQ(waiting, 1);
    /* Forgotten: deleted by the next append's transaction, not before. A
     * count does not write (the deletion still waits) nor count it, even
     * forgotten twice (two brokers' receipts). */
    CHECK_EQ(cdx_log_outbox_forget(log, h[1], 1), CDX_OK);
    CHECK_EQ(cdx_log_outbox_forget(log, h[1], 1), CDX_OK);
    CHECK_EQ(cdx_log_outbox_pending(log), 2);
    CHECK_EQ(cdx_log_outbox_scan(log, NULL, NULL, &count), CDX_OK);
    CHECK_EQ(count, 0);
    CHECK_EQ(cdx_log_outbox_oldest(log, &oldest, &waiting),
             CDX_ERR_NOENT); /* its row still there */
    CHECK_EQ(waiting, 0);    /* forgotten twice, counted out once */
    CHECK_EQ(cdx_log_outbox_pending(log), 2);
    uint8_t h4[CDX_HASH_BYTES];
    cdx_envelope *e4 = s_env(F.ee, 4, h[2], 10, h4);
    in[0] = (cdx_log_append_in){.env = e4, .received_at_ms = FIXTURE_T0, .outbox = true};
    REQUIRE(cdx_log_append(log, in, 1, out, NULL) == CDX_OK);
    CHECK_EQ(cdx_log_outbox_pending(log), 0);
    cdx_log_destroy(&log);
    log = s_open(dir, false);
    seen = 0;
    CHECK_EQ(cdx_log_outbox_scan(log, s_count_outbox, &seen, &count), CDX_OK);
    CHECK_EQ(count, 1); /* only seq 4 waits */
    /* Forgotten and the log closed: the deletion is not lost. */
    CHECK_EQ(cdx_log_outbox_forget(log, h4, 1), CDX_OK);
    cdx_log_destroy(&log);
    log = s_open(dir, false);
    CHECK_EQ(cdx_log_outbox_scan(log, NULL, NULL, &count), CDX_OK);
    CHECK_EQ(count, 0);
    cdx_log_destroy(&log);
    cdx_envelope_destroy(&e4);
    for (int i = 0; i < 3; i++)
        cdx_envelope_destroy(&e[i]);
}

/* What an outbox scan hands over, kept to compare. */
typedef struct s_sent {
    size_t n;
    cdx_bytes env[4];
} s_sent;

static cdx_err s_keep_outbox(void *ctx, const char *topic, cdx_log_entry *e)
{
    s_sent *s = ctx;
    CHECK_STR(topic, "alert.health");
    if (s->n < 4) {
        s->env[s->n++] = e->envelope;
        memset(&e->envelope, 0, sizeof e->envelope);
    }
    return CDX_OK;
}

/* Outbox rows of a log of schema 3 name their entry (9 bytes after the
 * topic); a log made under schema 2 goes on writing copies of the
 * envelope, which older programs read. Either way the scan hands over the
 * very bytes that were logged. */
static void test_outbox_rows(void)
{
    for (unsigned schema = 2; schema <= 3; schema++) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/outbox-rows-%u", s_root, schema);
        cdx_log *log = s_open(dir, false);
        cdx_log_destroy(&log);
        s_lmdb t;
        MDB_dbi meta, outbox;
        if (schema == 2) {
            s_tamper_begin(&t, dir);
            REQUIRE(mdb_dbi_open(t.txn, "meta", 0, &meta) == 0);
            uint8_t two[8] = {0, 0, 0, 0, 0, 0, 0, 2};
            MDB_val k = {6, "schema"}, v = {8, two};
            REQUIRE(mdb_put(t.txn, meta, &k, &v, 0) == 0);
            s_tamper_end(&t);
        }
        log = s_open(dir, false);
        uint8_t h[2][CDX_HASH_BYTES];
        cdx_envelope *e[2];
        cdx_log_append_in in[2];
        cdx_log_append_out out[2];
        for (int i = 0; i < 2; i++) {
            e[i] = s_env(F.ee, (uint64_t)i + 1, i ? h[0] : NULL, 200, h[i]);
            in[i] = (cdx_log_append_in){.env = e[i], .received_at_ms = FIXTURE_T0, .outbox = true};
        }
        REQUIRE(cdx_log_append(log, in, 2, out, NULL) == CDX_OK);
        s_sent sent = {0};
        size_t count = 0;
        CHECK_EQ(cdx_log_outbox_scan(log, s_keep_outbox, &sent, &count), CDX_OK);
        CHECK_EQ(count, 2);
        CHECK_EQ(sent.n, 2);
        for (size_t i = 0; i < sent.n; i++) { /* rows come in hash order */
            int j = memcmp(h[0], h[1], CDX_HASH_BYTES) < 0 ? (int)i : 1 - (int)i;
            size_t len;
            const uint8_t *raw = cdx_envelope_bytes(e[j], &len);
            CHECK(sent.env[i].len == len && memcmp(sent.env[i].data, raw, len) == 0);
            cdx_bytes_free(&sent.env[i]);
        }
        cdx_log_destroy(&log);
        s_tamper_begin(&t, dir);
        REQUIRE(mdb_dbi_open(t.txn, "outbox", 0, &outbox) == 0);
        MDB_val k = {CDX_HASH_BYTES, h[1]}, v;
        REQUIRE(mdb_get(t.txn, outbox, &k, &v) == 0);
        size_t tail = v.mv_size - strlen("alert.health") - 1;
        size_t len;
        cdx_envelope_bytes(e[1], &len);
        CHECK_EQ(tail, schema == 3 ? 9 : len);
        /* A row whose entry is gone is skipped, not sent as garbage. */
        if (schema == 3) {
            uint8_t key[8] = {0, 0, 0, 0, 0, 0, 0, 1};
            MDB_val ek = {8, key};
            REQUIRE(mdb_del(t.txn, t.log, &ek, NULL) == 0);
        }
        s_tamper_end(&t);
        if (schema == 3) {
            log = s_open(dir, false);
            sent.n = 0;
            CHECK_EQ(cdx_log_outbox_scan(log, s_keep_outbox, &sent, &count), CDX_OK);
            CHECK_EQ(count, 1);
            for (size_t i = 0; i < sent.n; i++)
                cdx_bytes_free(&sent.env[i]);
            cdx_log_destroy(&log);
        }
        for (int i = 0; i < 2; i++)
            cdx_envelope_destroy(&e[i]);
    }
}

static cdx_err s_count_scanned(void *ctx, cdx_log_entry *e)
{
    (void)e;
    (*(size_t *)ctx)++;
    return CDX_OK;
}

/* Leaves junk where the next call's locals will lie, as a long-running
 * process's stack holds. */
static void __attribute__((noinline)) s_dirty_stack(void)
{
    volatile uint8_t junk[8192];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xa5;
}

/* A log whose first entry is gone (a damaged or cut file): a scan from
 * there says which entry is missing, and frees nothing it never held. */
static void test_scan_first_missing(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/first-missing", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h[CDX_HASH_BYTES];
    for (uint64_t seq = 1; seq <= 3; seq++) {
        cdx_envelope *e = s_env(F.ee, seq, seq > 1 ? h : NULL, 10, h);
        cdx_log_append_out out;
        REQUIRE(s_append1(log, e, &out) == CDX_OK);
        cdx_envelope_destroy(&e);
    }
    cdx_log_destroy(&log);
    s_lmdb t;
    s_tamper_begin(&t, dir);
    uint8_t kb[8] = {0};
    MDB_val k = {8, kb};
    REQUIRE(mdb_del(t.txn, t.log, &k, NULL) == 0);
    s_tamper_end(&t);
    log = s_open(dir, true);
    size_t seen = 0;
    cdx_errbuf eb = {0};
    s_dirty_stack();
    CHECK_EQ(cdx_log_scan(log, 0, UINT64_MAX, s_count_scanned, &seen, &eb), CDX_ERR_CORRUPT);
    CHECK(strstr(eb.msg, "entry 0 is missing") != NULL);
    CHECK_EQ(seen, 0);
    cdx_log_destroy(&log);
    cdx_audit_report r = s_audit(dir);
    CHECK(!r.pass);
    CHECK(strstr(r.reason, "entry 0 is missing") != NULL);
}

/* An outbox row keyed by something other than an envelope hash (a damaged
 * or hostile file): looked up by its length, not read past its end, and
 * reported as corruption; its envelope is still handed over to resend. */
static void test_outbox_damaged_key(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/outbox-key", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h[2][CDX_HASH_BYTES];
    cdx_envelope *e[2];
    cdx_log_append_in in[2];
    cdx_log_append_out out[2];
    for (int i = 0; i < 2; i++) {
        e[i] = s_env(F.ee, (uint64_t)i + 1, i ? h[0] : NULL, 10, h[i]);
        in[i] = (cdx_log_append_in){.env = e[i], .received_at_ms = FIXTURE_T0, .outbox = true};
    }
    REQUIRE(cdx_log_append(log, in, 2, out, NULL) == CDX_OK);
    cdx_log_destroy(&log);
    s_lmdb t;
    MDB_dbi outbox;
    s_tamper_begin(&t, dir);
    REQUIRE(mdb_dbi_open(t.txn, "outbox", 0, &outbox) == 0);
    uint8_t row[32] = "alert.health";
    size_t tl = strlen("alert.health") + 1;
    row[tl] = 0x00; /* names entry 0 */
    memset(row + tl + 1, 0, 8);
    MDB_val k = {5, "short"}, v = {tl + 9, row};
    REQUIRE(mdb_put(t.txn, outbox, &k, &v, 0) == 0);
    s_tamper_end(&t);
    log = s_open(dir, false);
    REQUIRE(cdx_log_outbox_forget(log, h[1], 1) == CDX_OK); /* receipted: a lookup to make */
    uint64_t oldest = 7;
    size_t waiting = 0;
    CHECK_EQ(cdx_log_outbox_oldest(log, &oldest, &waiting), CDX_ERR_CORRUPT);
    CHECK_EQ(waiting, 2); /* h[0]'s row and the damaged one */
    CHECK_EQ(oldest, out[0].index);
    size_t seen = 0, count = 0;
    CHECK_EQ(cdx_log_outbox_scan(log, s_count_outbox, &seen, &count), CDX_ERR_CORRUPT);
    CHECK_EQ(seen, 2);
    cdx_log_destroy(&log);
    for (int i = 0; i < 2; i++)
        cdx_envelope_destroy(&e[i]);
}

/* A duplicate within one batch is refused like one already stored: it
 * takes no index, and the hash finds the first. */
static void test_batch_duplicate(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/batchdup", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h1[CDX_HASH_BYTES], h2[CDX_HASH_BYTES];
    cdx_envelope *a = s_env(F.ee, 1, NULL, 10, h1), *b = s_env(F.ee, 2, h1, 10, h2);
    cdx_log_append_in in[3] = {{.env = a, .received_from = "broker.alpha"},
                               {.env = b, .received_from = "broker.alpha"},
                               {.env = a, .received_from = "broker.beta"}};
    cdx_log_append_out out[3];
    REQUIRE(cdx_log_append(log, in, 3, out, NULL) == CDX_OK);
    CHECK_EQ(out[0].status, CDX_APPEND_STORED);
    CHECK_EQ(out[1].status, CDX_APPEND_STORED);
    CHECK_EQ(out[2].status, CDX_APPEND_DUPLICATE);
    CHECK_EQ(out[2].index, out[0].index);
    uint64_t size = 0, index = 9;
    CHECK_EQ(cdx_log_size(log, &size), CDX_OK);
    CHECK_EQ(size, 2);
    CHECK_EQ(cdx_log_find_hash(log, h2, &index), CDX_OK);
    CHECK_EQ(index, out[1].index);
    cdx_log_counters c;
    CHECK_EQ(cdx_log_counters_get(log, &c), CDX_OK);
    CHECK_EQ(c.duplicates, 1);
    cdx_log_destroy(&log);
    cdx_envelope_destroy(&a);
    cdx_envelope_destroy(&b);
}

/* Copies of held envelopes are found by their bytes before anything is
 * verified, and counted as duplicates by the next append. */
static void test_held(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/held", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h1[CDX_HASH_BYTES], h2[CDX_HASH_BYTES], peek[CDX_HASH_BYTES];
    cdx_envelope *a = s_env(F.ee, 1, NULL, 10, h1), *b = s_env(F.ee, 2, h1, 10, h2);
    cdx_log_append_out out;
    REQUIRE(s_append1(log, a, &out) == CDX_OK);

    size_t la, lb;
    const uint8_t *ra = cdx_envelope_bytes(a, &la), *rb = cdx_envelope_bytes(b, &lb);
    CHECK_EQ(cdx_envelope_peek_hash(ra, la, peek), CDX_OK);
    CHECK(memcmp(peek, h1, CDX_HASH_BYTES) == 0);
    /* A copy whose signature was broken has the held envelope's hash: the
     * body, which the hash covers, is the one held. */
    uint8_t *forged = malloc(la);
    REQUIRE(forged);
    memcpy(forged, ra, la);
    forged[la - 1] ^= 0x01; /* the signature is the last field */
    const uint8_t junk[] = "not an envelope";
    uint8_t hashes[4][CDX_HASH_BYTES];
    CHECK_EQ(cdx_envelope_peek_hash(ra, la, hashes[0]), CDX_OK);
    CHECK_EQ(cdx_envelope_peek_hash(rb, lb, hashes[1]), CDX_OK);
    CHECK_EQ(cdx_envelope_peek_hash(forged, la, hashes[2]), CDX_OK);
    bool held[4] = {false, true, false, true};
    CHECK_EQ(cdx_log_held(log, (const uint8_t(*)[CDX_HASH_BYTES])hashes, NULL, 3, held), CDX_OK);
    CHECK(held[0]);
    CHECK(!held[1]);
    CHECK(held[2]);
    /* A hash marked unknown is not looked up, even if its bytes are held. */
    memcpy(hashes[3], hashes[0], CDX_HASH_BYTES);
    const bool known[4] = {true, true, true, false};
    CHECK_EQ(cdx_log_held(log, (const uint8_t(*)[CDX_HASH_BYTES])hashes, known, 4, held), CDX_OK);
    CHECK(held[0] && !held[1] && held[2]);
    CHECK(!held[3]);
    CHECK_EQ(cdx_envelope_peek_hash(junk, sizeof junk, peek), CDX_ERR_FORMAT);

    /* Two copies dropped: counted with the next append's duplicates. */
    cdx_log_note_duplicates(log, 2);
    cdx_log_counters c;
    CHECK_EQ(cdx_log_counters_get(log, &c), CDX_OK);
    CHECK_EQ(c.duplicates, 0);
    REQUIRE(s_append1(log, b, &out) == CDX_OK);
    CHECK_EQ(out.status, CDX_APPEND_STORED);
    CHECK_EQ(cdx_log_counters_get(log, &c), CDX_OK);
    CHECK_EQ(c.duplicates, 2);
    free(forged);
    cdx_log_destroy(&log);
    cdx_envelope_destroy(&a);
    cdx_envelope_destroy(&b);
}

/* The holes in a sender's seqs, from the (sender, seq) index. */
static void test_gaps(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/gaps", s_root);
    cdx_log *log = s_open(dir, false);
    const uint64_t seqs[] = {1, 2, 4, 5, 8};
    uint8_t prev[CDX_HASH_BYTES] = {0}, h[CDX_HASH_BYTES];
    for (size_t i = 0; i < 5; i++) {
        cdx_envelope *e = s_env(F.ee, seqs[i], seqs[i] > 1 ? prev : NULL, 10, h);
        cdx_log_append_out out;
        REQUIRE(s_append1(log, e, &out) == CDX_OK);
        memcpy(prev, h, CDX_HASH_BYTES);
        cdx_envelope_destroy(&e);
    }
    cdx_log_range r[4];
    size_t n = 0;
    CHECK_EQ(cdx_log_sender_gaps(log, "EE", 1, 10, r, 4, &n), CDX_OK);
    CHECK_EQ(n, 3);
    CHECK(n == 3 && r[0].from == 3 && r[0].to == 3 && r[1].from == 6 && r[1].to == 7 &&
          r[2].from == 9 && r[2].to == 10);
    CHECK_EQ(cdx_log_sender_gaps(log, "EE", 1, 10, r, 2, &n), CDX_OK); /* only room for two */
    CHECK_EQ(n, 2);
    CHECK_EQ(cdx_log_sender_gaps(log, "EE", 4, 5, r, 4, &n), CDX_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(cdx_log_sender_gaps(log, "FR", 1, 3, r, 4, &n), CDX_OK); /* none of FR's */
    CHECK(n == 1 && r[0].from == 1 && r[0].to == 3);
    cdx_log_destroy(&log);
}

/* One writer at a time: a second exclusive open (another process, or
 * another handle) is refused, naming the holder's pid; readers are not;
 * once the first is closed, the lock is free. */
static void test_exclusive(void)
{
    char dir[300], pid[64];
    snprintf(dir, sizeof dir, "%s/exclusive", s_root);
    snprintf(pid, sizeof pid, "(pid %ld)", (long)getpid());
    cdx_log_opts ex = {.owner = "broker.alpha", .exclusive = true}, ro = {.read_only = true};
    cdx_log *first = NULL, *second = NULL, *reader = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_log_new(&first, dir, &ex, &eb) == CDX_OK);
    CHECK_EQ(cdx_log_new(&second, dir, &ex, &eb), CDX_ERR_BUSY);
    CHECK(second == NULL);
    CHECK(strstr(cdx_errbuf_msg(&eb, CDX_ERR_BUSY), pid) != NULL);
    CHECK_EQ(cdx_log_new(&reader, dir, &ro, NULL), CDX_OK);
    cdx_log_destroy(&reader);
    cdx_log_destroy(&first);
    CHECK_EQ(cdx_log_new(&second, dir, &ex, NULL), CDX_OK);
    cdx_log_destroy(&second);
}

/* n appends of `per` envelopes each from DE (desc bytes apiece) after seq. */
static void s_append_runs(cdx_log *log, uint64_t *seq, uint8_t prev[32], int n, int per,
                          size_t desc)
{
    for (int k = 0; k < n; k++) {
        cdx_envelope *batch[200];
        cdx_log_append_in in[200];
        cdx_log_append_out out[200];
        for (int i = 0; i < per; i++, (*seq)++) {
            uint8_t h[32];
            batch[i] = s_env(F.de, *seq, *seq > 1 ? prev : NULL, desc, h);
            memcpy(prev, h, 32);
            in[i] = (cdx_log_append_in){
                .env = batch[i], .received_at_ms = FIXTURE_T0, .received_from = "DE"};
        }
        CHECK_EQ(cdx_log_append(log, in, (size_t)per, out, NULL), CDX_OK);
        for (int i = 0; i < per; i++)
            cdx_envelope_destroy(&batch[i]);
    }
}

/* Small commits leave zeros written ahead of the log's last page (so that
 * the next commits need not make the file longer); big ones do not (zeros
 * would cost them more than they save); and room is never made past the
 * process's file size limit, whose signal would kill a caller that does
 * not ignore it, as a library's caller need not. */
static void test_room(void)
{
    struct statvfs fs; /* room never takes a disk's last 64 MiB */
    if (statvfs(s_root, &fs) != 0 || (uint64_t)fs.f_bavail * fs.f_frsize < ((uint64_t)256 << 20)) {
        fprintf(stderr, "log_test: under 256 MiB free in %s: room is not checked\n", s_root);
        return;
    }
    char small[300], big[300], limited[300];
    snprintf(small, sizeof small, "%s/room-small", s_root);
    snprintf(big, sizeof big, "%s/room-big", s_root);
    snprintf(limited, sizeof limited, "%s/room-limited", s_root);
    uint64_t seq = 1, used, length;
    uint8_t prev[32];
    cdx_log *log = s_open(small, false);
    s_append_runs(log, &seq, prev, 400, 1, 300);
    cdx_log_destroy(&log);
    fixture_log_use(small, &used, &length);
    CHECK(length >= used + 256 * 1024);
    cdx_audit_report r = s_audit(small);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 400);
    /* Room cut short (a kill while zeros were written, or a failed write
     * cut back): the file ends mid-page, past LMDB's last page. */
    char data[400];
    snprintf(data, sizeof data, "%s/data.mdb", small);
    REQUIRE(truncate(data, (off_t)(used + 100003)) == 0);
    log = s_open(small, false);
    s_append_runs(log, &seq, prev, 300, 1, 300);
    cdx_log_destroy(&log);
    fixture_log_use(small, &used, &length);
    CHECK(length >= used + 256 * 1024);
    r = s_audit(small);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 700);

    seq = 1;
    log = s_open(big, false);
    s_append_runs(log, &seq, prev, 10, 200, 3000);
    cdx_log_destroy(&log);
    fixture_log_use(big, &used, &length);
    CHECK(length < used + 256 * 1024);

    fflush(NULL);
    unsigned failed_before = s_tally.failed;
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) { /* SIGXFSZ as a library's caller may leave it: fatal */
        struct rlimit lim = {600 * 1024, 600 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
            _exit(3);
        seq = 1;
        log = s_open(limited, false);
        s_append_runs(log, &seq, prev, 300, 1, 300);
        cdx_log_destroy(&log);
        _exit(s_tally.failed > failed_before ? 4 : 0);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fixture_log_use(limited, &used, &length);
    CHECK(length <= 600 * 1024);
    r = s_audit(limited);
    CHECK(r.pass);
    CHECK_EQ(r.verified, 300);
}

static cdx_err s_count_entry(void *ctx, cdx_log_entry *e)
{
    (void)e;
    ++*(uint64_t *)ctx;
    return CDX_OK;
}

/* A log whose "log" table has a page marked as a branch page, as a hex
 * editor or a failing disk could leave it: LMDB stops the process on its
 * own check when a scan steps onto the page. The process must say which
 * log is damaged and what to do (LMDB's assert hook), not only abort. */
static void test_damaged(void)
{
    char dir[300], said[320];
    snprintf(dir, sizeof dir, "%s/damaged", s_root);
    snprintf(said, sizeof said, "%s/damaged.err", s_root);
    cdx_log *log = s_open(dir, false);
    uint64_t seq = 1;
    uint8_t prev[32];
    s_append_runs(log, &seq, prev, 1, 30, 600); /* about ten leaf pages of entries */
    cdx_log_destroy(&log);

    /* The second leaf page that holds entries' text, in file order (the
     * first is where a scan starts: reached from the root, not stepped onto). */
    REQUIRE(fixture_lmdb_mark_branch(dir, "abcdefghijklmnopqrstuvwxyz", NULL, 2));

    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        int fd = open(said, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
            _exit(3);
        log = s_open(dir, true);
        cdx_log_scan(log, 0, UINT64_MAX, s_count_entry, &seq, NULL);
        _exit(0); /* not reached: LMDB stops at the page */
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
    static char text[4096];
    FILE *e = fopen(said, "r");
    size_t got = e ? fread(text, 1, sizeof text - 1, e) : 0;
    text[got] = '\0';
    if (e)
        fclose(e);
    CHECK(strstr(text, "is damaged (LMDB: ") && strstr(text, dir));
    CHECK(strstr(text, "restore it from a copy"));
}

/* Every commit is timed once: an append, a checkpoint, a counter; an
 * append refused before its transaction is not. The quantile is read off
 * the cumulative buckets. */
static void test_commit_stats(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/commits", s_root);
    cdx_log *log = s_open(dir, false);
    cdx_log_commit_stats s0, s1, d;
    cdx_log_commit_stats_get(log, &s0);
    uint8_t h1[CDX_HASH_BYTES], h2[CDX_HASH_BYTES];
    cdx_envelope *a = s_env(F.ee, 1, NULL, 10, h1), *b = s_env(F.ee, 2, h1, 10, h2);
    cdx_log_append_out out;
    REQUIRE(s_append1(log, a, &out) == CDX_OK);
    REQUIRE(s_append1(log, b, &out) == CDX_OK);
    CHECK_EQ(cdx_log_count_rejected(log, "bad-signature", 1, NULL), CDX_OK);
    CHECK_EQ(cdx_log_append(log, NULL, 0, NULL, NULL), CDX_OK); /* an empty batch commits too */
    cdx_log_append_in unverified = {.env = NULL};
    CHECK(cdx_log_append(log, &unverified, 1, &out, NULL) != CDX_OK);
    cdx_log_commit_stats_get(log, &s1);
    cdx_log_commit_stats_since(&s1, &s0, &d);
    CHECK_EQ(d.count, 4);
    CHECK(s1.max_us <= s1.sum_us && s1.max_us > 0);
    CHECK(d.le[CDX_LOG_COMMIT_BUCKETS - 1] <= d.count);
    for (size_t i = 1; i < CDX_LOG_COMMIT_BUCKETS; i++)
        CHECK(d.le[i] >= d.le[i - 1]);
    double p50 = cdx_log_commit_quantile_us(&d, 0.5);
    CHECK(p50 > 0 && p50 <= (double)s1.max_us + 1);
    cdx_log_destroy(&log);
    cdx_envelope_destroy(&a);
    cdx_envelope_destroy(&b);

    /* Ten commits in (200, 300] us and ten in (300, 400]: the median is at
     * the top of the first bucket, the 75th percentile half-way up the
     * second, the 99th past every bucket... if max_us says so. */
    cdx_log_commit_stats h = {.count = 20, .sum_us = 6000, .max_us = 390};
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++)
        h.le[i] = cdx_log_commit_bucket_us[i] < 300   ? 0
                  : cdx_log_commit_bucket_us[i] < 400 ? 10
                                                      : 20;
    CHECK_EQ(cdx_log_commit_bucket_us[1], 200);
    CHECK_EQ(cdx_log_commit_bucket_us[2], 300);
    CHECK_EQ(cdx_log_commit_bucket_us[3], 400);
    CHECK(cdx_log_commit_quantile_us(&h, 0.5) == 300.0);
    CHECK(cdx_log_commit_quantile_us(&h, 0.75) == 350.0);
    CHECK(cdx_log_commit_quantile_us(&h, 0.25) == 250.0);
    /* Interpolated, the 99th percentile would be 398 us: above the slowest
     * commit there was. No quantile says more than the maximum. */
    CHECK(cdx_log_commit_quantile_us(&h, 0.99) == 390.0);
    cdx_log_commit_stats even = {.count = 10, .sum_us = 11000, .max_us = 1100};
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++) /* all ten took 1.1 ms */
        even.le[i] = cdx_log_commit_bucket_us[i] >= 1100 ? 10 : 0;
    CHECK(cdx_log_commit_quantile_us(&even, 0.99) <= 1100.0);
    CHECK(cdx_log_commit_quantile_us(&even, 0.5) <= 1100.0);
    cdx_log_commit_stats slow = {.count = 4, .sum_us = 8000000, .max_us = 3000000};
    slow.le[CDX_LOG_COMMIT_BUCKETS - 1] = 2; /* two took more than a second */
    CHECK(cdx_log_commit_quantile_us(&slow, 0.9) == 3000000.0);
    cdx_log_commit_stats none = {0};
    CHECK(cdx_log_commit_quantile_us(&none, 0.5) == 0.0);
}

/* ---- brokers' receipts, kept ---- */

static cdx_err s_count_one(void *ctx, uint64_t number, const uint8_t *bytes, size_t len)
{
    (void)number;
    (void)bytes;
    (void)len;
    (*(size_t *)ctx)++;
    return CDX_OK;
}

/* A receipt signed by `broker` about n envelopes (hashes), all `status`,
 * at log indexes from `index` on. */
static cdx_bytes s_receipt(const cdx_identity *broker, uint8_t (*hashes)[CDX_HASH_BYTES], size_t n,
                           cdx_receipt_status status, uint64_t index, cdx_receipt *items)
{
    for (size_t i = 0; i < n; i++) {
        memset(&items[i], 0, sizeof items[i]);
        snprintf(items[i].broker, sizeof items[i].broker, "%s", cdx_identity_id(broker));
        memcpy(items[i].envelope_hash, hashes[i], CDX_HASH_BYTES);
        items[i].status = status;
        items[i].log_index = index + i;
        items[i].committed_at_ms = FIXTURE_T0 + 500;
        if (status == CDX_RECEIPT_REJECTED)
            snprintf(items[i].reason, sizeof items[i].reason, "clock-skew");
    }
    cdx_bytes out = {0};
    REQUIRE(cdx_receipt_sign_many(items, n, broker, &out) == CDX_OK);
    return out;
}

static size_t s_count_receipts(cdx_log *log)
{
    size_t n = 0;
    REQUIRE(cdx_log_receipts_scan(log, s_count_one, &n, NULL) == CDX_OK);
    return n;
}

/* One receipt speaking twice of one envelope (a copy resent in the round
 * that took the first: "accepted", then "duplicate" at the same index):
 * the log keeps the first, and the audit finds the row agreeing with the
 * receipt (it once compared the row with the second item and failed). */
static void test_receipt_twice_in_one(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/receipt-twice", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h[2][CDX_HASH_BYTES];
    cdx_envelope *e = s_env(F.ee, 1, NULL, 10, h[0]);
    memcpy(h[1], h[0], CDX_HASH_BYTES);
    cdx_log_append_in in = {
        .env = e, .received_at_ms = FIXTURE_T0, .received_from = "local", .outbox = true};
    cdx_log_append_out out;
    REQUIRE(cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK);
    cdx_receipt items[2];
    cdx_bytes r = s_receipt(F.broker, h, 2, CDX_RECEIPT_ACCEPTED, 10, items);
    cdx_bytes_free(&r);
    items[1].status = CDX_RECEIPT_DUPLICATE;
    items[1].log_index = 10;
    REQUIRE(cdx_receipt_sign_many(items, 2, F.broker, &r) == CDX_OK);
    CHECK_EQ(cdx_log_receipt_keep(log, r.data, r.len, items, 2), CDX_OK);
    CHECK_EQ(cdx_log_outbox_flush(log, NULL), CDX_OK);
    cdx_log_destroy(&log);
    cdx_audit_report rep = s_audit(dir);
    CHECK(rep.pass);
    CHECK_EQ(rep.receipts, 1);
    cdx_bytes_free(&r);
    cdx_envelope_destroy(&e);
}

/* Kept with the next write transaction (an append or the outbox's
 * flush), durably, one per envelope and broker (the first stands), only
 * for entries of the log; read back as they were signed; and audited:
 * a changed byte in a stored receipt, or an index row that disagrees
 * with its receipt, fails the audit naming the receipt. */
static void test_receipts(void)
{
    char dir[300], bad[300];
    snprintf(dir, sizeof dir, "%s/receipts", s_root);
    snprintf(bad, sizeof bad, "%s/receipts-bad", s_root);
    cdx_log *log = s_open(dir, false);
    uint8_t h[4][CDX_HASH_BYTES];
    cdx_envelope *e[4];
    cdx_log_append_in in[3];
    cdx_log_append_out out[3];
    for (int i = 0; i < 4; i++)
        e[i] = s_env(F.ee, (uint64_t)i + 1, i ? h[i - 1] : NULL, 10, h[i]);
    for (int i = 0; i < 3; i++)
        in[i] = (cdx_log_append_in){
            .env = e[i], .received_at_ms = FIXTURE_T0, .received_from = "local", .outbox = true};
    REQUIRE(cdx_log_append(log, in, 3, out, NULL) == CDX_OK);

    /* alpha takes seq 1 and 2; beta says seq 1 is a duplicate of what it
     * holds at 4. */
    uint8_t a_hashes[3][CDX_HASH_BYTES];
    memcpy(a_hashes[0], h[0], CDX_HASH_BYTES);
    memcpy(a_hashes[1], h[1], CDX_HASH_BYTES);
    memset(a_hashes[2], 0x5a, CDX_HASH_BYTES); /* an envelope this log never held */
    cdx_receipt items[3], b_item;
    cdx_bytes ra = s_receipt(F.broker, a_hashes, 2, CDX_RECEIPT_ACCEPTED, 10, items);
    CHECK_EQ(cdx_log_receipt_keep(log, ra.data, ra.len, items, 2), CDX_OK);
    cdx_bytes rb = s_receipt(F.beta, h, 1, CDX_RECEIPT_DUPLICATE, 4, &b_item);
    CHECK_EQ(cdx_log_receipt_keep(log, rb.data, rb.len, &b_item, 1), CDX_OK);
    CHECK_EQ(cdx_log_outbox_pending(log), 2);
    cdx_log_receipt *got = NULL;
    size_t n = 9;
    CHECK_EQ(cdx_log_receipts_of(log, h[0], &got, &n, NULL), CDX_OK);
    CHECK_EQ(n, 0); /* not written yet */
    cdx_log_receipts_free(got, n);
    CHECK_EQ(cdx_log_outbox_flush(log, NULL), CDX_OK);
    CHECK_EQ(cdx_log_outbox_pending(log), 0);

    /* A later DUPLICATE from alpha (a resend) does not replace its first;
     * one about nothing this log holds is not stored; one kept before an
     * append goes with the append. */
    cdx_receipt again;
    cdx_bytes rdup = s_receipt(F.broker, h, 1, CDX_RECEIPT_DUPLICATE, 10, &again);
    CHECK_EQ(cdx_log_receipt_keep(log, rdup.data, rdup.len, &again, 1), CDX_OK);
    cdx_receipt none;
    cdx_bytes rnone = s_receipt(F.broker, &a_hashes[2], 1, CDX_RECEIPT_ACCEPTED, 12, &none);
    CHECK_EQ(cdx_log_receipt_keep(log, rnone.data, rnone.len, &none, 1), CDX_OK);
    cdx_receipt third;
    cdx_bytes r3 = s_receipt(F.broker, &h[2], 1, CDX_RECEIPT_REJECTED, 0, &third);
    CHECK_EQ(cdx_log_receipt_keep(log, r3.data, r3.len, &third, 1), CDX_OK);
    in[0] = (cdx_log_append_in){
        .env = e[3], .received_at_ms = FIXTURE_T0, .received_from = "local", .outbox = true};
    REQUIRE(cdx_log_append(log, in, 1, out, NULL) == CDX_OK);
    CHECK_EQ(cdx_log_outbox_pending(log), 0);
    CHECK_EQ(cdx_log_receipt_keep(log, ra.data, ra.len, items, 0), CDX_OK); /* nothing to keep */
    cdx_log_destroy(&log);

    /* Across a reopen, read-only: seq 1 has alpha's ACCEPTED and beta's
     * DUPLICATE, by broker, bytes as signed. */
    log = s_open(dir, true);
    CHECK_EQ(cdx_log_receipts_of(log, h[0], &got, &n, NULL), CDX_OK);
    REQUIRE(n == 2);
    CHECK_STR(got[0].item.broker, "broker.alpha");
    CHECK_EQ(got[0].item.status, CDX_RECEIPT_ACCEPTED);
    CHECK_EQ(got[0].item.log_index, 10);
    CHECK_EQ(got[0].item.committed_at_ms, FIXTURE_T0 + 500);
    CHECK(got[0].receipt.len == ra.len && memcmp(got[0].receipt.data, ra.data, ra.len) == 0);
    uint8_t name[CDX_HASH_BYTES];
    cdx_hash(name, ra.data, ra.len);
    CHECK(memcmp(got[0].receipt_hash, name, CDX_HASH_BYTES) == 0);
    CHECK_EQ(got[0].number, 0);
    CHECK_EQ(got[1].number, 1);
    CHECK_STR(got[1].item.broker, "broker.beta");
    CHECK_EQ(got[1].item.status, CDX_RECEIPT_DUPLICATE);
    CHECK_EQ(got[1].item.log_index, 4);
    CHECK(got[1].receipt.len == rb.len && memcmp(got[1].receipt.data, rb.data, rb.len) == 0);
    cdx_log_receipts_free(got, n);
    CHECK_EQ(cdx_log_receipts_of(log, h[1], &got, &n, NULL), CDX_OK);
    CHECK_EQ(n, 1);
    CHECK(n == 1 && got[0].item.log_index == 11);
    cdx_log_receipts_free(got, n);
    CHECK_EQ(cdx_log_receipts_of(log, h[2], &got, &n, NULL), CDX_OK);
    CHECK(n == 1 && got[0].item.status == CDX_RECEIPT_REJECTED &&
          strcmp(got[0].item.reason, "clock-skew") == 0);
    cdx_log_receipts_free(got, n);
    CHECK_EQ(cdx_log_receipts_of(log, h[3], &got, &n, NULL), CDX_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(cdx_log_receipts_of(log, a_hashes[2], &got, &n, NULL), CDX_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(s_count_receipts(log), 3); /* alpha's first, beta's, alpha's rejection */
    CHECK_EQ(cdx_log_receipt_keep(log, ra.data, ra.len, items, 1), CDX_ERR_INVALID);
    cdx_log_destroy(&log);

    cdx_audit_report r = s_audit(dir);
    CHECK(r.pass);
    CHECK_EQ(r.receipts, 3);

    /* One byte of a stored receipt (alpha's first, number 0): the audit
     * fails, naming it. */
    s_lmdb t;
    for (size_t at = 0; at < ra.len; at += ra.len / 7 + 1) {
        s_copy(dir, bad);
        s_tamper_begin(&t, bad);
        MDB_dbi receipts;
        REQUIRE(mdb_dbi_open(t.txn, "receipts", 0, &receipts) == 0);
        uint8_t kb[8];
        MDB_val k = s_key(kb, 0), d;
        REQUIRE(mdb_get(t.txn, receipts, &k, &d) == 0);
        REQUIRE(d.mv_size == ra.len && memcmp(d.mv_data, ra.data, ra.len) == 0);
        uint8_t *copy = malloc(d.mv_size);
        memcpy(copy, d.mv_data, d.mv_size);
        copy[at] ^= 0x01;
        MDB_val v = {d.mv_size, copy};
        REQUIRE(mdb_put(t.txn, receipts, &k, &v, 0) == 0);
        free(copy);
        s_tamper_end(&t);
        s_expect_fail(bad, "a byte of a receipt", false, 0,
                      "stored receipt 0 (from broker.alpha, for entry 0): ");
    }
    /* An index row that says another log index than its receipt. */
    s_copy(dir, bad);
    s_tamper_begin(&t, bad);
    MDB_dbi receipted;
    REQUIRE(mdb_dbi_open(t.txn, "receipted", 0, &receipted) == 0);
    uint8_t key[8 + 16];
    s_key(key, 1); /* seq 2's entry */
    memcpy(key + 8, "broker.alpha", 12);
    MDB_val k = {8 + 12, key}, d;
    REQUIRE(mdb_get(t.txn, receipted, &k, &d) == 0);
    uint8_t row[17];
    REQUIRE(d.mv_size == sizeof row);
    memcpy(row, d.mv_data, sizeof row);
    row[sizeof row - 1] ^= 0x07; /* the broker's log index */
    MDB_val v = {sizeof row, row};
    REQUIRE(mdb_put(t.txn, receipted, &k, &v, 0) == 0);
    s_tamper_end(&t);
    s_expect_fail(bad, "a receipt index row", false, 0,
                  "says accepted at broker.alpha's log index");
    /* A row that names a receipt that is not stored. */
    s_copy(dir, bad);
    s_tamper_begin(&t, bad);
    REQUIRE(mdb_dbi_open(t.txn, "receipted", 0, &receipted) == 0);
    REQUIRE(mdb_get(t.txn, receipted, &k, &d) == 0);
    memcpy(row, d.mv_data, sizeof row);
    row[7] = 9;
    REQUIRE(mdb_put(t.txn, receipted, &k, &v, 0) == 0);
    s_tamper_end(&t);
    s_expect_fail(bad, "a dangling receipt index row", false, 0,
                  "names a receipt that is not stored");
    /* Beta's receipt put in the place of alpha's. */
    s_copy(dir, bad);
    s_tamper_begin(&t, bad);
    MDB_dbi receipts;
    REQUIRE(mdb_dbi_open(t.txn, "receipts", 0, &receipts) == 0);
    uint8_t kb[8];
    MDB_val kn = s_key(kb, 0), other = {rb.len, rb.data};
    REQUIRE(mdb_put(t.txn, receipts, &kn, &other, 0) == 0);
    s_tamper_end(&t);
    s_expect_fail(bad, "a receipt replaced", false, 0,
                  "names a receipt of broker.alpha that says nothing");
    /* A receipt that also answers for an envelope this log never held. */
    s_copy(dir, bad);
    log = s_open(bad, false);
    memcpy(a_hashes[0], h[3], CDX_HASH_BYTES);
    cdx_bytes rforeign = s_receipt(F.broker, a_hashes + 1, 2, CDX_RECEIPT_ACCEPTED, 20, items);
    memcpy(items[0].envelope_hash, h[3], CDX_HASH_BYTES); /* indexed for seq 4, signed for 2 */
    CHECK_EQ(cdx_log_receipt_keep(log, rforeign.data, rforeign.len, items, 2), CDX_OK);
    CHECK_EQ(cdx_log_outbox_flush(log, NULL), CDX_OK);
    cdx_log_destroy(&log);
    s_expect_fail(bad, "a receipt about a stranger", false, 0,
                  "it answers for envelope 5a5a5a5a5a5a5a5a, which this log does not hold");
    cdx_bytes_free(&rforeign);

    /* A log made before receipts were kept: read, it holds none and
     * audits; opened for writing, it gets the tables. */
    s_copy(dir, bad);
    s_tamper_begin(&t, bad);
    MDB_dbi gone;
    REQUIRE(mdb_dbi_open(t.txn, "receipts", 0, &gone) == 0);
    REQUIRE(mdb_drop(t.txn, gone, 1) == 0);
    REQUIRE(mdb_dbi_open(t.txn, "receipted", 0, &gone) == 0);
    REQUIRE(mdb_drop(t.txn, gone, 1) == 0);
    s_tamper_end(&t);
    log = s_open(bad, true);
    CHECK_EQ(cdx_log_receipts_of(log, h[0], &got, &n, NULL), CDX_OK);
    CHECK_EQ(n, 0);
    CHECK_EQ(s_count_receipts(log), 0);
    cdx_log_destroy(&log);
    r = s_audit(bad);
    CHECK(r.pass);
    CHECK_EQ(r.receipts, 0);
    log = s_open(bad, false);
    CHECK_EQ(cdx_log_receipt_keep(log, rb.data, rb.len, &b_item, 1), CDX_OK);
    CHECK_EQ(cdx_log_outbox_flush(log, NULL), CDX_OK);
    CHECK_EQ(s_count_receipts(log), 1);
    cdx_log_destroy(&log);

    for (int i = 0; i < 4; i++)
        cdx_envelope_destroy(&e[i]);
    cdx_bytes_free(&ra);
    cdx_bytes_free(&rb);
    cdx_bytes_free(&rdup);
    cdx_bytes_free(&rnone);
    cdx_bytes_free(&r3);
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_root);
    char honest[300];
    snprintf(honest, sizeof honest, "%s/honest", s_root);
    test_honest(honest);
    test_tampering(honest);
    test_schema1(honest);
    test_map();
    test_outbox();
    test_outbox_rows();
    test_outbox_damaged_key();
    test_scan_first_missing();
    test_gaps();
    test_batch_duplicate();
    test_held();
    test_exclusive();
    test_room();
    test_damaged();
    test_commit_stats();
    test_receipts();
    test_receipt_twice_in_one();
    fixture_free(&F);
    int rc = check_done("log_test");
    if (rc == 0)
        fixture_rmtree(s_root);
    else
        fprintf(stderr, "files kept in %s\n", s_root);
    return rc;
}
