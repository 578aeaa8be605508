/* The control socket's requests read from their frames (see
 * control_parse.h). Every field is copied out of the message into a
 * NUL-terminated string; a request that is not of its form is refused
 * with a sentence saying what its form is, and holds nothing. */
#include "control_parse.h"

#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    node_verb verb;
} s_verbs[] = {{"publish", NODE_VERB_PUBLISH}, {"ack", NODE_VERB_ACK},
               {"roster", NODE_VERB_ROSTER},   {"status", NODE_VERB_STATUS},
               {"entries", NODE_VERB_ENTRIES}, {"alerts", NODE_VERB_ALERTS},
               {"show", NODE_VERB_SHOW}};

node_verb node_request_verb(const cdx_msg *m)
{
    if (m->n < 2)
        return NODE_VERB_UNKNOWN;
    for (size_t i = 0; i < sizeof s_verbs / sizeof *s_verbs; i++) {
        size_t len = strlen(s_verbs[i].name);
        if (m->frame[1].len == len && memcmp(m->frame[1].data, s_verbs[i].name, len) == 0)
            return s_verbs[i].verb;
    }
    return NODE_VERB_UNKNOWN;
}

bool node_verb_reads(node_verb v)
{
    return v == NODE_VERB_STATUS || v == NODE_VERB_ENTRIES || v == NODE_VERB_ALERTS ||
           v == NODE_VERB_SHOW;
}

/* A frame as a string (up to its first NUL, if it has one). */
static char *s_str(const cdx_bytes *f)
{
    char *s = malloc(f->len + 1);
    if (s) {
        if (f->len)
            memcpy(s, f->data, f->len);
        s[f->len] = '\0';
    }
    return s;
}

void node_request_clear(node_request *r)
{
    if (!r)
        return;
    free(r->topic);
    free(r->to);
    cdx_alert_clear(&r->alert);
    free(r->which);
    free(r->note);
    free(r->alert_id);
    memset(r, 0, sizeof *r);
}

static cdx_err s_parse(node_request *r, const cdx_msg *m, cdx_errbuf *eb)
{
    const cdx_bytes *f = m->frame;
    switch (r->verb) {
    case NODE_VERB_PUBLISH:
        if (m->n != 5)
            return cdx_errf(eb, CDX_ERR_FORMAT, "publish takes topic, recipients and the alert");
        r->topic = s_str(&f[2]);
        r->to = s_str(&f[3]);
        if (!r->topic || !r->to)
            return CDX_ERR_NOMEM;
        return cdx_json_to_alert_named(&r->alert, &r->named, (const char *)f[4].data, f[4].len, eb);
    case NODE_VERB_ACK: {
        if (m->n != 6)
            return cdx_errf(eb, CDX_ERR_FORMAT, "ack takes the alert, a stage, a note, an id");
        char *stage = s_str(&f[3]);
        r->which = s_str(&f[2]);
        r->note = s_str(&f[4]);
        r->alert_id = s_str(&f[5]);
        cdx_err rc = stage && r->which && r->note && r->alert_id ? CDX_OK : CDX_ERR_NOMEM;
        if (rc == CDX_OK && cdx_ack_stage_parse(stage, &r->stage) != CDX_OK)
            rc = cdx_errf(eb, CDX_ERR_FORMAT,
                          "unknown stage \"%s\" (one of " CDX_ACK_STAGE_NAMES ")", stage);
        free(stage);
        return rc;
    }
    case NODE_VERB_ROSTER:
        /* ["roster"][roster], or with ["again"]: publish the one in force again */
        r->again = m->n == 4 && f[3].len == 5 && memcmp(f[3].data, "again", 5) == 0;
        if (m->n != 3 && !r->again)
            return cdx_errf(eb, CDX_ERR_FORMAT, "roster takes one signed roster (and \"again\")");
        r->roster = f[2].data;
        r->roster_len = f[2].len;
        return CDX_OK;
    case NODE_VERB_STATUS: return m->n == 2 ? CDX_OK : CDX_ERR_INVALID;
    case NODE_VERB_ENTRIES: {
        if (m->n != 5)
            return CDX_ERR_INVALID;
        char *from = s_str(&f[2]), *max = s_str(&f[3]);
        r->topic = s_str(&f[4]);
        cdx_err rc = from && max && r->topic ? CDX_OK : CDX_ERR_NOMEM;
        r->from = UINT64_MAX;
        if (rc == CDX_OK && ((strcmp(from, "end") != 0 && !cdx_parse_u64(from, &r->from)) ||
                             !cdx_parse_u64(max, &r->limit) || r->limit == 0))
            rc = cdx_errf(eb, CDX_ERR_FORMAT,
                          "entries takes a start index or \"end\", and a positive count");
        free(from);
        free(max);
        return rc;
    }
    case NODE_VERB_ALERTS: {
        if (m->n != 4)
            return CDX_ERR_INVALID;
        char *which = s_str(&f[2]), *limit = s_str(&f[3]);
        cdx_err rc = which && limit ? CDX_OK : CDX_ERR_NOMEM;
        if (rc == CDX_OK && ((strcmp(which, "all") != 0 && strcmp(which, "unacked") != 0) ||
                             !cdx_parse_u64(limit, &r->limit)))
            rc = cdx_errf(eb, CDX_ERR_FORMAT, "alerts takes \"all\" or \"unacked\", and a limit");
        r->unacked = rc == CDX_OK && strcmp(which, "unacked") == 0;
        free(which);
        free(limit);
        return rc;
    }
    case NODE_VERB_SHOW:
        if (m->n != 3)
            return CDX_ERR_INVALID;
        r->which = s_str(&f[2]);
        return r->which ? CDX_OK : CDX_ERR_NOMEM;
    default: return cdx_errf(eb, CDX_ERR_FORMAT, "unknown request");
    }
}

cdx_err node_request_parse(node_request *out, const cdx_msg *m, cdx_errbuf *eb)
{
    memset(out, 0, sizeof *out);
    out->verb = node_request_verb(m);
    cdx_err rc = s_parse(out, m, eb);
    if (rc == CDX_ERR_INVALID) /* a read request with a wrong number of frames */
        rc = cdx_errf(eb, CDX_ERR_FORMAT, "wrong number of frames for this request");
    if (rc != CDX_OK) {
        node_verb v = out->verb;
        node_request_clear(out);
        out->verb = v;
    }
    return rc;
}
