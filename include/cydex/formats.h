/* The formats CSIRTs already use: MISP event JSON, STIX 2.1, CAP 1.2.
 *
 * A layer above libcydex (library cydex_formats; nothing in lib/ includes
 * it). Each format maps to and from the plain records of cydex/message.h,
 * wrapped in a cdx_item that also carries the item's provenance: who signed
 * it, with which seq, when, the envelope hash and, if asked, the signed
 * envelope itself, so that a MISP, STIX or CAP consumer can still check
 * which state signed what. docs/formats.md has every mapping, field by
 * field.
 *
 * Rules every module keeps:
 *   - Import is strict: a wrong type, a malformed value or invalid text is
 *     CDX_ERR_FORMAT (exit 65) and names the field ("Event.Attribute[2].
 *     type: expected a string"). Something well formed that has no CyDEx
 *     field is CDX_ERR_UNSUPPORTED (exit 1), named the same way, unless
 *     opts.lossy: then it is left out and said through opts.note. Nothing
 *     is dropped silently.
 *   - Export refuses what the target cannot hold (a title over MISP's 256
 *     characters, an indicator type with no STIX pattern) with
 *     CDX_ERR_UNSUPPORTED and the field named; it never truncates.
 *   - Ids are deterministic: the same item exports to the same bytes.
 *   - Nothing is half-filled on failure: outputs are cleared.
 * Returned strings and buffers are malloc'd; the caller frees them. No
 * function keeps global state; one opts may serve one thread at a time.
 */
#ifndef CYDEX_FORMATS_H
#define CYDEX_FORMATS_H

#include "cydex/common.h"
#include "cydex/envelope.h"
#include "cydex/message.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The largest document an importer reads (CDX_ERR_TOO_BIG past it). */
#define CDX_FMT_INPUT_MAX (16u * 1024u * 1024u)
/* The most items (events, lines of a REST answer) one document may hold,
 * and the most attributes, tags or objects in one of them. */
#define CDX_FMT_ITEMS_MAX 10000u

/* The namespace of every name-based (version 5) UUID CyDEx makes for these
 * formats; docs/formats.md lists the names, so anyone can recompute them. */
#define CDX_FMT_UUID_NAMESPACE "5b1e3c7a-9d2f-4e81-b6a4-0c3f8d2e7a19"

typedef enum cdx_fmt {
    CDX_FMT_NONE = 0,
    CDX_FMT_CYDEX,   /* CyDEx JSON: alert, ack, envelope or log entry (cydex/json.h) */
    CDX_FMT_MISP,    /* MISP event JSON (and analyst Opinions for acks) */
    CDX_FMT_STIX,    /* a STIX 2.1 bundle */
    CDX_FMT_CAP,     /* CAP 1.2 XML, out only */
    CDX_FMT_ENVELOPE /* the signed envelope's bytes */
} cdx_fmt;

/* "cydex", "misp", "stix", "cap", "envelope"; CDX_ERR_FORMAT otherwise. */
cdx_err cdx_fmt_parse(const char *name, cdx_fmt *out);

/* The name-based (RFC 4122 version 5) UUID CyDEx derives from `name` in its
 * own namespace, lower-case (docs/formats.md lists the names it uses), so
 * that one thing exported or bridged twice gets one id. */
void cdx_fmt_uuid5(char out[CDX_UUID_TEXT], const char *name);
const char *cdx_fmt_name(cdx_fmt f);

/* Where an item came from. `known`: sender, seq, sent_at_ms, topic and
 * hash are set (they came from a signed envelope, or a document that
 * carries them). Without `known`, `sender` may still name the member a
 * source attributes it to (a MISP event's Orgc in the organisation table).
 * `envelope`: the envelope's bytes, when carried. */
