/* authz.c - `Require jumio-verified [<workflow key> ...]`: an authorization provider of
 * mod_authz_core granting access when the request's user (JumioUserSource: the Bearer JWT,
 * or r->user of the Location's own authentication) has a result in the database with a
 * decision of JumioVerifiedDecisions, one of the keys, younger than JumioVerifiedMaxAge.
 * No user: 401 (WWW-Authenticate: Bearer for a JWT); not verified: 403. On a grant the
 * fixups hook gives the result to the page: JUMIO_* variables and, with JumioVerifiedHeaders,
 * Jumio-* request headers. Client-sent Jumio-* headers are removed from every request as soon
 * as it is read. Results are cached per process for at most 1 s (src/cache.c). */
#include "authz.h"
#include "cache.h"
#include "config.h"
#include "user.h"
#include "store/store.h"
#include <mod_auth.h>
#include <ap_provider.h>
#include <http_core.h>
#include <http_protocol.h>
#include <http_request.h>
#include <apr_strings.h>
#include <apr_lib.h>

/* The workflow keys of one Require line (none: any key). */
typedef struct {
    int nkeys;
    int *keys;
    const char *text; /* the keys, comma-separated: part of the cache key */
} jumio_authz_line_t;

/* What the provider learnt in this request (kept in r->request_config). */
typedef struct {
    const char *user; /* the user of a grant (JWT: once identified) */
    int jwt_tried;    /* the Bearer JWT was looked at */
    int want_bearer;  /* no usable JWT: the check_authn hook answers 401 */
    int granted;      /* row holds the result of a grant */
    jumio_verified_t row;
} jumio_authz_req_t;

/* The names of the variables and headers given on a grant, in the same order. */
static const char *const jumio_authz_vars[] = { "JUMIO_USER", "JUMIO_DECISION",
                                                "JUMIO_WORKFLOW_KEY", "JUMIO_TRANSACTION_REFERENCE",
                                                "JUMIO_VERIFIED_AT" };
static const char *const jumio_authz_headers[] = { "Jumio-User", "Jumio-Decision",
                                                   "Jumio-Workflow-Key",
                                                   "Jumio-Transaction-Reference",
                                                   "Jumio-Verified-At" };
#define JUMIO_AUTHZ_NVARS 5

/* The request's state of the provider, made on first use. */
static jumio_authz_req_t *jumio_authz_req(request_rec *r)
{
    jumio_authz_req_t *q = ap_get_module_config(r->request_config, &jumio_module);
    if (!q) {
        q = apr_pcalloc(r->pool, sizeof(*q));
        ap_set_module_config(r->request_config, &jumio_module, q);
    }
    return q;
}

/* parse_require_line: the workflow keys, each a positive integer. */
static const char *jumio_authz_parse(cmd_parms *cmd, const char *line, const void **parsed)
{
    jumio_authz_line_t *l = apr_pcalloc(cmd->pool, sizeof(*l));
    apr_array_header_t *keys = apr_array_make(cmd->pool, 2, sizeof(int));
    const char *t = line, *w;
    char *end;
    long v;
    l->text = "";
    while ((w = ap_getword_conf(cmd->temp_pool, &t)) && *w) {
        v = apr_isdigit(*w) ? strtol(w, &end, 10) : 0;
        if (v < 1 || v > 2147483647L || *end)
            return apr_psprintf(cmd->pool,
                                "Require jumio-verified: a workflow key is a positive integer, "
                                "not '%s'",
                                w);
        APR_ARRAY_PUSH(keys, int) = (int)v;
        l->text = apr_psprintf(cmd->pool, "%s%ld,", l->text, v);
    }
    l->nkeys = keys->nelts;
    l->keys = (int *)keys->elts;
    *parsed = l;
    return NULL;
}

/* The request's user from its Bearer JWT (looked at once per request), set as r->user when
 * there is none; NULL when the JWT is missing or invalid. */
static const char *jumio_authz_jwt_user(request_rec *r, jumio_authz_req_t *q,
                                        const jumio_srv_cfg_t *sc, const jumio_dir_cfg_t *dc)
{
    if (!q->jwt_tried) {
        q->jwt_tried = 1;
        q->user = jumio_user_identify(r, sc, dc);
        if (q->user && !r->user)
            r->user = apr_pstrdup(r->pool, q->user);
    }
    return q->user;
}

