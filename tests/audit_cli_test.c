/* cydex log and cydex-audit as an auditor drives them: build a log, verify
 * it, replay it with filters, prove entries and consistency to a third
 * party, and catch a byte changed in data.mdb with a "hex editor". */
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "internal.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

/* Runs one of the project's programs; its output lands in s_cap. */
#define s_run(...) proc_capture_run(&s_cap, NULL, __VA_ARGS__)

static char *s_p(const char *name)
{
    static char bufs[24][300];
    static int next;
    char *p = bufs[next++ % 24];
    snprintf(p, 300, "%s/%s", s_dir, name);
    return p;
}

static void s_save(const char *name, const cdx_bytes *b)
{
    FILE *f = fopen(s_p(name), "wb");
    REQUIRE(f && fwrite(b->data, 1, b->len, f) == b->len);
    fclose(f);
}

/* The envelope in file NAME, appended to an open log. */
static void s_append_file(cdx_log *log, const char *name)
{
    cdx_bytes raw = {0};
    cdx_envelope *env = NULL;
    REQUIRE(cdx__read_file(s_p(name), 1 << 20, &raw, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&env, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_log_append_in in = {.env = env, .received_at_ms = FIXTURE_T0, .received_from = "test"};
    cdx_log_append_out out;
    REQUIRE(cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&raw);
}

static size_t s_lines(const char *text)
{
    size_t n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

/* EE 1..6 (seq 4 has a unique title), FR's ack of EE 1, EE 7 sealed to FR. */
static uint8_t s_hash[8][32]; /* EE seq n's envelope hash */

static void s_write_envelopes(void)
{
    uint8_t prev[32], h1[32];
    cdx_bytes env = {0};
    for (uint64_t seq = 1; seq <= 6; seq++) {
        cdx_body b;
        fixture_body(&b, "EE", seq, seq > 1 ? prev : NULL, "alert.health", FIXTURE_T0 + seq);
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 40);
        if (seq == 4) {
            free(b.alert.title);
            b.alert.title = malloc(32);
            strcpy(b.alert.title, "Zebra-striped botnet");
        }
        REQUIRE(cdx_envelope_sign(F.ee, &b, &env, prev, NULL) == CDX_OK);
        if (seq == 1)
            memcpy(h1, prev, 32);
        memcpy(s_hash[seq], prev, 32);
        char name[32];
        snprintf(name, sizeof name, "ee-%llu.env", (unsigned long long)seq);
        s_save(name, &env);
        cdx_bytes_free(&env);
        cdx_body_clear(&b);
    }
    cdx_body b;
    fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 50);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, h1, 32);
    b.ack.alert_id = malloc(40);
    strcpy(b.ack.alert_id, "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
    b.ack.stage = CDX_ACK_MITIGATED;
    REQUIRE(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL) == CDX_OK);
    s_save("fr-1.env", &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
    fixture_body(&b, "EE", 7, prev, "alert.energy", FIXTURE_T0 + 60);
    b.kind = CDX_PAYLOAD_SEALED;
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_RED, 30);
    cdx_member fr;
    cdx_identity_card(F.fr, &fr);
    REQUIRE(cdx_seal_alert(&b.sealed, &a, "EE", 7, "alert.energy", &fr, 1, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, prev, NULL) == CDX_OK);
    s_save("ee-7.env", &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
    cdx_alert_clear(&a);
}

static void test_build_and_verify(void)
{
    char log[300], roster[300];
    snprintf(log, sizeof log, "%s", s_p("log"));
    snprintf(roster, sizeof roster, "%s", s_p("roster.bin"));
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", log, "--roster", roster, "--owner",
                   "broker.alpha", "--from", "EE", s_p("ee-1.env"), s_p("ee-2.env"),
                   s_p("ee-3.env"), s_p("ee-4.env"), s_p("ee-5.env"), s_p("ee-6.env"),
                   s_p("fr-1.env"), s_p("ee-7.env"), NULL),
             0);
    HAS(s_cap.out, "stored 8, duplicates 0");
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", log, "--roster", roster, s_p("ee-1.env"),
                   s_p("fr-1.env"), NULL),
             0);
    HAS(s_cap.out, "stored 0, duplicates 2, equivocations 0; 8 entries");
    CHECK_EQ(s_run("cydex", "log", "checkpoint", "--dir", log, "--key",
                   s_p("keys/broker.alpha.secret"), NULL),
             0);
    HAS(s_cap.out, "cydex/broker.alpha\n8\n");
    CHECK_EQ(
        s_run("cydex", "log", "checkpoint", "--dir", log, "--key", s_p("keys/FR.secret"), NULL),
        64);
    HAS(s_cap.err, "cannot sign checkpoints of broker.alpha's log");

    CHECK_EQ(s_run("cydex-audit", "verify", log, "--roster", roster, NULL), 0);
    HAS(s_cap.out, "PASS: cydex/broker.alpha, entries 0..7 (8) verified");
    HAS(s_cap.out, "1 signed checkpoint checked, the last at size 8");
    CHECK_EQ(s_run("cydex-audit", "verify", log, "--json", NULL), 0); /* the stored roster */
    HAS(s_cap.out, "\"verdict\":\"PASS\"");
    HAS(s_cap.err, "judging by the roster stored in the log");
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("nolog"), "--roster", roster, NULL), 66);
    /* A log of a schema newer than this program: refused as data it cannot
     * read (65), naming the schemas it can. */
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/data.mdb' '%s/'", s_p("future"), log,
             s_p("future"));
    REQUIRE(system(cmd) == 0);
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    uint8_t v99[8] = {0, 0, 0, 0, 0, 0, 0, 99};
    MDB_val k = {6, "schema"}, v = {8, v99};
    REQUIRE(mdb_env_create(&env) == 0 && mdb_env_set_maxdbs(env, 8) == 0);
    REQUIRE(mdb_env_open(env, s_p("future"), 0, 0600) == 0);
    REQUIRE(mdb_txn_begin(env, NULL, 0, &txn) == 0 && mdb_dbi_open(txn, "meta", 0, &meta) == 0);
    REQUIRE(mdb_put(txn, meta, &k, &v, 0) == 0 && mdb_txn_commit(txn) == 0);
    mdb_env_close(env);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("future"), "--roster", roster, NULL), 65);
    HAS(s_cap.err, "schema version 99; this program reads 1 to 3");
    CHECK_EQ(s_run("cydex-audit", "verify", NULL), 64);
}

