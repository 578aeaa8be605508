/* libFuzzer target: what the broker's ingress and the node's receive path
 * call on the messages of a round (broker/broker.c s_batch_read, s_jobs,
 * s_drop_held; node/receive.c s_drop_held, s_verify). The input is a
 * round of up to 32 messages, each [topic length (1 byte)][topic]
 * [envelope length (2 bytes, big-endian)][envelope], then one byte of
 * flags. Each envelope is scanned (the outer envelope's body found without
 * decoding it) and its hash peeked, as both daemons do to drop what their
 * log holds; then the round is verified as one batch, on this thread, with
 * a batch cache, the topic frame and a fixed clock, the node's peeked
 * hashes handed over (hash_known) when the flags say so.
 *
 * Nothing may crash or leak, and the shortcuts may not change a verdict:
 * the scan and the peek agree; each job's outcome equals cdx_envelope_verify
 * of its bytes alone (no cache, no peeked hash); a verified envelope's hash
 * is the peeked one, its bytes the input's, its signer the body's sender. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S_ROUND 32u

static void s_fail(size_t i, const char *what)
{
    fprintf(stderr, "ingress: message %zu: %s\n", i, what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fixture *f = fixture_static();
    char topics[S_ROUND][CDX_TOPIC_MAX + 1];
    cdx_verify_job jobs[S_ROUND];
    uint8_t peeked[S_ROUND][CDX_HASH_BYTES];
    bool known[S_ROUND];
    size_t n = 0, at = 0;
    while (n < S_ROUND && at + 3 <= size) {
        size_t tl = data[at++];
        if (at + tl + 2 > size)
            break;
        /* An empty or too long topic frame: checked against nothing (the
         * broker refuses those frames before verifying). */
        size_t keep = tl <= CDX_TOPIC_MAX ? tl : 0;
        memcpy(topics[n], data + at, keep);
        topics[n][keep] = '\0';
        at += tl;
        size_t el = (size_t)data[at] << 8 | data[at + 1];
        at += 2;
        if (el > size - at)
            el = size - at;
        jobs[n] = (cdx_verify_job){.bytes = data + at, .len = el};
        at += el;
        n++;
    }
    uint8_t flags = at < size ? data[size - 1] : 0;
    const uint64_t now = FIXTURE_T0 + (flags & 0x80 ? FIXTURE_DAY + FIXTURE_HOUR : 60000);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *body;
        size_t body_len;
        bool scanned = cdx__outer_body(jobs[i].bytes, jobs[i].len, &body, &body_len);
        known[i] = cdx_envelope_peek_hash(jobs[i].bytes, jobs[i].len, peeked[i]) == CDX_OK;
        if (scanned != known[i])
            s_fail(i, "the outer scan and the peek disagree");
        if (scanned) {
            uint8_t h[CDX_HASH_BYTES];
            if (body < jobs[i].bytes || body + body_len > jobs[i].bytes + jobs[i].len)
                s_fail(i, "the scan's body lies outside the envelope");
            cdx_hash(h, body, body_len);
            if (memcmp(h, peeked[i], CDX_HASH_BYTES) != 0)
                s_fail(i, "the peeked hash is not the body's");
        }
        jobs[i].opts = (cdx_verify_opts){.max_size = CDX_ENVELOPE_MAX_DEFAULT,
                                         .topic = topics[i][0] ? topics[i] : NULL,
                                         .now_ms = flags & 1 ? 0 : now, /* 0: a catch-up */
                                         .borrow = true};
        if (flags & 2 && known[i]) { /* the node hands its peeked hashes over */
            jobs[i].hash_known = true;
            memcpy(jobs[i].hash, peeked[i], CDX_HASH_BYTES);
        }
    }
    cdx_batch_cache *cache = cdx_batch_cache_new();
    cdx_envelope_verify_many(&(cdx_verify_batch){
        .roster = f->roster, .jobs = jobs, .n = n, .threads = 1, .cache = cache});
    for (size_t i = 0; i < n; i++) {
        cdx_envelope *alone = NULL;
        cdx_verify_opts o = jobs[i].opts;
        o.borrow = false;
        cdx_err rc = cdx_envelope_verify(&alone, f->roster, jobs[i].bytes, jobs[i].len, &o, NULL);
        if (rc != jobs[i].rc) {
            fprintf(stderr, "in the round: %s; alone: %s\n", cdx_errname(jobs[i].rc),
                    cdx_errname(rc));
            s_fail(i, "the round's verdict differs from the envelope's alone");
        }
        if (jobs[i].rc == CDX_OK) {
            const cdx_envelope *env = jobs[i].env;
            size_t len;
            const uint8_t *raw = cdx_envelope_bytes(env, &len);
            if (!known[i] || memcmp(cdx_envelope_hash(env), peeked[i], CDX_HASH_BYTES) != 0)
                s_fail(i, "a verified envelope's hash is not the peeked one");
            if (memcmp(cdx_envelope_hash(alone), peeked[i], CDX_HASH_BYTES) != 0)
                s_fail(i, "verified alone, the envelope's hash is not the peeked one");
            if (len != jobs[i].len || memcmp(raw, jobs[i].bytes, len) != 0)
                s_fail(i, "a verified envelope's bytes are not the ones given");
            if (!cdx_envelope_verified(env) ||
                strcmp(cdx_envelope_signer(env), cdx_envelope_body(env)->sender) != 0)
                s_fail(i, "a verified envelope's signer is not its sender");
        }
        cdx_envelope_destroy(&alone);
        cdx_envelope_destroy(&jobs[i].env);
    }
    cdx_batch_cache_destroy(&cache);
    return 0;
}
