/* JSON mapping: round trips for every payload, and strict import that
 * names the offending field. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"

static fixture F;

static const char s_alert_json[] =
    "{\"id\":\"6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"tlp\":\"AMBER+STRICT\","
    "\"severity\":\"extreme\",\"status\":\"exercise\",\"msg_type\":\"update\","
    "\"updates\":\"a3d9e0b2-71c4-4f0e-8b6a-5c2d1e9f7a30\",\"category\":\"ddos\","
    "\"title\":\"DDoS on the ministry\",\"description\":\"Line one\\nline two \xc3\xa9\","
    "\"indicators\":[{\"type\":\"ip-src\",\"value\":\"198.51.100.4\",\"comment\":\"botnet\"},"
    "{\"type\":\"domain\",\"value\":\"evil.example\"}],\"sectors\":[\"government\",\"energy\"],"
    "\"references\":[\"CVE-2025-0001\"],\"expires\":\"2025-12-01T00:00:00.000Z\"}";

/* Import errors: each must be refused and name the field. */
static void s_refused(const char *json, const char *needle)
{
    cdx_alert a;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_json_to_alert(&a, json, strlen(json), &eb);
    CHECK_EQ(rc, CDX_ERR_FORMAT);
    if (!strstr(eb.msg, needle))
        fprintf(stderr, "  wanted \"%s\" in \"%s\"\n", needle, eb.msg);
    CHECK(strstr(eb.msg, needle) != NULL);
    CHECK(a.id == NULL && a.title == NULL); /* nothing half-filled */
}

static void test_alert(void)
{
    cdx_alert a;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_json_to_alert(&a, s_alert_json, strlen(s_alert_json), &eb) == CDX_OK);
    CHECK_EQ(a.tlp, CDX_TLP_AMBER_STRICT);
    CHECK_EQ(a.severity, CDX_SEVERITY_EXTREME);
    CHECK_EQ(a.msg_type, CDX_MSG_UPDATE);
    CHECK_EQ(a.n_indicators, 2);
    CHECK_STR(a.indicators[1].value, "evil.example");
    CHECK_STR(a.description, "Line one\nline two \xc3\xa9");
    CHECK_EQ(a.expires_at_ms, 1764547200000ull);
    char *out = NULL;
    REQUIRE(cdx_json_from_alert(&out, &a, false) == CDX_OK);
    CHECK_STR(out, s_alert_json); /* field order and forms are stable */
    free(out);
    cdx_alert_clear(&a);

    /* Escapes decode to UTF-8. */
    const char *esc = "{\"title\":\"caf\\u00e9\",\"tlp\":\"GREEN\"}";
    REQUIRE(cdx_json_to_alert(&a, esc, strlen(esc), NULL) == CDX_OK);
    CHECK_STR(a.title, "caf\xc3\xa9");
    cdx_alert_clear(&a);

    /* Defaults: a fresh UUID, actual, alert, unknown severity. */
    const char *minimal = "{\"title\":\"t\",\"tlp\":\"tlp:green\"}";
    REQUIRE(cdx_json_to_alert(&a, minimal, strlen(minimal), NULL) == CDX_OK);
    CHECK(cdx_uuid_valid(a.id));
    CHECK_EQ(a.id[14], '4');
    CHECK_EQ(a.tlp, CDX_TLP_GREEN);
    CHECK_EQ(a.status, CDX_STATUS_ACTUAL);
    CHECK_EQ(a.msg_type, CDX_MSG_ALERT);
    cdx_alert_clear(&a);

    /* Whether the text named the id; and whether two alerts say the same. */
    const char *named = "{\"id\":\"5f0c2a44-1d3e-4b7a-9c61-0e2f8a7b3c10\",\"title\":\"t\","
                        "\"tlp\":\"GREEN\",\"sectors\":[\"health\"]}";
    cdx_alert b, c;
    bool was_named = false;
    REQUIRE(cdx_json_to_alert_named(&a, &was_named, named, strlen(named), NULL) == CDX_OK);
    CHECK(was_named);
    REQUIRE(cdx_json_to_alert_named(&b, &was_named, minimal, strlen(minimal), NULL) == CDX_OK);
    CHECK(!was_named);
    CHECK(!cdx_alert_same(&a, &b));
    cdx_alert_clear(&b);
    REQUIRE(cdx_alert_copy(&b, &a) == CDX_OK);
    CHECK(cdx_alert_same(&a, &b));
    REQUIRE(cdx_alert_copy(&c, &a) == CDX_OK);
    c.severity = CDX_SEVERITY_SEVERE; /* one field differs */
    CHECK(!cdx_alert_same(&a, &c));
    cdx_alert_clear(&c);
    REQUIRE(cdx_alert_copy(&c, &a) == CDX_OK);
    free(c.sectors[0]);
    c.sectors[0] = strdup("energy");
    CHECK(!cdx_alert_same(&a, &c));
    cdx_alert_clear(&a);
    cdx_alert_clear(&b);
    cdx_alert_clear(&c);

    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"colour\":1}", "unknown field \"colour\"");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"tlp\":\"RED\"}", "duplicate");
    s_refused("{\"title\":\"t\",\"tlp\":\"PURPLE\"}", "alert.tlp: unknown TLP label");
    s_refused("{\"title\":\"t\"}", "alert.tlp: required field is missing");
    s_refused("{\"title\":7,\"tlp\":\"GREEN\"}", "alert.title: expected a string");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"indicators\":[{\"type\":\"ip\","
              "\"value\":\"1.2.3.4\"},{\"type\":\"ip\",\"value\":\"x\",\"colour\":\"red\"}]}",
              "alert.indicators[1]: unknown field \"colour\"");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"indicators\":[{\"value\":\"x\"}]}",
              "alert.indicators[0].type: required field is missing");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"sectors\":[\"a\",3]}",
              "alert.sectors[1]: expected a string");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"expires\":\"tomorrow\"}",
              "alert.expires: expected an RFC 3339 time");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"id\":\"42\"}", "UUID");
    s_refused("{\"title\":\"t\",\"tlp\":\"GREEN\",\"msg_type\":\"update\"}",
              "names no alert it updates");
    s_refused("[1,2]", "expected a JSON object");
    s_refused("{\"title\":\"t\",", "JSON error at line 1");
    s_refused("{\"title\":\"a\\u0000b\",\"tlp\":\"GREEN\"}", "NUL");
}