/* A second party (FR's node) holds EE 1..3 and a *different* EE seq 4. */
static void test_report_and_diff(void)
{
    char log[300], roster[300], other[300];
    snprintf(log, sizeof log, "%s", s_p("log"));
    snprintf(roster, sizeof roster, "%s", s_p("roster.bin"));
    snprintf(other, sizeof other, "%s", s_p("log-fr"));
    cdx_body b;
    fixture_body(&b, "EE", 4, s_hash[3], "alert.health", FIXTURE_T0 + 4);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 40);
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, NULL, NULL) == CDX_OK);
    s_save("ee-4b.env", &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", other, "--roster", roster, "--owner", "FR",
                   s_p("ee-1.env"), s_p("ee-2.env"), s_p("ee-3.env"), s_p("ee-4b.env"),
                   s_p("fr-1.env"), NULL),
             0);

    /* Proof that EE equivocated, both logs intact: EVIDENCE, exit 2. */
    CHECK_EQ(s_run("cydex-audit", "diff", log, other, "--roster", roster, NULL), 2);
    HAS(s_cap.out, "EQUIVOCATION: EE signed two different envelopes with seq 4");
    HAS(s_cap.out, "both signatures VERIFY against the roster");
    /* and each envelope printed says so (it once said "verified":false of
     * envelopes whose signatures hold: it was decoded, not verified) */
    HAS(s_cap.out, "\"signer\":\"EE\",\"verified\":true");
    CHECK(strstr(s_cap.out, "\"verified\":false") == NULL);
    HAS(s_cap.out, "EVIDENCE: 1 equivocation and 0 inconsistent tree heads");
    HAS(s_cap.out, "only in A: EE seq 5");
    HAS(s_cap.out, "B holds 1 envelope that A does not");
    HAS(s_cap.out, "DE never acknowledged EE seq 1");
    CHECK(strstr(s_cap.out, "FR never acknowledged EE seq 1\n") == NULL);
    /* EE seq 7 is sealed to FR alone: only FR owes an ack. LT joined a day
     * after these alerts; LV was revoked an hour after, so it owes them. */
    HAS(s_cap.out, "FR never acknowledged EE seq 7");
    CHECK(strstr(s_cap.out, "DE never acknowledged EE seq 7") == NULL);
    CHECK(strstr(s_cap.out, "LT never acknowledged") == NULL);
    HAS(s_cap.out, "LV never acknowledged EE seq 1");
    HAS(s_cap.out, "DE left 7 alerts unacknowledged"); /* 1..6, and B's other 4 */
    HAS(s_cap.out, "equivocations between the two logs: 1");
    /* Without a roster to check them, the two envelopes prove nothing. */
    char bare[300];
    snprintf(bare, sizeof bare, "%s", s_p("log-bare"));
    cdx_log *lb = NULL;
    cdx_log_opts wo = {.owner = "FR"};
    REQUIRE(cdx_log_new(&lb, bare, &wo, NULL) == CDX_OK);
    s_append_file(lb, "ee-4b.env");
    cdx_log_destroy(&lb);
    CHECK_EQ(s_run("cydex-audit", "diff", log, bare, NULL), 2); /* the roster log A stores */
    CHECK_EQ(s_run("cydex-audit", "diff", bare, bare, NULL), 0);
    CHECK_EQ(s_run("cydex-audit", "diff", log, log, NULL), 0);
    HAS(s_cap.out, "equivocations between the two logs: 0");

    CHECK_EQ(s_run("cydex-audit", "report", log, NULL), 0);
    HAS(s_cap.out, "report on cydex/broker.alpha: 8 entries");
    HAS(s_cap.out, "alerts without any acknowledgement: 6 of 7");
    HAS(s_cap.out, "(sealed)");
    HAS(s_cap.out, "refused: 2 duplicates");
    CHECK_EQ(s_run("cydex-audit", "report", log, "--json", "--key", s_p("keys/FR.secret"), NULL),
             0);
    HAS(s_cap.out, "\"id\":\"FR\",\"alerts\":0,\"sealed_alerts\":0,\"acks\":1");
    HAS(s_cap.out, "\"ack_latency_p50_ms\":49"); /* FR acked EE seq 1 49 ms after it was sent */
    HAS(s_cap.out, "\"duplicates_refused\":2");
}

