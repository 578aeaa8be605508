/* The federation roster: who is a member, with which keys, and who may
 * change the list.
 *
 * A roster has a version, members (id, role, keys, validity, revocation),
 * admin keys and a threshold k. It is valid when k distinct admins sign its
 * exact serialized bytes: for version 1 the admins it names itself (the
 * genesis roster is the trust anchor, handed over out of band); for a later
 * version the admins and threshold of the roster it replaces, and only when
 * its version is higher. Revoked members stay listed with their revocation
 * time, so that what they signed before it can still be verified.
 *
 * A cdx_roster is either a draft (being edited; edits drop its signatures)
 * or a signed roster loaded from a file. It is not thread-safe to edit; a
 * roster nobody edits may be read from many threads.
 */
#ifndef CYDEX_ROSTER_H
#define CYDEX_ROSTER_H

#include "cydex/common.h"
#include "cydex/identity.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cdx_roster cdx_roster;

/* A new empty draft, version 1. */
cdx_err cdx_roster_new(cdx_roster **out, const char *federation, uint32_t threshold,
                       uint64_t issued_at_ms);

/* A draft of the next version: prev's members, admins and threshold, version
 * prev+1, no signatures. */
cdx_err cdx_roster_next(cdx_roster **out, const cdx_roster *prev, uint64_t issued_at_ms);

/* Parses a serialized SignedRoster (as in a roster file or on topic
 * "roster"). Does not verify it. */
cdx_err cdx_roster_decode(cdx_roster **out, const uint8_t *data, size_t len, cdx_errbuf *eb);

/* Reads and parses a roster file. Does not verify it. */
cdx_err cdx_roster_load(cdx_roster **out, const char *path, cdx_errbuf *eb);

/* Serializes to a SignedRoster; out is the caller's to free. */
cdx_err cdx_roster_encode(const cdx_roster *r, cdx_bytes *out);

/* Writes the file atomically (temporary file, fsync, rename). */
cdx_err cdx_roster_save(const cdx_roster *r, const char *path, cdx_errbuf *eb);

void cdx_roster_destroy(cdx_roster **r);

/* Edits; each drops existing signatures. add_member refuses an id already
 * present (CDX_ERR_EXISTS) and a card with a bad id or role. */
cdx_err cdx_roster_add_member(cdx_roster *r, const cdx_member *m, cdx_errbuf *eb);
cdx_err cdx_roster_add_admin(cdx_roster *r, const char *id, const uint8_t sign_pk[CDX_PK_BYTES],
                             cdx_errbuf *eb);
cdx_err cdx_roster_set_threshold(cdx_roster *r, uint32_t k, cdx_errbuf *eb);
/* Marks a member revoked from at_ms on. CDX_ERR_NOENT if not a member. */
cdx_err cdx_roster_revoke(cdx_roster *r, const char *id, uint64_t at_ms, cdx_errbuf *eb);

/* Adds this admin's signature. The identity's signing key must be one of
 * `signers` admins (the roster itself for version 1, the previous roster for
 * later versions; pass NULL for "the roster itself"). CDX_ERR_DUPLICATE_SIGNER
 * if that admin has signed already. */
cdx_err cdx_roster_sign(cdx_roster *r, const cdx_roster *signers, const cdx_identity *admin,
                        cdx_errbuf *eb);

/* Verifies the signatures. prev == NULL: r is taken as a trust anchor (the
 * genesis roster, or one pinned by the operator) and must carry
 * threshold-many distinct valid signatures of its own admins. Otherwise r's
 * version must exceed prev's (CDX_ERR_ROLLBACK) and the signatures must come
 * from prev's admins, prev's threshold of them. Any signature that does not
 * verify, names an unknown admin, or repeats an admin makes the roster
 * invalid (CDX_ERR_BAD_SIGNATURE, CDX_ERR_UNKNOWN_SENDER,
 * CDX_ERR_DUPLICATE_SIGNER); too few give CDX_ERR_THRESHOLD. */
cdx_err cdx_roster_verify(const cdx_roster *r, const cdx_roster *prev, cdx_errbuf *eb);

const char *cdx_roster_federation(const cdx_roster *r);
uint64_t cdx_roster_version(const cdx_roster *r);
uint64_t cdx_roster_issued_at(const cdx_roster *r);
uint32_t cdx_roster_threshold(const cdx_roster *r);
size_t cdx_roster_member_count(const cdx_roster *r);
const cdx_member *cdx_roster_member_at(const cdx_roster *r, size_t i);
size_t cdx_roster_admin_count(const cdx_roster *r);
/* Admin i's id and key; NULL past the end. */
const char *cdx_roster_admin_at(const cdx_roster *r, size_t i, const uint8_t **sign_pk);
size_t cdx_roster_signature_count(const cdx_roster *r);
const char *cdx_roster_signer_at(const cdx_roster *r, size_t i);

/* The member with this id, or NULL. O(log n). Borrowed from r. */
const cdx_member *cdx_roster_find(const cdx_roster *r, const char *id);

/* The member whose CURVE key this is, or NULL. O(n). */
const cdx_member *cdx_roster_find_curve(const cdx_roster *r, const uint8_t curve_pk[CDX_PK_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
