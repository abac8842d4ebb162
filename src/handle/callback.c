/* jumio_handler_callback.c - POST callback from Jumio: validate, check the signing token,
 * log it and move the status forward; answer 200 at once, never calling Jumio (SPEC §2). */
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

/* Read and parse the body. -1 when fine (cb, body filled), else the answer sent. */
static int jumio_callback_read(request_rec *r, jumio_callback_t *cb, char **body)
{
    jumio_dir_cfg_t *dc = jumio_config_dir(r);
    apr_off_t max = dc->max_body > 0 ? dc->max_body : JUMIO_DEFAULT_MAX_BODY;
    int form = jumio_http_content_type_is(r, "application/x-www-form-urlencoded");
    apr_size_t len;
    const char *why;
    int st;
    if (!form && !jumio_http_content_type_is(r, "application/json"))
        return jumio_http_error(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                                "A callback must be JSON or form-urlencoded.");
    st = jumio_http_read_body(r, max, body, &len);
    if (st == HTTP_REQUEST_ENTITY_TOO_LARGE)
        return jumio_http_error(r, st, "body_too_large", "The callback body is too large.");
    if (st)
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", "The body could not be read.");
    if ((why = jumio_callback_parse(r->pool, *body, len, form, cb))) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, "mod_jumio: callback from %s refused: %s",
                      r->useragent_ip, why);
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", why);
    }
    if (memchr(*body, '\0', len))
        return jumio_http_error(r, HTTP_BAD_REQUEST, "bad_request", "The body holds a NUL byte.");
    return -1;
}

/* Refuse a callback whose signing token does not match (403, one warning line). */
static int jumio_callback_forbidden(request_rec *r, const jumio_callback_t *cb, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                  "mod_jumio: callback for %s from %s refused: %s", cb->workflow_id,
                  r->useragent_ip, why);
    return jumio_http_error(r, HTTP_FORBIDDEN, "forbidden", "The callback could not be verified.");
}

/* The jumio-callback handler. */
int jumio_handler_callback(request_rec *r)
{
    jumio_callback_t cb;
    jumio_tx_t tx;
    jumio_db_t *db;
    jumio_ctx_t c = { r->pool, r->server, r };
    char *body = NULL;
    int rc, known;
    if ((rc = jumio_http_method_only(r, M_POST, "POST")) != -1)
        return rc;
    if ((rc = jumio_callback_read(r, &cb, &body)) != -1)
        return rc;
    if (!(db = jumio_store_acquire(&c)))
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    known = jumio_store_tx_get(&c, db, cb.workflow_id, &tx);
    if (known < 0)
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    if (jumio_config_signing(jumio_config_srv(r))) {
        if (known > 0)
            return jumio_callback_forbidden(r, &cb, "unknown transaction");
        if (!jumio_util_ct_equal(jumio_callback_token(r), tx.callback_token))
            return jumio_callback_forbidden(r, &cb, "signing token missing or wrong");
    }
    else if (known > 0)
        ap_log_rerror(APLOG_MARK, APLOG_NOTICE, 0, r,
                      "mod_jumio: callback for unknown transaction %s from %s", cb.workflow_id,
                      r->useragent_ip);
    if (jumio_store_callback(&c, db, &cb, r->useragent_ip, body, known == 0))
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The callback could not be stored.");
    return jumio_http_json(r, HTTP_OK, json_pack("{s:b}", "received", 1));
}
