/* cydex-broker's state machine (see broker.h).
 *
 * A round: batch after batch of up to batch_max messages from the ingress
 * (or a peer); verify each (size cap, topic frame = signed topic,
 * signature and roster, clock skew) on the verify threads, the next batch
 * while the current one is committed; append the verified ones in one
 * transaction; only after the commit send each publisher one signed
 * receipt for its envelopes (ACCEPTED / DUPLICATE, and REJECTED with the
 * reason for what was refused), then fan the new envelopes out. Refusals
 * are counted by reason in the log. Nothing is acknowledged before it is
 * durable; nothing unverified is stored or relayed. Catch-up is served
 * in streams beside the rounds (catchup.c).
 */
#include "broker.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "cydex/catchup.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/receipt.h"
#include "cydex/transport.h"
#include "daemon.h"
#include "witness.h"

typedef struct s_peer {
    const broker_peer_config *cfg;
    cdx_sock *sub; /* its fan-out: everything it accepts */
    cdx_sock *cu;  /* its catch-up: what we missed while apart */
    uint64_t next_sync_ms;
    uint64_t sync_heard_ms; /* the sync in hand: asked, or its last reply, at */
    bool syncing;
    bool synced; /* one of its catch-ups has ended since we started */
    bool heard;  /* it has sent a catch-up reply since we started */
    uint64_t received;
    /* Its log, witnessed: its tree heads held against each other with
     * proofs from its catch-up socket (daemon/witness.c). */
    daemon_witness witness;
    uint64_t heads_witnessed, heads_inconsistent;
} s_peer;

typedef struct s_item {
    cdx_msg msg;                   /* what came in (its frames back env's bytes) */
    const cdx_bytes *raw;          /* the envelope's bytes; NULL: the frames were malformed */
    char topic[CDX_TOPIC_MAX + 1]; /* the topic frame ("" for catch-up) */
    size_t topic_len;              /* its length: it may hold a NUL */
    cdx_envelope *env;             /* verified; borrows from msg or a catch-up reply */
    const cdx_bytes *rid;          /* publisher's routing id, for its receipt; NULL for peers */
    uint64_t arrival;              /* when it came, among everything read: its receipt's place */
    const char *from;
} s_item;

struct broker {
    broker_config cfg;
    s_peer peers[BROKER_MAX_PEERS];
    size_t n_peers;
    daemon_member member; /* key, roster and log */
    cdx_transport *net;
    cdx_sock *ingress, *fanout, *catchup;
    broker_catchup *serve; /* the streams of the catch-up socket */
    cdx_bytes roster_seen; /* the last roster update the bus brought, to adopt */
    bool checkpoint_held;  /* our key may not sign now: no checkpoint (said once) */
    s_item *room[2];       /* batch_max items each: a round's batch and the next */
    /* Batch signatures verified, so that a publisher's run read in two
     * batches costs one check; used by one verification at a time. */
    cdx_batch_cache *seen_batches;
    uint64_t next_checkpoint_ms, checkpointed_size;
    /* Something other than tree heads and co-signatures logged since our
     * last checkpoint: heads answer news, and co-signatures answer heads,
     * so checkpoints of those alone would never end (s_is_news). */
    bool news;
    uint64_t chain_since_ms; /* while our own chain may lie beyond our log: since when; else 0 */
    uint64_t accepted, duplicates, rejected;
    uint64_t arrivals;     /* messages read so far (s_item.arrival) */
    uint64_t links_closed; /* ingress connections that closed */
    daemon_writes writes;  /* how the log's commits went */
    daemon_httpd *http;    /* /health and /metrics, if configured */
};

static int s_exit_for(cdx_err rc)
{
    return rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO || rc == CDX_ERR_NOSPACE ? 74 : 78;
}

