/* fuzz_jwks.c - libFuzzer target for jumio_jwks_parse, the parser of the identity provider's
 * JWKS document (JumioJWTKey jwks:<url>), and jumio_jwks_find. The input is the document,
 * parsed with the pinned algorithms RS256, ES256, ES384 and ES512 (RS384/512 take the RS256
 * path).
 * Checked on every call: a failure leaves no keys; every key is a PEM public key of the
 * algorithm's family that OpenSSL reads back, kids are valid and unique, and jumio_jwks_find
 * returns the key of each kid (and the only key for a token without kid). */
#include "fuzz_common.h"

#include <jwt.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

/* The key's PEM is a public key of type ("RSA" or "EC") as OpenSSL reads it. */
static void fuzz_check_pem(const jumio_jwk_t *k, const char *type)
{
    BIO *bio;
    EVP_PKEY *pkey;

    FUZZ_ASSERT(k->pem != NULL && k->pemlen > 0 && strlen(k->pem) == k->pemlen);
    bio = BIO_new_mem_buf(k->pem, (int)k->pemlen);
    FUZZ_ASSERT(bio != NULL);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    FUZZ_ASSERT(pkey != NULL);
    FUZZ_ASSERT(EVP_PKEY_is_a(pkey, type));
    EVP_PKEY_free(pkey);
    BIO_free(bio);
}

/* Parse the document with alg and check the result. */
static void fuzz_jwks(const char *doc, size_t len, int alg, const char *type)
{
    apr_pool_t *p = fuzz_pool_begin();
    apr_array_header_t *keys = (apr_array_header_t *)"unset";
    const char *err = jumio_jwks_parse(p, doc, len, alg, &keys);
    int i, j;

    if (err != NULL) {
        FUZZ_ASSERT(*err != '\0' && keys == NULL);
        FUZZ_ASSERT(jumio_jwks_find(keys, NULL) == NULL && jumio_jwks_find(keys, "k") == NULL);
        fuzz_pool_end();
        return;
    }
    FUZZ_ASSERT(keys != NULL && keys->nelts <= 100);
    for (i = 0; i < keys->nelts; i++) {
        const jumio_jwk_t *k = &APR_ARRAY_IDX(keys, i, jumio_jwk_t);
        fuzz_check_pem(k, type);
        if (k->kid == NULL)
            continue;
        FUZZ_ASSERT(jumio_jwt_kid_ok(k->kid, strlen(k->kid)));
        for (j = 0; j < i; j++) {
            const char *other = APR_ARRAY_IDX(keys, j, jumio_jwk_t).kid;
            FUZZ_ASSERT(other == NULL || strcmp(other, k->kid) != 0);
        }
        FUZZ_ASSERT(jumio_jwks_find(keys, k->kid) == k);
    }
    FUZZ_ASSERT(jumio_jwks_find(keys, NULL)
                == (keys->nelts == 1 ? &APR_ARRAY_IDX(keys, 0, jumio_jwk_t) : NULL));
    ERR_clear_error();
    fuzz_pool_end();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *doc;

    if (size > 262144)
        return 0;
    /* a copy of exactly size bytes, so ASan sees any read past the document */
    doc = malloc(size != 0 ? size : 1);
    if (doc == NULL)
        abort();
    memcpy(doc, data, size);
    fuzz_jwks(doc, size, JWT_ALG_RS256, "RSA");
    fuzz_jwks(doc, size, JWT_ALG_ES256, "EC");
    fuzz_jwks(doc, size, JWT_ALG_ES384, "EC");
    fuzz_jwks(doc, size, JWT_ALG_ES512, "EC");
    free(doc);
    return 0;
}
