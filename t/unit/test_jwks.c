/* test_jwks.c - unit tests of src/core/jwks.c and jumio_jwt_kid: RSA and EC JWKs (keys
 * generated at test time) give the same PEM as OpenSSL writes for the key, tokens signed with
 * the private keys verify with the parsed PEM, unusable JWKs are skipped (use, key_ops, alg,
 * family, curve, size, encoding, kid), bad documents are refused, and kid selection. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jwt.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/core.h"

/* Keys made once per run (unchecked fixture). */
static struct {
    EVP_PKEY *rsa, *rsa2, *rsa1024, *ec256, *ec384, *ec521;
} jumio_test_jwks_keys;

static apr_pool_t *jumio_test_jwks_pool;

/* Generate the key pairs. */
static void jumio_test_jwks_keys_make(void)
{
    jumio_test_jwks_keys.rsa = EVP_RSA_gen(2048);
    jumio_test_jwks_keys.rsa2 = EVP_RSA_gen(2048);
    jumio_test_jwks_keys.rsa1024 = EVP_RSA_gen(1024);
    jumio_test_jwks_keys.ec256 = EVP_EC_gen("P-256");
    jumio_test_jwks_keys.ec384 = EVP_EC_gen("P-384");
    jumio_test_jwks_keys.ec521 = EVP_EC_gen("P-521");
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.rsa);
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.rsa2);
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.rsa1024);
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.ec256);
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.ec384);
    ck_assert_ptr_nonnull(jumio_test_jwks_keys.ec521);
}

/* Free the keys. */
static void jumio_test_jwks_keys_free(void)
{
    EVP_PKEY_free(jumio_test_jwks_keys.rsa);
    EVP_PKEY_free(jumio_test_jwks_keys.rsa2);
    EVP_PKEY_free(jumio_test_jwks_keys.rsa1024);
    EVP_PKEY_free(jumio_test_jwks_keys.ec256);
    EVP_PKEY_free(jumio_test_jwks_keys.ec384);
    EVP_PKEY_free(jumio_test_jwks_keys.ec521);
    memset(&jumio_test_jwks_keys, 0, sizeof(jumio_test_jwks_keys));
}

/* Fresh pool for each test. */
static void jumio_test_jwks_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&jumio_test_jwks_pool, NULL), APR_SUCCESS);
}

/* Release the test's pool. */
static void jumio_test_jwks_teardown(void)
{
    apr_pool_destroy(jumio_test_jwks_pool);
    jumio_test_jwks_pool = NULL;
}

/* base64url (no padding) of n bytes, in the test pool. */
static char *jumio_test_jwks_b64(const void *in, size_t n)
{
    char *out = apr_palloc(jumio_test_jwks_pool, (n + 2) / 3 * 4 + 1), *c;

    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    for (c = out; *c != '\0'; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    while (c > out && c[-1] == '=')
        *--c = '\0';
    return out;
}

/* PEM (public or private) of pkey, in the test pool. */
static const char *jumio_test_jwks_pem(EVP_PKEY *pkey, int private_key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    const char *copy;
    long n;

    ck_assert_ptr_nonnull(bio);
    ck_assert_int_eq(private_key ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                                 : PEM_write_bio_PUBKEY(bio, pkey),
                     1);
    n = BIO_get_mem_data(bio, &data);
    copy = apr_pstrmemdup(jumio_test_jwks_pool, data, (apr_size_t)n);
    BIO_free(bio);
    return copy;
}

/* base64url of an RSA key's big number parameter (n or e). */
static const char *jumio_test_jwks_bn(EVP_PKEY *pkey, const char *param)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    int n;

    ck_assert_int_eq(EVP_PKEY_get_bn_param(pkey, param, &bn), 1);
    buf = apr_palloc(jumio_test_jwks_pool, (apr_size_t)BN_num_bytes(bn) + 1);
    n = BN_bn2bin(bn, buf);
    BN_free(bn);
    return jumio_test_jwks_b64(buf, (size_t)n);
}

/* RSA JWK text of pkey plus extra members (",\"kid\":..." or ""). */
static const char *jumio_test_jwk_rsa(EVP_PKEY *pkey, const char *extra)
{
    return apr_psprintf(jumio_test_jwks_pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}",
                        jumio_test_jwks_bn(pkey, OSSL_PKEY_PARAM_RSA_N),
                        jumio_test_jwks_bn(pkey, OSSL_PKEY_PARAM_RSA_E), extra);
}