int broker_new(broker **out, const broker_config *c, char *err, size_t errlen)
{
    *out = NULL;
    broker *b = calloc(1, sizeof *b);
    if (!b)
        return 70;
    b->cfg = *c;
    b->cfg.verify_threads = daemon_verify_threads(c->verify_threads);
    b->room[0] = calloc(c->batch_max, sizeof *b->room[0]);
    b->room[1] = calloc(c->batch_max, sizeof *b->room[1]);
    b->seen_batches = cdx_batch_cache_new();
    if (!b->room[0] || !b->room[1] || !b->seen_batches) {
        broker_destroy(&b);
        return 70;
    }
    daemon_logger say = {.json = c->log_json};
    snprintf(say.id, sizeof say.id, "%s", c->id);
    int ec =
        daemon_member_open(&b->member, &say, c->key, c->roster, c->log, c->map_max_mb, err, errlen);
    if (ec != 0) {
        broker_destroy(&b);
        return ec;
    }
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_transport_new(&b->net, b->member.me, b->member.roster, &eb);
    if (rc == CDX_OK)
        cdx_transport_set_ping(b->net, (unsigned)c->ping_ms);
    /* The ingress reads envelopes up to twice max_envelope (plus framing),
     * so that one over max_envelope is read and refused as "oversize" in a
     * receipt; past that the transport drops the link, which is logged
     * with the member it came from (s_closed_links). */
    cdx_sock_opts so = {.max_msg_size = c->max_envelope + 65536};
    cdx_sock_opts ingress = {.max_msg_size = 2 * c->max_envelope + 65536, .watch_links = true};
    if (rc == CDX_OK)
        rc = cdx_sock_bind(&b->ingress, b->net, CDX_SOCK_ROUTER, c->ingress, &ingress, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_bind(
            &b->fanout, b->net, CDX_SOCK_XPUB, c->fanout,
            &(cdx_sock_opts){.max_msg_size = so.max_msg_size, .hwm = (int)c->fanout_hwm}, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_bind(&b->catchup, b->net, CDX_SOCK_ROUTER, c->catchup,
                           &(cdx_sock_opts){.hwm = 4}, /* replies queued per client, at most */
                           &eb);
    if (rc == CDX_OK)
        rc = broker_catchup_new(&b->serve, b->catchup, b->member.log, &b->member.say);
    for (size_t i = 0; rc == CDX_OK && i < c->n_peers; i++) {
        const broker_peer_config *pc = &b->cfg.peer[i];
        /* The peer's CURVE key valid now (a rotation may list a later one). */
        const cdx_member *m = cdx_roster_find_at(b->member.roster, pc->id, cdx_now_ms());
        if (!m)
            m = cdx_roster_find(b->member.roster, pc->id);
        if (!m || m->role != CDX_ROLE_BROKER) {
            rc = cdx_errf(&eb, CDX_ERR_UNKNOWN_SENDER, "peer %s is not a broker of the roster",
                          pc->id);
            break;
        }
        s_peer *p = &b->peers[b->n_peers++];
        p->cfg = pc;
        rc = cdx_sock_connect(&p->sub, b->net, CDX_SOCK_SUB, pc->fanout, m->curve_pk, &so, &eb);
        if (rc == CDX_OK)
            rc = cdx_sock_subscribe(p->sub, "");
        if (rc == CDX_OK)
            rc = cdx_sock_connect(&p->cu, b->net, CDX_SOCK_DEALER, pc->catchup, m->curve_pk, &so,
                                  &eb);
    }
    if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        broker_destroy(&b);
        return s_exit_for(rc);
    }
    if (c->metrics[0] && daemon_httpd_new(&b->http, c->metrics, broker_page, b, err, errlen)) {
        broker_destroy(&b);
        return 78;
    }
    if (b->http)
        daemon_log(&b->member.say, "health and metrics on http://%s (port %u): /health, /metrics",
                   c->metrics, daemon_httpd_port(b->http));
    uint64_t size = 0;
    cdx_log_size(b->member.log, &size);
    b->checkpointed_size = UINT64_MAX; /* checkpoint once at start */
    b->news = true;
    /* Each peer's log is held against its last head we logged. */
    for (size_t i = 0; i < b->n_peers; i++)
        daemon_witness_start(&b->peers[i].witness, b->member.log, b->peers[i].cfg->id);
    b->next_checkpoint_ms = cdx_mono_ms();
    daemon_log(&b->member.say,
               "serving: ingress %s, fan-out %s, catch-up %s, log %s (%llu entries), roster v%llu",
               cdx_sock_endpoint(b->ingress), cdx_sock_endpoint(b->fanout),
               cdx_sock_endpoint(b->catchup), c->log, (unsigned long long)size,
               (unsigned long long)cdx_roster_version(b->member.roster));
    *out = b;
    return 0;
}

void broker_destroy(broker **bp)
{
    if (!bp || !*bp)
        return;
    broker *b = *bp;
    daemon_httpd_destroy(&b->http);
    broker_catchup_destroy(&b->serve);
    cdx_bytes_free(&b->roster_seen);
    free(b->room[0]);
    free(b->room[1]);
    cdx_batch_cache_destroy(&b->seen_batches);
    cdx_sock_destroy(&b->ingress);
    cdx_sock_destroy(&b->fanout);
    cdx_sock_destroy(&b->catchup);
    for (size_t i = 0; i < b->n_peers; i++) {
        cdx_sock_destroy(&b->peers[i].sub);
        cdx_sock_destroy(&b->peers[i].cu);
        daemon_witness_clear(&b->peers[i].witness);
    }
    cdx_transport_destroy(&b->net);
    daemon_member_close(&b->member);
    free(b);
    *bp = NULL;
}

/* What a batch owes: refusals counted by reason (written to the log once
 * per batch) and the receipts for publishers, sent when the round's last
 * batch is committed, one signed receipt per publisher. */
typedef struct s_pending {
    cdx_bytes rid; /* a copy: the message it came with may be gone */
    uint64_t arrival;
    cdx_receipt r;
} s_pending;

typedef struct s_tally {
    const char *reason[16];
    uint64_t count[16];
    size_t n;
    s_pending *pending;
    size_t n_pending, cap_pending;
} s_tally;

static void s_refuse(s_tally *t, const char *reason)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->reason[i], reason) == 0) {
            t->count[i]++;
            return;
        }
    if (t->n < 16) {
        t->reason[t->n] = reason;
        t->count[t->n++] = 1;
    }
}

/* Owes the publisher of `it` (behind its routing id) a receipt for it;
 * hash NULL: the bytes were no envelope (the item says so with no hash). */
static void s_receipt(broker *b, s_tally *t, const s_item *it, const uint8_t *hash,
                      cdx_receipt_status status, uint64_t index, const char *reason)
{
    const cdx_bytes *rid = it->rid;
    if (t->n_pending == t->cap_pending) {
        size_t cap = t->cap_pending ? 2 * t->cap_pending : 64;
        s_pending *p = realloc(t->pending, cap * sizeof *p);
        if (!p)
            return; /* the publisher resends; the duplicate gets its receipt */
        t->pending = p;
        t->cap_pending = cap;
    }
    s_pending *p = &t->pending[t->n_pending];
    memset(p, 0, sizeof *p);
    p->rid.data = malloc(rid->len ? rid->len : 1);
    if (!p->rid.data)
        return;
    memcpy(p->rid.data, rid->data, rid->len);
    p->rid.len = rid->len;
    p->arrival = it->arrival;
    p->r = (cdx_receipt){.status = status, .log_index = index, .committed_at_ms = cdx_now_ms()};
    snprintf(p->r.broker, sizeof p->r.broker, "%s", b->cfg.id);
    snprintf(p->r.reason, sizeof p->r.reason, "%s", reason ? reason : "");
    if (hash)
        memcpy(p->r.envelope_hash, hash, CDX_HASH_BYTES);
    t->n_pending++;
}

