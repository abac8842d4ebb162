/* intake.c - POST intake: verify the user, create/update the Jumio account with the workflow,
 * store the transaction, answer the web client link (docs/DESIGN.md "Intake"). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "origin.h"
#include "client.h"
#include "store/store.h"
#include "account.h"
#include "work.h"
#include "metrics.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

typedef struct {
    request_rec *r;
    jumio_ctx_t *ctx;
    jumio_srv_cfg_t *sc;
    jumio_dir_cfg_t *dc;
    const char *user;
    const char *callback_url; /* from the body or config, before signing */
    jumio_acct_t acct;        /* stored account (account_id NULL when none) */
    jumio_account_req_t req;
    const char *token;    /* callback signing token, or NULL */
    const char *claim;    /* our claim of the user (account creation, whole intake), or NULL */
    const char *gone;     /* the account id being replaced while claiming, or NULL */
    const char *settings; /* fingerprint of the request's settings (JumioIntakeReuse), or NULL */
    jumio_tx_t reused;    /* the transaction answered again */
} jumio_intake_t;

/* Parse the optional JSON body; sets in->callback_url. JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_body(jumio_intake_t *in)
{
    request_rec *r = in->r;
    char *body;
    apr_size_t len;
    json_t *j, *cb;
    int st = jumio_http_read_body(r, jumio_config_max_body(in->dc), &body, &len);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return jumio_http_fail(r, JUMIO_E_TOO_LARGE);
    if (st)
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, "The body could not be read.");
    if (!len)
        return JUMIO_CONTINUE;
    if (!jumio_http_content_type_is(r, "application/json"))
        return jumio_http_fail(r, JUMIO_E_MEDIA_TYPE);
    j = jumio_json_load(body, len);
    if (!json_is_object(j)) {
        json_decref(j);
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, "The body must be a JSON object.");
    }
    cb = json_object_get(j, "callbackUrl");
    if (cb && !json_is_string(cb)) {
        json_decref(j);
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, "callbackUrl must be a string.");
    }
    if (cb)
        in->callback_url = apr_pstrmemdup(r->pool, json_string_value(cb), json_string_length(cb));
    json_decref(j);
    return JUMIO_CONTINUE;
}

/* 1 when the body callbackUrl is allowed by JumioCallbackURLAllow (src/core/url.c), else 0
 * with the reason (never the URL's query) logged at info. */
static int jumio_intake_url_allowed(request_rec *r, const jumio_dir_cfg_t *dc, const char *url)
{
    const char *why = jumio_url_allowed(r->pool, url, dc->callback_allow);
    if (why)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: body callbackUrl refused: it %s",
                      why);
    return !why;
}

/* Choose and sign the callbackUrl. JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_callback_url(jumio_intake_t *in)
{
    request_rec *r = in->r;
    const char *url = in->callback_url;
    if (url && strlen(url) > 255)
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST,
                                   "callbackUrl is longer than 255 characters.");
    if (url && !jumio_intake_url_allowed(r, in->dc, url))
        return jumio_http_fail(r, JUMIO_E_CALLBACK_URL);
    if (!url)
        url = in->dc->callback_url;
    if (url && jumio_config_signing(in->sc)) {
        in->token = jumio_util_random_token(r->pool, 32);
        if (!in->token)
            return jumio_http_fail_msg(r, JUMIO_E_INTERNAL, "No random token could be made.");
        url = apr_pstrcat(r->pool, url, strchr(url, '?') ? "&" : "?", JUMIO_TOKEN_PARAM "=",
                          in->token, NULL);
        if (strlen(url) > 255)
            return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST,
                                       "callbackUrl is too long to carry the signing token.");
    }
    in->req.callback_url = url;
    return JUMIO_CONTINUE;
}

/* The userReference to send (plain or HMAC). JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_user_reference(jumio_intake_t *in)
{
    request_rec *r = in->r;
    if (in->dc->userref == JUMIO_REF_HMAC) {
        if (!in->sc->userref_key) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "mod_jumio: JumioUserReference hmac needs JumioUserReferenceKey");
            return jumio_http_fail_msg(r, JUMIO_E_INTERNAL,
                                       "The module is not configured completely.");
        }
        in->req.user_reference = jumio_util_hmac_sha256_hex(r->pool, in->sc->userref_key,
                                                            strlen(in->sc->userref_key), in->user);
        return JUMIO_CONTINUE;
    }
    if (strlen(in->user) > 100)
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST,
                                   "The user id is longer than the 100 characters Jumio allows.");
    in->req.user_reference = in->user;
    return JUMIO_CONTINUE;
}

/* Ready predicate of account creation (jumio_account_ready_fn): another request stored an
 * account other than in->gone, now in in->acct. */
