/* What a log says about the federation's traffic: `cydex-audit report`.
 * Counts per sender and kind, the time range, alerts nobody acknowledged,
 * and how fast each state acknowledged (first ack per alert, measured
 * between the two senders' own signed times). Decodes without judging:
 * run the audit to know whether to believe it. */
#ifndef CYDEX_REPORT_H
#define CYDEX_REPORT_H

#include "cydex/common.h"
#include "cydex/identity.h"
#include "cydex/log.h"
#include "cydex/message.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cdx_report_sender {
    char id[CDX_ID_MAX + 1];
    uint64_t alerts, sealed, acks, other;
    uint64_t acked_alerts;   /* alerts of others it acknowledged */
    uint64_t latency_p50_ms; /* of those first acks */
    uint64_t latency_p95_ms;
} cdx_report_sender;

typedef struct cdx_report_alert {
    char sender[CDX_ID_MAX + 1];
    uint64_t seq, index, sent_at_ms;
    uint8_t hash[CDX_HASH_BYTES];
    char id[CDX_UUID_TEXT]; /* "" when sealed and not opened */
    char title[120];        /* likewise */
    uint64_t acks;          /* distinct states that acknowledged it */
} cdx_report_alert;

typedef struct cdx_report {
    uint64_t entries;
    uint64_t first_ms, last_ms; /* sent_at range */
    cdx_report_sender *senders;
    size_t n_senders;
    cdx_report_alert *alerts; /* in log order */
    size_t n_alerts;
    cdx_log_counters counters;
} cdx_report;

/* Builds the report; `key` (may be NULL) opens sealed alerts addressed to
 * it so they can be named. */
cdx_err cdx_report_build(cdx_report **out, cdx_log *log, const cdx_identity *key, cdx_errbuf *eb);
void cdx_report_destroy(cdx_report **r);

#ifdef __cplusplus
}
#endif
#endif
