/* RFC 9162 Merkle trees: hashing, proofs, and their verification.
 *
 * Leaf hash  = SHA-256(0x00 || leaf input); node hash = SHA-256(0x01 || left
 * || right); the root of the empty tree is SHA-256(""). Proofs are PATH and
 * PROOF of RFC 9162 sections 2.1.3 and 2.1.4, hashes listed from the leaf
 * (or the smaller tree) upward.
 *
 * Generation reads the tree through a cdx_merkle_source: a function that
 * returns the hash of the perfect subtree at (level, index), i.e. of leaves
 * [index * 2^level, (index + 1) * 2^level). A root, an inclusion proof or a
 * consistency proof costs O(log n) such reads. Verification needs only the
 * hashes. All functions are pure and thread-safe.
 */
#ifndef CYDEX_MERKLE_H
#define CYDEX_MERKLE_H

#include "cydex/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_MERKLE_MAX_PROOF 128u /* hashes in any proof of a tree < 2^64 */

typedef struct cdx_merkle_source {
    /* Fills out with the hash of perfect subtree (level, index); returns
     * CDX_OK, or an error that the caller passes on. */
    cdx_err (*node)(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES]);
    void *ctx;
} cdx_merkle_source;

void cdx_merkle_leaf_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t *data, size_t len);
void cdx_merkle_node_hash(uint8_t out[CDX_HASH_BYTES], const uint8_t left[CDX_HASH_BYTES],
                          const uint8_t right[CDX_HASH_BYTES]);

/* Root of the first `size` leaves. */
cdx_err cdx_merkle_root(const cdx_merkle_source *src, uint64_t size, uint8_t root[CDX_HASH_BYTES]);

/* Inclusion proof of leaf `index` in the tree of `size` leaves.
 * path must hold CDX_MERKLE_MAX_PROOF hashes; *n receives the count. */
cdx_err cdx_merkle_inclusion_proof(const cdx_merkle_source *src, uint64_t index, uint64_t size,
                                   uint8_t (*path)[CDX_HASH_BYTES], size_t *n);

/* Consistency proof from the tree of `old_size` leaves to `new_size`. */
cdx_err cdx_merkle_consistency_proof(const cdx_merkle_source *src, uint64_t old_size,
                                     uint64_t new_size, uint8_t (*proof)[CDX_HASH_BYTES],
                                     size_t *n);

/* CDX_OK when the path proves leaf_hash at index in the tree with root;
 * CDX_ERR_BAD_SIGNATURE (the proof does not hold) otherwise. */
cdx_err cdx_merkle_verify_inclusion(const uint8_t leaf_hash[CDX_HASH_BYTES], uint64_t index,
                                    uint64_t size, const uint8_t (*path)[CDX_HASH_BYTES], size_t n,
                                    const uint8_t root[CDX_HASH_BYTES]);

/* CDX_OK when the proof shows that old_root (old_size leaves) is a prefix
 * of new_root (new_size leaves). */
cdx_err cdx_merkle_verify_consistency(uint64_t old_size, uint64_t new_size,
                                      const uint8_t old_root[CDX_HASH_BYTES],
                                      const uint8_t new_root[CDX_HASH_BYTES],
                                      const uint8_t (*proof)[CDX_HASH_BYTES], size_t n);

/* An in-memory frontier of the tree (the perfect subtrees along its right
 * edge): enough to append leaves and take the root at any size, in O(log n)
 * memory. Used to rebuild a tree from its leaves (audits). */
typedef struct cdx_merkle_frontier {
    uint64_t size;
    unsigned depth;
    unsigned level[64];
    uint8_t hash[64][CDX_HASH_BYTES];
} cdx_merkle_frontier;

void cdx_merkle_frontier_init(cdx_merkle_frontier *f);

/* Appends a leaf hash. For each perfect subtree completed by it (the leaf
 * itself included), calls made(ctx, level, index, hash) if made is not NULL;
 * a non-OK return stops and is passed on. */
cdx_err cdx_merkle_frontier_add(cdx_merkle_frontier *f, const uint8_t leaf[CDX_HASH_BYTES],
                                cdx_err (*made)(void *ctx, unsigned level, uint64_t index,
                                                const uint8_t hash[CDX_HASH_BYTES]),
                                void *ctx);

/* Root of the leaves added so far. */
void cdx_merkle_frontier_root(const cdx_merkle_frontier *f, uint8_t root[CDX_HASH_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