/* The uncompressed public point (04 || x || y) of an EC key into buf; its length. */
static size_t jumio_test_jwks_point(EVP_PKEY *pkey, unsigned char *buf, size_t cap)
{
    size_t len = 0;

    ck_assert_int_eq(EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, buf, cap, &len),
                     1);
    ck_assert_int_eq(buf[0], 0x04);
    return len;
}

/* EC JWK text of pkey with crv, plus extra members. */
static const char *jumio_test_jwk_ec(EVP_PKEY *pkey, const char *crv, const char *extra)
{
    unsigned char buf[200];
    size_t size = (jumio_test_jwks_point(pkey, buf, sizeof(buf)) - 1) / 2;

    return apr_psprintf(
        jumio_test_jwks_pool, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}", crv,
        jumio_test_jwks_b64(buf + 1, size), jumio_test_jwks_b64(buf + 1 + size, size), extra);
}

/* A JWKS document text with the given JWKs (NULL-terminated). */
static const char *jumio_test_jwks_doc(const char *first, ...)
{
    va_list ap;
    const char *doc = apr_pstrcat(jumio_test_jwks_pool, "{\"keys\":[", first, NULL), *k;

    va_start(ap, first);
    while (first != NULL && (k = va_arg(ap, const char *)) != NULL)
        doc = apr_pstrcat(jumio_test_jwks_pool, doc, ",", k, NULL);
    va_end(ap);
    return apr_pstrcat(jumio_test_jwks_pool, doc, "]}", NULL);
}

/* Parse doc for alg; asserts success and returns the keys. */
static apr_array_header_t *jumio_test_jwks_parse(const char *doc, int alg)
{
    apr_array_header_t *keys = NULL;
    const char *err = jumio_jwks_parse(jumio_test_jwks_pool, doc, strlen(doc), alg, &keys);

    ck_assert_msg(err == NULL, "parse failed: %s", err ? err : "");
    ck_assert_ptr_nonnull(keys);
    return keys;
}

/* Number of usable keys of a one-JWK document for alg. */
static int jumio_test_jwks_count(const char *jwk, int alg)
{
    return jumio_test_jwks_parse(jumio_test_jwks_doc(jwk, NULL), alg)->nelts;
}

/* The i-th parsed key. */
#define KEY(keys, i) APR_ARRAY_IDX((keys), (i), jumio_jwk_t)

/* An RSA JWK gives the key's own PEM, with its kid, for each RS algorithm. */
START_TEST(jumio_test_jwks_rsa_good)
{
    EVP_PKEY *rsa = jumio_test_jwks_keys.rsa;
    const char *pem = jumio_test_jwks_pem(rsa, 0);
    apr_array_header_t *keys;

    keys = jumio_test_jwks_parse(
        jumio_test_jwks_doc(
            jumio_test_jwk_rsa(rsa, ",\"kid\":\"r1\",\"use\":\"sig\",\"alg\":\"RS256\""), NULL),
        JWT_ALG_RS256);
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_str_eq(KEY(keys, 0).kid, "r1");
    ck_assert_str_eq(KEY(keys, 0).pem, pem);
    ck_assert_uint_eq(KEY(keys, 0).pemlen, strlen(pem));
    keys = jumio_test_jwks_parse(jumio_test_jwks_doc(jumio_test_jwk_rsa(rsa, ""), NULL),
                                 JWT_ALG_RS512);
    ck_assert_int_eq(keys->nelts, 1);
    ck_assert_ptr_null(KEY(keys, 0).kid);
    ck_assert_str_eq(KEY(keys, 0).pem, pem);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"key_ops\":[\"verify\"]"), JWT_ALG_RS384),
        1);
}
END_TEST

/* EC JWKs on P-256, P-384 and P-521 give the key's own PEM for ES256, ES384 and ES512. */
START_TEST(jumio_test_jwks_ec_good)
{
    struct {
        EVP_PKEY *k;
        const char *crv;
        int alg;
    } c[] = {
        { jumio_test_jwks_keys.ec256, "P-256", JWT_ALG_ES256 },
        { jumio_test_jwks_keys.ec384, "P-384", JWT_ALG_ES384 },
        { jumio_test_jwks_keys.ec521, "P-521", JWT_ALG_ES512 },
    };
    apr_array_header_t *keys;
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        keys = jumio_test_jwks_parse(
            jumio_test_jwks_doc(
                jumio_test_jwk_ec(c[i].k, c[i].crv, ",\"kid\":\"e\",\"use\":\"sig\""), NULL),
            c[i].alg);
        ck_assert_int_eq(keys->nelts, 1);
        ck_assert_str_eq(KEY(keys, 0).kid, "e");
        ck_assert_str_eq(KEY(keys, 0).pem, jumio_test_jwks_pem(c[i].k, 0));
    }
}
END_TEST

