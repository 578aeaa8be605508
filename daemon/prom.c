/* Prometheus text exposition (see prom.h). */
#include "prom.h"

void daemon_prom_family(FILE *f, const char *name, const char *type, const char *help)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void daemon_prom_sample(FILE *f, const char *name, const char *label, const char *value, uint64_t v)
{
    fputs(name, f);
    if (label) {
        fprintf(f, "{%s=\"", label);
        for (const char *p = value; *p; p++) {
            if (*p == '\\' || *p == '"')
                fputc('\\', f);
            if (*p == '\n')
                fputs("\\n", f);
            else
                fputc(*p, f);
        }
        fputs("\"}", f);
    }
    fprintf(f, " %llu\n", (unsigned long long)v);
}

void daemon_prom_histogram(FILE *f, const char *name, const char *help, size_t n, const double *le,
                           const uint64_t *count_le, double sum, uint64_t count)
{
    daemon_prom_family(f, name, "histogram", help);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, le[i], (unsigned long long)count_le[i]);
    fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.6f\n%s_count %llu\n", name,
            (unsigned long long)count, name, sum, name, (unsigned long long)count);
}

void daemon_prom_one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    daemon_prom_family(f, name, type, help);
    daemon_prom_sample(f, name, NULL, NULL, v);
}
