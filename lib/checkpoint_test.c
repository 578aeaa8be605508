/* Signed checkpoints: what is signed parses and verifies with the owner's
 * key only; a checkpoint is read from exactly one text, so a size written
 * another way (whitespace before it, a sign, a leading zero, past 2^64 - 1)
 * is refused, never taken as the signed one. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/checkpoint.h"
#include "fixture.h"

static fixture F;

static void test_sign_parse_verify(void)
{
    uint8_t root[CDX_HASH_BYTES] = {1, 2, 3};
    const uint64_t sizes[] = {0, 5, UINT64_MAX};
    cdx_member owner, other;
    cdx_identity_card(F.broker, &owner);
    cdx_identity_card(F.beta, &other);
    for (size_t i = 0; i < 3; i++) {
        char *text = NULL;
        REQUIRE(cdx_checkpoint_sign(&text, "cydex/broker.alpha", sizes[i], root, 1764000000,
                                    F.broker) == CDX_OK);
        cdx_checkpoint cp;
        CHECK_EQ(cdx_checkpoint_parse(&cp, text, strlen(text), NULL), CDX_OK);
        CHECK(cp.size == sizes[i]);
        CHECK_EQ(cp.time_s, 1764000000);
        CHECK_EQ(cdx_checkpoint_verify(&cp, owner.sign_pk, NULL), CDX_OK);
        CHECK_EQ(cdx_checkpoint_verify(&cp, other.sign_pk, NULL), CDX_ERR_BAD_SIGNATURE);
        free(text);
    }
}

/* The signed text for size 5 with its size line written as `size`. */
static char *s_with_size(const char *size)
{
    uint8_t root[CDX_HASH_BYTES] = {1, 2, 3};
    char *text = NULL;
    REQUIRE(cdx_checkpoint_sign(&text, "cydex/broker.alpha", 5, root, 1764000000, F.broker) ==
            CDX_OK);
    const char *line = strstr(text, "\n5\n");
    REQUIRE(line != NULL);
    size_t head = (size_t)(line - text) + 1, n = strlen(text) + strlen(size) + 1;
    char *out = malloc(n);
    REQUIRE(out != NULL);
    snprintf(out, n, "%.*s%s%s", (int)head, text, size, line + 2);
    free(text);
    return out;
}

static void test_one_text(void)
{
    static const char *bad[] = {"\t5", " 5", "+5",  "05",  "5 ",
                                "-5",  "",   "5\t", "0x5", "18446744073709551621"};
    cdx_member owner;
    cdx_identity_card(F.broker, &owner);
    char *same = s_with_size("5");
    cdx_checkpoint cp;
    CHECK_EQ(cdx_checkpoint_parse(&cp, same, strlen(same), NULL), CDX_OK);
    CHECK_EQ(cdx_checkpoint_verify(&cp, owner.sign_pk, NULL), CDX_OK);
    free(same);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = s_with_size(bad[i]);
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_checkpoint_parse(&cp, text, strlen(text), &eb);
        CHECK_EQ(rc, CDX_ERR_FORMAT);
        if (rc != CDX_ERR_FORMAT)
            fprintf(stderr, "size \"%s\" was taken\n", bad[i]);
        free(text);
    }
}

int main(void)
{
    fixture_init(&F);
    test_sign_parse_verify();
    test_one_text();
    fixture_free(&F);
    return check_done("checkpoint_test");
}
