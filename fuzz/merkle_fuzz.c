/* libFuzzer target: RFC 9162 inclusion and consistency proofs, which
 * arrive from the network (catch-up replies to a witness) and in proof
 * files. The input picks a tree (up to 1024 leaves, each the hash of its
 * index and a salt from the input), two sizes, a leaf, and edits to make
 * to the honest proofs (change a byte of a hash, drop one, add one, take
 * the input's own hashes instead). Then:
 *  - the library's proofs of the tree verify, and its roots (by source and
 *    by frontier) equal a naive RFC 9162 reference computed here;
 *  - an edited proof that still verifies for (old, new) or (leaf, size)
 *    against the roots computed from the leaves must be the honest proof
 *    itself: a verifier that ignores a hash, or takes a proof of another
 *    pair, would accept it;
 *  - sizes up to 2^64 - 1 with the input's hashes as proof and roots are
 *    refused or accepted without crashing or looping, and roots and proofs
 *    of such sizes over a source that holds fewer leaves end in an error.
 * Nothing may crash; no state is kept between inputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/merkle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_MAX_LEAVES 1024u

typedef struct s_tree {
    uint64_t n;
    uint8_t leaf[S_MAX_LEAVES][CDX_HASH_BYTES];
} s_tree;

/* The reference: MTH(D[a:b]) straight from RFC 9162 section 2.1.1. */
static void s_mth(const s_tree *t, uint64_t a, uint64_t b, uint8_t out[CDX_HASH_BYTES])
{
    if (b - a == 1) {
        memcpy(out, t->leaf[a], CDX_HASH_BYTES);
        return;
    }
    uint64_t k = 1;
    while (k * 2 < b - a)
        k *= 2;
    uint8_t l[CDX_HASH_BYTES], r[CDX_HASH_BYTES];
    s_mth(t, a, a + k, l);
    s_mth(t, a + k, b, r);
    cdx_merkle_node_hash(out, l, r);
}

static void s_root(const s_tree *t, uint64_t n, uint8_t out[CDX_HASH_BYTES])
{
    s_mth(t, 0, n, out); /* n >= 1 */
}

/* The library's source: perfect subtree (level, index) of the tree. */
static cdx_err s_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    const s_tree *t = ctx;
    uint64_t a = index << level, b = (index + 1) << level;
    if (level >= 11 || b > t->n)
        return CDX_ERR_CORRUPT;
    s_mth(t, a, b, out);
    return CDX_OK;
}

/* Reads the input front to back; zeros once it runs out. */
typedef struct s_in {
    const uint8_t *p;
    size_t n;
} s_in;

