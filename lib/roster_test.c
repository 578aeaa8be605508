/* The roster: k of n admins, no admin counted twice, versions only rise,
 * updates signed by the previous roster's admins, edits drop signatures;
 * revocation strips the admin role too; admins and the threshold change;
 * key rotation by cards with disjoint windows; limits refused by name,
 * and decoding that stays cheap however big the roster. */
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

/* Signs `r`'s exact bytes as `who` would, whatever the library allows,
 * and returns the roster with that signature added. */
static cdx_roster *s_add_raw_signature(const cdx_roster *r, const char *admin_id,
                                       const cdx_identity *who)
{
    cdx_bytes enc = {0}, rb = {0};
    cdx__rsig *old = NULL;
    size_t n = 0;
    REQUIRE(cdx_roster_encode(r, &enc) == CDX_OK);
    REQUIRE(cdx__signed_roster_decode(&rb, &old, &n, enc.data, enc.len, NULL) == CDX_OK);
    cdx__rsig *sigs = calloc(n + 1, sizeof *sigs);
    REQUIRE(sigs != NULL);
    memcpy(sigs, old, n * sizeof *sigs);
    strcpy(sigs[n].admin_id, admin_id);
    REQUIRE(cdx_identity_sign(who, "roster", rb.data, rb.len, sigs[n].sig) == CDX_OK);
    cdx_roster *copy = s_with_signatures(r, sigs, n + 1);
    free(sigs);
    free(old);
    cdx_bytes_free(&rb);
    cdx_bytes_free(&enc);
    return copy;
}

/* A roster's inner data, rewritten by `edit`, signed by `signers` (raw
 * signatures over the new bytes), as a file holding it would be. */
static cdx_roster *s_rewrite(const cdx_roster *r, void (*edit)(cdx__roster_data *),
                             const cdx_identity *const *signers, size_t n)
{
    cdx_bytes enc = {0}, rb = {0}, inner = {0}, out = {0};
    cdx__rsig *old = NULL;
    size_t n_old = 0;
    REQUIRE(cdx_roster_encode(r, &enc) == CDX_OK);
    REQUIRE(cdx__signed_roster_decode(&rb, &old, &n_old, enc.data, enc.len, NULL) == CDX_OK);
    cdx__roster_data d;
    REQUIRE(cdx__roster_data_decode(&d, rb.data, rb.len, false, NULL) == CDX_OK);
    edit(&d);
    REQUIRE(cdx__roster_data_encode(&d, &inner) == CDX_OK);
    cdx__rsig sigs[8];
    for (size_t i = 0; i < n; i++) {
        strcpy(sigs[i].admin_id, cdx_identity_id(signers[i]));
        REQUIRE(cdx_identity_sign(signers[i], "roster", inner.data, inner.len, sigs[i].sig) ==
                CDX_OK);
    }
    REQUIRE(cdx__signed_roster_encode(&inner, sigs, n, &out) == CDX_OK);
    cdx_roster *copy = NULL;
    cdx_err rc = cdx_roster_decode(&copy, out.data, out.len, NULL);
    cdx__roster_data_clear(&d);
    free(old);
    cdx_bytes_free(&enc);
    cdx_bytes_free(&rb);
    cdx_bytes_free(&inner);
    cdx_bytes_free(&out);
    return rc == CDX_OK ? copy : NULL;
}

/* What a roster drawn up by an older cydex looks like after revoking DE:
 * the member revoked, its admin key still listed. */
static void s_keep_de_admin(cdx__roster_data *d)
{
    for (size_t i = 0; i < d->n_members; i++)
        if (strcmp(d->members[i].id, "DE") == 0)
            d->members[i].revoked_at_ms = FIXTURE_T0 + 10;
    cdx__admin *grown = realloc(d->admins, (d->n_admins + 1) * sizeof *grown);
    REQUIRE(grown != NULL);
    d->admins = grown;
    bool listed = false;
    for (size_t i = 0; i < d->n_admins; i++)
        listed = listed || strcmp(d->admins[i].id, "DE") == 0;
    if (!listed) {
        cdx_member de;
        cdx_identity_card(F.de, &de);
        strcpy(d->admins[d->n_admins].id, "DE");
        memcpy(d->admins[d->n_admins].sign_pk, de.sign_pk, CDX_PK_BYTES);
        d->n_admins++;
    }
}

