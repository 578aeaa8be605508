/* Letting go of a log's pages once read (lib/log_pages.c). Internal. */
#ifndef CYDEX_LIB_LOG_PAGES_H
#define CYDEX_LIB_LOG_PAGES_H

#include "cydex/log.h"

/* For a reader that streams a whole log once: drops the log's mapped pages
 * from this process's resident memory (they stay in the page cache, and
 * come back on the next read of them), so that reading a log of any size
 * costs the reader no more memory than it keeps itself. Safe at any time,
 * inside a scan too: the map is read-only. A no-op for a log opened for
 * writing, and where the system cannot say where the map is. */
void cdx__log_release_pages(cdx_log *log);

#endif
