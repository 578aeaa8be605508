/* cydex convert as a relay drives it, offline: a signed envelope exported
 * to MISP, STIX and CAP with --with-envelope; the envelope taken back out
 * of each and `cydex verify` on it proves who sent the alert; a sealed
 * alert exports only once opened; an edited MISP event is refused; lines
 * go on past a bad one; every documented exit code. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

#define s_run(in, ...) proc_capture_run(&s_cap, in, __VA_ARGS__)
#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

static char *s_p(const char *name)
{
    static char bufs[32][300];
    static int next;
    char *p = bufs[next++ % 32];
    snprintf(p, 300, "%s/%s", s_dir, name);
    return p;
}

static void s_save(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(s_p(name), "wb");
    REQUIRE(f && fwrite(data, 1, len, f) == len);
    fclose(f);
}

/* The last run's stdout, kept as a file. */
static void s_keep(const char *name)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "cp %s %s", s_cap.out_path, s_p(name));
    REQUIRE(system(cmd) == 0);
}

/* Signs an alert as EE (sealed to FR when `to`) into NAME. */
static void s_envelope(const char *name, uint64_t seq, cdx_tlp tlp, const char *to)
{
    cdx_body b;
    uint8_t prev[32] = {1};
    fixture_body(&b, "EE", seq, seq > 1 ? prev : NULL, "alert.health", cdx_now_ms());
    cdx_alert a;
    fixture_alert(&a, tlp, 80);
    cdx_errbuf eb = {0};
    if (to) {
        b.kind = CDX_PAYLOAD_SEALED;
        REQUIRE(cdx_seal_alert(&b.sealed, &a, "EE", seq, b.topic, cdx_roster_find(F.roster, to), 1,
                               &eb) == CDX_OK);
        cdx_alert_clear(&a);
    } else {
        b.kind = CDX_PAYLOAD_ALERT;
        b.alert = a;
    }
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(F.ee, &b, &env, NULL, &eb) == CDX_OK);
    s_save(name, env.data, env.len);
    cdx_bytes_free(&env);
    cdx_body_clear(&b);
}

static void test_provenance(void)
{
    s_envelope("a.env", 1, CDX_TLP_GREEN, NULL);
    const char *roster = s_p("roster.bin");
    /* MISP: out with the envelope, the envelope back out, verified. */
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "misp",
                   "--with-envelope", "--roster", roster, s_p("a.env"), NULL),
             0);
    HAS(s_cap.out, "\"Event\"");
    HAS(s_cap.out, "cydex:envelope");
    HAS(s_cap.out, "cydex:sender=\\\"EE\\\"");
    s_keep("a.misp.json");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "envelope",
                   s_p("a.misp.json"), NULL),
             0);
    s_keep("from-misp.env");
    CHECK_EQ(s_run(NULL, "cydex", "verify", "--roster", roster, s_p("from-misp.env"), NULL), 0);
    HAS(s_cap.out, "\"signer\":\"EE\"");
    HAS(s_cap.out, "\"verified\":true");
    /* The alert itself, for `cydex publish --json`. */
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "cydex", s_p("a.misp.json"),
                   NULL),
             0);
    HAS(s_cap.out, "\"title\":\"Ransomware wave against hospitals\"");

    /* STIX: the same. */
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "stix",
                   "--with-envelope", s_p("a.env"), NULL),
             0);
    HAS(s_cap.out, "\"x_cydex_envelope\"");
    s_keep("a.stix.json");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "stix", "--to", "envelope",
                   s_p("a.stix.json"), NULL),
             0);
    s_keep("from-stix.env");
    CHECK_EQ(s_run(NULL, "cydex", "verify", "--roster", roster, s_p("from-stix.env"), NULL), 0);
    HAS(s_cap.out, "\"verified\":true");

    /* CAP is written only: its parameter, read with xmllint, is the envelope. */
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "cap", "--with-envelope",
                   s_p("a.env"), NULL),
             0);
    HAS(s_cap.out, "<valueName>cydex:envelope</valueName>");
    s_keep("a.cap.xml");
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "xmllint --xpath \"string(//*[local-name()='parameter'][*[local-name()="
             "'valueName']='cydex:envelope']/*[local-name()='value'])\" %s | base64 -d > %s",
             s_p("a.cap.xml"), s_p("from-cap.env"));
    CHECK_EQ(system(cmd), 0);
    CHECK_EQ(s_run(NULL, "cydex", "verify", "--roster", roster, s_p("from-cap.env"), NULL), 0);

    /* An event edited after export no longer matches its envelope. */
    char *text = proc_slurp(s_p("a.misp.json"));
    char *at = strstr(text, "Ransomware wave");
    REQUIRE(at);
    memcpy(at, "Ransomware WAVE", 15);
    s_save("edited.misp.json", text, strlen(text));
    free(text);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "cydex",
                   s_p("edited.misp.json"), NULL),
             1);
    HAS(s_cap.err, "differs from the one its carried envelope signs");
    CHECK_EQ(s_cap.out[0], '\0');

    /* A forged envelope is refused with --roster. */
    text = proc_slurp(s_p("a.env"));
    struct stat st;
    REQUIRE(stat(s_p("a.env"), &st) == 0);
    text[st.st_size - 3] ^= 1;
    s_save("forged.env", text, (size_t)st.st_size);
    free(text);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "misp", "--roster",
                   roster, s_p("forged.env"), NULL),
             1);
}

