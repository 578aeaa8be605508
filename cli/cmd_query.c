/* cydex tail / list / show: what the local node's log holds, asked
 * through its control socket (the node opens sealed alerts addressed to
 * it; this command never holds a key). tail follows the log live, one line
 * per entry, JSON lines with --json, for relays into a SIEM or MISP; list
 * and show join alerts with the acknowledgements the log holds. */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

static const char *s_str(const json_t *o, const char *key)
{
    const char *v = json_string_value(json_object_get(o, key));
    return v ? v : "";
}

static cdx_bytes s_b(const char *s)
{
    return (cdx_bytes){(uint8_t *)s, strlen(s)};
}

/* "2026-11-24T07:12:03.123Z" as "2026-11-24 07:12:03". */
static void s_when(char out[20], const char *t)
{
    snprintf(out, 20, "%.10s %.8s", t, strlen(t) > 11 ? t + 11 : "");
}

/* One log entry (its JSON) as one line of text. */
static void s_print_entry(const json_t *e)
{
    const json_t *env = json_object_get(e, "envelope"), *b = json_object_get(env, "body");
    const json_t *alert = json_object_get(env, "opened");
    if (!alert)
        alert = json_object_get(b, "alert");
    const json_t *ack = json_object_get(b, "ack"), *sealed = json_object_get(b, "sealed");
    char when[20];
    s_when(when, s_str(b, "sent_at"));
    printf("#%-6" JSON_INTEGER_FORMAT " %s  %-6s seq %-5" JSON_INTEGER_FORMAT " %-14s ",
           json_integer_value(json_object_get(e, "index")), when, s_str(b, "sender"),
           json_integer_value(json_object_get(b, "seq")), s_str(b, "topic"));
    if (alert) {
        printf("ALERT%s TLP:%s %s \"%s\" (id %s)", sealed ? " (sealed, opened)" : "",
               s_str(alert, "tlp"), s_str(alert, "severity"), s_str(alert, "title"),
               s_str(alert, "id"));
    } else if (ack) {
        const char *id = s_str(ack, "alert_id");
        printf("ACK %s of %s%s%s%s", s_str(ack, "stage"), *id ? id : "alert ",
               *id ? "" : s_str(ack, "alert_hash"), *s_str(ack, "note") ? ": " : "",
               s_str(ack, "note"));
    } else if (sealed) {
        printf("SEALED ALERT TLP:%s to", s_str(sealed, "tlp"));
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(sealed, "recipients"), i, r)
            printf("%s%s", i ? "," : " ", s_str(r, "id"));
        printf(" (not for us)");
    } else {
        const char *kind = "other";
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)b, k, v) if (json_is_object(v)) kind = k;
        printf("%s", kind);
    }
    printf("\n");
}

static void s_nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int cli_follow_step(cli_node *nc, const char *node, char at[24], const char *topic,
                    bool (*fn)(void *ctx, const char *line, size_t len), void *ctx, bool *moved,
                    char *err, size_t errlen)
{
    *moved = false;
    if (cli_node_gone(node)) {
        snprintf(err, errlen, "the node at %s stopped", node);
        return 69;
    }
    cdx_bytes f[4] = {s_b("entries"), s_b(at), s_b("1000"), s_b(topic)};
    cdx_msg m;
    int ec = cli_node_call(nc, f, 4, &m, err, errlen);
    if (ec != CLI_OK)
        return ec;
    *moved = m.frame[2].len != strlen(at) || memcmp(m.frame[2].data, at, strlen(at)) != 0;
    snprintf(at, 24, "%.*s", (int)m.frame[2].len, (const char *)m.frame[2].data);
    const char *p = (const char *)m.frame[1].data, *end = p + m.frame[1].len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!fn(ctx, p, len))
            break;
        p += len + 1;
    }
    cdx_msg_clear(&m);
    return CLI_OK;
}

/* tail's way with each entry: printed as it came (--json) or as a line of
 * text, until --count. */
