/* STIX 2.1 out, and in for a bundle of one report: every rule of the
 * STIX facts (INTEROP) checked on what CyDEx writes, each by a check that
 * can fail: object ids "<type>--<UUID v1-5, RFC 4122 variant>"; property
 * names; spec_version; timestamps RFC 3339 UTC ending in Z with modified
 * >= created; OASIS's TLP 2.0 marking definitions; every *_ref inside the
 * bundle; one id per alert, the same on a re-export; updates as a new
 * modified of the same report, cancels revoked. Then the way back: CyDEx
 * -> STIX -> CyDEx is the whole alert with its provenance and envelope,
 * a foreign bundle maps, bad bundles get a named error. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "check.h"
#include "cydex/formats.h"
#include "fixture.h"
#include "fmt_internal.h"
#include "fmt_test.h"

static fixture F;

/* A signed alert (consumed) as an item, sealed to FR when `sealed`. */
static void s_signed(cdx_item *it, uint64_t seq, uint64_t sent_at, cdx_alert *alert, bool sealed)
{
    cdx_body b;
    uint8_t prev[32] = {7};
    fixture_body(&b, "EE", seq, seq > 1 ? prev : NULL, "alert.health", sent_at);
    fmt_test_item(it, &F, F.ee, &b, alert, cdx_roster_find(F.roster, "FR"), sealed ? 1 : 0);
}

/* An alert with one indicator of every type STIX takes. */
static void s_rich_alert(cdx_alert *a, cdx_tlp tlp)
{
    fixture_alert(a, tlp, 60);
    static const char *const inds[][3] = {
        {"ip-src", "198.51.100.9", "scanner"},
        {"ip-dst", "2001:db8::1", ""},
        {"domain", "evil.example", ""},
        {"hostname", "c2.evil.example", ""},
        {"url", "https://evil.example/it's?a=b\\c", "quote and backslash"},
        {"email-src", "ceo@evi1.example", ""},
        {"email-dst", "finance@ministry.example", ""},
        {"email-subject", "Invoice 'overdue'", ""},
        {"md5", "d41d8cd98f00b204e9800998ecf8427e", ""},
        {"sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709", ""},
        {"sha512",
         "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2"
         "b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
         ""},
        {"filename", "invoice.pdf.exe", ""},
        {"mutex", "Global\\lockbit", ""},
        {"regkey", "HKLM\\Software\\Run\\x", ""},
        {"AS", "AS64500", "bulletproof hoster"},
        {"mac-address", "00:00:5e:00:53:01", ""},
        {"user-agent", "Mozilla/5.0 (evil)", ""},
        {"x509-fingerprint-sha1", "0123456789abcdef0123456789abcdef01234567", ""},
        {"x509-fingerprint-sha256",
         "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
        {"yara", "rule x { condition: true }", ""},
        {"snort", "alert tcp any any -> any 445 (msg:\"smb\"; sid:1;)", ""},
        {"sigma", "title: x\ndetection: {condition: selection}", ""},
        {"vulnerability", "CVE-2024-3400", "firewall"},
        {"link", "https://vendor.example/advisory", "advisory"},
        {"ip-dst", "203.0.113.7", "C2"}, /* the same as fixture's first: a second object */
    };
    size_t n = sizeof inds / sizeof *inds, old = a->n_indicators;
    REQUIRE((a->indicators = realloc(a->indicators, (old + n) * sizeof *a->indicators)));
    for (size_t i = 0; i < n; i++) {
        a->indicators[old + i].type = strdup(inds[i][0]);
        a->indicators[old + i].value = strdup(inds[i][1]);
        a->indicators[old + i].comment = inds[i][2][0] ? strdup(inds[i][2]) : NULL;
    }
    a->n_indicators = old + n;
    REQUIRE((a->sectors = realloc(a->sectors, 3 * sizeof *a->sectors)));
    a->sectors[a->n_sectors++] = strdup("energy");
    a->sectors[a->n_sectors++] = strdup("elections"); /* not in STIX's vocabulary */
    REQUIRE((a->references = realloc(a->references, 3 * sizeof *a->references)));
    a->references[a->n_references++] = strdup("CVE-2024-21762");
    a->references[a->n_references++] = strdup("BSI advisory 2025-117");
}

static json_t *s_json(const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    REQUIRE(j != NULL);
    return j;
}

static json_t *s_by_id(json_t *bundle, const char *id)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        const char *oid = json_string_value(json_object_get(o, "id"));
        if (oid && strcmp(oid, id) == 0)
            return o;
    }
    return NULL;
}