static int s_by_arrival(const void *a, const void *b)
{
    uint64_t x = (*(const s_pending *const *)a)->arrival,
             y = (*(const s_pending *const *)b)->arrival;
    return (x > y) - (x < y);
}

/* Signs and sends what the round owes, one receipt per publisher with its
 * items in the order its envelopes came (refusals are owed before the
 * commit, the rest after it), and forgets it. */
static void s_send_receipts(broker *b, s_tally *t)
{
    cdx_receipt *group = t->n_pending ? malloc(t->n_pending * sizeof *group) : NULL;
    s_pending **mine = t->n_pending ? malloc(t->n_pending * sizeof *mine) : NULL;
    for (size_t i = 0; group && mine && i < t->n_pending; i++) {
        const cdx_bytes *rid = &t->pending[i].rid;
        if (!rid->data)
            continue; /* sent with an earlier publisher's group */
        size_t n = 0;
        for (size_t j = i; j < t->n_pending; j++) {
            cdx_bytes *o = &t->pending[j].rid;
            if (o->data && o->len == rid->len && memcmp(o->data, rid->data, rid->len) == 0)
                mine[n++] = &t->pending[j];
        }
        qsort(mine, n, sizeof *mine, s_by_arrival);
        for (size_t k = 0; k < n; k++) {
            group[k] = mine[k]->r;
            if (mine[k] != &t->pending[i])
                cdx_bytes_free(&mine[k]->rid);
        }
        cdx_bytes signed_r;
        if (cdx_receipt_sign_many(group, n, b->member.me, &signed_r) == CDX_OK) {
            cdx_bytes frames[3] = {*rid, {(uint8_t *)"receipt", 7}, signed_r};
            cdx_err rc = cdx_sock_send(b->ingress, frames, 3, 0);
            if (rc != CDX_OK)
                daemon_log(&b->member.say, "receipt not delivered (%s): the publisher will resend",
                           cdx_strerror(rc));
            cdx_bytes_free(&signed_r);
        }
        cdx_bytes_free(&t->pending[i].rid);
    }
    for (size_t i = 0; i < t->n_pending; i++)
        cdx_bytes_free(&t->pending[i].rid);
    free(group);
    free(mine);
    free(t->pending);
    t->pending = NULL;
    t->n_pending = t->cap_pending = 0;
}

/* Moves the receipts t owes into round (which then owes them). */
static void s_owe(s_tally *round, s_tally *t)
{
    if (!t->n_pending)
        return;
    if (round->n_pending + t->n_pending > round->cap_pending) {
        size_t cap = 2 * (round->n_pending + t->n_pending);
        s_pending *p = realloc(round->pending, cap * sizeof *p);
        if (!p) { /* the publishers resend; the duplicates get their receipts */
            for (size_t i = 0; i < t->n_pending; i++)
                cdx_bytes_free(&t->pending[i].rid);
            t->n_pending = 0;
            return;
        }
        round->pending = p;
        round->cap_pending = cap;
    }
    memcpy(round->pending + round->n_pending, t->pending, t->n_pending * sizeof *t->pending);
    round->n_pending += t->n_pending;
    free(t->pending);
    t->pending = NULL;
    t->n_pending = t->cap_pending = 0;
}

static void s_publish(broker *b, const cdx_envelope *env)
{
    size_t len;
    const uint8_t *raw = cdx_envelope_bytes(env, &len);
    const char *topic = cdx_envelope_body(env)->topic;
    cdx_bytes frames[2] = {{(uint8_t *)topic, strlen(topic)}, {(uint8_t *)raw, len}};
    cdx_sock_send(b->fanout, frames, 2, 0); /* a slow subscriber drops; it catches up */
}

/* The verification jobs for items (NULL if out of memory). */
static cdx_verify_job *s_jobs(broker *b, const s_item *items, size_t count, bool live)
{
    cdx_verify_job *jobs = calloc(count ? count : 1, sizeof *jobs);
    uint64_t now = live ? cdx_now_ms() : 0;
    for (size_t i = 0; jobs && i < count; i++) {
        const cdx_bytes *raw = items[i].raw;
        jobs[i] = (cdx_verify_job){.bytes = raw ? raw->data : NULL,
                                   .len = raw ? raw->len : 0,
                                   .opts = {.max_size = b->cfg.max_envelope,
                                            .topic = items[i].topic_len ? items[i].topic : NULL,
                                            .topic_len = items[i].topic_len,
                                            .now_ms = now,
                                            .max_skew_ms = b->cfg.skew_ms,
                                            .borrow = true}};
    }
    return jobs;
}

/* After verification: keeps the items that passed, in order, at the
 * front; the others are counted, logged and (for publishers) refused in
 * their receipt. Frees jobs; returns how many were kept. */
static size_t s_admitted(broker *b, s_item *items, cdx_verify_job *jobs, size_t count,
                         s_tally *refused)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        s_item *it = &items[i];
        cdx_verify_job *j = &jobs[i];
        if (it->raw && j->rc == CDX_OK) {
            it->env = j->env;
            if (n != i) { /* moved down: what pointed into its message follows it */
                s_item *to = &items[n];
                *to = *it;
                if (it->rid == &it->msg.frame[0])
                    to->rid = &to->msg.frame[0];
                if (it->from == it->msg.peer)
                    to->from = to->msg.peer;
            }
            n++;
            continue;
        }
        cdx_err rc = it->raw ? j->rc : CDX_ERR_FORMAT;
        s_refuse(refused, cdx_errname(rc));
        daemon_log(&b->member.say, "refused from %s: %s", it->from,
                   it->raw ? cdx_errbuf_msg(&j->eb, rc) : "expected [topic][envelope]");
        if (it->rid) {
            /* Named by its hash wherever the bytes have one: the publisher
             * (and an auditor) can tell which envelope was refused. */
            uint8_t h[CDX_HASH_BYTES];
            bool hashed =
                it->raw && cdx_envelope_peek_hash(it->raw->data, it->raw->len, h) == CDX_OK;
            s_receipt(b, refused, it, hashed ? h : NULL, CDX_RECEIPT_REJECTED, 0, cdx_errname(rc));
        }
        cdx_envelope_destroy(&j->env);
        cdx_msg_clear(&it->msg);
    }
    free(jobs);
    return n;
}

