/* Writing Prometheus's text exposition format (version 0.0.4), for the
 * daemons' /metrics pages: a family's HELP and TYPE once, then its
 * samples, each with at most one label. */
#ifndef CYDEX_DAEMON_PROM_H
#define CYDEX_DAEMON_PROM_H

#include <stdint.h>
#include <stdio.h>

#define DAEMON_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* type: "counter" or "gauge". */
void daemon_prom_family(FILE *f, const char *name, const char *type, const char *help);
/* One sample; label NULL for none. Label values are escaped as the format
 * asks. */
void daemon_prom_sample(FILE *f, const char *name, const char *label, const char *value,
                        uint64_t v);
/* A family of one unlabelled sample. */
void daemon_prom_one(FILE *f, const char *name, const char *type, const char *help, uint64_t v);
/* A histogram family: n cumulative buckets (count_le[i] observations at
 * most le[i], in the family's unit), then +Inf, _sum and _count. */
void daemon_prom_histogram(FILE *f, const char *name, const char *help, size_t n, const double *le,
                           const uint64_t *count_le, double sum, uint64_t count);

#endif