static json_t *s_by_type(json_t *bundle, const char *type, size_t nth)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(bundle, "objects"), i, o)
    {
        if (strcmp(json_string_value(json_object_get(o, "type")), type) == 0 && nth-- == 0)
            return o;
    }
    return NULL;
}

/* Rule: "<type>--<uuid>", the uuid RFC 4122 of version 1-5 (variant 8-b). */
static bool s_id_ok(const char *id, const char *type)
{
    size_t n = strlen(type);
    if (!id || strncmp(id, type, n) != 0 || strncmp(id + n, "--", 2) != 0)
        return false;
    const char *u = id + n + 2;
    if (strlen(u) != 36 || !strchr("12345", u[14]) || !strchr("89ab", u[19]))
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
            return false;
    }
    return true;
}

/* Rule: RFC 3339, UTC, ending in Z: YYYY-MM-DDTHH:MM:SS[.s+]Z. */
static bool s_time_ok(const char *t)
{
    if (!t || strlen(t) < 20)
        return false;
    const char *shape = "dddd-dd-ddTdd:dd:dd";
    for (int i = 0; i < 19; i++)
        if (shape[i] == 'd' ? !(t[i] >= '0' && t[i] <= '9') : t[i] != shape[i])
            return false;
    const char *p = t + 19;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return strcmp(p, "Z") == 0;
}

/* Rule: property names are a-z 0-9 _; custom ones x_… of 3-250. */
static bool s_names_ok(json_t *o)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        size_t n = strlen(key);
        if (strncmp(key, "x_", 2) == 0 && (n < 3 || n > 250))
            return false;
        for (size_t i = 0; i < n; i++)
            if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= '0' && key[i] <= '9') ||
                  key[i] == '_'))
                return false;
    }
    return true;
}

/* Rule: every *_ref and *_refs (at any depth) names an object of the
 * bundle, of the type the reference's id says. */
