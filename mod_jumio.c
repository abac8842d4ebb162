/* mod_jumio.c - module record, directive table and hooks of mod_jumio (Jumio identity
 * verification for Apache-hosted portals). The work itself lives in src/. */
#define JUMIO_MODULE_MAIN
#include "jumio.h"
#include "config.h"
#include "client.h"
#include "store/store.h"
#include "watchdog.h"
#include "proc.h"
#include "http.h"
#include "origin.h"
#include "handle/handle.h"
#include "metrics.h"
#include "authz.h"
#include "cache.h"
#include <http_request.h>
#include <http_core.h>
#include <http_main.h>

#define JUMIO_SRV(name, fn, how, help) AP_INIT_##how(name, fn, NULL, RSRC_CONF, help)
#define JUMIO_DIR(name, fn, how, help) AP_INIT_##how(name, fn, NULL, RSRC_CONF | ACCESS_CONF, help)
#define JUMIO_SRV_FIELD(name, field, fn, help)                                                     \
    AP_INIT_TAKE1(name, fn, (void *)APR_OFFSETOF(jumio_srv_cfg_t, field), RSRC_CONF, help)
#define JUMIO_DIR_FIELD(name, field, fn, help)                                                     \
    AP_INIT_TAKE1(name, fn, (void *)APR_OFFSETOF(jumio_dir_cfg_t, field), RSRC_CONF | ACCESS_CONF, \
                  help)

