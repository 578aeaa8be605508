/* `cydex demo`, shared between its offline walk-through (cmd_demo.c) and
 * its live federation (cmd_demo_live.c). */
#ifndef CYDEX_CLI_DEMO_H
#define CYDEX_CLI_DEMO_H

#include "cli.h"

typedef struct demo {
    const char *dir;
    cdx_identity *ee, *fr, *de, *broker, *beta;
    cdx_roster *roster;
    unsigned failures;
    bool keep; /* leave the live federation running for the user */
    /* How the user runs cydex and cydex-audit from where they stand (a
     * name the PATH finds, or a path), and the folder, quoted for a shell:
     * for the hints the demo prints. */
    char cydex[4200], audit[4200], qdir[4200];
} demo;

/* Prints a step's heading. */
void demo_step(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports one expected outcome; `ok` is whether it came out as it must. */
void demo_expect(demo *d, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Two brokers and three nodes, live; everything it starts it stops,
 * unless d->keep (then it says how to stop them). */
void demo_live(demo *d);

#endif
