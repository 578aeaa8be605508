/* The audit across roster versions: the log's roster history takes over
 * from the entry it was in force for, but only as a valid successor of the
 * roster in force; a rotated key's envelopes verify before the rotation
 * time and not after, the new key's after and not before; the owner's
 * checkpoints are checked with its key valid when each was signed. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/audit.h"
#include "fixture.h"
#include "internal.h"

static fixture F;
static cdx_identity *s_ee2;
static cdx_roster *s_v2; /* EE's keys rotated at s_T, signed by v1's EE and FR */
static const uint64_t s_T = FIXTURE_T0 + FIXTURE_DAY;

/* A log owned by EE: `n` envelopes of EE, each signed by who[i] at t[i],
 * verified against `accept` (the roster the log took it under); v1 kept
 * from the start, v2 (if keep_v2) from entry `v2_from`; a checkpoint
 * after each entry if `checkpoints`. */
static void s_log(const char *dir, const cdx_identity *const *who, const uint64_t *t, size_t n,
                  const cdx_roster *const *accept, bool keep_v2, size_t v2_from, bool checkpoints)
{
    cdx_log *log = NULL;
    cdx_log_opts o = {.owner = "EE", .exclusive = true};
    REQUIRE(cdx_log_new(&log, dir, &o, NULL) == CDX_OK);
    cdx_bytes rb = {0};
    REQUIRE(cdx_roster_encode(F.roster, &rb) == CDX_OK);
    REQUIRE(cdx_log_keep_roster(log, 1, rb.data, rb.len, NULL) == CDX_OK);
    cdx_bytes_free(&rb);
    uint8_t prev[CDX_HASH_BYTES];
    for (size_t i = 0; i < n; i++) {
        if (keep_v2 && i == v2_from) {
            REQUIRE(cdx_roster_encode(s_v2, &rb) == CDX_OK);
            REQUIRE(cdx_log_keep_roster(log, 2, rb.data, rb.len, NULL) == CDX_OK);
            cdx_bytes_free(&rb);
        }
        cdx_bytes raw = {0};
        REQUIRE(fixture_sign_alert(who[i], i + 1, i ? prev : NULL, t[i], 20, &raw, prev) == CDX_OK);
        cdx_envelope *e = NULL;
        REQUIRE(cdx_envelope_verify(&e, accept[i], raw.data, raw.len, NULL, NULL) == CDX_OK);
        cdx_log_append_in in = {.env = e, .received_at_ms = t[i], .received_from = "local"};
        cdx_log_append_out out;
        REQUIRE(cdx_log_append(log, &in, 1, &out, NULL) == CDX_OK);
        cdx_envelope_destroy(&e);
        cdx_bytes_free(&raw);
        /* A checkpoint after each, signed with the owner's key valid then. */
        const cdx_identity *owner = t[i] + 1 < s_T ? F.ee : s_ee2;
        if (checkpoints)
            REQUIRE(cdx_log_checkpoint(log, owner, t[i] + 1, NULL, NULL) == CDX_OK);
    }
    cdx_log_destroy(&log);
}

static cdx_audit_report s_audit(const char *dir, const cdx_roster *trusted)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, dir, &ro, NULL) == CDX_OK);
    cdx_audit_opts o = {.roster = trusted, .threads = 2};
    cdx_audit_report r;
    REQUIRE(cdx_audit_verify(log, &o, &r, NULL) == CDX_OK);
    cdx_log_destroy(&log);
    return r;
}

/* Old key before T, old key just before T after v2 is in force, new key
 * after T: all verify, from the v1 anchor, through the history. */
static void test_rotation_through_history(void)
{
    char dir[256];
    fixture_tmpdir(dir);
    const cdx_identity *who[] = {F.ee, F.ee, s_ee2, s_ee2};
    const uint64_t t[] = {FIXTURE_T0, s_T - 1, s_T, s_T + FIXTURE_HOUR};
    const cdx_roster *accept[] = {F.roster, s_v2, s_v2, s_v2};
    s_log(dir, who, t, 4, accept, true, 1, true);
    cdx_audit_report r = s_audit(dir, F.roster);
    CHECK(r.pass);
    if (!r.pass)
        fprintf(stderr, "the audit said: %s\n", r.reason);
    CHECK_EQ(r.verified, 4);
    CHECK_EQ(r.roster_version, 2);
    CHECK_EQ(r.checkpoints, 4); /* the old key's and the new key's */
    /* v2 trusted outright: the same. */
    r = s_audit(dir, s_v2);
    CHECK(r.pass);
    fixture_rmtree(dir);
}

