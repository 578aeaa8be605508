/* FR's node witnesses broker.alpha's log. The broker publishes a tree head
 * of its log every 200 ms while EE publishes; FR's node holds each against
 * the one before with a consistency proof from the broker, and counts them
 * consistent. Then a tree head signed with broker.alpha's key names a
 * root its log does not have (what a broker that rewrote its log, or shows
 * FR another one, would sign): FR's node must say so and count it, and
 * the heads after it are still judged. Processes by PID; ipc:// only. */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "check.h"
#include "fixture.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;
static char s_fr[320];

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* A number from FR's `cydex status --json`; -1 if it is not there. */
static long long s_status(const char *key)
{
    if (proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", s_fr, "--json", NULL) != 0)
        return -1;
    char want[64];
    snprintf(want, sizeof want, "\"%s\":", key);
    const char *at = strstr(s_cap.out, want);
    return at ? strtoll(at + strlen(want), NULL, 10) : -1;
}

/* Publishes through EE's node until FR's node has witnessed `count` heads
 * (bounded); returns what it says. */
static long long s_until_witnessed(bus_client *ee, long long count, uint64_t *seq, uint8_t prev[32])
{
    long long seen = -1;
    for (int i = 0; i < 60 && (seen = s_status("tree_heads_witnessed")) < count; i++) {
        cdx_body b;
        ++*seq;
        fixture_body(&b, "EE", *seq, *seq > 1 ? prev : NULL, "alert.health", cdx_now_ms());
        b.kind = CDX_PAYLOAD_ALERT;
        fixture_alert(&b.alert, CDX_TLP_GREEN, 100);
        cdx_bytes env = {0};
        REQUIRE(cdx_envelope_sign(F.ee, &b, &env, prev, NULL) == CDX_OK);
        cdx_receipt r;
        CHECK_EQ(bus_publish(ee, F.roster, "alert.health", env.data, env.len, &r, 5000), CDX_OK);
        cdx_bytes_free(&env);
        cdx_body_clear(&b);
        bus_nap(300);
    }
    return seen;
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr};
    bus_folder(s_dir, F.roster, ids, 3);
    proc_capture_init(&s_cap, s_dir);
    snprintf(s_fr, sizeof s_fr, "ipc://%s", s_p("fr-control"));
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member card;
    cdx_identity_card(F.broker, &card);

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t fr = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "sth");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, card.curve_pk);
    uint64_t seq = 0;
    uint8_t prev[32] = {0};
    CHECK(s_until_witnessed(&ee, 3, &seq, prev) >= 3);
    CHECK_EQ(s_status("tree_heads_inconsistent"), 0);

    /* broker.alpha's key signs a head of its log's present size with a
     * root that is not its log's, and it goes out on "sth" like any. */
    uint64_t size = 0, max = 0, count = 0, alpha_max = 0;
    bus_log_sender(s_p("alpha-log"), "broker.alpha", &alpha_max, &count, NULL);
    cdx_bytes forged;
    bus_false_head(s_p("alpha-log"), F.broker, 0, 0xab, &forged, &size);
    cdx_receipt r;
    CHECK_EQ(bus_publish(&ee, F.roster, "sth", forged.data, forged.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&forged);
    char said[200];
    snprintf(said, sizeof said,
             "INCONSISTENT TREE HEAD: broker.alpha's tree head at size %llu is not consistent "
             "with its head at size",
             (unsigned long long)size);
    CHECK(bus_wait_file(s_p("fr.log"), said, 10000));
    CHECK_EQ(s_status("tree_heads_inconsistent"), 1);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", s_fr, NULL), 0);
    CHECK(strstr(s_cap.out, " co-signed, 1 INCONSISTENT (see the node's log") != NULL);
    /* The honest heads after it are still consistent with what FR held. */
    long long before = s_status("tree_heads_witnessed");
    CHECK(s_until_witnessed(&ee, before + 2, &seq, prev) >= before + 2);
    CHECK_EQ(s_status("tree_heads_inconsistent"), 1);

    bus_client_free(&ee);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(broker), 0);
    bus_log_sender(s_p("fr-log"), "broker.alpha", &max, &count, NULL);
    CHECK(max > alpha_max); /* FR logged the forged head and those after it */
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("fr-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("witness_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