/* A member revoked in v2 no longer counts as an admin for v3: not when
 * v2 still lists its admin key (an older cydex's revocation), and not
 * when the signature is made by hand past the library's own refusal. */
static void test_revoked_admin_does_not_sign(void)
{
    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.fr, NULL) == CDX_OK);
    cdx_roster *draft = NULL;
    REQUIRE(cdx_roster_next(&draft, v1, FIXTURE_T0 + 5) == CDX_OK);
    const cdx_identity *ee_fr[] = {F.ee, F.fr};
    cdx_roster *v2 = s_rewrite(draft, s_keep_de_admin, ee_fr, 2);
    REQUIRE(v2 != NULL);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_OK);
    CHECK_EQ(cdx_roster_admin_count(v2), 3); /* DE still listed */

    /* v3 signed by EE and the revoked DE: one signature that counts. */
    cdx_roster *v3 = NULL;
    REQUIRE(cdx_roster_next(&v3, v2, FIXTURE_T0 + 20) == CDX_OK);
    REQUIRE(cdx_roster_sign(v3, v2, F.ee, NULL) == CDX_OK);
    cdx_roster *forged = s_add_raw_signature(v3, "DE", F.de);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_verify(forged, v2, &eb), CDX_ERR_THRESHOLD);
    CHECK(strstr(eb.msg, "DE's does not count") != NULL);
    /* With FR's signature instead it is valid. */
    REQUIRE(cdx_roster_sign(v3, v2, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v3, v2, NULL), CDX_OK);
    cdx_roster_destroy(&forged);
    cdx_roster_destroy(&v3);
    cdx_roster_destroy(&v2);
    cdx_roster_destroy(&draft);
    cdx_roster_destroy(&v1);
}

/* 24,000 admins (about 1.1 MB) decoded in 0.83 s before: refused now, by
 * name, before anything is decoded whole. No timing is asserted. */
static void test_large_roster_refused(void)
{
    cdx__roster_data d = {0};
    d.federation = strdup("test-federation");
    d.version = 2;
    d.threshold = 1;
    d.n_admins = 24000;
    d.admins = calloc(d.n_admins, sizeof *d.admins);
    REQUIRE(d.federation && d.admins);
    for (size_t i = 0; i < d.n_admins; i++) {
        snprintf(d.admins[i].id, sizeof d.admins[i].id, "admin-%05zu", i);
        memcpy(d.admins[i].sign_pk, &i, sizeof i);
        d.admins[i].sign_pk[31] = 1;
    }
    cdx_bytes inner = {0}, out = {0};
    REQUIRE(cdx__roster_data_encode(&d, &inner) == CDX_OK);
    cdx__rsig sig = {.admin_id = "EE"};
    REQUIRE(cdx__signed_roster_encode(&inner, &sig, 1, &out) == CDX_OK);
    cdx_roster *r = NULL;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_decode(&r, out.data, out.len, &eb), CDX_ERR_TOO_BIG);
    CHECK(r == NULL);
    cdx_roster_destroy(&r);
    cdx__roster_data_clear(&d);
    cdx_bytes_free(&inner);
    cdx_bytes_free(&out);
}

/* Revoking a member takes its admin key with it; the next version is then
 * signed without it, and a revocation that would leave the threshold out
 * of reach is refused until the threshold is lowered. */
