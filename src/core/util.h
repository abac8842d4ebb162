/* core/util.h - small security helpers: UUIDs, random tokens, constant-time comparison,
 * HMAC-SHA256 and base64url (src/core/util.c). Only APR and OpenSSL. */
#ifndef JUMIO_CORE_UTIL_H
#define JUMIO_CORE_UTIL_H

#include <apr_pools.h>

#define JUMIO_UTIL_MAX_USER_ID 255 /* bytes of a user id */

/* 1 when s is a UUID in 8-4-4-4-12 hex form (either case), else 0. NULL gives 0. */
int jumio_util_is_uuid(const char *s);
/* A fresh random version-4 UUID (lowercase) from APR's random source; NULL on failure. */
const char *jumio_util_uuid_v4(apr_pool_t *p);
/* n random bytes from apr_generate_random_bytes, base64url (no padding); NULL on failure. */
const char *jumio_util_random_token(apr_pool_t *p, apr_size_t nbytes);
/* Constant-time comparison of two NUL-terminated strings; 1 when equal. NULL never equals. */
int jumio_util_ct_equal(const char *a, const char *b);
/* Lowercase hex HMAC-SHA256 of msg under key (64 chars); NULL on failure. */
const char *jumio_util_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t keylen,
                                       const char *msg);
/* 1 when s (n bytes) has 1..max bytes, none a control character (< 0x20 or 0x7f; a NUL byte
 * counts as one), and bytes from 0x80 only when high != 0. NULL gives 0. */
int jumio_util_text_ok(const char *s, apr_size_t n, apr_size_t max, int high);
/* 1 when s (n bytes) is a usable user id: 1..255 bytes, none a control character (< 0x20 or
 * 0x7f; a NUL byte counts as one). Bytes from 0x80 (UTF-8) are allowed. NULL gives 0. */
int jumio_util_user_id_ok(const char *s, apr_size_t n);
/* base64url decode (no padding needed); *outlen set; NULL on invalid input. Result NUL-terminated. */
char *jumio_util_b64url_decode(apr_pool_t *p, const char *in, apr_size_t *outlen);

#endif
