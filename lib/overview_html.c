/* The overview as one self-contained HTML file (cydex-audit report
 * --html): what an auditor hands to a ministry.
 *
 * What must always hold: the page needs nothing from outside (no network,
 * no fonts, no external CSS or script; its Content-Security-Policy allows
 * nothing to load and no script but its own, named by hash); every string
 * that came from a log goes through cdx__sb_html, so a title holding
 * "</script>" or "<img onerror=...>" shows as text; charts are inline SVG
 * drawn here; it prints to PDF as it reads on screen (a print stylesheet).
 * It is written as it is made (streamed to the FILE).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cydex/clock.h"
#include "cydex/overview.h"
#include "internal.h"
#include "strbuf.h"

#define S_TOP 8 /* senders with a colour of their own in the chart */

static const char *const s_palette[S_TOP + 1] = {"#4e79a7", "#f28e2b", "#e15759",
                                                 "#76b7b2", "#59a14f", "#edc948",
                                                 "#b07aa1", "#ff9da7", "#bab0ac"};

/* The sorting script, the only one the page runs (its hash is in the CSP). */
static const char s_script[] =
    "(function(){function key(c){var v=c.getAttribute('data-v');return v===null?null:"
    "parseFloat(v);}\n"
    "var ths=document.querySelectorAll('table.sortable th');\n"
    "for(var n=0;n<ths.length;n++){ths[n].addEventListener('click',function(){\n"
    "var th=this,row=th.parentNode,t=row.parentNode.parentNode,b=t.tBodies[0];\n"
    "var i=Array.prototype.indexOf.call(row.children,th);\n"
    "var d=th.getAttribute('data-dir')==='a'?'d':'a';\n"
    "for(var k=0;k<row.children.length;k++)row.children[k].removeAttribute('data-dir');\n"
    "th.setAttribute('data-dir',d);\n"
    "var r=Array.prototype.slice.call(b.rows);\n"
    "r.sort(function(x,y){var p=x.cells[i],q=y.cells[i];if(!p||!q)return 0;\n"
    "var u=key(p),w=key(q),c=(u!==null&&w!==null)?u-w:"
    "p.textContent.localeCompare(q.textContent);return d==='a'?c:-c;});\n"
    "for(var j=0;j<r.length;j++)b.appendChild(r[j]);});}\n"
    "document.documentElement.className='js';})();";

