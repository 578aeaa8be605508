/* cydex-node's receive path (see node.h).
 *
 * Invariants: nothing unverified is logged; every envelope is logged once
 * (the log refuses duplicates by hash), whichever broker or path brought
 * it; a gap noticed in a sender's seqs is asked for at once from the
 * broker that showed it, and catch-up replies are verified like anything
 * else (without the clock-skew check: they are old by design).
 */
#include "node.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cydex/catchup.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/receipt.h"
#include "cydex/transport.h"
#include "daemon.h"

/* Control requests signed and logged together, at most. */
#define NODE_CONTROL_BATCH 64

typedef struct s_link {
    const node_broker_config *cfg;
    cdx_sock *sub, *cu, *ingress;
} s_link;

struct node {
    node_config cfg;
    daemon_member member; /* key, roster and log */
    cdx_transport *net;
    s_link link[NODE_MAX_BROKERS];
    size_t n_links;
    cdx_sock *control;
    uint64_t next_resend_ms, next_sync_ms;
    uint64_t logged, refused, requested, published;
};

/* Asks a broker for what follows our seqs (sender NULL: every sender),
 * or for one sender's range. */
static void s_request(node *n, s_link *l, const char *sender, uint64_t from, uint64_t to)
{
    cdx_catchup_request q = {.max_batch = 256};
    if (sender) {
        snprintf(q.sender, sizeof q.sender, "%s", sender);
        q.from_seq = from;
        q.to_seq = to;
    } else {
        /* If the log cannot say, no cursors: everything from seq 1. */
        daemon_catchup_after_log(n->member.log, &q);
    }
    cdx_bytes req;
    if (cdx_catchup_request_encode(&q, &req) == CDX_OK) {
        if (cdx_sock_send(l->cu, &req, 1, 1000) == CDX_OK)
            n->requested++;
        cdx_bytes_free(&req);
    }
    if (sender)
        daemon_log(n->cfg.id, "asking %s for %s %llu..%llu", l->cfg->id, sender,
                   (unsigned long long)from, (unsigned long long)to);
    cdx_catchup_request_clear(&q);
}

/* The highest seq the log holds for sender (0: none). */
static uint64_t s_max_seq(const cdx_log_sender *s, size_t n, const char *sender)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s[i].id, sender) == 0)
            return s[i].max_seq;
    return 0;
}

/* Logs verified envelopes in one transaction and asks for what they show
 * is missing. */
static void s_commit(node *n, s_link *l, cdx_envelope **envs, size_t count)
{
    if (!count)
        return;
    cdx_log_sender *before = NULL;
    size_t nb = 0;
    cdx_log_senders(n->member.log, &before, &nb);
    cdx_log_append_in *in = calloc(count, sizeof *in);
    cdx_log_append_out *out = calloc(count, sizeof *out);
    cdx_errbuf eb = {0};
    if (in && out) {
        for (size_t i = 0; i < count; i++)
            in[i] = (cdx_log_append_in){
                .env = envs[i], .received_at_ms = cdx_now_ms(), .received_from = l->cfg->id};
        cdx_err rc = cdx_log_append(n->member.log, in, count, out, &eb);
        if (rc != CDX_OK) {
            daemon_log(n->cfg.id, "log append failed: %s (the brokers still hold these)",
                       cdx_errbuf_msg(&eb, rc));
        } else {
            for (size_t i = 0; i < count; i++) {
                const cdx_body *b = cdx_envelope_body(envs[i]);
                n->logged += out[i].status != CDX_APPEND_DUPLICATE;
                uint64_t had = s_max_seq(before, nb, b->sender);
                if (out[i].status == CDX_APPEND_EQUIVOCATION)
                    daemon_log(n->cfg.id, "EQUIVOCATION: %s signed two envelopes for seq %llu",
                               b->sender, (unsigned long long)b->seq);
                if ((out[i].flags & CDX_LOG_FLAG_GAP) && b->seq > had + 1)
                    s_request(n, l, b->sender, had + 1, b->seq - 1);
                if (b->kind == CDX_PAYLOAD_HEARTBEAT && b->heartbeat.last_seq > had &&
                    b->heartbeat.last_seq >= b->seq)
                    s_request(n, l, b->sender, had + 1, b->heartbeat.last_seq);
            }
        }
    }
    free(before);
    free(in);
    free(out);
}

