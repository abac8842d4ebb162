/* url.c - the callback URL check (docs/DESIGN.md "Intake callbackUrl"): the raw bytes first,
 * then apr_uri_parse, then the path's segments and the query's parameter names. */
#include "core/url.h"
#include <string.h>
#include <strings.h>
#include <apr_lib.h>
#include <apr_strings.h>

/* Reason the raw bytes are unusable: not printable ASCII, backslash, fragment, or a percent
 * escape that is invalid or encodes '/' or '\'. NULL when fine. */
static const char *jumio_url_bytes(const char *url)
{
    const char *c;
    for (c = url; *c; c++) {
        unsigned char b = (unsigned char)*c;
        if (b < 0x21 || b > 0x7e)
            return "has a byte outside printable ASCII";
        if (b == '\\')
            return "has a backslash";
        if (b == '#')
            return "has a fragment";
        if (b != '%')
            continue;
        if (!apr_isxdigit(c[1]) || !apr_isxdigit(c[2]))
            return "has an invalid percent escape";
        if (c[1] == '2' && apr_tolower(c[2]) == 'f')
            return "has an encoded slash";
        if (c[1] == '5' && apr_tolower(c[2]) == 'c')
            return "has an encoded backslash";
    }
    return NULL;
}

/* The value of hex digit c (already checked). */
static int jumio_url_hex(char c)
{
    return apr_isdigit(c) ? c - '0' : apr_tolower(c) - 'a' + 10;
}

/* s[0..n) percent-decoded (escapes already checked) into a NUL-terminated string of p. */
static char *jumio_url_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    char *out = apr_palloc(p, n + 1), *o = out;
    apr_size_t i;
    for (i = 0; i < n; i++)
        if (s[i] == '%' && i + 2 < n && apr_isxdigit(s[i + 1]) && apr_isxdigit(s[i + 2])) {
            *o++ = (char)(jumio_url_hex(s[i + 1]) * 16 + jumio_url_hex(s[i + 2]));
            i += 2;
        }
        else
            *o++ = s[i];
    *o = '\0';
    return out;
}

/* 1 when the path segment s[0..n), before any ';' parameters, decodes to "." or "..". */
static int jumio_url_dot_segment(apr_pool_t *p, const char *s, apr_size_t n)
{
    const char *semi = memchr(s, ';', n);
    const char *d = jumio_url_decode(p, s, semi ? (apr_size_t)(semi - s) : n);
    return !strcmp(d, ".") || !strcmp(d, "..");
}

/* 1 when path (may be NULL) has a dot segment. */
static int jumio_url_has_dots(apr_pool_t *p, const char *path)
{
    while (path) {
        const char *end = strchr(path, '/');
        if (jumio_url_dot_segment(p, path, end ? (apr_size_t)(end - path) : strlen(path)))
            return 1;
        path = end ? end + 1 : NULL;
    }
    return 0;
}

/* 1 when query (may be NULL; '&' or ';' between parameters) has a parameter whose
 * percent-decoded name is jumio_token in any case. */
static int jumio_url_has_token(apr_pool_t *p, const char *query)
{
    while (query) {
        apr_size_t n = strcspn(query, "&;"), k = strcspn(query, "=");
        if (!strcasecmp(jumio_url_decode(p, query, k < n ? k : n), JUMIO_URL_TOKEN_PARAM))
            return 1;
        query = query[n] ? query + n + 1 : NULL;
    }
    return 0;
}

/* The port of u: its explicit one (digits, 1..65535), else its (lowercase) scheme's default;
 * 0 when the explicit one is invalid. */
static apr_port_t jumio_url_port(const apr_uri_t *u)
{
    apr_size_t n = u->port_str ? strlen(u->port_str) : 0;
    apr_int64_t v;
    if (!n)
        return apr_uri_port_of_scheme(u->scheme);
    if (n > 5 || strspn(u->port_str, "0123456789") != n)
        return 0;
    v = apr_atoi64(u->port_str);
    return v >= 1 && v <= 65535 ? (apr_port_t)v : 0;
}

/* Parse url into u (scheme lowercased): an absolute http(s) URL with a host, a valid port and
 * no userinfo. NULL when it is, else a short reason. */
static const char *jumio_url_parse(apr_pool_t *p, const char *url, apr_uri_t *u)
{
    char *c;
    memset(u, 0, sizeof(*u));
    if (apr_uri_parse(p, url, u) != APR_SUCCESS)
        return "is not a URL";
    for (c = u->scheme; c && *c; c++)
        *c = (char)apr_tolower(*c);
    if (!u->scheme || (strcmp(u->scheme, "http") && strcmp(u->scheme, "https")))
        return "is not an absolute http(s) URL";
    if (!u->hostname || !*u->hostname)
        return "has no host";
    if (u->user || u->password)
        return "has userinfo";
    if (!jumio_url_port(u))
        return "has an invalid port";
    return NULL;
}

/* NULL when url is usable as a callback URL (url.h lists the rules), else a short reason. */
const char *jumio_url_check(apr_pool_t *p, const char *url, apr_uri_t *u)
{
    apr_uri_t own;
    const char *why;
    if (!url || !*url)
        return "is empty";
    if (!u)
        u = &own;
    if ((why = jumio_url_bytes(url)) || (why = jumio_url_parse(p, url, u)))
        return why;
    if (jumio_url_has_dots(p, u->path))
        return "has a dot segment";
    if (jumio_url_has_token(p, u->query))
        return "has its own " JUMIO_URL_TOKEN_PARAM " parameter";
    return NULL;
}

/* jumio_url_check for a JumioCallbackURLAllow prefix, which has no query either. */
const char *jumio_url_prefix_check(apr_pool_t *p, const char *prefix)
{
    apr_uri_t u;
    const char *why = jumio_url_check(p, prefix, &u);
    return why ? why : u.query ? "has a query (a prefix ends before it)" : NULL;
}

/* 1 when the path (NULL or "" meaning "/") starts with the prefix's at a segment boundary. */
static int jumio_url_path_under(const char *path, const char *prefix)
{
    apr_size_t n;
    path = path && *path ? path : "/";
    prefix = prefix && *prefix ? prefix : "/";
    n = strlen(prefix);
    if (strncmp(path, prefix, n))
        return 0;
    return prefix[n - 1] == '/' || !path[n] || path[n] == '/';
}

/* 1 when u falls under the prefix pre: same scheme, host (any case) and port, path below. */
static int jumio_url_under(const apr_uri_t *u, const apr_uri_t *pre)
{
    return !strcmp(u->scheme, pre->scheme) && !strcasecmp(u->hostname, pre->hostname)
           && jumio_url_port(u) == jumio_url_port(pre) && jumio_url_path_under(u->path, pre->path);
}

/* NULL when url is usable and under one of the prefixes, else a short reason. */
const char *jumio_url_allowed(apr_pool_t *p, const char *url, const apr_array_header_t *prefixes)
{
    apr_uri_t u, pre;
    const char *why = jumio_url_check(p, url, &u);
    int i;
    if (why)
        return why;
    for (i = 0; prefixes && i < prefixes->nelts; i++)
        if (!jumio_url_parse(p, APR_ARRAY_IDX(prefixes, i, const char *), &pre)
            && jumio_url_under(&u, &pre))
            return NULL;
    return "matches no JumioCallbackURLAllow prefix";
}
