/* test_jwt.c - unit tests of src/core/jwt.c: good HS/RS/ES tokens (keys generated at test
 * time with OpenSSL, signed with libjwt), algorithm pinning attacks, time claims with leeway,
 * iss/aud, the user claim and malformed tokens. */
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <check.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "core/core.h"

#define NOW    ((apr_int64_t)1700000000)
#define T      "%" APR_INT64_T_FMT /* printf format of NOW */
#define SECRET "a-test-hmac-secret-of-32-bytes!!"

/* PEM keys made once per run (unchecked fixture). */
static struct {
    char *rsa_priv, *rsa_pub, *ec256_priv, *ec256_pub, *ec521_priv, *ec521_pub;
} jumio_test_keys;

static apr_pool_t *jumio_test_pool;

/* PEM text of pkey (private or public) as a malloc'd string. */
static char *jumio_test_pem(EVP_PKEY *pkey, int private_key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *copy;
    long n;

    ck_assert_ptr_nonnull(bio);
    ck_assert_int_eq(private_key ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                                 : PEM_write_bio_PUBKEY(bio, pkey),
                     1);
    n = BIO_get_mem_data(bio, &data);
    copy = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, data, (size_t)n);
    copy[n] = '\0';
    BIO_free(bio);
    return copy;
}

/* Generate the RSA and EC key pairs. */
static void jumio_test_keys_make(void)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec256 = EVP_EC_gen("P-256"), *ec521 = EVP_EC_gen("P-521");

    ck_assert_ptr_nonnull(rsa);
    ck_assert_ptr_nonnull(ec256);
    ck_assert_ptr_nonnull(ec521);
    jumio_test_keys.rsa_priv = jumio_test_pem(rsa, 1);
    jumio_test_keys.rsa_pub = jumio_test_pem(rsa, 0);
    jumio_test_keys.ec256_priv = jumio_test_pem(ec256, 1);
    jumio_test_keys.ec256_pub = jumio_test_pem(ec256, 0);
    jumio_test_keys.ec521_priv = jumio_test_pem(ec521, 1);
    jumio_test_keys.ec521_pub = jumio_test_pem(ec521, 0);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec521);
}

/* Free the keys. */
static void jumio_test_keys_free(void)
{
    free(jumio_test_keys.rsa_priv);
    free(jumio_test_keys.rsa_pub);
    free(jumio_test_keys.ec256_priv);
    free(jumio_test_keys.ec256_pub);
    free(jumio_test_keys.ec521_priv);
    free(jumio_test_keys.ec521_pub);
    memset(&jumio_test_keys, 0, sizeof(jumio_test_keys));
}

/* Fresh pool for each test. */
static void jumio_test_jwt_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&jumio_test_pool, NULL), APR_SUCCESS);
}

/* Release the test's pool. */
static void jumio_test_jwt_teardown(void)
{
    apr_pool_destroy(jumio_test_pool);
    jumio_test_pool = NULL;
}

/* base64url (no padding) of n bytes, in the test pool. */
static char *jumio_test_b64url(const void *in, size_t n)
{
    char *out = apr_palloc(jumio_test_pool, (n + 2) / 3 * 4 + 1), *c;

    EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    for (c = out; *c != '\0'; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    while (c > out && c[-1] == '=')
        *--c = '\0';
    return out;
}

/* A token with the literal header and payload JSON, HMAC-SHA256-signed with key. */
static const char *jumio_test_hs256_raw(const char *header, const char *payload, const char *key)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const char *input = apr_pstrcat(jumio_test_pool, jumio_test_b64url(header, strlen(header)), ".",
                                    jumio_test_b64url(payload, strlen(payload)), NULL);

    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)input,
                               strlen(input), mac, &maclen));
    return apr_pstrcat(jumio_test_pool, input, ".", jumio_test_b64url(mac, maclen), NULL);
}

/* A token with claims (JSON object text) signed by libjwt with alg and key. */
static const char *jumio_test_sign(jwt_alg_t alg, const char *key, const char *claims)
{
    jwt_t *jwt = NULL;
    char *tok;
    const char *copy;

    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, claims), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key)), 0);
    tok = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(tok);
    copy = apr_pstrdup(jumio_test_pool, tok);
    free(tok);
    jwt_free(jwt);
    return copy;
}