static unsigned s_refs_checked;
static bool s_refs_ok(json_t *bundle, json_t *v)
{
    bool ok = true;
    if (json_is_object(v)) {
        const char *key;
        json_t *x;
        json_object_foreach(v, key, x)
        {
            size_t n = strlen(key);
            bool ref = n > 4 && strcmp(key + n - 4, "_ref") == 0;
            bool refs = n > 5 && strcmp(key + n - 5, "_refs") == 0;
            if (ref) {
                s_refs_checked++;
                ok = ok && json_is_string(x) && s_by_id(bundle, json_string_value(x));
            } else if (refs) {
                size_t i;
                json_t *e;
                ok = ok && json_is_array(x) && json_array_size(x) > 0;
                json_array_foreach(x, i, e)
                {
                    s_refs_checked++;
                    ok = ok && json_is_string(e) && s_by_id(bundle, json_string_value(e));
                }
            } else {
                ok = ok && s_refs_ok(bundle, x);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) ok = ok && s_refs_ok(bundle, e);
    }
    return ok;
}

static const char *s_s(json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

/* Every rule, on one bundle. */
static void s_rules(json_t *b, cdx_tlp tlp)
{
    CHECK_STR(s_s(b, "type"), "bundle");
    CHECK(s_id_ok(s_s(b, "id"), "bundle"));
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o)
    {
        const char *type = s_s(o, "type");
        CHECK(s_id_ok(s_s(o, "id"), type));
        CHECK_STR(s_s(o, "spec_version"), "2.1");
        CHECK(s_names_ok(o));
        CHECK(s_time_ok(s_s(o, "created")));
        if (strcmp(type, "marking-definition") != 0) {
            CHECK(s_time_ok(s_s(o, "modified")));
            CHECK(strcmp(s_s(o, "modified"), s_s(o, "created")) >= 0);
        }
        static const char *const times[] = {"valid_from",      "valid_until",     "published",
                                            "x_cydex_sent_at", "x_cydex_expires", NULL};
        for (const char *const *t = times; *t; t++)
            if (json_object_get(o, *t))
                CHECK(s_time_ok(s_s(o, *t)));
        if (json_object_get(o, "valid_until"))
            CHECK(strcmp(s_s(o, "valid_until"), s_s(o, "valid_from")) > 0);
        if (strcmp(type, "indicator") == 0) {
            CHECK(*s_s(o, "pattern") && *s_s(o, "pattern_type") && *s_s(o, "valid_from"));
            CHECK(strcmp(s_s(o, "valid_from"), s_s(o, "created")) >= 0);
        }
        if (strcmp(type, "report") == 0) {
            CHECK(*s_s(o, "name") && *s_s(o, "published"));
            CHECK(json_array_size(json_object_get(o, "object_refs")) >= 1);
        }
        if (strcmp(type, "identity") == 0)
            CHECK(*s_s(o, "name"));
        if (strcmp(type, "report") == 0 || strcmp(type, "indicator") == 0 ||
            strcmp(type, "vulnerability") == 0) {
            json_t *m = json_object_get(o, "object_marking_refs");
            CHECK_EQ(json_array_size(m), 1);
            CHECK_STR(json_string_value(json_array_get(m, 0)), cdx__fmt_tlp_marking(tlp));
        }
    }
    /* The marking definition is OASIS's object, as published. */
    json_t *m = s_by_id(b, cdx__fmt_tlp_marking(tlp));
    REQUIRE(m != NULL);
    static const char *const names[] = {"",          "TLP:CLEAR",        "TLP:GREEN",
                                        "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"};
    static const char *const lower[] = {"", "clear", "green", "amber", "amber+strict", "red"};
    CHECK_STR(s_s(m, "created"), "2022-10-01T00:00:00.000Z");
    CHECK_STR(s_s(m, "name"), names[tlp]);
    json_t *ext = json_object_get(json_object_get(m, "extensions"),
                                  "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d");
    CHECK_STR(s_s(ext, "extension_type"), "property-extension");
    CHECK_STR(s_s(ext, "tlp_2_0"), lower[tlp]);
    CHECK_EQ(json_object_size(m), 6);
    s_refs_checked = 0;
    CHECK(s_refs_ok(b, b));
    CHECK(s_refs_checked > 0);
}

static void test_rules(void)
{
    static const char *const ids[] = {"",
                                      "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
                                      "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
                                      "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
                                      "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                                      "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"};
    for (int t = CDX_TLP_CLEAR; t <= CDX_TLP_RED; t++) {
        CHECK_STR(cdx__fmt_tlp_marking((cdx_tlp)t), ids[t]);
        cdx_alert a;
        s_rich_alert(&a, (cdx_tlp)t);
        cdx_item it;
        s_signed(&it, 1, FIXTURE_T0, &a, cdx_tlp_requires_seal((cdx_tlp)t));
        char *out = NULL, *again = NULL;
        cdx_errbuf eb = {0};
        cdx_fmt_opts o = {.with_envelope = true};
        cdx_err rc = cdx_stix_export(&out, &it, &o, &eb);
        if (rc != CDX_OK)
            fprintf(stderr, "tlp %d: %s\n", t, eb.msg);
        REQUIRE(rc == CDX_OK);
        json_t *b = s_json(out);
        s_rules(b, (cdx_tlp)t);
        /* one indicator per observable, one vulnerability, the sender, three sectors */
        size_t n = 0;
        while (s_by_type(b, "indicator", n))
            n++;
        CHECK_EQ(n, it.alert.n_indicators - 2); /* less the vulnerability and the link */
        CHECK(s_by_type(b, "vulnerability", 0) && !s_by_type(b, "vulnerability", 1));
        json_t *r = s_by_type(b, "report", 0);
        CHECK_STR(s_s(r, "id"), "report--6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
        CHECK_STR(s_s(r, "created_by_ref"), "identity--be81e382-e199-599e-9edb-8224ce1df779");
        CHECK_STR(s_s(r, "x_cydex_sender"), "EE");
        CHECK_STR(s_s(r, "x_cydex_severity"), "severe");
        /* The names docs/formats.md gives, as Python's uuid.uuid5 makes them. */
        CHECK(s_by_id(b, "indicator--c5d0b531-3c2c-5d4d-b66b-62a749319fd3") != NULL);
        CHECK(s_by_id(b, "identity--9e675d58-48d2-5a04-a38f-9a19bbbcfff9") != NULL);
        if (cdx_tlp_requires_seal((cdx_tlp)t))
            CHECK_STR(
                json_string_value(json_array_get(json_object_get(r, "x_cydex_recipients"), 0)),
                "FR");
        /* a re-export is the same objects, byte for byte */
        REQUIRE(cdx_stix_export(&again, &it, &o, &eb) == CDX_OK);
        CHECK_STR(again, out);
        json_decref(b);
        free(out);
        free(again);
        cdx_item_clear(&it);
    }
}

static const char *s_pattern_of(json_t *b, const char *type, const char *value)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(b, "objects"), i, o)
    {
        char want[300];
        snprintf(want, sizeof want, "%s %s", type, value);
        if (strcmp(s_s(o, "type"), "indicator") == 0 && strcmp(s_s(o, "name"), want) == 0)
            return s_s(o, "pattern");
    }
    return "";
}

static void test_patterns(void)
{
    cdx_alert a;
    s_rich_alert(&a, CDX_TLP_GREEN);
    cdx_item it;
    s_signed(&it, 1, FIXTURE_T0, &a, false);
    char *out = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_stix_export(&out, &it, NULL, &eb) == CDX_OK);
    json_t *b = s_json(out);
    CHECK_STR(s_pattern_of(b, "ip-src", "198.51.100.9"), "[ipv4-addr:value = '198.51.100.9']");
    CHECK_STR(s_pattern_of(b, "ip-dst", "2001:db8::1"), "[ipv6-addr:value = '2001:db8::1']");
    CHECK_STR(s_pattern_of(b, "url", "https://evil.example/it's?a=b\\c"),
              "[url:value = 'https://evil.example/it\\'s?a=b\\\\c']");
    CHECK_STR(s_pattern_of(b, "sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
              "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']");
    CHECK_STR(s_pattern_of(b, "AS", "AS64500"), "[autonomous-system:number = 64500]");
    CHECK_STR(s_pattern_of(b, "email-dst", "finance@ministry.example"),
              "[email-message:to_refs[*].value = 'finance@ministry.example']");
    CHECK_STR(s_pattern_of(b, "yara", "rule x { condition: true }"), "rule x { condition: true }");
    json_t *r = s_by_type(b, "report", 0);
    json_t *ext = json_object_get(r, "external_references");
    CHECK_EQ(json_array_size(ext), 4); /* the link indicator, three references */
    CHECK_STR(s_s(json_array_get(ext, 0), "source_name"), "link");
    CHECK_STR(s_s(json_array_get(ext, 2), "source_name"), "cve");
    CHECK_STR(s_s(json_array_get(ext, 2), "external_id"), "CVE-2024-21762");
    /* Sectors in STIX's vocabulary, and as said. */
    json_t *sec = s_by_type(b, "identity", 1);
    CHECK_STR(s_s(sec, "identity_class"), "class");
    CHECK_STR(json_string_value(json_array_get(json_object_get(sec, "sectors"), 0)), "healthcare");
    json_decref(b);
    free(out);

    /* What STIX has no form for is refused, named. */
    free(it.alert.indicators[0].type);
    it.alert.indicators[0].type = strdup("text");
    CHECK_EQ(cdx_stix_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "alert.indicators[0]: a \"text\" indicator has no STIX form") != NULL);
    free(it.alert.indicators[0].type);
    it.alert.indicators[0].type = strdup("AS");
    CHECK_EQ(cdx_stix_export(&out, &it, NULL, &eb), CDX_ERR_UNSUPPORTED);
    CHECK(strstr(eb.msg, "is not an AS number") != NULL);
    cdx_item_clear(&it);
}

