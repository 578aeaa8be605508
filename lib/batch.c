/* Batch signatures (proto BatchAuth, DESIGN.md section 8): a signer signs
 * one RFC 9162 root over a run of its envelopes' hashes; each envelope
 * carries its inclusion path, so it stays provable alone while a run costs
 * one Ed25519 signature, and its receivers one verification (with a cache
 * of the roots they verified).
 *
 * Invariants: a root signature is taken from the cache only if the very
 * same key, root, size and signature bytes verified before, so a cache hit
 * accepts exactly what a verification would; the leaf is the envelope hash
 * (BLAKE2b-256 of the body), so a path proves the body, byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "cydex/merkle.h"
#include "internal.h"

#define S_CACHE_SLOTS 8u

struct cdx_batch_cache {
    struct {
        bool used;
        uint8_t pk[CDX_PK_BYTES];
        uint8_t root[CDX_HASH_BYTES];
        uint8_t sig[CDX_SIG_BYTES];
        uint64_t size;
    } slot[S_CACHE_SLOTS];
    unsigned next; /* the slot a new entry takes (round robin) */
};

cdx_batch_cache *cdx_batch_cache_new(void)
{
    return calloc(1, sizeof(cdx_batch_cache));
}

void cdx_batch_cache_destroy(cdx_batch_cache **cache)
{
    if (cache) {
        free(*cache);
        *cache = NULL;
    }
}

/* What a root signature covers: "CyDEx-v1 batch" 0x00 || root || size
 * (8 bytes, big-endian). Returns its length. */
#define S_MESSAGE_MAX (CDX__PREFIX_MAX + CDX_HASH_BYTES + 8)
static size_t s_message(uint8_t out[S_MESSAGE_MAX], const uint8_t root[CDX_HASH_BYTES],
                        uint64_t size)
{
    size_t p = cdx__domain_prefix(out, "batch");
    memcpy(out + p, root, CDX_HASH_BYTES);
    cdx__put_be64(out + p + CDX_HASH_BYTES, size);
    return p + CDX_HASH_BYTES + 8;
}

static bool s_cached(const cdx_batch_cache *c, const cdx__batch_auth *ba,
                     const uint8_t pk[CDX_PK_BYTES])
{
    for (unsigned i = 0; c && i < S_CACHE_SLOTS; i++)
        if (c->slot[i].used && c->slot[i].size == ba->size &&
            memcmp(c->slot[i].root, ba->root, CDX_HASH_BYTES) == 0 &&
            memcmp(c->slot[i].pk, pk, CDX_PK_BYTES) == 0 &&
            memcmp(c->slot[i].sig, ba->root_signature, CDX_SIG_BYTES) == 0)
            return true;
    return false;
}

cdx_err cdx__batch_check(const cdx__batch_auth *ba, const uint8_t pk[CDX_PK_BYTES],
                         const uint8_t hash[CDX_HASH_BYTES], cdx_batch_cache *cache)
{
    uint8_t leaf[CDX_HASH_BYTES];
    cdx_merkle_leaf_hash(leaf, hash, CDX_HASH_BYTES);
    if (cdx_merkle_verify_inclusion(leaf, ba->index, ba->size,
                                    (const uint8_t(*)[CDX_HASH_BYTES])ba->path, ba->n_path,
                                    ba->root) != CDX_OK)
        return CDX_ERR_BAD_SIGNATURE;
    if (s_cached(cache, ba, pk))
        return CDX_OK;
    uint8_t msg[S_MESSAGE_MAX];
    cdx_err rc = cdx__verify_raw(pk, msg, s_message(msg, ba->root, ba->size), ba->root_signature);
    if (rc != CDX_OK || !cache)
        return rc;
    unsigned at = cache->next++ % S_CACHE_SLOTS;
    cache->slot[at].used = true;
    cache->slot[at].size = ba->size;
    memcpy(cache->slot[at].pk, pk, CDX_PK_BYTES);
    memcpy(cache->slot[at].root, ba->root, CDX_HASH_BYTES);
    memcpy(cache->slot[at].sig, ba->root_signature, CDX_SIG_BYTES);
    return CDX_OK;
}

/* ---- signing ---- */

struct cdx_batch_signer {
    const cdx_identity *me; /* borrowed */
    size_t n;
    size_t prefix_len;             /* of the "envelope" domain prefix */
    cdx_bytes body[CDX_BATCH_MAX]; /* each: the prefix, then the body (cdx__sign_prepare) */
    uint8_t hash[CDX_BATCH_MAX][CDX_HASH_BYTES];
    /* The run's perfect subtrees, level by level: level l starts at
     * S_LEVEL(l) and holds CDX_BATCH_MAX >> l hashes. */
    uint8_t tree[2 * CDX_BATCH_MAX][CDX_HASH_BYTES];
};

#define S_LEVEL(l) (2 * CDX_BATCH_MAX - (2 * CDX_BATCH_MAX >> (l)))

cdx_err cdx_batch_signer_new(cdx_batch_signer **out, const cdx_identity *signer)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    (*out)->me = signer;
    return CDX_OK;
}

static void s_reset(cdx_batch_signer *bs)
{
    for (size_t i = 0; i < bs->n; i++)
        cdx_bytes_free(&bs->body[i]);
    bs->n = 0;
}

void cdx_batch_signer_destroy(cdx_batch_signer **bs)
{
    if (!bs || !*bs)
        return;
    s_reset(*bs);
    free(*bs);
    *bs = NULL;
}

void cdx_batch_signer_clear(cdx_batch_signer *bs)
{
    s_reset(bs);
}

