/* The federation roster: who is a member, with which keys, and who may
 * change the list.
 *
 * A roster has a version, member cards (id, role, keys, validity,
 * revocation), admin keys and a threshold k. It is valid when k distinct
 * admins sign its exact serialized bytes: for version 1 the admins it names
 * itself (the genesis roster is the trust anchor, handed over out of band);
 * for a later version the admins and threshold of the roster it replaces,
 * and only when its version is higher. Revoked members stay listed with
 * their revocation time, so that what they signed before it can still be
 * verified.
 *
 * Key rotation: one member id may be listed on several cards, each with its
 * own keys and a validity window [valid_from, valid_until) that overlaps no
 * other card of that id (only the last may be open-ended); what a member
 * signed is checked against the card valid when it says it signed
 * (cdx_roster_find_at). All cards of one id have one role.
 *
 * Admins are tied to members: an admin whose id is a member's, or whose key
 * is a member card's signing key, loses the power to sign later versions as
 * soon as that member is revoked (whatever the revocation time): its
 * signature does not count toward k, and a roster's threshold must be
 * reachable by the admins that may still sign.
 *
 * Limits, refused by name before anything costly: CDX_ROSTER_MAX_MEMBERS
 * member cards, CDX_ROSTER_MAX_ADMINS admins (and as many signatures),
 * CDX_ROSTER_MAX_BYTES serialized. Decoding sorts, O(n log n).
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

#define CDX_ROSTER_MAX_MEMBERS 4096u /* member cards, rotated keys included */
#define CDX_ROSTER_MAX_ADMINS 256u
#define CDX_ROSTER_MAX_BYTES (1024u * 1024u) /* a serialized SignedRoster */

/* A new empty draft, version 1. */
cdx_err cdx_roster_new(cdx_roster **out, const char *federation, uint32_t threshold,
                       uint64_t issued_at_ms);

/* A draft of the next version: prev's members, admins and threshold, version
 * prev+1, no signatures. */
cdx_err cdx_roster_next(cdx_roster **out, const cdx_roster *prev, uint64_t issued_at_ms);

/* Parses a serialized SignedRoster (as in a roster file or on topic
 * "roster"). Does not verify the signatures; refuses a roster over the
 * limits (CDX_ERR_TOO_BIG) and one whose cards or admins are malformed,
 * listed twice, or overlap (CDX_ERR_FORMAT). */
cdx_err cdx_roster_decode(cdx_roster **out, const uint8_t *data, size_t len, cdx_errbuf *eb);

/* A serialized SignedRoster offered to replace `in_force` (from the bus,
 * say, where any member may send anything): decoded and verified as
 * cdx_roster_verify(r, in_force) does, the cheap checks first so that no
 * one but the admins in force can make a receiver do the costly part:
 * size; signature count (at least in_force's threshold, at most its admin
 * count: CDX_ERR_THRESHOLD, CDX_ERR_DUPLICATE_SIGNER); federation
 * (CDX_ERR_POLICY), version above in_force's (CDX_ERR_ROLLBACK) and
 * counts, read without decoding; then the signatures over the exact bytes;
 * only then the members. On success *out is a verified roster. */
cdx_err cdx_roster_decode_next(cdx_roster **out, const uint8_t *data, size_t len,
                               const cdx_roster *in_force, cdx_errbuf *eb);

/* Reads and parses a roster file. Does not verify it. */
cdx_err cdx_roster_load(cdx_roster **out, const char *path, cdx_errbuf *eb);

/* Loads a roster the caller trusts: `paths` is one roster file, taken as
 * a trust anchor (cdx_roster_verify(r, NULL)), or a chain of them separated
 * by commas ("v1.bin,v2.bin,v3.bin"): the first an anchor, each next a
 * valid successor of the one before (a version that changed admins,
 * threshold or an admin's key is signed by the admins of the version before
 * it, and is checked with them). *out is the last. The message names the
 * file that failed. */
cdx_err cdx_roster_load_trusted(cdx_roster **out, const char *paths, cdx_errbuf *eb);

/* Serializes to a SignedRoster; out is the caller's to free. */
cdx_err cdx_roster_encode(const cdx_roster *r, cdx_bytes *out);

/* Writes the file atomically (temporary file, fsync, rename). */
cdx_err cdx_roster_save(const cdx_roster *r, const char *path, cdx_errbuf *eb);

void cdx_roster_destroy(cdx_roster **r);

/* Edits; each drops existing signatures, and none is applied in part.
 * add_member refuses an id already present (CDX_ERR_EXISTS: a member's new
 * keys come with cdx_roster_rotate), a card with a bad id or role, and a
 * roster full (CDX_ERR_TOO_BIG). add_admin refuses an id or key already an
 * admin's (CDX_ERR_EXISTS) and a revoked member's (CDX_ERR_POLICY). */
cdx_err cdx_roster_add_member(cdx_roster *r, const cdx_member *m, cdx_errbuf *eb);
cdx_err cdx_roster_add_admin(cdx_roster *r, const char *id, const uint8_t sign_pk[CDX_PK_BYTES],
                             cdx_errbuf *eb);
/* Removes an admin: CDX_ERR_NOENT if there is none by that id,
 * CDX_ERR_POLICY if fewer admins than the threshold would be left (lower
 * the threshold first). */
