/* The federation over a period, from one or more logs: what `cydex-audit
 * report` shows as text, JSON and a self-contained HTML file.
 *
 * Built in one pass over each log with bounded memory: counts are kept as
 * they are read (per member, per kind, per time bucket, a histogram of
 * acknowledgement latencies per state); per-alert detail is kept only for
 * the latest CDX_OV_WINDOW alerts, which acks are matched against (an ack of
 * an older alert is found through the log's hash index and counted as a
 * late ack: its latency is measured, but it is not told apart from that
 * state's earlier acks of the same alert); the matrix of acknowledgement
 * stages shows the latest `matrix_rows` alerts and says of how many; lists
 * (gaps, equivocations, inconsistent tree heads, unacknowledged alerts) hold
 * the first CDX_OV_MAX_LISTED and count all.
 *
 * An envelope held by several of the logs is counted once, in the first
 * log given that holds it (by envelope hash). The report decodes without
 * judging signatures: `cydex-audit verify` gives each log's verdict. What
 * it judges it says: tree heads are held against the given logs whose
 * origin they name, roster versions against the version before them.
 */
#ifndef CYDEX_OVERVIEW_H
#define CYDEX_OVERVIEW_H

#include <stdio.h>

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/log.h"
#include "cydex/message.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CDX_OV_MAX_LOGS 16u
#define CDX_OV_MAX_MEMBERS 256u   /* members tracked one by one; the rest as "others" */
#define CDX_OV_TIME_BUCKETS 96u   /* the alerts-over-time chart */
#define CDX_OV_WINDOW 65536u      /* alerts kept for matching acks */
#define CDX_OV_MATRIX_DEFAULT 40u /* alerts in the matrix */
#define CDX_OV_MATRIX_MAX 500u
#define CDX_OV_MAX_LISTED 100u
#define CDX_OV_MAX_ROSTERS 64u
#define CDX_OV_LAT_BINS 1408u /* latency histogram: 32 bins per doubling, ms */

typedef struct cdx_ov_log {
    char origin[CDX_ID_MAX + 16];
    char owner[CDX_ID_MAX + 1];
    uint64_t entries;           /* in the log */
    uint64_t counted;           /* of them, not already counted from an earlier log */
    uint64_t first_ms, last_ms; /* sent_at range of its entries */
    cdx_log_counters counters;
} cdx_ov_log;

/* Latencies in ms; q holds p5, p25, p50, p75, p95, estimated from the
 * histogram (within 2.2%) and never outside [min, max]. */
typedef struct cdx_ov_latency {
    uint64_t n, min, max, sum;
    uint64_t q[5];
    uint32_t bins[CDX_OV_LAT_BINS];
} cdx_ov_latency;

typedef struct cdx_ov_member {
    char id[CDX_ID_MAX + 1];
    bool in_roster; /* listed in the roster the report names members by */
    cdx_role role;  /* from it; 0 if not listed */
    uint64_t valid_from_ms, valid_until_ms, revoked_at_ms;
    uint64_t alerts, sealed, acks, heartbeats, tree_heads, witnesses, rosters;
    uint64_t first_ms, last_ms; /* sent_at of its envelopes; 0 if none */
    uint64_t max_seq;
    uint64_t acks_by_stage[7]; /* indexed by cdx_ack_stage */
    uint64_t acked_alerts;     /* others' alerts it acknowledged (first ack of each) */
    uint64_t late_acks;        /* acks of alerts past the window (latency measured) */
    cdx_ov_latency latency;    /* alert sent_at to its first ack's sent_at */
    uint32_t per_bucket[CDX_OV_TIME_BUCKETS]; /* its alerts in each time bucket */
} cdx_ov_member;

/* One alert, for the matrix and the unacknowledged list. */
typedef struct cdx_ov_alert {
    char sender[CDX_ID_MAX + 1];
    uint32_t log; /* the log it was counted in */
    uint64_t seq, index, sent_at_ms;
    uint8_t hash[CDX_HASH_BYTES];
    bool sealed;
    cdx_tlp tlp;
    cdx_severity severity;
    char id[CDX_UUID_TEXT]; /* "" when sealed and not opened */
    char title[160];        /* likewise; cut at a character boundary */
    uint64_t acks;          /* members that acknowledged it */
    /* Latest stage each member gave it (cdx_ack_stage; 0 none), by member
     * index. */
    uint8_t stage[CDX_OV_MAX_MEMBERS];
} cdx_ov_alert;

typedef struct cdx_ov_gap {
    uint32_t log;
    char sender[CDX_ID_MAX + 1];
    uint64_t from, to; /* inclusive */
    bool tail;         /* past its last seq held, stated by a heartbeat */
} cdx_ov_gap;

typedef struct cdx_ov_equivocation {
    uint32_t log;
    char sender[CDX_ID_MAX + 1];
    uint64_t seq, index;
} cdx_ov_equivocation;

