/* A fixed federation for tests: identities from fixed seeds (so envelopes
 * are byte-for-byte reproducible) and a roster signed 2-of-3 by EE, FR, DE.
 *
 *   EE, FR, DE     states, valid since ever; also the admins
 *   broker.alpha,
 *   broker.beta    brokers
 *   LV             state, revoked at FIXTURE_T0 + 1 hour
 *   LT             state, valid only in [FIXTURE_T0 + 1 day, FIXTURE_T0 + 2 days)
 *   XX             has keys but is not in the roster
 */
#ifndef CYDEX_TESTS_FIXTURE_H
#define CYDEX_TESTS_FIXTURE_H

#include <sys/types.h>

#include "cydex/cydex.h"

#define FIXTURE_T0 1764000000000ull /* 2025-11-24T16:00:00Z */
#define FIXTURE_HOUR 3600000ull
#define FIXTURE_DAY (24ull * FIXTURE_HOUR)

typedef struct fixture {
    cdx_identity *ee, *fr, *de, *broker, *beta, *lv, *lt, *xx;
    cdx_roster *roster;
} fixture;

/* Builds everything; exits the test on failure. */
void fixture_init(fixture *f);
void fixture_free(fixture *f);

/* One fixture for the life of the process (for fuzz targets, which have
 * no main of their own); built on first use, never freed. */
fixture *fixture_static(void);

/* A complete alert whose description has `desc_len` bytes. */
void fixture_alert(cdx_alert *a, cdx_tlp tlp, size_t desc_len);

/* A body header; payload left to the caller. */
void fixture_body(cdx_body *b, const char *sender, uint64_t seq, const uint8_t *prev,
                  const char *topic, uint64_t sent_at_ms);

/* Signs a TLP:GREEN alert (description desc_len bytes) as `who`. */
cdx_err fixture_sign_alert(const cdx_identity *who, uint64_t seq, const uint8_t *prev,
                           uint64_t sent_at_ms, size_t desc_len, cdx_bytes *out,
                           uint8_t hash[CDX_HASH_BYTES]);

/* Signs body `b` with `key`'s signing key under the name `signer`, and
 * wraps it in an envelope, without any of cdx_envelope_sign's checks:
 * what a forger (or a client that shares no code with libcydex) can send.
 * hash (may be NULL) gets the envelope hash. Exits the test on failure. */
void fixture_forge(const cdx_identity *key, const char *signer, const cdx_body *b, cdx_bytes *out,
                   uint8_t hash[CDX_HASH_BYTES]);

/* A fresh, empty temporary folder (mkdtemp under TMPDIR or /tmp); the
 * caller removes it with fixture_rmtree. */
void fixture_tmpdir(char out[256]);
void fixture_rmtree(const char *path);
/* Bytes of DIR/data.mdb its log uses (to LMDB's last page), and the
 * file's length, which may be more: room written ahead (lib/log_room.c). */
void fixture_log_use(const char *dir, uint64_t *used, uint64_t *length);
/* A hex editor's damage to DIR/data.mdb: marks as a branch page the nth
 * (from 1, in file order) leaf page that holds `text` and not `unless`
 * (NULL: no such condition). false if there is no such page. */
bool fixture_lmdb_mark_branch(const char *dir, const char *text, const char *unless, int nth);

/* Forks a child that runs child(dir, fd) and never returns (it _exits),
 * fd being the write end of a pipe whose read end goes to *read_fd. */
pid_t fixture_fork(void (*child)(const char *dir, int fd), const char *dir, int *read_fd);

/* Reads fd to its end (at most cap - 1 bytes) into buf, NUL-terminated. */
void fixture_read_all(int fd, char *buf, size_t cap);

#endif
