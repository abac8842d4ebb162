/* core/jwt.h - verification of the portal's compact JWT with libjwt, and the kid of its header
 * (src/core/jwt.c). Only APR, jansson and libjwt. */
#ifndef JUMIO_CORE_JWT_H
#define JUMIO_CORE_JWT_H

#include <apr_pools.h>

#define JUMIO_JWT_MAX_KID 256 /* bytes of a key id */

typedef struct {
    int alg;                  /* libjwt jwt_alg_t, pinned */
    const unsigned char *key; /* HMAC secret or PEM public key */
    apr_size_t keylen;
    const char *issuer;     /* may be NULL */
    const char *audience;   /* may be NULL */
    const char *user_claim; /* default "sub" */
    int leeway;             /* seconds */
} jumio_jwt_cfg_t;

/* Verify a compact JWT and return the user id (string claim user_claim) in *user.
 * Checks: header alg equals cfg->alg (before and after libjwt), signature, exp required,
 * nbf/iat when present (with leeway), iss and aud when configured (aud string or array).
 * now is the current Unix time. NULL on success, else a short reason for the log (never the
 * token itself). */
const char *jumio_jwt_verify(apr_pool_t *p, const jumio_jwt_cfg_t *cfg, const char *token,
                             long long now, const char **user);
/* 1 when s (n bytes) is an acceptable key id: 1..256 printable ASCII characters. */
int jumio_jwt_kid_ok(const char *s, apr_size_t n);
/* Parse an algorithm name (HS256 ... ES512); -1 when unknown or "none". */
int jumio_jwt_alg_from_name(const char *name);
/* The kid of a compact JWT's header into *kid (in p; NULL when the header has none), after the
 * shape and the pinned algorithm alg are checked as jumio_jwt_verify does. NULL on success,
 * else a short reason (also for a kid that is not 1..256 printable ASCII characters). */
const char *jumio_jwt_kid(apr_pool_t *p, const char *token, int alg, const char **kid);

#endif