/* A token signed by libjwt with alg, the private key of pkey and kid in the header. */
static const char *jumio_test_jwks_token(EVP_PKEY *pkey, jwt_alg_t alg, const char *kid)
{
    const char *priv = jumio_test_jwks_pem(pkey, 1);
    const char *claims = "{\"sub\":\"user-1\",\"exp\":1700000300}";
    jwt_t *jwt = NULL;
    char *tok;
    const char *copy;

    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, claims), 0);
    ck_assert_int_eq(jwt_add_header(jwt, "kid", kid), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)priv, (int)strlen(priv)), 0);
    tok = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(tok);
    copy = apr_pstrdup(jumio_test_jwks_pool, tok);
    free(tok);
    jwt_free(jwt);
    return copy;
}

/* Verify token with the JWKS key its kid names; the reason or "OK:<user>". */
static const char *jumio_test_jwks_verify(const apr_array_header_t *keys, const char *token,
                                          int alg)
{
    const char *kid = NULL, *user = NULL, *err;
    const jumio_jwk_t *k;
    jumio_jwt_cfg_t cfg;

    if ((err = jumio_jwt_kid(jumio_test_jwks_pool, token, alg, &kid)) != NULL)
        return err;
    if ((k = jumio_jwks_find(keys, kid)) == NULL)
        return "no key";
    memset(&cfg, 0, sizeof(cfg));
    cfg.alg = alg;
    cfg.key = (const unsigned char *)k->pem;
    cfg.keylen = k->pemlen;
    cfg.user_claim = "sub";
    cfg.leeway = 60;
    err = jumio_jwt_verify(jumio_test_jwks_pool, &cfg, token, 1700000000LL, &user);
    return err ? err : apr_pstrcat(jumio_test_jwks_pool, "OK:", user, NULL);
}

/* A token signed with pkey and naming kid, verified against keys under alg: as verify. */
static const char *jumio_test_jwks_roundtrip(const apr_array_header_t *keys, EVP_PKEY *pkey,
                                             jwt_alg_t alg, const char *kid)
{
    return jumio_test_jwks_verify(keys, jumio_test_jwks_token(pkey, alg, kid), alg);
}

/* Tokens signed with the private keys verify with the PEM made from the JWKS, chosen by kid. */
START_TEST(jumio_test_jwks_verify_tokens)
{
    const char *doc = jumio_test_jwks_doc(
        jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa, ",\"kid\":\"r1\""),
        jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa2, ",\"kid\":\"r2\""),
        jumio_test_jwk_ec(jumio_test_jwks_keys.ec256, "P-256", ",\"kid\":\"e1\""), NULL);
    apr_array_header_t *rs = jumio_test_jwks_parse(doc, JWT_ALG_RS256);
    apr_array_header_t *es = jumio_test_jwks_parse(doc, JWT_ALG_ES256);

    ck_assert_int_eq(rs->nelts, 2);
    ck_assert_int_eq(es->nelts, 1);
    ck_assert_str_eq(jumio_test_jwks_roundtrip(rs, jumio_test_jwks_keys.rsa, JWT_ALG_RS256, "r1"),
                     "OK:user-1");
    ck_assert_str_eq(jumio_test_jwks_roundtrip(rs, jumio_test_jwks_keys.rsa2, JWT_ALG_RS256, "r2"),
                     "OK:user-1");
    ck_assert_str_eq(jumio_test_jwks_roundtrip(es, jumio_test_jwks_keys.ec256, JWT_ALG_ES256, "e1"),
                     "OK:user-1");
    /* signed with rsa2 but naming r1: the signature does not verify */
    ck_assert_str_ne(jumio_test_jwks_roundtrip(rs, jumio_test_jwks_keys.rsa2, JWT_ALG_RS256, "r1"),
                     "OK:user-1");
    /* the EC key's kid under RS256: not a usable key */
    ck_assert_str_eq(jumio_test_jwks_roundtrip(rs, jumio_test_jwks_keys.rsa, JWT_ALG_RS256, "e1"),
                     "no key");
}
END_TEST