static int jumio_intake_account_ready(jumio_ctx_t *c, const char *user, const char *account_id,
                                      void *arg)
{
    jumio_intake_t *in = arg;
    if (!account_id || (in->gone && !strcmp(account_id, in->gone)))
        return 0;
    in->acct.account_id = account_id;
    return 1;
}

/* Claim the user to create an account when the stored one (if any) is `gone`, or use one that
 * another request of the user creates meanwhile. JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_claim(jumio_intake_t *in, const char *gone)
{
    const char *claim = jumio_util_random_token(in->r->pool, 16);
    int hold = jumio_account_hold(in->ctx, 1);
    jumio_account_e rc;
    in->gone = gone;
    rc = claim ? jumio_account_claim(in->ctx, in->user, claim, hold, hold,
                                     jumio_intake_account_ready, in)
               : JUMIO_ACCOUNT_ERROR;
    if (rc == JUMIO_ACCOUNT_CLAIMED) {
        in->acct.account_id = NULL;
        in->claim = claim;
    }
    if (rc == JUMIO_ACCOUNT_BUSY)
        return jumio_http_fail_msg(in->r, JUMIO_E_UNAVAILABLE,
                                   "Another request of this user is still running; retry.");
    return rc == JUMIO_ACCOUNT_ERROR ? jumio_http_fail(in->r, JUMIO_E_UNAVAILABLE) : JUMIO_CONTINUE;
}

/* The fingerprint of everything the request to Jumio depends on besides the user (workflow,
 * credentials, lifetime, URLs, locale, userReference): SHA-256 hex, or NULL. */
static const char *jumio_intake_settings(jumio_intake_t *in)
{
    jumio_account_req_t req = in->req;
    json_t *j;
    const char *text;
    req.cir = "-";
    req.callback_url = in->callback_url ? in->callback_url : in->dc->callback_url;
    req.enrolment = NULL;
    j = jumio_account_request(&req);
    text = jumio_json_dump(in->r->pool, j);
    json_decref(j);
    return text ? jumio_util_hmac_sha256_hex(in->r->pool, "settings", 8, text) : NULL;
}

/* Answer the reused transaction in->reused again. */
static int jumio_intake_answer_reused(jumio_intake_t *in)
{
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, in->r, "mod_jumio: intake reuses transaction %s",
                  in->reused.workflow_id);
    jumio_metric_inc(JUMIO_M_INTAKE_REUSED);
    return jumio_http_json(in->r, HTTP_OK,
                           json_pack("{s:s, s:s, s:s?, s:b}", "link", in->reused.redirect_url,
                                     "transactionReference", in->reused.workflow_id, "timestamp",
                                     in->reused.jumio_timestamp, "reused", 1));
}

/* Ready predicate of a whole intake (jumio_account_ready_fn): the user has a transaction to
 * reuse (in in->reused). */
static int jumio_intake_reuse_ready(jumio_ctx_t *c, const char *user, const char *account_id,
                                    void *arg)
{
    jumio_intake_t *in = arg;
    int rc = jumio_store_tx_reusable(c, user, in->settings,
                                     (apr_int64_t)apr_time_sec(apr_time_now()), &in->reused);
    return rc < 0 ? -1 : !rc;
}

/* With reuse or a quota, one intake of a user at a time: answer a reusable transaction, or
 * claim the user for the whole intake (waiting for another one of the user). JUMIO_CONTINUE
 * (claimed) or the answer sent. */
static int jumio_intake_serialise(jumio_intake_t *in)
{
    const char *claim = jumio_util_random_token(in->r->pool, 16);
    int hold = jumio_account_hold(in->ctx, 2);
    jumio_account_e rc =
        claim ? jumio_account_claim(in->ctx, in->user, claim, hold, hold,
                                    in->settings ? jumio_intake_reuse_ready : NULL, in)
              : JUMIO_ACCOUNT_ERROR;
    if (rc == JUMIO_ACCOUNT_READY)
        return jumio_intake_answer_reused(in);
    if (rc == JUMIO_ACCOUNT_BUSY)
        return jumio_http_fail_msg(in->r, JUMIO_E_UNAVAILABLE,
                                   "Another request of this user is still running; retry.");
    if (rc == JUMIO_ACCOUNT_ERROR)
        return jumio_http_fail(in->r, JUMIO_E_UNAVAILABLE);
    in->claim = claim;
    return JUMIO_CONTINUE;
}

