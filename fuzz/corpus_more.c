/* Seeds for the fuzz targets that read what the daemons and cydex-audit
 * take from outside: rounds of envelopes, checkpoints, proofs, catch-up
 * requests, control requests, rosters (large ones), configuration files
 * and a log's stored rows. Each is made by the code that makes the real
 * thing, so that fuzzing starts from what the programs see. */
#include "corpus_more.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cydex/catchup.h"
#include "cydex/checkpoint.h"
#include "cydex/log.h"
#include "cydex/merkle.h"
#include "cydex/proof.h"
#include "fuzz_log.h"

static const char *s_root;

static void s_die(const char *what)
{
    fprintf(stderr, "corpus_gen: %s\n", what);
    exit(1);
}

static void s_put(const char *sub, const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s_root, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", s_root, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void s_put_text(const char *sub, const char *name, const char *text)
{
    s_put(sub, name, text, strlen(text));
}

/* A growing byte buffer. */
typedef struct s_buf {
    uint8_t *p;
    size_t len, cap;
} s_buf;

static void s_add(s_buf *b, const void *data, size_t len)
{
    if (b->len + len + 1 > b->cap) {
        b->cap = 2 * (b->len + len + 1);
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            s_die("out of memory");
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = 0;
}

static void s_add_str(s_buf *b, const char *s)
{
    s_add(b, s, strlen(s));
}

static void s_add_u8(s_buf *b, unsigned v)
{
    uint8_t c = (uint8_t)v;
    s_add(b, &c, 1);
}

static void s_add_u16(s_buf *b, size_t v)
{
    uint8_t c[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    s_add(b, c, 2);
}

static void s_add_b64(s_buf *b, const uint8_t *data, size_t len)
{
    char *t = cdx_base64_encode(data, len);
    if (!t)
        s_die("base64");
    s_add_str(b, t);
    free(t);
}

static void s_put_buf(const char *sub, const char *name, s_buf *b)
{
    s_put(sub, name, b->p ? b->p : (uint8_t *)"", b->len);
    free(b->p);
    *b = (s_buf){0};
}

/* ---- ingress: rounds of [topic length][topic][envelope length][envelope] ---- */

static cdx_bytes s_alert_env(const fixture *f, const cdx_identity *who, const char *id,
                             uint64_t seq, const uint8_t *prev, uint8_t hash[CDX_HASH_BYTES])
{
    cdx_body b;
    cdx_bytes out = {0};
    fixture_body(&b, id, seq, prev, "alert.health", FIXTURE_T0 + seq);
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 40);
    if (cdx_envelope_sign(who, &b, &out, hash, NULL) != CDX_OK)
        s_die("sign");
    cdx_body_clear(&b);
    (void)f;
    return out;
}

static void s_round_add(s_buf *r, const char *topic, const uint8_t *env, size_t len)
{
    s_add_u8(r, strlen(topic));
    s_add_str(r, topic);
    s_add_u16(r, len);
    s_add(r, env, len);
}

static void s_ingress(const fixture *f)
{
    /* A batch of three under one signature, as a node's round sends it. */
    cdx_batch_signer *bs = NULL;
    cdx_envelope *envs[3];
    uint8_t h[CDX_HASH_BYTES];
    if (cdx_batch_signer_new(&bs, f->ee) != CDX_OK)
        s_die("batch");
    for (uint64_t seq = 1; seq <= 3; seq++) {
        cdx_body b;
        fixture_body(&b, "EE", seq, seq > 1 ? h : NULL, "alert.health", FIXTURE_T0 + seq);
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 30);
        if (cdx_batch_signer_add(bs, f->roster, &b, h, NULL) != CDX_OK)
            s_die("batch add");
        cdx_body_clear(&b);
    }
    if (cdx_batch_signer_finish(bs, envs, NULL) != CDX_OK)
        s_die("batch finish");
    cdx_batch_signer_destroy(&bs);
    s_buf r = {0}, r2 = {0};
    for (int i = 0; i < 3; i++) {
        size_t len;
        const uint8_t *raw = cdx_envelope_bytes(envs[i], &len);
        s_round_add(&r, "alert.health", raw, len);
        if (i != 1)
            s_round_add(&r2, i ? "alert.health" : "alert.wrong", raw, len);
    }
    s_add_u8(&r, 0);
    s_put_buf("ingress", "batch-of-3", &r);
    s_add_u8(&r2, 2); /* the node's peeked hashes */
    s_put_buf("ingress", "batch-part-wrong-topic", &r2);
    for (int i = 0; i < 3; i++)
        cdx_envelope_destroy(&envs[i]);

    /* Several senders and kinds, one sent twice, a forgery. */
    cdx_bytes a1 = s_alert_env(f, f->ee, "EE", 1, NULL, h);
    cdx_bytes a2 = s_alert_env(f, f->fr, "FR", 1, NULL, NULL);
    cdx_bytes lv = s_alert_env(f, f->lv, "LV", 1, NULL, NULL); /* revoked by now */
    cdx_body b;
    fixture_body(&b, "DE", 1, NULL, "hb", FIXTURE_T0 + 3);
    b.kind = CDX_PAYLOAD_HEARTBEAT;
    b.heartbeat.last_seq = 0;
    cdx_bytes hb = {0};
    if (cdx_envelope_sign(f->de, &b, &hb, NULL, NULL) != CDX_OK)
        s_die("sign hb");
    cdx_body_clear(&b);
    s_round_add(&r, "alert.health", a1.data, a1.len);
    s_round_add(&r, "alert.health", a2.data, a2.len);
    s_round_add(&r, "hb", hb.data, hb.len);
    s_round_add(&r, "alert.health", a1.data, a1.len);
    a2.data[a2.len - 1] ^= 1;
    s_round_add(&r, "alert.health", a2.data, a2.len);
    s_round_add(&r, "alert.health", lv.data, lv.len);
    s_add_u8(&r, 0x83);
    s_put_buf("ingress", "mixed", &r);
    cdx_bytes_free(&a1);
    cdx_bytes_free(&a2);
    cdx_bytes_free(&lv);
    cdx_bytes_free(&hb);
}

/* ---- checkpoints ---- */

static void s_checkpoints(const fixture *f)
{
    uint8_t root[CDX_HASH_BYTES] = {1, 2, 3};
    const uint64_t sizes[] = {0, 3, 1000000};
    for (size_t i = 0; i < 3; i++) {
        char *t = NULL, name[32];
        if (cdx_checkpoint_sign(&t, "cydex/broker.alpha", sizes[i], root, FIXTURE_T0 / 1000,
                                f->broker) != CDX_OK)
            s_die("checkpoint");
        snprintf(name, sizeof name, "size-%llu", (unsigned long long)sizes[i]);
        s_put_text("checkpoint", name, t);
        if (i == 1) { /* a witness's line beside the owner's */
            s_buf b = {0};
            s_add_str(&b, t);
            s_add_str(&b, "\xe2\x80\x94 witness.example AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                          "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n");
            s_put_buf("checkpoint", "with-witness", &b);
        }
        free(t);
    }
    s_put_text("checkpoint", "no-signature", "cydex/broker.alpha\n3\nAQID\n\n");
}

/* ---- Merkle proofs: [mode][n (2)][salt][new (2)][old (2)][index (2)][edits...] ---- */

static void s_merkle(void)
{
    static const uint8_t seeds[][16] = {
        {0x00, 0x00, 0x06, 0x01, 0x00, 0x06, 0x00, 0x03, 0x00, 0x02, 0x00},
        {0x00, 0x00, 0x0f, 0x02, 0x00, 0x0f, 0x00, 0x08, 0x00, 0x0b, 0x01, 0x00, 0x03, 0x00, 0x04,
         0x01},
        {0x00, 0x03, 0xff, 0x07, 0x03, 0xe8, 0x01, 0x00, 0x01, 0x2c, 0x00, 0x02, 0x00, 0x01, 0x05,
         0x09},
        {0x00, 0x00, 0x10, 0x00, 0x00, 0x10, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00},
        {0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
         0xff},
    };
    for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
        char name[16];
        snprintf(name, sizeof name, "seed-%zu", i);
        s_put("merkle", name, seeds[i], sizeof seeds[i]);
    }
}

/* ---- catch-up requests: [flags][CatchupRequest] ---- */

static void s_request(const char *name, uint8_t flags, const cdx_catchup_request *q)
{
    cdx_bytes enc = {0};
    if (cdx_catchup_request_encode(q, &enc) != CDX_OK)
        s_die("catch-up request");
    s_buf b = {0};
    s_add_u8(&b, flags);
    s_add(&b, enc.data, enc.len);
    s_put_buf("catchup", name, &b);
    cdx_bytes_free(&enc);
}

static void s_catchup(void)
{
    cdx_catchup_request q = {.max_batch = 256};
    memcpy(q.request_id, "request-id-00001", 16);
    strcpy(q.sender, "EE");
    q.from_seq = 1;
    s_request("range-ee", 0, &q);
    q.from_seq = 4;
    q.to_seq = 5;
    q.max_batch = 1;
    s_request("range-ee-4-5-by-1", 1, &q);
    q.max_batch = 2;
    q.from_seq = 5;
    s_request("range-ee-5-by-2", 4, &q);
    strcpy(q.sender, "DE");
    q.from_seq = 0;
    q.to_seq = 0;
    s_request("range-de", 0, &q);
    cdx_cursor after[2] = {{.sender = "EE", .last_seq = 2}, {.sender = "FR", .last_seq = 0}};
    cdx_catchup_request c = {.after = after, .n_after = 2, .max_batch = 3};
    s_request("cursors", 2, &c);
    c.n_after = 0;
    c.max_batch = 0;
    s_request("everything", 0, &c);
    /* Regressions: a cursor at the last seq there is (last_seq + 1 was 0:
     * everything again); a seq with more envelopes than a reply holds
     * (the next reply started at that seq again, forever). */
    cdx_cursor top = {.sender = "EE", .last_seq = UINT64_MAX};
    c = (cdx_catchup_request){.after = &top, .n_after = 1, .max_batch = 5};
    s_request("regress-cursor-at-the-top", 0, &c);
    cdx_catchup_request eq = {.max_batch = 1, .from_seq = 5, .to_seq = 5};
    strcpy(eq.sender, "EE");
    s_request("regress-seq-past-a-reply", 0, &eq);
    cdx_catchup_request p = {.proof_old = 5, .proof_new = 13};
    memcpy(p.request_id, "witness-proof-01", 16);
    s_request("proof-5-13", 0, &p);
    p.proof_old = 13;
    p.proof_new = 3;
    s_request("proof-backwards", 0, &p);
    s_put("catchup", "not-a-request", "\x00\xff\xff\xff", 4);
}

/* ---- control requests: frames [length (2)][bytes] ---- */

static void s_frames(const char *name, const char *const *frames, const size_t *lens, size_t n)
{
    s_buf b = {0};
    for (size_t i = 0; i < n; i++) {
        size_t len = lens && lens[i] ? lens[i] : strlen(frames[i]);
        s_add_u16(&b, len);
        s_add(&b, frames[i], len);
    }
    s_put_buf("control", name, &b);
}

static void s_control(const fixture *f)
{
    cdx_alert a;
    char *json = NULL;
    fixture_alert(&a, CDX_TLP_AMBER, 60);
    if (cdx_json_from_alert(&json, &a, false) != CDX_OK)
        s_die("alert JSON");
    cdx_alert_clear(&a);
    const char *publish[] = {"rid-1", "publish", "alert.health", "", json};
    s_frames("publish", publish, NULL, 5);
    const char *sealed[] = {"rid-2", "publish", "alert.energy", "FR,DE", json};
    s_frames("publish-sealed", sealed, NULL, 5);
    free(json);
    const char *ack[] = {"rid",           "ack",   "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41",
                         "investigating", "on it", ""};
    s_frames("ack", ack, NULL, 6);
    const char *ack_hash[] = {
        "rid",       "ack", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "mitigated", "",    "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41"};
    s_frames("ack-by-hash", ack_hash, NULL, 6);
    cdx_bytes roster = {0};
    if (cdx_roster_encode(f->roster, &roster) != CDX_OK)
        s_die("roster");
    const char *rost[] = {"rid", "roster", (const char *)roster.data};
    const size_t rost_len[] = {0, 0, roster.len};
    s_frames("roster", rost, rost_len, 3);
    cdx_bytes_free(&roster);
    const char *status[] = {"rid", "status"};
    s_frames("status", status, NULL, 2);
    const char *entries[] = {"rid", "entries", "0", "100", "alert."};
    s_frames("entries", entries, NULL, 5);
    const char *end[] = {"rid", "entries", "end", "1", ""};
    s_frames("entries-end", end, NULL, 5);
    const char *alerts[] = {"rid", "alerts", "unacked", "20"};
    s_frames("alerts", alerts, NULL, 4);
    const char *show[] = {"rid", "show", "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41"};
    s_frames("show", show, NULL, 3);
    const char *unknown[] = {"rid", "reboot", "now"};
    s_frames("unknown", unknown, NULL, 3);
}

/* ---- proofs: inclusion from the fuzz log, consistency of the proof
 * target's 16-leaf tree (fuzz/proof_fuzz.c makes the same) ---- */

static uint8_t s_leaf16[16][CDX_HASH_BYTES];

static cdx_err s_node16(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    (void)ctx;
    if (level == 0) {
        memcpy(out, s_leaf16[index], CDX_HASH_BYTES);
        return CDX_OK;
    }
    uint8_t l[CDX_HASH_BYTES], r[CDX_HASH_BYTES];
    s_node16(NULL, level - 1, 2 * index, l);
    s_node16(NULL, level - 1, 2 * index + 1, r);
    cdx_merkle_node_hash(out, l, r);
    return CDX_OK;
}

static void s_add_hashes(s_buf *b, const uint8_t (*h)[CDX_HASH_BYTES], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        s_add_b64(b, h[i], CDX_HASH_BYTES);
        s_add_str(b, "\n");
    }
}

