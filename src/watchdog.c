/* watchdog.c - background work with mod_watchdog (as mod_md does): one child at a time
 * fetches details of PROCESSED transactions and asks the Status API on schedule for
 * transactions whose callback did not arrive. Rows are claimed in the database, so several
 * nodes never do the same piece of work twice. */
#include "watchdog.h"
#include "config.h"
#include "store/store.h"
#include "work.h"
#include "metrics.h"
#include "notify.h"
#include "retention.h"
#include <apr_atomic.h>
#include <apr_optional.h>
#include <apr_thread_mutex.h>
#include <mod_watchdog.h>

#define JUMIO_WATCHDOG_NAME "_jumio_"

static APR_OPTIONAL_FN_TYPE(ap_watchdog_get_instance) * jumio_wd_get_instance;
static APR_OPTIONAL_FN_TYPE(ap_watchdog_register_callback) * jumio_wd_register_callback;

/* mod_watchdog's thread lives in the process pool and is not stopped before the child pool is
 * destroyed: a round still holding a mod_dbd connection then aborts the child (apr_reslist
 * assertion) or uses freed curl handles and token caches. A round runs under this mutex (made
 * from the process pool, so it outlives pchild) and a pre-cleanup of pchild waits for it. */
static apr_thread_mutex_t *jumio_wd_mutex;
static volatile apr_uint32_t jumio_wd_stop;

/* 1 once this child is exiting: a background round stops at the next transaction. */
int jumio_watchdog_stopping(void)
{
    return apr_atomic_read32(&jumio_wd_stop) != 0;
}

/* Pre-cleanup of pchild (before mod_dbd's pool and our caches go): no more rounds, and wait
 * for the one in progress. */
static apr_status_t jumio_watchdog_child_exit(void *unused)
{
    apr_atomic_set32(&jumio_wd_stop, 1);
    if (jumio_wd_mutex && apr_thread_mutex_lock(jumio_wd_mutex) == APR_SUCCESS)
        apr_thread_mutex_unlock(jumio_wd_mutex);
    return APR_SUCCESS;
}

/* Per child: the round mutex and the pre-cleanup that stops background work at exit. */
void jumio_watchdog_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    apr_atomic_set32(&jumio_wd_stop, 0);
    rv = apr_thread_mutex_create(&jumio_wd_mutex, APR_THREAD_MUTEX_DEFAULT, s->process->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                     "mod_jumio: cannot create the background mutex; background work is off");
        jumio_wd_mutex = NULL;
    }
    apr_pool_pre_cleanup_register(pchild, NULL, jumio_watchdog_child_exit);
}

/* One round of background work in a pool of its own (never while the child exits). */
static apr_status_t jumio_watchdog_step(int state, void *data, apr_pool_t *pool)
{
    jumio_ctx_t c;
    apr_status_t rv = APR_SUCCESS;
    apr_time_t start = apr_time_now();
    if (state != AP_WATCHDOG_STATE_RUNNING || !jumio_wd_mutex
        || apr_thread_mutex_lock(jumio_wd_mutex) != APR_SUCCESS)
        return APR_SUCCESS;
    if (!jumio_watchdog_stopping() && (rv = apr_pool_create(&c.pool, pool)) == APR_SUCCESS) {
        c.s = data;
        c.r = NULL;
        c.db_waited = 0;
        jumio_work_round(&c, jumio_watchdog_stopping);
        jumio_metric_inc(JUMIO_M_BACKGROUND_ROUNDS);
        jumio_metric_observe(JUMIO_HIST_BACKGROUND_ROUND, apr_time_now() - start);
        jumio_notify_round(&c, jumio_watchdog_stopping); /* signed result notifications */
        jumio_retention_round(&c, jumio_watchdog_stopping);
        apr_pool_destroy(c.pool);
    }
    apr_thread_mutex_unlock(jumio_wd_mutex);
    return rv;
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
    int every = sc ? jumio_config_background(sc) : 0;
    apr_status_t rv;
    jumio_wd_get_instance = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_get_instance);
    jumio_wd_register_callback = APR_RETRIEVE_OPTIONAL_FN(ap_watchdog_register_callback);
    if (!ws || !every)
        return APR_SUCCESS;
    if (!jumio_wd_get_instance || !jumio_wd_register_callback) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s,
                     "mod_jumio: mod_watchdog is not loaded; "
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
