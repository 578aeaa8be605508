/* cydex-node: start, stop and the poll loop (see node.h; the parts are
 * named in internal.h). At start it first takes back from the brokers
 * whatever of its own chain its log lacks, signing nothing meanwhile (see
 * internal.h and daemon_chain_wait_over). Then the loop waits
 * on the control socket and, per broker, its fan-out, catch-up and ingress
 * sockets; between rounds it resends what waits for a receipt, asks every
 * broker for anything missed, beats when idle, and signs checkpoints of
 * its log, each on its own (monotonic) clock. Between rounds it also
 * takes the next key when a roster rotation makes it ours (keys.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "query.h"

cdx_err node__link_connect(node *n, node_link *l, cdx_errbuf *eb)
{
    const node_broker_config *bc = l->cfg;
    cdx_sock_destroy(&l->sub);
    cdx_sock_destroy(&l->cu);
    cdx_sock_destroy(&l->ingress);
    const cdx_member *m = cdx_roster_find_at(n->member.roster, bc->id, cdx_now_ms());
    if (!m)
        m = cdx_roster_find(n->member.roster, bc->id);
    if (!m || m->role != CDX_ROLE_BROKER)
        return cdx_errf(eb, CDX_ERR_UNKNOWN_SENDER, "%s is not a broker of the roster", bc->id);
    memcpy(l->server_pk, m->curve_pk, CDX_PK_BYTES);
    cdx_err rc = cdx_sock_connect(&l->sub, n->net, CDX_SOCK_SUB, bc->fanout, m->curve_pk, NULL, eb);
    /* Topic filters: a comma-separated list of prefixes; none = all. */
    char topics[512];
    snprintf(topics, sizeof topics, "%s", n->cfg.subscribe);
    char *save = NULL, *t = strtok_r(topics, ",", &save);
    if (rc == CDX_OK && !t)
        rc = cdx_sock_subscribe(l->sub, "");
    for (; rc == CDX_OK && t; t = strtok_r(NULL, ",", &save))
        rc = cdx_sock_subscribe(l->sub, t);
    if (rc == CDX_OK)
        rc = cdx_sock_connect(&l->cu, n->net, CDX_SOCK_DEALER, bc->catchup, m->curve_pk, NULL, eb);
    if (rc == CDX_OK)
        rc = cdx_sock_connect(&l->ingress, n->net, CDX_SOCK_DEALER, bc->ingress, m->curve_pk, NULL,
                              eb);
    if (rc == CDX_OK) /* what publishes take: whether `cydex status` says connected */
        rc = cdx_sock_watch(l->ingress, n->net, eb);
    return rc;
}

