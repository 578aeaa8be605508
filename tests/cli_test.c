/* The cydex command as a user drives it: exit codes, messages, files. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fixture.h"
#include "proc.h"

static char s_dir[256];
static proc_capture s_cap;

/* Runs `cydex` with a NULL-terminated argument list; stdin from `in`. */
#define s_cydex(in, ...) proc_capture_run(&s_cap, in, "cydex", __VA_ARGS__)

static char *s_path(const char *name)
{
    static char bufs[16][300];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, 300, "%s/%s", s_dir, name);
    return p;
}

static void s_write(const char *name, const char *text)
{
    FILE *f = fopen(s_path(name), "wb");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

static void test_usage(void)
{
    CHECK_EQ(s_cydex(NULL, "--help", NULL), 0);
    HAS(s_cap.out, "usage: cydex COMMAND");
    HAS(s_cap.out, "exit codes");
    CHECK_EQ(s_cydex(NULL, "launch", NULL), 64);
    HAS(s_cap.err, "unknown command 'launch'");
    CHECK_EQ(s_cydex(NULL, "keygen", NULL), 64);
    HAS(s_cap.err, "--id and --out are required");
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "E E", "--out", s_dir, NULL), 64);
    CHECK_EQ(s_cydex(NULL, "sign", "--help", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "frobnicate", "x", NULL), 64);
}

static void test_keys_and_roster(void)
{
    char keys[300];
    snprintf(keys, sizeof keys, "%s", s_path("keys"));
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "EE", "--out", keys, NULL), 0);
    HAS(s_cap.out, "EE (state)");
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "FR", "--out", keys, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "DE", "--out", keys, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "broker.alpha", "--out", keys, NULL), 0);
    HAS(s_cap.out, "(broker)");
    CHECK_EQ(s_cydex(NULL, "keygen", "--id", "EE", "--out", keys, NULL), 73);
    HAS(s_cap.err, "refusing to overwrite");
    struct stat st;
    REQUIRE(stat(s_path("keys/EE.secret"), &st) == 0);
    CHECK_EQ(st.st_mode & 0777, 0600);

    char r[300];
    snprintf(r, sizeof r, "%s", s_path("roster.bin"));
    CHECK_EQ(s_cydex(NULL, "roster", "init", "--federation", "test-fed", "--threshold", "2",
                     "--out", r, "--admin", s_path("keys/EE.pub"), "--admin", s_path("keys/FR.pub"),
                     "--admin", s_path("keys/DE.pub"), "--member", s_path("keys/EE.pub"),
                     "--member", s_path("keys/FR.pub"), NULL),
             0);
    CHECK_EQ(s_cydex(NULL, "roster", "add", r, s_path("keys/DE.pub"),
                     s_path("keys/broker.alpha.pub"), NULL),
             0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r, NULL), 1);
    HAS(s_cap.err, "0 valid admin signatures; 2 required");
    CHECK_EQ(s_cydex(NULL, "roster", "sign", r, "--key", s_path("keys/EE.secret"), NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r, NULL), 1);
    HAS(s_cap.err, "1 valid admin signature; 2 required");
    CHECK_EQ(s_cydex(NULL, "roster", "sign", r, "--key", s_path("keys/EE.secret"), NULL), 1);
    HAS(s_cap.err, "admin EE has signed already");
    CHECK_EQ(s_cydex(NULL, "roster", "sign", r, "--key", s_path("keys/broker.alpha.secret"), NULL),
             1);
    HAS(s_cap.err, "not an admin key");
    CHECK_EQ(s_cydex(NULL, "roster", "sign", r, "--key", s_path("keys/FR.secret"), NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r, NULL), 0);
    HAS(s_cap.out, "valid: roster v1 of test-fed, signed by EE, FR (2 required)");
    CHECK_EQ(s_cydex(NULL, "roster", "show", r, "--json", NULL), 0);
    HAS(s_cap.out, "\"federation\": \"test-fed\"");
    HAS(s_cap.out, "\"id\": \"broker.alpha\"");
    CHECK_EQ(s_cydex(NULL, "roster", "show", r, NULL), 0);
    HAS(s_cap.out, "signed by: EE FR");
    CHECK_EQ(s_cydex(NULL, "roster", "show", s_path("nothing.bin"), NULL), 66);
}

