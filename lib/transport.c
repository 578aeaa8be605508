/* The ZeroMQ door: sockets with CURVE on every one, and the ZAP handler
 * that admits roster members only. No other file includes zmq.h.
 *
 * Invariants: the ZAP handler is bound before any server socket exists
 * (libzmq consults it only if it is there when a handshake starts); it
 * judges each handshake by a private copy of the members' CURVE keys,
 * swapped under a mutex on reload; a refusal is counted, never silent.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#include "cydex/clock.h"
#include "cydex/transport.h"
#include "internal.h"

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"

typedef struct s_admit {
    uint8_t curve_pk[CDX_PK_BYTES];
    cdx_member member;
} s_admit;

struct cdx_transport {
    void *ctx;
    void *zap;
    pthread_t zap_thread;
    bool zap_running;
    pthread_mutex_t lock; /* guards admit/n_admit */
    s_admit *admit;
    size_t n_admit;
    atomic_uint_fast64_t refused;
    uint8_t curve_pk[CDX_PK_BYTES];
    uint8_t curve_sk[CDX_PK_BYTES];
    unsigned ping_ms; /* 0: no ZMTP pings */
};

/* Which member's messages came over which connection (its file
 * descriptor), for a watched socket's closed links. */
#define S_LINKS 1024
typedef struct s_link {
    int fd; /* -1: free */
    char member[CDX_ID_MAX + 1];
} s_link;

struct cdx_sock {
    void *z;
    cdx_sock_type type;
    char endpoint[256];
    void *mon;     /* watched: the PAIR end of ZeroMQ's socket monitor, else NULL */
    bool link_up;  /* cdx_sock_watch: what its events said last */
    s_link *links; /* watch_links: S_LINKS slots */
};

void cdx__z85_encode_key(char out[41], const uint8_t key[CDX_PK_BYTES])
{
    zmq_z85_encode(out, key, CDX_PK_BYTES);
}

cdx_err cdx__z85_decode_key(uint8_t key[CDX_PK_BYTES], const char *text)
{
    size_t n = 0;
    while (text && text[n] && n <= 40)
        n++;
    if (n != 40)
        return CDX_ERR_FORMAT;
    return zmq_z85_decode(key, text) ? CDX_OK : CDX_ERR_FORMAT;
}

/* ---- ZAP ---- */

/* Whom a CURVE key belongs to, if that member may connect now. */
static bool s_admitted(cdx_transport *t, const uint8_t *key, size_t len, char id[CDX_ID_MAX + 1])
{
    bool ok = false;
    if (len != CDX_PK_BYTES)
        return false;
    uint64_t now = cdx_now_ms();
    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->n_admit && !ok; i++)
        if (memcmp(t->admit[i].curve_pk, key, CDX_PK_BYTES) == 0 &&
            cdx_member_key_valid_at(&t->admit[i].member, now) == CDX_OK) {
            ok = true;
            memcpy(id, t->admit[i].member.id, CDX_ID_MAX + 1);
        }
    pthread_mutex_unlock(&t->lock);
    return ok;
}

static void s_send_str(void *z, const void *p, size_t n, bool more)
{
    zmq_send(z, p, n, more ? ZMQ_SNDMORE : 0);
}

