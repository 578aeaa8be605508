/* The log the fuzz targets that read a log share (catch-up, stored
 * records) and the seed generator: one made from the test fixture's
 * federation the same way each time, so that seeds made from it name its
 * very rows. */
#ifndef CYDEX_FUZZ_LOG_H
#define CYDEX_FUZZ_LOG_H

#include "fixture.h"

/* A broker's log (owner broker.alpha) in dir:
 *   EE seq 1..3 under one batch signature, seq 4, seq 5 three times
 *     (equivocation: two kept as evidence), seq 6;
 *   FR seq 1 (an ack of EE 1), seq 2 (a heartbeat);
 *   DE seq 1 and 3 (seq 2 never came);
 *   broker.alpha seq 1 (a heartbeat, in the outbox);
 * checkpoints signed by broker.alpha at sizes 5 and at the end, a refusal
 * counted, the fixture's roster stored. Exits the process on failure. */
void fuzz_log_build(const fixture *f, const char *dir);

/* A folder made once with mkdtemp (on /dev/shm when there is one, for
 * speed), removed at exit. */
void fuzz_log_tmpdir(char out[256]);

#endif
