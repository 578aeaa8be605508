/* libFuzzer target: the daemons' configuration files as text, through the
 * broker's and the node's parsers (daemon_ini_parse over inih) and their
 * checks. Nothing may crash or leak; a refusal names the line it is on
 * ("NAME, line N: ..."), and every string read fits its field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../broker/config.h"
#include "../node/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void s_refusal(int rc, const char *err)
{
    if (rc == 0)
        return;
    if (strncmp(err, "fuzz.conf, line ", 16) != 0 && strncmp(err, "fuzz.conf is", 12) != 0) {
        fprintf(stderr, "config: a refusal without its line: \"%s\"\n", err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    static broker_config b;
    static node_config n;
    int rc = broker_config_parse(&b, "fuzz.conf", (const char *)data, size, err, sizeof err);
    s_refusal(rc, err);
    if (rc == 0) {
        broker_config_check(&b, err, sizeof err);
        for (size_t i = 0; i < b.n_peers; i++)
            if (strlen(b.peer[i].id) >= sizeof b.peer[i].id)
                abort();
    }
    rc = node_config_parse(&n, "fuzz.conf", (const char *)data, size, err, sizeof err);
    s_refusal(rc, err);
    if (rc == 0) {
        node_config_check(&n, err, sizeof err);
        for (size_t i = 0; i < n.n_brokers; i++)
            if (strlen(n.broker[i].catchup) >= sizeof n.broker[i].catchup)
                abort();
    }
    return 0;
}