int node_new(node **out, const node_config *c, char *err, size_t errlen)
{
    *out = NULL;
    node *n = calloc(1, sizeof *n);
    if (!n)
        return 70;
    n->cfg = *c;
    n->resend_oldest = UINT64_MAX;
    n->verify_threads = daemon_verify_threads(c->verify_threads);
    n->round.out = calloc(NODE_CONTROL_BATCH, sizeof *n->round.out);
    n->round.in = calloc(NODE_CONTROL_BATCH, sizeof *n->round.in);
    n->round.res = calloc(NODE_CONTROL_BATCH, sizeof *n->round.res);
    n->live.msgs = calloc(NODE_LIVE_BATCH, sizeof *n->live.msgs);
    n->live.jobs = calloc(NODE_LIVE_BATCH, sizeof *n->live.jobs);
    n->live.topics = calloc(NODE_LIVE_BATCH, sizeof *n->live.topics);
    n->live.envs = calloc(NODE_LIVE_BATCH, sizeof *n->live.envs);
    if (!n->round.out || !n->round.in || !n->round.res || !n->live.msgs || !n->live.jobs ||
        !n->live.topics || !n->live.envs) {
        node_destroy(&n);
        return 70;
    }
    if (node_query_cache_new(&n->queries, c->id) != CDX_OK) {
        node_destroy(&n);
        return 70;
    }
    daemon_logger say = {.json = c->log_json};
    snprintf(say.id, sizeof say.id, "%s", c->id);
    int ec = daemon_member_open(&n->member, &say, c->key, c->roster, c->log, (size_t)c->map_max_mb,
                                err, errlen);
    if (ec == 0)
        ec = node__keys_open(n, err, errlen);
    if (ec != 0) {
        node_destroy(&n);
        return ec;
    }
    node__keys_check(n); /* a rotation already due: the new key from the start */
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_batch_signer_new(&n->signer, n->member.me);
    n->seen_batches = rc == CDX_OK ? cdx_batch_cache_new() : NULL;
    if (rc == CDX_OK && !n->seen_batches)
        rc = CDX_ERR_NOMEM;
    if (rc == CDX_OK)
        rc = cdx_transport_new(&n->net, n->member.me, n->member.roster, &eb);
    if (rc == CDX_OK)
        cdx_transport_set_ping(n->net, (unsigned)c->ping_ms);
    for (size_t i = 0; rc == CDX_OK && i < c->n_brokers; i++) {
        node_link *l = &n->link[n->n_links++];
        l->cfg = &n->cfg.broker[i];
        rc = node__link_connect(n, l, &eb);
    }
    if (rc == CDX_OK)
        rc = cdx_sock_bind_local(&n->control, n->net, CDX_SOCK_ROUTER, c->control, &eb);
    if (rc != CDX_OK) {
        snprintf(err, errlen, "%s", cdx_errbuf_msg(&eb, rc));
        node_destroy(&n);
        return rc == CDX_ERR_KEY_PERMS ? 77 : rc == CDX_ERR_IO ? 74 : 78;
    }
    if (c->metrics[0] && daemon_httpd_new(&n->http, c->metrics, node__page, n, err, errlen)) {
        node_destroy(&n);
        return 78;
    }
    if (n->http)
        daemon_log(&n->member.say, "health and metrics on http://%s (port %u): /health, /metrics",
                   c->metrics, daemon_httpd_port(n->http));
    uint64_t size = 0;
    cdx_log_size(n->member.log, &size);
    daemon_log(&n->member.say, "running: %zu broker%s, log %s (%llu entries), control %s",
               n->n_links, n->n_links == 1 ? "" : "s", c->log, (unsigned long long)size,
               c->control);
    *out = n;
    return 0;
}

void node_destroy(node **np)
{
    if (!np || !*np)
        return;
    node *n = *np;
    daemon_httpd_destroy(&n->http);
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
    cdx_identity_destroy(&n->next_me);
    node_query_cache_destroy(&n->queries);
    cdx_batch_signer_destroy(&n->signer);
    cdx_batch_cache_destroy(&n->seen_batches);
    for (size_t i = 0; i < n->n_links; i++)
        node__witness_clear(&n->link[i].witness);
    cdx_msg_clear(&n->parked);
    free(n->live.msgs);
    free(n->live.jobs);
    free(n->live.topics);
    free(n->live.envs);
    free(n->round.out);
    free(n->round.in);
    free(n->round.res);
    free(n);
    *np = NULL;
}

/* Whether we may sign again (daemon_chain_wait_over); says so in the log
 * when the brokers held envelopes of ours that our log lacked, or when no
 * broker answered. */
static bool s_chain_known(node *n, uint64_t now)
{
    size_t told = 0, heard = 0;
    for (size_t i = 0; i < n->n_links; i++) {
        told += n->link[i].told_chain;
        heard += n->link[i].heard_chain;
    }
    if (!daemon_chain_wait_over(told, heard, n->n_links, now - n->chain_since_ms))
        return false;
    cdx_log_sender own = {0};
    cdx_log_sender_get(n->member.log, n->cfg.id, &own);
    if (own.max_seq > n->chain_had)
        daemon_log(&n->member.say,
                   "our log ended at seq %llu of our own; the brokers held up to %llu, now logged: "
                   "we go on from there",
                   (unsigned long long)n->chain_had, (unsigned long long)own.max_seq);
    if (!told)
        daemon_log(&n->member.say,
                   "no broker answered in full within %llu s: signing on after seq %llu, as our "
                   "log has it (if this log was lost or restored from an older copy, a broker may "
                   "hold later seqs of ours)",
                   (unsigned long long)((now - n->chain_since_ms) / 1000),
                   (unsigned long long)own.max_seq);
    return true;
}

bool node__link_connected(node_link *l)
{
    return cdx_sock_link_up(l->ingress);
}