typedef struct cdx_provenance {
    bool known;
    char sender[CDX_ID_MAX + 1];
    uint64_t seq;
    uint64_t sent_at_ms;
    char topic[CDX_TOPIC_MAX + 1];
    uint8_t hash[CDX_HASH_BYTES];
    bool sealed; /* the alert travelled sealed to `recipients` */
    char **recipients;
    size_t n_recipients;
    cdx_bytes envelope;
} cdx_provenance;

typedef enum cdx_item_kind { CDX_ITEM_NONE = 0, CDX_ITEM_ALERT, CDX_ITEM_ACK } cdx_item_kind;

/* One alert or ack, with its provenance. Owns everything it points to. */
typedef struct cdx_item {
    cdx_item_kind kind;
    cdx_alert alert; /* kind ALERT */
    cdx_ack ack;     /* kind ACK */
    cdx_provenance prov;
} cdx_item;

/* Frees what it holds and zeroes it. Accepts NULL. */
void cdx_item_clear(cdx_item *it);
void cdx_provenance_clear(cdx_provenance *p);

/* An item from a decoded envelope: its alert or ack and its provenance
 * (sender, seq, sent_at, topic, hash; the bytes too when keep_bytes). A
 * sealed alert needs `opened` (its content, cdx_envelope_open): without
 * it, CDX_ERR_NOT_RECIPIENT (a sealed alert exports only where it can be
 * read). Other payloads (rosters, tree heads...) are CDX_ERR_UNSUPPORTED. */
cdx_err cdx_item_from_envelope(cdx_item *out, const cdx_envelope *env, const cdx_alert *opened,
                               bool keep_bytes, cdx_errbuf *eb);

/* A list of items, e.g. the events of one MISP REST answer. */
typedef struct cdx_items {
    cdx_item *v;
    size_t n;
} cdx_items;

void cdx_items_clear(cdx_items *l);

/* Member id -> MISP organisation (uuid, name), from JSON:
 *   {"EE": {"uuid": "…", "name": "CERT-EE"}, "FR": {…}}
 * A member not in the table is organisation uuid5(namespace,
 * "member:" ID), named by its id. */
typedef struct cdx_orgs cdx_orgs;

cdx_err cdx_orgs_parse(cdx_orgs **out, const char *text, size_t len, cdx_errbuf *eb);
void cdx_orgs_destroy(cdx_orgs **o);
/* The organisation of a member (never NULL: the table's or the derived
 * one); `uuid` receives 37 bytes. */
const char *cdx_orgs_name(const cdx_orgs *o, const char *member, char uuid[CDX_UUID_TEXT]);
/* The member whose organisation has this uuid (case-insensitive): the
 * table's, or the one whose derived uuid it is if `name` is that member's
 * id; NULL if none. */
const char *cdx_orgs_member(const cdx_orgs *o, const char *uuid, const char *name);

/* What one run has seen, so that later items can name earlier ones: an
 * update's STIX report keeps its original's `created`, a CAP update or ack
 * names the referenced message's sender and sent time, a STIX note names
 * the report of the alert an ack's hash points to. Bounded: past `max`
 * alerts the oldest are forgotten. */
typedef struct cdx_fmt_seen cdx_fmt_seen;

cdx_err cdx_fmt_seen_new(cdx_fmt_seen **out, size_t max);
void cdx_fmt_seen_destroy(cdx_fmt_seen **s);
/* Remembers an alert (others are ignored). */
cdx_err cdx_fmt_seen_add(cdx_fmt_seen *s, const cdx_item *it);

/* Called with one sentence for each thing a lossy import left out, and
 * for each fallback an export took (a STIX update whose original was not
 * seen). */
typedef void (*cdx_fmt_note_fn)(void *ctx, const char *sentence);

