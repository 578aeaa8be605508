/* The broker's catch-up server (see catchup.h).
 *
 * A stream is a list of ranges (sender, next seq, last seq or 0 for the
 * end) and a position in it: the next seq, and how many of that seq's
 * envelopes (an equivocated seq has several, in the order they were
 * logged) were sent already. A reply is filled by scanning the log's
 * by-sender index from the position and holds at most max_batch
 * envelopes, as the request asked: a seq whose envelopes do not fit is
 * continued in the next reply, never sent again from its start (which,
 * for a seq with more envelopes than a reply holds, never ended). A reply
 * the socket does not take (the client is slow) is kept, encoded, and
 * offered again next turn; nothing more is read for that stream meanwhile.
 */
#include "catchup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/catchup.h"
#include "daemon.h"

#define S_STALL_MS 30000

typedef struct s_range {
    char sender[CDX_ID_MAX + 1];
    uint64_t next, to; /* to 0: to the end */
    uint64_t skip;     /* envelopes of seq `next` already sent */
} s_range;

typedef struct s_stream {
    cdx_bytes rid;          /* the client's routing id (a copy) */
    uint8_t request_id[16]; /* echoed as it came: request_id_len bytes */
    size_t request_id_len;
    s_range *ranges;
    size_t n_ranges, at, max;
    cdx_bytes pending; /* an encoded reply not yet taken by the socket */
    bool pending_done;
    uint64_t stalled_since_ms;
} s_stream;

struct broker_catchup {
    cdx_sock *sock;
    broker_catchup_send_fn send;
    void *send_ctx;
    cdx_log *log;
    const daemon_logger *say; /* the broker's */
    s_stream *stream[BROKER_CATCHUP_STREAMS];
    size_t n;
};

/* Replies go out on the socket: [routing id][reply]. */
static cdx_err s_sock_send(void *ctx, const cdx_bytes *rid, const cdx_bytes *reply)
{
    cdx_bytes frames[2] = {*rid, *reply};
    return cdx_sock_send(ctx, frames, 2, 0);
}

cdx_err broker_catchup_new_with(broker_catchup **out, broker_catchup_send_fn send, void *ctx,
                                cdx_log *log, const daemon_logger *say)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    (*out)->send = send;
    (*out)->send_ctx = ctx;
    (*out)->log = log;
    (*out)->say = say;
    return CDX_OK;
}

cdx_err broker_catchup_new(broker_catchup **out, cdx_sock *sock, cdx_log *log,
                           const daemon_logger *say)
{
    cdx_err rc = broker_catchup_new_with(out, s_sock_send, sock, log, say);
    if (rc == CDX_OK)
        (*out)->sock = sock;
    return rc;
}

static void s_stream_free(s_stream *s)
{
    if (!s)
        return;
    cdx_bytes_free(&s->rid);
    cdx_bytes_free(&s->pending);
    free(s->ranges);
    free(s);
}

void broker_catchup_destroy(broker_catchup **c)
{
    if (!c || !*c)
        return;
    for (size_t i = 0; i < (*c)->n; i++)
        s_stream_free((*c)->stream[i]);
    free(*c);
    *c = NULL;
}

/* Sends an encoded reply; CDX_ERR_TIMEOUT if the client's queue is full. */
static cdx_err s_send(broker_catchup *c, const cdx_bytes *rid, const cdx_bytes *reply)
{
    return c->send(c->send_ctx, rid, reply);
}

/* A one-off reply: an error, with done set. */
static void s_refuse(broker_catchup *c, const cdx_bytes *rid, const cdx_catchup_request *q,
                     const char *why)
{
    cdx_catchup_reply rep = {.done = true};
    if (q) {
        memcpy(rep.request_id, q->request_id, sizeof rep.request_id);
        rep.request_id_len = q->request_id_len;
    }
    snprintf(rep.error, sizeof rep.error, "%s", why);
    cdx_bytes out;
    if (cdx_catchup_reply_encode(&rep, &out) == CDX_OK) {
        s_send(c, rid, &out);
        cdx_bytes_free(&out);
    }
}

/* Proof mode: the consistency proof between two sizes of our log, in one
 * reply (a client whose queue is full loses it, and asks again). */
