/* Governance with the cydex command, as an admin drives it: revocation
 * strips the admin role (a revoked admin's signature does not count), admins
 * added and removed, the threshold changed within its bounds, a member's keys
 * rotated at a time, each refusal with its reason and exit code, and
 * envelopes judged by the key valid when they were signed. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fixture.h"
#include "proc.h"

static char s_dir[256];
static proc_capture s_cap;

#define s_cydex(in, ...) proc_capture_run(&s_cap, in, "cydex", __VA_ARGS__)
#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

static char *s_path(const char *name)
{
    static char bufs[16][300];
    static int next;
    char *p = bufs[next++ % 16];
    snprintf(p, 300, "%s/%s", s_dir, name);
    return p;
}

static void s_keys(void)
{
    const char *ids[] = {"EE", "FR", "DE", "LV"};
    for (int i = 0; i < 4; i++)
        REQUIRE(s_cydex(NULL, "keygen", "--id", ids[i], "--out", s_path("keys"), NULL) == 0);
    REQUIRE(s_cydex(NULL, "keygen", "--id", "EE", "--out", s_path("keys2"), NULL) == 0);
}

/* v1: EE, FR, DE members and admins, 2 of 3, signed by EE and FR. */
static void s_v1(const char *out)
{
    REQUIRE(s_cydex(NULL, "roster", "init", "--federation", "gov-fed", "--threshold", "2", "--out",
                    out, "--admin", s_path("keys/EE.pub"), "--admin", s_path("keys/FR.pub"),
                    "--admin", s_path("keys/DE.pub"), "--member", s_path("keys/EE.pub"), "--member",
                    s_path("keys/FR.pub"), "--member", s_path("keys/DE.pub"), NULL) == 0);
    REQUIRE(s_cydex(NULL, "roster", "sign", out, "--key", s_path("keys/EE.secret"), NULL) == 0);
    REQUIRE(s_cydex(NULL, "roster", "sign", out, "--key", s_path("keys/FR.secret"), NULL) == 0);
}

static void s_sign(const char *file, const char *key, const char *prev, int want)
{
    CHECK_EQ(s_cydex(NULL, "roster", "sign", file, "--key", s_path(key), "--prev", prev, NULL),
             want);
}

static void test_help(void)
{
    const char *subs[] = {"admin", "threshold", "rotate", "revoke"};
    const char *says[] = {"admin remove FILE ID", "1 <= K <=", "--card NEW.pub --at T",
                          "loses every role"};
    for (int i = 0; i < 4; i++) {
        CHECK_EQ(s_cydex(NULL, "roster", subs[i], "--help", NULL), 0);
        HAS(s_cap.out, says[i]);
    }
    CHECK_EQ(s_cydex(NULL, "roster", "--help", NULL), 0);
    HAS(s_cap.out, "cydex roster rotate FILE ID --card NEW.pub --at T");
    CHECK_EQ(s_cydex(NULL, "roster", "init", "--federation", "f", "--threshold", "4", "--out",
                     s_path("r.bin"), "--admin", s_path("keys/EE.pub"), NULL),
             64);
    HAS(s_cap.err, "--threshold 4 needs at least 4 --admin (1 given)");
}

/* The tester's case: DE revoked in v2, then v3 signed by EE and DE. */
static void test_revoked_admin(void)
{
    char v1[300], v2[300], v3[300];
    snprintf(v1, sizeof v1, "%s", s_path("rv1.bin"));
    snprintf(v2, sizeof v2, "%s", s_path("rv2.bin"));
    snprintf(v3, sizeof v3, "%s", s_path("rv3.bin"));
    s_v1(v1);
    CHECK_EQ(s_cydex(NULL, "roster", "next", "--from", v1, "--out", v2, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "revoke", v2, "DE", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "show", v2, NULL), 0);
    HAS(s_cap.out, "admins (2 of 2 must sign the next version): EE FR\n");
    HAS(s_cap.out, "REVOKED");
    s_sign(v2, "keys/EE.secret", v1, 0);
    s_sign(v2, "keys/FR.secret", v1, 0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v2, "--prev", v1, NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "next", "--from", v2, "--out", v3, NULL), 0);
    s_sign(v3, "keys/EE.secret", v2, 0);
    s_sign(v3, "keys/DE.secret", v2, 1);
    HAS(s_cap.err, "not an admin key of roster version 2");
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v3, "--prev", v2, NULL), 1);
    HAS(s_cap.err, "1 valid admin signature; 2 required");
    s_sign(v3, "keys/FR.secret", v2, 0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v3, "--prev", v2, NULL), 0);
    /* Revoking FR too would leave one admin for a threshold of 2. */
    CHECK_EQ(s_cydex(NULL, "roster", "revoke", v3, "FR", NULL), 1);
    HAS(s_cap.err, "lower the threshold first");
    CHECK_EQ(s_cydex(NULL, "roster", "revoke", v3, "PT", NULL), 1);
    HAS(s_cap.err, "PT is not a member");
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v3, "--prev", v2, NULL), 0); /* untouched */
}

