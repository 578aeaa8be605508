/* The overview as JSON (cydex-audit report --json): the same data as the
 * HTML report, for machines. One object; keys are stable (README documents
 * them); hashes are hex, times RFC 3339. The member objects start with the
 * keys the earlier one-log report had (id, alerts, sealed_alerts, acks,
 * ack_latency_p50_ms, ack_latency_p95_ms), so its readers keep working. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/overview.h"
#include "internal.h"

typedef struct s_j {
    bool ok;
} s_j;

static void s_put(s_j *j, json_t *o, const char *k, json_t *v)
{
    if (!o) {
        json_decref(v);
        j->ok = false;
    } else if (!v || json_object_set_new(o, k, v) != 0) {
        j->ok = false;
    }
}

static void s_add(s_j *j, json_t *a, json_t *v)
{
    if (!a) {
        json_decref(v);
        j->ok = false;
    } else if (!v || json_array_append_new(a, v) != 0) {
        j->ok = false;
    }
}

static json_t *s_int(uint64_t v)
{
    return json_integer((json_int_t)v);
}

static json_t *s_str(const char *s)
{
    /* Strings from a log are UTF-8 (the codec refuses others); a cut title
     * is cut at a character boundary. Anything else becomes "". */
    json_t *v = json_string(s ? s : "");
    return v ? v : json_string("");
}

static json_t *s_time(uint64_t t)
{
    if (!t)
        return json_null();
    char text[CDX_TIME_TEXT_MAX];
    cdx_time_format(text, t);
    return json_string(text);
}

static json_t *s_hex(const uint8_t *p)
{
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, p, CDX_HASH_BYTES);
    return json_string(hex);
}

static const char *s_role(cdx_role r)
{
    switch (r) {
    case CDX_ROLE_STATE: return "state";
    case CDX_ROLE_BROKER: return "broker";
    case CDX_ROLE_AUDITOR: return "auditor";
    case CDX_ROLE_ADMIN: return "admin";
    case CDX_ROLE_RELAY: return "relay";
    default: return NULL;
    }
}

static json_t *s_alert(s_j *j, const cdx_overview *ov, const cdx_ov_alert *a, bool stages)
{
    json_t *o = json_object();
    s_put(j, o, "log", s_str(ov->logs[a->log].origin));
    s_put(j, o, "index", s_int(a->index));
    s_put(j, o, "sender", s_str(a->sender));
    s_put(j, o, "seq", s_int(a->seq));
    s_put(j, o, "hash", s_hex(a->hash));
    s_put(j, o, "sent_at", s_time(a->sent_at_ms));
    s_put(j, o, "sealed", json_boolean(a->sealed));
    s_put(j, o, "tlp", s_str(cdx_tlp_name(a->tlp)));
    if (a->id[0])
        s_put(j, o, "id", s_str(a->id));
    if (a->title[0])
        s_put(j, o, "title", s_str(a->title));
    s_put(j, o, "acks", s_int(a->acks));
    if (stages) {
        json_t *st = json_object();
        for (size_t i = 0; i < ov->n_members; i++)
            if (a->stage[i] >= 1 && a->stage[i] <= 6)
                s_put(j, st, ov->members[i].id,
                      s_str(cdx_ack_stage_name((cdx_ack_stage)a->stage[i])));
        s_put(j, o, "stages", st);
    }
    return o;
}

