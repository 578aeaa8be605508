/* Provable completeness: logs built with the library holding EE's chain
 * whole, with a gap, with a withheld tail (heartbeats after the last
 * alerts held), with a fork, and with an equivocation kept; the point given
 * as a seq, as a time, and beyond what any statement covers. Each time the
 * verdict, the ranges named and the sentences an auditor reads. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/completeness.h"
#include "fixture.h"
#include "internal.h"

static fixture F;
static char s_root[256];

#define T(seq) (FIXTURE_T0 + (uint64_t)(seq)*1000)

/* A sender's chain as the test signs it: hash of each seq. */
typedef struct chain {
    const cdx_identity *who;
    uint8_t hash[64][CDX_HASH_BYTES];
} chain;

/* Signs EE's seq (an alert, or a heartbeat stating last_seq) chained to
 * the chain's seq - 1 (or to `prev` when given); records its hash. */
static cdx_envelope *s_sign(chain *c, uint64_t seq, bool heartbeat, uint64_t last_seq,
                            const uint8_t *prev)
{
    cdx_body b;
    const uint8_t *p = prev ? prev : seq > 1 ? c->hash[seq - 1] : NULL;
    fixture_body(&b, cdx_identity_id(c->who), seq, p, heartbeat ? "hb" : "alert.health", T(seq));
    if (heartbeat) {
        b.kind = CDX_PAYLOAD_HEARTBEAT;
        b.heartbeat.last_seq = last_seq;
        b.heartbeat.interval_ms = 5000;
        if (last_seq && last_seq < 64) {
            b.heartbeat.has_last_hash = true;
            memcpy(b.heartbeat.last_hash, c->hash[last_seq], CDX_HASH_BYTES);
        }
    } else {
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 20);
    }
    cdx_bytes raw = {0};
    uint8_t h[CDX_HASH_BYTES];
    REQUIRE(cdx_envelope_sign(c->who, &b, &raw, h, NULL) == CDX_OK);
    cdx_body_clear(&b);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_bytes_free(&raw);
    if (!prev)
        memcpy(c->hash[seq], h, CDX_HASH_BYTES);
    return e;
}

static cdx_log *s_new_log(const char *name)
{
    char dir[400];
    snprintf(dir, sizeof dir, "%s/%s", s_root, name);
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "FR"};
    REQUIRE(cdx_log_new(&log, dir, &o, NULL) == CDX_OK);
    return log;
}

static void s_put(cdx_log *log, cdx_envelope *env)
{
    cdx_log_append_in in = {.env = env, .received_at_ms = T(100), .received_from = "broker.alpha"};
    cdx_log_append_out out;
    REQUIRE(cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK);
    cdx_envelope_destroy(&env);
}

/* Signs and appends seqs from..to as alerts. */
static void s_alerts(cdx_log *log, chain *c, uint64_t from, uint64_t to)
{
    for (uint64_t s = from; s <= to; s++)
        s_put(log, s_sign(c, s, false, 0, NULL));
}

