/* config.c - directive parsing, per-server and per-directory config, merging, checks. */
#include "config.h"
#include "core/core.h"
#include <apr_strings.h>
#include <apr_file_io.h>
#include <apr_lib.h>
#include <apr_env.h>
#include <apr_uri.h>
#include <jwt.h>

#define JUMIO_DEFAULT_MAX_BODY   (16 * 1024)
#define JUMIO_DEFAULT_TIMEOUT    10
#define JUMIO_DEFAULT_CONNECT    3
#define JUMIO_DEFAULT_LEEWAY     60
#define JUMIO_DEFAULT_WORKFLOW   3
#define JUMIO_DEFAULT_BACKGROUND 2
#define JUMIO_DEFAULT_DB_TIMEOUT 5

/* Jumio's recommended retrieval timings, seconds after creation. */
static const int jumio_default_schedule[] = { 40, 60, 100, 160, 240, 340, 460, 600, 760, 940 };
#define JUMIO_DEFAULT_SCHEDULE_STEPS 10

static const char *const jumio_svc_names[JUMIO_SVC_COUNT] = { "auth", "account", "api", "retrieval",
                                                              "status" };
static const char *const jumio_id_types[] = { "ID_CARD", "DRIVING_LICENSE", "PASSPORT", "VISA",
                                              NULL };
static const char *const jumio_facemap_types[] = { "IPROOV_STANDARD", "IPROOV_PREMIUM",
                                                   "JUMIO_STANDARD", NULL };
static const char *const jumio_locales[] = {
    "ar", "bg",    "cs", "da", "de", "el", "en", "en-GB", "es", "es-MX", "et",    "fi", "fr", "he",
    "hr", "hu",    "hy", "id", "it", "ja", "ka", "km",    "ko", "lt",    "ms",    "nl", "no", "pl",
    "pt", "pt-BR", "ro", "ru", "sk", "sv", "th", "tr",    "vi", "zh-CN", "zh-HK", NULL
};

/* Fresh server config with everything unset. */
void *jumio_config_srv_create(apr_pool_t *p, server_rec *s)
{
    jumio_srv_cfg_t *c = apr_pcalloc(p, sizeof(*c));
    c->timeout = c->connect_timeout = c->jwt_alg = c->jwt_leeway = c->callback_signing = -1;
    c->background_interval = c->db_timeout = -1;
    return c;
}

#define JUMIO_PICK(f)     (add->f ? add->f : base->f)
#define JUMIO_PICK_SET(f) (add->f != -1 ? add->f : base->f)

/* Virtual host config: its own values over the main server's. */
void *jumio_config_srv_merge(apr_pool_t *p, void *basev, void *addv)
{
    jumio_srv_cfg_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    int i;
    for (i = 0; i < JUMIO_SVC_COUNT; i++)
        c->endpoint[i] = JUMIO_PICK(endpoint[i]);
    c->datacenter = JUMIO_PICK(datacenter);
    c->auth = JUMIO_PICK(auth);
    c->client_id = JUMIO_PICK(client_id);
    c->client_secret = JUMIO_PICK(client_secret);
    c->user_agent = JUMIO_PICK(user_agent);
    c->timeout = JUMIO_PICK_SET(timeout);
    c->connect_timeout = JUMIO_PICK_SET(connect_timeout);
    c->jwt_alg = JUMIO_PICK_SET(jwt_alg);
    /* the key is a secret/PEM or a JWKS URL: both come from where JumioJWTKey was set */
    c->jwt_key = (add->jwt_key || add->jwks_url) ? add->jwt_key : base->jwt_key;
    c->jwt_keylen = (add->jwt_key || add->jwks_url) ? add->jwt_keylen : base->jwt_keylen;
    c->jwks_url = (add->jwt_key || add->jwks_url) ? add->jwks_url : base->jwks_url;
    c->jwt_issuer = JUMIO_PICK(jwt_issuer);
    c->jwt_audience = JUMIO_PICK(jwt_audience);
    c->jwt_user_claim = JUMIO_PICK(jwt_user_claim);
    c->jwt_leeway = JUMIO_PICK_SET(jwt_leeway);
    c->callback_signing = JUMIO_PICK_SET(callback_signing);
    c->userref_key = JUMIO_PICK(userref_key);
    c->schedule = JUMIO_PICK(schedule);
    c->background_interval = JUMIO_PICK_SET(background_interval);
    c->db_timeout = JUMIO_PICK_SET(db_timeout);
    c->notify_url = JUMIO_PICK(notify_url);
    c->notify_keys = JUMIO_PICK(notify_keys);
    c->notify_data = JUMIO_PICK(notify_data);
    c->notify_retry = JUMIO_PICK(notify_retry);
    return c;
}

/* Fresh directory config with everything unset. */
void *jumio_config_dir_create(apr_pool_t *p, char *dir)
{
    jumio_dir_cfg_t *c = apr_pcalloc(p, sizeof(*c));
    c->sdk_token = c->retention_days = c->intake_reuse = -1;
    c->max_body = -1;
    c->verified_headers = -1;
    return c;
}