typedef struct s_tail {
    bool json;
    uint64_t count, shown;
    cli_exporter *ex; /* --format: entries as MISP, STIX or CAP */
} s_tail;

static bool s_tail_entry(void *ctx, const char *line, size_t len)
{
    s_tail *t = ctx;
    if (t->count && t->shown >= t->count)
        return false;
    if (t->ex) {
        t->shown += cli_export_entry_json(t->ex, line, len);
        return true;
    }
    if (t->json) {
        printf("%.*s\n", (int)len, line);
    } else {
        json_t *e = json_loadb(line, len, 0, NULL);
        if (e)
            s_print_entry(e);
        json_decref(e);
    }
    t->shown++;
    return true;
}

int cli_follow_ride(cli_follow *fw, bool *moved, char *err, size_t errlen)
{
    *moved = false;
    int ec = fw->nc ? CLI_OK : cli_node_open(&fw->nc, fw->node, err, errlen);
    if (ec == CLI_OK)
        ec = cli_follow_step(fw->nc, fw->node, fw->at, fw->topic, fw->fn, fw->ctx, moved, err,
                             errlen);
    if (ec == CLI_OK && fw->lost_since) {
        fprintf(stderr, "cydex %s: the node is back; following on from index %s\n", fw->cmd,
                fw->at);
        fw->lost_since = 0;
    }
    if (ec != 69 || !fw->followed || !fw->wait_s) {
        fw->followed = fw->followed || ec == CLI_OK;
        return ec;
    }
    uint64_t now = cdx_mono_ms();
    if (!fw->lost_since) {
        fw->lost_since = now;
        fprintf(stderr, "cydex %s: %s; waiting up to %llu s for it to come back\n", fw->cmd, err,
                (unsigned long long)fw->wait_s);
    }
    if (now - fw->lost_since >= 1000 * fw->wait_s) {
        snprintf(err, errlen, "the node at %s did not come back within %llu s", fw->node,
                 (unsigned long long)fw->wait_s);
        return 69;
    }
    cli_node_close(&fw->nc);
    s_nap_ms(200);
    return CLI_OK;
}

