/* The seeds of the fuzz targets beyond the envelope, JSON and log entry
 * ones (fuzz/corpus_more.c), written by corpus_gen. */
#ifndef CYDEX_FUZZ_CORPUS_MORE_H
#define CYDEX_FUZZ_CORPUS_MORE_H

#include "fixture.h"

/* Writes root/ingress, checkpoint, merkle, catchup, control, proof,
 * roster, config and records; exits on failure. */
void corpus_more(const fixture *f, const char *root);

#endif