typedef struct cdx_ov_head {
    uint32_t log;   /* where it was logged */
    uint64_t index; /* at which entry */
    char signer[CDX_ID_MAX + 1];
    char cosigner[CDX_ID_MAX + 1]; /* "" unless inside a co-signature */
    char origin[CDX_ID_MAX + 16];
    uint64_t size;
    bool beyond; /* the log named holds fewer entries than the head's size */
} cdx_ov_head;

typedef struct cdx_ov_roster {
    uint64_t version, issued_at_ms;
    char federation[CDX_ID_MAX + 1];
    size_t members, states, brokers, revoked;
    uint32_t log;   /* where first found */
    uint64_t index; /* its entry; UINT64_MAX: the roster the log stores; UINT64_MAX - 1: given */
    bool chained;   /* signed by the threshold of the version before (v1: its own admins) */
} cdx_ov_roster;

typedef struct cdx_ov_count {
    char reason[32];
    uint64_t count;
} cdx_ov_count;

typedef struct cdx_overview {
    size_t n_logs;
    cdx_ov_log logs[CDX_OV_MAX_LOGS];
    uint64_t entries;           /* distinct envelopes counted */
    uint64_t undecodable;       /* entries that did not decode */
    uint64_t first_ms, last_ms; /* sent_at range */
    uint64_t alerts, sealed, acks;
    uint64_t unacked;        /* alerts no member acknowledged */
    uint64_t late_acks;      /* acks of alerts past the window */
    uint64_t unmatched_acks; /* acks of alerts none of the logs holds */

    size_t n_members; /* members[0..n_members) */
    cdx_ov_member *members;
    uint64_t other_senders; /* envelopes of senders past CDX_OV_MAX_MEMBERS */

    /* Bucket i covers [bucket0_ms + i * bucket_ms, + bucket_ms). */
    uint64_t bucket0_ms, bucket_ms;
    size_t n_buckets;

    /* The latest alerts (oldest first) for the matrix: n_rows of `alerts`. */
    size_t n_rows;
    cdx_ov_alert *rows;
    /* The latest alerts nobody acknowledged (oldest first), listed of unacked. */
    size_t n_unacked_listed;
    cdx_ov_alert *unacked_list;

    size_t n_gaps;
    uint64_t gaps_total, gap_seqs_total;
    cdx_ov_gap gaps[CDX_OV_MAX_LISTED];

    size_t n_equivocations;
    uint64_t equivocations_total;
    cdx_ov_equivocation equivocations[CDX_OV_MAX_LISTED];

    uint64_t heads_checked;   /* against a given log */
    uint64_t heads_unchecked; /* of logs not given */
    uint64_t heads_bad_total;
    size_t n_heads;
    cdx_ov_head heads[CDX_OV_MAX_LISTED];

    size_t n_rosters; /* by version */
    cdx_ov_roster rosters[CDX_OV_MAX_ROSTERS];
    char federation[CDX_ID_MAX + 1]; /* of the latest roster known, or "" */

    uint64_t duplicates; /* refused as duplicates, all logs */
    size_t n_refused;    /* by reason, all logs, most first */
    cdx_ov_count refused[CDX_LOG_MAX_REASONS];
} cdx_overview;

typedef struct cdx_overview_opts {
    const cdx_identity *key;  /* opens sealed alerts addressed to it (may be NULL) */
    const cdx_roster *roster; /* names members and roles; NULL: the latest the logs hold */
    size_t matrix_rows;       /* 0: CDX_OV_MATRIX_DEFAULT; at most CDX_OV_MATRIX_MAX */
} cdx_overview_opts;

/* Builds the overview of logs[0..n) (1 to CDX_OV_MAX_LOGS). CDX_OK, or
 * CDX_ERR_INVALID, CDX_ERR_NOMEM, or a read error naming the log. */
cdx_err cdx_overview_build(cdx_overview **out, cdx_log *const *logs, size_t n,
                           const cdx_overview_opts *opts, cdx_errbuf *eb);
void cdx_overview_destroy(cdx_overview **ov);

/* The q-quantile (0..1) of a latency histogram, in ms. */
uint64_t cdx_ov_latency_quantile(const cdx_ov_latency *l, double q);

/* The overview as one self-contained HTML document written to `out`: inline
 * CSS (with a print stylesheet) and SVG, a few lines of inline script that
 * sort tables, a Content-Security-Policy that lets the page load nothing
 * and run no other script; every string from the logs escaped. `now_ms`
 * is printed as the time it was made. CDX_ERR_IO if writing fails. */
cdx_err cdx_overview_html(const cdx_overview *ov, FILE *out, uint64_t now_ms);

/* The same data as one line of JSON; *out is the caller's to free. */
cdx_err cdx_overview_json(const cdx_overview *ov, char **out);

#ifdef __cplusplus
}
#endif
#endif
