/* Signed checkpoints in the C2SP tlog-checkpoint text form.
 *
 *   <origin>\n<tree size>\n<base64 root>\n
 *   \n
 *   — <origin> base64(key ID || Ed25519 signature over the three lines)
 *   — <origin> base64(key ID' || timestamp || Ed25519 over
 *             "cosignature/v1\ntime <timestamp>\n" || the three lines)
 *
 * The first signature line is a plain signed-note Ed25519 signature (type
 * 0x01), which any checkpoint client verifies; the second is a C2SP
 * tlog-cosignature (type 0x04) by the same key, which signs the time the
 * checkpoint was taken (POSIX seconds). Key IDs follow C2SP signed-note.
 */
#ifndef CYDEX_CHECKPOINT_H
#define CYDEX_CHECKPOINT_H

#include "cydex/common.h"
#include "cydex/identity.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_ORIGIN_MAX 255u

typedef struct cdx_checkpoint {
    char origin[CDX_ORIGIN_MAX + 1];
    uint64_t size;
    uint8_t root[CDX_HASH_BYTES];
    uint64_t time_s; /* from the timestamped signature */
    uint8_t sig[CDX_SIG_BYTES];
    uint8_t key_id[4];
    bool has_cosig;
    uint8_t cosig[CDX_SIG_BYTES];
    uint8_t cosig_key_id[4];
} cdx_checkpoint;

/* Builds and signs a checkpoint; *text is the caller's to free. */
cdx_err cdx_checkpoint_sign(char **text, const char *origin, uint64_t size,
                            const uint8_t root[CDX_HASH_BYTES], uint64_t time_s,
                            const cdx_identity *key);

/* Parses the text form. Does not verify. */
cdx_err cdx_checkpoint_parse(cdx_checkpoint *out, const char *text, size_t len, cdx_errbuf *eb);

/* Verifies both signatures with the owner's Ed25519 key (the timestamped
 * one is required). CDX_ERR_BAD_SIGNATURE otherwise. */
cdx_err cdx_checkpoint_verify(const cdx_checkpoint *cp, const uint8_t pk[CDX_PK_BYTES],
                              cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
