/* Audit log benchmark (issue 3), everything measured in the same run:
 *
 *   append   entries/s through cdx_log_append at batch sizes 1, 100 and
 *            1000, durable (one fsync per batch), beside raw LMDB MDB_APPEND
 *            of the same entry bytes into one table, same batches, durable
 *   verify   cdx_audit_verify entries/s (1 thread, then all cores) beside
 *            bare crypto_sign_verify_detached over as many distinct
 *            messages of the same size (bare.h says why distinct)
 *   proof    inclusion proof time in a log of --entries entries (default
 *            1,000,000), median of 10,000 random proofs
 *
 * Usage: bench_log [--entries N] [--dir DIR]. DIR (default a fresh folder
 * under /tmp) must be on a real disk for the durable figures to mean
 * anything; it is removed at the end.
 */
#include <lmdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bare.h"
#include "cydex/audit.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/merkle.h"

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct s_fed {
    cdx_identity *ee, *owner;
    cdx_roster *roster;
} s_fed;

static void s_fed_init(s_fed *f)
{
    if (cdx_identity_generate(&f->ee, "EE", CDX_ROLE_STATE) != CDX_OK ||
        cdx_identity_generate(&f->owner, "broker.bench", CDX_ROLE_BROKER) != CDX_OK ||
        cdx_roster_new(&f->roster, "bench", 1, 0) != CDX_OK)
        abort();
    cdx_member m;
    cdx_identity_card(f->ee, &m);
    cdx_roster_add_member(f->roster, &m, NULL);
    cdx_roster_add_admin(f->roster, "EE", m.sign_pk, NULL);
    cdx_identity_card(f->owner, &m);
    cdx_roster_add_member(f->roster, &m, NULL);
    cdx_roster_sign(f->roster, NULL, f->ee, NULL);
}

/* n verified envelopes from EE, seq first.., 1 KiB alerts (desc bytes). */
static cdx_envelope **s_make(s_fed *f, uint64_t first, size_t n, size_t desc, uint8_t prev[32])
{
    cdx_envelope **out = calloc(n, sizeof *out);
    char *d = malloc(desc + 1);
    memset(d, 'x', desc);
    d[desc] = '\0';
    for (size_t i = 0; i < n; i++) {
        uint64_t seq = first + i;
        char json[2048];
        snprintf(json, sizeof json,
                 "{\"tlp\":\"GREEN\",\"title\":\"Benchmark alert %llu\",\"description\":\"%s\"}",
                 (unsigned long long)seq, d);
        cdx_body b = {0};
        b.sender = strdup("EE");
        b.topic = strdup("alert.bench");
        b.seq = seq;
        b.sent_at_ms = 1764000000000ull + seq;
        b.has_prev_hash = seq > 1;
        memcpy(b.prev_hash, prev, 32);
        b.kind = CDX_PAYLOAD_ALERT;
        cdx_bytes env;
        if (cdx_json_to_alert(&b.alert, json, strlen(json), NULL) != CDX_OK ||
            cdx_envelope_sign(f->ee, &b, &env, prev, NULL) != CDX_OK ||
            cdx_envelope_verify(&out[i], f->roster, env.data, env.len, NULL, NULL) != CDX_OK)
            abort();
        cdx_bytes_free(&env);
        cdx_body_clear(&b);
    }
    free(d);
    return out;
}

static void s_free_envs(cdx_envelope **e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cdx_envelope_destroy(&e[i]);
    free(e);
}