/* broker.alpha's tree head of its log (size, root) as the sth envelope
 * seq it publishes, chained to prev; saved as NAME. */
static void s_tree_head(const char *name, uint64_t seq, uint8_t prev[32], uint64_t size,
                        const uint8_t root[32])
{
    cdx_body b;
    fixture_body(&b, "broker.alpha", seq, seq > 1 ? prev : NULL, "sth", FIXTURE_T0 + 100 + seq);
    b.kind = CDX_PAYLOAD_TREE_HEAD;
    b.tree_head.origin = strdup("cydex/broker.alpha");
    b.tree_head.size = size;
    b.tree_head.timestamp_ms = b.sent_at_ms;
    memcpy(b.tree_head.root, root, 32);
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.broker, &b, &env, prev, NULL) == CDX_OK);
    s_save(name, &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

/* DE's co-signature (seq) of the head in file `head`; `broken`: with a bit
 * of the head's signature flipped. */
static void s_cosign(const char *name, uint64_t seq, const char *head, bool broken)
{
    static uint8_t prev[32];
    cdx_body b;
    fixture_body(&b, "DE", seq, seq > 1 ? prev : NULL, "sth", FIXTURE_T0 + 200 + seq);
    b.kind = CDX_PAYLOAD_WITNESS;
    REQUIRE(cdx__read_file(head, 1 << 20, &b.witness, NULL) == CDX_OK);
    if (broken)
        b.witness.data[b.witness.len - 1] ^= 1; /* the signature is the last field */
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.de, &b, &env, prev, NULL) == CDX_OK);
    s_save(name, &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

/* FR's node logged tree heads broker.alpha published; diff holds them
 * against broker.alpha's log: the true one matches, a root the log does
 * not have at that size and a size beyond the log are proof that it
 * showed FR another log (or rewrote its own since). */
static void test_tree_heads(void)
{
    char log[300], roster[300];
    snprintf(log, sizeof log, "%s", s_p("log"));
    snprintf(roster, sizeof roster, "%s", s_p("roster.bin"));
    cdx_log *l = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&l, log, &ro, NULL) == CDX_OK);
    uint8_t root5[32], prev[32];
    REQUIRE(cdx_log_root(l, 5, root5) == CDX_OK);
    cdx_log_destroy(&l);
    s_tree_head("sth-1.env", 1, prev, 5, root5);
    s_tree_head("sth-2.env", 2, prev, 6, root5); /* not the root at 6 */
    s_tree_head("sth-3.env", 3, prev, 100, root5);
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("heads-good"), "--roster", roster,
                   "--owner", "FR", "--from", "broker.alpha", s_p("sth-1.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("heads-good"), log, NULL), 0);
    HAS(s_cap.out, "tree heads of B's log that A logged: 1, checked against B");
    HAS(s_cap.out, "inconsistent: 0");
    CHECK_EQ(s_run("cydex-audit", "diff", log, s_p("heads-good"), NULL), 0); /* either order */
    HAS(s_cap.out, "of A's log that B logged: 1, checked against A; inconsistent: 0");
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("heads-bad"), "--roster", roster,
                   "--owner", "FR", "--from", "broker.alpha", s_p("sth-1.env"), s_p("sth-2.env"),
                   s_p("sth-3.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("heads-bad"), log, NULL), 2);
    HAS(s_cap.out, "EVIDENCE: 0 equivocations and 2 inconsistent tree heads");
    HAS(s_cap.out, "INCONSISTENT TREE HEAD: broker.alpha signed a root of cydex/broker.alpha at "
                   "size 6 (logged by A at #1)");
    HAS(s_cap.out, "at size 100 (logged by A at #2), but B holds only 8 entries: cut short since");
    HAS(s_cap.out, "equivocations between the two logs: 0");
    HAS(s_cap.out, "tree heads of B's log that A logged: 3, checked against B; of A's log that B "
                   "logged: 0, checked against A; inconsistent: 2");
    /* The same false head, shown to DE and co-signed by DE's node; and a
     * co-signature whose head's signature was broken, which proves nothing. */
    s_cosign("cosig-1.env", 1, s_p("sth-2.env"), false);
    s_cosign("cosig-2.env", 2, s_p("sth-1.env"), true);
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("heads-cosigned"), "--roster", roster,
                   "--owner", "FR", "--from", "broker.alpha", s_p("sth-1.env"), s_p("cosig-1.env"),
                   s_p("cosig-2.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("heads-cosigned"), log, NULL), 2);
    HAS(s_cap.out, "INCONSISTENT TREE HEAD: broker.alpha signed a root of cydex/broker.alpha at "
                   "size 6 (logged by A at #1, inside a co-signature by DE) that B does not have");
    HAS(s_cap.out, "logged: 2, checked against B");
    HAS(s_cap.out, "inconsistent: 1");
    HAS(s_cap.out, "co-signed tree heads not checked: 1 (not a tree head, or its signature does "
                   "not verify)");
}

static void test_replay(void)
{
    char log[300];
    snprintf(log, sizeof log, "%s", s_p("log"));
    CHECK_EQ(s_run("cydex-audit", "replay", log, NULL), 0);
    CHECK_EQ(s_lines(s_cap.out), 8);
    HAS(s_cap.out, "\"index\":0,");
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--sender", "FR", NULL), 0);
    CHECK_EQ(s_lines(s_cap.out), 1);
    HAS(s_cap.out, "\"stage\":\"mitigated\"");
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--kind", "ack", "--format", "text", NULL), 0);
    CHECK_EQ(s_lines(s_cap.out), 1);
    HAS(s_cap.out, "ACK mitigated");
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--alert", "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41",
                   "--topic", "ack", NULL),
             0);
    CHECK_EQ(s_lines(s_cap.out), 1);
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--topic", "alert.energy", NULL), 0);
    CHECK_EQ(s_lines(s_cap.out), 1);
    CHECK(strstr(s_cap.out, "\"opened\"") == NULL);
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--topic", "alert.energy", "--key",
                   s_p("keys/FR.secret"), NULL),
             0);
    HAS(s_cap.out, "\"opened\":{");
    HAS(s_cap.out, "\"tlp\":\"RED\"");
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--since", "2025-11-24T16:00:00.004Z", "--until",
                   "2025-11-24T16:00:00.005Z", "--format", "text", NULL),
             0);
    CHECK_EQ(s_lines(s_cap.out), 2);
    HAS(s_cap.out, "Zebra-striped botnet");
    CHECK_EQ(s_run("cydex-audit", "replay", log, "--kind", "gossip", NULL), 64);
}

