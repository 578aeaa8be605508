/* cydex-node's insides, shared by its files (names node__*):
 *   node.c     start, stop, the poll loop, resends and heartbeats on time
 *   receive.c  the brokers' fan-out and catch-up: verify, log, fill gaps
 *   own.c      our own hash chain: sign, log with the outbox, send; auto-acks,
 *              heartbeats, checkpoints and tree heads, receipts
 *   control.c  the control socket: publish and ack requests, read queries
 *   witness.c  the brokers' tree heads, each held against the one before
 *   keys.c     our keys across a rotation: the next key taking over on time
 * One thread runs all of it.
 */
#ifndef CYDEX_NODE_INTERNAL_H
#define CYDEX_NODE_INTERNAL_H

#include "cydex/cydex.h"
#include "cydex/log.h"
#include "cydex/transport.h"
#include "daemon.h"
#include "httpd.h"
#include "node.h"
#include "witness.h"

/* Control requests signed and logged together, at most (a relay keeping
 * many in flight pays one fsync per round). */
#define NODE_CONTROL_BATCH 256
_Static_assert(NODE_CONTROL_BATCH <= CDX_BATCH_MAX, "a round is signed as one batch");
/* Log entries one "entries" answer carries, at most. */
#define NODE_ENTRIES_MAX 1000
/* Heartbeats back off while we are idle, up to this many times the
 * configured interval. */
#define NODE_HEARTBEAT_BACKOFF 64
/* Receipted envelopes leave the outbox with the next commit, or this long
 * after their receipts if no commit comes. */
#define NODE_FORGET_MS 100
/* While the query cache is behind the log, an idle loop reads a step of it
 * (query_step entries, a few ms) this often, instead of at each 200 ms
 * timeout: a big log is read ahead quickly, and traffic that comes waits
 * for one step at most. */
#define NODE_WARM_IDLE_MS 20
/* At start nothing new is signed until the brokers have sent what they
 * hold of our own chain beyond our log (a log lost, or restored from an
 * older copy, would otherwise have us sign a second envelope for a seq
 * they hold: equivocation by an honest node); daemon_chain_wait_over says
 * how long we wait (with no answer at all, we sign on with a warning: a
 * node cut off from every broker still queues what it publishes). */

/* What we witnessed of one broker's log (witness.c). */
typedef struct node_witness {
    daemon_witness w;
    uint64_t cosigned_size; /* the newest head we co-signed (0: none yet) */
} node_witness;

typedef struct node_link {
    const node_broker_config *cfg;
    node_witness witness;
    cdx_sock *sub, *cu, *ingress;
    uint8_t server_pk[CDX_PK_BYTES]; /* the broker's CURVE key the sockets were made for */
    uint64_t last_heard_ms;          /* anything from this broker, wall clock; 0: nothing yet */
    uint64_t heard_mono_ms;          /* the same, monotonic clock (see node__link_up) */
    bool told_chain;                 /* it answered our own-chain request, to the end */
    bool heard_chain;                /* it sent part of the answer at least */
} node_link;

typedef struct node_out node_out;

/* Envelopes from a broker's fan-out taken in one round, at most. */
#define NODE_LIVE_BATCH 1000

/* A fan-out round's room, NODE_LIVE_BATCH each, kept for the node's life. */
typedef struct node_live {
    cdx_msg *msgs;
    cdx_verify_job *jobs;
    char (*topics)[CDX_TOPIC_MAX + 1];
    cdx_envelope **envs;
} node_live;

