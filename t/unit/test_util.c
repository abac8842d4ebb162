/* test_util.c - unit tests of src/core/util.c: UUIDs, random tokens, constant-time compare,
 * HMAC-SHA256 and base64url decoding. */
#include <string.h>

#include <apr_pools.h>
#include <check.h>

#include "core/core.h"

static apr_pool_t *jumio_test_pool;

/* Fresh pool for each test. */
static void jumio_test_util_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&jumio_test_pool, NULL), APR_SUCCESS);
}

/* Release the test's pool. */
static void jumio_test_util_teardown(void)
{
    apr_pool_destroy(jumio_test_pool);
    jumio_test_pool = NULL;
}

/* 1 when every character of s is in the base64url alphabet. */
static int jumio_test_is_b64url(const char *s)
{
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
           == strlen(s);
}

/* UUIDs in 8-4-4-4-12 form of either case are accepted. */
START_TEST(jumio_test_is_uuid_good)
{
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456-426614174000"), 1);
    ck_assert_int_eq(jumio_util_is_uuid("123E4567-E89B-12D3-A456-426614174ABC"), 1);
    ck_assert_int_eq(jumio_util_is_uuid("00000000-0000-0000-0000-000000000000"), 1);
    ck_assert_int_eq(jumio_util_is_uuid("ffffffff-FFFF-aAaA-0000-abcdefABCDEF"), 1);
}
END_TEST