static void test_proofs(void)
{
    char log[300], roster[300], pub[300];
    snprintf(log, sizeof log, "%s", s_p("log"));
    snprintf(roster, sizeof roster, "%s", s_p("roster.bin"));
    snprintf(pub, sizeof pub, "%s", s_p("keys/broker.alpha.pub"));
    CHECK_EQ(s_run("cydex-audit", "prove", "inclusion", log, "3", NULL), 0);
    HAS(s_cap.out, "c2sp.org/tlog-proof@v1\nextra ");
    HAS(s_cap.out, "\nindex 3\n");
    FILE *f = fopen(s_p("p3.proof"), "w");
    fputs(s_cap.out, f);
    fclose(f);
    CHECK_EQ(s_run("cydex-audit", "check-proof", s_p("p3.proof"), "--key", pub, NULL), 0);
    HAS(s_cap.out, "VALID: entry 3 of cydex/broker.alpha");
    HAS(s_cap.out, "EE seq 4 on alert.health");
    HAS(s_cap.out, "Zebra-striped botnet");
    CHECK_EQ(
        s_run("cydex-audit", "check-proof", s_p("p3.proof"), "--key", s_p("keys/EE.pub"), NULL), 1);
    /* Claim the entry sits at another index: the path no longer holds. */
    char *text = proc_slurp(s_p("p3.proof"));
    char *idx = strstr(text, "\nindex 3\n");
    REQUIRE(idx != NULL);
    idx[7] = '2';
    f = fopen(s_p("p3-moved.proof"), "w");
    fputs(text, f);
    fclose(f);
    free(text);
    CHECK_EQ(s_run("cydex-audit", "check-proof", s_p("p3-moved.proof"), "--key", pub, NULL), 1);
    HAS(s_cap.err, "INVALID");
    /* A second entry in the proof: malformed, whichever of the two holds. */
    text = proc_slurp(s_p("p3.proof"));
    char *extra = strstr(text, "\nextra ");
    REQUIRE(extra != NULL);
    f = fopen(s_p("p3-twice.proof"), "w");
    fprintf(f, "%.*s\nextra AAAA%s", (int)(extra - text), text, extra);
    fclose(f);
    free(text);
    CHECK_EQ(s_run("cydex-audit", "check-proof", s_p("p3-twice.proof"), "--key", pub, NULL), 65);
    HAS(s_cap.err, "a second \"extra\" line");

    /* Grow the log, checkpoint again, prove the old tree is a prefix. */
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", log, "--roster", roster, s_p("more-1.env"),
                   s_p("more-2.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex", "log", "checkpoint", "--dir", log, "--key",
                   s_p("keys/broker.alpha.secret"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "checkpoint", log, "--size", "8", NULL), 0);
    f = fopen(s_p("cp8"), "w");
    fputs(s_cap.out, f);
    fclose(f);
    CHECK_EQ(s_run("cydex-audit", "checkpoint", log, NULL), 0);
    HAS(s_cap.out, "\n10\n");
    f = fopen(s_p("cp10"), "w");
    fputs(s_cap.out, f);
    fclose(f);
    CHECK_EQ(s_run("cydex-audit", "prove", "consistency", log, "8", "10", NULL), 0);
    f = fopen(s_p("c.proof"), "w");
    fputs(s_cap.out, f);
    fclose(f);
    CHECK_EQ(s_run("cydex-audit", "check-proof", s_p("c.proof"), "--key", pub, "--old", s_p("cp8"),
                   "--new", s_p("cp10"), NULL),
             0);
    HAS(s_cap.out, "VALID: cydex/broker.alpha at size 8 is a prefix of the same log at size 10");
    CHECK_EQ(s_run("cydex-audit", "check-proof", s_p("c.proof"), "--key", pub, "--old", s_p("cp10"),
                   "--new", s_p("cp8"), NULL),
             64);
    CHECK_EQ(s_run("cydex-audit", "verify", log, "--roster", roster, NULL), 0);
    HAS(s_cap.out, "2 signed checkpoints checked, the last at size 10");
}

