/* A growable text buffer for the writers that build documents in memory
 * (completeness's text, the report's HTML). Internal (cdx__sb_*). A buffer
 * that once failed to grow stays failed: every later append is a no-op and
 * cdx__sb_take gives NULL, so writers check once at the end. */
#ifndef CYDEX_LIB_STRBUF_H
#define CYDEX_LIB_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "internal.h"

typedef struct cdx__sb {
    char *data;
    size_t len, cap;
    bool failed;
    FILE *sink; /* if set, text is written there as it comes, not kept */
} cdx__sb;

void cdx__sb_puts(cdx__sb *b, const char *s);
void cdx__sb_put(cdx__sb *b, const char *s, size_t n);
void cdx__sb_printf(cdx__sb *b, const char *fmt, ...) CDX__PRINTF(2, 3);
/* HTML text: & < > " ' as entities, and any byte that is not valid UTF-8
 * (or a control character other than tab and newline) as U+FFFD, so that
 * nothing from a log can open a tag, an attribute or a script. */
void cdx__sb_html(cdx__sb *b, const char *s);
/* The text (caller frees), or NULL if it failed or was streamed. */
char *cdx__sb_take(cdx__sb *b);
void cdx__sb_free(cdx__sb *b);

#endif
