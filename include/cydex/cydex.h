/* libcydex: everything a CyDEx program needs, in one include. */
#ifndef CYDEX_CYDEX_H
#define CYDEX_CYDEX_H

#include "cydex/clock.h"
#include "cydex/common.h"
#include "cydex/envelope.h"
#include "cydex/err.h"
#include "cydex/identity.h"
#include "cydex/json.h"
#include "cydex/message.h"
#include "cydex/roster.h"
#include "cydex/seal.h"

#endif
