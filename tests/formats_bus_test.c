/* The formats where users meet them, through live daemons: MISP events and
 * a STIX bundle published through EE's node (`cydex publish --format`,
 * alone and with --lines; the same event twice is one alert; one that
 * cannot map is refused and nothing is published), followed on FR's node
 * as STIX and MISP (`cydex tail --format`, `show`, `list`), and replayed from FR's log as
 * MISP with the envelopes, one of which `cydex verify` proves was signed
 * by EE (`cydex-audit replay --format --with-envelope`); the update keeps
 * its original's STIX report. Processes by PID; ipc:// only. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

static char *s_data(const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 512, "%s/%s", CDX_FORMATS_DATA, name);
    return p;
}

static void s_write(const char *name, const char *text)
{
    FILE *f = fopen(s_p(name), "w");
    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
}

#define HAS(buf, text) CHECK(strstr(buf, text) != NULL)

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture_init(&s_cap, s_dir);
    char ee_node[320], fr_node[320];
    snprintf(ee_node, sizeof ee_node, "ipc://%s", s_p("ee-control"));
    snprintf(fr_node, sizeof fr_node, "ipc://%s", s_p("fr-control"));
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "ack,sth");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.,sth");
    CHECK(bus_wait_log(s_p("ee-log"), "broker.alpha", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX));

    /* A MISP event (TLP:AMBER: sealed, to every state), published; again,
     * it is the same alert. Not sealed, it is refused. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.misp", "--format", "misp", "--in",
                              s_data("misp-event-ransomware.json"), "--json", NULL),
             1);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.misp", "--format", "misp", "--to", "all", "--in",
                              s_data("misp-event-ransomware.json"), "--json", NULL),
             0);
    HAS(s_cap.out, "\"seq\":1}");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.misp", "--format", "misp", "--to", "all", "--in",
                              s_data("misp-event-ransomware.json"), "--json", NULL),
             0);
    HAS(s_cap.out, "\"seq\":1}");
    /* One that cannot map: refused, named, nothing published. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.misp", "--format", "misp", "--in",
                              s_data("misp-event-lossy.json"), NULL),
             1);
    HAS(s_cap.err, "misp-galaxy:threat-actor");
    /* A STIX bundle. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_node, "--topic",
                              "alert.stix", "--format", "stix", "--in",
                              s_data("stix-bundle-phishing.json"), "--json", NULL),
             0);
    HAS(s_cap.out, "\"seq\":2}");
    /* Lines: the update, and a line that is no JSON. */
    char *update = proc_slurp(s_data("misp-event-update.json"));
    for (char *c = update; *c; c++)
        if (*c == '\n')
            *c = ' ';
    char *lines = malloc(strlen(update) + 32);
    REQUIRE(lines);
    snprintf(lines, strlen(update) + 32, "%s\n{not json\n", update);
    s_write("events.jsonl", lines);
    free(lines);
    free(update);
    CHECK_EQ(proc_capture_run(&s_cap, s_p("events.jsonl"), "cydex", "publish", "--node", ee_node,
                              "--topic", "alert.misp", "--format", "misp", "--lines", "--json",
                              NULL),
             65);
    HAS(s_cap.out, "{\"line\":1,\"hash\":");
    HAS(s_cap.out, "\"seq\":3}");
    HAS(s_cap.out, "{\"line\":2,\"exit\":65");
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 3, 3, SIZE_MAX));

    /* FR follows its log as STIX, then as MISP. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "tail", "--node", fr_node, "--from", "0",
                              "--count", "3", "--timeout", "30", "--format", "stix", NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "{\"type\":\"bundle\""), 3);
    CHECK_EQ(proc_count(s_cap.out, "\"x_cydex_sender\":\"EE\""), 3);
    HAS(s_cap.out, "report--4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63");
    HAS(s_cap.out, "report--c8eafcbe-7d9f-4b2d-9f7b-9d3f5b7d9f9b");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "tail", "--node", fr_node, "--from", "0",
                              "--count", "3", "--timeout", "30", "--format", "misp", NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "{\"Event\":"), 3);
    HAS(s_cap.out, "\"extends_uuid\":\"4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\"");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "tail", "--node", fr_node, "--format", "json",
                              NULL),
             64);
    /* One alert, and the list, in a format. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", fr_node, "--format", "cap",
                              "4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63", NULL),
             0);
    HAS(s_cap.out, "<identifier>4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63</identifier>");
    HAS(s_cap.out, "<sender>EE</sender>");
    CHECK_EQ(proc_count(s_cap.out, "\n"), 1);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", fr_node, "--format", "misp",
                              NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "{\"Event\":"), 3);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", fr_node, "--format", "misp",
                              "00000000-0000-4000-8000-000000000000", NULL),
             66);

    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);

    /* Replayed from FR's log with the envelopes (the sealed one opened with
     * FR's key); one is proved EE's. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "replay", s_p("fr-log"), "--kind",
                              "alert", "--format", "misp", "--with-envelope", "--key",
                              s_p("keys/FR.secret"), NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "\"cydex:envelope\""), 3);
    char *nl = strchr(s_cap.out, '\n');
    REQUIRE(nl);
    *nl = '\0';
    s_write("first.misp.json", s_cap.out);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "convert", "--from", "misp", "--to",
                              "envelope", s_p("first.misp.json"), NULL),
             0);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "cp %s %s", s_cap.out_path, s_p("first.env"));
    REQUIRE(system(cmd) == 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "verify", "--roster", s_p("roster.bin"),
                              "--open", s_p("keys/FR.secret"), s_p("first.env"), NULL),
             0);
    HAS(s_cap.out, "\"signer\":\"EE\"");
    HAS(s_cap.out, "\"title\":\"Ransomware wave against hospitals: LockBit affiliate");

    /* As STIX: the update is the original's report, created when it was. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "replay", s_p("fr-log"), "--kind",
                              "alert", "--format", "stix", "--key", s_p("keys/FR.secret"), NULL),
             0);
    CHECK_EQ(proc_count(s_cap.out, "\"id\":\"report--4f1f9b3e-6a2d-4c8e-9b7a-2e5d8c1a0f63\""), 2);
    const char *first = strstr(s_cap.out, "\"id\":\"report--4f1f9b3e");
    const char *second = first ? strstr(first + 1, "\"id\":\"report--4f1f9b3e") : NULL;
    REQUIRE(first && second);
    char c1[40] = "", c2[40] = "";
    sscanf(strstr(first, "\"created\":\""), "\"created\":\"%39[^\"]", c1);
    sscanf(strstr(second, "\"created\":\""), "\"created\":\"%39[^\"]", c2);
    CHECK(c1[0] && strcmp(c1, c2) == 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "replay", s_p("fr-log"),
                              "--with-envelope", NULL),
             64);

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("formats_bus_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    else
        fprintf(stderr, "files kept in %s\n", s_dir);
    return rc;
}