/* An update keeps the report's id and created and raises modified; a
 * cancel revokes it; an ack is a note on the report. */
static void test_versions(void)
{
    cdx_fmt_seen *seen = NULL;
    REQUIRE(cdx_fmt_seen_new(&seen, 16) == CDX_OK);
    cdx_fmt_opts o = {.seen = seen};
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_GREEN, 10);
    cdx_item first, update, cancel;
    s_signed(&first, 1, FIXTURE_T0, &a, false);
    fixture_alert(&a, CDX_TLP_GREEN, 20);
    free(a.id);
    a.id = strdup("7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d");
    a.msg_type = CDX_MSG_UPDATE;
    a.updates = strdup("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
    s_signed(&update, 2, FIXTURE_T0 + FIXTURE_HOUR, &a, false);
    fixture_alert(&a, CDX_TLP_GREEN, 5);
    free(a.id);
    a.id = strdup("8b3c4d5e-6f7a-4b2c-9d3e-4f5a6b7c8d9e");
    a.msg_type = CDX_MSG_CANCEL;
    a.updates = strdup("7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"); /* the update's id */
    for (size_t i = 0; i < a.n_indicators; i++) {
        free(a.indicators[i].type);
        free(a.indicators[i].value);
        free(a.indicators[i].comment);
    }
    a.n_indicators = 0;
    s_signed(&cancel, 3, FIXTURE_T0 + 2 * FIXTURE_HOUR, &a, false);
    cdx_errbuf eb = {0};
    char *s1 = NULL, *s2 = NULL, *s3 = NULL;
    REQUIRE(cdx_stix_export(&s1, &first, &o, &eb) == CDX_OK);
    cdx_fmt_seen_add(seen, &first);
    REQUIRE(cdx_stix_export(&s2, &update, &o, &eb) == CDX_OK);
    cdx_fmt_seen_add(seen, &update);
    REQUIRE(cdx_stix_export(&s3, &cancel, &o, &eb) == CDX_OK);
    cdx_fmt_seen_add(seen, &cancel);
    json_t *b1 = s_json(s1), *b2 = s_json(s2), *b3 = s_json(s3);
    json_t *r1 = s_by_type(b1, "report", 0), *r2 = s_by_type(b2, "report", 0),
           *r3 = s_by_type(b3, "report", 0);
    s_rules(b1, CDX_TLP_GREEN);
    s_rules(b2, CDX_TLP_GREEN);
    s_rules(b3, CDX_TLP_GREEN);
    CHECK_STR(s_s(r2, "id"), s_s(r1, "id"));
    CHECK_STR(s_s(r3, "id"), s_s(r1, "id"));
    CHECK_STR(s_s(r2, "created"), s_s(r1, "created"));
    CHECK_STR(s_s(r3, "created"), s_s(r1, "created"));
    CHECK(strcmp(s_s(r2, "modified"), s_s(r1, "modified")) > 0);
    CHECK(strcmp(s_s(r3, "modified"), s_s(r2, "modified")) > 0);
    CHECK(!json_object_get(r1, "revoked") && !json_object_get(r2, "revoked"));
    CHECK(json_is_true(json_object_get(r3, "revoked")));
    CHECK(strcmp(s_s(b2, "id"), s_s(b1, "id")) != 0);
    /* an unchanged indicator keeps its id across versions */
    CHECK_STR(s_s(s_by_type(b2, "indicator", 0), "id"), s_s(s_by_type(b1, "indicator", 0), "id"));
    CHECK_STR(s_s(r2, "x_cydex_msg_type"), "update");
    CHECK_STR(s_s(r3, "x_cydex_updates"), "7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d");

    /* The ack of the update: a note on the same report. */
    cdx_body kb;
    fixture_body(&kb, "FR", 1, NULL, "ack", FIXTURE_T0 + 3 * FIXTURE_HOUR);
    kb.kind = CDX_PAYLOAD_ACK;
    memcpy(kb.ack.alert_hash, update.prov.hash, 32);
    kb.ack.alert_id = strdup(update.alert.id);
    kb.ack.stage = CDX_ACK_MITIGATED;
    kb.ack.note = strdup("blocked at the border");
    cdx_bytes bytes = {0};
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_sign(F.fr, &kb, &bytes, NULL, &eb) == CDX_OK);
    REQUIRE(cdx_envelope_verify(&env, F.roster, bytes.data, bytes.len, NULL, &eb) == CDX_OK);
    cdx_item ack, back;
    REQUIRE(cdx_item_from_envelope(&ack, env, NULL, true, &eb) == CDX_OK);
    char *s4 = NULL;
    cdx_fmt_opts ow = {.seen = seen, .with_envelope = true};
    REQUIRE(cdx_stix_export(&s4, &ack, &ow, &eb) == CDX_OK);
    json_t *b4 = s_json(s4), *note = s_by_type(b4, "note", 0);
    CHECK(s_id_ok(s_s(note, "id"), "note"));
    CHECK_STR(json_string_value(json_array_get(json_object_get(note, "object_refs"), 0)),
              s_s(r1, "id"));
    CHECK_STR(s_s(note, "x_cydex_ack_stage"), "mitigated");
    CHECK(s_by_id(b4, s_s(note, "created_by_ref")) != NULL);
    REQUIRE(cdx_stix_import(&back, s4, strlen(s4), NULL, &eb) == CDX_OK);
    CHECK_EQ(back.kind, CDX_ITEM_ACK);
    CHECK_EQ(back.ack.stage, CDX_ACK_MITIGATED);
    CHECK_STR(back.ack.note, "blocked at the border");
    CHECK(memcmp(back.ack.alert_hash, update.prov.hash, 32) == 0);
    CHECK(cdx_item_check_envelope(&back, &eb) == CDX_OK);
    cdx_item_clear(&back);
    cdx_item_clear(&ack);
    cdx_envelope_destroy(&env);
    cdx_bytes_free(&bytes);
    cdx_body_clear(&kb);
    json_decref(b1);
    json_decref(b2);
    json_decref(b3);
    json_decref(b4);
    free(s1);
    free(s2);
    free(s3);
    free(s4);
    cdx_item_clear(&first);
    cdx_item_clear(&update);
    cdx_item_clear(&cancel);
    cdx_fmt_seen_destroy(&seen);
}