/* Inner <Location> values over the outer ones. */
void *jumio_config_dir_merge(apr_pool_t *p, void *basev, void *addv)
{
    jumio_dir_cfg_t *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    c->workflow_key = JUMIO_PICK(workflow_key);
    c->id_types = JUMIO_PICK(id_types);
    c->id_countries = JUMIO_PICK(id_countries);
    c->facemap_types = JUMIO_PICK(facemap_types);
    c->locale = JUMIO_PICK(locale);
    c->success_url = JUMIO_PICK(success_url);
    c->error_url = JUMIO_PICK(error_url);
    c->token_lifetime = JUMIO_PICK(token_lifetime);
    c->callback_url = JUMIO_PICK(callback_url);
    c->callback_allow = JUMIO_PICK(callback_allow);
    c->allowed_origins = JUMIO_PICK(allowed_origins);
    c->user_source = JUMIO_PICK(user_source);
    c->userref = JUMIO_PICK(userref);
    c->poll_data = JUMIO_PICK(poll_data);
    c->sdk_token = JUMIO_PICK_SET(sdk_token);
    c->max_body = add->max_body != -1 ? add->max_body : base->max_body;
    c->retention_days = JUMIO_PICK_SET(retention_days);
    c->token_seconds = JUMIO_PICK(token_seconds);
    c->intake_reuse = JUMIO_PICK_SET(intake_reuse);
    c->intake_limit = add->intake_limit ? add->intake_limit : base->intake_limit;
    c->intake_period = add->intake_limit ? add->intake_period : base->intake_period;
    c->verified_decisions = JUMIO_PICK(verified_decisions);
    c->verified_max_age = JUMIO_PICK(verified_max_age);
    c->verified_headers = JUMIO_PICK_SET(verified_headers);
    return c;
}

/* The server config a directive is being read for. */
static jumio_srv_cfg_t *jumio_config_cmd_srv(cmd_parms *cmd)
{
    return ap_get_module_config(cmd->server->module_config, &jumio_module);
}

/* Error text naming the directive. */
static const char *jumio_config_err(cmd_parms *cmd, const char *what, const char *arg)
{
    return apr_psprintf(cmd->pool, "%s: %s: '%s'", cmd->directive->directive, what, arg);
}

/* Read a small file (secrets, PEM keys) whole; strips one trailing newline. */
static const char *jumio_config_read_file(cmd_parms *cmd, const char *path, const char **out,
                                          apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    apr_status_t rv = apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->pool);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot open '%s': %pm", cmd->directive->directive, path,
                            &rv);
    if ((rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS || fi.size > 65536) {
        apr_file_close(f);
        return apr_psprintf(cmd->pool, "%s: '%s' is unreadable or larger than 64 KiB",
                            cmd->directive->directive, path);
    }
    n = (apr_size_t)fi.size;
    buf = apr_pcalloc(cmd->pool, n + 1);
    rv = n ? apr_file_read_full(f, buf, n, &n) : APR_SUCCESS;
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        return apr_psprintf(cmd->pool, "%s: cannot read '%s': %pm", cmd->directive->directive, path,
                            &rv);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    *out = buf;
    *len = n;
    return NULL;
}

/* Resolve a secret given as literal, env:NAME or file:/path. */
static const char *jumio_config_secret(cmd_parms *cmd, const char *arg, const char **out,
                                       apr_size_t *len)
{
    if (!strncmp(arg, "env:", 4)) {
        char *val = NULL;
        if (apr_env_get(&val, arg + 4, cmd->pool) != APR_SUCCESS || !val || !*val)
            return jumio_config_err(cmd, "environment variable is not set", arg + 4);
        *out = val;
        *len = strlen(val);
        return NULL;
    }
    if (!strncmp(arg, "file:", 5))
        return jumio_config_read_file(cmd, ap_server_root_relative(cmd->pool, arg + 5), out, len);
    if (!*arg)
        return jumio_config_err(cmd, "empty value", arg);
    *out = arg;
    *len = strlen(arg);
    return NULL;
}

/* 1 when arg is an http(s) URL without spaces or control characters, at most 255 long. */
static int jumio_config_url_ok(const char *arg)
{
    const char *c;
    if (strncasecmp(arg, "https://", 8) && strncasecmp(arg, "http://", 7))
        return 0;
    for (c = arg; *c; c++)
        if (apr_iscntrl(*c) || *c == ' ')
            return 0;
    return strlen(arg) <= 255;
}

/* 1 when s is one of the NULL-terminated list. */
static int jumio_config_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

/* Parse a non-negative integer with an upper bound; -1 when invalid. */
static long jumio_config_int(const char *arg, long max)
{
    char *end;
    long v;
    if (!apr_isdigit(*arg))
        return -1;
    v = strtol(arg, &end, 10);
    return (*end || v < 0 || v > max) ? -1 : v;
}

/* JumioDatacenter US|EU|SG. */
const char *jumio_config_set_datacenter(cmd_parms *cmd, void *d, const char *arg)
{
    if (strcmp(arg, "US") && strcmp(arg, "EU") && strcmp(arg, "SG"))
        return jumio_config_err(cmd, "must be US, EU or SG", arg);
    jumio_config_cmd_srv(cmd)->datacenter = arg;
    return NULL;
}

/* JumioEndpoint <service> <base URL>. */
const char *jumio_config_set_endpoint(cmd_parms *cmd, void *d, const char *svc, const char *url)
{
    int i;
    for (i = 0; i < JUMIO_SVC_COUNT; i++)
        if (!strcmp(svc, jumio_svc_names[i]))
            break;
    if (i == JUMIO_SVC_COUNT)
        return jumio_config_err(cmd, "service must be auth, account, api, retrieval or status",
                                svc);
    if (!jumio_config_url_ok(url))
        return jumio_config_err(cmd, "not an http(s) URL", url);
    jumio_config_cmd_srv(cmd)->endpoint[i] = apr_pstrdup(cmd->pool, url);
    return NULL;
}

