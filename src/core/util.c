/* core/util.c - small security helpers of mod_jumio: UUIDs, random tokens, constant-time
 * comparison, HMAC-SHA256, the user-id rule and base64url. Only APR and OpenSSL; no httpd calls. */
#include <limits.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_encode.h>
#include <apr_escape.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/util.h"

#define JUMIO_UUID_LEN        36
#define JUMIO_UUID_BYTES      16
#define JUMIO_TOKEN_MAX_BYTES 4096
#define JUMIO_B64URL_CHARS    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/* 1 when c is an ASCII hex digit (either case). */
static int jumio_util_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 when s is a UUID in 8-4-4-4-12 hex form (either case), else 0. NULL gives 0. */
int jumio_util_is_uuid(const char *s)
{
    int i;

    if (!s)
        return 0;
    for (i = 0; i < JUMIO_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        }
        else if (!jumio_util_is_hex(s[i])) {
            return 0; /* also stops at the NUL of a short string */
        }
    }
    return s[JUMIO_UUID_LEN] == '\0';
}

/* A fresh random version-4 UUID (lowercase) from APR's random source; NULL on failure. */
const char *jumio_util_uuid_v4(apr_pool_t *p)
{
    unsigned char b[JUMIO_UUID_BYTES];
    const char *hex, *uuid;

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS)
        return NULL;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    hex = apr_pescape_hex(p, b, sizeof(b), 0);
    OPENSSL_cleanse(b, sizeof(b));
    uuid = apr_psprintf(p, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16, hex + 20);
    return uuid;
}

/* n random bytes from apr_generate_random_bytes, base64url (no padding); NULL on failure. */
const char *jumio_util_random_token(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char *buf;
    const char *token = NULL;

    if (nbytes == 0 || nbytes > JUMIO_TOKEN_MAX_BYTES)
        return NULL;
    buf = apr_palloc(p, nbytes);
    if (apr_generate_random_bytes(buf, nbytes) == APR_SUCCESS) {
        token = apr_pencode_base64(p, (const char *)buf, (apr_ssize_t)nbytes, APR_ENCODE_BASE64URL,
                                   NULL);
    }
    OPENSSL_cleanse(buf, nbytes);
    return token;
}

/* Constant-time comparison of two NUL-terminated strings; 1 when equal. NULL never equals.
 * Only the lengths can be learnt from timing, never the position of a difference. */
int jumio_util_ct_equal(const char *a, const char *b)
{
    size_t la, lb;

    if (!a || !b)
        return 0;
    la = strlen(a);
    lb = strlen(b);
    if (la != lb)
        return 0;
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* Lowercase hex HMAC-SHA256 of msg under key (64 chars); NULL on failure.
 * An absent or empty key is a failure: it would give a keyless digest. */
const char *jumio_util_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t keylen,
                                       const char *msg)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    const char *hex;

    if (!key || keylen == 0 || keylen > (apr_size_t)INT_MAX || !msg)
        return NULL;
    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), mac, &maclen)
        || maclen != 32)
        return NULL;
    hex = apr_pescape_hex(p, mac, maclen, 0);
    OPENSSL_cleanse(mac, sizeof(mac));
    return hex;
}

/* 1 when s (n bytes) has 1..max bytes, none a control character (< 0x20 or 0x7f; a NUL byte
 * counts as one), and bytes from 0x80 only when high != 0. NULL gives 0. */
int jumio_util_text_ok(const char *s, apr_size_t n, apr_size_t max, int high)
{
    apr_size_t i;

    if (!s || n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || (c >= 0x80 && !high))
            return 0;
    }
    return 1;
}

/* 1 when s (n bytes) is a usable user id (a JWT's user claim or another module's r->user):
 * 1..255 bytes, none a control character; UTF-8 allowed. */
int jumio_util_user_id_ok(const char *s, apr_size_t n)
{
    return jumio_util_text_ok(s, n, JUMIO_UTIL_MAX_USER_ID, 1);
}

/* base64url decode (padding optional) with APR's decoder; *outlen set; NULL on invalid input.
 * Result NUL-terminated. Only the canonical encoding is accepted (the alphabet, padding that
 * completes a quantum, zero unused trailing bits): the input must be what APR encodes back. */
char *jumio_util_b64url_decode(apr_pool_t *p, const char *in, apr_size_t *outlen)
{
    apr_size_t len, n = 0;
    const char *out, *back;

    if (outlen)
        *outlen = 0;
    if (!in || !outlen)
        return NULL;
    len = strlen(in);
    while (len > 0 && in[len - 1] == '=')
        len--;
    if (len != strlen(in) && (strlen(in) % 4 != 0 || strlen(in) - len > 2))
        return NULL; /* padding, when present, must complete a quantum */
    if (strspn(in, JUMIO_B64URL_CHARS) != len || len % 4 == 1)
        return NULL;
    out = apr_pdecode_base64(p, in, (apr_ssize_t)len, APR_ENCODE_BASE64URL, &n);
    back = out ? apr_pencode_base64(p, out, (apr_ssize_t)n, APR_ENCODE_BASE64URL, NULL) : NULL;
    if (!back || strlen(back) != len || memcmp(back, in, len) != 0)
        return NULL;
    *outlen = n;
    return (char *)out;
}