static cdx_envelope *s_verify(node *n, const cdx_bytes *raw, const char *topic, bool live)
{
    cdx_verify_opts vo = {.topic = topic,
                          .now_ms = live ? cdx_now_ms() : 0,
                          .max_skew_ms = n->cfg.skew_ms,
                          .borrow = true};
    cdx_envelope *env = NULL;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_envelope_verify(&env, n->member.roster, raw->data, raw->len, &vo, &eb);
    if (rc != CDX_OK) {
        n->refused++;
        daemon_log(n->cfg.id, "refused: %s", cdx_errbuf_msg(&eb, rc));
    }
    return env;
}

static void s_live(node *n, s_link *l)
{
    enum { S_MAX = 1000 };
    cdx_msg *msgs = calloc(S_MAX, sizeof *msgs);
    cdx_envelope **envs = calloc(S_MAX, sizeof *envs);
    size_t count = 0, got = 0;
    while (msgs && envs && got < S_MAX && cdx_sock_recv(l->sub, &msgs[got], 0) == CDX_OK) {
        cdx_msg *m = &msgs[got++];
        char topic[CDX_TOPIC_MAX + 1] = "";
        if (m->n != 2 || m->frame[0].len > CDX_TOPIC_MAX)
            continue;
        memcpy(topic, m->frame[0].data, m->frame[0].len);
        topic[m->frame[0].len] = '\0';
        cdx_envelope *env = s_verify(n, &m->frame[1], topic, true);
        if (env)
            envs[count++] = env;
    }
    s_commit(n, l, envs, count);
    for (size_t i = 0; i < count; i++)
        cdx_envelope_destroy(&envs[i]);
    for (size_t i = 0; msgs && i < got; i++)
        cdx_msg_clear(&msgs[i]);
    free(msgs);
    free(envs);
}

static void s_catchup(node *n, s_link *l)
{
    cdx_msg m;
    while (cdx_sock_recv(l->cu, &m, 0) == CDX_OK) {
        cdx_catchup_reply rep = {0};
        if (m.n == 1 &&
            cdx_catchup_reply_decode(&rep, m.frame[0].data, m.frame[0].len, NULL) == CDX_OK) {
            if (rep.error[0])
                daemon_log(n->cfg.id, "%s refused a catch-up: %s", l->cfg->id, rep.error);
            cdx_envelope **envs = calloc(rep.n + 1, sizeof *envs);
            size_t count = 0;
            for (size_t i = 0; envs && i < rep.n; i++) {
                cdx_envelope *env = s_verify(n, &rep.envelopes[i], NULL, false);
                if (env)
                    envs[count++] = env;
            }
            s_commit(n, l, envs, count);
            for (size_t i = 0; i < count; i++)
                cdx_envelope_destroy(&envs[i]);
            free(envs);
            cdx_catchup_reply_clear(&rep);
        }
        cdx_msg_clear(&m);
    }
}

int node_new(node **out, const node_config *c, char *err, size_t errlen)
{
    *out = NULL;
    node *n = calloc(1, sizeof *n);
    if (!n)
        return 70;
    n->cfg = *c;
    int ec = daemon_member_open(&n->member, c->id, c->key, c->roster, c->log, 65536, err, errlen);
    if (ec != 0) {
        node_destroy(&n);
        return ec;
    }
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_transport_new(&n->net, n->member.me, n->member.roster, &eb);
    for (size_t i = 0; rc == CDX_OK && i < c->n_brokers; i++) {
        const node_broker_config *bc = &n->cfg.broker[i];
        const cdx_member *m = cdx_roster_find(n->member.roster, bc->id);
        if (!m || m->role != CDX_ROLE_BROKER) {
            rc = cdx_errf(&eb, CDX_ERR_UNKNOWN_SENDER, "%s is not a broker of the roster", bc->id);
            break;
        }
        s_link *l = &n->link[n->n_links++];
        l->cfg = bc;
        rc = cdx_sock_connect(&l->sub, n->net, CDX_SOCK_SUB, bc->fanout, m->curve_pk, NULL, &eb);
        /* Topic filters: a comma-separated list of prefixes; none = all. */
        char topics[512];
        snprintf(topics, sizeof topics, "%s", c->subscribe);
        char *save = NULL, *t = strtok_r(topics, ",", &save);
        if (rc == CDX_OK && !t)
            rc = cdx_sock_subscribe(l->sub, "");
        for (; rc == CDX_OK && t; t = strtok_r(NULL, ",", &save))
            rc = cdx_sock_subscribe(l->sub, t);
        if (rc == CDX_OK)
            rc = cdx_sock_connect(&l->cu, n->net, CDX_SOCK_DEALER, bc->catchup, m->curve_pk, NULL,
                                  &eb);
        if (rc == CDX_OK)
            rc = cdx_sock_connect(&l->ingress, n->net, CDX_SOCK_DEALER, bc->ingress, m->curve_pk,
                                  NULL, &eb);
    }
    if (rc == CDX_OK)
        rc = cdx_sock_bind_local(&n->control, n->net, CDX_SOCK_ROUTER, c->control, &eb);
    if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        node_destroy(&n);
        return rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO ? 74 : 78;
    }
    uint64_t size = 0;
    cdx_log_size(n->member.log, &size);
    daemon_log(n->cfg.id, "running: %zu broker%s, log %s (%llu entries), control %s", n->n_links,
               n->n_links == 1 ? "" : "s", c->log, (unsigned long long)size, c->control);
    *out = n;
    return 0;
}