/* JWKs whose use, key_ops or alg do not allow the pinned algorithm are skipped. */
START_TEST(jumio_test_jwks_skip_usage)
{
    EVP_PKEY *rsa = jumio_test_jwks_keys.rsa;

    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"use\":\"enc\""), JWT_ALG_RS256), 0);
    ck_assert_int_eq(jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"use\":1"), JWT_ALG_RS256),
                     0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"key_ops\":[\"encrypt\"]"), JWT_ALG_RS256),
        0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"key_ops\":\"verify\""), JWT_ALG_RS256),
        0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"alg\":\"RS512\""), JWT_ALG_RS256), 0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"alg\":\"HS256\""), JWT_ALG_RS256), 0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"alg\":\"none\""), JWT_ALG_RS256), 0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"alg\":\"RS512\""), JWT_ALG_RS512), 1);
    ck_assert_int_eq(jumio_test_jwks_count(jumio_test_jwk_ec(jumio_test_jwks_keys.ec256, "P-256",
                                                             ",\"alg\":\"ES384\""),
                                           JWT_ALG_ES256),
                     0);
}
END_TEST

/* JWKs of another family or curve than the pinned algorithm, or of unknown kty, are skipped. */
START_TEST(jumio_test_jwks_skip_family)
{
    const char *rsa = jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa, "");
    const char *ec256 = jumio_test_jwk_ec(jumio_test_jwks_keys.ec256, "P-256", "");
    const char *ec384 = jumio_test_jwk_ec(jumio_test_jwks_keys.ec384, "P-384", "");
    const char *ec521 = jumio_test_jwk_ec(jumio_test_jwks_keys.ec521, "P-521", "");

    ck_assert_int_eq(jumio_test_jwks_count(rsa, JWT_ALG_ES256), 0);
    ck_assert_int_eq(jumio_test_jwks_count(ec256, JWT_ALG_RS256), 0);
    ck_assert_int_eq(jumio_test_jwks_count(ec384, JWT_ALG_ES256), 0);
    ck_assert_int_eq(jumio_test_jwks_count(ec521, JWT_ALG_ES384), 0);
    ck_assert_int_eq(jumio_test_jwks_count(ec256, JWT_ALG_ES512), 0);
    /* a P-256 point announced as P-384 */
    ck_assert_int_eq(jumio_test_jwks_count(
                         jumio_test_jwk_ec(jumio_test_jwks_keys.ec256, "P-384", ""), JWT_ALG_ES384),
                     0);
    ck_assert_int_eq(jumio_test_jwks_count(
                         "{\"kty\":\"oct\",\"k\":\"c2VjcmV0LXNlY3JldC1zZWNyZXQ\"}", JWT_ALG_RS256),
                     0);
    ck_assert_int_eq(jumio_test_jwks_count("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"AAAA\"}",
                                           JWT_ALG_ES256),
                     0);
    ck_assert_int_eq(jumio_test_jwks_count("{\"n\":\"AQAB\",\"e\":\"AQAB\"}", JWT_ALG_RS256), 0);
    ck_assert_int_eq(jumio_test_jwks_count("42", JWT_ALG_RS256), 0);
    ck_assert_int_eq(jumio_test_jwks_count("null", JWT_ALG_RS256), 0);
    ck_assert_int_eq(jumio_test_jwks_count("[]", JWT_ALG_RS256), 0);
}
END_TEST

/* Broken numbers are skipped: small and huge RSA moduli, bad base64url, wrong coordinate sizes and
 * points off the curve. */