static const char s_style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d2329;margin:0;background:#fff}\n"
    "main{max-width:1000px;margin:0 auto;padding:24px 28px 48px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;"
    "border-bottom:2px solid #d6dde3}h3{font-size:15px;margin:18px 0 6px}\n"
    "p.sub{color:#56606b;margin:0 0 12px}p.note{color:#56606b;font-size:12.5px}\n"
    "nav{font-size:13px;margin:8px 0 16px}nav a{margin-right:12px;color:#2a5d8f}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}\n"
    ".card{border:1px solid #d6dde3;border-radius:6px;padding:8px 12px;min-width:110px}\n"
    ".card b{display:block;font-size:20px}.card span{color:#56606b;font-size:12px}\n"
    ".card.bad{border-color:#de2d26;background:#fff5f4}.card.bad b{color:#b3211b}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px}\n"
    "th,td{border-bottom:1px solid #e3e8ec;padding:4px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#f3f6f8;font-weight:600}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "td.t{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    ".js table.sortable th{cursor:pointer}.js table.sortable th:after{content:' \\2195';"
    "color:#9aa5ae}\n"
    ".js table.sortable th[data-dir=a]:after{content:' \\2191'}.js table.sortable "
    "th[data-dir=d]:after{content:' \\2193'}\n"
    "code,.h{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px}\n"
    "svg{display:block;max-width:100%;height:auto}svg text{font-size:11px;fill:#3b4550}\n"
    ".legend{font-size:12px;margin:4px 0 8px}.legend i{display:inline-block;width:11px;"
    "height:11px;margin:0 4px -1px 10px;border-radius:2px}\n"
    "table.matrix td.s{text-align:center;font-size:11px;min-width:26px;padding:3px 2px}\n"
    "table.matrix th.s{text-align:center;font-size:11px;padding:3px 2px}\n"
    ".st0{color:#b6bec5}.st1{background:#9ecae1}.st2{background:#fdd49e}"
    ".st3{background:#c7e9c0}.st4{background:#31a354;color:#fff}"
    ".st5{background:#756bb1;color:#fff}.st6{background:#de2d26;color:#fff}"
    ".stx{background:#eceff1;color:#6b757d}\n"
    ".ok{color:#2b7a3d}.bad{color:#b3211b;font-weight:600}\n"
    ".wide{overflow-x:auto}\n"
    "footer{margin-top:36px;color:#7a848d;font-size:12px}\n"
    "@media print{@page{size:A4 "
    "landscape;margin:12mm}.wide{overflow:visible}body{font-size:11px}main{max-width:none;"
    "padding:0}nav{display:none}h2{break-after:avoid;page-break-after:avoid}"
    "svg,.cards,tr,.legend{break-inside:avoid;page-break-inside:avoid}"
    "table{font-size:10px}th,td{padding:2px 4px}.js table.sortable th:after{content:''}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}a{color:inherit;"
    "text-decoration:none}}\n";

/* ---- formatting ---- */

/* "2025-11-24 16:00:05Z" */
static void s_when(char out[CDX_TIME_TEXT_MAX], uint64_t t)
{
    cdx_time_format(out, t);
    char *tee = strchr(out, 'T'), *dot = strchr(out, '.');
    if (tee)
        *tee = ' ';
    if (dot)
        strcpy(dot, "Z");
}

static void s_dur(char out[32], uint64_t ms)
{
    double v = (double)ms;
    if (ms < 1000)
        snprintf(out, 32, "%llu ms", (unsigned long long)ms);
    else if (ms < 60000)
        snprintf(out, 32, "%.3g s", v / 1000);
    else if (ms < 3600000)
        snprintf(out, 32, "%.3g min", v / 60000);
    else if (ms < 86400000)
        snprintf(out, 32, "%.3g h", v / 3600000);
    else
        snprintf(out, 32, "%.3g d", v / 86400000);
}

static void s_num_td(cdx__sb *b, uint64_t v)
{
    cdx__sb_printf(b, "<td class=n data-v=\"%llu\">%llu</td>", (unsigned long long)v,
                   (unsigned long long)v);
}

static void s_time_td(cdx__sb *b, uint64_t t)
{
    char w[CDX_TIME_TEXT_MAX];
    if (!t) {
        cdx__sb_puts(b, "<td class=t data-v=\"0\">&mdash;</td>");
        return;
    }
    s_when(w, t);
    cdx__sb_printf(b, "<td class=t data-v=\"%llu\">%s</td>", (unsigned long long)t, w);
}

static void s_dur_td(cdx__sb *b, uint64_t ms)
{
    char d[32];
    s_dur(d, ms);
    cdx__sb_printf(b, "<td class=n data-v=\"%llu\">%s</td>", (unsigned long long)ms, d);
}

static void s_text_td(cdx__sb *b, const char *s)
{
    cdx__sb_puts(b, "<td>");
    cdx__sb_html(b, s);
    cdx__sb_puts(b, "</td>");
}

static const char *s_role(cdx_role r)
{
    switch (r) {
    case CDX_ROLE_STATE: return "state";
    case CDX_ROLE_BROKER: return "broker";
    case CDX_ROLE_AUDITOR: return "auditor";
    case CDX_ROLE_ADMIN: return "admin";
    case CDX_ROLE_RELAY: return "relay";
    default: return "not in the roster";
    }
}

/* A round number at or above v. */
static uint64_t s_nice(uint64_t v)
{
    uint64_t p = 1;
    while (p * 10 <= v)
        p *= 10;
    static const uint64_t steps[] = {1, 2, 5, 10};
    for (int i = 0; i < 4; i++)
        if (steps[i] * p >= v)
            return steps[i] * p;
    return 10 * p;
}

/* ---- who the columns are ---- */

/* Members that count as states for the matrix and the latency chart:
 * those the roster says are states, or, without a roster, every sender
 * that sent an alert or an ack. */
static bool s_is_state(const cdx_overview *ov, const cdx_ov_member *m)
{
    if (ov->federation[0])
        return m->role == CDX_ROLE_STATE;
    return m->alerts || m->acks;
}

/* ---- sections ---- */

static void s_card(cdx__sb *b, uint64_t v, const char *what, bool bad)
{
    cdx__sb_printf(b, "<div class=\"card%s\"><b>%llu</b><span>%s</span></div>", bad ? " bad" : "",
                   (unsigned long long)v, what);
}

static void s_head(cdx__sb *b, const cdx_overview *ov, uint64_t now_ms)
{
    char a[CDX_TIME_TEXT_MAX], z[CDX_TIME_TEXT_MAX], n[CDX_TIME_TEXT_MAX];
    s_when(a, ov->first_ms);
    s_when(z, ov->last_ms);
    s_when(n, now_ms);
    cdx__sb_puts(b, "<h1>CyDEx federation report");
    if (ov->federation[0]) {
        cdx__sb_puts(b, ": ");
        cdx__sb_html(b, ov->federation);
    }
    cdx__sb_puts(b, "</h1>\n<p class=sub>");
    if (ov->entries)
        cdx__sb_printf(b, "Period %s to %s (the senders' signed times). ", a, z);
    cdx__sb_printf(b, "From %zu log%s: ", ov->n_logs, ov->n_logs == 1 ? "" : "s");
    for (size_t i = 0; i < ov->n_logs; i++) {
        cdx__sb_puts(b, i ? ", <code>" : "<code>");
        cdx__sb_html(b, ov->logs[i].origin);
        cdx__sb_puts(b, "</code>");
    }
    cdx__sb_printf(b, ". Made %s by cydex-audit.</p>\n", n);
    cdx__sb_puts(b, "<p class=note>This report reads the logs as they are and does not judge "
                    "signatures: <code>cydex-audit verify</code> gives each log's verdict. An "
                    "envelope held by several logs is counted once.</p>\n");
    cdx__sb_puts(b, "<nav><a href=\"#federation\">Federation</a><a href=\"#alerts\">Alerts over "
                    "time</a><a href=\"#latency\">Acknowledgement latency</a><a "
                    "href=\"#matrix\">Alert &times; state</a><a href=\"#gaps\">Gaps</a><a "
                    "href=\"#equivocations\">Equivocations</a><a href=\"#heads\">Tree heads</a><a "
                    "href=\"#refused\">Refused</a></nav>\n");
    size_t states = 0, brokers = 0;
    for (size_t i = 0; i < ov->n_members; i++) {
        states += s_is_state(ov, &ov->members[i]);
        brokers += ov->members[i].role == CDX_ROLE_BROKER;
    }
    uint64_t refused = ov->duplicates;
    for (size_t i = 0; i < ov->n_refused; i++)
        refused += ov->refused[i].count;
    cdx__sb_puts(b, "<div class=cards>");
    s_card(b, ov->entries, "envelopes", false);
    s_card(b, ov->alerts, "alerts", false);
    s_card(b, ov->acks, "acknowledgements", false);
    s_card(b, states, "states", false);
    s_card(b, brokers, "brokers", false);
    s_card(b, ov->unacked, "alerts nobody acknowledged", ov->unacked > 0);
    s_card(b, ov->gaps_total, "gaps", ov->gaps_total > 0);
    s_card(b, ov->equivocations_total, "equivocations", ov->equivocations_total > 0);
    s_card(b, ov->heads_bad_total, "inconsistent tree heads", ov->heads_bad_total > 0);
    s_card(b, refused, "envelopes refused", false);
    cdx__sb_puts(b, "</div>\n");
}

static void s_federation(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_puts(b, "<h2 id=federation>Federation</h2>\n<h3>Logs</h3>\n<table class=sortable>"
                    "<thead><tr><th>log</th><th>owner</th><th class=n>entries</th><th "
                    "class=n>counted here</th><th>first sent</th><th>last sent</th></tr></thead>"
                    "<tbody>");
    for (size_t i = 0; i < ov->n_logs; i++) {
        const cdx_ov_log *l = &ov->logs[i];
        cdx__sb_puts(b, "<tr><td><code>");
        cdx__sb_html(b, l->origin);
        cdx__sb_puts(b, "</code></td>");
        s_text_td(b, l->owner);
        s_num_td(b, l->entries);
        s_num_td(b, l->counted);
        s_time_td(b, l->first_ms);
        s_time_td(b, l->last_ms);
        cdx__sb_puts(b, "</tr>");
    }
    cdx__sb_puts(b, "</tbody></table>\n<h3>Roster versions</h3>\n");
    if (!ov->n_rosters) {
        cdx__sb_puts(b, "<p>No roster in the logs.</p>\n");
    } else {
        cdx__sb_puts(b, "<table class=sortable><thead><tr><th class=n>version</th>"
                        "<th>federation</th><th>issued</th><th class=n>members</th><th "
                        "class=n>states</th><th class=n>brokers</th><th class=n>revoked</th>"
                        "<th>found in</th><th>signed by the admins in force</th></tr></thead>"
                        "<tbody>");
        for (size_t i = 0; i < ov->n_rosters; i++) {
            const cdx_ov_roster *r = &ov->rosters[i];
            cdx__sb_puts(b, "<tr>");
            s_num_td(b, r->version);
            s_text_td(b, r->federation);
            s_time_td(b, r->issued_at_ms);
            s_num_td(b, r->members);
            s_num_td(b, r->states);
            s_num_td(b, r->brokers);
            s_num_td(b, r->revoked);
            cdx__sb_puts(b, "<td>");
            if (r->index == UINT64_MAX - 1) {
                cdx__sb_puts(b, "given (--roster)");
            } else {
                cdx__sb_html(b, ov->logs[r->log].origin);
                if (r->index == UINT64_MAX)
                    cdx__sb_puts(b, ", the roster it stores");
                else
                    cdx__sb_printf(b, ", entry #%llu", (unsigned long long)r->index);
            }
            cdx__sb_printf(b, "</td><td class=%s>%s</td></tr>", r->chained ? "ok" : "bad",
                           r->chained        ? "yes"
                           : r->version == 1 ? "no: its own admins' signatures do not verify"
                                             : "no, or the version before it is not in the logs");
        }
        cdx__sb_puts(b, "</tbody></table>\n");
    }
    cdx__sb_puts(b, "<h3>Members</h3>\n<table class=sortable><thead><tr><th>member</th>"
                    "<th>role</th><th class=n>alerts</th><th class=n>sealed</th><th "
                    "class=n>acks</th><th class=n>heartbeats</th><th class=n>tree heads</th><th "
                    "class=n>co-signatures</th><th>first sent</th><th>last sent</th><th>revoked"
                    "</th></tr></thead><tbody>");
    for (size_t i = 0; i < ov->n_members; i++) {
        const cdx_ov_member *m = &ov->members[i];
        cdx__sb_puts(b, "<tr>");
        s_text_td(b, m->id);
        cdx__sb_printf(b, "<td>%s</td>", ov->federation[0] ? s_role(m->role) : "&mdash;");
        s_num_td(b, m->alerts);
        s_num_td(b, m->sealed);
        s_num_td(b, m->acks);
        s_num_td(b, m->heartbeats);
        s_num_td(b, m->tree_heads);
        s_num_td(b, m->witnesses);
        s_time_td(b, m->first_ms);
        s_time_td(b, m->last_ms);
        s_time_td(b, m->revoked_at_ms);
        cdx__sb_puts(b, "</tr>");
    }
    cdx__sb_puts(b, "</tbody></table>\n");
    if (ov->other_senders)
        cdx__sb_printf(b,
                       "<p class=note>%llu envelopes of senders past the first %u are "
                       "counted in the totals only.</p>\n",
                       (unsigned long long)ov->other_senders, CDX_OV_MAX_MEMBERS);
}

/* The senders by alerts sent, most first. */
static size_t s_top(const cdx_overview *ov, size_t *order)
{
    size_t n = 0;
    for (size_t i = 0; i < ov->n_members; i++)
        if (ov->members[i].alerts)
            order[n++] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && ov->members[order[k - 1]].alerts < ov->members[order[k]].alerts;
             k--) {
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    return n;
}

static void s_alerts_chart(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_puts(b, "<h2 id=alerts>Alerts over time, per sender</h2>\n");
    if (!ov->alerts || !ov->n_buckets) {
        cdx__sb_puts(b, "<p>No alerts in the logs.</p>\n");
        return;
    }
    size_t order[CDX_OV_MAX_MEMBERS];
    size_t n_top = s_top(ov, order);
    size_t nb = ov->n_buckets;
    uint64_t tot[CDX_OV_TIME_BUCKETS] = {0}, ymax = 1;
    for (size_t k = 0; k < nb; k++) {
        for (size_t i = 0; i < ov->n_members; i++)
            tot[k] += ov->members[i].per_bucket[k];
        if (tot[k] > ymax)
            ymax = tot[k];
    }
    ymax = s_nice(ymax);
    const double W = 920, H = 280, L = 52, R = 14, T = 14, B = 44;
    const double pw = W - L - R, ph = H - T - B, bw = pw / (double)nb;
    char d[32];
    s_dur(d, ov->bucket_ms);
    cdx__sb_printf(b, "<p class=sub>%llu alerts; each bar is %s.</p>\n",
                   (unsigned long long)ov->alerts, d);
    cdx__sb_printf(b,
                   "<svg class=chart id=chart-alerts viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                   "height=\"%.0f\" role=img aria-label=\"alerts over time per sender\">",
                   W, H, W, H);
    int grids = ymax < 4 ? (int)ymax : 4;
    for (int g = 0; g <= grids; g++) {
        double y = T + ph - ph * g / (double)grids;
        cdx__sb_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e8ec\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=end>%llu</text>",
                       L, y, W - R, y, L - 6, y + 4,
                       (unsigned long long)(ymax * (uint64_t)g / (uint64_t)grids));
    }
    for (size_t k = 0; k < nb; k++) {
        double y = T + ph;
        for (size_t c = 0; c <= S_TOP && c <= n_top; c++) {
            uint64_t v = 0;
            if (c < S_TOP && c < n_top)
                v = ov->members[order[c]].per_bucket[k];
            else
                for (size_t o = S_TOP; o < n_top; o++)
                    v += ov->members[order[o]].per_bucket[k];
            if (!v)
                continue;
            double h = ph * (double)v / (double)ymax;
            y -= h;
            char w0[CDX_TIME_TEXT_MAX];
            s_when(w0, ov->bucket0_ms + k * ov->bucket_ms);
            cdx__sb_printf(b,
                           "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                           "fill=\"%s\"><title>",
                           L + bw * (double)k + (bw > 3 ? 0.5 : 0), y, bw > 3 ? bw - 1 : bw, h,
                           s_palette[c < S_TOP ? c : S_TOP]);
            if (c < S_TOP && c < n_top)
                cdx__sb_html(b, ov->members[order[c]].id);
            else
                cdx__sb_puts(b, "others");
            cdx__sb_printf(b, ": %llu from %s</title></rect>", (unsigned long long)v, w0);
        }
    }
    cdx__sb_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#8a949c\"/>",
                   L, T + ph, W - R, T + ph);
    size_t ticks = nb < 6 ? nb : 6;
    for (size_t t = 0; t < ticks; t++) {
        size_t k = ticks > 1 ? t * (nb - 1) / (ticks - 1) : 0;
        char w0[CDX_TIME_TEXT_MAX];
        s_when(w0, ov->bucket0_ms + k * ov->bucket_ms);
        if (ov->bucket_ms >= 86400000)
            w0[10] = '\0';
        else
            w0[16] = '\0';
        cdx__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=middle>%s</text>",
                       L + bw * ((double)k + 0.5), T + ph + 16, w0);
    }
    cdx__sb_puts(b, "</svg>\n<div class=legend>");
    for (size_t c = 0; c < n_top && c < S_TOP; c++) {
        cdx__sb_printf(b, "<i style=\"background:%s\"></i>", s_palette[c]);
        cdx__sb_html(b, ov->members[order[c]].id);
        cdx__sb_printf(b, " (%llu)", (unsigned long long)ov->members[order[c]].alerts);
    }
    if (n_top > S_TOP)
        cdx__sb_printf(b, "<i style=\"background:%s\"></i>%zu others", s_palette[S_TOP],
                       n_top - S_TOP);
    cdx__sb_puts(b, "</div>\n");
}

