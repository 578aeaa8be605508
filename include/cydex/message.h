/* The messages CyDEx carries, as plain C records.
 *
 * These mirror proto/cydex.proto (package cydex.v1) so that no code outside
 * the codec sees protobuf-c. A record owns every string and array it points
 * to; cdx_*_clear() frees them and leaves the record zeroed, ready for reuse.
 * Strings are NUL-terminated UTF-8; an absent string is NULL or "".
 */
#ifndef CYDEX_MESSAGE_H
#define CYDEX_MESSAGE_H

#include "cydex/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Values equal the protobuf enum numbers. */
typedef enum cdx_tlp {
    CDX_TLP_UNSPECIFIED = 0,
    CDX_TLP_CLEAR = 1,
    CDX_TLP_GREEN = 2,
    CDX_TLP_AMBER = 3,
    CDX_TLP_AMBER_STRICT = 4,
    CDX_TLP_RED = 5
} cdx_tlp;

typedef enum cdx_severity {
    CDX_SEVERITY_UNKNOWN = 0,
    CDX_SEVERITY_MINOR = 1,
    CDX_SEVERITY_MODERATE = 2,
    CDX_SEVERITY_SEVERE = 3,
    CDX_SEVERITY_EXTREME = 4
} cdx_severity;

typedef enum cdx_alert_status {
    CDX_STATUS_UNSPECIFIED = 0,
    CDX_STATUS_ACTUAL = 1,
    CDX_STATUS_EXERCISE = 2,
    CDX_STATUS_TEST = 3
} cdx_alert_status;

typedef enum cdx_msg_type {
    CDX_MSG_UNSPECIFIED = 0,
    CDX_MSG_ALERT = 1,
    CDX_MSG_UPDATE = 2,
    CDX_MSG_CANCEL = 3
} cdx_msg_type;

typedef enum cdx_ack_stage {
    CDX_ACK_UNSPECIFIED = 0,
    CDX_ACK_RECEIVED = 1,
    CDX_ACK_INVESTIGATING = 2,
    CDX_ACK_NOT_AFFECTED = 3,
    CDX_ACK_MITIGATED = 4,
    CDX_ACK_ASSISTANCE_OFFERED = 5,
    CDX_ACK_REJECTED = 6
} cdx_ack_stage;

typedef struct cdx_indicator {
    char *type; /* MISP attribute type, e.g. "ip-dst" */
    char *value;
    char *comment;
} cdx_indicator;

typedef struct cdx_alert {
    char *id; /* UUID text */
    cdx_tlp tlp;
    cdx_severity severity;
    char *category;
    char *title;
    char *description;
    cdx_indicator *indicators;
    size_t n_indicators;
    char **sectors;
    size_t n_sectors;
    char **references;
    size_t n_references;
    uint64_t expires_at_ms; /* 0 = none */
    cdx_alert_status status;
    cdx_msg_type msg_type;
    char *updates; /* id of the alert updated or cancelled */
} cdx_alert;

typedef struct cdx_ack {
    uint8_t alert_hash[CDX_HASH_BYTES];
    char *alert_id;
    cdx_ack_stage stage;
    char *note;
} cdx_ack;

typedef struct cdx_recipient {
    char *id;
    cdx_bytes wrapped_key;
} cdx_recipient;

typedef struct cdx_sealed {
    cdx_tlp tlp;
    cdx_recipient *recipients;
    size_t n_recipients;
    cdx_bytes nonce;
    cdx_bytes ciphertext;
} cdx_sealed;

typedef struct cdx_tree_head {
    char *origin;
    uint64_t size;
    uint8_t root[CDX_HASH_BYTES];
    uint64_t timestamp_ms;
} cdx_tree_head;

typedef struct cdx_heartbeat {
    uint64_t last_seq;
    bool has_last_hash;
    uint8_t last_hash[CDX_HASH_BYTES];
    uint64_t interval_ms;
} cdx_heartbeat;

typedef enum cdx_payload_kind {
    CDX_PAYLOAD_NONE = 0,
    CDX_PAYLOAD_ALERT,
    CDX_PAYLOAD_ACK,
    CDX_PAYLOAD_SEALED,
    CDX_PAYLOAD_ROSTER,
    CDX_PAYLOAD_TREE_HEAD,
    CDX_PAYLOAD_HEARTBEAT,
    CDX_PAYLOAD_WITNESS
} cdx_payload_kind;

/* The most bytes a co-signed tree-head envelope may have. */
#define CDX_WITNESS_HEAD_MAX 4096

/* The signed statement of an envelope. Only the member named by `kind` is
 * meaningful; the others stay zeroed. */
typedef struct cdx_body {
    char *sender;
    uint64_t seq;
    uint64_t sent_at_ms;
    bool has_prev_hash;
    uint8_t prev_hash[CDX_HASH_BYTES];
    char *topic;
    cdx_payload_kind kind;
    cdx_alert alert;
    cdx_ack ack;
    cdx_sealed sealed;
    cdx_bytes roster; /* a serialized SignedRoster, see cydex/roster.h */
    cdx_tree_head tree_head;
    cdx_heartbeat heartbeat;
    cdx_bytes witness; /* a co-signed tree head: the broker's envelope, its bytes */
} cdx_body;