static void s_rm(const char *dir)
{
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Raw LMDB: the same entry bytes, MDB_APPEND, one durable commit per batch. */
static double s_raw_append(const char *dir, cdx_envelope **envs, size_t n, size_t batch)
{
    mkdir(dir, 0700);
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    mdb_env_create(&env);
    mdb_env_set_mapsize(env, (size_t)4 << 30);
    if (mdb_env_open(env, dir, 0, 0600) != 0)
        abort();
    mdb_txn_begin(env, NULL, 0, &txn);
    mdb_dbi_open(txn, NULL, 0, &dbi);
    mdb_txn_commit(txn);
    /* The values the log stores: LogEntry around each envelope. */
    cdx_bytes *vals = calloc(n, sizeof *vals);
    for (size_t i = 0; i < n; i++) {
        cdx_log_entry e = {0};
        size_t len;
        e.envelope.data = (uint8_t *)cdx_envelope_bytes(envs[i], &len);
        e.envelope.len = len;
        e.received_at_ms = 1764000000000ull;
        strcpy(e.received_from, "EE");
        e.outcome = CDX_LOG_ACCEPTED;
        cdx_log_entry_encode(&e, &vals[i]);
    }
    double t0 = s_now();
    for (size_t i = 0; i < n; i += batch) {
        mdb_txn_begin(env, NULL, 0, &txn);
        for (size_t j = i; j < i + batch && j < n; j++) {
            uint8_t key[8];
            for (int b = 7, k = 0; b >= 0; b--, k++)
                key[k] = (uint8_t)(j >> (8 * b));
            MDB_val kv = {8, key}, dv = {vals[j].len, vals[j].data};
            if (mdb_put(txn, dbi, &kv, &dv, MDB_APPEND) != 0)
                abort();
        }
        if (mdb_txn_commit(txn) != 0)
            abort();
    }
    double rate = (double)n / (s_now() - t0);
    for (size_t i = 0; i < n; i++)
        cdx_bytes_free(&vals[i]);
    free(vals);
    mdb_env_close(env);
    return rate;
}

static double s_log_append(const char *dir, cdx_envelope **envs, size_t n, size_t batch)
{
    cdx_log *log;
    cdx_log_opts o = {.owner = "broker.bench", .map_initial = (size_t)1 << 30};
    if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK)
        abort();
    cdx_log_append_in *in = calloc(batch, sizeof *in);
    cdx_log_append_out *out = calloc(batch, sizeof *out);
    double t0 = s_now();
    for (size_t i = 0; i < n; i += batch) {
        size_t m = i + batch <= n ? batch : n - i;
        for (size_t j = 0; j < m; j++)
            in[j] = (cdx_log_append_in){
                .env = envs[i + j], .received_at_ms = 1764000000000ull, .received_from = "EE"};
        if (cdx_log_append(log, in, m, out, NULL) != CDX_OK)
            abort();
    }
    double rate = (double)n / (s_now() - t0);
    free(in);
    free(out);
    cdx_log_destroy(&log);
    return rate;
}