static double s_lx(double v, double lo, double hi, double L, double pw)
{
    double x = v < lo ? lo : v;
    return L + (log10(x) - log10(lo)) / (log10(hi) - log10(lo)) * pw;
}

static void s_latency(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_puts(b, "<h2 id=latency>Acknowledgement latency per state</h2>\n<p class=sub>From "
                    "an alert's signed time to the signed time of each state's first "
                    "acknowledgement of it. Boxes span the 25th to 75th percentile, the line is "
                    "the median, whiskers reach the 5th and 95th, dots the fastest and slowest "
                    "(logarithmic scale).</p>\n");
    size_t rows[CDX_OV_MAX_MEMBERS], n = 0;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < ov->n_members; i++) {
        const cdx_ov_latency *l = &ov->members[i].latency;
        if (!l->n)
            continue;
        rows[n++] = i;
        lo = l->min < lo ? l->min : lo;
        hi = l->max > hi ? l->max : hi;
    }
    if (!n) {
        cdx__sb_puts(b, "<p>No acknowledgement of an alert in the logs.</p>\n");
        return;
    }
    /* The scale runs between two of these, round to a person. */
    static const uint64_t ticks[] = {
        1,       10,       100,      1000,      10000,         60000,         600000,
        3600000, 21600000, 86400000, 604800000, 2592000000ull, 31536000000ull};
    const size_t nt = sizeof ticks / sizeof *ticks;
    size_t tlo = 0, thi = nt - 1;
    while (tlo + 1 < nt && ticks[tlo + 1] <= (lo ? lo : 1))
        tlo++;
    for (size_t k = 0; k < nt; k++)
        if (ticks[k] >= hi) {
            thi = k;
            break;
        }
    if (thi <= tlo)
        thi = tlo + 1 < nt ? tlo + 1 : tlo;
    double dlo = (double)ticks[tlo], dhi = (double)ticks[thi];
    if (dhi <= dlo)
        dhi = dlo * 10;
    const double W = 920, L = 90, R = 20, T = 10, RH = 26, B = 30;
    const double pw = W - L - R, H = T + RH * (double)n + B;
    cdx__sb_printf(b,
                   "<svg class=chart id=chart-latency viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                   "height=\"%.0f\" role=img aria-label=\"acknowledgement latency per state\">",
                   W, H, W, H);
    for (size_t k = tlo; k <= thi && k < nt; k++) {
        double x = s_lx((double)ticks[k], dlo, dhi, L, pw);
        char d[32];
        s_dur(d, ticks[k]);
        cdx__sb_printf(b,
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e3e8ec\"/>"
                       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=middle>%s</text>",
                       x, T, x, T + RH * (double)n, x, T + RH * (double)n + 16, d);
    }
    for (size_t r = 0; r < n; r++) {
        const cdx_ov_member *m = &ov->members[rows[r]];
        const cdx_ov_latency *l = &m->latency;
        double y = T + RH * (double)r + RH / 2;
        double x5 = s_lx((double)l->q[0], dlo, dhi, L, pw),
               x25 = s_lx((double)l->q[1], dlo, dhi, L, pw),
               x50 = s_lx((double)l->q[2], dlo, dhi, L, pw),
               x75 = s_lx((double)l->q[3], dlo, dhi, L, pw),
               x95 = s_lx((double)l->q[4], dlo, dhi, L, pw),
               xmin = s_lx((double)l->min, dlo, dhi, L, pw),
               xmax = s_lx((double)l->max, dlo, dhi, L, pw);
        char p50[32];
        s_dur(p50, l->q[2]);
        cdx__sb_printf(b, "<g class=box><title>");
        cdx__sb_html(b, m->id);
        cdx__sb_printf(b, ": %llu first acks, median %s</title>", (unsigned long long)l->n, p50);
        cdx__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=end>", L - 8, y + 4);
        cdx__sb_html(b, m->id);
        cdx__sb_printf(b,
                       "</text><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                       "stroke=\"#4e79a7\" stroke-width=\"1.5\"/>"
                       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                       "fill=\"#a9c4e0\" stroke=\"#4e79a7\"/>"
                       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#1d3f66\" "
                       "stroke-width=\"2.5\"/>"
                       "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#4e79a7\"/>"
                       "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"#4e79a7\"/></g>",
                       x5, y, x95, y, x25, y - 8, x75 - x25 > 1 ? x75 - x25 : 1, 16.0, x50, y - 9,
                       x50, y + 9, xmin, y, xmax, y);
    }
    cdx__sb_puts(b, "</svg>\n<table class=sortable><thead><tr><th>state</th><th class=n>alerts "
                    "acknowledged</th><th class=n>fastest</th><th class=n>p5</th><th "
                    "class=n>p25</th><th class=n>median</th><th class=n>p75</th><th "
                    "class=n>p95</th><th class=n>slowest</th><th class=n>mean</th><th "
                    "class=n>late acks</th></tr></thead><tbody>");
    for (size_t r = 0; r < n; r++) {
        const cdx_ov_member *m = &ov->members[rows[r]];
        const cdx_ov_latency *l = &m->latency;
        cdx__sb_puts(b, "<tr>");
        s_text_td(b, m->id);
        s_num_td(b, m->acked_alerts);
        s_dur_td(b, l->min);
        for (int k = 0; k < 5; k++)
            s_dur_td(b, l->q[k]);
        s_dur_td(b, l->max);
        s_dur_td(b, l->sum / l->n);
        s_num_td(b, m->late_acks);
        cdx__sb_puts(b, "</tr>");
    }
    cdx__sb_puts(b, "</tbody></table>\n<p class=note>Percentiles come from a histogram of 32 "
                    "bins per doubling (within 2.2%); the fastest and slowest are exact.");
    if (ov->late_acks)
        cdx__sb_printf(b,
                       " %llu acknowledgements came after their alert had left the %u latest "
                       "kept for matching (late acks): their latency is counted, but each "
                       "one as if it were the state's first.",
                       (unsigned long long)ov->late_acks, CDX_OV_WINDOW);
    if (ov->unmatched_acks)
        cdx__sb_printf(b, " %llu acknowledgements name an alert none of these logs holds.",
                       (unsigned long long)ov->unmatched_acks);
    cdx__sb_puts(b, "</p>\n");
}

