/* CAP 1.2 out: every document CyDEx writes (alerts of each label, status
 * and message type, sealed ones, acks) validates with xmllint against
 * formats/testdata/cap-1.2-rules.xsd, the CAP 1.2 rules written as a
 * schema; the rules a schema cannot say are checked here by reading the
 * document back: a Restricted scope has its restriction, a Private one
 * its recipients' addresses, times carry an offset and no Z, an update or
 * ack names what it refers to. What XML cannot hold is refused. */
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cydex/formats.h"
#include "fixture.h"
#include "fmt_test.h"

static fixture F;
static char s_dir[256];
static unsigned s_files;

/* Runs xmllint on the document; true when it validates (what it said
 * goes to stderr when not, unless quiet). */
static bool s_check(const char *xml, size_t len, bool quiet)
{
    char path[320], cmd[1024];
    snprintf(path, sizeof path, "%s/cap%u.xml", s_dir, s_files++);
    FILE *f = fopen(path, "wb");
    REQUIRE(f && fwrite(xml, 1, len, f) == len);
    fclose(f);
    snprintf(cmd, sizeof cmd, "xmllint --noout --schema %s/cap-1.2-rules.xsd %s 2>%s.err",
             CDX_FORMATS_DATA, path, path);
    int rc = system(cmd);
    if (rc != 0 && !quiet) {
        snprintf(cmd, sizeof cmd, "cat %s.err >&2", path);
        if (system(cmd) != 0)
            fprintf(stderr, "(no xmllint output)\n");
    }
    return rc == 0;
}

static bool s_valid(const char *xml, size_t len)
{
    return s_check(xml, len, false);
}

static xmlNodePtr s_child(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* The text of a child (static buffer), "" when absent. */
static const char *s_text(xmlNodePtr n, const char *name)
{
    static char buf[4][8192];
    static int k;
    char *out = buf[k++ % 4];
    xmlNodePtr c = s_child(n, name);
    xmlChar *t = c ? xmlNodeGetContent(c) : NULL;
    snprintf(out, 8192, "%s", t ? (const char *)t : "");
    xmlFree(t);
    return out;
}

/* The value of the nth parameter called name. */
static const char *s_param(xmlNodePtr info, const char *name, int nth)
{
    for (xmlNodePtr c = info ? info->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, "parameter") == 0 &&
            strcmp(s_text(c, "valueName"), name) == 0 && nth-- == 0)
            return s_text(c, "value");
    return NULL;
}

static xmlDocPtr s_parse(const char *xml, size_t len)
{
    xmlDocPtr d = xmlReadMemory(xml, (int)len, "cap.xml", "UTF-8", XML_PARSE_NONET);
    REQUIRE(d != NULL);
    xmlNodePtr root = xmlDocGetRootElement(d);
    REQUIRE(root && strcmp((const char *)root->name, "alert") == 0);
    REQUIRE(root->ns &&
            strcmp((const char *)root->ns->href, "urn:oasis:names:tc:emergency:cap:1.2") == 0);
    return d;
}

/* A signed alert (consumed) as an item; sealed to FR and DE when asked. */
static void s_signed(cdx_item *it, uint64_t seq, cdx_alert *alert, bool sealed)
{
    cdx_body b;
    uint8_t prev[32] = {9};
    fixture_body(&b, "EE", seq, seq > 1 ? prev : NULL, "alert.energy", FIXTURE_T0 + seq * 1000 + 7);
    cdx_member to[2] = {*cdx_roster_find(F.roster, "FR"), *cdx_roster_find(F.roster, "DE")};
    fmt_test_item(it, &F, F.ee, &b, alert, to, sealed ? 2 : 0);
}

