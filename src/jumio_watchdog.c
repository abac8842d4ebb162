/* jumio_watchdog.c - background work with mod_watchdog (as mod_md does): one child at a time
 * fetches details of PROCESSED transactions and asks the Status API on schedule for
 * transactions whose callback did not arrive. Rows are claimed in the database, so several
 * nodes never do the same piece of work twice. */
#include "mod_jumio.h"
#include <apr_optional.h>
#include <mod_watchdog.h>

#define JUMIO_WATCHDOG_NAME "_jumio_"

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) *jumio_wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) *jumio_wd_register_callback;

/* One round of background work in a pool of its own. */
static apr_status_t jumio_watchdog_step(int state, void *data, apr_pool_t *pool)
{
    jumio_ctx_t c;
    jumio_db_t *db;
    apr_status_t rv;
    if (state != AP_WATCHDOG_STATE_RUNNING)
        return APR_SUCCESS;
    if ((rv = apr_pool_create(&c.pool, pool)) != APR_SUCCESS)
        return rv;
    c.s = data;
    c.r = NULL;
    if ((db = jumio_store_acquire(&c))) {
        jumio_work_round(&c, db);
        jumio_store_release(&c, db);
    }
    apr_pool_destroy(c.pool);
    return APR_SUCCESS;
}

/* The server whose Jumio settings the background work uses: the first one (main server, then
 * virtual hosts in order) with JumioClientId or a retrieval JumioEndpoint; NULL when none. */
static server_rec *jumio_watchdog_server(server_rec *s)
{
    for (; s; s = s->next) {
        jumio_srv_cfg_t *sc = ap_get_module_config(s->module_config, &jumio_module);
        if (sc->client_id || sc->endpoint[JUMIO_SVC_RETRIEVAL])
            return s;
    }
    return NULL;
}

/* Register the background task (post_config); without mod_watchdog, polls do the work. */
apr_status_t jumio_watchdog_init(apr_pool_t *pconf, server_rec *s)
{
    ap_watchdog_t *wd = NULL;
    server_rec *ws = jumio_watchdog_server(s);
    jumio_srv_cfg_t *sc = ws ? ap_get_module_config(ws->module_config, &jumio_module) : NULL;
    int every = sc && sc->background_interval >= 0 ? sc->background_interval
                                                    : JUMIO_DEFAULT_BACKGROUND;
    apr_status_t rv;
    jumio_wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    jumio_wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!ws || !every)
        return APR_SUCCESS;
    if (!jumio_wd_get_instance || !jumio_wd_register_callback) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, "mod_jumio: mod_watchdog is not loaded; "
                     "results without a callback arrive only through polls");
        return APR_SUCCESS;
    }
    rv = jumio_wd_get_instance(&wd, JUMIO_WATCHDOG_NAME, 0, 1, pconf);
    if (rv == APR_SUCCESS)
        rv = jumio_wd_register_callback(wd, apr_time_from_sec(every), ws, jumio_watchdog_step);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_jumio: cannot start the background task");
    return rv;
}