START_TEST(jumio_test_jwks_skip_numbers)
{
    unsigned char pt[200];
    size_t len = jumio_test_jwks_point(jumio_test_jwks_keys.ec256, pt, sizeof(pt));
    const char *x = jumio_test_jwks_b64(pt + 1, 32), *y;

    ck_assert_uint_eq(len, 65);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa1024, ""), JWT_ALG_RS256),
        0);
    ck_assert_int_eq(
        jumio_test_jwks_count("{\"kty\":\"RSA\",\"n\":\"!!!!\",\"e\":\"AQAB\"}", JWT_ALG_RS256), 0);
    {
        /* a modulus over 8192 bits is refused before any key is built (CPU bound) */
        unsigned char big[1100];
        memset(big, 0xc5, sizeof(big));
        ck_assert_int_eq(
            jumio_test_jwks_count(apr_psprintf(jumio_test_jwks_pool,
                                               "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"AQAB\"}",
                                               jumio_test_jwks_b64(big, sizeof(big))),
                                  JWT_ALG_RS256),
            0);
    }
    ck_assert_int_eq(
        jumio_test_jwks_count(
            apr_psprintf(jumio_test_jwks_pool, "{\"kty\":\"RSA\",\"n\":\"%s\"}",
                         jumio_test_jwks_bn(jumio_test_jwks_keys.rsa, OSSL_PKEY_PARAM_RSA_N)),
            JWT_ALG_RS256),
        0);
    ck_assert_int_eq(
        jumio_test_jwks_count(
            apr_psprintf(jumio_test_jwks_pool, "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":1}",
                         jumio_test_jwks_bn(jumio_test_jwks_keys.rsa, OSSL_PKEY_PARAM_RSA_N)),
            JWT_ALG_RS256),
        0);
    /* x of 31 bytes */
    y = jumio_test_jwks_b64(pt + 33, 32);
    ck_assert_int_eq(
        jumio_test_jwks_count(
            apr_psprintf(jumio_test_jwks_pool,
                         "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}",
                         jumio_test_jwks_b64(pt + 2, 31), y),
            JWT_ALG_ES256),
        0);
    /* the right x with y changed: not on the curve */
    pt[64] ^= 0x01;
    ck_assert_int_eq(
        jumio_test_jwks_count(
            apr_psprintf(jumio_test_jwks_pool,
                         "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x,
                         jumio_test_jwks_b64(pt + 33, 32)),
            JWT_ALG_ES256),
        0);
    /* and unchanged it is fine */
    pt[64] ^= 0x01;
    ck_assert_int_eq(
        jumio_test_jwks_count(
            apr_psprintf(jumio_test_jwks_pool,
                         "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\"}", x, y),
            JWT_ALG_ES256),
        1);
}
END_TEST

/* Key ids: 1..256 printable ASCII, else the JWK is skipped; of two with one kid the first
 * counts. */
START_TEST(jumio_test_jwks_kids)
{
    EVP_PKEY *rsa = jumio_test_jwks_keys.rsa;
    char *kid256 = apr_palloc(jumio_test_jwks_pool, 258);
    apr_array_header_t *keys;

    memset(kid256, 'k', 257);
    kid256[257] = '\0';
    ck_assert_int_eq(
        jumio_test_jwks_count(
            jumio_test_jwk_rsa(rsa, apr_psprintf(jumio_test_jwks_pool, ",\"kid\":\"%s\"", kid256)),
            JWT_ALG_RS256),
        0);
    kid256[256] = '\0';
    ck_assert_int_eq(
        jumio_test_jwks_count(
            jumio_test_jwk_rsa(rsa, apr_psprintf(jumio_test_jwks_pool, ",\"kid\":\"%s\"", kid256)),
            JWT_ALG_RS256),
        1);
    ck_assert_int_eq(jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"kid\":\"\""), JWT_ALG_RS256),
                     0);
    ck_assert_int_eq(jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"kid\":7"), JWT_ALG_RS256),
                     0);
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"kid\":\"a\\nb\""), JWT_ALG_RS256), 0);
    /* jansson refuses \u0000 unless asked: the whole document is refused */
    ck_assert_ptr_nonnull(jumio_jwks_parse(
        jumio_test_jwks_pool, "{\"keys\":[{\"kid\":\"a\\u0000\"}]}", 28, JWT_ALG_RS256, &keys));
    ck_assert_int_eq(
        jumio_test_jwks_count(jumio_test_jwk_rsa(rsa, ",\"kid\":\"caf\\u00e9\""), JWT_ALG_RS256),
        0);
    keys = jumio_test_jwks_parse(
        jumio_test_jwks_doc(jumio_test_jwk_rsa(rsa, ",\"kid\":\"dup\""),
                            jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa2, ",\"kid\":\"dup\""),
                            jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa2, ",\"kid\":\"other\""),
                            NULL),
        JWT_ALG_RS256);
    ck_assert_int_eq(keys->nelts, 2);
    ck_assert_str_eq(jumio_jwks_find(keys, "dup")->pem, jumio_test_jwks_pem(rsa, 0));
}
END_TEST

