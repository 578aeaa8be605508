/* libFuzzer target: proof files, which come from a third party, through
 * what `cydex-audit check-proof` does with them: parse, then for an
 * inclusion proof check its checkpoint against the owner's key (the
 * fixture's broker signed the seeds), decode the entry inside and follow
 * the path; for a consistency proof, check it against the owner's signed
 * checkpoints of a 16-leaf tree made at start-up, as --old and --new. A
 * consistency proof that holds must be the honest proof between the two
 * sizes. Nothing may crash or leak. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/proof.h"
#include "fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define S_LEAVES 16u

static uint8_t s_leaf[S_LEAVES][CDX_HASH_BYTES];
static char *s_cp[S_LEAVES + 1]; /* the owner's checkpoint at each size */

static cdx_err s_node(void *ctx, unsigned level, uint64_t index, uint8_t out[CDX_HASH_BYTES])
{
    (void)ctx;
    if (level == 0) {
        memcpy(out, s_leaf[index], CDX_HASH_BYTES);
        return CDX_OK;
    }
    uint8_t l[CDX_HASH_BYTES], r[CDX_HASH_BYTES];
    s_node(NULL, level - 1, 2 * index, l);
    s_node(NULL, level - 1, 2 * index + 1, r);
    cdx_merkle_node_hash(out, l, r);
    return CDX_OK;
}

static void s_free_cps(void)
{
    for (size_t i = 0; i <= S_LEAVES; i++)
        free(s_cp[i]);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fixture *f = fixture_static();
    for (unsigned i = 0; i < S_LEAVES; i++) {
        uint8_t b = (uint8_t)i;
        cdx_merkle_leaf_hash(s_leaf[i], &b, 1);
    }
    cdx_merkle_source src = {s_node, NULL};
    for (unsigned n = 0; n <= S_LEAVES; n++) {
        uint8_t root[CDX_HASH_BYTES];
        if (cdx_merkle_root(&src, n, root) != CDX_OK ||
            cdx_checkpoint_sign(&s_cp[n], "cydex/broker.alpha", n, root, FIXTURE_T0 / 1000 + n,
                                f->broker) != CDX_OK)
            abort();
    }
    atexit(s_free_cps);
    return 0;
}

/* As check-proof's --old and --new: parsed and verified. */
static bool s_load(cdx_checkpoint *cp, uint64_t size, const uint8_t *pk)
{
    return size <= S_LEAVES &&
           cdx_checkpoint_parse(cp, s_cp[size], strlen(s_cp[size]), NULL) == CDX_OK &&
           cdx_checkpoint_verify(cp, pk, NULL) == CDX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    cdx_member owner;
    cdx_identity_card(f->broker, &owner);
    cdx_proof p;
    cdx_errbuf eb = {0};
    if (cdx_proof_parse(&p, (const char *)data, size, &eb) != CDX_OK) {
        if (!eb.msg[0])
            abort(); /* every refusal says why */
        return 0;
    }
    if (p.n > CDX_MERKLE_MAX_PROOF)
        abort();
    if (p.inclusion) {
        cdx_checkpoint cp;
        cdx_log_entry e;
        if (cdx_proof_check_inclusion(&p, owner.sign_pk, &cp, &e, NULL) == CDX_OK) {
            cdx_envelope *env = NULL; /* as check-proof shows the entry */
            if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK)
                (void)cdx_envelope_body(env);
            cdx_envelope_destroy(&env);
            cdx_log_entry_clear(&e);
        }
    } else {
        cdx_checkpoint a, b;
        if (s_load(&a, p.old_size, owner.sign_pk) && s_load(&b, p.new_size, owner.sign_pk) &&
            cdx_proof_check_consistency(&p, &a, &b, NULL) == CDX_OK) {
            cdx_merkle_source src = {s_node, NULL};
            uint8_t honest[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
            size_t n = 0;
            if (cdx_merkle_consistency_proof(&src, p.old_size, p.new_size, honest, &n) != CDX_OK ||
                n != p.n || (n && memcmp(honest, p.hashes, n * CDX_HASH_BYTES) != 0)) {
                fprintf(stderr, "a consistency proof other than the honest one held\n");
                abort();
            }
        }
    }
    cdx_proof_clear(&p);
    return 0;
}