static void test_revoke_strips_admin(void)
{
    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.fr, NULL) == CDX_OK);
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, v1, FIXTURE_T0 + 5) == CDX_OK);
    REQUIRE(cdx_roster_revoke(v2, "DE", FIXTURE_T0 + 10, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_admin_count(v2), 2);
    CHECK_EQ(cdx_roster_signing_admins(v2), 2);
    CHECK_EQ(cdx_roster_find(v2, "DE")->revoked_at_ms, FIXTURE_T0 + 10);
    /* DE cannot become an admin again while revoked. */
    cdx_member de;
    cdx_identity_card(F.de, &de);
    CHECK_EQ(cdx_roster_add_admin(v2, "DE", de.sign_pk, NULL), CDX_ERR_POLICY);
    CHECK_EQ(cdx_roster_add_admin(v2, "DE-admin", de.sign_pk, NULL), CDX_ERR_POLICY);
    /* DE's key was an admin key of v1, so DE may still sign v2. */
    REQUIRE(cdx_roster_sign(v2, v1, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, v1, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_OK);
    /* Not v3: DE is no admin of v2. */
    cdx_roster *v3 = NULL;
    REQUIRE(cdx_roster_next(&v3, v2, FIXTURE_T0 + 20) == CDX_OK);
    CHECK_EQ(cdx_roster_sign(v3, v2, F.de, NULL), CDX_ERR_UNKNOWN_SENDER);
    /* 2 of 2 left: revoking FR too would leave 1 for a threshold of 2. */
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_revoke(v3, "FR", FIXTURE_T0 + 30, &eb), CDX_ERR_POLICY);
    CHECK(strstr(eb.msg, "lower the threshold first") != NULL);
    CHECK(cdx_roster_find(v3, "FR")->revoked_at_ms == 0); /* nothing applied */
    REQUIRE(cdx_roster_set_threshold(v3, 1, NULL) == CDX_OK);
    REQUIRE(cdx_roster_revoke(v3, "FR", FIXTURE_T0 + 30, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_admin_count(v3), 1);
    REQUIRE(cdx_roster_sign(v3, v2, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v3, v2, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v3, v2, NULL), CDX_OK);
    cdx_roster_destroy(&v3);
    cdx_roster_destroy(&v2);
    cdx_roster_destroy(&v1);
}

/* Admins removed and added, and the threshold changed, each as a version
 * signed by the previous version's admins and threshold. */
static void test_admins_and_threshold(void)
{
    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.de, NULL) == CDX_OK);
    cdx_errbuf eb = {0};
    /* Bounds: 1 <= k <= admins. */
    CHECK_EQ(cdx_roster_set_threshold(v1, 0, &eb), CDX_ERR_INVALID);
    CHECK_EQ(cdx_roster_set_threshold(v1, 4, &eb), CDX_ERR_POLICY);
    CHECK(strstr(eb.msg, "a threshold of 4 needs 4 admins; the roster has 3") != NULL);
    CHECK_EQ(cdx_roster_signature_count(v1), 2); /* refused edits change nothing */

    /* v2: LV joins as a member and an admin, DE stops being an admin, 3 of 3. */
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, v1, FIXTURE_T0 + 1) == CDX_OK);
    cdx_member lv;
    cdx_identity_card(F.lv, &lv);
    lv.revoked_at_ms = 0;
    REQUIRE(cdx_roster_add_member(v2, &lv, NULL) == CDX_OK);
    REQUIRE(cdx_roster_add_admin(v2, "LV", lv.sign_pk, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_remove_admin(v2, "PT", NULL), CDX_ERR_NOENT);
    REQUIRE(cdx_roster_remove_admin(v2, "DE", NULL) == CDX_OK);
    CHECK(cdx_roster_find(v2, "DE") != NULL); /* still a member */
    REQUIRE(cdx_roster_set_threshold(v2, 3, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_remove_admin(v2, "LV", &eb), CDX_ERR_POLICY);
    CHECK(strstr(eb.msg, "would leave 2 admins who may sign for a threshold of 3") != NULL);
    /* Signed by v1's admins, v1's threshold: DE's signature counts here. */
    REQUIRE(cdx_roster_sign(v2, v1, F.de, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, v1, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v2, v1, NULL), CDX_OK);

    /* v3 under v2: DE is no longer an admin; 3 signatures are needed. */
    cdx_roster *v3 = NULL;
    REQUIRE(cdx_roster_next(&v3, v2, FIXTURE_T0 + 2) == CDX_OK);
    REQUIRE(cdx_roster_set_threshold(v3, 2, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_sign(v3, v2, F.de, NULL), CDX_ERR_UNKNOWN_SENDER);
    REQUIRE(cdx_roster_sign(v3, v2, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v3, v2, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v3, v2, &eb), CDX_ERR_THRESHOLD);
    CHECK(strstr(eb.msg, "2 valid admin signatures; 3 required") != NULL);
    REQUIRE(cdx_roster_sign(v3, v2, F.lv, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v3, v2, NULL), CDX_OK);
    /* The new threshold is what v4 needs. */
    cdx_roster *v4 = NULL;
    REQUIRE(cdx_roster_next(&v4, v3, FIXTURE_T0 + 3) == CDX_OK);
    REQUIRE(cdx_roster_sign(v4, v3, F.lv, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v4, v3, F.fr, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v4, v3, NULL), CDX_OK);
    cdx_roster_destroy(&v4);
    cdx_roster_destroy(&v3);
    cdx_roster_destroy(&v2);
    cdx_roster_destroy(&v1);
}

/* EE's keys rotated at T: the old card valid before, the new from T on;
 * the admin key follows; windows never overlap. */
static void test_rotation(void)
{
    const uint64_t T = FIXTURE_T0 + FIXTURE_DAY;
    cdx_identity *ee2 = NULL;
    uint8_t seed[32];
    memset(seed, 0x51, sizeof seed);
    REQUIRE(cdx_identity_from_seed(&ee2, "EE", CDX_ROLE_STATE, seed) == CDX_OK);
    cdx_member old_card, new_card;
    cdx_identity_card(F.ee, &old_card);
    cdx_identity_card(ee2, &new_card);

    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.fr, NULL) == CDX_OK);
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, v1, FIXTURE_T0 + 1) == CDX_OK);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_roster_add_member(v2, &new_card, &eb), CDX_ERR_EXISTS);
    CHECK(strstr(eb.msg, "EE is already a member") != NULL);
    cdx_member pt = new_card;
    strcpy(pt.id, "PT");
    CHECK_EQ(cdx_roster_rotate(v2, "PT", &pt, T, NULL), CDX_ERR_NOENT);
    CHECK_EQ(cdx_roster_rotate(v2, "FR", &new_card, T, NULL), CDX_ERR_INVALID);
    CHECK_EQ(cdx_roster_rotate(v2, "EE", &old_card, T, NULL), CDX_ERR_POLICY); /* same keys */
    REQUIRE(cdx_roster_rotate(v2, "EE", &new_card, T, &eb) == CDX_OK);
    CHECK_EQ(cdx_roster_member_count(v2), 4);
    /* A second rotation that starts before the new card would overlap it. */
    CHECK_EQ(cdx_roster_rotate(v2, "EE", &old_card, T, &eb), CDX_ERR_POLICY);
    CHECK(strstr(eb.msg, "would overlap") != NULL);

    /* The card valid at each time. */
    const cdx_member *const *cards;
    REQUIRE(cdx_roster_cards(v2, "EE", &cards) == 2);
    CHECK_EQ(cards[0]->valid_until_ms, T);
    CHECK_EQ(cards[1]->valid_from_ms, T);
    const cdx_member *before = cdx_roster_find_at(v2, "EE", T - 1);
    const cdx_member *after = cdx_roster_find_at(v2, "EE", T);
    REQUIRE(before && after);
    CHECK(memcmp(before->sign_pk, old_card.sign_pk, CDX_PK_BYTES) == 0);
    CHECK(memcmp(after->sign_pk, new_card.sign_pk, CDX_PK_BYTES) == 0);
    CHECK(cdx_roster_find(v2, "EE") == after);
    CHECK_EQ(cdx_member_key_valid_at(before, T), CDX_ERR_KEY_NOT_VALID);
    CHECK_EQ(cdx_member_key_valid_at(after, T - 1), CDX_ERR_KEY_NOT_VALID);
    /* EE's admin key is the new signing key. */
    const uint8_t *pk = NULL;
    for (size_t i = 0; i < cdx_roster_admin_count(v2); i++)
        if (strcmp(cdx_roster_admin_at(v2, i, NULL), "EE") == 0)
            cdx_roster_admin_at(v2, i, &pk);
    REQUIRE(pk != NULL);
    CHECK(memcmp(pk, new_card.sign_pk, CDX_PK_BYTES) == 0);

    /* Where each key stands. */
    uint64_t when = 0, next = 0;
    CHECK_EQ(cdx_roster_key_state(v2, "EE", old_card.sign_pk, T - 1, &when, &next), CDX_KEY_ENDING);
    CHECK_EQ(when, T);
    CHECK_EQ(next, T);
    CHECK_EQ(cdx_roster_key_state(v2, "EE", old_card.sign_pk, T, &when, NULL), CDX_KEY_ENDED);
    CHECK_EQ(cdx_roster_key_state(v2, "EE", new_card.sign_pk, T - 1, &when, NULL),
             CDX_KEY_NOT_YET_VALID);
    CHECK_EQ(cdx_roster_key_state(v2, "EE", new_card.sign_pk, T, &when, NULL), CDX_KEY_VALID);
    CHECK_EQ(cdx_roster_key_state(v2, "FR", old_card.sign_pk, T, &when, NULL), CDX_KEY_UNKNOWN);

    /* Signed by v1's admins (EE's old key among them), it verifies and
     * survives a round trip; v3 is signed with EE's new admin key. */
    CHECK_EQ(cdx_roster_sign(v2, v1, ee2, NULL), CDX_ERR_UNKNOWN_SENDER);
    REQUIRE(cdx_roster_sign(v2, v1, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, v1, F.fr, NULL) == CDX_OK);
    cdx_bytes enc = {0};
    REQUIRE(cdx_roster_encode(v2, &enc) == CDX_OK);
    cdx_roster *back = NULL;
    REQUIRE(cdx_roster_decode_next(&back, enc.data, enc.len, v1, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_cards(back, "EE", &cards), 2);
    cdx_roster *v3 = NULL;
    REQUIRE(cdx_roster_next(&v3, back, FIXTURE_T0 + 2) == CDX_OK);
    CHECK_EQ(cdx_roster_sign(v3, back, F.ee, NULL), CDX_ERR_UNKNOWN_SENDER);
    REQUIRE(cdx_roster_sign(v3, back, ee2, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v3, back, F.de, NULL) == CDX_OK);
    CHECK_EQ(cdx_roster_verify(v3, back, NULL), CDX_OK);
    /* A revoked member's keys are not rotated. */
    REQUIRE(cdx_roster_revoke(v3, "DE", T, NULL) == CDX_OK);
    cdx_member de2 = new_card;
    strcpy(de2.id, "DE");
    CHECK_EQ(cdx_roster_rotate(v3, "DE", &de2, T + 1, NULL), CDX_ERR_POLICY);
    /* Revocation reaches every card of a rotated member. */
    REQUIRE(cdx_roster_set_threshold(v3, 1, NULL) == CDX_OK);
    REQUIRE(cdx_roster_revoke(v3, "EE", T + 5, NULL) == CDX_OK);
    REQUIRE(cdx_roster_cards(v3, "EE", &cards) == 2);
    CHECK_EQ(cards[0]->revoked_at_ms, T + 5);
    CHECK_EQ(cards[1]->revoked_at_ms, T + 5);
    CHECK_EQ(cdx_roster_admin_count(v3), 1); /* FR */
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&v3);
    cdx_roster_destroy(&back);
    cdx_roster_destroy(&v2);
    cdx_roster_destroy(&v1);
    cdx_identity_destroy(&ee2);
}

