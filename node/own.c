/* cydex-node's own hash chain: what it signs (published alerts, acks,
 * auto-acks, heartbeats), logs with an outbox mark in the transaction that
 * logs it, sends to every broker, and resends until a broker's signed
 * receipt clears the mark.
 *
 * Invariants: our seqs rise by one with each envelope, each naming the
 * hash of the one before (the chain survives restarts: it is read back
 * from the log); nothing is sent before it is durable in our log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/receipt.h"
#include "internal.h"

void node__send_out(node *n, const char *topic, const uint8_t *raw, size_t len)
{
    cdx_bytes frames[2] = {{(uint8_t *)topic, strlen(topic)}, {(uint8_t *)raw, len}};
    for (size_t i = 0; i < n->n_links; i++)
        cdx_sock_send(n->link[i].ingress, frames, 2, 0);
}

static cdx_err s_resend_one(void *ctx, const char *topic, cdx_log_entry *e)
{
    node__send_out(ctx, topic, e->envelope.data, e->envelope.len);
    return CDX_OK;
}

bool node__oldest_waiting(node *n, uint64_t *seq, uint64_t *logged_at_ms)
{
    uint64_t index;
    cdx_log_entry e;
    if (cdx_log_outbox_oldest(n->member.log, &index, NULL) != CDX_OK ||
        cdx_log_get(n->member.log, index, &e, NULL) != CDX_OK)
        return false;
    cdx_envelope *env = NULL;
    bool ok = cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK;
    if (ok) {
        *seq = cdx_envelope_body(env)->seq;
        *logged_at_ms = e.received_at_ms;
    }
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    return ok;
}

void node__resend(node *n, bool always)
{
    n->next_resend_ms = cdx_mono_ms() + n->cfg.resend_ms;
    size_t count = 0;
    if (!always) {
        uint64_t oldest = UINT64_MAX;
        cdx_err known = cdx_log_outbox_oldest(n->member.log, &oldest, &count);
        if (!count) {
            n->resend_oldest = UINT64_MAX;
            return;
        }
        /* Receipts come in the order the broker logged, so the oldest
         * moving on means the brokers take what we send: sending it all
         * again would only crowd a slow link. One that stays the oldest a
         * whole period was lost (or no broker is there): send again. A
         * schema 2 outbox does not say which is oldest: every period. */
        if (known == CDX_OK && oldest != n->resend_oldest) {
            n->resend_oldest = oldest;
            return;
        }
    }
    cdx_log_outbox_scan(n->member.log, s_resend_one, n, &count);
    n->resends += count > 0;
}

void node__own_header(node *n, const node_chain *c, cdx_body *b, const char *topic)
{
    b->sender = strdup(n->cfg.id);
    b->topic = strdup(topic);
    b->sent_at_ms = cdx_now_ms();
    b->seq = 1;
    if (c->have) {
        b->seq = c->seq + 1;
        b->has_prev_hash = true;
        memcpy(b->prev_hash, c->hash, CDX_HASH_BYTES);
        return;
    }
    cdx_log_sender own;
    if (cdx_log_sender_get(n->member.log, n->cfg.id, &own) == CDX_OK) {
        b->seq = own.max_seq + 1;
        b->has_prev_hash = true;
        memcpy(b->prev_hash, own.max_hash, CDX_HASH_BYTES);
    }
}

cdx_err node__sign(node *n, node_chain *c, cdx_body *b, node_out *o, cdx_errbuf *eb)
{
    /* The roster must agree, or brokers will refuse it. */
    cdx_err rc = cdx_batch_signer_add(n->signer, n->member.roster, b, o->hash, eb);
    if (rc != CDX_OK)
        return rc;
    o->signing = true;
    if (!n->cfg.sign_batches && (rc = node__signed(n, o, 1, eb)) != CDX_OK)
        return rc;
    o->seq = b->seq;
    snprintf(o->topic, sizeof o->topic, "%s", b->topic);
    c->have = true;
    c->seq = b->seq;
    memcpy(c->hash, o->hash, CDX_HASH_BYTES);
    return CDX_OK;
}