/* Default HS256 configuration with the test secret and 60 s leeway. */
static jumio_jwt_cfg_t jumio_test_cfg(int alg, const char *key)
{
    jumio_jwt_cfg_t c;

    memset(&c, 0, sizeof(c));
    c.alg = alg;
    c.key = (const unsigned char *)key;
    c.keylen = strlen(key);
    c.user_claim = "sub";
    c.leeway = 60;
    return c;
}

/* Claims with sub "user-1" and exp now + 300, plus extra members (may be ""). */
static const char *jumio_test_claims(const char *extra)
{
    return apr_psprintf(jumio_test_pool, "{\"sub\":\"user-1\",\"exp\":" T "%s%s}", NOW + 300,
                        *extra != '\0' ? "," : "", extra);
}

/* Verify token under cfg at NOW; returns the reason (NULL: accepted with user "user-1" or
 * want_user). Also checks that a reason never contains the token's payload. */
static const char *jumio_test_verify(const jumio_jwt_cfg_t *cfg, const char *token)
{
    const char *user = "unset";
    const char *err = jumio_jwt_verify(jumio_test_pool, cfg, token, NOW, &user);

    if (err != NULL) {
        ck_assert_ptr_null(user);
        if (token != NULL && strchr(token, '.') != NULL && strlen(token) > 20) {
            ck_assert_ptr_null(strstr(err, strchr(token, '.') + 1));
            ck_assert_ptr_null(strstr(err, "eyJ"));
        }
        return err;
    }
    ck_assert_ptr_nonnull(user);
    return apr_pstrcat(jumio_test_pool, "OK:", user, NULL);
}

/* Assert that token is accepted under cfg with the given user. */
#define ACCEPT(cfg, tok, who) ck_assert_str_eq(jumio_test_verify(&(cfg), (tok)), "OK:" who)
/* Assert that token is refused under cfg. */
#define REFUSE(cfg, tok)                                                                           \
    ck_assert_msg(strncmp(jumio_test_verify(&(cfg), (tok)), "OK:", 3) != 0,                        \
                  "token accepted: line %d", __LINE__)

/* Valid HS256/384/512 tokens give the user id. */
START_TEST(jumio_test_jwt_good_hs)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);

    ACCEPT(c, jumio_test_sign(JWT_ALG_HS256, SECRET, jumio_test_claims("")), "user-1");
    c.alg = JWT_ALG_HS384;
    ACCEPT(c, jumio_test_sign(JWT_ALG_HS384, SECRET, jumio_test_claims("")), "user-1");
    c.alg = JWT_ALG_HS512;
    ACCEPT(c, jumio_test_sign(JWT_ALG_HS512, SECRET, jumio_test_claims("")), "user-1");
    /* a hand-made token (our own encoder) verifies too */
    c.alg = JWT_ALG_HS256;
    ACCEPT(c,
           jumio_test_hs256_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                jumio_test_claims("\"x\":[1,{\"y\":null}]"), SECRET),
           "user-1");
}
END_TEST

/* Valid RS256/512, ES256/512 tokens; wrong key types refused. */
START_TEST(jumio_test_jwt_good_rs_es)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_RS256, jumio_test_keys.rsa_pub);

    ACCEPT(c, jumio_test_sign(JWT_ALG_RS256, jumio_test_keys.rsa_priv, jumio_test_claims("")),
           "user-1");
    c.alg = JWT_ALG_RS512;
    ACCEPT(c, jumio_test_sign(JWT_ALG_RS512, jumio_test_keys.rsa_priv, jumio_test_claims("")),
           "user-1");
    c = jumio_test_cfg(JWT_ALG_ES256, jumio_test_keys.ec256_pub);
    ACCEPT(c, jumio_test_sign(JWT_ALG_ES256, jumio_test_keys.ec256_priv, jumio_test_claims("")),
           "user-1");
    c = jumio_test_cfg(JWT_ALG_ES512, jumio_test_keys.ec521_pub);
    ACCEPT(c, jumio_test_sign(JWT_ALG_ES512, jumio_test_keys.ec521_priv, jumio_test_claims("")),
           "user-1");
    /* wrong key type or wrong key */
    c = jumio_test_cfg(JWT_ALG_ES256, jumio_test_keys.rsa_pub);
    REFUSE(c, jumio_test_sign(JWT_ALG_ES256, jumio_test_keys.ec256_priv, jumio_test_claims("")));
    c = jumio_test_cfg(JWT_ALG_ES256, jumio_test_keys.ec521_pub);
    REFUSE(c, jumio_test_sign(JWT_ALG_ES256, jumio_test_keys.ec256_priv, jumio_test_claims("")));
}
END_TEST

