/* test_url.c - unit tests of src/core/url.c: the callback URL's shape and its allow-list check
 * (scheme, host, port, path segments, escapes, fragments, userinfo, an own jumio_token). */
#include <string.h>

#include <apr_pools.h>
#include <apr_tables.h>
#include <check.h>

#include "core/core.h"

static apr_pool_t *jumio_test_pool;
static apr_array_header_t *jumio_test_prefixes;

/* Fresh pool and the prefixes the tests allow. */
static void jumio_test_url_setup(void)
{
    static const char *const prefixes[] = { "https://hooks.example.com/jumio",
                                            "http://other.example:8080/cb/", "https://root.example",
                                            NULL };
    int i;
    ck_assert_int_eq(apr_pool_create(&jumio_test_pool, NULL), APR_SUCCESS);
    jumio_test_prefixes = apr_array_make(jumio_test_pool, 3, sizeof(const char *));
    for (i = 0; prefixes[i]; i++)
        APR_ARRAY_PUSH(jumio_test_prefixes, const char *) = prefixes[i];
}

/* Release the test's pool. */
static void jumio_test_url_teardown(void)
{
    apr_pool_destroy(jumio_test_pool);
    jumio_test_pool = NULL;
}

/* Every URL of the NULL-terminated list is allowed. */
static void jumio_test_url_accepts(const char *const *urls)
{
    for (; *urls; urls++) {
        const char *why = jumio_url_allowed(jumio_test_pool, *urls, jumio_test_prefixes);
        ck_assert_msg(!why, "refused '%s': %s", *urls, why ? why : "");
    }
}

/* Every URL of the NULL-terminated list is refused, with this reason when want is not NULL. */
static void jumio_test_url_refuses(const char *const *urls, const char *want)
{
    for (; *urls; urls++) {
        const char *why = jumio_url_allowed(jumio_test_pool, *urls, jumio_test_prefixes);
        ck_assert_msg(why, "allowed '%s'", *urls);
        if (want)
            ck_assert_msg(!strcmp(why, want), "'%s': '%s', not '%s'", *urls, why, want);
    }
}

/* Below a prefix: deeper paths, a query, the default port written out, any case of scheme
 * and host, dots inside segments, a prefix path ending in '/', an empty prefix path. */
START_TEST(jumio_test_url_allowed)
{
    static const char *const ok[] = {
        "https://hooks.example.com/jumio",
        "https://hooks.example.com/jumio/",
        "https://hooks.example.com/jumio/cb/deeper",
        "https://hooks.example.com/jumio?a=1",
        "https://hooks.example.com/jumio/cb?a=1&b=%41",
        "https://hooks.example.com/jumio/cb?x=jumio_token",
        "https://hooks.example.com/jumio/cb?jumio_tokens=1&my_jumio_token=2",
        "https://hooks.example.com/jumio/cb?p=../x",
        "https://hooks.example.com:443/jumio/cb",
        "https://HOOKS.Example.COM/jumio/cb",
        "HTTPS://hooks.example.com/jumio/cb",
        "https://hooks.example.com/jumio/.well/a..b/...",
        "https://hooks.example.com/jumio/%41",
        "http://other.example:8080/cb/",
        "http://other.example:8080/cb/x",
        "https://root.example",
        "https://root.example/",
        "https://root.example/any/where?q=1",
        NULL
    };
    jumio_test_url_accepts(ok);
}
END_TEST

/* Dot segments, raw or percent-encoded in any case, also before ';' parameters or a query. */
START_TEST(jumio_test_url_dot_segments)
{
    static const char *const bad[] = { "https://hooks.example.com/jumio/../../evil",
                                       "https://hooks.example.com/jumio/%2e%2e/%2e%2e/evil",
                                       "https://hooks.example.com/jumio/%2E./x",
                                       "https://hooks.example.com/jumio/.%2E/x",
                                       "https://hooks.example.com/jumio/./x",
                                       "https://hooks.example.com/jumio/%2e/x",
                                       "https://hooks.example.com/jumio/..",
                                       "https://hooks.example.com/jumio/.",
                                       "https://hooks.example.com/jumio/..?a=1",
                                       "https://hooks.example.com/jumio/..;x=1/evil",
                                       "https://root.example/..",
                                       NULL };
    jumio_test_url_refuses(bad, "has a dot segment");
}
END_TEST

/* Backslashes raw or encoded, encoded slashes, in the path or elsewhere. */
START_TEST(jumio_test_url_slashes)
{
    static const char *const back[] = { "https://hooks.example.com/jumio/..\\..\\evil",
                                        "https://hooks.example.com\\@evil.com/jumio/", NULL };
    static const char *const eback[] = { "https://hooks.example.com/jumio/..%5c..%5cevil",
                                         "https://hooks.example.com/jumio/x%5Cy", NULL };
    static const char *const eslash[] = { "https://hooks.example.com/jumio/..%2f..%2fevil",
                                          "https://hooks.example.com/jumio/x%2Fy",
                                          "https://hooks.example.com/jumio/x?next=%2f", NULL };
    jumio_test_url_refuses(back, "has a backslash");
    jumio_test_url_refuses(eback, "has an encoded backslash");
    jumio_test_url_refuses(eslash, "has an encoded slash");
}
END_TEST

