/* notify.c - signed result notifications (see notify.h): bodies for the outbox
 * (jumio_notifications, written by the store in the DB transaction that makes a transaction
 * final) and their delivery by the background task, never in a request: each try is claimed
 * in the database by one process of one node, POSTed with Standard Webhooks headers, and
 * its outcome stored (docs/DESIGN.md "Result notifications"). */
#include "notify.h"
#include "metrics.h"
#include "client.h"
#include "core/core.h"
#include <apr_strings.h>
#include <apr_network_io.h>
#include <unistd.h>

/* The body of a final transaction, or NULL when notifications are off (or it cannot be made:
 * logged). */
static const char *jumio_notify_body(jumio_ctx_t *c, const jumio_tx_t *tx, const char *status,
                                     const char *decision, const char *data)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    jumio_webhook_event_t ev;
    const char *body;
    if (!sc->notify_url)
        return NULL;
    ev.reference = tx->workflow_id;
    ev.user = tx->user_id;
    ev.workflow_key = tx->workflow_key;
    ev.status = status;
    ev.decision = decision;
    ev.data = data;
    ev.at = (apr_int64_t)apr_time_sec(apr_time_now());
    if (!ev.reference || !ev.user || !(body = jumio_webhook_body(c->pool, &ev))) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: the notification of %s could not be made",
                  tx->workflow_id ? tx->workflow_id : "?");
        return NULL;
    }
    return body;
}

/* The body of an expiry, or NULL (see notify.h). */
const char *jumio_notify_expiry(jumio_ctx_t *c, const jumio_tx_t *tx, const char *status)
{
    if (!status || (strcmp(status, "SESSION_EXPIRED") && strcmp(status, "TOKEN_EXPIRED")))
        return NULL;
    return jumio_notify_body(c, tx, status, NULL, NULL);
}

/* The body of a PROCESSED result, or NULL (see notify.h). */
const char *jumio_notify_result(jumio_ctx_t *c, const jumio_tx_t *tx, const char *decision,
                                const char *details, const char *summary)
{
    jumio_data_e mode = jumio_config_notify_data(jumio_config_srv_of(c));
    return jumio_notify_body(c, tx, "PROCESSED", decision,
                             mode == JUMIO_DATA_FULL       ? details
                             : mode == JUMIO_DATA_DECISION ? summary
                                                           : NULL);
}

/* Who claims: "<host>:<pid>" of this process. */
static const char *jumio_notify_claimer(jumio_ctx_t *c)
{
    char host[APRMAXHOSTLEN + 1];
    if (apr_gethostname(host, sizeof(host), c->pool) != APR_SUCCESS)
        apr_cpystrn(host, "localhost", sizeof(host));
    return apr_psprintf(c->pool, "%.40s:%ld", host, (long)getpid());
}

/* POST one claimed notification; its outcome stored. 1 when the receiver answered (any
 * status), 0 when it could not be reached. */
static int jumio_notify_send(jumio_ctx_t *c, jumio_srv_cfg_t *sc, jumio_note_t *n, const char *by)
{
    apr_int64_t ts = (apr_int64_t)apr_time_sec(apr_time_now()), next;
    apr_array_header_t *hdrs = apr_array_make(c->pool, 4, sizeof(const char *));
    const jumio_webhook_key_t *keys = (const jumio_webhook_key_t *)sc->notify_keys->elts;
    const char *sig = jumio_webhook_sign(c->pool, n->id, ts, n->body, strlen(n->body), keys,
                                         sc->notify_keys->nelts);
    const int *delays;
    int ndelays = jumio_config_notify_retry(sc, &delays);
    long status = 0;
    apr_status_t rv = APR_EGENERAL;
    if (sig) {
        APR_ARRAY_PUSH(hdrs, const char *) = apr_pstrcat(c->pool, "webhook-id: ", n->id, NULL);
        APR_ARRAY_PUSH(hdrs, const char *) =
            apr_psprintf(c->pool, "webhook-timestamp: %" APR_INT64_T_FMT, ts);
        APR_ARRAY_PUSH(hdrs, const char *) = apr_pstrcat(c->pool, "webhook-signature: ", sig, NULL);
        rv = jumio_client_post(c, sc->notify_url, hdrs, n->body, strlen(n->body), &status);
    }
    if (rv == APR_SUCCESS && status >= 200 && status < 300) {
        jumio_log(c, APLOG_INFO, 0, "mod_jumio: notification %s delivered (HTTP %ld, try %d)",
                  n->id, status, n->attempts);
        jumio_store_note_done(c, n, by, "sent", (int)status, 0);
        jumio_metric_inc(JUMIO_M_NOTIFY_SENT);
        return 1;
    }
    next = jumio_webhook_next(n->created_at, (apr_int64_t)apr_time_sec(apr_time_now()), n->attempts,
                              delays, ndelays);
    jumio_log(c, next < 0 ? APLOG_ERR : APLOG_WARNING, 0, "mod_jumio: notification %s: try %d %s%s",
              n->id, n->attempts,
              rv == APR_SUCCESS ? apr_psprintf(c->pool, "answered HTTP %ld", status)
                                : "got no answer",
              next < 0 ? "; failed: it was tried for 3 days" : "; tried again later");
    jumio_store_note_done(c, n, by, next < 0 ? "failed" : "pending", (int)status,
                          next < 0 ? 0 : next);
    if (next < 0)
        jumio_metric_inc(JUMIO_M_NOTIFY_FAILED);
    return rv == APR_SUCCESS;
}

/* One sending round (see notify.h). */
void jumio_notify_round(jumio_ctx_t *c, jumio_work_stop_fn *stop)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    apr_array_header_t *due;
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    /* a claim outlives a whole try (JumioTimeout) with room to store its outcome */
    int hold = jumio_config_timeout(sc) * 2 + 5, i;
    const char *by;
    if (!sc->notify_url || !sc->notify_keys || !sc->notify_keys->nelts
        || jumio_store_notes_due(c, now, &due) || !due->nelts)
        return;
    by = jumio_notify_claimer(c);
    for (i = 0; i < due->nelts && !stop(); i++) {
        jumio_note_t *n = &APR_ARRAY_IDX(due, i, jumio_note_t);
        now = (apr_int64_t)apr_time_sec(apr_time_now());
        if (jumio_store_note_claim(c, n, by, now + hold, now) != 1)
            continue;
        if (!jumio_notify_send(c, sc, n, by))
            break; /* unreachable: the others wait for the next round */
    }
}
