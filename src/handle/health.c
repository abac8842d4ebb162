/* jumio_handler_status.c - GET status: health of the module (database, Jumio's health check,
 * row counters) as JSON or, with ?format=prometheus, as Prometheus text (SPEC §2). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "client.h"
#include "store/store.h"
#include "work.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

#define JUMIO_STATUS_CACHE apr_time_from_sec(30)

/* Jumio's health answer, cached per process (text malloc'd, guarded by the mutex). */
static apr_thread_mutex_t *jumio_status_mutex;
static char *jumio_status_text;
static apr_time_t jumio_status_at;

/* Free the cached answer with the child. */
static apr_status_t jumio_status_cleanup(void *unused)
{
    free(jumio_status_text);
    jumio_status_text = NULL;
    return APR_SUCCESS;
}

/* Per-child cache setup (child_init). */
void jumio_status_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv = apr_thread_mutex_create(&jumio_status_mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_jumio: cannot create the status mutex");
    jumio_status_text = NULL;
    jumio_status_at = 0;
    apr_pool_cleanup_register(pchild, NULL, jumio_status_cleanup, apr_pool_cleanup_null);
}

/* Ask Jumio's health check and cache a good answer's text. */
static void jumio_status_refresh(jumio_ctx_t *c)
{
    const char *url = jumio_config_endpoint(jumio_config_srv_of(c), JUMIO_SVC_STATUS, c->pool);
    const char *body;
    apr_size_t len;
    long status = 0;
    json_t *j = NULL;
    if (jumio_client_fetch(c, url, &status, &body, &len) == APR_SUCCESS && status == 200)
        j = jumio_json_load(body, len);
    if (json_is_string(json_object_get(j, "status"))) {
        free(jumio_status_text);
        jumio_status_text = json_dumps(j, JSON_COMPACT);
    }
    else
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: Jumio's health check gave no status (HTTP %ld)",
                  status);
    jumio_status_at = apr_time_now();
    json_decref(j);
}

/* Jumio's health answer (cached for 30 s), or NULL when unknown. New reference. */
static json_t *jumio_status_jumio(jumio_ctx_t *c)
{
    json_t *j = NULL;
    if (!jumio_status_mutex || apr_thread_mutex_lock(jumio_status_mutex) != APR_SUCCESS)
        return NULL;
    if (apr_time_now() - jumio_status_at >= JUMIO_STATUS_CACHE)
        jumio_status_refresh(c);
    if (jumio_status_text)
        j = json_loads(jumio_status_text, 0, NULL);
    apr_thread_mutex_unlock(jumio_status_mutex);
    return j;
}

/* The answer as Prometheus text. */
static int jumio_status_prometheus(request_rec *r, const char *overall, int db_up, int jumio_up,
                                   const jumio_counters_t *k)
{
    r->status = strcmp(overall, "DOWN") ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "text/plain; version=0.0.4");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rprintf(r, "# HELP jumio_up 1 when mod_jumio is UP, 0.5 DEGRADED, 0 DOWN\n# TYPE jumio_up gauge\n"
               "jumio_up %s\n", !strcmp(overall, "UP") ? "1" : !strcmp(overall, "DOWN") ? "0" : "0.5");
    ap_rprintf(r, "# TYPE jumio_database_up gauge\njumio_database_up %d\n"
               "# TYPE jumio_upstream_up gauge\njumio_upstream_up %d\n", db_up, jumio_up);
    ap_rprintf(r, "# TYPE jumio_transactions gauge\njumio_transactions %" APR_INT64_T_FMT "\n"
               "# TYPE jumio_transactions_pending gauge\njumio_transactions_pending %" APR_INT64_T_FMT "\n"
               "# TYPE jumio_details_pending gauge\njumio_details_pending %" APR_INT64_T_FMT "\n"
               "# TYPE jumio_callbacks gauge\njumio_callbacks %" APR_INT64_T_FMT "\n"
               "# TYPE jumio_accounts gauge\njumio_accounts %" APR_INT64_T_FMT "\n",
               k->transactions, k->pending, k->details_pending, k->callbacks, k->accounts);
    return OK;
}

/* The counters object of the JSON answer. */
static json_t *jumio_status_counters(const jumio_counters_t *k)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "transactions", (json_int_t)k->transactions,
                     "pending", (json_int_t)k->pending, "detailsPending",
                     (json_int_t)k->details_pending, "callbacks", (json_int_t)k->callbacks,
                     "accounts", (json_int_t)k->accounts);
}

/* The jumio-status handler. */
int jumio_handler_status(request_rec *r)
{
    jumio_ctx_t c = { r->pool, r->server, r };
    jumio_counters_t k;
    jumio_db_t *db;
    json_t *jumio;
    const char *overall, *js;
    int rc, db_up, jumio_up;
    if ((rc = jumio_http_method_only(r, M_GET, "GET")) != -1)
        return rc;
    db = jumio_store_acquire(&c);
    db_up = db && !jumio_store_counters(&c, db, &k);
    if (!db_up)
        memset(&k, 0, sizeof(k));
    jumio = jumio_status_jumio(&c);
    js = json_string_value(json_object_get(jumio, "status"));
    jumio_up = js && !strcmp(js, "UP");
    overall = !db_up ? "DOWN" : jumio_up ? "UP" : "DEGRADED";
    if (r->args && !strcmp(r->args, "format=prometheus")) {
        json_decref(jumio);
        return jumio_status_prometheus(r, overall, db_up, jumio_up, &k);
    }
    return jumio_http_json(r, db_up ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE,
                           json_pack("{s:s, s:s, s:o, s:o}", "status", overall, "database",
                                     db_up ? "UP" : "DOWN", "jumio", jumio ? jumio : json_null(),
                                     "counters", jumio_status_counters(&k)));
}
