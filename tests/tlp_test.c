/* TLP by cryptography and one topic per kind of payload, on every path a
 * message takes. A forger who signs the bytes by hand (fixture_forge: what
 * a client that shares no code with libcydex can send) gets an unsealed
 * TLP:AMBER or RED alert, a sealed GREEN one, and an alert on "sth" past
 * the signer; then
 *   - the audit fails on a log that holds one, naming the entry;
 *   - a broker refuses each at ingress with its reason (tlp-not-sealed,
 *     tlp-sealed-below-amber, wrong-topic);
 *   - a node refuses each when a broker (here a stand-in the test plays,
 *     which checks nothing) brings it by catch-up or live, and logs the
 *     rest of the reply;
 *   - through a node, `cydex publish` refuses them, and `--to all` seals an
 *     AMBER alert to every state of the roster in force (not the revoked
 *     LV nor LT, whose validity is over; not the brokers): each opens it,
 *     and `cydex show` names them.
 * ipc:// endpoints in a temporary folder; every process stopped by PID. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bus.h"
#include "check.h"
#include "cydex/audit.h"
#include "cydex/catchup.h"
#include "cydex/transport.h"
#include "fixture.h"
#include "internal.h"
#include "proc.h"

static fixture F;
static char s_dir[256];
static proc_capture s_cap;

#define HAS(text) CHECK(strstr(s_cap.out, text) || strstr(s_cap.err, text))

static char *s_p(const char *name)
{
    return bus_path(s_dir, name);
}

/* An alert from EE in the clear, with this label, on this topic. */
static void s_clear(cdx_body *b, uint64_t seq, const uint8_t *prev, const char *topic, cdx_tlp tlp)
{
    fixture_body(b, "EE", seq, prev, topic, cdx_now_ms());
    b->kind = CDX_PAYLOAD_ALERT;
    fixture_alert(&b->alert, tlp, 40);
}

/* An alert from EE sealed to FR, then labelled `label` on the envelope. */
static void s_sealed(cdx_body *b, uint64_t seq, const uint8_t *prev, cdx_tlp label)
{
    fixture_body(b, "EE", seq, prev, "alert.energy", cdx_now_ms());
    b->kind = CDX_PAYLOAD_SEALED;
    cdx_alert a;
    fixture_alert(&a, CDX_TLP_AMBER, 40);
    cdx_member fr;
    cdx_identity_card(F.fr, &fr);
    REQUIRE(cdx_seal_alert(&b->sealed, &a, "EE", seq, "alert.energy", &fr, 1, NULL) == CDX_OK);
    b->sealed.tlp = label;
    cdx_alert_clear(&a);
}

/* The forger's envelopes: EE seq 1 an unsealed AMBER alert, 2 an unsealed
 * RED one, 3 a sealed GREEN one, 4 a GREEN alert on "sth"; and 5 an
 * honest GREEN alert, chained to 4. */
enum { S_FORGED = 4 };
static cdx_bytes s_env[S_FORGED + 1];
static uint8_t s_hash[S_FORGED + 1][CDX_HASH_BYTES];
static const char *const s_topic[S_FORGED + 1] = {"alert.energy", "alert.energy", "alert.energy",
                                                  "sth", "alert.health"};
static const char *const s_reason[S_FORGED] = {"tlp-not-sealed", "tlp-not-sealed",
                                               "tlp-sealed-below-amber", "wrong-topic"};

static void s_forge_all(void)
{
    for (uint64_t seq = 1; seq <= S_FORGED + 1; seq++) {
        cdx_body b;
        const uint8_t *prev = seq > 1 ? s_hash[seq - 2] : NULL;
        if (seq == 1)
            s_clear(&b, seq, prev, s_topic[0], CDX_TLP_AMBER);
        else if (seq == 2)
            s_clear(&b, seq, prev, s_topic[1], CDX_TLP_RED);
        else if (seq == 3)
            s_sealed(&b, seq, prev, CDX_TLP_GREEN);
        else
            s_clear(&b, seq, prev, s_topic[seq - 1], CDX_TLP_GREEN);
        fixture_forge(F.ee, "EE", &b, &s_env[seq - 1], s_hash[seq - 1]);
        if (seq <= S_FORGED) /* the library will not sign them */
            CHECK(cdx_envelope_sign(F.ee, &b, &(cdx_bytes){0}, NULL, NULL) != CDX_OK);
        cdx_body_clear(&b);
    }
}

