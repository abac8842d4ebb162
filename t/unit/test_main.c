/* test_main.c - runner of the mod_jumio unit tests (libcheck): util, json, jwt, jwks, url and
 * webhook suites.
 * CK_FORK=no in the environment runs every test in this process (for valgrind). */
#include <stdlib.h>

#include <apr_general.h>
#include <check.h>

Suite *jumio_test_util_suite(void);
Suite *jumio_test_json_suite(void);
Suite *jumio_test_jwt_suite(void);
Suite *jumio_test_jwks_suite(void);
Suite *jumio_test_url_suite(void);
Suite *jumio_test_webhook_suite(void);

/* Run all suites; exit status 0 when every test passed. */
int main(void)
{
    SRunner *sr;
    int failed;

    if (apr_initialize() != APR_SUCCESS)
        return EXIT_FAILURE;
    sr = srunner_create(jumio_test_util_suite());
    srunner_add_suite(sr, jumio_test_json_suite());
    srunner_add_suite(sr, jumio_test_jwt_suite());
    srunner_add_suite(sr, jumio_test_jwks_suite());
    srunner_add_suite(sr, jumio_test_url_suite());
    srunner_add_suite(sr, jumio_test_webhook_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