/* Header algorithms other than the pinned one are refused. */
START_TEST(jumio_test_jwt_wrong_alg)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    jumio_jwt_cfg_t rs = jumio_test_cfg(JWT_ALG_RS256, jumio_test_keys.rsa_pub);

    REFUSE(c, jumio_test_sign(JWT_ALG_HS512, SECRET, jumio_test_claims("")));
    REFUSE(c, jumio_test_sign(JWT_ALG_HS256, "another-secret", jumio_test_claims("")));
    REFUSE(c, jumio_test_sign(JWT_ALG_RS256, jumio_test_keys.rsa_priv, jumio_test_claims("")));
    REFUSE(rs, jumio_test_sign(JWT_ALG_RS512, jumio_test_keys.rsa_priv, jumio_test_claims("")));
    REFUSE(rs, jumio_test_sign(JWT_ALG_ES256, jumio_test_keys.ec256_priv, jumio_test_claims("")));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"hs256\"}", jumio_test_claims(""), SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256 \"}", jumio_test_claims(""), SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"typ\":\"JWT\"}", jumio_test_claims(""), SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":256}", jumio_test_claims(""), SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\\u0000x\"}", jumio_test_claims(""), SECRET));
    /* a repeated alg (a lax parser might take either) and critical extensions */
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"none\",\"alg\":\"HS256\"}", jumio_test_claims(""),
                                   SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
                                   jumio_test_claims(""), SECRET));
}
END_TEST

/* alg none is refused, with or without a signature. */
START_TEST(jumio_test_jwt_alg_none)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    const char *hdr = jumio_test_b64url("{\"alg\":\"none\"}", 14);
    const char *body = jumio_test_claims("");
    const char *pl = jumio_test_b64url(body, strlen(body));
    const char *sig = jumio_test_b64url("x", 1);

    REFUSE(c, apr_pstrcat(jumio_test_pool, hdr, ".", pl, ".", NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, hdr, ".", pl, ".", sig, NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, hdr, ".", pl, NULL));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"none\"}", body, SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"NONE\"}", body, SECRET));
    /* a configuration cannot ask for none */
    c.alg = JWT_ALG_NONE;
    REFUSE(c, apr_pstrcat(jumio_test_pool, hdr, ".", pl, ".", NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, hdr, ".", pl, ".", sig, NULL));
}
END_TEST

/* An HS256 token made with the RSA/EC public key as secret is refused. */
START_TEST(jumio_test_jwt_rs_hs_confusion)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_RS256, jumio_test_keys.rsa_pub);
    const char *attack = jumio_test_hs256_raw("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                              jumio_test_claims(""), jumio_test_keys.rsa_pub);
    jwt_t *jwt = NULL;

    /* libjwt alone takes the public key as HMAC secret: the attack is real ... */
    ck_assert_int_eq(jwt_decode(&jwt, attack, (const unsigned char *)jumio_test_keys.rsa_pub,
                                (int)strlen(jumio_test_keys.rsa_pub)),
                     0);
    jwt_free(jwt);
    /* ... and pinning refuses it */
    REFUSE(c, attack);
    /* same with the header claiming RS256 over an HMAC signature */
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"RS256\"}", jumio_test_claims(""),
                                   jumio_test_keys.rsa_pub));
    c = jumio_test_cfg(JWT_ALG_ES256, jumio_test_keys.ec256_pub);
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\"}", jumio_test_claims(""),
                                   jumio_test_keys.ec256_pub));
}
END_TEST

/* HS256 token with the claims JSON text. */
static const char *jumio_test_tok(const char *claims)
{
    return jumio_test_sign(JWT_ALG_HS256, SECRET, claims);
}

/* Claims text with sub user-1 and the printf-formatted rest. */
#define CL(fmt, ...) apr_psprintf(jumio_test_pool, "{\"sub\":\"user-1\"," fmt "}", __VA_ARGS__)