static void test_alerts(void)
{
    cdx_fmt_seen *seen = NULL;
    REQUIRE(cdx_fmt_seen_new(&seen, 8) == CDX_OK);
    static const char *const scopes[] = {"",           "Public",  "Restricted",
                                         "Restricted", "Private", "Private"};
    static const char *const statuses[] = {"", "Actual", "Exercise", "Test"};
    static const char *const types[] = {"", "Alert", "Update", "Cancel"};
    static const char *const severities[] = {"Unknown", "Minor", "Moderate", "Severe", "Extreme"};
    for (int v = 0; v < 8; v++) {
        cdx_tlp tlp = (cdx_tlp)(1 + v % 5);
        cdx_alert a;
        fixture_alert(&a, tlp, 0);
        free(a.description);
        a.description = strdup("Line one & <two>.\nLine two, \"quoted\".");
        a.status = (cdx_alert_status)(1 + v % 3);
        a.severity = (cdx_severity)(v % 5);
        if (v >= 1 && v <= 4) { /* each its own alert: only variant 0 is 6f1c2a9e-… */
            char id[40];
            snprintf(id, sizeof id, "3333333%d-4444-4555-8666-777777777777", v);
            free(a.id);
            a.id = strdup(id);
        }
        if (v >= 5) {
            free(a.id);
            a.id = strdup(v == 5 ? "11111111-2222-4333-8444-555555555555"
                                 : "22222222-3333-4444-8555-666666666666");
            a.msg_type = v == 5 ? CDX_MSG_UPDATE : CDX_MSG_CANCEL;
            a.updates = strdup("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41"); /* v 0's */
        }
        cdx_alert_status status = a.status;
        cdx_severity severity = a.severity;
        cdx_msg_type mt = a.msg_type;
        cdx_item it;
        bool sealed = cdx_tlp_requires_seal(tlp) || v == 7;
        s_signed(&it, 1 + (uint64_t)v, &a, sealed);
        cdx_fmt_opts o = {.seen = seen, .with_envelope = v == 2, .pretty = v % 2 == 1};
        char *xml = NULL;
        size_t len = 0;
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_cap_export(&xml, &len, &it, &o, &eb);
        if (rc != CDX_OK)
            fprintf(stderr, "variant %d: %s\n", v, eb.msg);
        REQUIRE(rc == CDX_OK);
        CHECK(s_valid(xml, len));
        if (!o.pretty)
            CHECK(memchr(xml, '\n', len) == NULL); /* one line */
        xmlDocPtr d = s_parse(xml, len);
        xmlNodePtr root = xmlDocGetRootElement(d), info = s_child(root, "info");
        CHECK_STR(s_text(root, "identifier"), it.alert.id);
        CHECK_STR(s_text(root, "sender"), "EE");
        char sent[40];
        snprintf(sent, sizeof sent, "2025-11-24T16:00:%02d-00:00", 1 + v);
        CHECK_STR(s_text(root, "sent"), sent);
        CHECK(strchr(s_text(root, "sent"), 'Z') == NULL);
        CHECK_STR(s_text(root, "status"), statuses[status]);
        CHECK_STR(s_text(root, "msgType"), types[mt]);
        const char *scope = sealed ? "Private" : scopes[tlp];
        CHECK_STR(s_text(root, "scope"), scope);
        if (strcmp(scope, "Restricted") == 0)
            CHECK(*s_text(root, "restriction"));
        if (strcmp(scope, "Private") == 0)
            CHECK_STR(s_text(root, "addresses"), "FR DE");
        char code[32];
        snprintf(code, sizeof code, "TLP:%s", cdx_tlp_name(tlp));
        CHECK_STR(s_text(root, "code"), code);
        if (mt != CDX_MSG_ALERT)
            CHECK_STR(s_text(root, "references"),
                      "EE,6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41,2025-11-24T16:00:01-00:00");
        CHECK_STR(s_text(info, "category"), "Security");
        CHECK_STR(s_text(info, "event"), "ransomware");
        CHECK_STR(s_text(info, "severity"), severities[severity]);
        CHECK_STR(s_text(info, "headline"), "Ransomware wave against hospitals");
        CHECK_STR(s_text(info, "description"), "Line one & <two>.\nLine two, \"quoted\".");
        CHECK_STR(s_text(info, "expires"), "2025-12-01T16:00:00-00:00");
        CHECK_STR(s_param(info, "cydex:indicator:ip-dst", 0), "203.0.113.7");
        CHECK_STR(s_param(info, "cydex:indicator-comment", 0), "C2");
        CHECK_STR(s_param(info, "cydex:sector", 0), "health");
        CHECK_STR(s_param(info, "cydex:sender", 0), "EE");
        char seq[8];
        snprintf(seq, sizeof seq, "%d", 1 + v);
        CHECK_STR(s_param(info, "cydex:seq", 0), seq);
        CHECK_STR(s_param(info, "cydex:topic", 0), "alert.energy");
        char hash[65];
        cdx_hex_encode(hash, it.prov.hash, 32);
        CHECK_STR(s_param(info, "cydex:envelope-hash", 0), hash);
        if (sealed)
            CHECK_STR(s_param(info, "cydex:recipient", 1), "DE");
        if (v == 2) {
            const char *b64 = s_param(info, "cydex:envelope", 0);
            cdx_bytes env = {0};
            REQUIRE(b64 && cdx_base64_decode(&env, b64) == CDX_OK);
            CHECK(env.len == it.prov.envelope.len &&
                  memcmp(env.data, it.prov.envelope.data, env.len) == 0);
            cdx_bytes_free(&env);
        }
        char *again = NULL;
        size_t alen = 0;
        REQUIRE(cdx_cap_export(&again, &alen, &it, &o, &eb) == CDX_OK);
        CHECK(alen == len && memcmp(again, xml, len) == 0);
        free(again);
        xmlFreeDoc(d);
        cdx_fmt_seen_add(seen, &it);
        free(xml);
        cdx_item_clear(&it);
    }
    cdx_fmt_seen_destroy(&seen);
}

