/* Member identities: secret keys and public member cards.
 *
 * A member holds three key pairs: Ed25519 to sign envelopes, X25519 to open
 * sealed alerts, and a CURVE (X25519) pair for the ZeroMQ transport.
 *
 * Files, written by cdx_identity_save():
 *   DIR/ID.secret  binary, mode 0600, never overwritten. A file that group
 *                  or others can read is refused on load (CDX_ERR_KEY_PERMS).
 *   DIR/ID.pub     the member card, JSON: id, role, sign_pk and seal_pk in
 *                  hex, curve_pk in Z85 (as ZeroMQ prints CURVE keys).
 *
 * Secret keys live only in sodium_malloc memory (guarded, locked, excluded
 * from core dumps) and are wiped when the identity is destroyed. An identity
 * may be used from several threads at once for signing and opening; creating
 * and destroying it is the owner's business.
 */
#ifndef CYDEX_IDENTITY_H
#define CYDEX_IDENTITY_H

#include "cydex/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cdx_role {
    CDX_ROLE_UNSPECIFIED = 0,
    CDX_ROLE_STATE = 1,
    CDX_ROLE_BROKER = 2,
    CDX_ROLE_AUDITOR = 3,
    CDX_ROLE_ADMIN = 4,
    CDX_ROLE_RELAY = 5
} cdx_role;

const char *cdx_role_name(cdx_role r); /* "state", "broker", ... */
cdx_err cdx_role_parse(const char *name, cdx_role *out);
#define CDX_ROLE_NAMES "state, broker, auditor, admin, relay" /* what cdx_role_parse takes */

/* A member's public keys and validity, as listed in a roster. Plain data. */
typedef struct cdx_member {
    char id[CDX_ID_MAX + 1];
    cdx_role role;
    uint8_t sign_pk[CDX_PK_BYTES];
    uint8_t seal_pk[CDX_PK_BYTES];
    uint8_t curve_pk[CDX_PK_BYTES];
    uint64_t valid_from_ms;  /* 0 = since ever */
    uint64_t valid_until_ms; /* 0 = no end; exclusive */
    uint64_t revoked_at_ms;  /* 0 = not revoked */
} cdx_member;

/* CDX_OK when the member's signing key may sign at time t_ms:
 * CDX_ERR_KEY_NOT_VALID before valid_from or at/after valid_until,
 * CDX_ERR_KEY_REVOKED at/after revoked_at. */
cdx_err cdx_member_key_valid_at(const cdx_member *m, uint64_t t_ms);

typedef struct cdx_identity cdx_identity;

/* Makes fresh keys for `id` in `role`. */
cdx_err cdx_identity_generate(cdx_identity **out, const char *id, cdx_role role);

/* Derives all keys from a 32-byte seed, deterministically. For test vectors
 * and reproducible demos only: a real member uses cdx_identity_generate. */
cdx_err cdx_identity_from_seed(cdx_identity **out, const char *id, cdx_role role,
                               const uint8_t seed[32]);

/* Writes DIR/ID.secret (0600, O_EXCL) and DIR/ID.pub. CDX_ERR_EXISTS if
 * either exists; nothing is left half-written. */
cdx_err cdx_identity_save(const cdx_identity *ident, const char *dir, cdx_errbuf *eb);

/* Loads a secret key file. CDX_ERR_KEY_PERMS if group or others may read
 * it, CDX_ERR_NOENT if missing, CDX_ERR_FORMAT if not a CyDEx key. */
cdx_err cdx_identity_load(cdx_identity **out, const char *path, cdx_errbuf *eb);

/* Wipes and frees; sets *ident to NULL. Accepts NULL and *ident == NULL. */
void cdx_identity_destroy(cdx_identity **ident);

const char *cdx_identity_id(const cdx_identity *ident);
cdx_role cdx_identity_role(const cdx_identity *ident);

/* Keeps *prev (an earlier identity of the same id, whose keys a rotation
 * replaced) inside ident, after any kept before: alerts sealed to an older
 * sealing key still open with ident (cdx_seal_open tries each, newest
 * first); ident signs with its own keys only. ident owns it from then on
 * (*prev is NULL after). CDX_ERR_INVALID for another id. */
cdx_err cdx_identity_keep_previous(cdx_identity *ident, cdx_identity **prev);

/* The public card (validity fields zero). */
void cdx_identity_card(const cdx_identity *ident, cdx_member *out);

/* The 32-byte CURVE secret key, for the transport only. Borrowed: valid
 * while the identity lives; never copy it elsewhere. */
const uint8_t *cdx_identity_curve_secret(const cdx_identity *ident);

/* Ed25519 signature over "CyDEx-v1 <purpose>" || 0x00 || msg. `purpose`
 * is one of the schema's domains ("envelope", "roster", "receipt", ...). */
cdx_err cdx_identity_sign(const cdx_identity *ident, const char *purpose, const uint8_t *msg,
                          size_t len, uint8_t sig[CDX_SIG_BYTES]);

/* Strict Ed25519 verification of the same construction. CDX_OK or
 * CDX_ERR_BAD_SIGNATURE. */
cdx_err cdx_signature_verify(const uint8_t pk[CDX_PK_BYTES], const char *purpose,
                             const uint8_t *msg, size_t len, const uint8_t sig[CDX_SIG_BYTES]);

/* Member cards (ID.pub). */
cdx_err cdx_member_card_load(cdx_member *out, const char *path, cdx_errbuf *eb);
cdx_err cdx_member_card_save(const cdx_member *m, const char *path, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