void node_destroy(node **np)
{
    if (!np || !*np)
        return;
    node *n = *np;
    for (size_t i = 0; i < n->n_links; i++) {
        cdx_sock_destroy(&n->link[i].sub);
        cdx_sock_destroy(&n->link[i].cu);
        cdx_sock_destroy(&n->link[i].ingress);
    }
    if (n->control) { /* ours: clients then say "no node" at once, not after a wait */
        cdx_sock_destroy(&n->control);
        if (strncmp(n->cfg.control, "ipc://", 6) == 0)
            unlink(n->cfg.control + 6);
    }
    cdx_transport_destroy(&n->net);
    daemon_member_close(&n->member);
    free(n);
    *np = NULL;
}

/* ---- publishing: own envelopes, the outbox, receipts ---- */

/* To every broker; what a broker does not take now, the resend retries. */
static void s_send_out(node *n, const char *topic, const uint8_t *raw, size_t len)
{
    cdx_bytes frames[2] = {{(uint8_t *)topic, strlen(topic)}, {(uint8_t *)raw, len}};
    for (size_t i = 0; i < n->n_links; i++)
        cdx_sock_send(n->link[i].ingress, frames, 2, 0);
}

static cdx_err s_resend_one(void *ctx, const char *topic, cdx_log_entry *e)
{
    s_send_out(ctx, topic, e->envelope.data, e->envelope.len);
    return CDX_OK;
}

static void s_resend(node *n)
{
    size_t count = 0;
    cdx_log_outbox_scan(n->member.log, s_resend_one, n, &count);
    n->next_resend_ms = cdx_now_ms() + n->cfg.resend_ms;
}

/* One signed request of a control batch, waiting to be logged. */
typedef struct s_out {
    cdx_msg req; /* kept for the reply's routing id */
    cdx_bytes raw;
    cdx_envelope *env;
    uint8_t hash[CDX_HASH_BYTES];
    uint64_t seq;
    char topic[CDX_TOPIC_MAX + 1];
} s_out;

/* Our chain as the batch so far leaves it (have: false until the first). */
typedef struct s_chain {
    bool have;
    uint64_t seq;
    uint8_t hash[CDX_HASH_BYTES];
} s_chain;

/* Fills sender, seq and prev_hash from our own chain: the batch's last
 * envelope, or the log's. */
static void s_own_header(node *n, const s_chain *c, cdx_body *b, const char *topic)
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

/* Signs into o and advances the chain; s_control logs the batch. */
static cdx_err s_sign(node *n, s_chain *c, cdx_body *b, s_out *o, cdx_errbuf *eb)
{
    cdx_err rc = cdx_envelope_sign(n->member.me, b, &o->raw, o->hash, eb);
    if (rc == CDX_OK) /* the roster must agree, or brokers will refuse it */
        rc = cdx_envelope_verify(&o->env, n->member.roster, o->raw.data, o->raw.len, NULL, eb);
    if (rc != CDX_OK) {
        cdx_envelope_destroy(&o->env);
        cdx_bytes_free(&o->raw);
        return rc;
    }
    o->seq = b->seq;
    snprintf(o->topic, sizeof o->topic, "%s", b->topic);
    c->have = true;
    c->seq = b->seq;
    memcpy(c->hash, o->hash, CDX_HASH_BYTES);
    return CDX_OK;
}