/* One keyword of a directive's fixed list and the value it sets. */
typedef struct {
    const char *word;
    int value;
} jumio_config_word_t;

/* The value of arg in a NULL-terminated keyword list (any case) into *out; NULL, or the error
 * naming the directive and the expected words. */
static const char *jumio_config_choose(cmd_parms *cmd, const char *arg,
                                       const jumio_config_word_t *words, const char *expected,
                                       int *out)
{
    for (; words->word; words++)
        if (!strcasecmp(arg, words->word)) {
            *out = words->value;
            return NULL;
        }
    return jumio_config_err(cmd, apr_pstrcat(cmd->pool, "must be ", expected, NULL), arg);
}

/* JumioAuth oauth2|basic. */
const char *jumio_config_set_auth(cmd_parms *cmd, void *d, const char *arg)
{
    static const jumio_config_word_t words[] = { { "oauth2", JUMIO_AUTH_OAUTH2 },
                                                 { "basic", JUMIO_AUTH_BASIC },
                                                 { NULL, 0 } };
    int v;
    const char *err = jumio_config_choose(cmd, arg, words, "oauth2 or basic", &v);
    if (!err)
        jumio_config_cmd_srv(cmd)->auth = (jumio_auth_e)v;
    return err;
}

/* A plain string field of the server config (offset in cmd->info). */
const char *jumio_config_set_srv_string(cmd_parms *cmd, void *d, const char *arg)
{
    const char *c;
    for (c = arg; *c; c++)
        if (apr_iscntrl(*c))
            return jumio_config_err(cmd, "control characters are not allowed", "");
    if (!*arg || strlen(arg) > 255)
        return jumio_config_err(cmd, "must be 1 to 255 characters", arg);
    return ap_set_string_slot(cmd, jumio_config_cmd_srv(cmd), arg);
}

/* A secret field of the server config (literal, env:, file:); never echoed in errors. */
const char *jumio_config_set_srv_secret(cmd_parms *cmd, void *d, const char *arg)
{
    const char *val;
    apr_size_t len;
    const char *err = jumio_config_secret(cmd, arg, &val, &len);
    if (err)
        return err;
    if (memchr(val, '\0', len) || memchr(val, '\n', len))
        return apr_psprintf(cmd->pool, "%s: the value must be a single line",
                            cmd->directive->directive);
    *(const char **)((char *)jumio_config_cmd_srv(cmd) + (apr_size_t)cmd->info) = val;
    return NULL;
}

/* JumioTimeout <total> [<connect>]. */
const char *jumio_config_set_timeout(cmd_parms *cmd, void *d, const char *total, const char *conn)
{
    jumio_srv_cfg_t *sc = jumio_config_cmd_srv(cmd);
    long t = jumio_config_int(total, 600), c = conn ? jumio_config_int(conn, 600) : -2;
    if (t < 1)
        return jumio_config_err(cmd, "total timeout must be 1..600 seconds", total);
    if (c == -1 || c == 0 || c > t)
        return jumio_config_err(cmd, "connect timeout must be 1..total seconds", conn);
    sc->timeout = (int)t;
    sc->connect_timeout = c > 0 ? (int)c : 0; /* 0: derived from the total */
    return NULL;
}

/* JumioJWTAlgorithm, pinned. */
const char *jumio_config_set_jwt_alg(cmd_parms *cmd, void *d, const char *arg)
{
    int alg = jumio_jwt_alg_from_name(arg);
    if (alg < 0)
        return jumio_config_err(cmd, "must be HS256/384/512, RS256/384/512 or ES256/384/512", arg);
    jumio_config_cmd_srv(cmd)->jwt_alg = alg;
    return NULL;
}

/* JumioJWTKey: HMAC secret or PEM public key (literal, env:, file:), or jwks:<http(s) URL> of
 * the identity provider's JWKS document. */
const char *jumio_config_set_jwt_key(cmd_parms *cmd, void *d, const char *arg)
{
    jumio_srv_cfg_t *sc = jumio_config_cmd_srv(cmd);
    if (!strncmp(arg, "jwks:", 5)) {
        if (!jumio_config_url_ok(arg + 5))
            return jumio_config_err(cmd, "jwks: needs an http(s) URL of at most 255 characters",
                                    arg + 5);
        sc->jwks_url = apr_pstrdup(cmd->pool, arg + 5);
        sc->jwt_key = NULL;
        sc->jwt_keylen = 0;
        return NULL;
    }
    sc->jwks_url = NULL;
    return jumio_config_secret(cmd, arg, &sc->jwt_key, &sc->jwt_keylen);
}

/* Seconds min..max (said as `range` in the error) into an int field of the server config. */
static const char *jumio_config_seconds(cmd_parms *cmd, const char *arg, long min, long max,
                                        const char *range, int *field)
{
    long v = jumio_config_int(arg, max);
    if (v < min)
        return jumio_config_err(cmd, range, arg);
    *field = (int)v;
    return NULL;
}

/* JumioJWTLeeway seconds. */
const char *jumio_config_set_jwt_leeway(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_seconds(cmd, arg, 0, 3600, "must be 0..3600 seconds",
                                &jumio_config_cmd_srv(cmd)->jwt_leeway);
}

