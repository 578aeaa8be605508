/* The bus: ZeroMQ sockets, CURVE on every one, members only.
 *
 * A cdx_transport owns one ZeroMQ context and a ZAP handler thread that
 * admits a CURVE client only if its key belongs to a roster member whose
 * key is valid now (not revoked, inside its validity); everyone else is
 * refused and counted. Messages received carry the admitted member's id
 * (cdx_msg.peer). Server sockets (bind) use the transport identity's CURVE
 * key; client sockets (connect) need the server's CURVE public key.
 *
 * Sockets are not thread-safe: each is used by one thread. The roster may
 * be replaced from any thread (SIGHUP reload) with cdx_transport_set_roster.
 */
#ifndef CYDEX_TRANSPORT_H
#define CYDEX_TRANSPORT_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_MSG_MAX_FRAMES 8u

typedef struct cdx_transport cdx_transport;

/* Starts the context and the ZAP handler; `roster` is copied. */
cdx_err cdx_transport_new(cdx_transport **out, const cdx_identity *me, const cdx_roster *roster,
                          cdx_errbuf *eb);
/* A context for local control clients only (the operator's CLI): no keys,
 * no ZAP, only cdx_sock_connect_local. */
cdx_err cdx_transport_new_local(cdx_transport **out, cdx_errbuf *eb);

/* Stops the ZAP handler and the context. Destroy every socket first. */
void cdx_transport_destroy(cdx_transport **t);

/* The CURVE keys of sockets opened from now on: me's (copied), as a key
 * rotation makes them; sockets already open keep theirs (open them again
 * to use the new keys). Call from the thread that opens sockets. */
void cdx_transport_set_identity(cdx_transport *t, const cdx_identity *me);

/* Replaces the roster the ZAP handler admits by (copied). Existing
 * connections stay; new ones are judged by it. */
cdx_err cdx_transport_set_roster(cdx_transport *t, const cdx_roster *roster);

/* Dead links: every CURVE socket opened after this call pings its peer
 * (a ZMTP PING) after ping_ms without traffic, and drops a connection
 * that brings nothing for 3 x ping_ms; a connecting socket then connects
 * again. Without it a link whose far end vanished without a word (a
 * host that lost power, a NAT or firewall that forgot the connection)
 * stays "up" for ever on a socket that only receives, such as a SUB.
 * A connecting socket also gives up a connection attempt after ping_ms
 * and makes a new one (a SYN lost on a silent route is otherwise resent
 * at doubling intervals). 0 (the default): no pings. */
void cdx_transport_set_ping(cdx_transport *t, unsigned ping_ms);

/* CURVE handshakes refused so far (not members, revoked, expired). */
uint64_t cdx_transport_refused(const cdx_transport *t);

typedef enum cdx_sock_type {
    CDX_SOCK_ROUTER,
    CDX_SOCK_DEALER,
    CDX_SOCK_PUB,
    CDX_SOCK_XPUB,
    CDX_SOCK_SUB
} cdx_sock_type;

typedef struct cdx_sock_opts {
    size_t max_msg_size; /* ZMQ_MAXMSGSIZE; 0 = CDX_ENVELOPE_MAX_DEFAULT + 64 KiB */
    int hwm;             /* send and receive high water marks; 0 = 10000 */
    /* Watch the socket's connections: each one that closes (the peer went
     * away, or the transport dropped it: a message past max_msg_size, a
     * protocol error) is reported by cdx_sock_closed_links, with the
     * member it came from when that is known. */
    bool watch_links;
} cdx_sock_opts;

typedef struct cdx_sock cdx_sock;

/* A CURVE server socket bound to endpoint ("tcp://127.0.0.1:*" picks a
 * port; cdx_sock_endpoint tells which). opts may be NULL. */
cdx_err cdx_sock_bind(cdx_sock **out, cdx_transport *t, cdx_sock_type type, const char *endpoint,
                      const cdx_sock_opts *opts, cdx_errbuf *eb);
/* A CURVE client socket to a server whose CURVE key is server_pk. */
cdx_err cdx_sock_connect(cdx_sock **out, cdx_transport *t, cdx_sock_type type, const char *endpoint,
                         const uint8_t server_pk[CDX_PK_BYTES], const cdx_sock_opts *opts,
                         cdx_errbuf *eb);
void cdx_sock_destroy(cdx_sock **s);

/* A connection of a watched socket that closed. */
typedef struct cdx_closed_link {
    /* The member whose messages came over it (its CURVE key's), or "" if
     * none had come yet. */
    char member[CDX_ID_MAX + 1];
    char endpoint[256]; /* the socket's endpoint it was on */
} cdx_closed_link;

