/* config.h - directives, per-server and per-directory configuration, effective values (src/config.c). */
#ifndef JUMIO_CONFIG_H
#define JUMIO_CONFIG_H

#include "jumio.h"

typedef enum {
    JUMIO_SVC_AUTH,
    JUMIO_SVC_ACCOUNT,
    JUMIO_SVC_API,
    JUMIO_SVC_RETRIEVAL,
    JUMIO_SVC_STATUS,
    JUMIO_SVC_COUNT
} jumio_svc_e;
typedef enum {
    JUMIO_AUTH_UNSET,
    JUMIO_AUTH_OAUTH2,
    JUMIO_AUTH_BASIC
} jumio_auth_e;
typedef enum {
    JUMIO_USER_UNSET,
    JUMIO_USER_JWT,
    JUMIO_USER_REMOTE
} jumio_usersrc_e;
typedef enum {
    JUMIO_REF_UNSET,
    JUMIO_REF_PLAIN,
    JUMIO_REF_HMAC
} jumio_ref_e;
typedef enum {
    JUMIO_DATA_UNSET,
    JUMIO_DATA_DECISION,
    JUMIO_DATA_FULL,
    JUMIO_DATA_NONE
} jumio_data_e;

typedef struct {
    const char *datacenter;                /* US, EU, SG */
    const char *endpoint[JUMIO_SVC_COUNT]; /* JumioEndpoint overrides (base URLs) */
    jumio_auth_e auth;
    const char *client_id;
    const char *client_secret;
    const char *user_agent;
    int timeout;         /* total seconds, -1 unset */
    int connect_timeout; /* seconds, -1 unset */
    int jwt_alg;         /* -1 unset */
    const char *jwt_key; /* resolved secret / PEM */
    apr_size_t jwt_keylen;
    const char *jwt_issuer;
    const char *jwt_audience;
    const char *jwt_user_claim;
    int jwt_leeway;       /* -1 unset */
    int callback_signing; /* -1 unset */
    const char *userref_key;
    apr_array_header_t *schedule; /* JumioRetrievalSchedule, of int seconds */
    int background_interval;      /* JumioBackgroundInterval seconds, 0 off, -1 unset */
    int db_timeout;               /* JumioDBTimeout seconds, -1 unset */
    const char *jwks_url;         /* JumioJWTKey jwks:<url>, else NULL */
    struct jumio_proc *proc;      /* per-process state (src/proc.c), made in child_init */
    /* signed result notifications (src/notify.c) */
    const char *notify_url;           /* JumioNotifyURL, or NULL: none */
    apr_array_header_t *notify_keys;  /* JumioNotifySecret: of jumio_webhook_key_t */
    jumio_data_e notify_data;         /* JumioNotifyData */
    apr_array_header_t *notify_retry; /* JumioNotifyRetry: of int seconds */
} jumio_srv_cfg_t;

typedef struct {
    int workflow_key; /* 0 unset */
    apr_array_header_t *id_types;
    apr_array_header_t *id_countries;
    apr_array_header_t *facemap_types;
    const char *locale;
    const char *success_url;
    const char *error_url;
    const char *token_lifetime;
    const char *callback_url;
    apr_array_header_t *callback_allow;  /* of const char * prefixes */
    apr_array_header_t *allowed_origins; /* JumioAllowedOrigin: serialized origins */
    jumio_usersrc_e user_source;
    jumio_ref_e userref;
    jumio_data_e poll_data;
    int sdk_token;      /* -1 unset */
    apr_off_t max_body; /* -1 unset */
    int retention_days; /* -1 unset */
    int token_seconds;  /* JumioTokenLifetime in seconds, 0 unset */
    int intake_reuse;   /* JumioIntakeReuse, -1 unset */
    int intake_limit;   /* JumioIntakeLimit count, 0 unset */
    int intake_period;  /* JumioIntakeLimit period in seconds */
    /* Require jumio-verified (src/authz.c) */
    int verified_decisions; /* JumioVerifiedDecisions: JUMIO_VERIFIED_* bits, 0 unset */
    int verified_max_age;   /* JumioVerifiedMaxAge seconds, 0 unset (no limit) */
    int verified_headers;   /* JumioVerifiedHeaders, -1 unset */
} jumio_dir_cfg_t;

/* The decisions JumioVerifiedDecisions may name. */
#define JUMIO_VERIFIED_PASSED  1
#define JUMIO_VERIFIED_WARNING 2

#define JUMIO_TOKEN_PARAM "jumio_token"

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
const char *jumio_config_set_intake_reuse(cmd_parms *cmd, void *d, int on);
const char *jumio_config_set_intake_limit(cmd_parms *cmd, void *d, const char *n,
                                          const char *period);
