/* A minimal test harness: CHECK records a failure with its place and goes
 * on; check_done() prints "N passed, N failed" and gives the exit code.
 * Each test binary keeps one s_tally (in its main file). */
#ifndef CYDEX_TESTS_CHECK_H
#define CYDEX_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_tally {
    unsigned passed, failed;
} check_tally;

static check_tally s_tally;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            s_tally.passed++;                                                                      \
        } else {                                                                                   \
            s_tally.failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Compares two integer-valued expressions and prints both on failure. */
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ == b_) {                                                                            \
            s_tally.passed++;                                                                      \
        } else {                                                                                   \
            s_tally.failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, %s == %lld\n", __FILE__,          \
                    __LINE__, #a, a_, #b, b_);                                                     \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (a_ && b_ && strcmp(a_, b_) == 0) {                                                     \
            s_tally.passed++;                                                                      \
        } else {                                                                                   \
            s_tally.failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK_STR failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__,     \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                       \
        }                                                                                          \
    } while (0)

/* Stops the test at once: for set-up steps the rest depends on. */
#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond);             \
            exit(1);                                                                               \
        }                                                                                          \
        s_tally.passed++;                                                                          \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, s_tally.passed, s_tally.failed);
    return s_tally.failed == 0 && s_tally.passed > 0 ? 0 : 1;
}

#endif
