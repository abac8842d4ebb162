/* jumio_http.c - answering the portal: JSON bodies, errors, method checks, body reading. */
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
        return jumio_http_json_text(r, HTTP_INTERNAL_SERVER_ERROR,
                                    "{\"error\":\"internal_error\",\"message\":\"Internal error.\"}");
    }
    jumio_http_json_text(r, status, text);
    return OK;
}

/* Send {"error": code, "message": msg} with status; always returns OK. */
int jumio_http_error(request_rec *r, int status, const char *code, const char *msg)
{
    if (status == HTTP_REQUEST_ENTITY_TOO_LARGE)
        r->connection->keepalive = AP_CONN_CLOSE;
    return jumio_http_json(r, status, json_pack("{s:s, s:s}", "error", code, "message", msg));
}

/* 405 with Allow when r->method differs from method; -1 when the method is fine. */
int jumio_http_method_only(request_rec *r, int method_number, const char *name)
{
    if (r->method_number == method_number && !(method_number == M_GET && r->header_only))
        return -1;
    apr_table_setn(r->headers_out, "Allow", name);
    return jumio_http_error(r, HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                            apr_pstrcat(r->pool, "Only ", name, " is allowed here.", NULL));
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