static const command_rec jumio_cmds[] = {
    /* server scope */
    JUMIO_SRV("JumioDatacenter", jumio_config_set_datacenter, TAKE1, "US, EU or SG"),
    JUMIO_SRV("JumioEndpoint", jumio_config_set_endpoint, TAKE2,
              "auth|account|api|retrieval|status and a base URL"),
    JUMIO_SRV("JumioAuth", jumio_config_set_auth, TAKE1, "oauth2 or basic"),
    JUMIO_SRV_FIELD("JumioClientId", client_id, jumio_config_set_srv_secret,
                    "OAuth2 client id / API token (literal, env:NAME or file:/path)"),
    JUMIO_SRV_FIELD("JumioClientSecret", client_secret, jumio_config_set_srv_secret,
                    "OAuth2 client secret / API secret (literal, env:NAME or file:/path)"),
    JUMIO_SRV_FIELD("JumioUserAgent", user_agent, jumio_config_set_srv_string,
                    "User-Agent naming your company and application"),
    JUMIO_SRV("JumioTimeout", jumio_config_set_timeout, TAKE12,
              "total seconds [connect seconds] for Jumio calls"),
    JUMIO_SRV("JumioJWTAlgorithm", jumio_config_set_jwt_alg, TAKE1, "HS256 ... ES512"),
    JUMIO_SRV("JumioJWTKey", jumio_config_set_jwt_key, TAKE1,
              "HMAC secret or PEM public key (literal, env:NAME or file:/path), or jwks:<URL>"),
    JUMIO_SRV("JumioJWTLeeway", jumio_config_set_jwt_leeway, TAKE1, "seconds of clock skew"),
    JUMIO_SRV_FIELD("JumioJWTIssuer", jwt_issuer, jumio_config_set_srv_string, "required iss"),
    JUMIO_SRV_FIELD("JumioJWTAudience", jwt_audience, jumio_config_set_srv_string, "required aud"),
    JUMIO_SRV_FIELD("JumioJWTUserClaim", jwt_user_claim, jumio_config_set_srv_string,
                    "claim holding the user id (default sub)"),
    JUMIO_SRV("JumioCallbackSigning", jumio_config_set_signing, FLAG,
              "on: per-transaction token in the callback URL"),
    JUMIO_SRV("JumioRetrievalSchedule", jumio_config_add_schedule, ITERATE,
              "seconds after creation of each Status API check (default Jumio's 40 60 ... 940)"),
    JUMIO_SRV("JumioBackgroundInterval", jumio_config_set_background, TAKE1,
              "seconds between background rounds (mod_watchdog); 0 turns them off"),
    JUMIO_SRV("JumioDBTimeout", jumio_config_set_db_timeout, TAKE1,
              "seconds a database read or write may wait for locks (1..60, default 5)"),
    JUMIO_SRV_FIELD("JumioUserReferenceKey", userref_key, jumio_config_set_srv_secret,
                    "HMAC key for JumioUserReference hmac"),
    /* directory scope */
    JUMIO_DIR("JumioWorkflowKey", jumio_config_set_workflow_key, TAKE1, "workflow definition key"),
    JUMIO_DIR("JumioIdTypes", jumio_config_add_id_type, ITERATE,
              "ID_CARD DRIVING_LICENSE PASSPORT VISA"),
    JUMIO_DIR("JumioIdCountries", jumio_config_add_country, ITERATE, "ISO 3166-1 alpha-3 codes"),
    JUMIO_DIR("JumioFacemapTypes", jumio_config_add_facemap, ITERATE,
              "IPROOV_STANDARD IPROOV_PREMIUM JUMIO_STANDARD"),
    JUMIO_DIR("JumioLocale", jumio_config_set_locale, TAKE1, "web client locale"),
    JUMIO_DIR_FIELD("JumioSuccessURL", success_url, jumio_config_set_url, "web.successUrl"),
    JUMIO_DIR_FIELD("JumioErrorURL", error_url, jumio_config_set_url, "web.errorUrl"),
    JUMIO_DIR("JumioTokenLifetime", jumio_config_set_token_lifetime, TAKE1, "e.g. 30m, 1d"),
    JUMIO_DIR_FIELD("JumioCallbackURL", callback_url, jumio_config_set_url, "callbackUrl"),
    JUMIO_DIR("JumioCallbackURLAllow", jumio_config_add_allow, ITERATE,
              "allowed prefixes of a callbackUrl given in the intake body"),
    JUMIO_DIR("JumioAllowedOrigin", jumio_config_add_origin, ITERATE,
              "origins (scheme://host[:port]) whose pages may call intake, poll and erase"),
    JUMIO_DIR("JumioUserSource", jumio_config_set_user_source, TAKE1, "jwt or remote-user"),
    JUMIO_DIR("JumioUserReference", jumio_config_set_userref, TAKE1, "plain or hmac"),
    JUMIO_DIR("JumioPollData", jumio_config_set_poll_data, TAKE1, "decision, full or none"),
    JUMIO_DIR("JumioSdkToken", jumio_config_set_sdk_token, FLAG, "answer sdk.token on intake"),
    JUMIO_DIR("JumioMaxBody", jumio_config_set_max_body, TAKE1, "largest request body in bytes"),
    JUMIO_DIR("JumioRetention", jumio_config_set_retention, TAKE1, "days to keep details"),
    JUMIO_DIR("JumioIntakeReuse", jumio_config_set_intake_reuse, FLAG,
              "answer a user's still valid transaction instead of a new one"),
    JUMIO_DIR("JumioIntakeLimit", jumio_config_set_intake_limit, TAKE2,
              "new transactions per user and period, e.g. 5 1d"),
    /* Require jumio-verified (src/authz.c) */
    JUMIO_DIR("JumioVerifiedDecisions", jumio_config_add_verified_decision, ITERATE,
              "decisions that count as verified: PASSED [WARNING] (default PASSED)"),
    JUMIO_DIR("JumioVerifiedMaxAge", jumio_config_set_verified_max_age, TAKE1,
              "largest age of a result, e.g. 365d (default no limit)"),
    JUMIO_DIR("JumioVerifiedHeaders", jumio_config_set_verified_headers, FLAG,
              "on: Jumio-* request headers for a proxied backend on a grant"),
    /* signed result notifications (server scope, src/notify.c) */
    JUMIO_SRV("JumioNotifyURL", jumio_config_set_notify_url, TAKE1,
              "where final results are POSTed (https; http only to loopback)"),
    JUMIO_SRV("JumioNotifySecret", jumio_config_set_notify_secret, TAKE12,
              "one or two signing secrets (literal, env:NAME or file:/path; whsec_<base64>)"),
    JUMIO_SRV("JumioNotifyData", jumio_config_set_notify_data, TAKE1, "decision, full or none"),
    JUMIO_SRV("JumioNotifyRetry", jumio_config_add_notify_retry, ITERATE,
              "seconds to wait after each failed try (default 10 60 300 1800 7200 18000 36000)"),
    { NULL, { NULL }, NULL, 0, 0, NULL }
};

