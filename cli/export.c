/* The formats in the commands that print or take alerts: `cydex tail`,
 * `cydex-audit replay` (--format misp|stix|cap) and `cydex publish`
 * (--format misp|stix). The mappings are the formats layer's; this file
 * only feeds it log entries and prints one document per line.
 *
 * What must always hold: an entry that is not an alert or an ack (a tree
 * head, a heartbeat, a roster) is passed over without a word, as it has no
 * form in these formats; a sealed alert this party cannot open is passed
 * over with a line on stderr, never exported; an entry that fails to map
 * is said on stderr with its index and counted, and the others go on.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cydex/formats.h"

struct cli_exporter {
    const char *cmd;
    cdx_fmt fmt;
    cdx_fmt_opts o;
    cdx_orgs *orgs;
    cdx_fmt_seen *seen;
    uint64_t failed, shown;
    int first_ec;
};

static void s_note(void *ctx, const char *sentence)
{
    const cli_exporter *x = ctx;
    fprintf(stderr, "cydex %s: note: %s\n", x->cmd, sentence);
}

int cli_exporter_new(cli_exporter **out, const char *cmd, const char *format, bool with_envelope,
                     const char *orgs_path)
{
    *out = NULL;
    cdx_fmt fmt;
    if (cdx_fmt_parse(format, &fmt) != CDX_OK ||
        (fmt != CDX_FMT_MISP && fmt != CDX_FMT_STIX && fmt != CDX_FMT_CAP)) {
        fprintf(stderr, "cydex %s: --format %s: not misp, stix or cap\n", cmd, format);
        return CLI_USAGE;
    }
    cli_exporter *x = calloc(1, sizeof *x);
    if (!x || cdx_fmt_seen_new(&x->seen, 10000) != CDX_OK) {
        free(x);
        return CLI_SOFTWARE;
    }
    x->cmd = cmd;
    x->fmt = fmt;
    x->o.with_envelope = with_envelope;
    x->o.seen = x->seen;
    x->o.note = s_note;
    x->o.note_ctx = x;
    if (orgs_path) {
        cdx_errbuf eb = {0};
        cdx_bytes in = {0};
        cdx_err rc = cli_read_input(orgs_path, 1024 * 1024, &in, &eb);
        if (rc == CDX_OK)
            rc = cdx_orgs_parse(&x->orgs, (const char *)in.data, in.len, &eb);
        cdx_bytes_free(&in);
        if (rc != CDX_OK) {
            int ec = cli_fail(cmd, rc, &eb);
            cli_exporter_destroy(&x);
            return ec;
        }
        x->o.orgs = x->orgs;
    }
    *out = x;
    return CLI_OK;
}

void cli_exporter_destroy(cli_exporter **x)
{
    if (!x || !*x)
        return;
    cdx_orgs_destroy(&(*x)->orgs);
    cdx_fmt_seen_destroy(&(*x)->seen);
    free(*x);
    *x = NULL;
}

/* Exports one item and prints it as one line; false if it failed. */
static bool s_print(cli_exporter *x, const cdx_item *it, uint64_t index)
{
    cdx_errbuf eb = {0};
    char *out = NULL;
    size_t len = 0;
    cdx_err rc = cdx_fmt_export(x->fmt, &out, &len, it, &x->o, &eb);
    if (rc != CDX_OK) {
        fprintf(stderr, "cydex %s: entry %llu: %s\n", x->cmd, (unsigned long long)index,
                cdx_errbuf_msg(&eb, rc));
        x->failed++;
        if (!x->first_ec)
            x->first_ec = cli_exit_code(rc);
        return false;
    }
    cdx_fmt_seen_add(x->seen, it);
    x->shown++;
    fwrite(out, 1, len, stdout);
    if (!len || out[len - 1] != '\n')
        putchar('\n');
    free(out);
    return true;
}

