/* The roster: k of n admins, no admin counted twice, versions only rise,
 * updates signed by the previous roster's admins, edits drop signatures. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"
#include "internal.h"

static fixture F;

/* A fresh v1 draft with EE, FR, DE as admins, threshold k. */
static cdx_roster *s_draft(uint32_t k)
{
    cdx_roster *r = NULL;
    REQUIRE(cdx_roster_new(&r, "test-federation", k, FIXTURE_T0) == CDX_OK);
    const cdx_identity *ids[] = {F.ee, F.fr, F.de};
    for (int i = 0; i < 3; i++) {
        cdx_member m;
        cdx_identity_card(ids[i], &m);
        REQUIRE(cdx_roster_add_member(r, &m, NULL) == CDX_OK);
        REQUIRE(cdx_roster_add_admin(r, m.id, m.sign_pk, NULL) == CDX_OK);
    }
    return r;
}

static void test_threshold(void)
{
    cdx_roster *r = s_draft(2);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_verify(r, NULL, &eb), CDX_ERR_THRESHOLD);
    REQUIRE(cdx_roster_sign(r, NULL, F.ee, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(r, NULL, &eb), CDX_ERR_THRESHOLD); /* k - 1 */
    CHECK(strstr(eb.msg, "1 valid admin signature; 2 required") != NULL);
    CHECK_EQ(cdx_roster_sign(r, NULL, F.ee, NULL), CDX_ERR_DUPLICATE_SIGNER);
    CHECK_EQ(cdx_roster_sign(r, NULL, F.xx, NULL), CDX_ERR_UNKNOWN_SENDER);
    REQUIRE(cdx_roster_sign(r, NULL, F.de, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(r, NULL, NULL), CDX_OK);
    CHECK_EQ(cdx_roster_signature_count(r), 2);
    /* A threshold above the number of admins is malformed. */
    cdx_roster *bad = s_draft(4);
    CHECK_EQ(cdx_roster_verify(bad, NULL, NULL), CDX_ERR_FORMAT);
    cdx_roster_destroy(&bad);
    cdx_roster_destroy(&r);
    CHECK(r == NULL);
}

/* Rewrites a roster's signature list, as an attacker with the file would. */
static cdx_roster *s_with_signatures(const cdx_roster *r, const cdx__rsig *sigs, size_t n)
{
    cdx_bytes enc = {0}, roster_bytes = {0}, out = {0};
    cdx__rsig *old = NULL;
    size_t n_old = 0;
    REQUIRE(cdx_roster_encode(r, &enc) == CDX_OK);
    REQUIRE(cdx__signed_roster_decode(&roster_bytes, &old, &n_old, enc.data, enc.len, NULL) ==
            CDX_OK);
    REQUIRE(cdx__signed_roster_encode(&roster_bytes, sigs, n, &out) == CDX_OK);
    cdx_roster *copy = NULL;
    REQUIRE(cdx_roster_decode(&copy, out.data, out.len, NULL) == CDX_OK);
    free(old);
    cdx_bytes_free(&enc);
    cdx_bytes_free(&roster_bytes);
    cdx_bytes_free(&out);
    return copy;
}

static void test_forged_signature_lists(void)
{
    cdx_roster *r = s_draft(2);
    REQUIRE(cdx_roster_sign(r, NULL, F.ee, NULL) == CDX_OK);
    cdx_bytes enc = {0}, rb = {0};
    cdx__rsig *sigs = NULL;
    size_t n = 0;
    REQUIRE(cdx_roster_encode(r, &enc) == CDX_OK);
    REQUIRE(cdx__signed_roster_decode(&rb, &sigs, &n, enc.data, enc.len, NULL) == CDX_OK);
    REQUIRE(n == 1);
    /* EE's one signature, listed twice, is not 2 of 3. */
    cdx__rsig twice[2] = {sigs[0], sigs[0]};
    cdx_roster *t = s_with_signatures(r, twice, 2);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_verify(t, NULL, &eb), CDX_ERR_DUPLICATE_SIGNER);
    CHECK(strstr(eb.msg, "two signatures by admin EE") != NULL);
    cdx_roster_destroy(&t);
    /* EE's signature relabelled as FR's. */
    cdx__rsig relabel[2] = {sigs[0], sigs[0]};
    strcpy(relabel[1].admin_id, "FR");
    t = s_with_signatures(r, relabel, 2);
    CHECK_EQ(cdx_roster_verify(t, NULL, NULL), CDX_ERR_BAD_SIGNATURE);
    cdx_roster_destroy(&t);
    /* A signature by someone who is not an admin. */
    strcpy(relabel[1].admin_id, "XX");
    t = s_with_signatures(r, relabel, 2);
    CHECK_EQ(cdx_roster_verify(t, NULL, NULL), CDX_ERR_UNKNOWN_SENDER);
    cdx_roster_destroy(&t);
    /* One flipped bit in a signature. */
    REQUIRE(cdx_roster_sign(r, NULL, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(r, NULL, NULL), CDX_OK);
    free(sigs);
    cdx_bytes_free(&rb);
    cdx_bytes_free(&enc);
    REQUIRE(cdx_roster_encode(r, &enc) == CDX_OK);
    size_t accepted = 0;
    for (size_t i = 0; i < enc.len; i++) {
        enc.data[i] ^= 0x04;
        cdx_roster *flipped = NULL;
        if (cdx_roster_decode(&flipped, enc.data, enc.len, NULL) == CDX_OK &&
            cdx_roster_verify(flipped, NULL, NULL) == CDX_OK)
            accepted++;
        cdx_roster_destroy(&flipped);
        enc.data[i] ^= 0x04;
    }
    CHECK_EQ(accepted, 0);
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&r);
}

