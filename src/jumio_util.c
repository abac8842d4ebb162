/* jumio_util.c - small security helpers of mod_jumio: UUIDs, random tokens, constant-time
 * comparison, HMAC-SHA256 and base64url. Only APR and OpenSSL; no httpd calls. */
#include <limits.h>
#include <string.h>

#include <apr_general.h>
#include <apr_strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "jumio_core.h"

#define JUMIO_UUID_LEN 36
#define JUMIO_UUID_BYTES 16
#define JUMIO_TOKEN_MAX_BYTES 4096

static const char jumio_util_hex[] = "0123456789abcdef";
static const char jumio_util_b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 when c is an ASCII hex digit (either case). */
static int jumio_util_is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* 1 when s is a UUID in 8-4-4-4-12 hex form (either case), else 0. NULL gives 0. */
int jumio_util_is_uuid(const char *s)
{
    int i;

    if (s == NULL) {
        return 0;
    }
    for (i = 0; i < JUMIO_UUID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') {
                return 0;
            }
        }
        else if (!jumio_util_is_hex(s[i])) {
            return 0;        /* also stops at the NUL of a short string */
        }
    }
    return s[JUMIO_UUID_LEN] == '\0';
}

/* Lowercase hex of n bytes into out (2n chars plus NUL). */
static void jumio_util_hex_encode(const unsigned char *in, apr_size_t n, char *out)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = jumio_util_hex[in[i] >> 4];
        out[2 * i + 1] = jumio_util_hex[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

/* A fresh random version-4 UUID (lowercase) from APR's random source; NULL on failure. */
const char *jumio_util_uuid_v4(apr_pool_t *p)
{
    unsigned char b[JUMIO_UUID_BYTES];
    char hex[2 * JUMIO_UUID_BYTES + 1];
    const char *uuid;

    if (apr_generate_random_bytes(b, sizeof(b)) != APR_SUCCESS) {
        return NULL;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);   /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);   /* RFC 4122 variant */
    jumio_util_hex_encode(b, sizeof(b), hex);
    OPENSSL_cleanse(b, sizeof(b));
    uuid = apr_psprintf(p, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
                        hex + 20);
    OPENSSL_cleanse(hex, sizeof(hex));
    return uuid;
}

/* base64url (no padding) of n bytes, allocated in p. */
static char *jumio_util_b64url_encode(apr_pool_t *p, const unsigned char *in, apr_size_t n)
{
    char *out = apr_palloc(p, (n + 2) / 3 * 4 + 1);
    apr_size_t i, o = 0;
    unsigned long v;

    for (i = 0; i + 2 < n; i += 3) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8) | in[i + 2];
        out[o++] = jumio_util_b64url_alphabet[(v >> 18) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[(v >> 12) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[(v >> 6) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[v & 0x3f];
    }
    if (n - i == 1) {
        v = (unsigned long)in[i] << 16;
        out[o++] = jumio_util_b64url_alphabet[(v >> 18) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[(v >> 12) & 0x3f];
    }
    else if (n - i == 2) {
        v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
        out[o++] = jumio_util_b64url_alphabet[(v >> 18) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[(v >> 12) & 0x3f];
        out[o++] = jumio_util_b64url_alphabet[(v >> 6) & 0x3f];
    }
    out[o] = '\0';
    return out;
}

/* n random bytes from apr_generate_random_bytes, base64url (no padding); NULL on failure. */
const char *jumio_util_random_token(apr_pool_t *p, apr_size_t nbytes)
{
    unsigned char *buf;
    const char *token = NULL;

    if (nbytes == 0 || nbytes > JUMIO_TOKEN_MAX_BYTES) {
        return NULL;
    }
    buf = apr_palloc(p, nbytes);
    if (apr_generate_random_bytes(buf, nbytes) == APR_SUCCESS) {
        token = jumio_util_b64url_encode(p, buf, nbytes);
    }
    OPENSSL_cleanse(buf, nbytes);
    return token;
}

/* Constant-time comparison of two NUL-terminated strings; 1 when equal. NULL never equals.
 * Only the lengths can be learnt from timing, never the position of a difference. */
int jumio_util_ct_equal(const char *a, const char *b)
{
    size_t la, lb;

    if (a == NULL || b == NULL) {
        return 0;
    }
    la = strlen(a);
    lb = strlen(b);
    if (la != lb) {
        return 0;
    }
    return CRYPTO_memcmp(a, b, la) == 0;
}

/* Lowercase hex HMAC-SHA256 of msg under key (64 chars); NULL on failure.
 * An absent or empty key is a failure: it would give a keyless digest. */
const char *jumio_util_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t keylen,
                                       const char *msg)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char *hex;

    if (key == NULL || keylen == 0 || keylen > (apr_size_t)INT_MAX || msg == NULL) {
        return NULL;
    }
    if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg),
             mac, &maclen) == NULL || maclen != 32) {
        return NULL;
    }
    hex = apr_palloc(p, 2 * (apr_size_t)maclen + 1);
    jumio_util_hex_encode(mac, maclen, hex);
    OPENSSL_cleanse(mac, sizeof(mac));
    return hex;
}

/* Value 0..63 of a base64url character, or -1 when c is not in the alphabet. */
static int jumio_util_b64url_value(char c)
{
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    if (c == '-') {
        return 62;
    }
    if (c == '_') {
        return 63;
    }
    return -1;
}

/* Length of in without its trailing '=' padding; (apr_size_t)-1 when the padding is invalid. */
static apr_size_t jumio_util_b64url_datalen(const char *in, apr_size_t len)
{
    apr_size_t n = len;

    while (n > 0 && in[n - 1] == '=') {
        n--;
    }
    if (n != len && (len % 4 != 0 || len - n > 2)) {
        return (apr_size_t)-1;          /* padding, when present, must complete a quantum */
    }
    if (n % 4 == 1) {
        return (apr_size_t)-1;          /* a single trailing character cannot encode a byte */
    }
    return n;
}

/* base64url decode (no padding needed); *outlen set; NULL on invalid input. Result NUL-terminated.
 * Rejects characters outside the alphabet and non-zero unused trailing bits. */
char *jumio_util_b64url_decode(apr_pool_t *p, const char *in, apr_size_t *outlen)
{
    apr_size_t n, i, o = 0;
    unsigned long acc = 0;
    int bits = 0, v;
    unsigned char *out;

    if (outlen != NULL) {
        *outlen = 0;
    }
    if (in == NULL || outlen == NULL) {
        return NULL;
    }
    n = jumio_util_b64url_datalen(in, strlen(in));
    if (n == (apr_size_t)-1) {
        return NULL;
    }
    out = apr_palloc(p, n / 4 * 3 + 3);
    for (i = 0; i < n; i++) {
        if ((v = jumio_util_b64url_value(in[i])) < 0) {
            return NULL;
        }
        acc = ((acc << 6) | (unsigned long)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)((acc >> bits) & 0xff);
        }
    }
    if (bits > 0 && (acc & ((1UL << bits) - 1)) != 0) {
        return NULL;                    /* non-canonical encoding */
    }
    out[o] = '\0';
    *outlen = o;
    return (char *)out;
}
