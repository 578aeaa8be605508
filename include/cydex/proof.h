/* Proof files: what `cydex-audit prove` prints and `cydex-audit
 * check-proof` reads, from a third party, to check offline.
 *
 * Inclusion (the C2SP tlog-proof form):
 *
 *   c2sp.org/tlog-proof@v1
 *   extra <base64 of the stored LogEntry>
 *   index <decimal>
 *   <base64 hash>            zero to CDX_MERKLE_MAX_PROOF lines, leaf upward
 *   <blank line>
 *   <the signed checkpoint>  (cydex/checkpoint.h)
 *
 * Consistency:
 *
 *   cydex/consistency-proof@v1
 *   old <decimal>
 *   new <decimal>
 *   <base64 hash>            zero to CDX_MERKLE_MAX_PROOF lines
 *
 * Lines end with "\n". Each keyword line (extra, index, old, new) may come
 * once; a second one, a line that is neither a keyword nor 32 bytes of
 * base64, or more than CDX_MERKLE_MAX_PROOF hashes is refused
 * (CDX_ERR_FORMAT, the line named).
 */
#ifndef CYDEX_PROOF_H
#define CYDEX_PROOF_H

#include "cydex/checkpoint.h"
#include "cydex/common.h"
#include "cydex/log.h"
#include "cydex/merkle.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_PROOF_INCLUSION_HEADER "c2sp.org/tlog-proof@v1"
#define CDX_PROOF_CONSISTENCY_HEADER "cydex/consistency-proof@v1"

typedef struct cdx_proof {
    bool inclusion;  /* else consistency */
    cdx_bytes extra; /* inclusion: the LogEntry as stored (len 0: none given) */
    uint64_t index;
    uint64_t old_size, new_size; /* consistency */
    uint8_t hashes[CDX_MERKLE_MAX_PROOF][CDX_HASH_BYTES];
    size_t n;
    char *checkpoint; /* inclusion: the checkpoint's text, NUL-terminated */
} cdx_proof;

/* Parses a proof file's text (len bytes; it need not be NUL-terminated).
 * On success *out owns its parts (cdx_proof_clear); on failure it holds
 * nothing and eb names the line. Checks nothing but the form. */
cdx_err cdx_proof_parse(cdx_proof *out, const char *text, size_t len, cdx_errbuf *eb);
void cdx_proof_clear(cdx_proof *p);

/* What a third party checks of an inclusion proof with the log owner's
 * signing key alone: the checkpoint parses and both its signatures verify
 * (cdx_checkpoint_verify), the proof carries an entry that decodes, and
 * the path leads from the entry's leaf at `index` to the checkpoint's
 * root. On success *cp and *entry (the caller clears it) are filled;
 * otherwise CDX_ERR_FORMAT (malformed), CDX_ERR_BAD_SIGNATURE (a signature
 * or the path does not hold) or CDX_ERR_CORRUPT (the entry), eb says why. */
cdx_err cdx_proof_check_inclusion(const cdx_proof *p, const uint8_t owner_pk[CDX_PK_BYTES],
                                  cdx_checkpoint *cp, cdx_log_entry *entry, cdx_errbuf *eb);

/* A consistency proof against the two checkpoints it joins, whose
 * signatures the caller has verified: they must be of one log at the
 * proof's old and new sizes (CDX_ERR_INVALID otherwise), and the proof must
 * show the old tree a prefix of the new (CDX_ERR_BAD_SIGNATURE). */
cdx_err cdx_proof_check_consistency(const cdx_proof *p, const cdx_checkpoint *old_cp,
                                    const cdx_checkpoint *new_cp, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