static void s_prove(broker_catchup *c, const cdx_bytes *rid, const cdx_catchup_request *q)
{
    cdx_catchup_reply *rep = calloc(1, sizeof *rep);
    if (!rep)
        return;
    memcpy(rep->request_id, q->request_id, sizeof rep->request_id);
    rep->request_id_len = q->request_id_len;
    rep->done = true;
    uint64_t size = 0;
    cdx_log_size(c->log, &size);
    if (q->proof_old > q->proof_new || q->proof_new > size)
        snprintf(rep->error, sizeof rep->error,
                 "no consistency proof from %llu to %llu: the log holds %llu entries",
                 (unsigned long long)q->proof_old, (unsigned long long)q->proof_new,
                 (unsigned long long)size);
    else if (cdx_log_consistency(c->log, q->proof_old, q->proof_new, rep->consistency,
                                 &rep->n_consistency) != CDX_OK)
        snprintf(rep->error, sizeof rep->error, "the consistency proof could not be read");
    cdx_bytes out;
    if (cdx_catchup_reply_encode(rep, &out) == CDX_OK) {
        s_send(c, rid, &out);
        cdx_bytes_free(&out);
    }
    free(rep);
}

/* The ranges a request asks for: one sender's, or every sender's after
 * the cursors given (from seq 1 for those not named). */
static cdx_err s_ranges(broker_catchup *c, const cdx_catchup_request *q, s_stream *s)
{
    if (q->sender[0]) {
        s->ranges = calloc(1, sizeof *s->ranges);
        if (!s->ranges)
            return CDX_ERR_NOMEM;
        snprintf(s->ranges[0].sender, sizeof s->ranges[0].sender, "%s", q->sender);
        s->ranges[0].next = q->from_seq ? q->from_seq : 1;
        s->ranges[0].to = q->to_seq;
        s->n_ranges = 1;
        return CDX_OK;
    }
    cdx_log_sender *senders = NULL;
    size_t n = 0;
    cdx_err rc = cdx_log_senders(c->log, &senders, &n);
    if (rc == CDX_OK && n) {
        s->ranges = calloc(n, sizeof *s->ranges);
        rc = s->ranges ? CDX_OK : CDX_ERR_NOMEM;
    }
    for (size_t i = 0; rc == CDX_OK && i < n; i++) {
        /* After the cursor (the lowest, if one sender is named twice); a
         * cursor at the top of the seqs has nothing after it. */
        uint64_t last = 0;
        bool named = false;
        for (size_t j = 0; j < q->n_after; j++)
            if (strcmp(q->after[j].sender, senders[i].id) == 0 &&
                (!named || q->after[j].last_seq < last)) {
                last = q->after[j].last_seq;
                named = true;
            }
        uint64_t from = last + 1;
        if (last == UINT64_MAX || from > senders[i].max_seq)
            continue; /* nothing new of this one */
        s_range *r = &s->ranges[s->n_ranges++];
        snprintf(r->sender, sizeof r->sender, "%s", senders[i].id);
        r->next = from;
    }
    free(senders);
    return rc;
}

void broker_catchup_take(broker_catchup *c, const cdx_bytes *rid, const uint8_t *req, size_t len)
{
    cdx_catchup_request q = {0};
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_catchup_request_decode(&q, req, len, &eb);
    s_stream *s = NULL;
    if (rc != CDX_OK) {
        s_refuse(c, rid, NULL, cdx_errbuf_msg(&eb, rc));
    } else if (q.proof_new) {
        s_prove(c, rid, &q); /* one reply, no stream */
    } else if (c->n == BROKER_CATCHUP_STREAMS) {
        s_refuse(c, rid, &q, "busy: too many catch-ups at once; ask again");
        rc = CDX_ERR_FULL;
    } else if (!(s = calloc(1, sizeof *s)) || !(s->rid.data = malloc(rid->len ? rid->len : 1))) {
        rc = CDX_ERR_NOMEM;
    } else {
        memcpy(s->rid.data, rid->data, rid->len);
        s->rid.len = rid->len;
        memcpy(s->request_id, q.request_id, sizeof s->request_id);
        s->request_id_len = q.request_id_len;
        s->max = q.max_batch && q.max_batch < 4096 ? q.max_batch : CDX_CATCHUP_BATCH_DEFAULT;
        rc = s_ranges(c, &q, s);
        if (rc != CDX_OK)
            s_refuse(c, &s->rid, &q, cdx_strerror(rc));
    }
    if (rc == CDX_OK && s) {
        c->stream[c->n++] = s;
    } else {
        s_stream_free(s);
        if (rc == CDX_ERR_NOMEM)
            daemon_log(c->say, "catch-up request dropped: out of memory");
    }
    cdx_catchup_request_clear(&q);
}

void broker_catchup_accept(broker_catchup *c)
{
    cdx_msg m;
    while (c->sock && cdx_sock_recv(c->sock, &m, 0) == CDX_OK) {
        if (m.n == 2) /* [routing id][request] */
            broker_catchup_take(c, &m.frame[0], m.frame[1].data, m.frame[1].len);
        else if (m.n >= 1) /* with no routing id there is nobody to answer */
            s_refuse(c, &m.frame[0], NULL, "expected one request frame");
        cdx_msg_clear(&m);
    }
}

