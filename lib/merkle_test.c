/* RFC 9162 Merkle trees: the published vectors (tests/vectors/
 * rfc9162-merkle.json, trees of up to 8 leaves), and every proof of every
 * tree up to 70 leaves against a naive recursive implementation written
 * here from the RFC's definitions, independent of lib/merkle.c. */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cydex/merkle.h"

#define MAXN 70

/* ---- the naive reference: MTH, PATH and PROOF straight from RFC 9162 ---- */

static uint8_t s_leaf[MAXN][32];

static void s_h(uint8_t out[32], uint8_t prefix, const uint8_t *a, size_t al, const uint8_t *b,
                size_t bl)
{
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    crypto_hash_sha256_update(&st, a, al);
    if (b)
        crypto_hash_sha256_update(&st, b, bl);
    crypto_hash_sha256_final(&st, out);
}

static uint64_t s_k(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

static void s_mth(uint8_t out[32], uint64_t a, uint64_t b)
{
    if (b - a == 1) {
        memcpy(out, s_leaf[a], 32);
        return;
    }
    uint64_t k = s_k(b - a);
    uint8_t l[32], r[32];
    s_mth(l, a, a + k);
    s_mth(r, a + k, b);
    s_h(out, 1, l, 32, r, 32);
}

static void s_ref_path(uint64_t m, uint64_t a, uint64_t b, uint8_t (*out)[32], size_t *n)
{
    if (b - a == 1)
        return;
    uint64_t k = s_k(b - a);
    if (m < a + k) {
        s_ref_path(m, a, a + k, out, n);
        s_mth(out[(*n)++], a + k, b);
    } else {
        s_ref_path(m, a + k, b, out, n);
        s_mth(out[(*n)++], a, a + k);
    }
}

static void s_ref_sub(uint64_t m, uint64_t a, uint64_t b, bool whole, uint8_t (*out)[32], size_t *n)
{
    if (m == b - a) {
        if (!whole)
            s_mth(out[(*n)++], a, b);
        return;
    }
    uint64_t k = s_k(b - a);
    if (m <= k) {
        s_ref_sub(m, a, a + k, whole, out, n);
        s_mth(out[(*n)++], a + k, b);
    } else {
        s_ref_sub(m - k, a + k, b, false, out, n);
        s_mth(out[(*n)++], a, a + k);
    }
}

/* ---- a node store filled through the library's frontier ---- */

static uint8_t s_node[8][MAXN][32];

static cdx_err s_store(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
    (void)ctx;
    memcpy(s_node[level][index], hash, 32);
    return CDX_OK;
}

static cdx_err s_get(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)ctx;
    memcpy(out, s_node[level][index], 32);
    return CDX_OK;
}

static const cdx_merkle_source s_src = {s_get, NULL};

static void s_build(size_t n, bool from_inputs, json_t *inputs)
{
    cdx_merkle_frontier f;
    cdx_merkle_frontier_init(&f);
    for (size_t i = 0; i < n; i++) {
        if (from_inputs) {
            const char *hex = json_string_value(json_array_get(inputs, i));
            uint8_t buf[64];
            size_t len = strlen(hex) / 2;
            REQUIRE(len == 0 || cdx_hex_decode(buf, len, hex) == CDX_OK);
            cdx_merkle_leaf_hash(s_leaf[i], buf, len);
        } else {
            uint8_t data[8] = {(uint8_t)i, (uint8_t)(i >> 8), 0xcd};
            cdx_merkle_leaf_hash(s_leaf[i], data, sizeof data);
        }
        REQUIRE(cdx_merkle_frontier_add(&f, s_leaf[i], s_store, NULL) == CDX_OK);
    }
}

static void s_hex32(uint8_t out[32], json_t *v)
{
    REQUIRE(cdx_hex_decode(out, 32, json_string_value(v)) == CDX_OK);
}