/* Drops a peer's items that the log already holds before they cost a
 * verification: a peer relays back what it took from us, and what it took
 * from a publisher we also serve. Only for peers: no receipt is owed to
 * them, while a publisher's copy is still verified and receipted (or
 * refused) as before. Returns how many items remain, in order. */
static size_t s_drop_held(broker *b, s_item *items, size_t count)
{
    uint8_t(*hashes)[CDX_HASH_BYTES] = malloc((count + 1) * sizeof *hashes);
    bool *known = calloc(count + 1, sizeof *known), *held = calloc(count + 1, sizeof *held);
    size_t kept = count;
    for (size_t i = 0; hashes && known && i < count; i++)
        known[i] = items[i].raw && cdx_envelope_peek_hash(items[i].raw->data, items[i].raw->len,
                                                          hashes[i]) == CDX_OK;
    if (hashes && known && held &&
        cdx_log_held(b->member.log, (const uint8_t(*)[CDX_HASH_BYTES])hashes, known, count, held) ==
            CDX_OK) {
        kept = 0;
        for (size_t i = 0; i < count; i++) {
            s_item *it = &items[i];
            if (held[i]) {
                cdx_msg_clear(&it->msg);
                continue;
            }
            if (kept != i) { /* moved down: what pointed into its message follows it */
                s_item *to = &items[kept];
                *to = *it;
                if (it->raw && it->msg.n) /* a live message's last frame */
                    to->raw = &to->msg.frame[it->msg.n - 1];
                if (it->from == it->msg.peer)
                    to->from = to->msg.peer;
            }
            kept++;
        }
        b->duplicates += count - kept;
        cdx_log_note_duplicates(b->member.log, count - kept);
    }
    free(hashes);
    free(known);
    free(held);
    return kept;
}

/* Verifies items on the broker's verify threads (a broker's work is
 * mostly signature checks) and keeps those that pass; see s_admitted. */
static size_t s_admit(broker *b, s_item *items, size_t count, bool live, s_tally *refused)
{
    cdx_verify_job *jobs = s_jobs(b, items, count, live);
    if (!jobs)
        return 0;
    cdx_envelope_verify_many(&(cdx_verify_batch){.roster = b->member.roster,
                                                 .jobs = jobs,
                                                 .n = count,
                                                 .threads = (unsigned)b->cfg.verify_threads,
                                                 .cache = b->seen_batches});
    return s_admitted(b, items, jobs, count, refused);
}

/* A roster update logged from the bus is adopted after the round (see
 * s_adopt_roster): a batch may still be being verified with the old one. */
static void s_note_roster(broker *b, const cdx_envelope *env)
{
    const cdx_body *body = cdx_envelope_body(env);
    if (body->kind != CDX_PAYLOAD_ROSTER || !body->roster.len)
        return;
    cdx_bytes_free(&b->roster_seen);
    b->roster_seen.data = malloc(body->roster.len);
    if (b->roster_seen.data) {
        memcpy(b->roster_seen.data, body->roster.data, body->roster.len);
        b->roster_seen.len = body->roster.len;
    }
}

static void s_adopt_roster(broker *b)
{
    if (!b->roster_seen.data)
        return;
    daemon_roster_take(&b->member, b->net, b->roster_seen.data, b->roster_seen.len, "from the bus");
    cdx_bytes_free(&b->roster_seen);
}
/* Envelopes of a round arrived after a gap in their sender's seqs (below
 * them, above what the log held): every peer is asked for the missing
 * range at once. The cursor sync would not find a hole below a sender's
 * highest seq, and a node that uses only this broker would never see it. */
static void s_fill_gaps(broker *b, const s_item *items, const cdx_log_append_out *out, size_t n,
                        const cdx_log_sender *before, size_t nb)
{
    for (size_t i = 0; i < n; i++) {
        if (!(out[i].flags & CDX_LOG_FLAG_GAP) || out[i].status == CDX_APPEND_DUPLICATE)
            continue;
        const cdx_body *body = cdx_envelope_body(items[i].env);
        uint64_t had = daemon_max_seq(before, nb, body->sender), to = body->seq - 1;
        bool later = false; /* one request per sender: up to its last gap of the round */
        for (size_t j = i + 1; j < n && !later; j++)
            later = (out[j].flags & CDX_LOG_FLAG_GAP) &&
                    strcmp(cdx_envelope_body(items[j].env)->sender, body->sender) == 0;
        if (later || to <= had)
            continue;
        cdx_catchup_request q = {.from_seq = had + 1, .to_seq = to, .max_batch = 256};
        snprintf(q.sender, sizeof q.sender, "%s", body->sender);
        cdx_bytes req;
        if (cdx_catchup_request_encode(&q, &req) != CDX_OK)
            continue;
        for (size_t k = 0; k < b->n_peers; k++)
            cdx_sock_send(b->peers[k].cu, &req, 1, 0);
        cdx_bytes_free(&req);
        daemon_log(&b->member.say, "asking %zu peer%s for %s %llu..%llu", b->n_peers,
                   b->n_peers == 1 ? "" : "s", body->sender, (unsigned long long)(had + 1),
                   (unsigned long long)to);
    }
}

