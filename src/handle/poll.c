/* poll.c - GET poll: the owner's transaction state; on PROCESSED the details are fetched once
 * from the Retrieval API and answered per JumioPollData (docs/DESIGN.md "Poll"). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "store/store.h"
#include "work.h"
#include "cache.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

/* ---- the final answers, cached per process for at most 1 s (src/cache.c) ---- */

/* The cache key of the answer of transaction ref in this Location's mode. */
static const char *jumio_poll_cache_key(jumio_req_t *q, const char *ref, apr_size_t *klen)
{
    return jumio_cache_key(q->r->pool, q->sc, klen, ref,
                           apr_itoa(q->r->pool, (int)jumio_config_poll_data(q->dc)),
                           (const char *)NULL);
}

/* Keep a final answer with its owner ("user NUL answer"). */
static void jumio_poll_cache_put(jumio_req_t *q, const jumio_tx_t *tx, const char *text)
{
    apr_size_t klen, ulen = strlen(tx->user_id ? tx->user_id : "");
    const char *key = jumio_poll_cache_key(q, tx->workflow_id, &klen);
    char *val = apr_palloc(q->r->pool, ulen + 1 + strlen(text));
    memcpy(val, tx->user_id ? tx->user_id : "", ulen + 1);
    memcpy(val + ulen + 1, text, strlen(text));
    jumio_cache_put(JUMIO_CACHE_POLL, key, klen, val, ulen + 1 + strlen(text));
}

/* The final answer of ref for user stored less than 1 s ago, or NULL. */
static const char *jumio_poll_cache_get(jumio_req_t *q, const char *user, const char *ref)
{
    apr_size_t klen, vlen;
    char *val;
    const char *key = jumio_poll_cache_key(q, ref, &klen);
    if (!jumio_cache_get(JUMIO_CACHE_POLL, key, klen, q->r->pool, &val, &vlen) || strcmp(val, user))
        return NULL;
    return val + strlen(val) + 1;
}

/* The final answer for a transaction with details (or an expired one, or one purged by
 * JumioRetention: its decision and decision-mode data are kept, its details are not). `data`
 * is stored JSON text (the details, or their decision-mode summary) spliced in as it is: no
 * parse per poll. */
static int jumio_poll_done(jumio_req_t *q, const jumio_tx_t *tx)
{
    request_rec *r = q->r;
    jumio_data_e mode = jumio_config_poll_data(q->dc);
    int result = tx->details || tx->purged_at;
    const char *data = !result || mode == JUMIO_DATA_NONE ? NULL
                       : mode == JUMIO_DATA_FULL          ? tx->details
                                                          : tx->summary;
    json_t *head =
        json_pack("{s:b, s:s, s:s, s:s?}", "done", 1, "transactionReference", tx->workflow_id,
                  "status", tx->status, "decision", result ? tx->decision : NULL);
    const char *text = jumio_json_dump(r->pool, head);
    json_decref(head);
    if (!text)
        return jumio_http_fail_msg(r, JUMIO_E_INTERNAL, "The answer could not be made.");
    text = apr_pstrmemdup(r->pool, text, strlen(text) - 1); /* without the closing brace */
    text = apr_pstrcat(r->pool, text, ",\"data\":", data ? data : "null", "}", NULL);
    jumio_poll_cache_put(q, tx, text);
    return jumio_http_json_text(r, HTTP_OK, text);
}

/* The answer for a transaction that is not done (yet). */
static int jumio_poll_pending(request_rec *r, const jumio_tx_t *tx)
{
    return jumio_http_json(r, HTTP_OK,
                           json_pack("{s:b, s:s, s:s}", "done", 0, "transactionReference",
                                     tx->workflow_id, "status", tx->status));
}

/* Load the caller's own transaction. JUMIO_CONTINUE when found (tx filled), else the answer. */
static int jumio_poll_load(jumio_req_t *q, jumio_tx_t *tx)
{
    request_rec *r = q->r;
    const char *user, *cached, *ref = apr_table_get(r->headers_in, "X-Transaction-Reference");
    int rc;
    if (!(user = jumio_user_identify(r, q->sc, q->dc)))
        return jumio_user_reject(r);
    if (!ref || !*ref)
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST,
                                   "The X-Transaction-Reference header is required.");
    if (!jumio_util_is_uuid(ref))
        return jumio_http_fail(r, JUMIO_E_NOT_FOUND);
    if ((cached = jumio_poll_cache_get(q, user, ref)))
        return jumio_http_json_text(r, HTTP_OK, cached);
    rc = jumio_store_tx_get(&q->c, ref, tx);
    if (rc < 0)
        return jumio_http_fail(r, JUMIO_E_UNAVAILABLE);
    if (rc > 0 || !tx->user_id || strcmp(tx->user_id, user))
        return jumio_http_fail(r, JUMIO_E_NOT_FOUND);
    return JUMIO_CONTINUE;
}

/* The jumio-poll handler. */
int jumio_handle_poll(jumio_req_t *q)
{
    jumio_tx_t tx;
    int rc;
    if ((rc = jumio_poll_load(q, &tx)) != JUMIO_CONTINUE)
        return rc;
    if (!jumio_status_is_final(tx.status))
        jumio_work_status_check(&q->c, &tx);
    if (strcmp(tx.status, "PROCESSED"))
        return jumio_status_is_final(tx.status) ? jumio_poll_done(q, &tx)
                                                : jumio_poll_pending(q->r, &tx);
    if (!tx.details && !tx.purged_at && jumio_work_fetch_details(&q->c, &tx))
        return jumio_poll_pending(q->r, &tx);
    return jumio_poll_done(q, &tx);
}