typedef struct cdx_fmt_opts {
    const cdx_orgs *orgs; /* NULL: every member's organisation is derived */
    const char *sender;   /* export: the sender of items without provenance */
    uint64_t now_ms;      /* export: the time of items without provenance; 0: now */
    bool with_envelope;   /* export: carry the signed envelope (it must be in prov) */
    bool lossy;           /* import: leave out what has no CyDEx field, and say so */
    cdx_tlp tlp;          /* import: the label of a source that has none; 0: refuse */
    cdx_fmt_seen *seen;   /* NULL: nothing is known of earlier items */
    cdx_fmt_note_fn note; /* may be NULL */
    void *note_ctx;
    bool pretty; /* export: indented JSON or XML */
} cdx_fmt_opts;

/* ---- per format ---- */

/* CyDEx JSON in: an alert or ack (as `cydex publish` / `sign` take), a body
 * (sender, seq, sent_at, topic...), an envelope as `cydex verify` prints it
 * (with "opened" for a sealed alert), or a log entry as `cydex tail --json`
 * and `cydex-audit replay` print it. One item. */
cdx_err cdx_cydex_import(cdx_item *out, const char *text, size_t len, const cdx_fmt_opts *o,
                         cdx_errbuf *eb);
/* CyDEx JSON out: the alert or ack JSON (provenance is not part of it). */
cdx_err cdx_cydex_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb);

/* MISP in: {"Event": …}, a REST answer {"response": [{"Event": …}, …]},
 * or {"Opinion": …} (an ack). Every event maps, or none is returned. */
cdx_err cdx_misp_import(cdx_items *out, const char *text, size_t len, const cdx_fmt_opts *o,
                        cdx_errbuf *eb);
/* MISP out: {"Event": …} for an alert, {"Opinion": …} for an ack. */
cdx_err cdx_misp_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb);
/* A REST answer {"response": [{"Event": …}, …]} of several alerts. */
cdx_err cdx_misp_export_many(char **out, const cdx_items *items, const cdx_fmt_opts *o,
                             cdx_errbuf *eb);

/* STIX in: a bundle holding one report (and its indicators, vulnerabilities,
 * identities and marking definitions) or one CyDEx ack note. */
cdx_err cdx_stix_import(cdx_item *out, const char *text, size_t len, const cdx_fmt_opts *o,
                        cdx_errbuf *eb);
/* STIX out: a bundle (see docs/formats.md for its objects). */
cdx_err cdx_stix_export(char **out, const cdx_item *it, const cdx_fmt_opts *o, cdx_errbuf *eb);

/* CAP 1.2 out: one <alert> document (UTF-8 XML); *len its bytes. */
cdx_err cdx_cap_export(char **out, size_t *len, const cdx_item *it, const cdx_fmt_opts *o,
                       cdx_errbuf *eb);

/* ---- any format ---- */

/* Imports from `from` (not CAP, which is written only). CDX_FMT_ENVELOPE
 * decodes the envelope without trusting it (cdx_envelope_inspect: verify
 * it first if it matters) and cannot open a sealed one
 * (CDX_ERR_NOT_RECIPIENT; see cdx_item_from_envelope). Then every item
 * that carries its envelope is checked with cdx_item_check_envelope.
 * All items, or none: out is empty on failure. */
cdx_err cdx_fmt_import(cdx_fmt from, cdx_items *out, const char *text, size_t len,
                       const cdx_fmt_opts *o, cdx_errbuf *eb);
/* Exports one item; *len is the output's length (the envelope is binary). */
cdx_err cdx_fmt_export(cdx_fmt to, char **out, size_t *len, const cdx_item *it,
                       const cdx_fmt_opts *o, cdx_errbuf *eb);

/* Checks that the envelope an item carries says what the item says: the
 * same hash, sender, seq, time and topic, and (unless it is sealed) the
 * same alert or ack. CDX_ERR_CORRUPT naming what differs; CDX_OK when no
 * envelope is carried. It does not check the signature (cydex verify, or
 * cdx_envelope_verify, does). */
cdx_err cdx_item_check_envelope(const cdx_item *it, cdx_errbuf *eb);

#ifdef __cplusplus
}
#endif
#endif