/* ---- witnessing the peers' logs ---- */

static s_peer *s_peer_of(broker *b, const char *id)
{
    for (size_t i = 0; i < b->n_peers; i++)
        if (strcmp(b->peers[i].cfg->id, id) == 0)
            return &b->peers[i];
    return NULL;
}

/* Does what a step of a peer's witness says (brokers co-sign nothing). */
static void s_witness_act(broker *b, s_peer *p, const daemon_witness_step *st)
{
    if (st->inconsistent) {
        p->heads_inconsistent++;
        daemon_witness_say(&b->member.say, p->cfg->id, st);
    }
    if (st->no_proof)
        daemon_log(&b->member.say, "peer %s gave no consistency proof from %llu to %llu: %s",
                   p->cfg->id, (unsigned long long)st->no_proof_old,
                   (unsigned long long)st->no_proof_new, st->no_proof);
    p->heads_witnessed += st->witnessed;
    if (!st->ask)
        return;
    cdx_catchup_request q;
    cdx_bytes req;
    daemon_witness_request(&p->witness, &q);
    if (cdx_catchup_request_encode(&q, &req) == CDX_OK) {
        if (cdx_sock_send(p->cu, &req, 1, 0) == CDX_OK)
            daemon_witness_asked(&p->witness, cdx_mono_ms());
        cdx_bytes_free(&req);
    }
}

/* A peer's tree head we logged, or one inside a member's co-signature:
 * held against what we hold of that peer's log. */
static void s_witness(broker *b, const cdx_envelope *env)
{
    const cdx_body *body = cdx_envelope_body(env);
    cdx_envelope *inner = NULL;
    daemon_witness_cosigned_head(&inner, env, b->member.roster, NULL);
    const char *via = inner ? body->sender : NULL;
    if (inner) {
        env = inner;
        body = cdx_envelope_body(inner);
    }
    s_peer *p = body->kind == CDX_PAYLOAD_TREE_HEAD ? s_peer_of(b, body->sender) : NULL;
    if (p) {
        daemon_witness_step st;
        daemon_witness_offer(&p->witness, env, via, cdx_mono_ms(), &st);
        s_witness_act(b, p, &st);
    }
    cdx_envelope_destroy(&inner);
}

/* Whether an envelope calls for a checkpoint: not a tree head, ours or a
 * peer's or a node's, nor a co-signature of one. */
static bool s_is_news(const cdx_envelope *env)
{
    cdx_payload_kind k = cdx_envelope_body(env)->kind;
    return k != CDX_PAYLOAD_TREE_HEAD && k != CDX_PAYLOAD_WITNESS;
}

/* Commits the verified items in one transaction, then fans out what was
 * new and writes the batch's refusal counts. The receipts it owes (and the
 * refusals') are left in `refused` for the caller to send: a round sends
 * them once, after its last commit, so that a publisher whose envelopes
 * came in several batches gets one signature to check, not one a batch. */
static void s_commit(broker *b, s_item *items, size_t n, s_tally *refused)
{
    cdx_log_append_in *in = calloc(n + 1, sizeof *in);
    cdx_log_append_out *out = calloc(n + 1, sizeof *out);
    cdx_log_sender *before = NULL;
    size_t nb = 0;
    if (n && b->n_peers)
        cdx_log_senders(b->member.log, &before, &nb);
    uint64_t now = cdx_now_ms();
    if (n && in && out) {
        for (size_t i = 0; i < n; i++)
            in[i] = (cdx_log_append_in){
                .env = items[i].env, .received_at_ms = now, .received_from = items[i].from};
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_log_append(b->member.log, in, n, out, &eb);
        daemon_wrote(&b->writes, rc, n, cdx_mono_ms(), &eb);
        if (rc != CDX_OK) {
            /* Nothing of the round is stored: publishers get a refusal and
             * keep the envelopes in their outboxes; peers resend on sync. */
            daemon_log(&b->member.say, "log append failed: %s", cdx_errbuf_msg(&eb, rc));
            for (size_t i = 0; i < n; i++)
                if (items[i].rid)
                    s_receipt(b, refused, &items[i], cdx_envelope_hash(items[i].env),
                              CDX_RECEIPT_REJECTED, 0, cdx_errname(rc));
        } else {
            for (size_t i = 0; i < n; i++) {
                bool dup = out[i].status == CDX_APPEND_DUPLICATE;
                if (items[i].rid)
                    s_receipt(b, refused, &items[i], cdx_envelope_hash(items[i].env),
                              dup ? CDX_RECEIPT_DUPLICATE : CDX_RECEIPT_ACCEPTED, out[i].index,
                              NULL);
                if (out[i].status == CDX_APPEND_EQUIVOCATION)
                    daemon_log(&b->member.say,
                               "EQUIVOCATION: %s signed two envelopes for seq %llu (kept at %llu)",
                               cdx_envelope_signer(items[i].env),
                               (unsigned long long)cdx_envelope_body(items[i].env)->seq,
                               (unsigned long long)out[i].index);
                b->duplicates += dup;
                b->accepted += !dup;
                if (!dup)
                    s_note_roster(b, items[i].env);
                b->news |= !dup && s_is_news(items[i].env);
                if (!dup && b->n_peers)
                    s_witness(b, items[i].env);
            }
            for (size_t i = 0; i < n; i++)
                if (out[i].status != CDX_APPEND_DUPLICATE)
                    s_publish(b, items[i].env); /* loops end here: a duplicate goes no further */
            if (b->n_peers)
                s_fill_gaps(b, items, out, n, before, nb);
        }
    }
    free(before);
    for (size_t i = 0; i < refused->n; i++) {
        cdx_log_count_rejected(b->member.log, refused->reason[i], refused->count[i], NULL);
        b->rejected += refused->count[i];
    }
    free(in);
    free(out);
}