/* exp is required, numeric, and checked with leeway. */
START_TEST(jumio_test_jwt_exp)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);

    REFUSE(c, jumio_test_tok("{\"sub\":\"user-1\"}"));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, NOW - 61)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T, NOW - 60)), "user-1");
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T, NOW)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, (apr_int64_t)0)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, (apr_int64_t)-1)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ".5", NOW + 10)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ".5", NOW - 61)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":\"" T "\"", NOW + 300)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":%s", "true")));
    REFUSE(c, jumio_test_tok(CL("\"exp\":%s", "null")));
    REFUSE(c, jumio_test_tok(CL("\"exp\":[" T "]", NOW + 300)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":%s", "9223372036854775807")), "user-1");
    c.leeway = 0;
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, NOW - 1)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T, NOW)), "user-1");
    c.leeway = -100; /* a negative leeway counts as 0 */
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T, NOW)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, NOW - 1)));
}
END_TEST

/* nbf and iat are checked with leeway when present. */
START_TEST(jumio_test_jwt_nbf_iat)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    apr_int64_t exp = NOW + 300;

    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":" T, exp, NOW + 60)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":" T, exp, NOW + 61)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":" T, exp, NOW - 1000)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":\"" T "\"", exp, NOW)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"iat\":" T, exp, NOW + 60)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iat\":" T, exp, NOW + 61)));
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"iat\":" T, exp, NOW - 100000)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iat\":%s", exp, "false")));
    c.leeway = 0;
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":" T ",\"iat\":" T, exp, NOW, NOW)),
           "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"nbf\":" T, exp, NOW + 1)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iat\":" T, exp, NOW + 1)));
}
END_TEST

/* iss must equal the configured issuer when one is set. */
START_TEST(jumio_test_jwt_iss)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    apr_int64_t exp = NOW + 300;

    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"iss\":\"anyone\"", exp)), "user-1");
    c.issuer = "https://idp.example";
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"iss\":\"https://idp.example\"", exp)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iss\":\"https://idp.example/\"", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iss\":\"https://evil.example\"", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"iss\":[\"https://idp.example\"]", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, exp)));
}
END_TEST

/* aud (string or array) must hold the configured audience when set. */
START_TEST(jumio_test_jwt_aud)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    apr_int64_t exp = NOW + 300;

    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":\"other\"", exp)), "user-1");
    c.audience = "portal";
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":\"portal\"", exp)), "user-1");
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":[\"x\",\"portal\"]", exp)), "user-1");
    ACCEPT(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":[1,null,\"portal\"]", exp)), "user-1");
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":[\"x\",\"portalx\"]", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":[]", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":\"Portal\"", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":{\"portal\":1}", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T ",\"aud\":5", exp)));
    REFUSE(c, jumio_test_tok(CL("\"exp\":" T, exp)));
}
END_TEST

