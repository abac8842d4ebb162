/* core/mapping.h - the Jumio mapping: callback bodies, the account request and answer, stored
 * credentials and Jumio error texts (src/core/mapping.c). Only APR and jansson. */
#ifndef JUMIO_CORE_MAPPING_H
#define JUMIO_CORE_MAPPING_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

typedef struct {
    const char *workflow_id; /* workflowExecution.id, UUID */
    const char *status;      /* workflowExecution.status, one of the five */
    const char *account_id;  /* account.id, UUID */
} jumio_callback_t;

/* Parse a callback body. form != 0: application/x-www-form-urlencoded with dotted keys
 * (percent and '+' decoding); else JSON with nested objects. On success fills cb (strings in p)
 * and returns NULL; on failure returns a human message (static or in p). */
const char *jumio_callback_parse(apr_pool_t *p, const char *body, apr_size_t len, int form,
                                 jumio_callback_t *cb);

typedef struct {
    const char *category; /* ID, FACEMAP, SELFIE, DOCUMENT */
    const char *id;       /* credential id */
} jumio_cred_t;

typedef struct {
    const char *cir;                   /* customerInternalReference */
    const char *user_reference;        /* may be NULL */
    int workflow_key;                  /* > 0 */
    apr_array_header_t *id_types;      /* of const char *, may be NULL/empty */
    apr_array_header_t *id_countries;  /* of const char *, may be NULL/empty */
    apr_array_header_t *facemap_types; /* of const char *, may be NULL/empty */
    apr_array_header_t *enrolment;     /* of jumio_cred_t, used for workflow 9; may be NULL */
    const char *callback_url;          /* may be NULL */
    const char *token_lifetime;        /* may be NULL */
    const char *success_url;           /* may be NULL */
    const char *error_url;             /* may be NULL */
    const char *locale;                /* may be NULL */
} jumio_account_req_t;

/* The JSON body of POST/PUT /api/v1/accounts (field names per Jumio's KYX guide).
 * Workflow 9 sends the enrolment credentials as docs/DESIGN.md says. New reference. */
json_t *jumio_account_request(const jumio_account_req_t *req);

typedef struct {
    const char *timestamp;           /* may be NULL */
    const char *account_id;          /* UUID */
    const char *workflow_id;         /* UUID */
    const char *web_href;            /* required */
    const char *sdk_token;           /* may be NULL */
    apr_array_header_t *credentials; /* of jumio_cred_t (entries with id and category) */
} jumio_account_resp_t;

/* Parse Jumio's account answer; NULL on success, else a message (missing/invalid field). */
const char *jumio_account_response(apr_pool_t *p, json_t *answer, jumio_account_resp_t *out);

/* Credentials array <-> JSON text as stored in jumio_accounts.credentials. */
const char *jumio_creds_to_json(apr_pool_t *p, const apr_array_header_t *creds);
apr_array_header_t *jumio_creds_from_json(apr_pool_t *p, const char *text);

/* Jumio's error answer text for logs: "title: detail", or "message", or NULL. Never secrets. */
const char *jumio_error_text(apr_pool_t *p, const char *body, apr_size_t len);

#endif