cdx_err node__signed(node *n, node_out *o, size_t k, cdx_errbuf *eb)
{
    cdx_envelope *envs[CDX_BATCH_MAX];
    cdx_err rc =
        cdx_batch_signer_count(n->signer) ? cdx_batch_signer_finish(n->signer, envs, eb) : CDX_OK;
    bool batch = false;
    for (size_t i = 0, j = 0; i < k; i++)
        if (o[i].signing) {
            o[i].signing = false;
            if (rc != CDX_OK)
                continue;
            o[i].env = envs[j++];
            /* One signature for the batch, one for each signed alone. */
            bool in = cdx_envelope_batch(o[i].env, NULL);
            n->signatures += !in || !batch;
            n->batch_signed += in;
            batch = batch || in;
        }
    return rc;
}

/* Whether envs[i] is an alert to acknowledge: readable by us, not ours,
 * not in the log yet (by hash, nor its (sender, seq): that would be
 * equivocation, evidence, not news), and not earlier in this batch. */
static bool s_wants_ack(node *n, cdx_envelope *const *envs, size_t i)
{
    const cdx_body *b = cdx_envelope_body(envs[i]);
    const uint8_t *h = cdx_envelope_hash(envs[i]);
    uint64_t index;
    if (strcmp(b->sender, n->cfg.id) == 0 ||
        !(b->kind == CDX_PAYLOAD_ALERT ||
          (b->kind == CDX_PAYLOAD_SEALED && cdx_sealed_names(&b->sealed, n->cfg.id))) ||
        cdx_log_find_hash(n->member.log, h, &index) == CDX_OK ||
        cdx_log_find_seq(n->member.log, b->sender, b->seq, &index) == CDX_OK)
        return false;
    for (size_t j = 0; j < i; j++) {
        const cdx_body *o = cdx_envelope_body(envs[j]);
        if (memcmp(cdx_envelope_hash(envs[j]), h, CDX_HASH_BYTES) == 0 ||
            (o->seq == b->seq && strcmp(o->sender, b->sender) == 0))
            return false;
    }
    return true;
}

size_t node__auto_acks(node *n, cdx_envelope *const *envs, size_t count, node_chain *c,
                       node_out *acks)
{
    size_t k = 0, signed_k = 0; /* acks[0, signed_k) have their envelopes */
    cdx_errbuf eb = {0};
    cdx_err rc = CDX_OK;
    for (size_t i = 0; i < count; i++) {
        if (!s_wants_ack(n, envs, i))
            continue;
        if (cdx_batch_signer_count(n->signer) == CDX_BATCH_MAX) {
            rc = node__signed(n, acks, k, &eb);
            signed_k = rc == CDX_OK ? k : signed_k;
            if (rc != CDX_OK)
                break;
        }
        const cdx_body *ab = cdx_envelope_body(envs[i]);
        cdx_alert opened = {0};
        const char *id = ab->alert.id;
        if (ab->kind == CDX_PAYLOAD_SEALED)
            id = cdx_envelope_open(envs[i], n->member.me, &opened, NULL) == CDX_OK ? opened.id
                                                                                   : NULL;
        cdx_body b = {.kind = CDX_PAYLOAD_ACK};
        memcpy(b.ack.alert_hash, cdx_envelope_hash(envs[i]), CDX_HASH_BYTES);
        b.ack.stage = CDX_ACK_RECEIVED;
        b.ack.alert_id = strdup(id ? id : "");
        b.ack.note = strdup("");
        node__own_header(n, c, &b, "ack");
        memset(&acks[k], 0, sizeof acks[k]);
        cdx_errbuf why = {0};
        cdx_err one = node__sign(n, c, &b, &acks[k], &why);
        if (one == CDX_OK)
            k++;
        else
            daemon_log(&n->member.say, "could not sign an automatic ack: %s",
                       cdx_errbuf_msg(&why, one));
        cdx_body_clear(&b);
        cdx_alert_clear(&opened);
    }
    if (rc == CDX_OK) {
        rc = node__signed(n, acks, k, &eb);
        signed_k = rc == CDX_OK ? k : signed_k;
    }
    if (rc != CDX_OK) { /* what follows would chain to what was not signed */
        daemon_log(&n->member.say, "could not sign automatic acks: %s", cdx_errbuf_msg(&eb, rc));
        cdx_batch_signer_clear(n->signer);
    }
    return signed_k;
}

