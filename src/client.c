/* client.c - talking to Jumio over libcurl: reused handles, OAuth2 token cache,
 * authenticated calls, and the mapping of failures to answers for the portal (docs/DESIGN.md "Error answers"). */
#include "client.h"
#include "proc.h"
#include "http.h"
#include "metrics.h"
#include "core/core.h"
#include <apr_strings.h>
#include <apr_lib.h>
#include <curl/curl.h>

#define JUMIO_CLIENT_MAX_ANSWER (1024 * 1024)

typedef struct {
    apr_pool_t *pool;
    char *buf;
    apr_size_t len, cap;
    int overflow;
    const char *retry_after;
} jumio_client_sink_t;

typedef struct {
    const char *method, *url, *auth_header, *content_type, *user, *password;
    const char *body;
    apr_size_t body_len;
    jumio_call_e call; /* the service, for the metrics and the log line */
} jumio_client_req_t;

/* Undo curl_global_init when the configuration pool goes. */
static apr_status_t jumio_client_global_cleanup(void *unused)
{
    curl_global_cleanup();
    return APR_SUCCESS;
}

/* curl_global_init once per configuration cycle (post_config). */
apr_status_t jumio_client_global_init(apr_pool_t *pconf, server_rec *s)
{
    CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "mod_jumio: curl_global_init failed: %s",
                     curl_easy_strerror(rc));
        return APR_EGENERAL;
    }
    apr_pool_cleanup_register(pconf, NULL, jumio_client_global_cleanup, apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* An easy handle from the idle list, or a new one. */
static CURL *jumio_client_handle_get(void)
{
    jumio_handles_t *hs = jumio_proc_handles();
    CURL *h = NULL;
    if (hs->mutex && apr_thread_mutex_lock(hs->mutex) == APR_SUCCESS) {
        if (hs->nidle > 0)
            h = hs->idle[--hs->nidle];
        apr_thread_mutex_unlock(hs->mutex);
    }
    return h ? h : curl_easy_init();
}

/* Give a handle back (kept alive) or free it when the idle list is full. */
static void jumio_client_handle_put(CURL *h)
{
    jumio_handles_t *hs = jumio_proc_handles();
    curl_easy_reset(h);
    if (hs->mutex && apr_thread_mutex_lock(hs->mutex) == APR_SUCCESS) {
        if (hs->nidle < JUMIO_PROC_IDLE_MAX) {
            hs->idle[hs->nidle++] = h;
            h = NULL;
        }
        apr_thread_mutex_unlock(hs->mutex);
    }
    if (h)
        curl_easy_cleanup(h);
}

/* libcurl body callback: collect into the pool, capped. */
static size_t jumio_client_on_body(char *ptr, size_t size, size_t n, void *ud)
{
    jumio_client_sink_t *k = ud;
    apr_size_t add = size * n;
    if (k->len + add > JUMIO_CLIENT_MAX_ANSWER) {
        k->overflow = 1;
        return 0;
    }
    if (k->len + add + 1 > k->cap) {
        apr_size_t cap = (k->len + add + 1) * 2;
        char *nb = apr_palloc(k->pool, cap);
        if (k->len)
            memcpy(nb, k->buf, k->len);
        k->buf = nb;
        k->cap = cap;
    }
    memcpy(k->buf + k->len, ptr, add);
    k->len += add;
    k->buf[k->len] = '\0';
    return add;
}

/* libcurl header callback: keep Retry-After (digits only). */
static size_t jumio_client_on_header(char *ptr, size_t size, size_t n, void *ud)
{
    jumio_client_sink_t *k = ud;
    apr_size_t len = size * n, i = 12, j;
    if (len > 12 && !strncasecmp(ptr, "Retry-After:", 12)) {
        while (i < len && (ptr[i] == ' ' || ptr[i] == '\t'))
            i++;
        for (j = i; j < len && apr_isdigit(ptr[j]) && j - i < 6; j++)
            ;
        if (j > i)
            k->retry_after = apr_pstrndup(k->pool, ptr + i, j - i);
    }
    return len;
}

#define JUMIO_SETOPT(h, opt, val)                                                                  \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(h, opt, val)) != CURLE_OK)                                      \
            goto end;                                                                              \
    } while (0)

