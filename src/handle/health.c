/* health.c - GET health (the jumio-status handler): the database, Jumio's health check, row
 * counters (cached for the node) and the node's metrics, as JSON or, with ?format=prometheus,
 * as Prometheus text. */
#include "handle/handle.h"
#include "http.h"
#include "client.h"
#include "proc.h"
#include "store/store.h"
#include "metrics.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

#define JUMIO_HEALTH_CACHE apr_time_from_sec(30)

/* Ask Jumio's health check of this server's endpoints and cache a good answer's text (the
 * caller holds the cache's mutex). */
static void jumio_health_refresh(jumio_ctx_t *c, jumio_health_cache_t *hc)
{
    const char *url = jumio_config_endpoint(jumio_config_srv_of(c), JUMIO_SVC_STATUS, c->pool);
    const char *body;
    apr_size_t len;
    long status = 0;
    json_t *j = NULL;
    if (jumio_client_fetch(c, url, &status, &body, &len) == APR_SUCCESS && status == 200)
        j = jumio_json_load(body, len);
    if (json_is_string(json_object_get(j, "status"))) {
        free(hc->text);
        hc->text = json_dumps(j, JSON_COMPACT);
    }
    else
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: Jumio's health check gave no status (HTTP %ld)",
                  status);
    hc->at = apr_time_now();
    json_decref(j);
}

/* Jumio's health answer for this server (cached per process for 30 s), or NULL when unknown.
 * New reference. */
static json_t *jumio_health_jumio(jumio_ctx_t *c, jumio_srv_cfg_t *sc)
{
    jumio_proc_t *pr = jumio_proc_of(sc);
    jumio_health_cache_t *hc = pr ? &pr->health : NULL;
    json_t *j = NULL;
    if (!hc || !hc->mutex || apr_thread_mutex_lock(hc->mutex) != APR_SUCCESS)
        return NULL;
    if (!hc->at || apr_time_now() - hc->at >= JUMIO_HEALTH_CACHE)
        jumio_health_refresh(c, hc);
    if (hc->text)
        j = json_loads(hc->text, 0, NULL);
    apr_thread_mutex_unlock(hc->mutex);
    return j;
}

/* The answer as Prometheus text: health, the database gauges, then every family of the
 * node's metrics (src/metrics.c). */
static int jumio_health_prometheus(request_rec *r, const char *overall, int db_up, int jumio_up,
                                   const jumio_counters_t *k)
{
    r->status = strcmp(overall, "DOWN") ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE;
    ap_set_content_type(r, "text/plain; version=0.0.4");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_rprintf(
        r,
        "# HELP jumio_up 1 when mod_jumio is UP, 0.5 DEGRADED, 0 DOWN\n# TYPE jumio_up gauge\n"
        "jumio_up %s\n",
        !strcmp(overall, "UP")     ? "1"
        : !strcmp(overall, "DOWN") ? "0"
                                   : "0.5");
    ap_rprintf(r,
               "# HELP jumio_database_up 1 when the database answers\n"
               "# TYPE jumio_database_up gauge\njumio_database_up %d\n"
               "# HELP jumio_upstream_up 1 when Jumio's health check answers UP (cached 30 s)\n"
               "# TYPE jumio_upstream_up gauge\njumio_upstream_up %d\n",
               db_up, jumio_up);
    ap_rprintf(
        r,
        "# HELP jumio_transactions Transactions stored (counted at most every 5 s)\n"
        "# TYPE jumio_transactions gauge\njumio_transactions %" APR_INT64_T_FMT "\n"
        "# HELP jumio_transactions_pending Transactions not final yet (counted at most every 5 s)\n"
        "# TYPE jumio_transactions_pending gauge\njumio_transactions_pending %" APR_INT64_T_FMT "\n"
        "# HELP jumio_details_pending PROCESSED transactions without details (counted at most "
        "every 5 s)\n"
        "# TYPE jumio_details_pending gauge\njumio_details_pending %" APR_INT64_T_FMT "\n"
        "# HELP jumio_callbacks Callbacks stored (counted at most every 5 s)\n"
        "# TYPE jumio_callbacks gauge\njumio_callbacks %" APR_INT64_T_FMT "\n"
        "# HELP jumio_accounts Jumio accounts stored (counted at most every 5 s)\n"
        "# TYPE jumio_accounts gauge\njumio_accounts %" APR_INT64_T_FMT "\n",
        k->transactions, k->pending, k->details_pending, k->callbacks, k->accounts);
    jumio_metrics_prometheus(r);
    return OK;
}

