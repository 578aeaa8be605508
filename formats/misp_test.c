/* MISP event JSON both ways, as a MISP user and a CyDEx relay see it:
 * events written from the MISP core format (formats/testdata) map field by
 * field and back (MISP -> CyDEx -> MISP); signed CyDEx alerts and acks
 * export and come back whole with their provenance and envelope (CyDEx ->
 * MISP -> CyDEx); an edited event no longer matches its envelope; what
 * cannot map is refused naming the field, or left out and said with lossy;
 * bad input gets a named error. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "cydex/formats.h"
#include "fixture.h"
#include "fmt_test.h"

static fixture F;

/* Imports MISP text that holds one item. */
static cdx_err s_import1(const char *text, const cdx_fmt_opts *o, cdx_item *out, cdx_errbuf *eb)
{
    cdx_items l = {0};
    cdx_err rc = cdx_fmt_import(CDX_FMT_MISP, &l, text, strlen(text), o, eb);
    memset(out, 0, sizeof *out);
    if (rc == CDX_OK) {
        REQUIRE(l.n == 1);
        *out = l.v[0];
        free(l.v);
    }
    return rc;
}

static cdx_err s_err(const char *text, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    cdx_item it;
    cdx_err rc = s_import1(text, o, &it, eb);
    cdx_item_clear(&it);
    return rc;
}

/* An item from an envelope EE (or `who`) signs: `alert` (consumed), sealed
 * to `to` (NULL: in the clear), opened as FR when sealed. */
static void s_signed(cdx_item *it, const cdx_identity *who, uint64_t seq, cdx_alert *alert,
                     const char *to)
{
    cdx_body b;
    uint8_t prev[32] = {7};
    fixture_body(&b, cdx_identity_id(who), seq, seq > 1 ? prev : NULL, "alert.health",
                 FIXTURE_T0 + seq * 60000);
    const cdx_member *m = to ? cdx_roster_find(F.roster, to) : NULL;
    REQUIRE(!to || m != NULL);
    fmt_test_item(it, &F, who, &b, alert, m, m ? 1 : 0);
}

static bool s_prov_same(const cdx_provenance *a, const cdx_provenance *b)
{
    bool same = a->known == b->known && strcmp(a->sender, b->sender) == 0 && a->seq == b->seq &&
                a->sent_at_ms == b->sent_at_ms && strcmp(a->topic, b->topic) == 0 &&
                memcmp(a->hash, b->hash, 32) == 0 && a->sealed == b->sealed &&
                a->n_recipients == b->n_recipients;
    for (size_t i = 0; same && i < a->n_recipients; i++)
        same = strcmp(a->recipients[i], b->recipients[i]) == 0;
    return same;
}

static json_t *s_json(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    REQUIRE(j != NULL);
    return j;
}

static bool s_has_tag(json_t *ev, const char *name)
{
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(ev, "Tag"), i,
                       t) if (strcmp(json_string_value(json_object_get(t, "name")), name) ==
                              0) return true;
    return false;
}