static cdx_completeness s_check(cdx_log *log, const char *until_kind, uint64_t until)
{
    cdx_completeness_opts o = {.sender = "EE", .roster = F.roster};
    if (until_kind && strcmp(until_kind, "seq") == 0) {
        o.has_until_seq = true;
        o.until_seq = until;
    } else if (until_kind) {
        o.has_until_time = true;
        o.until_ms = until;
    }
    cdx_completeness c;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_completeness_check(log, &o, &c, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "completeness: %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    return c;
}

static char *s_text(const cdx_completeness *c)
{
    char *t = NULL;
    REQUIRE(cdx_completeness_text(c, &t) == CDX_OK);
    return t;
}

#define HAS(text, s)                                                                               \
    do {                                                                                           \
        CHECK(strstr(text, s) != NULL);                                                            \
        if (!strstr(text, s))                                                                      \
            fprintf(stderr, "  wanted \"%s\" in:\n%s\n", s, text);                                 \
    } while (0)

/* EE 1..5 and its heartbeat at seq 6 stating last_seq 5. */
static void test_complete(void)
{
    chain c = {.who = F.ee};
    cdx_log *log = s_new_log("whole");
    s_alerts(log, &c, 1, 5);
    s_put(log, s_sign(&c, 6, true, 5, NULL));
    /* FR's own traffic in the same log changes nothing for EE. */
    chain fr = {.who = F.fr};
    s_alerts(log, &fr, 1, 2);

    cdx_completeness r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    CHECK_EQ(r.target, 6);
    CHECK_EQ(r.complete_to, 6);
    CHECK_EQ(r.held, 6);
    CHECK_EQ(r.missing_ranges, 0);
    char *t = s_text(&r);
    HAS(t, "COMPLETE: EE 1..6 complete in cydex/FR");
    HAS(t, "chain unbroken from seq 1 to 6");
    HAS(t, "not provable past seq 6: no signed statement of EE covers later seqs");
    free(t);

    /* Up to seq 5: the heartbeat pins it by its hash. */
    r = s_check(log, "seq", 5);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    CHECK_EQ(r.target, 5);
    CHECK(r.pin.present && r.pin.seq == 6 && r.pin.kind == CDX_PAYLOAD_HEARTBEAT);
    CHECK(memcmp(r.pin.names_hash, c.hash[5], CDX_HASH_BYTES) == 0);
    t = s_text(&r);
    HAS(t, "COMPLETE: EE 1..5 complete in cydex/FR (EE up to seq 5): chain unbroken from seq 1 to "
           "5, and EE's heartbeat (seq 6, entry #5) at 2025-11-24T16:00:06.000Z states last_seq 5 "
           "with that hash");
    free(t);
    /* Up to seq 3: seq 4 names it. */
    r = s_check(log, "seq", 3);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    t = s_text(&r);
    HAS(t, "and EE's seq 4 (alert, entry #3) at 2025-11-24T16:00:04.000Z names seq 3 by its hash");
    free(t);

    /* Beyond every statement: not provable. */
    r = s_check(log, "seq", 9);
    CHECK_EQ(r.verdict, CDX_NOT_PROVABLE);
    CHECK_EQ(r.complete_to, 6);
    t = s_text(&r);
    HAS(t, "NOT PROVABLE: EE up to seq 9 in cydex/FR: not provable past seq 6: no signed "
           "statement of EE covers later seqs");
    HAS(t, "EE 1..6 complete: chain unbroken from seq 1 to 6");
    free(t);

    /* Up to a time: EE's first statement after it shows what it had
     * published by then. */
    r = s_check(log, "time", T(3) + 500);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    CHECK_EQ(r.target, 3);
    CHECK(r.after.present && r.after.seq == 4);
    t = s_text(&r);
    HAS(t, "COMPLETE: EE 1..3 complete in cydex/FR (everything EE published up to "
           "2025-11-24T16:00:03.500Z)");
    HAS(t, "EE's seq 4 (alert, entry #3) at 2025-11-24T16:00:04.000Z, its first signed statement "
           "after that time, names seq 3 by its hash");
    free(t);
    /* A time at a statement's own time includes it. */
    r = s_check(log, "time", T(3));
    CHECK_EQ(r.target, 3);
    /* After the last statement: nothing shows what came since. */
    r = s_check(log, "time", T(7));
    CHECK_EQ(r.verdict, CDX_NOT_PROVABLE);
    t = s_text(&r);
    HAS(t, "not provable past seq 6: no signed statement of EE made after that time");
    free(t);
    /* Before the first: nothing was published, nothing is missing. */
    r = s_check(log, "time", T(0));
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    CHECK_EQ(r.target, 0);

    char *j = NULL;
    r = s_check(log, "seq", 5);
    REQUIRE(cdx_completeness_json(&r, &j) == CDX_OK);
    HAS(j, "\"verdict\":\"complete\",\"complete\":true,\"until\":{\"seq\":5},\"target\":5");
    HAS(j, "\"pin\":{\"seq\":6,\"index\":5,\"kind\":\"heartbeat\"");
    HAS(j, "\"claim\":\"COMPLETE: EE 1..5 complete");
    free(j);

    /* A sender the log holds nothing of. */
    cdx_completeness_opts o = {.sender = "DE", .roster = F.roster};
    REQUIRE(cdx_completeness_check(log, &o, &r, NULL) == CDX_OK);
    CHECK_EQ(r.verdict, CDX_NOT_PROVABLE);
    t = s_text(&r);
    HAS(t, "the log holds no signed statement of DE");
    free(t);
    cdx_log_destroy(&log);
}

/* EE 1..3 and 6..7: seqs 4..5 never arrived; seq 6 names 5. */
static void test_gap(void)
{
    chain c = {.who = F.ee};
    cdx_log *log = s_new_log("gap");
    s_alerts(log, &c, 1, 3);
    cdx_envelope *lost4 = s_sign(&c, 4, false, 0, NULL), *lost5 = s_sign(&c, 5, false, 0, NULL);
    cdx_envelope_destroy(&lost4);
    cdx_envelope_destroy(&lost5);
    s_alerts(log, &c, 6, 7);

    cdx_completeness r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.complete_to, 3);
    CHECK_EQ(r.target, 7);
    CHECK_EQ(r.n_missing, 1);
    CHECK_EQ(r.missing[0].from, 4);
    CHECK_EQ(r.missing[0].to, 5);
    CHECK_EQ(r.missing[0].kind, CDX_MISSING_GAP);
    CHECK_EQ(r.missing[0].proof.seq, 6);
    CHECK_EQ(r.missing_seqs, 2);
    char *t = s_text(&r);
    HAS(t, "INCOMPLETE: EE in cydex/FR up to seq 7");
    HAS(t, "2 seqs missing in 1 range; complete up to seq 3 (chain unbroken from seq 1 to 3)");
    HAS(t, "missing: seqs 4..5 (gap): EE's seq 6 (alert, entry #3) at 2025-11-24T16:00:06.000Z "
           "shows that they exist");
    free(t);
    /* Up to seq 3 it is complete; up to seq 4 it is not. */
    r = s_check(log, "seq", 3);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    r = s_check(log, "seq", 4);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.missing_seqs_to_target, 1);
    /* Up to a time between 4 and 5: seq 6 is EE's first statement after
     * it; 4 and 5 may have been published by then. */
    r = s_check(log, "time", T(4) + 10);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.target, 5);
    char *j = NULL;
    REQUIRE(cdx_completeness_json(&r, &j) == CDX_OK);
    HAS(j, "\"missing\":[{\"from\":4,\"to\":5,\"kind\":\"gap\",\"proof\":{\"seq\":6");
    free(j);
    cdx_log_destroy(&log);

    /* Seq 1 never arrived. */
    chain d = {.who = F.ee};
    log = s_new_log("nofirst");
    cdx_envelope *lost1 = s_sign(&d, 1, false, 0, NULL);
    cdx_envelope_destroy(&lost1);
    s_alerts(log, &d, 2, 3);
    r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.complete_to, 0);
    CHECK(r.n_missing == 1 && r.missing[0].from == 1 && r.missing[0].to == 1);
    t = s_text(&r);
    HAS(t, "missing: seq 1 (gap)");
    HAS(t, "not complete from seq 1");
    free(t);
    cdx_log_destroy(&log);
}