/* JumioIntakeLimit: refuse (429, Retry-After until a slot frees) a user who started the
 * limit's number of transactions in the period. JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_quota(jumio_intake_t *in)
{
    int n = in->dc->intake_limit, period = in->dc->intake_period, got;
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now()), oldest;
    if (!n)
        return JUMIO_CONTINUE;
    if ((got = jumio_store_tx_recent(in->ctx, in->user, now - period, n, &oldest)) < 0)
        return jumio_http_fail(in->r, JUMIO_E_UNAVAILABLE);
    if (got < n)
        return JUMIO_CONTINUE;
    apr_table_setn(in->r->err_headers_out, "Retry-After",
                   apr_psprintf(in->r->pool, "%" APR_INT64_T_FMT,
                                oldest + period - now > 0 ? oldest + period - now : 1));
    jumio_metric_inc(JUMIO_M_INTAKE_LIMITED);
    return jumio_http_fail(in->r, JUMIO_E_TOO_MANY);
}

/* Load the user's stored account (workflow 9 needs one with credentials); without one, claim
 * the user to create it. JUMIO_CONTINUE or the answer sent. */
static int jumio_intake_account(jumio_intake_t *in)
{
    int rc = jumio_store_account_get(in->ctx, in->user, &in->acct);
    if (rc < 0)
        return jumio_http_fail(in->r, JUMIO_E_UNAVAILABLE);
    if (rc > 0)
        in->acct.account_id = NULL;
    if (in->req.workflow_key == 9
        && (!in->acct.account_id || !in->acct.credentials || !in->acct.credentials->nelts))
        return jumio_http_fail(in->r, JUMIO_E_NO_ENROLMENT);
    in->req.enrolment = in->acct.credentials;
    return in->acct.account_id || in->claim ? JUMIO_CONTINUE : jumio_intake_claim(in, NULL);
}

/* Call Jumio: PUT on the stored account, else POST under the user's claim. An account gone
 * at Jumio (404), or a stored id that is not a UUID, is replaced: by one another request made
 * meanwhile, or by a new one (claimed). JUMIO_CONTINUE with *ans filled, or the answer sent. */
static int jumio_intake_call(jumio_intake_t *in, json_t *body, jumio_answer_t *ans)
{
    request_rec *r = in->r;
    const char *id;
    int tries, rc;
    for (tries = 0; tries < 3; tries++) {
        if (jumio_util_is_uuid(id = in->acct.account_id)) {
            jumio_client_call(in->ctx, "PUT", JUMIO_SVC_ACCOUNT,
                              apr_pstrcat(r->pool, "/api/v1/accounts/", id, NULL), body, ans);
            if (ans->outcome != JUMIO_UP_NOT_FOUND)
                return JUMIO_CONTINUE;
            json_decref(ans->json);
            ans->json = NULL;
            ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                          "mod_jumio: account %s is gone at Jumio, replacing it", id);
            if (in->req.workflow_key == 9)
                return jumio_http_fail(r, JUMIO_E_NO_ENROLMENT);
        }
        if (in->claim) {
            jumio_client_call(in->ctx, "POST", JUMIO_SVC_ACCOUNT, "/api/v1/accounts", body, ans);
            return JUMIO_CONTINUE;
        }
        if ((rc = jumio_intake_claim(in, id)) != JUMIO_CONTINUE)
            return rc;
    }
    return jumio_http_fail_msg(r, JUMIO_E_UPSTREAM_ERROR,
                               "The user's Jumio account keeps disappearing.");
}

/* Store the transaction and account mapping, then answer the link. */
static int jumio_intake_finish(jumio_intake_t *in, json_t *answer)
{
    request_rec *r = in->r;
    jumio_account_resp_t resp;
    jumio_tx_t tx;
    jumio_acct_t acct;
    json_t *out;
    int rc;
    const char *why = jumio_account_response(r->pool, answer, &resp);
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_jumio: unusable account answer: %s", why);
        return jumio_http_fail_msg(r, JUMIO_E_UPSTREAM_ERROR, "Jumio gave an unusable answer.");
    }
    memset(&tx, 0, sizeof(tx));
    tx.workflow_id = resp.workflow_id;
    tx.account_id = resp.account_id;
    tx.user_id = in->user;
    tx.workflow_key = in->req.workflow_key;
    tx.cir = in->req.cir;
    tx.redirect_url = resp.web_href;
    tx.jumio_timestamp = resp.timestamp;
    tx.callback_token = in->token;
    tx.settings = in->settings;
    tx.reuse_until =
        (apr_int64_t)apr_time_sec(apr_time_now()) + jumio_config_token_seconds(in->dc) - 300;
    tx.next_check_at = (apr_int64_t)apr_time_sec(apr_time_now()) + jumio_config_schedule(in->sc, 0);
    acct.user_id = in->user;
    acct.account_id = resp.account_id;
    acct.credentials = resp.credentials;
    rc = jumio_store_intake(in->ctx, &tx, &acct, in->req.workflow_key == 9, in->claim);
    if (rc) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_jumio: workflow %s of account %s created at Jumio but not stored: %s",
                      resp.workflow_id, resp.account_id,
                      rc > 0 ? "the user was erased meanwhile" : "database failure");
        return jumio_http_fail_msg(r, JUMIO_E_UNAVAILABLE,
                                   rc > 0 ? "The user's data was erased meanwhile; start again."
                                          : "The transaction could not be stored.");
    }
    in->claim = NULL;
    jumio_metric_inc(JUMIO_M_INTAKE_CREATED);
    out = json_pack("{s:s, s:s, s:s?}", "link", resp.web_href, "transactionReference",
                    resp.workflow_id, "timestamp", resp.timestamp);
    if (out && jumio_config_sdk_token(in->dc) && resp.sdk_token)
        json_object_set_new(out, "sdkToken", json_string(resp.sdk_token));
    return jumio_http_json(r, HTTP_OK, out);
}

