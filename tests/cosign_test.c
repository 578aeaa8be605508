/* Co-signatures: a broker that shows two states two logs is caught by
 * either. FR's and DE's nodes co-sign each tree head of broker.alpha they
 * come to hold; the co-signatures are logged by the broker and by each
 * other. Once EE stops publishing, the broker stops checkpointing (heads
 * and co-signatures alone call for none) and everything goes quiet. Then
 * broker.alpha's key signs two heads its log does not have, which reach
 * the bus only inside co-signatures by EE, as if the broker had shown them
 * to EE alone: one with another root at the size FR and DE hold, one at a
 * later size that no proof from the broker joins to theirs. Both nodes
 * must say so, naming EE as the co-signer, and count two. (The nodes send
 * no heartbeats, which would be news for the broker.) Processes by PID;
 * ipc:// only. */
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

/* A number from a node's `cydex status --json`; -1 if it is not there. */
static long long s_status(const char *node, const char *key)
{
    char ctl[320];
    snprintf(ctl, sizeof ctl, "ipc://%s/%s-control", s_dir, node);
    if (proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ctl, "--json", NULL) != 0)
        return -1;
    char want[64];
    snprintf(want, sizeof want, "\"%s\":", key);
    const char *at = strstr(s_cap.out, want);
    return at ? strtoll(at + strlen(want), NULL, 10) : -1;
}

/* Signs body b as `who` on its chain (seq, prev), publishes it on topic. */
static void s_publish(bus_client *c, const cdx_identity *who, cdx_body *b, uint8_t prev[32],
                      const char *topic)
{
    cdx_bytes env = {0};
    REQUIRE(cdx_envelope_sign(who, b, &env, prev, NULL) == CDX_OK);
    cdx_receipt r;
    CHECK_EQ(bus_publish(c, F.roster, topic, env.data, env.len, &r, 5000), CDX_OK);
    CHECK_EQ(r.status, CDX_RECEIPT_ACCEPTED);
    cdx_bytes_free(&env);
    cdx_body_clear(b);
}

static void s_alert(bus_client *ee, uint64_t *seq, uint8_t prev[32])
{
    cdx_body b;
    ++*seq;
    fixture_body(&b, "EE", *seq, *seq > 1 ? prev : NULL, "alert.health", cdx_now_ms());
    b.kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b.alert, CDX_TLP_GREEN, 100);
    s_publish(ee, F.ee, &b, prev, "alert.health");
}

/* The size of broker.alpha's last own tree head in its log. */
static uint64_t s_alpha_head(void)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    REQUIRE(cdx_log_new(&log, s_p("alpha-log"), &ro, NULL) == CDX_OK);
    cdx_log_sender own;
    REQUIRE(cdx_log_sender_get(log, "broker.alpha", &own) == CDX_OK);
    uint64_t index, size = 0;
    cdx_log_entry e;
    REQUIRE(cdx_log_find_seq(log, "broker.alpha", own.max_seq, &index) == CDX_OK &&
            cdx_log_get(log, index, &e, NULL) == CDX_OK);
    cdx_envelope *env = NULL;
    REQUIRE(cdx_envelope_inspect(&env, e.envelope.data, e.envelope.len, NULL) == CDX_OK);
    REQUIRE(cdx_envelope_body(env)->kind == CDX_PAYLOAD_TREE_HEAD);
    size = cdx_envelope_body(env)->tree_head.size;
    cdx_envelope_destroy(&env);
    cdx_log_entry_clear(&e);
    cdx_log_destroy(&log);
    return size;
}

static uint64_t s_alpha_size(void)
{
    cdx_log *log = NULL;
    cdx_log_opts ro = {.read_only = true};
    uint64_t size = 0;
    if (cdx_log_new(&log, s_p("alpha-log"), &ro, NULL) == CDX_OK)
        cdx_log_size(log, &size);
    cdx_log_destroy(&log);
    return size;
}

/* A head of broker.alpha's log at `size` with a root it does not have,
 * signed with its key, wrapped in a co-signature by EE and published. */
static void s_show_ee_a_lie(bus_client *ee, uint64_t size, uint8_t fill, uint64_t *seq,
                            uint8_t prev[32])
{
    cdx_bytes head;
    bus_false_head(s_p("alpha-log"), F.broker, size, fill, &head, NULL);
    cdx_body w;
    ++*seq;
    fixture_body(&w, "EE", *seq, prev, "sth", cdx_now_ms());
    w.kind = CDX_PAYLOAD_WITNESS;
    w.witness = head; /* w's now */
    s_publish(ee, F.ee, &w, prev, "sth");
}

