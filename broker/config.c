/* cydex-broker configuration (see config.h); the only file using libinih. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/common.h"
#include "daemon.h"
#include "httpd.h"

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

/* A member id: "broker.alpha", or ""; what the roster then says of it is
 * checked at start. */
static int s_id(char *dst, size_t cap, const char *v, const char *key, char *err, size_t n)
{
    if (v[0] && !cdx_id_valid(v)) {
        snprintf(err, n, "%s \"%s\" is not a member id (letters, digits, '.', '_', '-')", key, v);
        return -1;
    }
    return s_str(dst, cap, v, key, err, n);
}

/* An endpoint to bind (ours) or to connect to (a peer's). */
static int s_ep(char *dst, size_t cap, const char *v, const char *key, bool bind, char *err,
                size_t n)
{
    if (daemon_endpoint_check(key, v, bind, err, n) != 0)
        return -1;
    return s_str(dst, cap, v, key, err, n);
}

int broker_config_set(broker_config *c, const char *key, const char *v, char *err, size_t n)
{
    uint64_t x = 0;
    int rc;
    if (strcmp(key, "id") == 0)
        return s_id(c->id, sizeof c->id, v, key, err, n);
    if (strcmp(key, "key") == 0)
        return s_str(c->key, sizeof c->key, v, key, err, n);
    if (strcmp(key, "roster") == 0)
        return s_str(c->roster, sizeof c->roster, v, key, err, n);
    if (strcmp(key, "log") == 0)
        return s_str(c->log, sizeof c->log, v, key, err, n);
    if (strcmp(key, "ingress") == 0)
        return s_ep(c->ingress, sizeof c->ingress, v, key, true, err, n);
    if (strcmp(key, "fanout") == 0)
        return s_ep(c->fanout, sizeof c->fanout, v, key, true, err, n);
    if (strcmp(key, "catchup") == 0)
        return s_ep(c->catchup, sizeof c->catchup, v, key, true, err, n);
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
    if (strcmp(key, "metrics") == 0) {
        if (v[0] && daemon_httpd_addr_check(v, err, n) != 0)
            return -1;
        return s_str(c->metrics, sizeof c->metrics, v, key, err, n);
    }
    if (strcmp(key, "map_max_mb") == 0) {
        rc = s_num(&x, v, key, 1, 1u << 24, err, n);
        c->map_max_mb = (size_t)x;
        return rc;
    }
    snprintf(err, n, "unknown setting \"%s\"", key);
    return -1;
}

/* A [peer.NAME] section (its header when name is NULL): a new name starts
 * the next peer; one given again goes on with its peer. */
static int s_peer(s_ctx *x, const char *section, const char *name, const char *value)
{
    broker_config *c = x->c;
    size_t at = 0;
    while (at < c->n_peers && strcmp(c->peer[at].section, section) != 0)
        at++;
    if (at == c->n_peers) {
        if (c->n_peers == BROKER_MAX_PEERS) {
            snprintf(x->err, x->errlen, "at most %d peers", BROKER_MAX_PEERS);
            return 0;
        }
        memset(&c->peer[c->n_peers++], 0, sizeof c->peer[0]);
        snprintf(c->peer[at].section, sizeof c->peer[0].section, "%s", section);
    }
    snprintf(x->section, sizeof x->section, "%s", section);
    if (!name) /* its header */
        return 1;
    broker_peer_config *p = &c->peer[at];
    if (strcmp(name, "id") == 0)
        return s_id(p->id, sizeof p->id, value, name, x->err, x->errlen) == 0;
    if (strcmp(name, "fanout") == 0)
        return s_ep(p->fanout, sizeof p->fanout, value, name, false, x->err, x->errlen) == 0;
    if (strcmp(name, "catchup") == 0)
        return s_ep(p->catchup, sizeof p->catchup, value, name, false, x->err, x->errlen) == 0;
    snprintf(x->err, x->errlen, "unknown setting \"%s\" in [%s]", name, section);
    return 0;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ctx *x = user;
    if (strncmp(section, "peer.", 5) == 0 && section[5])
        return s_peer(x, section, name, value);
    if (strcmp(section, "broker") != 0) {
        snprintf(x->err, x->errlen, "unknown section [%s]", section);
        return 0;
    }
    return !name || broker_config_set(x->c, name, value, x->err, x->errlen) == 0;
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
    for (size_t i = 0; i < c->n_peers; i++) {
        const broker_peer_config *p = &c->peer[i];
        const char *lacks = !p->id[0]        ? "id"
                            : !p->fanout[0]  ? "fanout"
                            : !p->catchup[0] ? "catchup"
                                             : NULL;
        if (lacks) {
            snprintf(err, errlen,
                     "missing setting \"%s\" in [%s] (a peer needs id, fanout and "
                     "catchup)",
                     lacks, p->section);
            return -1;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(c->peer[j].id, p->id) == 0) {
                snprintf(err, errlen, "[%s] and [%s] are both %s", c->peer[j].section, p->section,
                         p->id);
                return -1;
            }
        if (strcmp(p->id, c->id) == 0) {
            snprintf(err, errlen, "[%s] is this broker itself (%s)", p->section, p->id);
            return -1;
        }
    }
    return 0;
}
