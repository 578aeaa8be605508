/* cydex-node as a witness of its brokers' logs (DESIGN.md section 8).
 *
 * A broker signs a tree head of its log every checkpoint_ms and publishes
 * it on "sth". For each broker it uses, the node holds the heads against
 * each other (daemon/witness.c: consistency proofs it asks that broker
 * for); one that does not hold is said in the node's log, counted (status,
 * metrics), and both heads stay in the node's log as proof.
 *
 * Each head it comes to hold, the node co-signs: a Witness envelope on
 * "sth" that carries the head as the broker signed it. Every member that
 * logs a co-signature holds the head inside it against its own view of
 * that broker's log, as if the broker had sent it: a broker that shows
 * two states two logs (two roots for one size, or heads no proof joins) is
 * caught by either, with two heads the broker signed as the proof. A head
 * is co-signed at most once, and only one larger than the last co-signed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/catchup.h"
#include "internal.h"

static node_link *s_link_of(node *n, const char *broker)
{
    for (size_t i = 0; i < n->n_links; i++)
        if (strcmp(n->link[i].cfg->id, broker) == 0)
            return &n->link[i];
    return NULL;
}

void node__witness_start(node *n)
{
    for (size_t i = 0; i < n->n_links; i++)
        daemon_witness_start(&n->link[i].witness.w, n->member.log, n->link[i].cfg->id);
}

void node__witness_clear(node_witness *w)
{
    daemon_witness_clear(&w->w);
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

/* Does what a step of the link's witness says. */
static void s_act(node *n, node_link *l, const daemon_witness_step *st)
{
    daemon_witness *w = &l->witness.w;
    if (st->inconsistent) {
        n->heads_inconsistent++;
        daemon_witness_say(&n->member.say, l->cfg->id, st);
    }
    if (st->no_proof)
        daemon_log(&n->member.say, "%s gave no consistency proof from %llu to %llu: %s", l->cfg->id,
                   (unsigned long long)st->no_proof_old, (unsigned long long)st->no_proof_new,
                   st->no_proof);
    n->heads_witnessed += st->witnessed;
    if (st->held)
        s_cosign(n, l, st->held, st->held_len, st->held_size);
    if (st->ask) {
        cdx_catchup_request q;
        daemon_witness_request(w, &q);
        if (node__send_request(n, l, &q))
            daemon_witness_asked(w, cdx_mono_ms());
    }
}

void node__witness_head(node *n, const cdx_envelope *env, const char *via)
{
    const cdx_body *b = cdx_envelope_body(env);
    node_link *l = s_link_of(n, b->sender);
    if (!l || b->kind != CDX_PAYLOAD_TREE_HEAD)
        return; /* a broker we do not use, or not a head */
    daemon_witness_step st;
    daemon_witness_offer(&l->witness.w, env, via, cdx_mono_ms(), &st);
    s_act(n, l, &st);
}

void node__witness_cosigned(node *n, const cdx_envelope *env)
{
    const cdx_body *b = cdx_envelope_body(env);
    if (b->kind != CDX_PAYLOAD_WITNESS || strcmp(b->sender, n->cfg.id) == 0)
        return;
    cdx_errbuf eb = {0};
    cdx_envelope *head = NULL;
    cdx_err rc = daemon_witness_cosigned_head(&head, env, n->member.roster, &eb);
    if (rc != CDX_OK)
        daemon_log(&n->member.say,
                   "%s's co-signature (seq %llu) carries a tree head that does not verify: %s",
                   b->sender, (unsigned long long)b->seq, cdx_errbuf_msg(&eb, rc));
    else if (head)
        node__witness_head(n, head, b->sender);
    cdx_envelope_destroy(&head);
}

void node__witness_reply(node *n, node_link *l, const cdx_catchup_reply *rep)
{
    daemon_witness_step st;
    daemon_witness_answer(&l->witness.w, rep, &st);
    s_act(n, l, &st);
}
