/* The formats' name-based UUIDs and tables: SHA-1 known answers (FIPS
 * 180-2 examples), RFC 4122's version 5 (the well-known DNS example, and
 * CyDEx's namespace as Python's uuid.uuid5 computes it), what counts as an
 * RFC 4122 UUID of versions 1-5, the organisation table, and what a run
 * remembers of the alerts it saw (bounded, newest first, updates of
 * updates belonging to the first alert). */
#include <string.h>

#include "check.h"
#include "fmt_internal.h"

static void s_hex(char *out, const uint8_t *d, size_t n)
{
    cdx_hex_encode(out, d, n);
}

static void test_sha1(void)
{
    uint8_t d[20];
    char hex[41];
    cdx__fmt_sha1(d, "", 0);
    s_hex(hex, d, 20);
    CHECK_STR(hex, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    cdx__fmt_sha1(d, "abc", 3);
    s_hex(hex, d, 20);
    CHECK_STR(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    cdx__fmt_sha1(d, two, strlen(two));
    s_hex(hex, d, 20);
    CHECK_STR(hex, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    static char million[1000000];
    memset(million, 'a', sizeof million);
    cdx__fmt_sha1(d, million, sizeof million);
    s_hex(hex, d, 20);
    CHECK_STR(hex, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_uuid5(void)
{
    char u[CDX_UUID_TEXT];
    cdx__fmt_uuid5_ns(u, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", "python.org");
    CHECK_STR(u, "886313e1-3b8a-5372-9b90-0c9aee199e5d");
    cdx__fmt_member_uuid(u, "EE");
    CHECK_STR(u, "be81e382-e199-599e-9edb-8224ce1df779");
    CHECK(cdx__fmt_uuid_rfc(u));
    /* An alert id that MISP and STIX would refuse is replaced by a name. */
    cdx__fmt_alert_uuid(u, "not-a-uuid");
    CHECK_STR(u, "745177ae-554f-5d25-88b1-b51503605bc0");
    cdx__fmt_alert_uuid(u, "6F1C2A9E-4B7D-4C1E-9A55-0D3E8F7B2C41");
    CHECK_STR(u, "6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
    /* Version 7 is valid for CyDEx, not for STIX: a v5 name stands in. */
    cdx__fmt_alert_uuid(u, "01890a5d-ac96-774b-bcce-b302099a8057");
    CHECK(strcmp(u, "01890a5d-ac96-774b-bcce-b302099a8057") != 0);
    CHECK(cdx__fmt_uuid_rfc(u));
    CHECK(u[14] == '5');
    /* A long name (past the stack buffer). */
    char big[601];
    memset(big, 'x', 600);
    big[600] = '\0';
    cdx__fmt_uuid5(u, big);
    CHECK_STR(u, "d1abc6c8-e7fc-5428-8fb3-89131552f343");
}

static void test_rfc(void)
{
    CHECK(cdx__fmt_uuid_rfc("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41"));
    CHECK(cdx__fmt_uuid_rfc("6F1C2A9E-4B7D-1C1E-BA55-0D3E8F7B2C41"));
    CHECK(!cdx__fmt_uuid_rfc("01890a5d-ac96-774b-bcce-b302099a8057")); /* version 7 */
    CHECK(!cdx__fmt_uuid_rfc("6f1c2a9e-4b7d-0c1e-9a55-0d3e8f7b2c41")); /* version 0 */
    CHECK(!cdx__fmt_uuid_rfc("6f1c2a9e-4b7d-4c1e-7a55-0d3e8f7b2c41")); /* NCS variant */
    CHECK(!cdx__fmt_uuid_rfc("6f1c2a9e-4b7d-4c1e-ca55-0d3e8f7b2c41")); /* Microsoft variant */
    CHECK(!cdx__fmt_uuid_rfc("6f1c2a9e4b7d-4c1e-9a55-0d3e8f7b2c41-"));
    CHECK(!cdx__fmt_uuid_rfc("6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c4g"));
    CHECK(!cdx__fmt_uuid_rfc(NULL));
}

static void test_orgs(void)
{
    const char *text = "{\"EE\": {\"uuid\": \"5cf66e53-b5f8-43e7-be9e-49880a3b4631\","
                       " \"name\": \"CERT-EE\"}}";
    cdx_orgs *o = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_orgs_parse(&o, text, strlen(text), &eb) == CDX_OK);
    char u[CDX_UUID_TEXT];
    CHECK_STR(cdx_orgs_name(o, "EE", u), "CERT-EE");
    CHECK_STR(u, "5cf66e53-b5f8-43e7-be9e-49880a3b4631");
    CHECK_STR(cdx_orgs_name(o, "FR", u), "FR");
    CHECK_STR(u, "d65f790a-e1c0-5853-92c8-2edfdc6649e2");
    CHECK_STR(cdx_orgs_member(o, "5CF66E53-B5F8-43E7-BE9E-49880A3B4631", "whatever"), "EE");
    CHECK_STR(cdx_orgs_member(o, u, "FR"), "FR");
    CHECK(cdx_orgs_member(o, u, "DE") == NULL);
    cdx_orgs_destroy(&o);
    CHECK(o == NULL);
    const char *bad[] = {"{\"EE\": {\"uuid\": \"nope\", \"name\": \"x\"}}",
                         "{\"E E\": {\"uuid\": \"5cf66e53-b5f8-43e7-be9e-49880a3b4631\", "
                         "\"name\": \"x\"}}",
                         "{\"EE\": {\"name\": \"x\"}}", "{\"EE\": 3}", "[1]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK_EQ(cdx_orgs_parse(&o, bad[i], strlen(bad[i]), &eb), CDX_ERR_FORMAT);
        CHECK(o == NULL);
    }
    CHECK(strstr(eb.msg, "expected a JSON object") != NULL);
}

static void s_alert(cdx_item *it, unsigned n, const char *updates, uint64_t sent)
{
    memset(it, 0, sizeof *it);
    it->kind = CDX_ITEM_ALERT;
    char id[40];
    snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", n, n);
    it->alert.id = strdup(id);
    it->alert.msg_type = updates ? CDX_MSG_UPDATE : CDX_MSG_ALERT;
    it->alert.updates = updates ? strdup(updates) : NULL;
    it->prov.known = true;
    snprintf(it->prov.sender, sizeof it->prov.sender, "EE");
    it->prov.sent_at_ms = sent;
    memset(it->prov.hash, (int)n, sizeof it->prov.hash);
}

static void test_seen(void)
{
    cdx_fmt_seen *s = NULL;
    REQUIRE(cdx_fmt_seen_new(&s, 4) == CDX_OK);
    cdx_item it;
    /* 1, then 2 updates 1, 3 updates 2: all belong to 1, created at 1's time */
    s_alert(&it, 1, NULL, 1000);
    cdx_fmt_seen_add(s, &it);
    cdx_item_clear(&it);
    s_alert(&it, 2, "00000001-0000-4000-8000-000000000001", 2000);
    cdx_fmt_seen_add(s, &it);
    cdx_item_clear(&it);
    s_alert(&it, 3, "00000002-0000-4000-8000-000000000002", 3000);
    cdx_fmt_seen_add(s, &it);
    cdx_item_clear(&it);
    const cdx__fmt_seen_alert *a = cdx__fmt_seen_by_id(s, "00000003-0000-4000-8000-000000000003");
    REQUIRE(a != NULL);
    CHECK_STR(a->root, "00000001-0000-4000-8000-000000000001");
    CHECK_EQ(a->created_ms, 1000);
    CHECK_EQ(a->sent_at_ms, 3000);
    uint8_t h[32];
    memset(h, 2, sizeof h);
    a = cdx__fmt_seen_by_hash(s, h);
    REQUIRE(a != NULL);
    CHECK_STR(a->id, "00000002-0000-4000-8000-000000000002");
    /* Case does not matter for ids. */
    CHECK(cdx__fmt_seen_by_id(s, "00000003-0000-4000-8000-000000000003") ==
          cdx__fmt_seen_by_id(s, "00000003-0000-4000-8000-000000000003"));
    /* Past max, the oldest go; look-ups stay right through many rounds. */
    for (unsigned n = 4; n < 2000; n++) {
        s_alert(&it, n, NULL, n * 1000);
        cdx_fmt_seen_add(s, &it);
        cdx_item_clear(&it);
    }
    CHECK(cdx__fmt_seen_by_id(s, "00000001-0000-4000-8000-000000000001") == NULL);
    CHECK(cdx__fmt_seen_by_id(s, "000007cb-0000-4000-8000-0000000007cb") == NULL);
    for (unsigned n = 1996; n < 2000; n++) {
        char id[40];
        snprintf(id, sizeof id, "%08x-0000-4000-8000-%012x", n, n);
        a = cdx__fmt_seen_by_id(s, id);
        CHECK(a && a->sent_at_ms == n * 1000);
        memset(h, (int)n, sizeof h);
        CHECK(cdx__fmt_seen_by_hash(s, h) == a);
    }
    /* The same id again: the newest is the one found. */
    s_alert(&it, 1999, NULL, 5);
    cdx_fmt_seen_add(s, &it);
    cdx_item_clear(&it);
    a = cdx__fmt_seen_by_id(s, "000007cf-0000-4000-8000-0000000007cf");
    CHECK(a && a->sent_at_ms == 5);
    cdx_fmt_seen_destroy(&s);
    CHECK(s == NULL);
}

int main(void)
{
    test_sha1();
    test_uuid5();
    test_rfc();
    test_orgs();
    test_seen();
    return check_done("formats_uuid_test");
}
