/* client.h - talking to Jumio over libcurl (src/client.c). */
#ifndef JUMIO_CLIENT_H
#define JUMIO_CLIENT_H

#include "jumio.h"
#include "config.h"
#include <jansson.h>

typedef enum {
    JUMIO_UP_OK,
    JUMIO_UP_NOT_FOUND,
    JUMIO_UP_REJECTED,
    JUMIO_UP_ERROR,
    JUMIO_UP_TIMEOUT,
    JUMIO_UP_BUSY
} jumio_up_e;

typedef struct {
    jumio_up_e outcome;
    long http_status;
    json_t *json;            /* parsed body on JUMIO_UP_OK (caller json_decref) */
    const char *retry_after; /* on JUMIO_UP_BUSY */
} jumio_answer_t;

/* curl_global_init once per configuration cycle (post_config). */
apr_status_t jumio_client_global_init(apr_pool_t *pconf, server_rec *s);
/* One authenticated business call: method (GET/POST/PUT/DELETE), service base + path, optional
 * JSON body. Handles the token (cached, refreshed once on 401) and classifies the answer. */
void jumio_client_call(jumio_ctx_t *c, const char *method, jumio_svc_e svc, const char *path,
                       json_t *body, jumio_answer_t *ans);
/* Plain GET of a URL without Jumio credentials (JWKS documents); APR_SUCCESS or an error. */
apr_status_t jumio_client_fetch(jumio_ctx_t *c, const char *url, long *status, const char **body,
                                apr_size_t *len);
/* POST a JSON body to a URL without Jumio credentials (signed result notifications), with
 * extra header lines ("Name: value") and the same limits as Jumio calls; APR_SUCCESS with the
 * HTTP status in *status, or an error when no answer came (logged). */
apr_status_t jumio_client_post(jumio_ctx_t *c, const char *url, const apr_array_header_t *headers,
                               const char *body, apr_size_t len, long *status);
/* Answer the portal for a failed call (502/503/504 per docs/DESIGN.md "Error answers"); returns OK. */
int jumio_client_fail(request_rec *r, const jumio_answer_t *ans);

#endif
