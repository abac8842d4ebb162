/* origin.c - cross-site protection and CORS (docs/DESIGN.md "Cross-site requests and CORS").
 * Origins are compared serialized (jumio_config_origin): scheme and host lowercase, the
 * default port left out. The request's own origin is the one httpd uses for its own URLs
 * (ap_construct_url): scheme from mod_ssl or `ServerName https://...`, host and port from the
 * Host header (UseCanonicalName Off, the default) or ServerName (UseCanonicalName On). No
 * X-Forwarded-* header is trusted. */
#include "origin.h"
#include "http.h"
#include <http_core.h>
#include <http_protocol.h>
#include <apr_strings.h>

/* What a preflight may ask for beyond the CORS-safelisted request headers. */
#define JUMIO_ORIGIN_HEADERS "Authorization, Content-Type, X-Transaction-Reference"
/* How long a browser may cache a preflight answer (seconds). */
#define JUMIO_ORIGIN_MAX_AGE "600"

/* 1 when origin (serialized) is one of the location's JumioAllowedOrigin. */
int jumio_origin_allowed(const jumio_dir_cfg_t *dc, const char *origin)
{
    int i;
    for (i = 0; origin && dc->allowed_origins && i < dc->allowed_origins->nelts; i++)
        if (!strcmp(origin, APR_ARRAY_IDX(dc->allowed_origins, i, const char *)))
            return 1;
    return 0;
}

/* The request's own origin, serialized, or NULL when httpd's URL of it is not an origin. */
static const char *jumio_origin_own(request_rec *r)
{
    return jumio_config_origin(r->pool, ap_construct_url(r->pool, "", r));
}

/* The Origin header serialized; NULL when absent, "" when it is no http(s) origin ("null",
 * other schemes, paths): such an origin is never ours nor allowed. */
static const char *jumio_origin_header(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Origin"), *o;
    if (!h)
        return NULL;
    o = jumio_config_origin(r->pool, h);
    return o ? o : "";
}

/* Log why a request was refused as cross-site (the Origin escaped and cut short). */
static int jumio_origin_refused(request_rec *r, const char *why)
{
    const char *origin = apr_table_get(r->headers_in, "Origin");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  "mod_jumio: cross-site request refused: %s (Origin %.100s)", why,
                  origin ? ap_escape_logitem(r->pool, origin) : "absent");
    return 1;
}

/* 1 when the request must be refused as cross-site; see origin.h. */
int jumio_origin_cross_site(request_rec *r, const jumio_dir_cfg_t *dc)
{
    const char *origin, *fetch_site;
    if (jumio_config_user_source(dc) != JUMIO_USER_REMOTE)
        return 0; /* a bearer token is never attached by the browser itself */
    origin = jumio_origin_header(r);
    fetch_site = apr_table_get(r->headers_in, "Sec-Fetch-Site");
    if (jumio_origin_allowed(dc, origin))
        return 0; /* the operator trusts that origin, also from another site */
    if (fetch_site && !strcasecmp(fetch_site, "cross-site"))
        return jumio_origin_refused(r, "Sec-Fetch-Site: cross-site");
    if (origin) {
        const char *own = jumio_origin_own(r);
        if (own && !strcmp(origin, own))
            return 0;
        return jumio_origin_refused(r, "the Origin is neither this server's nor allowed");
    }
    if (fetch_site)
        return 0; /* same-origin, same-site or none (the user's own navigation) */
    if (!jumio_http_content_type_is(r, "application/json"))
        return jumio_origin_refused(
            r, "no Sec-Fetch-Site, no Origin and no Content-Type: application/json");
    return 0;
}

/* 1 when the request is a CORS preflight; see origin.h. */
int jumio_origin_is_preflight(request_rec *r)
{
    return r->method_number == M_OPTIONS && apr_table_get(r->headers_in, "Origin")
           && apr_table_get(r->headers_in, "Access-Control-Request-Method");
}

/* Vary: Origin where the answer depends on it; for an allowed origin (serialized) the
 * Access-Control-Allow-Origin and, for remote-user, -Allow-Credentials headers. 1 when the
 * origin is allowed. */
static int jumio_origin_headers(request_rec *r, const jumio_dir_cfg_t *dc, const char *origin)
{
    if (!dc->allowed_origins)
        return 0;
    apr_table_mergen(r->err_headers_out, "Vary", "Origin");
    if (!jumio_origin_allowed(dc, origin))
        return 0;
    /* err_headers_out only: httpd sends it with every answer; a copy in headers_out too would
     * be sent twice */
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Origin", origin);
    if (jumio_config_user_source(dc) == JUMIO_USER_REMOTE)
        apr_table_setn(r->err_headers_out, "Access-Control-Allow-Credentials", "true");
    return 1;
}

/* Answer a preflight; see origin.h. */
int jumio_origin_preflight(request_rec *r, const jumio_dir_cfg_t *dc, const char *method)
{
    if (!jumio_origin_headers(r, dc, jumio_origin_header(r))) {
        jumio_origin_refused(r, "preflight from an origin that is not allowed");
        return jumio_http_fail_msg(r, JUMIO_E_CROSS_SITE,
                                   "This origin may not call this endpoint.");
    }
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods", method);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers", JUMIO_ORIGIN_HEADERS);
    apr_table_setn(r->err_headers_out, "Access-Control-Max-Age", JUMIO_ORIGIN_MAX_AGE);
    r->status = HTTP_NO_CONTENT;
    return OK;
}

/* The CORS headers of an actual request's answer; see origin.h. */
void jumio_origin_cors(request_rec *r, const jumio_dir_cfg_t *dc)
{
    if (jumio_origin_headers(r, dc, jumio_origin_header(r)))
        apr_table_setn(r->err_headers_out, "Access-Control-Expose-Headers", "Retry-After");
}