/* JumioCallbackSigning on|off. */
const char *jumio_config_set_signing(cmd_parms *cmd, void *d, int on)
{
    jumio_config_cmd_srv(cmd)->callback_signing = on;
    return NULL;
}

/* Append a number of seconds (1..86400) to a directive's list *list (made on first use):
 * at most max entries, increasing when `increasing`; NULL or the error. */
static const char *jumio_config_push_seconds(cmd_parms *cmd, const char *arg,
                                             apr_array_header_t **list, int max, int increasing,
                                             const char *too_many)
{
    long v = jumio_config_int(arg, 86400);
    if (v < 1)
        return jumio_config_err(cmd, "each value must be 1..86400 seconds", arg);
    if (!*list)
        *list = apr_array_make(cmd->pool, max, sizeof(int));
    if ((*list)->nelts >= max)
        return jumio_config_err(cmd, too_many, arg);
    if (increasing && (*list)->nelts && v <= APR_ARRAY_IDX(*list, (*list)->nelts - 1, int))
        return jumio_config_err(cmd, "steps must increase", arg);
    APR_ARRAY_PUSH(*list, int) = (int)v;
    return NULL;
}

/* JumioRetrievalSchedule: seconds after creation of each Status API check (at most 10,
 * increasing). */
const char *jumio_config_add_schedule(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_push_seconds(cmd, arg, &jumio_config_cmd_srv(cmd)->schedule, 10, 1,
                                     "at most 10 steps (Jumio allows 10 retrievals)");
}

/* JumioBackgroundInterval: seconds between background rounds, 0 turns them off. */
const char *jumio_config_set_background(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_seconds(cmd, arg, 0, 3600, "must be 0 (off) to 3600 seconds",
                                &jumio_config_cmd_srv(cmd)->background_interval);
}

/* JumioDBTimeout: seconds a database read or write may wait for locks (1 .. 60). */
const char *jumio_config_set_db_timeout(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_seconds(cmd, arg, 1, 60, "must be 1 to 60 seconds",
                                &jumio_config_cmd_srv(cmd)->db_timeout);
}

/* JumioWorkflowKey: any positive integer (tenants have custom keys such as 10013). */
const char *jumio_config_set_workflow_key(cmd_parms *cmd, void *d, const char *arg)
{
    long v = jumio_config_int(arg, 2147483647L);
    if (v < 1)
        return jumio_config_err(cmd, "must be a positive integer", arg);
    ((jumio_dir_cfg_t *)d)->workflow_key = (int)v;
    return NULL;
}

/* Append to an array of strings, creating it on first use. */
static void jumio_config_push(cmd_parms *cmd, apr_array_header_t **arr, const char *v)
{
    if (!*arr)
        *arr = apr_array_make(cmd->pool, 4, sizeof(const char *));
    APR_ARRAY_PUSH(*arr, const char *) = apr_pstrdup(cmd->pool, v);
}

/* JumioIdTypes: credential type codes for category ID. */
const char *jumio_config_add_id_type(cmd_parms *cmd, void *d, const char *arg)
{
    if (!jumio_config_in(arg, jumio_id_types))
        return jumio_config_err(cmd, "must be ID_CARD, DRIVING_LICENSE, PASSPORT or VISA", arg);
    jumio_config_push(cmd, &((jumio_dir_cfg_t *)d)->id_types, arg);
    return NULL;
}

/* JumioIdCountries: ISO 3166-1 alpha-3 codes. */
const char *jumio_config_add_country(cmd_parms *cmd, void *d, const char *arg)
{
    if (strlen(arg) != 3 || !apr_isupper(arg[0]) || !apr_isupper(arg[1]) || !apr_isupper(arg[2]))
        return jumio_config_err(cmd, "must be an ISO 3166-1 alpha-3 code such as USA", arg);
    jumio_config_push(cmd, &((jumio_dir_cfg_t *)d)->id_countries, arg);
    return NULL;
}

/* JumioFacemapTypes: credential type codes for category FACEMAP. */
const char *jumio_config_add_facemap(cmd_parms *cmd, void *d, const char *arg)
{
    if (!jumio_config_in(arg, jumio_facemap_types))
        return jumio_config_err(cmd, "must be IPROOV_STANDARD, IPROOV_PREMIUM or JUMIO_STANDARD",
                                arg);
    jumio_config_push(cmd, &((jumio_dir_cfg_t *)d)->facemap_types, arg);
    return NULL;
}

/* JumioLocale: one of the web client's supported locales. */
const char *jumio_config_set_locale(cmd_parms *cmd, void *d, const char *arg)
{
    if (!jumio_config_in(arg, jumio_locales))
        return jumio_config_err(cmd, "not a locale supported by Jumio's web client", arg);
    ((jumio_dir_cfg_t *)d)->locale = arg;
    return NULL;
}

/* The error of a callback URL or prefix refused by src/core/url.c for why (the value is not
 * shown when it holds userinfo: it may be a password). */
static const char *jumio_config_url_err(cmd_parms *cmd, const char *why, const char *arg)
{
    return jumio_config_err(cmd, why, strchr(arg, '@') ? "(not shown: it has an '@')" : arg);
}

/* A URL field of the directory config (offset in cmd->info); JumioCallbackURL also has the
 * shape of a callback URL (jumio_url_check). */
