/* The overview of a federation's logs (see cydex/overview.h): one pass
 * over each log, aggregating as it reads.
 *
 * What must always hold: memory is bounded whatever the logs hold (a fixed
 * member table, a fixed ring of recent alerts with a hash index over it,
 * fixed-size lists and histograms); an envelope held by several logs is
 * counted once, and the log's pages read are let go of as the scan goes;
 * every count is exact except where the header says it is
 * not (latency quantiles from the histogram, acks of alerts past the
 * window); nothing here trusts a string from a log (the writers escape).
 */
#include <stdlib.h>
#include <string.h>

#include "cydex/envelope.h"
#include "cydex/overview.h"
#include "internal.h"
#include "log_pages.h"

#define S_OTHERS UINT16_MAX /* a sender past the member table */

/* An alert kept for matching acks. */
typedef struct s_slot {
    uint8_t hash[CDX_HASH_BYTES];
    uint64_t seq, index, sent_at_ms, acks;
    uint32_t log;
    uint16_t sender;
    bool used, counted, sealed;
    uint8_t tlp, severity;
    uint8_t stage[CDX_OV_MAX_MEMBERS];
} s_slot;

typedef struct s_build {
    cdx_overview *ov;
    cdx_log *const *logs;
    size_t n_logs, cur_log;
    uint64_t cur_index;
    const cdx_overview_opts *opts;
    s_slot *ring;      /* CDX_OV_WINDOW slots, in the order they were taken */
    size_t ring_next;  /* the next slot to take (the oldest once full) */
    int32_t *table;    /* hash index: slot numbers, -1 empty; S_TABLE entries */
    uint64_t *claims;  /* [log][member]: highest last_seq a heartbeat stated */
    uint64_t *content; /* [log][member]: highest seq held that is not a heartbeat */
    cdx_roster *rosters[CDX_OV_MAX_ROSTERS]; /* decoded, by cdx_ov_roster index */
    int64_t lo_bucket, hi_bucket;            /* absolute buckets in use; lo -1 before the first */
} s_build;

#define S_TABLE (2u * CDX_OV_WINDOW)

/* ---- the member table ---- */

static uint16_t s_member(s_build *b, const char *id)
{
    cdx_overview *ov = b->ov;
    for (size_t i = 0; i < ov->n_members; i++)
        if (strcmp(ov->members[i].id, id) == 0)
            return (uint16_t)i;
    if (ov->n_members == CDX_OV_MAX_MEMBERS)
        return S_OTHERS;
    cdx_ov_member *m = &ov->members[ov->n_members];
    memset(m, 0, sizeof *m);
    cdx__copy_id(m->id, id);
    return (uint16_t)ov->n_members++;
}

/* ---- time buckets: doubled in width until the span fits ---- */

/* Bucket k of each member holds absolute bucket lo_bucket + k (absolute:
 * sent_at / bucket_ms). A time outside the span widens it: buckets double
 * in width (pairs merged) until every time seen fits in
 * CDX_OV_TIME_BUCKETS of them. */
static void s_count_time(s_build *b, uint16_t m, uint64_t t)
{
    cdx_overview *ov = b->ov;
    if (b->lo_bucket < 0) {
        ov->bucket_ms = 60000; /* a minute to start with */
        b->lo_bucket = b->hi_bucket = (int64_t)(t / ov->bucket_ms);
    }
    int64_t idx = (int64_t)(t / ov->bucket_ms);
    int64_t lo = idx < b->lo_bucket ? idx : b->lo_bucket;
    int64_t hi = idx > b->hi_bucket ? idx : b->hi_bucket;
    while (hi - lo >= (int64_t)CDX_OV_TIME_BUCKETS) {
        int64_t new_lo = b->lo_bucket / 2;
        for (size_t i = 0; i < ov->n_members; i++) {
            uint32_t merged[CDX_OV_TIME_BUCKETS] = {0};
            for (size_t k = 0; k < CDX_OV_TIME_BUCKETS; k++)
                merged[(b->lo_bucket + (int64_t)k) / 2 - new_lo] += ov->members[i].per_bucket[k];
            memcpy(ov->members[i].per_bucket, merged, sizeof merged);
        }
        b->lo_bucket = new_lo;
        ov->bucket_ms *= 2;
        lo /= 2;
        hi /= 2;
        idx = (int64_t)(t / ov->bucket_ms);
    }
    if (lo < b->lo_bucket) {
        size_t by = (size_t)(b->lo_bucket - lo);
        for (size_t i = 0; i < ov->n_members; i++) {
            uint32_t *p = ov->members[i].per_bucket;
            memmove(p + by, p, (CDX_OV_TIME_BUCKETS - by) * sizeof *p);
            memset(p, 0, by * sizeof *p);
        }
        b->lo_bucket = lo;
    }
    b->hi_bucket = hi;
    if (m != S_OTHERS)
        ov->members[m].per_bucket[idx - b->lo_bucket]++;
}

