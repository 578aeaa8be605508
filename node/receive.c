/* cydex-node's receive path: the brokers' fan-out and catch-up.
 *
 * Invariants: nothing unverified is logged; every envelope is logged once
 * (the log refuses duplicates by hash), whichever broker or path brought
 * it; a gap noticed in a sender's seqs (or announced by its heartbeat) is
 * asked for at once from the broker that showed it, and catch-up replies
 * are verified like anything else (without the clock-skew check: they are
 * old by design). With auto_ack, the "received" acks are logged in the
 * same transaction as the alerts they acknowledge: neither without the
 * other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/catchup.h"
#include "internal.h"

bool node__send_request(node *n, node_link *l, const cdx_catchup_request *q)
{
    cdx_bytes req;
    bool sent = false;
    if (cdx_catchup_request_encode(q, &req) == CDX_OK) {
        sent = cdx_sock_send(l->cu, &req, 1, 1000) == CDX_OK;
        n->requested += sent;
        cdx_bytes_free(&req);
    }
    return sent;
}

/* Marks the replies to our own-chain request. */
static const uint8_t s_chain_tag[16] = "own chain";

void node__ask_chain(node *n, node_link *l)
{
    cdx_catchup_request q = {.max_batch = 256, .from_seq = n->chain_had + 1, .to_seq = 0};
    snprintf(q.sender, sizeof q.sender, "%s", n->cfg.id);
    memcpy(q.request_id, s_chain_tag, sizeof q.request_id);
    q.request_id_len = sizeof q.request_id;
    node__send_request(n, l, &q);
}

/* Asks a broker for what follows our seqs (sender NULL: every sender),
 * or for one sender's range. */
void node__request(node *n, node_link *l, const char *sender, uint64_t from, uint64_t to,
                   bool quiet)
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
    node__send_request(n, l, &q);
    if (sender && !quiet)
        daemon_log(&n->member.say, "asking %s for %s %llu..%llu", l->cfg->id, sender,
                   (unsigned long long)from, (unsigned long long)to);
    cdx_catchup_request_clear(&q);
}

void node__refill(node *n)
{
    enum { S_RANGES = 8 };
    cdx_log_sender *s = NULL;
    size_t ns = 0;
    if (cdx_log_senders(n->member.log, &s, &ns) != CDX_OK)
        return;
    for (size_t i = 0; i < ns; i++) {
        if (s[i].count >= s[i].max_seq)
            continue; /* no hole below its highest seq */
        cdx_log_range r[S_RANGES];
        size_t nr = 0;
        if (cdx_log_sender_gaps(n->member.log, s[i].id, 1, s[i].max_seq, r, S_RANGES, &nr) !=
            CDX_OK)
            continue;
        for (size_t k = 0; k < nr; k++)
            for (size_t j = 0; j < n->n_links; j++)
                node__request(n, &n->link[j], s[i].id, r[k].from, r[k].to, true);
    }
    free(s);
}

/* A roster update the bus brought: in force if newer and signed by the
 * threshold of the admins in force (the envelopes in hand stay verified). */
static void s_adopt_roster(node *n, const cdx_body *b)
{
    char source[CDX_ID_MAX + 16];
    snprintf(source, sizeof source, "published by %s", b->sender);
    daemon_roster_take(&n->member, n->net, b->roster.data, b->roster.len, source);
}
/* Logs verified envelopes in one transaction (with the auto-acks they
 * call for) and asks for what they show is missing. */
