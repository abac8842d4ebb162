/* store.h - storage over mod_dbd: the reads and writes of the handlers and the background task (src/store/). */
#ifndef JUMIO_STORE_H
#define JUMIO_STORE_H

#include "jumio.h"
#include "core/core.h"

typedef struct {
    const char *workflow_id, *account_id, *user_id, *cir, *redirect_url, *jumio_timestamp;
    const char *status, *callback_token, *details, *decision;
    const char *summary;  /* decision-mode data (JSON text), made when details are stored */
    const char *settings; /* fingerprint of the intake settings (reuse), or NULL */
    int workflow_key, status_checks;
    apr_int64_t created_at, next_check_at, reuse_until;
    apr_int64_t purged_at; /* when retention purged its details (0: not purged) */
} jumio_tx_t;

typedef struct {
    const char *user_id, *account_id;
    apr_array_header_t *credentials; /* of jumio_cred_t */
} jumio_acct_t;

apr_status_t jumio_store_init(apr_pool_t *pconf, server_rec *s);
/* Per child: attach to the write gate of the database. */
void jumio_store_child_init(apr_pool_t *pchild, server_rec *s);

/* Every call takes a connection of mod_dbd for itself and gives it back before returning, so
 * none is held across a Jumio call; every wait is bounded by JumioDBTimeout. */

/* 0 found, 1 not found, -1 error. */
int jumio_store_account_get(jumio_ctx_t *c, const char *user, jumio_acct_t *out);
/* Store a new transaction and the user's account mapping in one DB transaction, remembering
 * the account id. With `claim` (a new account, jumio_store_user_claim) the claim is given up in
 * the same transaction and must still be held; without, the account must still be one of the
 * user's (an erase may have removed it meanwhile). keep_creds: leave stored credentials as they
 * are (workflow 9). 0 stored, 1 nothing stored (claim lost, account erased), -1 error. */
int jumio_store_intake(jumio_ctx_t *c, const jumio_tx_t *tx, const jumio_acct_t *acct,
                       int keep_creds, const char *claim);
/* Claim the user (account creation, erase) as `claim` until `until` (Unix seconds), unless
 * another holds an unexpired claim; the user's stored account id (or NULL) in *account_id, as
 * read after the claim. 1 claimed, 0 held by another, -1 error. */
int jumio_store_user_claim(jumio_ctx_t *c, const char *user, const char *claim, apr_int64_t until,
                           const char **account_id);
/* Give up a claim of the user; 0 or -1. */
int jumio_store_user_unclaim(jumio_ctx_t *c, const char *user, const char *claim);
/* The user's stored account id and unexpired claim (each NULL when none); 0 or -1. */
int jumio_store_user_state(jumio_ctx_t *c, const char *user, const char **account_id,
                           const char **claim);
/* Every account id ever used for the user (array of const char *); 0 or -1. */
int jumio_store_account_ids(jumio_ctx_t *c, const char *user, apr_array_header_t **out);
/* The user's newest INITIATED transaction made with `settings` whose link is valid at `now`:
 * 0 found, 1 none, -1 error. */
int jumio_store_tx_reusable(jumio_ctx_t *c, const char *user, const char *settings, apr_int64_t now,
                            jumio_tx_t *out);
/* How many of the user's transactions began after `since` (at most `max` counted), the oldest
 * of those in *oldest; or -1. */
int jumio_store_tx_recent(jumio_ctx_t *c, const char *user, apr_int64_t since, int max,
                          apr_int64_t *oldest);
/* 0 found, 1 not found, -1 error. */
int jumio_store_tx_get(jumio_ctx_t *c, const char *workflow_id, jumio_tx_t *out);
/* Log a callback of a stored transaction and move its status forward, in one DB transaction;
 * 0 stored, 1 the transaction is gone (erased: nothing stored), -1 error. */
int jumio_store_callback(jumio_ctx_t *c, const jumio_callback_t *cb, const char *remote,
                         const char *body, const char *notice);
/* Move a transaction's status forward (status API answer); 0 or -1. */
int jumio_store_status(jumio_ctx_t *c, const char *workflow_id, const char *status,
                       const char *notice);
/* Store details and decision once (first writer wins); 0 or -1. */
int jumio_store_details(jumio_ctx_t *c, const char *workflow_id, const char *details,
                        const char *summary, const char *decision, const char *notice);
/* notice (callback, status, details): the body of the transaction's result notification
 * (src/notify.c), or NULL for none. It is written in the same DB transaction as the write,
 * only when that write is the one that makes the transaction final (expired, or details
 * stored). */