static const char *const s_stage_short[7] = {"", "R", "I", "NA", "M", "AO", "X"};

static void s_matrix(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_puts(b, "<h2 id=matrix>Alert &times; state: acknowledgement stages</h2>\n");
    if (!ov->n_rows) {
        cdx__sb_puts(b, "<p>No alerts in the logs.</p>\n");
        return;
    }
    cdx__sb_printf(b,
                   "<p class=sub>The latest %zu of %llu alerts, oldest first; each cell is "
                   "the latest stage the state gave it.</p>\n<div class=legend>",
                   ov->n_rows, (unsigned long long)ov->alerts);
    for (int s = 1; s <= 6; s++)
        cdx__sb_printf(b, "<i class=st%d></i>%s %s", s, s_stage_short[s],
                       cdx_ack_stage_name((cdx_ack_stage)s));
    cdx__sb_puts(b, "<i class=stx></i>the sender <i style=\"border:1px solid #c4cbd1\"></i>none"
                    "</div>\n<div class=wide><table class=\"sortable "
                    "matrix\"><thead><tr><th>sent</th><th>sender"
                    "</th><th class=n>seq</th><th>alert</th><th>TLP</th>");
    size_t cols[CDX_OV_MAX_MEMBERS], nc = 0;
    for (size_t i = 0; i < ov->n_members; i++)
        if (s_is_state(ov, &ov->members[i]))
            cols[nc++] = i;
    for (size_t c = 0; c < nc; c++) {
        cdx__sb_puts(b, "<th class=s>");
        cdx__sb_html(b, ov->members[cols[c]].id);
        cdx__sb_puts(b, "</th>");
    }
    cdx__sb_puts(b, "<th class=n>acks</th></tr></thead><tbody>");
    for (size_t r = 0; r < ov->n_rows; r++) {
        const cdx_ov_alert *a = &ov->rows[r];
        cdx__sb_puts(b, "<tr>");
        s_time_td(b, a->sent_at_ms);
        s_text_td(b, a->sender);
        s_num_td(b, a->seq);
        cdx__sb_puts(b, "<td>");
        if (a->title[0])
            cdx__sb_html(b, a->title);
        else
            cdx__sb_puts(b, "<i>(sealed)</i>");
        cdx__sb_printf(b, "</td><td>%s</td>", cdx_tlp_name(a->tlp));
        for (size_t c = 0; c < nc; c++) {
            const cdx_ov_member *m = &ov->members[cols[c]];
            uint8_t st = a->stage[cols[c]];
            if (strcmp(m->id, a->sender) == 0)
                cdx__sb_puts(b, "<td class=\"s stx\" data-v=\"-1\" title=\"the sender\">&bull;"
                                "</td>");
            else if (st >= 1 && st <= 6)
                cdx__sb_printf(b, "<td class=\"s st%u\" data-v=\"%u\" title=\"%s\">%s</td>", st, st,
                               cdx_ack_stage_name((cdx_ack_stage)st), s_stage_short[st]);
            else
                cdx__sb_puts(b, "<td class=\"s st0\" data-v=\"0\" title=\"no "
                                "acknowledgement\">&middot;</td>");
        }
        s_num_td(b, a->acks);
        cdx__sb_puts(b, "</tr>");
    }
    cdx__sb_puts(b, "</tbody></table></div>\n");
    if (ov->unacked) {
        cdx__sb_printf(b, "<h3>Alerts nobody acknowledged: %llu</h3>\n",
                       (unsigned long long)ov->unacked);
        if (ov->n_unacked_listed < ov->unacked)
            cdx__sb_printf(b, "<p class=sub>The latest %zu.</p>\n", ov->n_unacked_listed);
        cdx__sb_puts(b, "<table class=sortable><thead><tr><th>sent</th><th>sender</th><th "
                        "class=n>seq</th><th>alert</th><th>TLP</th><th>envelope hash</th></tr>"
                        "</thead><tbody>");
        for (size_t i = 0; i < ov->n_unacked_listed; i++) {
            const cdx_ov_alert *a = &ov->unacked_list[i];
            char hex[2 * CDX_HASH_BYTES + 1];
            cdx_hex_encode(hex, a->hash, 8);
            cdx__sb_puts(b, "<tr>");
            s_time_td(b, a->sent_at_ms);
            s_text_td(b, a->sender);
            s_num_td(b, a->seq);
            cdx__sb_puts(b, "<td>");
            if (a->title[0])
                cdx__sb_html(b, a->title);
            else
                cdx__sb_puts(b, "<i>(sealed)</i>");
            cdx__sb_printf(b, "</td><td>%s</td><td class=h>%s&hellip;</td></tr>",
                           cdx_tlp_name(a->tlp), hex);
        }
        cdx__sb_puts(b, "</tbody></table>\n");
    }
}