static void *s_zap_main(void *arg)
{
    cdx_transport *t = arg;
    for (;;) {
        /* version, request id, domain, address, identity, mechanism, credentials */
        zmq_msg_t part[8];
        int n = 0, more = 1;
        bool stop = false;
        while (more) {
            zmq_msg_t scratch, *m = n < 8 ? &part[n] : &scratch;
            zmq_msg_init(m);
            if (zmq_msg_recv(m, t->zap, 0) < 0) {
                zmq_msg_close(m);
                stop = true;
                break;
            }
            more = zmq_msg_more(m);
            if (n < 8)
                n++;
            else
                zmq_msg_close(m);
        }
        if (stop) {
            for (int i = 0; i < n; i++)
                zmq_msg_close(&part[i]);
            break;
        }
        char id[CDX_ID_MAX + 1] = "";
        bool curve = n >= 7 && zmq_msg_size(&part[5]) == 5 &&
                     memcmp(zmq_msg_data(&part[5]), "CURVE", 5) == 0;
        bool ok = curve && s_admitted(t, zmq_msg_data(&part[6]), zmq_msg_size(&part[6]), id);
        if (!ok)
            atomic_fetch_add(&t->refused, 1);
        s_send_str(t->zap, "1.0", 3, true);
        if (n >= 2)
            s_send_str(t->zap, zmq_msg_data(&part[1]), zmq_msg_size(&part[1]), true);
        else
            s_send_str(t->zap, "", 0, true);
        s_send_str(t->zap, ok ? "200" : "400", 3, true);
        const char *text = ok ? "member" : "not a member of the federation, or key not valid now";
        s_send_str(t->zap, text, strlen(text), true);
        s_send_str(t->zap, id, strlen(id), true);
        s_send_str(t->zap, "", 0, false);
        for (int i = 0; i < n; i++)
            zmq_msg_close(&part[i]);
    }
    int zero = 0;
    zmq_setsockopt(t->zap, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(t->zap);
    return NULL;
}

cdx_err cdx_transport_set_roster(cdx_transport *t, const cdx_roster *roster)
{
    size_t n = cdx_roster_member_count(roster);
    s_admit *admit = calloc(n + 1, sizeof *admit);
    if (!admit)
        return CDX_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        admit[i].member = *cdx_roster_member_at(roster, i);
        memcpy(admit[i].curve_pk, admit[i].member.curve_pk, CDX_PK_BYTES);
    }
    pthread_mutex_lock(&t->lock);
    s_admit *old = t->admit;
    t->admit = admit;
    t->n_admit = n;
    pthread_mutex_unlock(&t->lock);
    free(old);
    return CDX_OK;
}

cdx_err cdx_transport_new(cdx_transport **out, const cdx_identity *me, const cdx_roster *roster,
                          cdx_errbuf *eb)
{
    *out = NULL;
    cdx_transport *t = calloc(1, sizeof *t);
    if (!t)
        return CDX_ERR_NOMEM;
    pthread_mutex_init(&t->lock, NULL);
    atomic_init(&t->refused, 0);
    cdx_member card;
    cdx_identity_card(me, &card);
    memcpy(t->curve_pk, card.curve_pk, CDX_PK_BYTES);
    memcpy(t->curve_sk, cdx_identity_curve_secret(me), CDX_PK_BYTES);
    cdx_err rc = cdx_transport_set_roster(t, roster);
    t->ctx = rc == CDX_OK ? zmq_ctx_new() : NULL;
    if (rc == CDX_OK && !t->ctx)
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot start ZeroMQ: %s", zmq_strerror(zmq_errno()));
    if (rc == CDX_OK) {
        t->zap = zmq_socket(t->ctx, ZMQ_REP);
        if (!t->zap || zmq_bind(t->zap, S_ZAP_ENDPOINT) != 0)
            rc = cdx_errf(eb, CDX_ERR_IO, "cannot start the ZAP handler: %s",
                          zmq_strerror(zmq_errno()));
    }
    if (rc == CDX_OK && pthread_create(&t->zap_thread, NULL, s_zap_main, t) != 0)
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot start the ZAP thread");
    else if (rc == CDX_OK)
        t->zap_running = true;
    if (rc != CDX_OK) {
        if (t->zap)
            zmq_close(t->zap);
        t->zap = NULL;
        cdx_transport_destroy(&t);
    }
    *out = t;
    return rc;
}

void cdx_transport_set_identity(cdx_transport *t, const cdx_identity *me)
{
    cdx_member card;
    cdx_identity_card(me, &card);
    memcpy(t->curve_pk, card.curve_pk, CDX_PK_BYTES);
    memcpy(t->curve_sk, cdx_identity_curve_secret(me), CDX_PK_BYTES);
}