static void s_clear_items(s_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cdx_envelope_destroy(&items[i].env);
        cdx_msg_clear(&items[i].msg);
    }
}

/* One batch of a round: what was read, and its verification, which runs
 * on a thread of its own while the previous batch is committed. */
typedef struct s_batch {
    s_item *items;
    size_t got, n;
    cdx_verify_job *jobs;
    cdx_verify_batch vb;
    s_tally tally;
    pthread_t thread;
    bool threaded;
} s_batch;

/* Batches smaller than this are verified at once, on the loop's thread. */
#define S_ASYNC_MIN 32
/* Batches one round commits at most before the loop serves the others. */
#define S_ROUND_BATCHES 16

static void *s_verify_main(void *arg)
{
    cdx_envelope_verify_many(&((s_batch *)arg)->vb);
    return NULL;
}

/* Reads what waits on sock (up to batch_max), [routing id][topic]
 * [envelope] from the ingress or [topic][envelope] from a peer, and starts
 * verifying it. False (and nothing held) if nothing waited. */
static bool s_batch_read(broker *b, cdx_sock *sock, const char *peer, s_item *room, s_batch *r)
{
    memset(r, 0, sizeof *r);
    r->items = room;
    bool ingress = sock == b->ingress;
    while (r->got < b->cfg.batch_max) {
        s_item *it = &r->items[r->got];
        memset(it, 0, sizeof *it);
        if (cdx_sock_recv(sock, &it->msg, 0) != CDX_OK)
            break;
        r->got++;
        it->arrival = b->arrivals++;
        size_t want = ingress ? 3 : 2, t = want - 2;
        it->rid = ingress && it->msg.n >= 1 ? &it->msg.frame[0] : NULL;
        it->from = peer ? peer : it->msg.peer[0] ? it->msg.peer : "unknown";
        if (it->msg.n == want && !it->msg.truncated && it->msg.frame[t].len <= CDX_TOPIC_MAX &&
            it->msg.frame[t].len > 0) {
            memcpy(it->topic, it->msg.frame[t].data, it->msg.frame[t].len);
            it->topic[it->msg.frame[t].len] = '\0';
            it->topic_len = it->msg.frame[t].len;
            it->raw = &it->msg.frame[t + 1];
        }
    }
    if (r->got == 0) {
        r->items = NULL;
        return false;
    }
    if (!ingress)
        r->got = s_drop_held(b, r->items, r->got);
    r->jobs = s_jobs(b, r->items, r->got, true);
    r->vb = (cdx_verify_batch){.roster = b->member.roster,
                               .jobs = r->jobs,
                               .n = r->jobs ? r->got : 0,
                               .threads = (unsigned)b->cfg.verify_threads,
                               .cache = b->seen_batches};
    r->threaded = r->got >= S_ASYNC_MIN && pthread_create(&r->thread, NULL, s_verify_main, r) == 0;
    if (!r->threaded)
        cdx_envelope_verify_many(&r->vb);
    return true;
}

/* Waits for the batch's verification and keeps what passed. */
static void s_batch_settle(broker *b, s_batch *r)
{
    if (r->threaded)
        pthread_join(r->thread, NULL);
    r->threaded = false;
    r->n = r->jobs ? s_admitted(b, r->items, r->jobs, r->got, &r->tally) : 0;
    r->jobs = NULL;
}

/* Receipts owed for at least this many envelopes go out at once, not at
 * the end of the round: a publisher that keeps a window of envelopes in
 * flight must not wait for a round of 16 batches to send more. */
#define S_RECEIPTS_EARLY 64

static void s_batch_commit(broker *b, s_batch *r, s_tally *owed)
{
    s_commit(b, r->items, r->n, &r->tally);
    s_owe(owed, &r->tally);
    if (owed->n_pending >= S_RECEIPTS_EARLY)
        s_send_receipts(b, owed);
    s_clear_items(r->items, r->n);
    r->items = NULL;
}

/* A round: batch after batch of what waits on sock, each committed in one
 * transaction (and fanned out) while the next is verified beside it; then
 * the receipts of them all, one per publisher. */
static void s_round(broker *b, cdx_sock *sock, const char *peer)
{
    s_batch cur, next;
    if (!s_batch_read(b, sock, peer, b->room[0], &cur))
        return;
    s_tally owed = {0};
    s_batch_settle(b, &cur);
    for (int k = 1; k < S_ROUND_BATCHES; k++) {
        s_item *free_room = cur.items == b->room[0] ? b->room[1] : b->room[0];
        bool more = s_batch_read(b, sock, peer, free_room, &next);
        s_batch_commit(b, &cur, &owed); /* meanwhile, next is being verified */
        if (!more) {
            s_send_receipts(b, &owed);
            return;
        }
        s_batch_settle(b, &next);
        cur = next;
    }
    s_batch_commit(b, &cur, &owed);
    s_send_receipts(b, &owed);
}

/* ---- peers: a cursor catch-up now and then, for what the link lost ---- */

/* A sync whose stream has been silent this long is asked again: its
 * request or reply went with a restart of the peer (a reply that still
 * comes changes nothing: copies are dropped by hash). */
#define S_PEER_SILENCE_MS 3000

