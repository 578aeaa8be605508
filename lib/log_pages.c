/* Dropping a read-only log's mapped pages from resident memory (see
 * log_pages.h). LMDB maps the file read-only for a reader, so the pages
 * are the file's: MADV_DONTNEED only forgets them here, and the next read
 * faults them back from the page cache. What must hold: nothing is ever
 * released but the log's own mapping, found as the one that holds a
 * pointer LMDB hands out for this log; a log opened for writing is never
 * touched. */
#define _DEFAULT_SOURCE /* madvise's MADV_DONTNEED (posix_madvise's does nothing on Linux) */
#include <lmdb.h>
#include <stdio.h>
#include <sys/mman.h>

#include "log_internal.h"
#include "log_pages.h"

void cdx__log_release_pages(cdx_log *log)
{
#ifdef __linux__
    if (!log || !log->read_only)
        return;
    MDB_txn *txn = NULL;
    if (mdb_txn_begin(log->env, NULL, MDB_RDONLY, &txn) != 0)
        return;
    MDB_val k = cdx__log_val("origin", 6), v;
    uintptr_t p = mdb_get(txn, log->meta, &k, &v) == 0 ? (uintptr_t)v.mv_data : 0;
    mdb_txn_abort(txn);
    if (!p)
        return;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (!maps)
        return;
    char line[512];
    while (fgets(line, sizeof line, maps)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo <= p && p < hi) {
            madvise((void *)lo, hi - lo, MADV_DONTNEED);
            break;
        }
    }
    fclose(maps);
#else
    (void)log;
#endif
}