/* The links' connection events, read each round so that ZeroMQ does not
 * queue them up (node__link_connected reads them too). */
static void s_watch_links(node *n)
{
    for (size_t i = 0; i < n->n_links; i++)
        node__link_connected(&n->link[i]);
}

/* While we ask for our own chain: only catch-up replies and receipts are
 * taken (the control socket and the fan-out wait), so that nothing new is
 * signed, not even an automatic ack. */
static bool s_chain_round(node *n)
{
    cdx_sock *socks[2 * NODE_MAX_BROKERS + 1];
    bool ready[2 * NODE_MAX_BROKERS + 2] = {false};
    for (size_t i = 0; i < n->n_links; i++) {
        socks[2 * i] = n->link[i].cu;
        socks[2 * i + 1] = n->link[i].ingress;
    }
    /* Past the grace period, requests are told to come back. */
    size_t ns = 2 * n->n_links;
    bool busy = cdx_mono_ms() - n->chain_since_ms >= DAEMON_CHAIN_GRACE_MS;
    if (busy)
        socks[ns++] = n->control;
    cdx_err rc = cdx_sock_poll_fd(socks, ns, daemon_httpd_fd(n->http), 50, ready);
    if (rc == CDX_ERR_STOPPED)
        return false;
    s_watch_links(n);
    daemon_httpd_serve(n->http);
    for (size_t i = 0; i < n->n_links; i++) {
        if (ready[2 * i])
            node__catchup(n, &n->link[i]);
        if (ready[2 * i + 1])
            node__receipts(n, &n->link[i]);
    }
    if (busy && ready[2 * n->n_links]) {
        cdx_log_sender own = {0};
        cdx_log_sender_get(n->member.log, n->cfg.id, &own);
        char why[200];
        snprintf(why, sizeof why,
                 "the node is taking back its own envelopes from the brokers before it signs "
                 "anything (up to seq %llu so far); ask again in a moment",
                 (unsigned long long)own.max_seq);
        node__control_busy(n, why);
    }
    return true;
}

/* Our chain is known: everything else after what the log holds, the holes
 * a previous run left, and the clocks started. */
static void s_start_traffic(node *n)
{
    uint64_t now = cdx_mono_ms();
    n->chain_since_ms = 0;
    for (size_t i = 0; i < n->n_links; i++)
        node__request(n, &n->link[i], NULL, 0, 0, true);
    node__refill(n);
    n->next_sync_ms = now + n->cfg.sync_ms;
    n->heartbeat_gap_ms = n->cfg.heartbeat_ms;
    n->next_heartbeat_ms = now + n->cfg.heartbeat_ms;
    n->next_checkpoint_ms = now + n->cfg.checkpoint_ms;
}