/* Documents that are not a JWKS are refused; an empty key list is not an error. */
START_TEST(jumio_test_jwks_documents)
{
    apr_array_header_t *keys = NULL;
    apr_pool_t *p = jumio_test_jwks_pool;
    const char *many = "{\"keys\":[{}";
    int i;

    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "not json", 8, JWT_ALG_RS256, &keys));
    ck_assert_ptr_null(keys);
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "[]", 2, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{}", 2, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{\"keys\":{}}", 11, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{\"keys\":[]} x", 13, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(
        jumio_jwks_parse(p, "{\"keys\":[],\"keys\":[]}", 21, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{\"keys\":[]}\0", 12, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, NULL, 0, JWT_ALG_RS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{\"keys\":[]}", 11, JWT_ALG_HS256, &keys));
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, "{\"keys\":[]}", 11, -1, &keys));
    ck_assert_ptr_null(jumio_jwks_parse(p, "{\"keys\":[]}", 11, JWT_ALG_RS256, &keys));
    ck_assert_int_eq(keys->nelts, 0);
    for (i = 1; i < 100; i++)
        many = apr_pstrcat(p, many, ",{}", NULL);
    ck_assert_ptr_null(jumio_jwks_parse(p, apr_pstrcat(p, many, "]}", NULL), strlen(many) + 2,
                                        JWT_ALG_RS256, &keys));
    many = apr_pstrcat(p, many, ",{}]}", NULL);
    ck_assert_ptr_nonnull(jumio_jwks_parse(p, many, strlen(many), JWT_ALG_RS256, &keys));
}
END_TEST

/* jumio_jwks_find: by kid; without kid only when exactly one key. */
START_TEST(jumio_test_jwks_find)
{
    const char *doc2 =
        jumio_test_jwks_doc(jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa, ",\"kid\":\"a\""),
                            jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa2, ",\"kid\":\"b\""), NULL);
    apr_array_header_t *two = jumio_test_jwks_parse(doc2, JWT_ALG_RS256);
    apr_array_header_t *one = jumio_test_jwks_parse(
        jumio_test_jwks_doc(jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa, ",\"kid\":\"a\""), NULL),
        JWT_ALG_RS256);
    apr_array_header_t *nokid = jumio_test_jwks_parse(
        jumio_test_jwks_doc(jumio_test_jwk_rsa(jumio_test_jwks_keys.rsa, ""), NULL), JWT_ALG_RS256);

    ck_assert_ptr_null(jumio_jwks_find(NULL, "a"));
    ck_assert_ptr_null(jumio_jwks_find(NULL, NULL));
    ck_assert_str_eq(jumio_jwks_find(two, "b")->kid, "b");
    ck_assert_str_eq(jumio_jwks_find(two, "a")->kid, "a");
    ck_assert_ptr_null(jumio_jwks_find(two, "c"));
    ck_assert_ptr_null(jumio_jwks_find(two, NULL));
    ck_assert_str_eq(jumio_jwks_find(one, NULL)->kid, "a");
    ck_assert_ptr_null(jumio_jwks_find(one, "A"));
    ck_assert_ptr_nonnull(jumio_jwks_find(nokid, NULL));
    ck_assert_ptr_null(jumio_jwks_find(nokid, "a"));
}
END_TEST

/* A token with the literal header JSON, a fixed payload and a dummy signature. */
static const char *jumio_test_jwks_raw(const char *header)
{
    const char *payload = "{\"sub\":\"user-1\",\"exp\":1700000300}";

    return apr_pstrcat(jumio_test_jwks_pool, jumio_test_jwks_b64(header, strlen(header)), ".",
                       jumio_test_jwks_b64(payload, strlen(payload)), ".c2ln", NULL);
}

/* Reason of jumio_jwt_kid for a header under RS256, or "kid:<kid>" / "nokid". */
static const char *jumio_test_jwks_kid(const char *header)
{
    const char *kid = "unset";
    const char *err =
        jumio_jwt_kid(jumio_test_jwks_pool, jumio_test_jwks_raw(header), JWT_ALG_RS256, &kid);

    if (err != NULL) {
        ck_assert_ptr_null(kid);
        return err;
    }
    return kid ? apr_pstrcat(jumio_test_jwks_pool, "kid:", kid, NULL) : "nokid";
}