void cdx_transport_destroy(cdx_transport **tp)
{
    if (!tp || !*tp)
        return;
    cdx_transport *t = *tp;
    if (t->ctx) {
        zmq_ctx_shutdown(t->ctx); /* wakes the ZAP thread with ETERM */
        if (t->zap_running)
            pthread_join(t->zap_thread, NULL);
        zmq_ctx_term(t->ctx);
    }
    cdx__wipe(t->curve_sk, sizeof t->curve_sk);
    free(t->admit);
    pthread_mutex_destroy(&t->lock);
    free(t);
    *tp = NULL;
}

uint64_t cdx_transport_refused(const cdx_transport *t)
{
    return (uint64_t)atomic_load(&((cdx_transport *)t)->refused);
}

/* ---- sockets ---- */

static int s_zmq_type(cdx_sock_type type)
{
    switch (type) {
    case CDX_SOCK_ROUTER: return ZMQ_ROUTER;
    case CDX_SOCK_DEALER: return ZMQ_DEALER;
    case CDX_SOCK_PUB: return ZMQ_PUB;
    case CDX_SOCK_XPUB: return ZMQ_XPUB;
    case CDX_SOCK_SUB: return ZMQ_SUB;
    }
    return -1;
}

/* Starts ZeroMQ's monitor on the socket: its connections' events come to
 * s->mon, read by s_next_event. */