/* Fills out with up to max connections of a socket opened with
 * watch_links that closed since the last call; returns how many. Never
 * blocks; 0 for a socket not watched. */
size_t cdx_sock_closed_links(cdx_sock *s, cdx_closed_link *out, size_t max);

/* The control channel between a daemon and its operator's CLI on the same
 * machine: ipc:// only, no CURVE; the socket file is made mode 0600, and
 * should sit in a folder only the daemon's user can enter. Its messages may
 * be up to CDX_CONTROL_MSG_MAX (answers listing many log entries). */
#define CDX_CONTROL_MSG_MAX (64u * 1024u * 1024u)
cdx_err cdx_sock_bind_local(cdx_sock **out, cdx_transport *t, cdx_sock_type type,
                            const char *ipc_endpoint, cdx_errbuf *eb);
/* A connection is one conversation with one daemon process: it is not
 * made again when the daemon goes away. (ZeroMQ would reconnect to a
 * restarted daemon, dropping the requests queued to the old one and
 * carrying later ones to the new one: a client matching answers to
 * requests by their order would take one request's answer for another's.)
 * A client opens a new connection, and asks again what was not answered. */
cdx_err cdx_sock_connect_local(cdx_sock **out, cdx_transport *t, cdx_sock_type type,
                               const char *ipc_endpoint, cdx_errbuf *eb);

/* A SUB socket to a feed outside the bus (MISP's ZeroMQ feed): no CURVE;
 * with user and password (both non-NULL), ZMQ PLAIN. It reconnects by
 * itself when the publisher restarts. Messages up to max_msg_size bytes
 * (0: 16 MiB); a larger one drops the connection, which is
 * then made again. Subscribe with cdx_sock_subscribe. */
cdx_err cdx_sock_connect_feed(cdx_sock **out, cdx_transport *t, const char *endpoint,
                              const char *user, const char *password, size_t max_msg_size,
                              cdx_errbuf *eb);

/* Watching a connecting socket's link (its one endpoint): from this call
 * on, cdx_sock_link_up says whether a connection to the peer stands, its
 * handshake done (for CURVE: the peer holds the key we asked for), and
 * not dropped since (the peer closed it, its process died, or pings went
 * unanswered: cdx_transport_set_ping). Only for sockets used by one
 * thread; t is the socket's transport. */
cdx_err cdx_sock_watch(cdx_sock *s, cdx_transport *t, cdx_errbuf *eb);
/* Reads what happened to the link since the last call, and says whether
 * it is up now (false if the socket is not watched). Call it often (each
 * poll round): ZeroMQ queues the events until it is called. */
bool cdx_sock_link_up(cdx_sock *s);

/* The endpoint actually bound (for wildcard ports). Borrowed. */
const char *cdx_sock_endpoint(const cdx_sock *s);

/* SUB sockets: receive topics starting with prefix ("" = everything). */
cdx_err cdx_sock_subscribe(cdx_sock *s, const char *prefix);

/* One multipart message, received; frames are owned by it. */
typedef struct cdx_msg {
    size_t n;
    cdx_bytes frame[CDX_MSG_MAX_FRAMES];
    char peer[CDX_ID_MAX + 1]; /* the admitted member, "" if none (e.g. inproc) */
    bool truncated;            /* more frames arrived than fit; dropped */
} cdx_msg;

void cdx_msg_clear(cdx_msg *m);

/* Sends n frames as one message; CDX_ERR_TIMEOUT if it would block longer
 * than timeout_ms (0: never block; -1: block). */
cdx_err cdx_sock_send(cdx_sock *s, const cdx_bytes *frames, size_t n, int timeout_ms);

/* Receives one message; CDX_ERR_TIMEOUT after timeout_ms (-1: wait). */
cdx_err cdx_sock_recv(cdx_sock *s, cdx_msg *out, int timeout_ms);

/* Waits until one of the (at most 64) sockets can be read; ready[i] says
 * which. */
cdx_err cdx_sock_poll(cdx_sock *const *socks, size_t n, int timeout_ms, bool *ready);
/* cdx_sock_poll, and also a file descriptor (fd >= 0) watched for input,
 * such as an HTTP server's: ready[n] says whether it is readable. */
cdx_err cdx_sock_poll_fd(cdx_sock *const *socks, size_t n, int fd, int timeout_ms, bool *ready);

#ifdef __cplusplus
}
#endif
#endif
