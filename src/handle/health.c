/* health.c - GET health (the jumio-status handler): the database, Jumio's health check and
 * row counters, as JSON or, with ?format=prometheus, as Prometheus text. */
#include "handle/handle.h"
#include "http.h"
#include "client.h"
#include "proc.h"
#include "store/store.h"
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

/* The answer as Prometheus text. */
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
               "# TYPE jumio_database_up gauge\njumio_database_up %d\n"
               "# TYPE jumio_upstream_up gauge\njumio_upstream_up %d\n",
               db_up, jumio_up);
    ap_rprintf(
        r,
        "# TYPE jumio_transactions gauge\njumio_transactions %" APR_INT64_T_FMT "\n"
        "# TYPE jumio_transactions_pending gauge\njumio_transactions_pending %" APR_INT64_T_FMT "\n"
        "# TYPE jumio_details_pending gauge\njumio_details_pending %" APR_INT64_T_FMT "\n"
        "# TYPE jumio_callbacks gauge\njumio_callbacks %" APR_INT64_T_FMT "\n"
        "# TYPE jumio_accounts gauge\njumio_accounts %" APR_INT64_T_FMT "\n",
        k->transactions, k->pending, k->details_pending, k->callbacks, k->accounts);
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

/* Signed result notifications pending and failed (index-only counts of the outbox): into
 * the JSON counters, or as Prometheus gauges when counters is NULL. */
static void jumio_health_notes(jumio_ctx_t *c, request_rec *r, json_t *counters)
{
    apr_int64_t pending = 0, failed = 0;
    if (jumio_store_note_counts(c, &pending, &failed))
        return;
    if (counters) {
        json_object_set_new(counters, "notificationsPending", json_integer(pending));
        json_object_set_new(counters, "notificationsFailed", json_integer(failed));
        return;
    }
    ap_rprintf(r,
               "# HELP jumio_notifications_pending signed result notifications not delivered yet\n"
               "# TYPE jumio_notifications_pending gauge\n"
               "jumio_notifications_pending %" APR_INT64_T_FMT "\n"
               "# HELP jumio_notifications_failed signed result notifications given up after 3 "
               "days\n# TYPE jumio_notifications_failed gauge\n"
               "jumio_notifications_failed %" APR_INT64_T_FMT "\n",
               pending, failed);
}

/* The jumio-status handler. */
int jumio_handle_health(jumio_req_t *q)
{
    request_rec *r = q->r;
    jumio_counters_t k;
    json_t *jumio;
    const char *overall, *js;
    json_t *counters;
    int db_up = !jumio_store_counters(&q->c, &k), jumio_up;
    if (!db_up)
        memset(&k, 0, sizeof(k));
    jumio = jumio_health_jumio(&q->c, q->sc);
    js = json_string_value(json_object_get(jumio, "status"));
    jumio_up = js && !strcmp(js, "UP");
    overall = !db_up ? "DOWN" : jumio_up ? "UP" : "DEGRADED";
    if (r->args && !strcmp(r->args, "format=prometheus")) {
        json_decref(jumio);
        jumio_health_prometheus(r, overall, db_up, jumio_up, &k);
        jumio_health_notes(&q->c, r, NULL);
        return OK;
    }
    counters = jumio_health_counters(&k);
    jumio_health_notes(&q->c, r, counters);
    return jumio_http_json(r, db_up ? HTTP_OK : HTTP_SERVICE_UNAVAILABLE,
                           json_pack("{s:s, s:s, s:o, s:o}", "status", overall, "database",
                                     db_up ? "UP" : "DOWN", "jumio", jumio ? jumio : json_null(),
                                     "counters", counters));
}