int cmd_tail(int argc, char **argv)
{
    static const char usage[] = "cydex tail [--node ipc://PATH] [--topic PREFIX] [--from INDEX] "
                                "[--count N] [--timeout S] [--wait-node S]\n"
                                "                  [--json | --format misp|stix|cap [--orgs FILE]]";
    static const struct option opts[] = {{"node", required_argument, NULL, 'n'},
                                         {"topic", required_argument, NULL, 't'},
                                         {"from", required_argument, NULL, 'f'},
                                         {"count", required_argument, NULL, 'c'},
                                         {"timeout", required_argument, NULL, 'T'},
                                         {"json", no_argument, NULL, 'j'},
                                         {"wait-node", required_argument, NULL, 'w'},
                                         {"format", required_argument, NULL, 'F'},
                                         {"orgs", required_argument, NULL, 'O'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *node = NULL, *topic = "", *from = "end", *format = NULL, *orgs = NULL;
    uint64_t count = 0, timeout = 0, wait_node = 60, ignored;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 't': topic = optarg; break;
        case 'f':
            if (!cdx_parse_u64(optarg, &ignored))
                return cli_usage("tail", usage, "--from takes a log index");
            from = optarg;
            break;
        case 'c':
            if (!cdx_parse_u64(optarg, &count) || count == 0)
                return cli_usage("tail", usage, "--count takes a positive number");
            break;
        case 'T':
            if (!cdx_parse_u64(optarg, &timeout) || timeout == 0)
                return cli_usage("tail", usage, "--timeout takes a positive number of seconds");
            break;
        case 'j': json = true; break;
        case 'F': format = optarg; break;
        case 'O': orgs = optarg; break;
        case 'w':
            if (!cdx_parse_u64(optarg, &wait_node))
                return cli_usage("tail", usage, "--wait-node takes a number of seconds");
            break;
        case 'h':
            printf("usage: %s\n\nFollows the local node's log: each entry it logs from now on "
                   "(or from\n--from INDEX), one line each; --json prints the entries as JSON "
                   "lines for\nrelays (sealed alerts addressed to this node opened). Stops on "
                   "SIGINT or\nSIGTERM, after --count entries, or after --timeout seconds. A "
                   "node that stops\nanswering once followed is waited for --wait-node seconds "
                   "(default 60; 0:\nnot at all), and followed on from where it was: a restart "
                   "loses and repeats\nnothing.\n"
                   "--format misp|stix|cap prints each alert and ack as a MISP event or\n"
                   "opinion, a STIX bundle or a CAP message, one a line, with its provenance\n"
                   "(docs/formats.md); other entries are passed over, sealed alerts not\n"
                   "opened for this node are said on stderr and not exported; --orgs FILE\n"
                   "maps members to MISP organisations.\n"
                   "Exit codes: 0 stopped (a signal, --count); 75 --timeout before --count, or\n"
                   "the node was busy; 69 no node running, or it stopped and did not come back;\n"
                   "64 usage; 70 internal error; 77 the node's control socket is not ours to\n"
                   "use.\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("tail", usage, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage("tail", usage, "unexpected argument '%s'", argv[optind]);
    if (format && json)
        return cli_usage("tail", usage, "--json and --format: one or the other");
    if (orgs && !format)
        return cli_usage("tail", usage, "--orgs goes with --format");
    node = cli_node_path(node);
    char err[400] = "";
    s_tail t = {.json = json, .count = count};
    if (format) {
        int fec = cli_exporter_new(&t.ex, "tail", format, false, orgs);
        if (fec != CLI_OK)
            return fec;
    }
    cli_follow fw = {.cmd = "tail",
                     .node = node,
                     .topic = topic,
                     .fn = s_tail_entry,
                     .ctx = &t,
                     .wait_s = wait_node};
    snprintf(fw.at, sizeof fw.at, "%s", from);
    int ec = cli_node_open(&fw.nc, node, err, sizeof err);
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    uint64_t deadline = timeout ? cdx_mono_ms() + 1000 * timeout : UINT64_MAX;
    while (ec == CLI_OK && !s_stop && (!count || t.shown < count)) {
        if (cdx_mono_ms() >= deadline) {
            if (count)
                ec = CLI_TEMPFAIL;
            if (count)
                snprintf(err, sizeof err, "only %llu of %llu entries within %llu s",
                         (unsigned long long)t.shown, (unsigned long long)count,
                         (unsigned long long)timeout);
            break;
        }
        bool moved = false;
        ec = cli_follow_ride(&fw, &moved, err, sizeof err);
        if (s_stop) /* the signal may have cut a wait short: that is no error */
            ec = CLI_OK;
        if (ec == CLI_OK && fflush(stdout) != 0) {
            snprintf(err, sizeof err, "cannot write to standard output");
            ec = CLI_IOERR;
        }
        if (ec == CLI_OK && !moved && !fw.lost_since)
            s_nap_ms(100); /* nothing new: ask again shortly */
    }
    cli_node_close(&fw.nc);
    if (ec != CLI_OK)
        fprintf(stderr, "cydex tail: %s\n", err);
    if (ec == CLI_OK && t.ex)
        ec = cli_exporter_status(t.ex);
    cli_exporter_destroy(&t.ex);
    return ec;
}

/* Each acker's latest stage: "FR investigating, DE not-affected". */
static void s_ack_summary(char *out, size_t cap, const json_t *acks)
{
    out[0] = '\0';
    size_t i, used = 0;
    json_t *k;
    json_array_foreach(acks, i, k)
    {
        bool later = false; /* a later ack by the same member supersedes this one */
        for (size_t j = i + 1; j < json_array_size(acks) && !later; j++)
            later = strcmp(s_str(json_array_get(acks, j), "by"), s_str(k, "by")) == 0;
        if (!later && used < cap)
            used += (size_t)snprintf(out + used, cap - used, "%s%s %s", used ? ", " : "",
                                     s_str(k, "by"), s_str(k, "stage"));
    }
    if (!out[0])
        snprintf(out, cap, "none");
}

static void s_print_alert_line(const json_t *a)
{
    char when[20], acks[512];
    s_when(when, s_str(a, "sent_at"));
    s_ack_summary(acks, sizeof acks, json_object_get(a, "acks"));
    if (json_is_true(json_object_get(a, "readable")))
        printf("%s  %-6s TLP:%-12s %-8s \"%s\"\n    id %s  acks: %s\n", when, s_str(a, "sender"),
               s_str(a, "tlp"), s_str(a, "severity"), s_str(a, "title"), s_str(a, "id"), acks);
    else
        printf("%s  %-6s TLP:%-12s (sealed to others; not readable here)\n    hash %s  acks: %s\n",
               when, s_str(a, "sender"), s_str(a, "tlp"), s_str(a, "hash"), acks);
}

void cli_print_alert_list(const json_t *o)
{
    const json_t *alerts = json_object_get(o, "alerts");
    json_int_t total = json_integer_value(json_object_get(o, "total"));
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) s_print_alert_line(a);
    if ((json_int_t)json_array_size(alerts) < total)
        printf("(the latest %zu of %" JSON_INTEGER_FORMAT "; --limit 0 shows all)\n",
               json_array_size(alerts), total);
    else if (total == 0)
        printf("no alerts\n");
}

/* show and list with --format: each alert's log entry (asked with
 * ["show", id or hash]) through the exporter, which passes over what it
 * cannot read (sealed to others) with a word on stderr. */
static int s_show_as(cli_exporter *x, const char *node, const char *which)
{
    cdx_bytes f[2] = {s_b("show"), s_b(which)};
    cdx_msg m;
    char err[400] = "";
    int ec = cli_node_request(node, f, 2, &m, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex show: %s\n", err);
        return ec;
    }
    json_t *o = json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL);
    json_t *entry = json_object_get(json_array_get(json_object_get(o, "alerts"), 0), "entry");
    char *text = entry ? json_dumps(entry, JSON_COMPACT) : NULL;
    if (!text) {
        fprintf(stderr, "cydex show: the node's answer holds no log entry for %s\n", which);
        ec = CLI_SOFTWARE;
    } else {
        cli_export_entry_json(x, text, strlen(text));
    }
    free(text);
    json_decref(o);
    cdx_msg_clear(&m);
    return ec;
}

static int s_list_as(const char *node, const cdx_bytes *frames, const char *format,
                     const char *orgs)
{
    cli_exporter *x = NULL;
    int ec = cli_exporter_new(&x, "list", format, false, orgs);
    cdx_msg m = {0};
    char err[400] = "";
    if (ec == CLI_OK && (ec = cli_node_request(node, frames, 3, &m, err, sizeof err)) != CLI_OK)
        fprintf(stderr, "cydex list: %s\n", err);
    json_t *o =
        ec == CLI_OK ? json_loadb((const char *)m.frame[1].data, m.frame[1].len, 0, NULL) : NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(o, "alerts"), i, a)
    {
        if (ec == CLI_OK)
            ec = s_show_as(x, node, s_str(a, "hash"));
    }
    if (ec == CLI_OK)
        ec = cli_exporter_status(x);
    json_decref(o);
    if (m.n)
        cdx_msg_clear(&m);
    cli_exporter_destroy(&x);
    return ec;
}

