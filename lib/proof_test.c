/* Proof files as a third party hands them over: the two forms parse into
 * their parts, and what is not the form is refused with the line named: a
 * second keyword line (a second entry would be one nobody checked), more
 * hashes than any proof has, lines that are neither. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/proof.h"
#include "fixture.h"

static fixture F;

/* A text buffer that grows. */
typedef struct s_text {
    char *s;
    size_t len, cap;
} s_text;

static void s_add(s_text *t, const char *part)
{
    size_t n = strlen(part);
    if (t->len + n + 1 > t->cap) {
        t->cap = 2 * (t->len + n + 1);
        t->s = realloc(t->s, t->cap);
        REQUIRE(t->s != NULL);
    }
    memcpy(t->s + t->len, part, n + 1);
    t->len += n;
}

static void s_add_b64(s_text *t, const char *prefix, const uint8_t *data, size_t len)
{
    char *b = cdx_base64_encode(data, len);
    REQUIRE(b != NULL);
    s_add(t, prefix);
    s_add(t, b);
    s_add(t, "\n");
    free(b);
}

static char *s_checkpoint(void)
{
    uint8_t root[CDX_HASH_BYTES] = {9};
    char *cp = NULL;
    REQUIRE(cdx_checkpoint_sign(&cp, "cydex/broker.alpha", 5, root, 1764000000, F.broker) ==
            CDX_OK);
    return cp;
}

/* header, extra (n_extra times), index, n_hashes hashes, blank, checkpoint */
static void s_inclusion(s_text *t, int n_extra, size_t n_hashes)
{
    static const uint8_t entry[] = {0x0a, 0x03, 'a', 'b', 'c', 0x10, 0x01};
    uint8_t h[CDX_HASH_BYTES];
    s_add(t, CDX_PROOF_INCLUSION_HEADER "\n");
    for (int i = 0; i < n_extra; i++)
        s_add_b64(t, "extra ", entry, sizeof entry - (size_t)i);
    s_add(t, "index 3\n");
    for (size_t i = 0; i < n_hashes; i++) {
        memset(h, (int)(i & 0xff), sizeof h);
        h[0] = (uint8_t)(i >> 8);
        s_add_b64(t, "", h, sizeof h);
    }
    char *cp = s_checkpoint();
    s_add(t, "\n");
    s_add(t, cp);
    free(cp);
}

static void test_inclusion_parts(void)
{
    s_text t = {0};
    s_inclusion(&t, 1, 2);
    cdx_proof p;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_proof_parse(&p, t.s, t.len, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "%s\n%s\n", eb.msg, t.s);
    REQUIRE(rc == CDX_OK);
    CHECK(p.inclusion);
    CHECK_EQ(p.index, 3);
    CHECK_EQ(p.extra.len, 7);
    CHECK_EQ(p.n, 2);
    CHECK_EQ(p.hashes[1][5], 1);
    REQUIRE(p.checkpoint != NULL);
    cdx_checkpoint cp;
    CHECK_EQ(cdx_checkpoint_parse(&cp, p.checkpoint, strlen(p.checkpoint), NULL), CDX_OK);
    CHECK_EQ(cp.size, 5);
    cdx_proof_clear(&p);
    CHECK(p.checkpoint == NULL && p.extra.data == NULL);
    free(t.s);
}

/* Two entries in one proof: the check would hold one and show the other
 * (and the first was lost, unfreed). Refused, naming the line. */
static void test_second_extra(void)
{
    s_text t = {0};
    s_inclusion(&t, 2, 1);
    cdx_proof p;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_proof_parse(&p, t.s, t.len, &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "second \"extra\" line") != NULL);
    CHECK(strstr(eb.msg, "line 3") != NULL);
    CHECK(p.extra.data == NULL && p.checkpoint == NULL);
    free(t.s);
}

/* 128 hashes is the most any proof has (a tree under 2^64 entries); the
 * 129th is refused by name, not read into a buffer that has no room. */
