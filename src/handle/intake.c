/* jumio_handler_intake.c - POST intake: verify the user, create/update the Jumio account with
 * the workflow, store the transaction, answer the web client link (SPEC §2). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "client.h"
#include "store/store.h"
#include "work.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

typedef struct {
    request_rec *r;
    jumio_ctx_t ctx;
    jumio_srv_cfg_t *sc;
    jumio_dir_cfg_t *dc;
    jumio_db_t *db;
    const char *user;
    const char *callback_url;    /* from the body or config, before signing */
    jumio_acct_t acct;           /* stored account (account_id NULL when none) */
    jumio_account_req_t req;
    const char *token;           /* callback signing token, or NULL */
} jumio_intake_t;

/* Parse the optional JSON body; sets in->callback_url. -1 when fine, else the answer sent. */
static int jumio_intake_body(jumio_intake_t *in)
{
    request_rec *r = in->r;
    apr_off_t max = in->dc->max_body > 0 ? in->dc->max_body : JUMIO_DEFAULT_MAX_BODY;
    char *body;
    apr_size_t len;
    json_t *j, *cb;
    int st = jumio_http_read_body(r, max, &body, &len);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return jumio_http_error(r, st, "body_too_large", "The request body is too large.");
    if (st)
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", "The body could not be read.");
    if (!len)
        return -1;
    if (!jumio_http_content_type_is(r, "application/json"))
        return jumio_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                "The body must be application/json.");
    j = jumio_json_load(body, len);
    if (!json_is_object(j)) {
        json_decref(j);
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", "The body must be a JSON object.");
    }
    cb = json_object_get(j, "callbackUrl");
    if (cb && !json_is_string(cb)) {
        json_decref(j);
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", "callbackUrl must be a string.");
    }
    if (cb)
        in->callback_url = apr_pstrmemdup(r->pool, json_string_value(cb), json_string_length(cb));
    json_decref(j);
    return -1;
}

/* 1 when url starts with one of the allowed prefixes at a boundary (the prefix ends in '/',
 * or the URL goes on with '/', '?' or ends there: "https://a/cb" does not allow
 * "https://a/cb.evil/"), and holds no control bytes or spaces. */
static int jumio_intake_url_allowed(const jumio_dir_cfg_t *dc, const char *url)
{
    int i;
    const char *c;
    for (c = url; *c; c++)
        if ((unsigned char)*c < 0x21 || *c == 0x7f)
            return 0;
    for (i = 0; dc->callback_allow && i < dc->callback_allow->nelts; i++) {
        const char *p = APR_ARRAY_IDX(dc->callback_allow, i, const char *);
        apr_size_t n = strlen(p);
        if (!strncmp(url, p, n) && (p[n - 1] == '/' || !url[n] || url[n] == '/' || url[n] == '?'))
            return 1;
    }
    return 0;
}

/* Choose and sign the callbackUrl. -1 when fine, else the answer sent. */
static int jumio_intake_callback_url(jumio_intake_t *in)
{
    request_rec *r = in->r;
    const char *url = in->callback_url;
    if (url && strlen(url) > 255)
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request",
                                "callbackUrl is longer than 255 characters.");
    if (url && !jumio_intake_url_allowed(in->dc, url))
        return jumio_http_error(r, HTTP_BAD_REQUEST, "callback_url_not_allowed",
                                "callbackUrl is not in the allowed list.");
    if (!url)
        url = in->dc->callback_url;
    if (url && jumio_config_signing(in->sc)) {
        in->token = jumio_util_random_token(r->pool, 32);
        if (!in->token)
            return jumio_http_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                    "No random token could be made.");
        url = apr_pstrcat(r->pool, url, strchr(url, '?') ? "&" : "?", JUMIO_TOKEN_PARAM "=",
                          in->token, NULL);
        if (strlen(url) > 255)
            return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request",
                                    "callbackUrl is too long to carry the signing token.");
    }
    in->req.callback_url = url;
    return -1;
}

/* The userReference to send (plain or HMAC). -1 when fine, else the answer sent. */
static int jumio_intake_user_reference(jumio_intake_t *in)
{
    request_rec *r = in->r;
    if (in->dc->userref == JUMIO_REF_HMAC) {
        if (!in->sc->userref_key) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          "mod_jumio: JumioUserReference hmac needs JumioUserReferenceKey");
            return jumio_http_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                    "The module is not configured completely.");
        }
        in->req.user_reference = jumio_util_hmac_sha256_hex(r->pool, in->sc->userref_key,
                                                            strlen(in->sc->userref_key), in->user);
        return -1;
    }
    if (strlen(in->user) > 100)
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request",
                                "The user id is longer than the 100 characters Jumio allows.");
    in->req.user_reference = in->user;
    return -1;
}