/* Apply the request's options to a handle; CURLE_OK or the failing setopt's code. */
static CURLcode jumio_client_setup(jumio_ctx_t *c, CURL *h, const jumio_client_req_t *q,
                                   struct curl_slist *hdrs, jumio_client_sink_t *k)
{
    const jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    long total = jumio_config_timeout(sc);
    long conn = jumio_config_connect_timeout(sc);
    CURLcode rc;
    JUMIO_SETOPT(h, CURLOPT_URL, q->url);
    JUMIO_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
    JUMIO_SETOPT(h, CURLOPT_TIMEOUT, total);
    JUMIO_SETOPT(h, CURLOPT_CONNECTTIMEOUT, conn);
    JUMIO_SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https");
    JUMIO_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
    JUMIO_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
    JUMIO_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
    JUMIO_SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L);
    JUMIO_SETOPT(h, CURLOPT_USERAGENT,
                 sc->user_agent ? sc->user_agent : "mod_jumio/" JUMIO_VERSION);
    JUMIO_SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
    JUMIO_SETOPT(h, CURLOPT_WRITEFUNCTION, jumio_client_on_body);
    JUMIO_SETOPT(h, CURLOPT_WRITEDATA, k);
    JUMIO_SETOPT(h, CURLOPT_HEADERFUNCTION, jumio_client_on_header);
    JUMIO_SETOPT(h, CURLOPT_HEADERDATA, k);
    if (q->user) {
        JUMIO_SETOPT(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        JUMIO_SETOPT(h, CURLOPT_USERNAME, q->user);
        JUMIO_SETOPT(h, CURLOPT_PASSWORD, q->password);
    }
    if (q->body) {
        JUMIO_SETOPT(h, CURLOPT_POSTFIELDSIZE, (long)q->body_len);
        JUMIO_SETOPT(h, CURLOPT_POSTFIELDS, q->body);
    }
    else if (!strcmp(q->method, "GET"))
        JUMIO_SETOPT(h, CURLOPT_HTTPGET, 1L);
    if (strcmp(q->method, "GET") && strcmp(q->method, "POST"))
        JUMIO_SETOPT(h, CURLOPT_CUSTOMREQUEST, q->method);
end:
    return rc;
}

/* Header list of a call: Accept, Content-Type, Authorization, the extra lines. NULL on
 * allocation failure. */
static struct curl_slist *jumio_client_headers(jumio_ctx_t *c, const jumio_client_req_t *q,
                                               const apr_array_header_t *extra)
{
    struct curl_slist *l = curl_slist_append(NULL, "Accept: application/json"), *n;
    int i;
    if (l && q->content_type) {
        n = curl_slist_append(l, apr_pstrcat(c->pool, "Content-Type: ", q->content_type, NULL));
        l = n ? n : (curl_slist_free_all(l), NULL);
    }
    if (l && q->auth_header) {
        n = curl_slist_append(l, q->auth_header);
        l = n ? n : (curl_slist_free_all(l), NULL);
    }
    if (l) {
        n = curl_slist_append(l, "Expect:");
        l = n ? n : (curl_slist_free_all(l), NULL);
    }
    for (i = 0; l && extra && i < extra->nelts; i++) {
        n = curl_slist_append(l, APR_ARRAY_IDX(extra, i, const char *));
        l = n ? n : (curl_slist_free_all(l), NULL);
    }
    return l;
}

