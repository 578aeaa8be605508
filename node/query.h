/* Read-only questions about a node's log, for the control socket: the
 * entries after an index (cydex tail), the alerts with who acknowledged
 * them (cydex list, cydex show), and which alert an ack names. Answers are
 * JSON text the caller frees. Sealed alerts addressed to this node are
 * opened; the others stay sealed. The log is used by the calling thread
 * only.
 */
#ifndef CYDEX_NODE_QUERY_H
#define CYDEX_NODE_QUERY_H

#include "cydex/cydex.h"
#include "cydex/log.h"

/* Whose eyes the answers are for: `me` opens sealed alerts addressed to
 * it; printed envelopes are verified again against `roster` (without the
 * clock-skew check), so their "verified" says what this node checks now. */
typedef struct node_query_keys {
    const cdx_identity *me;
    const cdx_roster *roster;
} node_query_keys;

/* An "entries" answer stops taking entries past this many bytes of text
 * (it always takes one), well below CDX_CONTROL_MSG_MAX. */
#define NODE_QUERY_ANSWER_BYTES (4u * 1024u * 1024u)

/* Entries [from, from + max) whose topic starts with `topic` ("" = all),
 * one JSON object per line (as cydex-audit replay prints them), cut short
 * past NODE_QUERY_ANSWER_BYTES; *next is the index to ask from next time.
 * from = UINT64_MAX asks for the end: no entries, *next = the log's size. */
cdx_err node_query_entries(cdx_log *log, const node_query_keys *k, uint64_t from, size_t max,
                           const char *topic, char **jsonl, uint64_t *next, cdx_errbuf *eb);

/* What the questions below know of the log's alerts and acks, kept
 * between questions and brought up to date by each (reading only what was
 * logged since). One per node; `self` is its member id. */
typedef struct node_query_cache node_query_cache;
cdx_err node_query_cache_new(node_query_cache **out, const char *self);
void node_query_cache_destroy(node_query_cache **c);

/* Reads up to `max` more of the log into the cache, so that a question
 * after a start need not read it all while the node waits: for idle
 * moments. *behind: how many entries the cache is still behind after it
 * (as node_query_cache_behind, without reading the log's size again). */
cdx_err node_query_cache_warm(cdx_log *log, node_query_cache *c, uint64_t max, uint64_t *behind);

/* How many log entries the cache has not read yet. */
uint64_t node_query_cache_behind(cdx_log *log, const node_query_cache *c);

typedef struct node_alert_query {
    bool unacked;      /* only others' alerts we can read and have not acknowledged */
    const char *which; /* one alert, by its id or envelope hash (hex); NULL: all */
    size_t limit;      /* the most recent `limit` (0: all) */
} node_alert_query;

/* {"total": N, "alerts": [...]}: alerts in log order, each with its
 * acknowledgements (who, stage, when; with `which`, also notes and the
 * whole envelope). CDX_ERR_NOENT if `which` names no alert of the log. */
cdx_err node_query_alerts(cdx_log *log, const node_query_keys *k, node_query_cache *c,
                          const node_alert_query *q, char **json, cdx_errbuf *eb);

/* The alert `which` (id or envelope hash in hex) names: its envelope hash,
 * and its id when the log holds it readable (*id malloc'd, or NULL). A hash
 * the log does not hold is taken as given (the alert may come later);
 * an id must be found. CDX_ERR_NOENT otherwise. */
cdx_err node_query_resolve(cdx_log *log, const cdx_identity *me, node_query_cache *c,
                           const char *which, uint8_t hash[CDX_HASH_BYTES], char **id,
                           cdx_errbuf *eb);

/* The log index of this node's own alert with id `id` (the first, if
 * it was published more than once), reading what was logged since the
 * last question first. CDX_ERR_NOENT if this node never published it. */
cdx_err node_query_own_alert(cdx_log *log, const cdx_identity *me, node_query_cache *c,
                             const char *id, uint64_t *index, cdx_errbuf *eb);

#endif
