/* Witnessing one broker's log, without I/O (see witness.h). */
#include "witness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/merkle.h"

/* How far back in a broker's chain the start looks for its last head. */
#define S_LOOK_BACK 64

/* Marks the replies to proof requests. */
static const uint8_t s_tag[16] = "witness";

void daemon_witness_say(const daemon_logger *say, const char *broker, const daemon_witness_step *st)
{
    daemon_log(say,
               "INCONSISTENT TREE HEAD: %s's tree head at size %llu%s%s%s %s its head at size "
               "%llu: its log did not only grow (rewritten or cut since, or another log shown "
               "to others); both heads are in our log",
               broker, (unsigned long long)st->bad_size, st->via[0] ? " (co-signed by " : "",
               st->via, st->via[0] ? ")" : "", st->why, (unsigned long long)st->against_size);
}

bool daemon_witness_reply_is(const uint8_t request_id[16])
{
    return memcmp(request_id, s_tag, sizeof s_tag) == 0;
}

void daemon_witness_start(daemon_witness *w, cdx_log *log, const char *id)
{
    daemon_witness_clear(w);
    cdx_log_sender s;
    if (cdx_log_sender_get(log, id, &s) != CDX_OK)
        return;
    for (uint64_t seq = s.max_seq; seq > 0 && seq + S_LOOK_BACK > s.max_seq && !w->have; seq--) {
        uint64_t index;
        cdx_log_entry e;
        if (cdx_log_find_seq(log, id, seq, &index) != CDX_OK ||
            cdx_log_get(log, index, &e, NULL) != CDX_OK)
            continue;
        cdx_envelope *env = NULL;
        if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK &&
            cdx_envelope_body(env)->kind == CDX_PAYLOAD_TREE_HEAD) {
            w->have = true;
            w->size = cdx_envelope_body(env)->tree_head.size;
            memcpy(w->root, cdx_envelope_body(env)->tree_head.root, CDX_HASH_BYTES);
        }
        cdx_envelope_destroy(&env);
        cdx_log_entry_clear(&e);
    }
}

void daemon_witness_clear(daemon_witness *w)
{
    cdx_bytes_free(&w->next_head);
    cdx_bytes_free(&w->asked_head);
    memset(w, 0, sizeof *w);
}

static void s_bad(daemon_witness_step *out, const daemon_witness *w, uint64_t size, const char *why,
                  const char *via)
{
    out->inconsistent = true;
    out->bad_size = size;
    out->against_size = w->size;
    out->why = why;
    snprintf(out->via, sizeof out->via, "%s", via ? via : "");
}

void daemon_witness_offer(daemon_witness *w, const cdx_envelope *head, const char *via,
                          uint64_t now_ms, daemon_witness_step *out)
{
    memset(out, 0, sizeof *out);
    const cdx_body *b = cdx_envelope_body(head);
    if (b->kind != CDX_PAYLOAD_TREE_HEAD)
        return;
    const cdx_tree_head *h = &b->tree_head;
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(head, &len);
    if (!w->have) { /* the first we see: nothing to hold it against */
        w->have = true;
        w->size = h->size;
        memcpy(w->root, h->root, CDX_HASH_BYTES);
        out->held = raw;
        out->held_len = len;
        out->held_size = h->size;
        return;
    }
    if (h->size == w->size) {
        if (memcmp(h->root, w->root, CDX_HASH_BYTES) != 0) {
            s_bad(out, w, h->size, "has another root than", via);
        } else if (!via) { /* a member's agreeing co-signature is no news */
            out->witnessed = true;
            out->held = raw;
            out->held_len = len;
            out->held_size = h->size;
        }
        return;
    }
    if (h->size < w->size || (w->next_size && w->next_size >= h->size))
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
    out->ask = !w->asking || now_ms - w->asked_ms > DAEMON_WITNESS_ASK_AGAIN_MS;
}

cdx_err daemon_witness_cosigned_head(cdx_envelope **head, const cdx_envelope *cosignature,
                                     const cdx_roster *roster, cdx_errbuf *eb)
{
    *head = NULL;
    const cdx_body *b = cdx_envelope_body(cosignature);
    if (b->kind != CDX_PAYLOAD_WITNESS)
        return CDX_OK;
    cdx_err rc = cdx_envelope_verify(head, roster, b->witness.data, b->witness.len, NULL, eb);
    if (rc != CDX_OK)
        return rc;
    const cdx_member *m = cdx_roster_find(roster, cdx_envelope_signer(*head));
    if (!m || m->role != CDX_ROLE_BROKER || cdx_envelope_body(*head)->kind != CDX_PAYLOAD_TREE_HEAD)
        cdx_envelope_destroy(head);
    return CDX_OK;
}

void daemon_witness_request(const daemon_witness *w, cdx_catchup_request *q)
{
    memset(q, 0, sizeof *q);
    q->proof_old = w->size;
    q->proof_new = w->next_size;
    memcpy(q->request_id, s_tag, sizeof q->request_id);
    q->request_id_len = sizeof q->request_id;
}

void daemon_witness_asked(daemon_witness *w, uint64_t now_ms)
{
    w->asking = true;
    w->asked_ms = now_ms;
    memcpy(w->asked_root, w->next_root, CDX_HASH_BYTES);
    w->asked_size = w->next_size;
    cdx_bytes_free(&w->asked_head);
    w->asked_head = w->next_head; /* moved */
    memset(&w->next_head, 0, sizeof w->next_head);
    memcpy(w->asked_via, w->next_via, sizeof w->asked_via);
}

void daemon_witness_answer(daemon_witness *w, const cdx_catchup_reply *rep,
                           daemon_witness_step *out)
{
    memset(out, 0, sizeof *out);
    if (!w->asking)
        return; /* not asked, or asked again since */
    w->asking = false;
    if (rep->error[0]) {
        out->no_proof = rep->error;
        out->no_proof_old = w->size;
        out->no_proof_new = w->asked_size;
    } else if (cdx_merkle_verify_consistency(w->size, w->asked_size, w->root, w->asked_root,
                                             (const uint8_t(*)[CDX_HASH_BYTES])rep->consistency,
                                             rep->n_consistency) != CDX_OK) {
        s_bad(out, w, w->asked_size, "is not consistent with", w->asked_via);
    } else {
        out->witnessed = true;
        w->size = w->asked_size;
        memcpy(w->root, w->asked_root, CDX_HASH_BYTES);
        out->held = w->asked_head.data;
        out->held_len = w->asked_head.len;
        out->held_size = w->asked_size;
    }
    if (w->next_size == w->asked_size)
        w->next_size = 0; /* judged */
    else if (w->next_size > w->size)
        out->ask = true; /* a newer head came meanwhile */
}