/* A result as cache text: "workflow_id decision key final_at" ("" for none). */
static const char *jumio_authz_pack(apr_pool_t *p, int rc, const jumio_verified_t *v)
{
    return rc ? ""
              : apr_psprintf(p, "%s %s %d %" APR_INT64_T_FMT, v->workflow_id, v->decision,
                             v->workflow_key, v->final_at);
}

/* A result from cache text: 0 a result, 1 none. */
static int jumio_authz_unpack(apr_pool_t *p, char *text, jumio_verified_t *v)
{
    char *last = NULL, *key, *at;
    /* "" (none): apr_strtok leaves `last` unset, so the next calls must not run */
    if (!(v->workflow_id = apr_strtok(text, " ", &last)))
        return 1;
    v->decision = apr_strtok(NULL, " ", &last);
    key = apr_strtok(NULL, " ", &last);
    at = apr_strtok(NULL, " ", &last);
    if (!v->workflow_id || !v->decision || !key || !at)
        return 1;
    v->workflow_key = atoi(key);
    v->final_at = apr_atoi64(at);
    return 0;
}

/* The user's result for this Require line and the Location's settings, from the cache (at
 * most 1 s old) or the database: 0 verified (v filled), 1 not verified, -1 error. */
static int jumio_authz_result(request_rec *r, const jumio_srv_cfg_t *sc, const jumio_dir_cfg_t *dc,
                              const jumio_authz_line_t *l, const char *user, jumio_verified_t *v)
{
    jumio_ctx_t c = { r->pool, r->server, r, 0 };
    int mask = jumio_config_verified_decisions(dc), age = jumio_config_verified_max_age(dc);
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    apr_size_t klen, vlen;
    char *text;
    int rc;
    const char *key = jumio_cache_key(r->pool, sc, &klen, user, l->text, apr_itoa(r->pool, mask),
                                      apr_itoa(r->pool, age), (const char *)NULL);
    if (jumio_cache_get(JUMIO_CACHE_VERIFIED, key, klen, r->pool, &text, &vlen))
        rc = jumio_authz_unpack(r->pool, text, v);
    else {
        rc = jumio_store_verified(&c, user, mask & JUMIO_VERIFIED_PASSED ? "PASSED" : "WARNING",
                                  mask & JUMIO_VERIFIED_WARNING ? "WARNING" : "PASSED", l->keys,
                                  l->nkeys, age ? now - age : 0, v);
        if (rc < 0)
            return -1;
        text = (char *)jumio_authz_pack(r->pool, rc, v);
        jumio_cache_put(JUMIO_CACHE_VERIFIED, key, klen, text, strlen(text));
    }
    /* a cached result may have grown too old since it was read */
    return rc || (age && v->final_at <= now - age) ? 1 : 0;
}

/* check_authorization of `Require jumio-verified`. */
static authz_status jumio_authz_check(request_rec *r, const char *line, const void *parsed)
{
    const jumio_srv_cfg_t *sc = jumio_config_srv(r);
    const jumio_dir_cfg_t *dc = jumio_config_dir(r);
    jumio_authz_req_t *q = jumio_authz_req(r);
    jumio_verified_t v;
    const char *user;
    int rc;
    if (!parsed)
        return AUTHZ_GENERAL_ERROR;
    if (jumio_config_user_source(dc) == JUMIO_USER_REMOTE) {
        if (!r->user)
            return AUTHZ_DENIED_NO_USER; /* the Location's authentication comes first */
        if (!(user = jumio_user_identify(r, sc, dc)))
            return AUTHZ_DENIED;
    }
    else if (!(user = jumio_authz_jwt_user(r, q, sc, dc))) {
        q->want_bearer = 1;
        return AUTHZ_DENIED_NO_USER;
    }
    rc = jumio_authz_result(r, sc, dc, parsed, user, &v);
    if (rc < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_jumio: jumio-verified: the database could not be read");
        return AUTHZ_GENERAL_ERROR;
    }
    if (rc) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: jumio-verified: not verified");
        return AUTHZ_DENIED;
    }
    q->user = user;
    q->row = v;
    q->granted = 1;
    return AUTHZ_GRANTED;
}