/* 1. The audit: a log that holds one of them fails at that entry. */
static void s_audit_case(int which, const char *want)
{
    char dir[64];
    snprintf(dir, sizeof dir, "audit-%d", which);
    cdx_log *log = NULL;
    REQUIRE(cdx_log_new(&log, s_p(dir), &(cdx_log_opts){.owner = "FR"}, NULL) == CDX_OK);
    cdx_bytes good = {0};
    uint8_t h[CDX_HASH_BYTES];
    REQUIRE(fixture_sign_alert(F.de, 1, NULL, cdx_now_ms(), 20, &good, h) == CDX_OK);
    cdx_envelope *env[2] = {NULL, NULL};
    /* Taken as they are (past any check), as a log written before the rule
     * or by a tampered daemon would hold them. */
    REQUIRE(cdx__envelope_own(&env[0], good.data, good.len, NULL) == CDX_OK);
    REQUIRE(cdx__envelope_own(&env[1], s_env[which].data, s_env[which].len, NULL) == CDX_OK);
    cdx_log_append_in in[2] = {
        {.env = env[0], .received_at_ms = 1, .received_from = "broker.alpha"},
        {.env = env[1], .received_at_ms = 2, .received_from = "broker.alpha"}};
    cdx_log_append_out out[2];
    REQUIRE(cdx_log_append(log, in, 2, out, NULL) == CDX_OK);
    cdx_audit_report rep;
    REQUIRE(cdx_audit_verify(log, &(cdx_audit_opts){.roster = F.roster, .threads = 1}, &rep,
                             NULL) == CDX_OK);
    CHECK(!rep.pass);
    CHECK(rep.has_bad && rep.first_bad == 1 && rep.verified == 1);
    CHECK(strstr(rep.reason, want) != NULL);
    if (!strstr(rep.reason, want))
        fprintf(stderr, "audit said: %s\n", rep.reason);
    cdx_log_destroy(&log);
    for (int i = 0; i < 2; i++)
        cdx_envelope_destroy(&env[i]);
    cdx_bytes_free(&good);
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex-audit", "verify", s_p(dir), "--roster",
                              s_p("roster.bin"), NULL),
             1);
    HAS("FAIL at entry 1");
    HAS(want);
}

/* 3. A stand-in for broker.alpha that checks nothing: it answers every
 * catch-up request with the forged envelopes and the honest one, and,
 * once a subscription comes, sends the forged AMBER alert live too. */
typedef struct s_fake {
    cdx_transport *t;
    cdx_sock *ingress, *fanout, *catchup;
    bool sent_live;
} s_fake;

static void s_fake_start(s_fake *f)
{
    memset(f, 0, sizeof *f);
    char ep[256];
    REQUIRE(cdx_transport_new(&f->t, F.broker, F.roster, NULL) == CDX_OK);
    bus_endpoint(ep, s_dir, "fake", "ingress");
    REQUIRE(cdx_sock_bind(&f->ingress, f->t, CDX_SOCK_ROUTER, ep, NULL, NULL) == CDX_OK);
    bus_endpoint(ep, s_dir, "fake", "fanout");
    REQUIRE(cdx_sock_bind(&f->fanout, f->t, CDX_SOCK_XPUB, ep, NULL, NULL) == CDX_OK);
    bus_endpoint(ep, s_dir, "fake", "catchup");
    REQUIRE(cdx_sock_bind(&f->catchup, f->t, CDX_SOCK_ROUTER, ep, NULL, NULL) == CDX_OK);
}

static void s_fake_serve(s_fake *f, int ms)
{
    cdx_sock *socks[3] = {f->catchup, f->fanout, f->ingress};
    bool ready[3] = {false};
    if (cdx_sock_poll(socks, 3, ms, ready) != CDX_OK)
        return;
    cdx_msg m;
    if (ready[0] && cdx_sock_recv(f->catchup, &m, 0) == CDX_OK) {
        cdx_catchup_request q = {0};
        if (m.n == 2 &&
            cdx_catchup_request_decode(&q, m.frame[1].data, m.frame[1].len, NULL) == CDX_OK &&
            !q.proof_new) {
            cdx_catchup_reply rep = {.envelopes = s_env, .n = S_FORGED + 1, .done = true};
            memcpy(rep.request_id, q.request_id, sizeof rep.request_id);
            cdx_bytes bytes = {0};
            REQUIRE(cdx_catchup_reply_encode(&rep, &bytes) == CDX_OK);
            cdx_bytes frames[2] = {m.frame[0], bytes};
            cdx_sock_send(f->catchup, frames, 2, 1000);
            cdx_bytes_free(&bytes);
        }
        cdx_catchup_request_clear(&q);
        cdx_msg_clear(&m);
    }
    if (ready[1] && cdx_sock_recv(f->fanout, &m, 0) == CDX_OK) { /* a subscription */
        cdx_msg_clear(&m);
        cdx_bytes frames[2] = {{(uint8_t *)s_topic[0], strlen(s_topic[0])}, s_env[0]};
        f->sent_live = cdx_sock_send(f->fanout, frames, 2, 1000) == CDX_OK;
    }
    if (ready[2] && cdx_sock_recv(f->ingress, &m, 0) == CDX_OK)
        cdx_msg_clear(&m); /* the node's own envelopes: none here */
}