void node__sent_own(node *n, node_out *o, size_t k)
{
    for (size_t i = 0; i < k; i++) {
        size_t len;
        const uint8_t *raw = cdx_envelope_bytes(o[i].env, &len);
        node__send_out(n, o[i].topic, raw, len);
    }
    if (k && n->cfg.heartbeat_ms) {
        n->heartbeat_gap_ms = n->cfg.heartbeat_ms;
        n->next_heartbeat_ms = cdx_mono_ms() + n->heartbeat_gap_ms;
    }
}

void node__release(node_out *o)
{
    cdx_envelope_destroy(&o->env);
    cdx_msg_clear(&o->req);
}

cdx_err node__emit(node *n, cdx_body *b, const char *what)
{
    node_out o = {0};
    node_chain c = {0};
    cdx_errbuf eb = {0};
    cdx_err rc = node__sign(n, &c, b, &o, &eb);
    if (rc == CDX_OK)
        rc = node__signed(n, &o, 1, &eb);
    if (rc == CDX_OK) {
        cdx_log_append_in in = {
            .env = o.env, .received_at_ms = cdx_now_ms(), .received_from = "local", .outbox = true};
        cdx_log_append_out res;
        rc = cdx_log_append(n->member.log, &in, 1, &res, &eb);
        daemon_wrote(&n->writes, rc, 1, cdx_mono_ms(), &eb);
    }
    if (rc == CDX_OK)
        node__sent_own(n, &o, 1);
    else
        daemon_log(&n->member.say, "could not send a %s: %s", what, cdx_errbuf_msg(&eb, rc));
    node__release(&o);
    return rc;
}

void node__heartbeat(node *n)
{
    cdx_body b = {.kind = CDX_PAYLOAD_HEARTBEAT};
    node_chain c = {0};
    node__own_header(n, &c, &b, "hb");
    b.heartbeat.last_seq = b.seq - 1; /* the envelope before this one */
    b.heartbeat.has_last_hash = b.has_prev_hash;
    memcpy(b.heartbeat.last_hash, b.prev_hash, CDX_HASH_BYTES);
    uint64_t gap = n->heartbeat_gap_ms ? n->heartbeat_gap_ms : n->cfg.heartbeat_ms;
    b.heartbeat.interval_ms = gap;
    if (node__emit(n, &b, "heartbeat") == CDX_OK)
        n->heartbeats++;
    /* Idle: each pause twice the last, up to the cap. */
    uint64_t cap = n->cfg.heartbeat_ms * NODE_HEARTBEAT_BACKOFF;
    n->heartbeat_gap_ms = 2 * gap < cap ? 2 * gap : cap;
    n->next_heartbeat_ms = cdx_mono_ms() + n->heartbeat_gap_ms;
    cdx_body_clear(&b);
}

void node__checkpoint(node *n, bool publish)
{
    uint64_t size = 0;
    if (n->cfg.checkpoint_ms)
        n->next_checkpoint_ms = cdx_mono_ms() + n->cfg.checkpoint_ms;
    if (cdx_log_size(n->member.log, &size) != CDX_OK || size == n->checkpointed_size)
        return;
    /* A key that may not sign now signs no checkpoint either: an auditor
     * would refuse it. */
    char why[256];
    if (node__key_trouble(n, why, sizeof why)) {
        if (!n->checkpoint_held)
            daemon_log(&n->member.say, "no checkpoint of our log: %s", why);
        n->checkpoint_held = true;
        return;
    }
    n->checkpoint_held = false;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_log_checkpoint(n->member.log, n->member.me, cdx_now_ms(), NULL, &eb);
    if (rc != CDX_OK) {
        daemon_log(&n->member.say, "could not sign a checkpoint: %s", cdx_errbuf_msg(&eb, rc));
        return;
    }
    n->checkpointed_size = size;
    if (!publish)
        return;
    cdx_body b = {.kind = CDX_PAYLOAD_TREE_HEAD};
    node_chain c = {0};
    node__own_header(n, &c, &b, "sth");
    b.tree_head.origin = strdup(cdx_log_origin(n->member.log));
    b.tree_head.size = size;
    b.tree_head.timestamp_ms = b.sent_at_ms;
    if (cdx_log_root(n->member.log, size, b.tree_head.root) == CDX_OK &&
        node__emit(n, &b, "tree head") == CDX_OK)
        n->checkpointed_size = size + 1; /* its own entry needs no checkpoint of its own */
    cdx_body_clear(&b);
}

