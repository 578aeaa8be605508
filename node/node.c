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

#include "cydex/catchup.h"
#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/transport.h"

typedef struct s_link {
    const node_broker_config *cfg;
    cdx_sock *sub, *cu;
} s_link;

struct node {
    node_config cfg;
    cdx_identity *me;
    cdx_roster *roster;
    cdx_log *log;
    cdx_transport *net;
    s_link link[NODE_MAX_BROKERS];
    size_t n_links;
    uint64_t logged, refused, requested;
};

static void s_log(const node *n, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void s_log(const node *n, const char *fmt, ...)
{
    char when[CDX_TIME_TEXT_MAX];
    cdx_time_format(when, cdx_now_ms());
    fprintf(stderr, "%s %s: ", when, n->cfg.id);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Asks a broker for what follows our seqs (sender NULL: every sender),
 * or for one sender's range. */
static void s_request(node *n, s_link *l, const char *sender, uint64_t from, uint64_t to)
{
    cdx_catchup_request q = {.max_batch = 256};
    cdx_log_sender *s = NULL;
    size_t ns = 0;
    if (sender) {
        snprintf(q.sender, sizeof q.sender, "%s", sender);
        q.from_seq = from;
        q.to_seq = to;
    } else if (cdx_log_senders(n->log, &s, &ns) == CDX_OK) {
        q.after = calloc(ns + 1, sizeof *q.after);
        for (size_t i = 0; q.after && i < ns; i++) {
            snprintf(q.after[i].sender, sizeof q.after[i].sender, "%s", s[i].id);
            q.after[i].last_seq = s[i].max_seq;
        }
        q.n_after = q.after ? ns : 0;
    }
    free(s);
    cdx_bytes req;
    if (cdx_catchup_request_encode(&q, &req) == CDX_OK) {
        if (cdx_sock_send(l->cu, &req, 1, 1000) == CDX_OK)
            n->requested++;
        cdx_bytes_free(&req);
    }
    if (sender)
        s_log(n, "asking %s for %s %llu..%llu", l->cfg->id, sender, (unsigned long long)from,
              (unsigned long long)to);
    if (!sender)
        free(q.after);
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
    cdx_log_senders(n->log, &before, &nb);
    cdx_log_append_in *in = calloc(count, sizeof *in);
    cdx_log_append_out *out = calloc(count, sizeof *out);
    cdx_errbuf eb = {0};
    if (in && out) {
        for (size_t i = 0; i < count; i++)
            in[i] = (cdx_log_append_in){envs[i], cdx_now_ms(), l->cfg->id};
        cdx_err rc = cdx_log_append(n->log, in, count, out, &eb);
        if (rc != CDX_OK) {
            s_log(n, "log append failed: %s (the brokers still hold these)",
                  cdx_errbuf_msg(&eb, rc));
        } else {
            for (size_t i = 0; i < count; i++) {
                const cdx_body *b = cdx_envelope_body(envs[i]);
                n->logged += out[i].status != CDX_APPEND_DUPLICATE;
                uint64_t had = s_max_seq(before, nb, b->sender);
                if (out[i].status == CDX_APPEND_EQUIVOCATION)
                    s_log(n, "EQUIVOCATION: %s signed two envelopes for seq %llu", b->sender,
                          (unsigned long long)b->seq);
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
    cdx_err rc = cdx_envelope_verify(&env, n->roster, raw->data, raw->len, &vo, &eb);
    if (rc != CDX_OK) {
        n->refused++;
        s_log(n, "refused: %s", cdx_errbuf_msg(&eb, rc));
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
                s_log(n, "%s refused a catch-up: %s", l->cfg->id, rep.error);
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
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_identity_load(&n->me, c->key, &eb);
    if (rc == CDX_OK && strcmp(cdx_identity_id(n->me), c->id) != 0)
        rc = cdx_errf(&eb, CDX_ERR_INVALID, "key %s is %s's, not %s's", c->key,
                      cdx_identity_id(n->me), c->id);
    if (rc == CDX_OK)
        rc = cdx_roster_load(&n->roster, c->roster, &eb);
    if (rc == CDX_OK)
        rc = cdx_roster_verify(n->roster, NULL, &eb);
    if (rc == CDX_OK) {
        cdx_log_opts o = {.owner = c->id};
        rc = cdx_log_new(&n->log, c->log, &o, &eb);
    }
    cdx_bytes rb = {0};
    if (rc == CDX_OK && (rc = cdx_roster_encode(n->roster, &rb)) == CDX_OK)
        rc = cdx_log_set_roster(n->log, rb.data, rb.len, &eb);
    cdx_bytes_free(&rb);
    if (rc == CDX_OK)
        rc = cdx_transport_new(&n->net, n->me, n->roster, &eb);
    for (size_t i = 0; rc == CDX_OK && i < c->n_brokers; i++) {
        const node_broker_config *bc = &n->cfg.broker[i];
        const cdx_member *m = cdx_roster_find(n->roster, bc->id);
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
    }
    if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        node_destroy(&n);
        return rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO ? 74 : 78;
    }
    uint64_t size = 0;
    cdx_log_size(n->log, &size);
    s_log(n, "running: %zu broker%s, log %s (%llu entries)", n->n_links,
          n->n_links == 1 ? "" : "s", c->log, (unsigned long long)size);
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
    }
    cdx_transport_destroy(&n->net);
    cdx_log_destroy(&n->log);
    cdx_roster_destroy(&n->roster);
    cdx_identity_destroy(&n->me);
    free(n);
    *np = NULL;
}

int node_run(node *n, volatile sig_atomic_t *stop)
{
    /* Back from a stop: everything after what the log holds. */
    for (size_t i = 0; i < n->n_links; i++)
        s_request(n, &n->link[i], NULL, 0, 0);
    while (!*stop) {
        cdx_sock *socks[2 * NODE_MAX_BROKERS];
        bool ready[2 * NODE_MAX_BROKERS] = {false};
        for (size_t i = 0; i < n->n_links; i++) {
            socks[2 * i] = n->link[i].sub;
            socks[2 * i + 1] = n->link[i].cu;
        }
        cdx_err rc = cdx_sock_poll(socks, 2 * n->n_links, 200, ready);
        if (rc == CDX_ERR_STOPPED)
            break;
        for (size_t i = 0; i < n->n_links; i++) {
            if (ready[2 * i])
                s_live(n, &n->link[i]);
            if (ready[2 * i + 1])
                s_catchup(n, &n->link[i]);
        }
    }
    s_log(n, "stopping: %llu logged, %llu refused, %llu catch-up requests this run",
          (unsigned long long)n->logged, (unsigned long long)n->refused,
          (unsigned long long)n->requested);
    return 0;
}
