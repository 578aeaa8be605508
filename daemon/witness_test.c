/* The witness of a broker's log (daemon/witness.c), step by step: the
 * first head is held; one with another root at the held size is
 * inconsistent (a member's agreeing co-signature is no news); a newer one
 * is asked about, held only when the broker's consistency proof holds, and
 * kept out when it does not; heads that come while a proof is out wait
 * their turn (asked again after DAEMON_WITNESS_ASK_AGAIN_MS); older heads
 * are left alone. Heads are real signed envelopes; proofs come from a tree
 * built here. */
#include <string.h>

#include "check.h"
#include "cydex/merkle.h"
#include "fixture.h"
#include "witness.h"

static fixture F;
static uint8_t s_leaf[64][CDX_HASH_BYTES];

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

static const cdx_merkle_source s_tree = {s_node, NULL};

/* broker.alpha's head of its log at size (root: the tree's, or `fill`
 * bytes if fill is non-zero), verified. */
static cdx_envelope *s_head(uint64_t seq, uint64_t size, uint8_t fill)
{
    cdx_body b;
    fixture_body(&b, "broker.alpha", seq, NULL, "sth", FIXTURE_T0 + seq);
    b.has_prev_hash = seq > 1;
    memset(b.prev_hash, 7, sizeof b.prev_hash);
    b.kind = CDX_PAYLOAD_TREE_HEAD;
    b.tree_head.origin = strdup("cydex/broker.alpha");
    b.tree_head.size = size;
    if (fill)
        memset(b.tree_head.root, fill, CDX_HASH_BYTES);
    else
        REQUIRE(cdx_merkle_root(&s_tree, size, b.tree_head.root) == CDX_OK);
    cdx_bytes raw = {0};
    REQUIRE(cdx_envelope_sign(F.broker, &b, &raw, NULL, NULL) == CDX_OK);
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_verify(&env, F.roster, raw.data, raw.len, NULL, NULL) == CDX_OK);
    cdx_bytes_free(&raw);
    cdx_body_clear(&b);
    return env;
}

/* The broker's answer to the request the witness would send now. */
static void s_answer(daemon_witness *w, bool honest, daemon_witness_step *st)
{
    cdx_catchup_request q;
    daemon_witness_request(w, &q);
    CHECK(daemon_witness_reply_is(q.request_id));
    cdx_catchup_reply rep = {0};
    memcpy(rep.request_id, q.request_id, sizeof rep.request_id);
    REQUIRE(cdx_merkle_consistency_proof(&s_tree, q.proof_old, q.proof_new, rep.consistency,
                                         &rep.n_consistency) == CDX_OK);
    if (!honest)
        rep.consistency[0][0] ^= 1;
    daemon_witness_asked(w, 1000);
    daemon_witness_answer(w, &rep, st);
}

