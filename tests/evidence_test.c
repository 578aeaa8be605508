/* The auditor's evidence bundle, end to end: a broker and three nodes; EE
 * publishes an alert that FR and DE acknowledge (and a second one FR
 * acknowledges too). `cydex-audit evidence` builds one file from the four
 * logs; `cydex-audit check-evidence` checks it in a fresh folder holding
 * only the file and the trust anchor, and prints each claim with what
 * proves it. Tampering: every byte flipped in turn (each must fail, or
 * drop claims, never add one), a removed proof, a swapped checkpoint, an
 * ack of another alert, a roster chain that revokes the sender's key; a
 * sealed alert stays sealed. ipc:// endpoints in a temporary folder; every
 * process stopped by PID. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex.pb-c.h"
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

static uint8_t *s_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    REQUIRE(f != NULL);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    uint8_t *b = malloc((size_t)st.st_size + 1);
    REQUIRE(b != NULL);
    REQUIRE(fread(b, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
    fclose(f);
    *len = (size_t)st.st_size;
    return b;
}

static void s_write(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    REQUIRE(fwrite(b, 1, len, f) == len);
    fclose(f);
}

static void s_write_ev(const char *path, const Cydex__V1__Evidence *ev)
{
    size_t len = cydex__v1__evidence__get_packed_size(ev);
    uint8_t *b = malloc(len);
    REQUIRE(b != NULL);
    cydex__v1__evidence__pack(ev, b);
    s_write(path, b, len);
    free(b);
}

static int s_check(const char *file, const char *anchor)
{
    return proc_capture_run(&s_cap, NULL, "cydex-audit", "check-evidence", file, "--roster", anchor,
                            NULL);
}

/* Acks `hash` through a node until it knows the alert (bounded). */
static void s_ack(const char *node, const char *stage, const char *note, const char *hash)
{
    int rc = -1;
    for (int i = 0; i < 100 && rc != 0; i++) {
        rc = proc_capture_run(&s_cap, NULL, "cydex", "ack", "--node", node, "--stage", stage,
                              "--note", note, hash, NULL);
        if (rc != 0)
            bus_nap(100);
    }
    CHECK_EQ(rc, 0);
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    pid_t alpha = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    /* The nodes co-sign the broker's tree heads. */
    static const char cosign[] = "[node]\ncosign = true\n";
    pid_t ee = bus_start_node_with(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth", cosign);
    pid_t fr =
        bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,ack,sth", cosign);
    pid_t de =
        bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "alert.,ack,sth", cosign);
    char ee_ctl[320], fr_ctl[320], de_ctl[320];
    snprintf(ee_ctl, sizeof ee_ctl, "ipc://%s", s_p("ee-control"));
    snprintf(fr_ctl, sizeof fr_ctl, "ipc://%s", s_p("fr-control"));
    snprintf(de_ctl, sizeof de_ctl, "ipc://%s", s_p("de-control"));
    static const char id[] = "3b1d2a44-1d3e-4b7a-9c61-0e2f8a7b3c20";
    FILE *f = fopen(s_p("a1.json"), "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"id\":\"%s\",\"title\":\"Ransomware wave\",\"tlp\":\"GREEN\"}", id);
    fclose(f);
    f = fopen(s_p("a2.json"), "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"title\":\"Phishing kit\",\"tlp\":\"GREEN\"}");
    fclose(f);
    f = fopen(s_p("sealed.json"), "w");
    REQUIRE(f != NULL);
    fprintf(f, "{\"title\":\"Supplier breach, do not share\",\"tlp\":\"AMBER\"}");
    fclose(f);
    char h1[65], h2[65], hs[65];
    CHECK_EQ(proc_capture_run(&s_cap, s_p("a1.json"), "cydex", "publish", "--node", ee_ctl,
                              "--topic", "alert.health", "--json", NULL),
             0);
    s_field(s_cap.out, "hash", h1, sizeof h1);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("a2.json"), "cydex", "publish", "--node", ee_ctl,
                              "--topic", "alert.health", "--json", NULL),
             0);
    s_field(s_cap.out, "hash", h2, sizeof h2);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("sealed.json"), "cydex", "publish", "--node", ee_ctl,
                              "--topic", "alert.energy", "--to", "FR", "--json", NULL),
             0);
    s_field(s_cap.out, "hash", hs, sizeof hs);
    REQUIRE(strlen(h1) == 64 && strlen(h2) == 64 && strlen(hs) == 64);
    s_ack(fr_ctl, "investigating", "checking our hospitals", h1);
    s_ack(de_ctl, "received", "seen", h1);
    s_ack(fr_ctl, "received", "other one", h2);

    /* Wait (bounded) until each node holds both acks; the nodes sign a
     * checkpoint of their logs as they stop. */
    const char *ctls[3] = {ee_ctl, fr_ctl, de_ctl};
    for (int n = 0; n < 3; n++) {
        bool both = false;
        for (int i = 0; i < 100 && !both; i++) {
            both =
                proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", ctls[n], h1, NULL) == 0 &&
                strstr(s_cap.out, "acknowledgements: 2\n");
            if (!both)
                bus_nap(100);
        }
        CHECK(both);
    }
    /* Own copies: s_p's buffers are reused. */
    static const char *names[6] = {"ee-log",    "fr-log",     "de-log",
                                   "alpha-log", "roster.bin", "alert.evidence"};
    static char paths[6][300];
    for (int i = 0; i < 6; i++)
        snprintf(paths[i], sizeof paths[i], "%s", s_p(names[i]));
    char *logs[4] = {paths[0], paths[1], paths[2], paths[3]}, *roster = paths[4],
         *bundle = paths[5];
    /* And until the broker has signed a checkpoint covering both acks. */
    bool covered = false;
    for (int i = 0; i < 100 && !covered; i++) {
        remove(bundle);
        covered = proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", h1, logs[3], "--roster",
                                   roster, "--out", bundle, NULL) == 0 &&
                  s_check(bundle, roster) == 0 &&
                  proc_count(s_cap.out, "broker.alpha logged ack") == 2 &&
                  proc_count(s_cap.out, "co-signed broker.alpha's tree of ") >= 2;
        if (!covered)
            bus_nap(100);
    }
    CHECK(covered);
    remove(bundle);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(bus_stop(alpha), 0);
    /* From the logs at rest, by the alert's id; never over a file. */
    int built = proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", id, logs[0], logs[1],
                                 logs[2], logs[3], "--roster", roster, "--out", bundle, NULL);
    CHECK_EQ(built, 0);
    if (built != 0)
        fprintf(stderr, "evidence said: %s\n", s_cap.err);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", id, logs[0], "--roster",
                              roster, "--out", bundle, NULL),
             73);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence",
                              "0000000000000000000000000000000000000000000000000000000000000000",
                              logs[0], "--roster", roster, NULL),
             66);

    /* 1. Alone in a fresh folder: the file and the anchor. */
    char fresh[256], cmd[1200];
    fixture_tmpdir(fresh);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/a.evidence' && cp '%s' '%s/anchor.bin'", bundle, fresh,
             roster, fresh);
    REQUIRE(system(cmd) == 0);
    char file[300], anchor[300];
    snprintf(file, sizeof file, "%s/a.evidence", fresh);
    snprintf(anchor, sizeof anchor, "%s/anchor.bin", fresh);
    CHECK_EQ(s_check(file, anchor), 0);
    HAS("VALID: every claim above holds");
    HAS("EE published alert 3b1d2a44-1d3e-4b7a-9c61-0e2f8a7b3c20 \"Ransomware wave\" (TLP:GREEN)");
    HAS("FR acknowledged it at ");
    HAS("stage investigating, note \"checking our hospitals\"");
    HAS("DE acknowledged it at ");
    HAS("broker broker.alpha logged alert ");
    HAS("broker.alpha logged the alert ");
    HAS("FR logged the alert ");
    HAS("DE logged the alert ");
    HAS("EE logged ack ");
    HAS("proven by: inclusion proof 1 against EE's checkpoint of ");
    HAS("the roster in force is ");
    HAS("left no trace in this evidence: broker.beta");
    HAS("co-signed broker.alpha's tree of ");
    HAS("proven by: FR's signed Witness of broker.alpha's signed tree head");
    CHECK(!strstr(s_cap.out, "other one")); /* the other alert's ack is not in it */
    int claims = proc_count(s_cap.out, "CLAIM ");
    CHECK(claims >= 10);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "check-evidence", file, "--roster",
                              anchor, "--json", NULL),
             0);
    HAS("{\"verdict\":\"VALID\",\"claims\":[{\"claim\":\"the roster in force is");
    CHECK_EQ(proc_count(s_cap.out, "\"proof\":"), claims);

    /* 2. Every byte flipped in turn: it fails, or proves fewer claims. */
    size_t len = 0;
    uint8_t *orig = s_read(file, &len);
    char flipped[300];
    snprintf(flipped, sizeof flipped, "%s/flipped.evidence", fresh);
    size_t step = len > 1200 ? len / 600 : 1, tried = 0, failed = 0;
    for (size_t at = 0; at < len; at += step) {
        orig[at] ^= 0x01;
        s_write(flipped, orig, len);
        orig[at] ^= 0x01;
        int rc = s_check(flipped, anchor);
        tried++;
        if (rc != 0)
            failed++;
        else
            CHECK(proc_count(s_cap.out, "CLAIM ") < claims);
        CHECK(rc == 0 || rc == 1 || rc == 65);
    }
    CHECK_EQ(failed, tried); /* every byte is signed, or part of the form */

    /* 3. Edited bundles, each caught and named. */
    Cydex__V1__Evidence *ev = cydex__v1__evidence__unpack(NULL, len, orig);
    REQUIRE(ev != NULL && ev->n_logs == 4 && ev->n_acks == 2);
    char edited[300];
    snprintf(edited, sizeof edited, "%s/edited.evidence", fresh);
    /* A removed proof: that claim is gone, the rest hold. */
    size_t li = 0;
    while (li < ev->n_logs && ev->logs[li]->n_proofs < 2)
        li++;
    REQUIRE(li < ev->n_logs);
    ev->logs[li]->n_proofs--;
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 0);
    CHECK_EQ(proc_count(s_cap.out, "CLAIM "), claims - 1);
    ev->logs[li]->n_proofs++;
    /* A log with every proof removed. */
    size_t keep_n = ev->logs[li]->n_proofs;
    ev->logs[li]->n_proofs = 0;
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 1);
    HAS("no proof");
    ev->logs[li]->n_proofs = keep_n;
    /* A swapped checkpoint: one log's proofs under another owner. */
    char *own = ev->logs[0]->owner;
    ev->logs[0]->owner = ev->logs[1]->owner;
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 1);
    HAS("INVALID: log 1 (");
    HAS("proof 1: ");
    ev->logs[0]->owner = own;
    /* A co-signature moved to another log: it is of another tree head. */
    size_t bi = 0;
    while (bi < ev->n_logs && !ev->logs[bi]->n_cosignatures)
        bi++;
    REQUIRE(bi < ev->n_logs);
    size_t to = (bi + 1) % ev->n_logs;
    ProtobufCBinaryData *old_c = ev->logs[to]->cosignatures;
    size_t old_nc = ev->logs[to]->n_cosignatures;
    ev->logs[to]->cosignatures = ev->logs[bi]->cosignatures;
    ev->logs[to]->n_cosignatures = 1;
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 1);
    HAS("co-signature 1: it co-signs another tree head than the checkpoint's");
    ev->logs[to]->cosignatures = old_c;
    ev->logs[to]->n_cosignatures = old_nc;
    /* A proof against another checkpoint than the log's others. */
    if (ev->logs[li]->n_proofs >= 2) {
        char *p0 = ev->logs[li]->proofs[0], *p1 = ev->logs[li]->proofs[1];
        ev->logs[li]->proofs[1] = ev->logs[(li + 1) % 4]->proofs[0];
        s_write_ev(edited, ev);
        CHECK_EQ(s_check(edited, anchor), 1);
        HAS("proof 2: ");
        ev->logs[li]->proofs[1] = p1;
        (void)p0;
    }
    /* An ack of another alert, in place of one of this one's. */
    remove(s_p("other.evidence"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", h2, logs[0], "--roster",
                              roster, "--out", s_p("other.evidence"), NULL),
             0);
    size_t olen = 0;
    uint8_t *ob = s_read(s_p("other.evidence"), &olen);
    Cydex__V1__Evidence *other = cydex__v1__evidence__unpack(NULL, olen, ob);
    REQUIRE(other != NULL && other->n_acks == 1);
    ProtobufCBinaryData mine = ev->acks[1];
    ev->acks[1] = other->acks[0];
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 1);
    HAS("INVALID: ack 2 (by FR): it acknowledges another alert, not this one");
    ev->acks[1] = mine;
    /* A roster chain that revokes EE's key from before the alert. */
    cdx_roster *v2 = NULL;
    cdx_bytes v2b = {0};
    REQUIRE(cdx_roster_next(&v2, F.roster, FIXTURE_T0 + FIXTURE_HOUR) == CDX_OK);
    REQUIRE(cdx_roster_revoke(v2, "EE", FIXTURE_T0, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.fr, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, F.roster, F.de, NULL) == CDX_OK);
    REQUIRE(cdx_roster_encode(v2, &v2b) == CDX_OK);
    ProtobufCBinaryData rv = {v2b.len, v2b.data};
    ProtobufCBinaryData *old_r = ev->rosters;
    size_t old_n = ev->n_rosters;
    ev->rosters = &rv;
    ev->n_rosters = 1;
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 1);
    HAS("INVALID: the alert's envelope: ");
    HAS("revoked");
    ev->rosters = old_r;
    ev->n_rosters = old_n;
    /* Another anchor than the one named. */
    s_write_ev(edited, ev);
    CHECK_EQ(s_check(edited, anchor), 0); /* unchanged: still whole */
    s_write(s_p("v2.bin"), v2b.data, v2b.len);
    CHECK(s_check(edited, s_p("v2.bin")) != 0);
    /* Trailing bytes, and not an evidence file at all. */
    uint8_t *longer = malloc(len + 2);
    REQUIRE(longer != NULL);
    memcpy(longer, orig, len);
    longer[len] = 0x08;
    longer[len + 1] = 0x01;
    s_write(edited, longer, len + 2);
    CHECK_EQ(s_check(edited, anchor), 65);
    free(longer);
    CHECK_EQ(s_check(anchor, anchor), 65);
    HAS("not an evidence file");
    cydex__v1__evidence__free_unpacked(other, NULL);
    free(ob);
    cydex__v1__evidence__free_unpacked(ev, NULL);
    free(orig);
    cdx_bytes_free(&v2b);
    cdx_roster_destroy(&v2);

    /* 4. A sealed alert stays sealed: recipients shown, content not. */
    remove(s_p("sealed.evidence"));
    int sealed_rc = proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", hs, logs[0], logs[1],
                                     "--roster", roster, "--out", s_p("sealed.evidence"), NULL);
    CHECK_EQ(sealed_rc, 0);
    if (sealed_rc != 0)
        fprintf(stderr, "evidence %s said: %s\n", hs, s_cap.err);
    REQUIRE(sealed_rc == 0);
    CHECK_EQ(s_check(s_p("sealed.evidence"), roster), 0);
    HAS("EE published a sealed alert (TLP:AMBER)");
    HAS("to FR");
    CHECK(!strstr(s_cap.out, "Supplier breach"));
    size_t sl = 0;
    uint8_t *sb = s_read(s_p("sealed.evidence"), &sl);
    {
        bool found = false;
        for (size_t i = 0; i + 8 <= sl && !found; i++)
            found = memcmp(sb + i, "Supplier", 8) == 0;
        CHECK(!found);
    }
    free(sb);

    /* With --open and a recipient's key: the content key travels, and a
     * checker with no secret opens it; a flipped key bit fails. */
    char fr_key[300];
    snprintf(fr_key, sizeof fr_key, "%s/keys/FR.secret", s_dir);
    remove(s_p("opened.evidence"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", hs, logs[0], "--roster",
                              roster, "--open", fr_key, "--out", s_p("opened.evidence"), NULL),
             0);
    CHECK_EQ(s_check(s_p("opened.evidence"), roster), 0);
    HAS("its content: alert ");
    HAS("\"Supplier breach, do not share\" (TLP:AMBER)");
    HAS("the signed ciphertext authenticates under it");
    {
        size_t ol = 0;
        uint8_t *obytes = s_read(s_p("opened.evidence"), &ol);
        Cydex__V1__Evidence *oe = cydex__v1__evidence__unpack(NULL, ol, obytes);
        REQUIRE(oe != NULL && oe->content_key.len == 32);
        oe->content_key.data[7] ^= 0x40;
        s_write_ev(edited, oe);
        CHECK_EQ(s_check(edited, anchor), 1);
        HAS("INVALID: content key: ");
        cydex__v1__evidence__free_unpacked(oe, NULL);
        free(obytes);
    }
    char de_key[300];
    snprintf(de_key, sizeof de_key, "%s/keys/DE.secret", s_dir);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "evidence", hs, logs[0], "--roster",
                              roster, "--open", de_key, NULL),
             1);
    HAS("not sealed to DE");

    fixture_rmtree(fresh);
    proc_capture_free(&s_cap);
    fixture_rmtree(s_dir);
    fixture_free(&F);
    return check_done("evidence_test");
}