static void s_peer_sync(broker *b, s_peer *p)
{
    uint64_t now = cdx_mono_ms();
    if (p->syncing && now - p->sync_heard_ms < S_PEER_SILENCE_MS)
        return;
    p->next_sync_ms = now + b->cfg.peer_sync_ms;
    cdx_catchup_request q = {.max_batch = 256};
    if (daemon_catchup_after_log(b->member.log, &q) != CDX_OK)
        return;
    cdx_bytes req;
    if (cdx_catchup_request_encode(&q, &req) == CDX_OK) {
        if (cdx_sock_send(p->cu, &req, 1, 0) == CDX_OK) {
            p->syncing = true;
            p->sync_heard_ms = now;
        }
        cdx_bytes_free(&req);
    }
    cdx_catchup_request_clear(&q);
}

static void s_peer_reply(broker *b, s_peer *p)
{
    cdx_msg m;
    while (cdx_sock_recv(p->cu, &m, 0) == CDX_OK) {
        cdx_catchup_reply rep = {0};
        if (m.n != 1 ||
            cdx_catchup_reply_decode(&rep, m.frame[0].data, m.frame[0].len, NULL) != CDX_OK) {
            daemon_log(&b->member.say, "peer %s sent a malformed catch-up reply", p->cfg->id);
            cdx_msg_clear(&m);
            continue;
        }
        if (daemon_witness_reply_is(rep.request_id)) { /* a proof, not the sync */
            daemon_witness_step st;
            daemon_witness_answer(&p->witness, &rep, &st);
            s_witness_act(b, p, &st);
            cdx_catchup_reply_clear(&rep);
            cdx_msg_clear(&m);
            continue;
        }
        p->sync_heard_ms = cdx_mono_ms();
        s_item *items = calloc(rep.n + 1, sizeof *items);
        s_tally refused = {0};
        for (size_t i = 0; items && i < rep.n; i++)
            items[i] = (s_item){.raw = &rep.envelopes[i], .from = p->cfg->id};
        size_t n = items ? s_drop_held(b, items, rep.n) : 0;
        n = items ? s_admit(b, items, n, false, &refused) : 0;
        if (items)
            s_commit(b, items, n, &refused);
        s_send_receipts(b, &refused); /* frees the tally (a peer is owed none) */
        p->received += n;
        s_clear_items(items, n);
        free(items);
        if (rep.done)
            p->syncing = false;
        if (!rep.error[0])
            p->heard = true;
        if (rep.done && !rep.error[0])
            p->synced = true;
        cdx_catchup_reply_clear(&rep);
        cdx_msg_clear(&m);
    }
}

/* Signs a checkpoint of the log, logs it as our own envelope on "sth"
 * and fans it out, so nodes and peers can compare what they see. */
static void s_checkpoint(broker *b)
{
    uint64_t size = 0;
    cdx_log_size(b->member.log, &size);
    b->next_checkpoint_ms = cdx_mono_ms() + b->cfg.checkpoint_ms;
    if (size == b->checkpointed_size || !b->news)
        return;
    /* A key that may not sign now (revoked, rotated out) signs nothing. */
    cdx_member card;
    cdx_identity_card(b->member.me, &card);
    cdx_key_state ks =
        cdx_roster_key_state(b->member.roster, b->cfg.id, card.sign_pk, cdx_now_ms(), NULL, NULL);
    if (ks != CDX_KEY_VALID && ks != CDX_KEY_ENDING) {
        if (!b->checkpoint_held)
            daemon_log(&b->member.say, "no checkpoint of our log: our key is %s in roster v%llu",
                       cdx_key_state_name(ks),
                       (unsigned long long)cdx_roster_version(b->member.roster));
        b->checkpoint_held = true;
        return;
    }
    b->checkpoint_held = false;
    cdx_errbuf eb = {0};
    char *text = NULL;
    cdx_body body = {0};
    cdx_bytes raw = {0};
    cdx_envelope *env = NULL;
    cdx_err rc = cdx_log_checkpoint(b->member.log, b->member.me, cdx_now_ms(), &text, &eb);
    if (rc == CDX_OK)
        rc = cdx_log_root(b->member.log, size, body.tree_head.root);
    cdx_log_sender own = {0}; /* our chain goes on where the log has it */
    cdx_err got = rc == CDX_OK ? cdx_log_sender_get(b->member.log, b->cfg.id, &own) : CDX_OK;
    if (got != CDX_OK && got != CDX_ERR_NOENT)
        rc = cdx_errf(&eb, got, "cannot read our own chain from the log");
    if (rc == CDX_OK) {
        body.sender = strdup(b->cfg.id);
        body.topic = strdup("sth");
        body.seq = own.max_seq + 1;
        body.sent_at_ms = cdx_now_ms();
        body.has_prev_hash = own.max_seq > 0;
        memcpy(body.prev_hash, own.max_hash, CDX_HASH_BYTES);
        body.kind = CDX_PAYLOAD_TREE_HEAD;
        body.tree_head.origin = strdup(cdx_log_origin(b->member.log));
        body.tree_head.size = size;
        body.tree_head.timestamp_ms = body.sent_at_ms;
        rc = cdx_envelope_sign(b->member.me, &body, &raw, NULL, &eb);
    }
    if (rc == CDX_OK)
        rc = cdx_envelope_verify(&env, b->member.roster, raw.data, raw.len, NULL, &eb);
    cdx_log_append_out out;
    if (rc == CDX_OK) {
        cdx_log_append_in in = {
            .env = env, .received_at_ms = cdx_now_ms(), .received_from = "local"};
        rc = cdx_log_append(b->member.log, &in, 1, &out, &eb);
    }
    if (rc == CDX_OK) {
        b->checkpointed_size = size + 1;
        b->news = false;
        s_publish(b, env);
    } else {
        daemon_log(&b->member.say, "checkpoint failed: %s", cdx_errbuf_msg(&eb, rc));
    }
    free(text);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&raw);
    cdx_body_clear(&body);
}

/* Whether we may sign checkpoints: our own chain (on "sth") may go on
 * beyond our log, and our peers hold what we signed; their first catch-up
 * brings it back (daemon_chain_wait_over says how long we wait for it;
 * said in the log if none came). A broker without peers has no one to ask. */