static uint64_t s_second_from, s_second_until;
static cdx_role s_second_role;

/* A second card for EE with the window and role set above. */
static void s_second_ee_card(cdx__roster_data *d)
{
    cdx_member *grown = realloc(d->members, (d->n_members + 1) * sizeof *grown);
    REQUIRE(grown != NULL);
    d->members = grown;
    cdx_member *ee = NULL;
    for (size_t i = 0; i < d->n_members; i++)
        if (strcmp(d->members[i].id, "EE") == 0)
            ee = &d->members[i];
    REQUIRE(ee != NULL);
    ee->valid_until_ms = FIXTURE_T0 + FIXTURE_DAY;
    cdx_member *two = &d->members[d->n_members++];
    cdx_identity_card(F.xx, two);
    strcpy(two->id, "EE");
    two->role = s_second_role;
    two->valid_from_ms = s_second_from;
    two->valid_until_ms = s_second_until;
}

/* One id listed twice is a rotation only with windows that do not
 * overlap, and one role. */
static void test_overlapping_cards_refused(void)
{
    cdx_roster *v1 = s_draft(2);
    const cdx_identity *signers[] = {F.ee, F.fr};
    const struct {
        uint64_t from, until;
        cdx_role role;
        bool ok;
    } cases[] = {
        {FIXTURE_T0 + FIXTURE_DAY, 0, CDX_ROLE_STATE, true},               /* adjacent */
        {FIXTURE_T0 + 2 * FIXTURE_DAY, 0, CDX_ROLE_STATE, true},           /* a gap */
        {FIXTURE_T0 + FIXTURE_DAY - 1, 0, CDX_ROLE_STATE, false},          /* one ms of overlap */
        {0, FIXTURE_T0, CDX_ROLE_STATE, false},                            /* inside the first */
        {FIXTURE_T0 + FIXTURE_DAY, 0, CDX_ROLE_BROKER, false},             /* another role */
        {FIXTURE_T0 + 3 * FIXTURE_DAY, FIXTURE_T0, CDX_ROLE_STATE, false}, /* ends first */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        s_second_from = cases[i].from;
        s_second_until = cases[i].until;
        s_second_role = cases[i].role;
        cdx_roster *r = s_rewrite(v1, s_second_ee_card, signers, 2);
        CHECK((r != NULL) == cases[i].ok);
        if (r)
            CHECK_EQ(cdx_roster_verify(r, NULL, NULL), CDX_OK);
        cdx_roster_destroy(&r);
    }
    cdx_roster_destroy(&v1);
}

