/* core/jwks.c - an identity provider's JWKS document (RFC 7517/7518) turned into PEM public
 * keys libjwt can verify with: RSA (n, e) and EC P-256/P-384/P-521 (x, y) JWKs, filtered by
 * the pinned algorithm, built with OpenSSL 3's EVP_PKEY_fromdata. Pure: no httpd calls.
 * Keys that cannot be used are skipped; only a document that is not a JWKS is an error. */
#include <string.h>

#include <apr_strings.h>
#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "core/jwks.h"
#include "core/json.h"
#include "core/jwt.h"
#include "core/util.h"

#define JUMIO_JWKS_MAX_KEYS  100  /* JWKs in one document */
#define JUMIO_JWKS_RSA_MIN   256  /* bytes of the modulus: 2048 bits (RFC 7518 3.3) */
#define JUMIO_JWKS_RSA_MAX   1024 /* 8192 bits: larger keys cost seconds of CPU to check */
#define JUMIO_JWKS_RSA_E_MAX 8    /* bytes of the public exponent */

/* The curve an ES algorithm needs: JWK crv name, OpenSSL group name, coordinate size. */
typedef struct {
    int alg;
    const char *crv;
    const char *group;
    apr_size_t size;
} jumio_jwks_curve_t;

static const jumio_jwks_curve_t jumio_jwks_curves[] = {
    { JWT_ALG_ES256, "P-256", "prime256v1", 32 },
    { JWT_ALG_ES384, "P-384", "secp384r1", 48 },
    { JWT_ALG_ES512, "P-521", "secp521r1", 66 },
};

/* 1 when alg is RS256/384/512. */
static int jumio_jwks_alg_is_rsa(int alg)
{
    return alg == JWT_ALG_RS256 || alg == JWT_ALG_RS384 || alg == JWT_ALG_RS512;
}

/* The curve of an ES algorithm, or NULL when alg is not ES*. */
static const jumio_jwks_curve_t *jumio_jwks_curve_of(int alg)
{
    size_t i;

    for (i = 0; i < sizeof(jumio_jwks_curves) / sizeof(jumio_jwks_curves[0]); i++)
        if (jumio_jwks_curves[i].alg == alg)
            return &jumio_jwks_curves[i];
    return NULL;
}

/* The string member name of obj decoded from base64url into *len bytes; NULL when absent,
 * not a string or not base64url. */
static unsigned char *jumio_jwks_b64(apr_pool_t *p, json_t *obj, const char *name, apr_size_t *len)
{
    json_t *v = json_object_get(obj, name);

    if (!json_is_string(v) || json_string_length(v) == 0
        || strlen(json_string_value(v)) != json_string_length(v))
        return NULL;
    return (unsigned char *)jumio_util_b64url_decode(p, json_string_value(v), len);
}

/* A public key from OSSL_PARAMs of key type name ("RSA", "EC"), checked with
 * EVP_PKEY_public_check; NULL when OpenSSL refuses it. */
static EVP_PKEY *jumio_jwks_fromdata(const char *name, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld ? OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx = params ? EVP_PKEY_CTX_new_from_name(NULL, name, NULL) : NULL;
    EVP_PKEY_CTX *chk = NULL;
    EVP_PKEY *pkey = NULL;

    if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 || !pkey
        || !(chk = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL))
        || EVP_PKEY_public_check(chk) != 1) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    EVP_PKEY_CTX_free(chk);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

