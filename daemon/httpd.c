/* The daemons' HTTP endpoint (see httpd.h): libmicrohttpd in its
 * external-epoll mode, driven from the daemon's loop. */
#include "httpd.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct daemon_httpd {
    struct MHD_Daemon *mhd;
    daemon_page_fn fn;
    void *ctx;
    int fd;
    unsigned port;
};

static enum MHD_Result s_answer(struct MHD_Connection *c, int status, const char *type, char *body,
                                size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result s_plain(struct MHD_Connection *c, int status, const char *text)
{
    char *body = strdup(text);
    return body ? s_answer(c, status, "text/plain; charset=utf-8", body, strlen(body)) : MHD_NO;
}

static enum MHD_Result s_access(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload,
                                size_t *upload_size, void **req_cls)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;
    daemon_httpd *h = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD\n");
    char *body = NULL;
    size_t len = 0;
    daemon_page page = {.status = MHD_HTTP_OK, .type = "text/plain; charset=utf-8"};
    page.body = open_memstream(&body, &len);
    if (!page.body)
        return s_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    bool found = h->fn(h->ctx, url, &page);
    if (fclose(page.body) != 0 || !body) {
        free(body);
        return s_plain(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    }
    if (!found) {
        free(body);
        return s_plain(c, MHD_HTTP_NOT_FOUND, "no such page; try /health or /metrics\n");
    }
    return s_answer(c, page.status, page.type, body, len);
}

/* "HOST:PORT" or "[HOST6]:PORT", numeric only. */
static int s_resolve(const char *addr, struct addrinfo **out, char *err, size_t errlen)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    size_t hl = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hl == 0 || hl >= sizeof host || !colon[1]) {
        snprintf(err, errlen, "metrics address \"%s\" is not HOST:PORT (e.g. 127.0.0.1:9464)",
                 addr);
        return -1;
    }
    memcpy(host, addr, hl);
    host[hl] = '\0';
    if (host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    int rc = getaddrinfo(host, colon + 1, &hints, out);
    if (rc != 0) {
        snprintf(err, errlen, "metrics address \"%s\": %s", addr, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int daemon_httpd_addr_check(const char *addr, char *err, size_t errlen)
{
    struct addrinfo *ai = NULL;
    if (s_resolve(addr, &ai, err, errlen) != 0)
        return -1;
    freeaddrinfo(ai);
    return 0;
}

int daemon_httpd_new(daemon_httpd **out, const char *addr, daemon_page_fn fn, void *ctx, char *err,
                     size_t errlen)
{
    *out = NULL;
    struct addrinfo *ai = NULL;
    if (s_resolve(addr, &ai, err, errlen) != 0)
        return -1;
    daemon_httpd *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(ai);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    h->fn = fn;
    h->ctx = ctx;
    unsigned flags = MHD_USE_EPOLL | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* A page takes milliseconds to make: connections idle for 3 s are
     * closed, so that idle ones cannot hold the endpoint long. */
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, s_access, h, MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                              MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_CONNECTION_TIMEOUT, 3u,
                              MHD_OPTION_END);
    int saved = errno;
    freeaddrinfo(ai);
    const union MHD_DaemonInfo *fdi, *pi;
    if (!h->mhd || !(fdi = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_EPOLL_FD)) ||
        !(pi = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT))) {
        snprintf(err, errlen, "cannot serve metrics on %s: %s", addr,
                 saved ? strerror(saved) : "the HTTP server did not start");
        daemon_httpd_destroy(&h);
        return -1;
    }
    h->fd = fdi->epoll_fd;
    h->port = pi->port;
    *out = h;
    return 0;
}

int daemon_httpd_fd(const daemon_httpd *h)
{
    return h ? h->fd : -1;
}

void daemon_httpd_serve(daemon_httpd *h)
{
    if (h)
        MHD_run(h->mhd);
}

unsigned daemon_httpd_port(const daemon_httpd *h)
{
    return h ? h->port : 0;
}

void daemon_httpd_destroy(daemon_httpd **h)
{
    if (!h || !*h)
        return;
    if ((*h)->mhd)
        MHD_stop_daemon((*h)->mhd);
    free(*h);
    *h = NULL;
}
