/* jumio_core.h - pure helpers of mod_jumio: no httpd calls, only APR, jansson, libjwt, OpenSSL.
 * Everything declared here is unit-tested in t/unit/ without a running httpd. */
#ifndef JUMIO_CORE_H
#define JUMIO_CORE_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

/* ---- util (src/jumio_util.c) ---- */

/* 1 when s is a UUID in 8-4-4-4-12 hex form (either case), else 0. NULL gives 0. */
int jumio_util_is_uuid(const char *s);
/* A fresh random version-4 UUID (lowercase) from APR's random source; NULL on failure. */
const char *jumio_util_uuid_v4(apr_pool_t *p);
/* n random bytes from apr_generate_random_bytes, base64url (no padding); NULL on failure. */
const char *jumio_util_random_token(apr_pool_t *p, apr_size_t nbytes);
/* Constant-time comparison of two NUL-terminated strings; 1 when equal. NULL never equals. */
int jumio_util_ct_equal(const char *a, const char *b);
/* Lowercase hex HMAC-SHA256 of msg under key (64 chars); NULL on failure. */
const char *jumio_util_hmac_sha256_hex(apr_pool_t *p, const char *key, apr_size_t keylen,
                                       const char *msg);
/* base64url decode (no padding needed); *outlen set; NULL on invalid input. Result NUL-terminated. */
char *jumio_util_b64url_decode(apr_pool_t *p, const char *in, apr_size_t *outlen);

/* ---- JSON input (src/jumio_json.c) ---- */

/* Parse len bytes of untrusted JSON: no NUL bytes, nesting at most 32 deep, duplicate keys
 * refused. New reference, or NULL when bad. */
json_t *jumio_json_load(const char *text, apr_size_t len);

/* ---- statuses and decisions (src/jumio_json.c) ---- */

/* Rank of a workflow status: INITIATED 0, ACQUIRED 1, PROCESSED/SESSION_EXPIRED/TOKEN_EXPIRED 2,
 * anything else (or NULL) -1. */
int jumio_status_rank(const char *status);
/* 1 when status is final (rank 2). */
int jumio_status_is_final(const char *status);
/* Overall decision of a details object (SPEC §2): top-level decision.type when it is a string,
 * else derived from the capabilities. Returns a static string: PASSED, WARNING, REJECTED or
 * NOT_EXECUTED. */
const char *jumio_decision_of_details(json_t *details);
/* The decision-mode data object: {"definitionKey": workflow.definitionKey (or null),
 * "capabilities": {"<name>": "<derived type>", ...}}. New reference. */
json_t *jumio_decision_data(json_t *details);

/* ---- callback parsing (src/jumio_json.c) ---- */

typedef struct {
    const char *workflow_id;     /* workflowExecution.id, UUID */
    const char *status;          /* workflowExecution.status, one of the five */
    const char *account_id;      /* account.id, UUID */
} jumio_callback_t;

/* Parse a callback body. form != 0: application/x-www-form-urlencoded with dotted keys
 * (percent and '+' decoding); else JSON with nested objects. On success fills cb (strings in p)
 * and returns NULL; on failure returns a human message (static or in p). */
const char *jumio_callback_parse(apr_pool_t *p, const char *body, apr_size_t len, int form,
                                 jumio_callback_t *cb);

/* ---- account API mapping (src/jumio_json.c) ---- */

typedef struct {
    const char *category;        /* ID, FACEMAP, SELFIE, DOCUMENT */
    const char *id;              /* credential id */
} jumio_cred_t;

typedef struct {
    const char *cir;             /* customerInternalReference */
    const char *user_reference;  /* may be NULL */
    int workflow_key;            /* > 0 */
    apr_array_header_t *id_types;       /* of const char *, may be NULL/empty */
    apr_array_header_t *id_countries;   /* of const char *, may be NULL/empty */
    apr_array_header_t *facemap_types;  /* of const char *, may be NULL/empty */
    apr_array_header_t *enrolment;      /* of jumio_cred_t, used for workflow 9; may be NULL */
    const char *callback_url;    /* may be NULL */
    const char *token_lifetime;  /* may be NULL */
    const char *success_url;     /* may be NULL */
    const char *error_url;       /* may be NULL */
    const char *locale;          /* may be NULL */
} jumio_account_req_t;

