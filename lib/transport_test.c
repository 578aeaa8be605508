/* The bus transport: CURVE on every socket, members only (ZAP), the peer's
 * member id on what it sends, PUB/SUB topic filtering, and refusals
 * counted: a stranger's key, a revoked member, a member removed by a
 * roster reload, a client that has the wrong server key; a watched link
 * that says whether it is up. Loopback only;
 * every wait is bounded. */
#include <string.h>

#include "check.h"
#include "cydex/transport.h"
#include "fixture.h"

static fixture F;
static uint8_t s_broker_pk[CDX_PK_BYTES];

static cdx_bytes s_b(const char *text)
{
    return (cdx_bytes){(uint8_t *)text, strlen(text)};
}

static bool s_is(const cdx_bytes *f, const char *text)
{
    return f->len == strlen(text) && memcmp(f->data, text, f->len) == 0;
}

static cdx_transport *s_transport(const cdx_identity *who)
{
    cdx_transport *t = NULL;
    cdx_errbuf eb = {0};
    if (cdx_transport_new(&t, who, F.roster, &eb) != CDX_OK)
        fprintf(stderr, "transport: %s\n", eb.msg);
    REQUIRE(t != NULL);
    return t;
}

/* A member's DEALER says something; returns whether the broker heard it. */
static bool s_says(cdx_sock *router, const cdx_identity *who, const uint8_t *server_pk, int wait_ms,
                   char peer[CDX_ID_MAX + 1])
{
    cdx_transport *t = s_transport(who);
    cdx_sock *d = NULL;
    REQUIRE(cdx_sock_connect(&d, t, CDX_SOCK_DEALER, cdx_sock_endpoint(router), server_pk, NULL,
                             NULL) == CDX_OK);
    cdx_bytes hello = s_b("hello");
    CHECK_EQ(cdx_sock_send(d, &hello, 1, 1000), CDX_OK);
    cdx_msg m;
    cdx_err rc = cdx_sock_recv(router, &m, wait_ms);
    bool heard = rc == CDX_OK && m.n == 2 && s_is(&m.frame[1], "hello");
    if (heard && peer)
        memcpy(peer, m.peer, CDX_ID_MAX + 1);
    if (heard) { /* and the reply finds its way back */
        cdx_bytes reply[2] = {m.frame[0], s_b("world")};
        CHECK_EQ(cdx_sock_send(router, reply, 2, 1000), CDX_OK);
        cdx_msg r;
        CHECK_EQ(cdx_sock_recv(d, &r, 3000), CDX_OK);
        CHECK(r.n == 1 && s_is(&r.frame[0], "world"));
        cdx_msg_clear(&r);
    }
    cdx_msg_clear(&m);
    cdx_sock_destroy(&d);
    cdx_transport_destroy(&t);
    return heard;
}

/* `word` sent on `from` reaches the ROUTER `to` (within 5 s), after its
 * routing id. */
static void s_delivered(cdx_sock *from, cdx_sock *to, const char *word)
{
    cdx_bytes b = s_b(word);
    cdx_msg m;
    CHECK_EQ(cdx_sock_send(from, &b, 1, 1000), CDX_OK);
    CHECK_EQ(cdx_sock_recv(to, &m, 5000), CDX_OK);
    CHECK(m.n == 2 && s_is(&m.frame[1], word));
    cdx_msg_clear(&m);
}

/* A control connection is one conversation with one daemon process: when
 * the daemon goes and another binds its socket, what the old connection
 * sends does not reach the new one (a client pairs answers with requests
 * by their order; see transport.h), and a new connection does. */
