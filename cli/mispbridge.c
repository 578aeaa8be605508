/* cydex relay --from-misp-zmq: the MISP bridge in. It subscribes to a MISP
 * instance's ZeroMQ feed (one frame per message, "<topic> <json>"), takes
 * the `misp_json` messages (a whole {"Event": ...} when an event is
 * published), maps each with the formats layer exactly as `cydex publish
 * --format misp` does, and publishes it through the local node. What must
 * always hold:
 *   - one result JSON line on stderr per misp_json message: published, or
 *     refused with its reason; a refusal never stops the bridge;
 *   - other topics (misp_json_event, misp_json_attribute...) and the
 *     misp_json_self heartbeat are passed over without a word;
 *   - the same event (uuid and timestamp) is one alert: its id is the
 *     event's uuid, and the node answers a second publish of the same id
 *     and content with its first envelope. An edited event (the same uuid,
 *     other content) is published as an update of it, with the id
 *     uuid5("misp-update:<uuid>:<timestamp>"), so an update sent twice is
 *     also one alert;
 *   - the feed's socket reconnects by itself when MISP restarts; only the
 *     node going away (69) or a signal (0) ends the bridge. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cli.h"
#include "cydex/formats.h"
#include "cydex/transport.h"
#include "mispbridge.h"

/* An event larger than this cannot map to an alert that fits an envelope. */
#define S_EVENT_MAX ((size_t)4 * CDX_ENVELOPE_MAX_DEFAULT)

static volatile sig_atomic_t s_stop;

static void s_on_signal(int sig)
{
    (void)sig;
    s_stop = 1;
}

/* Reads "user:password" (one line) from a file only its owner can read. */
static int s_read_auth(const char *path, char **user, char **pass)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cydex relay: --misp-auth %s: cannot open it\n", path);
        return 66;
    }
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
        fclose(f);
        fprintf(stderr,
                "cydex relay: --misp-auth %s: readable by others (mode %03o): chmod 600 it\n", path,
                (unsigned)(st.st_mode & 0777));
        return 77;
    }
    char line[1024] = "";
    bool got = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    char *colon = got ? strchr(line, ':') : NULL;
    if (!colon || colon == line) {
        fprintf(stderr, "cydex relay: --misp-auth %s: line 1: expected user:password\n", path);
        return 65;
    }
    *colon = '\0';
    *user = strdup(line);
    *pass = strdup(colon + 1);
    return *user && *pass ? CLI_OK : CLI_SOFTWARE;
}

/* Prints one result line: `o` gets the event's uuid and timestamp when
 * they are known, and is consumed. */
static void s_say(json_t *o, const char *uuid, const char *ts)
{
    if (uuid)
        json_object_set_new(o, "uuid", json_string(uuid));
    if (ts)
        json_object_set_new(o, "timestamp", json_string(ts));
    char *t = json_dumps(o, JSON_COMPACT);
    if (t)
        fprintf(stderr, "%s\n", t);
    free(t);
    json_decref(o);
    fflush(stderr);
}

static void s_refuse(uint64_t n, int ec, const char *why, const char *uuid, const char *ts)
{
    s_say(json_pack("{s:I,s:i,s:s}", "event", (json_int_t)n, "exit", ec, "error", why), uuid, ts);
}

/* Whether the alert is above GREEN (sealed to --to); CLEAR and GREEN never are. */
static bool s_above_green(const char *text)
{
    json_t *a = json_loads(text, 0, NULL);
    cdx_tlp tlp = CDX_TLP_CLEAR;
    const char *name = json_string_value(json_object_get(a, "tlp"));
    bool above = name && cdx_tlp_parse(name, &tlp) == CDX_OK && tlp > CDX_TLP_GREEN;
    json_decref(a);
    return above;
}

/* Publishes one alert; CLI_OK with the answer in *m, or the node's exit. */
static int s_publish(cli_node *nc, const cli_bridge_opts *o, const char *text, cdx_msg *m,
                     char *err, size_t errlen)
{
    const char *to = s_above_green(text) ? o->to : "";
    cdx_bytes fr[4] = {{(uint8_t *)"publish", 7},
                       {(uint8_t *)o->topic, strlen(o->topic)},
                       {(uint8_t *)to, strlen(to)},
                       {(uint8_t *)text, strlen(text)}};
    return cli_node_call(nc, fr, 4, m, err, errlen);
}

/* The alert as an update of the one with the event's uuid (its id). */
static char *s_as_update(const char *text, const char *uuid, const char *ts)
{
    json_t *a = json_loads(text, 0, NULL);
    const char *orig = json_string_value(json_object_get(a, "id"));
    char id[CDX_UUID_TEXT], name[200];
    snprintf(name, sizeof name, "misp-update:%s:%s", uuid, ts ? ts : "");
    cdx_fmt_uuid5(id, name);
    json_object_set_new(a, "updates", json_string(orig ? orig : uuid));
    json_object_set_new(a, "id", json_string(id));
    json_object_set_new(a, "msg_type", json_string("update"));
    char *out = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return out;
}