static void s_inclusion(cdx_log *log, uint64_t index, const char *cp, const char *name, int extras,
                        size_t more_hashes)
{
    uint8_t path[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n = 0;
    cdx_log_entry e;
    cdx_bytes enc = {0};
    cdx_checkpoint parsed;
    if (cdx_checkpoint_parse(&parsed, cp, strlen(cp), NULL) != CDX_OK ||
        cdx_log_inclusion(log, index, parsed.size, path, &n) != CDX_OK ||
        cdx_log_get(log, index, &e, NULL) != CDX_OK || cdx_log_entry_encode(&e, &enc) != CDX_OK)
        s_die("inclusion proof");
    s_buf b = {0};
    char line[64];
    s_add_str(&b, CDX_PROOF_INCLUSION_HEADER "\n");
    for (int i = 0; i < extras; i++) {
        s_add_str(&b, "extra ");
        s_add_b64(&b, enc.data, enc.len - (size_t)i);
        s_add_str(&b, "\n");
    }
    snprintf(line, sizeof line, "index %llu\n", (unsigned long long)index);
    s_add_str(&b, line);
    s_add_hashes(&b, (const uint8_t(*)[CDX_HASH_BYTES])path, n);
    for (size_t i = 0; i < more_hashes; i++)
        s_add_hashes(&b, (const uint8_t(*)[CDX_HASH_BYTES])path, 1);
    s_add_str(&b, "\n");
    s_add_str(&b, cp);
    s_put_buf("proof", name, &b);
    cdx_bytes_free(&enc);
    cdx_log_entry_clear(&e);
}

static void s_consistency(uint64_t old, uint64_t new_size, const char *name)
{
    cdx_merkle_source src = {s_node16, NULL};
    uint8_t proof[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n = 0;
    if (cdx_merkle_consistency_proof(&src, old, new_size, proof, &n) != CDX_OK)
        s_die("consistency proof");
    s_buf b = {0};
    char line[64];
    snprintf(line, sizeof line, CDX_PROOF_CONSISTENCY_HEADER "\nold %llu\nnew %llu\n",
             (unsigned long long)old, (unsigned long long)new_size);
    s_add_str(&b, line);
    s_add_hashes(&b, (const uint8_t(*)[CDX_HASH_BYTES])proof, n);
    s_put_buf("proof", name, &b);
}

static void s_proofs(const fixture *f)
{
    char dir[256], logdir[300];
    fixture_tmpdir(dir);
    snprintf(logdir, sizeof logdir, "%s/log", dir);
    fuzz_log_build(f, logdir);
    cdx_log *log = NULL;
    cdx_log_opts o = {.read_only = true};
    char **cps = NULL;
    size_t ncp = 0;
    if (cdx_log_new(&log, logdir, &o, NULL) != CDX_OK ||
        cdx_log_checkpoints(log, &cps, &ncp) != CDX_OK || ncp < 2)
        s_die("the fuzz log");
    s_inclusion(log, 3, cps[1], "inclusion-3", 1, 0);
    s_inclusion(log, 0, cps[0], "inclusion-0-at-5", 1, 0);
    s_inclusion(log, 12, cps[1], "inclusion-12", 1, 0);
    /* What the parser refuses (regressions of its two bugs). */
    s_inclusion(log, 3, cps[1], "regress-second-extra", 2, 0);
    s_inclusion(log, 3, cps[1], "regress-129-hashes", 1, CDX_MERKLE_MAX_PROOF + 1);
    for (size_t i = 0; i < ncp; i++)
        free(cps[i]);
    free(cps);
    cdx_log_destroy(&log);
    fixture_rmtree(dir);
    for (unsigned i = 0; i < 16; i++) {
        uint8_t b = (uint8_t)i;
        cdx_merkle_leaf_hash(s_leaf16[i], &b, 1);
    }
    s_consistency(3, 7, "consistency-3-7");
    s_consistency(4, 16, "consistency-4-16");
    s_consistency(0, 5, "consistency-0-5");
    s_consistency(9, 9, "consistency-9-9");
}

/* ---- rosters, large ones too ---- */

static void s_roster_of(const fixture *f, size_t members, const char *name)
{
    cdx_roster *r = NULL;
    cdx_errbuf eb = {0};
    if (cdx_roster_new(&r, "test-federation", 2, FIXTURE_T0) != CDX_OK)
        s_die("roster");
    const cdx_identity *admins[] = {f->ee, f->fr, f->de};
    for (int i = 0; i < 3; i++) {
        cdx_member m;
        cdx_identity_card(admins[i], &m);
        if (cdx_roster_add_member(r, &m, &eb) != CDX_OK ||
            cdx_roster_add_admin(r, m.id, m.sign_pk, &eb) != CDX_OK)
            s_die(eb.msg);
    }
    for (size_t i = 0; i < members; i++) {
        cdx_member m = {.role = i % 7 ? CDX_ROLE_STATE : CDX_ROLE_BROKER};
        snprintf(m.id, sizeof m.id, "%s%05zu", i % 7 ? "M" : "broker.m", i);
        for (int k = 0; k < CDX_PK_BYTES; k++) {
            m.sign_pk[k] = (uint8_t)(i * 31 + (size_t)k);
            m.seal_pk[k] = (uint8_t)(i * 17 + (size_t)k);
            m.curve_pk[k] = (uint8_t)(i * 13 + (size_t)k);
        }
        if (i % 5 == 0)
            m.revoked_at_ms = FIXTURE_T0 + i;
        if (cdx_roster_add_member(r, &m, &eb) != CDX_OK)
            s_die(eb.msg);
    }
    cdx_bytes enc = {0};
    if (cdx_roster_sign(r, NULL, f->ee, &eb) != CDX_OK ||
        cdx_roster_sign(r, NULL, f->fr, &eb) != CDX_OK || cdx_roster_encode(r, &enc) != CDX_OK)
        s_die(eb.msg);
    s_put("roster", name, enc.data, enc.len);
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&r);
}

static void s_rosters(const fixture *f)
{
    cdx_bytes enc = {0};
    if (cdx_roster_encode(f->roster, &enc) != CDX_OK)
        s_die("roster");
    s_put("roster", "fixture", enc.data, enc.len);
    cdx_bytes_free(&enc);
    s_roster_of(f, 100, "members-100");
    s_roster_of(f, 5000, "members-5000");
}

/* ---- configuration files ---- */

static void s_configs(void)
{
    s_put_text("config", "broker-readme",
               "# broker.conf\n[broker]\nid = broker.alpha\nkey = keys/broker.alpha.secret\n"
               "roster = roster.bin\nlog = data/broker.alpha\n"
               "ingress = tcp://127.0.0.1:7401    # ROUTER: envelopes in, signed receipts out\n"
               "fanout = tcp://127.0.0.1:7402     # XPUB: verified envelopes out, by topic\n"
               "catchup = tcp://127.0.0.1:7403    # ROUTER: what a node or peer missed\n"
               "# max_envelope = 1048576, skew_ms = 300000, batch_max = 1000,\n"
               "verify_threads = 0\nping_ms = 10000 ; a comment\nmetrics = 127.0.0.1:9464\n"
               "log_format = json\nmap_max_mb = 65536\n\n"
               "[peer.beta]                       # one section per peer broker\n"
               "id = broker.beta\nfanout = tcp://127.0.0.1:7502\ncatchup = tcp://127.0.0.1:7503\n"
               "[peer.gamma]\nid: broker.gamma\nfanout = tcp://127.0.0.1:7602\n"
               "catchup = tcp://127.0.0.1:7603\n");
    s_put_text(
        "config", "node-readme",
        "\xef\xbb\xbf# node.conf\n[node]\nid = FR\nkey = keys/FR.secret\nroster = roster.bin\n"
        "log = data/FR                       # its audit log (and outbox)\n"
        "control = ipc://run/FR/control\nsubscribe = alert.,ack,sth,hb\n"
        "skew_ms = 300000\nresend_ms = 3000\nsync_ms = 10000\nheartbeat_ms = 0\n"
        "auto_ack = yes\nsign_batches = false\ncosign = true\ncheckpoint_ms = 60000\n"
        "query_step = 1000\nmetrics = 127.0.0.1:9465\n\n"
        "[broker.alpha]\nid = broker.alpha\ningress = tcp://127.0.0.1:7401\n"
        "fanout = tcp://127.0.0.1:7402\ncatchup = tcp://127.0.0.1:7403\n"
        "[broker.beta]\nid = broker.beta\ningress = tcp://127.0.0.1:7501\n"
        "fanout = tcp://127.0.0.1:7502\n  tcp://continued\ncatchup = tcp://127.0.0.1:7503\n");
    char text[1024], name[200];
    memset(name, 'p', 130);
    name[130] = '\0';
    snprintf(text, sizeof text, "[broker]\nid = broker.alpha\n[peer.%s]\nid = broker.beta\n", name);
    s_put_text("config", "regress-long-section", text);
    memset(name, 'q', 60);
    name[60] = '\0';
    snprintf(text, sizeof text,
             "[node]\nid = FR\n[broker.%s1]\nid = broker.alpha\n[broker.%s2]\nid = broker.beta\n",
             name, name);
    s_put_text("config", "sections-sharing-60", text);
}

/* ---- a log's stored rows: [table | op << 3][...] (fuzz/records_fuzz.c) ---- */

static void s_records(const fixture *f)
{
    static const char *tables[8] = {"log",  "by_hash", "by_sender", "senders",
                                    "tree", "heads",   "meta",      "outbox"};
    char dir[256], logdir[300];
    fixture_tmpdir(dir);
    snprintf(logdir, sizeof logdir, "%s/log", dir);
    fuzz_log_build(f, logdir);
    MDB_env *env;
    MDB_txn *txn;
    if (mdb_env_create(&env) != 0 || mdb_env_set_maxdbs(env, 10) != 0 ||
        mdb_env_open(env, logdir, MDB_RDONLY, 0600) != 0 ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
        s_die("the fuzz log's file");
    for (unsigned t = 0; t < 8; t++) {
        MDB_dbi dbi;
        MDB_cursor *c;
        if (mdb_dbi_open(txn, tables[t], 0, &dbi) != 0 || mdb_cursor_open(txn, dbi, &c) != 0)
            s_die(tables[t]);
        MDB_val k, v;
        unsigned row = 0;
        for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0 && row < 16;
             rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), row++) {
            if (row % 3 != 0 && t != 6 && t != 7 && t != 5)
                continue; /* a few rows of the big tables, every row of the small */
            char name[64];
            s_buf b = {0};
            s_add_u8(&b, t | 1u << 3); /* row's value replaced by itself */
            s_add_u8(&b, row);
            s_add(&b, v.mv_data, v.mv_size);
            snprintf(name, sizeof name, "%s-%u-value", tables[t], row);
            s_put_buf("records", name, &b);
            s_add_u8(&b, t | 2u << 3); /* row's key replaced by itself */
            s_add_u8(&b, row);
            s_add(&b, k.mv_data, k.mv_size);
            snprintf(name, sizeof name, "%s-%u-key", tables[t], row);
            s_put_buf("records", name, &b);
        }
        mdb_cursor_close(c);
        s_buf b = {0};
        s_add_u8(&b, t | 3u << 3); /* row 1 deleted */
        s_add_u8(&b, 1);
        char name[64];
        snprintf(name, sizeof name, "%s-1-deleted", tables[t]);
        s_put_buf("records", name, &b);
    }
    mdb_txn_abort(txn);
    mdb_env_close(env);
    fixture_rmtree(dir);
    /* An outbox row keyed by 5 bytes (the lookup read 32). */
    static const uint8_t short_key[] = {7, 5, 's', 'h', 'o', 'r', 't', 'h', 'b', 0,
                                        0, 0, 0,   0,   0,   0,   0,   0,   12};
    s_put("records", "regress-outbox-short-key", short_key, sizeof short_key);
    /* The first entry deleted: the scan freed what it never held. */
    static const uint8_t first_gone[] = {0 | 3u << 3, 0};
    s_put("records", "regress-first-entry-deleted", first_gone, sizeof first_gone);
    /* The last entry's key made huge (a size past 2^63): the root's
     * split was looked for forever. */
    static const uint8_t huge[] = {0 | 2u << 3, 12, 0xff, 0xc0, 0, 0, 0, 0, 0, 3};
    s_put("records", "regress-huge-last-key", huge, sizeof huge);
    static const uint8_t schema[] = {6, 6, 's', 'c', 'h', 'e', 'm', 'a', 0, 0, 0, 0, 0, 0, 0, 9};
    s_put("records", "meta-schema-9", schema, sizeof schema);
}

void corpus_more(const fixture *f, const char *root)
{
    s_root = root;
    s_ingress(f);
    s_checkpoints(f);
    s_merkle();
    s_catchup();
    s_control(f);
    s_proofs(f);
    s_rosters(f);
    s_configs();
    s_records(f);
}