/* The limits: exactly at them is fine, one more is refused by name. */
static void test_limits(void)
{
    cdx__roster_data d = {0};
    d.federation = strdup("test-federation");
    d.version = 1;
    d.threshold = 1;
    d.n_members = CDX_ROSTER_MAX_MEMBERS + 1;
    d.members = calloc(d.n_members, sizeof *d.members);
    d.n_admins = CDX_ROSTER_MAX_ADMINS + 1;
    d.admins = calloc(d.n_admins, sizeof *d.admins);
    REQUIRE(d.federation && d.members && d.admins);
    for (size_t i = 0; i < d.n_members; i++) {
        snprintf(d.members[i].id, sizeof d.members[i].id, "m%05zu", d.n_members - i);
        d.members[i].role = CDX_ROLE_STATE;
        memcpy(d.members[i].sign_pk, &i, sizeof i);
    }
    for (size_t i = 0; i < d.n_admins; i++) {
        snprintf(d.admins[i].id, sizeof d.admins[i].id, "a%05zu", d.n_admins - i);
        memcpy(d.admins[i].sign_pk, &i, sizeof i);
        d.admins[i].sign_pk[31] = 7;
    }
    const struct {
        size_t members, admins;
        cdx_err want;
        const char *says;
    } cases[] = {{CDX_ROSTER_MAX_MEMBERS, CDX_ROSTER_MAX_ADMINS, CDX_OK, NULL},
                 {CDX_ROSTER_MAX_MEMBERS + 1, 3, CDX_ERR_TOO_BIG, "at most 4096"},
                 {3, CDX_ROSTER_MAX_ADMINS + 1, CDX_ERR_TOO_BIG, "admins; at most 256"}};
    size_t all_m = d.n_members, all_a = d.n_admins;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        d.n_members = cases[i].members;
        d.n_admins = cases[i].admins;
        cdx_bytes inner = {0}, out = {0};
        REQUIRE(cdx__roster_data_encode(&d, &inner) == CDX_OK);
        REQUIRE(cdx__signed_roster_encode(&inner, NULL, 0, &out) == CDX_OK);
        cdx_roster *r = NULL;
        cdx_errbuf eb = {0};
        CHECK_EQ(cdx_roster_decode(&r, out.data, out.len, &eb), cases[i].want);
        if (cases[i].says)
            CHECK(strstr(eb.msg, cases[i].says) != NULL);
        if (r)
            CHECK_EQ(cdx_roster_member_count(r), cases[i].members);
        cdx_roster_destroy(&r);
        cdx_bytes_free(&inner);
        cdx_bytes_free(&out);
    }
    d.n_members = all_m;
    d.n_admins = all_a;
    cdx__roster_data_clear(&d);
}