int node_run(node *n, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload)
{
    /* Back from a stop: first what the brokers hold of our own chain. */
    cdx_log_sender own = {0};
    cdx_log_sender_get(n->member.log, n->cfg.id, &own);
    n->chain_had = own.max_seq;
    n->chain_since_ms = cdx_mono_ms();
    for (size_t i = 0; i < n->n_links; i++)
        node__ask_chain(n, &n->link[i]);
    node__witness_start(n);
    node__resend(n, true); /* what a previous run published but never saw receipted */
    daemon_notify("READY=1\nSTATUS=running");
    while (!*stop && n->chain_since_ms) {
        node__keys_check(n);
        if (s_chain_known(n, cdx_mono_ms()))
            s_start_traffic(n);
        else if (!s_chain_round(n))
            break;
    }
    while (!*stop) {
        if (reload && *reload) {
            *reload = 0;
            daemon_notify("RELOADING=1");
            daemon_roster_reload(&n->member, n->net, n->cfg.roster);
            daemon_notify("READY=1\nSTATUS=running");
        }
        node__keys_check(n); /* between rounds: the batch signer is empty */
        uint64_t now = cdx_mono_ms();
        if (now >= n->next_resend_ms)
            node__resend(n, false);
        if (n->cfg.heartbeat_ms && now >= n->next_heartbeat_ms)
            node__heartbeat(n);
        if (n->cfg.checkpoint_ms && now >= n->next_checkpoint_ms)
            node__checkpoint(n, true);
        if (now >= n->next_sync_ms) {
            /* Tail loss: what the live link dropped last, nothing after it
             * reveals; asking now and then does. Cheap when nothing is new. */
            for (size_t i = 0; i < n->n_links; i++)
                node__request(n, &n->link[i], NULL, 0, 0, true);
            node__refill(n);
            n->next_sync_ms = now + n->cfg.sync_ms;
        }
        cdx_sock *socks[1 + 3 * NODE_MAX_BROKERS] = {n->control};
        bool ready[1 + 3 * NODE_MAX_BROKERS + 1] = {false}; /* and the HTTP endpoint */
        for (size_t i = 0; i < n->n_links; i++) {
            socks[1 + 3 * i] = n->link[i].sub;
            socks[2 + 3 * i] = n->link[i].cu;
            socks[3 + 3 * i] = n->link[i].ingress;
        }
        /* Receipted rows leave the outbox with our next commit, or after
         * NODE_FORGET_MS if none comes (so that readers see it settle). */
        int wait = 200;
        if (cdx_log_outbox_pending(n->member.log)) {
            if (!n->flush_at_ms)
                n->flush_at_ms = now + NODE_FORGET_MS;
            if (now >= n->flush_at_ms) {
                cdx_log_outbox_flush(n->member.log, NULL);
                n->flush_at_ms = 0;
            } else if (n->flush_at_ms - now < (uint64_t)wait) {
                wait = (int)(n->flush_at_ms - now);
            }
        } else {
            n->flush_at_ms = 0;
        }
        if (n->parked.n) /* a question waits: read on between rounds */
            wait = 0;
        else if (n->warming && wait > NODE_WARM_IDLE_MS) /* read ahead, a step at a time */
            wait = NODE_WARM_IDLE_MS;
        cdx_err rc =
            cdx_sock_poll_fd(socks, 1 + 3 * n->n_links, daemon_httpd_fd(n->http), wait, ready);
        if (rc == CDX_ERR_STOPPED)
            break;
        s_watch_links(n);
        daemon_httpd_serve(n->http);
        if (rc == CDX_ERR_TIMEOUT && !n->parked.n) { /* idle: read ahead for list and show */
            uint64_t behind;
            n->warming = node_query_cache_warm(n->member.log, n->queries, n->cfg.query_step,
                                               &behind) == CDX_OK &&
                         behind > 0;
        }
        if (ready[0])
            node__control(n);
        for (size_t i = 0; i < n->n_links; i++) {
            if (ready[1 + 3 * i])
                node__live(n, &n->link[i]);
            if (ready[2 + 3 * i])
                node__catchup(n, &n->link[i]);
            if (ready[3 + 3 * i])
                node__receipts(n, &n->link[i]);
        }
        node__parked(n, false);
    }
    node__parked(n, true);
    daemon_notify("STOPPING=1\nSTATUS=stopping");
    node__checkpoint(n, false); /* the log as we leave it, signed */
    size_t pending = 0;
    cdx_log_outbox_scan(n->member.log, NULL, NULL, &pending);
    daemon_log(&n->member.say,
               "stopping: %llu published, %llu auto-acked, %llu heartbeats (%llu signatures, %llu "
               "envelopes batch-signed), %llu logged, %llu "
               "copies dropped, %llu refused, %llu catch-up requests, %llu resends of the outbox "
               "this run; %zu waiting for a receipt",
               (unsigned long long)n->published, (unsigned long long)n->auto_acked,
               (unsigned long long)n->heartbeats, (unsigned long long)n->signatures,
               (unsigned long long)n->batch_signed, (unsigned long long)n->logged,
               (unsigned long long)n->copies, (unsigned long long)n->refused,
               (unsigned long long)n->requested, (unsigned long long)n->resends, pending);
    return 0;
}

bool node__link_up(const node *n, const node_link *l, uint64_t mono_ms)
{
    return l->heard_mono_ms && mono_ms - l->heard_mono_ms <= 2 * n->cfg.sync_ms + 1000;
}

void node__heard(node_link *l)
{
    l->last_heard_ms = cdx_now_ms();
    l->heard_mono_ms = cdx_mono_ms();
}

uint64_t node__missing(const cdx_log_sender *s)
{
    return s->max_seq > s->count ? s->max_seq - s->count : 0;
}
