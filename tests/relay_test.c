/* cydex relay, as a bridge from a feed would run it: FR's relay publishes
 * each JSON line it reads and says so at once, before more input comes (a
 * live feed sends one alert an hour); a malformed line gets its refusal
 * and the rest go on; what the other members publish comes out on stdout
 * as JSON lines, FR's own does not; the end of the input leaves the
 * outbound half running; SIGTERM stops it with 0. Also `publish --lines`
 * answers each line before the next arrives. ipc:// only; processes by PID. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Whether file NAME comes to hold `want` (within 15 s). */
static bool s_file_has(const char *name, const char *want)
{
    return bus_wait_file(s_p(name), want, 15000);
}

static void s_write(int fd, const char *text)
{
    REQUIRE(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture_init(&s_cap, s_dir);
    char ee_ctl[320], fr_ctl[320];
    snprintf(ee_ctl, sizeof ee_ctl, "ipc://%s", s_p("ee-control"));
    snprintf(fr_ctl, sizeof fr_ctl, "ipc://%s", s_p("fr-control"));

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "");
    pid_t ee = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "alert.");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.",
                                   "[node]\nheartbeat_ms = 0");

    /* FR's relay: the feed writes one line, and its result comes while the
     * feed is still open. */
    char *relay_argv[] = {"cydex",     "relay",       "--node", fr_ctl, "--topic",
                          "alert.ids", "--subscribe", "alert.", NULL};
    pid_t relay;
    int feed = bus_run_bg_fed(&relay, s_p("relay.out"), "cydex", relay_argv);
    s_write(feed, "{\"title\":\"Scan from the FR feed\",\"tlp\":\"GREEN\"}\n");
    CHECK(s_file_has("relay.out.err", "{\"line\":1,\"hash\":\""));
    CHECK(bus_wait_log(s_p("ee-log"), "FR", 1, 1, SIZE_MAX));

    /* EE's alert comes out of FR's relay; FR's own does not. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title", "Ransomware at EE",
                              NULL),
             0);
    CHECK(s_file_has("relay.out", "Ransomware at EE"));

    /* A malformed line is refused with its line number; the next goes. */
    s_write(feed, "{not json\n{\"title\":\"Second scan\",\"tlp\":\"CLEAR\"}\n");
    CHECK(s_file_has("relay.out.err", "{\"line\":2,\"exit\":65,"));
    CHECK(s_file_has("relay.out.err", "{\"line\":3,\"hash\":\""));
    CHECK(bus_wait_log(s_p("ee-log"), "FR", 2, 2, SIZE_MAX));

    /* The feed ends; the bus still comes out. */
    close(feed);
    CHECK(s_file_has("relay.out.err", "{\"end\":true,\"alerts\":3,\"refused\":1}"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "GREEN", "--title", "After the feed ended",
                              NULL),
             0);
    CHECK(s_file_has("relay.out", "After the feed ended"));
    CHECK_EQ(bus_stop(relay), 0);
    char *out = proc_slurp(s_p("relay.out"));
    REQUIRE(out != NULL);
    CHECK(strstr(out, "Scan from the FR feed") == NULL && strstr(out, "Second scan") == NULL);
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    CHECK_EQ(lines, 2); /* EE's two alerts, each once */
    free(out);

    /* publish --lines answers a line before the next one comes. */
    char *pub_argv[] = {"cydex",        "publish", "--node", ee_ctl, "--topic",
                        "alert.health", "--lines", "--json", NULL};
    pid_t pub;
    feed = bus_run_bg_fed(&pub, s_p("lines.out"), "cydex", pub_argv);
    s_write(feed, "{\"title\":\"Line one\",\"tlp\":\"GREEN\"}\n");
    CHECK(s_file_has("lines.out", "{\"line\":1,\"hash\":\""));
    s_write(feed, "{\"title\":\"Line two\",\"tlp\":\"GREEN\"}\n");
    close(feed);
    CHECK_EQ(bus_wait_exit(pub, 10000), 0);
    CHECK(s_file_has("lines.out", "{\"line\":2,\"hash\":\""));

    /* A line no alert could fill is refused without holding it all; the
     * next line goes. */
    {
        FILE *f = fopen(s_p("huge.jsonl"), "w");
        REQUIRE(f != NULL);
        fputs("{\"title\":\"Huge\",\"description\":\"", f);
        for (int i = 0; i < 5 * 1024; i++)
            fprintf(f, "%01024d", 0);
        fputs("\"}\n{\"title\":\"After the huge one\",\"tlp\":\"GREEN\"}\n", f);
        fclose(f);
    }
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.health", "--lines", "--json", "--in", s_p("huge.jsonl"), NULL),
             65);
    CHECK(strstr(s_cap.out, "{\"line\":1,\"exit\":65,\"error\":\"the line is longer than 4 MiB") !=
          NULL);
    CHECK(strstr(s_cap.out, "{\"line\":2,\"hash\":\"") != NULL);

    /* A relay through a hang and a restart of its node. FR's node hangs
     * (SIGSTOP) with three lines in flight: the relay waits for it, and
     * once it runs again asks it again every line it had not answered. The
     * node took them from the first connection as well, and answers the
     * second asking with the same envelopes (each line was given an id):
     * every line is published once. Then FR's node is killed and started
     * again: the relay goes on both ways. */
    uint64_t fr_max, fr_count;
    bus_log_sender(s_p("ee-log"), "FR", &fr_max, &fr_count, NULL);
    CHECK_EQ(fr_max, 2);
    char *ride_argv[] = {"cydex",       "relay",  "--node",      fr_ctl, "--topic", "alert.ids",
                         "--subscribe", "alert.", "--wait-node", "30",   NULL};
    feed = bus_run_bg_fed(&relay, s_p("ride.out"), "cydex", ride_argv);
    s_write(feed, "{\"title\":\"Before the hang\",\"tlp\":\"GREEN\"}\n");
    CHECK(s_file_has("ride.out.err", "{\"line\":1,\"hash\":\""));
    REQUIRE(kill(fr, SIGSTOP) == 0);
    s_write(feed, "{\"title\":\"In the hang, one\",\"tlp\":\"GREEN\"}\n"
                  "{\"title\":\"In the hang, two\",\"tlp\":\"GREEN\"}\n"
                  "{\"title\":\"In the hang, three\",\"tlp\":\"GREEN\"}\n");
    CHECK(
        s_file_has("ride.out.err", "waiting up to 30 s for it (lines from 2 on are asked again)"));
    REQUIRE(kill(fr, SIGCONT) == 0);
    CHECK(s_file_has("ride.out.err", "the node is back"));
    CHECK(s_file_has("ride.out.err", "{\"line\":4,\"hash\":\""));
    bus_kill(fr);
    fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "alert.",
                             "[node]\nheartbeat_ms = 0");
    s_write(feed, "{\"title\":\"After the restart\",\"tlp\":\"GREEN\"}\n");
    CHECK(s_file_has("ride.out.err", "{\"line\":5,\"hash\":\""));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.health", "--tlp", "GREEN", "--title",
                              "While FR's relay rode through", NULL),
             0);
    CHECK(s_file_has("ride.out", "While FR's relay rode through"));
    close(feed);
    CHECK(s_file_has("ride.out.err", "{\"end\":true,\"alerts\":5,\"refused\":0}"));
    CHECK_EQ(bus_stop(relay), 0);
    CHECK(bus_wait_log(s_p("ee-log"), "FR", 7, 7, SIZE_MAX));
    const char *ride_logs[] = {"ee-log", "fr-log"};
    for (int i = 0; i < 2; i++) { /* 2 before, 5 lines: each once */
        bus_log_sender(s_p(ride_logs[i]), "FR", &fr_max, &fr_count, NULL);
        CHECK_EQ(fr_max, 7);
        CHECK_EQ(fr_count, 7);
    }

    /* Usage, and no node. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "relay", "--node", fr_ctl, NULL), 64);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "relay", "--node", fr_ctl, "--topic",
                              "alert.ids", NULL),
             69);
    CHECK_EQ(bus_stop(ee), 0);
    CHECK_EQ(bus_stop(broker), 0);

    fixture_free(&F);
    proc_capture_free(&s_cap);
    int rc = check_done("relay_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