/* An intact log that proves a member misbehaved is not a tampered log:
 * PASS (log intact) with EVIDENCE, exit 2, each finding named. */
static void test_evidence(void)
{
    char roster[300];
    snprintf(roster, sizeof roster, "%s", s_p("roster.bin"));
    /* EE's second seq 4, kept as evidence. */
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("log-eq"), "--roster", roster, "--owner",
                   "FR", s_p("ee-1.env"), s_p("ee-2.env"), s_p("ee-3.env"), s_p("ee-4.env"),
                   s_p("ee-5.env"), s_p("ee-6.env"), s_p("ee-4b.env"), NULL),
             0);
    HAS(s_cap.out, "equivocations 1");
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log-eq"), "--roster", roster, NULL), 2);
    HAS(s_cap.out, "PASS (log intact) with EVIDENCE: cydex/FR, entries 0..6 (7) verified");
    HAS(s_cap.out, "EVIDENCE: EE equivocated at seq 4 (entries 3 and 6)");
    CHECK(strstr(s_cap.out, "FAIL") == NULL);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log-eq"), "--roster", roster, "--json", NULL), 2);
    HAS(s_cap.out, "\"verdict\":\"EVIDENCE\"");
    HAS(s_cap.out, "\"intact\":true");
    HAS(s_cap.out, "\"evidence\":[{\"kind\":\"equivocation\",\"sender\":\"EE\",\"seq\":4,"
                   "\"entries\":[3,6]}]");
    /* EE's seq 5 follows the seq 4 this log does not hold: EE signed two. */
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("log-fork"), "--roster", roster,
                   "--owner", "FR", s_p("ee-1.env"), s_p("ee-2.env"), s_p("ee-3.env"),
                   s_p("ee-4b.env"), s_p("ee-5.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log-fork"), "--roster", roster, NULL), 2);
    HAS(s_cap.out, "PASS (log intact) with EVIDENCE");
    HAS(s_cap.out, "EVIDENCE: EE equivocated at seq 4 (entries 3 and 4)");
    /* A clean log is still a plain PASS, exit 0. */
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log"), "--roster", roster, "--json", NULL), 0);
    HAS(s_cap.out, "\"verdict\":\"PASS\"");
    HAS(s_cap.out, "\"evidence\":[]");
}