static const char *s_jstr(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* The attributes of an event that are content (not deleted), in order,
 * as "type|category|value|to_ids|comment". */
static size_t s_attrs(json_t *ev, char out[][400], size_t cap)
{
    size_t n = 0, i;
    json_t *a;
    json_array_foreach(json_object_get(ev, "Attribute"), i, a)
    {
        if (json_is_true(json_object_get(a, "deleted")) || n == cap)
            continue;
        snprintf(out[n++], 400, "%s|%s|%s|%d|%s", s_jstr(a, "type"), s_jstr(a, "category"),
                 s_jstr(a, "value"), json_is_true(json_object_get(a, "to_ids")),
                 s_jstr(a, "comment"));
    }
    return n;
}

static cdx_orgs *s_orgs(void)
{
    const char *t = "{\"EE\": {\"uuid\": \"5cf66e53-b5f8-43e7-be9e-49880a3b4631\", \"name\": "
                    "\"CERT-EE\"}}";
    cdx_orgs *o = NULL;
    REQUIRE(cdx_orgs_parse(&o, t, strlen(t), NULL) == CDX_OK);
    return o;
}

/* MISP -> CyDEx: every mapped field of a realistic event. */
static void test_misp_to_cydex(void)
{
    char *text = fmt_test_read("misp-event-ransomware.json");
    cdx_item it;
    cdx_errbuf eb = {0};
    cdx_err rc = s_import1(text, NULL, &it, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "import: %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    const cdx_alert *a = &it.alert;
    CHECK_EQ(it.kind, CDX_ITEM_ALERT);
    CHECK_STR(a->id, "4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63");
    CHECK_STR(a->title, "Ransomware wave against hospitals: LockBit affiliate, initial access "
                        "over VPN");
    CHECK_EQ(a->tlp, CDX_TLP_AMBER);
    CHECK_EQ(a->severity, CDX_SEVERITY_SEVERE); /* threat level 1, no cydex:severity */
    CHECK_EQ(a->status, CDX_STATUS_ACTUAL);
    CHECK_EQ(a->msg_type, CDX_MSG_ALERT);
    CHECK(a->updates == NULL);
    CHECK(strncmp(a->description, "Three hospitals report", 22) == 0);
    REQUIRE(a->n_indicators == 6); /* the deleted attribute is not content */
    const char *want[6][3] = {
        {"ip-dst", "203.0.113.7", "C2 server seen in three hospitals"},
        {"domain", "update-check.example.net", ""},
        {"sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "encryptor"},
        {"url", "https://update-check.example.net/v2/agent.bin", "payload download"},
        {"vulnerability", "CVE-2024-21762", "VPN concentrator, initial access"},
        {"link", "https://vendor.example/psirt/FG-IR-24-015", "vendor advisory"},
    };
    for (size_t i = 0; i < 6; i++) {
        CHECK_STR(a->indicators[i].type, want[i][0]);
        CHECK_STR(a->indicators[i].value, want[i][1]);
        CHECK_STR(a->indicators[i].comment ? a->indicators[i].comment : "", want[i][2]);
    }
    REQUIRE(a->n_sectors == 1);
    CHECK_STR(a->sectors[0], "health");
    CHECK_EQ(a->n_references, 0);
    CHECK(!it.prov.known); /* a MISP user's event: no CyDEx provenance */
    cdx_item_clear(&it);
    free(text);

    /* An update, with MISP's update taxonomy and extends_uuid. */
    text = fmt_test_read("misp-event-update.json");
    REQUIRE(s_import1(text, NULL, &it, &eb) == CDX_OK);
    CHECK_EQ(it.alert.msg_type, CDX_MSG_UPDATE);
    CHECK_STR(it.alert.updates, "4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63");
    CHECK_EQ(it.alert.tlp, CDX_TLP_GREEN);
    CHECK_EQ(it.alert.severity, CDX_SEVERITY_MODERATE);
    CHECK_EQ(it.alert.n_indicators, 5);
    CHECK_STR(it.alert.indicators[0].value, "2001:db8::7");
    CHECK_STR(it.alert.indicators[4].type, "yara");
    CHECK_EQ(it.alert.n_sectors, 2);
    cdx_item_clear(&it);
    free(text);

    /* TLP:RED, an exercise. */
    text = fmt_test_read("misp-event-red.json");
    REQUIRE(s_import1(text, NULL, &it, &eb) == CDX_OK);
    CHECK_EQ(it.alert.tlp, CDX_TLP_RED);
    CHECK_EQ(it.alert.status, CDX_STATUS_EXERCISE);
    CHECK_EQ(it.alert.n_indicators, 4);
    CHECK_STR(it.alert.indicators[2].value,
              "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\ScadaSync");
    cdx_item_clear(&it);
    free(text);

    /* A REST answer of two events: TLP:WHITE is CLEAR, rsit:test a test. */
    text = fmt_test_read("misp-rest-response.json");
    cdx_items l = {0};
    REQUIRE(cdx_fmt_import(CDX_FMT_MISP, &l, text, strlen(text), NULL, &eb) == CDX_OK);
    REQUIRE(l.n == 2);
    CHECK_EQ(l.v[0].alert.tlp, CDX_TLP_CLEAR);
    CHECK_STR(l.v[0].alert.sectors[0], "public-administration");
    CHECK_EQ(l.v[1].alert.tlp, CDX_TLP_CLEAR);
    CHECK_EQ(l.v[1].alert.status, CDX_STATUS_TEST);
    CHECK_EQ(l.v[1].alert.severity, CDX_SEVERITY_MINOR);
    char *many = NULL;
    REQUIRE(cdx_misp_export_many(&many, &l, NULL, &eb) == CDX_OK);
    json_t *resp = s_json(many);
    CHECK_EQ(json_array_size(json_object_get(resp, "response")), 2);
    json_decref(resp);
    free(many);
    cdx_items_clear(&l);
    free(text);
}

/* MISP -> CyDEx -> MISP: every field that maps comes back. */
static void test_misp_round_trip(void)
{
    const char *files[] = {"misp-event-ransomware.json", "misp-event-update.json",
                           "misp-event-red.json"};
    cdx_orgs *orgs = s_orgs();
    cdx_fmt_opts o = {.orgs = orgs, .now_ms = FIXTURE_T0}; /* the sender: from Orgc */
    for (size_t f = 0; f < 3; f++) {
        char *text = fmt_test_read(files[f]);
        cdx_item it;
        cdx_errbuf eb = {0};
        REQUIRE(s_import1(text, &o, &it, &eb) == CDX_OK);
        char *back = NULL;
        REQUIRE(cdx_misp_export(&back, &it, &o, &eb) == CDX_OK);
        json_t *dx = s_json(text), *dy = s_json(back);
        json_t *x = json_object_get(dx, "Event"), *y = json_object_get(dy, "Event");
        CHECK_STR(s_jstr(y, "uuid"), s_jstr(x, "uuid"));
        CHECK_STR(s_jstr(y, "info"), s_jstr(x, "info"));
        CHECK_STR(s_jstr(y, "threat_level_id"), s_jstr(x, "threat_level_id"));
        CHECK_STR(s_jstr(y, "extends_uuid"), s_jstr(x, "extends_uuid"));
        CHECK_STR(s_jstr(json_object_get(y, "Orgc"), "uuid"),
                  s_jstr(json_object_get(x, "Orgc"), "uuid"));
        CHECK_STR(s_jstr(json_object_get(y, "Orgc"), "name"),
                  s_jstr(json_object_get(x, "Orgc"), "name"));
        /* Every tag comes back; the only new ones are cydex: tags. */
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(x, "Tag"), i, t)
        {
            const char *name = s_jstr(t, "name");
            bool white = strcmp(name, "tlp:white") == 0;
            CHECK(s_has_tag(y, white ? "tlp:clear" : name));
        }
        json_array_foreach(json_object_get(y, "Tag"), i, t)
        {
            const char *name = s_jstr(t, "name");
            CHECK(s_has_tag(x, name) || strncmp(name, "cydex:", 6) == 0);
        }
        static char ax[16][400], ay[16][400];
        size_t nx = s_attrs(x, ax, 16), ny = s_attrs(y, ay, 16);
        CHECK_EQ(nx, ny);
        for (size_t k = 0; k < nx && k < ny; k++)
            CHECK_STR(ay[k], ax[k]);
        json_t *rx = json_array_get(json_object_get(x, "EventReport"), 0),
               *ry = json_array_get(json_object_get(y, "EventReport"), 0);
        CHECK_STR(s_jstr(ry, "content"), s_jstr(rx, "content"));
        json_decref(dx);
        json_decref(dy);
        cdx_item_clear(&it);
        free(back);
        free(text);
    }
    cdx_orgs_destroy(&orgs);
}

/* CyDEx -> MISP -> CyDEx: every alert field, the provenance and the signed
 * envelope come back, for each TLP, severity, status and message type. */
static void test_cydex_round_trip(void)
{
    for (int variant = 0; variant < 8; variant++) {
        cdx_alert a;
        fixture_alert(&a, CDX_TLP_GREEN, 120);
        a.severity = (cdx_severity)(variant % 5);
        a.status = (cdx_alert_status)(1 + variant % 3);
        a.tlp = (cdx_tlp)(1 + variant % 2); /* in the clear: CLEAR, GREEN */
        if (variant == 3 || variant == 4) {
            a.msg_type = variant == 3 ? CDX_MSG_UPDATE : CDX_MSG_CANCEL;
            a.updates = strdup("0b5a4d1c-2e3f-4a5b-8c6d-7e8f9a0b1c2d");
        }
        if (variant == 5) { /* an id MISP cannot take: v7 */
            free(a.id);
            a.id = strdup("01890a5d-ac96-774b-bcce-b302099a8057");
        }
        if (variant == 6) /* a NIS2 sector and another */
            REQUIRE((a.sectors = realloc(a.sectors, 2 * sizeof *a.sectors)) &&
                    (a.sectors[a.n_sectors++] = strdup("elections")));
        const char *to = NULL;
        if (variant == 7) { /* sealed: RED to FR */
            a.tlp = CDX_TLP_RED;
            to = "FR";
        }
        cdx_alert copy;
        REQUIRE(cdx_alert_copy(&copy, &a) == CDX_OK);
        cdx_item it, back;
        s_signed(&it, F.ee, 3 + (uint64_t)variant, &a, to);
        cdx_fmt_opts o = {.with_envelope = true};
        char *json = NULL, *again = NULL;
        cdx_errbuf eb = {0};
        cdx_err rc = cdx_misp_export(&json, &it, &o, &eb);
        if (rc != CDX_OK)
            fprintf(stderr, "variant %d: %s\n", variant, eb.msg);
        REQUIRE(rc == CDX_OK);
        rc = s_import1(json, NULL, &back, &eb);
        if (rc != CDX_OK)
            fprintf(stderr, "variant %d: %s\n%s\n", variant, eb.msg, json);
        REQUIRE(rc == CDX_OK);
        CHECK(cdx_alert_same(&back.alert, &copy));
        CHECK_STR(back.alert.id, copy.id);
        CHECK(s_prov_same(&back.prov, &it.prov));
        CHECK_EQ(back.prov.envelope.len, it.prov.envelope.len);
        CHECK(back.prov.envelope.len &&
              memcmp(back.prov.envelope.data, it.prov.envelope.data, it.prov.envelope.len) == 0);
        /* A re-export is the same bytes. */
        REQUIRE(cdx_misp_export(&again, &back, &o, &eb) == CDX_OK);
        CHECK_STR(again, json);
        json_t *doc = s_json(json), *ev = json_object_get(doc, "Event");
        char tag[96];
        snprintf(tag, sizeof tag, "tlp:%s",
                 copy.tlp == CDX_TLP_RED     ? "red"
                 : copy.tlp == CDX_TLP_CLEAR ? "clear"
                 : copy.tlp == CDX_TLP_GREEN ? "green"
                                             : "amber");
        CHECK(s_has_tag(ev, tag));
        CHECK(s_has_tag(ev, "cydex:sender=\"EE\""));
        if (variant == 0) /* the name docs/formats.md gives, as Python's uuid5 makes it */
            CHECK(strstr(json, "\"uuid\":\"6ee128d2-e7cc-57fb-b7a1-d3e3d580432d\"") != NULL);
        if (variant == 7)
            CHECK(s_has_tag(ev, "cydex:recipient=\"FR\""));
        if (variant == 5)
            CHECK(s_has_tag(ev, "cydex:alert-id=\"01890a5d-ac96-774b-bcce-b302099a8057\""));
        json_decref(doc);
        free(json);
        free(again);
        cdx_alert_clear(&copy);
        cdx_item_clear(&it);
        cdx_item_clear(&back);
    }
}

/* Replaces the first `from` in s by `to` (a new string). */
static char *s_edit(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    REQUIRE(at != NULL);
    size_t n = strlen(s) - strlen(from) + strlen(to);
    char *r = malloc(n + 1);
    REQUIRE(r);
    size_t pre = (size_t)(at - s);
    memcpy(r, s, pre);
    strcpy(r + pre, to);
    strcat(r, at + strlen(from));
    return r;
}

/* An event edited after export no longer matches its envelope. */
static void test_tampering(void)
{
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_GREEN, 10);
    cdx_item it;
    s_signed(&it, F.ee, 1, &a, NULL);
    cdx_fmt_opts o = {.with_envelope = true};
    char *json = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_misp_export(&json, &it, &o, &eb) == CDX_OK);
    char *edited = s_edit(json, "Ransomware wave against hospitals", "Nothing to see here");
    CHECK_EQ(s_err(edited, NULL, &eb), CDX_ERR_CORRUPT);
    CHECK(strstr(eb.msg, "differs from the one its carried envelope signs") != NULL);
    free(edited);
    edited = s_edit(json, "cydex:seq=\\\"1\\\"", "cydex:seq=\\\"2\\\"");
    CHECK_EQ(s_err(edited, NULL, &eb), CDX_ERR_CORRUPT);
    free(edited);
    /* Without the envelope, the provenance tags alone are taken as said. */
    char *plain = NULL;
    REQUIRE(cdx_misp_export(&plain, &it, NULL, &eb) == CDX_OK);
    CHECK(strstr(plain, "attachment") == NULL);
    edited = s_edit(plain, "Ransomware wave against hospitals", "Nothing to see here");
    CHECK_EQ(s_err(edited, NULL, &eb), CDX_OK);
    free(edited);
    free(plain);
    free(json);
    cdx_item_clear(&it);
}