/* The JSON body of POST/PUT /api/v1/accounts (field names per Jumio's KYX guide).
 * Workflow 9 sends the enrolment credentials as docs/DESIGN.md says. New reference. */
json_t *jumio_account_request(const jumio_account_req_t *req);

typedef struct {
    const char *timestamp;       /* may be NULL */
    const char *account_id;      /* UUID */
    const char *workflow_id;     /* UUID */
    const char *web_href;        /* required */
    const char *sdk_token;       /* may be NULL */
    apr_array_header_t *credentials; /* of jumio_cred_t (entries with id and category) */
} jumio_account_resp_t;

/* Parse Jumio's account answer; NULL on success, else a message (missing/invalid field). */
const char *jumio_account_response(apr_pool_t *p, json_t *answer, jumio_account_resp_t *out);

/* Credentials array <-> JSON text as stored in jumio_accounts.credentials. */
const char *jumio_creds_to_json(apr_pool_t *p, const apr_array_header_t *creds);
apr_array_header_t *jumio_creds_from_json(apr_pool_t *p, const char *text);

/* Jumio's error answer text for logs: "title: detail", or "message", or NULL. Never secrets. */
const char *jumio_error_text(apr_pool_t *p, const char *body, apr_size_t len);

/* ---- JWT (src/jumio_jwt.c) ---- */

typedef struct {
    int alg;                     /* libjwt jwt_alg_t, pinned */
    const unsigned char *key;    /* HMAC secret or PEM public key */
    apr_size_t keylen;
    const char *issuer;          /* may be NULL */
    const char *audience;        /* may be NULL */
    const char *user_claim;      /* default "sub" */
    int leeway;                  /* seconds */
} jumio_jwt_cfg_t;

/* Verify a compact JWT and return the user id (string claim user_claim) in *user.
 * Checks: header alg equals cfg->alg (before and after libjwt), signature, exp required,
 * nbf/iat when present (with leeway), iss and aud when configured (aud string or array).
 * now is the current Unix time. NULL on success, else a short reason for the log (never the
 * token itself). */
const char *jumio_jwt_verify(apr_pool_t *p, const jumio_jwt_cfg_t *cfg, const char *token,
                             long long now, const char **user);
/* Parse an algorithm name (HS256 ... ES512); -1 when unknown or "none". */
int jumio_jwt_alg_from_name(const char *name);
/* The kid of a compact JWT's header into *kid (in p; NULL when the header has none), after the
 * shape and the pinned algorithm alg are checked as jumio_jwt_verify does. NULL on success,
 * else a short reason (also for a kid that is not 1..256 printable ASCII characters). */
const char *jumio_jwt_kid(apr_pool_t *p, const char *token, int alg, const char **kid);

/* ---- JWKS documents (src/jumio_jwks.c) ---- */

#define JUMIO_JWKS_MAX_KID 256           /* bytes of a key id */

typedef struct {
    const char *kid;             /* NULL when the JWK has none */
    const char *pem;             /* SubjectPublicKeyInfo PEM, NUL-terminated */
    apr_size_t pemlen;
} jumio_jwk_t;

/* 1 when s (n bytes) is an acceptable key id: 1..256 printable ASCII characters. */
int jumio_jwks_kid_ok(const char *s, apr_size_t n);
/* Parse a JWKS document ({"keys": [...]}, untrusted, len bytes) into the keys usable with the
 * pinned algorithm alg (RS*: kty RSA of 2048+ bits; ES256/384/512: kty EC on P-256/384/521):
 * *keys is an array of jumio_jwk_t in p, maybe empty. JWKs with use other than "sig", key_ops
 * without "verify", an alg other than alg, another family, a bad kid or bad numbers are
 * skipped; of several with one kid the first counts. NULL on success, else a short reason. */
const char *jumio_jwks_parse(apr_pool_t *p, const char *json, apr_size_t len, int alg,
                             apr_array_header_t **keys);
/* The key with this kid, or for a NULL kid the only key when there is exactly one; NULL when
 * none matches. */
const jumio_jwk_t *jumio_jwks_find(const apr_array_header_t *keys, const char *kid);

#endif
