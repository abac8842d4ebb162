/* test_webhook.c - unit tests of src/core/webhook.c: keys (whsec_ and raw), the published
 * Standard Webhooks signature example, one entry per key, the body and the retry schedule. */
#include <string.h>

#include <apr_pools.h>
#include <check.h>
#include <jansson.h>

#include "core/core.h"

static apr_pool_t *jumio_test_pool;

/* Fresh pool. */
static void jumio_test_webhook_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&jumio_test_pool, NULL), APR_SUCCESS);
}

/* Release the test's pool. */
static void jumio_test_webhook_teardown(void)
{
    apr_pool_destroy(jumio_test_pool);
    jumio_test_pool = NULL;
}

#define JUMIO_TEST_WHSEC "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define JUMIO_TEST_ID    "msg_p5jXN8AQM9LWM0D4loKWxJek"
#define JUMIO_TEST_BODY  "{\"test\": 2432232314}"
#define JUMIO_TEST_SIG   "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

/* The published example of Standard Webhooks verifies. */
START_TEST(jumio_test_webhook_vector)
{
    jumio_webhook_key_t k;
    const char *sig;
    ck_assert_ptr_null(
        jumio_webhook_key(jumio_test_pool, JUMIO_TEST_WHSEC, strlen(JUMIO_TEST_WHSEC), &k));
    ck_assert_uint_eq(k.len, 24);
    sig = jumio_webhook_sign(jumio_test_pool, JUMIO_TEST_ID, 1614265330, JUMIO_TEST_BODY,
                             strlen(JUMIO_TEST_BODY), &k, 1);
    ck_assert_str_eq(sig, JUMIO_TEST_SIG);
}
END_TEST

/* Two keys: two entries, the whsec_ one first as given, then a raw secret's. */
START_TEST(jumio_test_webhook_two_keys)
{
    jumio_webhook_key_t k[2];
    const char *sig, *raw = "a-raw-secret-of-some-length";
    ck_assert_ptr_null(
        jumio_webhook_key(jumio_test_pool, JUMIO_TEST_WHSEC, strlen(JUMIO_TEST_WHSEC), &k[0]));
    ck_assert_ptr_null(jumio_webhook_key(jumio_test_pool, raw, strlen(raw), &k[1]));
    ck_assert_uint_eq(k[1].len, strlen(raw));
    ck_assert(!memcmp(k[1].bytes, raw, k[1].len));
    sig = jumio_webhook_sign(jumio_test_pool, JUMIO_TEST_ID, 1614265330, JUMIO_TEST_BODY,
                             strlen(JUMIO_TEST_BODY), k, 2);
    ck_assert_ptr_nonnull(sig);
    ck_assert(!strncmp(sig, JUMIO_TEST_SIG " v1,", strlen(JUMIO_TEST_SIG) + 4));
    ck_assert_uint_eq(strlen(sig), 2 * strlen(JUMIO_TEST_SIG) + 1);
    ck_assert_ptr_null(strchr(sig + strlen(JUMIO_TEST_SIG) + 1, ' '));
}
END_TEST

/* Refused secrets: empty, whsec_ empty, not base64, too short (under 16 bytes), a raw one too
 * short. */
START_TEST(jumio_test_webhook_bad_keys)
{
    static const char *const bad[] = { "",
                                       "whsec_",
                                       "whsec_not*base64!",
                                       "whsec_c2hvcnQ=",
                                       "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",
                                       "tooshort",
                                       NULL };
    jumio_webhook_key_t k;
    int i;
    for (i = 0; bad[i]; i++)
        ck_assert_msg(jumio_webhook_key(jumio_test_pool, bad[i], strlen(bad[i]), &k),
                      "accepted '%s'", bad[i]);
}
END_TEST

/* The body: every member, data spliced as JSON, null decision and data. */
START_TEST(jumio_test_webhook_body)
{
    jumio_webhook_event_t ev = {
        "1f5e3b8a-1111-4222-8333-444455556666",          "user-\"1\"", 3, "PROCESSED", "PASSED",
        "{\"definitionKey\":\"3\",\"capabilities\":{}}", 1614265330
    };
    const char *text = jumio_webhook_body(jumio_test_pool, &ev);
    json_t *j;
    ck_assert_ptr_nonnull(text);
    j = json_loads(text, 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(json_string_value(json_object_get(j, "type")), "verification.completed");
    ck_assert_str_eq(json_string_value(json_object_get(j, "transactionReference")), ev.reference);
    ck_assert_str_eq(json_string_value(json_object_get(j, "user")), "user-\"1\"");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "workflowKey")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(j, "status")), "PROCESSED");
    ck_assert_str_eq(json_string_value(json_object_get(j, "decision")), "PASSED");
    ck_assert_str_eq(json_string_value(json_object_get(j, "timestamp")), "2021-02-25T15:02:10Z");
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(j, "data"), "definitionKey")), "3");
    json_decref(j);

    ev.status = "SESSION_EXPIRED";
    ev.decision = NULL;
    ev.data = NULL;
    j = json_loads(jumio_webhook_body(jumio_test_pool, &ev), 0, NULL);
    ck_assert_ptr_nonnull(j);
    ck_assert(json_is_null(json_object_get(j, "decision")));
    ck_assert(json_is_null(json_object_get(j, "data")));
    json_decref(j);

    ev.data = "{not json";
    ck_assert_ptr_null(jumio_webhook_body(jumio_test_pool, &ev));
}
END_TEST

/* The schedule: each delay after each try, the last repeated, failed at 3 days. */
START_TEST(jumio_test_webhook_next)
{
    static const int delays[] = { 10, 60, 300 };
    ck_assert_int_eq(jumio_webhook_next(1000, 1000, 1, delays, 3), 1010);
    ck_assert_int_eq(jumio_webhook_next(1000, 1020, 2, delays, 3), 1080);
    ck_assert_int_eq(jumio_webhook_next(1000, 1100, 3, delays, 3), 1400);
    ck_assert_int_eq(jumio_webhook_next(1000, 2000, 9, delays, 3), 2300);
    ck_assert_int_eq(jumio_webhook_next(1000, 1000 + JUMIO_WEBHOOK_GIVE_UP - 1, 9, delays, 3),
                     1000 + JUMIO_WEBHOOK_GIVE_UP - 1 + 300);
    ck_assert_int_eq(jumio_webhook_next(1000, 1000 + JUMIO_WEBHOOK_GIVE_UP, 9, delays, 3), -1);
    ck_assert_int_eq(jumio_webhook_next(1000, 1000 + 5 * 86400, 1, delays, 3), -1);
}
END_TEST

/* The webhook suite. */
Suite *jumio_test_webhook_suite(void)
{
    Suite *s = suite_create("webhook");
    TCase *tc = tcase_create("webhook");
    tcase_add_checked_fixture(tc, jumio_test_webhook_setup, jumio_test_webhook_teardown);
    tcase_add_test(tc, jumio_test_webhook_vector);
    tcase_add_test(tc, jumio_test_webhook_two_keys);
    tcase_add_test(tc, jumio_test_webhook_bad_keys);
    tcase_add_test(tc, jumio_test_webhook_body);
    tcase_add_test(tc, jumio_test_webhook_next);
    suite_add_tcase(s, tc);
    return s;
}