/* The user claim must be a short printable non-empty string. */
START_TEST(jumio_test_jwt_user)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    apr_int64_t exp = NOW + 300;
    char *u255 = apr_palloc(jumio_test_pool, 257);

    memset(u255, 'u', 256);
    u255[255] = '\0';
    ck_assert_str_eq(
        jumio_test_verify(&c, jumio_test_tok(apr_psprintf(
                                  jumio_test_pool, "{\"sub\":\"%s\",\"exp\":" T "}", u255, exp))),
        apr_pstrcat(jumio_test_pool, "OK:", u255, NULL));
    u255[255] = 'u';
    u255[256] = '\0';
    REFUSE(c, jumio_test_tok(
                  apr_psprintf(jumio_test_pool, "{\"sub\":\"%s\",\"exp\":" T "}", u255, exp)));
    REFUSE(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"exp\":" T "}", exp)));
    REFUSE(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":42,\"exp\":" T "}", exp)));
    REFUSE(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":\"\",\"exp\":" T "}", exp)));
    REFUSE(c,
           jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":[\"a\"],\"exp\":" T "}", exp)));
    REFUSE(c, jumio_test_hs256_raw(
                  "{\"alg\":\"HS256\"}",
                  apr_psprintf(jumio_test_pool, "{\"sub\":\"a\\u0000b\",\"exp\":" T "}", exp),
                  SECRET));
    REFUSE(c,
           jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":\"a\\nb\",\"exp\":" T "}", exp)));
    REFUSE(c, jumio_test_tok(
                  apr_psprintf(jumio_test_pool, "{\"sub\":\"a\\u007f\",\"exp\":" T "}", exp)));
    ACCEPT(c,
           jumio_test_tok(apr_psprintf(jumio_test_pool,
                                       "{\"sub\":\"J\\u00fcrgen@x\","
                                       "\"exp\":" T "}",
                                       exp)),
           "J\xc3\xbcrgen@x");
    /* another claim as user id; NULL or "" means sub */
    c.user_claim = "email";
    ACCEPT(c,
           jumio_test_tok(apr_psprintf(jumio_test_pool,
                                       "{\"sub\":\"s\",\"email\":"
                                       "\"a@b.example\",\"exp\":" T "}",
                                       exp)),
           "a@b.example");
    REFUSE(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":\"s\",\"exp\":" T "}", exp)));
    c.user_claim = NULL;
    ACCEPT(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":\"s\",\"exp\":" T "}", exp)),
           "s");
    c.user_claim = "";
    ACCEPT(c, jumio_test_tok(apr_psprintf(jumio_test_pool, "{\"sub\":\"s\",\"exp\":" T "}", exp)),
           "s");
}
END_TEST

/* Malformed tokens: segment counts, alphabet, size, tampering. */
START_TEST(jumio_test_jwt_shape)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    const char *good = jumio_test_tok(jumio_test_claims(""));
    const char *d1 = strchr(good, '.'), *d2 = strchr(d1 + 1, '.');
    char *big = apr_palloc(jumio_test_pool, 9000), *tampered = apr_pstrdup(jumio_test_pool, good);

    REFUSE(c, apr_pstrndup(jumio_test_pool, good, (apr_size_t)(d2 - good))); /* 2 segments */
    REFUSE(c, apr_pstrcat(jumio_test_pool, good, ".", d2 + 1, NULL));        /* 4 segments */
    REFUSE(c, apr_pstrcat(jumio_test_pool, good, ".", NULL));
    REFUSE(c, d1); /* no header */
    REFUSE(c, apr_pstrcat(jumio_test_pool,
                          apr_pstrndup(jumio_test_pool, good, (apr_size_t)(d1 - good)), "..",
                          d2 + 1, NULL)); /* no payload */
    REFUSE(c, apr_pstrcat(jumio_test_pool, "!!!", d1, NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, "e30", d1, NULL));     /* {} header */
    REFUSE(c, apr_pstrcat(jumio_test_pool, "aGVsbG8", d1, NULL)); /* "hello" */
    REFUSE(c, apr_pstrcat(jumio_test_pool, "W10", d1, NULL));     /* [] */
    REFUSE(c, apr_pstrcat(jumio_test_pool, good, "=", NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, " ", good, NULL));
    REFUSE(c, apr_pstrcat(jumio_test_pool, "Bearer ", good, NULL));
    REFUSE(c, "");
    REFUSE(c, NULL);
    REFUSE(c, "a.b.c");
    tampered[(d1 - good) + 5] = tampered[(d1 - good) + 5] == 'A' ? 'B' : 'A';
    REFUSE(c, tampered);
    tampered = apr_pstrdup(jumio_test_pool, good);
    tampered[strlen(tampered) - 3] = tampered[strlen(tampered) - 3] == 'A' ? 'B' : 'A';
    REFUSE(c, tampered);
    memset(big, 'A', 8999);
    big[8999] = '\0';
    big[100] = '.';
    big[200] = '.';
    REFUSE(c, big);
}
END_TEST

/* Payloads that are not JSON objects or repeat claims are refused. */
START_TEST(jumio_test_jwt_payload)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);

    /* a repeated claim: the second sub might be read by another parser */
    REFUSE(c, jumio_test_hs256_raw(
                  "{\"alg\":\"HS256\"}",
                  apr_psprintf(jumio_test_pool,
                               "{\"sub\":\"user-1\",\"exp\":" T ",\"sub\":\"admin\"}", NOW + 300),
                  SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\"}", "[1]", SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\"}", "not json", SECRET));
    REFUSE(c, jumio_test_hs256_raw("{\"alg\":\"HS256\"}", "{\"sub\":", SECRET));
}
END_TEST