/* Filling one reply from a range. */
typedef struct s_fill {
    cdx_catchup_reply *rep;
    size_t max, bytes;
    uint64_t start, skip; /* the range's position: skip envelopes of seq start */
    uint64_t skipped;
    bool any;          /* an envelope of this range taken into the reply */
    uint64_t last_seq; /* the seq of the last one taken */
    uint64_t run;      /* envelopes of last_seq sent so far, earlier replies included */
    bool full;         /* then the range goes on at (last_seq or the next seq, run or 0) */
    uint64_t stop_at, stop_skip;
} s_fill;

static cdx_err s_fill_visit(void *ctx, cdx_log_entry *e)
{
    s_fill *f = ctx;
    if (e->sender_seq == f->start && f->skipped < f->skip) {
        f->skipped++; /* sent in an earlier reply */
        return CDX_OK;
    }
    if (f->rep->n >= f->max ||
        (f->rep->n && f->bytes + e->envelope.len > BROKER_CATCHUP_REPLY_BYTES)) {
        f->stop_at = e->sender_seq;
        f->stop_skip = f->any && e->sender_seq == f->last_seq ? f->run
                       : e->sender_seq == f->start            ? f->skipped
                                                              : 0;
        f->full = true;
        return CDX_ERR_FULL; /* the rest goes in the next reply */
    }
    if (!f->any || e->sender_seq != f->last_seq)
        f->run = e->sender_seq == f->start ? f->skipped : 0;
    f->run++;
    f->any = true;
    f->last_seq = e->sender_seq;
    f->bytes += e->envelope.len;
    f->rep->envelopes[f->rep->n++] = e->envelope; /* taken over */
    e->envelope.data = NULL;
    e->envelope.len = 0;
    return CDX_OK;
}

/* Builds the stream's next reply into s->pending. */
static cdx_err s_next_reply(broker_catchup *c, s_stream *s)
{
    cdx_catchup_reply rep = {0};
    memcpy(rep.request_id, s->request_id, sizeof rep.request_id);
    rep.request_id_len = s->request_id_len;
    rep.envelopes = calloc(s->max, sizeof *rep.envelopes);
    if (!rep.envelopes)
        return CDX_ERR_NOMEM;
    s_fill f = {.rep = &rep, .max = s->max};
    cdx_errbuf eb = {0};
    cdx_err rc = CDX_OK;
    while (rc == CDX_OK && s->at < s->n_ranges && !f.full) {
        s_range *r = &s->ranges[s->at];
        f.start = r->next;
        f.skip = r->skip;
        f.skipped = 0;
        f.any = false;
        rc = cdx_log_scan_sender(c->log, r->sender, r->next, r->to, s_fill_visit, &f, &eb);
        if (rc == CDX_ERR_FULL) {
            r->next = f.stop_at;
            r->skip = f.stop_skip;
            rc = CDX_OK;
        } else if (rc == CDX_OK) {
            s->at++; /* this sender is done */
        }
    }
    if (rc != CDX_OK) {
        snprintf(rep.error, sizeof rep.error, "%s", cdx_errbuf_msg(&eb, rc));
        s->at = s->n_ranges;
    }
    rep.done = s->at == s->n_ranges;
    s->pending_done = rep.done;
    rc = cdx_catchup_reply_encode(&rep, &s->pending);
    cdx_catchup_reply_clear(&rep);
    return rc;
}

size_t broker_catchup_pump(broker_catchup *c)
{
    for (size_t i = 0; i < c->n;) {
        s_stream *s = c->stream[i];
        cdx_err rc = s->pending.data ? CDX_OK : s_next_reply(c, s);
        if (rc == CDX_OK)
            rc = s_send(c, &s->rid, &s->pending);
        bool drop = false;
        if (rc == CDX_OK) {
            cdx_bytes_free(&s->pending);
            s->stalled_since_ms = 0;
            drop = s->pending_done;
        } else if (rc == CDX_ERR_TIMEOUT) { /* the client is slow: offer it again later */
            uint64_t now = cdx_mono_ms();
            if (!s->stalled_since_ms)
                s->stalled_since_ms = now;
            drop = now - s->stalled_since_ms > S_STALL_MS;
            if (drop)
                daemon_log(c->say, "catch-up dropped: the client read nothing for %d s",
                           S_STALL_MS / 1000);
        } else { /* gone, or we could not build the reply */
            drop = true;
        }
        if (drop) {
            s_stream_free(s);
            c->stream[i] = c->stream[--c->n];
            continue;
        }
        i++;
    }
    return c->n;
}

size_t broker_catchup_streams(const broker_catchup *c)
{
    return c ? c->n : 0;
}