const char *jumio_config_add_allow(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_origin(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_user_source(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_userref(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_poll_data(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_sdk_token(cmd_parms *cmd, void *d, int on);
const char *jumio_config_set_max_body(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_retention(cmd_parms *cmd, void *d, const char *arg);

/* The serialized origin of text ("scheme://host[:port]": http(s) only, scheme and host
 * lowercase, default port left out), or NULL when text is not exactly such an origin. */
const char *jumio_config_origin(apr_pool_t *p, const char *text);
/* Cross-directive checks of every server (check_config hook). */
int jumio_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);
/* Effective values: the only place where defaults are applied. */
const char *jumio_config_endpoint(const jumio_srv_cfg_t *sc, jumio_svc_e svc, apr_pool_t *p);
/* JumioCallbackSigning (default on). */
int jumio_config_signing(const jumio_srv_cfg_t *sc);
/* JumioTimeout total seconds (default 10). */
int jumio_config_timeout(const jumio_srv_cfg_t *sc);
/* JumioTimeout connect seconds (default 3, never above the total). */
int jumio_config_connect_timeout(const jumio_srv_cfg_t *sc);
/* JumioJWTLeeway seconds (default 60). */
int jumio_config_leeway(const jumio_srv_cfg_t *sc);
/* JumioJWTUserClaim (default "sub"). */
const char *jumio_config_user_claim(const jumio_srv_cfg_t *sc);
/* JumioBackgroundInterval seconds (default 2, 0 off). */
int jumio_config_background(const jumio_srv_cfg_t *sc);
/* Seconds after creation when status check n is due (JumioRetrievalSchedule, default Jumio's
 * 40 60 100 160 240 340 460 600 760 940), or -1 when no check n remains. */
int jumio_config_schedule(const jumio_srv_cfg_t *sc, int n);
/* JumioMaxBody bytes (default 16 KiB). */
apr_off_t jumio_config_max_body(const jumio_dir_cfg_t *dc);
/* JumioWorkflowKey (default 3). */
int jumio_config_workflow_key(const jumio_dir_cfg_t *dc);
/* JumioPollData (default decision). */
jumio_data_e jumio_config_poll_data(const jumio_dir_cfg_t *dc);
/* JumioUserSource (default jwt). */
jumio_usersrc_e jumio_config_user_source(const jumio_dir_cfg_t *dc);
/* Effective JumioTokenLifetime in seconds (default 30m, Jumio's). */
int jumio_config_token_seconds(const jumio_dir_cfg_t *dc);
/* Effective JumioIntakeReuse (default on). */
int jumio_config_intake_reuse(const jumio_dir_cfg_t *dc);
/* JumioSdkToken (default off). */
int jumio_config_sdk_token(const jumio_dir_cfg_t *dc);
/* JumioDBTimeout seconds (default 5): the bound of every database wait. */
int jumio_config_db_timeout(const jumio_srv_cfg_t *sc);
/* Require jumio-verified (src/authz.c): JumioVerifiedDecisions, JumioVerifiedMaxAge,
 * JumioVerifiedHeaders and their effective values (PASSED; no limit, 0; off). */
const char *jumio_config_add_verified_decision(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_verified_max_age(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_verified_headers(cmd_parms *cmd, void *d, int on);
int jumio_config_verified_decisions(const jumio_dir_cfg_t *dc);
int jumio_config_verified_max_age(const jumio_dir_cfg_t *dc);
int jumio_config_verified_headers(const jumio_dir_cfg_t *dc);
/* Signed result notifications: JumioNotifyURL <url>, JumioNotifySecret <secret> [<secret>],
 * JumioNotifyData decision|full|none, JumioNotifyRetry <seconds> ... */
const char *jumio_config_set_notify_url(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_set_notify_secret(cmd_parms *cmd, void *d, const char *a, const char *b);
const char *jumio_config_set_notify_data(cmd_parms *cmd, void *d, const char *arg);
const char *jumio_config_add_notify_retry(cmd_parms *cmd, void *d, const char *arg);
/* JumioNotifyData (default decision). */
jumio_data_e jumio_config_notify_data(const jumio_srv_cfg_t *sc);
/* The delays of JumioNotifyRetry (default 10 60 300 1800 7200 18000 36000) into *delays;
 * how many. */
int jumio_config_notify_retry(const jumio_srv_cfg_t *sc, const int **delays);
jumio_srv_cfg_t *jumio_config_srv(request_rec *r);
jumio_srv_cfg_t *jumio_config_srv_of(jumio_ctx_t *c);
jumio_dir_cfg_t *jumio_config_dir(request_rec *r);

#endif
