/* jumio_handler_poll.c - GET poll: the owner's transaction state; on PROCESSED the details are
 * fetched once from the Retrieval API and answered per JumioPollData (SPEC §2). */
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

/* The final answer for a transaction with details (or an expired one). `data` is stored JSON
 * text (the details, or their decision-mode summary) spliced in as it is: no parse per poll. */
static int jumio_poll_done(request_rec *r, const jumio_tx_t *tx)
{
    jumio_dir_cfg_t *dc = jumio_config_dir(r);
    const char *data = !tx->details || dc->poll_data == JUMIO_DATA_NONE ? NULL
                     : dc->poll_data == JUMIO_DATA_FULL ? tx->details : tx->summary;
    json_t *head = json_pack("{s:b, s:s, s:s, s:s?}", "done", 1, "transactionReference",
                             tx->workflow_id, "status", tx->status, "decision",
                             tx->details ? tx->decision : NULL);
    const char *text = jumio_json_dump(r->pool, head);
    json_decref(head);
    if (!text)
        return jumio_http_error(r, HTTP_INTERNAL_SERVER_ERROR, "internal_error",
                                "The answer could not be made.");
    text = apr_pstrmemdup(r->pool, text, strlen(text) - 1);   /* without the closing brace */
    return jumio_http_json_text(r, HTTP_OK, apr_pstrcat(r->pool, text, ",\"data\":",
                                                        data ? data : "null", "}", NULL));
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
    if (rc > 0 || !tx->user_id || strcmp(tx->user_id, user))
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
        jumio_work_status_check(&c, db, &tx);
    if (strcmp(tx.status, "PROCESSED"))
        return jumio_status_is_final(tx.status) ? jumio_poll_done(r, &tx) : jumio_poll_pending(r, &tx);
    if (!tx.details && jumio_work_fetch_details(&c, db, &tx))
        return jumio_poll_pending(r, &tx);
    return jumio_poll_done(r, &tx);
}