size_t cdx_batch_signer_count(const cdx_batch_signer *bs)
{
    return bs->n;
}

cdx_err cdx_batch_signer_add(cdx_batch_signer *bs, const cdx_roster *roster, const cdx_body *body,
                             uint8_t hash[CDX_HASH_BYTES], cdx_errbuf *eb)
{
    if (bs->n == CDX_BATCH_MAX)
        return cdx_errf(eb, CDX_ERR_INVALID, "a batch holds at most %u envelopes", CDX_BATCH_MAX);
    cdx_bytes *b = &bs->body[bs->n];
    cdx_err rc = cdx__sign_prepare(bs->me, body, b, &bs->prefix_len, eb);
    if (rc != CDX_OK)
        return rc;
    rc = cdx__own_key_check(bs->me, roster, body->sent_at_ms, eb);
    if (rc != CDX_OK) {
        cdx_bytes_free(b);
        return rc;
    }
    cdx_hash(bs->hash[bs->n], b->data + bs->prefix_len, b->len - bs->prefix_len);
    memcpy(hash, bs->hash[bs->n], CDX_HASH_BYTES);
    bs->n++;
    return CDX_OK;
}

static bool s_batched(const cdx_batch_signer *bs, size_t i)
{
    return bs->body[i].len - bs->prefix_len <= CDX_BATCH_BODY_MAX;
}

static cdx_err s_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    const cdx_batch_signer *bs = ctx;
    if (level > 8 || index >= (CDX_BATCH_MAX >> level))
        return CDX_ERR_INVALID;
    memcpy(out, bs->tree[S_LEVEL(level) + index], CDX_HASH_BYTES);
    return CDX_OK;
}

static cdx_err s_made(void *ctx, unsigned level, uint64_t index, const uint8_t h[CDX_HASH_BYTES])
{
    cdx_batch_signer *bs = ctx;
    if (level > 8 || index >= (CDX_BATCH_MAX >> level))
        return CDX_ERR_INVALID;
    memcpy(bs->tree[S_LEVEL(level) + index], h, CDX_HASH_BYTES);
    return CDX_OK;
}

/* The tree over the batched bodies' hashes; ba gets the root and size. */
static cdx_err s_tree(cdx_batch_signer *bs, cdx__batch_auth *ba)
{
    cdx_merkle_frontier f;
    cdx_merkle_frontier_init(&f);
    cdx_err rc = CDX_OK;
    for (size_t i = 0; rc == CDX_OK && i < bs->n; i++)
        if (s_batched(bs, i)) {
            uint8_t leaf[CDX_HASH_BYTES];
            cdx_merkle_leaf_hash(leaf, bs->hash[i], CDX_HASH_BYTES);
            rc = cdx_merkle_frontier_add(&f, leaf, s_made, bs);
        }
    ba->size = f.size;
    cdx_merkle_frontier_root(&f, ba->root);
    return rc;
}

/* Envelope i: alone (plain signature) if ba is NULL, else at index in ba. */
static cdx_err s_one(cdx_batch_signer *bs, size_t i, cdx__batch_auth *ba, uint64_t index,
                     cdx_envelope **out, cdx_errbuf *eb)
{
    cdx_bytes *b = &bs->body[i];
    uint8_t sig[CDX_SIG_BYTES] = {0};
    cdx_err rc = CDX_OK;
    *out = NULL;
    if (ba) {
        uint8_t path[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
        cdx_merkle_source src = {s_node, bs};
        ba->index = index;
        rc = cdx_merkle_inclusion_proof(&src, index, ba->size, path, &ba->n_path);
        if (rc == CDX_OK && ba->n_path > CDX__BATCH_PATH_MAX)
            rc = CDX_ERR_INVALID;
        if (rc == CDX_OK)
            memcpy(ba->path, path, ba->n_path * CDX_HASH_BYTES);
    } else {
        rc = cdx__sign_raw(bs->me, b->data, b->len, sig);
    }
    cdx_bytes raw = {0};
    if (rc == CDX_OK)
        rc = cdx__outer_encode(cdx_identity_id(bs->me), b->data + bs->prefix_len,
                               b->len - bs->prefix_len, sig, ba, &raw);
    if (rc == CDX_OK)
        rc = cdx__envelope_own(out, raw.data, raw.len, eb);
    cdx_bytes_free(&raw);
    return rc;
}

cdx_err cdx_batch_signer_finish(cdx_batch_signer *bs, cdx_envelope **out, cdx_errbuf *eb)
{
    size_t batched = 0;
    for (size_t i = 0; i < bs->n; i++)
        batched += s_batched(bs, i);
    cdx__batch_auth *ba = NULL;
    cdx_err rc = CDX_OK;
    if (batched >= 2) {
        ba = calloc(1, sizeof *ba);
        rc = ba ? s_tree(bs, ba) : CDX_ERR_NOMEM;
        uint8_t msg[S_MESSAGE_MAX];
        if (rc == CDX_OK)
            rc = cdx__sign_raw(bs->me, msg, s_message(msg, ba->root, ba->size), ba->root_signature);
    }
    size_t done = 0;
    for (uint64_t index = 0; rc == CDX_OK && done < bs->n; done++) {
        bool in = ba && s_batched(bs, done);
        rc = s_one(bs, done, in ? ba : NULL, index, &out[done], eb);
        index += in;
    }
    if (rc != CDX_OK)
        for (size_t i = 0; i < done; i++)
            cdx_envelope_destroy(&out[i]);
    free(ba);
    s_reset(bs);
    return rc;
}
