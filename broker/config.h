/* cydex-broker configuration: an INI file (libinih), flags override.
 *
 *   [broker]
 *   id = broker.alpha                  ; member id in the roster
 *   key = /etc/cydex/broker.alpha.secret
 *   roster = /etc/cydex/roster.bin     ; the trust anchor (or a later version)
 *   log = /var/lib/cydex/broker.alpha  ; LMDB audit log folder
 *   ingress = tcp://0.0.0.0:7401       ; ROUTER: publishes in, receipts out
 *   fanout = tcp://0.0.0.0:7402        ; XPUB: verified envelopes out
 *   catchup = tcp://0.0.0.0:7403       ; ROUTER: what a node missed, streamed
 *   max_envelope = 1048576             ; bytes
 *   skew_ms = 300000                   ; sent_at window around this clock
 *   batch_max = 1000                   ; envelopes per poll round (one fsync)
 *   checkpoint_ms = 5000               ; signed checkpoint on topic "sth" (if anything but
 *                                      ; heads and co-signatures came in since the last)
 *   map_max_mb = 65536                 ; the log's maximum size
 *   peer_sync_ms = 5000                ; catch up from peers this often
 *   ping_ms = 10000                    ; ping a silent link (a node, a peer); drop it
 *                                      ; after 3x this without a word (0 = never)
 *   verify_threads = 0                 ; signature checks in parallel; 0 = one per CPU
 *   fanout_hwm = 10000                 ; envelopes queued per subscriber; past it the
 *                                      ; subscriber misses them and catches up later
 *   metrics = 127.0.0.1:9464           ; HTTP /health and /metrics (Prometheus);
 *                                      ; unset: none
 *   log_format = text                  ; or json: one JSON object per stderr line
 *
 *   [peer.beta]                        ; one section per peer broker
 *   id = broker.beta
 *   fanout = tcp://10.0.0.2:7402       ; its fan-out: we subscribe to all of it
 *   catchup = tcp://10.0.0.2:7403      ; its catch-up: we ask for what we missed
 */
#ifndef CYDEX_BROKER_CONFIG_H
#define CYDEX_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_MAX_PEERS 16

typedef struct broker_peer_config {
    char id[64];
    char fanout[256];
    char catchup[256];
} broker_peer_config;

typedef struct broker_config {
    char id[64];
    char key[1024];
    char roster[1024];
    char log[1024];
    char ingress[256];
    char fanout[256];
    char catchup[256];
    size_t max_envelope;
    uint64_t skew_ms;
    size_t batch_max;
    size_t verify_threads; /* 0: one per online CPU */
    size_t fanout_hwm;     /* envelopes queued per subscriber before it drops */
    uint64_t checkpoint_ms;
    size_t map_max_mb;
    uint64_t peer_sync_ms;
    uint64_t ping_ms;  /* 0: no pings */
    char metrics[128]; /* HOST:PORT of the HTTP endpoint; "" = none */
    bool log_json;     /* log_format = json */
    broker_peer_config peer[BROKER_MAX_PEERS];
    size_t n_peers;
} broker_config;

/* Defaults, then the file. 0 on success; otherwise err says what and where. */
int broker_config_load(broker_config *c, const char *path, char *err, size_t errlen);

/* The same from text in memory (len bytes; `name` for the messages). */
int broker_config_parse(broker_config *c, const char *name, const char *text, size_t len, char *err,
                        size_t errlen);

/* Sets one key as the file would ("ingress", "tcp://..."); 0 on success. */
int broker_config_set(broker_config *c, const char *key, const char *value, char *err,
                      size_t errlen);

/* 0 if complete and consistent; otherwise err says what is missing. */
int broker_config_check(const broker_config *c, char *err, size_t errlen);

#endif
