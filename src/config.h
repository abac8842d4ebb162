/* config.h - directives, per-server and per-directory configuration, effective values (src/config.c). */
#ifndef JUMIO_CONFIG_H
#define JUMIO_CONFIG_H

#include "jumio.h"
#include <apr_thread_mutex.h>

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
    int db_timeout;                       /* JumioDBTimeout seconds, -1 unset */
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
#define JUMIO_DEFAULT_DB_TIMEOUT 5
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
const char *jumio_config_set_db_timeout(cmd_parms *cmd, void *d, const char *arg);
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
int jumio_config_db_timeout(const jumio_srv_cfg_t *sc);
jumio_srv_cfg_t *jumio_config_srv(request_rec *r);
jumio_srv_cfg_t *jumio_config_srv_of(jumio_ctx_t *c);
jumio_dir_cfg_t *jumio_config_dir(request_rec *r);

#endif