/* ---- latency histogram: exact below 32 ms, then 32 bins a doubling ---- */

static size_t s_bin(uint64_t v)
{
    if (v < 32)
        return (size_t)v;
    unsigned top = 63u - (unsigned)__builtin_clzll(v); /* v in [2^top, 2^(top+1)) */
    size_t sub = (size_t)((v >> (top - 5)) & 31u);
    size_t bin = 32u + (size_t)(top - 5) * 32u + sub;
    return bin < CDX_OV_LAT_BINS ? bin : CDX_OV_LAT_BINS - 1;
}

static void s_bin_range(size_t bin, double *lo, double *hi)
{
    if (bin < 32) {
        *lo = (double)bin;
        *hi = (double)bin + 1;
        return;
    }
    unsigned top = (unsigned)((bin - 32) / 32) + 5;
    double base = (double)(1ull << top), step = base / 32.0;
    *lo = base + step * (double)((bin - 32) % 32);
    *hi = *lo + step;
}

static void s_latency_add(cdx_ov_latency *l, uint64_t v)
{
    if (!l->n || v < l->min)
        l->min = v;
    if (v > l->max)
        l->max = v;
    l->n++;
    l->sum += v;
    l->bins[s_bin(v)]++;
}

uint64_t cdx_ov_latency_quantile(const cdx_ov_latency *l, double q)
{
    if (!l->n)
        return 0;
    double want = q * (double)(l->n - 1) + 1; /* 1-based rank */
    uint64_t seen = 0;
    for (size_t i = 0; i < CDX_OV_LAT_BINS; i++) {
        if (!l->bins[i])
            continue;
        if ((double)(seen + l->bins[i]) >= want) {
            double lo, hi;
            s_bin_range(i, &lo, &hi);
            double frac = l->bins[i] > 1 ? (want - (double)seen - 1) / (double)(l->bins[i] - 1) : 0;
            if (i < 32)
                frac = 0; /* exact */
            double v = lo + frac * (hi - lo);
            uint64_t r = (uint64_t)(v + 0.5);
            return r < l->min ? l->min : r > l->max ? l->max : r;
        }
        seen += l->bins[i];
    }
    return l->max;
}

/* ---- the ring of recent alerts and its hash index ---- */

static size_t s_home(const uint8_t *h)
{
    uint64_t v;
    memcpy(&v, h, sizeof v);
    return (size_t)(v % S_TABLE);
}

static s_slot *s_find(s_build *b, const uint8_t *h)
{
    for (size_t i = s_home(h), n = 0; n < S_TABLE; i = (i + 1) % S_TABLE, n++) {
        int32_t s = b->table[i];
        if (s < 0)
            return NULL;
        if (memcmp(b->ring[s].hash, h, CDX_HASH_BYTES) == 0)
            return &b->ring[s];
    }
    return NULL;
}

/* Removes slot number `s` from the index (backward-shift deletion, so
 * that linear probing needs no tombstones). */
static void s_unindex(s_build *b, int32_t s)
{
    size_t i = s_home(b->ring[s].hash);
    while (b->table[i] != s)
        i = (i + 1) % S_TABLE;
    size_t j = i;
    for (;;) {
        j = (j + 1) % S_TABLE;
        if (b->table[j] < 0)
            break;
        size_t k = s_home(b->ring[b->table[j]].hash);
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            b->table[i] = b->table[j];
            i = j;
        }
    }
    b->table[i] = -1;
}

static void s_retire(s_build *b, s_slot *s)
{
    if (s->counted && !s->acks)
        b->ov->unacked++;
}

