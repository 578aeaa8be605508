/* libFuzzer target: the broker's catch-up server (broker/catchup.c) after
 * a request is decoded: ranges, cursors, proof requests, batch limits,
 * against a broker's log built once at start-up (fuzz_log.c: EE's seq 5
 * is there three times). The input is one byte of flags and a
 * CatchupRequest: the server takes the request (twice at once if flags &
 * 4), and is pumped until every stream is done, the first (flags & 3)
 * sends of a stream finding the client's queue full (a one-off reply, a
 * proof or a refusal, is lost then by design). No sockets: replies are
 * taken from the server's send function.
 *
 * Nothing may crash or leak, and what a client is sent must be what it
 * asked for: every stream ends (within a bound); its replies carry the
 * request's id, at most max_batch envelopes, within the byte limit; each
 * envelope is of a sender and seq the request asked for (range mode:
 * from_seq..to_seq; cursor mode: after the cursor, the lowest if a sender
 * is named twice), and together a stream's replies are all the log holds
 * of those, each once; a proof reply's consistency proof holds between
 * the log's roots at the two sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../broker/catchup.h"
#include "cydex/catchup.h"
#include "fixture.h"
#include "fuzz_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define S_MAX_HELD 64u

static cdx_log *s_log;

static void s_close(void)
{
    cdx_log_destroy(&s_log);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char root[256], dir[300];
    fuzz_log_tmpdir(root);
    snprintf(dir, sizeof dir, "%s/catchup", root);
    fuzz_log_build(fixture_static(), dir);
    cdx_log_opts o = {.read_only = true};
    if (cdx_log_new(&s_log, dir, &o, NULL) != CDX_OK)
        abort();
    atexit(s_close);
    return 0;
}

/* What one input's client has been sent. */
typedef struct s_client {
    const cdx_catchup_request *q;
    bool decoded;
    unsigned refuse; /* sends still to time out */
    size_t max;      /* envelopes a reply may carry */
    unsigned takes;  /* streams asked for */
    uint8_t got[S_MAX_HELD][CDX_HASH_BYTES];
    unsigned times[S_MAX_HELD]; /* each sent this often */
    size_t n_got;
    unsigned done; /* replies with done set */
} s_client;

static void s_fail(const char *what)
{
    fprintf(stderr, "catch-up: %s\n", what);
    abort();
}

/* Whether the request asked for (sender, seq). */
static bool s_asked(const cdx_catchup_request *q, const char *sender, uint64_t seq)
{
    if (q->sender[0]) {
        uint64_t from = q->from_seq ? q->from_seq : 1;
        return strcmp(q->sender, sender) == 0 && seq >= from && (!q->to_seq || seq <= q->to_seq);
    }
    bool named = false;
    uint64_t last = 0;
    for (size_t i = 0; i < q->n_after; i++)
        if (strcmp(q->after[i].sender, sender) == 0 && (!named || q->after[i].last_seq < last)) {
            last = q->after[i].last_seq;
            named = true;
        }
    return seq > last;
}

static void s_proof_holds(const cdx_catchup_request *q, const cdx_catchup_reply *rep)
{
    if (rep->error[0] || rep->n)
        return;
    uint8_t a[CDX_HASH_BYTES], b[CDX_HASH_BYTES];
    if (cdx_log_root(s_log, q->proof_old, a) != CDX_OK ||
        cdx_log_root(s_log, q->proof_new, b) != CDX_OK ||
        cdx_merkle_verify_consistency(q->proof_old, q->proof_new, a, b,
                                      (const uint8_t(*)[CDX_HASH_BYTES])rep->consistency,
                                      rep->n_consistency) != CDX_OK)
        s_fail("a proof reply's consistency proof does not hold");
}

