/* callback.c - POST callback from Jumio: validate, check the signing token, log it and move
 * the status forward; answer 200 at once, never calling Jumio (docs/DESIGN.md "Callback"). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "store/store.h"
#include "metrics.h"
#include "notify.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

/* The jumio_token query parameter of the request, or NULL. */
static const char *jumio_callback_token(request_rec *r)
{
    const char *q = r->args, *end;
    apr_size_t n = strlen(JUMIO_TOKEN_PARAM "=");
    while (q && *q) {
        end = strchr(q, '&');
        if (!strncmp(q, JUMIO_TOKEN_PARAM "=", n))
            return end ? apr_pstrmemdup(r->pool, q + n, (apr_size_t)(end - q) - n)
                       : apr_pstrdup(r->pool, q + n);
        q = end ? end + 1 : NULL;
    }
    return NULL;
}

/* Read and parse the body. JUMIO_CONTINUE when fine (cb, body filled), else the answer sent. */
static int jumio_callback_parse_body(jumio_req_t *q, jumio_callback_t *cb, char **body);

/* jumio_callback_parse_body, a refusal counted (jumio_callbacks_total bad_request). */
static int jumio_callback_read(jumio_req_t *q, jumio_callback_t *cb, char **body)
{
    int rc = jumio_callback_parse_body(q, cb, body);
    if (rc != JUMIO_CONTINUE)
        jumio_metric_inc(JUMIO_M_CB_REFUSED_REQUEST);
    return rc;
}

/* Read and parse the body. JUMIO_CONTINUE when fine (cb, body filled), else the answer sent. */
static int jumio_callback_parse_body(jumio_req_t *q, jumio_callback_t *cb, char **body)
{
    request_rec *r = q->r;
    int form = jumio_http_content_type_is(r, "application/x-www-form-urlencoded");
    apr_size_t len;
    const char *why;
    int st;
    if (!form && !jumio_http_content_type_is(r, "application/json"))
        return jumio_http_fail_msg(r, JUMIO_E_MEDIA_TYPE,
                                   "A callback must be JSON or form-urlencoded.");
    st = jumio_http_read_body(r, jumio_config_max_body(q->dc), body, &len);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return jumio_http_fail_msg(r, JUMIO_E_TOO_LARGE, "The callback body is too large.");
    if (st)
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, "The body could not be read.");
    if ((why = jumio_callback_parse(r->pool, *body, len, form, cb))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "mod_jumio: callback from %s refused: %s",
                      r->useragent_ip, why);
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, why);
    }
    if (memchr(*body, '\0', len))
        return jumio_http_fail_msg(r, JUMIO_E_BAD_REQUEST, "The body holds a NUL byte.");
    return JUMIO_CONTINUE;
}

/* Refuse a callback whose signing token does not match (403, one warning line, counted as
 * m). */
static int jumio_callback_forbidden(request_rec *r, const jumio_callback_t *cb, const char *why,
                                    jumio_metric_e m)
{
    jumio_metric_inc(m);
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "mod_jumio: callback for %s from %s refused: %s",
                  cb->workflow_id, r->useragent_ip, why);
    return jumio_http_fail_msg(r, JUMIO_E_FORBIDDEN, "The callback could not be verified.");
}

/* Store an accepted callback of a known transaction and answer (an expiry's notification
 * with it); a transaction erased meanwhile keeps nothing of it (200: Jumio must not send it
 * again). */
static int jumio_callback_store(jumio_req_t *q, const jumio_callback_t *cb, const jumio_tx_t *tx,
                                const char *body)
{
    request_rec *r = q->r;
    int rc = jumio_store_callback(
        &q->c, cb, r->useragent_ip, body,
        jumio_status_is_final(tx->status) ? NULL : jumio_notify_expiry(&q->c, tx, cb->status));
    jumio_metric_inc(rc < 0 ? JUMIO_M_CB_REFUSED_DATABASE
                     : rc   ? JUMIO_M_CB_DROPPED_ERASED
                            : JUMIO_M_CB_STORED);
    if (rc < 0)
        return jumio_http_fail_msg(r, JUMIO_E_UNAVAILABLE, "The callback could not be stored.");
    if (rc > 0)
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                      "mod_jumio: callback for %s dropped: the transaction was erased",
                      cb->workflow_id);
    return jumio_http_json(r, HTTP_OK, json_pack("{s:b}", "received", 1));
}

/* The jumio-callback handler. */
int jumio_handle_callback(jumio_req_t *q)
{
    request_rec *r = q->r;
    jumio_callback_t cb;
    jumio_tx_t tx;
    char *body = NULL;
    int rc, known;
    if ((rc = jumio_callback_read(q, &cb, &body)) != JUMIO_CONTINUE)
        return rc;
    known = jumio_store_tx_get(&q->c, cb.workflow_id, &tx);
    if (known < 0) {
        jumio_metric_inc(JUMIO_M_CB_REFUSED_DATABASE);
        return jumio_http_fail(r, JUMIO_E_UNAVAILABLE);
    }
    if (jumio_config_signing(q->sc)) {
        if (known > 0)
            return jumio_callback_forbidden(r, &cb, "unknown transaction",
                                            JUMIO_M_CB_REFUSED_UNKNOWN);
        if (!jumio_util_ct_equal(jumio_callback_token(r), tx.callback_token))
            return jumio_callback_forbidden(r, &cb, "signing token missing or wrong",
                                            JUMIO_M_CB_REFUSED_TOKEN);
    }
    else if (known > 0) {
        /* nothing of it is kept: it may be a late callback of an erased transaction */
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "mod_jumio: callback for unknown transaction %s from %s dropped",
                      cb.workflow_id, r->useragent_ip);
        jumio_metric_inc(JUMIO_M_CB_DROPPED_UNKNOWN);
        return jumio_http_json(r, HTTP_OK, json_pack("{s:b}", "received", 1));
    }
    /* a transaction purged by JumioRetention keeps no callback body, a late one's neither */
    return jumio_callback_store(q, &cb, &tx, tx.purged_at ? NULL : body);
}
