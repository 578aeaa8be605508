/* Witnessing one broker's log (DESIGN.md section 8), without I/O: what a
 * daemon holds of the tree heads that broker signed, and what it is to do
 * when another head comes (from the broker, or inside a member's
 * co-signature) or the broker answers a proof request. Nodes witness their
 * brokers (node/witness.c), brokers their peers (broker/broker.c).
 *
 * The daemon holds the last head it found consistent; a newer one is held
 * against it with an RFC 9162 consistency proof the daemon asks the broker
 * for (catch-up, proof mode); two roots for one size need none. A head
 * that does not hold is proof that the broker's log did not only grow
 * (rewritten, cut, or another log shown to others); the old head is kept,
 * so every later head is held against it too.
 *
 * Invariants: the held head only moves forward through a proof that held;
 * at most one proof request is out at a time (asked again if no answer came
 * in DAEMON_WITNESS_ASK_AGAIN_MS); a head waiting for its turn is the
 * newest seen. */
#ifndef CYDEX_DAEMON_WITNESS_H
#define CYDEX_DAEMON_WITNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "cydex/catchup.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "daemon.h"

#define DAEMON_WITNESS_ASK_AGAIN_MS 30000

typedef struct daemon_witness {
    bool have;     /* a head held as consistent */
    uint64_t size; /* its size and root */
    uint8_t root[CDX_HASH_BYTES];
    uint64_t next_size; /* a newer head to check (0: none) */
    uint8_t next_root[CDX_HASH_BYTES];
    cdx_bytes next_head;           /* its envelope, as the broker signed it */
    char next_via[CDX_ID_MAX + 1]; /* who co-signed it ("": the broker sent it) */
    bool asking;                   /* a proof request is out, for: */
    uint64_t asked_size, asked_ms;
    uint8_t asked_root[CDX_HASH_BYTES];
    cdx_bytes asked_head;
    char asked_via[CDX_ID_MAX + 1];
} daemon_witness;

/* What to do after an offer or an answer; all false/NULL: nothing. */
typedef struct daemon_witness_step {
    bool ask;       /* send daemon_witness_request's request, then daemon_witness_asked */
    bool witnessed; /* a head found consistent with the one held (count it) */
    /* A head now held (the first, or one just found consistent): its
     * envelope, valid until the next call on the witness (to co-sign). */
    const uint8_t *held;
    size_t held_len;
    uint64_t held_size;
    bool inconsistent; /* a head that does not hold (say so, count it): */
    uint64_t bad_size, against_size;
    const char *why;          /* "has another root than", "is not consistent with" */
    char via[CDX_ID_MAX + 1]; /* who co-signed it ("": the broker sent it) */
    const char *no_proof;     /* the broker answered with no proof: its reason */
    uint64_t no_proof_old, no_proof_new;
} daemon_witness_step;

/* Holds the newest tree head of broker `id` that log holds (looking back
 * a little in its chain), if any: where a restarted daemon goes on. */
void daemon_witness_start(daemon_witness *w, cdx_log *log, const char *id);
void daemon_witness_clear(daemon_witness *w);

/* A tree head the broker signed (its verified envelope), sent by it (via
 * NULL) or inside member via's co-signature. A member's co-signature that
 * agrees with the held head is no news; a head older than the held one is
 * not checked. */
void daemon_witness_offer(daemon_witness *w, const cdx_envelope *head, const char *via,
                          uint64_t now_ms, daemon_witness_step *out);

/* The broker's tree head a member's co-signature (a Witness envelope)
 * carries, for daemon_witness_offer with via = the co-signer: CDX_OK and
 * *head (verified against the roster; the caller destroys it), or *head
 * NULL if it carries no broker's tree head; an error (and eb) if the
 * head's signature does not verify. */
cdx_err daemon_witness_cosigned_head(cdx_envelope **head, const cdx_envelope *cosignature,
                                     const cdx_roster *roster, cdx_errbuf *eb);

/* The proof request to send when a step says ask (request_id marked, see
 * daemon_witness_reply_is), and that it went out at now_ms. */
void daemon_witness_request(const daemon_witness *w, cdx_catchup_request *q);
void daemon_witness_asked(daemon_witness *w, uint64_t now_ms);

/* Says an inconsistent step in the daemon's log: INCONSISTENT TREE HEAD,
 * the broker's id, the two sizes and who co-signed the bad head. */
void daemon_witness_say(const daemon_logger *say, const char *broker,
                        const daemon_witness_step *st);

/* Whether a catch-up reply answers a proof request, and taking it. */
bool daemon_witness_reply_is(const uint8_t request_id[16]);
void daemon_witness_answer(daemon_witness *w, const cdx_catchup_reply *rep,
                           daemon_witness_step *out);

#endif
