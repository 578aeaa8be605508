/* A small HTTP endpoint for a daemon's health and Prometheus metrics
 * (libmicrohttpd; this is the only file that includes it).
 *
 * It has no thread of its own: the daemon polls daemon_httpd_fd() beside
 * its sockets and calls daemon_httpd_serve() every loop turn, and the
 * pages are written by the daemon's callback on its own loop, so they read
 * its state without locks. GET and HEAD only; anything else is refused
 * with 405.
 */
#ifndef CYDEX_DAEMON_HTTPD_H
#define CYDEX_DAEMON_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct daemon_httpd daemon_httpd;

/* One page being answered: status 200 and text/plain unless the callback
 * says otherwise; it writes the body to `body`. */
typedef struct daemon_page {
    int status;
    const char *type;
    FILE *body;
} daemon_page;

/* Writes the page for `path`; false: there is no such page (404). */
typedef bool (*daemon_page_fn)(void *ctx, const char *path, daemon_page *page);

/* Listens on addr ("127.0.0.1:9464", "[::1]:9464"; port 0: one the kernel
 * picks, see daemon_httpd_port). 0, or -1 with a message in err. */
int daemon_httpd_new(daemon_httpd **out, const char *addr, daemon_page_fn fn, void *ctx, char *err,
                     size_t errlen);
/* Whether addr is a HOST:PORT daemon_httpd_new takes (numeric, as it
 * needs), without listening: 0, or -1 with a message in err. */
int daemon_httpd_addr_check(const char *addr, char *err, size_t errlen);
/* The descriptor to poll for input. */
int daemon_httpd_fd(const daemon_httpd *h);
/* Accepts, reads and answers whatever is ready; never blocks. */
void daemon_httpd_serve(daemon_httpd *h);
/* The port it listens on. */
unsigned daemon_httpd_port(const daemon_httpd *h);
void daemon_httpd_destroy(daemon_httpd **h);

#endif
