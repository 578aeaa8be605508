/* cydex-audit replay: the log's entries in order, decoded, filtered. It
 * decodes without judging (verify judges); a sealed alert stays sealed
 * unless --key names one of its recipients. --format misp|stix|cap writes
 * the alerts and acks in those formats (cli/export.c), with the envelope
 * itself on --with-envelope. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"

static const char s_usage[] =
    "cydex-audit replay LOGDIR [--since T] [--until T] [--sender ID] [--topic PREFIX]\n"
    "                          [--alert ID] [--kind alert|ack|roster|tree_head|heartbeat|witness]\n"
    "                          [--format jsonl|text|misp|stix|cap [--with-envelope] [--orgs "
    "FILE]]\n"
    "                          [--key K.secret]";

typedef struct s_replay {
    uint64_t since, until;
    const char *sender, *topic, *alert, *kind;
    bool text;
    cli_exporter *ex; /* --format misp|stix|cap */
    cdx_identity *key;
    uint64_t shown, skipped_bad;
} s_replay;

static bool s_kind_matches(const char *want, cdx_payload_kind k)
{
    if (!want)
        return true;
    if (strcmp(want, "alert") == 0)
        return k == CDX_PAYLOAD_ALERT || k == CDX_PAYLOAD_SEALED;
    return strcmp(want, cdx_payload_kind_name(k)) == 0;
}

static bool s_alert_matches(const char *want, const cdx_body *b, const cdx_alert *opened)
{
    if (!want)
        return true;
    const cdx_alert *a = b->kind == CDX_PAYLOAD_ALERT ? &b->alert : opened;
    if (a && ((a->id && strcmp(a->id, want) == 0) || (a->updates && strcmp(a->updates, want) == 0)))
        return true;
    return b->kind == CDX_PAYLOAD_ACK && b->ack.alert_id && strcmp(b->ack.alert_id, want) == 0;
}

static void s_print_text(const cdx_log_entry *e, const cdx_body *b, const cdx_alert *opened)
{
    char when[CDX_TIME_TEXT_MAX];
    cdx_time_format(when, b->sent_at_ms);
    printf("#%llu %s %s seq %llu %s", (unsigned long long)e->index, when, b->sender,
           (unsigned long long)b->seq, b->topic);
    const cdx_alert *a = b->kind == CDX_PAYLOAD_ALERT ? &b->alert : opened;
    if (b->kind == CDX_PAYLOAD_ACK) {
        char h[17];
        cdx_hex_encode(h, b->ack.alert_hash, 8);
        printf(" ACK %s of alert %s (hash %s…)%s%s%s", cdx_ack_stage_name(b->ack.stage),
               b->ack.alert_id && *b->ack.alert_id ? b->ack.alert_id : "?", h,
               b->ack.note && *b->ack.note ? ": \"" : "", b->ack.note ? b->ack.note : "",
               b->ack.note && *b->ack.note ? "\"" : "");
    } else if (a) {
        printf(" %s TLP:%s %s \"%s\"",
               b->kind == CDX_PAYLOAD_SEALED ? "SEALED ALERT (opened)" : "ALERT",
               cdx_tlp_name(a->tlp), cdx_severity_name(a->severity), a->title);
    } else if (b->kind == CDX_PAYLOAD_SEALED) {
        printf(" SEALED ALERT TLP:%s to", cdx_tlp_name(b->sealed.tlp));
        for (size_t i = 0; i < b->sealed.n_recipients; i++)
            printf("%s%s", i ? "," : " ", b->sealed.recipients[i].id);
    } else {
        printf(" %s", cdx_payload_kind_name(b->kind));
    }
    if (e->outcome == CDX_LOG_EQUIVOCATION)
        printf("  [EQUIVOCATION]");
    if (e->flags & CDX_LOG_FLAG_GAP)
        printf("  [gap before]");
    printf("\n");
}

static cdx_err s_visit(void *ctx, cdx_log_entry *e)
{
    s_replay *r = ctx;
    cdx_envelope *env = NULL;
    if (cdx_envelope_inspect(&env, e->envelope.data, e->envelope.len, NULL) != CDX_OK) {
        fprintf(stderr, "cydex-audit replay: entry %llu does not decode; run verify\n",
                (unsigned long long)e->index);
        r->skipped_bad++;
        return CDX_OK;
    }
    const cdx_body *b = cdx_envelope_body(env);
    cdx_alert opened = {0};
    bool is_open = r->key && b->kind == CDX_PAYLOAD_SEALED &&
                   cdx_envelope_open(env, r->key, &opened, NULL) == CDX_OK;
    bool show = b->sent_at_ms >= r->since && b->sent_at_ms <= r->until &&
                (!r->sender || strcmp(r->sender, b->sender) == 0) &&
                (!r->topic || strncmp(r->topic, b->topic, strlen(r->topic)) == 0) &&
                s_kind_matches(r->kind, b->kind) &&
                s_alert_matches(r->alert, b, is_open ? &opened : NULL);
    cdx_err rc = CDX_OK;
    if (show && r->ex) {
        show = cli_export_envelope(r->ex, e->index, env, is_open ? &opened : NULL);
    } else if (show && r->text) {
        s_print_text(e, b, is_open ? &opened : NULL);
    } else if (show) {
        char *json = NULL;
        rc = cdx_json_from_log_entry(&json, e, env, is_open ? &opened : NULL);
        if (rc == CDX_OK)
            printf("%s\n", json);
        free(json);
    }
    r->shown += show;
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    return rc;
}