/* The counters object of the JSON answer. */
static json_t *jumio_health_counters(const jumio_counters_t *k)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I}", "transactions", (json_int_t)k->transactions,
                     "pending", (json_int_t)k->pending, "detailsPending",
                     (json_int_t)k->details_pending, "callbacks", (json_int_t)k->callbacks,
                     "accounts", (json_int_t)k->accounts);
}

/* The database gauges: from the node's cache when younger than 5 s (then the database is
 * only asked a trivial query), else counted (one child of the node at a time stores them).
 * 1 when the database answered. */
static int jumio_health_database(jumio_ctx_t *c, jumio_counters_t *k)
{
    apr_int64_t v[JUMIO_METRICS_DB_GAUGES];
    int refresh, ok;
    memset(k, 0, sizeof(*k));
    if (jumio_metrics_db_cached(v, &refresh)) {
        k->transactions = v[0], k->pending = v[1], k->details_pending = v[2];
        k->callbacks = v[3], k->accounts = v[4];
        return !jumio_store_ping(c);
    }
    ok = !jumio_store_counters(c, k);
    if (!ok)
        memset(k, 0, sizeof(*k));
    v[0] = k->transactions, v[1] = k->pending, v[2] = k->details_pending;
    v[3] = k->callbacks, v[4] = k->accounts;
    if (refresh)
        jumio_metrics_db_store(v, ok);
    return ok;
}

/* Signed result notifications pending and failed (index-only counts of the outbox; -1 when
 * the database did not answer), also into the gauges of src/metrics.c. */
static void jumio_health_notes(jumio_ctx_t *c, apr_int64_t *pending, apr_int64_t *failed)
{
    if (jumio_store_note_counts(c, pending, failed)) {
        *pending = *failed = -1;
        return;
    }
    jumio_metric_set(JUMIO_M_NOTIFY_PENDING, *pending);
    jumio_metric_set(JUMIO_M_NOTIFY_GIVEN_UP, *failed);
}

/* The jumio-status handler. */
int jumio_handle_health(jumio_req_t *q)
{
    request_rec *r = q->r;
    jumio_counters_t k;
    json_t *jumio;
    const char *overall, *js;
    json_t *counters;
    apr_int64_t pending, failed;
    int db_up = jumio_health_database(&q->c, &k), jumio_up;
    jumio = jumio_health_jumio(&q->c, q->sc);
    js = json_string_value(json_object_get(jumio, "status"));
    jumio_up = js && !strcmp(js, "UP");
    overall = !db_up ? "DOWN" : jumio_up ? "UP" : "DEGRADED";
    if (r->args && !strcmp(r->args, "format=prometheus")) {
        json_decref(jumio);
        jumio_health_notes(&q->c, &pending, &failed);
        jumio_health_prometheus(r, overall, db_up, jumio_up, &k);
        return OK;
    }
    counters = jumio_health_counters(&k);
    jumio_health_notes(&q->c, &pending, &failed);
    if (failed >= 0) {
        json_object_set_new(counters, "notificationsPending", json_integer(pending));
        json_object_set_new(counters, "notificationsFailed", json_integer(failed));
    }
    return jumio_http_json(r, db_up ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE,
                           json_pack("{s:s, s:s, s:o, s:o, s:o}", "status", overall, "database",
                                     db_up ? "UP" : "DOWN", "jumio", jumio ? jumio : json_null(),
                                     "counters", counters, "metrics", jumio_metrics_json()));
}
