/* cydex-node configuration: an INI file (libinih), flags override.
 *
 *   [node]
 *   id = FR                          ; this state's member id
 *   key = /etc/cydex/FR.secret
 *   next_key = /etc/cydex/FR-2.secret ; the keys a roster rotation gives us: signed
 *                                     ; with from the rotation time on (optional)
 *   roster = /etc/cydex/roster.bin
 *   log = /var/lib/cydex/FR           ; the node's audit log
 *   subscribe = alert.,ack,sth,hb     ; topic prefixes ("" = everything)
 *   skew_ms = 300000
 *   control = ipc:///run/cydex/FR/control  ; the operator's CLI talks here
 *   resend_ms = 3000                  ; resend what no broker receipted yet
 *   sync_ms = 10000                   ; ask every broker for anything missed
 *   ping_ms = 10000                   ; ping a silent broker link; drop and remake it
 *                                     ; after 3x this without a word (0 = never)
 *   heartbeat_ms = 30000              ; when idle, announce our last seq (0 = never);
 *                                     ; the pause doubles while idle, up to 64x
 *   checkpoint_ms = 60000             ; sign a checkpoint of our log and publish its
 *                                     ; tree head on "sth", if it grew (0 = only at stop)
 *   verify_threads = 0                ; catch-up checked in parallel; 0 = one per CPU
 *   query_step = 1000                 ; log entries read for list/show at a time, between
 *                                     ; rounds of traffic (a question waits meanwhile)
 *   map_max_mb = 65536                ; the log's maximum size
 *   auto_ack = false                  ; acknowledge each alert we can read: "received"
 *   sign_batches = true               ; what a round signs, under one batch signature
 *                                     ; (false: each envelope signed alone)
 *   cosign = true                     ; co-sign on "sth" each broker tree head we come
 *                                     ; to hold (witness.c)
 *   metrics = 127.0.0.1:9465         ; HTTP /health and /metrics (Prometheus); unset: none
 *   log_format = text                 ; or json: one JSON object per stderr line
 *
 *   [broker.alpha]                    ; one section per broker it uses
 *   id = broker.alpha
 *   ingress = tcp://10.0.0.1:7401
 *   fanout = tcp://10.0.0.1:7402
 *   catchup = tcp://10.0.0.1:7403
 */
#ifndef CYDEX_NODE_CONFIG_H
#define CYDEX_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE_MAX_BROKERS 8

typedef struct node_broker_config {
    char id[64];
    char ingress[256];
    char fanout[256];
    char catchup[256];
} node_broker_config;

typedef struct node_config {
    char id[64];
    char key[1024];
    char next_key[1024]; /* "" = none */
    char roster[1024];
    char log[1024];
    char subscribe[512];
    char control[256];
    uint64_t skew_ms;
    uint64_t resend_ms;
    uint64_t sync_ms;
    uint64_t ping_ms;       /* 0: no pings on broker links */
    uint64_t heartbeat_ms;  /* 0: no heartbeats */
    uint64_t checkpoint_ms; /* 0: a checkpoint at stop only */
    bool auto_ack;
    bool sign_batches;       /* a round's own envelopes under one batch signature */
    bool cosign;             /* publish a co-signature of each broker tree head we hold */
    uint64_t verify_threads; /* 0: one per online CPU */
    uint64_t query_step;     /* entries read into the query cache at a time */
    uint64_t map_max_mb;     /* the log may grow to this size */
    char metrics[128];       /* HOST:PORT of the HTTP endpoint; "" = none */
    bool log_json;           /* log_format = json */
    node_broker_config broker[NODE_MAX_BROKERS];
    size_t n_brokers;
} node_config;

int node_config_load(node_config *c, const char *path, char *err, size_t errlen);
/* The same from text in memory (len bytes; `name` for the messages). */
int node_config_parse(node_config *c, const char *name, const char *text, size_t len, char *err,
                      size_t errlen);
/* One [node] setting, as --set gives it; 0, or -1 with a message in err. */
int node_config_set(node_config *c, const char *key, const char *value, char *err, size_t errlen);
int node_config_check(const node_config *c, char *err, size_t errlen);

#endif