/* The handlers: SetHandler name, the one method allowed (Allow of the 405), the function,
 * and whether JumioAllowedOrigin pages may call it (CORS, src/origin.c). */
static const struct {
    const char *name;
    int method;
    const char *allow;
    jumio_handler_fn *fn;
    int cors;
} jumio_handlers[] = {
    { "jumio-intake", M_POST, "POST", jumio_handle_intake, 1 },
    { "jumio-callback", M_POST, "POST", jumio_handle_callback, 0 },
    { "jumio-poll", M_GET, "GET", jumio_handle_poll, 1 },
    { "jumio-status", M_GET, "GET", jumio_handle_health, 0 },
    { "jumio-erase", M_DELETE, "DELETE", jumio_handle_erase, 1 },
};

/* Route the request to the handler named by SetHandler after the method check (HEAD is not
 * GET here: every answer has a body worth reading); CORS preflights and answer headers of the
 * handlers that take them. */
static int jumio_handler_route(request_rec *r)
{
    jumio_req_t q;
    apr_size_t i;
    for (i = 0; r->handler && i < sizeof(jumio_handlers) / sizeof(jumio_handlers[0]); i++) {
        if (strcmp(r->handler, jumio_handlers[i].name))
            continue;
        q.dc = jumio_config_dir(r);
        if (jumio_handlers[i].cors && jumio_origin_is_preflight(r))
            return jumio_origin_preflight(r, q.dc, jumio_handlers[i].allow);
        if (jumio_handlers[i].cors)
            jumio_origin_cors(r, q.dc);
        if (r->method_number != jumio_handlers[i].method || r->header_only)
            return jumio_http_method_fail(r, jumio_handlers[i].allow);
        q.r = r;
        q.c.pool = r->pool;
        q.c.s = r->server;
        q.c.r = r;
        q.c.db_waited = 0;
        q.sc = jumio_config_srv(r);
        return jumio_handlers[i].fn(&q);
    }
    return DECLINED;
}

/* The handler: jumio_handler_route, each answer counted (src/metrics.c). */
static int jumio_handler(request_rec *r)
{
    int rc = jumio_handler_route(r);
    if (rc != DECLINED)
        jumio_metric_request(r->handler, rc == OK ? r->status : rc);
    return rc;
}

/* Process-wide initialisation once the configuration is read. */
static int jumio_post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return OK;
    if (jumio_client_global_init(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (jumio_store_init(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (jumio_watchdog_init(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (jumio_metrics_init(pconf, s) != APR_SUCCESS)
        return HTTP_INTERNAL_SERVER_ERROR;
    return OK;
}

/* Per-child state (src/proc.c), the database write gate, and the background task's stop at
 * child exit. */
static void jumio_child_init(apr_pool_t *pchild, server_rec *s)
{
    jumio_proc_child_init(pchild, s);
    jumio_store_child_init(pchild, s);
    jumio_watchdog_child_init(pchild, s);
    jumio_cache_child_init(pchild, s);
}

/* Hook registration. */
static void jumio_register_hooks(apr_pool_t *p)
{
    static const char *const after_dbd[] = { "mod_dbd.c", NULL };
    ap_hook_check_config(jumio_config_check, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(jumio_post_config, after_dbd, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(jumio_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(jumio_handler, NULL, NULL, APR_HOOK_MIDDLE);
    jumio_authz_register_hooks(p);
}

AP_DECLARE_MODULE(jumio) = { STANDARD20_MODULE_STUFF, jumio_config_dir_create,
                             jumio_config_dir_merge,  jumio_config_srv_create,
                             jumio_config_srv_merge,  jumio_cmds,
                             jumio_register_hooks,    AP_MODULE_FLAG_NONE };