static void test_vectors(void)
{
    json_error_t err;
    json_t *doc = json_load_file(CDX_VECTORS "/rfc9162-merkle.json", 0, &err);
    REQUIRE(doc != NULL);
    json_t *inputs = json_object_get(doc, "leaf_inputs");
    s_build(json_array_size(inputs), true, inputs);
    const char *key;
    json_t *v;
    size_t roots = 0, incl = 0, cons = 0;
    json_object_foreach(json_object_get(doc, "roots"), key, v)
    {
        uint64_t size = strtoull(key, NULL, 10);
        uint8_t want[32], got[32];
        s_hex32(want, v);
        REQUIRE(cdx_merkle_root(&s_src, size, got) == CDX_OK);
        CHECK(memcmp(want, got, 32) == 0);
        cdx_merkle_frontier f;
        cdx_merkle_frontier_init(&f);
        for (uint64_t i = 0; i < size; i++)
            cdx_merkle_frontier_add(&f, s_leaf[i], NULL, NULL);
        cdx_merkle_frontier_root(&f, got);
        CHECK(memcmp(want, got, 32) == 0);
        roots++;
    }
    size_t i;
    json_array_foreach(json_object_get(doc, "inclusion"), i, v)
    {
        uint64_t index = (uint64_t)json_integer_value(json_object_get(v, "index"));
        uint64_t size = (uint64_t)json_integer_value(json_object_get(v, "tree_size"));
        json_t *path = json_object_get(v, "path");
        uint8_t got[CDX_MERKLE_MAX_PROOF][32], want[32], root[32], leaf[32];
        size_t n;
        REQUIRE(cdx_merkle_inclusion_proof(&s_src, index, size, got, &n) == CDX_OK);
        CHECK_EQ(n, json_array_size(path));
        for (size_t j = 0; j < n && j < json_array_size(path); j++) {
            s_hex32(want, json_array_get(path, j));
            CHECK(memcmp(want, got[j], 32) == 0);
        }
        s_hex32(leaf, json_object_get(v, "leaf_hash"));
        char sz[24];
        snprintf(sz, sizeof sz, "%llu", (unsigned long long)size);
        s_hex32(root, json_object_get(json_object_get(doc, "roots"), sz));
        CHECK_EQ(cdx_merkle_verify_inclusion(leaf, index, size, (const uint8_t(*)[32])got, n, root),
                 CDX_OK);
        incl++;
    }
    json_array_foreach(json_object_get(doc, "consistency"), i, v)
    {
        uint64_t m = (uint64_t)json_integer_value(json_object_get(v, "first"));
        uint64_t n2 = (uint64_t)json_integer_value(json_object_get(v, "second"));
        json_t *proof = json_object_get(v, "proof");
        uint8_t got[CDX_MERKLE_MAX_PROOF][32], want[32], r1[32], r2[32];
        size_t n;
        REQUIRE(cdx_merkle_consistency_proof(&s_src, m, n2, got, &n) == CDX_OK);
        CHECK_EQ(n, json_array_size(proof));
        for (size_t j = 0; j < n && j < json_array_size(proof); j++) {
            s_hex32(want, json_array_get(proof, j));
            CHECK(memcmp(want, got[j], 32) == 0);
        }
        cdx_merkle_root(&s_src, m, r1);
        cdx_merkle_root(&s_src, n2, r2);
        CHECK_EQ(cdx_merkle_verify_consistency(m, n2, r1, r2, (const uint8_t(*)[32])got, n),
                 CDX_OK);
        cons++;
    }
    CHECK_EQ(roots, 9);
    CHECK(incl >= 30 && cons >= 30);
    json_decref(doc);
}

