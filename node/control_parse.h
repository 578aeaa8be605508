/* A control-socket request read from its frames, before the node acts on
 * it (node/control.c): which request it is, and its fields checked for
 * form (frame counts, numbers, the stage, the alert's JSON). Nothing here
 * needs the node, its log or a socket, so the parse can be tested and
 * fuzzed alone.
 *
 *   [rid]["publish"][topic][to: "FR,DE" or ""][alert JSON]
 *   [rid]["ack"][alert id or envelope hash][stage][note][alert id or ""]
 *   [rid]["roster"][SignedRoster]
 *   [rid]["status"]
 *   [rid]["entries"][from index | "end"][max (> 0)][topic prefix]
 *   [rid]["alerts"]["all" | "unacked"][limit]
 *   [rid]["show"][alert id or envelope hash]
 */
#ifndef CYDEX_NODE_CONTROL_PARSE_H
#define CYDEX_NODE_CONTROL_PARSE_H

#include "cydex/cydex.h"
#include "cydex/transport.h"

typedef enum node_verb {
    NODE_VERB_UNKNOWN = 0,
    NODE_VERB_PUBLISH,
    NODE_VERB_ACK,
    NODE_VERB_ROSTER,
    NODE_VERB_STATUS,
    NODE_VERB_ENTRIES,
    NODE_VERB_ALERTS,
    NODE_VERB_SHOW
} node_verb;

/* The request's verb (frame 1), without looking further. */
node_verb node_request_verb(const cdx_msg *m);
/* Whether the verb only reads (status, entries, alerts, show). */
bool node_verb_reads(node_verb v);

typedef struct node_request {
    node_verb verb;
    char *topic;     /* publish: the topic; entries: the topic prefix */
    char *to;        /* publish: recipients, "" for none */
    cdx_alert alert; /* publish */
    bool named;      /* publish: the JSON named the alert's id */
    char *which;     /* ack, show: an alert id or an envelope hash in hex */
    cdx_ack_stage stage;
    char *note;            /* ack */
    char *alert_id;        /* ack: "" if not given */
    const uint8_t *roster; /* roster: the frame's bytes (borrowed from the message) */
    size_t roster_len;
    bool again;     /* roster: publish it even if it is the one in force */
    uint64_t from;  /* entries: UINT64_MAX for "end" */
    uint64_t limit; /* entries (> 0), alerts */
    bool unacked;   /* alerts */
} node_request;

/* Reads m (its frame 0 is the routing id) into *out; on failure out holds
 * nothing and eb says what is wrong (CDX_ERR_FORMAT, or CDX_ERR_NOMEM).
 * node_request_clear frees it either way. */
cdx_err node_request_parse(node_request *out, const cdx_msg *m, cdx_errbuf *eb);
void node_request_clear(node_request *r);

#endif