static void test_hash_limit(void)
{
    s_text t = {0};
    s_inclusion(&t, 1, CDX_MERKLE_MAX_PROOF);
    cdx_proof p;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_proof_parse(&p, t.s, t.len, &eb), CDX_OK);
    CHECK_EQ(p.n, CDX_MERKLE_MAX_PROOF);
    cdx_proof_clear(&p);
    free(t.s);
    t = (s_text){0};
    s_inclusion(&t, 1, CDX_MERKLE_MAX_PROOF + 1);
    CHECK_EQ(cdx_proof_parse(&p, t.s, t.len, &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "more than 128 hashes") != NULL);
    CHECK(strstr(eb.msg, "line 132") != NULL); /* header, extra, index, 128 hashes */
    free(t.s);
}

static void test_consistency(void)
{
    uint8_t h[CDX_HASH_BYTES] = {1, 2, 3};
    s_text t = {0};
    s_add(&t, CDX_PROOF_CONSISTENCY_HEADER "\nold 8\nnew 10\n");
    s_add_b64(&t, "", h, sizeof h);
    cdx_proof p;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_proof_parse(&p, t.s, t.len, &eb) == CDX_OK);
    CHECK(!p.inclusion);
    CHECK_EQ(p.old_size, 8);
    CHECK_EQ(p.new_size, 10);
    CHECK_EQ(p.n, 1);
    CHECK_EQ(p.hashes[0][2], 3);
    cdx_proof_clear(&p);
    free(t.s);
}

/* Each is refused with CDX_ERR_FORMAT and a message holding `says`. */
static void test_refused(void)
{
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"", "first line"},
        {"c2sp.org/tlog-proof@v2\nindex 1\n", "first line"},
        {CDX_PROOF_INCLUSION_HEADER "\nindex 1\nindex 2\n\nx", "second \"index\" line"},
        {CDX_PROOF_INCLUSION_HEADER "\nindex one\n\nx", "line 2"},
        {CDX_PROOF_INCLUSION_HEADER "\nextra\n", "line 2"},
        {CDX_PROOF_INCLUSION_HEADER "\nextra !!\nindex 1\n\nx", "line 2"},
        {CDX_PROOF_INCLUSION_HEADER "\nextra AAAA\n\nx", "no \"index\" line"},
        {CDX_PROOF_INCLUSION_HEADER "\nextra AAAA\nindex 1\n", "no checkpoint"},
        {CDX_PROOF_INCLUSION_HEADER "\nindex 1\nAAAA\n\nx", "line 3"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nold 1\nold 2\nnew 3\n", "second \"old\" line"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nold 1\nnew -3\n", "line 3"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nold 1\n", "no \"new\" line"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nnew 2\n", "no \"old\" line"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nold 1\nnew 2\nindex 3\n", "line 4"},
        {CDX_PROOF_CONSISTENCY_HEADER "\nold 1\nnew 2\n\nmore\n", "line 5"},
        {CDX_PROOF_INCLUSION_HEADER "\nindex 1\n\0\n\nx", "NUL"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cdx_proof p;
        cdx_errbuf eb = {0};
        size_t len = strlen(bad[i].text);
        if (strcmp(bad[i].says, "NUL") == 0)
            len += 4; /* past the NUL */
        cdx_err rc = cdx_proof_parse(&p, bad[i].text, len, &eb);
        CHECK_EQ(rc, CDX_ERR_FORMAT);
        if (rc != CDX_ERR_FORMAT || !strstr(eb.msg, bad[i].says))
            fprintf(stderr, "case %zu: \"%s\" (wanted \"%s\")\n", i, eb.msg, bad[i].says);
        CHECK(strstr(eb.msg, bad[i].says) != NULL);
        if (rc == CDX_OK)
            cdx_proof_clear(&p);
    }
}

int main(void)
{
    fixture_init(&F);
    test_inclusion_parts();
    test_second_extra();
    test_hash_limit();
    test_consistency();
    test_refused();
    fixture_free(&F);
    return check_done("proof_test");
}
