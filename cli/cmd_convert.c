/* cydex convert: alerts and acks between CyDEx JSON, MISP event JSON, STIX
 * 2.1 and CAP 1.2, offline (no node), for relays and scripts. The mappings
 * live in the formats layer (include/cydex/formats.h); this file reads,
 * loops, writes and turns errors into exit codes.
 *
 * What must always hold: nothing is written for an input (a document, or
 * a line with --lines) that failed; each failure is said on stderr with
 * the field named; the exit code is that of the first failure (65
 * malformed, 1 cannot map), so a script sees it even when later lines
 * went through.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cydex/formats.h"

static const char s_usage[] =
    "cydex convert --from cydex|misp|stix|envelope --to cydex|misp|stix|cap|envelope\n"
    "                     [--lines] [--with-envelope] [--lossy] [--tlp LABEL] [--orgs FILE]\n"
    "                     [--sender ID] [--time T] [--roster R] [--open K.secret] [--pretty]\n"
    "                     [FILE|-]";

static const char s_help[] =
    "Converts alerts and acknowledgements between CyDEx JSON, MISP event JSON,\n"
    "STIX 2.1 bundles and CAP 1.2 XML, offline. Input is FILE or stdin; output\n"
    "goes to stdout. docs/formats.md has every mapping, field by field.\n"
    "\n"
    "  --from cydex     an alert or ack as 'cydex publish' takes it, an envelope as\n"
    "                   'cydex verify' prints it (with \"opened\" for a sealed one),\n"
    "                   or a log entry as 'cydex tail --json' and 'cydex-audit\n"
    "                   replay' print it\n"
    "  --from misp      {\"Event\": ...}, a REST answer {\"response\": [...]}, or an\n"
    "                   analyst {\"Opinion\": ...} (an ack)\n"
    "  --from stix      a bundle holding one report and its indicators (an alert),\n"
    "                   or a CyDEx acknowledgement note\n"
    "  --from envelope  a signed envelope's bytes ('cydex sign' output); --roster R\n"
    "                   verifies it first, --open K.secret opens one sealed to you\n"
    "  --to cydex       the alert or ack JSON (what 'cydex publish --json' takes)\n"
    "  --to misp|stix|cap  the format; CAP is written, never read\n"
    "  --to envelope    the signed envelope an input carries, to check it with\n"
    "                   'cydex verify --roster R'\n"
    "  --lines          one document per input line, one per output line; a bad\n"
    "                   line is reported (\"line N: ...\") and the others go on\n"
    "  --with-envelope  carry the signed envelope in the export (MISP attachment\n"
    "                   attribute tagged cydex:envelope, STIX x_cydex_envelope,\n"
    "                   CAP parameter cydex:envelope); needs --from envelope, or a\n"
    "                   document that carries one\n"
    "  --lossy          map what maps and leave out, saying each on stderr, what\n"
    "                   has no CyDEx field (by default such input is refused, exit 1)\n"
    "  --tlp LABEL      the TLP label of a source that has none\n"
    "  --orgs FILE      member -> MISP organisation: {\"EE\": {\"uuid\": \"...\",\n"
    "                   \"name\": \"CERT-EE\"}, ...}\n"
    "  --sender ID, --time T  sender and time of an input without provenance (an\n"
    "                   alert JSON); the time defaults to now\n"
    "  --pretty         indented JSON or XML\n"
    "\n"
    "Every export carries the provenance when the input has it: the sender, seq,\n"
    "sent time, topic and envelope hash (MISP tags cydex:..., STIX x_cydex_*\n"
    "properties, CAP parameters cydex:...). A sealed alert exports only once\n"
    "opened, with its label and recipients. An input that carries an envelope\n"
    "is checked against it: an edited event is refused (exit 1).\n"
    "\n"
    "Exit codes: 0 converted; 1 something cannot map, or differs from its\n"
    "envelope (named on stderr); 64 usage; 65 malformed input; 66 no such file;\n"
    "74 I/O error; 77 key readable by others.\n";

typedef struct s_run {
    cdx_fmt from, to;
    cdx_fmt_opts o;
    bool lines;
    cdx_roster *roster;
    cdx_identity *me;
    uint64_t line;
} s_run;

static void s_note(void *ctx, const char *sentence)
{
    const s_run *r = ctx;
    if (r->lines)
        fprintf(stderr, "cydex convert: line %llu: note: %s\n", (unsigned long long)r->line,
                sentence);
    else
        fprintf(stderr, "cydex convert: note: %s\n", sentence);
}

static int s_fail(const s_run *r, cdx_err rc, const cdx_errbuf *eb)
{
    if (r->lines) {
        fprintf(stderr, "cydex convert: line %llu: %s\n", (unsigned long long)r->line,
                cdx_errbuf_msg(eb, rc));
        return cli_exit_code(rc);
    }
    return cli_fail("convert", rc, eb);
}

/* A signed envelope into one item: verified against --roster if given,
 * opened with --open if sealed to it. */
