/* cydex-broker configuration (see config.h); the only file using libinih. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/common.h"
#include "daemon.h"

typedef struct s_ctx {
    broker_config *c;
    char *err;
    size_t errlen;
    char section[DAEMON_INI_SECTION_MAX + 1]; /* the [peer.*] section being read */
} s_ctx;

static int s_str(char *dst, size_t cap, const char *v, const char *key, char *err, size_t n)
{
    return daemon_set_str(dst, cap, v, key, err, n) ? 0 : -1;
}

static int s_num(uint64_t *dst, const char *v, const char *key, uint64_t min, uint64_t max,
                 char *err, size_t n)
{
    uint64_t x = 0;
    if (!cdx_parse_u64(v, &x) || x < min || x > max) {
        snprintf(err, n, "%s must be a number from %llu to %llu, not \"%s\"", key,
                 (unsigned long long)min, (unsigned long long)max, v);
        return -1;
    }
    *dst = x;
    return 0;
}

int broker_config_set(broker_config *c, const char *key, const char *v, char *err, size_t n)
{
    uint64_t x = 0;
    int rc;
    if (strcmp(key, "id") == 0)
        return s_str(c->id, sizeof c->id, v, key, err, n);
    if (strcmp(key, "key") == 0)
        return s_str(c->key, sizeof c->key, v, key, err, n);
    if (strcmp(key, "roster") == 0)
        return s_str(c->roster, sizeof c->roster, v, key, err, n);
    if (strcmp(key, "log") == 0)
        return s_str(c->log, sizeof c->log, v, key, err, n);
    if (strcmp(key, "ingress") == 0)
        return s_str(c->ingress, sizeof c->ingress, v, key, err, n);
    if (strcmp(key, "fanout") == 0)
        return s_str(c->fanout, sizeof c->fanout, v, key, err, n);
    if (strcmp(key, "catchup") == 0)
        return s_str(c->catchup, sizeof c->catchup, v, key, err, n);
    if (strcmp(key, "max_envelope") == 0) {
        rc = s_num(&x, v, key, 1024, 64u << 20, err, n);
        c->max_envelope = (size_t)x;
        return rc;
    }
    if (strcmp(key, "skew_ms") == 0)
        return s_num(&c->skew_ms, v, key, 1000, 86400000, err, n);
    if (strcmp(key, "batch_max") == 0) {
        rc = s_num(&x, v, key, 1, 100000, err, n);
        c->batch_max = (size_t)x;
        return rc;
    }
    if (strcmp(key, "fanout_hwm") == 0) {
        rc = s_num(&x, v, key, 1, 10000000, err, n);
        c->fanout_hwm = (size_t)x;
        return rc;
    }
    if (strcmp(key, "verify_threads") == 0) {
        rc = s_num(&x, v, key, 0, 64, err, n);
        c->verify_threads = (size_t)x;
        return rc;
    }
    if (strcmp(key, "checkpoint_ms") == 0)
        return s_num(&c->checkpoint_ms, v, key, 100, 86400000, err, n);
    if (strcmp(key, "peer_sync_ms") == 0)
        return s_num(&c->peer_sync_ms, v, key, 100, 86400000, err, n);
    if (strcmp(key, "ping_ms") == 0) {
        if (strcmp(v, "0") == 0) {
            c->ping_ms = 0;
            return 0;
        }
        if (s_num(&c->ping_ms, v, key, 100, 3600000, err, n) == 0)
            return 0;
        snprintf(err, n, "ping_ms must be 0 (never) or from 100 to 3600000, not \"%s\"", v);
        return -1;
    }
    if (strcmp(key, "log_format") == 0)
        return daemon_log_format(v, &c->log_json, err, n);
    if (strcmp(key, "metrics") == 0)
        return s_str(c->metrics, sizeof c->metrics, v, key, err, n);
    if (strcmp(key, "map_max_mb") == 0) {
        rc = s_num(&x, v, key, 1, 1u << 24, err, n);
        c->map_max_mb = (size_t)x;
        return rc;
    }
    snprintf(err, n, "unknown setting \"%s\"", key);
    return -1;
}

/* A [peer.NAME] section; a new section name starts the next peer. */
static int s_peer(s_ctx *x, const char *section, const char *name, const char *value)
{
    broker_config *c = x->c;
    if (strcmp(x->section, section) != 0) {
        if (c->n_peers == BROKER_MAX_PEERS) {
            snprintf(x->err, x->errlen, "at most %d peers", BROKER_MAX_PEERS);
            return 0;
        }
        memset(&c->peer[c->n_peers++], 0, sizeof c->peer[0]);
        snprintf(x->section, sizeof x->section, "%s", section);
    }
    broker_peer_config *p = &c->peer[c->n_peers - 1];
    if (strcmp(name, "id") == 0)
        return s_str(p->id, sizeof p->id, value, name, x->err, x->errlen) == 0;
    if (strcmp(name, "fanout") == 0)
        return s_str(p->fanout, sizeof p->fanout, value, name, x->err, x->errlen) == 0;
    if (strcmp(name, "catchup") == 0)
        return s_str(p->catchup, sizeof p->catchup, value, name, x->err, x->errlen) == 0;
    snprintf(x->err, x->errlen, "unknown setting \"%s\" in [%s]", name, section);
    return 0;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ctx *x = user;
    if (strncmp(section, "peer.", 5) == 0)
        return s_peer(x, section, name, value);
    if (strcmp(section, "broker") != 0) {
        snprintf(x->err, x->errlen, "unknown section [%s]", section);
        return 0;
    }
    return broker_config_set(x->c, name, value, x->err, x->errlen) == 0;
}

static void s_defaults(broker_config *c)
{
    memset(c, 0, sizeof *c);
    c->max_envelope = CDX_ENVELOPE_MAX_DEFAULT;
    c->skew_ms = CDX_SKEW_DEFAULT_MS;
    c->batch_max = 1000;
    c->fanout_hwm = 10000;
    c->checkpoint_ms = 5000;
    c->map_max_mb = 65536;
    c->peer_sync_ms = 5000;
    c->ping_ms = 10000;
}

int broker_config_load(broker_config *c, const char *path, char *err, size_t errlen)
{
    s_defaults(c);
    if (!path)
        return 0;
    s_ctx x = {c, err, errlen, ""};
    return daemon_ini_load(path, s_handler, &x, err, errlen);
}

int broker_config_parse(broker_config *c, const char *name, const char *text, size_t len, char *err,
                        size_t errlen)
{
    s_defaults(c);
    s_ctx x = {c, err, errlen, ""};
    return daemon_ini_parse(name, text, len, s_handler, &x, err, errlen);
}

int broker_config_check(const broker_config *c, char *err, size_t errlen)
{
    const struct {
        const char *name, *value;
    } need[] = {{"id", c->id},          {"key", c->key},         {"roster", c->roster},
                {"log", c->log},        {"ingress", c->ingress}, {"fanout", c->fanout},
                {"catchup", c->catchup}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!need[i].value[0]) {
            snprintf(err, errlen, "missing setting \"%s\" in [broker]", need[i].name);
            return -1;
        }
    if (!cdx_id_valid(c->id)) {
        snprintf(err, errlen, "id \"%s\" is not a member id", c->id);
        return -1;
    }
    for (size_t i = 0; i < c->n_peers; i++)
        if (!cdx_id_valid(c->peer[i].id) || !c->peer[i].fanout[0] || !c->peer[i].catchup[0]) {
            snprintf(err, errlen, "peer %zu needs id, fanout and catchup", i + 1);
            return -1;
        }
    return 0;
}