static void s_gaps(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_printf(b,
                   "<h2 id=gaps>Gaps</h2>\n<p class=sub>Seqs of a sender that a log does "
                   "not hold: %llu range%s, %llu seq%s. A tail is stated by the sender's "
                   "heartbeat past the last seq the log holds. <code>cydex-audit "
                   "completeness</code> proves a log complete for one sender.</p>\n",
                   (unsigned long long)ov->gaps_total, ov->gaps_total == 1 ? "" : "s",
                   (unsigned long long)ov->gap_seqs_total, ov->gap_seqs_total == 1 ? "" : "s");
    if (!ov->n_gaps)
        return;
    cdx__sb_puts(b, "<table class=sortable><thead><tr><th>log</th><th>sender</th><th "
                    "class=n>from seq</th><th class=n>to seq</th><th class=n>seqs</th><th>kind"
                    "</th></tr></thead><tbody>");
    for (size_t i = 0; i < ov->n_gaps; i++) {
        const cdx_ov_gap *g = &ov->gaps[i];
        cdx__sb_puts(b, "<tr>");
        s_text_td(b, ov->logs[g->log].origin);
        s_text_td(b, g->sender);
        s_num_td(b, g->from);
        s_num_td(b, g->to);
        s_num_td(b, g->to - g->from + 1);
        cdx__sb_printf(b, "<td>%s</td></tr>", g->tail ? "tail (stated by a heartbeat)" : "gap");
    }
    cdx__sb_puts(b, "</tbody></table>\n");
    if (ov->gaps_total > ov->n_gaps)
        cdx__sb_printf(b, "<p class=note>The first %zu listed.</p>\n", ov->n_gaps);
}