int main(int argc, char **argv)
{
    static const char usage[] = "bench_log [--entries N] [--dir DIR]";
    uint64_t big = 1000000;
    const char *base = NULL, *v;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--entries") == 0) {
            if (!bench_value(argc, argv, &i, true, &v))
                return bench_usage(usage, NULL);
            big = strtoull(v, NULL, 10);
        } else if (strcmp(argv[i], "--dir") == 0) {
            if (!bench_value(argc, argv, &i, false, &base))
                return bench_usage(usage, NULL);
        } else {
            return bench_usage(usage, argv[i]);
        }
    }
    if (sodium_init() < 0)
        return 1;
    char root[512];
    snprintf(root, sizeof root, "%s/cydex-bench-%d", base ? base : "/tmp", (int)getpid());
    mkdir(root, 0700);
    s_fed f;
    s_fed_init(&f);
    uint8_t prev[32] = {0};

    /* ---- append ---- */
    const size_t n_for[] = {200, 20000, 40000}, batches[] = {1, 100, 1000};
    printf("CyDEx audit log benchmark (durable: one fsync per batch; best of 3)\n");
    printf("%-10s %14s %14s %7s %s\n", "batch", "raw LMDB e/s", "cdx_log e/s", "ratio", "target");
    for (int k = 0; k < 3; k++) {
        size_t n = n_for[k];
        memset(prev, 0, sizeof prev);
        cdx_envelope **envs = s_make(&f, 1, n, 800, prev);
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/raw-%zu", root, batches[k]);
        snprintf(b, sizeof b, "%s/log-%zu", root, batches[k]);
        /* Best of 3, raw and log alternating, each into a fresh folder. */
        double raw = 0, log = 0;
        for (int round = 0; round < 3; round++) {
            s_rm(a);
            s_rm(b);
            double r1 = s_raw_append(a, envs, n, batches[k]);
            double r2 = s_log_append(b, envs, n, batches[k]);
            raw = r1 > raw ? r1 : raw;
            log = r2 > log ? r2 : log;
        }
        printf("%-10zu %14.0f %14.0f %7.3f %s\n", batches[k], raw, log, log / raw,
               batches[k] == 1000 ? (log / raw >= 0.8 ? ">= 0.80 met" : ">= 0.80 MISSED") : "-");
        s_free_envs(envs, n);
        s_rm(a);
        if (k != 2)
            s_rm(b);
    }

    /* ---- verify: the 40,000-entry log just written ---- */
    {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/log-1000", root);
        cdx_log *log;
        cdx_log_opts ro = {.read_only = true};
        if (cdx_log_new(&log, dir, &ro, NULL) != CDX_OK)
            abort();
        cdx_log_entry e;
        cdx_log_get(log, 0, &e, NULL);
        size_t len = e.envelope.len;
        cdx_log_entry_clear(&e);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned max_t = (unsigned)(cpus > 1 ? cpus : 1);
        /* Best of 3 rounds, bare and audit alternating, so both see the
         * same machine. */
        double bare = 0, audit[65] = {0};
        for (int round = 0; round < 3; round++) {
            double b = bench_bare_verify(len, 20000), t0;
            bare = b > bare ? b : bare;
            for (unsigned t = 1; t <= max_t && t <= 64; t++) {
                cdx_audit_opts o = {.roster = f.roster, .threads = t};
                cdx_audit_report r;
                t0 = s_now();
                if (cdx_audit_verify(log, &o, &r, NULL) != CDX_OK || !r.pass)
                    abort();
                double rate = (double)r.verified / (s_now() - t0);
                audit[t] = rate > audit[t] ? rate : audit[t];
            }
        }
        printf("\n%-22s %12s %7s %s\n", "verify (best of 3)", "entries/s", "ratio", "target");
        printf("%-22s %12.0f %7s (distinct signatures, as in a log)\n", "bare Ed25519, 1 core",
               bare, "1.000");
        for (unsigned t = 1; t <= max_t && t <= 64; t++) {
            char label[32];
            snprintf(label, sizeof label, "cydex-audit, %u thread%s", t, t > 1 ? "s" : "");
            printf("%-22s %12.0f %7.3f %s\n", label, audit[t], audit[t] / bare,
                   t == 1 ? (audit[t] / bare >= 0.9 ? ">= 0.90 met" : ">= 0.90 MISSED") : "");
        }
        cdx_log_destroy(&log);
        s_rm(dir);
    }

    /* ---- inclusion proofs in a big log ---- */
    {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/big", root);
        cdx_log *log;
        cdx_log_opts o = {.owner = "broker.bench", .map_initial = (size_t)1 << 30};
        if (cdx_log_new(&log, dir, &o, NULL) != CDX_OK)
            abort();
        memset(prev, 0, sizeof prev);
        fprintf(stderr, "building a log of %llu entries for the proof benchmark...\n",
                (unsigned long long)big);
        const size_t chunk = 5000;
        cdx_log_append_in *in = calloc(chunk, sizeof *in);
        cdx_log_append_out *out = calloc(chunk, sizeof *out);
        for (uint64_t done = 0; done < big; done += chunk) {
            size_t m = big - done < chunk ? (size_t)(big - done) : chunk;
            cdx_envelope **envs = s_make(&f, done + 1, m, 10, prev);
            for (size_t j = 0; j < m; j++)
                in[j] = (cdx_log_append_in){
                    .env = envs[j], .received_at_ms = 1764000000000ull, .received_from = "EE"};
            if (cdx_log_append(log, in, m, out, NULL) != CDX_OK)
                abort();
            s_free_envs(envs, m);
            if (isatty(2))
                fprintf(stderr, "\r  %llu", (unsigned long long)(done + m));
        }
        fprintf(stderr, "\n");
        free(in);
        free(out);
        uint64_t size;
        cdx_log_size(log, &size);
        static double t[10000];
        uint8_t path[CDX_MERKLE_MAX_PROOF][32];
        size_t pn;
        for (int i = 0; i < 10000; i++) {
            uint64_t idx = randombytes_uniform((uint32_t)size);
            double t0 = s_now();
            if (cdx_log_inclusion(log, idx, size, path, &pn) != CDX_OK)
                abort();
            t[i] = s_now() - t0;
        }
        for (int i = 1; i < 10000; i++) /* insertion sort is fine for a bench */
            for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
                double x = t[j];
                t[j] = t[j - 1];
                t[j - 1] = x;
            }
        printf("\ninclusion proof, %llu entries: median %.1f us, p99 %.1f us (target < 50 us)\n",
               (unsigned long long)size, t[5000] * 1e6, t[9900] * 1e6);
        cdx_log_destroy(&log);
        s_rm(dir);
    }
    s_rm(root);
    return 0;
}