/* The same ids with other keys: another federation's roster. */
static cdx_roster *s_foreign_roster(const char *federation)
{
    cdx_roster *r = NULL;
    REQUIRE(cdx_roster_new(&r, federation, 1, FIXTURE_T0) == CDX_OK);
    const char *ids[] = {"EE", "FR", "DE", "broker.alpha"};
    cdx_identity *admin = NULL;
    for (int i = 0; i < 4; i++) {
        uint8_t seed[32];
        memset(seed, 0x40 + i, sizeof seed);
        cdx_identity *who = NULL;
        REQUIRE(cdx_identity_from_seed(&who, ids[i], i == 3 ? CDX_ROLE_BROKER : CDX_ROLE_STATE,
                                       seed) == CDX_OK);
        cdx_member m;
        cdx_identity_card(who, &m);
        REQUIRE(cdx_roster_add_member(r, &m, NULL) == CDX_OK);
        if (i == 0) {
            REQUIRE(cdx_roster_add_admin(r, m.id, m.sign_pk, NULL) == CDX_OK);
            admin = who;
        } else {
            cdx_identity_destroy(&who);
        }
    }
    REQUIRE(cdx_roster_sign(r, NULL, admin, NULL) == CDX_OK);
    cdx_identity_destroy(&admin);
    return r;
}

/* A log checked against another federation's roster is not tampered with:
 * the roster does not match it (65), and nothing is judged. */