static void test_exhaustive(void)
{
    s_build(MAXN, false, NULL);
    size_t bad_incl = 0, bad_cons = 0, forged = 0;
    for (uint64_t size = 1; size <= MAXN; size++) {
        uint8_t root[32], ref[32];
        REQUIRE(cdx_merkle_root(&s_src, size, root) == CDX_OK);
        s_mth(ref, 0, size);
        CHECK(memcmp(root, ref, 32) == 0);
        for (uint64_t m = 0; m < size; m++) {
            uint8_t got[CDX_MERKLE_MAX_PROOF][32], want[CDX_MERKLE_MAX_PROOF][32];
            size_t n = 0, rn = 0;
            cdx_merkle_inclusion_proof(&s_src, m, size, got, &n);
            s_ref_path(m, 0, size, want, &rn);
            if (n != rn || memcmp(got, want, n * 32) != 0 ||
                cdx_merkle_verify_inclusion(s_leaf[m], m, size, (const uint8_t(*)[32])got, n,
                                            root) != CDX_OK)
                bad_incl++;
            /* The same proof must not hold for another leaf or index. */
            if (cdx_merkle_verify_inclusion(s_leaf[(m + 1) % size], m, size,
                                            (const uint8_t(*)[32])got, n, root) == CDX_OK &&
                size > 1)
                forged++;
            if (n && (got[n - 1][0] ^= 1,
                      cdx_merkle_verify_inclusion(s_leaf[m], m, size, (const uint8_t(*)[32])got, n,
                                                  root) == CDX_OK))
                forged++;
        }
        for (uint64_t m = 1; m <= size; m++) {
            uint8_t got[CDX_MERKLE_MAX_PROOF][32], want[CDX_MERKLE_MAX_PROOF][32], old[32];
            size_t n = 0, rn = 0;
            cdx_merkle_consistency_proof(&s_src, m, size, got, &n);
            if (m < size)
                s_ref_sub(m, 0, size, true, want, &rn);
            s_mth(old, 0, m);
            if (n != rn || memcmp(got, want, n * 32) != 0 ||
                cdx_merkle_verify_consistency(m, size, old, root, (const uint8_t(*)[32])got, n) !=
                    CDX_OK)
                bad_cons++;
            if (m < size) {
                old[5] ^= 1; /* a different old root is not consistent */
                if (cdx_merkle_verify_consistency(m, size, old, root, (const uint8_t(*)[32])got,
                                                  n) == CDX_OK)
                    forged++;
            }
        }
    }
    CHECK_EQ(bad_incl, 0);
    CHECK_EQ(bad_cons, 0);
    CHECK_EQ(forged, 0);
    uint8_t p[1][32], r[32];
    size_t n;
    CHECK_EQ(cdx_merkle_inclusion_proof(&s_src, 5, 5, p, &n), CDX_ERR_INVALID);
    CHECK_EQ(cdx_merkle_verify_inclusion(s_leaf[0], 3, 2, NULL, 0, r), CDX_ERR_BAD_SIGNATURE);
}

/* A source that holds only the first 8 leaves, as a damaged log's tree
 * would hold less than its claimed size. */
static unsigned s_reads;

static cdx_err s_small(void *ctx, unsigned level, uint64_t index, uint8_t out[32])
{
    (void)ctx;
    s_reads++;
    if (level > 3 || ((index + 1) << level) > 8)
        return CDX_ERR_CORRUPT;
    memset(out, (int)(level * 16 + index), 32);
    return CDX_OK;
}

/* Sizes past 2^63 (a log whose last key was altered claims one): roots
 * and proofs end, with the source's error, after O(log n) reads; they
 * used to look for the split of the tree forever. */
static void test_huge_sizes(void)
{
    cdx_merkle_source src = {s_small, NULL};
    const uint64_t sizes[] = {(1ull << 63) + 1, (1ull << 63) + 5, UINT64_MAX, 1ull << 63};
    uint8_t root[32], proof[CDX_MERKLE_MAX_PROOF][32];
    size_t n;
    alarm(60); /* a loop that never ends fails here, not at ctest's timeout */
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        s_reads = 0;
        CHECK_EQ(cdx_merkle_root(&src, sizes[i], root), CDX_ERR_CORRUPT);
        CHECK(s_reads <= 128);
        CHECK_EQ(cdx_merkle_inclusion_proof(&src, sizes[i] - 1, sizes[i], proof, &n),
                 CDX_ERR_CORRUPT);
        CHECK_EQ(cdx_merkle_inclusion_proof(&src, 3, sizes[i], proof, &n), CDX_ERR_CORRUPT);
        CHECK_EQ(cdx_merkle_consistency_proof(&src, 5, sizes[i], proof, &n), CDX_ERR_CORRUPT);
    }
    alarm(0);
}

int main(void)
{
    if (sodium_init() < 0)
        return 2;
    test_vectors();
    test_exhaustive();
    test_huge_sizes();
    return check_done("merkle_test");
}
