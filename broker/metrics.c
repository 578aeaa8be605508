/* The broker's HTTP pages: /health for supervisors and load balancers,
 * /metrics for Prometheus. Read from broker_stats on the broker's loop. */
#include <jansson.h>
#include <string.h>

#include "broker.h"
#include "prom.h"

static void s_health(const broker_stats *s, uint64_t entries, daemon_page *page)
{
    /* A key that may not sign now: receipts and checkpoints would be refused. */
    bool key_ok = s->key_state == CDX_KEY_VALID || s->key_state == CDX_KEY_ENDING;
    bool ok = !s->writes->error[0] && key_ok;
    json_t *o =
        json_pack("{s:s,s:s,s:I,s:I}", "status", ok ? "ok" : "failing", "id", s->id, "log_entries",
                  (json_int_t)entries, "roster_version", (json_int_t)s->roster_version);
    char when[CDX_TIME_TEXT_MAX] = "";
    if (s->key_when)
        cdx_time_format(when, s->key_when);
    if (o && !key_ok)
        json_object_set_new(o, "reason",
                            json_sprintf("our key is %s%s%s in roster v%llu: we sign nothing",
                                         cdx_key_state_name(s->key_state), when[0] ? " at " : "",
                                         when, (unsigned long long)s->roster_version));
    else if (o && !ok)
        json_object_set_new(o, "reason", json_sprintf("log append failed: %s", s->writes->error));
    if (o)
        json_dumpf(o, page->body, JSON_COMPACT);
    fputc('\n', page->body);
    json_decref(o);
    page->status = ok ? 200 : 503;
    page->type = "application/json";
}

static void s_metrics(const broker_stats *s, uint64_t entries, daemon_page *page)
{
    FILE *f = page->body;
    cdx_log_counters c = {0};
    cdx_log_counters_get(s->log, &c);
    daemon_prom_one(f, "cydex_broker_envelopes_accepted_total", "counter",
                    "Envelopes verified and committed to the log since the broker started.",
                    s->accepted);
    daemon_prom_one(f, "cydex_broker_envelopes_duplicate_total", "counter",
                    "Copies of envelopes the log already held, since the broker started.",
                    s->duplicates);
    daemon_prom_family(f, "cydex_broker_envelopes_refused_total", "counter",
                       "Envelopes refused, by reason, over the log's life.");
    for (size_t i = 0; i < c.n_rejected; i++)
        daemon_prom_sample(f, "cydex_broker_envelopes_refused_total", "reason",
                           c.rejected[i].reason, c.rejected[i].count);
    daemon_prom_one(f, "cydex_broker_connections_refused_total", "counter",
                    "CURVE handshakes refused (keys of no member) since the broker started.",
                    s->connections_refused);
    daemon_prom_one(f, "cydex_broker_ingress_links_closed_total", "counter",
                    "Publishers' connections that closed since the broker started: they went "
                    "away, or the transport dropped them (a message past its limit); the "
                    "broker's log names the member of each.",
                    s->links_closed);
    daemon_prom_one(f, "cydex_log_entries", "gauge", "Entries in the audit log.", entries);
    daemon_prom_one(f, "cydex_log_equivocations_total", "counter",
                    "Equivocations kept as evidence over the log's life.", c.equivocations);
    daemon_prom_writes(f, s->writes, s->log);
    daemon_prom_one(f, "cydex_roster_version", "gauge", "Version of the roster in force.",
                    s->roster_version);
    daemon_prom_one(f, "cydex_broker_catchup_streams", "gauge",
                    "Catch-up requests being streamed now.", s->catchup_streams);
    daemon_prom_family(f, "cydex_broker_peer_syncing", "gauge",
                       "1 while a catch-up from the peer broker is under way.");
    for (size_t i = 0; i < s->n_peers; i++)
        daemon_prom_sample(f, "cydex_broker_peer_syncing", "peer", s->peer[i].id,
                           s->peer[i].syncing);
    daemon_prom_family(f, "cydex_broker_peer_catchup_received_total", "counter",
                       "Envelopes taken from the peer broker's catch-up since the start.");
    for (size_t i = 0; i < s->n_peers; i++)
        daemon_prom_sample(f, "cydex_broker_peer_catchup_received_total", "peer", s->peer[i].id,
                           s->peer[i].received);
    daemon_prom_family(f, "cydex_broker_peer_tree_heads_witnessed_total", "counter",
                       "The peer broker's tree heads found consistent with the one before (a "
                       "consistency proof from the peer), since the start.");
    for (size_t i = 0; i < s->n_peers; i++)
        daemon_prom_sample(f, "cydex_broker_peer_tree_heads_witnessed_total", "peer", s->peer[i].id,
                           s->peer[i].heads_witnessed);
    daemon_prom_family(f, "cydex_broker_peer_tree_heads_inconsistent_total", "counter",
                       "The peer broker's tree heads NOT consistent with the one before: its log "
                       "did not only grow. Alert on any.");
    for (size_t i = 0; i < s->n_peers; i++)
        daemon_prom_sample(f, "cydex_broker_peer_tree_heads_inconsistent_total", "peer",
                           s->peer[i].id, s->peer[i].heads_inconsistent);
    page->type = DAEMON_PROM_TYPE;
}

bool broker_page(void *ctx, const char *path, daemon_page *page)
{
    broker_stats s;
    broker_stats_get(ctx, &s);
    uint64_t entries = 0;
    cdx_log_size(s.log, &entries);
    if (strcmp(path, "/health") == 0)
        s_health(&s, entries, page);
    else if (strcmp(path, "/metrics") == 0)
        s_metrics(&s, entries, page);
    else
        return false;
    return true;
}
