/* work.c - the retrieval work shared by poll (on demand) and the background task:
 * Status API checks on Jumio's schedule and the one-time details fetch (KYX guide, Retrieval). */
#include "work.h"
#include "client.h"
#include "notify.h"
#include "core/core.h"
#include <apr_strings.h>

/* Retrieval path of a transaction (ids are validated UUIDs; callback hrefs are never used). */
static const char *jumio_work_path(apr_pool_t *p, const jumio_tx_t *tx, const char *suffix)
{
    return apr_pstrcat(p, "/api/v1/accounts/", tx->account_id, "/workflow-executions/",
                       tx->workflow_id, suffix, NULL);
}

/* Ask the Status API once when the next scheduled check is due; moves tx->status forward. */
void jumio_work_status_check(jumio_ctx_t *c, jumio_tx_t *tx)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    int due = jumio_config_schedule(sc, tx->status_checks);
    int next = jumio_config_schedule(sc, tx->status_checks + 1);
    jumio_answer_t ans;
    const char *status;
    if (jumio_status_is_final(tx->status) || !jumio_util_is_uuid(tx->account_id)
        || !jumio_util_is_uuid(tx->workflow_id))
        return;
    if (due < 0 || now - tx->created_at < due) {
        /* due by an older or another node's schedule, not by ours: fix the row's due time so
         * that it does not hold a place in every background round */
        if (!c->r)
            jumio_store_reschedule(c, tx->workflow_id, tx->status_checks,
                                   due < 0 ? APR_INT64_MAX : tx->created_at + due);
        return;
    }
    if (jumio_store_claim_check(c, tx->workflow_id, tx->status_checks,
                                next < 0 ? APR_INT64_MAX : tx->created_at + next)
        != 1)
        return;
    tx->status_checks++;
    jumio_client_call(c, "GET", JUMIO_SVC_RETRIEVAL, jumio_work_path(c->pool, tx, "/status"), NULL,
                      &ans);
    status = json_string_value(
        json_object_get(json_object_get(ans.json, "workflowExecution"), "status"));
    if (ans.outcome == JUMIO_UP_OK && jumio_status_rank(status) > jumio_status_rank(tx->status)
        && !jumio_store_status(c, tx->workflow_id, status, jumio_notify_expiry(c, tx, status)))
        tx->status = apr_pstrdup(c->pool, status);
    json_decref(ans.json);
}

/* The decision-mode data of details as JSON text in p (kept beside the details so that polls
 * never parse the details document); NULL on failure. */
static const char *jumio_work_summary(apr_pool_t *p, json_t *details)
{
    json_t *data = jumio_decision_data(details);
    const char *out = jumio_json_dump(p, data);
    json_decref(data);
    return out;
}

/* Fetch and store the details of a PROCESSED transaction once; 0 when tx->details is set. */
int jumio_work_fetch_details(jumio_ctx_t *c, jumio_tx_t *tx)
{
    jumio_srv_cfg_t *sc = jumio_config_srv_of(c);
    int hold = jumio_config_timeout(sc) * 3 + 5;
    jumio_answer_t ans;
    const char *text = NULL;
    int rc = -1;
    if (!jumio_util_is_uuid(tx->account_id) || !jumio_util_is_uuid(tx->workflow_id)
        || jumio_store_claim_details(c, tx->workflow_id, hold, !c->r) != 1)
        return -1;
    jumio_client_call(c, "GET", JUMIO_SVC_RETRIEVAL, jumio_work_path(c->pool, tx, ""), NULL, &ans);
    if (ans.outcome == JUMIO_UP_OK && (text = jumio_json_dump(c->pool, ans.json))) {
        const char *decision = jumio_decision_of_details(ans.json);
        const char *summary = jumio_work_summary(c->pool, ans.json);
        if (summary
            && !jumio_store_details(c, tx->workflow_id, text, summary, decision,
                                    jumio_notify_result(c, tx, decision, text, summary))) {
            tx->details = text;
            tx->summary = summary;
            tx->decision = decision;
            rc = 0;
        }
    }
    /* A poll gives its claim back so the next poll may try at once; the background task
     * keeps it (until `hold` ends) as its backoff, so transactions whose details keep
     * failing are not retried every round and do not fill the due list (LIMIT 20) for
     * ever, starving newer ones. */
    if (rc && c->r)
        jumio_store_unclaim_details(c, tx->workflow_id);
    json_decref(ans.json);
    return rc;
}

/* One background round: every transaction with work due now, until stop() says so. */
void jumio_work_round(jumio_ctx_t *c, jumio_work_stop_fn *stop)
{
    apr_array_header_t *due;
    int i;
    if (jumio_store_due(c, (apr_int64_t)apr_time_sec(apr_time_now()), &due))
        return;
    for (i = 0; i < due->nelts && !stop(); i++) {
        jumio_tx_t *tx = &APR_ARRAY_IDX(due, i, jumio_tx_t);
        if (!jumio_status_is_final(tx->status))
            jumio_work_status_check(c, tx);
        if (!strcmp(tx->status, "PROCESSED") && !tx->details)
            jumio_work_fetch_details(c, tx);
    }
}