/* One misp_json message. Returns CLI_OK, or 69 when the node is gone. */
static int s_event(cli_node *nc, const cli_bridge_opts *o, uint64_t n, const char *js, size_t len)
{
    if (len > S_EVENT_MAX) {
        char why[200];
        snprintf(why, sizeof why,
                 "the event is %zu bytes, over the %zu MiB an event may have: no alert that big "
                 "fits an envelope",
                 len, S_EVENT_MAX >> 20);
        s_refuse(n, cli_exit_code(CDX_ERR_TOO_BIG), why, NULL, NULL);
        return CLI_OK;
    }
    json_error_t je;
    json_t *doc = json_loadb(js, len, 0, &je);
    if (!doc) {
        char why[300];
        snprintf(why, sizeof why, "not JSON: line %d column %d: %s", je.line, je.column, je.text);
        s_refuse(n, 65, why, NULL, NULL);
        return CLI_OK;
    }
    json_t *ev = json_object_get(doc, "Event");
    const char *uuid = json_string_value(json_object_get(ev, "uuid"));
    const char *ts = json_string_value(json_object_get(ev, "timestamp"));
    char u[64] = "", t[32] = "";
    snprintf(u, sizeof u, "%s", uuid ? uuid : "");
    snprintf(t, sizeof t, "%s", ts ? ts : "");
    json_decref(doc);
    const char *su = u[0] ? u : NULL, *st = t[0] ? t : NULL;

    cdx_errbuf eb = {0};
    char *mapped = NULL, *text = NULL;
    cdx_err rc = cli_format_alert(js, len, "misp", o->tlp, &mapped, &eb);
    if (rc == CDX_OK)
        rc = cli_alert_json(mapped, strlen(mapped), o->tlp, true, &text, &eb);
    free(mapped);
    if (rc != CDX_OK) {
        s_refuse(n, cli_exit_code(rc), cdx_errbuf_msg(&eb, rc), su, st);
        return CLI_OK;
    }
    cdx_msg m = {0};
    char err[400] = "";
    bool update = false;
    int ec = s_publish(nc, o, text, &m, err, sizeof err);
    if (ec == 73 && su) { /* the uuid is taken by other content: an edit */
        char *up = s_as_update(text, su, st);
        err[0] = '\0';
        ec = up ? s_publish(nc, o, up, &m, err, sizeof err) : CLI_SOFTWARE;
        update = true;
        free(up);
    }
    free(text);
    if (ec == CLI_OK) {
        char seq[32] = "";
        snprintf(seq, sizeof seq, "%.*s", (int)m.frame[2].len, (const char *)m.frame[2].data);
        json_t *r = json_pack("{s:I,s:s%,s:I}", "event", (json_int_t)n, "hash",
                              (const char *)m.frame[1].data, m.frame[1].len, "seq",
                              (json_int_t)strtoll(seq, NULL, 10));
        if (update)
            json_object_set_new(r, "update", json_true());
        s_say(r, su, st);
    } else if (ec != 69) {
        s_refuse(n, ec, err[0] ? err : "refused by the node", su, st);
    }
    cdx_msg_clear(&m);
    if (ec == 69)
        fprintf(stderr, "cydex relay: %s\n", err[0] ? err : "the node is gone");
    return ec == 69 ? 69 : CLI_OK;
}

int cli_misp_bridge(const cli_bridge_opts *o)
{
    char *user = NULL, *pass = NULL;
    int ec = o->auth ? s_read_auth(o->auth, &user, &pass) : CLI_OK;
    if (ec != CLI_OK)
        return ec;
    char err[400] = "";
    cli_node *nc = NULL;
    cdx_transport *t = NULL;
    cdx_sock *sub = NULL;
    cdx_errbuf eb = {0};
    ec = cli_node_open(&nc, o->node, err, sizeof err);
    if (ec != CLI_OK) {
        fprintf(stderr, "cydex relay: %s\n", err);
        goto out;
    }
    cdx_err rc = cdx_transport_new_local(&t, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_connect_feed(&sub, t, o->endpoint, user, pass, 0, &eb);
    if (rc == CDX_OK)
        rc = cdx_sock_subscribe(sub, "misp_json ");
    if (rc != CDX_OK) {
        ec = rc == CDX_ERR_INVALID ? 64 : cli_exit_code(rc);
        fprintf(stderr, "cydex relay: --from-misp-zmq %s: %s\n", o->endpoint,
                cdx_errbuf_msg(&eb, rc));
        goto out;
    }
    signal(SIGINT, s_on_signal);
    signal(SIGTERM, s_on_signal);
    signal(SIGPIPE, SIG_IGN);
    uint64_t n = 0;
    while (!s_stop && ec == CLI_OK) {
        cdx_msg m;
        rc = cdx_sock_recv(sub, &m, 200);
        if (rc == CDX_ERR_TIMEOUT)
            continue;
        if (rc != CDX_OK) {
            if (s_stop)
                break;
            fprintf(stderr, "cydex relay: the MISP feed: %s\n", cdx_errname(rc));
            ec = cli_exit_code(rc);
            break;
        }
        /* One frame, "<topic> <json>"; the subscription already holds the
         * space, but a publisher's extra frames or another prefix are
         * still passed over here. */
        const char *d = m.n ? (const char *)m.frame[0].data : "";
        size_t len = m.n ? m.frame[0].len : 0;
        if (m.n == 1 && len >= 10 && memcmp(d, "misp_json ", 10) == 0)
            ec = s_event(nc, o, ++n, d + 10, len - 10);
        cdx_msg_clear(&m);
    }
out:
    cdx_sock_destroy(&sub);
    cdx_transport_destroy(&t);
    cli_node_close(&nc);
    free(user);
    free(pass);
    return ec;
}
