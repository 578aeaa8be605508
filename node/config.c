/* cydex-node configuration (see config.h); the only node file using libinih. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/common.h"
#include "daemon.h"

typedef struct s_ctx {
    node_config *c;
    char *err;
    size_t errlen;
    char section[DAEMON_INI_SECTION_MAX + 1]; /* the [broker.*] section being read */
} s_ctx;

static int s_str(char *dst, size_t cap, const char *v, const char *key, s_ctx *x)
{
    return daemon_set_str(dst, cap, v, key, x->err, x->errlen);
}

/* A duration in milliseconds, at least 100. */
static int s_ms(uint64_t *dst, const char *v, const char *key, s_ctx *x)
{
    if (!cdx_parse_u64(v, dst) || *dst < 100) {
        snprintf(x->err, x->errlen, "%s must be a number of milliseconds, at least 100", key);
        return 0;
    }
    return 1;
}

static int s_at_most(uint64_t v, uint64_t max, const char *key, s_ctx *x)
{
    if (v <= max)
        return 1;
    snprintf(x->err, x->errlen, "%s must be at most %llu", key, (unsigned long long)max);
    return 0;
}

/* A duration in milliseconds: 0 (off), or at least 100. */
static int s_ms_or_off(uint64_t *dst, const char *v, const char *key, s_ctx *x)
{
    if (strcmp(v, "0") == 0) {
        *dst = 0;
        return 1;
    }
    if (!cdx_parse_u64(v, dst) || *dst < 100) {
        snprintf(x->err, x->errlen, "%s must be 0 (off) or a number of milliseconds, at least 100",
                 key);
        return 0;
    }
    return 1;
}

static int s_bool(bool *dst, const char *v, const char *key, s_ctx *x)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0)
        *dst = true;
    else if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "0") == 0)
        *dst = false;
    else {
        snprintf(x->err, x->errlen, "%s must be true or false, not \"%s\"", key, v);
        return 0;
    }
    return 1;
}

/* One [node] setting. */
static int s_node_set(node_config *c, const char *key, const char *v, s_ctx *x)
{
    if (strcmp(key, "id") == 0)
        return s_str(c->id, sizeof c->id, v, key, x);
    if (strcmp(key, "key") == 0)
        return s_str(c->key, sizeof c->key, v, key, x);
    if (strcmp(key, "next_key") == 0)
        return s_str(c->next_key, sizeof c->next_key, v, key, x);
    if (strcmp(key, "roster") == 0)
        return s_str(c->roster, sizeof c->roster, v, key, x);
    if (strcmp(key, "log") == 0)
        return s_str(c->log, sizeof c->log, v, key, x);
    if (strcmp(key, "subscribe") == 0)
        return s_str(c->subscribe, sizeof c->subscribe, v, key, x);
    if (strcmp(key, "control") == 0)
        return s_str(c->control, sizeof c->control, v, key, x);
    if (strcmp(key, "resend_ms") == 0)
        return s_ms(&c->resend_ms, v, key, x);
    if (strcmp(key, "sync_ms") == 0)
        return s_ms(&c->sync_ms, v, key, x);
    if (strcmp(key, "skew_ms") == 0)
        return s_ms(&c->skew_ms, v, key, x);
    if (strcmp(key, "ping_ms") == 0)
        return s_ms_or_off(&c->ping_ms, v, key, x) && s_at_most(c->ping_ms, 3600000, key, x);
    if (strcmp(key, "heartbeat_ms") == 0)
        return s_ms_or_off(&c->heartbeat_ms, v, key, x);
    if (strcmp(key, "checkpoint_ms") == 0)
        return s_ms_or_off(&c->checkpoint_ms, v, key, x);
    if (strcmp(key, "verify_threads") == 0) {
        if (!cdx_parse_u64(v, &c->verify_threads) || c->verify_threads > 64) {
            snprintf(x->err, x->errlen, "verify_threads must be 0 (one per CPU) to 64");
            return 0;
        }
        return 1;
    }
    if (strcmp(key, "query_step") == 0) {
        if (!cdx_parse_u64(v, &c->query_step) || c->query_step == 0 || c->query_step > 10000000) {
            snprintf(x->err, x->errlen, "query_step must be 1 to 10000000 log entries");
            return 0;
        }
        return 1;
    }
    if (strcmp(key, "map_max_mb") == 0) {
        if (!cdx_parse_u64(v, &c->map_max_mb) || c->map_max_mb == 0 || c->map_max_mb > (1u << 24)) {
            snprintf(x->err, x->errlen, "map_max_mb must be 1 to 16777216 (MiB)");
            return 0;
        }
        return 1;
    }
    if (strcmp(key, "auto_ack") == 0)
        return s_bool(&c->auto_ack, v, key, x);
    if (strcmp(key, "sign_batches") == 0)
        return s_bool(&c->sign_batches, v, key, x);
    if (strcmp(key, "cosign") == 0)
        return s_bool(&c->cosign, v, key, x);
    if (strcmp(key, "log_format") == 0)
        return daemon_log_format(v, &c->log_json, x->err, x->errlen) == 0;
    if (strcmp(key, "metrics") == 0)
        return s_str(c->metrics, sizeof c->metrics, v, key, x);
    snprintf(x->err, x->errlen, "unknown setting \"%s\" in [node]", key);
    return 0;
}