static void s_reply(node *n, const cdx_bytes *rid, const char *status, const char *a, const char *b)
{
    cdx_bytes f[4] = {*rid,
                      {(uint8_t *)status, strlen(status)},
                      {(uint8_t *)a, strlen(a)},
                      {(uint8_t *)b, strlen(b)}};
    cdx_sock_send(n->control, f, 4, 1000);
}

static char *s_frame_str(const cdx_bytes *f)
{
    char *s = malloc(f->len + 1);
    if (s) {
        memcpy(s, f->data, f->len);
        s[f->len] = '\0';
    }
    return s;
}

/* ["publish"][topic][to: "FR,DE" or ""][alert JSON] */
static cdx_err s_publish_req(node *n, s_chain *c, s_out *o, cdx_errbuf *eb)
{
    cdx_msg *m = &o->req;
    if (m->n != 5)
        return cdx_errf(eb, CDX_ERR_FORMAT, "publish takes topic, recipients and the alert");
    char *topic = s_frame_str(&m->frame[2]), *to = s_frame_str(&m->frame[3]);
    cdx_body b = {0};
    cdx_alert a = {0};
    cdx_err rc = topic && to
                     ? cdx_json_to_alert(&a, (const char *)m->frame[4].data, m->frame[4].len, eb)
                     : CDX_ERR_NOMEM;
    if (rc == CDX_OK) {
        s_own_header(n, c, &b, topic);
    }
    if (rc == CDX_OK && to[0]) {
        cdx_member recips[64];
        size_t nr = 0;
        char *save = NULL;
        for (char *id = strtok_r(to, ",", &save); rc == CDX_OK && id;
             id = strtok_r(NULL, ",", &save)) {
            const cdx_member *mm = cdx_roster_find(n->member.roster, id);
            if (!mm || nr == 64)
                rc = cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "recipient %s is not in the roster", id);
            else
                recips[nr++] = *mm;
        }
        if (rc == CDX_OK)
            rc = cdx_seal_alert(&b.sealed, &a, b.sender, b.seq, b.topic, recips, nr, eb);
        b.kind = CDX_PAYLOAD_SEALED;
    } else if (rc == CDX_OK) {
        b.alert = a;
        memset(&a, 0, sizeof a);
        b.kind = CDX_PAYLOAD_ALERT;
    }
    if (rc == CDX_OK)
        rc = s_sign(n, c, &b, o, eb);
    cdx_alert_clear(&a);
    cdx_body_clear(&b);
    free(topic);
    free(to);
    return rc;
}

/* ["ack"][alert hash hex][stage][note][alert id] */
static cdx_err s_ack_req(node *n, s_chain *c, s_out *o, cdx_errbuf *eb)
{
    cdx_msg *m = &o->req;
    if (m->n != 6)
        return cdx_errf(eb, CDX_ERR_FORMAT, "ack takes the alert hash, a stage, a note, an id");
    char *hex = s_frame_str(&m->frame[2]), *stage = s_frame_str(&m->frame[3]);
    cdx_body b = {0};
    cdx_err rc = hex && stage ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK && cdx_hex_decode(b.ack.alert_hash, CDX_HASH_BYTES, hex) != CDX_OK)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "the alert hash is 64 hex digits");
    if (rc == CDX_OK && cdx_ack_stage_parse(stage, &b.ack.stage) != CDX_OK)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "unknown stage \"%s\"", stage);
    if (rc == CDX_OK) {
        b.ack.note = s_frame_str(&m->frame[4]);
        b.ack.alert_id = s_frame_str(&m->frame[5]);
        b.kind = CDX_PAYLOAD_ACK;
        s_own_header(n, c, &b, "ack");
        rc = s_sign(n, c, &b, o, eb);
    }
    cdx_body_clear(&b);
    free(hex);
    free(stage);
    return rc;
}