static s_slot *s_take(s_build *b, const uint8_t *h)
{
    int32_t n = (int32_t)b->ring_next;
    s_slot *s = &b->ring[n];
    if (s->used) {
        s_retire(b, s);
        s_unindex(b, n);
    }
    memset(s, 0, sizeof *s);
    s->used = true;
    memcpy(s->hash, h, CDX_HASH_BYTES);
    size_t i = s_home(h);
    while (b->table[i] >= 0)
        i = (i + 1) % S_TABLE;
    b->table[i] = n;
    b->ring_next = (b->ring_next + 1) % CDX_OV_WINDOW;
    return s;
}

/* ---- one entry ---- */

static void s_fill_alert(s_slot *s, const cdx_body *body, uint32_t log, uint64_t index,
                         uint16_t sender)
{
    s->seq = body->seq;
    s->index = index;
    s->sent_at_ms = body->sent_at_ms;
    s->log = log;
    s->sender = sender;
    s->sealed = body->kind == CDX_PAYLOAD_SEALED;
    s->tlp = (uint8_t)(s->sealed ? body->sealed.tlp : body->alert.tlp);
    s->severity = (uint8_t)(s->sealed ? 0 : body->alert.severity);
}

/* Where an alert of that hash is, in the logs given: the first holding it. */
static bool s_locate(s_build *b, const uint8_t *h, size_t *log, uint64_t *index)
{
    for (size_t j = 0; j < b->n_logs; j++)
        if (cdx_log_find_hash(b->logs[j], h, index) == CDX_OK) {
            *log = j;
            return true;
        }
    return false;
}

static cdx_err s_ack(s_build *b, uint16_t who, const cdx_body *body)
{
    cdx_overview *ov = b->ov;
    const cdx_ack *a = &body->ack;
    if (who != S_OTHERS && a->stage < 7)
        ov->members[who].acks_by_stage[a->stage]++;
    s_slot *s = s_find(b, a->alert_hash);
    if (!s) {
        size_t log;
        uint64_t index;
        if (!s_locate(b, a->alert_hash, &log, &index)) {
            ov->unmatched_acks++;
            return CDX_OK;
        }
        cdx_log_entry e;
        cdx_envelope *env = NULL;
        if (cdx_log_get(b->logs[log], index, &e, NULL) != CDX_OK)
            return CDX_OK;
        cdx_err rc = cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL);
        cdx_log_entry_clear(&e);
        if (rc != CDX_OK) {
            ov->unmatched_acks++;
            return CDX_OK;
        }
        const cdx_body *ab = cdx_envelope_body(env);
        bool alert = ab->kind == CDX_PAYLOAD_ALERT || ab->kind == CDX_PAYLOAD_SEALED;
        bool behind = log < b->cur_log || (log == b->cur_log && index < b->cur_index);
        if (!alert) {
            ov->unmatched_acks++;
        } else if (behind) {
            /* Counted, and since dropped from the window: a late ack. */
            ov->late_acks++;
            if (who != S_OTHERS) {
                ov->members[who].late_acks++;
                s_latency_add(&ov->members[who].latency, body->sent_at_ms > ab->sent_at_ms
                                                             ? body->sent_at_ms - ab->sent_at_ms
                                                             : 0);
            }
        } else {
            /* Ahead of the scan: kept now, counted when the scan gets there. */
            s = s_take(b, a->alert_hash);
            s_fill_alert(s, ab, (uint32_t)log, index, s_member(b, ab->sender));
        }
        cdx_envelope_destroy(&env);
        if (!s)
            return CDX_OK;
    }
    if (who == S_OTHERS)
        return CDX_OK;
    if (!s->stage[who] && s->sender != who) {
        s->acks++;
        ov->members[who].acked_alerts++;
        s_latency_add(&ov->members[who].latency,
                      body->sent_at_ms > s->sent_at_ms ? body->sent_at_ms - s->sent_at_ms : 0);
    }
    if (a->stage)
        s->stage[who] = (uint8_t)a->stage;
    return CDX_OK;
}