/* A broker refused one of our envelopes for good: it will never be in a
 * log, and the others will see a gap at its seq. Kept for /health and
 * status, with the broker's clock beside ours when that is the reason. */
static void s_refused(node *n, const cdx_receipt *r)
{
    char hex[2 * CDX_HASH_BYTES + 1], clocks[96] = "";
    cdx_hex_encode(hex, r->envelope_hash, CDX_HASH_BYTES);
    if (strcmp(r->reason, cdx_errname(CDX_ERR_CLOCK_SKEW)) == 0 && r->committed_at_ms) {
        double off = ((double)r->committed_at_ms - (double)cdx_now_ms()) / 1000.0;
        snprintf(clocks, sizeof clocks,
                 " (its clock reads %+.0f s from ours: check this host's time)", off);
    }
    snprintf(n->refusal, sizeof n->refusal, "%s refused our envelope %.16s: %s%s", r->broker, hex,
             r->reason, clocks);
    n->own_refused++;
}

/* A round's receipts: their envelopes leave the outbox with the next
 * write transaction, which also keeps each receipt, its bytes as the
 * broker signed them, as evidence (cdx_log_receipt_keep: for every item
 * that says what became of one of our envelopes for good). A transient
 * refusal (the broker's log is full, or its disk) keeps one there, to be
 * resent, and is not kept: the receipt that follows it will be. */
void node__receipts(node *n, node_link *l)
{
    uint8_t(*done)[CDX_HASH_BYTES] = NULL;
    size_t n_done = 0, cap = 0;
    cdx_msg m;
    while (cdx_sock_recv(l->ingress, &m, 0) == CDX_OK) {
        node__heard(l);
        cdx_receipt *r = NULL;
        size_t nr = 0;
        cdx_errbuf eb = {0};
        cdx_err rc = m.n == 2 ? cdx_receipt_verify_many(&r, &nr, n->member.roster, m.frame[1].data,
                                                        m.frame[1].len, &eb)
                              : CDX_ERR_FORMAT;
        if (rc != CDX_OK)
            daemon_log(&n->member.say, "a receipt from %s does not verify: %s", l->cfg->id,
                       cdx_errbuf_msg(&eb, rc));
        if (n_done + nr > cap) {
            size_t want = 2 * (n_done + nr);
            void *p = realloc(done, want * sizeof *done);
            if (p) {
                done = p;
                cap = want;
            }
        }
        size_t n_final = 0; /* r[0, n_final): the items to keep as evidence */
        for (size_t i = 0; i < nr && n_done < cap; i++) {
            bool keep = r[i].status == CDX_RECEIPT_REJECTED &&
                        (strcmp(r[i].reason, "log-full") == 0 || strcmp(r[i].reason, "io") == 0 ||
                         strcmp(r[i].reason, "no-space") == 0);
            if (!keep)
                r[n_final++] = r[i];
            if (r[i].status == CDX_RECEIPT_REJECTED)
                daemon_log(&n->member.say, "%s refused one of our envelopes: %s%s", r[i].broker,
                           r[i].reason, keep ? " (will resend)" : "");
            if (r[i].status == CDX_RECEIPT_REJECTED && !keep)
                s_refused(n, &r[i]);
            else if (r[i].status != CDX_RECEIPT_REJECTED)
                n->refusal[0] = '\0';
            if (!keep)
                memcpy(done[n_done++], r[i].envelope_hash, CDX_HASH_BYTES);
        }
        if (n_final && cdx_log_receipt_keep(n->member.log, m.frame[1].data, m.frame[1].len, r,
                                            n_final) != CDX_OK)
            daemon_log(&n->member.say, "could not keep a receipt from %s: out of memory",
                       l->cfg->id);
        free(r);
        cdx_msg_clear(&m);
    }
    /* Deleted with our next commit: a receipt costs no fsync of its own. */
    cdx_err rc = cdx_log_outbox_forget(n->member.log, done ? done[0] : NULL, n_done);
    if (rc != CDX_OK) /* they stay and are resent; the broker answers "duplicate" */
        daemon_log(&n->member.say, "could not note %zu receipted envelopes: %s", n_done,
                   cdx_strerror(rc));
    free(done);
}