static cdx_err s_watch(cdx_sock *s, void *ctx, cdx_errbuf *eb)
{
    char addr[64];
    snprintf(addr, sizeof addr, "inproc://cdx.watch.%p", (void *)s);
    int zero = 0;
    if (zmq_socket_monitor(s->z, addr,
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                               ZMQ_EVENT_DISCONNECTED) != 0)
        return cdx_errf(eb, CDX_ERR_IO, "cannot watch %s: %s", s->endpoint,
                        zmq_strerror(zmq_errno()));
    s->mon = zmq_socket(ctx, ZMQ_PAIR);
    if (!s->mon || zmq_setsockopt(s->mon, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
        zmq_connect(s->mon, addr) != 0) {
        cdx_err rc =
            cdx_errf(eb, CDX_ERR_IO, "cannot watch %s: %s", s->endpoint, zmq_strerror(zmq_errno()));
        zmq_socket_monitor(s->z, NULL, 0);
        if (s->mon)
            zmq_close(s->mon);
        s->mon = NULL;
        return rc;
    }
    return CDX_OK;
}

/* The next event of a watched socket, without waiting; false if none.
 * Each event is two frames: 2 bytes of event and 4 of value (host order,
 * as ZeroMQ writes them), then the endpoint. It also keeps link_up: a link
 * is up from a finished handshake (CURVE's, so the peer is the one we
 * asked for) to the next disconnection. */
static bool s_next_event(cdx_sock *s, uint16_t *ev, uint32_t *value, char endpoint[256])
{
    uint8_t head[6];
    int n = s->mon ? zmq_recv(s->mon, head, sizeof head, ZMQ_DONTWAIT) : -1;
    if (n < 0)
        return false;
    endpoint[0] = '\0';
    int more = 0;
    size_t more_len = sizeof more;
    while (zmq_getsockopt(s->mon, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
        int got = zmq_recv(s->mon, endpoint, 255, 0);
        if (got < 0)
            break;
        endpoint[got > 255 ? 255 : got] = '\0';
    }
    *ev = 0;
    *value = 0;
    if (n >= 2)
        memcpy(ev, head, sizeof *ev);
    if (n >= 6)
        memcpy(value, head + 2, sizeof *value);
    if (*ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        s->link_up = true;
    else if (*ev == ZMQ_EVENT_DISCONNECTED || *ev == ZMQ_EVENT_CONNECTED)
        s->link_up = false; /* a new connection is up once its handshake is */
    return true;
}

static cdx_err s_open(cdx_sock **out, cdx_transport *t, cdx_sock_type type,
                      const cdx_sock_opts *opts, cdx_errbuf *eb)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    (*out)->type = type;
    (*out)->z = zmq_socket(t->ctx, s_zmq_type(type));
    if (!(*out)->z) {
        free(*out);
        *out = NULL;
        return cdx_errf(eb, CDX_ERR_IO, "cannot open a socket: %s", zmq_strerror(zmq_errno()));
    }
    int64_t max = (int64_t)(opts && opts->max_msg_size ? opts->max_msg_size
                                                       : CDX_ENVELOPE_MAX_DEFAULT + 65536);
    int hwm = opts && opts->hwm ? opts->hwm : 10000, zero = 0, one = 1;
    void *z = (*out)->z;
    zmq_setsockopt(z, ZMQ_MAXMSGSIZE, &max, sizeof max);
    zmq_setsockopt(z, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(z, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(z, ZMQ_LINGER, &zero, sizeof zero);
    if (type == CDX_SOCK_ROUTER) /* a reply to a peer that left is an error, not a silent drop */
        zmq_setsockopt(z, ZMQ_ROUTER_MANDATORY, &one, sizeof one);
    if (opts && opts->watch_links) {
        (*out)->links = malloc(S_LINKS * sizeof *(*out)->links);
        for (size_t i = 0; (*out)->links && i < S_LINKS; i++)
            (*out)->links[i].fd = -1;
        cdx_err rc = (*out)->links ? s_watch(*out, t->ctx, eb) : CDX_ERR_NOMEM;
        if (rc != CDX_OK) {
            cdx_sock_destroy(out);
            return rc;
        }
    }
    return CDX_OK;
}

/* The slot of connection fd: its own, else a free one to take (NULL when
 * the table is full: that member is then not known). */
static s_link *s_link_slot(cdx_sock *s, int fd, bool take)
{
    s_link *free_slot = NULL;
    for (size_t i = 0; i < S_LINKS; i++) {
        if (s->links[i].fd == fd)
            return &s->links[i];
        if (!free_slot && s->links[i].fd < 0)
            free_slot = &s->links[i];
    }
    return take ? free_slot : NULL;
}

static void s_link_note(cdx_sock *s, zmq_msg_t *m, const char *who)
{
    int fd = zmq_msg_get(m, ZMQ_SRCFD);
    s_link *l = fd >= 0 ? s_link_slot(s, fd, true) : NULL;
    if (l && (l->fd != fd || strcmp(l->member, who) != 0)) {
        l->fd = fd;
        cdx__copy_id(l->member, who);
    }
}

size_t cdx_sock_closed_links(cdx_sock *s, cdx_closed_link *out, size_t max)
{
    size_t n = 0;
    uint16_t ev;
    uint32_t value;
    char endpoint[256];
    while (n < max && s_next_event(s, &ev, &value, endpoint)) {
        if (ev != ZMQ_EVENT_DISCONNECTED)
            continue;
        cdx_closed_link *c = &out[n++];
        memset(c, 0, sizeof *c);
        s_link *l = s->links ? s_link_slot(s, (int)value, false) : NULL;
        if (l) {
            memcpy(c->member, l->member, sizeof c->member);
            l->fd = -1;
        }
        memcpy(c->endpoint, endpoint, sizeof c->endpoint);
    }
    return n;
}

void cdx_transport_set_ping(cdx_transport *t, unsigned ping_ms)
{
    t->ping_ms = ping_ms;
}

/* ZMTP heartbeats on a bus socket (see cdx_transport_set_ping). The
 * timeout is asked of the peer too (TTL), so a peer that pings less
 * often still drops a link of ours that went dead. A connecting socket
 * also gives up a connection attempt after ping_ms and makes a new one:
 * across a route that drops packets without a word, the kernel would
 * otherwise resend its SYN at doubling intervals, and a link healed after
 * an outage of 40 to 60 s was found 13 to 32 s later (design notes). */
static void s_ping(void *z, const cdx_transport *t, bool connecting)
{
    if (!t->ping_ms)
        return;
    int ivl = t->ping_ms > 1000000u ? 1000000 : (int)t->ping_ms, timeout = 3 * ivl;
    int ttl = timeout > 6553500 ? 6553500 : timeout; /* ZMQ's TTL is in tenths of a second */
    zmq_setsockopt(z, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
    zmq_setsockopt(z, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
    zmq_setsockopt(z, ZMQ_HEARTBEAT_TTL, &ttl, sizeof ttl);
    if (connecting)
        zmq_setsockopt(z, ZMQ_CONNECT_TIMEOUT, &ivl, sizeof ivl);
}

cdx_err cdx_sock_bind(cdx_sock **out, cdx_transport *t, cdx_sock_type type, const char *endpoint,
                      const cdx_sock_opts *opts, cdx_errbuf *eb)
{
    cdx_err rc = s_open(out, t, type, opts, eb);
    if (rc != CDX_OK)
        return rc;
    void *z = (*out)->z;
    int one = 1;
    size_t len = sizeof(*out)->endpoint;
    s_ping(z, t, false);
    if (zmq_setsockopt(z, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(z, ZMQ_CURVE_SECRETKEY, t->curve_sk, CDX_PK_BYTES) != 0 ||
        zmq_bind(z, endpoint) != 0) {
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
        cdx_sock_destroy(out);
        return rc;
    }
    zmq_getsockopt(z, ZMQ_LAST_ENDPOINT, (*out)->endpoint, &len);
    return CDX_OK;
}

cdx_err cdx_sock_connect(cdx_sock **out, cdx_transport *t, cdx_sock_type type, const char *endpoint,
                         const uint8_t server_pk[CDX_PK_BYTES], const cdx_sock_opts *opts,
                         cdx_errbuf *eb)
{
    cdx_err rc = s_open(out, t, type, opts, eb);
    if (rc != CDX_OK)
        return rc;
    void *z = (*out)->z;
    s_ping(z, t, true);
    if (zmq_setsockopt(z, ZMQ_CURVE_SERVERKEY, server_pk, CDX_PK_BYTES) != 0 ||
        zmq_setsockopt(z, ZMQ_CURVE_PUBLICKEY, t->curve_pk, CDX_PK_BYTES) != 0 ||
        zmq_setsockopt(z, ZMQ_CURVE_SECRETKEY, t->curve_sk, CDX_PK_BYTES) != 0 ||
        zmq_connect(z, endpoint) != 0) {
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot connect to %s: %s", endpoint,
                      zmq_strerror(zmq_errno()));
        cdx_sock_destroy(out);
        return rc;
    }
    snprintf((*out)->endpoint, sizeof(*out)->endpoint, "%s", endpoint);
    return CDX_OK;
}

cdx_err cdx_transport_new_local(cdx_transport **out, cdx_errbuf *eb)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    pthread_mutex_init(&(*out)->lock, NULL);
    atomic_init(&(*out)->refused, 0);
    (*out)->ctx = zmq_ctx_new();
    if (!(*out)->ctx) {
        cdx_transport_destroy(out);
        return cdx_errf(eb, CDX_ERR_IO, "cannot start ZeroMQ");
    }
    return CDX_OK;
}

static bool s_is_ipc(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6];
}

cdx_err cdx_sock_bind_local(cdx_sock **out, cdx_transport *t, cdx_sock_type type,
                            const char *ipc_endpoint, cdx_errbuf *eb)
{
    if (!s_is_ipc(ipc_endpoint))
        return cdx_errf(eb, CDX_ERR_INVALID, "a control socket is ipc:// only, not %s",
                        ipc_endpoint);
    cdx_err rc = s_open(out, t, type, &(cdx_sock_opts){.max_msg_size = CDX_CONTROL_MSG_MAX}, eb);
    if (rc != CDX_OK)
        return rc;
    if (zmq_bind((*out)->z, ipc_endpoint) != 0 || chmod(ipc_endpoint + 6, 0600) != 0) {
        rc =
            cdx_errf(eb, CDX_ERR_IO, "cannot bind %s: %s", ipc_endpoint, zmq_strerror(zmq_errno()));
        cdx_sock_destroy(out);
        return rc;
    }
    snprintf((*out)->endpoint, sizeof(*out)->endpoint, "%s", ipc_endpoint);
    return CDX_OK;
}

cdx_err cdx_sock_connect_local(cdx_sock **out, cdx_transport *t, cdx_sock_type type,
                               const char *ipc_endpoint, cdx_errbuf *eb)
{
    if (!s_is_ipc(ipc_endpoint))
        return cdx_errf(eb, CDX_ERR_INVALID, "a control socket is ipc:// only, not %s",
                        ipc_endpoint);
    cdx_err rc = s_open(out, t, type, &(cdx_sock_opts){.max_msg_size = CDX_CONTROL_MSG_MAX}, eb);
    int never = -1; /* see transport.h: one connection, one daemon process */
    if (rc == CDX_OK && zmq_setsockopt((*out)->z, ZMQ_RECONNECT_IVL, &never, sizeof never) != 0) {
        rc = cdx_errf(eb, CDX_ERR_IO, "socket option: %s", zmq_strerror(zmq_errno()));
        cdx_sock_destroy(out);
    }
    if (rc == CDX_OK && zmq_connect((*out)->z, ipc_endpoint) != 0) {
        rc = cdx_errf(eb, CDX_ERR_IO, "cannot connect to %s: %s", ipc_endpoint,
                      zmq_strerror(zmq_errno()));
        cdx_sock_destroy(out);
    }
    return rc;
}

cdx_err cdx_sock_connect_feed(cdx_sock **out, cdx_transport *t, const char *endpoint,
                              const char *user, const char *password, size_t max_msg_size,
                              cdx_errbuf *eb)
{
    size_t max = max_msg_size ? max_msg_size : 16u * 1024u * 1024u;
    cdx_err rc = s_open(out, t, CDX_SOCK_SUB, &(cdx_sock_opts){.max_msg_size = max}, eb);
    if (rc != CDX_OK)
        return rc;
    void *z = (*out)->z;
    if (user && password &&
        (zmq_setsockopt(z, ZMQ_PLAIN_USERNAME, user, strlen(user)) != 0 ||
         zmq_setsockopt(z, ZMQ_PLAIN_PASSWORD, password, strlen(password)) != 0))
        rc = cdx_errf(eb, CDX_ERR_IO, "PLAIN user and password: %s", zmq_strerror(zmq_errno()));
    if (rc == CDX_OK && zmq_connect(z, endpoint) != 0)
        rc = cdx_errf(eb, CDX_ERR_INVALID, "cannot connect to %s: %s", endpoint,
                      zmq_strerror(zmq_errno()));
    if (rc != CDX_OK)
        cdx_sock_destroy(out);
    else
        snprintf((*out)->endpoint, sizeof(*out)->endpoint, "%s", endpoint);
    return rc;
}

/* ---- watching a connection ---- */

cdx_err cdx_sock_watch(cdx_sock *s, cdx_transport *t, cdx_errbuf *eb)
{
    return s->mon ? CDX_OK : s_watch(s, t->ctx, eb);
}

bool cdx_sock_link_up(cdx_sock *s)
{
    uint16_t ev;
    uint32_t value;
    char endpoint[256];
    for (int i = 0; i < 1000 && s_next_event(s, &ev, &value, endpoint); i++)
        ;
    return s->link_up;
}

void cdx_sock_destroy(cdx_sock **s)
{
    if (!s || !*s)
        return;
    if ((*s)->mon) {
        zmq_socket_monitor((*s)->z, NULL, 0);
        zmq_close((*s)->mon);
    }
    zmq_close((*s)->z);
    free((*s)->links);
    free(*s);
    *s = NULL;
}

const char *cdx_sock_endpoint(const cdx_sock *s)
{
    return s->endpoint;
}

cdx_err cdx_sock_subscribe(cdx_sock *s, const char *prefix)
{
    if (s->type != CDX_SOCK_SUB)
        return CDX_ERR_INVALID;
    return zmq_setsockopt(s->z, ZMQ_SUBSCRIBE, prefix, strlen(prefix)) == 0 ? CDX_OK : CDX_ERR_IO;
}

void cdx_msg_clear(cdx_msg *m)
{
    for (size_t i = 0; i < m->n; i++)
        cdx_bytes_free(&m->frame[i]);
    memset(m, 0, sizeof *m);
}

cdx_err cdx_sock_send(cdx_sock *s, const cdx_bytes *frames, size_t n, int timeout_ms)
{
    zmq_setsockopt(s->z, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms);
    for (size_t i = 0; i < n; i++) {
        int flags = i + 1 < n ? ZMQ_SNDMORE : 0;
        if (zmq_send(s->z, frames[i].data, frames[i].len, flags) < 0) {
            int e = zmq_errno();
            return e == EAGAIN ? CDX_ERR_TIMEOUT : e == ETERM ? CDX_ERR_STOPPED : CDX_ERR_IO;
        }
    }
    return CDX_OK;
}

cdx_err cdx_sock_recv(cdx_sock *s, cdx_msg *out, int timeout_ms)
{
    memset(out, 0, sizeof *out);
    zmq_pollitem_t item = {s->z, 0, ZMQ_POLLIN, 0};
    int r = zmq_poll(&item, 1, timeout_ms);
    if (r < 0)
        return zmq_errno() == ETERM ? CDX_ERR_STOPPED : CDX_ERR_IO;
    if (r == 0)
        return CDX_ERR_TIMEOUT;
    int more = 1;
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s->z, 0) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&m);
            cdx_msg_clear(out);
            return e == ETERM ? CDX_ERR_STOPPED : CDX_ERR_IO;
        }
        if (!out->peer[0]) {
            /* A ROUTER's own routing-id frame has no metadata: take the
             * first frame that came from the peer and has it. */
            const char *who = zmq_msg_gets(&m, "User-Id");
            if (who)
                cdx__copy_id(out->peer, who);
            if (who && s->links)
                s_link_note(s, &m, who);
        }
        more = zmq_msg_more(&m);
        if (out->n < CDX_MSG_MAX_FRAMES) {
            cdx_bytes *f = &out->frame[out->n];
            f->len = zmq_msg_size(&m);
            f->data = malloc(f->len + 1);
            if (f->data) {
                memcpy(f->data, zmq_msg_data(&m), f->len);
                out->n++;
            }
        } else {
            out->truncated = true;
        }
        zmq_msg_close(&m);
    }
    return CDX_OK;
}

cdx_err cdx_sock_poll_fd(cdx_sock *const *socks, size_t n, int fd, int timeout_ms, bool *ready)
{
    zmq_pollitem_t items[65];
    if (n > 64)
        return CDX_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        items[i] = (zmq_pollitem_t){socks[i]->z, 0, ZMQ_POLLIN, 0};
    size_t m = n;
    if (fd >= 0)
        items[m++] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
    int r = zmq_poll(items, (int)m, timeout_ms);
    if (r < 0)
        return zmq_errno() == ETERM ? CDX_ERR_STOPPED : CDX_ERR_IO;
    for (size_t i = 0; i < n; i++)
        ready[i] = items[i].revents & ZMQ_POLLIN;
    if (m > n) /* a hang-up (the end of a pipe) is reported as an error: read() says which */
        ready[n] = items[n].revents & (ZMQ_POLLIN | ZMQ_POLLERR);
    return r == 0 ? CDX_ERR_TIMEOUT : CDX_OK;
}

cdx_err cdx_sock_poll(cdx_sock *const *socks, size_t n, int timeout_ms, bool *ready)
{
    return cdx_sock_poll_fd(socks, n, -1, timeout_ms, ready);
}
