/* jwks_cache.c - per-process cache of the identity provider's JWKS document
 * (JumioJWTKey jwks:<url>). The document is read when first needed and reused for an hour; a
 * token naming an unknown kid makes it re-read, but at most once a minute, so random kids
 * cannot make us hammer the provider. A failed read keeps the keys already known (they keep
 * working while the provider is down) and is not retried for a minute. Parsing is in
 * src/core/jwks.c; the cache itself is per-process state (src/proc.h); the fetch is jumio_client_fetch (no credentials, 1 MiB cap). */
#include "jwks_cache.h"
#include "proc.h"
#include "config.h"
#include "client.h"
#include "core/core.h"
#include <apr_strings.h>
#include <apr_thread_mutex.h>

#define JUMIO_JWKS_REFRESH  apr_time_from_sec(3600) /* reuse a document this long */
#define JUMIO_JWKS_THROTTLE apr_time_from_sec(60)   /* pause after a failed or kid-driven read */

/* Why the document should be read now. */
typedef enum {
    JUMIO_JWKS_NONE,      /* not needed, or throttled */
    JUMIO_JWKS_SCHEDULED, /* never read yet, or older than JUMIO_JWKS_REFRESH */
    JUMIO_JWKS_UNKNOWN    /* the token's kid is not in the document */
} jumio_jwks_need_e;

/* Look kid up in the cache: its PEM copied into c->pool (or NULL), and in *need whether the
 * document should be read now. */
static const char *jumio_jwks_lookup(jumio_ctx_t *c, jumio_jwks_cache_t *j, const char *kid,
                                     apr_size_t *len, jumio_jwks_need_e *need)
{
    const jumio_jwk_t *k;
    const char *pem = NULL;
    apr_time_t now = apr_time_now();
    apr_status_t rv = apr_thread_mutex_lock(j->mutex);

    *need = JUMIO_JWKS_NONE;
    if (rv != APR_SUCCESS) {
        jumio_log(c, APLOG_ERR, rv, "mod_jumio: cannot lock the JWKS cache");
        return NULL;
    }
    if ((k = jumio_jwks_find(j->keys, kid))) {
        pem = apr_pstrmemdup(c->pool, k->pem, k->pemlen);
        *len = k->pemlen;
    }
    if (now >= j->next_fetch) {
        if (!j->keys || now - j->fetched_at >= JUMIO_JWKS_REFRESH)
            *need = JUMIO_JWKS_SCHEDULED;
        else if (!pem)
            *need = JUMIO_JWKS_UNKNOWN;
    }
    apr_thread_mutex_unlock(j->mutex);
    return pem;
}

/* Fetch and parse the server's JWKS document: the usable keys in c->pool, or NULL (logged). */
static apr_array_header_t *jumio_jwks_read(jumio_ctx_t *c, const jumio_srv_cfg_t *sc)
{
    apr_array_header_t *keys = NULL;
    const char *body = NULL, *why;
    apr_size_t len = 0;
    long status = 0;

    if (jumio_client_fetch(c, sc->jwks_url, &status, &body, &len) != APR_SUCCESS) {
        jumio_log(c, APLOG_ERR, 0,
                  "mod_jumio: JWKS document %s could not be read; keeping "
                  "the keys already known",
                  sc->jwks_url);
        return NULL;
    }
    if (status != 200) {
        jumio_log(c, APLOG_ERR, 0,
                  "mod_jumio: JWKS document %s answered %ld; keeping the keys "
                  "already known",
                  sc->jwks_url, status);
        return NULL;
    }
    if ((why = jumio_jwks_parse(c->pool, body, len, sc->jwt_alg, &keys))) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: JWKS document %s refused: %s", sc->jwks_url, why);
        return NULL;
    }
    jumio_log(c, keys->nelts ? APLOG_INFO : APLOG_WARNING, 0,
              "mod_jumio: JWKS document %s read: %d key(s) usable with JumioJWTAlgorithm",
              sc->jwks_url, keys->nelts);
    return keys;
}

/* Replace the cached keys by a copy of keys in a fresh unmanaged pool (caller holds the
 * mutex); APR_SUCCESS or the pool error (logged, old keys kept). */
