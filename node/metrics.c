/* The node's HTTP pages: /health for supervisors, /metrics for
 * Prometheus. They read the node on its own loop. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "prom.h"

static void s_health(node *n, daemon_page *page)
{
    uint64_t now = cdx_mono_ms(), entries = 0;
    size_t up = 0;
    for (size_t i = 0; i < n->n_links; i++)
        up += node__link_up(n, &n->link[i], now);
    cdx_log_size(n->member.log, &entries);
    char why_key[256];
    const char *key = node__key_trouble(n, why_key, sizeof why_key);
    bool writing = !n->writes.error[0], taken = !n->refusal[0];
    bool ok = up && writing && taken && !key;
    json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:I}", "status",
                          !writing || !taken || key ? "failing"
                          : up                      ? "ok"
                                                    : "no broker heard",
                          "id", n->cfg.id, "brokers_connected", (json_int_t)up, "brokers",
                          (json_int_t)n->n_links, "log_entries", (json_int_t)entries);
    if (o && key)
        json_object_set_new(o, "reason", json_string(key));
    else if (o && !writing)
        json_object_set_new(o, "reason", json_sprintf("log append failed: %s", n->writes.error));
    else if (o && !taken)
        json_object_set_new(o, "reason", json_string(n->refusal));
    if (o)
        json_dumpf(o, page->body, JSON_COMPACT);
    fputc('\n', page->body);
    json_decref(o);
    page->status = ok ? 200 : 503;
    page->type = "application/json";
}

static void s_counters(node *n, FILE *f)
{
    daemon_prom_one(f, "cydex_node_published_total", "counter",
                    "Alerts and acks this node published, since it started.", n->published);
    daemon_prom_one(f, "cydex_node_publish_repeats_total", "counter",
                    "Publish requests for an alert id this node had published, answered with "
                    "that envelope instead of a new one, since it started.",
                    n->republished);
    daemon_prom_one(f, "cydex_node_signatures_total", "counter",
                    "Ed25519 signatures made for the node's own envelopes (a batch signature "
                    "counts once), since it started.",
                    n->signatures);
    daemon_prom_one(f, "cydex_node_batch_signed_total", "counter",
                    "The node's own envelopes signed under a batch signature, since it started.",
                    n->batch_signed);
    daemon_prom_one(f, "cydex_node_tree_heads_witnessed_total", "counter",
                    "Brokers' tree heads found consistent with the one before (a consistency "
                    "proof from the broker, or the same root), since the start.",
                    n->heads_witnessed);
    daemon_prom_one(f, "cydex_node_tree_heads_inconsistent_total", "counter",
                    "Brokers' tree heads NOT consistent with the one before: the broker's log "
                    "did not only grow. Alert on any.",
                    n->heads_inconsistent);
    daemon_prom_one(f, "cydex_node_tree_heads_cosigned_total", "counter",
                    "Brokers' tree heads this node co-signed on \"sth\" (each head it came to "
                    "hold), since the start.",
                    n->heads_cosigned);
    daemon_prom_one(f, "cydex_node_envelopes_logged_total", "counter",
                    "Envelopes from the brokers verified and logged, since the node started.",
                    n->logged);
    daemon_prom_one(f, "cydex_node_envelopes_refused_total", "counter",
                    "Envelopes from the brokers that failed verification, since the start.",
                    n->refused);
    daemon_prom_one(f, "cydex_node_copies_dropped_total", "counter",
                    "Copies of envelopes already logged, dropped before verifying them.",
                    n->copies);
    daemon_prom_one(f, "cydex_node_acks_auto_total", "counter",
                    "\"received\" acks sent on the node's own (auto_ack), since the start.",
                    n->auto_acked);
    daemon_prom_one(f, "cydex_node_heartbeats_total", "counter",
                    "Heartbeats sent while idle, since the node started.", n->heartbeats);
    daemon_prom_one(f, "cydex_node_catchup_requests_total", "counter",
                    "Catch-up requests sent to brokers, since the node started.", n->requested);
    daemon_prom_one(f, "cydex_node_outbox_resends_total", "counter",
                    "Times the whole outbox was sent again because its oldest envelope had waited "
                    "a whole resend_ms (lost on the way, or no broker answering), since the start.",
                    n->resends);
    daemon_prom_one(
        f, "cydex_node_own_refused_total", "counter",
        "Our envelopes a broker refused for good (never to be logged), since the start.",
        n->own_refused);
}

static void s_metrics(node *n, daemon_page *page)
{
    FILE *f = page->body;
    uint64_t now = cdx_mono_ms(), entries = 0;
    size_t pending = 0, ns = 0;
    cdx_log_size(n->member.log, &entries);
    cdx_log_outbox_scan(n->member.log, NULL, NULL, &pending);
    s_counters(n, f);
    daemon_prom_one(f, "cydex_log_entries", "gauge", "Entries in the audit log.", entries);
    daemon_prom_writes(f, &n->writes, n->member.log);
    daemon_prom_one(f, "cydex_node_outbox_waiting", "gauge",
                    "Own envelopes no broker has receipted yet.", pending);
    uint64_t oldest_seq, oldest_at, now_ms = cdx_now_ms();
    bool waits = pending && node__oldest_waiting(n, &oldest_seq, &oldest_at);
    daemon_prom_one(f, "cydex_node_outbox_oldest_waiting_seconds", "gauge",
                    "How long the oldest own envelope has waited for a broker's receipt (0: none "
                    "waits); a long wait means no broker takes them.",
                    waits && now_ms > oldest_at ? (now_ms - oldest_at) / 1000 : 0);
    daemon_prom_one(f, "cydex_roster_version", "gauge", "Version of the roster in force.",
                    cdx_roster_version(n->member.roster));
    daemon_prom_family(f, "cydex_node_broker_connected", "gauge",
                       "1 if the broker was heard within two sync periods.");
    for (size_t i = 0; i < n->n_links; i++)
        daemon_prom_sample(f, "cydex_node_broker_connected", "broker", n->link[i].cfg->id,
                           node__link_up(n, &n->link[i], now));
    daemon_prom_family(f, "cydex_node_broker_last_heard_timestamp_seconds", "gauge",
                       "When the broker was last heard from (Unix time).");
    for (size_t i = 0; i < n->n_links; i++)
        if (n->link[i].last_heard_ms)
            daemon_prom_sample(f, "cydex_node_broker_last_heard_timestamp_seconds", "broker",
                               n->link[i].cfg->id, n->link[i].last_heard_ms / 1000);
    cdx_log_sender *s = NULL;
    if (cdx_log_senders(n->member.log, &s, &ns) != CDX_OK)
        ns = 0;
    daemon_prom_family(f, "cydex_node_sender_max_seq", "gauge",
                       "Highest seq of the sender this log holds.");
    for (size_t i = 0; i < ns; i++)
        daemon_prom_sample(f, "cydex_node_sender_max_seq", "sender", s[i].id, s[i].max_seq);
    daemon_prom_family(f, "cydex_node_sender_missing_seqs", "gauge",
                       "Seqs below the sender's highest that the log lacks (being fetched).");
    for (size_t i = 0; i < ns; i++)
        daemon_prom_sample(f, "cydex_node_sender_missing_seqs", "sender", s[i].id,
                           node__missing(&s[i]));
    free(s);
    page->type = DAEMON_PROM_TYPE;
}

bool node__page(void *ctx, const char *path, daemon_page *page)
{
    node *n = ctx;
    if (strcmp(path, "/health") == 0)
        s_health(n, page);
    else if (strcmp(path, "/metrics") == 0)
        s_metrics(n, page);
    else
        return false;
    return true;
}