static void test_ack(void)
{
    cdx_fmt_seen *seen = NULL;
    REQUIRE(cdx_fmt_seen_new(&seen, 8) == CDX_OK);
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_GREEN, 10);
    cdx_item alert;
    s_signed(&alert, 1, &a, false);
    cdx_fmt_seen_add(seen, &alert);
    cdx_body b;
    fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 60000);
    b.kind = CDX_PAYLOAD_ACK;
    memcpy(b.ack.alert_hash, alert.prov.hash, 32);
    b.ack.alert_id = strdup(alert.alert.id);
    b.ack.stage = CDX_ACK_NOT_AFFECTED;
    b.ack.note = strdup("no such VPN here");
    cdx_bytes bytes = {0};
    cdx_envelope *env = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_envelope_sign(F.fr, &b, &bytes, NULL, &eb) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&env, F.roster, bytes.data, bytes.len, NULL, &eb) == CDX_OK);
    cdx_item it;
    REQUIRE(cdx_item_from_envelope(&it, env, NULL, true, &eb) == CDX_OK);
    for (int with_seen = 0; with_seen < 2; with_seen++) {
        cdx_fmt_opts o = {.seen = with_seen ? seen : NULL, .with_envelope = true};
        char *xml = NULL;
        size_t len = 0;
        REQUIRE(cdx_cap_export(&xml, &len, &it, &o, &eb) == CDX_OK);
        CHECK(s_valid(xml, len));
        xmlDocPtr d = s_parse(xml, len);
        xmlNodePtr root = xmlDocGetRootElement(d), info = s_child(root, "info");
        CHECK_STR(s_text(root, "msgType"), "Ack");
        CHECK_STR(s_text(root, "sender"), "FR");
        CHECK_STR(s_text(root, "note"), "no such VPN here");
        CHECK_STR(s_text(root, "references"),
                  with_seen ? "EE,6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41,2025-11-24T16:00:01-00:00"
                            : "");
        CHECK_STR(s_param(info, "cydex:ack-stage", 0), "not-affected");
        char hash[65];
        cdx_hex_encode(hash, alert.prov.hash, 32);
        CHECK_STR(s_param(info, "cydex:alert-hash", 0), hash);
        CHECK(s_param(info, "cydex:envelope", 0) != NULL);
        xmlFreeDoc(d);
        free(xml);
    }
    cdx_item_clear(&it);
    cdx_item_clear(&alert);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&bytes);
    cdx_body_clear(&b);
    cdx_fmt_seen_destroy(&seen);
}

static void test_refusals(void)
{
    cdx_item it = {.kind = CDX_ITEM_ALERT};
    fixture_alert(&it.alert, CDX_TLP_GREEN, 10);
    char *xml = NULL;
    size_t len = 0;
    cdx_errbuf eb = {0};
    CHECK_EQ(cdx_cap_export(&xml, &len, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "names its sender") != NULL);
    cdx_fmt_opts o = {.sender = "EE", .now_ms = FIXTURE_T0};
    REQUIRE(cdx_cap_export(&xml, &len, &it, &o, &eb) == CDX_OK);
    CHECK(s_valid(xml, len));
    /* The checker itself refuses a "Z" time and a missing element. */
    char *z = strstr(xml, "-00:00</sent>");
    REQUIRE(z);
    memcpy(z, "+00:0Z", 6);
    CHECK(!s_check(xml, len, true));
    free(xml);
    it.alert.description[3] = '\x01';
    CHECK_EQ(cdx_cap_export(&xml, &len, &it, &o, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.description: holds a control character") != NULL);
    CHECK(xml == NULL);
    it.alert.description[3] = 'x';
    it.alert.tlp = CDX_TLP_RED; /* not sealed: no recipients for Private */
    CHECK_EQ(cdx_cap_export(&xml, &len, &it, &o, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.tlp") != NULL);
    it.alert.tlp = CDX_TLP_GREEN;
    o.with_envelope = true;
    CHECK_EQ(cdx_cap_export(&xml, &len, &it, &o, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "--with-envelope") != NULL);
    cdx_item_clear(&it);
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    test_alerts();
    test_ack();
    test_refusals();
    fixture_rmtree(s_dir);
    fixture_free(&F);
    return check_done("formats_cap_test");
}
