/* JSON mapping of CyDEx messages, for relays, the CLI and auditors.
 *
 * Import is strict: unknown fields, duplicate keys, wrong types and bad
 * enum names are refused with a message that names the field
 * ("alert.indicators[2].value: expected a string"). Export writes compact
 * JSON (one line) unless `pretty`. Hashes and keys are hex; times are RFC
 * 3339 text; enums are their names ("AMBER+STRICT", "investigating").
 * Returned strings are malloc'd; the caller frees them.
 */
#ifndef CYDEX_JSON_H
#define CYDEX_JSON_H

#include "cydex/audit.h"
#include "cydex/common.h"
#include "cydex/envelope.h"
#include "cydex/identity.h"
#include "cydex/log.h"
#include "cydex/message.h"
#include "cydex/roster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Alert from JSON text. Fields not given: id (a fresh UUID v4), status
 * (actual), msg_type (alert), severity (unknown). The result passes
 * cdx_alert_check. */
cdx_err cdx_json_to_alert(cdx_alert *out, const char *text, size_t len, cdx_errbuf *eb);
/* As cdx_json_to_alert; *named says whether the text gave the alert's id
 * (false: the id is a fresh UUID made here, so no alert had it before). */
cdx_err cdx_json_to_alert_named(cdx_alert *out, bool *named, const char *text, size_t len,
                                cdx_errbuf *eb);
cdx_err cdx_json_to_ack(cdx_ack *out, const char *text, size_t len, cdx_errbuf *eb);
/* A whole body (sender, seq, sent_at, prev_hash, topic and one payload). */
cdx_err cdx_json_to_body(cdx_body *out, const char *text, size_t len, cdx_errbuf *eb);

cdx_err cdx_json_from_alert(char **out, const cdx_alert *a, bool pretty);
cdx_err cdx_json_from_ack(char **out, const cdx_ack *a, bool pretty);
cdx_err cdx_json_from_body(char **out, const cdx_body *b, bool pretty);

/* An envelope: hash, signer, verified flag, signature, and its body. If
 * `opened` is not NULL it is shown as the opened content of a sealed alert. */
cdx_err cdx_json_from_envelope(char **out, const cdx_envelope *env, const cdx_alert *opened,
                               bool pretty);

/* A member card, as written to ID.pub. */
cdx_err cdx_json_from_member(char **out, const cdx_member *m, bool pretty);
cdx_err cdx_json_to_member(cdx_member *out, const char *text, size_t len, cdx_errbuf *eb);

/* A log entry: index, received_at, from, outcome, flags, and the envelope
 * (as cdx_json_from_envelope; `opened` as there). */
cdx_err cdx_json_from_log_entry(char **out, const cdx_log_entry *e, const cdx_envelope *env,
                                const cdx_alert *opened);

/* An audit verdict (cydex-audit verify --json). */
cdx_err cdx_json_from_audit_report(char **out, const char *origin, const cdx_audit_report *r);

/* A roster with its signers. */
cdx_err cdx_json_from_roster(char **out, const cdx_roster *r, bool pretty);

#ifdef __cplusplus
}
#endif
#endif
