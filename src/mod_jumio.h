/* mod_jumio.h - shared declarations of mod_jumio's httpd-facing parts (config, HTTP helpers,
 * Jumio client, storage, user identification, handlers). Pure helpers are in jumio_core.h. */
#ifndef MOD_JUMIO_H
#define MOD_JUMIO_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <apr_thread_mutex.h>
#include "jumio_core.h"

extern module AP_MODULE_DECLARE_DATA jumio_module;
#if defined(APLOG_USE_MODULE) && !defined(JUMIO_MODULE_MAIN)
APLOG_USE_MODULE(jumio);
#endif

/* Where work happens: a request, or a background task (r NULL). */
typedef struct {
    apr_pool_t *pool;
    server_rec *s;
    request_rec *r;
} jumio_ctx_t;

/* Log with the request when there is one, else with the server. */
#define jumio_log(c, level, status, ...) do { \
        if ((c)->r) ap_log_rerror(APLOG_MARK, level, status, (c)->r, __VA_ARGS__); \
        else ap_log_error(APLOG_MARK, level, status, (c)->s, __VA_ARGS__); \
    } while (0)

/* ---- configuration (src/jumio_config.c) ---- */

typedef enum { JUMIO_SVC_AUTH, JUMIO_SVC_ACCOUNT, JUMIO_SVC_API, JUMIO_SVC_RETRIEVAL,
               JUMIO_SVC_STATUS, JUMIO_SVC_COUNT } jumio_svc_e;
typedef enum { JUMIO_AUTH_UNSET, JUMIO_AUTH_OAUTH2, JUMIO_AUTH_BASIC } jumio_auth_e;
typedef enum { JUMIO_USER_UNSET, JUMIO_USER_JWT, JUMIO_USER_REMOTE } jumio_usersrc_e;
typedef enum { JUMIO_REF_UNSET, JUMIO_REF_PLAIN, JUMIO_REF_HMAC } jumio_ref_e;
typedef enum { JUMIO_DATA_UNSET, JUMIO_DATA_DECISION, JUMIO_DATA_FULL, JUMIO_DATA_NONE } jumio_data_e;

/* Per-process OAuth2 token cache of one server config (filled in the child). */
typedef struct {
    apr_thread_mutex_t *mutex;   /* single-flight: held while a token is fetched */
    char *token;                 /* malloc'd; NULL when none */
    apr_time_t refresh_at;       /* reuse until this time (expiry - 60 s) */
} jumio_token_cache_t;

typedef struct {
    const char *datacenter;               /* US, EU, SG */
    const char *endpoint[JUMIO_SVC_COUNT];/* JumioEndpoint overrides (base URLs) */
    jumio_auth_e auth;
    const char *client_id;
    const char *client_secret;
    const char *user_agent;
    int timeout;                          /* total seconds, -1 unset */
    int connect_timeout;                  /* seconds, -1 unset */
    int jwt_alg;                          /* -1 unset */
    const char *jwt_key;                  /* resolved secret / PEM */
    apr_size_t jwt_keylen;
    const char *jwt_issuer;
    const char *jwt_audience;
    const char *jwt_user_claim;
    int jwt_leeway;                       /* -1 unset */
    int callback_signing;                 /* -1 unset */
    const char *userref_key;
    apr_array_header_t *schedule;         /* JumioRetrievalSchedule, of int seconds */
    int background_interval;              /* JumioBackgroundInterval seconds, 0 off, -1 unset */
    jumio_token_cache_t *tokens;          /* per process, created in child_init */
    const char *jwks_url;                 /* JumioJWTKey jwks:<url>, else NULL */
    struct jumio_jwks_cache *jwks;        /* per process, created in child_init (JWKS only) */
} jumio_srv_cfg_t;

typedef struct {
    int workflow_key;                     /* 0 unset */
    apr_array_header_t *id_types;
    apr_array_header_t *id_countries;
    apr_array_header_t *facemap_types;
    const char *locale;
    const char *success_url;
    const char *error_url;
    const char *token_lifetime;
    const char *callback_url;
    apr_array_header_t *callback_allow;   /* of const char * prefixes */
    jumio_usersrc_e user_source;
    jumio_ref_e userref;
    jumio_data_e poll_data;
    int sdk_token;                        /* -1 unset */
    apr_off_t max_body;                   /* -1 unset */
    int retention_days;                   /* -1 unset */
} jumio_dir_cfg_t;

#define JUMIO_DEFAULT_MAX_BODY   (16 * 1024)
#define JUMIO_DEFAULT_TIMEOUT    10
#define JUMIO_DEFAULT_CONNECT    3
#define JUMIO_DEFAULT_LEEWAY     60
#define JUMIO_DEFAULT_WORKFLOW   3
#define JUMIO_DEFAULT_BACKGROUND 2
#define JUMIO_TOKEN_PARAM        "jumio_token"