const char *jumio_config_set_url(cmd_parms *cmd, void *d, const char *arg)
{
    const char *why;
    if (!jumio_config_url_ok(arg))
        return jumio_config_err(cmd, "must be an http(s) URL of at most 255 characters", arg);
    if ((apr_size_t)cmd->info == APR_OFFSETOF(jumio_dir_cfg_t, callback_url)
        && (why = jumio_url_check(cmd->temp_pool, arg, NULL)))
        return jumio_config_url_err(cmd, why, arg);
    *(const char **)((char *)d + (apr_size_t)cmd->info) = arg;
    return NULL;
}

/* A duration <n>s|m|h|d in seconds, or -1 when it is not one. */
static long jumio_config_duration(cmd_parms *cmd, const char *arg)
{
    apr_size_t n = strlen(arg);
    char unit = n ? arg[n - 1] : 0;
    long v, mult = unit == 's'   ? 1
                   : unit == 'm' ? 60
                   : unit == 'h' ? 3600
                   : unit == 'd' ? 86400
                                 : 0;
    v = (n > 1 && n < 12 && mult) ? jumio_config_int(apr_pstrndup(cmd->pool, arg, n - 1), 99999999)
                                  : -1;
    return v < 0 ? -1 : v * mult;
}

/* JumioTokenLifetime: <n>s|m|h|d between 5m and 60d. */
const char *jumio_config_set_token_lifetime(cmd_parms *cmd, void *d, const char *arg)
{
    long v = jumio_config_duration(cmd, arg);
    if (v < 300 || v > 60L * 86400)
        return jumio_config_err(cmd, "must be like 30m, 600s, 1d, between 5m and 60d", arg);
    ((jumio_dir_cfg_t *)d)->token_lifetime = arg;
    ((jumio_dir_cfg_t *)d)->token_seconds = (int)v;
    return NULL;
}

/* JumioIntakeReuse on|off. */
const char *jumio_config_set_intake_reuse(cmd_parms *cmd, void *d, int on)
{
    ((jumio_dir_cfg_t *)d)->intake_reuse = on;
    return NULL;
}

/* JumioIntakeLimit <n> <period>: n (1..100000) new transactions per user and period
 * (1s..366d). */
const char *jumio_config_set_intake_limit(cmd_parms *cmd, void *d, const char *n,
                                          const char *period)
{
    long v = jumio_config_int(n, 100000), secs = jumio_config_duration(cmd, period);
    if (v < 1)
        return jumio_config_err(cmd, "the count must be 1..100000", n);
    if (secs < 1 || secs > 366L * 86400)
        return jumio_config_err(cmd, "the period must be like 1d, 12h, 30m, at most 366d", period);
    ((jumio_dir_cfg_t *)d)->intake_limit = (int)v;
    ((jumio_dir_cfg_t *)d)->intake_period = (int)secs;
    return NULL;
}

/* JumioCallbackURLAllow prefixes, each of a callback URL's shape without a query. */
const char *jumio_config_add_allow(cmd_parms *cmd, void *d, const char *arg)
{
    const char *why;
    if (!jumio_config_url_ok(arg))
        return jumio_config_err(cmd, "must be an http(s) URL prefix", arg);
    if ((why = jumio_url_prefix_check(cmd->temp_pool, arg)))
        return jumio_config_url_err(cmd, why, arg);
    jumio_config_push(cmd, &((jumio_dir_cfg_t *)d)->callback_allow, arg);
    return NULL;
}

/* The serialized origin of text, or NULL (see config.h). */
const char *jumio_config_origin(apr_pool_t *p, const char *text)
{
    int tls = !strncasecmp(text, "https://", 8);
    const char *s, *host, *end;
    char *h;
    long port = -1;
    if (!tls && strncasecmp(text, "http://", 7))
        return NULL;
    host = s = text + (tls ? 8 : 7);
    if (*s == '[') { /* IPv6 literal */
        for (s++; apr_isxdigit(*s) || *s == ':' || *s == '.'; s++)
            ;
        if (*s++ != ']' || s - host < 4)
            return NULL;
    }
    else
        for (; apr_isalnum(*s) || *s == '.' || *s == '-' || *s == '_'; s++)
            ;
    end = s;
    if (end == host)
        return NULL;
    if (*s == ':') {
        if (!apr_isdigit(s[1]) || strlen(s + 1) > 5 || (port = jumio_config_int(s + 1, 65535)) < 1)
            return NULL;
    }
    else if (*s)
        return NULL;
    h = apr_pstrmemdup(p, host, (apr_size_t)(end - host));
    ap_str_tolower(h);
    if (port < 0 || port == (tls ? 443 : 80))
        return apr_pstrcat(p, tls ? "https://" : "http://", h, NULL);
    return apr_psprintf(p, "%s://%s:%ld", tls ? "https" : "http", h, port);
}

/* JumioAllowedOrigin origins: the other origins whose pages may call intake, poll and erase
 * (cross-site check and CORS, src/origin.c), kept serialized. */
const char *jumio_config_add_origin(cmd_parms *cmd, void *d, const char *arg)
{
    const char *origin = jumio_config_origin(cmd->pool, arg);
    if (!origin)
        return jumio_config_err(
            cmd, "must be an origin: http(s)://host[:port], without a path or a trailing slash",
            arg);
    jumio_config_push(cmd, &((jumio_dir_cfg_t *)d)->allowed_origins, origin);
    return NULL;
}

