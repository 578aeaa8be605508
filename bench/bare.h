/* The bare libsodium baselines the benchmarks compare CyDEx with. */
#ifndef CYDEX_BENCH_BARE_H
#define CYDEX_BENCH_BARE_H

#include <stdbool.h>
#include <stddef.h>

/* Ed25519 verifications per second on this thread, over n distinct
 * messages of len bytes, each signed once and verified once, as a verifier
 * of a log or a stream meets them. (One signature verified over and over
 * runs about 5% faster here: the scalar multiplication is variable-time
 * and the caches learn the one case.) 0 if memory runs out. */
double bench_bare_verify(size_t len, size_t n);

/* Ed25519 signatures per second on this thread over n distinct messages
 * of len bytes. */
double bench_bare_sign(size_t len, size_t n);

/* For a benchmark's main: argv[*i] is one of its options; takes its value
 * (a number if `number`) into *out and moves *i past it. false, having said
 * why on stderr, if the value is missing or not a positive number. */
bool bench_value(int argc, char **argv, int *i, bool number, const char **out);

/* Prints `usage` (to stdout for --help, exit 0; else to stderr with the
 * option that was not understood, exit 64) and returns that exit code. */
int bench_usage(const char *usage, const char *arg);

#endif