/* Bytes outside printable ASCII: controls, space, DEL, anything from 0x80. */
START_TEST(jumio_test_url_bytes)
{
    static const char *const bad[] = { "https://hooks.example.com/jumio/caf\xc3\xa9",
                                       "https://hooks.example.com/jumio/\x80",
                                       "https://hooks.example.com/jumio/\xff",
                                       "https://hooks.example.com/jumio/a b",
                                       "https://hooks.example.com/jumio/a\tb",
                                       "https://hooks.example.com/jumio/a\nb",
                                       "https://hooks.example.com/jumio/a\rb",
                                       "https://hooks.example.com/jumio/a\x7f",
                                       " https://hooks.example.com/jumio/",
                                       "https://hooks.ex\xc3\xa4mple.com/jumio/",
                                       NULL };
    jumio_test_url_refuses(bad, "has a byte outside printable ASCII");
}
END_TEST

/* A fragment, even an empty one. */
START_TEST(jumio_test_url_fragment)
{
    static const char *const bad[] = { "https://hooks.example.com/jumio/cb#frag",
                                       "https://hooks.example.com/jumio/cb#",
                                       "https://hooks.example.com/jumio#",
                                       "https://hooks.example.com/jumio/cb?a=1#x", NULL };
    jumio_test_url_refuses(bad, "has a fragment");
}
END_TEST

/* Userinfo in any form, also the allowed host written as userinfo. */
START_TEST(jumio_test_url_userinfo)
{
    static const char *const bad[] = { "https://user:pw@hooks.example.com/jumio/",
                                       "https://user@hooks.example.com/jumio/",
                                       "https://@hooks.example.com/jumio/",
                                       "https://:@hooks.example.com/jumio/",
                                       "https://hooks.example.com@evil.com/jumio/",
                                       "https://hooks.example.com:443@evil.com/jumio/",
                                       NULL };
    jumio_test_url_refuses(bad, "has userinfo");
}
END_TEST

/* Other hosts, schemes, ports and paths than a prefix's. */
START_TEST(jumio_test_url_other_origin)
{
    static const char *const bad[] = { "https://hooks.example.com.evil.com/jumio/",
                                       "https://evil.com/jumio/",
                                       "https://hooks.example.com./jumio/",
                                       "https://ooks.example.com/jumio/",
                                       "http://hooks.example.com/jumio/",
                                       "https://hooks.example.com:8443/jumio/",
                                       "https://hooks.example.com:80/jumio/",
                                       "https://hooks.example.com:444/jumio/",
                                       "https://hooks.example.com/jumiox",
                                       "https://hooks.example.com/jumio.evil/x",
                                       "https://hooks.example.com/Jumio/x",
                                       "https://hooks.example.com/",
                                       "https://hooks.example.com",
                                       "https://hooks.example.com?a=/jumio",
                                       "http://other.example:8080/cb",
                                       "http://other.example/cb/x",
                                       "https://other.example:8080/cb/x",
                                       NULL };
    static const char *const scheme[] = { "ftp://hooks.example.com/jumio/",
                                          "javascript://hooks.example.com/jumio/%0aalert(1)",
                                          "wss://hooks.example.com/jumio/",
                                          "/jumio/cb",
                                          "//hooks.example.com/jumio/",
                                          "hooks.example.com/jumio/",
                                          NULL };
    jumio_test_url_refuses(bad, "matches no JumioCallbackURLAllow prefix");
    jumio_test_url_refuses(scheme, NULL);
}
END_TEST

/* Ports: zero, out of range (no wrap-around onto the allowed one), not digits. */
START_TEST(jumio_test_url_port)
{
    static const char *const bad[] = {
        "https://hooks.example.com:0/jumio/",        "https://hooks.example.com:65979/jumio/",
        "https://hooks.example.com:00000443/jumio/", "https://hooks.example.com:-443/jumio/",
        "https://hooks.example.com:+443/jumio/",     NULL
    };
    static const char *const unparsed[] = { "https://hooks.example.com:44x/jumio/", NULL };
    jumio_test_url_refuses(bad, "has an invalid port");
    jumio_test_url_refuses(unparsed, NULL);
}
END_TEST