static void s_equivocations(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_printf(b,
                   "<h2 id=equivocations>Equivocations</h2>\n<p class=sub>%llu envelope%s "
                   "kept as evidence: a second, different envelope its sender signed for a "
                   "seq it had already used.</p>\n",
                   (unsigned long long)ov->equivocations_total,
                   ov->equivocations_total == 1 ? "" : "s");
    if (!ov->n_equivocations)
        return;
    cdx__sb_puts(b, "<table class=sortable><thead><tr><th>log</th><th>sender</th><th "
                    "class=n>seq</th><th class=n>entry</th></tr></thead><tbody>");
    for (size_t i = 0; i < ov->n_equivocations; i++) {
        const cdx_ov_equivocation *q = &ov->equivocations[i];
        cdx__sb_puts(b, "<tr>");
        s_text_td(b, ov->logs[q->log].origin);
        s_text_td(b, q->sender);
        s_num_td(b, q->seq);
        s_num_td(b, q->index);
        cdx__sb_puts(b, "</tr>");
    }
    cdx__sb_puts(b, "</tbody></table>\n");
}

static void s_heads(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_printf(b,
                   "<h2 id=heads>Inconsistent tree heads</h2>\n<p class=sub>Signed tree "
                   "heads (and co-signed ones) found in the logs, held against the given log "
                   "they name: %llu checked, %llu inconsistent",
                   (unsigned long long)ov->heads_checked, (unsigned long long)ov->heads_bad_total);
    if (ov->heads_unchecked)
        cdx__sb_printf(b, "; %llu name a log not given, not checked",
                       (unsigned long long)ov->heads_unchecked);
    cdx__sb_puts(b, ".</p>\n");
    if (!ov->n_heads)
        return;
    cdx__sb_puts(b, "<table class=sortable><thead><tr><th>logged in</th><th class=n>entry</th>"
                    "<th>signed by</th><th>co-signed by</th><th>of log</th><th class=n>size</th>"
                    "<th>why</th></tr></thead><tbody>");
    for (size_t i = 0; i < ov->n_heads; i++) {
        const cdx_ov_head *h = &ov->heads[i];
        cdx__sb_puts(b, "<tr>");
        s_text_td(b, ov->logs[h->log].origin);
        s_num_td(b, h->index);
        s_text_td(b, h->signer);
        s_text_td(b, h->cosigner);
        s_text_td(b, h->origin);
        s_num_td(b, h->size);
        cdx__sb_printf(b, "<td>%s</td></tr>",
                       h->beyond ? "the log holds fewer entries: cut short since"
                                 : "another root than the log's at that size: a split view or "
                                   "a rewritten log");
    }
    cdx__sb_puts(b, "</tbody></table>\n");
}