static cdx_err s_envelope(const s_run *r, const uint8_t *data, size_t len, cdx_items *out,
                          cdx_errbuf *eb)
{
    cdx_envelope *env = NULL;
    cdx_alert opened = {0};
    bool did_open = false;
    out->v = NULL;
    out->n = 0;
    cdx_err rc = r->roster ? cdx_envelope_verify(&env, r->roster, data, len, NULL, eb)
                           : cdx_envelope_inspect(&env, data, len, eb);
    if (rc == CDX_OK && r->me && cdx_envelope_body(env)->kind == CDX_PAYLOAD_SEALED) {
        rc = cdx_envelope_open(env, r->me, &opened, eb);
        did_open = rc == CDX_OK;
    }
    if (rc == CDX_OK && !(out->v = calloc(1, sizeof *out->v)))
        rc = CDX_ERR_NOMEM;
    if (rc == CDX_OK)
        rc = cdx_item_from_envelope(&out->v[0], env, did_open ? &opened : NULL, true, eb);
    if (rc == CDX_OK)
        out->n = 1;
    else
        cdx_items_clear(out);
    cdx_alert_clear(&opened);
    cdx_envelope_destroy(&env);
    return rc;
}

/* Converts one document; writes its output only if all of it converted. */
static int s_one(s_run *r, const char *text, size_t len)
{
    cdx_errbuf eb = {0};
    cdx_items items = {0};
    cdx_err rc = r->from == CDX_FMT_ENVELOPE
                     ? s_envelope(r, (const uint8_t *)text, len, &items, &eb)
                     : cdx_fmt_import(r->from, &items, text, len, &r->o, &eb);
    if (rc != CDX_OK)
        return s_fail(r, rc, &eb);
    char **outs = calloc(items.n ? items.n : 1, sizeof *outs);
    size_t *lens = calloc(items.n ? items.n : 1, sizeof *lens);
    rc = outs && lens ? CDX_OK : CDX_ERR_NOMEM;
    size_t nout = 0;
    if (rc == CDX_OK && r->to == CDX_FMT_MISP && items.n > 1) {
        /* Several events stay one MISP REST answer. */
        rc = cdx_misp_export_many(&outs[0], &items, &r->o, &eb);
        if (rc == CDX_OK) {
            lens[0] = strlen(outs[0]);
            nout = 1;
        }
        for (size_t i = 0; rc == CDX_OK && i < items.n; i++)
            cdx_fmt_seen_add(r->o.seen, &items.v[i]);
    } else {
        for (size_t i = 0; rc == CDX_OK && i < items.n; i++) {
            rc = cdx_fmt_export(r->to, &outs[i], &lens[i], &items.v[i], &r->o, &eb);
            if (rc == CDX_OK) {
                nout = i + 1;
                cdx_fmt_seen_add(r->o.seen, &items.v[i]);
            }
        }
    }
    int ec = CLI_OK;
    if (rc != CDX_OK) {
        ec = s_fail(r, rc, &eb);
    } else if (r->to == CDX_FMT_ENVELOPE) {
        if (nout != 1) {
            fprintf(stderr,
                    "cydex convert: --to envelope writes one envelope; the input holds "
                    "%zu items\n",
                    nout);
            ec = CLI_USAGE;
        } else if ((rc = cli_write_output(NULL, outs[0], lens[0], true, &eb)) != CDX_OK) {
            ec = cli_fail("convert", rc, &eb);
        }
    } else {
        for (size_t i = 0; i < nout; i++) {
            bool nl = lens[i] == 0 || outs[i][lens[i] - 1] != '\n';
            if (fwrite(outs[i], 1, lens[i], stdout) != lens[i] || (nl && putchar('\n') == EOF)) {
                fprintf(stderr, "cydex convert: cannot write to standard output\n");
                ec = CLI_IOERR;
                break;
            }
        }
        if (ec == CLI_OK && fflush(stdout) != 0) {
            fprintf(stderr, "cydex convert: cannot write to standard output\n");
            ec = CLI_IOERR;
        }
    }
    for (size_t i = 0; outs && i < nout; i++)
        free(outs[i]);
    free(outs);
    free(lens);
    cdx_items_clear(&items);
    return ec;
}

static int s_lines(s_run *r, const char *path)
{
    FILE *f = !path || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cydex convert: cannot open %s\n", path);
        return CLI_NOINPUT;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int first = CLI_OK;
    while ((n = getline(&line, &cap, f)) >= 0) {
        r->line++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        int ec;
        if ((size_t)n > CDX_FMT_INPUT_MAX) {
            fprintf(stderr, "cydex convert: line %llu: longer than %u bytes\n",
                    (unsigned long long)r->line, CDX_FMT_INPUT_MAX);
            ec = CLI_DATAERR;
        } else {
            ec = s_one(r, line, (size_t)n);
        }
        if (ec == CLI_IOERR)
            first = first ? first : ec;
        if (ec == CLI_IOERR)
            break;
        if (first == CLI_OK)
            first = ec;
    }
    int ec = ferror(f) ? CLI_IOERR : first;
    if (ferror(f))
        fprintf(stderr, "cydex convert: cannot read %s\n", path ? path : "standard input");
    free(line);
    if (f != stdin)
        fclose(f);
    return ec;
}

