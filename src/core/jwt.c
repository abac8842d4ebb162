/* core/jwt.c - verification of the portal's compact JWT with libjwt 1.10 (which has no claim
 * validation of its own): the algorithm is pinned before and after libjwt sees the key, then
 * exp/nbf/iat/iss/aud and the user claim are checked here with jansson.
 * Reasons returned are short and static: never the token or any claim value. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <jansson.h>
#include <jwt.h>

#include "core/jwt.h"
#include "core/json.h"
#include "core/util.h"

#define JUMIO_JWT_MAX_LEN 8192 /* bytes of a compact token */

/* Algorithm names mod_jumio accepts, with libjwt's constants. */
static const struct {
    const char *name;
    int alg;
} jumio_jwt_algs[] = {
    { "HS256", JWT_ALG_HS256 }, { "HS384", JWT_ALG_HS384 }, { "HS512", JWT_ALG_HS512 },
    { "RS256", JWT_ALG_RS256 }, { "RS384", JWT_ALG_RS384 }, { "RS512", JWT_ALG_RS512 },
    { "ES256", JWT_ALG_ES256 }, { "ES384", JWT_ALG_ES384 }, { "ES512", JWT_ALG_ES512 },
};

/* Parse an algorithm name (HS256 ... ES512, case-sensitive); -1 when unknown or "none". */
int jumio_jwt_alg_from_name(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof(jumio_jwt_algs) / sizeof(jumio_jwt_algs[0]); i++)
        if (strcmp(name, jumio_jwt_algs[i].name) == 0)
            return jumio_jwt_algs[i].alg;
    return -1;
}

/* 1 when alg is one of the accepted algorithms. */
static int jumio_jwt_alg_ok(int alg)
{
    size_t i;

    for (i = 0; i < sizeof(jumio_jwt_algs) / sizeof(jumio_jwt_algs[0]); i++)
        if (jumio_jwt_algs[i].alg == alg)
            return 1;
    return 0;
}

/* NULL when the configuration can verify a token, else a reason. */
static const char *jumio_jwt_check_cfg(const jumio_jwt_cfg_t *cfg)
{
    if (!jumio_jwt_alg_ok(cfg->alg))
        return "JWT algorithm not configured";
    if (!cfg->key || cfg->keylen == 0 || cfg->keylen > (apr_size_t)INT_MAX)
        return "JWT key not configured";
    return NULL;
}

/* NULL when token is a compact JWS of base64url characters: three non-empty segments within
 * the size limit; else a reason. */