/* Claim status check number done+1 and set when the next is due; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_check(jumio_ctx_t *c, const char *workflow_id, int done, apr_int64_t next_at);
/* Claim the details fetch of a PROCESSED transaction for `seconds`; 1 claimed, 0 taken, -1 error. */
int jumio_store_claim_details(jumio_ctx_t *c, const char *workflow_id, int seconds, int capped);
/* Set when the next status check is due (APR_INT64_MAX: never); 0 or -1. */
int jumio_store_reschedule(jumio_ctx_t *c, const char *workflow_id, int done, apr_int64_t next_at);
/* Give up a details claim after a failed fetch; 0 or -1. */
int jumio_store_unclaim_details(jumio_ctx_t *c, const char *workflow_id);
/* Transactions with background work due at `now` (at most 20): details to fetch first, then
 * status checks by due time; 0 or -1. */
int jumio_store_due(jumio_ctx_t *c, apr_int64_t now, apr_array_header_t **out);

typedef struct {
    apr_int64_t transactions, pending, details_pending, callbacks, accounts;
} jumio_counters_t;

/* Delete every local row of a user in one DB transaction, giving up the user's claim `claim`
 * (which must still be held); transactions deleted, -2 when the claim was lost, or -1. */
int jumio_store_erase(jumio_ctx_t *c, const char *user, const char *claim);
/* Row counts for the status handler; 0 or -1. */
int jumio_store_counters(jumio_ctx_t *c, jumio_counters_t *out);
/* The database answers a trivial query (no table read: jumio-status); 0 or -1. */
int jumio_store_ping(jumio_ctx_t *c);

/* A result that makes a user verified (Require jumio-verified, src/authz.c). */
typedef struct {
    const char *workflow_id, *decision;
    int workflow_key;
    apr_int64_t final_at; /* Unix seconds: when the result became known */
} jumio_verified_t;

/* The user's newest transaction (by final_at) whose decision is d1 or d2, whose workflow key
 * is one of keys (any when nkeys is 0) and whose final_at is after `after`: 0 found (out
 * filled), 1 none, -1 error. */
int jumio_store_verified(jumio_ctx_t *c, const char *user, const char *d1, const char *d2,
                         const int *keys, int nkeys, apr_int64_t after, jumio_verified_t *out);

/* ---- signed result notifications (the outbox jumio_notifications, src/notify.c) ---- */

/* A notification's id: this prefix and the workflow execution id (stable per notification). */
#define JUMIO_NOTE_ID_PREFIX "msg_"

typedef struct {
    const char *id, *body;
    int attempts;
    apr_int64_t created_at;
} jumio_note_t;

/* Pending notifications due at `now` and not claimed (at most 10), soonest first; 0 or -1. */
int jumio_store_notes_due(jumio_ctx_t *c, apr_int64_t now, apr_array_header_t **out);
/* Claim try number n->attempts + 1 of a notification as `by` until `until`; 1 claimed (and
 * n->attempts counted), 0 taken by another, -1 error. */
int jumio_store_note_claim(jumio_ctx_t *c, jumio_note_t *n, const char *by, apr_int64_t until,
                           apr_int64_t now);
/* The outcome of a claimed try: state "sent", "failed" or "pending" (next try at next_at),
 * the HTTP status (0: no answer); 0 or -1. */
int jumio_store_note_done(jumio_ctx_t *c, const jumio_note_t *n, const char *by, const char *state,
                          int http_status, apr_int64_t next_at);
/* Notifications pending and failed (index-only counts); 0 or -1. */
int jumio_store_note_counts(jumio_ctx_t *c, apr_int64_t *pending, apr_int64_t *failed);

/* Retention (src/retention.c): a transaction final before the cutoff whose workflow is not yet
 * confirmed deleted at Jumio. */
typedef struct {
    const char *workflow_id, *account_id;
    apr_int64_t purged_at, next_at; /* next_at: retention_next_at as read (the claim's token) */
    int attempts;                   /* failed deletions at Jumio so far */
} jumio_retention_tx_t;

/* Transactions final before `cutoff` not yet deleted at Jumio whose next try is due at `now`
 * (at most 10, oldest first, array of jumio_retention_tx_t); 0 or -1. */
int jumio_store_retention_due(jumio_ctx_t *c, apr_int64_t cutoff, apr_int64_t now,
                              apr_array_header_t **out);
/* Claim tx until `lease_until` (its retention_next_at still as read, still final before
 * `cutoff`) and, unless it was purged before, purge it in the same DB transaction: details
 * NULL, the bodies of its callbacks NULL, purged_at now. *purged 1 when this call purged it.
 * 1 claimed, 0 taken by another worker (nothing done), -1 error. */
int jumio_store_retention_claim(jumio_ctx_t *c, const jumio_retention_tx_t *tx, apr_int64_t cutoff,
                                apr_int64_t lease_until, int *purged);
/* Jumio confirmed the deletion of the workflow: deleted_at now; 0 or -1. */
int jumio_store_retention_deleted(jumio_ctx_t *c, const char *workflow_id);
/* The deletion failed: count the attempt and set the next try, if the lease `lease_until` is
 * still ours; 0 or -1. */
int jumio_store_retention_retry(jumio_ctx_t *c, const char *workflow_id, apr_int64_t lease_until,
                                apr_int64_t next_at);

#endif