/* The request's UNIQUE_ID (mod_unique_id) when it is one (letters, digits, @ - _), else NULL. */
static const char *jumio_client_unique_id(jumio_ctx_t *c)
{
    const char *id = c->r ? apr_table_get(c->r->subprocess_env, "UNIQUE_ID") : NULL;
    apr_size_t i;
    for (i = 0; id && id[i]; i++)
        if (i >= 64 || !(apr_isalnum(id[i]) || id[i] == '@' || id[i] == '-' || id[i] == '_'))
            return NULL;
    return id && *id ? id : NULL;
}

/* Count an exchange (src/metrics.c) and log its line at info: service, HTTP status ("-" when
 * none), milliseconds, the request's UNIQUE_ID; never a URL, header or body. */
static void jumio_client_note(jumio_ctx_t *c, const jumio_client_req_t *q, CURLcode rc, long status,
                              apr_time_t start)
{
    apr_interval_time_t took = apr_time_now() - start;
    const char *uid = jumio_client_unique_id(c);
    jumio_metric_call(
        q->call, jumio_metric_outcome(rc == CURLE_OK ? status : 0, rc == CURLE_OPERATION_TIMEDOUT),
        took);
    jumio_log(
        c, APLOG_INFO, 0, "mod_jumio: Jumio call service=%s status=%s ms=%" APR_INT64_T_FMT "%s%s",
        jumio_metric_call_name(q->call), rc == CURLE_OK && status ? apr_ltoa(c->pool, status) : "-",
        (apr_int64_t)apr_time_as_msec(took), uid ? " unique_id=" : "", uid ? uid : "");
}

/* Perform one HTTP exchange with extra header lines (or NULL); fills status and body.
 * CURLE_OK or the curl error (logged). */
static CURLcode jumio_client_exchange(jumio_ctx_t *c, const jumio_client_req_t *q,
                                      const apr_array_header_t *extra, long *status,
                                      jumio_client_sink_t *k)
{
    struct curl_slist *hdrs = jumio_client_headers(c, q, extra);
    CURL *h = jumio_client_handle_get();
    CURLcode rc = CURLE_OUT_OF_MEMORY;
    apr_time_t start = apr_time_now();
    memset(k, 0, sizeof(*k));
    k->pool = c->pool;
    *status = 0;
    if (h && hdrs && (rc = jumio_client_setup(c, h, q, hdrs, k)) == CURLE_OK)
        rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        rc = curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (rc != CURLE_OK)
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: %s %s failed: %s%s", q->method, q->url,
                  curl_easy_strerror(rc), k->overflow ? " (answer too large)" : "");
    jumio_client_note(c, q, rc, *status, start);
    if (h)
        jumio_client_handle_put(h);
    curl_slist_free_all(hdrs);
    return rc;
}

/* Perform one HTTP exchange; fills status and body. CURLE_OK or the curl error (logged). */
static CURLcode jumio_client_perform(jumio_ctx_t *c, const jumio_client_req_t *q, long *status,
                                     jumio_client_sink_t *k)
{
    return jumio_client_exchange(c, q, NULL, status, k);
}

static jumio_up_e jumio_client_token_get(jumio_ctx_t *c, jumio_srv_cfg_t *sc,
                                         jumio_token_cache_t *tc, const char **retry_after);

/* Fetch a new OAuth2 token into the cache (the caller holds the token mutex), counted in
 * jumio_token_fetches_total. */
static jumio_up_e jumio_client_token_fetch(jumio_ctx_t *c, jumio_srv_cfg_t *sc,
                                           jumio_token_cache_t *tc, const char **retry_after)
{
    jumio_up_e up = jumio_client_token_get(c, sc, tc, retry_after);
    jumio_metric_inc(up == JUMIO_UP_OK ? JUMIO_M_TOKEN_FETCH_OK : JUMIO_M_TOKEN_FETCH_FAILED);
    return up;
}

