/* fuzz_jwt.c - libFuzzer target for the JWT front: jumio_jwt_verify (header and payload checks
 * before libjwt, libjwt's decoding and signature check, then the claim checks after it).
 *
 * An input without a newline is token text, verified as it is with an HS256, an RS256 (PEM)
 * and an ES256 (PEM) configuration; then its first two segments are signed here with the HS256
 * secret and verified again, so the claim checks after libjwt are reached too.
 * An input with a newline is "<header JSON>\n<claims JSON>": both are base64url-encoded and
 * signed here (HS256), which lets the fuzzer mutate the JSON directly.
 * Token text also goes to jumio_jwt_kid (the kid lookup of JumioJWTKey jwks:) with RS256.
 * Checked on every call: a success yields a valid user id (or kid), a failure none. */
#include "fuzz_common.h"

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define FUZZ_NOW       1700000000LL /* "now" of every verification (2023-11-14) */
#define FUZZ_HS_SECRET "fuzz-hmac-secret-0123456789abcdef"

/* Public halves of keys made for this target only (private halves not kept). */
static const char fuzz_rsa_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApLi9E3IKCrpBuk38c6+d\n"
    "Q5I5VgsmQWhekaC5g3HlKjOVMXidvObk2ObrtBaR5H5nsQ58xX6NISBB25+Ixs1I\n"
    "dGChPMniibL0gd5gghZPmUJC2HhQHYZVGie5DU9wUrWwYYrTuigT/KYj9h9TDXoB\n"
    "P+GZeEw9gfBfFe4qH5qOc4C/b2zKKMIRYhTeSd9Fy/z7kJ625dvTHj8Cu7wTBoLE\n"
    "B0MjofxFLWWg3fSNT3Mllz0bw3sTE/u+crOoQH/Umkh+JieSlCJJQ01YBgPaK48Y\n"
    "0uRSS8jZeWjokrXRE3OrJGLkyaivYppLyRLJFDtDm1kdHMZN+TdkXjnYnWN3xojy\n"
    "oQIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char fuzz_ec_pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWz8fxIiPhedoJBOX/SRzCd7NQr/D\n"
    "qtZDrsUW1oFXtaj5I1IUB/08W7Z5qSPc55dbdrQrWx7iQjqJgh5ZmyoBFA==\n"
    "-----END PUBLIC KEY-----\n";

static const jumio_jwt_cfg_t fuzz_cfg_hs = { JWT_ALG_HS256,
                                             (const unsigned char *)FUZZ_HS_SECRET,
                                             sizeof(FUZZ_HS_SECRET) - 1,
                                             "https://idp.example.com/",
                                             "portal",
                                             "sub",
                                             60 };
static const jumio_jwt_cfg_t fuzz_cfg_hs_plain = { /* no iss/aud, other claim, no leeway */
                                                   JWT_ALG_HS256,
                                                   (const unsigned char *)FUZZ_HS_SECRET,
                                                   sizeof(FUZZ_HS_SECRET) - 1,
                                                   NULL,
                                                   NULL,
                                                   "email",
                                                   0
};
static const jumio_jwt_cfg_t fuzz_cfg_rs = { JWT_ALG_RS256,
                                             (const unsigned char *)fuzz_rsa_pub,
                                             sizeof(fuzz_rsa_pub) - 1,
                                             "https://idp.example.com/",
                                             NULL,
                                             "sub",
                                             60 };
static const jumio_jwt_cfg_t fuzz_cfg_es = { JWT_ALG_ES256,
                                             (const unsigned char *)fuzz_ec_pub,
                                             sizeof(fuzz_ec_pub) - 1,
                                             NULL,
                                             "portal",
                                             NULL,
                                             60 };

/* Verify token under cfg and check the result's invariants. */
static void fuzz_verify(const jumio_jwt_cfg_t *cfg, const char *token)
{
    apr_pool_t *p = fuzz_pool_begin();
    const char *user = "unset";
    const char *err = jumio_jwt_verify(p, cfg, token, FUZZ_NOW, &user);
    size_t i, n;

    if (err != NULL) {
        FUZZ_ASSERT(user == NULL);
        FUZZ_ASSERT(*err != '\0');
    }
    else {
        FUZZ_ASSERT(user != NULL);
        n = strlen(user);
        FUZZ_ASSERT(n > 0 && n <= 255);
        for (i = 0; i < n; i++)
            FUZZ_ASSERT((unsigned char)user[i] >= 0x20 && (unsigned char)user[i] != 0x7f);
    }
    fuzz_pool_end();
}

