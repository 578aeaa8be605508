/* Sealing restricted alerts to named recipients (see message Sealed in
 * proto/cydex.proto for the construction). A fresh content key and nonce
 * are drawn for every seal; the content key is wiped after use. */
#ifndef CYDEX_SEAL_H
#define CYDEX_SEAL_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seals `alert` (checked with cdx_alert_check; its TLP must be AMBER,
 * AMBER+STRICT or RED) for n recipients, bound to sender/seq/topic of the
 * envelope that will carry it. *out is overwritten; the caller clears it. A
 * recipient listed twice is refused (CDX_ERR_INVALID). */
cdx_err cdx_seal_alert(cdx_sealed *out, const cdx_alert *alert, const char *sender, uint64_t seq,
                       const char *topic, const cdx_member *recipients, size_t n, cdx_errbuf *eb);

/* Opens a sealed alert as recipient `me`. */
cdx_err cdx_seal_open(cdx_alert *out, const cdx_sealed *sealed, const char *sender, uint64_t seq,
                      const char *topic, const cdx_identity *me, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