struct node {
    node_config cfg;
    daemon_member member;  /* key, roster and log */
    cdx_identity *next_me; /* next_key, until the roster makes it ours (keys.c) */
    cdx_transport *net;
    node_link link[NODE_MAX_BROKERS];
    size_t n_links;
    cdx_sock *control;
    /* Deadlines and periods run on the monotonic clock (cdx_mono_ms). */
    uint64_t next_resend_ms, next_sync_ms;
    uint64_t resend_oldest;  /* the outbox's oldest entry index at the last resend turn */
    uint64_t resends;        /* turns that sent the outbox again */
    uint64_t chain_since_ms; /* while our own chain is being asked for: since when; else 0 */
    uint64_t chain_had;      /* our log's last seq of our own when we asked */
    uint64_t next_heartbeat_ms, heartbeat_gap_ms;
    uint64_t next_checkpoint_ms, checkpointed_size;
    bool checkpoint_held; /* our key may not sign now: no checkpoint (said once) */
    uint64_t flush_at_ms; /* 0: no receipted rows wait */
    unsigned verify_threads;
    uint64_t logged, refused, requested, published, auto_acked, heartbeats;
    uint64_t republished; /* publishes of an alert id published before, answered again */
    uint64_t signatures;  /* made for our own envelopes (a batch's counts once) */
    uint64_t heads_witnessed, heads_inconsistent; /* brokers' tree heads checked (witness.c) */
    uint64_t heads_cosigned;                      /* and co-signed (witness.c) */
    uint64_t batch_signed;                        /* our envelopes signed as part of a batch */
    uint64_t copies;      /* of envelopes already logged, dropped before verifying */
    daemon_writes writes; /* how the writes to the log went */
    uint64_t own_refused; /* our envelopes a broker refused for good, this run */
    char refusal[256];    /* the last such refusal; "" once a broker accepts one */
    node_live live;
    daemon_httpd *http;               /* /health and /metrics, if configured */
    struct node_query_cache *queries; /* list, show, ack by id: what the log holds of alerts */
    cdx_batch_signer *signer;         /* our envelopes of a round: one signature (node__sign) */
    cdx_batch_cache *seen_batches;    /* batch signatures verified on this thread */
    cdx_msg parked; /* a request waiting while the cache reads the log (n == 0: none) */
    bool warming;   /* the cache was behind the log after the last idle step */
    struct {        /* a control round's room, NODE_CONTROL_BATCH each */
        node_out *out;
        cdx_log_append_in *in;
        cdx_log_append_out *res;
    } round;
};

/* ---- node.c ---- */

/* (Re)opens a link's sockets to its broker with the broker's CURVE key
 * valid now and ours (the transport's); closes any it had. */
cdx_err node__link_connect(node *n, node_link *l, cdx_errbuf *eb);

/* ---- keys.c ---- */

/* Loads next_key, if configured: it must be our id's. An exit code (0
 * ok) and err on failure. */
int node__keys_open(node *n, char *err, size_t errlen);

/* Between rounds: if the roster in force makes next_key the key valid
 * now, it becomes ours (the old one kept for sealed alerts wrapped to it),
 * the batch signer and the broker links follow; links whose broker's
 * CURVE key changed are made again. Says so in the daemon's log. */
void node__keys_check(node *n);

/* Where our signing key stands now (cdx_roster_key_state); a reason for
 * /health when it cannot sign (NULL if it can). */
cdx_key_state node__key_state(const node *n, uint64_t now_ms, uint64_t *when, uint64_t *next_from);
const char *node__key_trouble(const node *n, char *buf, size_t cap);

/* ---- receive.c ---- */

/* Sends a catch-up request (any mode) to a broker, counted; whether it
 * went. */
bool node__send_request(node *n, node_link *l, const cdx_catchup_request *q);

/* Asks a broker for our own envelopes after what our log holds of them;
 * its last reply sets l->told_chain. */
void node__ask_chain(node *n, node_link *l);

/* Asks a broker for what follows our seqs (sender NULL: every sender),
 * or for one sender's range [from, to] (said in the daemon's log unless
 * quiet). */
void node__request(node *n, node_link *l, const char *sender, uint64_t from, uint64_t to,
                   bool quiet);
/* Asks every broker again for the holes below each sender's highest seq
 * (up to 8 ranges a sender): a broker asked before it had them said
 * nothing, and a cursor sync asks only above the highest. */
void node__refill(node *n);
void node__live(node *n, node_link *l);
void node__catchup(node *n, node_link *l);

/* ---- own.c ---- */

/* One of our own envelopes, signed and waiting to be logged; for a
 * control request also the request (for the reply's routing id) and, if
 * it was refused, why (answered in turn). */
struct node_out {
    cdx_msg req;
    cdx_err refused;
    char why[256];
    cdx_envelope *env; /* verified (signed by us, the roster agreeing) */
    uint8_t hash[CDX_HASH_BYTES];
    uint64_t seq;
    char topic[CDX_TOPIC_MAX + 1];
    char alert_id[CDX_UUID_TEXT]; /* a publish that named its alert's id */
    bool again;                   /* that alert was published before: env NULL, hash and seq its */
    bool in_force;                /* a roster request for the roster in force: nothing signed */
    bool signing;                 /* taken by node__sign, waiting for node__signed */
};

/* Our chain as a batch so far leaves it (have: false until the first). */
typedef struct node_chain {
    bool have;
    uint64_t seq;
    uint8_t hash[CDX_HASH_BYTES];
} node_chain;

/* Fills sender, seq, sent_at, topic and prev_hash from our own chain: the
 * batch's last envelope, or the log's. */
void node__own_header(node *n, const node_chain *c, cdx_body *b, const char *topic);
/* Signs b (headed by node__own_header) on our chain, logs it with the
 * outbox mark and sends it; says why in the daemon's log if it cannot. */
cdx_err node__emit(node *n, cdx_body *b, const char *what);