static void s_head(s_build *b, const cdx_tree_head *th, const char *signer, const char *cosigner,
                   uint64_t index)
{
    cdx_overview *ov = b->ov;
    size_t j = 0;
    while (j < b->n_logs && strcmp(ov->logs[j].origin, th->origin ? th->origin : "") != 0)
        j++;
    if (j == b->n_logs) {
        ov->heads_unchecked++;
        return;
    }
    ov->heads_checked++;
    bool beyond = th->size > ov->logs[j].entries;
    uint8_t root[CDX_HASH_BYTES];
    if (!beyond && cdx_log_root(b->logs[j], th->size, root) == CDX_OK &&
        memcmp(root, th->root, CDX_HASH_BYTES) == 0)
        return;
    ov->heads_bad_total++;
    if (ov->n_heads == CDX_OV_MAX_LISTED)
        return;
    cdx_ov_head *h = &ov->heads[ov->n_heads++];
    memset(h, 0, sizeof *h);
    h->log = (uint32_t)b->cur_log;
    h->index = index;
    cdx__copy_id(h->signer, signer);
    if (cosigner)
        cdx__copy_id(h->cosigner, cosigner);
    snprintf(h->origin, sizeof h->origin, "%s", th->origin ? th->origin : "");
    h->size = th->size;
    h->beyond = beyond;
}

static void s_roster(s_build *b, const uint8_t *data, size_t len, uint64_t index)
{
    cdx_overview *ov = b->ov;
    cdx_roster *r = NULL;
    if (cdx_roster_decode(&r, data, len, NULL) != CDX_OK)
        return;
    uint64_t v = cdx_roster_version(r);
    for (size_t i = 0; i < ov->n_rosters; i++)
        if (ov->rosters[i].version == v &&
            strcmp(ov->rosters[i].federation, cdx_roster_federation(r)) == 0) {
            cdx_roster_destroy(&r);
            return;
        }
    if (ov->n_rosters == CDX_OV_MAX_ROSTERS) {
        cdx_roster_destroy(&r);
        return;
    }
    cdx_ov_roster *o = &ov->rosters[ov->n_rosters];
    memset(o, 0, sizeof *o);
    o->version = v;
    o->issued_at_ms = cdx_roster_issued_at(r);
    snprintf(o->federation, sizeof o->federation, "%s", cdx_roster_federation(r));
    o->members = cdx_roster_member_count(r);
    for (size_t i = 0; i < o->members; i++) {
        const cdx_member *m = cdx_roster_member_at(r, i);
        o->states += m->role == CDX_ROLE_STATE;
        o->brokers += m->role == CDX_ROLE_BROKER;
        o->revoked += m->revoked_at_ms != 0;
    }
    o->log = (uint32_t)b->cur_log;
    o->index = index;
    b->rosters[ov->n_rosters++] = r;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_build *b = ctx;
    cdx_overview *ov = b->ov;
    cdx_ov_log *lg = &ov->logs[b->cur_log];
    b->cur_index = e->index;
    lg->entries++;
    /* Read once: the pages read so far need not stay resident. */
    if (e->index % 16384 == 16383)
        for (size_t j = 0; j < b->n_logs; j++)
            cdx__log_release_pages(b->logs[j]);
    /* Counted once: in the first log given that holds it. */
    if (b->cur_log > 0) {
        uint8_t h[CDX_HASH_BYTES];
        uint64_t at;
        if (cdx_envelope_peek_hash(e->envelope.data, e->envelope.len, h) == CDX_OK)
            for (size_t j = 0; j < b->cur_log; j++)
                if (cdx_log_find_hash(b->logs[j], h, &at) == CDX_OK)
                    return CDX_OK;
    }
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK) {
        ov->undecodable++;
        return CDX_OK;
    }
    lg->counted++;
    ov->entries++;
    const cdx_body *body = cdx_envelope_body(env);
    uint16_t who = s_member(b, body->sender);
    uint64_t t = body->sent_at_ms;
    if (!lg->first_ms || t < lg->first_ms)
        lg->first_ms = t;
    if (t > lg->last_ms)
        lg->last_ms = t;
    if (!ov->first_ms || t < ov->first_ms)
        ov->first_ms = t;
    if (t > ov->last_ms)
        ov->last_ms = t;
    cdx_ov_member *m = who == S_OTHERS ? NULL : &ov->members[who];
    if (!m)
        ov->other_senders++;
    if (m) {
        if (!m->first_ms || t < m->first_ms)
            m->first_ms = t;
        if (t > m->last_ms)
            m->last_ms = t;
        if (body->seq > m->max_seq)
            m->max_seq = body->seq;
        uint64_t *last = &b->content[b->cur_log * CDX_OV_MAX_MEMBERS + who];
        if (body->kind != CDX_PAYLOAD_HEARTBEAT && body->seq > *last)
            *last = body->seq;
    }
    if (e->outcome == CDX_LOG_EQUIVOCATION) {
        ov->equivocations_total++;
        if (ov->n_equivocations < CDX_OV_MAX_LISTED) {
            cdx_ov_equivocation *q = &ov->equivocations[ov->n_equivocations++];
            q->log = (uint32_t)b->cur_log;
            cdx__copy_id(q->sender, body->sender);
            q->seq = body->seq;
            q->index = e->index;
        }
    }
    cdx_err rc = CDX_OK;
    switch (body->kind) {
    case CDX_PAYLOAD_ALERT:
    case CDX_PAYLOAD_SEALED: {
        ov->alerts++;
        if (body->kind == CDX_PAYLOAD_SEALED)
            ov->sealed++;
        if (m && body->kind == CDX_PAYLOAD_SEALED)
            m->sealed++;
        if (m)
            m->alerts++;
        s_count_time(b, who, t);
        s_slot *s = s_find(b, cdx_envelope_hash(env));
        if (!s) {
            s = s_take(b, cdx_envelope_hash(env));
            s_fill_alert(s, body, (uint32_t)b->cur_log, e->index, who);
        }
        s->counted = true;
        break;
    }
    case CDX_PAYLOAD_ACK:
        ov->acks++;
        if (m)
            m->acks++;
        rc = s_ack(b, who, body);
        break;
    case CDX_PAYLOAD_HEARTBEAT:
        if (m) {
            m->heartbeats++;
            uint64_t *claim = &b->claims[b->cur_log * CDX_OV_MAX_MEMBERS + who];
            if (body->heartbeat.last_seq > *claim)
                *claim = body->heartbeat.last_seq;
        }
        break;
    case CDX_PAYLOAD_TREE_HEAD:
        if (m)
            m->tree_heads++;
        s_head(b, &body->tree_head, body->sender, NULL, e->index);
        break;
    case CDX_PAYLOAD_WITNESS: {
        if (m)
            m->witnesses++;
        cdx_envelope *inner = NULL;
        if (cdx_envelope_inspect(&inner, body->witness.data, body->witness.len, NULL) == CDX_OK &&
            cdx_envelope_body(inner)->kind == CDX_PAYLOAD_TREE_HEAD)
            s_head(b, &cdx_envelope_body(inner)->tree_head, cdx_envelope_body(inner)->sender,
                   body->sender, e->index);
        cdx_envelope_destroy(&inner);
        break;
    }
    case CDX_PAYLOAD_ROSTER:
        if (m)
            m->rosters++;
        s_roster(b, body->roster.data, body->roster.len, e->index);
        break;
    default: break;
    }
    cdx_envelope_destroy(&env);
    return rc;
}

