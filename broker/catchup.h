/* The broker's catch-up server: what a node or a peer broker missed,
 * streamed from the log a reply at a time. Each request becomes a stream
 * with a cursor; every turn of the broker's loop sends each stream its next
 * reply (at most max_batch envelopes and 512 KiB), so a node back from a
 * week away is served beside the ingress, not instead of it. Memory per
 * stream is one reply being sent plus what the socket queues (a small high
 * water mark). A client that stops reading for 30 s loses its stream and
 * asks again. Used by the broker's one thread.
 */
#ifndef CYDEX_BROKER_CATCHUP_H
#define CYDEX_BROKER_CATCHUP_H

#include <stdbool.h>

#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/transport.h"
#include "daemon.h"

/* Streams served at once; a request past that is told to ask again. */
#define BROKER_CATCHUP_STREAMS 64
/* Envelope bytes one reply carries at most (and at least one envelope):
 * receivers refuse messages much past the envelope limit. */
#define BROKER_CATCHUP_REPLY_BYTES (512u << 10)

typedef struct broker_catchup broker_catchup;

/* Serves requests from sock out of log (both borrowed; they outlive it);
 * say is how the broker logs (it outlives c). */
cdx_err broker_catchup_new(broker_catchup **out, cdx_sock *sock, cdx_log *log,
                           const daemon_logger *say);
void broker_catchup_destroy(broker_catchup **c);

/* How a reply leaves for the client with routing id rid: CDX_OK, or
 * CDX_ERR_TIMEOUT if the client's queue is full (the reply is offered again
 * next turn), or another error (the stream is dropped). */
typedef cdx_err (*broker_catchup_send_fn)(void *ctx, const cdx_bytes *rid, const cdx_bytes *reply);

/* A server whose replies go to send(ctx, ...) instead of a socket (for
 * tests and fuzzing); broker_catchup_accept then takes nothing. */
cdx_err broker_catchup_new_with(broker_catchup **out, broker_catchup_send_fn send, void *ctx,
                                cdx_log *log, const daemon_logger *say);

/* One request as it came (the client's routing id, the request's bytes):
 * it becomes a stream, or is answered at once (a proof, a refusal saying
 * why). broker_catchup_accept calls it for each message on the socket. */
void broker_catchup_take(broker_catchup *c, const cdx_bytes *rid, const uint8_t *req, size_t len);

/* Takes the requests waiting on the socket: each becomes a stream (or is
 * refused in a reply saying why). */
void broker_catchup_accept(broker_catchup *c);

/* Sends each stream its next reply; returns how many streams remain. */
size_t broker_catchup_pump(broker_catchup *c);
/* How many streams are being served. */
size_t broker_catchup_streams(const broker_catchup *c);

#endif