/* CyDEx -> STIX -> CyDEx: the whole alert, its provenance, its envelope. */
static void test_round_trip(void)
{
    for (int sealed = 0; sealed < 2; sealed++) {
        cdx_alert a, copy;
        s_rich_alert(&a, sealed ? CDX_TLP_AMBER_STRICT : CDX_TLP_GREEN); /* above GREEN: sealed */
        a.status = CDX_STATUS_EXERCISE;
        a.severity = CDX_SEVERITY_EXTREME;
        REQUIRE(cdx_alert_copy(&copy, &a) == CDX_OK);
        cdx_item it, back;
        s_signed(&it, 4, FIXTURE_T0 + 5, &a, sealed);
        cdx_errbuf eb = {0};
        cdx_fmt_opts o = {.with_envelope = true};
        char *out = NULL;
        REQUIRE(cdx_stix_export(&out, &it, &o, &eb) == CDX_OK);
        cdx_items l = {0};
        cdx_err rc = cdx_fmt_import(CDX_FMT_STIX, &l, out, strlen(out), NULL, &eb);
        if (rc != CDX_OK)
            fprintf(stderr, "import: %s\n", eb.msg);
        REQUIRE(rc == CDX_OK && l.n == 1);
        back = l.v[0];
        CHECK(cdx_alert_same(&back.alert, &copy));
        CHECK_EQ(back.prov.seq, 4);
        CHECK_STR(back.prov.sender, "EE");
        CHECK_EQ(back.prov.sent_at_ms, FIXTURE_T0 + 5);
        CHECK(memcmp(back.prov.hash, it.prov.hash, 32) == 0);
        CHECK_EQ(back.prov.sealed, sealed);
        CHECK_EQ(back.prov.envelope.len, it.prov.envelope.len);
        free(out);
        free(l.v);
        cdx_item_clear(&back);
        cdx_item_clear(&it);
        cdx_alert_clear(&copy);
    }
}