static void s_commit(node *n, node_link *l, cdx_envelope **envs, size_t count)
{
    if (!count)
        return;
    cdx_log_sender *before = NULL;
    size_t nb = 0;
    cdx_log_senders(n->member.log, &before, &nb);
    cdx_log_append_in *in = calloc(2 * count, sizeof *in);
    cdx_log_append_out *out = calloc(2 * count, sizeof *out);
    node_out *acks = n->cfg.auto_ack ? calloc(count, sizeof *acks) : NULL;
    node_chain chain = {0};
    size_t n_acks = acks ? node__auto_acks(n, envs, count, &chain, acks) : 0;
    cdx_errbuf eb = {0};
    if (in && out) {
        uint64_t now = cdx_now_ms();
        for (size_t i = 0; i < count; i++)
            in[i] = (cdx_log_append_in){
                .env = envs[i], .received_at_ms = now, .received_from = l->cfg->id};
        for (size_t i = 0; i < n_acks; i++)
            in[count + i] = (cdx_log_append_in){.env = acks[i].env,
                                                .received_at_ms = now,
                                                .received_from = "local",
                                                .outbox = true};
        cdx_err rc = cdx_log_append(n->member.log, in, count + n_acks, out, &eb);
        daemon_wrote(&n->writes, rc, count + n_acks, cdx_mono_ms(), &eb);
        if (rc != CDX_OK) {
            daemon_log(&n->member.say, "log append failed: %s (the brokers still hold these)",
                       cdx_errbuf_msg(&eb, rc));
        } else {
            node__sent_own(n, acks, n_acks);
            n->auto_acked += n_acks;
            for (size_t i = 0; i < count; i++) {
                const cdx_body *b = cdx_envelope_body(envs[i]);
                n->logged += out[i].status != CDX_APPEND_DUPLICATE;
                uint64_t had = daemon_max_seq(before, nb, b->sender);
                if (out[i].status == CDX_APPEND_EQUIVOCATION)
                    daemon_log(&n->member.say, "EQUIVOCATION: %s signed two envelopes for seq %llu",
                               b->sender, (unsigned long long)b->seq);
                if ((out[i].flags & CDX_LOG_FLAG_GAP) && b->seq > had + 1)
                    node__request(n, l, b->sender, had + 1, b->seq - 1, false);
                /* A heartbeat names the seq before it: ask for what we lack of it. */
                uint64_t held = b->seq > had ? b->seq : had;
                if (b->kind == CDX_PAYLOAD_ROSTER && out[i].status == CDX_APPEND_STORED)
                    s_adopt_roster(n, b);
                if (b->kind == CDX_PAYLOAD_TREE_HEAD && out[i].status == CDX_APPEND_STORED)
                    node__witness_head(n, envs[i], NULL);
                if (b->kind == CDX_PAYLOAD_WITNESS && out[i].status == CDX_APPEND_STORED)
                    node__witness_cosigned(n, envs[i]);
                if (b->kind == CDX_PAYLOAD_HEARTBEAT && b->heartbeat.last_seq > held)
                    node__request(n, l, b->sender, held + 1, b->heartbeat.last_seq, false);
            }
        }
    }
    for (size_t i = 0; i < n_acks; i++)
        node__release(&acks[i]);
    free(acks);
    free(before);
    free(in);
    free(out);
}

/* Verifies a batch; the envelopes that pass go to envs (in order), the
 * others are counted and logged. Catch-up replies (live false) skip the
 * clock-skew check, being old by design, and are verified on the node's
 * verify threads: a node back from a week away has a week to check. Live
 * traffic is verified here: it comes a few at a time, and the brokers and
 * other nodes may share the machine. */
/* Drops the jobs whose envelope the log already holds (our own alerts
 * coming back, a copy through a second broker, a resend): the log would
 * refuse them as duplicates after a verification for nothing. They are
 * counted as the log's duplicates all the same. Returns how many jobs
 * remain, in order. */
static size_t s_drop_held(node *n, cdx_verify_job *jobs, size_t count)
{
    /* The hashes go with the jobs: the verification need not compute them
     * again. Bytes that are not an envelope are left to it to refuse. */
    uint8_t(*hashes)[CDX_HASH_BYTES] = malloc((count + 1) * sizeof *hashes);
    bool *known = calloc(count + 1, sizeof *known), *held = calloc(count + 1, sizeof *held);
    size_t kept = count;
    for (size_t i = 0; hashes && known && i < count; i++) {
        jobs[i].hash_known =
            cdx_envelope_peek_hash(jobs[i].bytes, jobs[i].len, jobs[i].hash) == CDX_OK;
        known[i] = jobs[i].hash_known;
        memcpy(hashes[i], jobs[i].hash, CDX_HASH_BYTES);
    }
    if (hashes && known && held &&
        cdx_log_held(n->member.log, (const uint8_t(*)[CDX_HASH_BYTES])hashes, known, count, held) ==
            CDX_OK) {
        kept = 0;
        for (size_t i = 0; i < count; i++)
            if (!held[i])
                jobs[kept++] = jobs[i];
        cdx_log_note_duplicates(n->member.log, count - kept);
        n->copies += count - kept;
    }
    free(hashes);
    free(known);
    free(held);
    return kept;
}

