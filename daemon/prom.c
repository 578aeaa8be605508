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

void daemon_prom_one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
    daemon_prom_family(f, name, type, help);
    daemon_prom_sample(f, name, NULL, NULL, v);
}