/* jumio_jwt_kid: the header's kid, validated, after the algorithm pin. */
START_TEST(jumio_test_jwks_jwt_kid)
{
    const char *kid = "unset";
    char long_kid[300];

    ck_assert_str_eq(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"k-1\"}"), "kid:k-1");
    ck_assert_str_eq(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"a b~\"}"), "kid:a b~");
    ck_assert_str_eq(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"typ\":\"JWT\"}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":7}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":null}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"\"}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"a\\u0001\"}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"\\u00e9\"}"), "nokid");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"kid\":\"a\\u0000\"}"), "nokid");
    memset(long_kid, 'k', 256);
    long_kid[256] = '\0';
    ck_assert_str_eq(jumio_test_jwks_kid(apr_psprintf(
                         jumio_test_jwks_pool, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", long_kid))
                         + 4,
                     long_kid);
    strcpy(long_kid + 256, "k");
    ck_assert_str_ne(jumio_test_jwks_kid(apr_psprintf(
                         jumio_test_jwks_pool, "{\"alg\":\"RS256\",\"kid\":\"%s\"}", long_kid)),
                     "nokid");
    /* the algorithm is pinned before the kid is looked at */
    ck_assert_str_eq(jumio_test_jwks_kid("{\"alg\":\"HS256\",\"kid\":\"k\"}"),
                     "token algorithm is not the configured one");
    ck_assert_str_eq(jumio_test_jwks_kid("{\"alg\":\"none\",\"kid\":\"k\"}"),
                     "token algorithm is not the configured one");
    ck_assert_str_ne(jumio_test_jwks_kid("{\"alg\":\"RS256\",\"crit\":[\"x\"],\"kid\":\"k\"}"),
                     "kid:k");
    ck_assert_ptr_nonnull(jumio_jwt_kid(jumio_test_jwks_pool, "a.b", JWT_ALG_RS256, &kid));
    ck_assert_ptr_null(kid);
    ck_assert_ptr_nonnull(jumio_jwt_kid(jumio_test_jwks_pool, NULL, JWT_ALG_RS256, &kid));
    ck_assert_ptr_nonnull(jumio_jwt_kid(jumio_test_jwks_pool, "e30.e30.c2ln", -1, &kid));
    ck_assert_ptr_nonnull(jumio_jwt_kid(jumio_test_jwks_pool, "e30.e30.c2ln", JWT_ALG_RS256, NULL));
    ck_assert_int_eq(jumio_jwt_kid_ok("k", 1), 1);
    ck_assert_int_eq(jumio_jwt_kid_ok(NULL, 0), 0);
    ck_assert_int_eq(jumio_jwt_kid_ok("k", 0), 0);
    ck_assert_int_eq(jumio_jwt_kid_ok(" ~", 2), 1);
    ck_assert_int_eq(jumio_jwt_kid_ok("a\x7f", 2), 0);
    ck_assert_int_eq(jumio_jwt_kid_ok("a\x1f", 2), 0);
    ck_assert_int_eq(jumio_jwt_kid_ok("\xc3\xa9", 2), 0);
    ck_assert_int_eq(jumio_jwt_kid_ok(long_kid, JUMIO_JWT_MAX_KID), 1);
    ck_assert_int_eq(jumio_jwt_kid_ok(long_kid, JUMIO_JWT_MAX_KID + 1), 0);
}
END_TEST

/* The jwks test suite. */
Suite *jumio_test_jwks_suite(void)
{
    Suite *s = suite_create("jwks");
    TCase *tc = tcase_create("jwks");

    tcase_add_unchecked_fixture(tc, jumio_test_jwks_keys_make, jumio_test_jwks_keys_free);
    tcase_add_checked_fixture(tc, jumio_test_jwks_setup, jumio_test_jwks_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, jumio_test_jwks_rsa_good);
    tcase_add_test(tc, jumio_test_jwks_ec_good);
    tcase_add_test(tc, jumio_test_jwks_verify_tokens);
    tcase_add_test(tc, jumio_test_jwks_skip_usage);
    tcase_add_test(tc, jumio_test_jwks_skip_family);
    tcase_add_test(tc, jumio_test_jwks_skip_numbers);
    tcase_add_test(tc, jumio_test_jwks_kids);
    tcase_add_test(tc, jumio_test_jwks_documents);
    tcase_add_test(tc, jumio_test_jwks_find);
    tcase_add_test(tc, jumio_test_jwks_jwt_kid);
    suite_add_tcase(s, tc);
    return s;
}