static uint64_t s_take(s_in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v = v << 8 | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

static void s_take_hash(s_in *in, uint8_t out[CDX_HASH_BYTES])
{
    for (unsigned i = 0; i < CDX_HASH_BYTES; i++)
        out[i] = (uint8_t)s_take(in, 1);
}

/* Edits a copy of an honest proof as the input says; *n is its length. */
static void s_edit(s_in *in, uint8_t (*proof)[CDX_HASH_BYTES], size_t *n)
{
    unsigned edits = (unsigned)s_take(in, 1) % 4;
    for (unsigned e = 0; e < edits; e++) {
        unsigned op = (unsigned)s_take(in, 1) % 4, at = (unsigned)s_take(in, 1);
        switch (op) {
        case 0: /* change a byte */
            if (*n)
                proof[at % *n][s_take(in, 1) % CDX_HASH_BYTES] ^= (uint8_t)(s_take(in, 1) | 1);
            break;
        case 1: /* drop a hash */
            if (*n) {
                size_t i = at % *n;
                memmove(proof[i], proof[i + 1], (*n - i - 1) * CDX_HASH_BYTES);
                (*n)--;
            }
            break;
        case 2: /* add the input's hash */
            if (*n < CDX_MERKLE_MAX_PROOF) {
                size_t i = at % (*n + 1);
                memmove(proof[i + 1], proof[i], (*n - i) * CDX_HASH_BYTES);
                s_take_hash(in, proof[i]);
                (*n)++;
            }
            break;
        default: /* swap two */
            if (*n > 1) {
                uint8_t tmp[CDX_HASH_BYTES];
                size_t i = at % *n, j = (i + 1) % *n;
                memcpy(tmp, proof[i], CDX_HASH_BYTES);
                memcpy(proof[i], proof[j], CDX_HASH_BYTES);
                memcpy(proof[j], tmp, CDX_HASH_BYTES);
            }
            break;
        }
    }
}

static bool s_same(const uint8_t (*a)[CDX_HASH_BYTES], size_t na,
                   const uint8_t (*b)[CDX_HASH_BYTES], size_t nb)
{
    return na == nb && (na == 0 || memcmp(a, b, na * CDX_HASH_BYTES) == 0);
}

static void s_fail(const char *what, uint64_t a, uint64_t b)
{
    fprintf(stderr, "merkle: %s (%llu, %llu)\n", what, (unsigned long long)a,
            (unsigned long long)b);
    abort();
}

/* A source that holds the first 2^10 leaves only (a damaged log's tree
 * holds less than its size says): reads past them fail. */
static cdx_err s_short(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    (void)ctx;
    if (level > 10 || index >= (1024u >> level))
        return CDX_ERR_CORRUPT;
    memset(out, (int)(level ^ index), CDX_HASH_BYTES);
    return CDX_OK;
}

/* Sizes past any tree we could build: no crash, no endless loop. */
static void s_wild(s_in *in)
{
    uint64_t old = s_take(in, 8), new_size = s_take(in, 8), index = s_take(in, 8);
    uint8_t r1[CDX_HASH_BYTES], r2[CDX_HASH_BYTES], proof[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    s_take_hash(in, r1);
    s_take_hash(in, r2);
    size_t n = (size_t)(s_take(in, 1) % (CDX_MERKLE_MAX_PROOF + 1));
    for (size_t i = 0; i < n; i++)
        s_take_hash(in, proof[i]);
    cdx_err rc = cdx_merkle_verify_consistency(old, new_size, r1, r2,
                                               (const uint8_t(*)[CDX_HASH_BYTES])proof, n);
    if (rc == CDX_OK && old != 0 && old != new_size)
        s_fail("a consistency proof of random hashes verified", old, new_size);
    rc = cdx_merkle_verify_inclusion(r1, index, new_size, (const uint8_t(*)[CDX_HASH_BYTES])proof,
                                     n, r2);
    if (rc == CDX_OK && memcmp(r1, r2, CDX_HASH_BYTES) != 0)
        s_fail("an inclusion proof of random hashes verified", index, new_size);
    /* Roots and proofs of such sizes over a source that fails past its
     * leaves: an error, soon. */
    cdx_merkle_source src = {s_short, NULL};
    cdx_merkle_root(&src, new_size, r1);
    cdx_merkle_inclusion_proof(&src, index, new_size, proof, &n);
    cdx_merkle_consistency_proof(&src, old, new_size, proof, &n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    s_in in = {data, size};
    if (s_take(&in, 1) & 0x80) {
        s_wild(&in);
        return 0;
    }
    static s_tree t;
    t.n = s_take(&in, 2) % S_MAX_LEAVES + 1;
    uint8_t salt = (uint8_t)s_take(&in, 1);
    for (uint64_t i = 0; i < t.n; i++) {
        uint8_t b[9];
        for (int k = 0; k < 8; k++)
            b[k] = (uint8_t)(i >> (8 * k));
        b[8] = salt;
        cdx_merkle_leaf_hash(t.leaf[i], b, sizeof b);
    }
    uint64_t new_size = s_take(&in, 2) % t.n + 1, old = s_take(&in, 2) % (new_size + 1);
    uint64_t index = s_take(&in, 2) % new_size;
    cdx_merkle_source src = {s_node, &t};
    uint8_t old_root[CDX_HASH_BYTES], new_root[CDX_HASH_BYTES], r[CDX_HASH_BYTES];

    /* Roots: by source, by frontier, by the reference. */
    cdx_merkle_frontier fr;
    cdx_merkle_frontier_init(&fr);
    for (uint64_t i = 0; i < new_size; i++) {
        if (i == old) {
            cdx_merkle_frontier_root(&fr, old_root);
            if (old) {
                s_root(&t, old, r);
                if (memcmp(r, old_root, CDX_HASH_BYTES) != 0)
                    s_fail("frontier root differs from RFC 9162's", old, 0);
            }
        }
        cdx_merkle_frontier_add(&fr, t.leaf[i], NULL, NULL);
    }
    cdx_merkle_frontier_root(&fr, new_root);
    s_root(&t, new_size, r);
    if (memcmp(r, new_root, CDX_HASH_BYTES) != 0)
        s_fail("frontier root differs from RFC 9162's", new_size, 0);
    if (cdx_merkle_root(&src, new_size, r) != CDX_OK || memcmp(r, new_root, CDX_HASH_BYTES) != 0)
        s_fail("root by source differs from RFC 9162's", new_size, 0);
    if (cdx_merkle_root(&src, old, old_root) != CDX_OK)
        s_fail("no root by source", old, 0);

    /* The honest proofs verify. */
    uint8_t cons[CDX_MERKLE_MAX_PROOF + 1][CDX_HASH_BYTES],
        path[CDX_MERKLE_MAX_PROOF + 1][CDX_HASH_BYTES];
    size_t nc = 0, np = 0;
    if (cdx_merkle_consistency_proof(&src, old, new_size, cons, &nc) != CDX_OK ||
        cdx_merkle_verify_consistency(old, new_size, old_root, new_root,
                                      (const uint8_t(*)[CDX_HASH_BYTES])cons, nc) != CDX_OK)
        s_fail("an honest consistency proof does not verify", old, new_size);
    if (cdx_merkle_inclusion_proof(&src, index, new_size, path, &np) != CDX_OK ||
        cdx_merkle_verify_inclusion(t.leaf[index], index, new_size,
                                    (const uint8_t(*)[CDX_HASH_BYTES])path, np, new_root) != CDX_OK)
        s_fail("an honest inclusion proof does not verify", index, new_size);

    /* An edited proof, for the pair or another the input names, verifies
     * only if it is that pair's honest proof. */
    uint64_t old2 = old, new2 = new_size, index2 = index;
    if (s_take(&in, 1) & 1) {
        old2 = s_take(&in, 2) % (t.n + 1);
        new2 = s_take(&in, 2) % (t.n + 1);
        index2 = s_take(&in, 2) % (t.n + 1);
    }
    uint8_t edited[CDX_MERKLE_MAX_PROOF + 1][CDX_HASH_BYTES];
    size_t ne = nc;
    memcpy(edited, cons, sizeof cons);
    s_edit(&in, edited, &ne);
    if (old2 <= new2 && new2 <= t.n) {
        uint8_t o2[CDX_HASH_BYTES], n2[CDX_HASH_BYTES],
            honest[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
        size_t nh = 0;
        cdx_merkle_root(&src, old2, o2);
        cdx_merkle_root(&src, new2, n2);
        if (cdx_merkle_verify_consistency(old2, new2, o2, n2,
                                          (const uint8_t(*)[CDX_HASH_BYTES])edited, ne) == CDX_OK &&
            (cdx_merkle_consistency_proof(&src, old2, new2, honest, &nh) != CDX_OK ||
             !s_same((const uint8_t(*)[CDX_HASH_BYTES])honest, nh,
                     (const uint8_t(*)[CDX_HASH_BYTES])edited, ne)))
            s_fail("a consistency proof other than the honest one verified", old2, new2);
    }
    ne = np;
    memcpy(edited, path, sizeof path);
    s_edit(&in, edited, &ne);
    uint8_t leaf[CDX_HASH_BYTES];
    memcpy(leaf, t.leaf[index2 < t.n ? index2 : 0], CDX_HASH_BYTES);
    if (s_take(&in, 1) == 0xff)
        leaf[0] ^= 1;
    if (index2 < new2 && new2 <= t.n) {
        uint8_t n2[CDX_HASH_BYTES], honest[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
        size_t nh = 0;
        cdx_merkle_root(&src, new2, n2);
        if (cdx_merkle_verify_inclusion(
                leaf, index2, new2, (const uint8_t(*)[CDX_HASH_BYTES])edited, ne, n2) == CDX_OK &&
            (memcmp(leaf, t.leaf[index2], CDX_HASH_BYTES) != 0 ||
             cdx_merkle_inclusion_proof(&src, index2, new2, honest, &nh) != CDX_OK ||
             !s_same((const uint8_t(*)[CDX_HASH_BYTES])honest, nh,
                     (const uint8_t(*)[CDX_HASH_BYTES])edited, ne)))
            s_fail("an inclusion proof other than the honest one verified", index2, new2);
    }
    return 0;
}