static void test_updates(void)
{
    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.fr, NULL) == CDX_OK);
    REQUIRE(cdx_roster_verify(v1, NULL, NULL) == CDX_OK);

    /* v2 adds LV as a member and as an admin, and lowers nothing. */
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, v1, FIXTURE_T0 + 1) == CDX_OK);
    CHECK_EQ(cdx_roster_version(v2), 2);
    CHECK_EQ(cdx_roster_member_count(v2), 3);
    cdx_member lv;
    cdx_identity_card(F.lv, &lv);
    REQUIRE(cdx_roster_add_member(v2, &lv, NULL) == CDX_OK);
    REQUIRE(cdx_roster_add_admin(v2, "LV", lv.sign_pk, NULL) == CDX_OK);
    /* Signed by LV (a v2 admin, not a v1 admin) and EE: 1 valid of 2. */
    CHECK_EQ(cdx_roster_sign(v2, v1, F.lv, NULL), CDX_ERR_UNKNOWN_SENDER);
    REQUIRE(cdx_roster_sign(v2, v1, F.ee, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_ERR_THRESHOLD);
    REQUIRE(cdx_roster_sign(v2, v1, F.de, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_OK);
    CHECK(cdx_roster_find(v2, "LV") != NULL);

    /* Rollback: v1 offered as an update to v2, or v2 to itself. */
    CHECK_EQ(cdx_roster_verify(v1, v2, NULL), CDX_ERR_ROLLBACK);
    CHECK_EQ(cdx_roster_verify(v2, v2, NULL), CDX_ERR_ROLLBACK);

    /* An edit drops the signatures. */
    REQUIRE(cdx_roster_revoke(v2, "LV", FIXTURE_T0 + 5, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_signature_count(v2), 0);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_ERR_THRESHOLD);
    CHECK_EQ(cdx_roster_find(v2, "LV")->revoked_at_ms, FIXTURE_T0 + 5);
    CHECK_EQ(cdx_roster_revoke(v2, "LV", FIXTURE_T0 + 6, NULL), CDX_ERR_EXISTS);
    CHECK_EQ(cdx_roster_revoke(v2, "PT", FIXTURE_T0, NULL), CDX_ERR_NOENT);

    cdx_roster_destroy(&v1);
    cdx_roster_destroy(&v2);
}

static void test_members_and_files(void)
{
    cdx_roster *r = s_draft(2);
    cdx_member ee;
    cdx_identity_card(F.ee, &ee);
    CHECK_EQ(cdx_roster_add_member(r, &ee, NULL), CDX_ERR_EXISTS);
    CHECK_EQ(cdx_roster_add_admin(r, "EE2", ee.sign_pk, NULL), CDX_ERR_EXISTS);
    cdx_member bad = ee;
    strcpy(bad.id, "no spaces");
    CHECK_EQ(cdx_roster_add_member(r, &bad, NULL), CDX_ERR_INVALID);
    const cdx_member *fr = cdx_roster_find(r, "FR");
    REQUIRE(fr != NULL);
    CHECK_STR(fr->id, "FR");
    CHECK(cdx_roster_find(r, "PT") == NULL);
    cdx_member fr_card;
    cdx_identity_card(F.fr, &fr_card);
    CHECK(cdx_roster_find_curve(r, fr_card.curve_pk) == fr);
    REQUIRE(cdx_roster_sign(r, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(r, NULL, F.fr, NULL) == CDX_OK);

    char dir[256], path[300];
    fixture_tmpdir(dir);
    snprintf(path, sizeof path, "%s/roster.bin", dir);
    REQUIRE(cdx_roster_save(r, path, NULL) == CDX_OK);
    cdx_roster *back = NULL;
    REQUIRE(cdx_roster_load(&back, path, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(back, NULL, NULL), CDX_OK);
    CHECK_EQ(cdx_roster_version(back), 1);
    CHECK_STR(cdx_roster_federation(back), "test-federation");
    CHECK_EQ(cdx_roster_member_count(back), 3);
    CHECK_STR(cdx_roster_signer_at(back, 1), "FR");
    cdx_roster_destroy(&back);
    cdx_errbuf eb = {0};
    snprintf(path, sizeof path, "%s/missing.bin", dir);
    CHECK_EQ(cdx_roster_load(&back, path, &eb), CDX_ERR_NOENT);
    snprintf(path, sizeof path, "%s/garbage.bin", dir);
    FILE *g = fopen(path, "wb");
    fputs("not a roster at all", g);
    fclose(g);
    CHECK_EQ(cdx_roster_load(&back, path, &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "is not a roster") != NULL);
    fixture_rmtree(dir);
    cdx_roster_destroy(&r);
}

int main(void)
{
    fixture_init(&F);
    test_threshold();
    test_forged_signature_lists();
    test_updates();
    test_members_and_files();
    fixture_free(&F);
    return check_done("roster_test");
}