/* EE 1..4 held, 5..7 withheld; its heartbeat at seq 8 states last_seq 7. */
static void test_withheld_tail(void)
{
    chain c = {.who = F.ee};
    cdx_log *log = s_new_log("tail");
    s_alerts(log, &c, 1, 4);
    for (uint64_t s = 5; s <= 7; s++) {
        cdx_envelope *lost = s_sign(&c, s, false, 0, NULL);
        cdx_envelope_destroy(&lost);
    }
    s_put(log, s_sign(&c, 8, true, 7, NULL));

    cdx_completeness r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.complete_to, 4);
    CHECK_EQ(r.n_missing, 1);
    CHECK(r.missing[0].from == 5 && r.missing[0].to == 7 && r.missing[0].kind == CDX_MISSING_TAIL);
    char *t = s_text(&r);
    HAS(t, "missing: seqs 5..7 (withheld tail): EE's heartbeat (seq 8, entry #4) at "
           "2025-11-24T16:00:08.000Z states last_seq 7, and the log holds nothing of EE's after "
           "seq 4 but heartbeats");
    free(t);
    r = s_check(log, "seq", 4);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    cdx_log_destroy(&log);

    /* A heartbeat stating a last_seq past its own seq: the seqs it claims
     * are missing too. */
    chain d = {.who = F.ee};
    log = s_new_log("tail2");
    s_alerts(log, &d, 1, 2);
    s_put(log, s_sign(&d, 3, true, 9, NULL));
    r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.proven_to, 9);
    CHECK(r.n_missing == 1 && r.missing[0].from == 4 && r.missing[0].to == 9 &&
          r.missing[0].kind == CDX_MISSING_TAIL);
    t = s_text(&r);
    HAS(t, "missing: seqs 4..9 (withheld tail): EE's heartbeat (seq 3, entry #2)");
    HAS(t, "states last_seq 9");
    free(t);
    cdx_log_destroy(&log);
}

