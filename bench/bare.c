/* See bare.h. */
#include "bare.h"

#include <sodium.h>
#include <stdlib.h>
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
