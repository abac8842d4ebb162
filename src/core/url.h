/* core/url.h - the shape and the allow-list check of a callback URL (src/core/url.c): parsed
 * with apr_uri_parse, compared by scheme, host, port and path segments. Only APR. */
#ifndef JUMIO_CORE_URL_H
#define JUMIO_CORE_URL_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_uri.h>

/* The signing parameter's name (the same as JUMIO_TOKEN_PARAM of src/config.h). */
#define JUMIO_URL_TOKEN_PARAM "jumio_token"

/* NULL when url is usable as a callback URL, else a short reason (never holding the URL):
 * an absolute http(s) URL with a host, a valid port, no userinfo, only printable ASCII, no
 * backslash, no fragment, only valid percent escapes and none of '/' or '\', no dot segment
 * ("." or "..", also percent-encoded, before any ';'), and no parameter of its own whose
 * percent-decoded name is jumio_token in any case. u (may be NULL) gets the parsed URL. */
const char *jumio_url_check(apr_pool_t *p, const char *url, apr_uri_t *u);
/* jumio_url_check for a JumioCallbackURLAllow prefix, which has no query either. */
const char *jumio_url_prefix_check(apr_pool_t *p, const char *prefix);
/* NULL when url passes jumio_url_check and one of prefixes (array of const char *, may be
 * NULL) has its scheme, host (both in any case) and port (the scheme's default when absent),
 * and a path that url's path starts with at a segment boundary ("" meaning "/"; a prefix path
 * ending in '/' takes any continuation, else the path equals it or goes on with '/').
 * Else a short reason, never holding the URL or its query. */
const char *jumio_url_allowed(apr_pool_t *p, const char *url, const apr_array_header_t *prefixes);

#endif