/* A bundle written from the STIX 2.1 specification, as a TIP sends it:
 * TLP 1.0 marking, microsecond timestamps, no x_cydex properties. */
static void test_foreign(void)
{
    char *text = fmt_test_read("stix-bundle-phishing.json");
    cdx_item it;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_stix_import(&it, text, strlen(text), NULL, &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "import: %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    const cdx_alert *a = &it.alert;
    CHECK_STR(a->id, "c8eafcbe-7d9f-4b2d-9f7b-9d3f5b7d9f9b");
    CHECK_STR(a->title, "Phishing wave impersonating the tax office");
    CHECK_EQ(a->tlp, CDX_TLP_GREEN);
    CHECK_EQ(a->msg_type, CDX_MSG_ALERT);
    REQUIRE(a->n_indicators == 4);
    CHECK_STR(a->indicators[0].type, "url");
    CHECK_STR(a->indicators[0].value, "https://tax-refund.example.org/claim?id='x'");
    CHECK_STR(a->indicators[0].comment, "credential harvesting page");
    CHECK_STR(a->indicators[1].type, "domain");
    CHECK_STR(a->indicators[2].type, "ip-dst");
    CHECK_STR(a->indicators[3].type, "vulnerability");
    CHECK_STR(a->indicators[3].value, "CVE-2025-0001");
    REQUIRE(a->n_sectors == 1);
    CHECK_STR(a->sectors[0], "public-administration");
    REQUIRE(a->n_references == 1);
    CHECK_STR(a->references[0], "https://cert.example/advisories/2025-117");
    CHECK(!it.prov.known);
    cdx_item_clear(&it);
    free(text);
}

static cdx_err s_import_err(const char *text, const cdx_fmt_opts *o, cdx_errbuf *eb)
{
    cdx_item it;
    cdx_err rc = cdx_stix_import(&it, text, strlen(text), o, eb);
    cdx_item_clear(&it);
    return rc;
}

#define S_BUNDLE(objs)                                                                             \
    "{\"type\":\"bundle\",\"id\":\"bundle--a7c3e1f5-9b2d-4e6a-8c1f-3d5b7e9a1c24\","                \
    "\"objects\":[" objs "]}"
#define S_TLP                                                                                      \
    "\"object_marking_refs\":[\"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb\"]"
#define S_REPORT(extra)                                                                            \
    "{\"type\":\"report\",\"spec_version\":\"2.1\",\"id\":\"report--c8eafcbe-7d9f-4b2d-9f7b-"      \
    "9d3f5b7d9f9b\",\"created\":\"2025-11-27T08:00:00Z\",\"modified\":\"2025-11-27T09:00:00Z\","   \
    "\"name\":\"r\",\"published\":\"2025-11-27T09:00:00Z\"," S_TLP ","                             \
    "\"object_refs\":[\"indicator--f5b7d9fb-4a6c-4e8a-8c4e-6a8c2e4a6c68\"]" extra "}"
#define S_IND(pattern, extra)                                                                      \
    "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--f5b7d9fb-4a6c-4e8a-"     \
    "8c4e-"                                                                                        \
    "6a8c2e4a6c68\",\"created\":\"2025-11-27T08:00:00Z\",\"modified\":\"2025-11-27T08:00:00Z\","   \
    "\"pattern\":\"" pattern                                                                       \
    "\",\"pattern_type\":\"stix\",\"valid_from\":\"2025-11-27T08:00:00Z\"" extra "}"

static void test_bad(void)
{
    static const struct {
        const char *doc;
        cdx_err rc;
        const char *says;
    } cases[] = {
        {S_BUNDLE(S_REPORT("") "," S_IND("[ipv4-addr:value = '192.0.2.1']", "")), CDX_OK, ""},
        {"{\"type\":\"report\",\"id\":\"report--c8eafcbe-7d9f-4b2d-9f7b-9d3f5b7d9f9b\"}",
         CDX_ERR_FORMAT, "bundle.type"},
        {"{\"type\":\"bundle\",\"id\":\"bundle--01890a5d-ac96-774b-bcce-b302099a8057\","
         "\"objects\":[]}",
         CDX_ERR_FORMAT, "bundle.id"},
        {S_BUNDLE(
             "{\"type\":\"indicator\",\"id\":\"report--c8eafcbe-7d9f-4b2d-9f7b-9d3f5b7d9f9b\"}"),
         CDX_ERR_FORMAT, "objects[0].id"},
        {S_BUNDLE("{\"type\":\"report\",\"id\":\"report--01890a5d-ac96-774b-bcce-b302099a8057\"}"),
         CDX_ERR_FORMAT, "UUID of version 1-5"},
        {S_BUNDLE(S_REPORT("") "," S_IND("[ipv4-addr:value = '192.0.2.1']",
                                         ",\"modified\":\"2025-11-27T08:00:00+01:00\"")),
         CDX_ERR_FORMAT, "duplicate"},
        {S_BUNDLE("{\"type\":\"report\",\"spec_version\":\"2.1\",\"id\":\"report--c8eafcbe-7d9f-"
                  "4b2d-9f7b-9d3f5b7d9f9b\",\"created\":\"2025-11-27T08:00:00+01:00\"}"),
         CDX_ERR_FORMAT, "ending in Z"},
        {S_BUNDLE("{\"type\":\"report\",\"spec_version\":\"2.1\",\"id\":\"report--c8eafcbe-7d9f-"
                  "4b2d-9f7b-9d3f5b7d9f9b\",\"created\":\"2025-11-27T08:00:00Z\",\"modified\":"
                  "\"2025-11-26T08:00:00Z\"}"),
         CDX_ERR_FORMAT, "modified is before created"},
        {S_BUNDLE("{\"type\":\"report\",\"spec_version\":\"2.0\",\"id\":\"report--c8eafcbe-7d9f-"
                  "4b2d-9f7b-9d3f5b7d9f9b\"}"),
         CDX_ERR_FORMAT, "spec_version"},
        {S_BUNDLE(S_IND("[ipv4-addr:value = '192.0.2.1']", "")), CDX_ERR_UNSUPPORTED,
         "holds no report"},
        {S_BUNDLE(S_REPORT("") "," S_IND("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value"
                                         " = 'x']",
                                         "")),
         CDX_ERR_UNSUPPORTED, "is not one comparison"},
        {S_BUNDLE(S_REPORT("")), CDX_ERR_UNSUPPORTED, "is not in the bundle"},
        {S_BUNDLE(S_REPORT(",\"labels\":[\"x\"]") "," S_IND("[ipv4-addr:value = '192.0.2.1']", "")),
         CDX_ERR_UNSUPPORTED, "objects[0].labels"},
        {S_BUNDLE(S_REPORT(",\"x_cydex_severity\":\"apocalyptic\"") "," S_IND(
             "[ipv4-addr:value = '192.0.2.1']", "")),
         CDX_ERR_FORMAT, "x_cydex_severity: unknown value"},
        {S_BUNDLE(S_REPORT(",\"x_cydex_sender\":\"EE\"") "," S_IND(
             "[ipv4-addr:value = '192.0.2.1']", "")),
         CDX_ERR_FORMAT, "come together"},
        {S_BUNDLE(S_REPORT(",\"name\":7") "," S_IND("[ipv4-addr:value = '192.0.2.1']", "")),
         CDX_ERR_FORMAT, "duplicate"},
        {S_BUNDLE(S_REPORT("") "," S_REPORT("")), CDX_ERR_FORMAT, "comes twice"},
        {"{\"type\":\"bundle\",\"id\":\"bundle--a7c3e1f5-9b2d-4e6a-8c1f-3d5b7e9a1c24\","
         "\"objects\":{}}",
         CDX_ERR_FORMAT, "bundle.objects: expected an array"},
    };
    cdx_errbuf eb;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        memset(&eb, 0, sizeof eb);
        cdx_err rc = s_import_err(cases[i].doc, NULL, &eb);
        CHECK_EQ(rc, cases[i].rc);
        if (!strstr(eb.msg, cases[i].says))
            fprintf(stderr, "case %zu said: %s\n", i, eb.msg);
        CHECK(strstr(eb.msg, cases[i].says) != NULL);
    }
    /* With lossy, the compound pattern is left out and the rest maps. */
    cdx_fmt_opts o = {.lossy = true, .tlp = CDX_TLP_CLEAR};
    cdx_item it;
    REQUIRE(cdx_stix_import(&it, cases[10].doc, strlen(cases[10].doc), &o, &eb) == CDX_OK);
    CHECK_EQ(it.alert.n_indicators, 0);
    CHECK_EQ(it.alert.tlp, CDX_TLP_GREEN); /* the bundle's, not --tlp's */
    cdx_item_clear(&it);
}

/* Damaged documents (bytes changed, cut short) never crash an import, and
 * a refusal always says why; each outcome leaves nothing behind (ASan). */
static void test_damaged(void)
{
    char *text = fmt_test_read("stix-bundle-phishing.json");
    fmt_test_damage d;
    fmt_test_damaged(CDX_FMT_STIX, text, &d);
    CHECK_EQ(d.unnamed, 0);
    CHECK_EQ(d.leftover, 0);
    CHECK(d.refused > 1000);
    free(text);
}

int main(void)
{
    fixture_init(&F);
    test_rules();
    test_patterns();
    test_versions();
    test_round_trip();
    test_foreign();
    test_bad();
    test_damaged();
    fixture_free(&F);
    return check_done("formats_stix_test");
}
