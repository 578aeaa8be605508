/* Room ahead of the log's last page. A commit whose pages lie beyond the
 * end of data.mdb makes the file longer, and its fdatasync must then also
 * write the blocks' allocation and the file's new size (measured on this
 * machine's ext4: 218-279 us an fdatasync, against 129-155 us into blocks
 * already written; fallocate'd blocks cost as much as new ones). A log that
 * commits a few entries at a time, as a daemon's does at a steady rate,
 * pays that on many commits, and a publish crosses three such commits in
 * series. So after such commits the log writes zeros a little ahead of its
 * last page, and LMDB's next pages land in blocks the file already has:
 * bench_e2e's latency at 1,000 alerts/s went from p50 2.84-3.04 ms to
 * 2.22-2.35 ms (four runs each, alternated).
 *
 * Zeros cost a write of their own (about 0.6 ms a MiB here) that big
 * commits (a catch-up, a burst) would not win back: room is made only when
 * the commits since the last decision grew the file by less than
 * S_SMALL_COMMIT each on average.
 *
 * The file's length is followed here, not asked of the file after open: on
 * this kernel a stat of data.mdb after each commit made the next fdatasync
 * about 70 us slower (measured), more than room saves.
 *
 * Room is an optimization, never a reason to fail: it is never made past
 * the map's maximum, the process's file size limit (whose signal kills a
 * caller that does not ignore it) or the disk's last S_KEEP_FREE bytes; if
 * writing zeros fails, the file is cut back to where it was (LMDB's pages
 * all lie before it) and none is tried for a minute. Zeros are written
 * while holding LMDB's writer lock, so that another process writing the
 * same log cannot be committing pages there. LMDB reads nothing past its
 * last page, and copies of the log carry the zeros harmlessly. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cydex/clock.h"
#include "log_internal.h"

#define S_ROOM_STEP ((uint64_t)1 << 20)     /* room made at a time */
#define S_ROOM_LOW ((uint64_t)256 << 10)    /* less room than this: make more */
#define S_SMALL_COMMIT ((uint64_t)64 << 10) /* file growth a commit, on average */
#define S_KEEP_FREE ((uint64_t)64 << 20)    /* disk space room never takes */
#define S_LIMIT_MARGIN ((uint64_t)2 << 20)  /* below the file size limit */
#define S_RETRY_MS 60000u

/* Bytes of data.mdb LMDB uses: up to and with its last page. */
static uint64_t s_used(const cdx_log *log)
{
    MDB_envinfo info;
    if (mdb_env_info(log->env, &info) != 0)
        return 0;
    return ((uint64_t)info.me_last_pgno + 1) * log->room.page;
}

/* Where room may reach: the map's maximum, the file size limit (with the
 * margin cdx__log_commit_failed looks for) and the disk's free space. */
static uint64_t s_room_cap(const cdx_log *log, int fd, uint64_t end)
{
    uint64_t cap = log->map_max;
    struct rlimit lim;
    if (getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        uint64_t l = (uint64_t)lim.rlim_cur, below = l > S_LIMIT_MARGIN ? l - S_LIMIT_MARGIN : 0;
        cap = below < cap ? below : cap;
    }
    struct statvfs fs;
    if (fstatvfs(fd, &fs) != 0)
        return 0;
    uint64_t free_bytes = (uint64_t)fs.f_bavail * fs.f_frsize;
    if (free_bytes <= S_KEEP_FREE)
        return 0;
    if (end + (free_bytes - S_KEEP_FREE) < cap)
        cap = end + (free_bytes - S_KEEP_FREE);
    return cap;
}

/* Zeros from `from` to `to`, made durable; false if any write fails, and
 * then the file is cut back to `from` (LMDB's pages all lie before it; if
 * even that fails, the zeros stay, as harmless as any). */
static bool s_zero_fill(int fd, uint64_t from, uint64_t to)
{
    static const uint8_t zeros[64 * 1024];
    uint64_t at = from;
    while (at < to) {
        size_t n = to - at < sizeof zeros ? (size_t)(to - at) : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, (off_t)at);
        if (w <= 0)
            break;
        at += (uint64_t)w;
    }
    if (at >= to && fdatasync(fd) == 0)
        return true;
    int cut = ftruncate(fd, (off_t)from);
    (void)cut;
    return false;
}

void cdx__log_room_opened(cdx_log *log)
{
    MDB_stat ms;
    int fd;
    struct stat st;
    memset(&log->room, 0, sizeof log->room);
    if (log->read_only || mdb_env_get_fd(log->env, &fd) != 0 || fstat(fd, &st) != 0 ||
        mdb_env_stat(log->env, &ms) != 0)
        return;
    log->room.page = ms.ms_psize;
    log->room.end = (uint64_t)st.st_size;
    log->room.used_at = s_used(log);
}

void cdx__log_room_keep(cdx_log *log)
{
    if (!log->room.page)
        return;
    log->room.commits++;
    uint64_t used = s_used(log);
    if (used > log->room.end)
        log->room.end = used; /* LMDB made the file longer itself */
    if (log->room.end >= used + S_ROOM_LOW)
        return; /* room enough */
    uint64_t grown = used > log->room.used_at ? used - log->room.used_at : 0,
             commits = log->room.commits;
    log->room.used_at = used;
    log->room.commits = 0;
    if (grown > S_SMALL_COMMIT * commits)
        return; /* big commits: LMDB extending the file costs them little */
    uint64_t now = cdx_mono_ms();
    int fd;
    MDB_txn *txn;
    if (now < log->room.off_until_ms || mdb_env_get_fd(log->env, &fd) != 0)
        return;
    /* Under LMDB's writer lock (a write transaction, aborted after): no
     * other process that writes this log can be putting pages past its
     * last one meanwhile. */
    if (mdb_txn_begin(log->env, NULL, 0, &txn) != 0)
        return;
    used = s_used(log);
    uint64_t end = log->room.end > used ? log->room.end : used, to = used + S_ROOM_STEP,
             cap = s_room_cap(log, fd, end);
    to = to < cap ? to : cap;
    to -= to % log->room.page;
    if (to > end && s_zero_fill(fd, end, to))
        log->room.end = to;
    else if (to > end)
        log->room.off_until_ms = now + S_RETRY_MS;
    mdb_txn_abort(txn);
}