static void test_local_once(void)
{
    char dir[256], ep[320];
    fixture_tmpdir(dir);
    snprintf(ep, sizeof ep, "ipc://%s/control", dir);
    cdx_transport *daemon_t = NULL, *client_t = NULL;
    cdx_sock *daemon = NULL, *client = NULL, *fresh = NULL;
    REQUIRE(cdx_transport_new_local(&daemon_t, NULL) == CDX_OK);
    REQUIRE(cdx_transport_new_local(&client_t, NULL) == CDX_OK);
    REQUIRE(cdx_sock_bind_local(&daemon, daemon_t, CDX_SOCK_ROUTER, ep, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect_local(&client, client_t, CDX_SOCK_DEALER, ep, NULL) == CDX_OK);
    s_delivered(client, daemon, "one");

    cdx_sock_destroy(&daemon); /* the daemon goes; another takes its place */
    REQUIRE(cdx_sock_bind_local(&daemon, daemon_t, CDX_SOCK_ROUTER, ep, NULL) == CDX_OK);
    cdx_bytes two = s_b("two");
    cdx_msg m;
    cdx_sock_send(client, &two, 1, 200); /* queued, or refused: never delivered */
    CHECK_EQ(cdx_sock_recv(daemon, &m, 1500), CDX_ERR_TIMEOUT); /* 15 reconnect intervals */
    REQUIRE(cdx_sock_connect_local(&fresh, client_t, CDX_SOCK_DEALER, ep, NULL) == CDX_OK);
    s_delivered(fresh, daemon, "three");

    cdx_sock_destroy(&fresh);
    cdx_sock_destroy(&client);
    cdx_sock_destroy(&daemon);
    cdx_transport_destroy(&client_t);
    cdx_transport_destroy(&daemon_t);
    fixture_rmtree(dir);
}

/* Polls a watched link up to 5 s for the state wanted. */
static bool s_link_becomes(cdx_sock *s, bool up)
{
    for (int i = 0; i < 250; i++) {
        if (cdx_sock_link_up(s) == up)
            return true;
        bool ready = false;
        cdx_sock_poll(&s, 1, 20, &ready);
    }
    return cdx_sock_link_up(s) == up;
}

/* A watched link is up once its CURVE handshake is done, and down as soon
 * as the server goes; a member the server refuses is never up, though
 * its TCP connection is made. */
static void test_watch(void)
{
    cdx_transport *tb = s_transport(F.broker), *te = s_transport(F.ee), *tx = s_transport(F.xx);
    cdx_sock *router = NULL, *d = NULL, *stranger = NULL;
    REQUIRE(cdx_sock_bind(&router, tb, CDX_SOCK_ROUTER, "tcp://127.0.0.1:*", NULL, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect(&d, te, CDX_SOCK_DEALER, cdx_sock_endpoint(router), s_broker_pk, NULL,
                             NULL) == CDX_OK);
    CHECK(!cdx_sock_link_up(d)); /* not watched yet */
    REQUIRE(cdx_sock_watch(d, te, NULL) == CDX_OK);
    REQUIRE(cdx_sock_connect(&stranger, tx, CDX_SOCK_DEALER, cdx_sock_endpoint(router), s_broker_pk,
                             NULL, NULL) == CDX_OK);
    REQUIRE(cdx_sock_watch(stranger, tx, NULL) == CDX_OK);
    CHECK(s_link_becomes(d, true));
    s_delivered(d, router, "up");
    CHECK(!cdx_sock_link_up(stranger));
    cdx_sock_destroy(&router); /* the server goes */
    CHECK(s_link_becomes(d, false));
    cdx_sock_destroy(&stranger);
    cdx_sock_destroy(&d);
    cdx_transport_destroy(&tx);
    cdx_transport_destroy(&te);
    cdx_transport_destroy(&tb);
}

int main(void)
{
    test_local_once();

    fixture_init(&F);
    cdx_member card;
    cdx_identity_card(F.broker, &card);
    memcpy(s_broker_pk, card.curve_pk, CDX_PK_BYTES);
    cdx_transport *tb = s_transport(F.broker);
    cdx_sock *router = NULL, *xpub = NULL;
    cdx_errbuf eb = {0};
    REQUIRE(cdx_sock_bind(&router, tb, CDX_SOCK_ROUTER, "tcp://127.0.0.1:*", NULL, &eb) == CDX_OK);
    REQUIRE(cdx_sock_bind(&xpub, tb, CDX_SOCK_XPUB, "tcp://127.0.0.1:*", NULL, &eb) == CDX_OK);
    CHECK(strncmp(cdx_sock_endpoint(router), "tcp://127.0.0.1:", 16) == 0);

    /* A member is admitted and named. */
    char peer[CDX_ID_MAX + 1] = "";
    CHECK(s_says(router, F.ee, s_broker_pk, 5000, peer));
    CHECK_STR(peer, "EE");
    CHECK_EQ(cdx_transport_refused(tb), 0);

    /* A stranger's key, a revoked member, a wrong server key: not heard. */
    CHECK(!s_says(router, F.xx, s_broker_pk, 700, NULL));
    CHECK(cdx_transport_refused(tb) >= 1);
    uint64_t before = cdx_transport_refused(tb);
    CHECK(!s_says(router, F.lv, s_broker_pk, 700, NULL)); /* revoked an hour after T0 */
    CHECK(cdx_transport_refused(tb) > before);
    cdx_identity_card(F.fr, &card);
    CHECK(!s_says(router, F.ee, card.curve_pk, 700, NULL));

    /* A roster reload that revokes DE: DE's next connection is refused. */
    CHECK(s_says(router, F.de, s_broker_pk, 5000, peer));
    cdx_roster *next = NULL;
    REQUIRE(cdx_roster_next(&next, F.roster, FIXTURE_T0) == CDX_OK);
    REQUIRE(cdx_roster_revoke(next, "DE", FIXTURE_T0, NULL) == CDX_OK);
    REQUIRE(cdx_transport_set_roster(tb, next) == CDX_OK);
    before = cdx_transport_refused(tb);
    CHECK(!s_says(router, F.de, s_broker_pk, 700, NULL));
    CHECK(cdx_transport_refused(tb) > before);
    CHECK(s_says(router, F.fr, s_broker_pk, 5000, peer)); /* others still are */
    cdx_roster_destroy(&next);

    /* Fan-out: FR subscribes to "alert." and gets alerts, not acks. */
    cdx_transport *tf = s_transport(F.fr);
    cdx_sock *sub = NULL;
    REQUIRE(cdx_sock_connect(&sub, tf, CDX_SOCK_SUB, cdx_sock_endpoint(xpub), s_broker_pk, NULL,
                             NULL) == CDX_OK);
    REQUIRE(cdx_sock_subscribe(sub, "alert.") == CDX_OK);
    cdx_msg m;
    CHECK_EQ(cdx_sock_recv(xpub, &m, 5000), CDX_OK); /* the subscription itself */
    CHECK(m.n == 1 && m.frame[0].len == 7 && m.frame[0].data[0] == 1 &&
          memcmp(m.frame[0].data + 1, "alert.", 6) == 0);
    cdx_msg_clear(&m);
    cdx_bytes ack[2] = {s_b("ack"), s_b("an ack")}, alert[2] = {s_b("alert.health"), s_b("body")};
    CHECK_EQ(cdx_sock_send(xpub, ack, 2, 1000), CDX_OK);
    CHECK_EQ(cdx_sock_send(xpub, alert, 2, 1000), CDX_OK);
    CHECK_EQ(cdx_sock_recv(sub, &m, 5000), CDX_OK);
    CHECK(m.n == 2 && s_is(&m.frame[0], "alert.health") && s_is(&m.frame[1], "body"));
    cdx_msg_clear(&m);
    CHECK_EQ(cdx_sock_recv(sub, &m, 300), CDX_ERR_TIMEOUT);

    /* Poll says which socket is ready. */
    cdx_bytes again[2] = {s_b("alert.x"), s_b("2")};
    CHECK_EQ(cdx_sock_send(xpub, again, 2, 1000), CDX_OK);
    cdx_sock *both[2] = {router, sub};
    bool ready[2] = {false, false};
    CHECK_EQ(cdx_sock_poll(both, 2, 5000, ready), CDX_OK);
    CHECK(!ready[0] && ready[1]);

    test_watch();

    cdx_sock_destroy(&sub);
    cdx_transport_destroy(&tf);
    cdx_sock_destroy(&router);
    cdx_sock_destroy(&xpub);
    cdx_transport_destroy(&tb);
    CHECK(tb == NULL);
    fixture_free(&F);
    return check_done("transport_test");
}