/* An own jumio_token parameter: any case, percent-encoded name, without a value, after ';'. */
START_TEST(jumio_test_url_own_token)
{
    static const char *const bad[] = { "https://hooks.example.com/jumio/cb?a=1&jumio_token=x",
                                       "https://hooks.example.com/jumio/cb?jumio_token=x",
                                       "https://hooks.example.com/jumio/cb?JUMIO_TOKEN=x",
                                       "https://hooks.example.com/jumio/cb?jumio%5ftoken=x",
                                       "https://hooks.example.com/jumio/cb?%6Aumio_token=x",
                                       "https://hooks.example.com/jumio/cb?a=1&jumio_token",
                                       "https://hooks.example.com/jumio/cb?a=1;jumio_token=x",
                                       "https://hooks.example.com/jumio/cb?jumio_token=",
                                       NULL };
    jumio_test_url_refuses(bad, "has its own jumio_token parameter");
}
END_TEST

/* Not URLs at all, invalid escapes, no prefix configured; reasons never hold the query. */
START_TEST(jumio_test_url_garbage)
{
    static const char *const esc[] = { "https://hooks.example.com/jumio/%zz",
                                       "https://hooks.example.com/jumio/%2",
                                       "https://hooks.example.com/jumio/%",
                                       "https://hooks.example.com/jumio/cb?a=%g1", NULL };
    static const char *const bad[] = {
        "",  "x", ":", "https:", "https://", "https:///jumio/", "https:hooks.example.com/jumio/",
        NULL
    };
    const char *why;
    jumio_test_url_refuses(esc, "has an invalid percent escape");
    jumio_test_url_refuses(bad, NULL);
    ck_assert_ptr_nonnull(jumio_url_allowed(jumio_test_pool, NULL, jumio_test_prefixes));
    ck_assert_ptr_nonnull(
        jumio_url_allowed(jumio_test_pool, "https://hooks.example.com/jumio/cb", NULL));
    why =
        jumio_url_allowed(jumio_test_pool, "https://evil.com/x?secret=s3cr3t", jumio_test_prefixes);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_null(strstr(why, "s3cr3t"));
    why =
        jumio_url_allowed(jumio_test_pool, "https://hooks.example.com/jumio/?s3cr3t&jumio_token=1",
                          jumio_test_prefixes);
    ck_assert_ptr_nonnull(why);
    ck_assert_ptr_null(strstr(why, "s3cr3t"));
}
END_TEST

/* The configuration's checks: JumioCallbackURL (a query is fine) and a prefix (no query). */
START_TEST(jumio_test_url_config_checks)
{
    static const char *const bad[] = { "https://a.example/cb#x",
                                       "https://a.example/cb#",
                                       "https://u:p@a.example/cb",
                                       "https://a.example/x/../cb",
                                       "https://a.example/x/%2e/cb",
                                       "https://a.example/x\\cb",
                                       "https://a.example/caf\xc3\xa9",
                                       "https://a.example/a b",
                                       "https://a.example/cb?jumio_token=1",
                                       "/cb",
                                       NULL };
    const char *const *u;
    ck_assert_ptr_null(jumio_url_check(jumio_test_pool, "https://a.example/cb?src=x", NULL));
    ck_assert_ptr_null(jumio_url_prefix_check(jumio_test_pool, "https://a.example/cb"));
    ck_assert_ptr_null(jumio_url_prefix_check(jumio_test_pool, "http://a.example:8080"));
    ck_assert_ptr_nonnull(jumio_url_prefix_check(jumio_test_pool, "https://a.example/cb?x="));
    ck_assert_ptr_nonnull(jumio_url_prefix_check(jumio_test_pool, "https://a.example/cb?"));
    for (u = bad; *u; u++) {
        ck_assert_msg(jumio_url_check(jumio_test_pool, *u, NULL), "accepted '%s'", *u);
        ck_assert_msg(jumio_url_prefix_check(jumio_test_pool, *u), "accepted prefix '%s'", *u);
    }
}
END_TEST

/* The url test suite. */
Suite *jumio_test_url_suite(void)
{
    Suite *s = suite_create("url");
    TCase *tc = tcase_create("url");

    tcase_add_checked_fixture(tc, jumio_test_url_setup, jumio_test_url_teardown);
    tcase_add_test(tc, jumio_test_url_allowed);
    tcase_add_test(tc, jumio_test_url_dot_segments);
    tcase_add_test(tc, jumio_test_url_slashes);
    tcase_add_test(tc, jumio_test_url_bytes);
    tcase_add_test(tc, jumio_test_url_fragment);
    tcase_add_test(tc, jumio_test_url_userinfo);
    tcase_add_test(tc, jumio_test_url_other_origin);
    tcase_add_test(tc, jumio_test_url_port);
    tcase_add_test(tc, jumio_test_url_own_token);
    tcase_add_test(tc, jumio_test_url_garbage);
    tcase_add_test(tc, jumio_test_url_config_checks);
    suite_add_tcase(s, tc);
    return s;
}
