/* Brokers' receipts kept as evidence: EE's node, connected to two brokers,
 * publishes; each broker's signed receipt lands in EE's log (one per
 * broker), `cydex show` prints them (which broker, its log index, when,
 * the signature verifies), `cydex-audit receipts` lists and verifies them
 * as a third party would and writes each to a file that `cydex-audit
 * check-receipt` verifies offline with only the roster; `cydex-audit
 * verify` passes, and fails naming the receipt once a byte of a stored
 * receipt is flipped (in a copy of the log, through LMDB itself). A sealed
 * alert's receipts are found by its id with a key it is sealed to.
 * ipc:// endpoints in a temporary folder; every process stopped by PID. */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

#define HAS(text) CHECK(strstr(s_cap.out, text) || strstr(s_cap.err, text))

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* Flips one byte in the middle of stored receipt `number` in the log
 * copied to `dir` (the log closed), through LMDB itself. */
static void s_flip_receipt(const char *dir, uint64_t number)
{
    uint8_t key[8];
    for (int i = 7; i >= 0; i--, number >>= 8)
        key[i] = (uint8_t)number;
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    REQUIRE(mdb_env_create(&env) == 0);
    mdb_env_set_maxdbs(env, 16);
    REQUIRE(mdb_env_open(env, dir, 0, 0600) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0);
    REQUIRE(mdb_dbi_open(txn, "receipts", 0, &dbi) == 0);
    MDB_val k = {8, key}, d;
    REQUIRE(mdb_get(txn, dbi, &k, &d) == 0);
    uint8_t *copy = malloc(d.mv_size);
    REQUIRE(copy != NULL);
    memcpy(copy, d.mv_data, d.mv_size);
    copy[d.mv_size / 2] ^= 0x20;
    MDB_val v = {d.mv_size, copy};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
    REQUIRE(mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
    free(copy);
}

/* The value of "key":"..." after `from` in text, into out. */
static void s_field(const char *text, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = text ? strstr(text, pat) : NULL;
    out[0] = '\0';
    if (p) {
        p += strlen(pat);
        size_t n = strcspn(p, "\"");
        snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
    }
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.beta, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t beta = bus_start_broker(s_dir, "beta", "broker.beta", "checkpoint_ms = 200");
    char extra[1024], in[256], fan[256], cu[256];
    bus_endpoint(in, s_dir, "beta", "ingress");
    bus_endpoint(fan, s_dir, "beta", "fanout");
    bus_endpoint(cu, s_dir, "beta", "catchup");
    snprintf(extra, sizeof extra,
             "[broker.beta]\nid = broker.beta\ningress = %s\nfanout = %s\ncatchup = %s\n", in, fan,
             cu);
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "", extra);
    char ee_ctl[320];
    snprintf(ee_ctl, sizeof ee_ctl, "ipc://%s", s_p("ee-control"));
    static const char id[] = "7a1c2a44-1d3e-4b7a-9c61-0e2f8a7b3c10";
    static const char sealed_id[] = "7a1c2a44-1d3e-4b7a-9c61-0e2f8a7b3c11";
    FILE *f = fopen(s_p("alert.json"), "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"id\":\"%s\",\"title\":\"Ransomware wave\",\"tlp\":\"GREEN\"}", id);
    fclose(f);
    f = fopen(s_p("sealed.json"), "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"id\":\"%s\",\"title\":\"Supplier breach\",\"tlp\":\"AMBER\"}", sealed_id);
    fclose(f);

    /* 1. Published; each broker's receipt lands in EE's log. */
    CHECK_EQ(proc_capture_run(&s_cap, s_p("alert.json"), "cydex", "publish", "--node", ee_ctl,
                              "--topic", "alert.health", "--json", NULL),
             0);
    char hash[65];
    s_field(s_cap.out, "hash", hash, sizeof hash);
    REQUIRE(strlen(hash) == 64);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("sealed.json"), "cydex", "publish", "--node", ee_ctl,
                              "--topic", "alert.energy", "--to", "FR", NULL),
             0);
    bool both = false;
    for (int i = 0; i < 100 && !both; i++) {
        CHECK_EQ(
            proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", ee_ctl, "--json", id, NULL),
            0);
        both = proc_count(s_cap.out, "\"verified\":true}") == 2;
        if (!both)
            bus_nap(100);
    }
    CHECK(both);
    if (!both)
        fprintf(stderr, "show said: %s\n", s_cap.out);
    HAS("\"receipts\":[{\"broker\":\"broker.alpha\",\"status\":\"accepted\",\"log_index\":");
    HAS("{\"broker\":\"broker.beta\",\"status\":\"accepted\"");
    HAS("\"committed_at\":\"20");
    char name[65];
    s_field(strstr(s_cap.out, "\"broker.alpha\""), "receipt", name, sizeof name);
    CHECK_EQ(strlen(name), 64);
    const char *num = strstr(strstr(s_cap.out, "\"broker.alpha\""), "\"number\":");
    REQUIRE(num != NULL);
    uint64_t number = strtoull(num + 9, NULL, 10);
    const char *at = strstr(s_cap.out, "\"alerts\":[{\"index\":");
    REQUIRE(at != NULL);
    uint64_t entry = strtoull(at + 19, NULL, 10); /* the alert's index in EE's log */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", ee_ctl, id, NULL), 0);
    HAS("brokers' receipts: 2\n");
    HAS("  broker.alpha   accepted at its log index ");
    HAS("  broker.beta    accepted at its log index ");
    HAS("signature verifies (receipt ");
    char short_name[17];
    snprintf(short_name, sizeof short_name, "%.16s", name);
    HAS(short_name);
    CHECK_EQ(proc_count(s_cap.out, "signature verifies"), 2);
    /* The sealed one too, once both are in. */
    both = false;
    for (int i = 0; i < 100 && !both; i++) {
        proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", ee_ctl, "--json", sealed_id,
                         NULL);
        both = proc_count(s_cap.out, "\"verified\":true}") == 2;
        if (!both)
            bus_nap(100);
    }
    CHECK(both);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(alpha), 0);
    CHECK_EQ(bus_stop(beta), 0);

    /* 2. As a third party: listed, verified, written out, checked offline. */
    char *roster = s_p("roster.bin"), *log = s_p("ee-log"), *out = s_p("receipts");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", log, id, "--roster", roster,
                              "--out", out, NULL),
             0);
    HAS("brokers' receipts kept: 2\n");
    HAS("broker.alpha     accepted at its log index ");
    CHECK_EQ(proc_count(s_cap.out, "signature verifies"), 2);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", log, hash, "--roster",
                              roster, "--json", NULL),
             0);
    HAS("\"verified\":true}");
    HAS("\"broker\":\"broker.beta\"");
    CHECK_EQ(proc_count(s_cap.out, "\"receipt\":\""), 2); /* the bytes, base64 */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", log, id, "--roster", roster,
                              "--out", out, NULL),
             73); /* the files are there */
    char file[400];
    snprintf(file, sizeof file, "%s/broker.alpha.receipt", out);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "check-receipt", file, "--roster",
                              roster, "--envelope", hash, NULL),
             0);
    HAS("VALID: receipt signed by broker.alpha");
    HAS("broker.alpha took envelope");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "check-receipt", file, "--roster",
                              roster, "--envelope",
                              "0000000000000000000000000000000000000000000000000000000000000000",
                              NULL),
             1);
    HAS("says nothing of envelope");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "check-receipt", file, "--roster",
                              roster, "--json", NULL),
             0);
    HAS("\"verdict\":\"VALID\"");
    /* A flipped byte in the file: no longer valid. */
    char *bytes = proc_slurp(file);
    struct stat st;
    REQUIRE(stat(file, &st) == 0 && st.st_size > 40);
    bytes[st.st_size - 10] ^= 0x01;
    char flipped[420];
    snprintf(flipped, sizeof flipped, "%s/flipped.receipt", out);
    f = fopen(flipped, "wb");
    REQUIRE(f != NULL);
    fwrite(bytes, 1, (size_t)st.st_size, f);
    fclose(f);
    free(bytes);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "check-receipt", flipped, "--roster",
                              roster, "--envelope", hash, NULL),
             1);
    HAS("INVALID: receipt signature of broker.alpha does not verify");
    /* A sealed alert: by its id with a key it is sealed to. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", log, sealed_id, "--roster",
                              roster, NULL),
             66);
    HAS("give --key");
    char key[400];
    snprintf(key, sizeof key, "%s/keys/EE.secret", s_dir);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", log, sealed_id, "--roster",
                              roster, "--key", key, NULL),
             0);
    HAS("brokers' receipts kept: 2\n");

    /* 3. The audit checks them; a flipped byte fails it, naming the receipt. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", log, "--roster", roster, NULL),
             0);
    HAS("PASS");
    HAS("brokers' receipts kept: ");
    char copy[400], cmd[1000];
    snprintf(copy, sizeof copy, "%s/ee-log-copy", s_dir);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/data.mdb' '%s/'", copy, log, copy);
    REQUIRE(system(cmd) == 0);
    s_flip_receipt(copy, number);
    CHECK_EQ(
        proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", copy, "--roster", roster, NULL), 1);
    char want[120];
    snprintf(want, sizeof want, "FAIL: stored receipt %llu (from broker.alpha, for entry %llu)",
             (unsigned long long)number, (unsigned long long)entry);
    HAS(want);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", copy, "--roster", roster,
                              "--json", NULL),
             1);
    HAS("\"verdict\":\"FAIL\"");
    HAS("stored receipt");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "receipts", copy, id, "--roster", roster,
                              NULL),
             1);
    HAS("DOES NOT VERIFY");

    proc_capture_free(&s_cap);
    fixture_rmtree(s_dir);
    fixture_free(&F);
    return check_done("receipts_test");
}
