/* Starting and stopping the programs under test, by PID, with bounded
 * waits. Used by the integration tests. */
#ifndef CYDEX_TESTS_PROC_H
#define CYDEX_TESTS_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Runs argv[0] (a path) with argv, stdin from `in` (NULL: /dev/null),
 * stdout and stderr into files (NULL: /dev/null). Waits at most
 * timeout_s seconds, then kills it with SIGKILL. Returns the exit code,
 * 128+signal if it died of a signal, or -1 if it could not start. */
int proc_run(char *const argv[], const char *in, const char *out, const char *err,
             unsigned timeout_s);

/* Reads a whole (small) file into a NUL-terminated malloc'd string; ""
 * when missing. The caller frees it. */
char *proc_slurp(const char *path);

/* The number written just before the last `text` in the file at path (a
 * daemon's stop line: "... 3 resends of the outbox ..."); -1 if none. */
long long proc_number_before(const char *path, const char *text);

/* Running the project's own programs and keeping what they printed. */
/* How many times needle occurs in hay (overlapping; 0 for a NULL hay). */
int proc_count(const char *hay, const char *needle);

typedef struct proc_capture {
    char out_path[320], err_path[320];
    char *out, *err; /* what the last run printed (owned) */
} proc_capture;

/* Output files go in dir (dir/stdout, dir/stderr). */
void proc_capture_init(proc_capture *c, const char *dir);

/* Runs CDX_BIN/prog with a NULL-terminated argument list, stdin from `in`
 * (NULL: none), for at most 120 s; returns as proc_run does. */
int proc_capture_run(proc_capture *c, const char *in, const char *prog, ...);

void proc_capture_free(proc_capture *c);

#endif
