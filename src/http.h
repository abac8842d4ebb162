/* http.h - answering the portal: JSON bodies, errors, method checks, body reading (src/http.c). */
#ifndef JUMIO_HTTP_H
#define JUMIO_HTTP_H

#include "jumio.h"
#include <jansson.h>

/* Send JSON text as the answer with status (JSON headers, no-store); always returns OK. */
int jumio_http_json_text(request_rec *r, int status, const char *text);
/* Send a JSON answer with status (takes a reference of body); always returns OK. */
int jumio_http_json(request_rec *r, int status, json_t *body);
/* Send {"error": code, "message": msg} with status; always returns OK. */
int jumio_http_error(request_rec *r, int status, const char *code, const char *msg);
/* 405 with Allow when r->method differs from method; returns -1 when the method is fine. */
int jumio_http_method_only(request_rec *r, int method_number, const char *name);
/* Read the whole request body up to max bytes; 0 on success, else an HTTP status (413, 400). */
int jumio_http_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);
/* 1 when the request's Content-Type media type equals type (ignoring parameters and case). */
int jumio_http_content_type_is(request_rec *r, const char *type);

#endif