/* Without the history, v1 alone does not know EE's new key. */
static void test_history_needed(void)
{
    char dir[256];
    fixture_tmpdir(dir);
    const cdx_identity *who[] = {F.ee, s_ee2};
    const uint64_t t[] = {FIXTURE_T0, s_T + 5};
    const cdx_roster *accept[] = {F.roster, s_v2};
    s_log(dir, who, t, 2, accept, false, 0, false);
    cdx_audit_report r = s_audit(dir, F.roster);
    CHECK(!r.pass);
    CHECK(r.has_bad && r.first_bad == 1);
    fixture_rmtree(dir);
}

/* What the old key signed at or after T fails the audit, wherever the
 * log got it from (here a log that took it under v1, then v2 came). */
static void test_old_key_after_rotation_fails(void)
{
    char dir[256];
    fixture_tmpdir(dir);
    const cdx_identity *who[] = {F.ee, F.ee};
    const uint64_t t[] = {FIXTURE_T0, s_T + 5};
    const cdx_roster *accept[] = {F.roster, F.roster};
    s_log(dir, who, t, 2, accept, true, 1, true);
    cdx_audit_report r = s_audit(dir, F.roster);
    CHECK(!r.pass);
    CHECK(r.has_bad && r.first_bad == 1);
    CHECK(strstr(r.reason, "does not verify") != NULL);
    fixture_rmtree(dir);
}

/* A roster version planted in the log's meta, not signed by v1's admins,
 * is not followed: the new key it lists grants nothing. */
static void test_forged_history_ignored(void)
{
    cdx_roster *forged = NULL;
    REQUIRE(cdx_roster_next(&forged, F.roster, FIXTURE_T0 + 2) == CDX_OK);
    cdx_member card;
    cdx_identity_card(s_ee2, &card);
    REQUIRE(cdx_roster_rotate(forged, "EE", &card, s_T, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(forged, forged, F.lv, NULL) != CDX_OK);   /* LV is no admin */
    REQUIRE(cdx_roster_sign(forged, F.roster, F.ee, NULL) == CDX_OK); /* one of the two */
    cdx_roster *real = s_v2;
    s_v2 = forged;
    char dir[256];
    fixture_tmpdir(dir);
    const cdx_identity *who[] = {F.ee, s_ee2};
    const uint64_t t[] = {FIXTURE_T0, s_T + 5};
    const cdx_roster *accept[] = {F.roster, real};
    s_log(dir, who, t, 2, accept, true, 1, false);
    cdx_audit_report r = s_audit(dir, F.roster);
    CHECK(!r.pass);
    CHECK(r.has_bad && r.first_bad == 1);
    CHECK_EQ(r.roster_version, 1);
    s_v2 = real;
    cdx_roster_destroy(&forged);
    fixture_rmtree(dir);
}

int main(void)
{
    fixture_init(&F);
    uint8_t seed[32];
    memset(seed, 0x53, sizeof seed);
    REQUIRE(cdx_identity_from_seed(&s_ee2, "EE", CDX_ROLE_STATE, seed) == CDX_OK);
    cdx_member card;
    cdx_identity_card(s_ee2, &card);
    REQUIRE(cdx_roster_next(&s_v2, F.roster, FIXTURE_T0 + 1) == CDX_OK);
    REQUIRE(cdx_roster_rotate(s_v2, "EE", &card, s_T, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(s_v2, F.roster, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(s_v2, F.roster, F.fr, NULL) == CDX_OK);
    REQUIRE(cdx_roster_verify(s_v2, F.roster, NULL) == CDX_OK);
    test_rotation_through_history();
    test_history_needed();
    test_old_key_after_rotation_fails();
    test_forged_history_ignored();
    cdx_roster_destroy(&s_v2);
    cdx_identity_destroy(&s_ee2);
    fixture_free(&F);
    return check_done("audit_test");
}
