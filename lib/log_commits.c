/* How long the log's write transactions take to commit: every commit goes
 * through cdx__log_commit, which times it into a histogram the daemons
 * serve on /metrics and the benchmarks read (log.h). */
#include <time.h>

#include "log_internal.h"

const uint32_t cdx_log_commit_bucket_us[CDX_LOG_COMMIT_BUCKETS] = {
    100, 200, 300, 400, 500, 750, 1000, 2500, 5000, 10000, 50000, 250000, 1000000};

static uint64_t s_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int cdx__log_commit(cdx_log *log, MDB_txn *txn)
{
    uint64_t t0 = s_mono_us();
    int rc = mdb_txn_commit(txn);
    if (rc)
        return rc;
    uint64_t us = s_mono_us() - t0;
    cdx_log_commit_stats *s = &log->commits;
    s->count++;
    s->sum_us += us;
    if (us > s->max_us)
        s->max_us = us;
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++)
        if (us <= cdx_log_commit_bucket_us[i])
            s->le[i]++;
    return 0;
}

void cdx_log_commit_stats_get(const cdx_log *log, cdx_log_commit_stats *out)
{
    *out = log->commits;
}

void cdx_log_commit_stats_since(const cdx_log_commit_stats *now, const cdx_log_commit_stats *before,
                                cdx_log_commit_stats *out)
{
    cdx_log_commit_stats d = *now;
    d.count -= before->count;
    d.sum_us -= before->sum_us;
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++)
        d.le[i] -= before->le[i];
    *out = d;
}

/* Interpolating inside a bucket spreads its commits evenly up to the
 * bucket's bound, which can lie far above the slowest commit seen (a
 * bucket (1, 2.5] ms whose commits all took 1.1 ms): no quantile may say
 * more than the maximum observed. */
double cdx_log_commit_quantile_us(const cdx_log_commit_stats *s, double q)
{
    if (s->count == 0)
        return 0;
    q = q < 0 ? 0 : q > 1 ? 1 : q;
    double rank = q * (double)s->count, below = 0, lower = 0, max = (double)s->max_us;
    for (size_t i = 0; i < CDX_LOG_COMMIT_BUCKETS; i++) {
        double upper = cdx_log_commit_bucket_us[i], in = (double)s->le[i];
        if (in >= rank && in > below) { /* the quantile falls in (lower, upper] */
            double v = lower + (upper - lower) * (rank - below) / (in - below);
            return s->max_us && v > max ? max : v;
        }
        below = in;
        lower = upper;
    }
    return max;
}
