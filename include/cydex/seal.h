/* Sealing restricted alerts to named recipients (see message Sealed in
 * proto/cydex.proto for the construction). A fresh content key and nonce
 * are drawn for every seal; the content key is wiped after use. */
#ifndef CYDEX_SEAL_H
#define CYDEX_SEAL_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/message.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seals `alert` (checked with cdx_alert_check; its TLP must be AMBER,
 * AMBER+STRICT or RED: CDX_ERR_TLP_SEALED_BELOW_AMBER for CLEAR and GREEN)
 * for n recipients (at least one: CDX_ERR_POLICY), bound to
 * sender/seq/topic of the envelope that will carry it. *out is overwritten;
 * the caller clears it. A recipient listed twice is refused
 * (CDX_ERR_INVALID). */
cdx_err cdx_seal_alert(cdx_sealed *out, const cdx_alert *alert, const char *sender, uint64_t seq,
                       const char *topic, const cdx_member *recipients, size_t n, cdx_errbuf *eb);

/* Who a list of recipients names, as `cydex publish --to` and `cydex sign
 * --to` take it: member ids separated by commas ("FR,DE"), each a member
 * of roster r whose key is valid and not revoked at now_ms; or
 * CDX_SEAL_TO_ALL ("all", also "*"), alone: every state of r (role STATE)
 * whose key is valid and not revoked at now_ms, in roster order. *out
 * (malloc'd, the caller frees it) receives *n members. CDX_ERR_INVALID for
 * an empty or malformed list, an id listed twice, "all" beside other ids,
 * or a roster with no state valid now; CDX_ERR_UNKNOWN_SENDER for an id
 * not in the roster; CDX_ERR_KEY_REVOKED, CDX_ERR_KEY_NOT_VALID for one
 * revoked or outside its validity. */
#define CDX_SEAL_TO_ALL "all"
#define CDX_SEAL_RECIPIENTS_MAX 1024u
cdx_err cdx_seal_recipients(const cdx_roster *r, const char *to, uint64_t now_ms, cdx_member **out,
                            size_t *n, cdx_errbuf *eb);

/* Opens a sealed alert as recipient `me`. */
cdx_err cdx_seal_open(cdx_alert *out, const cdx_sealed *sealed, const char *sender, uint64_t seq,
                      const char *topic, const cdx_identity *me, cdx_errbuf *eb);

/* The two halves of cdx_seal_open: the content key wrapped for `me`
 * (CDX_ERR_NOT_RECIPIENT, CDX_ERR_DECRYPT), and the alert opened with a
 * content key alone (CDX_ERR_DECRYPT unless the ciphertext authenticates
 * under it, bound to sender/seq/topic/TLP): what a third party handed the
 * key (an evidence bundle's opening) checks without any member's secret. */
#define CDX_SEAL_KEY_BYTES 32u
cdx_err cdx_seal_content_key(uint8_t key[CDX_SEAL_KEY_BYTES], const cdx_sealed *sealed,
                             const cdx_identity *me, cdx_errbuf *eb);
cdx_err cdx_seal_open_with_key(cdx_alert *out, const cdx_sealed *sealed, const char *sender,
                               uint64_t seq, const char *topic,
                               const uint8_t key[CDX_SEAL_KEY_BYTES], cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
