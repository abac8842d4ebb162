/* http.c - answering the portal: JSON bodies, errors, method checks, body reading. */
#include "http.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>
#include <apr_lib.h>

/* Send JSON text as the answer with status and the headers every answer carries; OK. */
int jumio_http_json_text(request_rec *r, int status, const char *text)
{
    r->status = status;
    ap_set_content_type(r, "application/json");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "X-Content-Type-Options", "nosniff");
    ap_set_content_length(r, (apr_off_t)strlen(text));
    if (!r->header_only)
        ap_rputs(text, r);
    return OK;
}

/* Send a JSON answer with status (steals the reference of body); always returns OK. */
int jumio_http_json(request_rec *r, int status, json_t *body)
{
    const char *text = jumio_json_dump(r->pool, body);
    json_decref(body);
    if (!text) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "mod_jumio: cannot serialise an answer");
        return jumio_http_json_text(
            r, HTTP_INTERNAL_SERVER_ERROR,
            "{\"error\":\"internal_error\",\"message\":\"Internal error.\"}");
    }
    jumio_http_json_text(r, status, text);
    return OK;
}

/* Status, code and usual message of each error answer. */
static const struct {
    int status;
    const char *code, *message;
} jumio_http_errors[JUMIO_E_COUNT] = {
    [JUMIO_E_BAD_REQUEST] = { HTTP_BAD_REQUEST, "bad_request", "The request is malformed." },
    [JUMIO_E_CALLBACK_URL] = { HTTP_BAD_REQUEST, "callback_url_not_allowed",
                               "callbackUrl is not in the allowed list." },
    [JUMIO_E_INVALID_TOKEN] = { HTTP_UNAUTHORIZED, "invalid_token",
                                "A valid user token is required." },
    [JUMIO_E_FORBIDDEN] = { HTTP_FORBIDDEN, "forbidden", "The request could not be verified." },
    [JUMIO_E_CROSS_SITE] = { HTTP_FORBIDDEN, "cross_site_request",
                             "Cross-site requests are not accepted here." },
    [JUMIO_E_NOT_FOUND] = { HTTP_NOT_FOUND, "not_found", "No such transaction." },
    [JUMIO_E_METHOD] = { HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                         "This method is not allowed here." },
    [JUMIO_E_NO_ENROLMENT] = { HTTP_CONFLICT, "no_enrolment",
                               "Authentication needs a completed enrolment for this user." },
    [JUMIO_E_TOO_MANY] = { HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                           "This user started too many verifications; retry later." },
    [JUMIO_E_TOO_LARGE] = { HTTP_REQUEST_ENTITY_TOO_LARGE, "body_too_large",
                            "The request body is too large." },
    [JUMIO_E_MEDIA_TYPE] = { HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                             "The body must be application/json." },
    [JUMIO_E_INTERNAL] = { HTTP_INTERNAL_SERVER_ERROR, "internal_error", "Internal error." },
    [JUMIO_E_UPSTREAM_REJECTED] = { HTTP_BAD_GATEWAY, "upstream_rejected",
                                    "Jumio rejected the request." },
    [JUMIO_E_UPSTREAM_ERROR] = { HTTP_BAD_GATEWAY, "upstream_error",
                                 "Jumio could not be reached or gave an unusable answer." },
    [JUMIO_E_UPSTREAM_BUSY] = { HTTP_SERVICE_UNAVAILABLE, "upstream_busy",
                                "Jumio is busy; retry later." },
    [JUMIO_E_UNAVAILABLE] = { HTTP_SERVICE_UNAVAILABLE, "unavailable",
                              "The database is not available." },
    [JUMIO_E_UPSTREAM_TIMEOUT] = { HTTP_GATEWAY_TIME_OUT, "upstream_timeout",
                                   "Jumio did not answer in time." },
};

/* Send the error answer e with msg as its message; always returns OK. */
int jumio_http_fail_msg(request_rec *r, jumio_err_e e, const char *msg)
{
    if (e == JUMIO_E_TOO_LARGE)
        r->connection->keepalive = AP_CONN_CLOSE;
    return jumio_http_json(r, jumio_http_errors[e].status,
                           json_pack("{s:s, s:s}", "error", jumio_http_errors[e].code, "message",
                                     msg ? msg : jumio_http_errors[e].message));
}

/* Send the error answer e with its usual message; always returns OK. */
int jumio_http_fail(request_rec *r, jumio_err_e e)
{
    return jumio_http_fail_msg(r, e, NULL);
}

/* 405 with Allow: allow; always returns OK. */
int jumio_http_method_fail(request_rec *r, const char *allow)
{
    apr_table_setn(r->headers_out, "Allow", allow);
    return jumio_http_fail_msg(r, JUMIO_E_METHOD,
                               apr_pstrcat(r->pool, "Only ", allow, " is allowed here.", NULL));
}

/* 1 when the request's Content-Type media type equals type (ignoring parameters and case). */
int jumio_http_content_type_is(request_rec *r, const char *type)
{
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    apr_size_t n = strlen(type);
    if (!ct || strncasecmp(ct, type, n))
        return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

/* Read the whole request body up to max bytes; 0 on success, else an HTTP status. */
int jumio_http_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len)
{
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    apr_size_t got = 0;
    long n;
    char *buf;
    if (cl && (apr_atoi64(cl) > max || apr_atoi64(cl) < 0))
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    if (ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK) != OK)
        return HTTP_BAD_REQUEST;
    buf = apr_palloc(r->pool, (apr_size_t)max + 1);
    if (ap_should_client_block(r)) {
        while ((n = ap_get_client_block(r, buf + got, (apr_size_t)max + 1 - got)) > 0) {
            got += (apr_size_t)n;
            if (got > (apr_size_t)max)
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        if (n < 0)
            return HTTP_BAD_REQUEST;
    }
    buf[got] = '\0';
    *body = buf;
    *len = got;
    return 0;
}
