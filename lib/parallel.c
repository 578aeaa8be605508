/* A parallel for: [0, n) cut into one contiguous slice per thread, the
 * calling thread taking the first. Threads are started per call and
 * joined before it returns, so nothing outlives it; the slices share
 * nothing but what fn's context lets them read. If a thread cannot be
 * started, its slice runs on the calling thread: the work is always done. */
#include <pthread.h>
#include <unistd.h>

#include "internal.h"

#define S_MAX_THREADS 64u

typedef struct s_slice {
    cdx__range_fn fn;
    void *ctx;
    size_t from, to;
} s_slice;

static void *s_run(void *arg)
{
    s_slice *s = arg;
    s->fn(s->ctx, s->from, s->to);
    return NULL;
}

unsigned cdx__cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > (long)S_MAX_THREADS ? S_MAX_THREADS : (unsigned)n;
}

void cdx__parallel(size_t n, unsigned threads, size_t min_per_thread, cdx__range_fn fn, void *ctx)
{
    if (threads > S_MAX_THREADS)
        threads = S_MAX_THREADS;
    if (min_per_thread == 0)
        min_per_thread = 1;
    if (threads > n / min_per_thread)
        threads = (unsigned)(n / min_per_thread);
    if (threads <= 1) {
        if (n)
            fn(ctx, 0, n);
        return;
    }
    pthread_t tid[S_MAX_THREADS];
    s_slice sl[S_MAX_THREADS];
    bool started[S_MAX_THREADS] = {false};
    size_t per = (n + threads - 1) / threads;
    for (unsigned i = 0; i < threads; i++) {
        size_t from = i * per, to = from + per < n ? from + per : n;
        sl[i] = (s_slice){fn, ctx, from, from < to ? to : from};
        if (i > 0 && from < to)
            started[i] = pthread_create(&tid[i], NULL, s_run, &sl[i]) == 0;
    }
    s_run(&sl[0]);
    for (unsigned i = 1; i < threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else if (sl[i].from < sl[i].to)
            s_run(&sl[i]);
    }
}