/* Body JSON -> record -> signed envelope -> verified -> JSON: the same. */
static void s_body_round_trip(const char *json, const cdx_identity *signer)
{
    cdx_body b;
    cdx_errbuf eb = {0};
    cdx_err rc = cdx_json_to_body(&b, json, strlen(json), &eb);
    if (rc != CDX_OK)
        fprintf(stderr, "  %s\n", eb.msg);
    REQUIRE(rc == CDX_OK);
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(signer, &b, &env, NULL, &eb) == CDX_OK);
    cdx_envelope *e = NULL;
    REQUIRE(cdx_envelope_verify(&e, F.roster, env.data, env.len, NULL, NULL) == CDX_OK);
    char *out = NULL;
    REQUIRE(cdx_json_from_body(&out, cdx_envelope_body(e), false) == CDX_OK);
    CHECK_STR(out, json);
    free(out);
    REQUIRE(cdx_json_from_envelope(&out, e, NULL, false) == CDX_OK);
    CHECK(strstr(out, "\"verified\":true") != NULL);
    CHECK(strstr(out, json) != NULL);
    free(out);
    cdx_envelope_destroy(&e);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

static void test_bodies(void)
{
    static const char hash[] = "041c15cd80a714bbb4d8bdf1f5bcec9cfd2b86496c48e5f70682d3368abb3f1a";
    char json[2048];
    snprintf(json, sizeof json,
             "{\"sender\":\"FR\",\"seq\":3,\"sent_at\":\"2025-11-24T16:00:01.000Z\","
             "\"prev_hash\":\"%s\",\"topic\":\"ack\",\"ack\":{\"alert_hash\":\"%s\","
             "\"alert_id\":\"6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"stage\":"
             "\"assistance-offered\",\"note\":\"Our CERT can help\"}}",
             hash, hash);
    s_body_round_trip(json, F.fr);
    snprintf(json, sizeof json,
             "{\"sender\":\"EE\",\"seq\":1,\"sent_at\":\"2025-11-24T16:00:00.000Z\","
             "\"topic\":\"hb\",\"heartbeat\":{\"last_seq\":0,\"interval_ms\":5000}}");
    s_body_round_trip(json, F.ee);
    snprintf(json, sizeof json,
             "{\"sender\":\"broker.alpha\",\"seq\":2,\"sent_at\":\"2025-11-24T16:00:00.000Z\","
             "\"prev_hash\":\"%s\",\"topic\":\"sth\",\"tree_head\":{\"origin\":"
             "\"cydex/broker.alpha\",\"size\":12,\"root\":\"%s\",\"timestamp\":"
             "\"2025-11-24T16:00:00.000Z\"}}",
             hash, hash);
    s_body_round_trip(json, F.broker);
    snprintf(json, sizeof json,
             "{\"sender\":\"EE\",\"seq\":1,\"sent_at\":\"2025-11-24T16:00:00.000Z\","
             "\"topic\":\"alert.health\",\"alert\":%s}",
             "{\"id\":\"6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"tlp\":\"CLEAR\",\"severity\":"
             "\"minor\",\"status\":\"test\",\"msg_type\":\"alert\",\"title\":\"Test\"}");
    s_body_round_trip(json, F.ee);

    /* A sealed payload survives JSON both ways and still opens. */
    cdx_body b;
    fixture_body(&b, "EE", 1, NULL, "alert.energy", FIXTURE_T0);
    b.kind = CDX_PAYLOAD_SEALED;
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_RED, 50);
    cdx_member fr;
    cdx_identity_card(F.fr, &fr);
    REQUIRE(cdx_seal_alert(&b.sealed, &a, "EE", 1, "alert.energy", &fr, 1, NULL) == CDX_OK);
    char *text = NULL;
    REQUIRE(cdx_json_from_body(&text, &b, false) == CDX_OK);
    s_body_round_trip(text, F.ee);
    cdx_body back;
    REQUIRE(cdx_json_to_body(&back, text, strlen(text), NULL) == CDX_OK);
    cdx_alert opened;
    CHECK_EQ(cdx_seal_open(&opened, &back.sealed, "EE", 1, "alert.energy", F.fr, NULL), CDX_OK);
    CHECK_STR(opened.title, a.title);
    cdx_alert_clear(&opened);
    cdx_body_clear(&back);
    free(text);
    cdx_alert_clear(&a);
    cdx_body_clear(&b);

    cdx_errbuf eb = {0};
    const char *two = "{\"sender\":\"EE\",\"seq\":1,\"sent_at\":0,\"topic\":\"hb\","
                      "\"heartbeat\":{\"last_seq\":0},\"ack\":{}}";
    CHECK_EQ(cdx_json_to_body(&b, two, strlen(two), &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "carries both") != NULL);
    const char *none = "{\"sender\":\"EE\",\"seq\":1,\"sent_at\":0,\"topic\":\"hb\"}";
    CHECK_EQ(cdx_json_to_body(&b, none, strlen(none), &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "no payload") != NULL);
    const char *badhash = "{\"sender\":\"EE\",\"seq\":2,\"sent_at\":0,\"topic\":\"hb\","
                          "\"prev_hash\":\"abcd\",\"heartbeat\":{\"last_seq\":0}}";
    CHECK_EQ(cdx_json_to_body(&b, badhash, strlen(badhash), &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "body.prev_hash: expected 32 bytes of hex") != NULL);
    const char *nested = "{\"sender\":\"EE\",\"seq\":1,\"sent_at\":0,\"topic\":\"hb\","
                         "\"heartbeat\":{\"last_seq\":0,\"bpm\":60}}";
    CHECK_EQ(cdx_json_to_body(&b, nested, strlen(nested), &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "body.heartbeat: unknown field \"bpm\"") != NULL);
}

