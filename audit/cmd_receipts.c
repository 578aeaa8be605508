/* cydex-audit receipts / check-receipt: the brokers' signed receipts a node
 * keeps for its own envelopes, shown and checked as a third party would.
 * `receipts` lists what the log keeps for one alert (named by its id or its
 * envelope hash), verifies each broker's signature against the roster and
 * can write each receipt to a file; `check-receipt` verifies such a file
 * offline with nothing but a roster, and whether it answers for a given
 * envelope. The receipt file is the Receipt message exactly as the broker
 * sent it (proto/cydex.proto), so any client of the schema can check it.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "audit.h"
#include "cydex/receipt.h"

static const char s_usage[] =
    "cydex-audit receipts LOGDIR ALERT_ID|HASH [--roster FILE] [--key K.secret] [--out DIR] "
    "[--json]";
static const char s_check_usage[] =
    "cydex-audit check-receipt FILE --roster FILE [--envelope HASH] [--json]";

/* The alert `which` names: an envelope hash the log holds, or an alert id
 * (of an alert in the clear, or sealed and opened with `key`). */
typedef struct s_find {
    const char *id;
    const cdx_identity *key;
    bool found;
    uint64_t index;
    uint8_t hash[CDX_HASH_BYTES];
    char alert_id[CDX_UUID_TEXT];
} s_find;

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_find *f = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK)
        return CDX_OK;
    const cdx_body *b = cdx_envelope_body(env);
    cdx_alert opened = {0};
    const cdx_alert *a = b->kind == CDX_PAYLOAD_ALERT ? &b->alert : NULL;
    if (b->kind == CDX_PAYLOAD_SEALED && f->key &&
        cdx_envelope_open(env, f->key, &opened, NULL) == CDX_OK)
        a = &opened;
    if (a && a->id && strcmp(a->id, f->id) == 0) {
        f->found = true;
        f->index = e->index;
        memcpy(f->hash, cdx_envelope_hash(env), CDX_HASH_BYTES);
    }
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    return f->found ? CDX_ERR_STOPPED : CDX_OK; /* the first: the alert, not an update */
}

/* The alert id of the entry at index, if it is readable (for the output). */
static void s_alert_id(cdx_log *log, uint64_t index, const cdx_identity *key,
                       char out[CDX_UUID_TEXT])
{
    out[0] = '\0';
    cdx_log_entry e = {0};
    cdx_envelope *env = NULL;
    if (cdx_log_get(log, index, &e, NULL) == CDX_OK &&
        cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK) {
        const cdx_body *b = cdx_envelope_body(env);
        cdx_alert opened = {0};
        const cdx_alert *a = b->kind == CDX_PAYLOAD_ALERT ? &b->alert : NULL;
        if (b->kind == CDX_PAYLOAD_SEALED && key &&
            cdx_envelope_open(env, key, &opened, NULL) == CDX_OK)
            a = &opened;
        if (a && a->id)
            snprintf(out, CDX_UUID_TEXT, "%s", a->id);
        cdx_alert_clear(&opened);
    }
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
}

static int s_resolve(cdx_log *log, const char *which, const cdx_identity *key, s_find *f)
{
    memset(f, 0, sizeof *f);
    f->id = which;
    f->key = key;
    cdx_errbuf eb = {0};
    if (strlen(which) == 2 * CDX_HASH_BYTES &&
        cdx_hex_decode(f->hash, CDX_HASH_BYTES, which) == CDX_OK) {
        if (cdx_log_find_hash(log, f->hash, &f->index) != CDX_OK) {
            fprintf(stderr, "cydex-audit receipts: the log holds no envelope with hash %s\n",
                    which);
            return CLI_NOINPUT;
        }
        f->found = true;
    } else if (cdx_uuid_valid(which)) {
        cdx_err rc = cdx_log_scan(log, 0, UINT64_MAX, s_visit, f, &eb);
        if (rc != CDX_OK && rc != CDX_ERR_STOPPED)
            return audit_fail("receipts", rc, &eb);
        if (!f->found) {
            fprintf(stderr, "cydex-audit receipts: the log holds no alert with id %s%s\n", which,
                    key ? ""
                        : " in the clear (a sealed one: name it by its envelope hash, or "
                          "give --key)");
            return CLI_NOINPUT;
        }
    } else {
        return audit_usage("receipts", s_usage, "'%s' is neither an alert id nor an envelope hash",
                           which);
    }
    s_alert_id(log, f->index, key, f->alert_id);
    return CLI_OK;
}

/* Whether the receipt's signature verifies and it answers for the
 * envelope; why not in eb. */