static void s_refused(cdx__sb *b, const cdx_overview *ov)
{
    cdx__sb_puts(b, "<h2 id=refused>Refused envelopes, by reason</h2>\n<p class=sub>Envelopes "
                    "the logs' owners refused (not stored as entries), all logs together.</p>\n");
    size_t n = ov->n_refused + (ov->duplicates ? 1 : 0);
    if (!n) {
        cdx__sb_puts(b, "<p>None.</p>\n");
        return;
    }
    uint64_t max = ov->duplicates;
    for (size_t i = 0; i < ov->n_refused; i++)
        max = ov->refused[i].count > max ? ov->refused[i].count : max;
    const double W = 920, L = 150, R = 80, RH = 24, T = 6;
    const double pw = W - L - R, H = T * 2 + RH * (double)n;
    cdx__sb_printf(b,
                   "<svg class=chart id=chart-refused viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
                   "height=\"%.0f\" role=img aria-label=\"refused envelopes by reason\">",
                   W, H, W, H);
    for (size_t i = 0; i < n; i++) {
        const char *why = i < ov->n_refused ? ov->refused[i].reason : "duplicate";
        uint64_t v = i < ov->n_refused ? ov->refused[i].count : ov->duplicates;
        double y = T + RH * (double)i, w = pw * (double)v / (double)(max ? max : 1);
        cdx__sb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=end>", L - 8, y + 16);
        cdx__sb_html(b, why);
        cdx__sb_printf(b,
                       "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" "
                       "fill=\"%s\"><title>%llu</title></rect><text x=\"%.1f\" y=\"%.1f\">%llu"
                       "</text>",
                       L, y + 4, w > 1 ? w : 1, i < ov->n_refused ? "#e15759" : "#bab0ac",
                       (unsigned long long)v, L + (w > 1 ? w : 1) + 6, y + 16,
                       (unsigned long long)v);
    }
    cdx__sb_puts(b, "</svg>\n<table class=sortable><thead><tr><th>log</th><th>reason</th><th "
                    "class=n>envelopes</th></tr></thead><tbody>");
    for (size_t j = 0; j < ov->n_logs; j++) {
        const cdx_log_counters *c = &ov->logs[j].counters;
        for (size_t i = 0; i <= c->n_rejected; i++) {
            if (i == c->n_rejected && !c->duplicates)
                break;
            cdx__sb_puts(b, "<tr>");
            s_text_td(b, ov->logs[j].origin);
            s_text_td(b, i < c->n_rejected ? c->rejected[i].reason : "duplicate");
            s_num_td(b, i < c->n_rejected ? c->rejected[i].count : c->duplicates);
            cdx__sb_puts(b, "</tr>");
        }
    }
    cdx__sb_puts(b, "</tbody></table>\n");
}