void cdx_alert_clear(cdx_alert *a);
void cdx_ack_clear(cdx_ack *a);
void cdx_sealed_clear(cdx_sealed *s);

/* Whether a sealed alert names `id` among its recipients. */
bool cdx_sealed_names(const cdx_sealed *s, const char *id);
void cdx_tree_head_clear(cdx_tree_head *t);
void cdx_body_clear(cdx_body *b);

/* Deep copy of src into *dst (which is overwritten, not freed). On failure
 * *dst is left zeroed. */
cdx_err cdx_alert_copy(cdx_alert *dst, const cdx_alert *src);

/* Whether two alerts say the same: every field equal (empty and absent
 * text are the same). False if either cannot be encoded. */
bool cdx_alert_same(const cdx_alert *a, const cdx_alert *b);

/* Checks that an alert is complete and self-consistent: a UUID id, a TLP
 * label, a status, a message type, a title, and `updates` set exactly for
 * updates and cancels. Does not check sealing rules (see cdx_body_check). */
cdx_err cdx_alert_check(const cdx_alert *a, cdx_errbuf *eb);

/* Checks an ack: a hash, a stage. */
cdx_err cdx_ack_check(const cdx_ack *a, cdx_errbuf *eb);

/* Checks a whole body before signing or after decoding: ids, topic, seq >= 1,
 * prev_hash present exactly when seq > 1, the payload's own checks, and
 * two rules of policy (see Body.topic and Sealed in proto/cydex.proto):
 *  - TLP: an alert in the clear is TLP:CLEAR or GREEN (AMBER, AMBER+STRICT
 *    and RED give CDX_ERR_TLP_NOT_SEALED); a sealed alert is AMBER,
 *    AMBER+STRICT or RED (CLEAR and GREEN give
 *    CDX_ERR_TLP_SEALED_BELOW_AMBER) and names at least one recipient
 *    (CDX_ERR_POLICY);
 *  - topics: cdx_topic_fits (CDX_ERR_WRONG_TOPIC). */
cdx_err cdx_body_check(const cdx_body *b, cdx_errbuf *eb);

/* Topics. An alert, in the clear or sealed, goes on a topic under
 * "alert.": "alert." followed by one or more names separated by '.' (each
 * name 1 or more of a-z 0-9 _ -), e.g. "alert.energy"; every other payload
 * on its own reserved topic, and only there: acks "ack", roster updates
 * "roster", tree heads and co-signatures "sth", heartbeats "hb". Every
 * topic is also 1..CDX_TOPIC_MAX bytes of [a-z0-9._-] (cdx_topic_valid). */
bool cdx_topic_is_alert(const char *topic);
/* The reserved topic of a payload kind; NULL for alerts (any alert topic)
 * and for CDX_PAYLOAD_NONE. */
const char *cdx_payload_topic(cdx_payload_kind kind);
/* Whether a payload of this kind may travel on this topic. */
bool cdx_topic_fits(const char *topic, cdx_payload_kind kind);

/* Names used in JSON and on the command line ("AMBER+STRICT", "severe",
 * "actual", "update", "not-affected"). Never NULL; "unspecified" for 0 or an
 * unknown value. */
const char *cdx_tlp_name(cdx_tlp t);
const char *cdx_severity_name(cdx_severity s);
const char *cdx_status_name(cdx_alert_status s);
const char *cdx_msg_type_name(cdx_msg_type m);
const char *cdx_ack_stage_name(cdx_ack_stage s);
const char *cdx_payload_kind_name(cdx_payload_kind k);

/* Inverse of the above, case-insensitive, "_" accepted for "-" and "+"
 * ("amber_strict"). CDX_ERR_FORMAT for an unknown name. */
cdx_err cdx_tlp_parse(const char *name, cdx_tlp *out);
cdx_err cdx_severity_parse(const char *name, cdx_severity *out);
cdx_err cdx_status_parse(const char *name, cdx_alert_status *out);
cdx_err cdx_msg_type_parse(const char *name, cdx_msg_type *out);
cdx_err cdx_ack_stage_parse(const char *name, cdx_ack_stage *out);

/* Every name each parser above takes, in order, as messages and --help
 * list them ("one of ..."). message_test holds them to the parsers. */
#define CDX_TLP_NAMES "CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
#define CDX_SEVERITY_NAMES "unknown, minor, moderate, severe, extreme"
#define CDX_STATUS_NAMES "actual, exercise, test"
#define CDX_MSG_TYPE_NAMES "alert, update, cancel"
#define CDX_ACK_STAGE_NAMES                                                                        \
    "received, investigating, not-affected, mitigated, assistance-offered, rejected"

/* True for the labels that must travel sealed: every one above GREEN
 * (AMBER, AMBER+STRICT, RED). */
bool cdx_tlp_requires_seal(cdx_tlp t);

/* A UUID's text (8-4-4-4-12 hex) and its NUL: an alert's id fits. */
#define CDX_UUID_TEXT 37

/* True when text is a UUID in 8-4-4-4-12 hex form. */
bool cdx_uuid_valid(const char *text);
/* A fresh random UUID (version 4), NUL-terminated, into out. */
void cdx_uuid_new(char out[CDX_UUID_TEXT]);

#ifdef __cplusplus
}
#endif
#endif
