/* RFC 9162 Merkle tree hashing, proof generation and verification.
 *
 * The tree of n leaves is split, as RFC 9162 does, at k = the largest power
 * of two smaller than n; every range that arises starts at a multiple of its
 * split size, so its left part is always a perfect subtree the source can
 * give in one read. Only ranges on the right edge need folding, which keeps
 * roots and proofs at O(log n) reads.
 */
#include <string.h>

#include "cydex/merkle.h"
#include "internal.h"

void cdx_merkle_leaf_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t *data, size_t len)
{
    static const uint8_t zero = 0x00;
    cdx__sha256(out, &zero, 1, data, len, NULL, 0);
}

void cdx_merkle_node_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t left[CDX_HASH_BYTES],
                          const uint8_t right[CDX_HASH_BYTES])
{
    uint8_t one = 0x01, buf[2 * CDX_HASH_BYTES];
    memcpy(buf, left, CDX_HASH_BYTES);
    memcpy(buf + CDX_HASH_BYTES, right, CDX_HASH_BYTES);
    cdx__sha256(out, &one, 1, buf, sizeof buf, NULL, 0);
}

/* Largest power of two strictly smaller than n (n >= 2); for n past 2^63
 * that is 2^63 (doubling k until 2k >= n would wrap to 0 and never end). */
static uint64_t s_split(uint64_t n)
{
    uint64_t k = 1;
    while (k <= (n - 1) / 2)
        k <<= 1;
    return k;
}

static bool s_pow2(uint64_t n)
{
    return n && !(n & (n - 1));
}

static unsigned s_log2(uint64_t n)
{
    unsigned l = 0;
    while (n >>= 1)
        l++;
    return l;
}

/* MTH(D[a:b]) for a range of the tree's own shape (a aligned). */
static cdx_err s_mth(const cdx_merkle_source *src, uint64_t a, uint64_t b,
                     uint8_t out[CDX_HASH_BYTES])
{
    uint64_t n = b - a;
    if (s_pow2(n)) {
        unsigned level = s_log2(n);
        return src->node(src->ctx, level, a >> level, out);
    }
    uint64_t k = s_split(n);
    uint8_t left[CDX_HASH_BYTES], right[CDX_HASH_BYTES];
    cdx_err rc = src->node(src->ctx, s_log2(k), a >> s_log2(k), left);
    if (rc == CDX_OK)
        rc = s_mth(src, a + k, b, right);
    if (rc == CDX_OK)
        cdx_merkle_node_hash(out, left, right);
    return rc;
}

cdx_err cdx_merkle_root(const cdx_merkle_source *src, uint64_t size, uint8_t root[CDX_HASH_BYTES])
{
    if (size == 0) {
        cdx__sha256(root, NULL, 0, NULL, 0, NULL, 0);
        return CDX_OK;
    }
    return s_mth(src, 0, size, root);
}

/* PATH(m, D[a:b]), appended leaf-first. */
static cdx_err s_path(const cdx_merkle_source *src, uint64_t m, uint64_t a, uint64_t b,
                      uint8_t (*path)[CDX_HASH_BYTES], size_t *n)
{
    if (b - a <= 1)
        return CDX_OK;
    uint64_t k = s_split(b - a);
    cdx_err rc;
    if (m < a + k) {
        rc = s_path(src, m, a, a + k, path, n);
        if (rc == CDX_OK)
            rc = s_mth(src, a + k, b, path[*n]);
    } else {
        rc = s_path(src, m, a + k, b, path, n);
        if (rc == CDX_OK)
            rc = s_mth(src, a, a + k, path[*n]);
    }
    if (rc == CDX_OK)
        (*n)++;
    return rc;
}

cdx_err cdx_merkle_inclusion_proof(const cdx_merkle_source *src, uint64_t index, uint64_t size,
                                   uint8_t (*path)[CDX_HASH_BYTES], size_t *n)
{
    *n = 0;
    if (index >= size)
        return CDX_ERR_INVALID;
    return s_path(src, index, 0, size, path, n);
}

/* SUBPROOF(m, D[a:b], b_flag). */
static cdx_err s_subproof(const cdx_merkle_source *src, uint64_t m, uint64_t a, uint64_t b,
                          bool whole, uint8_t (*proof)[CDX_HASH_BYTES], size_t *n)
{
    if (m == b - a) {
        if (whole)
            return CDX_OK;
        cdx_err rc = s_mth(src, a, b, proof[*n]);
        if (rc == CDX_OK)
            (*n)++;
        return rc;
    }
    uint64_t k = s_split(b - a);
    cdx_err rc;
    if (m <= k) {
        rc = s_subproof(src, m, a, a + k, whole, proof, n);
        if (rc == CDX_OK)
            rc = s_mth(src, a + k, b, proof[*n]);
    } else {
        rc = s_subproof(src, m - k, a + k, b, false, proof, n);
        if (rc == CDX_OK)
            rc = s_mth(src, a, a + k, proof[*n]);
    }
    if (rc == CDX_OK)
        (*n)++;
    return rc;
}