static unsigned s_notes;
static void s_count(void *ctx, const char *sentence)
{
    (void)ctx;
    (void)sentence;
    s_notes++;
}

/* Strict by default, naming the field; lossy leaves it out and says so. */
static void test_unmapped(void)
{
    char *text = fmt_test_read("misp-event-lossy.json");
    cdx_errbuf eb = {0};
    CHECK_EQ(s_err(text, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "Event.Tag[1] \"misp-galaxy:threat-actor") != NULL);
    cdx_fmt_opts o = {.lossy = true, .note = s_count};
    cdx_item it;
    s_notes = 0;
    REQUIRE(s_import1(text, &o, &it, &eb) == CDX_OK);
    /* two tags, a category, the btc type, the object's grouping */
    CHECK_EQ(s_notes, 5);
    REQUIRE(it.alert.n_indicators == 3);
    CHECK_STR(it.alert.indicators[0].type, "sha256");
    CHECK_STR(it.alert.indicators[1].value, "libbuild.so");
    CHECK_STR(it.alert.indicators[2].type, "md5");
    cdx_item_clear(&it);
    free(text);

    /* Each unmappable thing alone, by name. */
    static const struct {
        const char *doc, *says;
    } cases[] = {
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":[{\"type\":\"btc\",\"value\":\"1A\"}]}}",
         "Event.Attribute[0].type: \"btc\" is not an attribute type CyDEx maps"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"1.2.3."
         "4\","
         "\"category\":\"Payload delivery\"}]}}",
         "Event.Attribute[0].category: \"Payload delivery\""},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"}],\"Attribute\":[{\"type\":\"ip-dst\",\"value\":\"1.2.3."
         "4\","
         "\"to_ids\":false}]}}",
         "Event.Attribute[0].to_ids"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\"}}",
         "no tlp: tag"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"},{\"name\":\"tlp:red\"}]}}",
         "CyDEx takes one label"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"threat_level_id\":\"3\",\"Tag\":[{\"name\":\"tlp:green\"},"
         "{\"name\":\"cydex:severity=\\\"extreme\\\"\"}]}}",
         "contradicts threat_level_id"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"}],\"Galaxy\":[{\"name\":\"Threat Actor\"}]}}",
         "Event.Galaxy"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&eb, 0, sizeof eb);
        CHECK_EQ(s_err(cases[i].doc, NULL, &eb), CDX_ERR_UNSUPPORTED);
        if (!strstr(eb.msg, cases[i].says))
            fprintf(stderr, "case %zu said: %s\n", i, eb.msg);
        CHECK(strstr(eb.msg, cases[i].says) != NULL);
    }
    /* --tlp gives the label a MISP event lacks. */
    o = (cdx_fmt_opts){.tlp = CDX_TLP_AMBER};
    REQUIRE(s_import1(cases[3].doc, &o, &it, &eb) == CDX_OK);
    CHECK_EQ(it.alert.tlp, CDX_TLP_AMBER);
    cdx_item_clear(&it);
}