/* Fill the account request from the directory config. */
static void jumio_intake_request(jumio_intake_t *in)
{
    jumio_dir_cfg_t *dc = in->dc;
    in->req.workflow_key = jumio_config_workflow_key(dc);
    in->req.id_types = dc->id_types;
    in->req.id_countries = dc->id_countries;
    in->req.facemap_types = dc->facemap_types;
    in->req.token_lifetime = dc->token_lifetime;
    in->req.success_url = dc->success_url;
    in->req.error_url = dc->error_url;
    in->req.locale = dc->locale;
}

/* Call Jumio with the prepared request and finish the intake. */
static int jumio_intake_run(jumio_intake_t *in)
{
    jumio_answer_t ans;
    json_t *body;
    int rc;
    in->req.cir = jumio_util_uuid_v4(in->r->pool);
    body = in->req.cir ? jumio_account_request(&in->req) : NULL;
    if (!body)
        return jumio_http_fail_msg(in->r, JUMIO_E_INTERNAL,
                                   "The Jumio request could not be built.");
    memset(&ans, 0, sizeof(ans));
    rc = jumio_intake_call(in, body, &ans);
    json_decref(body);
    if (rc == JUMIO_CONTINUE)
        rc = ans.outcome == JUMIO_UP_OK ? jumio_intake_finish(in, ans.json)
                                        : jumio_client_fail(in->r, &ans);
    json_decref(ans.json);
    return rc;
}

/* The intake once the request is read: reuse and quota (under the user's claim when either is
 * on), then the account and the Jumio call. The answer sent. */
static int jumio_intake_serve(jumio_intake_t *in)
{
    int rc;
    if (jumio_config_intake_reuse(in->dc) && !jumio_config_sdk_token(in->dc)
        && !(in->settings = jumio_intake_settings(in)))
        return jumio_http_fail_msg(in->r, JUMIO_E_INTERNAL, "The settings could not be read.");
    if ((in->settings || in->dc->intake_limit)
        && ((rc = jumio_intake_serialise(in)) != JUMIO_CONTINUE
            || (rc = jumio_intake_quota(in)) != JUMIO_CONTINUE))
        return rc;
    if ((rc = jumio_intake_account(in)) != JUMIO_CONTINUE)
        return rc;
    return jumio_intake_run(in);
}

/* The jumio-intake handler. */
int jumio_handle_intake(jumio_req_t *q)
{
    jumio_intake_t in;
    int rc;
    memset(&in, 0, sizeof(in));
    in.r = q->r;
    in.ctx = &q->c;
    in.sc = q->sc;
    in.dc = q->dc;
    if (!(in.user = jumio_user_identify(q->r, q->sc, q->dc)))
        return jumio_user_reject(q->r);
    if (jumio_origin_cross_site(q->r, q->dc))
        return jumio_http_fail(q->r, JUMIO_E_CROSS_SITE);
    jumio_intake_request(&in);
    if ((rc = jumio_intake_body(&in)) != JUMIO_CONTINUE
        || (rc = jumio_intake_callback_url(&in)) != JUMIO_CONTINUE
        || (rc = jumio_intake_user_reference(&in)) != JUMIO_CONTINUE)
        return rc;
    rc = jumio_intake_serve(&in);
    if (in.claim) /* not used up by a stored transaction: free the user at once */
        jumio_store_user_unclaim(in.ctx, in.user, in.claim);
    return rc;
}