static const char *jumio_jwt_check_shape(const char *token)
{
    size_t i, dots = 0, seglen = 0;

    if (!token || *token == '\0')
        return "no token";
    for (i = 0; token[i] != '\0'; i++) {
        unsigned char c = (unsigned char)token[i];
        if (i >= JUMIO_JWT_MAX_LEN)
            return "token too long";
        if (c == '.') {
            if (seglen == 0 || ++dots > 2)
                return "token does not have three segments";
            seglen = 0;
            continue;
        }
        if (!(c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')))
            return "token has a character outside base64url";
        seglen++;
    }
    return dots == 2 && seglen > 0 ? NULL : "token does not have three segments";
}

/* The JSON object encoded (base64url) in the n-byte segment seg; NULL when it is not
 * base64url of a JSON object without repeated keys. */
static json_t *jumio_jwt_segment_json(apr_pool_t *p, const char *seg, apr_size_t n)
{
    apr_size_t len = 0;
    char *raw = jumio_util_b64url_decode(p, apr_pstrmemdup(p, seg, n), &len);
    json_t *obj;

    if (!raw || len == 0 || memchr(raw, '\0', len))
        return NULL;
    obj = json_loadb(raw, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(obj)) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* 1 when s (n bytes) is a key id we accept: 1..256 printable ASCII characters. */
int jumio_jwt_kid_ok(const char *s, apr_size_t n)
{
    return jumio_util_text_ok(s, n, JUMIO_JWT_MAX_KID, 0);
}

/* The kid member of a token header into *kid (NULL when absent); NULL or a reason. */
static const char *jumio_jwt_header_kid(apr_pool_t *p, json_t *hdr, const char **kid)
{
    json_t *v = json_object_get(hdr, "kid");

    if (!v)
        return NULL;
    if (!json_is_string(v) || !jumio_jwt_kid_ok(json_string_value(v), json_string_length(v)))
        return "token kid is not 1..256 printable characters";
    *kid = apr_pstrdup(p, json_string_value(v));
    return NULL;
}

/* NULL when the token's header names exactly alg (and no "crit"), else a reason; the header's
 * kid goes to *kid when kid is not NULL. Runs before libjwt sees the key: blocks alg "none"
 * and RS->HS key confusion. */
static const char *jumio_jwt_check_header(apr_pool_t *p, int want, const char *token,
                                          const char **kid)
{
    const char *dot = strchr(token, '.');
    json_t *hdr = jumio_jwt_segment_json(p, token, (apr_size_t)(dot - token));
    json_t *alg = json_object_get(hdr, "alg");
    const char *err = NULL;

    if (!hdr)
        return "token header is not a JSON object";
    if (!json_is_string(alg) || strlen(json_string_value(alg)) != json_string_length(alg))
        err = "token header has no algorithm";
    else if (jumio_jwt_alg_from_name(json_string_value(alg)) != want)
        err = "token algorithm is not the configured one";
    else if (json_object_get(hdr, "crit"))
        err = "token header has critical extensions";
    else if (kid)
        err = jumio_jwt_header_kid(p, hdr, kid);
    json_decref(hdr);
    return err;
}

/* NULL when the token's payload is a JSON object without repeated claims, else a reason. */
static const char *jumio_jwt_check_payload(apr_pool_t *p, const char *token)
{
    const char *start = strchr(token, '.') + 1;
    const char *end = strchr(start, '.');
    json_t *claims = jumio_jwt_segment_json(p, start, (apr_size_t)(end - start));

    if (!claims)
        return "token payload is not a JSON object (or repeats a claim)";
    json_decref(claims);
    return NULL;
}

/* Numeric claim name of claims into *v: 1 present, 0 absent, -1 present but not a number. */
static int jumio_jwt_number(json_t *claims, const char *name, double *v)
{
    json_t *c = json_object_get(claims, name);

    if (!c)
        return 0;
    if (!json_is_number(c))
        return -1;
    *v = json_number_value(c);
    return 1;
}

/* NULL when exp (required), nbf and iat (optional) hold at now with leeway, else a reason. */
static const char *jumio_jwt_check_times(json_t *claims, long long now, int leeway)
{
    double t = 0, lo = (double)now - leeway, hi = (double)now + leeway;
    int r;

    r = jumio_jwt_number(claims, "exp", &t);
    if (r <= 0)
        return r == 0 ? "token has no exp" : "token exp is not a number";
    if (lo > t)
        return "token expired";
    if ((r = jumio_jwt_number(claims, "nbf", &t)) < 0)
        return "token nbf is not a number";
    if (r > 0 && hi < t)
        return "token not yet valid (nbf)";
    if ((r = jumio_jwt_number(claims, "iat", &t)) < 0)
        return "token iat is not a number";
    if (r > 0 && t > hi)
        return "token issued in the future (iat)";
    return NULL;
}

/* NULL when iss and aud match the configured issuer/audience (when set), else a reason. */
static const char *jumio_jwt_check_iss_aud(json_t *claims, const jumio_jwt_cfg_t *cfg)
{
    json_t *aud = json_object_get(claims, "aud"), *v;
    size_t i;
    int found = 0;

    if (cfg->issuer && !jumio_json_str_is(json_object_get(claims, "iss"), cfg->issuer))
        return "token issuer not accepted";
    if (!cfg->audience)
        return NULL;
    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v)
        {
            found |= jumio_json_str_is(v, cfg->audience);
        }
    }
    else {
        found = jumio_json_str_is(aud, cfg->audience);
    }
    return found ? NULL : "token audience not accepted";
}

/* The user claim (a string that jumio_util_user_id_ok accepts) copied into *user; NULL on
 * success, else a reason. */
static const char *jumio_jwt_user(apr_pool_t *p, json_t *claims, const char *claim,
                                  const char **user)
{
    json_t *v = json_object_get(claims, claim && *claim != '\0' ? claim : "sub");
    const char *s;
    size_t n;

    if (!json_is_string(v))
        return "token user claim missing or not a string";
    s = json_string_value(v);
    n = json_string_length(v);
    if (n == 0 || n > JUMIO_UTIL_MAX_USER_ID)
        return "token user claim empty or too long";
    if (!jumio_util_user_id_ok(s, n))
        return "token user claim has control characters";
    *user = apr_pstrmemdup(p, s, n);
    return NULL;
}

/* Check the claims of a verified token (read back from libjwt) and set *user; NULL or a reason. */
static const char *jumio_jwt_check_claims(apr_pool_t *p, const jumio_jwt_cfg_t *cfg, jwt_t *jwt,
                                          long long now, const char **user)
{
    char *text = jwt_get_grants_json(jwt, NULL);
    json_t *claims = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *err;

    free(text);
    if (!json_is_object(claims)) {
        json_decref(claims);
        return "token claims unreadable";
    }
    err = jumio_jwt_check_times(claims, now, cfg->leeway > 0 ? cfg->leeway : 0);
    if (!err)
        err = jumio_jwt_check_iss_aud(claims, cfg);
    if (!err)
        err = jumio_jwt_user(p, claims, cfg->user_claim, user);
    json_decref(claims);
    return err;
}

/* Verify a compact JWT and return the user id (string claim user_claim) in *user.
 * NULL on success, else a short reason for the log (never the token itself). */
const char *jumio_jwt_verify(apr_pool_t *p, const jumio_jwt_cfg_t *cfg, const char *token,
                             long long now, const char **user)
{
    jwt_t *jwt = NULL;
    const char *err;

    if (user)
        *user = NULL;
    if (!user || !p || !cfg)
        return "JWT verification called without a result, pool or configuration";
    if ((err = jumio_jwt_check_cfg(cfg)) || (err = jumio_jwt_check_shape(token))
        || (err = jumio_jwt_check_header(p, cfg->alg, token, NULL))
        || (err = jumio_jwt_check_payload(p, token)))
        return err;
    if (jwt_decode(&jwt, token, cfg->key, (int)cfg->keylen) != 0 || !jwt) {
        if (jwt)
            jwt_free(jwt);
        return "token signature invalid or token malformed";
    }
    if ((int)jwt_get_alg(jwt) != cfg->alg)
        err = "token algorithm is not the configured one";
    else
        err = jumio_jwt_check_claims(p, cfg, jwt, now, user);
    jwt_free(jwt);
    return err;
}

/* The kid of a compact JWT's header into *kid (NULL when absent), after the shape and the
 * pinned algorithm are checked; NULL on success, else a short reason. */
const char *jumio_jwt_kid(apr_pool_t *p, const char *token, int alg, const char **kid)
{
    const char *err;

    if (!kid || !p)
        return "JWT kid called without a result or pool";
    *kid = NULL;
    if (!jumio_jwt_alg_ok(alg))
        return "JWT algorithm not configured";
    if ((err = jumio_jwt_check_shape(token)) || (err = jumio_jwt_check_header(p, alg, token, kid)))
        *kid = NULL;
    return err;
}
