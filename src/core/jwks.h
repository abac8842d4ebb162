/* core/jwks.h - an identity provider's JWKS document turned into PEM public keys for the
 * pinned algorithm (src/core/jwks.c). Only APR, jansson, libjwt and OpenSSL. */
#ifndef JUMIO_CORE_JWKS_H
#define JUMIO_CORE_JWKS_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    const char *kid; /* NULL when the JWK has none */
    const char *pem; /* SubjectPublicKeyInfo PEM, NUL-terminated */
    apr_size_t pemlen;
} jumio_jwk_t;

/* Parse a JWKS document ({"keys": [...]}, untrusted, len bytes) into the keys usable with the
 * pinned algorithm alg (RS*: kty RSA of 2048+ bits; ES256/384/512: kty EC on P-256/384/521):
 * *keys is an array of jumio_jwk_t in p, maybe empty. JWKs with use other than "sig", key_ops
 * without "verify", an alg other than alg, another family, a bad kid or bad numbers are
 * skipped; of several with one kid the first counts. NULL on success, else a short reason. */
const char *jumio_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len, int alg,
                             apr_array_header_t **keys);
/* The key with this kid, or for a NULL kid the only key when there is exactly one; NULL when
 * none matches. */
const jumio_jwk_t *jumio_jwks_find(const apr_array_header_t *keys, const char *kid);

#endif