static void test_admins_threshold_rotation(void)
{
    char v1[300], v2[300];
    snprintf(v1, sizeof v1, "%s", s_path("v1.bin"));
    snprintf(v2, sizeof v2, "%s", s_path("v2.bin"));
    s_v1(v1);
    CHECK_EQ(s_cydex(NULL, "roster", "next", "--from", v1, "--out", v2, NULL), 0);

    /* A second card for EE is not added, it is rotated to. */
    CHECK_EQ(s_cydex(NULL, "roster", "add", v2, s_path("keys2/EE.pub"), NULL), 73);
    HAS(s_cap.err, "EE is already a member");
    const char *at = "2030-01-01T00:00:00Z";
    CHECK_EQ(s_cydex(NULL, "roster", "rotate", v2, "LV", "--card", s_path("keys/LV.pub"), "--at",
                     at, NULL),
             1);
    HAS(s_cap.err, "LV is not a member");
    CHECK_EQ(s_cydex(NULL, "roster", "rotate", v2, "EE", "--card", s_path("keys/FR.pub"), "--at",
                     at, NULL),
             64);
    HAS(s_cap.err, "the card is FR's, not EE's");
    CHECK_EQ(s_cydex(NULL, "roster", "rotate", v2, "EE", "--card", s_path("keys2/EE.pub"), NULL),
             64);
    CHECK_EQ(s_cydex(NULL, "roster", "rotate", v2, "EE", "--card", s_path("keys2/EE.pub"), "--at",
                     at, NULL),
             0);
    HAS(s_cap.out, "its admin key is the new signing key");
    CHECK_EQ(s_cydex(NULL, "roster", "rotate", v2, "EE", "--card", s_path("keys/EE.pub"), "--at",
                     "2029-06-01T00:00:00Z", NULL),
             1);
    HAS(s_cap.err, "would overlap");
    CHECK_EQ(s_cydex(NULL, "roster", "show", v2, NULL), 0);
    HAS(s_cap.out, "until 2030-01-01T00:00:00.000Z");
    HAS(s_cap.out, "from 2030-01-01T00:00:00.000Z  (not yet valid)");

    /* The threshold within 1..admins. */
    CHECK_EQ(s_cydex(NULL, "roster", "threshold", v2, "0", NULL), 64);
    CHECK_EQ(s_cydex(NULL, "roster", "threshold", v2, "two", NULL), 64);
    CHECK_EQ(s_cydex(NULL, "roster", "threshold", v2, "4", NULL), 1);
    HAS(s_cap.err, "a threshold of 4 needs 4 admins; the roster has 3");
    /* LV in as a member and an admin, 3 of 4, DE out as an admin. */
    CHECK_EQ(s_cydex(NULL, "roster", "add", v2, s_path("keys/LV.pub"), NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "admin", "add", v2, s_path("keys/LV.pub"), NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "admin", "add", v2, s_path("keys/LV.pub"), NULL), 73);
    CHECK_EQ(s_cydex(NULL, "roster", "threshold", v2, "3", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "admin", "remove", v2, "PT", NULL), 1);
    HAS(s_cap.err, "PT is not an admin");
    CHECK_EQ(s_cydex(NULL, "roster", "admin", "remove", v2, "DE", NULL), 0);
    CHECK_EQ(s_cydex(NULL, "roster", "admin", "remove", v2, "FR", NULL), 1);
    HAS(s_cap.err, "would leave 2 admins who may sign for a threshold of 3");
    CHECK_EQ(s_cydex(NULL, "roster", "show", v2, NULL), 0);
    HAS(s_cap.out, "admins (3 of 3 must sign the next version): EE FR LV\n");

    /* Signed by v1's admins and threshold (EE with its present key). */
    s_sign(v2, "keys2/EE.secret", v1, 1);
    s_sign(v2, "keys/EE.secret", v1, 0);
    s_sign(v2, "keys/DE.secret", v1, 0);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v2, "--prev", v1, NULL), 0);
    HAS(s_cap.out, "valid: roster v2 of gov-fed, signed by EE, DE (2 required by the previous");

    /* v2 alone is no trust anchor (its own admins did not all sign it):
     * tools take the chain from v1. */
    char chain[620];
    snprintf(chain, sizeof chain, "%s,%s", v1, v2);
    CHECK_EQ(s_cydex(NULL, "roster", "verify", v2, NULL), 1);
    HAS(s_cap.err, "give --prev OLD, or the chain");

    /* EE signs with its first key until 2030, with the new one after. */
    char env[300];
    snprintf(env, sizeof env, "%s", s_path("a.env"));
    FILE *f = fopen(s_path("alert.json"), "wb");
    REQUIRE(f != NULL);
    fputs("{\"title\":\"Before the rotation\",\"tlp\":\"GREEN\"}", f);
    fclose(f);
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys/EE.secret"), "--roster",
                     chain, "--topic", "alert.x", "--seq", "1", "--out", env, NULL),
             0);
    CHECK_EQ(s_cydex(NULL, "verify", "--roster", chain, env, NULL), 0);
    CHECK_EQ(s_cydex(s_path("alert.json"), "sign", "--key", s_path("keys2/EE.secret"), "--roster",
                     chain, "--topic", "alert.x", "--seq", "1", "--out", s_path("b.env"), NULL),
             1);
    HAS(s_cap.err, "is not valid yet");
}

int main(void)
{
    fixture_tmpdir(s_dir);
    proc_capture_init(&s_cap, s_dir);
    s_keys();
    test_help();
    test_revoked_admin();
    test_admins_threshold_rotation();
    proc_capture_free(&s_cap);
    int rc = check_done("governance_cli_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