static cdx_err s_check(const cdx_roster *roster, const cdx_log_receipt *r, const uint8_t *hash,
                       cdx_errbuf *eb)
{
    if (!r->receipt.len)
        return cdx_errf(eb, CDX_ERR_NOENT, "the receipt the index names is not stored");
    cdx_receipt *items = NULL;
    size_t n = 0;
    cdx_err rc = cdx_receipt_verify_many(&items, &n, roster, r->receipt.data, r->receipt.len, eb);
    bool covers = false;
    for (size_t i = 0; rc == CDX_OK && i < n; i++)
        covers = covers || memcmp(items[i].envelope_hash, hash, CDX_HASH_BYTES) == 0;
    free(items);
    if (rc == CDX_OK && !covers)
        rc = cdx_errf(eb, CDX_ERR_CORRUPT, "the receipt says nothing of this envelope");
    return rc;
}

static json_t *s_time(uint64_t ms)
{
    char t[CDX_TIME_TEXT_MAX];
    cdx_time_format(t, ms);
    return json_string(t);
}

/* Writes DIR/BROKER.receipt, never over a file that is there. */
static int s_export(const char *dir, const cdx_log_receipt *r, char *path, size_t cap)
{
    cdx_errbuf eb = {0};
    cdx_err rc = cli_mkdirs(dir, 0755, &eb);
    if (rc != CDX_OK)
        return audit_fail("receipts", rc, &eb);
    snprintf(path, cap, "%s/%s.receipt", dir, r->item.broker);
    struct stat st;
    if (stat(path, &st) == 0) {
        fprintf(stderr, "cydex-audit receipts: %s exists; refusing to overwrite it\n", path);
        return CLI_CANTCREAT;
    }
    rc = cli_write_output(path, r->receipt.data, r->receipt.len, true, &eb);
    return rc == CDX_OK ? CLI_OK : audit_fail("receipts", rc, &eb);
}