/* JumioUserSource jwt|remote-user. */
const char *jumio_config_set_user_source(cmd_parms *cmd, void *d, const char *arg)
{
    static const jumio_config_word_t words[] = { { "jwt", JUMIO_USER_JWT },
                                                 { "remote-user", JUMIO_USER_REMOTE },
                                                 { NULL, 0 } };
    int v;
    const char *err = jumio_config_choose(cmd, arg, words, "jwt or remote-user", &v);
    if (!err)
        ((jumio_dir_cfg_t *)d)->user_source = (jumio_usersrc_e)v;
    return err;
}

/* JumioUserReference plain|hmac. */
const char *jumio_config_set_userref(cmd_parms *cmd, void *d, const char *arg)
{
    static const jumio_config_word_t words[] = { { "plain", JUMIO_REF_PLAIN },
                                                 { "hmac", JUMIO_REF_HMAC },
                                                 { NULL, 0 } };
    int v;
    const char *err = jumio_config_choose(cmd, arg, words, "plain or hmac", &v);
    if (!err)
        ((jumio_dir_cfg_t *)d)->userref = (jumio_ref_e)v;
    return err;
}

/* decision|full|none (JumioPollData, JumioNotifyData) into *out; NULL or the error. */
static const char *jumio_config_data_word(cmd_parms *cmd, const char *arg, jumio_data_e *out)
{
    static const jumio_config_word_t words[] = { { "decision", JUMIO_DATA_DECISION },
                                                 { "full", JUMIO_DATA_FULL },
                                                 { "none", JUMIO_DATA_NONE },
                                                 { NULL, 0 } };
    int v;
    const char *err = jumio_config_choose(cmd, arg, words, "decision, full or none", &v);
    if (!err)
        *out = (jumio_data_e)v;
    return err;
}

/* JumioPollData decision|full|none. */
const char *jumio_config_set_poll_data(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_data_word(cmd, arg, &((jumio_dir_cfg_t *)d)->poll_data);
}

/* JumioSdkToken on|off. */
const char *jumio_config_set_sdk_token(cmd_parms *cmd, void *d, int on)
{
    ((jumio_dir_cfg_t *)d)->sdk_token = on;
    return NULL;
}

/* JumioMaxBody bytes (1 .. 1 MiB). */
const char *jumio_config_set_max_body(cmd_parms *cmd, void *d, const char *arg)
{
    long v = jumio_config_int(arg, 1024L * 1024);
    if (v < 1)
        return jumio_config_err(cmd, "must be 1..1048576 bytes", arg);
    ((jumio_dir_cfg_t *)d)->max_body = v;
    return NULL;
}

/* JumioRetention days (1 .. 3650). */
const char *jumio_config_set_retention(cmd_parms *cmd, void *d, const char *arg)
{
    long v = jumio_config_int(arg, 3650);
    if (v < 1)
        return jumio_config_err(cmd, "must be 1..3650 days", arg);
    ((jumio_dir_cfg_t *)d)->retention_days = (int)v;
    return NULL;
}

/* 1 when the configured JWT key fits the algorithm family (PEM for RS/ES, secret for HS). */
static int jumio_config_key_fits(const jumio_srv_cfg_t *sc)
{
    int pem = sc->jwt_key && strstr(sc->jwt_key, "-----BEGIN");
    if (sc->jwt_alg >= JWT_ALG_HS256 && sc->jwt_alg <= JWT_ALG_HS512)
        return !pem && sc->jwt_keylen >= 16;
    return pem && !strstr(sc->jwt_key, "PRIVATE KEY");
}

/* Cross-directive checks of one server; NULL when fine. */
static const char *jumio_config_check_one(apr_pool_t *p, const jumio_srv_cfg_t *sc)
{
    if ((sc->jwt_key || sc->jwks_url) && sc->jwt_alg < 0)
        return "JumioJWTKey: JumioJWTAlgorithm must be set too (the algorithm is pinned)";
    if (sc->jwt_alg >= 0 && !sc->jwt_key && !sc->jwks_url)
        return "JumioJWTAlgorithm: JumioJWTKey must be set too";
    if (sc->jwks_url && sc->jwt_alg >= JWT_ALG_HS256 && sc->jwt_alg <= JWT_ALG_HS512)
        return "JumioJWTKey jwks: needs JumioJWTAlgorithm RS256/384/512 or ES256/384/512 "
               "(JWKS keys are public keys)";
    if (sc->jwt_key && !jumio_config_key_fits(sc))
        return "JumioJWTKey: HS* needs a secret of 16+ bytes; RS*/ES* need a PEM public key";
    if (!sc->client_id != !sc->client_secret)
        return "JumioClientId/JumioClientSecret: set both or neither";
    if (sc->notify_url && !sc->notify_keys)
        return "JumioNotifyURL: JumioNotifySecret must be set too (notifications are signed)";
    return NULL;
}

