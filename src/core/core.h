/* core/core.h - pure helpers of mod_jumio: no httpd calls, only APR, jansson, libjwt, OpenSSL.
 * This umbrella only includes the per-concern headers; everything declared in them is
 * unit-tested in t/unit/ without a running httpd. */
#ifndef JUMIO_CORE_H
#define JUMIO_CORE_H

#include "core/util.h"
#include "core/json.h"
#include "core/workflow.h"
#include "core/mapping.h"
#include "core/jwt.h"
#include "core/jwks.h"
#include "core/url.h"
#include "core/webhook.h"

#endif