int cmd_audit_receipts(int argc, char **argv)
{
    static const struct option opts[] = {
        {"roster", required_argument, NULL, 'r'}, {"key", required_argument, NULL, 'K'},
        {"out", required_argument, NULL, 'o'},    {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *roster_path = NULL, *key_path = NULL, *out = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roster_path = optarg; break;
        case 'K': key_path = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\n"
                   "The brokers' signed receipts a node's log keeps for one of its own alerts\n"
                   "(named by its id, or by its envelope hash; a sealed alert's id is found\n"
                   "with --key, a key it is sealed to): for each broker, what the receipt\n"
                   "says (accepted or duplicate at an index of the broker's log, or\n"
                   "rejected and why), when the broker committed it, and whether its\n"
                   "signature verifies against the roster (--roster FILE, else the one the\n"
                   "log stores) and it answers for this envelope. --out DIR writes each\n"
                   "receipt, its bytes as the broker signed them, to DIR/BROKER.receipt,\n"
                   "for 'cydex-audit check-receipt'. Exit 0 when at least one receipt is\n"
                   "kept and every one verifies; 1 none kept, or one does not verify;\n"
                   "66 no such alert; 73 a receipt file exists.\n",
                   s_usage);
            return CLI_OK;
        default: return audit_usage("receipts", s_usage, "bad option");
        }
    }
    if (argc - optind != 2)
        return audit_usage("receipts", s_usage, "give LOGDIR and the alert");
    cdx_log *log = NULL;
    cdx_roster *roster = NULL;
    cdx_identity *key = NULL;
    cdx_log_receipt *r = NULL;
    size_t n = 0;
    s_find f;
    cdx_errbuf eb = {0};
    int ec = audit_open_log("receipts", argv[optind], &log);
    if (ec == CLI_OK)
        ec = audit_roster("receipts", log, roster_path, &roster);
    if (ec == CLI_OK && key_path) {
        cdx_err rc = cdx_identity_load(&key, key_path, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("receipts", rc, &eb);
    }
    if (ec == CLI_OK)
        ec = s_resolve(log, argv[optind + 1], key, &f);
    if (ec == CLI_OK) {
        cdx_err rc = cdx_log_receipts_of(log, f.hash, &r, &n, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("receipts", rc, &eb);
    }
    if (ec != CLI_OK)
        goto done;
    char hex[2 * CDX_HASH_BYTES + 1];
    cdx_hex_encode(hex, f.hash, CDX_HASH_BYTES);
    json_t *o = json ? json_pack("{s:s,s:I,s:s}", "envelope_hash", hex, "entry",
                                 (json_int_t)f.index, "log", cdx_log_origin(log))
                     : NULL;
    json_t *list = json ? json_array() : NULL;
    if (o && f.alert_id[0])
        json_object_set_new(o, "alert", json_string(f.alert_id));
    if (!json) {
        printf("alert %s: entry %llu, envelope hash %s\n", f.alert_id[0] ? f.alert_id : "(sealed)",
               (unsigned long long)f.index, hex);
        printf("brokers' receipts kept: %zu\n", n);
    }
    size_t bad = 0;
    for (size_t i = 0; i < n && ec == CLI_OK; i++) {
        cdx_errbuf why = {0};
        cdx_err rc = s_check(roster, &r[i], f.hash, &why);
        bad += rc != CDX_OK;
        const cdx_receipt *it = &r[i].item;
        char name[2 * CDX_HASH_BYTES + 1], path[4200] = "";
        cdx_hex_encode(name, r[i].receipt_hash, CDX_HASH_BYTES);
        if (out && r[i].receipt.len && rc == CDX_OK)
            ec = s_export(out, &r[i], path, sizeof path);
        if (json) {
            char *b64 = cdx_base64_encode(r[i].receipt.data, r[i].receipt.len);
            json_t *one = json_pack("{s:s,s:s,s:I,s:o,s:I,s:s,s:b,s:s?}", "broker", it->broker,
                                    "status", cdx_receipt_status_name(it->status), "log_index",
                                    (json_int_t)it->log_index, "committed_at",
                                    s_time(it->committed_at_ms), "number", (json_int_t)r[i].number,
                                    "receipt_hash", name, "verified", rc == CDX_OK, "receipt", b64);
            if (one && it->status == CDX_RECEIPT_REJECTED)
                json_object_set_new(one, "reason", json_string(it->reason));
            if (one && rc != CDX_OK)
                json_object_set_new(one, "error", json_string(cdx_errbuf_msg(&why, rc)));
            if (one && path[0])
                json_object_set_new(one, "file", json_string(path));
            json_array_append_new(list, one);
            free(b64);
            continue;
        }
        char when[CDX_TIME_TEXT_MAX + 16] = "";
        if (it->committed_at_ms) { /* 0: the receipt does not decode; the index says the rest */
            memcpy(when, ", committed ", 12);
            cdx_time_format(when + 12, it->committed_at_ms);
        }
        if (it->status == CDX_RECEIPT_REJECTED)
            printf("  %-16s rejected (%s)%s\n", it->broker, it->reason, when);
        else
            printf("  %-16s %s at its log index %llu%s\n", it->broker,
                   cdx_receipt_status_name(it->status), (unsigned long long)it->log_index, when);
        printf("  %-16s stored receipt %llu, BLAKE2b-256 %.16s: %s%s\n", "",
               (unsigned long long)r[i].number, name,
               rc == CDX_OK ? "signature verifies" : "DOES NOT VERIFY: ",
               rc == CDX_OK ? "" : cdx_errbuf_msg(&why, rc));
        if (path[0])
            printf("  %-16s written to %s\n", "", path);
    }
    if (json) {
        json_object_set_new(o, "receipts", list);
        json_object_set_new(o, "verified", json_boolean(n && !bad));
        char *text = json_dumps(o, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(o);
    } else if (!n) {
        printf("  none: no broker's receipt for it is kept here (only a node keeps receipts, "
               "for its own envelopes)\n");
    }
    if (ec == CLI_OK)
        ec = n && !bad ? CLI_OK : CLI_REFUSED;
done:
    cdx_log_receipts_free(r, n);
    cdx_identity_destroy(&key);
    cdx_roster_destroy(&roster);
    cdx_log_destroy(&log);
    return ec;
}

int cmd_audit_check_receipt(int argc, char **argv)
{
    static const struct option opts[] = {{"roster", required_argument, NULL, 'r'},
                                         {"envelope", required_argument, NULL, 'e'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *roster_path = NULL, *envelope = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': roster_path = optarg; break;
        case 'e': envelope = optarg; break;
        case 'j': json = true; break;
        case 'h':
            printf("usage: %s\n\n"
                   "Checks a broker's signed receipt (a file 'cydex-audit receipts --out'\n"
                   "wrote: the Receipt message of proto/cydex.proto, its bytes as the broker\n"
                   "signed them) as a third party would, offline: that a broker of the\n"
                   "roster signed it, with a key valid when it committed, and what it says\n"
                   "of each envelope. --envelope HASH also requires that it says the broker\n"
                   "took that envelope (accepted, or a duplicate of one it holds) and prints\n"
                   "at what index of its log. Exit 0 valid; 1 the signature does not verify,\n"
                   "the signer is not a broker, or it does not answer for HASH; 65 not a\n"
                   "receipt; 66 no such file.\n",
                   s_check_usage);
            return CLI_OK;
        default: return audit_usage("check-receipt", s_check_usage, "bad option");
        }
    }
    if (argc - optind != 1 || !roster_path)
        return audit_usage("check-receipt", s_check_usage, "give FILE and --roster");
    uint8_t want[CDX_HASH_BYTES];
    if (envelope && cdx_hex_decode(want, CDX_HASH_BYTES, envelope) != CDX_OK)
        return audit_usage("check-receipt", s_check_usage, "--envelope takes 64 hex digits");
    cdx_errbuf eb = {0};
    cdx_roster *roster = NULL;
    cdx_bytes bytes = {0};
    cdx_receipt *items = NULL;
    size_t n = 0;
    cdx_err rc = cli_read_input(argv[optind], 16u << 20, &bytes, &eb);
    if (rc == CDX_OK)
        rc = cli_load_trusted_roster(&roster, roster_path, &eb);
    if (rc != CDX_OK) {
        int ec = audit_fail("check-receipt", rc, &eb);
        cdx_bytes_free(&bytes);
        return ec;
    }
    rc = cdx_receipt_verify_many(&items, &n, roster, bytes.data, bytes.len, &eb);
    int ec = CLI_OK;
    const cdx_receipt *hit = NULL;
    for (size_t i = 0; rc == CDX_OK && envelope && i < n && !hit; i++)
        if (memcmp(items[i].envelope_hash, want, CDX_HASH_BYTES) == 0)
            hit = &items[i];
    bool took =
        hit && (hit->status == CDX_RECEIPT_ACCEPTED || hit->status == CDX_RECEIPT_DUPLICATE);
    if (rc != CDX_OK) {
        ec = rc == CDX_ERR_FORMAT || rc == CDX_ERR_TOO_BIG ? CLI_DATAERR : CLI_REFUSED;
        if (json)
            printf("{\"verdict\":\"INVALID\",\"reason\":\"%s\"}\n", cdx_errname(rc));
        else
            printf("INVALID: %s\n", cdx_errbuf_msg(&eb, rc));
    } else if (json) {
        json_t *o =
            json_pack("{s:s,s:s,s:o}", "verdict", envelope && !took ? "INVALID" : "VALID", "broker",
                      items[0].broker, "committed_at", s_time(items[0].committed_at_ms));
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            char hex[2 * CDX_HASH_BYTES + 1];
            cdx_hex_encode(hex, items[i].envelope_hash, CDX_HASH_BYTES);
            json_t *one = json_pack("{s:s,s:s,s:I}", "envelope_hash", hex, "status",
                                    cdx_receipt_status_name(items[i].status), "log_index",
                                    (json_int_t)items[i].log_index);
            if (one && items[i].status == CDX_RECEIPT_REJECTED)
                json_object_set_new(one, "reason", json_string(items[i].reason));
            json_array_append_new(list, one);
        }
        json_object_set_new(o, "items", list);
        char *text = json_dumps(o, JSON_COMPACT);
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(o);
    } else {
        char when[CDX_TIME_TEXT_MAX];
        cdx_time_format(when, items[0].committed_at_ms);
        printf("%s: receipt signed by %s, committed %s, about %zu envelope%s:\n",
               envelope && !took ? "INVALID" : "VALID", items[0].broker, when, n,
               n == 1 ? "" : "s");
        for (size_t i = 0; i < n; i++) {
            char hex[2 * CDX_HASH_BYTES + 1];
            cdx_hex_encode(hex, items[i].envelope_hash, CDX_HASH_BYTES);
            if (items[i].status == CDX_RECEIPT_REJECTED)
                printf("  %s rejected (%s)\n", hex, items[i].reason);
            else
                printf("  %s %s at log index %llu\n", hex, cdx_receipt_status_name(items[i].status),
                       (unsigned long long)items[i].log_index);
        }
        if (envelope && !hit)
            printf("it says nothing of envelope %s\n", envelope);
        else if (envelope && !took)
            printf("it says %s did not take envelope %s\n", items[0].broker, envelope);
        else if (envelope)
            printf("%s took envelope %s: %s at its log index %llu\n", items[0].broker, envelope,
                   cdx_receipt_status_name(hit->status), (unsigned long long)hit->log_index);
    }
    if (ec == CLI_OK && envelope && !took)
        ec = CLI_REFUSED;
    free(items);
    cdx_roster_destroy(&roster);
    cdx_bytes_free(&bytes);
    return ec;
}