/* Malformed input: named, and nothing returned. */
static void test_malformed(void)
{
    static const struct {
        const char *doc, *says;
    } cases[] = {
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":3}}",
         "Event.info: expected a string"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"threat_level_id\":true}}",
         "Event.threat_level_id: expected a whole number"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"threat_level_id\":\"7\"}}",
         "Event.threat_level_id: 7 is not 1 to 4"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Attribute\":{}}}",
         "Event.Attribute: expected an array"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Attribute\":[{\"type\":\"ip-dst\",\"value\":5}]}}",
         "Event.Attribute[0].value: expected a string"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":5}]}}",
         "Event.Tag[0].name: expected a string"},
        {"{\"Event\":{\"uuid\":\"01890a5d-ac96-774b-bcce-b302099a8057\",\"info\":\"x\"}}",
         "Event.uuid: \"01890a5d-ac96-774b-bcce-b302099a8057\" is not an RFC 4122 UUID"},
        {"{\"Event\":{\"info\":\"x\"}}", "Event.uuid: required field is missing"},
        {"{\"Evnt\":{}}", "expected {\"Event\": …}"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"},{\"name\":\"cydex:sender=\\\"EE\\\"\"}]}}",
         "the cydex provenance tags come together"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"x\","
         "\"Tag\":[{\"name\":\"tlp:green\"},{\"name\":\"cydex:sevrity=\\\"high\\\"\"}]}}",
         "not a cydex tag this version knows"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"\","
         "\"Tag\":[{\"name\":\"tlp:green\"}]}}",
         "has no title"},
        {"{\"response\":{}}", "response: expected an array"},
        {"{\"Event\":{}} trailing", "JSON error at line 1"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"uuid\":\"x\"}}",
         "duplicate object key"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"bad "
         "\xc3\x28\"}}",
         "JSON error"},
        {"{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\",\"info\":\"a\\u0000b\"}}",
         "JSON error"},
    };
    cdx_errbuf eb;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&eb, 0, sizeof eb);
        cdx_err rc = s_err(cases[i].doc, NULL, &eb);
        CHECK_EQ(rc, CDX_ERR_FORMAT);
        if (!strstr(eb.msg, cases[i].says))
            fprintf(stderr, "case %zu said: %s\n", i, eb.msg);
        CHECK(strstr(eb.msg, cases[i].says) != NULL);
    }
    /* Nesting past the parser's depth. */
    size_t depth = 5000;
    char *deep = malloc(2 * depth + 32);
    REQUIRE(deep);
    strcpy(deep, "{\"Event\":");
    size_t at = strlen(deep);
    for (size_t i = 0; i < depth; i++)
        deep[at++] = '[';
    for (size_t i = 0; i < depth; i++)
        deep[at++] = ']';
    strcpy(deep + at, "}");
    CHECK_EQ(s_err(deep, NULL, &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "depth") != NULL);
    free(deep);
    /* Oversize. */
    size_t big = CDX_FMT_INPUT_MAX + 1;
    char *huge = malloc(big + 1);
    REQUIRE(huge);
    memset(huge, ' ', big);
    huge[0] = '{';
    huge[big - 1] = '}';
    huge[big] = '\0';
    CHECK_EQ(s_err(huge, NULL, &eb), CDX_ERR_TOO_BIG);
    free(huge);
    /* One bad event in a REST answer: none of them is returned. */
    const char *resp =
        "{\"response\":[{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\","
        "\"info\":\"ok\",\"Tag\":[{\"name\":\"tlp:green\"}]}},{\"Event\":{\"info\":"
        "\"no uuid\"}}]}";
    cdx_items l = {0};
    CHECK_EQ(cdx_fmt_import(CDX_FMT_MISP, &l, resp, strlen(resp), NULL, &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "response[1].Event.uuid") != NULL);
    CHECK(l.n == 0 && l.v == NULL);
}