int cmd_list(int argc, char **argv)
{
    static const char usage[] = "cydex list [--node ipc://PATH] [--unacked] [--limit N]\n"
                                "                  [--json | --format misp|stix|cap [--orgs FILE]]";
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'},   {"unacked", no_argument, NULL, 'u'},
        {"limit", required_argument, NULL, 'l'},  {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'F'}, {"orgs", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *node = NULL, *limit = "50", *format = NULL, *orgs = NULL;
    bool json = false, unacked = false;
    uint64_t ignored;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 'u': unacked = true; break;
        case 'l':
            if (!cdx_parse_u64(optarg, &ignored))
                return cli_usage("list", usage, "--limit takes a number (0: all)");
            limit = optarg;
            break;
        case 'j': json = true; break;
        case 'F': format = optarg; break;
        case 'O': orgs = optarg; break;
        case 'h':
            printf("usage: %s\n\nThe alerts in the local node's log, oldest first (the latest "
                   "--limit,\ndefault 50), each with every member's latest acknowledgement. "
                   "--unacked:\nonly other states' alerts this node can read and has not "
                   "acknowledged.\n--format misp|stix|cap prints the alerts themselves as MISP "
                   "events, STIX\nbundles or CAP messages, one a line, with their provenance "
                   "(docs/formats.md;\n'cydex tail --format' gives the acks too).\n"
                   "Exit codes: 0; 1 an alert that cannot map (said on stderr);\n" CLI_NODE_EXITS
                   ".\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("list", usage, "bad option");
        }
    }
    if (optind != argc)
        return cli_usage("list", usage, "unexpected argument '%s'", argv[optind]);
    if (format && json)
        return cli_usage("list", usage, "--json and --format: one or the other");
    if (orgs && !format)
        return cli_usage("list", usage, "--orgs goes with --format");
    cdx_bytes f[3] = {s_b("alerts"), s_b(unacked ? "unacked" : "all"), s_b(limit)};
    if (format)
        return s_list_as(cli_node_path(node), f, format, orgs);
    return cli_node_print_json("list", cli_node_path(node), f, 3, json, cli_print_alert_list);
}