static void s_reply_ok(node *n, const s_out *o)
{
    char hex[2 * CDX_HASH_BYTES + 1], s_seq[24];
    cdx_hex_encode(hex, o->hash, CDX_HASH_BYTES);
    snprintf(s_seq, sizeof s_seq, "%llu", (unsigned long long)o->seq);
    s_reply(n, &o->req.frame[0], "ok", hex, s_seq);
}

/* ["status"] -> ["ok"][JSON][""]: what the node has done and holds. */
static void s_status(node *n, const cdx_msg *m)
{
    json_t *o = json_object(), *brokers = json_array(), *senders = json_array();
    uint64_t size = 0;
    size_t pending = 0, ns = 0;
    cdx_log_sender *s = NULL;
    cdx_log_size(n->member.log, &size);
    cdx_log_outbox_scan(n->member.log, NULL, NULL, &pending);
    for (size_t i = 0; i < n->n_links; i++)
        json_array_append_new(brokers, json_string(n->link[i].cfg->id));
    if (cdx_log_senders(n->member.log, &s, &ns) == CDX_OK)
        for (size_t i = 0; i < ns; i++)
            json_array_append_new(senders, json_pack("{s:s,s:I,s:I}", "id", s[i].id, "max_seq",
                                                     (json_int_t)s[i].max_seq, "entries",
                                                     (json_int_t)s[i].count));
    free(s);
    json_object_set_new(o, "id", json_string(n->cfg.id));
    json_object_set_new(o, "log_entries", json_integer((json_int_t)size));
    json_object_set_new(o, "waiting_for_receipt", json_integer((json_int_t)pending));
    json_object_set_new(o, "published", json_integer((json_int_t)n->published));
    json_object_set_new(o, "logged", json_integer((json_int_t)n->logged));
    json_object_set_new(o, "refused", json_integer((json_int_t)n->refused));
    json_object_set_new(o, "catchup_requests", json_integer((json_int_t)n->requested));
    json_object_set_new(o, "brokers", brokers);
    json_object_set_new(o, "senders", senders);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text)
        s_reply(n, &m->frame[0], "ok", text, "");
    else
        s_reply(n, &m->frame[0], "error", "no-memory", "could not build the status");
    free(text);
}

/* Requests waiting on the control socket are signed one by one, then
 * logged (with the outbox) in one transaction, then sent and answered:
 * one fsync per poll round, not per request. A request is answered "ok"
 * only once its envelope is durable. */
static void s_control(node *n)
{
    s_out out[NODE_CONTROL_BATCH];
    s_chain chain = {0};
    size_t k = 0;
    while (k < NODE_CONTROL_BATCH) {
        s_out *o = &out[k];
        memset(o, 0, sizeof *o);
        if (cdx_sock_recv(n->control, &o->req, 0) != CDX_OK)
            break;
        cdx_msg *m = &o->req;
        cdx_errbuf eb = {0};
        cdx_err rc = CDX_ERR_FORMAT;
        bool publish = m->n >= 2 && m->frame[1].len == 7 && !memcmp(m->frame[1].data, "publish", 7);
        bool ack = m->n >= 2 && m->frame[1].len == 3 && !memcmp(m->frame[1].data, "ack", 3);
        if (m->n == 2 && m->frame[1].len == 6 && !memcmp(m->frame[1].data, "status", 6)) {
            s_status(n, m);
            cdx_msg_clear(m);
            continue;
        }
        if (publish)
            rc = s_publish_req(n, &chain, o, &eb);
        else if (ack)
            rc = s_ack_req(n, &chain, o, &eb);
        else
            cdx_errf(&eb, rc, "unknown request");
        if (rc == CDX_OK) {
            k++;
            continue;
        }
        if (m->n >= 1)
            s_reply(n, &m->frame[0], "error", cdx_errname(rc), cdx_errbuf_msg(&eb, rc));
        cdx_msg_clear(m);
    }
    if (k == 0)
        return;
    cdx_log_append_in in[NODE_CONTROL_BATCH];
    cdx_log_append_out res[NODE_CONTROL_BATCH];
    uint64_t now = cdx_now_ms();
    for (size_t i = 0; i < k; i++)
        in[i] = (cdx_log_append_in){
            .env = out[i].env, .received_at_ms = now, .received_from = "local", .outbox = true};
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_log_append(n->member.log, in, k, res, &eb);
    if (rc != CDX_OK)
        daemon_log(n->cfg.id, "could not log %zu own envelope%s: %s", k, k == 1 ? "" : "s",
                   cdx_errbuf_msg(&eb, rc));
    for (size_t i = 0; i < k; i++) {
        s_out *o = &out[i];
        if (rc == CDX_OK) {
            s_send_out(n, o->topic, o->raw.data, o->raw.len);
            n->published++;
            s_reply_ok(n, o);
        } else {
            s_reply(n, &o->req.frame[0], "error", cdx_errname(rc), cdx_errbuf_msg(&eb, rc));
        }
        cdx_envelope_destroy(&o->env);
        cdx_bytes_free(&o->raw);
        cdx_msg_clear(&o->req);
    }
}