/* ---- after the pass ---- */

/* Title and id of an alert, read back from its log (and opened with the
 * key, if sealed to it). */
static void s_describe(s_build *b, const s_slot *s, cdx_ov_alert *a)
{
    cdx_overview *ov = b->ov;
    memset(a, 0, sizeof *a);
    snprintf(a->sender, sizeof a->sender, "%s",
             s->sender == S_OTHERS ? "?" : ov->members[s->sender].id);
    a->log = s->log;
    a->seq = s->seq;
    a->index = s->index;
    a->sent_at_ms = s->sent_at_ms;
    memcpy(a->hash, s->hash, CDX_HASH_BYTES);
    a->sealed = s->sealed;
    a->tlp = (cdx_tlp)s->tlp;
    a->severity = (cdx_severity)s->severity;
    a->acks = s->acks;
    memcpy(a->stage, s->stage, sizeof a->stage);
    cdx_log_entry e;
    if (cdx_log_get(b->logs[s->log], s->index, &e, NULL) != CDX_OK)
        return;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        const cdx_body *body = cdx_envelope_body(env);
        cdx_alert opened = {0};
        const cdx_alert *al = body->kind == CDX_PAYLOAD_ALERT ? &body->alert : NULL;
        if (!al && b->opts->key && cdx_envelope_open(env, b->opts->key, &opened, NULL) == CDX_OK)
            al = &opened;
        if (al) {
            snprintf(a->id, sizeof a->id, "%s", al->id ? al->id : "");
            const char *t = al->title ? al->title : "";
            size_t n = strlen(t);
            if (n >= sizeof a->title) {
                n = sizeof a->title - 1;
                while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
                    n--; /* not inside a UTF-8 sequence */
            }
            memcpy(a->title, t, n);
            a->title[n] = '\0';
            a->severity = al->severity;
        }
        cdx_alert_clear(&opened);
    }
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
}