/* A roster offered from the bus: what can be refused cheaply is refused
 * before the members are decoded or any signature checked. */
static void test_decode_next_checks_first(void)
{
    cdx_roster *v1 = s_draft(2);
    REQUIRE(cdx_roster_sign(v1, NULL, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_sign(v1, NULL, F.fr, NULL) == CDX_OK);
    cdx_bytes enc = {0};
    cdx_roster *r = NULL;
    cdx_errbuf eb = {0};
    /* v1 again: not newer. */
    REQUIRE(cdx_roster_encode(v1, &enc) == CDX_OK);
    CHECK_EQ(cdx_roster_decode_next(&r, enc.data, enc.len, v1, &eb), CDX_ERR_ROLLBACK);
    cdx_bytes_free(&enc);
    /* v2 with one signature where v1 requires two. */
    cdx_roster *v2 = NULL;
    REQUIRE(cdx_roster_next(&v2, v1, FIXTURE_T0 + 1) == CDX_OK);
    REQUIRE(cdx_roster_sign(v2, v1, F.ee, NULL) == CDX_OK);
    REQUIRE(cdx_roster_encode(v2, &enc) == CDX_OK);
    CHECK_EQ(cdx_roster_decode_next(&r, enc.data, enc.len, v1, &eb), CDX_ERR_THRESHOLD);
    CHECK(strstr(eb.msg, "a roster with 1 signature; v1 in force requires 2") != NULL);
    cdx_bytes_free(&enc);
    /* More signatures than v1 has admins. */
    cdx__rsig many[4];
    memset(many, 0, sizeof many);
    for (int i = 0; i < 4; i++)
        snprintf(many[i].admin_id, sizeof many[i].admin_id, "A%d", i);
    cdx_roster *padded = s_with_signatures(v2, many, 4);
    REQUIRE(cdx_roster_encode(padded, &enc) == CDX_OK);
    CHECK_EQ(cdx_roster_decode_next(&r, enc.data, enc.len, v1, &eb), CDX_ERR_DUPLICATE_SIGNER);
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&padded);
    /* Another federation. */
    cdx_roster *other = NULL;
    REQUIRE(cdx_roster_new(&other, "other-federation", 1, FIXTURE_T0) == CDX_OK);
    cdx_member ee;
    cdx_identity_card(F.ee, &ee);
    REQUIRE(cdx_roster_add_admin(other, "EE", ee.sign_pk, NULL) == CDX_OK);
    cdx_roster *other2 = NULL;
    REQUIRE(cdx_roster_next(&other2, other, FIXTURE_T0) == CDX_OK);
    REQUIRE(cdx_roster_sign(other2, other, F.ee, NULL) == CDX_OK);
    cdx_roster *other3 = s_add_raw_signature(other2, "FR", F.fr);
    REQUIRE(cdx_roster_encode(other3, &enc) == CDX_OK);
    CHECK_EQ(cdx_roster_decode_next(&r, enc.data, enc.len, v1, &eb), CDX_ERR_POLICY);
    CHECK(strstr(eb.msg, "federation other-federation") != NULL);
    cdx_bytes_free(&enc);
    /* Signed right: in. */
    REQUIRE(cdx_roster_sign(v2, v1, F.de, NULL) == CDX_OK);
    REQUIRE(cdx_roster_encode(v2, &enc) == CDX_OK);
    CHECK_EQ(cdx_roster_decode_next(&r, enc.data, enc.len, v1, NULL), CDX_OK);
    CHECK(r != NULL && cdx_roster_version(r) == 2);
    cdx_roster_destroy(&r);
    cdx_bytes_free(&enc);
    cdx_roster_destroy(&other3);
    cdx_roster_destroy(&other2);
    cdx_roster_destroy(&other);
    cdx_roster_destroy(&v2);
    cdx_roster_destroy(&v1);
}

int main(void)
{
    fixture_init(&F);
    test_threshold();
    test_forged_signature_lists();
    test_updates();
    test_members_and_files();
    test_revoked_admin_does_not_sign();
    test_large_roster_refused();
    test_revoke_strips_admin();
    test_admins_and_threshold();
    test_rotation();
    test_overlapping_cards_refused();
    test_limits();
    test_decode_next_checks_first();
    fixture_free(&F);
    return check_done("roster_test");
}