int main(void)
{
    fixture_init(&F);
    for (int i = 0; i < 64; i++)
        cdx_merkle_leaf_hash(s_leaf[i], (const uint8_t *)&i, sizeof i);
    daemon_witness w = {0};
    daemon_witness_step st;

    /* The first head is held as it comes, to co-sign. */
    cdx_envelope *h5 = s_head(1, 5, 0);
    daemon_witness_offer(&w, h5, NULL, 0, &st);
    CHECK(w.have && w.size == 5 && st.held && st.held_size == 5);
    CHECK(!st.ask && !st.witnessed && !st.inconsistent);
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(h5, &len);
    CHECK(st.held_len == len && memcmp(st.held, raw, len) == 0);

    /* The same head again: consistent; in a member's co-signature: nothing. */
    daemon_witness_offer(&w, h5, NULL, 0, &st);
    CHECK(st.witnessed && st.held && !st.inconsistent);
    daemon_witness_offer(&w, h5, "FR", 0, &st);
    CHECK(!st.witnessed && !st.held && !st.inconsistent && !st.ask);

    /* Another root at size 5, co-signed by EE: inconsistent at once. */
    cdx_envelope *lie5 = s_head(2, 5, 0xab);
    daemon_witness_offer(&w, lie5, "EE", 0, &st);
    CHECK(st.inconsistent && st.bad_size == 5 && st.against_size == 5);
    CHECK_STR(st.why, "has another root than");
    CHECK_STR(st.via, "EE");
    CHECK(w.size == 5);

    /* Size 9: asked about; 12 comes meanwhile and waits; 3 is older. */
    cdx_envelope *h9 = s_head(3, 9, 0), *h12 = s_head(4, 12, 0), *h3 = s_head(5, 3, 0);
    daemon_witness_offer(&w, h9, NULL, 0, &st);
    CHECK(st.ask && !st.held);
    cdx_catchup_request q;
    daemon_witness_request(&w, &q);
    CHECK(q.proof_old == 5 && q.proof_new == 9);
    daemon_witness_asked(&w, 1000);
    daemon_witness_offer(&w, h12, NULL, 2000, &st);
    CHECK(!st.ask); /* one request at a time */
    daemon_witness_offer(&w, h3, NULL, 2000, &st);
    CHECK(!st.ask && !st.held && !st.inconsistent && !st.witnessed);
    /* The proof from 5 to 9 holds: 9 is held; 12 is asked about next. */
    cdx_catchup_reply rep = {0};
    REQUIRE(cdx_merkle_consistency_proof(&s_tree, 5, 9, rep.consistency, &rep.n_consistency) ==
            CDX_OK);
    daemon_witness_answer(&w, &rep, &st);
    CHECK(st.witnessed && st.held_size == 9 && w.size == 9);
    raw = cdx_envelope_bytes(h9, &len);
    CHECK(st.held_len == len && memcmp(st.held, raw, len) == 0);
    CHECK(st.ask);
    daemon_witness_request(&w, &q);
    CHECK(q.proof_old == 9 && q.proof_new == 12);
    /* An answer nobody waits for changes nothing. */
    daemon_witness_answer(&w, &rep, &st);
    CHECK(!st.witnessed && !st.inconsistent && w.size == 9);

    /* 12 with a proof that does not hold: inconsistent, 9 kept. */
    s_answer(&w, false, &st);
    CHECK(st.inconsistent && st.bad_size == 12 && st.against_size == 9 && w.size == 9);
    CHECK_STR(st.why, "is not consistent with");
    CHECK_STR(st.via, "");
    CHECK(!st.held && !st.ask);

    /* A later head co-signed by DE whose root the tree lacks: the broker's
     * honest proof cannot reach it. */
    cdx_envelope *lie20 = s_head(6, 20, 0xcd);
    daemon_witness_offer(&w, lie20, "DE", 3000, &st);
    CHECK(st.ask);
    s_answer(&w, true, &st);
    CHECK(st.inconsistent && st.bad_size == 20 && w.size == 9);
    CHECK_STR(st.via, "DE");

    /* The broker answers with no proof: said, nothing held. */
    cdx_envelope *h30 = s_head(7, 30, 0);
    daemon_witness_offer(&w, h30, NULL, 4000, &st);
    CHECK(st.ask);
    daemon_witness_asked(&w, 4000);
    cdx_catchup_reply none = {0};
    strcpy(none.error, "no such size");
    daemon_witness_answer(&w, &none, &st);
    CHECK(st.no_proof && strcmp(st.no_proof, "no such size") == 0);
    CHECK(st.no_proof_old == 9 && st.no_proof_new == 30 && w.size == 9);

    /* No answer at all: asked again once DAEMON_WITNESS_ASK_AGAIN_MS passed. */
    cdx_envelope *h40 = s_head(8, 40, 0), *h41 = s_head(9, 41, 0);
    daemon_witness_offer(&w, h40, NULL, 5000, &st);
    CHECK(st.ask);
    daemon_witness_asked(&w, 5000);
    daemon_witness_offer(&w, h41, NULL, 5000 + DAEMON_WITNESS_ASK_AGAIN_MS, &st);
    CHECK(!st.ask);
    daemon_witness_offer(&w, h41, NULL, 5001 + DAEMON_WITNESS_ASK_AGAIN_MS, &st);
    CHECK(!st.ask); /* 41 is already the one waiting */
    cdx_envelope *h42 = s_head(10, 42, 0);
    daemon_witness_offer(&w, h42, NULL, 5001 + DAEMON_WITNESS_ASK_AGAIN_MS, &st);
    CHECK(st.ask);
    s_answer(&w, true, &st);
    CHECK(st.witnessed && w.size == 42);

    cdx_envelope *all[] = {h5, lie5, h9, h12, h3, lie20, h30, h40, h41, h42};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        cdx_envelope_destroy(&all[i]);
    daemon_witness_clear(&w);
    fixture_free(&F);
    return check_done("daemon_witness_test");
}