/* Unusable configurations and arguments are refused; now is honoured. */
START_TEST(jumio_test_jwt_cfg)
{
    jumio_jwt_cfg_t c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    const char *tok = jumio_test_tok(jumio_test_claims(""));
    const char *user = "unset";

    c.alg = -1;
    REFUSE(c, tok);
    c.alg = JWT_ALG_TERM;
    REFUSE(c, tok);
    c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    c.key = NULL;
    REFUSE(c, tok);
    c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    c.keylen = 0;
    REFUSE(c, tok);
    c = jumio_test_cfg(JWT_ALG_HS256, SECRET);
    ck_assert_ptr_nonnull(jumio_jwt_verify(jumio_test_pool, &c, tok, NOW, NULL));
    ck_assert_ptr_nonnull(jumio_jwt_verify(jumio_test_pool, NULL, tok, NOW, &user));
    ck_assert_ptr_null(user);
    /* the time given is the one used */
    ck_assert_ptr_nonnull(jumio_jwt_verify(jumio_test_pool, &c, tok, NOW + 361, &user));
    ck_assert_ptr_null(jumio_jwt_verify(jumio_test_pool, &c, tok, NOW + 360, &user));
    ck_assert_str_eq(user, "user-1");
}
END_TEST

/* Algorithm names map to libjwt constants; none and others to -1. */
START_TEST(jumio_test_jwt_alg_from_name)
{
    ck_assert_int_eq(jumio_jwt_alg_from_name("HS256"), JWT_ALG_HS256);
    ck_assert_int_eq(jumio_jwt_alg_from_name("HS384"), JWT_ALG_HS384);
    ck_assert_int_eq(jumio_jwt_alg_from_name("HS512"), JWT_ALG_HS512);
    ck_assert_int_eq(jumio_jwt_alg_from_name("RS256"), JWT_ALG_RS256);
    ck_assert_int_eq(jumio_jwt_alg_from_name("RS384"), JWT_ALG_RS384);
    ck_assert_int_eq(jumio_jwt_alg_from_name("RS512"), JWT_ALG_RS512);
    ck_assert_int_eq(jumio_jwt_alg_from_name("ES256"), JWT_ALG_ES256);
    ck_assert_int_eq(jumio_jwt_alg_from_name("ES384"), JWT_ALG_ES384);
    ck_assert_int_eq(jumio_jwt_alg_from_name("ES512"), JWT_ALG_ES512);
    ck_assert_int_eq(jumio_jwt_alg_from_name("none"), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name("NONE"), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name("hs256"), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name("PS256"), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name("HS256 "), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name(""), -1);
    ck_assert_int_eq(jumio_jwt_alg_from_name(NULL), -1);
}
END_TEST

/* The jwt test suite. */
Suite *jumio_test_jwt_suite(void)
{
    Suite *s = suite_create("jwt");
    TCase *tc = tcase_create("jwt");

    tcase_add_unchecked_fixture(tc, jumio_test_keys_make, jumio_test_keys_free);
    tcase_add_checked_fixture(tc, jumio_test_jwt_setup, jumio_test_jwt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, jumio_test_jwt_good_hs);
    tcase_add_test(tc, jumio_test_jwt_good_rs_es);
    tcase_add_test(tc, jumio_test_jwt_wrong_alg);
    tcase_add_test(tc, jumio_test_jwt_alg_none);
    tcase_add_test(tc, jumio_test_jwt_rs_hs_confusion);
    tcase_add_test(tc, jumio_test_jwt_exp);
    tcase_add_test(tc, jumio_test_jwt_nbf_iat);
    tcase_add_test(tc, jumio_test_jwt_iss);
    tcase_add_test(tc, jumio_test_jwt_aud);
    tcase_add_test(tc, jumio_test_jwt_user);
    tcase_add_test(tc, jumio_test_jwt_shape);
    tcase_add_test(tc, jumio_test_jwt_payload);
    tcase_add_test(tc, jumio_test_jwt_cfg);
    tcase_add_test(tc, jumio_test_jwt_alg_from_name);
    suite_add_tcase(s, tc);
    return s;
}