/* The RSA public key of a JWK with n (2048..8192 bits) and e; NULL when unusable. */
static EVP_PKEY *jumio_jwks_rsa(apr_pool_t *p, json_t *jwk)
{
    apr_size_t nlen = 0, elen = 0;
    unsigned char *n = jumio_jwks_b64(p, jwk, "n", &nlen), *e = jumio_jwks_b64(p, jwk, "e", &elen);
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    while (n && nlen > 0 && n[0] == 0) { /* tolerate a leading zero byte */
        n++;
        nlen--;
    }
    if (!n || !e || nlen < JUMIO_JWKS_RSA_MIN || nlen > JUMIO_JWKS_RSA_MAX || elen == 0
        || elen > JUMIO_JWKS_RSA_E_MAX)
        return NULL;
    bn = BN_bin2bn(n, (int)nlen, NULL);
    be = BN_bin2bn(e, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn && be && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
        pkey = jumio_jwks_fromdata("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    return pkey;
}

/* The EC public key of a JWK on the curve cv (x and y of exactly cv->size bytes); NULL when
 * unusable or the point is not on the curve. */
static EVP_PKEY *jumio_jwks_ec(apr_pool_t *p, json_t *jwk, const jumio_jwks_curve_t *cv)
{
    apr_size_t xlen = 0, ylen = 0;
    unsigned char *x = jumio_jwks_b64(p, jwk, "x", &xlen), *y = jumio_jwks_b64(p, jwk, "y", &ylen);
    unsigned char *point;
    OSSL_PARAM_BLD *bld;
    EVP_PKEY *pkey = NULL;

    if (!jumio_json_str_is(json_object_get(jwk, "crv"), cv->crv) || !x || !y || xlen != cv->size
        || ylen != cv->size)
        return NULL;
    point = apr_palloc(p, 1 + 2 * cv->size); /* uncompressed: 04 || x || y */
    point[0] = 0x04;
    memcpy(point + 1, x, cv->size);
    memcpy(point + 1 + cv->size, y, cv->size);
    bld = OSSL_PARAM_BLD_new();
    if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, cv->group, 0) == 1
        && OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * cv->size)
               == 1)
        pkey = jumio_jwks_fromdata("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

/* SubjectPublicKeyInfo PEM of pkey in p (NUL-terminated, length in *len); NULL on failure. */
static const char *jumio_jwks_pem(apr_pool_t *p, EVP_PKEY *pkey, apr_size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const char *pem = NULL;
    char *data = NULL;
    long n;

    if (bio && PEM_write_bio_PUBKEY(bio, pkey) == 1 && (n = BIO_get_mem_data(bio, &data)) > 0
        && data) {
        pem = apr_pstrmemdup(p, data, (apr_size_t)n);
        *len = (apr_size_t)n;
    }
    BIO_free(bio);
    return pem;
}

/* 1 when the JWK's optional use, key_ops and alg members allow verifying alg. */
static int jumio_jwks_usage_ok(json_t *jwk, int alg)
{
    json_t *use = json_object_get(jwk, "use"), *ops = json_object_get(jwk, "key_ops");
    json_t *jalg = json_object_get(jwk, "alg"), *v;
    size_t i;
    int verify = 0;

    if (use && !jumio_json_str_is(use, "sig"))
        return 0;
    if (ops) {
        if (!json_is_array(ops))
            return 0;
        json_array_foreach(ops, i, v)
        {
            verify |= jumio_json_str_is(v, "verify");
        }
        if (!verify)
            return 0;
    }
    return !jalg
           || (json_is_string(jalg) && strlen(json_string_value(jalg)) == json_string_length(jalg)
               && jumio_jwt_alg_from_name(json_string_value(jalg)) == alg);
}

/* The public key of one JWK usable with alg (kty and curve of the algorithm's family, use and
 * alg members allowing it); NULL when it must be skipped. */
static EVP_PKEY *jumio_jwks_key_of(apr_pool_t *p, json_t *jwk, int alg)
{
    json_t *kty = json_object_get(jwk, "kty");
    const jumio_jwks_curve_t *cv = jumio_jwks_curve_of(alg);

    if (!json_is_object(jwk) || !jumio_jwks_usage_ok(jwk, alg))
        return NULL;
    if (jumio_jwks_alg_is_rsa(alg) && jumio_json_str_is(kty, "RSA"))
        return jumio_jwks_rsa(p, jwk);
    if (cv && jumio_json_str_is(kty, "EC"))
        return jumio_jwks_ec(p, jwk, cv);
    return NULL;
}

/* 1 when keys already holds a key with this kid (NULL kid: never). */
static int jumio_jwks_has_kid(const apr_array_header_t *keys, const char *kid)
{
    int i;

    for (i = 0; kid && i < keys->nelts; i++) {
        const char *k = APR_ARRAY_IDX(keys, i, jumio_jwk_t).kid;
        if (k && strcmp(k, kid) == 0)
            return 1;
    }
    return 0;
}

/* Add the JWK to keys when it is usable with alg and its kid (optional) is valid and new. */
static void jumio_jwks_add(apr_pool_t *p, json_t *jwk, int alg, apr_array_header_t *keys)
{
    json_t *kidv = json_object_get(jwk, "kid");
    const char *kid = NULL;
    jumio_jwk_t key;
    EVP_PKEY *pkey;

    if (kidv) {
        if (!json_is_string(kidv)
            || !jumio_jwt_kid_ok(json_string_value(kidv), json_string_length(kidv)))
            return;
        kid = apr_pstrdup(p, json_string_value(kidv));
        if (jumio_jwks_has_kid(keys, kid))
            return; /* the first key with a kid wins */
    }
    if (!(pkey = jumio_jwks_key_of(p, jwk, alg))) {
        ERR_clear_error();
        return;
    }
    key.kid = kid;
    key.pem = jumio_jwks_pem(p, pkey, &key.pemlen);
    EVP_PKEY_free(pkey);
    ERR_clear_error();
    if (key.pem)
        APR_ARRAY_PUSH(keys, jumio_jwk_t) = key;
}

/* Parse a JWKS document ({"keys": [JWK, ...]}) into the keys usable with the pinned RS* or ES*
 * algorithm alg: *keys is an array of jumio_jwk_t in p (maybe empty). NULL on success, else a
 * short reason (not a JWKS, too many keys, alg not RS/ES). */
const char *jumio_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len, int alg,
                             apr_array_header_t **keys)
{
    json_t *doc, *list, *jwk;
    const char *err = NULL;
    size_t i;

    *keys = NULL;
    if (!jumio_jwks_alg_is_rsa(alg) && !jumio_jwks_curve_of(alg))
        return "JWKS keys need an RS* or ES* algorithm";
    doc = json ? jumio_json_load(json, len) : NULL;
    if (!json_is_object(doc)) {
        json_decref(doc);
        return "JWKS document is not a JSON object";
    }
    list = json_object_get(doc, "keys");
    if (!json_is_array(list)) {
        err = "JWKS document has no keys array";
    }
    else if (json_array_size(list) > JUMIO_JWKS_MAX_KEYS) {
        err = "JWKS document has more than 100 keys";
    }
    else {
        *keys = apr_array_make(p, (int)json_array_size(list) + 1, sizeof(jumio_jwk_t));
        json_array_foreach(list, i, jwk)
        {
            jumio_jwks_add(p, jwk, alg, *keys);
        }
    }
    json_decref(doc);
    return err;
}

/* The key for kid: the first with that kid; for a NULL kid the only key when there is exactly
 * one. NULL when none matches. */
const jumio_jwk_t *jumio_jwks_find(const apr_array_header_t *keys, const char *kid)
{
    int i;

    if (!keys)
        return NULL;
    if (!kid)
        return keys->nelts == 1 ? &APR_ARRAY_IDX(keys, 0, jumio_jwk_t) : NULL;
    for (i = 0; i < keys->nelts; i++) {
        const jumio_jwk_t *k = &APR_ARRAY_IDX(keys, i, jumio_jwk_t);
        if (k->kid && strcmp(k->kid, kid) == 0)
            return k;
    }
    return NULL;
}
