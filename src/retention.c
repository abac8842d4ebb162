/* retention.c - JumioRetention: a transaction final (details stored, or expired) for longer
 * than the retention has its details and the bodies of its callbacks purged locally (status,
 * decision, decision-mode data and times kept, so the poll still answers) and its workflow
 * execution deleted at Jumio, tried again with growing delays until Jumio confirms
 * (docs/DESIGN.md "Retention"). Run by the background task after the retrieval work; each
 * transaction is claimed in the database (retention_next_at as a lease), so several processes
 * or nodes never delete the same one at once, and no connection is held across a Jumio call. */
#include "retention.h"
#include "metrics.h"
#include "config.h"
#include "client.h"
#include "account.h"
#include "store/store.h"
#include "core/core.h"
#include <http_core.h>
#include <http_main.h>
#include <apr_strings.h>

/* The first retry after a failed deletion (seconds); each next one waits twice as long, at
 * most JUMIO_RETENTION_RETRY_MAX. */
#define JUMIO_RETENTION_RETRY_FIRST 10
#define JUMIO_RETENTION_RETRY_MAX   (6 * 3600)

/* The smaller of a running minimum and the JumioRetention of a per-directory vector (0 and
 * unset are ignored). */
static int jumio_retention_min(int days, ap_conf_vector_t *v)
{
    jumio_dir_cfg_t *dc = v ? ap_get_module_config(v, &jumio_module) : NULL;
    if (dc && dc->retention_days > 0 && (!days || dc->retention_days < days))
        return dc->retention_days;
    return days;
}

/* The smaller of `days` and every JumioRetention of a list of sections. */
static int jumio_retention_min_of(int days, apr_array_header_t *sections)
{
    int i;
    for (i = 0; sections && i < sections->nelts; i++)
        days = jumio_retention_min(days, APR_ARRAY_IDX(sections, i, ap_conf_vector_t *));
    return days;
}

/* The smallest JumioRetention of the whole configuration (server level, virtual hosts,
 * <Location> and <Directory> sections); 0 when none is set. Transactions are not tied to the
 * location of their intake, so the shortest retention applies to all of them. */
int jumio_retention_days(server_rec *s)
{
    int days = 0;
    for (s = ap_server_conf ? ap_server_conf : s; s; s = s->next) {
        core_server_config *core = ap_get_core_module_config(s->module_config);
        days = jumio_retention_min(days, s->lookup_defaults);
        if (core) {
            days = jumio_retention_min_of(days, core->sec_url);
            days = jumio_retention_min_of(days, core->sec_dir);
        }
    }
    return days;
}

/* Count a round's purges and confirmed deletions (jumio_retention_purged_total,
 * jumio_retention_deletions_total{result="ok"}); logged at info level once per round. */
static void jumio_retention_count(jumio_ctx_t *c, int purged, int deleted)
{
    jumio_metric_add(JUMIO_M_RETENTION_PURGED, (apr_uint64_t)purged);
    jumio_metric_add(JUMIO_M_RETENTION_DELETED, (apr_uint64_t)deleted);
    if (purged || deleted)
        jumio_log(c, APLOG_INFO, 0,
                  "mod_jumio: retention: purged %d transaction(s), %d workflow(s) deleted at Jumio",
                  purged, deleted);
}

/* Seconds until the next try after `attempts` failed deletions (Retry-After when Jumio asks
 * for longer). */
static apr_int64_t jumio_retention_backoff(int attempts, const jumio_answer_t *ans)
{
    apr_int64_t wait = JUMIO_RETENTION_RETRY_FIRST;
    apr_int64_t asked = ans->retry_after ? apr_atoi64(ans->retry_after) : 0;
    while (attempts-- > 0 && wait < JUMIO_RETENTION_RETRY_MAX)
        wait *= 2;
    if (wait > JUMIO_RETENTION_RETRY_MAX)
        wait = JUMIO_RETENTION_RETRY_MAX;
    return asked > wait && asked <= JUMIO_RETENTION_RETRY_MAX ? asked : wait;
}

/* Delete the workflow of a claimed transaction at Jumio (Deletion API; 404 is already gone);
 * 1 confirmed, 0 failed (the next try is set). */
static int jumio_retention_delete(jumio_ctx_t *c, const jumio_retention_tx_t *tx,
                                  apr_int64_t lease_until)
{
    jumio_answer_t ans;
    apr_int64_t wait;
    if (!jumio_util_is_uuid(tx->account_id) || !jumio_util_is_uuid(tx->workflow_id)) {
        jumio_log(c, APLOG_WARNING, 0,
                  "mod_jumio: retention: stored ids of a transaction are not UUIDs, "
                  "purged locally only");
        return !jumio_store_retention_deleted(c, tx->workflow_id);
    }
    jumio_client_call(c, "DELETE", JUMIO_SVC_RETRIEVAL,
                      apr_pstrcat(c->pool, "/api/v1/accounts/", tx->account_id,
                                  "/workflow-executions/", tx->workflow_id, NULL),
                      NULL, &ans);
    json_decref(ans.json);
    if (ans.outcome == JUMIO_UP_OK || ans.outcome == JUMIO_UP_NOT_FOUND)
        return !jumio_store_retention_deleted(c, tx->workflow_id);
    wait = jumio_retention_backoff(tx->attempts, &ans);
    jumio_log(c, APLOG_WARNING, 0,
              "mod_jumio: retention: deleting workflow %s at Jumio failed (%s), "
              "next try in %" APR_INT64_T_FMT " s",
              tx->workflow_id,
              ans.outcome == JUMIO_UP_TIMEOUT ? "timed out"
              : ans.http_status               ? apr_psprintf(c->pool, "HTTP %ld", ans.http_status)
                                              : "no answer",
              wait);
    jumio_metric_inc(JUMIO_M_RETENTION_DELETE_FAILED);
    jumio_store_retention_retry(c, tx->workflow_id, lease_until,
                                (apr_int64_t)apr_time_sec(apr_time_now()) + wait);
    return 0;
}

/* One retention round (see retention.h). A failed deletion ends the round: Jumio is likely
 * down, and the others are tried in the next rounds, so a round waits for at most one call
 * that times out. */
void jumio_retention_round(jumio_ctx_t *c, jumio_work_stop_fn *stop)
{
    int days = jumio_retention_days(c->s), i, purged, npurged = 0, ndeleted = 0, claimed;
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now()), cutoff, lease;
    apr_array_header_t *due;
    if (!days)
        return;
    cutoff = now - (apr_int64_t)days * 86400;
    if (jumio_store_retention_due(c, cutoff, now, &due))
        return;
    for (i = 0; i < due->nelts && !stop(); i++) {
        jumio_retention_tx_t *tx = &APR_ARRAY_IDX(due, i, jumio_retention_tx_t);
        if (!tx->workflow_id)
            continue;
        /* the lease covers one Jumio call with its token request and retry */
        lease = (apr_int64_t)apr_time_sec(apr_time_now()) + jumio_account_hold(c, 1);
        claimed = jumio_store_retention_claim(c, tx, cutoff, lease, &purged);
        if (claimed < 0)
            break;
        if (!claimed)
            continue;
        npurged += purged == 1;
        if (!jumio_retention_delete(c, tx, lease))
            break;
        ndeleted++;
    }
    jumio_retention_count(c, npurged, ndeleted);
}
