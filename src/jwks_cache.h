/* jwks_cache.h - per-process cache of JWKS documents (src/jwks_cache.c). */
#ifndef JUMIO_JWKS_CACHE_H
#define JUMIO_JWKS_CACHE_H

#include "jumio.h"

/* PEM public key (copied into c->pool, length in *len) of the server's JWKS document for kid
 * (NULL: a token without kid, needs a document with exactly one usable key). The document is
 * fetched when first needed, reused for an hour, and re-read for an unknown kid at most once
 * a minute. NULL when no key matches (logged). */
const char *jumio_jwks_key(jumio_ctx_t *c, const char *kid, apr_size_t *len);

#endif