/* check_config hook: refuse to start with an inconsistent configuration. */
int jumio_config_check(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    for (; s; s = s->next) {
        const char *err =
            jumio_config_check_one(ptemp, ap_get_module_config(s->module_config, &jumio_module));
        if (err) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s, "mod_jumio: %s", err);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* Base URL of a Jumio service: JumioEndpoint, else from JumioDatacenter (default US). */
const char *jumio_config_endpoint(const jumio_srv_cfg_t *sc, jumio_svc_e svc, apr_pool_t *p)
{
    const char *dc = sc->datacenter ? sc->datacenter : "US";
    const char *region = !strcmp(dc, "EU") ? "emea-1" : !strcmp(dc, "SG") ? "apac-1" : "amer-1";
    if (sc->endpoint[svc])
        return sc->endpoint[svc];
    return apr_psprintf(p, "https://%s.%s.jumio.ai", jumio_svc_names[svc], region);
}

/* Effective JumioCallbackSigning (default on). */
int jumio_config_signing(const jumio_srv_cfg_t *sc)
{
    return sc->callback_signing != 0;
}

/* Effective JumioDBTimeout in seconds (default JUMIO_DEFAULT_DB_TIMEOUT). */
int jumio_config_db_timeout(const jumio_srv_cfg_t *sc)
{
    return sc->db_timeout > 0 ? sc->db_timeout : JUMIO_DEFAULT_DB_TIMEOUT;
}

/* Server config of a request. */
jumio_srv_cfg_t *jumio_config_srv(request_rec *r)
{
    return ap_get_module_config(r->server->module_config, &jumio_module);
}

/* Directory config of a request. */
jumio_dir_cfg_t *jumio_config_dir(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &jumio_module);
}

/* Server config of a context (request or background task). */
jumio_srv_cfg_t *jumio_config_srv_of(jumio_ctx_t *c)
{
    return ap_get_module_config(c->s->module_config, &jumio_module);
}

/* JumioTimeout total seconds (default 10). */
int jumio_config_timeout(const jumio_srv_cfg_t *sc)
{
    return sc->timeout > 0 ? sc->timeout : JUMIO_DEFAULT_TIMEOUT;
}

/* JumioTimeout connect seconds: as given, else 3 but never above the total. */
int jumio_config_connect_timeout(const jumio_srv_cfg_t *sc)
{
    int total = jumio_config_timeout(sc);
    if (sc->connect_timeout > 0)
        return sc->connect_timeout;
    return total < JUMIO_DEFAULT_CONNECT ? total : JUMIO_DEFAULT_CONNECT;
}

/* JumioJWTLeeway seconds (default 60). */
int jumio_config_leeway(const jumio_srv_cfg_t *sc)
{
    return sc->jwt_leeway >= 0 ? sc->jwt_leeway : JUMIO_DEFAULT_LEEWAY;
}

/* JumioJWTUserClaim (default "sub"). */
const char *jumio_config_user_claim(const jumio_srv_cfg_t *sc)
{
    return sc->jwt_user_claim ? sc->jwt_user_claim : "sub";
}

/* JumioBackgroundInterval seconds (default 2, 0 off). */
int jumio_config_background(const jumio_srv_cfg_t *sc)
{
    return sc->background_interval >= 0 ? sc->background_interval : JUMIO_DEFAULT_BACKGROUND;
}

/* Seconds after creation when status check n is due, or -1 when no check n remains. */
int jumio_config_schedule(const jumio_srv_cfg_t *sc, int n)
{
    if (n < 0)
        return -1;
    if (sc->schedule)
        return n < sc->schedule->nelts ? APR_ARRAY_IDX(sc->schedule, n, int) : -1;
    return n < JUMIO_DEFAULT_SCHEDULE_STEPS ? jumio_default_schedule[n] : -1;
}

/* JumioMaxBody bytes (default 16 KiB). */
apr_off_t jumio_config_max_body(const jumio_dir_cfg_t *dc)
{
    return dc->max_body > 0 ? dc->max_body : JUMIO_DEFAULT_MAX_BODY;
}

/* JumioWorkflowKey (default 3). */
int jumio_config_workflow_key(const jumio_dir_cfg_t *dc)
{
    return dc->workflow_key > 0 ? dc->workflow_key : JUMIO_DEFAULT_WORKFLOW;
}

/* JumioPollData (default decision). */
jumio_data_e jumio_config_poll_data(const jumio_dir_cfg_t *dc)
{
    return dc->poll_data != JUMIO_DATA_UNSET ? dc->poll_data : JUMIO_DATA_DECISION;
}

/* JumioUserSource (default jwt). */
jumio_usersrc_e jumio_config_user_source(const jumio_dir_cfg_t *dc)
{
    return dc->user_source != JUMIO_USER_UNSET ? dc->user_source : JUMIO_USER_JWT;
}

/* JumioSdkToken (default off). */
int jumio_config_sdk_token(const jumio_dir_cfg_t *dc)
{
    return dc->sdk_token == 1;
}

/* Effective JumioTokenLifetime in seconds (default 30m, Jumio's). */
int jumio_config_token_seconds(const jumio_dir_cfg_t *dc)
{
    return dc->token_seconds ? dc->token_seconds : 30 * 60;
}

/* Effective JumioIntakeReuse (default on). */
int jumio_config_intake_reuse(const jumio_dir_cfg_t *dc)
{
    return dc->intake_reuse != 0;
}

/* ---- Require jumio-verified (src/authz.c) ---- */

/* JumioVerifiedDecisions PASSED [WARNING]: the decisions that count as verified. */
const char *jumio_config_add_verified_decision(cmd_parms *cmd, void *d, const char *arg)
{
    static const jumio_config_word_t words[] = { { "PASSED", JUMIO_VERIFIED_PASSED },
                                                 { "WARNING", JUMIO_VERIFIED_WARNING },
                                                 { NULL, 0 } };
    int v;
    const char *err = jumio_config_choose(cmd, arg, words, "PASSED or WARNING", &v);
    if (!err)
        ((jumio_dir_cfg_t *)d)->verified_decisions |= v;
    return err;
}