int node_config_set(node_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    s_ctx x = {c, err, errlen, ""};
    return s_node_set(c, key, value, &x) ? 0 : -1;
}

static int s_handler(void *user, const char *section, const char *name, const char *value)
{
    s_ctx *x = user;
    node_config *c = x->c;
    if (strncmp(section, "broker.", 7) == 0) {
        if (strcmp(x->section, section) != 0) {
            if (c->n_brokers == NODE_MAX_BROKERS) {
                snprintf(x->err, x->errlen, "at most %d brokers", NODE_MAX_BROKERS);
                return 0;
            }
            memset(&c->broker[c->n_brokers++], 0, sizeof c->broker[0]);
            snprintf(x->section, sizeof x->section, "%s", section);
        }
        node_broker_config *b = &c->broker[c->n_brokers - 1];
        if (strcmp(name, "id") == 0)
            return s_str(b->id, sizeof b->id, value, name, x);
        if (strcmp(name, "ingress") == 0)
            return s_str(b->ingress, sizeof b->ingress, value, name, x);
        if (strcmp(name, "fanout") == 0)
            return s_str(b->fanout, sizeof b->fanout, value, name, x);
        if (strcmp(name, "catchup") == 0)
            return s_str(b->catchup, sizeof b->catchup, value, name, x);
    } else if (strcmp(section, "node") == 0) {
        return s_node_set(c, name, value, x);
    } else {
        snprintf(x->err, x->errlen, "unknown section [%s]", section);
        return 0;
    }
    snprintf(x->err, x->errlen, "unknown setting \"%s\" in [%s]", name, section);
    return 0;
}

static void s_defaults(node_config *c)
{
    memset(c, 0, sizeof *c);
    c->skew_ms = CDX_SKEW_DEFAULT_MS;
    c->resend_ms = 3000;
    c->sync_ms = 10000;
    c->ping_ms = 10000;
    c->heartbeat_ms = 30000;
    c->sign_batches = true;
    c->cosign = true;
    c->checkpoint_ms = 60000;
    c->query_step = 1000;
    c->map_max_mb = 65536;
}

int node_config_load(node_config *c, const char *path, char *err, size_t errlen)
{
    s_defaults(c);
    s_ctx x = {c, err, errlen, ""};
    return daemon_ini_load(path, s_handler, &x, err, errlen);
}

int node_config_parse(node_config *c, const char *name, const char *text, size_t len, char *err,
                      size_t errlen)
{
    s_defaults(c);
    s_ctx x = {c, err, errlen, ""};
    return daemon_ini_parse(name, text, len, s_handler, &x, err, errlen);
}

int node_config_check(const node_config *c, char *err, size_t errlen)
{
    const struct {
        const char *name, *value;
    } need[] = {{"id", c->id},
                {"key", c->key},
                {"roster", c->roster},
                {"log", c->log},
                {"control", c->control}};
    for (size_t i = 0; i < sizeof need / sizeof *need; i++)
        if (!need[i].value[0]) {
            snprintf(err, errlen, "missing setting \"%s\" in [node]", need[i].name);
            return -1;
        }
    if (c->n_brokers == 0) {
        snprintf(err, errlen, "no [broker.NAME] section: the node needs at least one broker");
        return -1;
    }
    for (size_t i = 0; i < c->n_brokers; i++)
        if (!cdx_id_valid(c->broker[i].id) || !c->broker[i].fanout[0] || !c->broker[i].catchup[0] ||
            !c->broker[i].ingress[0]) {
            snprintf(err, errlen, "broker %zu needs id, ingress, fanout and catchup", i + 1);
            return -1;
        }
    return 0;
}