static void test_member_and_roster(void)
{
    cdx_member m, back;
    cdx_identity_card(F.fr, &m);
    m.valid_from_ms = FIXTURE_T0;
    m.revoked_at_ms = FIXTURE_T0 + 1;
    char *text = NULL;
    REQUIRE(cdx_json_from_member(&text, &m, true) == CDX_OK);
    REQUIRE(cdx_json_to_member(&back, text, strlen(text), NULL) == CDX_OK);
    CHECK(memcmp(&m, &back, sizeof m) == 0);
    free(text);
    cdx_errbuf eb = {0};
    const char *bad = "{\"id\":\"FR\",\"role\":\"state\",\"sign_pk\":\"00\",\"seal_pk\":\"00\","
                      "\"curve_pk\":\"x\"}";
    CHECK_EQ(cdx_json_to_member(&back, bad, strlen(bad), &eb), CDX_ERR_FORMAT);
    CHECK(strstr(eb.msg, "member.sign_pk") != NULL);
    REQUIRE(cdx_json_from_roster(&text, F.roster, false) == CDX_OK);
    CHECK(strstr(text, "\"federation\":\"test-federation\"") != NULL);
    CHECK(strstr(text, "\"signed_by\":[\"EE\",\"FR\"]") != NULL);
    CHECK(strstr(text, "\"revoked_at\":\"2025-11-24T17:00:00.000Z\"") != NULL);
    free(text);
}

int main(void)
{
    fixture_init(&F);
    test_alert();
    test_bodies();
    test_member_and_roster();
    fixture_free(&F);
    return check_done("json_test");
}