/* Ask Jumio for a new OAuth2 token and put it into the cache. */
static jumio_up_e jumio_client_token_get(jumio_ctx_t *c, jumio_srv_cfg_t *sc,
                                         jumio_token_cache_t *tc, const char **retry_after)
{
    jumio_client_req_t q = { "POST",
                             NULL,
                             NULL,
                             "application/x-www-form-urlencoded",
                             sc->client_id,
                             sc->client_secret,
                             "grant_type=client_credentials",
                             29,
                             JUMIO_CALL_TOKEN };
    jumio_client_sink_t k;
    json_t *ans, *tok, *exp;
    long status;
    CURLcode rc;
    q.url = apr_pstrcat(c->pool, jumio_config_endpoint(sc, JUMIO_SVC_AUTH, c->pool),
                        "/oauth2/token", NULL);
    rc = jumio_client_perform(c, &q, &status, &k);
    if (rc != CURLE_OK)
        return rc == CURLE_OPERATION_TIMEDOUT ? JUMIO_UP_TIMEOUT : JUMIO_UP_ERROR;
    if (status == 429) {
        *retry_after = k.retry_after;
        return JUMIO_UP_BUSY;
    }
    if (status != 200) {
        const char *why = jumio_error_text(c->pool, k.buf, k.len);
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: token request answered %ld%s%s", status,
                  why ? ": " : "", why ? why : "");
        return status >= 400 && status < 500 ? JUMIO_UP_REJECTED : JUMIO_UP_ERROR;
    }
    ans = jumio_json_load(k.buf, k.len);
    tok = json_object_get(ans, "access_token");
    exp = json_object_get(ans, "expires_in");
    if (!json_is_string(tok) || !json_string_length(tok) || json_string_length(tok) > 8192
        || !json_is_integer(exp) || json_integer_value(exp) <= 0) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: token answer is not usable");
        json_decref(ans);
        return JUMIO_UP_ERROR;
    }
    free(tc->token);
    tc->token = strdup(json_string_value(tok));
    /* reused until 60 s before it expires (a token of 60 s or less is used for one call) */
    tc->refresh_at = apr_time_now() + apr_time_from_sec(json_integer_value(exp) - 60);
    jumio_log(c, APLOG_DEBUG, 0,
              "mod_jumio: new access token, valid for %" JSON_INTEGER_FORMAT " s",
              json_integer_value(exp));
    json_decref(ans);
    return tc->token ? JUMIO_UP_OK : JUMIO_UP_ERROR;
}

/* "Authorization: ..." header for a business call, from the cache or a fresh token.
 * old: a token Jumio refused (401): fetch a new one unless another thread already did. */
static jumio_up_e jumio_client_auth(jumio_ctx_t *c, const char *old, const char **header,
                                    const char **retry_after)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    jumio_proc_t *pr = jumio_proc_of(sc);
    jumio_token_cache_t *tc = pr ? &pr->tokens : NULL;
    jumio_up_e up = JUMIO_UP_OK;
    if (sc->auth == JUMIO_AUTH_BASIC) {
        *header = NULL;
        return JUMIO_UP_OK;
    }
    if (!sc->client_id || !tc || !tc->mutex || apr_thread_mutex_lock(tc->mutex) != APR_SUCCESS) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: JumioClientId/Secret not set");
        return JUMIO_UP_ERROR;
    }
    if (!tc->token || apr_time_now() >= tc->refresh_at || (old && !strcmp(old, tc->token))) {
        up = jumio_client_token_fetch(c, sc, tc, retry_after);
        if (up != JUMIO_UP_OK && old && tc->token && !strcmp(old, tc->token)) {
            free(tc->token); /* refused by Jumio: never offer it again */
            tc->token = NULL;
        }
    }
    if (up == JUMIO_UP_OK)
        *header = apr_pstrcat(c->pool, "Authorization: Bearer ", tc->token, NULL);
    apr_thread_mutex_unlock(tc->mutex);
    return up;
}

