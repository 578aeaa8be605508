/* The broker: admits members (CURVE + ZAP), verifies every envelope,
 * commits each poll round to its log in one transaction, then receipts,
 * then fan-out; publishes its signed checkpoint on "sth". Routing and
 * policy live here; sockets, crypto and storage are libcydex's. */
#ifndef CYDEX_BROKER_H
#define CYDEX_BROKER_H

#include <signal.h>

#include "config.h"
#include "cydex/log.h"
#include "daemon.h"
#include "httpd.h"

typedef struct broker broker;

/* Opens the key, roster, log and sockets. On failure err says why and the
 * return is an exit code (78 config, 74 I/O, 77 key permissions, 70). */
int broker_new(broker **out, const broker_config *c, char *err, size_t errlen);

/* Serves until *stop is set (SIGTERM, SIGINT): the round in hand is
 * finished first. *reload (SIGHUP) re-reads the roster file. Returns an
 * exit code. */
int broker_run(broker *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

void broker_destroy(broker **b);

/* What the broker's metrics and health pages show (metrics.c), read on its
 * loop: counts are of this run unless the log keeps them. */
typedef struct broker_stats {
    const char *id;
    uint64_t accepted, duplicates, rejected;
    uint64_t connections_refused; /* CURVE handshakes of non-members */
    uint64_t links_closed;        /* ingress connections closed (or dropped) */
    uint64_t roster_version;
    cdx_key_state key_state; /* our own key's, now (cdx_roster_key_state) */
    uint64_t key_when;       /* the time that state names, 0 if none */
    size_t catchup_streams;
    size_t n_peers;
    struct {
        const char *id;
        bool syncing;
        uint64_t received;                            /* through catch-up */
        uint64_t heads_witnessed, heads_inconsistent; /* its tree heads, checked */
    } peer[BROKER_MAX_PEERS];
    const daemon_writes *writes; /* how the log's commits went */
    cdx_log *log;                /* its size and lifetime counters */
} broker_stats;

void broker_stats_get(const broker *b, broker_stats *out);

/* The HTTP pages: /health (200 or 503, JSON) and /metrics (Prometheus). */
bool broker_page(void *b, const char *path, daemon_page *page);

#endif
