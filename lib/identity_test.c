/* Identities: key files that are never overwritten, never readable by
 * others, and signatures separated by purpose. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "fixture.h"

static void test_save_load(void)
{
    char dir[256], secret[300], card[300];
    fixture_tmpdir(dir);
    snprintf(secret, sizeof secret, "%s/EE.secret", dir);
    snprintf(card, sizeof card, "%s/EE.pub", dir);
    cdx_identity *ee = NULL, *back = NULL;
    REQUIRE(cdx_identity_generate(&ee, "EE", CDX_ROLE_STATE) == CDX_OK);
    REQUIRE(cdx_identity_save(ee, dir, NULL) == CDX_OK);
    struct stat st;
    REQUIRE(stat(secret, &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);

    /* Never overwritten, and the original is untouched. */
    cdx_identity *other = NULL;
    REQUIRE(cdx_identity_generate(&other, "EE", CDX_ROLE_STATE) == CDX_OK);
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_identity_save(other, dir, &eb), CDX_ERR_EXISTS);
    CHECK(strstr(eb.msg, "refusing to overwrite") != NULL);
    cdx_identity_destroy(&other);

    REQUIRE(cdx_identity_load(&back, secret, NULL) == CDX_OK);
    CHECK_STR(cdx_identity_id(back), "EE");
    CHECK_EQ(cdx_identity_role(back), CDX_ROLE_STATE);
    cdx_member a, b, c;
    cdx_identity_card(ee, &a);
    cdx_identity_card(back, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    REQUIRE(cdx_member_card_load(&c, card, NULL) == CDX_OK);
    CHECK(memcmp(&a, &c, sizeof a) == 0);
    uint8_t sig[CDX_SIG_BYTES];
    const uint8_t msg[] = "hello";
    REQUIRE(cdx_identity_sign(back, "envelope", msg, 5, sig) == CDX_OK);
    CHECK_EQ(cdx_signature_verify(c.sign_pk, "envelope", msg, 5, sig), CDX_OK);
    /* Domain separation: the same bytes signed for another purpose. */
    CHECK_EQ(cdx_signature_verify(c.sign_pk, "roster", msg, 5, sig), CDX_ERR_BAD_SIGNATURE);
    CHECK_EQ(cdx_signature_verify(c.sign_pk, "envelope", msg, 4, sig), CDX_ERR_BAD_SIGNATURE);
    cdx_identity_destroy(&back);

    /* Readable by group or others: refused with advice, for every such bit. */
    const unsigned modes[] = {0640, 0604, 0644, 0660, 0606, 0700 | 0040};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        REQUIRE(chmod(secret, modes[i]) == 0);
        CHECK_EQ(cdx_identity_load(&back, secret, &eb), CDX_ERR_KEY_PERMS);
        CHECK(back == NULL);
    }
    CHECK(strstr(eb.msg, "chmod 600") != NULL);
    REQUIRE(chmod(secret, 0400) == 0);
    CHECK_EQ(cdx_identity_load(&back, secret, NULL), CDX_OK);
    cdx_identity_destroy(&back);
    cdx_identity_destroy(&ee);

    /* Not a key file; missing; truncated. */
    CHECK_EQ(cdx_identity_load(&back, card, &eb), CDX_ERR_KEY_PERMS); /* 0644 card */
    REQUIRE(chmod(card, 0600) == 0);
    CHECK_EQ(cdx_identity_load(&back, card, &eb), CDX_ERR_FORMAT);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nobody.secret", dir);
    CHECK_EQ(cdx_identity_load(&back, missing, &eb), CDX_ERR_NOENT);
    REQUIRE(chmod(secret, 0600) == 0);
    REQUIRE(truncate(secret, 40) == 0);
    CHECK_EQ(cdx_identity_load(&back, secret, &eb), CDX_ERR_FORMAT);
    fixture_rmtree(dir);
}