/* What MISP cannot hold is refused on export, named. */
static void test_export_refusals(void)
{
    cdx_item it = {.kind = CDX_ITEM_ALERT};
    fixture_alert(&it.alert, CDX_TLP_GREEN, 10);
    cdx_errbuf eb = {0};
    char *out = NULL;
    free(it.alert.title);
    it.alert.title = malloc(300);
    memset(it.alert.title, 'x', 299);
    it.alert.title[299] = '\0';
    CHECK_EQ(cdx_misp_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.title") != NULL);
    strcpy(it.alert.title, "two\nlines");
    CHECK_EQ(cdx_misp_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    strcpy(it.alert.title, "ok");
    free(it.alert.indicators[1].type);
    it.alert.indicators[1].type = strdup("carrier-pigeon");
    CHECK_EQ(cdx_misp_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.indicators[1].type: \"carrier-pigeon\"") != NULL);
    free(it.alert.indicators[1].type);
    it.alert.indicators[1].type = strdup("md5");
    free(it.alert.category);
    it.alert.category = strdup("say \"hi\"");
    CHECK_EQ(cdx_misp_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.category") != NULL);
    free(it.alert.category);
    it.alert.category = NULL;
    cdx_fmt_opts o = {.with_envelope = true};
    CHECK_EQ(cdx_misp_export(&out, &it, &o, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "--with-envelope") != NULL);
    CHECK(out == NULL);
    /* Without provenance the time comes from the options: deterministic. */
    o = (cdx_fmt_opts){.now_ms = FIXTURE_T0, .sender = "EE"};
    char *again = NULL;
    REQUIRE(cdx_misp_export(&out, &it, &o, &eb) == CDX_OK);
    REQUIRE(cdx_misp_export(&again, &it, &o, &eb) == CDX_OK);
    CHECK_STR(out, again);
    CHECK(strstr(out, "\"date\":\"2025-11-24\"") != NULL);
    CHECK(strstr(out, "\"timestamp\":\"1764000000\"") != NULL);
    free(out);
    free(again);
    cdx_item_clear(&it);
}

/* Acks are MISP analyst opinions on the alert's event, and come back. */
static void test_acks(void)
{
    for (int stage = CDX_ACK_RECEIVED; stage <= CDX_ACK_REJECTED; stage++) {
        cdx_body b;
        fixture_body(&b, "FR", 1, NULL, "ack", FIXTURE_T0 + 1000);
        b.kind = CDX_PAYLOAD_ACK;
        memset(b.ack.alert_hash, 0xab, 32);
        b.ack.alert_id = strdup("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
        b.ack.stage = (cdx_ack_stage)stage;
        b.ack.note = stage == CDX_ACK_MITIGATED ? strdup("patched the VPN concentrators") : NULL;
        cdx_bytes bytes = {0};
        cdx_envelope *env = NULL;
        cdx_errbuf eb = {0};
        REQUIRE(cdx_envelope_sign(F.fr, &b, &bytes, NULL, &eb) == CDX_OK);
        REQUIRE(cdx_envelope_verify(&env, F.roster, bytes.data, bytes.len, NULL, &eb) == CDX_OK);
        cdx_item it, back;
        REQUIRE(cdx_item_from_envelope(&it, env, NULL, false, &eb) == CDX_OK);
        char *json = NULL;
        REQUIRE(cdx_misp_export(&json, &it, NULL, &eb) == CDX_OK);
        json_t *j = s_json(json), *op = json_object_get(j, "Opinion");
        CHECK_STR(s_jstr(op, "object_uuid"), "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
        CHECK_STR(s_jstr(op, "object_type"), "Event");
        static const char *const values[] = {"", "50", "60", "40", "100", "80", "0"};
        CHECK_STR(s_jstr(op, "opinion"), values[stage]);
        REQUIRE(s_import1(json, NULL, &back, &eb) == CDX_OK);
        CHECK_EQ(back.kind, CDX_ITEM_ACK);
        CHECK_EQ(back.ack.stage, stage);
        CHECK(memcmp(back.ack.alert_hash, b.ack.alert_hash, 32) == 0);
        CHECK_STR(back.ack.alert_id, b.ack.alert_id);
        CHECK_STR(back.ack.note ? back.ack.note : "", b.ack.note ? b.ack.note : "");
        CHECK(s_prov_same(&back.prov, &it.prov));
        json_decref(j);
        free(json);
        cdx_item_clear(&it);
        cdx_item_clear(&back);
        cdx_envelope_destroy(&env);
        cdx_bytes_free(&bytes);
        cdx_body_clear(&b);
    }
    /* A MISP user's opinion names no alert hash: it is no CyDEx ack. */
    const char *foreign = "{\"Opinion\":{\"uuid\":\"0f1e2d3c-4b5a-4968-8776-655443322110\","
                          "\"object_uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\","
                          "\"object_type\":\"Event\",\"opinion\":\"75\",\"comment\":\"agree\"}}";
    cdx_errbuf eb = {0};
    CHECK_EQ(s_err(foreign, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "cydex:alert-hash") != NULL);
}

/* Damaged documents (bytes changed, cut short) never crash an import, and
 * a refusal always says why; each outcome leaves nothing behind (ASan). */
static void test_damaged(void)
{
    char *text = fmt_test_read("misp-event-ransomware.json");
    fmt_test_damage d;
    fmt_test_damaged(CDX_FMT_MISP, text, &d);
    CHECK_EQ(d.unnamed, 0);
    CHECK_EQ(d.leftover, 0);
    CHECK(d.refused > 1000);
    free(text);
}

int main(void)
{
    fixture_init(&F);
    test_misp_to_cydex();
    test_misp_round_trip();
    test_cydex_round_trip();
    test_tampering();
    test_unmapped();
    test_malformed();
    test_export_refusals();
    test_acks();
    test_damaged();
    fixture_free(&F);
    return check_done("formats_misp_test");
}
