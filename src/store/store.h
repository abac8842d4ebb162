/* store.h - storage over mod_dbd: the reads and writes of the handlers and the background task (src/store/). */
#ifndef JUMIO_STORE_H
#define JUMIO_STORE_H

#include "jumio.h"
#include "core/core.h"

typedef struct jumio_db jumio_db_t;

typedef struct {
    const char *workflow_id, *account_id, *user_id, *cir, *redirect_url, *jumio_timestamp;
    const char *status, *callback_token, *details, *decision;
    const char *summary; /* decision-mode data (JSON text), made when details are stored */
    int workflow_key, status_checks;
    apr_int64_t created_at, next_check_at;
} jumio_tx_t;

typedef struct {
    const char *user_id, *account_id;
    apr_array_header_t *credentials; /* of jumio_cred_t */
} jumio_acct_t;

apr_status_t jumio_store_init(apr_pool_t *pconf, server_rec *s);
/* Per child: attach to the write gate of the database. */
void jumio_store_child_init(apr_pool_t *pchild, server_rec *s);
/* The request's DB handle with our statements ready, or NULL (logged). */
jumio_db_t *jumio_store_acquire(jumio_ctx_t *c);
/* Give back a handle of a background task (no-op for requests). */
void jumio_store_release(jumio_ctx_t *c, jumio_db_t *db);
/* 0 found, 1 not found, -1 error. */
int jumio_store_account_get(jumio_ctx_t *c, jumio_db_t *db, const char *user, jumio_acct_t *out);
/* Store a new transaction and the user's account mapping in one DB transaction; 0 or -1.
 * keep_creds: leave stored credentials as they are (workflow 9). */
int jumio_store_intake(jumio_ctx_t *c, jumio_db_t *db, const jumio_tx_t *tx,
                       const jumio_acct_t *acct, int keep_creds);
/* 0 found, 1 not found, -1 error. */
int jumio_store_tx_get(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, jumio_tx_t *out);
/* Log a callback and move the status forward, in one DB transaction; 0 or -1. */
int jumio_store_callback(jumio_ctx_t *c, jumio_db_t *db, const jumio_callback_t *cb,
                         const char *remote, const char *body, int known);
/* Move a transaction's status forward (status API answer); 0 or -1. */
int jumio_store_status(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, const char *status);
/* Store details and decision once (first writer wins); 0 or -1. */
int jumio_store_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id,
                        const char *details, const char *summary, const char *decision);
/* Claim status check number done+1 and set when the next is due; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_check(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                            apr_int64_t next_at);
/* Claim the details fetch of a PROCESSED transaction for `seconds`; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int seconds,
                              int capped);
/* Set when the next status check is due (APR_INT64_MAX: never); 0 or -1. */
int jumio_store_reschedule(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                           apr_int64_t next_at);
/* Give up a details claim after a failed fetch; 0 or -1. */
int jumio_store_unclaim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id);
/* Transactions with background work due at `now` (at most 20); 0 or -1. */
int jumio_store_due(jumio_ctx_t *c, jumio_db_t *db, apr_int64_t now, apr_array_header_t **out);

typedef struct {
    apr_int64_t transactions, pending, details_pending, callbacks, accounts;
} jumio_counters_t;

/* Delete every local row of a user in one DB transaction; transactions deleted, or -1. */
int jumio_store_erase(jumio_ctx_t *c, jumio_db_t *db, const char *user);
/* Row counts for the status handler; 0 or -1. */
int jumio_store_counters(jumio_ctx_t *c, jumio_db_t *db, jumio_counters_t *out);

#endif
