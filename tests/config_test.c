/* The daemons' configuration files as an operator writes them: peers and
 * brokers in sections of their own, whatever the length of their names up
 * to 127 characters; a longer name is refused with its line (the daemons
 * exit 78), never cut short so that two sections become one; the
 * README's comments after a value are comments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../broker/config.h"
#include "../node/config.h"
#include "check.h"
#include "fixture.h"

static char s_dir[256];

static const char *s_file(const char *name, const char *text)
{
    static char path[400];
    snprintf(path, sizeof path, "%s/%s", s_dir, name);
    FILE *f = fopen(path, "w");
    REQUIRE(f && fputs(text, f) >= 0);
    fclose(f);
    return path;
}

static const char s_broker[] = "[broker]\nid = broker.alpha\nkey = k\nroster = r\nlog = l\n"
                               "ingress = tcp://127.0.0.1:7401\nfanout = tcp://127.0.0.1:7402\n"
                               "catchup = tcp://127.0.0.1:7403\n";

/* Two peers whose section names share their first 60 characters. */
static void test_broker_long_sections(void)
{
    char text[2048], name[128], err[512];
    memset(name, 'a', 60);
    name[60] = '\0';
    snprintf(text, sizeof text,
             "%s[peer.%sx]\nid = broker.beta\nfanout = tcp://b:1\ncatchup = tcp://b:2\n"
             "[peer.%sy]\nid = broker.gamma\nfanout = tcp://g:1\ncatchup = tcp://g:2\n",
             s_broker, name, name);
    broker_config c;
    CHECK_EQ(broker_config_load(&c, s_file("b1.conf", text), err, sizeof err), 0);
    CHECK_EQ(c.n_peers, 2);
    CHECK_STR(c.peer[0].id, "broker.beta");
    CHECK_STR(c.peer[1].id, "broker.gamma");
    CHECK_STR(c.peer[1].fanout, "tcp://g:1");
    CHECK_EQ(broker_config_check(&c, err, sizeof err), 0);

    /* 127 characters is the longest name; 128 is refused on its line. */
    memset(name, 'a', 122);
    name[122] = '\0'; /* "peer." and 122: 127 */
    snprintf(text, sizeof text, "%s[peer.%s]\nid = broker.beta\n", s_broker, name);
    CHECK_EQ(broker_config_load(&c, s_file("b2.conf", text), err, sizeof err), 0);
    CHECK_EQ(c.n_peers, 1);
    snprintf(text, sizeof text, "%s[peer.%sz]\nid = broker.beta\n", s_broker, name);
    const char *path = s_file("b3.conf", text);
    CHECK_EQ(broker_config_load(&c, path, err, sizeof err), -1);
    char want[600];
    snprintf(want, sizeof want, "%s, line 9: section name [peer.aaa", path);
    CHECK(strstr(err, want) != NULL);
    CHECK(strstr(err, "is longer than 127 characters") != NULL);
}

static void test_node_long_sections(void)
{
    char text[2048], name[200], err[512];
    memset(name, 'n', 150);
    name[150] = '\0';
    snprintf(text, sizeof text,
             "[node]\nid = FR\nkey = k\nroster = r\nlog = l\ncontrol = ipc://c\n"
             "[broker.%s]\nid = broker.alpha\ningress = tcp://a:1\nfanout = tcp://a:2\n"
             "catchup = tcp://a:3\n",
             name);
    node_config c;
    CHECK_EQ(node_config_load(&c, s_file("n1.conf", text), err, sizeof err), -1);
    CHECK(strstr(err, "line 7: section name [broker.nnn") != NULL);
    CHECK_EQ(node_config_parse(&c, "n1.conf", text, strlen(text), err, sizeof err), -1);
    CHECK(strstr(err, "n1.conf, line 7: section name") != NULL);
}

/* The README's broker example, comments after values and all. */
static void test_readme_comments(void)
{
    static const char text[] =
        "# broker.conf\n[broker]\nid = broker.alpha\nkey = keys/broker.alpha.secret\n"
        "roster = roster.bin\nlog = data/broker.alpha\n"
        "ingress = tcp://127.0.0.1:7401    # ROUTER: envelopes in, signed receipts out\n"
        "fanout = tcp://127.0.0.1:7402     # XPUB: verified envelopes out, by topic\n"
        "catchup = tcp://127.0.0.1:7403    # ROUTER: what a node or peer missed, streamed\n"
        "# ping_ms = 10000                 # ping a silent link\n\n"
        "[peer.beta]                       # one section per peer broker\n"
        "id = broker.beta\nfanout = tcp://127.0.0.1:7502\ncatchup = tcp://127.0.0.1:7503\n";
    broker_config c;
    char err[512];
    CHECK_EQ(broker_config_parse(&c, "broker.conf", text, strlen(text), err, sizeof err), 0);
    CHECK_STR(c.ingress, "tcp://127.0.0.1:7401");
    CHECK_STR(c.catchup, "tcp://127.0.0.1:7403");
    CHECK_EQ(c.n_peers, 1);
    CHECK_STR(c.peer[0].catchup, "tcp://127.0.0.1:7503");
    CHECK_EQ(broker_config_check(&c, err, sizeof err), 0);
}

/* Of two mistakes, the first is told, with its own line and words. */
static void test_first_error(void)
{
    static const char text[] = "[broker]\nid = broker.alpha\ncolour = red\nflavour = sweet\n";
    broker_config c;
    char err[512];
    CHECK_EQ(broker_config_parse(&c, "b.conf", text, strlen(text), err, sizeof err), -1);
    CHECK_STR(err, "b.conf, line 3: unknown setting \"colour\"");
}

int main(void)
{
    fixture_tmpdir(s_dir);
    test_broker_long_sections();
    test_node_long_sections();
    test_readme_comments();
    test_first_error();
    int rc = check_done("config_test");
    if (rc == 0)
        fixture_rmtree(s_dir);
    return rc;
}