int cmd_audit_replay(int argc, char **argv)
{
    static const struct option opts[] = {
        {"since", required_argument, NULL, 's'},   {"until", required_argument, NULL, 'u'},
        {"sender", required_argument, NULL, 'S'},  {"topic", required_argument, NULL, 't'},
        {"alert", required_argument, NULL, 'a'},   {"kind", required_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},  {"key", required_argument, NULL, 'K'},
        {"with-envelope", no_argument, NULL, 'e'}, {"orgs", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    s_replay r = {.until = UINT64_MAX};
    const char *key_path = NULL, *format = NULL, *orgs = NULL;
    bool with_envelope = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's':
        case 'u':
            if (cdx_time_parse(optarg, c == 's' ? &r.since : &r.until) != CDX_OK)
                return audit_usage("replay", s_usage, "'%s' is not a time (RFC 3339)", optarg);
            break;
        case 'S': r.sender = optarg; break;
        case 't': r.topic = optarg; break;
        case 'a': r.alert = optarg; break;
        case 'k': r.kind = optarg; break;
        case 'K': key_path = optarg; break;
        case 'f':
            if (strcmp(optarg, "text") != 0 && strcmp(optarg, "jsonl") != 0 &&
                strcmp(optarg, "misp") != 0 && strcmp(optarg, "stix") != 0 &&
                strcmp(optarg, "cap") != 0)
                return audit_usage("replay", s_usage, "--format is jsonl, text, misp, stix or cap");
            r.text = strcmp(optarg, "text") == 0;
            format = r.text || strcmp(optarg, "jsonl") == 0 ? NULL : optarg;
            break;
        case 'e': with_envelope = true; break;
        case 'O': orgs = optarg; break;
        case 'h':
            printf("usage: %s\n\nPrints the log's entries in order, one per line (JSON lines "
                   "by default).\nFilters combine; --since/--until compare the sender's time.\n"
                   "--format misp|stix|cap writes each alert and ack as a MISP event or\n"
                   "opinion, a STIX bundle or a CAP message, one a line, with its provenance\n"
                   "(sender, seq, time, topic, envelope hash; docs/formats.md); other entries\n"
                   "are passed over, and a sealed alert --key cannot open is said on stderr\n"
                   "and not exported. --with-envelope carries each signed envelope too, so\n"
                   "that 'cydex verify' on it proves the origin; --orgs FILE maps members to\n"
                   "MISP organisations. An entry that cannot map is said on stderr (exit 1).\n",
                   s_usage);
            return CLI_OK;
        default: return audit_usage("replay", s_usage, "bad option");
        }
    }
    if (argc - optind != 1)
        return audit_usage("replay", s_usage, "give one LOGDIR");
    static const char *kinds[] = {"alert",     "ack",       "sealed", "roster",
                                  "tree_head", "heartbeat", "witness"};
    bool kind_ok = !r.kind;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds && !kind_ok; i++)
        kind_ok = strcmp(r.kind, kinds[i]) == 0;
    if (!kind_ok)
        return audit_usage("replay", s_usage, "unknown --kind '%s'", r.kind);
    if ((with_envelope || orgs) && !format)
        return audit_usage("replay", s_usage,
                           "--with-envelope and --orgs go with --format "
                           "misp, stix or cap");
    cdx_log *log = NULL;
    cdx_errbuf eb = {0};
    int ec = audit_open_log("replay", argv[optind], &log);
    if (ec == CLI_OK && format)
        ec = cli_exporter_new(&r.ex, "replay", format, with_envelope, orgs);
    if (ec == CLI_OK && key_path) {
        cdx_err rc = cdx_identity_load(&r.key, key_path, &eb);
        if (rc != CDX_OK)
            ec = audit_fail("replay", rc, &eb);
    }
    if (ec == CLI_OK) {
        cdx_err rc = cdx_log_scan(log, 0, UINT64_MAX, s_visit, &r, &eb);
        if (rc == CDX_ERR_CORRUPT) { /* a damaged log: say where, as verify would */
            fprintf(stderr, "cydex-audit replay: %s\n", eb.msg);
            ec = CLI_REFUSED;
        } else if (rc != CDX_OK) {
            ec = audit_fail("replay", rc, &eb);
        } else if (r.skipped_bad) {
            ec = CLI_REFUSED;
        } else if (r.ex) {
            ec = cli_exporter_status(r.ex);
        }
    }
    cli_exporter_destroy(&r.ex);
    cdx_identity_destroy(&r.key);
    cdx_log_destroy(&log);
    return ec;
}