static const authz_provider jumio_authz_provider = { &jumio_authz_check, &jumio_authz_parse };

/* check_authn hook: a Location of `Require jumio-verified` (JumioUserSource jwt, no AuthType)
 * whose JWT is missing or invalid gets 401 with WWW-Authenticate: Bearer. */
static int jumio_authz_authn(request_rec *r)
{
    jumio_authz_req_t *q = ap_get_module_config(r->request_config, &jumio_module);
    if (!q || !q->want_bearer || r->user || ap_auth_type(r))
        return DECLINED;
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   jumio_user_bearer(r) ? "Bearer error=\"invalid_token\"" : "Bearer");
    return HTTP_UNAUTHORIZED;
}

/* 1 when a header name is one of ours in any case, '_' for '-' (a backend may read them
 * alike). */
static int jumio_authz_is_ours(apr_pool_t *p, const char *name)
{
    char *n, *c;
    int i;
    if (strncasecmp(name, "jumio", 5) || (name[5] != '-' && name[5] != '_'))
        return 0;
    n = apr_pstrdup(p, name);
    for (c = n; *c; c++)
        *c = *c == '_' ? '-' : apr_tolower(*c);
    for (i = 0; i < JUMIO_AUTHZ_NVARS; i++)
        if (!strcasecmp(n, jumio_authz_headers[i]))
            return 1;
    return 0;
}

/* post_read_request hook: remove client-sent Jumio-* headers of ours from every request,
 * before anything could read them. */
static int jumio_authz_clean(request_rec *r)
{
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    apr_array_header_t *drop = NULL;
    int i;
    for (i = 0; i < h->nelts; i++)
        if (e[i].key && jumio_authz_is_ours(r->pool, e[i].key)) {
            if (!drop)
                drop = apr_array_make(r->pool, 4, sizeof(const char *));
            APR_ARRAY_PUSH(drop, const char *) = e[i].key;
        }
    for (i = 0; drop && i < drop->nelts; i++)
        apr_table_unset(r->headers_in, APR_ARRAY_IDX(drop, i, const char *));
    return DECLINED;
}

/* Unix seconds as ISO 8601 UTC ("2024-05-01T10:03:00Z"). */
static const char *jumio_authz_iso(apr_pool_t *p, apr_int64_t t)
{
    apr_time_exp_t x;
    if (apr_time_exp_gmt(&x, apr_time_from_sec(t)) != APR_SUCCESS)
        return "";
    return apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02dZ", x.tm_year + 1900, x.tm_mon + 1,
                        x.tm_mday, x.tm_hour, x.tm_min, x.tm_sec);
}

/* fixups hook: after a grant (every access check passed), the result as JUMIO_* variables
 * and, with JumioVerifiedHeaders on, as Jumio-* request headers. */
static int jumio_authz_fixups(request_rec *r)
{
    jumio_authz_req_t *q = ap_get_module_config(r->request_config, &jumio_module);
    const char *val[JUMIO_AUTHZ_NVARS];
    int i, headers;
    if (!q || !q->granted)
        return DECLINED;
    headers = jumio_config_verified_headers(jumio_config_dir(r));
    val[0] = q->user;
    val[1] = q->row.decision;
    val[2] = apr_itoa(r->pool, q->row.workflow_key);
    val[3] = q->row.workflow_id;
    val[4] = jumio_authz_iso(r->pool, q->row.final_at);
    for (i = 0; i < JUMIO_AUTHZ_NVARS; i++) {
        apr_table_setn(r->subprocess_env, jumio_authz_vars[i], val[i]);
        if (headers)
            apr_table_setn(r->headers_in, jumio_authz_headers[i], val[i]);
    }
    return DECLINED;
}

/* Register the provider and its hooks. */
void jumio_authz_register_hooks(apr_pool_t *p)
{
    /* before mod_authn_core's "no AuthType: nobody" answer */
    static const char *const before_authn_core[] = { "mod_authn_core.c", NULL };
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jumio-verified", AUTHZ_PROVIDER_VERSION,
                              &jumio_authz_provider, AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_check_authn(jumio_authz_authn, NULL, before_authn_core, APR_HOOK_LAST,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_post_read_request(jumio_authz_clean, NULL, NULL, APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(jumio_authz_fixups, NULL, NULL, APR_HOOK_MIDDLE);
}