/* FR's and DE's nodes both said `said`, and count n inconsistent heads. */
static void s_both_caught(const char *said, long long n)
{
    const char *nodes[] = {"fr", "de"};
    for (int i = 0; i < 2; i++) {
        char log[16];
        snprintf(log, sizeof log, "%s.log", nodes[i]);
        CHECK(bus_wait_file(s_p(log), said, 10000));
        CHECK_EQ(s_status(nodes[i], "tree_heads_inconsistent"), n);
    }
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member card;
    cdx_identity_card(F.broker, &card);

    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    pid_t fr = bus_start_node_with(s_dir, "fr", "FR", "alpha", "broker.alpha", "sth",
                                   "[node]\ncosign = true\nheartbeat_ms = 0\n");
    pid_t de = bus_start_node_with(s_dir, "de", "DE", "alpha", "broker.alpha", "sth",
                                   "[node]\ncosign = true\nheartbeat_ms = 0\n");
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, card.curve_pk);
    uint64_t seq = 0;
    uint8_t prev[32] = {0};

    /* 1. Each node co-signs the heads it comes to hold. */
    for (int i = 0; i < 60 && (s_status("fr", "tree_heads_cosigned") < 2 ||
                               s_status("de", "tree_heads_cosigned") < 2);
         i++) {
        s_alert(&ee, &seq, prev);
        bus_nap(300);
    }
    CHECK(s_status("fr", "tree_heads_cosigned") >= 2);
    CHECK(s_status("de", "tree_heads_cosigned") >= 2);
    CHECK_EQ(s_status("fr", "tree_heads_inconsistent"), 0);
    /* The broker logs them, and each node the other's. */
    CHECK(bus_wait_log(s_p("alpha-log"), "FR", 2, 2, SIZE_MAX));
    CHECK(bus_wait_log(s_p("alpha-log"), "DE", 2, 2, SIZE_MAX));
    CHECK(bus_wait_log(s_p("fr-log"), "DE", 2, 2, SIZE_MAX));
    CHECK(bus_wait_log(s_p("de-log"), "FR", 2, 2, SIZE_MAX));

    /* 2. EE stops: the broker's log stops growing (no head answers heads
     * and co-signatures alone, so none answers those of the last head). */
    uint64_t size = s_alpha_size(), stable_ms = 0;
    for (int i = 0; i < 100 && stable_ms < 1500; i++) {
        bus_nap(100);
        uint64_t now = s_alpha_size();
        stable_ms = now == size ? stable_ms + 100 : 0;
        size = now;
    }
    CHECK(stable_ms >= 1500);
    long long cos_fr = s_status("fr", "tree_heads_cosigned");

    /* 3. Another root at the size FR and DE hold, shown to EE alone. */
    uint64_t held = s_alpha_head();
    s_show_ee_a_lie(&ee, held, 0xab, &seq, prev);
    char said[200];
    snprintf(said, sizeof said,
             "INCONSISTENT TREE HEAD: broker.alpha's tree head at size %llu (co-signed by EE) "
             "has another root than its head at size %llu",
             (unsigned long long)held, (unsigned long long)held);
    s_both_caught(said, 1);

    /* 4. A later size: the broker's proof from the held head cannot reach
     * a root its log never had. */
    uint64_t later = s_alpha_size();
    REQUIRE(later > held);
    s_show_ee_a_lie(&ee, later, 0xcd, &seq, prev);
    snprintf(said, sizeof said,
             "INCONSISTENT TREE HEAD: broker.alpha's tree head at size %llu (co-signed by EE) "
             "is not consistent with its head at size %llu",
             (unsigned long long)later, (unsigned long long)held);
    s_both_caught(said, 2);
    /* Neither lie was co-signed. */
    CHECK_EQ(s_status("fr", "tree_heads_cosigned"), cos_fr);

    bus_client_free(&ee);
    CHECK_EQ(bus_stop(fr), 0);
    CHECK_EQ(bus_stop(de), 0);
    CHECK_EQ(bus_stop(broker), 0);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("fr-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("de-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));

    proc_capture_free(&s_cap);
    fixture_free(&F);
    int rc = check_done("cosign_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
