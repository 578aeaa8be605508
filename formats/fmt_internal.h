/* Internals shared by the format modules (prefix cdx__fmt_). Not part of
 * the public API; only the files of formats/ include it. */
#ifndef CYDEX_FORMATS_INTERNAL_H
#define CYDEX_FORMATS_INTERNAL_H

#include <jansson.h>
#include <stdarg.h>

#include "cydex/clock.h"
#include "cydex/formats.h"

#if defined(__GNUC__)
#define CDX__FMT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CDX__FMT_PRINTF(a, b)
#endif

/* ---- UUIDs (uuid.c) ---- */

/* SHA-1 (FIPS 180-4), only for RFC 4122 name-based UUIDs: names, not
 * secrets, so no security rests on it. */
void cdx__fmt_sha1(uint8_t out[20], const void *data, size_t len);
/* True for 8-4-4-4-12 hex whose version is 1 to 5 and whose variant is
 * RFC 4122's (8, 9, a or b): what MISP and STIX accept. */
bool cdx__fmt_uuid_rfc(const char *s);
/* uuid5(CDX_FMT_UUID_NAMESPACE, name), lower-case. */
void cdx__fmt_uuid5(char out[CDX_UUID_TEXT], const char *name);
/* uuid5(namespace, name) for any namespace (its text form). */
void cdx__fmt_uuid5_ns(char out[CDX_UUID_TEXT], const char *namespace, const char *name);
/* uuid5 of a name made as printf makes it (docs/formats.md lists them:
 * "indicator:<report uuid>:<type>:<value>:<n>", ...). */
void cdx__fmt_uuid5f(char out[CDX_UUID_TEXT], const char *fmt, ...) CDX__FMT_PRINTF(2, 3);
/* The UUID of an ack's MISP opinion, STIX note and CAP message:
 * uuid5("ack:<envelope hash>"), or without provenance
 * uuid5("ack:<alert hash>:<stage>:<note>"). */
void cdx__fmt_ack_uuid(char out[CDX_UUID_TEXT], const cdx_item *it);
/* The UUID an alert id stands for in MISP and STIX: the id itself,
 * lower-cased, when it is an RFC 4122 UUID of versions 1-5; otherwise
 * uuid5("alert:" id). */
void cdx__fmt_alert_uuid(char out[CDX_UUID_TEXT], const char *alert_id);
/* The UUID of a member's organisation or STIX identity: uuid5("member:" id). */
void cdx__fmt_member_uuid(char out[CDX_UUID_TEXT], const char *member);

/* ---- small helpers (item.c) ---- */

/* malloc'd printf; NULL on failure. */
char *cdx__fmt_printf(const char *fmt, ...) CDX__FMT_PRINTF(1, 2);
/* Lower-case copy of s in place. */
void cdx__fmt_lower(char *s);
bool cdx__fmt_empty(const char *s);
char *cdx__fmt_strdup(const char *s);
/* Appends a copy of s to a string vector. */
cdx_err cdx__fmt_strv_push(char ***v, size_t *n, const char *s);
/* Strict UTF-8 check (RFC 3629). */
bool cdx__fmt_utf8(const char *s);

/* A cannot-map: CDX_ERR_UNSUPPORTED with the sentence, or, with
 * o->lossy, the sentence through o->note and CDX_OK. */
cdx_err cdx__fmt_unmapped(const cdx_fmt_opts *o, cdx_errbuf *eb, const char *fmt, ...)
    CDX__FMT_PRINTF(3, 4);
/* Says something through o->note (if any). */
void cdx__fmt_say(const cdx_fmt_opts *o, const char *fmt, ...) CDX__FMT_PRINTF(2, 3);

/* The item's sender (provenance, else o->sender; NULL if neither) and
 * time (provenance, else o->now_ms, else now). */
const char *cdx__fmt_sender(const cdx_item *it, const cdx_fmt_opts *o);
uint64_t cdx__fmt_time_of(const cdx_item *it, const cdx_fmt_opts *o);

/* TLP: "clear", "green", "amber", "amber+strict", "red" (MISP tags, STIX
 * extension); the 2.0 marking definition id; and back (1.0 ids too). */
const char *cdx__fmt_tlp_lower(cdx_tlp t);
const char *cdx__fmt_tlp_marking(cdx_tlp t);
cdx_tlp cdx__fmt_tlp_of_marking(const char *id);
/* From "clear", "white" (TLP 1.0's name for it), …, case-insensitive. */
cdx_tlp cdx__fmt_tlp_of_name(const char *name);