/* Classify a completed exchange's HTTP status and body into ans. */
static void jumio_client_classify(jumio_ctx_t *c, const jumio_client_req_t *q, long status,
                                  jumio_client_sink_t *k, jumio_answer_t *ans)
{
    const char *why;
    ans->http_status = status;
    if (status >= 200 && status < 300) {
        ans->json = k->len ? jumio_json_load(k->buf, k->len) : NULL;
        ans->outcome = (json_is_object(ans->json) || (!k->len && strcmp(q->method, "GET")))
                           ? JUMIO_UP_OK
                           : JUMIO_UP_ERROR;
        if (ans->outcome != JUMIO_UP_OK)
            jumio_log(c, APLOG_ERR, 0, "mod_jumio: %s %s: answer is not JSON", q->method, q->url);
        return;
    }
    why = jumio_error_text(c->pool, k->buf, k->len);
    jumio_log(c, status == 404 ? APLOG_INFO : APLOG_ERR, 0, "mod_jumio: %s %s answered %ld%s%s",
              q->method, q->url, status, why ? ": " : "", why ? why : "");
    ans->outcome = status == 404                     ? JUMIO_UP_NOT_FOUND
                   : status == 429                   ? JUMIO_UP_BUSY
                   : (status >= 400 && status < 500) ? JUMIO_UP_REJECTED
                                                     : JUMIO_UP_ERROR;
    ans->retry_after = k->retry_after;
}

/* The service of a business call, from its method, base and path (label of the metrics). */
static jumio_call_e jumio_client_service(const char *method, jumio_svc_e svc, const char *path)
{
    const char *wf = strstr(path, "/workflow-executions/");
    apr_size_t n = strlen(path);
    if (svc == JUMIO_SVC_ACCOUNT)
        return !strcmp(method, "POST")  ? JUMIO_CALL_ACCOUNT_CREATE
               : !strcmp(method, "PUT") ? JUMIO_CALL_ACCOUNT_UPDATE
                                        : JUMIO_CALL_OTHER;
    if (svc != JUMIO_SVC_RETRIEVAL)
        return JUMIO_CALL_OTHER;
    if (!strcmp(method, "DELETE"))
        return wf ? JUMIO_CALL_DELETE_WORKFLOW : JUMIO_CALL_DELETE_ACCOUNT;
    if (!wf || strcmp(method, "GET"))
        return JUMIO_CALL_OTHER;
    return n > 7 && !strcmp(path + n - 7, "/status") ? JUMIO_CALL_STATUS : JUMIO_CALL_DETAILS;
}

/* One authenticated exchange, refreshing the token and retrying once on 401. */
static void jumio_client_call_once(jumio_ctx_t *c, const char *method, jumio_svc_e svc,
                                   const char *path, json_t *body, jumio_answer_t *ans)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    jumio_client_req_t q = { method, NULL, NULL, NULL, NULL, NULL, NULL, 0, JUMIO_CALL_OTHER };
    jumio_client_sink_t k;
    const char *text = jumio_json_dump(c->pool, body);
    const char *old = NULL;
    long status = 0;
    int attempt;
    CURLcode rc;
    memset(ans, 0, sizeof(*ans));
    ans->outcome = JUMIO_UP_ERROR;
    q.url = apr_pstrcat(c->pool, jumio_config_endpoint(sc, svc, c->pool), path, NULL);
    q.call = jumio_client_service(method, svc, path);
    if (text) {
        q.body = text;
        q.body_len = strlen(text);
        q.content_type = "application/json";
    }
    if (sc->auth == JUMIO_AUTH_BASIC) {
        q.user = sc->client_id;
        q.password = sc->client_secret;
    }
    for (attempt = 0; attempt < 2; attempt++) {
        jumio_up_e up = jumio_client_auth(c, old, &q.auth_header, &ans->retry_after);
        if (up != JUMIO_UP_OK) {
            ans->outcome = up;
            return;
        }
        rc = jumio_client_perform(c, &q, &status, &k);
        if (rc != CURLE_OK) {
            ans->outcome = rc == CURLE_OPERATION_TIMEDOUT ? JUMIO_UP_TIMEOUT : JUMIO_UP_ERROR;
            return;
        }
        if (status != 401 || sc->auth == JUMIO_AUTH_BASIC || !q.auth_header)
            break;
        old = apr_pstrdup(c->pool, q.auth_header + strlen("Authorization: Bearer "));
        jumio_log(c, APLOG_INFO, 0, "mod_jumio: token refused, fetching a new one");
    }
    jumio_client_classify(c, &q, status, &k, ans);
}