cdx_err cdx_merkle_consistency_proof(const cdx_merkle_source *src, uint64_t old_size,
                                     uint64_t new_size, uint8_t (*proof)[CDX_HASH_BYTES], size_t *n)
{
    *n = 0;
    if (old_size > new_size)
        return CDX_ERR_INVALID;
    if (old_size == 0 || old_size == new_size)
        return CDX_OK;
    return s_subproof(src, old_size, 0, new_size, true, proof, n);
}

cdx_err cdx_merkle_verify_inclusion(const uint8_t leaf_hash[CDX_HASH_BYTES], uint64_t index,
                                    uint64_t size, const uint8_t (*path)[CDX_HASH_BYTES], size_t n,
                                    const uint8_t root[CDX_HASH_BYTES])
{
    if (index >= size)
        return CDX_ERR_BAD_SIGNATURE;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[CDX_HASH_BYTES];
    memcpy(r, leaf_hash, CDX_HASH_BYTES);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0)
            return CDX_ERR_BAD_SIGNATURE;
        if ((fn & 1) || fn == sn) {
            cdx_merkle_node_hash(r, path[i], r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cdx_merkle_node_hash(r, r, path[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(r, root, CDX_HASH_BYTES) == 0 ? CDX_OK : CDX_ERR_BAD_SIGNATURE;
}

cdx_err cdx_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                      const uint8_t old_root[CDX_HASH_BYTES],
                                      const uint8_t new_root[CDX_HASH_BYTES],
                                      const uint8_t (*proof)[CDX_HASH_BYTES], size_t n)
{
    if (old_size > new_size)
        return CDX_ERR_BAD_SIGNATURE;
    if (old_size == new_size)
        return n == 0 && memcmp(old_root, new_root, CDX_HASH_BYTES) == 0 ? CDX_OK
                                                                         : CDX_ERR_BAD_SIGNATURE;
    if (old_size == 0)
        return n == 0 ? CDX_OK : CDX_ERR_BAD_SIGNATURE;
    if (n == 0 || n >= CDX_MERKLE_MAX_PROOF)
        return CDX_ERR_BAD_SIGNATURE;
    /* With a power-of-two old tree, its root is the proof's implicit first hash. */
    const uint8_t *first = s_pow2(old_size) ? old_root : proof[0];
    size_t start = s_pow2(old_size) ? 0 : 1;
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[CDX_HASH_BYTES], sr[CDX_HASH_BYTES];
    memcpy(fr, first, CDX_HASH_BYTES);
    memcpy(sr, first, CDX_HASH_BYTES);
    for (size_t i = start; i < n; i++) {
        if (sn == 0)
            return CDX_ERR_BAD_SIGNATURE;
        if ((fn & 1) || fn == sn) {
            cdx_merkle_node_hash(fr, proof[i], fr);
            cdx_merkle_node_hash(sr, proof[i], sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            cdx_merkle_node_hash(sr, sr, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && memcmp(fr, old_root, CDX_HASH_BYTES) == 0 &&
                   memcmp(sr, new_root, CDX_HASH_BYTES) == 0
               ? CDX_OK
               : CDX_ERR_BAD_SIGNATURE;
}

void cdx_merkle_frontier_init(cdx_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

cdx_err cdx_merkle_frontier_add(cdx_merkle_frontier *f, const uint8_t leaf[CDX_HASH_BYTES],
                                cdx_err (*made)(void *ctx, unsigned level, uint64_t index,
                                                const uint8_t hash[CDX_HASH_BYTES]),
                                void *ctx)
{
    uint64_t index = f->size;
    unsigned level = 0;
    uint8_t h[CDX_HASH_BYTES];
    memcpy(h, leaf, CDX_HASH_BYTES);
    cdx_err rc = made ? made(ctx, 0, index, h) : CDX_OK;
    /* Merge while the new subtree completes its left neighbour's parent. */
    while (rc == CDX_OK && f->depth > 0 && f->level[f->depth - 1] == level) {
        cdx_merkle_node_hash(h, f->hash[f->depth - 1], h);
        f->depth--;
        level++;
        index >>= 1;
        if (made)
            rc = made(ctx, level, index, h);
    }
    if (rc != CDX_OK)
        return rc;
    f->level[f->depth] = level;
    memcpy(f->hash[f->depth], h, CDX_HASH_BYTES);
    f->depth++;
    f->size++;
    return CDX_OK;
}

void cdx_merkle_frontier_root(const cdx_merkle_frontier *f, uint8_t root[CDX_HASH_BYTES])
{
    if (f->depth == 0) {
        cdx__sha256(root, NULL, 0, NULL, 0, NULL, 0);
        return;
    }
    memcpy(root, f->hash[f->depth - 1], CDX_HASH_BYTES);
    for (unsigned i = f->depth - 1; i-- > 0;)
        cdx_merkle_node_hash(root, f->hash[i], root);
}