/* Takes b into the run signed next (checking that the roster agrees),
 * sets o's hash, seq and topic, and advances c; o->env comes with
 * node__signed. At most CDX_BATCH_MAX a run. */
cdx_err node__sign(node *n, node_chain *c, cdx_body *b, node_out *o, cdx_errbuf *eb);

/* Signs the run (one signature for all of it, cdx_batch_signer) and gives
 * each of o[0, k) that node__sign took its envelope, in order. On failure
 * none gets one, and the run is dropped. */
cdx_err node__signed(node *n, node_out *o, size_t k, cdx_errbuf *eb);

/* Signs "received" acks, into acks[] (room for count), for the alerts
 * among envs that are new to the log, readable by us and not ours; the
 * caller logs them in the same transaction as the alerts. Returns how many. */
size_t node__auto_acks(node *n, cdx_envelope *const *envs, size_t count, node_chain *c,
                       node_out *acks);

/* After our own envelopes are logged: sends them and puts the next
 * heartbeat one interval away. */
void node__sent_own(node *n, node_out *o, size_t k);
void node__release(node_out *o);

/* Signs, logs and sends a heartbeat announcing our last seq, then backs
 * off (doubling the pause while nothing else is sent). */
void node__heartbeat(node *n);

/* If the log grew since the last one: signs a checkpoint of it (stored in
 * the log, for auditors) and, if `publish`, sends its tree head on topic
 * "sth" so that brokers and other states log it as witnesses. */
void node__checkpoint(node *n, bool publish);

/* To every broker; what a broker does not take now, the resend retries. */
void node__send_out(node *n, const char *topic, const uint8_t *raw, size_t len);
/* Everything in the outbox, again: always (at start), or when its oldest
 * envelope has waited a whole resend_ms (it was lost, or no broker
 * answers), not while receipts keep taking the oldest away. */
void node__resend(node *n, bool always);
/* The oldest of our envelopes no broker has receipted: its seq and when we
 * logged it (wall clock); false if none waits (or the log cannot say). */
bool node__oldest_waiting(node *n, uint64_t *seq, uint64_t *logged_at_ms);
void node__receipts(node *n, node_link *l);

/* ---- node.c ---- */

/* Whether the broker was heard lately: each answers every sync request,
 * so one heard from within two sync periods is alive and serving us. */
bool node__link_up(const node *n, const node_link *l, uint64_t mono_ms);
/* Whether our connection to the broker's ingress (where what we publish
 * goes) stands now, its CURVE handshake done: false at once when the
 * broker's process dies or closes it, or after pings go unanswered. */
bool node__link_connected(node_link *l);
/* Notes that the broker was heard from, now. */
void node__heard(node_link *l);

/* Seqs below the sender's highest that the log lacks (being fetched);
 * equivocation evidence counts as held. */
uint64_t node__missing(const cdx_log_sender *s);

/* ---- witness.c ---- */

/* Takes the last head of each broker our log holds as the one to hold
 * the next against. */
void node__witness_start(node *n);
/* A broker's tree head we logged (anything else is ignored), or one a
 * member co-signed (via: its id; NULL for the broker's own): checked
 * against the last one held, asking its broker for a proof if newer. */
void node__witness_head(node *n, const cdx_envelope *env, const char *via);
/* Another member's co-signature we logged: the head it carries, checked
 * as above if its broker's signature holds. */
void node__witness_cosigned(node *n, const cdx_envelope *env);
/* Frees what the link's witness holds. */
void node__witness_clear(node_witness *w);
/* Takes a catch-up reply that answers a proof request of ours
 * (daemon_witness_reply_is). */
void node__witness_reply(node *n, node_link *l, const cdx_catchup_reply *rep);

/* ---- control.c ---- */

/* Answers what waits on the control socket. A request that needs the query
 * cache (list, show, ack by alert id) while the cache is more than
 * query_step entries behind the log is parked instead, and the control
 * socket is left alone until it is answered, so that answers keep the
 * order of requests: the loop reads the log query_step entries a round
 * meanwhile (node__parked), so traffic keeps flowing. */
void node__control(node *n);
/* Answers every waiting request "busy", saying why (while nothing may be
 * signed yet, after a short wait: the cydex command then exits 75 at once
 * instead of timing out and having its request run after it gave up). */
void node__control_busy(node *n, const char *why);
/* For the loop while a request is parked: reads one more step of the log
 * into the query cache, and answers the request once the cache is within a
 * step of the log. With `stopping`, answers it with an error at once. */
void node__parked(node *n, bool stopping);

/* ---- metrics.c ---- */

/* The HTTP pages: /health (200 while a broker is connected, else 503;
 * JSON) and /metrics (Prometheus). */
bool node__page(void *n, const char *path, daemon_page *page);

#endif