static int s_cmp_alert_time(const void *x, const void *y)
{
    const cdx_ov_alert *a = x, *b = y;
    if (a->sent_at_ms != b->sent_at_ms)
        return a->sent_at_ms < b->sent_at_ms ? -1 : 1;
    return a->log != b->log ? (a->log < b->log ? -1 : 1)
                            : (a->index < b->index ? -1 : a->index > b->index);
}

static cdx_err s_finish_alerts(s_build *b)
{
    cdx_overview *ov = b->ov;
    size_t want = b->opts->matrix_rows ? b->opts->matrix_rows : CDX_OV_MATRIX_DEFAULT;
    if (want > CDX_OV_MATRIX_MAX)
        want = CDX_OV_MATRIX_MAX;
    ov->rows = calloc(want + 1, sizeof *ov->rows);
    ov->unacked_list = calloc(CDX_OV_MAX_LISTED + 1, sizeof *ov->unacked_list);
    if (!ov->rows || !ov->unacked_list)
        return CDX_ERR_NOMEM;
    /* Newest first through the ring. */
    for (size_t k = 0; k < CDX_OV_WINDOW; k++) {
        size_t n = (b->ring_next + CDX_OV_WINDOW - 1 - k) % CDX_OV_WINDOW;
        s_slot *s = &b->ring[n];
        if (!s->used || !s->counted)
            continue;
        s_retire(b, s);
        if (ov->n_rows < want)
            s_describe(b, s, &ov->rows[ov->n_rows++]);
        if (!s->acks && ov->n_unacked_listed < CDX_OV_MAX_LISTED)
            s_describe(b, s, &ov->unacked_list[ov->n_unacked_listed++]);
    }
    qsort(ov->rows, ov->n_rows, sizeof *ov->rows, s_cmp_alert_time);
    qsort(ov->unacked_list, ov->n_unacked_listed, sizeof *ov->unacked_list, s_cmp_alert_time);
    return CDX_OK;
}

static cdx_err s_finish_gaps(s_build *b)
{
    cdx_overview *ov = b->ov;
    for (size_t j = 0; j < b->n_logs; j++) {
        cdx_log_sender *senders = NULL;
        size_t n = 0;
        cdx_err rc = cdx_log_senders(b->logs[j], &senders, &n);
        if (rc != CDX_OK)
            return rc;
        for (size_t i = 0; i < n; i++) {
            cdx_log_range r[CDX_OV_MAX_LISTED];
            size_t got = 0;
            if (senders[i].max_seq > 1 &&
                cdx_log_sender_gaps(b->logs[j], senders[i].id, 1, senders[i].max_seq, r,
                                    CDX_OV_MAX_LISTED, &got) != CDX_OK)
                got = 0;
            /* The index's pages come in with their neighbours (the kernel
             * maps around each fault): let go of them sender by sender. */
            cdx__log_release_pages(b->logs[j]);
            uint16_t who = s_member(b, senders[i].id);
            uint64_t claim = who == S_OTHERS ? 0 : b->claims[j * CDX_OV_MAX_MEMBERS + who];
            /* Past the last content held, only heartbeats show the seqs
             * exist: a withheld tail. */
            uint64_t content =
                who == S_OTHERS ? UINT64_MAX : b->content[j * CDX_OV_MAX_MEMBERS + who];
            for (size_t k = 0; k <= got; k++) {
                cdx_ov_gap g = {.log = (uint32_t)j};
                if (k < got) {
                    g.from = r[k].from;
                    g.to = r[k].to;
                    g.tail = g.from > content;
                } else if (claim > senders[i].max_seq) {
                    g.from = senders[i].max_seq + 1;
                    g.to = claim;
                    g.tail = true;
                } else {
                    break;
                }
                cdx__copy_id(g.sender, senders[i].id);
                ov->gaps_total++;
                ov->gap_seqs_total += g.to - g.from + 1;
                if (ov->n_gaps < CDX_OV_MAX_LISTED)
                    ov->gaps[ov->n_gaps++] = g;
            }
        }
        free(senders);
    }
    return CDX_OK;
}

