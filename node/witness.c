/* cydex-node as a witness of its brokers' logs (DESIGN.md section 8).
 *
 * A broker signs a tree head of its log every checkpoint_ms and publishes
 * it on "sth". For each broker it uses, the node keeps the last head it
 * found consistent; a newer head is checked against it with an RFC 9162
 * consistency proof the node asks that broker for (catch-up, proof mode).
 * A proof that does not hold, or two roots signed for one size, is proof
 * that the broker's log did not only grow since: it rewrote or cut
 * entries, or shows others another log. The node says so in its log,
 * counts it (status, metrics) and keeps the old head, so every later head
 * is held against it too. What it checked stays in its own log (the heads
 * are logged entries), under its own signed checkpoints.
 *
 * Each head it comes to hold, the node co-signs: a Witness envelope on
 * "sth" that carries the head as the broker signed it. Every member that
 * logs a co-signature holds the head inside it against its own view of
 * that broker's log, as if the broker had sent it: a broker that shows
 * two states two logs (two roots for one size, or heads no proof joins) is
 * caught by either, with two heads the broker signed as the proof.
 *
 * Invariants: the held head only moves forward through a proof that held;
 * at most one proof request per broker is out at a time (asked again if no
 * answer came in S_ASK_AGAIN_MS); a head is co-signed at most once, and
 * only one larger than the last co-signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/catchup.h"
#include "cydex/merkle.h"
#include "internal.h"

#define S_ASK_AGAIN_MS 30000
/* How far back in a broker's chain the start looks for its last head. */
#define S_LOOK_BACK 64

/* Marks the replies to our proof requests. */
static const uint8_t s_witness_tag[16] = "witness";

bool node__witness_reply_is(const uint8_t request_id[16])
{
    return memcmp(request_id, s_witness_tag, sizeof s_witness_tag) == 0;
}

static node_link *s_link_of(node *n, const char *broker)
{
    for (size_t i = 0; i < n->n_links; i++)
        if (strcmp(n->link[i].cfg->id, broker) == 0)
            return &n->link[i];
    return NULL;
}

/* The newest tree head of `id` our log holds, looking back a little. */
static bool s_last_head(node *n, const char *id, uint64_t *size, uint8_t root[CDX_HASH_BYTES])
{
    cdx_log_sender s;
    if (cdx_log_sender_get(n->member.log, id, &s) != CDX_OK)
        return false;
    for (uint64_t seq = s.max_seq; seq > 0 && seq + S_LOOK_BACK > s.max_seq; seq--) {
        uint64_t index;
        cdx_log_entry e;
        if (cdx_log_find_seq(n->member.log, id, seq, &index) != CDX_OK ||
            cdx_log_get(n->member.log, index, &e, NULL) != CDX_OK)
            continue;
        cdx_envelope *env = NULL;
        bool found = cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK &&
                     cdx_envelope_body(env)->kind == CDX_PAYLOAD_TREE_HEAD;
        if (found) {
            *size = cdx_envelope_body(env)->tree_head.size;
            memcpy(root, cdx_envelope_body(env)->tree_head.root, CDX_HASH_BYTES);
        }
        cdx_envelope_destroy(&env);
        cdx_log_entry_clear(&e);
        if (found)
            return true;
    }
    return false;
}

void node__witness_start(node *n)
{
    for (size_t i = 0; i < n->n_links; i++) {
        node_witness *w = &n->link[i].witness;
        w->have = s_last_head(n, n->link[i].cfg->id, &w->size, w->root);
    }
}

void node__witness_clear(node_witness *w)
{
    cdx_bytes_free(&w->next_head);
    cdx_bytes_free(&w->asked_head);
}

static void s_inconsistent(node *n, node_link *l, uint64_t size, const char *why, const char *via)
{
    n->heads_inconsistent++;
    daemon_log(&n->member.say,
               "INCONSISTENT TREE HEAD: %s's tree head at size %llu%s%s%s %s its head at size "
               "%llu: its log did not only grow (rewritten or cut since, or another log shown "
               "to others); both heads are in our log",
               l->cfg->id, (unsigned long long)size, via && *via ? " (co-signed by " : "",
               via && *via ? via : "", via && *via ? ")" : "", why,
               (unsigned long long)l->witness.size);
}

/* Co-signs a head we now hold (its envelope's bytes), if newer than the
 * last we co-signed. */
static void s_cosign(node *n, node_link *l, const uint8_t *head, size_t len, uint64_t size)
{
    node_witness *w = &l->witness;
    if (!n->cfg.cosign || !len || (w->cosigned_size && size <= w->cosigned_size))
        return;
    cdx_body b = {.kind = CDX_PAYLOAD_WITNESS};
    node_chain c = {0};
    node__own_header(n, &c, &b, "sth");
    b.witness.data = malloc(len);
    if (b.witness.data) {
        memcpy(b.witness.data, head, len);
        b.witness.len = len;
        if (node__emit(n, &b, "co-signature") == CDX_OK) {
            n->heads_cosigned++;
            w->cosigned_size = size;
        }
    }
    cdx_body_clear(&b);
}