/* The kid of token (RS256 pinned) and its invariants. */
static void fuzz_kid(const char *token)
{
    apr_pool_t *p = fuzz_pool_begin();
    const char *kid = "unset";
    const char *err = jumio_jwt_kid(p, token, JWT_ALG_RS256, &kid);

    if (err != NULL)
        FUZZ_ASSERT(kid == NULL && *err != '\0');
    else if (kid != NULL)
        FUZZ_ASSERT(jumio_jwt_kid_ok(kid, strlen(kid)));
    fuzz_pool_end();
}

/* base64url (no padding) of n bytes appended to out at *o. */
static void fuzz_b64url(const unsigned char *in, size_t n, char *out, size_t *o)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i;
    unsigned long v;

    for (i = 0; i + 2 < n; i += 3) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        out[(*o)++] = abc[(v >> 18) & 63];
        out[(*o)++] = abc[(v >> 12) & 63];
        out[(*o)++] = abc[(v >> 6) & 63];
        out[(*o)++] = abc[v & 63];
    }
    if (n - i == 1) {
        v = (unsigned long)in[i] << 16;
        out[(*o)++] = abc[(v >> 18) & 63];
        out[(*o)++] = abc[(v >> 12) & 63];
    }
    else if (n - i == 2) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        out[(*o)++] = abc[(v >> 18) & 63];
        out[(*o)++] = abc[(v >> 12) & 63];
        out[(*o)++] = abc[(v >> 6) & 63];
    }
    out[*o] = '\0';
}

/* "<signing input>.<HS256 signature>" for the first n bytes of signing_input (malloc'ed). */
static char *fuzz_hs_sign(const char *signing_input, size_t n)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char *tok = malloc(n + 2 + 4 * EVP_MAX_MD_SIZE / 3 + 4);
    size_t o = n;

    if (tok == NULL
        || HMAC(EVP_sha256(), FUZZ_HS_SECRET, (int)(sizeof(FUZZ_HS_SECRET) - 1),
                (const unsigned char *)signing_input, n, mac, &maclen)
               == NULL)
        abort();
    memcpy(tok, signing_input, n);
    tok[o++] = '.';
    fuzz_b64url(mac, maclen, tok, &o);
    return tok;
}

/* Verify a token signed here with the HS256 secret. */
static void fuzz_verify_signed(const char *signing_input, size_t n)
{
    char *tok = fuzz_hs_sign(signing_input, n);

    fuzz_verify(&fuzz_cfg_hs, tok);
    fuzz_verify(&fuzz_cfg_hs_plain, tok);
    free(tok);
}

/* "<header JSON>\n<claims JSON>": encode, sign and verify. */
static void fuzz_json_pair(const uint8_t *data, size_t size, const uint8_t *nl)
{
    size_t hlen = (size_t)(nl - data), clen = size - hlen - 1, o = 0;
    char *input = malloc(4 * (hlen + clen) / 3 + 16);

    if (input == NULL)
        abort();
    fuzz_b64url(data, hlen, input, &o);
    input[o++] = '.';
    fuzz_b64url(nl + 1, clen, input, &o);
    fuzz_verify_signed(input, o);
    free(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    char *token;
    const char *dot;

    if (size > 16384)
        return 0; /* far over the 8 KiB token limit; nothing new */
    if (nl != NULL) {
        fuzz_json_pair(data, size, nl);
        return 0;
    }
    token = fuzz_cstr(data, size);
    fuzz_verify(&fuzz_cfg_hs, token);
    fuzz_verify(&fuzz_cfg_rs, token);
    fuzz_verify(&fuzz_cfg_es, token);
    fuzz_kid(token);
    /* re-signed: "<header>.<payload>" of the text with a valid HS256 signature */
    dot = strchr(token, '.');
    if (dot != NULL && (dot = strchr(dot + 1, '.')) != NULL)
        fuzz_verify_signed(token, (size_t)(dot - token));
    free(token);
    return 0;
}