static void test_seed_and_validity(void)
{
    uint8_t seed[32] = {42};
    cdx_identity *a = NULL, *b = NULL;
    REQUIRE(cdx_identity_from_seed(&a, "FR", CDX_ROLE_STATE, seed) == CDX_OK);
    REQUIRE(cdx_identity_from_seed(&b, "FR", CDX_ROLE_STATE, seed) == CDX_OK);
    cdx_member ca, cb;
    cdx_identity_card(a, &ca);
    cdx_identity_card(b, &cb);
    CHECK(memcmp(&ca, &cb, sizeof ca) == 0);
    /* The three keys differ from one another. */
    CHECK(memcmp(ca.sign_pk, ca.seal_pk, 32) != 0 && memcmp(ca.seal_pk, ca.curve_pk, 32) != 0);
    cdx_identity_destroy(&a);
    cdx_identity_destroy(&b);
    CHECK(a == NULL);
    cdx_identity_destroy(NULL);
    CHECK_EQ(cdx_identity_generate(&a, "bad id", CDX_ROLE_STATE), CDX_ERR_INVALID);
    CHECK_EQ(cdx_identity_generate(&a, "EE", CDX_ROLE_UNSPECIFIED), CDX_ERR_INVALID);

    cdx_member m = {.valid_from_ms = 100, .valid_until_ms = 200, .revoked_at_ms = 150};
    CHECK_EQ(cdx_member_key_valid_at(&m, 99), CDX_ERR_KEY_NOT_VALID);
    CHECK_EQ(cdx_member_key_valid_at(&m, 100), CDX_OK);
    CHECK_EQ(cdx_member_key_valid_at(&m, 149), CDX_OK);
    CHECK_EQ(cdx_member_key_valid_at(&m, 150), CDX_ERR_KEY_REVOKED);
    m.revoked_at_ms = 0;
    CHECK_EQ(cdx_member_key_valid_at(&m, 199), CDX_OK);
    CHECK_EQ(cdx_member_key_valid_at(&m, 200), CDX_ERR_KEY_NOT_VALID);

    cdx_role r;
    CHECK_EQ(cdx_role_parse("broker", &r), CDX_OK);
    CHECK_EQ(r, CDX_ROLE_BROKER);
    CHECK_EQ(cdx_role_parse("king", &r), CDX_ERR_FORMAT);
    CHECK(cdx_id_valid("broker.alpha") && cdx_id_valid("EE") && !cdx_id_valid("") &&
          !cdx_id_valid(".hidden") && !cdx_id_valid("a/b"));
}

/* A key file written by hand from docs/file-formats.md, as another
 * implementation would write it, loads and yields the documented keys. */
static void test_documented_layout(void)
{
    REQUIRE(sodium_init() >= 0);
    char dir[256], path[300];
    fixture_tmpdir(dir);
    snprintf(path, sizeof path, "%s/FR.secret", dir);
    uint8_t file[8 + 2 + 2 + 96];
    memcpy(file, "CDXKEY1\n", 8);
    file[8] = 1; /* ROLE_STATE */
    file[9] = 2;
    memcpy(file + 10, "FR", 2);
    for (size_t i = 0; i < 96; i++)
        file[12 + i] = (uint8_t)(i * 7 + 1);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    REQUIRE(fd >= 0 && write(fd, file, sizeof file) == (ssize_t)sizeof file);
    close(fd);
    cdx_identity *fr = NULL;
    REQUIRE(cdx_identity_load(&fr, path, NULL) == CDX_OK);
    CHECK_STR(cdx_identity_id(fr), "FR");
    CHECK_EQ(cdx_identity_role(fr), CDX_ROLE_STATE);
    uint8_t pk[32], sk[64], seal_pk[32], curve_pk[32];
    crypto_sign_seed_keypair(pk, sk, file + 12);
    crypto_scalarmult_base(seal_pk, file + 44);
    crypto_scalarmult_base(curve_pk, file + 76);
    cdx_member card;
    cdx_identity_card(fr, &card);
    CHECK(memcmp(card.sign_pk, pk, 32) == 0);
    CHECK(memcmp(card.seal_pk, seal_pk, 32) == 0);
    CHECK(memcmp(card.curve_pk, curve_pk, 32) == 0);
    cdx_identity_destroy(&fr);
    /* One byte more, or a readable mode, and it is no key file. */
    fd = open(path, O_WRONLY | O_APPEND);
    REQUIRE(fd >= 0 && write(fd, "x", 1) == 1);
    close(fd);
    CHECK_EQ(cdx_identity_load(&fr, path, NULL), CDX_ERR_FORMAT);
    REQUIRE(chmod(path, 0640) == 0);
    CHECK_EQ(cdx_identity_load(&fr, path, NULL), CDX_ERR_KEY_PERMS);
    fixture_rmtree(dir);
}

int main(void)
{
    test_save_load();
    test_documented_layout();
    test_seed_and_validity();
    return check_done("identity_test");
}