static void s_ask(node *n, node_link *l)
{
    node_witness *w = &l->witness;
    cdx_catchup_request q = {.proof_old = w->size, .proof_new = w->next_size};
    memcpy(q.request_id, s_witness_tag, sizeof q.request_id);
    if (!node__send_request(n, l, &q))
        return;
    w->asking = true;
    w->asked_ms = cdx_mono_ms();
    memcpy(w->asked_root, w->next_root, CDX_HASH_BYTES);
    w->asked_size = w->next_size;
    cdx_bytes_free(&w->asked_head);
    w->asked_head = w->next_head; /* moved */
    memset(&w->next_head, 0, sizeof w->next_head);
    memcpy(w->asked_via, w->next_via, sizeof w->asked_via);
}

void node__witness_head(node *n, const cdx_envelope *env, const char *via)
{
    const cdx_body *b = cdx_envelope_body(env);
    node_link *l = s_link_of(n, b->sender);
    if (!l || b->kind != CDX_PAYLOAD_TREE_HEAD)
        return; /* a broker we do not use, or not a head */
    node_witness *w = &l->witness;
    const cdx_tree_head *h = &b->tree_head;
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env, &len);
    if (!w->have) { /* the first we see: nothing to hold it against */
        w->have = true;
        w->size = h->size;
        memcpy(w->root, h->root, CDX_HASH_BYTES);
        s_cosign(n, l, raw, len, h->size);
        return;
    }
    if (h->size == w->size) {
        if (memcmp(h->root, w->root, CDX_HASH_BYTES) != 0) {
            s_inconsistent(n, l, h->size, "has another root than", via);
        } else if (!via) { /* a member's agreeing co-signature is no news */
            n->heads_witnessed++;
            s_cosign(n, l, raw, len, h->size);
        }
        return;
    }
    if (h->size < w->size || (w->next_size >= h->size && w->next_size))
        return; /* an older head (catch-up), or one we will ask about anyway */
    w->next_size = h->size;
    memcpy(w->next_root, h->root, CDX_HASH_BYTES);
    cdx_bytes_free(&w->next_head);
    w->next_head.data = malloc(len);
    if (w->next_head.data) {
        memcpy(w->next_head.data, raw, len);
        w->next_head.len = len;
    }
    snprintf(w->next_via, sizeof w->next_via, "%s", via ? via : "");
    if (!w->asking || cdx_mono_ms() - w->asked_ms > S_ASK_AGAIN_MS)
        s_ask(n, l);
}

void node__witness_cosigned(node *n, const cdx_envelope *env)
{
    const cdx_body *b = cdx_envelope_body(env);
    if (b->kind != CDX_PAYLOAD_WITNESS || strcmp(b->sender, n->cfg.id) == 0)
        return;
    cdx_envelope *head = NULL;
    cdx_errbuf eb = {0};
    cdx_err rc =
        cdx_envelope_verify(&head, n->member.roster, b->witness.data, b->witness.len, NULL, &eb);
    if (rc != CDX_OK) {
        daemon_log(&n->member.say,
                   "%s's co-signature (seq %llu) carries a tree head that does not verify: %s",
                   b->sender, (unsigned long long)b->seq, cdx_errbuf_msg(&eb, rc));
        return;
    }
    const cdx_member *m = cdx_roster_find(n->member.roster, cdx_envelope_signer(head));
    if (m && m->role == CDX_ROLE_BROKER)
        node__witness_head(n, head, b->sender);
    cdx_envelope_destroy(&head);
}

void node__witness_reply(node *n, node_link *l, const cdx_catchup_reply *rep)
{
    node_witness *w = &l->witness;
    if (!w->asking)
        return; /* not asked, or asked again since */
    w->asking = false;
    if (rep->error[0]) {
        daemon_log(&n->member.say, "%s gave no consistency proof from %llu to %llu: %s", l->cfg->id,
                   (unsigned long long)w->size, (unsigned long long)w->asked_size, rep->error);
    } else if (cdx_merkle_verify_consistency(w->size, w->asked_size, w->root, w->asked_root,
                                             (const uint8_t(*)[CDX_HASH_BYTES])rep->consistency,
                                             rep->n_consistency) != CDX_OK) {
        s_inconsistent(n, l, w->asked_size, "is not consistent with", w->asked_via);
    } else {
        n->heads_witnessed++;
        w->size = w->asked_size;
        memcpy(w->root, w->asked_root, CDX_HASH_BYTES);
        s_cosign(n, l, w->asked_head.data, w->asked_head.len, w->asked_size);
    }
    if (w->next_size == w->asked_size)
        w->next_size = 0; /* judged */
    else if (w->next_size > w->size)
        s_ask(n, l); /* a newer head came meanwhile */
}