static size_t s_verify(node *n, cdx_verify_job *jobs, size_t count, bool live, cdx_envelope **envs)
{
    count = s_drop_held(n, jobs, count);
    uint64_t now = live ? cdx_now_ms() : 0;
    for (size_t i = 0; i < count; i++) {
        jobs[i].opts.now_ms = now;
        jobs[i].opts.max_skew_ms = n->cfg.skew_ms;
        jobs[i].opts.borrow = true;
    }
    cdx_envelope_verify_many(&(cdx_verify_batch){.roster = n->member.roster,
                                                 .jobs = jobs,
                                                 .n = count,
                                                 .threads = n->verify_threads,
                                                 .cache = n->seen_batches});
    size_t ok = 0;
    for (size_t i = 0; i < count; i++) {
        if (jobs[i].rc == CDX_OK) {
            envs[ok++] = jobs[i].env;
            continue;
        }
        n->refused++;
        daemon_log(&n->member.say, "refused: %s", cdx_errbuf_msg(&jobs[i].eb, jobs[i].rc));
    }
    return ok;
}

void node__live(node *n, node_link *l)
{
    node_live *r = &n->live;
    size_t count = 0, got = 0;
    while (got < NODE_LIVE_BATCH && cdx_sock_recv(l->sub, &r->msgs[got], 0) == CDX_OK) {
        cdx_msg *m = &r->msgs[got++];
        if (m->n != 2 || m->frame[0].len > CDX_TOPIC_MAX)
            continue;
        memcpy(r->topics[count], m->frame[0].data, m->frame[0].len);
        r->topics[count][m->frame[0].len] = '\0';
        r->jobs[count] =
            (cdx_verify_job){.bytes = m->frame[1].data,
                             .len = m->frame[1].len,
                             .opts = {.topic = r->topics[count], .topic_len = m->frame[0].len}};
        count++;
    }
    if (got)
        node__heard(l);
    size_t ok = count ? s_verify(n, r->jobs, count, true, r->envs) : 0;
    s_commit(n, l, r->envs, ok);
    for (size_t i = 0; i < ok; i++)
        cdx_envelope_destroy(&r->envs[i]);
    for (size_t i = 0; i < got; i++)
        cdx_msg_clear(&r->msgs[i]);
}

void node__catchup(node *n, node_link *l)
{
    cdx_msg m;
    while (cdx_sock_recv(l->cu, &m, 0) == CDX_OK) {
        node__heard(l);
        cdx_catchup_reply rep = {0};
        bool decoded = m.n == 1 && cdx_catchup_reply_decode(&rep, m.frame[0].data, m.frame[0].len,
                                                            NULL) == CDX_OK;
        if (decoded && daemon_witness_reply_is(rep.request_id)) {
            node__witness_reply(n, l, &rep);
            cdx_catchup_reply_clear(&rep);
        } else if (decoded) {
            if (rep.error[0])
                daemon_log(&n->member.say, "%s refused a catch-up: %s", l->cfg->id, rep.error);
            cdx_envelope **envs = calloc(rep.n + 1, sizeof *envs);
            cdx_verify_job *jobs = calloc(rep.n + 1, sizeof *jobs);
            size_t ok = 0;
            for (size_t i = 0; jobs && i < rep.n; i++)
                jobs[i] =
                    (cdx_verify_job){.bytes = rep.envelopes[i].data, .len = rep.envelopes[i].len};
            if (envs && jobs)
                ok = s_verify(n, jobs, rep.n, false, envs);
            s_commit(n, l, envs, ok);
            if (!rep.error[0] && memcmp(rep.request_id, s_chain_tag, sizeof s_chain_tag) == 0) {
                l->heard_chain = true;
                l->told_chain = l->told_chain || rep.done;
            }
            for (size_t i = 0; i < ok; i++)
                cdx_envelope_destroy(&envs[i]);
            free(envs);
            free(jobs);
            cdx_catchup_reply_clear(&rep);
        }
        cdx_msg_clear(&m);
    }
}