static int s_cmp_roster(const void *x, const void *y)
{
    const cdx_ov_roster *a = x, *b = y;
    return a->version < b->version ? -1 : a->version > b->version;
}

static void s_finish_rosters(s_build *b)
{
    cdx_overview *ov = b->ov;
    /* Sort both arrays together by version. */
    for (size_t i = 1; i < ov->n_rosters; i++)
        for (size_t k = i; k > 0 && s_cmp_roster(&ov->rosters[k - 1], &ov->rosters[k]) > 0; k--) {
            cdx_ov_roster t = ov->rosters[k];
            ov->rosters[k] = ov->rosters[k - 1];
            ov->rosters[k - 1] = t;
            cdx_roster *r = b->rosters[k];
            b->rosters[k] = b->rosters[k - 1];
            b->rosters[k - 1] = r;
        }
    for (size_t i = 0; i < ov->n_rosters; i++) {
        const cdx_roster *prev = NULL;
        for (size_t k = i; k-- > 0;)
            if (ov->rosters[k].version < ov->rosters[i].version &&
                strcmp(ov->rosters[k].federation, ov->rosters[i].federation) == 0) {
                prev = b->rosters[k];
                break;
            }
        ov->rosters[i].chained = (prev || ov->rosters[i].version == 1) &&
                                 cdx_roster_verify(b->rosters[i], prev, NULL) == CDX_OK;
    }
    /* Members named by the roster given, or the latest known. */
    const cdx_roster *names = b->opts->roster;
    if (!names && ov->n_rosters)
        names = b->rosters[ov->n_rosters - 1];
    if (!names)
        return;
    snprintf(ov->federation, sizeof ov->federation, "%s", cdx_roster_federation(names));
    for (size_t i = 0; i < cdx_roster_member_count(names); i++) {
        const cdx_member *r = cdx_roster_member_at(names, i);
        uint16_t who = s_member(b, r->id);
        if (who == S_OTHERS)
            continue;
        cdx_ov_member *m = &ov->members[who];
        m->in_roster = true;
        m->role = r->role;
        m->valid_from_ms = r->valid_from_ms;
        m->valid_until_ms = r->valid_until_ms;
        m->revoked_at_ms = r->revoked_at_ms;
    }
}

static void s_finish_refused(s_build *b)
{
    cdx_overview *ov = b->ov;
    for (size_t j = 0; j < b->n_logs; j++) {
        const cdx_log_counters *c = &ov->logs[j].counters;
        ov->duplicates += c->duplicates;
        for (size_t i = 0; i < c->n_rejected; i++) {
            size_t k = 0;
            while (k < ov->n_refused && strcmp(ov->refused[k].reason, c->rejected[i].reason) != 0)
                k++;
            if (k == ov->n_refused) {
                if (k == CDX_LOG_MAX_REASONS)
                    continue;
                snprintf(ov->refused[k].reason, sizeof ov->refused[k].reason, "%s",
                         c->rejected[i].reason);
                ov->n_refused++;
            }
            ov->refused[k].count += c->rejected[i].count;
        }
    }
    for (size_t i = 1; i < ov->n_refused; i++)
        for (size_t k = i; k > 0 && ov->refused[k - 1].count < ov->refused[k].count; k--) {
            cdx_ov_count t = ov->refused[k];
            ov->refused[k] = ov->refused[k - 1];
            ov->refused[k - 1] = t;
        }
}