static void s_print_show(const json_t *o)
{
    const json_t *a = json_array_get(json_object_get(o, "alerts"), 0);
    const json_t *entry = json_object_get(a, "entry"), *env = json_object_get(entry, "envelope");
    const json_t *al = json_object_get(env, "opened");
    if (!al)
        al = json_object_get(json_object_get(env, "body"), "alert");
    printf("alert %s\n", *s_str(a, "id") ? s_str(a, "id") : "(sealed to others)");
    printf("  envelope hash  %s (log index %" JSON_INTEGER_FORMAT ")\n", s_str(a, "hash"),
           json_integer_value(json_object_get(a, "index")));
    printf("  from           %s, seq %" JSON_INTEGER_FORMAT ", topic %s%s\n", s_str(a, "sender"),
           json_integer_value(json_object_get(a, "seq")), s_str(a, "topic"),
           json_is_true(json_object_get(a, "sealed")) ? ", sealed" : "");
    printf("  sent           %s\n  logged here    %s (via %s)\n", s_str(a, "sent_at"),
           s_str(a, "received_at"), s_str(entry, "from"));
    printf("  TLP            %s\n", s_str(a, "tlp"));
    const json_t *to = json_object_get(a, "recipients");
    if (json_array_size(to)) {
        printf("  sealed to      ");
        size_t i;
        json_t *v;
        json_array_foreach(to, i, v) printf("%s%s", i ? ", " : "", json_string_value(v));
        printf("\n");
    }
    if (al) {
        printf("  severity       %s\n  title          %s\n", s_str(al, "severity"),
               s_str(al, "title"));
        static const char *more[] = {"category", "status", "msg_type", "updates", "description"};
        for (size_t i = 0; i < sizeof more / sizeof *more; i++)
            if (*s_str(al, more[i]))
                printf("  %-14s %s\n", more[i], s_str(al, more[i]));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(al, "indicators"), i, v)
            printf("  indicator      %s %s\n", s_str(v, "type"), s_str(v, "value"));
    }
    const json_t *receipts = json_object_get(a, "receipts");
    if (json_array_size(receipts)) {
        printf("brokers' receipts: %zu\n", json_array_size(receipts));
        size_t i;
        json_t *r;
        json_array_foreach(receipts, i, r)
        {
            const char *status = s_str(r, "status");
            if (strcmp(status, "rejected") == 0)
                printf("  %-14s rejected (%s), %s", s_str(r, "broker"), s_str(r, "reason"),
                       s_str(r, "committed_at"));
            else
                printf("  %-14s %s at its log index %" JSON_INTEGER_FORMAT ", committed %s",
                       s_str(r, "broker"), status,
                       json_integer_value(json_object_get(r, "log_index")),
                       s_str(r, "committed_at"));
            printf("; signature %s (receipt %.16s)\n",
                   json_is_true(json_object_get(r, "verified")) ? "verifies" : "DOES NOT VERIFY",
                   s_str(r, "receipt"));
        }
    }
    const json_t *acks = json_object_get(a, "acks");
    printf("acknowledgements: %zu\n", json_array_size(acks));
    size_t i;
    json_t *k;
    json_array_foreach(acks, i, k)
    {
        char when[20];
        s_when(when, s_str(k, "sent_at"));
        printf("  %-6s %-20s %s%s%s%s\n", s_str(k, "by"), s_str(k, "stage"), when,
               *s_str(k, "note") ? "  \"" : "", s_str(k, "note"), *s_str(k, "note") ? "\"" : "");
    }
}