/* Anything else (lengths, dashes, non-hex, NULL, placeholders) is refused. */
START_TEST(jumio_test_is_uuid_bad)
{
    ck_assert_int_eq(jumio_util_is_uuid(NULL), 0);
    ck_assert_int_eq(jumio_util_is_uuid(""), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456-42661417400"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456-4266141740000"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567e89b-12d3-a456-4266141740000"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456_426614174000"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456-42661417400g"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("{23e4567-e89b-12d3-a456-426614174000"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e4567-e89b-12d3-a456-426614174000\n"), 0);
    ck_assert_int_eq(jumio_util_is_uuid(" 123e4567-e89b-12d3-a456-426614174000"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("123e45670e89b012d30a4560426614174000"), 0);
    /* Jumio's documentation placeholders are not UUIDs */
    ck_assert_int_eq(jumio_util_is_uuid("22222222-xxxx-xxxx-xxxx-xxxxxxxxxxxx"), 0);
    ck_assert_int_eq(jumio_util_is_uuid("33333333-3333-3333-aaaaaaaaaaaa"), 0);
}
END_TEST

/* Fresh UUIDs are lowercase v4 (version and variant bits) and differ. */
START_TEST(jumio_test_uuid_v4)
{
    int i;
    const char *prev = NULL;

    for (i = 0; i < 200; i++) {
        const char *u = jumio_util_uuid_v4(jumio_test_pool);
        ck_assert_ptr_nonnull(u);
        ck_assert_int_eq(jumio_util_is_uuid(u), 1);
        ck_assert_int_eq(u[14], '4');
        ck_assert_ptr_nonnull(strchr("89ab", u[19]));
        ck_assert_uint_eq(strspn(u, "0123456789abcdef-"), 36);
        if (prev != NULL)
            ck_assert_str_ne(u, prev);
        prev = u;
    }
}
END_TEST

/* Random tokens are unpadded base64url of the asked length; 0 or huge sizes fail. */
START_TEST(jumio_test_random_token)
{
    const char *a = jumio_util_random_token(jumio_test_pool, 32);
    const char *b = jumio_util_random_token(jumio_test_pool, 32);
    apr_size_t len = 0;

    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(strlen(a), 43);
    ck_assert_int_eq(jumio_test_is_b64url(a), 1);
    ck_assert_str_ne(a, b);
    ck_assert_ptr_nonnull(jumio_util_b64url_decode(jumio_test_pool, a, &len));
    ck_assert_uint_eq(len, 32);
    ck_assert_uint_eq(strlen(jumio_util_random_token(jumio_test_pool, 1)), 2);
    ck_assert_uint_eq(strlen(jumio_util_random_token(jumio_test_pool, 2)), 3);
    ck_assert_uint_eq(strlen(jumio_util_random_token(jumio_test_pool, 3)), 4);
    ck_assert_uint_eq(strlen(jumio_util_random_token(jumio_test_pool, 16)), 22);
    ck_assert_ptr_null(jumio_util_random_token(jumio_test_pool, 0));
    ck_assert_ptr_null(jumio_util_random_token(jumio_test_pool, 1u << 20));
}
END_TEST

/* Constant-time equality: equal, different, prefixes, NULL. */
START_TEST(jumio_test_ct_equal)
{
    ck_assert_int_eq(jumio_util_ct_equal("abc", "abc"), 1);
    ck_assert_int_eq(jumio_util_ct_equal("", ""), 1);
    ck_assert_int_eq(jumio_util_ct_equal("abc", "abd"), 0);
    ck_assert_int_eq(jumio_util_ct_equal("abc", "xbc"), 0);
    ck_assert_int_eq(jumio_util_ct_equal("abc", "ab"), 0);
    ck_assert_int_eq(jumio_util_ct_equal("ab", "abc"), 0);
    ck_assert_int_eq(jumio_util_ct_equal("", "a"), 0);
    ck_assert_int_eq(jumio_util_ct_equal(NULL, "a"), 0);
    ck_assert_int_eq(jumio_util_ct_equal("a", NULL), 0);
    ck_assert_int_eq(jumio_util_ct_equal(NULL, NULL), 0);
}
END_TEST

/* HMAC-SHA256 against RFC 4231 vectors; binary keys; NULL/empty key refused. */
START_TEST(jumio_test_hmac)
{
    static const char key1[20] = { 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b,
                                   0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b, 0x0b };
    const char *h;

    /* RFC 4231 test cases 1 and 2 */
    h = jumio_util_hmac_sha256_hex(jumio_test_pool, key1, sizeof(key1), "Hi There");
    ck_assert_str_eq(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    h = jumio_util_hmac_sha256_hex(jumio_test_pool, "Jefe", 4, "what do ya want for nothing?");
    ck_assert_str_eq(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* the key length counts, not a NUL inside the key */
    ck_assert_str_ne(jumio_util_hmac_sha256_hex(jumio_test_pool, "a\0b", 3, "m"),
                     jumio_util_hmac_sha256_hex(jumio_test_pool, "a\0c", 3, "m"));
    h = jumio_util_hmac_sha256_hex(jumio_test_pool, "k", 1, "");
    ck_assert_uint_eq(strlen(h), 64);
    ck_assert_ptr_null(jumio_util_hmac_sha256_hex(jumio_test_pool, NULL, 4, "m"));
    ck_assert_ptr_null(jumio_util_hmac_sha256_hex(jumio_test_pool, "Jefe", 0, "m"));
    ck_assert_ptr_null(jumio_util_hmac_sha256_hex(jumio_test_pool, "Jefe", 4, NULL));
}
END_TEST

/* Decode s and compare with want (wantlen bytes); want NULL expects a failure. */
static void jumio_test_b64(const char *s, const char *want, apr_size_t wantlen)
{
    apr_size_t len = 99;
    char *out = jumio_util_b64url_decode(jumio_test_pool, s, &len);

    if (want == NULL) {
        ck_assert_msg(out == NULL, "decoding '%s' should fail", s);
        ck_assert_uint_eq(len, 0);
        return;
    }
    ck_assert_msg(out != NULL, "decoding '%s' should work", s);
    ck_assert_uint_eq(len, wantlen);
    ck_assert_int_eq(memcmp(out, want, wantlen), 0);
    ck_assert_int_eq(out[len], '\0');
}

/* base64url decoding with and without padding, url alphabet, NUL bytes. */
START_TEST(jumio_test_b64url_good)
{
    jumio_test_b64("", "", 0);
    jumio_test_b64("aGVsbG8", "hello", 5);
    jumio_test_b64("aGVsbG8=", "hello", 5);
    jumio_test_b64("aGVsbA", "hell", 4);
    jumio_test_b64("aGVsbA==", "hell", 4);
    jumio_test_b64("aGVs", "hel", 3);
    jumio_test_b64("-_8", "\xfb\xff", 2);
    jumio_test_b64("AAA", "\0\0", 2);
    jumio_test_b64("eyJhbGciOiJIUzI1NiJ9", "{\"alg\":\"HS256\"}", 15);
}
END_TEST

/* base64url decoding refuses bad lengths, padding, alphabet and trailing bits. */
START_TEST(jumio_test_b64url_bad)
{
    apr_size_t len;

    jumio_test_b64("a", NULL, 0); /* 1 char cannot encode a byte */
    jumio_test_b64("aGVsb", NULL, 0);
    jumio_test_b64("aGVsbG8==", NULL, 0); /* too much padding */
    jumio_test_b64("aGVsbA=", NULL, 0);   /* incomplete padding */
    jumio_test_b64("=", NULL, 0);
    jumio_test_b64("====", NULL, 0);
    jumio_test_b64("aG=sbG8", NULL, 0); /* padding inside */
    jumio_test_b64("aGVs+G8", NULL, 0); /* standard alphabet, not url */
    jumio_test_b64("aGVs/G8", NULL, 0);
    jumio_test_b64("aGVs bG8", NULL, 0);
    jumio_test_b64("aGVs.bG8", NULL, 0);
    jumio_test_b64("aGVsbG9", NULL, 0); /* non-zero unused bits */
    jumio_test_b64("aGVsbB", NULL, 0);
    jumio_test_b64("aGVs\xc3\xa9", NULL, 0);
    ck_assert_ptr_null(jumio_util_b64url_decode(jumio_test_pool, NULL, &len));
    ck_assert_ptr_null(jumio_util_b64url_decode(jumio_test_pool, "aGVs", NULL));
}
END_TEST

/* The user-id rule: 1..255 bytes, no byte below 0x20 (NUL included) nor 0x7f; UTF-8 allowed. */
START_TEST(jumio_test_user_id_ok)
{
    char id[300];

    memset(id, 'u', sizeof(id));
    ck_assert_int_eq(jumio_util_user_id_ok("a", 1), 1);
    ck_assert_int_eq(jumio_util_user_id_ok(id, 255), 1);
    ck_assert_int_eq(jumio_util_user_id_ok(id, JUMIO_UTIL_MAX_USER_ID), 1);
    ck_assert_int_eq(jumio_util_user_id_ok(id, 256), 0);
    ck_assert_int_eq(jumio_util_user_id_ok(id, sizeof(id)), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("", 0), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("a", 0), 0);
    ck_assert_int_eq(jumio_util_user_id_ok(NULL, 1), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("alice@example.com ~!", 20), 1);
    ck_assert_int_eq(jumio_util_user_id_ok("J\xc3\xa9r\xc3\xb4me", 8), 1); /* UTF-8 */
    ck_assert_int_eq(jumio_util_user_id_ok("\x80\xff", 2), 1);
    ck_assert_int_eq(jumio_util_user_id_ok(" ", 1), 1);
    ck_assert_int_eq(jumio_util_user_id_ok("evil\nuser", 9), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("tab\t", 4), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("\x1f", 1), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("del\x7f", 4), 0);
    ck_assert_int_eq(jumio_util_user_id_ok("user\0x", 6), 0); /* embedded NUL */
    ck_assert_int_eq(jumio_util_user_id_ok("user\0x", 4), 1);
}
END_TEST

/* jumio_util_text_ok: length bounds, control characters, bytes from 0x80 only when allowed. */
START_TEST(jumio_test_text_ok)
{
    ck_assert_int_eq(jumio_util_text_ok("abc", 3, 3, 0), 1);
    ck_assert_int_eq(jumio_util_text_ok("abc", 3, 2, 0), 0);
    ck_assert_int_eq(jumio_util_text_ok("abc", 0, 3, 0), 0);
    ck_assert_int_eq(jumio_util_text_ok(NULL, 3, 3, 1), 0);
    ck_assert_int_eq(jumio_util_text_ok(" ~", 2, 3, 0), 1);
    ck_assert_int_eq(jumio_util_text_ok("a\x7f", 2, 3, 1), 0);
    ck_assert_int_eq(jumio_util_text_ok("a\x1f", 2, 3, 1), 0);
    ck_assert_int_eq(jumio_util_text_ok("a\0", 2, 3, 1), 0);
    ck_assert_int_eq(jumio_util_text_ok("\xc3\xa9", 2, 3, 1), 1);
    ck_assert_int_eq(jumio_util_text_ok("\xc3\xa9", 2, 3, 0), 0);
    ck_assert_int_eq(jumio_util_text_ok("\x80", 1, 3, 0), 0);
}
END_TEST

/* The util test suite. */
Suite *jumio_test_util_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");

    tcase_add_checked_fixture(tc, jumio_test_util_setup, jumio_test_util_teardown);
    tcase_add_test(tc, jumio_test_is_uuid_good);
    tcase_add_test(tc, jumio_test_is_uuid_bad);
    tcase_add_test(tc, jumio_test_uuid_v4);
    tcase_add_test(tc, jumio_test_random_token);
    tcase_add_test(tc, jumio_test_ct_equal);
    tcase_add_test(tc, jumio_test_hmac);
    tcase_add_test(tc, jumio_test_b64url_good);
    tcase_add_test(tc, jumio_test_b64url_bad);
    tcase_add_test(tc, jumio_test_user_id_ok);
    tcase_add_test(tc, jumio_test_text_ok);
    suite_add_tcase(s, tc);
    return s;
}
