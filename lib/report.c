/* The traffic report over one log (see cydex/report.h). One scan collects
 * alerts and acks; acks are then matched to alerts by envelope hash, and a
 * state's latency is the time from the alert's sent_at to its first ack. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/report.h"
#include "internal.h"

typedef struct s_ack {
    uint32_t acker; /* sender table index */
    uint8_t alert[CDX_HASH_BYTES];
    uint64_t sent_at_ms;
} s_ack;

typedef struct s_build {
    cdx_report *r;
    const cdx_identity *key;
    s_ack *acks;
    size_t n_acks, cap_acks, cap_senders, cap_alerts;
} s_build;

static bool s_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    void *g = realloc(*p, n * size);
    if (!g)
        return false;
    *p = g;
    *cap = n;
    return true;
}

static int s_sender(s_build *b, const char *id)
{
    cdx_report *r = b->r;
    for (size_t i = 0; i < r->n_senders; i++)
        if (strcmp(r->senders[i].id, id) == 0)
            return (int)i;
    if (!s_grow((void **)&r->senders, &b->cap_senders, r->n_senders + 1, sizeof *r->senders))
        return -1;
    memset(&r->senders[r->n_senders], 0, sizeof *r->senders);
    cdx__copy_id(r->senders[r->n_senders].id, id);
    return (int)r->n_senders++;
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_build *b = ctx;
    cdx_report *r = b->r;
    cdx_envelope *env = NULL;
    r->entries++;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK; /* undecodable: the audit reports it */
    const cdx_body *body = cdx_envelope_body(env);
    int s = s_sender(b, body->sender);
    if (s < 0) {
        cdx_envelope_destroy(&env);
        return CDX_ERR_NOMEM;
    }
    if (!r->first_ms || body->sent_at_ms < r->first_ms)
        r->first_ms = body->sent_at_ms;
    if (body->sent_at_ms > r->last_ms)
        r->last_ms = body->sent_at_ms;
    cdx_report_sender *rs = &r->senders[s];
    cdx_err rc = CDX_OK;
    if (body->kind == CDX_PAYLOAD_ALERT || body->kind == CDX_PAYLOAD_SEALED) {
        if (body->kind == CDX_PAYLOAD_ALERT)
            rs->alerts++;
        else
            rs->sealed++;
        if (!s_grow((void **)&r->alerts, &b->cap_alerts, r->n_alerts + 1, sizeof *r->alerts)) {
            rc = CDX_ERR_NOMEM;
        } else {
            cdx_report_alert *a = &r->alerts[r->n_alerts++];
            memset(a, 0, sizeof *a);
            cdx__copy_id(a->sender, body->sender);
            a->seq = body->seq;
            a->index = e->index;
            a->sent_at_ms = body->sent_at_ms;
            memcpy(a->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
            cdx_alert opened = {0};
            const cdx_alert *al = body->kind == CDX_PAYLOAD_ALERT ? &body->alert : NULL;
            if (!al && b->key && cdx_envelope_open(env, b->key, &opened, NULL) == CDX_OK)
                al = &opened;
            if (al) {
                snprintf(a->id, sizeof a->id, "%s", al->id ? al->id : "");
                snprintf(a->title, sizeof a->title, "%s", al->title ? al->title : "");
            }
            cdx_alert_clear(&opened);
        }
    } else if (body->kind == CDX_PAYLOAD_ACK) {
        rs->acks++;
        if (!s_grow((void **)&b->acks, &b->cap_acks, b->n_acks + 1, sizeof *b->acks)) {
            rc = CDX_ERR_NOMEM;
        } else {
            s_ack *k = &b->acks[b->n_acks++];
            k->acker = (uint32_t)s;
            memcpy(k->alert, body->ack.alert_hash, CDX_HASH_BYTES);
            k->sent_at_ms = body->sent_at_ms;
        }
    } else {
        rs->other++;
    }
    cdx_envelope_destroy(&env);
    return rc;
}

static int s_cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

static int s_cmp_alert_hash(const void *x, const void *y)
{
    return memcmp(((const cdx_report_alert *const *)x)[0]->hash,
                  ((const cdx_report_alert *const *)y)[0]->hash, CDX_HASH_BYTES);
}

/* Matches acks to alerts; fills acks per alert and latency per acker. */
static cdx_err s_match(s_build *b)
{
    cdx_report *r = b->r;
    cdx_report_alert **by_hash = calloc(r->n_alerts + 1, sizeof *by_hash);
    uint64_t *lat = calloc(b->n_acks + 1, sizeof *lat);
    /* first[i*n_senders + s]: acker s already counted for alert i */
    bool *seen = calloc(r->n_alerts * r->n_senders + 1, sizeof *seen);
    if (!by_hash || !lat || !seen) {
        free(by_hash);
        free(lat);
        free(seen);
        return CDX_ERR_NOMEM;
    }
    for (size_t i = 0; i < r->n_alerts; i++)
        by_hash[i] = &r->alerts[i];
    qsort(by_hash, r->n_alerts, sizeof *by_hash, s_cmp_alert_hash);
    /* Acks in log order are in time order for each acker, near enough: the
     * first one seen per (acker, alert) is taken as the first ack. */
    for (size_t s = 0; s < r->n_senders; s++) {
        size_t n = 0;
        for (size_t i = 0; i < b->n_acks; i++) {
            const s_ack *k = &b->acks[i];
            if (k->acker != s)
                continue;
            cdx_report_alert key, *kp = &key;
            memcpy(key.hash, k->alert, CDX_HASH_BYTES);
            cdx_report_alert **hit =
                bsearch(&kp, by_hash, r->n_alerts, sizeof *by_hash, s_cmp_alert_hash);
            if (!hit)
                continue;
            size_t ai = (size_t)(*hit - r->alerts);
            if (seen[ai * r->n_senders + s])
                continue;
            seen[ai * r->n_senders + s] = true;
            (*hit)->acks++;
            lat[n++] = k->sent_at_ms > (*hit)->sent_at_ms ? k->sent_at_ms - (*hit)->sent_at_ms : 0;
        }
        if (n) {
            qsort(lat, n, sizeof *lat, s_cmp_u64);
            r->senders[s].acked_alerts = n;
            r->senders[s].latency_p50_ms = lat[(n - 1) / 2];
            r->senders[s].latency_p95_ms = lat[(n * 95 + 99) / 100 - 1];
        }
    }
    free(by_hash);
    free(lat);
    free(seen);
    return CDX_OK;
}

cdx_err cdx_report_build(cdx_report **out, cdx_log *log, const cdx_identity *key, cdx_errbuf *eb)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return CDX_ERR_NOMEM;
    s_build b = {.r = *out, .key = key};
    cdx_err rc = cdx_log_scan(log, 0, UINT64_MAX, s_visit, &b, eb);
    if (rc == CDX_OK)
        rc = s_match(&b);
    if (rc == CDX_OK)
        rc = cdx_log_counters_get(log, &(*out)->counters);
    free(b.acks);
    if (rc != CDX_OK)
        cdx_report_destroy(out);
    return rc;
}

void cdx_report_destroy(cdx_report **r)
{
    if (!r || !*r)
        return;
    free((*r)->senders);
    free((*r)->alerts);
    free(*r);
    *r = NULL;
}
