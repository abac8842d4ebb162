/* user.c - who is asking: the user id from a verified JWT or from r->user. */
#include "user.h"
#include "config.h"
#include "http.h"
#include "jwks_cache.h"
#include "cache.h"
#include "core/core.h"
#include <apr_strings.h>

/* The bearer token of the Authorization header, or NULL. */
const char *jumio_user_bearer(request_rec *r)
{
    const char *h = apr_table_get(r->headers_in, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7))
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

/* The verification key of token into cfg: JumioJWTKey, or the JWKS key named by the token's
 * kid (JumioJWTKey jwks:). 0 on success, -1 when there is none (reason logged). */
static int jumio_user_key(request_rec *r, const jumio_srv_cfg_t *sc, const char *token,
                          jumio_jwt_cfg_t *cfg)
{
    jumio_ctx_t c = { r->pool, r->server, r, 0 };
    const char *kid = NULL, *why;
    if (!sc->jwks_url) {
        cfg->key = (const unsigned char *)sc->jwt_key;
        cfg->keylen = sc->jwt_keylen;
        return 0;
    }
    if ((why = jumio_jwt_kid(r->pool, token, sc->jwt_alg, &kid))) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: JWT refused: %s", why);
        return -1;
    }
    cfg->key = (const unsigned char *)jumio_jwks_key(&c, kid, &cfg->keylen);
    return cfg->key ? 0 : -1;
}

/* User id from the JWT in the Authorization header, or NULL (reason logged, never the token).
 * A token verified less than a second ago in this process is not verified again
 * (src/cache.c): its expiry is then seen at most 1 s late. */
static const char *jumio_user_from_jwt(request_rec *r, const jumio_srv_cfg_t *sc)
{
    jumio_jwt_cfg_t cfg;
    const char *user = NULL, *why, *key;
    char *cached;
    apr_size_t klen, ulen;
    const char *token = jumio_user_bearer(r);
    if (!token) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: no bearer token");
        return NULL;
    }
    key = jumio_cache_key(r->pool, sc, &klen, token, (const char *)NULL);
    if (jumio_cache_get(JUMIO_CACHE_JWT, key, klen, r->pool, &cached, &ulen))
        return cached;
    if (sc->jwt_alg < 0 || (!sc->jwt_key && !sc->jwks_url)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      "mod_jumio: JumioJWTAlgorithm/JumioJWTKey are not configured");
        return NULL;
    }
    cfg.alg = sc->jwt_alg;
    if (jumio_user_key(r, sc, token, &cfg) != 0)
        return NULL;
    cfg.issuer = sc->jwt_issuer;
    cfg.audience = sc->jwt_audience;
    cfg.user_claim = jumio_config_user_claim(sc);
    cfg.leeway = jumio_config_leeway(sc);
    why = jumio_jwt_verify(r->pool, &cfg, token, (long long)apr_time_sec(apr_time_now()), &user);
    if (why) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: JWT refused: %s", why);
        return NULL;
    }
    jumio_cache_put(JUMIO_CACHE_JWT, key, klen, user, strlen(user));
    return user;
}

/* The user id of the request (JWT or r->user per JumioUserSource), or NULL. */
const char *jumio_user_identify(request_rec *r, const jumio_srv_cfg_t *sc,
                                const jumio_dir_cfg_t *dc)
{
    if (jumio_config_user_source(dc) == JUMIO_USER_REMOTE) {
        if (!jumio_util_user_id_ok(r->user, r->user ? strlen(r->user) : 0)) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: no usable authenticated user");
            return NULL;
        }
        return r->user;
    }
    return jumio_user_from_jwt(r, sc);
}

/* Answer 401 invalid_token with WWW-Authenticate; returns OK. */
int jumio_user_reject(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    return jumio_http_fail(r, JUMIO_E_INVALID_TOKEN);
}
