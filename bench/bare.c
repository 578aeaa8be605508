/* See bare.h. */
#include "bare.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double s_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct s_set {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    unsigned char *msg, *sig;
} s_set;

static int s_make(s_set *s, size_t len, size_t n)
{
    s->msg = malloc(n * len + 1);
    s->sig = malloc(n * crypto_sign_BYTES + 1);
    if (!s->msg || !s->sig || sodium_init() < 0)
        return -1;
    crypto_sign_keypair(s->pk, s->sk);
    randombytes_buf(s->msg, n * len);
    return 0;
}

static void s_free(s_set *s)
{
    free(s->msg);
    free(s->sig);
}

double bench_bare_sign(size_t len, size_t n)
{
    s_set s;
    double rate = 0;
    if (s_make(&s, len, n) == 0) {
        double t0 = s_now();
        for (size_t i = 0; i < n; i++)
            crypto_sign_detached(s.sig + i * crypto_sign_BYTES, NULL, s.msg + i * len, len, s.sk);
        rate = (double)n / (s_now() - t0);
    }
    s_free(&s);
    return rate;
}

double bench_bare_verify(size_t len, size_t n)
{
    s_set s;
    double rate = 0;
    if (s_make(&s, len, n) == 0) {
        for (size_t i = 0; i < n; i++)
            crypto_sign_detached(s.sig + i * crypto_sign_BYTES, NULL, s.msg + i * len, len, s.sk);
        double t0 = s_now();
        for (size_t i = 0; i < n; i++)
            if (crypto_sign_verify_detached(s.sig + i * crypto_sign_BYTES, s.msg + i * len, len,
                                            s.pk) != 0)
                abort();
        rate = (double)n / (s_now() - t0);
    }
    s_free(&s);
    return rate;
}

bool bench_value(int argc, char **argv, int *i, bool number, const char **out)
{
    const char *opt = argv[*i];
    if (*i + 1 >= argc) {
        fprintf(stderr, "%s takes a value\n", opt);
        return false;
    }
    *out = argv[++*i];
    if (number) {
        char *end;
        unsigned long long v = strtoull(*out, &end, 10);
        if (end == *out || *end || v == 0 || (*out)[0] == '-') {
            fprintf(stderr, "%s takes a positive number, not '%s'\n", opt, *out);
            return false;
        }
    }
    return true;
}

int bench_usage(const char *usage, const char *arg)
{
    bool help = arg && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0);
    if (!help && arg)
        fprintf(stderr, "unknown option '%s'\n", arg);
    fprintf(help ? stdout : stderr, "usage: %s\n", usage);
    return help ? 0 : 64;
}