static void s_fake_stop(s_fake *f)
{
    cdx_sock_destroy(&f->ingress);
    cdx_sock_destroy(&f->fanout);
    cdx_sock_destroy(&f->catchup);
    cdx_transport_destroy(&f->t);
}

static void s_node_refuses(void)
{
    s_fake fake;
    s_fake_start(&fake);
    pid_t frx = bus_start_node(s_dir, "frx", "FR", "fake", "broker.alpha", "");
    uint64_t max = 0, count = 0;
    char *said = NULL;
    bool all_said = false;
    for (int i = 0; i < 200 && !(max == S_FORGED + 1 && fake.sent_live && all_said); i++) {
        s_fake_serve(&fake, 50);
        bus_log_sender(s_p("frx-log"), "EE", &max, &count, NULL);
        free(said);
        said = proc_slurp(s_p("frx.log"));
        all_said = strstr(said, "TLP:AMBER alert") && strstr(said, "TLP:RED alert") &&
                   strstr(said, "never sealed") && strstr(said, "\"sth\" is reserved");
    }
    /* A few more rounds: the live copy arrives after the subscription. */
    for (int i = 0; i < 10; i++)
        s_fake_serve(&fake, 50);
    CHECK(fake.sent_live);
    CHECK_EQ(max, S_FORGED + 1); /* the honest one is logged, alone */
    CHECK_EQ(count, 1);
    CHECK(all_said);
    if (!all_said)
        fprintf(stderr, "frx.log:\n%s\n", said);
    free(said);
    char ctl[320];
    snprintf(ctl, sizeof ctl, "ipc://%s", s_p("frx-control"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "status", "--node", ctl, "--json", NULL), 0);
    CHECK(strstr(s_cap.out, "\"refused\":0") == NULL); /* it counted its refusals */
    CHECK_EQ(bus_stop(frx), 0);
    s_fake_stop(&fake);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("frx-log"), F.roster, &rep));
}