cdx_err cdx_overview_json(const cdx_overview *ov, char **out)
{
    *out = NULL;
    s_j j = {.ok = true};
    json_t *o = json_object();

    json_t *logs = json_array();
    for (size_t i = 0; i < ov->n_logs; i++) {
        const cdx_ov_log *l = &ov->logs[i];
        json_t *e = json_object(), *rej = json_object();
        s_put(&j, e, "origin", s_str(l->origin));
        s_put(&j, e, "owner", s_str(l->owner));
        s_put(&j, e, "entries", s_int(l->entries));
        s_put(&j, e, "counted", s_int(l->counted));
        s_put(&j, e, "first_sent_at", s_time(l->first_ms));
        s_put(&j, e, "last_sent_at", s_time(l->last_ms));
        s_put(&j, e, "duplicates_refused", s_int(l->counters.duplicates));
        for (size_t k = 0; k < l->counters.n_rejected; k++)
            s_put(&j, rej, l->counters.rejected[k].reason, s_int(l->counters.rejected[k].count));
        s_put(&j, e, "rejected", rej);
        s_add(&j, logs, e);
    }
    /* The first log's origin, as the one-log report had it. */
    s_put(&j, o, "log", s_str(ov->n_logs ? ov->logs[0].origin : ""));
    s_put(&j, o, "logs", logs);
    s_put(&j, o, "federation", ov->federation[0] ? s_str(ov->federation) : json_null());
    s_put(&j, o, "entries", s_int(ov->entries));
    s_put(&j, o, "undecodable", s_int(ov->undecodable));
    s_put(&j, o, "first_sent_at", s_time(ov->first_ms));
    s_put(&j, o, "last_sent_at", s_time(ov->last_ms));

    json_t *members = json_array();
    for (size_t i = 0; i < ov->n_members; i++) {
        const cdx_ov_member *m = &ov->members[i];
        const cdx_ov_latency *l = &m->latency;
        json_t *e = json_object(), *stages = json_object();
        s_put(&j, e, "id", s_str(m->id));
        s_put(&j, e, "alerts", s_int(m->alerts - m->sealed)); /* in the clear */
        s_put(&j, e, "sealed_alerts", s_int(m->sealed));
        s_put(&j, e, "acks", s_int(m->acks));
        s_put(&j, e, "acked_alerts", s_int(m->acked_alerts));
        if (l->n) {
            s_put(&j, e, "ack_latency_p50_ms", s_int(l->q[2]));
            s_put(&j, e, "ack_latency_p95_ms", s_int(l->q[4]));
            json_t *lat = json_object();
            s_put(&j, lat, "n", s_int(l->n));
            s_put(&j, lat, "min_ms", s_int(l->min));
            s_put(&j, lat, "p5_ms", s_int(l->q[0]));
            s_put(&j, lat, "p25_ms", s_int(l->q[1]));
            s_put(&j, lat, "p50_ms", s_int(l->q[2]));
            s_put(&j, lat, "p75_ms", s_int(l->q[3]));
            s_put(&j, lat, "p95_ms", s_int(l->q[4]));
            s_put(&j, lat, "max_ms", s_int(l->max));
            s_put(&j, lat, "mean_ms", s_int(l->sum / l->n));
            s_put(&j, e, "ack_latency", lat);
        }
        s_put(&j, e, "late_acks", s_int(m->late_acks));
        const char *role = s_role(m->role);
        s_put(&j, e, "role", role ? s_str(role) : json_null());
        s_put(&j, e, "in_roster", json_boolean(m->in_roster));
        s_put(&j, e, "heartbeats", s_int(m->heartbeats));
        s_put(&j, e, "tree_heads", s_int(m->tree_heads));
        s_put(&j, e, "cosignatures", s_int(m->witnesses));
        s_put(&j, e, "roster_updates", s_int(m->rosters));
        s_put(&j, e, "first_sent_at", s_time(m->first_ms));
        s_put(&j, e, "last_sent_at", s_time(m->last_ms));
        s_put(&j, e, "revoked_at", s_time(m->revoked_at_ms));
        for (int k = 1; k <= 6; k++)
            if (m->acks_by_stage[k])
                s_put(&j, stages, cdx_ack_stage_name((cdx_ack_stage)k), s_int(m->acks_by_stage[k]));
        s_put(&j, e, "acks_by_stage", stages);
        json_t *series = json_array();
        for (size_t k = 0; k < ov->n_buckets; k++)
            s_add(&j, series, s_int(m->per_bucket[k]));
        s_put(&j, e, "alerts_per_bucket", series);
        s_add(&j, members, e);
    }
    /* "senders" as the one-log report named them. */
    s_put(&j, o, "senders", members);
    s_put(&j, o, "other_senders_envelopes", s_int(ov->other_senders));

    json_t *time = json_object();
    s_put(&j, time, "first_bucket_at", s_time(ov->bucket0_ms));
    s_put(&j, time, "bucket_ms", s_int(ov->bucket_ms));
    s_put(&j, time, "buckets", s_int(ov->n_buckets));
    s_put(&j, o, "alerts_over_time", time);

    s_put(&j, o, "alerts", s_int(ov->alerts));
    s_put(&j, o, "sealed_alerts", s_int(ov->sealed));
    s_put(&j, o, "acks", s_int(ov->acks));
    s_put(&j, o, "unacked", s_int(ov->unacked));
    json_t *unacked = json_array();
    for (size_t i = 0; i < ov->n_unacked_listed; i++)
        s_add(&j, unacked, s_alert(&j, ov, &ov->unacked_list[i], false));
    s_put(&j, o, "unacked_alerts", unacked);
    s_put(&j, o, "late_acks", s_int(ov->late_acks));
    s_put(&j, o, "unmatched_acks", s_int(ov->unmatched_acks));

    json_t *matrix = json_object(), *rows = json_array();
    for (size_t i = 0; i < ov->n_rows; i++)
        s_add(&j, rows, s_alert(&j, ov, &ov->rows[i], true));
    s_put(&j, matrix, "shown", s_int(ov->n_rows));
    s_put(&j, matrix, "of", s_int(ov->alerts));
    s_put(&j, matrix, "alerts", rows);
    s_put(&j, o, "matrix", matrix);

    json_t *gaps = json_array();
    for (size_t i = 0; i < ov->n_gaps; i++) {
        const cdx_ov_gap *g = &ov->gaps[i];
        json_t *e = json_object();
        s_put(&j, e, "log", s_str(ov->logs[g->log].origin));
        s_put(&j, e, "sender", s_str(g->sender));
        s_put(&j, e, "from", s_int(g->from));
        s_put(&j, e, "to", s_int(g->to));
        s_put(&j, e, "kind", s_str(g->tail ? "tail" : "gap"));
        s_add(&j, gaps, e);
    }
    s_put(&j, o, "gaps", gaps);
    s_put(&j, o, "gaps_total", s_int(ov->gaps_total));
    s_put(&j, o, "gap_seqs_total", s_int(ov->gap_seqs_total));

    json_t *eqs = json_array();
    for (size_t i = 0; i < ov->n_equivocations; i++) {
        const cdx_ov_equivocation *q = &ov->equivocations[i];
        json_t *e = json_object();
        s_put(&j, e, "log", s_str(ov->logs[q->log].origin));
        s_put(&j, e, "sender", s_str(q->sender));
        s_put(&j, e, "seq", s_int(q->seq));
        s_put(&j, e, "index", s_int(q->index));
        s_add(&j, eqs, e);
    }
    s_put(&j, o, "equivocation_list", eqs);
    s_put(&j, o, "equivocations", s_int(ov->equivocations_total));

    json_t *heads = json_object(), *bad = json_array();
    s_put(&j, heads, "checked", s_int(ov->heads_checked));
    s_put(&j, heads, "unchecked", s_int(ov->heads_unchecked));
    s_put(&j, heads, "inconsistent", s_int(ov->heads_bad_total));
    for (size_t i = 0; i < ov->n_heads; i++) {
        const cdx_ov_head *h = &ov->heads[i];
        json_t *e = json_object();
        s_put(&j, e, "logged_in", s_str(ov->logs[h->log].origin));
        s_put(&j, e, "index", s_int(h->index));
        s_put(&j, e, "signer", s_str(h->signer));
        s_put(&j, e, "cosigner", h->cosigner[0] ? s_str(h->cosigner) : json_null());
        s_put(&j, e, "origin", s_str(h->origin));
        s_put(&j, e, "size", s_int(h->size));
        s_put(&j, e, "why", s_str(h->beyond ? "beyond" : "root"));
        s_add(&j, bad, e);
    }
    s_put(&j, heads, "list", bad);
    s_put(&j, o, "tree_heads", heads);

    json_t *rosters = json_array();
    for (size_t i = 0; i < ov->n_rosters; i++) {
        const cdx_ov_roster *r = &ov->rosters[i];
        json_t *e = json_object();
        s_put(&j, e, "version", s_int(r->version));
        s_put(&j, e, "federation", s_str(r->federation));
        s_put(&j, e, "issued_at", s_time(r->issued_at_ms));
        s_put(&j, e, "members", s_int(r->members));
        s_put(&j, e, "states", s_int(r->states));
        s_put(&j, e, "brokers", s_int(r->brokers));
        s_put(&j, e, "revoked", s_int(r->revoked));
        s_put(&j, e, "found_in",
              r->index == UINT64_MAX - 1 ? s_str("--roster") : s_str(ov->logs[r->log].origin));
        s_put(&j, e, "index", r->index >= UINT64_MAX - 1 ? json_null() : s_int(r->index));
        s_put(&j, e, "chained", json_boolean(r->chained));
        s_add(&j, rosters, e);
    }
    s_put(&j, o, "rosters", rosters);

    json_t *rej = json_object();
    for (size_t i = 0; i < ov->n_refused; i++)
        s_put(&j, rej, ov->refused[i].reason, s_int(ov->refused[i].count));
    s_put(&j, o, "duplicates_refused", s_int(ov->duplicates));
    s_put(&j, o, "rejected", rej);

    if (j.ok && o)
        *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *out ? CDX_OK : CDX_ERR_NOMEM;
}