int cmd_convert(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"lines", no_argument, NULL, 'l'},      {"with-envelope", no_argument, NULL, 'e'},
        {"lossy", no_argument, NULL, 'L'},      {"tlp", required_argument, NULL, 'T'},
        {"orgs", required_argument, NULL, 'O'}, {"sender", required_argument, NULL, 's'},
        {"time", required_argument, NULL, 'w'}, {"roster", required_argument, NULL, 'r'},
        {"open", required_argument, NULL, 'k'}, {"pretty", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    s_run r = {0};
    const char *orgs_path = NULL, *roster_path = NULL, *key_path = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cdx_fmt_parse(optarg, &r.from) != CDX_OK || r.from == CDX_FMT_CAP)
                return cli_usage("convert", s_usage,
                                 "--from is cydex, misp, stix or envelope (CAP is written only)");
            break;
        case 't':
            if (cdx_fmt_parse(optarg, &r.to) != CDX_OK)
                return cli_usage("convert", s_usage, "--to is cydex, misp, stix, cap or envelope");
            break;
        case 'l': r.lines = true; break;
        case 'e': r.o.with_envelope = true; break;
        case 'L': r.o.lossy = true; break;
        case 'P': r.o.pretty = true; break;
        case 'T':
            if (cdx_tlp_parse(optarg, &r.o.tlp) != CDX_OK)
                return cli_usage("convert", s_usage, "--tlp: unknown label '%s'", optarg);
            break;
        case 'O': orgs_path = optarg; break;
        case 's':
            if (!cdx_id_valid(optarg))
                return cli_usage("convert", s_usage, "--sender: '%s' is not a member id", optarg);
            r.o.sender = optarg;
            break;
        case 'w':
            if (cdx_time_parse(optarg, &r.o.now_ms) != CDX_OK || !r.o.now_ms)
                return cli_usage("convert", s_usage, "--time: '%s' is not a time", optarg);
            break;
        case 'r': roster_path = optarg; break;
        case 'k': key_path = optarg; break;
        case 'h': printf("usage: %s\n\n%s", s_usage, s_help); return CLI_OK;
        default: return cli_usage("convert", s_usage, "bad option");
        }
    }
    if (!r.from || !r.to)
        return cli_usage("convert", s_usage, "--from and --to are required");
    if (argc - optind > 1)
        return cli_usage("convert", s_usage, "one FILE at most");
    if ((roster_path || key_path) && r.from != CDX_FMT_ENVELOPE)
        return cli_usage("convert", s_usage, "--roster and --open go with --from envelope");
    if (r.lines && (r.from == CDX_FMT_ENVELOPE || r.to == CDX_FMT_ENVELOPE))
        return cli_usage("convert", s_usage, "envelopes are binary: --lines cannot carry them");
    const char *path = optind < argc ? argv[optind] : NULL;
    r.o.note = s_note;
    r.o.note_ctx = &r;

    cdx_errbuf eb = {0};
    cdx_orgs *orgs = NULL;
    cdx_fmt_seen *seen = NULL;
    cdx_bytes in = {0};
    int ec = CLI_OK;
    cdx_err rc = cdx_fmt_seen_new(&seen, 10000);
    if (rc == CDX_OK && orgs_path) {
        rc = cli_read_input(orgs_path, 1024 * 1024, &in, &eb);
        if (rc == CDX_OK)
            rc = cdx_orgs_parse(&orgs, (const char *)in.data, in.len, &eb);
        cdx_bytes_free(&in);
    }
    if (rc == CDX_OK && roster_path)
        rc = cli_load_trusted_roster(&r.roster, roster_path, &eb);
    if (rc == CDX_OK && key_path)
        rc = cdx_identity_load(&r.me, key_path, &eb);
    if (rc != CDX_OK) {
        ec = cli_fail("convert", rc, &eb);
        goto done;
    }
    r.o.orgs = orgs;
    r.o.seen = seen;
    if (r.lines) {
        ec = s_lines(&r, path);
    } else {
        rc = cli_read_input(path, CDX_FMT_INPUT_MAX, &in, &eb);
        ec = rc != CDX_OK ? cli_fail("convert", rc, &eb) : s_one(&r, (const char *)in.data, in.len);
    }
done:
    cdx_bytes_free(&in);
    cdx_identity_destroy(&r.me);
    cdx_roster_destroy(&r.roster);
    cdx_orgs_destroy(&orgs);
    cdx_fmt_seen_destroy(&seen);
    return ec;
}