int main(void)
{
    fixture_init(&F);
    const cdx_identity *ids[] = {F.broker, F.ee, F.fr, F.de};
    bus_folder(s_dir, F.roster, ids, 4);
    proc_capture_init(&s_cap, s_dir);
    s_forge_all();

    /* 1. The audit. */
    s_audit_case(0, "TLP:AMBER alert must be sealed");
    s_audit_case(1, "TLP:RED alert must be sealed");
    s_audit_case(2, "TLP:GREEN alerts go to everyone and are never sealed");
    s_audit_case(3, "topic \"sth\" is reserved for tree heads");

    /* 2. A broker's ingress: each refused with its reason; nothing logged. */
    pid_t broker = bus_start_broker(s_dir, "alpha", "broker.alpha", "checkpoint_ms = 200");
    char ingress[256];
    bus_endpoint(ingress, s_dir, "alpha", "ingress");
    cdx_member alpha;
    cdx_identity_card(F.broker, &alpha);
    bus_client ee;
    bus_client_new(&ee, F.ee, F.roster, ingress, alpha.curve_pk);
    for (int i = 0; i < S_FORGED; i++) {
        cdx_receipt r;
        CHECK_EQ(bus_publish(&ee, F.roster, s_topic[i], s_env[i].data, s_env[i].len, &r, 5000),
                 CDX_OK);
        CHECK_EQ(r.status, CDX_RECEIPT_REJECTED);
        CHECK_STR(r.reason, s_reason[i]);
    }
    bus_client_free(&ee);
    uint64_t max = 1, count = 1;
    bus_log_sender(s_p("alpha-log"), "EE", &max, &count, NULL);
    CHECK_EQ(count, 0);

    /* 3. A node, brought them by a broker that checks nothing. */
    s_node_refuses();

    /* 4. Through the nodes: cydex publish refuses them; --to all seals to
     * every state in force. */
    pid_t ee_n = bus_start_node(s_dir, "ee", "EE", "alpha", "broker.alpha", "");
    pid_t fr_n = bus_start_node(s_dir, "fr", "FR", "alpha", "broker.alpha", "");
    pid_t de_n = bus_start_node(s_dir, "de", "DE", "alpha", "broker.alpha", "");
    CHECK(bus_wait_log(s_p("fr-log"), "broker.alpha", 1, 1, SIZE_MAX)); /* subscribed */
    CHECK(bus_wait_log(s_p("de-log"), "broker.alpha", 1, 1, SIZE_MAX));
    char ee_ctl[320], fr_ctl[320], de_ctl[320];
    snprintf(ee_ctl, sizeof ee_ctl, "ipc://%s", s_p("ee-control"));
    snprintf(fr_ctl, sizeof fr_ctl, "ipc://%s", s_p("fr-control"));
    snprintf(de_ctl, sizeof de_ctl, "ipc://%s", s_p("de-control"));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "AMBER", "--title", "Supplier breach", NULL),
             1);
    HAS("TLP:AMBER alert");
    HAS("must be sealed");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "GREEN", "--to", "all", "--title",
                              "Supplier breach", NULL),
             1);
    HAS("never sealed");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic", "sth",
                              "--tlp", "GREEN", "--title", "Supplier breach", NULL),
             1);
    HAS("\"sth\" is reserved for tree heads");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "energy", "--tlp", "GREEN", "--title", "Supplier breach", NULL),
             1);
    HAS("is not an alert topic");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "AMBER", "--to", "LV", "--title",
                              "Supplier breach", NULL),
             1);
    HAS("recipient LV was revoked");
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "AMBER", "--to", "all,FR", "--title",
                              "Supplier breach", NULL),
             64);

    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.energy", "--tlp", "AMBER", "--to", "all", "--title",
                              "Supplier breach: the names", "--json", NULL),
             0);
    char hash[65] = "";
    const char *h = strstr(s_cap.out, "\"hash\":\"");
    REQUIRE(h != NULL);
    snprintf(hash, sizeof hash, "%.64s", h + 8);
    CHECK(bus_wait_log(s_p("fr-log"), "EE", 1, 1, SIZE_MAX));
    CHECK(bus_wait_log(s_p("de-log"), "EE", 1, 1, SIZE_MAX));
    const char *ctls[3] = {ee_ctl, fr_ctl, de_ctl};
    for (int i = 0; i < 3; i++) { /* each state opens it */
        CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", ctls[i], hash, NULL), 0);
        HAS("title          Supplier breach: the names");
        HAS("TLP            AMBER");
        HAS("sealed to      EE, FR, DE\n");
    }
    CHECK_EQ(
        proc_capture_run(&s_cap, NULL, "cydex", "show", "--node", fr_ctl, "--json", hash, NULL), 0);
    HAS("\"recipients\":[\"EE\",\"FR\",\"DE\"]");
    HAS("\"readable\":true");
    CHECK_EQ(proc_count(s_cap.out, "\"wrapped_key\""), 3); /* three, in the envelope too */
    /* '*' says the same. */
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "publish", "--node", ee_ctl, "--topic",
                              "alert.x", "--tlp", "RED", "--to", "*", "--title", "Names", NULL),
             0);
    CHECK(bus_wait_log(s_p("de-log"), "EE", 2, 2, SIZE_MAX));
    CHECK_EQ(proc_capture_run(&s_cap, NULL, "cydex", "list", "--node", de_ctl, NULL), 0);
    HAS("TLP:RED");
    HAS("\"Names\"");

    CHECK_EQ(bus_stop(ee_n), 0);
    CHECK_EQ(bus_stop(fr_n), 0);
    CHECK_EQ(bus_stop(de_n), 0);
    CHECK_EQ(bus_stop(broker), 0);
    cdx_audit_report rep;
    CHECK(bus_audit(s_p("alpha-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("ee-log"), F.roster, &rep));
    CHECK(bus_audit(s_p("fr-log"), F.roster, &rep));

    for (int i = 0; i <= S_FORGED; i++)
        cdx_bytes_free(&s_env[i]);
    proc_capture_free(&s_cap);
    fixture_rmtree(s_dir);
    fixture_free(&F);
    return check_done("tlp_test");
}