/* Answer the portal for a failed call (502/503/504, docs/DESIGN.md "Error answers"); OK. */
int jumio_client_fail(request_rec *r, const jumio_answer_t *ans)
{
    switch (ans->outcome) {
    case JUMIO_UP_REJECTED:
        return jumio_http_fail(r, JUMIO_E_UPSTREAM_REJECTED);
    case JUMIO_UP_TIMEOUT:
        return jumio_http_fail(r, JUMIO_E_UPSTREAM_TIMEOUT);
    case JUMIO_UP_BUSY:
        apr_table_setn(r->err_headers_out, "Retry-After",
                       ans->retry_after ? ans->retry_after : "5");
        return jumio_http_fail(r, JUMIO_E_UPSTREAM_BUSY);
    default:
        return jumio_http_fail(r, JUMIO_E_UPSTREAM_ERROR);
    }
}

/* One authenticated business call. Idempotent GETs that fail with 5xx or no connection are
 * retried twice with backoff (0.2 s, 0.6 s); POST/PUT never are (a timed-out POST may have
 * created a workflow). */
void jumio_client_call(jumio_ctx_t *c, const char *method, jumio_svc_e svc, const char *path,
                       json_t *body, jumio_answer_t *ans)
{
    int attempt;
    for (attempt = 0;; attempt++) {
        jumio_client_call_once(c, method, svc, path, body, ans);
        if (strcmp(method, "GET") || ans->outcome != JUMIO_UP_ERROR || attempt == 2)
            return;
        json_decref(ans->json);
        apr_sleep(apr_time_from_msec(attempt ? 600 : 200));
    }
}

/* Plain GET of a URL without Jumio credentials (e.g. an identity provider's JWKS document),
 * with the same limits as Jumio calls. APR_SUCCESS with status and body set, else an error. */
apr_status_t jumio_client_fetch(jumio_ctx_t *c, const char *url, long *status, const char **body,
                                apr_size_t *len)
{
    jumio_client_req_t q = { "GET", url, NULL, NULL, NULL, NULL, NULL, 0, JUMIO_CALL_JWKS };
    jumio_client_sink_t k;
    const char *health = jumio_config_endpoint(jumio_config_srv_of(c), JUMIO_SVC_STATUS, c->pool);
    if (health && !strcmp(url, health))
        q.call = JUMIO_CALL_HEALTH;
    if (jumio_client_perform(c, &q, status, &k) != CURLE_OK)
        return APR_EGENERAL;
    *body = k.buf ? k.buf : "";
    *len = k.len;
    return APR_SUCCESS;
}

/* POST a JSON body to a URL without Jumio credentials (signed result notifications), with
 * extra header lines; APR_SUCCESS with *status, or an error when no answer came (logged). */
apr_status_t jumio_client_post(jumio_ctx_t *c, const char *url, const apr_array_header_t *headers,
                               const char *body, apr_size_t len, long *status)
{
    jumio_client_req_t q = { "POST", url,  NULL, "application/json", NULL,
                             NULL,   body, len,  JUMIO_CALL_NOTIFY };
    jumio_client_sink_t k;
    return jumio_client_exchange(c, &q, headers, status, &k) == CURLE_OK ? APR_SUCCESS
                                                                         : APR_EGENERAL;
}
