/* http.h - answering the portal: JSON bodies, errors, method checks, body reading (src/http.c). */
#ifndef JUMIO_HTTP_H
#define JUMIO_HTTP_H

#include "jumio.h"
#include <jansson.h>

/* Send JSON text as the answer with status (JSON headers, no-store); always returns OK. */
int jumio_http_json_text(request_rec *r, int status, const char *text);
/* Send a JSON answer with status (takes a reference of body); always returns OK. */
int jumio_http_json(request_rec *r, int status, json_t *body);
/* The error answers of mod_jumio: one entry per row of the error table of docs/DESIGN.md. */
typedef enum {
    JUMIO_E_BAD_REQUEST,       /* 400 bad_request */
    JUMIO_E_CALLBACK_URL,      /* 400 callback_url_not_allowed */
    JUMIO_E_INVALID_TOKEN,     /* 401 invalid_token */
    JUMIO_E_FORBIDDEN,         /* 403 forbidden */
    JUMIO_E_CROSS_SITE,        /* 403 cross_site_request */
    JUMIO_E_NOT_FOUND,         /* 404 not_found */
    JUMIO_E_METHOD,            /* 405 method_not_allowed */
    JUMIO_E_NO_ENROLMENT,      /* 409 no_enrolment */
    JUMIO_E_TOO_LARGE,         /* 413 body_too_large */
    JUMIO_E_MEDIA_TYPE,        /* 415 unsupported_media_type */
    JUMIO_E_TOO_MANY,          /* 429 too_many_requests */
    JUMIO_E_INTERNAL,          /* 500 internal_error */
    JUMIO_E_UPSTREAM_REJECTED, /* 502 upstream_rejected */
    JUMIO_E_UPSTREAM_ERROR,    /* 502 upstream_error */
    JUMIO_E_UPSTREAM_BUSY,     /* 503 upstream_busy */
    JUMIO_E_UNAVAILABLE,       /* 503 unavailable */
    JUMIO_E_UPSTREAM_TIMEOUT,  /* 504 upstream_timeout */
    JUMIO_E_COUNT
} jumio_err_e;

/* Send the error answer e with its usual message; always returns OK. */
int jumio_http_fail(request_rec *r, jumio_err_e e);
/* Send the error answer e with a message of its own (a human sentence); always returns OK. */
int jumio_http_fail_msg(request_rec *r, jumio_err_e e, const char *msg);
/* 405 with Allow: allow (the one method of the handler); always returns OK. */
int jumio_http_method_fail(request_rec *r, const char *allow);
/* Read the whole request body up to max bytes; 0 on success, else an HTTP status (413, 400). */
int jumio_http_read_body(request_rec *r, apr_off_t max, char **body, apr_size_t *len);
/* 1 when the request's Content-Type media type equals type (ignoring parameters and case). */
int jumio_http_content_type_is(request_rec *r, const char *type);

#endif