static void test_envelopes(void)
{
    char r[300], env[300], sealed[300], r2[300];
    snprintf(r, sizeof r, "%s", s_path("roster.bin"));
    snprintf(env, sizeof env, "%s", s_path("alert.env"));
    snprintf(sealed, sizeof sealed, "%s", s_path("amber.env"));
    snprintf(r2, sizeof r2, "%s", s_path("roster2.bin"));
    s_write("alert.json", "{\"title\":\"DDoS on the ministry\",\"tlp\":\"GREEN\","
                          "\"severity\":\"moderate\",\"category\":\"ddos\"}");
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.government", "--seq", "1", "--out", env, NULL),
             0);
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, "--topic", "alert.government", env, NULL), 0);
    HAS(s_cap.out, "\"verified\":true");
    HAS(s_cap.out, "\"title\":\"DDoS on the ministry\"");
    HAS(s_cap.out, "\"sender\":\"EE\"");
    CHECK_EQ(s_cydex(env, "verify", "--roster", r, NULL), 0); /* from stdin */
    CHECK_EQ(s_cydex(NULL, "inspect", env, NULL), 0);
    HAS(s_cap.out, "\"verified\":false");
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, "--topic", "alert.energy", env, NULL), 1);
    HAS(s_cap.err, "signed topic \"alert.government\"");
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, "--max-skew", "60000", env, NULL), 0);

    /* A flipped byte. */
    char *bytes = proc_slurp(env);
    struct stat st;
    REQUIRE(stat(env, &st) == 0);
    bytes[st.st_size - 10] ^= 0x01;
    FILE *f = fopen(s_path("flipped.env"), "wb");
    fwrite(bytes, 1, (size_t)st.st_size, f);
    fclose(f);
    free(bytes);
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, s_path("flipped.env"), NULL), 1);
    HAS(s_cap.err, "signature of EE does not verify");
    s_write("garbage.env", "this is not an envelope");
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, s_path("garbage.env"), NULL), 65);
    CHECK_EQ(s_cydex(NULL, "inspect", s_path("garbage.env"), NULL), 65);

    /* Sealed to FR. */
    s_write("amber.json", "{\"title\":\"Compromised supplier\",\"tlp\":\"AMBER\"}");
    CHECK_EQ(s_cydex(s_path("amber.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.energy", "--seq", "2", "--prev-hash",
                     "041c15cd80a714bbb4d8bdf1f5bcec9cfd2b86496c48e5f70682d3368abb3f1a", "--to",
                     "FR", "--out", sealed, NULL),
             0);
    CHECK_EQ(
        s_cydex(NULL, "verify", "--roster", r, "--open", s_path("keys/FR.secret"), sealed, NULL),
        0);
    HAS(s_cap.out, "\"opened\":{");
    HAS(s_cap.out, "\"title\":\"Compromised supplier\"");
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r, sealed, NULL), 0);
    CHECK(strstr(s_cap.out, "Compromised supplier") == NULL);
    CHECK_EQ(
        s_cydex(NULL, "verify", "--roster", r, "--open", s_path("keys/DE.secret"), sealed, NULL),
        1);
    HAS(s_cap.err, "not sealed to DE");

    /* Rules a signer cannot break. */
    s_write("red.json", "{\"title\":\"Names\",\"tlp\":\"RED\"}");
    CHECK_EQ(s_cydex(s_path("red.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.x", "--seq", "1", "--out", s_path("red.env"), NULL),
             1);
    HAS(s_cap.err, "must be sealed");
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.x", "--seq", "1", "--to", "FR", "--out", s_path("g.env"),
                     NULL),
             1);
    HAS(s_cap.err, "never sealed");
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.x", "--seq", "2", "--out", s_path("g.env"), NULL),
             65);
    HAS(s_cap.err, "needs the hash of the sender's previous envelope");
    s_write("bad.json", "{\"title\":\"x\",\"tlp\":\"GREEN\",\"colour\":\"red\"}");
    CHECK_EQ(s_cydex(s_path("bad.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster", r,
                     "--topic", "alert.x", "--seq", "1", "--out", s_path("g.env"), NULL),
             65);
    HAS(s_cap.err, "unknown field \"colour\"");

    /* A secret key others can read. */
    REQUIRE(chmod(s_path("keys/DE.secret"), 0644) == 0);
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys/DE.secret"), "--roster", r,
                     "--topic", "alert.x", "--seq", "1", "--out", s_path("g.env"), NULL),
             77);
    HAS(s_cap.err, "chmod 600");
    REQUIRE(chmod(s_path("keys/DE.secret"), 0600) == 0);

    /* Revoked: a new roster version revokes EE from 2020 on. */
    CHECK_EQ(s_cydex(NULL, "roster", "next", "--from", r, "--out", r2, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "revoke", r2, "EE", "--at", "2020-01-01T00:00:00Z", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "sign", r2, "--key", s_path("keys/FR.secret"), NULL), 64);
    HAS(s_cap.err, "give --prev OLD");
    CHECK_EQ(
        s_cydex(NULL, "roster", "sign", r2, "--key", s_path("keys/FR.secret"), "--prev", r, NULL),
        0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r2, "--prev", r, NULL), 1);
    CHECK_EQ(
        s_cydex(NULL, "roster", "sign", r2, "--key", s_path("keys/DE.secret"), "--prev", r, NULL),
        0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r2, "--prev", r, NULL), 0);
    HAS(s_cap.out, "roster v2");
    CHECK_EQ(s_cydex(NULL, "roster", "verify", r, "--prev", r2, NULL), 1);
    HAS(s_cap.err, "versions only rise");
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", r2, env, NULL), 1);
    HAS(s_cap.err, "was revoked");
}

static void test_demo(void)
{
    int ec = s_cydex(NULL, "demo", "--dir", s_path("demo"), NULL);
    CHECK_EQ(ec, 0);
    if (ec != 0) /* what it said, before the next command's output replaces it */
        fprintf(stderr, "cydex demo said:\n%s\n%s", s_cap.out, s_cap.err);
    HAS(s_cap.out, "Every step came out as it must");
    CHECK(strstr(s_cap.out, "\n   FAIL ") == NULL); /* no step marked failed */
    HAS(s_cap.out, "FAIL at entry 2");              /* the auditor caught the edit */
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", s_path("demo/roster.bin"), "--open",
                     s_path("demo/FR/FR.secret"), s_path("demo/EE/seq-2.env"), NULL),
             0);
    HAS(s_cap.out, "Compromised supplier");
}

int main(void)
{
    fixture_tmpdir(s_dir);
    proc_capture_init(&s_cap, s_dir);
    test_usage();
    test_keys_and_roster();
    test_envelopes();
    test_demo();
    proc_capture_free(&s_cap);
    int rc = check_done("cli_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
