/* core/webhook.h - signed result notifications as Standard Webhooks define them: the HMAC
 * key of a secret, the webhook-signature header, the notification body and the retry
 * schedule (src/core/webhook.c). Only APR, jansson and OpenSSL. */
#ifndef JUMIO_CORE_WEBHOOK_H
#define JUMIO_CORE_WEBHOOK_H

#include <apr_pools.h>

/* How long a notification is tried before it is failed: 3 days after it was written. */
#define JUMIO_WEBHOOK_GIVE_UP (3 * 86400)

/* One HMAC-SHA256 key. */
typedef struct {
    const unsigned char *bytes;
    apr_size_t len;
} jumio_webhook_key_t;

/* What a notification says about a transaction that became final. */
typedef struct {
    const char *reference; /* workflow execution id */
    const char *user;
    int workflow_key;
    const char *status;   /* PROCESSED, SESSION_EXPIRED, TOKEN_EXPIRED */
    const char *decision; /* or NULL (expiry) */
    const char *data;     /* JSON text spliced in as "data", or NULL for null */
    apr_int64_t at;       /* when it became final, Unix seconds */
} jumio_webhook_event_t;

/* The key of a secret (len bytes) into *out, in p: "whsec_" + base64 is the decoded bytes (as
 * Standard Webhooks define it), anything else the secret's own bytes. NULL, or why the
 * secret is refused (empty, a whsec_ value that is not base64 or shorter than 16 bytes). */
const char *jumio_webhook_key(apr_pool_t *p, const char *secret, apr_size_t len,
                              jumio_webhook_key_t *out);
/* The webhook-signature header value: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one
 * entry per key, space-separated; NULL on failure. */
const char *jumio_webhook_sign(apr_pool_t *p, const char *id, apr_int64_t timestamp,
                               const char *body, apr_size_t len, const jumio_webhook_key_t *keys,
                               int nkeys);
/* The notification body (compact JSON): type "verification.completed", transactionReference,
 * user, workflowKey, status, decision, data, timestamp (ISO 8601 UTC); NULL when ev->data is
 * not JSON. */
const char *jumio_webhook_body(apr_pool_t *p, const jumio_webhook_event_t *ev);
/* When a notification written at `created` and tried `attempts` times (the last at `now`,
 * without a 2xx) is tried next: now + delays[attempts - 1] (the last delay repeated), or -1
 * once it is JUMIO_WEBHOOK_GIVE_UP seconds old (failed). */
apr_int64_t jumio_webhook_next(apr_int64_t created, apr_int64_t now, int attempts,
                               const int *delays, int ndelays);

#endif