/* The indicator types the formats map (docs/formats.md, "Indicator types"). */
typedef struct cdx__fmt_type {
    const char *type;     /* MISP attribute type (= cdx_indicator.type) */
    const char *category; /* MISP's default category for it */
    bool to_ids;          /* MISP's default to_ids */
    /* STIX: the object path of a one-comparison pattern
     * ("ipv4-addr:value"); "" when the value is the pattern itself
     * (pattern_type below); NULL when STIX has no pattern for it
     * (vulnerability and link map to other objects, text does not map). */
    const char *stix_path;
    const char *pattern_type; /* "stix", "yara", "snort", "sigma" */
    bool numeric;             /* the STIX value is an integer (AS numbers) */
} cdx__fmt_type;

const cdx__fmt_type *cdx__fmt_type_find(const char *type);
/* The list, for messages: "ip-src, ip-dst, …". Static. */
const char *cdx__fmt_type_list(void);

/* NIS2 sector names (the nis2 MISP taxonomy's impact-sectors-impacted). */
bool cdx__fmt_nis2_sector(const char *sector);
/* A CyDEx sector in STIX's industry-sector vocabulary ("health" ->
 * "healthcare"); the sector itself when the vocabulary has no match. */
const char *cdx__fmt_stix_sector(const char *sector);
/* And back: the first CyDEx sector of a STIX one ("healthcare" ->
 * "health"), or the STIX name itself. */
const char *cdx__fmt_cydex_sector(const char *stix);

/* ---- what a run has seen (item.c) ---- */
typedef struct cdx__fmt_seen_alert {
    char id[CDX_UUID_TEXT];
    char root[CDX_UUID_TEXT]; /* the alert it updates, or its own id */
    char sender[CDX_ID_MAX + 1];
    uint64_t sent_at_ms;
    uint64_t created_ms; /* its root's sent_at, once known */
    uint8_t hash[CDX_HASH_BYTES];
    bool has_hash;
} cdx__fmt_seen_alert;

const cdx__fmt_seen_alert *cdx__fmt_seen_by_id(const cdx_fmt_seen *s, const char *id);
const cdx__fmt_seen_alert *cdx__fmt_seen_by_hash(const cdx_fmt_seen *s, const uint8_t *hash);

/* ---- JSON (fjson.c): typed reads that name the field ---- */

/* Parses a document: CDX_ERR_TOO_BIG over CDX_FMT_INPUT_MAX, CDX_ERR_FORMAT
 * (with line and column) for bad JSON, invalid UTF-8, nesting deeper than
 * jansson's limit, duplicate keys; `what` names the document. */
cdx_err cdx__fmt_json_load(json_t **out, const char *text, size_t len, const char *what,
                           cdx_errbuf *eb);
/* A member of an object: *out the string (borrowed) or NULL when absent or
 * null; CDX_ERR_FORMAT if present with another type, or holding a NUL. */
cdx_err cdx__fmt_jstr(json_t *obj, const char *path, const char *key, const char **out,
                      cdx_errbuf *eb);
/* Required string. */
cdx_err cdx__fmt_jstr_req(json_t *obj, const char *path, const char *key, const char **out,
                          cdx_errbuf *eb);
/* A number that MISP writes as a string of digits ("3") or an integer;
 * *present false when absent or null. */
cdx_err cdx__fmt_jnum(json_t *obj, const char *path, const char *key, uint64_t *out, bool *present,
                      cdx_errbuf *eb);
/* A boolean, or MISP's 0/1, "0"/"1". */
cdx_err cdx__fmt_jbool(json_t *obj, const char *path, const char *key, bool *out, bool *present,
                       cdx_errbuf *eb);
/* An array member (NULL when absent or null), or an object member. */
cdx_err cdx__fmt_jarr(json_t *obj, const char *path, const char *key, json_t **out, cdx_errbuf *eb);
cdx_err cdx__fmt_jobj(json_t *obj, const char *path, const char *key, json_t **out, cdx_errbuf *eb);
/* Whether a JSON value says something (not null, "", [], {}, false, 0,
 * "0"): an unmapped key holding nothing is not data being dropped. */
bool cdx__fmt_jhas(json_t *v);

/* Setting members: a NULL value marks *ok false (one check at the end). */
void cdx__fmt_jset(json_t *o, const char *key, json_t *v, bool *ok);
void cdx__fmt_jsets(json_t *o, const char *key, const char *s, bool *ok);
void cdx__fmt_jpush(json_t *arr, json_t *v, bool *ok);
/* Serializes o (and frees it): compact or pretty, keys in insertion
 * order. CDX_ERR_NOMEM if o is NULL or the dump fails. */
cdx_err cdx__fmt_json_dump(char **out, json_t *o, bool pretty);

/* ---- the formats' CyDEx provenance as "cydex:" machine tags (misp.c) ---- */
/* STIX and CAP timestamps (stix.c, cap.c) use cdx_time_format's text. */

#endif
