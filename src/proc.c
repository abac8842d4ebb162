/* proc.c - the per-process state of mod_jumio (see proc.h): made in child_init, secrets wiped
 * and handles freed when the child's pool goes. */
#include "proc.h"
#include <curl/curl.h>

static jumio_handles_t jumio_proc_curl;

/* Create one mutex in p; APR_SUCCESS or the failure (logged with what it was for). */
static apr_status_t jumio_proc_mutex(apr_thread_mutex_t **m, apr_pool_t *p, server_rec *s,
                                     const char *what)
{
    apr_status_t rv = apr_thread_mutex_create(m, APR_THREAD_MUTEX_DEFAULT, p);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_jumio: cannot create the %s mutex", what);
        *m = NULL;
    }
    return rv;
}

/* Wipe and free the cached token, the health answer and the JWKS keys of one server. */
static void jumio_proc_clear(jumio_proc_t *pr)
{
    if (pr->tokens.token) {
        memset(pr->tokens.token, 0, strlen(pr->tokens.token));
        free(pr->tokens.token);
        pr->tokens.token = NULL;
    }
    free(pr->health.text);
    pr->health.text = NULL;
    if (pr->jwks.pool) {
        apr_pool_destroy(pr->jwks.pool);
        pr->jwks.pool = NULL;
        pr->jwks.keys = NULL;
    }
}

/* Pool cleanup of pchild: free everything this process kept. */
static apr_status_t jumio_proc_child_exit(void *data)
{
    server_rec *s;
    while (jumio_proc_curl.nidle > 0)
        curl_easy_cleanup(jumio_proc_curl.idle[--jumio_proc_curl.nidle]);
    for (s = data; s; s = s->next) {
        jumio_srv_cfg_t *sc = ap_get_module_config(s->module_config, &jumio_module);
        if (sc->proc)
            jumio_proc_clear(sc->proc);
    }
    return APR_SUCCESS;
}

/* The state of one server in pchild with its mutexes. */
static jumio_proc_t *jumio_proc_make(apr_pool_t *pchild, server_rec *s, const jumio_srv_cfg_t *sc)
{
    jumio_proc_t *pr = apr_pcalloc(pchild, sizeof(*pr));
    jumio_proc_mutex(&pr->tokens.mutex, pchild, s, "token");
    jumio_proc_mutex(&pr->health.mutex, pchild, s, "health");
    if (sc->jwks_url && jumio_proc_mutex(&pr->jwks.mutex, pchild, s, "JWKS") == APR_SUCCESS
        && jumio_proc_mutex(&pr->jwks.fetch_mutex, pchild, s, "JWKS fetch") != APR_SUCCESS)
        pr->jwks.mutex = NULL;
    return pr;
}

/* Make the per-process state of every server (child_init); nothing inherited over fork. */
void jumio_proc_child_init(apr_pool_t *pchild, server_rec *s)
{
    server_rec *v;
    jumio_proc_curl.nidle = 0;
    jumio_proc_mutex(&jumio_proc_curl.mutex, pchild, s, "curl handle");
    for (v = s; v; v = v->next) {
        jumio_srv_cfg_t *sc = ap_get_module_config(v->module_config, &jumio_module);
        if (!sc->proc)
            sc->proc = jumio_proc_make(pchild, v, sc);
    }
    apr_pool_cleanup_register(pchild, s, jumio_proc_child_exit, apr_pool_cleanup_null);
}

/* The per-process state of a server; NULL before child_init. */
jumio_proc_t *jumio_proc_of(const jumio_srv_cfg_t *sc)
{
    return sc->proc;
}

/* The idle curl handles of this process. */
jumio_handles_t *jumio_proc_handles(void)
{
    return &jumio_proc_curl;
}