cdx_err cdx_overview_build(cdx_overview **out, cdx_log *const *logs, size_t n,
                           const cdx_overview_opts *opts, cdx_errbuf *eb)
{
    *out = NULL;
    static const cdx_overview_opts none = {0};
    if (!opts)
        opts = &none;
    if (!logs || n == 0 || n > CDX_OV_MAX_LOGS)
        return cdx_errf(eb, CDX_ERR_INVALID, "report: give 1 to %u logs", CDX_OV_MAX_LOGS);
    cdx_overview *ov = calloc(1, sizeof *ov);
    s_build b = {.ov = ov, .logs = logs, .n_logs = n, .opts = opts, .lo_bucket = -1};
    if (ov) {
        ov->members = calloc(CDX_OV_MAX_MEMBERS, sizeof *ov->members);
        b.ring = calloc(CDX_OV_WINDOW, sizeof *b.ring);
        b.table = malloc(S_TABLE * sizeof *b.table);
        b.claims = calloc(n * CDX_OV_MAX_MEMBERS, sizeof *b.claims);
        b.content = calloc(n * CDX_OV_MAX_MEMBERS, sizeof *b.content);
    }
    cdx_err rc =
        ov && ov->members && b.ring && b.table && b.claims && b.content ? CDX_OK : CDX_ERR_NOMEM;
    if (rc == CDX_OK)
        for (size_t i = 0; i < S_TABLE; i++)
            b.table[i] = -1;
    if (ov)
        ov->n_logs = n;
    for (size_t j = 0; rc == CDX_OK && j < n; j++) {
        cdx_ov_log *lg = &ov->logs[j];
        snprintf(lg->origin, sizeof lg->origin, "%s", cdx_log_origin(logs[j]));
        snprintf(lg->owner, sizeof lg->owner, "%s", cdx_log_owner(logs[j]));
        rc = cdx_log_counters_get(logs[j], &lg->counters);
        b.cur_log = j;
        cdx_bytes stored;
        if (rc == CDX_OK && cdx_log_get_roster(logs[j], &stored) == CDX_OK) {
            s_roster(&b, stored.data, stored.len, UINT64_MAX);
            cdx_bytes_free(&stored);
        }
        if (rc == CDX_OK)
            rc = cdx_log_scan(logs[j], 0, UINT64_MAX, s_visit, &b, eb);
        if (rc != CDX_OK) {
            char why[sizeof eb->msg];
            snprintf(why, sizeof why, "%s", cdx_errbuf_msg(eb, rc));
            cdx_errf(eb, rc, "%s: %s", lg->origin, why);
        }
    }
    if (rc == CDX_OK && opts->roster) {
        cdx_bytes raw;
        if (cdx_roster_encode(opts->roster, &raw) == CDX_OK) {
            s_roster(&b, raw.data, raw.len, UINT64_MAX - 1);
            cdx_bytes_free(&raw);
        }
    }
    if (rc == CDX_OK)
        s_finish_rosters(&b);
    if (rc == CDX_OK)
        rc = s_finish_gaps(&b);
    if (rc == CDX_OK)
        rc = s_finish_alerts(&b);
    if (rc == CDX_OK) {
        s_finish_refused(&b);
        for (size_t i = 0; i < ov->n_members; i++) {
            cdx_ov_latency *l = &ov->members[i].latency;
            static const double qs[5] = {0.05, 0.25, 0.5, 0.75, 0.95};
            for (int k = 0; k < 5; k++)
                l->q[k] = cdx_ov_latency_quantile(l, qs[k]);
        }
        if (b.lo_bucket >= 0) {
            ov->bucket0_ms = (uint64_t)b.lo_bucket * ov->bucket_ms;
            ov->n_buckets = (size_t)((ov->last_ms / ov->bucket_ms) - (uint64_t)b.lo_bucket) + 1;
            if (ov->n_buckets > CDX_OV_TIME_BUCKETS)
                ov->n_buckets = CDX_OV_TIME_BUCKETS;
        }
    }
    for (size_t i = 0; i < CDX_OV_MAX_ROSTERS; i++)
        cdx_roster_destroy(&b.rosters[i]);
    free(b.ring);
    free(b.table);
    free(b.claims);
    free(b.content);
    if (rc != CDX_OK)
        cdx_overview_destroy(&ov);
    *out = ov;
    return rc;
}

void cdx_overview_destroy(cdx_overview **ov)
{
    if (!ov || !*ov)
        return;
    free((*ov)->members);
    free((*ov)->rows);
    free((*ov)->unacked_list);
    free(*ov);
    *ov = NULL;
}
