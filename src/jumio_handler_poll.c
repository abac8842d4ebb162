/* jumio_handler_poll.c - GET poll: the owner's transaction state; on PROCESSED the details are
 * fetched once from the Retrieval API and answered per JumioPollData (SPEC §2). */
#include "mod_jumio.h"
#include <http_protocol.h>
#include <apr_strings.h>

/* Jumio's recommended retrieval schedule, seconds after creation (KYX guide, Retrieval). */
static const int jumio_poll_schedule[] = { 40, 60, 100, 160, 240, 340, 460, 600, 760, 940 };
#define JUMIO_POLL_MAX_CHECKS 10

/* Retrieval path of a transaction (ids are validated UUIDs; hrefs from callbacks are never used). */
static const char *jumio_poll_path(apr_pool_t *p, const jumio_tx_t *tx, const char *suffix)
{
    return apr_pstrcat(p, "/api/v1/accounts/", tx->account_id, "/workflow-executions/",
                       tx->workflow_id, suffix, NULL);
}

/* No callback yet and the next scheduled check is due: ask the Status API once. */
static void jumio_poll_status_check(jumio_ctx_t *c, jumio_db_t *db, jumio_tx_t *tx)
{
    apr_int64_t age = (apr_int64_t)apr_time_sec(apr_time_now()) - tx->created_at;
    jumio_answer_t ans;
    const char *status;
    if (tx->status_checks >= JUMIO_POLL_MAX_CHECKS
        || age < jumio_poll_schedule[tx->status_checks]
        || jumio_store_claim_check(c, db, tx->workflow_id, tx->status_checks) != 1)
        return;
    jumio_client_call(c, "GET", JUMIO_SVC_RETRIEVAL, jumio_poll_path(c->pool, tx, "/status"), NULL, &ans);
    status = json_string_value(json_object_get(json_object_get(ans.json, "workflowExecution"),
                                               "status"));
    if (ans.outcome == JUMIO_UP_OK && jumio_status_rank(status) > jumio_status_rank(tx->status)
        && !jumio_store_status(c, db, tx->workflow_id, status))
        tx->status = apr_pstrdup(c->pool, status);
    json_decref(ans.json);
}

/* Fetch and store the details of a PROCESSED transaction; 0 when tx->details is now set. */
static int jumio_poll_fetch_details(jumio_ctx_t *c, jumio_db_t *db, jumio_tx_t *tx)
{
    jumio_answer_t ans;
    char *text;
    int rc = -1;
    jumio_client_call(c, "GET", JUMIO_SVC_RETRIEVAL, jumio_poll_path(c->pool, tx, ""), NULL, &ans);
    if (ans.outcome == JUMIO_UP_OK && (text = json_dumps(ans.json, JSON_COMPACT))) {
        const char *decision = jumio_decision_of_details(ans.json);
        if (!jumio_store_details(c, db, tx->workflow_id, text, decision)) {
            tx->details = apr_pstrdup(c->pool, text);
            tx->decision = decision;
            rc = 0;
        }
        free(text);
    }
    json_decref(ans.json);
    return rc;
}

/* The final answer for a transaction with details (or an expired one). */
static int jumio_poll_done(request_rec *r, const jumio_tx_t *tx)
{
    jumio_dir_cfg_t *dc = jumio_config_dir(r);
    json_t *details = NULL, *data = json_null();
    if (tx->details && dc->poll_data != JUMIO_DATA_NONE) {
        details = json_loads(tx->details, 0, NULL);
        if (details)
            data = dc->poll_data == JUMIO_DATA_FULL ? json_incref(details)
                                                    : jumio_decision_data(details);
    }
    json_decref(details);
    return jumio_http_json(r, HTTP_OK, json_pack("{s:b, s:s, s:s, s:s?, s:o}", "done", 1,
                           "transactionReference", tx->workflow_id, "status", tx->status,
                           "decision", tx->details ? tx->decision : NULL, "data",
                           data ? data : json_null()));
}

/* The answer for a transaction that is not done (yet). */
static int jumio_poll_pending(request_rec *r, const jumio_tx_t *tx)
{
    return jumio_http_json(r, HTTP_OK, json_pack("{s:b, s:s, s:s}", "done", 0,
                           "transactionReference", tx->workflow_id, "status", tx->status));
}

/* Load the caller's own transaction. -1 when found (tx filled), else the answer sent. */
static int jumio_poll_load(request_rec *r, jumio_ctx_t *c, jumio_db_t **db, jumio_tx_t *tx)
{
    const char *user, *ref = apr_table_get(r->headers_in, "X-Transaction-Reference");
    int rc;
    if (!(user = jumio_user_identify(r)))
        return jumio_user_reject(r);
    if (!ref || !*ref)
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request",
                                "The X-Transaction-Reference header is required.");
    if (!jumio_util_is_uuid(ref))
        return jumio_http_error(r, HTTP_NOT_FOUND, "not_found", "No such transaction.");
    if (!(*db = jumio_store_acquire(c)))
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    rc = jumio_store_tx_get(c, *db, ref, tx);
    if (rc < 0)
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    if (rc > 0 || strcmp(tx->user_id, user))
        return jumio_http_error(r, HTTP_NOT_FOUND, "not_found", "No such transaction.");
    return -1;
}

/* The jumio-poll handler. */
int jumio_handler_poll(request_rec *r)
{
    jumio_ctx_t c = { r->pool, r->server, r };
    jumio_db_t *db = NULL;
    jumio_tx_t tx;
    int rc;
    if ((rc = jumio_http_method_only(r, M_GET, "GET")) != -1)
        return rc;
    if ((rc = jumio_poll_load(r, &c, &db, &tx)) != -1)
        return rc;
    if (!jumio_status_is_final(tx.status))
        jumio_poll_status_check(&c, db, &tx);
    if (strcmp(tx.status, "PROCESSED"))
        return jumio_status_is_final(tx.status) ? jumio_poll_done(r, &tx) : jumio_poll_pending(r, &tx);
    if (!tx.details && jumio_poll_fetch_details(&c, db, &tx))
        return jumio_poll_pending(r, &tx);
    return jumio_poll_done(r, &tx);
}