static void test_wrong_roster(void)
{
    cdx_roster *other = s_foreign_roster("other-federation");
    cdx_roster *same_name = s_foreign_roster("test-federation");
    REQUIRE(cdx_roster_save(other, s_p("other-roster.bin"), NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(same_name, s_p("same-name-roster.bin"), NULL) == CDX_OK);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log"), "--roster", s_p("other-roster.bin"), NULL),
             65);
    HAS(s_cap.err, "cydex-audit verify: the roster does not match this log: it is federation "
                   "other-federation's (v1), and the log is federation test-federation's");
    CHECK(strstr(s_cap.out, "FAIL") == NULL && strstr(s_cap.err, "does not verify") == NULL);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log"), "--roster", s_p("same-name-roster.bin"),
                   "--json", NULL),
             65);
    HAS(s_cap.err, "the roster does not match this log: none of its members has the signing "
                   "key that the roster stored in the log (v1 of test-federation) lists");
    CHECK(s_cap.out[0] == '\0');
    /* A log that stores no roster: its entries say it. */
    cdx_log *l = NULL;
    cdx_log_opts wo = {.owner = "FR"};
    REQUIRE(cdx_log_new(&l, s_p("log-noroster"), &wo, NULL) == CDX_OK);
    s_append_file(l, "ee-1.env");
    s_append_file(l, "ee-2.env");
    cdx_log_destroy(&l);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("log-noroster"), "--roster",
                   s_p("other-roster.bin"), NULL),
             65);
    HAS(s_cap.err, "the roster does not match this log: not one of its first 2 entries has a "
                   "signature that other-federation's roster v1 verifies");
    CHECK_EQ(
        s_run("cydex-audit", "verify", s_p("log-noroster"), "--roster", s_p("roster.bin"), NULL),
        0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("log"), s_p("log-fr"), "--roster",
                   s_p("other-roster.bin"), NULL),
             65);
    HAS(s_cap.err, "the roster does not match this log");
    cdx_roster_destroy(&other);
    cdx_roster_destroy(&same_name);
}

/* A state counts against the alerts sent while it was a member only:
 * XX joins in roster v2 (issued at T0 + 30, carried in the log by FR), so
 * it owes DE's alert of T0 + 70 and none of EE's before. */
static void test_joined_later(void)
{
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, F.roster, FIXTURE_T0 + 30) == CDX_OK);
    cdx_member xx;
    cdx_identity_card(F.xx, &xx);
    REQUIRE(cdx_roster_add_member(v2, &xx, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.fr, NULL) == CDX_OK);
    REQUIRE(cdx_roster_verify(v2, F.roster, NULL) == CDX_OK);
    cdx_bytes raw = {0}, fr1 = {0}, env = {0};
    cdx_envelope *first = NULL;
    REQUIRE(cdx__read_file(s_p("fr-1.env"), 1 << 20, &fr1, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_inspect(&first, fr1.data, fr1.len, NULL) == CDX_OK);
    cdx_body b;
    fixture_body(&b, "FR", 2, cdx_envelope_hash(first), "roster", FIXTURE_T0 + 30);
    b.kind = CDX_PAYLOAD_ROSTER;
    REQUIRE(cdx_roster_encode(v2, &raw) == CDX_OK);
    b.roster = raw;
    REQUIRE(cdx_envelope_sign(F.fr, &b, &env, NULL, NULL) == CDX_OK);
    s_save("fr-2.env", &env);
    cdx_bytes_free(&env);
    cdx_body_clear(&b); /* frees raw, which it held */
    cdx_envelope_destroy(&first);
    cdx_bytes_free(&fr1);
    cdx_roster_destroy(&v2);
    CHECK_EQ(s_run("cydex", "log", "append", "--dir", s_p("log-join"), "--roster",
                   s_p("roster.bin"), "--owner", "FR", s_p("ee-1.env"), s_p("ee-2.env"),
                   s_p("ee-3.env"), s_p("ee-4.env"), s_p("ee-5.env"), s_p("ee-6.env"),
                   s_p("fr-1.env"), s_p("ee-7.env"), s_p("fr-2.env"), s_p("more-1.env"), NULL),
             0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("log-join"), s_p("log-join"), "--roster",
                   s_p("roster.bin"), NULL),
             0);
    HAS(s_cap.out, "XX never acknowledged DE seq 1");
    HAS(s_cap.out, "XX left 1 alert unacknowledged");
    CHECK(strstr(s_cap.out, "XX never acknowledged EE") == NULL);
    HAS(s_cap.out, "FR never acknowledged DE seq 1");
    CHECK(strstr(s_cap.out, "DE never acknowledged DE") == NULL);
}

/* A checkpoint of a folder that holds no log is refused (66), and makes
 * no log there (it once printed a checkpoint of an empty log it made). */
static void test_checkpoint_of_nothing(void)
{
    const char *none = s_p("no-log-here");
    CHECK_EQ(s_run("cydex", "log", "checkpoint", "--dir", none, "--key",
                   s_p("keys/broker.alpha.secret"), NULL),
             66);
    HAS(s_cap.err, "holds no log");
    struct stat st;
    CHECK(stat(none, &st) != 0);
}