bool cli_export_envelope(cli_exporter *x, uint64_t index, const cdx_envelope *env,
                         const cdx_alert *opened)
{
    const cdx_body *b = cdx_envelope_body(env);
    if (b->kind != CDX_PAYLOAD_ALERT && b->kind != CDX_PAYLOAD_ACK && b->kind != CDX_PAYLOAD_SEALED)
        return false;
    if (b->kind == CDX_PAYLOAD_SEALED && !opened) {
        fprintf(stderr,
                "cydex %s: entry %llu: %s's alert seq %llu is sealed to others: not "
                "exported\n",
                x->cmd, (unsigned long long)index, b->sender, (unsigned long long)b->seq);
        return false;
    }
    cdx_item it;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_item_from_envelope(&it, env, opened, x->o.with_envelope, &eb);
    bool shown = false;
    if (rc != CDX_OK) {
        fprintf(stderr, "cydex %s: entry %llu: %s\n", x->cmd, (unsigned long long)index,
                cdx_errbuf_msg(&eb, rc));
        x->failed++;
    } else {
        shown = s_print(x, &it, index);
    }
    cdx_item_clear(&it);
    return shown;
}

bool cli_export_entry_json(cli_exporter *x, const char *line, size_t len)
{
    json_t *e = json_loadb(line, len, 0, NULL);
    json_t *env = json_object_get(e, "envelope"), *body = json_object_get(env, "body");
    uint64_t index = (uint64_t)json_integer_value(json_object_get(e, "index"));
    bool mapped = json_object_get(body, "alert") || json_object_get(body, "ack") ||
                  json_object_get(body, "sealed");
    bool shown = false;
    if (!mapped) {
        /* not an alert or ack: nothing to export */
    } else if (json_object_get(body, "sealed") && !json_object_get(env, "opened")) {
        fprintf(stderr,
                "cydex %s: entry %llu: %s's alert seq %lld is sealed to others: not "
                "exported\n",
                x->cmd, (unsigned long long)index,
                json_string_value(json_object_get(body, "sender")),
                (long long)json_integer_value(json_object_get(body, "seq")));
    } else {
        cdx_item it;
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_cydex_import(&it, line, len, &x->o, &eb);
        if (rc != CDX_OK) {
            fprintf(stderr, "cydex %s: entry %llu: %s\n", x->cmd, (unsigned long long)index,
                    cdx_errbuf_msg(&eb, rc));
            x->failed++;
        } else {
            shown = s_print(x, &it, index);
        }
        cdx_item_clear(&it);
    }
    json_decref(e);
    return shown;
}

uint64_t cli_exporter_shown(const cli_exporter *x)
{
    return x->shown;
}

int cli_exporter_status(const cli_exporter *x)
{
    return x->failed ? (x->first_ec ? x->first_ec : CLI_REFUSED) : CLI_OK;
}

cdx_err cli_format_alert(const char *text, size_t len, const char *format, const char *tlp,
                         char **out, cdx_errbuf *eb)
{
    *out = NULL;
    cdx_fmt fmt;
    if (cdx_fmt_parse(format, &fmt) != CDX_OK || (fmt != CDX_FMT_MISP && fmt != CDX_FMT_STIX))
        return cdx_errf(eb, CDX_ERR_INVALID, "--format %s: not misp or stix", format);
    cdx_fmt_opts o = {0};
    if (tlp && cdx_tlp_parse(tlp, &o.tlp) != CDX_OK)
        return cdx_errf(eb, CDX_ERR_INVALID, "--tlp: unknown label '%s'", tlp);
    cdx_items l = {0};
    cdx_err rc = cdx_fmt_import(fmt, &l, text, len, &o, eb);
    if (rc != CDX_OK)
        return rc;
    if (l.n != 1)
        rc = cdx_errf(eb, CDX_ERR_FORMAT,
                      "the input holds %zu events: publish one (with --lines, one a line)", l.n);
    else if (l.v[0].kind != CDX_ITEM_ALERT)
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "the input is an acknowledgement: use cydex ack");
    else
        rc = cdx_cydex_export(out, &l.v[0], NULL, eb);
    cdx_items_clear(&l);
    return rc;
}