/* Load the user's stored account; workflow 9 needs one. -1 when fine, else the answer sent. */
static int jumio_intake_account(jumio_intake_t *in)
{
    int rc = jumio_store_account_get(&in->ctx, in->db, in->user, &in->acct);
    if (rc < 0)
        return jumio_http_error(in->r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    if (rc > 0)
        in->acct.account_id = NULL;
    if (in->req.workflow_key == 9 && (!in->acct.account_id || !in->acct.credentials
                                      || !in->acct.credentials->nelts))
        return jumio_http_error(in->r, HTTP_CONFLICT, "no_enrolment",
                                "Authentication needs a completed enrolment for this user.");
    in->req.enrolment = in->acct.credentials;
    return -1;
}

/* Call Jumio: PUT for a known account (404 falls back to POST), else POST. */
static void jumio_intake_call(jumio_intake_t *in, json_t *body, jumio_answer_t *ans)
{
    request_rec *r = in->r;
    if (in->acct.account_id && jumio_util_is_uuid(in->acct.account_id)) {
        jumio_client_call(&in->ctx, "PUT", JUMIO_SVC_ACCOUNT,
                          apr_pstrcat(r->pool, "/api/v1/accounts/", in->acct.account_id, NULL),
                          body, ans);
        if (ans->outcome != JUMIO_UP_NOT_FOUND)
            return;
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "mod_jumio: account %s is gone at Jumio, creating a new one",
                      in->acct.account_id);
    }
    jumio_client_call(&in->ctx, "POST", JUMIO_SVC_ACCOUNT, "/api/v1/accounts", body, ans);
}

/* Store the transaction and account mapping, then answer the link. */
static int jumio_intake_finish(jumio_intake_t *in, json_t *answer)
{
    request_rec *r = in->r;
    jumio_account_resp_t resp;
    jumio_tx_t tx;
    jumio_acct_t acct;
    json_t *out;
    const char *why = jumio_account_response(r->pool, answer, &resp);
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_jumio: unusable account answer: %s", why);
        return jumio_http_error(r, HTTP_BAD_GATEWAY, "upstream_error",
                                "Jumio gave an unusable answer.");
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
    tx.next_check_at = (apr_int64_t)apr_time_sec(apr_time_now())
                       + jumio_work_schedule(in->sc, 0);
    acct.user_id = in->user;
    acct.account_id = resp.account_id;
    acct.credentials = resp.credentials;
    if (jumio_store_intake(&in->ctx, in->db, &tx, &acct, in->req.workflow_key == 9)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_jumio: workflow %s created at Jumio "
                      "but could not be stored", resp.workflow_id);
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    }
    out = json_pack("{s:s, s:s, s:s?}", "link", resp.web_href, "transactionReference",
                    resp.workflow_id, "timestamp", resp.timestamp);
    if (out && in->dc->sdk_token == 1 && resp.sdk_token)
        json_object_set_new(out, "sdkToken", json_string(resp.sdk_token));
    return jumio_http_json(r, HTTP_OK, out);
}

/* Fill the account request from the directory config. */
static void jumio_intake_request(jumio_intake_t *in)
{
    jumio_dir_cfg_t *dc = in->dc;
    in->req.workflow_key = dc->workflow_key > 0 ? dc->workflow_key : JUMIO_DEFAULT_WORKFLOW;
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
        return jumio_http_error(in->r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                "The Jumio request could not be built.");
    jumio_intake_call(in, body, &ans);
    json_decref(body);
    rc = ans.outcome == JUMIO_UP_OK ? jumio_intake_finish(in, ans.json) : jumio_client_fail(in->r, &ans);
    json_decref(ans.json);
    return rc;
}

/* The jumio-intake handler. */
int jumio_handler_intake(request_rec *r)
{
    jumio_intake_t in;
    int rc;
    if ((rc = jumio_http_method_only(r, M_POST, "POST")) != -1)
        return rc;
    memset(&in, 0, sizeof(in));
    in.r = r;
    in.ctx.pool = r->pool;
    in.ctx.s = r->server;
    in.ctx.r = r;
    in.sc = jumio_config_srv(r);
    in.dc = jumio_config_dir(r);
    if (!(in.user = jumio_user_identify(r)))
        return jumio_user_reject(r);
    jumio_intake_request(&in);
    if ((rc = jumio_intake_body(&in)) != -1 || (rc = jumio_intake_callback_url(&in)) != -1
        || (rc = jumio_intake_user_reference(&in)) != -1)
        return rc;
    if (!(in.db = jumio_store_acquire(&in.ctx)))
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    if ((rc = jumio_intake_account(&in)) != -1)
        return rc;
    return jumio_intake_run(&in);
}
