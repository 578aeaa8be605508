/* The growable text buffer of lib/strbuf.h. What must hold: appends never
 * write past the allocation, the text is always NUL-terminated, and HTML
 * escaping lets no byte of untrusted text through that a browser reads as
 * markup. */
#include "strbuf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static bool s_room(cdx__sb *b, size_t n)
{
    if (b->failed)
        return false;
    if (b->sink)
        return true;
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *g = realloc(b->data, cap);
    if (!g) {
        b->failed = true;
        return false;
    }
    b->data = g;
    b->cap = cap;
    return true;
}

void cdx__sb_put(cdx__sb *b, const char *s, size_t n)
{
    if (!s_room(b, n))
        return;
    if (b->sink) {
        if (n && fwrite(s, 1, n, b->sink) != n)
            b->failed = true;
        b->len += n;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cdx__sb_puts(cdx__sb *b, const char *s)
{
    cdx__sb_put(b, s, strlen(s));
}

void cdx__sb_printf(cdx__sb *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->failed = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        cdx__sb_put(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cdx__sb_put(b, big, (size_t)n);
    free(big);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if there is none. */
static size_t s_utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n = c >= 0xc2 && c <= 0xdf   ? 2
               : c >= 0xe0 && c <= 0xef ? 3
               : c >= 0xf0 && c <= 0xf4 ? 4
                                        : 0;
    if (!n)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f)))
        return 0; /* overlong, surrogate */
    if (n == 4 && ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f)))
        return 0; /* overlong, past U+10FFFF */
    return n;
}

void cdx__sb_html(cdx__sb *b, const char *s)
{
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep) {
            cdx__sb_puts(b, rep);
            p++;
            continue;
        }
        if (*p < 0x20 && *p != '\t' && *p != '\n') {
            cdx__sb_puts(b, "\xef\xbf\xbd");
            p++;
            continue;
        }
        size_t n = s_utf8_len(p);
        if (!n) {
            cdx__sb_puts(b, "\xef\xbf\xbd");
            p++;
            continue;
        }
        cdx__sb_put(b, (const char *)p, n);
        p += n;
    }
}

char *cdx__sb_take(cdx__sb *b)
{
    if (b->failed || b->sink) {
        cdx__sb_free(b);
        return NULL;
    }
    if (!s_room(b, 0))
        return NULL;
    b->data[b->len] = '\0';
    char *out = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return out;
}

void cdx__sb_free(cdx__sb *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