int cmd_show(int argc, char **argv)
{
    static const char usage[] = "cydex show [--node ipc://PATH] [--json | --format misp|stix|cap "
                                "[--orgs FILE]]\n                  ALERT_ID|HASH";
    static const struct option opts[] = {
        {"node", required_argument, NULL, 'n'},   {"json", no_argument, NULL, 'j'},
        {"format", required_argument, NULL, 'F'}, {"orgs", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *node = NULL, *format = NULL, *orgs = NULL;
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': node = optarg; break;
        case 'j': json = true; break;
        case 'F': format = optarg; break;
        case 'O': orgs = optarg; break;
        case 'h':
            printf("usage: %s\n\nOne alert (by its id or its envelope hash) as the local node's "
                   "log holds\nit: its content (opened if sealed to this node), who it is "
                   "sealed to, the\nbrokers' signed receipts the node keeps for it (its own "
                   "alerts: which\nbroker took it, at what index of its log, when, and whether "
                   "the receipt's\nsignature verifies), and who acknowledged it, at what stage, "
                   "when, with\nwhat note. --format "
                   "misp|stix|cap prints the\nalert as a MISP event, a STIX bundle or a CAP "
                   "message, with its provenance\n(docs/formats.md).\n"
                   "Exit codes: 0; 1 it cannot map or is sealed to others (with --format);\n"
                   "66 no such alert; " CLI_NODE_EXITS ".\n",
                   usage);
            return CLI_OK;
        default: return cli_usage("show", usage, "bad option");
        }
    }
    if (argc - optind != 1)
        return cli_usage("show", usage, "give one ALERT_ID or HASH");
    if (format && json)
        return cli_usage("show", usage, "--json and --format: one or the other");
    if (orgs && !format)
        return cli_usage("show", usage, "--orgs goes with --format");
    node = cli_node_path(node);
    if (format) {
        cli_exporter *x = NULL;
        int ec = cli_exporter_new(&x, "show", format, false, orgs);
        if (ec == CLI_OK)
            ec = s_show_as(x, node, argv[optind]);
        if (ec == CLI_OK)
            ec = cli_exporter_shown(x) ? cli_exporter_status(x) : CLI_REFUSED;
        cli_exporter_destroy(&x);
        return ec;
    }
    cdx_bytes f[2] = {s_b("show"), s_b(argv[optind])};
    return cli_node_print_json("show", node, f, 2, json, s_print_show);
}