cdx_err cdx_roster_remove_admin(cdx_roster *r, const char *id, cdx_errbuf *eb);
/* 1 <= k <= the admins that may sign: CDX_ERR_INVALID for 0,
 * CDX_ERR_POLICY above. */
cdx_err cdx_roster_set_threshold(cdx_roster *r, uint32_t k, cdx_errbuf *eb);
/* Marks every card of a member revoked from at_ms on (0 is taken as 1:
 * since ever), and removes the admins tied to it
 * (its id, or one of its signing keys): revocation strips every role.
 * CDX_ERR_NOENT if not a member, CDX_ERR_EXISTS if already revoked by
 * then, CDX_ERR_POLICY if fewer admins than the threshold would be left. */
cdx_err cdx_roster_revoke(cdx_roster *r, const char *id, uint64_t at_ms, cdx_errbuf *eb);
/* Rotates a member's keys at at_ms: its newest card is valid until at_ms,
 * a card with `card`'s keys (its id must be `id`; its role, if set, the
 * member's) from at_ms on. An admin key that was the old card's signing
 * key under the member's id becomes the new signing key. CDX_ERR_NOENT if
 * not a member; CDX_ERR_POLICY if it is revoked, or if at_ms is not after
 * the newest card's valid_from (the windows would overlap);
 * CDX_ERR_INVALID for a card of another id or role. */
cdx_err cdx_roster_rotate(cdx_roster *r, const char *id, const cdx_member *card, uint64_t at_ms,
                          cdx_errbuf *eb);

/* Adds this admin's signature. The identity's signing key must be one of
 * `signers` admins (the roster itself for version 1, the previous roster for
 * later versions; pass NULL for "the roster itself"). CDX_ERR_DUPLICATE_SIGNER
 * if that admin has signed already; CDX_ERR_POLICY if the admin is tied to
 * a member revoked in `signers` (the signature would not count). */
cdx_err cdx_roster_sign(cdx_roster *r, const cdx_roster *signers, const cdx_identity *admin,
                        cdx_errbuf *eb);

/* Verifies the signatures. prev == NULL: r is taken as a trust anchor (the
 * genesis roster, or one pinned by the operator) and must carry
 * threshold-many distinct valid signatures of its own admins. Otherwise r's
 * version must exceed prev's (CDX_ERR_ROLLBACK) and the signatures must come
 * from prev's admins, prev's threshold of them. Any signature that does not
 * verify, names an unknown admin, or repeats an admin makes the roster
 * invalid (CDX_ERR_BAD_SIGNATURE, CDX_ERR_UNKNOWN_SENDER,
 * CDX_ERR_DUPLICATE_SIGNER); the signature of an admin tied to a member
 * revoked in the signing roster does not count; too few that count give
 * CDX_ERR_THRESHOLD. r's own threshold must be 1..(r's admins that may
 * sign) (CDX_ERR_FORMAT). */
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

/* The member with this id (its newest card, the one valid last), or NULL.
 * O(log n). Borrowed from r. For "the keys to use now" ask
 * cdx_roster_find_at with the time. */
const cdx_member *cdx_roster_find(const cdx_roster *r, const char *id);

/* The card of this id whose window [valid_from, valid_until) holds t_ms,
 * revoked or not (cdx_member_key_valid_at says whether it may sign then);
 * NULL if none does. O(log n + cards of the id). Borrowed from r. */
const cdx_member *cdx_roster_find_at(const cdx_roster *r, const char *id, uint64_t t_ms);

/* Every card of this id, oldest window first: their count, and *cards
 * pointing at them (borrowed from r; nothing if 0). */
size_t cdx_roster_cards(const cdx_roster *r, const char *id, const cdx_member *const **cards);

/* Whether admin i may sign the next version (not tied to a revoked
 * member), and how many admins may. */
bool cdx_roster_admin_may_sign(const cdx_roster *r, size_t i);
size_t cdx_roster_signing_admins(const cdx_roster *r);

/* Where a member's key stands at now_ms (cydex status, /health). */
typedef enum cdx_key_state {
    CDX_KEY_VALID,         /* may sign, no end set */
    CDX_KEY_ENDING,        /* may sign until *when: rotated out, expiring or revoked then */
    CDX_KEY_NOT_YET_VALID, /* from *when on */
    CDX_KEY_ENDED,         /* rotated out or expired at *when */
    CDX_KEY_REVOKED,       /* revoked at *when */
    CDX_KEY_UNKNOWN        /* no card of this id holds this signing key */
} cdx_key_state;

/* The state of `id`'s card with this signing key (the newest such card)
 * at now_ms; *when (if not NULL) the time the state names, 0 if none.
 * *next_from, if not NULL, is the valid_from of a later card of the id
 * (a rotation), 0 if none. */
cdx_key_state cdx_roster_key_state(const cdx_roster *r, const char *id,
                                   const uint8_t sign_pk[CDX_PK_BYTES], uint64_t now_ms,
                                   uint64_t *when, uint64_t *next_from);
/* "valid", "ending", "not yet valid", "ended", "revoked", "unknown". */
const char *cdx_key_state_name(cdx_key_state s);

/* The member whose CURVE key this is, or NULL. O(n). */
const cdx_member *cdx_roster_find_curve(const cdx_roster *r, const uint8_t curve_pk[CDX_PK_BYTES]);

#ifdef __cplusplus
}
#endif
#endif