/* EE signed two seq 3s; the log holds one, and seq 4 names the other. */
static void test_fork_and_equivocation(void)
{
    chain c = {.who = F.ee};
    cdx_log *log = s_new_log("fork");
    s_alerts(log, &c, 1, 2);
    uint8_t other3[CDX_HASH_BYTES];
    {
        cdx_envelope *e = s_sign(&c, 3, true, 2, c.hash[2]); /* a heartbeat 3, not kept */
        memcpy(other3, cdx_envelope_hash(e), CDX_HASH_BYTES);
        cdx_envelope_destroy(&e);
    }
    s_alerts(log, &c, 3, 3);
    s_put(log, s_sign(&c, 4, false, 0, other3));
    cdx_completeness r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.complete_to, 2);
    CHECK(r.n_missing == 1 && r.missing[0].from == 3 && r.missing[0].kind == CDX_MISSING_FORK);
    char *t = s_text(&r);
    HAS(t, "missing: seq 3 (fork): EE's seq 4 (alert, entry #3)");
    HAS(t, "names another seq 3");
    free(t);
    cdx_log_destroy(&log);

    /* Both seq 3s held (an equivocation kept as evidence), seq 4 names one
     * of them: nothing is missing. */
    chain d = {.who = F.ee};
    log = s_new_log("equiv");
    s_alerts(log, &d, 1, 3);
    s_put(log, s_sign(&d, 3, true, 2, d.hash[2]));
    s_alerts(log, &d, 4, 4);
    r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_COMPLETE);
    CHECK_EQ(r.equivocated, 1);
    t = s_text(&r);
    HAS(t, "note: the log holds two envelopes for 1 seq of EE");
    free(t);
    cdx_log_destroy(&log);
}

/* More ranges than are listed: all counted. */
static void test_many_gaps(void)
{
    chain c = {.who = F.ee};
    cdx_log *log = s_new_log("many");
    for (uint64_t s = 1; s < 64 * 2 + 1 && s < 64; s++) {
        cdx_envelope *e = s_sign(&c, s, false, 0, NULL);
        if (s % 2)
            s_put(log, e);
        else
            cdx_envelope_destroy(&e);
    }
    cdx_completeness r = s_check(log, NULL, 0);
    CHECK_EQ(r.verdict, CDX_INCOMPLETE);
    CHECK_EQ(r.missing_ranges, 31); /* 2, 4, ..., 62 */
    CHECK_EQ(r.missing_seqs, 31);
    CHECK_EQ(r.n_missing, 31);
    cdx_log_destroy(&log);
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_root);
    test_complete();
    test_gap();
    test_withheld_tail();
    test_fork_and_equivocation();
    test_many_gaps();
    fixture_free(&F);
    int rc = check_done("completeness_test");
    if (rc == 0)
        fixture_rmtree(s_root);
    return rc;
}