static apr_status_t jumio_jwks_install(jumio_ctx_t *c, jumio_jwks_cache_t *j,
                                       const apr_array_header_t *keys)
{
    apr_array_header_t *copy;
    apr_pool_t *np;
    int i;
    apr_status_t rv = apr_pool_create_unmanaged_ex(&np, NULL, NULL);

    if (rv != APR_SUCCESS) {
        jumio_log(c, APLOG_ERR, rv, "mod_jumio: cannot create the JWKS key pool");
        return rv;
    }
    apr_pool_tag(np, "jumio_jwks");
    copy = apr_array_make(np, keys->nelts ? keys->nelts : 1, sizeof(jumio_jwk_t));
    for (i = 0; i < keys->nelts; i++) {
        const jumio_jwk_t *k = &APR_ARRAY_IDX(keys, i, jumio_jwk_t);
        jumio_jwk_t *d = apr_array_push(copy);
        d->kid = k->kid ? apr_pstrdup(np, k->kid) : NULL;
        d->pem = apr_pstrmemdup(np, k->pem, k->pemlen);
        d->pemlen = k->pemlen;
    }
    if (j->pool)
        apr_pool_destroy(j->pool);
    j->pool = np;
    j->keys = copy;
    j->fetched_at = apr_time_now();
    return APR_SUCCESS;
}

/* Read the document and store its keys (caller holds fetch_mutex). A failed read, or one for
 * an unknown kid, pauses further reads for JUMIO_JWKS_THROTTLE. */
static void jumio_jwks_refresh(jumio_ctx_t *c, const jumio_srv_cfg_t *sc, jumio_jwks_cache_t *j,
                               jumio_jwks_need_e need)
{
    apr_array_header_t *keys = jumio_jwks_read(c, sc);
    apr_status_t rv = apr_thread_mutex_lock(j->mutex);

    if (rv != APR_SUCCESS) {
        jumio_log(c, APLOG_ERR, rv, "mod_jumio: cannot lock the JWKS cache");
        return;
    }
    if (!keys || jumio_jwks_install(c, j, keys) != APR_SUCCESS || need == JUMIO_JWKS_UNKNOWN)
        j->next_fetch = apr_time_now() + JUMIO_JWKS_THROTTLE;
    apr_thread_mutex_unlock(j->mutex);
}

/* pem, after logging why there is none. */
static const char *jumio_jwks_result(jumio_ctx_t *c, const char *pem, const char *kid)
{
    if (pem)
        return pem;
    if (kid)
        jumio_log(c, APLOG_INFO, 0, "mod_jumio: no usable JWKS key with kid '%s'", kid);
    else
        jumio_log(c, APLOG_INFO, 0,
                  "mod_jumio: token without kid, and the JWKS document does "
                  "not have exactly one usable key");
    return NULL;
}

/* PEM public key for kid from the server's JWKS document (copied into c->pool), reading the
 * document when it is due; NULL when no key matches (logged). */
const char *jumio_jwks_key(jumio_ctx_t *c, const char *kid, apr_size_t *len)
{
    const jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    jumio_proc_t *pr = jumio_proc_of(sc);
    jumio_jwks_cache_t *j = pr && pr->jwks.mutex ? &pr->jwks : NULL;
    jumio_jwks_need_e need;
    const char *pem;
    apr_status_t rv;

    if (!j || !sc->jwks_url) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: no JWKS cache for this server");
        return NULL;
    }
    pem = jumio_jwks_lookup(c, j, kid, len, &need);
    if (need == JUMIO_JWKS_NONE)
        return jumio_jwks_result(c, pem, kid);
    /* a usable key is not held up by another thread's read; a missing one waits for it */
    rv = pem ? apr_thread_mutex_trylock(j->fetch_mutex) : apr_thread_mutex_lock(j->fetch_mutex);
    if (rv != APR_SUCCESS) {
        if (!pem || !APR_STATUS_IS_EBUSY(rv))
            jumio_log(c, APLOG_ERR, rv, "mod_jumio: cannot lock the JWKS fetch");
        return jumio_jwks_result(c, pem, kid);
    }
    pem = jumio_jwks_lookup(c, j, kid, len, &need); /* another thread may have read it */
    if (need != JUMIO_JWKS_NONE) {
        jumio_jwks_refresh(c, sc, j, need);
        pem = jumio_jwks_lookup(c, j, kid, len, &need);
    }
    apr_thread_mutex_unlock(j->fetch_mutex);
    return jumio_jwks_result(c, pem, kid);
}