/* Usage errors name the program the user ran. */
static void test_usage_names(void)
{
    CHECK_EQ(s_run("cydex-audit", "verify", NULL), 64);
    HAS(s_cap.err, "cydex-audit verify: give one LOGDIR");
    CHECK(strncmp(s_cap.err, "cydex verify", 12) != 0);
    CHECK_EQ(s_run("cydex-audit", "diff", s_p("log"), NULL), 64);
    HAS(s_cap.err, "cydex-audit diff: give two LOGDIRs");
    CHECK_EQ(s_run("cydex-audit", "replay", s_p("log"), "--format", "xml", NULL), 64);
    HAS(s_cap.err, "cydex-audit replay: --format is jsonl, text, misp, stix or cap");
    CHECK_EQ(s_run("cydex-audit", "prove", "inclusion", NULL), 64);
    HAS(s_cap.err, "cydex-audit prove: ");
    CHECK_EQ(s_run("cydex-audit", "--help", NULL), 0);
    HAS(s_cap.out, "2  EVIDENCE");
}

/* A copy of the log in folder NAME, for damage. */
static void s_copy_log(const char *name)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && cp '%s/data.mdb' '%s/'", s_p(name), s_p("log"),
             s_p(name));
    REQUIRE(system(cmd) == 0);
}

/* A "hex editor" attack: one letter of an alert's title, in data.mdb. */
static void test_hex_editor(void)
{
    s_copy_log("copy");
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", s_p("copy"));
    FILE *f = fopen(path, "r+b");
    REQUIRE(f != NULL);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    char *buf = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    REQUIRE(fread(buf, 1, (size_t)size, f) == (size_t)size);
    char *hit = NULL;
    for (long i = 0; i + 20 <= size && !hit; i++)
        if (memcmp(buf + i, "Zebra-striped botnet", 20) == 0)
            hit = buf + i;
    REQUIRE(hit != NULL);
    fseek(f, (long)(hit - buf), SEEK_SET);
    fputc('C', f); /* "Cebra-striped botnet" */
    fclose(f);
    free(buf);
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("copy"), "--roster", s_p("roster.bin"), NULL), 1);
    HAS(s_cap.out, "FAIL at entry 3");
    HAS(s_cap.out, "entries 0..2 verified before it");
}

/* A page header altered in data.mdb: the second leaf page of the "log"
 * table (entries after "Zebra-striped botnet", on a page of their own) is
 * marked a branch page. LMDB stops on an assertion when a scan steps onto
 * it; cydex-audit must say FAIL (exit 1), not die of SIGABRT. */
static void test_damaged_page(void)
{
    s_copy_log("paged");
    REQUIRE(fixture_lmdb_mark_branch(s_p("paged"), "Ransomware wave against hospitals",
                                     "Zebra-striped botnet", 1));
    CHECK_EQ(s_run("cydex-audit", "verify", s_p("paged"), "--roster", s_p("roster.bin"), NULL), 1);
    HAS(s_cap.err, "FAIL: ");
    HAS(s_cap.err, "is damaged: its LMDB pages were altered");
    CHECK_EQ(s_run("cydex-audit", "replay", s_p("paged"), NULL), 1);
    HAS(s_cap.err, "is damaged");
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    proc_capture_init(&s_cap, s_dir);
    char keys[300];
    snprintf(keys, sizeof keys, "%s/keys", s_dir);
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.broker, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.fr, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.ee, keys, NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(F.roster, s_p("roster.bin"), NULL) == CDX_OK);
    s_write_envelopes();
    cdx_bytes env = {0};
    REQUIRE(fixture_sign_alert(F.de, 1, NULL, FIXTURE_T0 + 70, 10, &env, NULL) == CDX_OK);
    s_save("more-1.env", &env);
    cdx_bytes_free(&env);
    REQUIRE(fixture_sign_alert(F.lt, 1, NULL, FIXTURE_T0 + FIXTURE_DAY, 10, &env, NULL) == CDX_OK);
    s_save("more-2.env", &env);
    cdx_bytes_free(&env);

    test_build_and_verify();
    test_replay();
    test_report_and_diff();
    test_evidence();
    test_wrong_roster();
    test_joined_later();
    test_usage_names();
    test_checkpoint_of_nothing();
    test_tree_heads();
    test_proofs();
    test_hex_editor();
    test_damaged_page();
    fixture_free(&F);
    proc_capture_free(&s_cap);
    int rc = check_done("audit_cli_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