static void s_receipts(node *n, s_link *l)
{
    cdx_msg m;
    while (cdx_sock_recv(l->ingress, &m, 0) == CDX_OK) {
        cdx_receipt r;
        cdx_errbuf eb = {0};
        if (m.n == 2 && cdx_receipt_verify(&r, n->member.roster, m.frame[1].data, m.frame[1].len,
                                           &eb) == CDX_OK) {
            bool keep = r.status == CDX_RECEIPT_REJECTED &&
                        (strcmp(r.reason, "log-full") == 0 || strcmp(r.reason, "io") == 0 ||
                         strcmp(r.reason, "no-space") == 0);
            if (r.status == CDX_RECEIPT_REJECTED)
                daemon_log(n->cfg.id, "%s refused one of our envelopes: %s%s", r.broker, r.reason,
                           keep ? " (will resend)" : "");
            if (!keep)
                cdx_log_outbox_remove(n->member.log, r.envelope_hash);
        } else {
            daemon_log(n->cfg.id, "a receipt from %s does not verify: %s", l->cfg->id,
                       cdx_errbuf_msg(&eb, CDX_ERR_FORMAT));
        }
        cdx_msg_clear(&m);
    }
}

int node_run(node *n, volatile sig_atomic_t *stop)
{
    /* Back from a stop: everything after what the log holds. */
    for (size_t i = 0; i < n->n_links; i++)
        s_request(n, &n->link[i], NULL, 0, 0);
    s_resend(n); /* what a previous run published but never saw receipted */
    n->next_sync_ms = cdx_now_ms() + n->cfg.sync_ms;
    while (!*stop) {
        uint64_t now = cdx_now_ms();
        if (now >= n->next_resend_ms)
            s_resend(n);
        if (now >= n->next_sync_ms) {
            /* Tail loss: what the live link dropped last, nothing after it
             * reveals; asking now and then does. Cheap when nothing is new. */
            for (size_t i = 0; i < n->n_links; i++)
                s_request(n, &n->link[i], NULL, 0, 0);
            n->next_sync_ms = now + n->cfg.sync_ms;
        }
        cdx_sock *socks[1 + 3 * NODE_MAX_BROKERS] = {n->control};
        bool ready[1 + 3 * NODE_MAX_BROKERS] = {false};
        for (size_t i = 0; i < n->n_links; i++) {
            socks[1 + 3 * i] = n->link[i].sub;
            socks[2 + 3 * i] = n->link[i].cu;
            socks[3 + 3 * i] = n->link[i].ingress;
        }
        cdx_err rc = cdx_sock_poll(socks, 1 + 3 * n->n_links, 200, ready);
        if (rc == CDX_ERR_STOPPED)
            break;
        if (ready[0])
            s_control(n);
        for (size_t i = 0; i < n->n_links; i++) {
            if (ready[1 + 3 * i])
                s_live(n, &n->link[i]);
            if (ready[2 + 3 * i])
                s_catchup(n, &n->link[i]);
            if (ready[3 + 3 * i])
                s_receipts(n, &n->link[i]);
        }
    }
    size_t pending = 0;
    cdx_log_outbox_scan(n->member.log, NULL, NULL, &pending);
    daemon_log(n->cfg.id,
               "stopping: %llu published, %llu logged, %llu refused, %llu catch-up requests this "
               "run; %zu waiting for a receipt",
               (unsigned long long)n->published, (unsigned long long)n->logged,
               (unsigned long long)n->refused, (unsigned long long)n->requested, pending);
    return 0;
}