static bool s_chain_known(broker *b, uint64_t now)
{
    if (!b->chain_since_ms)
        return true;
    size_t synced = 0, heard = 0;
    for (size_t i = 0; i < b->n_peers; i++) {
        synced += b->peers[i].synced;
        heard += b->peers[i].heard;
    }
    if (!daemon_chain_wait_over(synced, heard, b->n_peers, now - b->chain_since_ms))
        return false;
    if (!synced && b->n_peers)
        daemon_log(&b->member.say,
                   "no peer answered in full within %llu s: checkpoints go on from our log's own "
                   "chain (if this log was lost or restored from an older copy, a peer may hold "
                   "later seqs of ours)",
                   (unsigned long long)((now - b->chain_since_ms) / 1000));
    b->chain_since_ms = 0;
    return true;
}

/* Says which ingress connections closed, and of whom: a member that went
 * away, or one whose message the transport could not take. */
static void s_closed_links(broker *b)
{
    cdx_closed_link closed[16];
    size_t n;
    while ((n = cdx_sock_closed_links(b->ingress, closed, 16)) > 0)
        for (size_t i = 0; i < n; i++) {
            b->links_closed++;
            daemon_log(&b->member.say,
                       "ingress link from %s closed: it went away, or sent a message past the "
                       "transport limit of %zu bytes (twice max_envelope and 64 KiB)",
                       closed[i].member[0] ? closed[i].member : "a member that had sent nothing",
                       2 * b->cfg.max_envelope + 65536);
        }
}

int broker_run(broker *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    b->chain_since_ms = b->n_peers ? cdx_mono_ms() : 0;
    daemon_notify("READY=1\nSTATUS=serving");
    while (!*stop) {
        if (*reload) {
            *reload = 0;
            daemon_notify("RELOADING=1");
            daemon_roster_reload(&b->member, b->net, b->cfg.roster);
            daemon_notify("READY=1\nSTATUS=serving");
        }
        uint64_t now = cdx_mono_ms();
        if (now >= b->next_checkpoint_ms && s_chain_known(b, now))
            s_checkpoint(b);
        int wait = (int)(b->next_checkpoint_ms > now ? b->next_checkpoint_ms - now : 0);
        if (b->chain_since_ms && wait < 50)
            wait = 50; /* a checkpoint waits for the peers: no spinning meanwhile */
        for (size_t i = 0; i < b->n_peers; i++)
            if (now >= b->peers[i].next_sync_ms)
                s_peer_sync(b, &b->peers[i]);
        cdx_sock *socks[3 + 2 * BROKER_MAX_PEERS] = {b->ingress, b->fanout, b->catchup};
        bool ready[3 + 2 * BROKER_MAX_PEERS + 1] = {false}; /* and the HTTP endpoint */
        size_t ns = 3;
        for (size_t i = 0; i < b->n_peers; i++) {
            socks[ns++] = b->peers[i].sub;
            socks[ns++] = b->peers[i].cu;
        }
        /* Catch-up streams in progress: look in again at once. */
        int timeout = b->serve && broker_catchup_pump(b->serve) ? 1 : wait < 200 ? wait : 200;
        cdx_err rc = cdx_sock_poll_fd(socks, ns, daemon_httpd_fd(b->http), timeout, ready);
        if (rc == CDX_ERR_STOPPED)
            break;
        daemon_httpd_serve(b->http); /* answers, and times out idle connections */
        s_closed_links(b);
        if (ready[1]) { /* subscriptions: read and let ZeroMQ route them */
            cdx_msg m;
            while (cdx_sock_recv(b->fanout, &m, 0) == CDX_OK)
                cdx_msg_clear(&m);
        }
        if (ready[0])
            s_round(b, b->ingress, NULL);
        if (ready[2])
            broker_catchup_accept(b->serve);
        for (size_t i = 0; i < b->n_peers; i++) {
            if (ready[3 + 2 * i])
                s_round(b, b->peers[i].sub, b->peers[i].cfg->id);
            if (ready[4 + 2 * i])
                s_peer_reply(b, &b->peers[i]);
        }
        s_adopt_roster(b);
    }
    daemon_notify("STOPPING=1\nSTATUS=stopping");
    daemon_log(&b->member.say, "stopping: %llu accepted, %llu duplicates, %llu refused this run",
               (unsigned long long)b->accepted, (unsigned long long)b->duplicates,
               (unsigned long long)b->rejected);
    return 0;
}

void broker_stats_get(const broker *b, broker_stats *out)
{
    memset(out, 0, sizeof *out);
    out->id = b->cfg.id;
    out->accepted = b->accepted;
    out->duplicates = b->duplicates;
    out->rejected = b->rejected;
    out->connections_refused = cdx_transport_refused(b->net);
    out->links_closed = b->links_closed;
    out->roster_version = cdx_roster_version(b->member.roster);
    cdx_member card;
    cdx_identity_card(b->member.me, &card);
    out->key_state = cdx_roster_key_state(b->member.roster, b->cfg.id, card.sign_pk, cdx_now_ms(),
                                          &out->key_when, NULL);
    out->catchup_streams = broker_catchup_streams(b->serve);
    out->n_peers = b->n_peers;
    for (size_t i = 0; i < b->n_peers; i++) {
        out->peer[i].id = b->peers[i].cfg->id;
        out->peer[i].syncing = b->peers[i].syncing;
        out->peer[i].received = b->peers[i].received;
        out->peer[i].heads_witnessed = b->peers[i].heads_witnessed;
        out->peer[i].heads_inconsistent = b->peers[i].heads_inconsistent;
    }
    out->writes = &b->writes;
    out->log = b->member.log;
}