void *jumio_config_srv_create(apr_pool_t *p, server_rec *s);
void *jumio_config_srv_merge(apr_pool_t *p, void *base, void *add);
void *jumio_config_dir_create(apr_pool_t *p, char *dir);
void *jumio_config_dir_merge(apr_pool_t *p, void *base, void *add);

const char *jumio_config_set_datacenter(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_endpoint(cmd_parms *cmd, void *d, const char *svc, const char *url);
const char *jumio_config_set_auth(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_srv_string(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_srv_secret(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_timeout(cmd_parms *cmd, void *d, const char *total, const char *conn);
const char *jumio_config_set_jwt_alg(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_jwt_key(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_jwt_leeway(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_signing(cmd_parms *cmd, void *d, int on);
const char *jumio_config_add_schedule(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_background(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_workflow_key(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_id_type(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_country(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_facemap(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_locale(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_url(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_token_lifetime(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_allow(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_user_source(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_userref(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_poll_data(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_sdk_token(cmd_parms *cmd, void *d, int on);
const char *jumio_config_set_max_body(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_retention(cmd_parms *cmd, void *d, const char *arg);

/* Cross-directive checks of every server (check_config hook). */
int jumio_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* Effective values with defaults applied. */
const char *jumio_config_endpoint(const jumio_srv_cfg_t *sc, jumio_svc_e svc, apr_pool_t *p);
int jumio_config_signing(const jumio_srv_cfg_t *sc);
jumio_srv_cfg_t *jumio_config_srv(request_rec *r);
jumio_srv_cfg_t *jumio_config_srv_of(jumio_ctx_t *c);
jumio_dir_cfg_t *jumio_config_dir(request_rec *r);

/* ---- HTTP helpers (src/jumio_http.c) ---- */

/* Send JSON text as the answer with status (JSON headers, no-store); always returns OK. */
int jumio_http_json_text(request_rec *r, int status, const char *text);
/* Send a JSON answer with status (takes a reference of body); always returns OK. */
int jumio_http_json(request_rec *r, int status, json_t *body);
/* Send {"error": code, "message": msg} with status; always returns OK. */
int jumio_http_error(request_rec *r, int status, const char *code, const char *msg);
/* 405 with Allow when r->method differs from method; returns -1 when the method is fine. */
int jumio_http_method_only(request_rec *r, int method_number, const char *name);
/* Read the whole request body up to max bytes; 0 on success, else an HTTP status (413, 400). */
int jumio_http_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);
/* 1 when the request's Content-Type media type equals type (ignoring parameters and case). */
int jumio_http_content_type_is(request_rec *r, const char *type);

/* ---- user identification (src/jumio_user.c) ---- */

/* The user id of the request (JWT or r->user per JumioUserSource), or NULL. */
const char *jumio_user_identify(request_rec *r);
/* Answer 401 invalid_token with WWW-Authenticate; returns OK. */
int jumio_user_reject(request_rec *r);

/* ---- JWKS key cache (src/jumio_jwks_cache.c) ---- */

/* Per-process JWKS caches of the servers using JumioJWTKey jwks: (child_init). */
void jumio_jwks_child_init(apr_pool_t *pchild, server_rec *s);
/* PEM public key (copied into c->pool, length in *len) of the server's JWKS document for kid
 * (NULL: a token without kid, needs a document with exactly one usable key). The document is
 * fetched when first needed, reused for an hour, and re-read for an unknown kid at most once
 * a minute. NULL when no key matches (logged). */
const char *jumio_jwks_key(jumio_ctx_t *c, const char *kid, apr_size_t *len);

/* ---- Jumio client (src/jumio_client.c) ---- */

typedef enum { JUMIO_UP_OK, JUMIO_UP_NOT_FOUND, JUMIO_UP_REJECTED, JUMIO_UP_ERROR,
               JUMIO_UP_TIMEOUT, JUMIO_UP_BUSY } jumio_up_e;

typedef struct {
    jumio_up_e outcome;
    long http_status;
    json_t *json;              /* parsed body on JUMIO_UP_OK (caller json_decref) */
    const char *retry_after;   /* on JUMIO_UP_BUSY */
} jumio_answer_t;

/* Process-wide setup/teardown (post_config / child_init). */
apr_status_t jumio_client_global_init(apr_pool_t *pconf, server_rec *s);
void jumio_client_child_init(apr_pool_t *pchild, server_rec *s);
/* One authenticated business call: method (GET/POST/PUT/DELETE), service base + path, optional
 * JSON body. Handles the token (cached, refreshed once on 401) and classifies the answer. */
void jumio_client_call(jumio_ctx_t *c, const char *method, jumio_svc_e svc, const char *path,
                       json_t *body, jumio_answer_t *ans);
/* Plain GET of a URL without Jumio credentials (JWKS documents); APR_SUCCESS or an error. */
apr_status_t jumio_client_fetch(jumio_ctx_t *c, const char *url, long *status, const char **body,
                                apr_size_t *len);
/* Answer the portal for a failed call (502/503/504 per SPEC §3); returns OK. */
int jumio_client_fail(request_rec *r, const jumio_answer_t *ans);

/* ---- storage over mod_dbd (src/jumio_store.c) ---- */

typedef struct jumio_db jumio_db_t;

typedef struct {
    const char *workflow_id, *account_id, *user_id, *cir, *redirect_url, *jumio_timestamp;
    const char *status, *callback_token, *details, *decision;
    const char *summary;         /* decision-mode data (JSON text), made when details are stored */
    int workflow_key, status_checks;
    apr_int64_t created_at, next_check_at;
} jumio_tx_t;

typedef struct {
    const char *user_id, *account_id;
    apr_array_header_t *credentials;   /* of jumio_cred_t */
} jumio_acct_t;

apr_status_t jumio_store_init(apr_pool_t *pconf, server_rec *s);
/* The request's DB handle with our statements ready, or NULL (logged). */
jumio_db_t *jumio_store_acquire(jumio_ctx_t *c);
/* Give back a handle of a background task (no-op for requests). */
void jumio_store_release(jumio_ctx_t *c, jumio_db_t *db);
/* 0 found, 1 not found, -1 error. */
int jumio_store_account_get(jumio_ctx_t *c, jumio_db_t *db, const char *user, jumio_acct_t *out);
/* Store a new transaction and the user's account mapping in one DB transaction; 0 or -1.
 * keep_creds: leave stored credentials as they are (workflow 9). */
int jumio_store_intake(jumio_ctx_t *c, jumio_db_t *db, const jumio_tx_t *tx,
                       const jumio_acct_t *acct, int keep_creds);
/* 0 found, 1 not found, -1 error. */
int jumio_store_tx_get(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, jumio_tx_t *out);
/* Log a callback and move the status forward, in one DB transaction; 0 or -1. */
int jumio_store_callback(jumio_ctx_t *c, jumio_db_t *db, const jumio_callback_t *cb,
                         const char *remote, const char *body, int known);
/* Move a transaction's status forward (status API answer); 0 or -1. */
int jumio_store_status(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, const char *status);
/* Store details and decision once (first writer wins); 0 or -1. */
int jumio_store_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id,
                        const char *details, const char *summary, const char *decision);
/* Claim status check number done+1 and set when the next is due; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_check(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                            apr_int64_t next_at);
/* Claim the details fetch of a PROCESSED transaction for `seconds`; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int seconds,
                              int capped);
/* Set when the next status check is due (APR_INT64_MAX: never); 0 or -1. */
int jumio_store_reschedule(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                           apr_int64_t next_at);
/* Give up a details claim after a failed fetch; 0 or -1. */
int jumio_store_unclaim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id);
/* Transactions with background work due at `now` (at most 20); 0 or -1. */
int jumio_store_due(jumio_ctx_t *c, jumio_db_t *db, apr_int64_t now, apr_array_header_t **out);

typedef struct {
    apr_int64_t transactions, pending, details_pending, callbacks, accounts;
} jumio_counters_t;

/* Delete every local row of a user in one DB transaction; transactions deleted, or -1. */
int jumio_store_erase(jumio_ctx_t *c, jumio_db_t *db, const char *user);
/* Row counts for the status handler; 0 or -1. */
int jumio_store_counters(jumio_ctx_t *c, jumio_db_t *db, jumio_counters_t *out);

/* ---- retrieval work shared by poll and the background task (src/jumio_work.c) ---- */

/* Seconds after creation when status check n is due, or -1 when no check n remains. */
int jumio_work_schedule(const jumio_srv_cfg_t *sc, int n);
/* Ask the Status API once when the next scheduled check of a non-final transaction is due;
 * moves tx->status forward. */
void jumio_work_status_check(jumio_ctx_t *c, jumio_db_t *db, jumio_tx_t *tx);
/* Fetch and store the details of a PROCESSED transaction once; 0 when tx->details is set. */
int jumio_work_fetch_details(jumio_ctx_t *c, jumio_db_t *db, jumio_tx_t *tx);
/* One background round: every transaction with work due now. */
void jumio_work_round(jumio_ctx_t *c, jumio_db_t *db);

/* ---- background task with mod_watchdog (src/jumio_watchdog.c) ---- */
apr_status_t jumio_watchdog_init(apr_pool_t *pconf, server_rec *s);
/* Per child: stop background work before the child's pools go (child_init). */
void jumio_watchdog_child_init(apr_pool_t *pchild, server_rec *s);
/* 1 once this child is exiting: a background round stops at the next transaction. */
int jumio_watchdog_stopping(void);

/* ---- handlers ---- */
int jumio_handler_intake(request_rec *r);
int jumio_handler_callback(request_rec *r);
int jumio_handler_poll(request_rec *r);
int jumio_handler_status(request_rec *r);
/* Per-child cache of Jumio's health answer (child_init). */
void jumio_status_child_init(apr_pool_t *pchild, server_rec *s);
int jumio_handler_erase(request_rec *r);

#endif
