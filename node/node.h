/* The national node. Receiving: subscribes to its brokers' fan-out,
 * verifies, deduplicates and logs everything it receives, and fills what it
 * missed from the brokers' catch-up: at start (everything after what its
 * log holds, and the holes below), whenever a sender's seq jumps or a
 * heartbeat announces more than it holds, and every sync period; puts in
 * force the roster updates it hears; acknowledges on its own if asked to.
 * Publishing: takes alerts, acks and rosters from its control socket (the
 * cydex command), signs them on its own hash chain, logs each with an
 * outbox mark in one transaction, sends it to every broker, and resends
 * until a broker's signed receipt clears the mark; beats when idle and
 * publishes its log's tree heads. Answering: what its log holds (status,
 * entries, alerts with their acks). */
#ifndef CYDEX_NODE_H
#define CYDEX_NODE_H

#include <signal.h>

#include "config.h"

typedef struct node node;

/* On failure err says why; the return is an exit code (78, 77, 74, 70). */
int node_new(node **out, const node_config *c, char *err, size_t errlen);
/* Serves until *stop; *reload (SIGHUP) re-reads the roster file and puts it
 * in force if it is newer and signed by the threshold of the admins in
 * force. */
int node_run(node *n, volatile sig_atomic_t *stop, volatile sig_atomic_t *reload);
void node_destroy(node **n);

#endif