static void test_sealed(void)
{
    s_envelope("red.env", 2, CDX_TLP_RED, "FR");
    CHECK_EQ(
        s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "misp", s_p("red.env"), NULL),
        1);
    HAS(s_cap.err, "sealed");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "misp", "--open",
                   s_p("keys/FR.secret"), s_p("red.env"), NULL),
             0);
    HAS(s_cap.out, "tlp:red");
    HAS(s_cap.out, "cydex:recipient=\\\"FR\\\"");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "cap", "--open",
                   s_p("keys/FR.secret"), s_p("red.env"), NULL),
             0);
    HAS(s_cap.out, "<scope>Private</scope><addresses>FR</addresses>");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "envelope", "--to", "misp", "--open",
                   s_p("keys/DE.secret"), s_p("red.env"), NULL),
             1);
}

static void test_lines_and_codes(void)
{
    const char *lines = "{\"id\":\"6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"tlp\":\"GREEN\","
                        "\"title\":\"one\"}\n"
                        "{\"tlp\":\"GREEN\",\"title\":3}\n"
                        "\n"
                        "{\"id\":\"7f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41\",\"tlp\":\"CLEAR\","
                        "\"title\":\"three\",\"indicators\":[{\"type\":\"ip-dst\",\"value\":"
                        "\"192.0.2.1\"}]}\n";
    s_save("in.jsonl", lines, strlen(lines));
    CHECK_EQ(s_run(s_p("in.jsonl"), "cydex", "convert", "--from", "cydex", "--to", "stix",
                   "--lines", "--sender", "EE", NULL),
             65);
    HAS(s_cap.err, "line 2: alert.title: expected a string");
    char *second = strchr(s_cap.out, '\n');
    REQUIRE(second);
    CHECK(strchr(second + 1, '\n') != NULL && strchr(second + 1, '\n')[1] == '\0');
    HAS(s_cap.out, "report--6f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");
    HAS(s_cap.out, "report--7f1c2a9e-4b7d-4c1e-9a55-0d3e8f7b2c41");

    /* CAP with --lines: one document a line. */
    CHECK_EQ(s_run(s_p("in.jsonl"), "cydex", "convert", "--from", "cydex", "--to", "cap", "--lines",
                   "--sender", "EE", NULL),
             65);
    size_t n = 0;
    for (const char *p = s_cap.out; *p; p++)
        n += *p == '\n';
    CHECK_EQ(n, 2);

    /* Cannot map: 1, with the field named. */
    const char *text = "{\"tlp\":\"GREEN\",\"title\":\"t\",\"indicators\":[{\"type\":\"text\","
                       "\"value\":\"x\"}]}";
    s_save("text.json", text, strlen(text));
    CHECK_EQ(
        s_run(NULL, "cydex", "convert", "--from", "cydex", "--to", "stix", s_p("text.json"), NULL),
        1);
    HAS(s_cap.err, "alert.indicators[0]");
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "cydex", s_p("nothing.json"),
                   NULL),
             66);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "cap", "--to", "cydex", NULL), 64);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--to", "cydex", NULL), 64);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--help", NULL), 0);
    HAS(s_cap.out, "--with-envelope");
    /* A MISP event without a label: refused, then --tlp gives one. */
    const char *ev = "{\"Event\":{\"uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\","
                     "\"info\":\"x\"}}";
    s_save("nolabel.json", ev, strlen(ev));
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "cydex", s_p("nolabel.json"),
                   NULL),
             1);
    CHECK_EQ(s_run(NULL, "cydex", "convert", "--from", "misp", "--to", "cydex", "--tlp", "AMBER",
                   s_p("nolabel.json"), NULL),
             0);
    HAS(s_cap.out, "\"tlp\":\"AMBER\"");
}

int main(void)
{
    fixture_init(&F);
    fixture_tmpdir(s_dir);
    proc_capture_init(&s_cap, s_dir);
    char keys[300];
    snprintf(keys, sizeof keys, "%s", s_p("keys"));
    REQUIRE(mkdir(keys, 0700) == 0);
    REQUIRE(cdx_identity_save(F.fr, keys, NULL) == CDX_OK);
    REQUIRE(cdx_identity_save(F.de, keys, NULL) == CDX_OK);
    REQUIRE(cdx_roster_save(F.roster, s_p("roster.bin"), NULL) == CDX_OK);
    test_provenance();
    test_sealed();
    test_lines_and_codes();
    proc_capture_free(&s_cap);
    fixture_rmtree(s_dir);
    fixture_free(&F);
    return check_done("convert_test");
}
