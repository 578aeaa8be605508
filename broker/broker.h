/* The broker: admits members (CURVE + ZAP), verifies every envelope,
 * commits each poll round to its log in one transaction, then receipts,
 * then fan-out; publishes its signed checkpoint on "sth". Routing and
 * policy live here; sockets, crypto and storage are libcydex's. */
#ifndef CYDEX_BROKER_H
#define CYDEX_BROKER_H

#include <signal.h>

#include "config.h"

typedef struct broker broker;

/* Opens the key, roster, log and sockets. On failure err says why and the
 * return is an exit code (78 config, 74 I/O, 77 key permissions, 70). */
int broker_new(broker **out, const broker_config *c, char *err, size_t errlen);

/* Serves until *stop is set (SIGTERM, SIGINT): the round in hand is
 * finished first. *reload (SIGHUP) re-reads the roster file. Returns an
 * exit code. */
int broker_run(broker *b, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);

void broker_destroy(broker **b);

#endif