static cdx_err s_send(void *ctx, const cdx_bytes *rid, const cdx_bytes *reply)
{
    s_client *c = ctx;
    if (c->refuse) {
        c->refuse--;
        return CDX_ERR_TIMEOUT;
    }
    if (rid->len != 6 || memcmp(rid->data, "client", 6) != 0)
        s_fail("a reply to another client");
    cdx_catchup_reply rep;
    if (cdx_catchup_reply_decode(&rep, reply->data, reply->len, NULL) != CDX_OK)
        s_fail("a reply that does not decode");
    c->done += rep.done;
    if (!c->decoded) { /* a refusal of what did not decode */
        if (!rep.error[0] || !rep.done || rep.n)
            s_fail("an undecodable request answered otherwise than with a refusal");
        cdx_catchup_reply_clear(&rep);
        return CDX_OK;
    }
    const cdx_catchup_request *q = c->q;
    if (memcmp(rep.request_id, q->request_id, sizeof rep.request_id) != 0)
        s_fail("a reply without its request's id");
    if (q->proof_new)
        s_proof_holds(q, &rep);
    if (rep.n > c->max)
        s_fail("a reply with more envelopes than the request allows");
    size_t bytes = 0;
    for (size_t i = 0; i < rep.n; i++) {
        cdx_envelope *env = NULL;
        if (cdx_envelope_inspect(&env, rep.envelopes[i].data, rep.envelopes[i].len, NULL) != CDX_OK)
            s_fail("a reply carries what is not an envelope");
        const cdx_body *b = cdx_envelope_body(env);
        if (!s_asked(q, b->sender, b->seq)) {
            fprintf(stderr, "%s seq %llu\n", b->sender, (unsigned long long)b->seq);
            s_fail("a reply carries an envelope the request did not ask for");
        }
        size_t k = 0;
        while (k < c->n_got && memcmp(c->got[k], cdx_envelope_hash(env), CDX_HASH_BYTES) != 0)
            k++;
        if (k == c->n_got && c->n_got < S_MAX_HELD)
            memcpy(c->got[c->n_got++], cdx_envelope_hash(env), CDX_HASH_BYTES);
        if (k < c->n_got && ++c->times[k] > c->takes)
            s_fail("a stream sent an envelope twice");
        bytes += rep.envelopes[i].len;
        cdx_envelope_destroy(&env);
    }
    if (rep.n > 1 && bytes > BROKER_CATCHUP_REPLY_BYTES)
        s_fail("a reply past the byte limit");
    cdx_catchup_reply_clear(&rep);
    return CDX_OK;
}

/* Every envelope of the log the request asked for was sent. */
static cdx_err s_count_asked(void *ctx, cdx_log_entry *e)
{
    const s_client *c = ctx;
    cdx_envelope *env = NULL;
    bool sent = false;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) == CDX_OK &&
        s_asked(c->q, cdx_envelope_body(env)->sender, cdx_envelope_body(env)->seq))
        for (size_t k = 0; k < c->n_got && !sent; k++)
            sent = memcmp(c->got[k], cdx_envelope_hash(env), CDX_HASH_BYTES) == 0 &&
                   c->times[k] == c->takes;
    else
        sent = true; /* not asked for */
    cdx_envelope_destroy(&env);
    if (!sent)
        s_fail("an envelope the request asked for was never sent");
    return CDX_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    cdx_catchup_request q = {0};
    s_client client = {.q = &q};
    client.decoded = cdx_catchup_request_decode(&q, data + 1, size - 1, NULL) == CDX_OK;
    /* A one-off reply (a proof, a refusal) that finds the queue full is
     * lost by design (the client asks again): only streams are offered
     * again, so only they meet a full queue here. */
    if (client.decoded && !q.proof_new)
        client.refuse = flags & 3;
    client.max = q.max_batch && q.max_batch < 4096 ? q.max_batch : CDX_CATCHUP_BATCH_DEFAULT;
    daemon_logger say = {.id = "fuzz"};
    broker_catchup *c = NULL;
    if (broker_catchup_new_with(&c, s_send, &client, s_log, &say) != CDX_OK)
        abort();
    const cdx_bytes rid = {(uint8_t *)"client", 6};
    unsigned takes = flags & 4 ? 2 : 1;
    client.takes = takes;
    for (unsigned i = 0; i < takes; i++)
        broker_catchup_take(c, &rid, data + 1, size - 1);
    unsigned turns = 0;
    while (broker_catchup_pump(c) > 0)
        if (++turns > 1000)
            s_fail("a stream never ends");
    broker_catchup_destroy(&c);
    if (client.decoded && client.done != takes)
        s_fail("a request not answered to its end (done) once per request");
    if (client.decoded && !q.proof_new)
        cdx_log_scan(s_log, 0, UINT64_MAX, s_count_asked, &client, NULL);
    cdx_catchup_request_clear(&q);
    return 0;
}