/* JumioVerifiedMaxAge: <n>s|m|h|d between 1s and 3650d. */
const char *jumio_config_set_verified_max_age(cmd_parms *cmd, void *d, const char *arg)
{
    long v = jumio_config_duration(cmd, arg);
    if (v < 1 || v > 3650L * 86400)
        return jumio_config_err(cmd, "must be like 600s, 30m, 365d, between 1s and 3650d", arg);
    ((jumio_dir_cfg_t *)d)->verified_max_age = (int)v;
    return NULL;
}

/* JumioVerifiedHeaders on|off. */
const char *jumio_config_set_verified_headers(cmd_parms *cmd, void *d, int on)
{
    ((jumio_dir_cfg_t *)d)->verified_headers = on;
    return NULL;
}

/* Effective JumioVerifiedDecisions (default PASSED). */
int jumio_config_verified_decisions(const jumio_dir_cfg_t *dc)
{
    return dc->verified_decisions ? dc->verified_decisions : JUMIO_VERIFIED_PASSED;
}

/* Effective JumioVerifiedMaxAge in seconds (0: no limit, the default). */
int jumio_config_verified_max_age(const jumio_dir_cfg_t *dc)
{
    return dc->verified_max_age;
}

/* Effective JumioVerifiedHeaders (default off). */
int jumio_config_verified_headers(const jumio_dir_cfg_t *dc)
{
    return dc->verified_headers == 1;
}

/* ---- signed result notifications (src/notify.c) ---- */

/* Default JumioNotifyRetry: the delay after each failed try (the last one repeated until the
 * notification is 3 days old). */
static const int jumio_default_notify_retry[] = { 10, 60, 300, 1800, 7200, 18000, 36000 };

/* 1 when host names this machine's loopback (http allowed there, for tests). */
static int jumio_config_loopback(const char *host)
{
    return !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) || !strcmp(host, "::1");
}

/* JumioNotifyURL: https, or http to a loopback host; no user:password, no fragment. */
const char *jumio_config_set_notify_url(cmd_parms *cmd, void *d, const char *arg)
{
    apr_uri_t u;
    if (!jumio_config_url_ok(arg) || apr_uri_parse(cmd->temp_pool, arg, &u) != APR_SUCCESS
        || !u.scheme || !u.hostname || !*u.hostname)
        return jumio_config_err(cmd, "must be an http(s) URL of at most 255 characters", arg);
    if (u.user || u.password || u.fragment)
        return jumio_config_err(cmd, "must not carry user:password@ or a #fragment",
                                strchr(arg, '@') ? "(not shown: it has an '@')" : arg);
    if (strcasecmp(u.scheme, "https")
        && !(!strcasecmp(u.scheme, "http") && jumio_config_loopback(u.hostname)))
        return jumio_config_err(cmd, "must be https (http only to a loopback address)", arg);
    jumio_config_cmd_srv(cmd)->notify_url = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

/* JumioNotifySecret <secret> [<secret>]: each literal, env:NAME or file:/path; whsec_<base64>
 * is the key's bytes (Standard Webhooks), anything else the secret's own bytes. Never echoed. */
const char *jumio_config_set_notify_secret(cmd_parms *cmd, void *d, const char *a, const char *b)
{
    jumio_srv_cfg_t *sc = jumio_config_cmd_srv(cmd);
    const char *args[2] = { a, b }, *val, *err;
    apr_array_header_t *keys = apr_array_make(cmd->pool, 2, sizeof(jumio_webhook_key_t));
    apr_size_t len;
    int i;
    for (i = 0; i < 2 && args[i]; i++) {
        if ((err = jumio_config_secret(cmd, args[i], &val, &len)))
            return err;
        if ((err = jumio_webhook_key(cmd->pool, val, len, apr_array_push(keys))))
            return apr_psprintf(cmd->pool, "%s: secret %d: %s", cmd->directive->directive, i + 1,
                                err);
    }
    sc->notify_keys = keys;
    return NULL;
}

/* JumioNotifyData decision|full|none. */
const char *jumio_config_set_notify_data(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_data_word(cmd, arg, &jumio_config_cmd_srv(cmd)->notify_data);
}

/* JumioNotifyRetry: seconds (1..86400) to wait after each failed try, at most 20 steps. */
const char *jumio_config_add_notify_retry(cmd_parms *cmd, void *d, const char *arg)
{
    return jumio_config_push_seconds(cmd, arg, &jumio_config_cmd_srv(cmd)->notify_retry, 20, 0,
                                     "at most 20 delays");
}

/* JumioNotifyData (default decision). */
jumio_data_e jumio_config_notify_data(const jumio_srv_cfg_t *sc)
{
    return sc->notify_data != JUMIO_DATA_UNSET ? sc->notify_data : JUMIO_DATA_DECISION;
}

/* The delays of JumioNotifyRetry or the default; how many. */
int jumio_config_notify_retry(const jumio_srv_cfg_t *sc, const int **delays)
{
    if (sc->notify_retry && sc->notify_retry->nelts) {
        *delays = (const int *)sc->notify_retry->elts;
        return sc->notify_retry->nelts;
    }
    *delays = jumio_default_notify_retry;
    return (int)(sizeof(jumio_default_notify_retry) / sizeof(jumio_default_notify_retry[0]));
}