cdx_err cdx_overview_html(const cdx_overview *ov, FILE *out, uint64_t now_ms)
{
    cdx__sb b = {.sink = out};
    uint8_t digest[32];
    cdx__sha256(digest, s_script, strlen(s_script), NULL, 0, NULL, 0);
    char *b64 = cdx__base64_encode(digest, sizeof digest);
    if (!b64)
        return CDX_ERR_NOMEM;
    cdx__sb_puts(&b, "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=\"utf-8\">\n");
    cdx__sb_printf(&b,
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                   "style-src 'unsafe-inline'; script-src 'sha256-%s'; img-src data:; "
                   "base-uri 'none'; form-action 'none'\">\n",
                   b64);
    free(b64);
    cdx__sb_puts(&b, "<meta name=viewport content=\"width=device-width, initial-scale=1\">\n"
                     "<title>CyDEx federation report");
    if (ov->federation[0]) {
        cdx__sb_puts(&b, ": ");
        cdx__sb_html(&b, ov->federation);
    }
    cdx__sb_puts(&b, "</title>\n<style>\n");
    cdx__sb_puts(&b, s_style);
    cdx__sb_puts(&b, "</style>\n</head>\n<body>\n<main>\n");
    s_head(&b, ov, now_ms);
    s_federation(&b, ov);
    s_alerts_chart(&b, ov);
    s_latency(&b, ov);
    s_matrix(&b, ov);
    s_gaps(&b, ov);
    s_equivocations(&b, ov);
    s_heads(&b, ov);
    s_refused(&b, ov);
    cdx__sb_puts(&b, "<footer>Made by cydex-audit report. Times are UTC, as the senders signed "
                     "them.</footer>\n</main>\n<script>");
    cdx__sb_puts(&b, s_script);
    cdx__sb_puts(&b, "</script>\n</body>\n</html>\n");
    bool failed = b.failed || fflush(out) != 0 || ferror(out);
    return failed ? CDX_ERR_IO : CDX_OK;
}
