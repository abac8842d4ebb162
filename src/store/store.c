/* store.c - storage over mod_dbd: the reads and writes of the handlers and the background
 * task, each write in one DB transaction. Connections, retries and waits are in
 * src/store/conn.c, the SQL in src/store/statements.c, the schema in src/store/schema.c, what
 * differs between drivers in their dialect (src/store/dialect.h). */
#include "store/store.h"
#include "store/conn.h"
#include "store/schema.h"
#include "store/lock.h"
#include <apr_strings.h>

/* Find mod_dbd and create the write gate; refuse to start without mod_dbd. */
apr_status_t jumio_store_init(apr_pool_t *pconf, server_rec *s)
{
    if (jumio_conn_init(s, jumio_schema_ensure) != APR_SUCCESS)
        return APR_EGENERAL;
    jumio_lock_init(pconf, s);
    return APR_SUCCESS;
}

/* Per child: attach to the write gate. */
void jumio_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    jumio_lock_child_init(pchild, s);
}

/* A number as a decimal string in c->pool. */
static const char *jumio_store_num(jumio_ctx_t *c, apr_int64_t n)
{
    return apr_psprintf(c->pool, "%" APR_INT64_T_FMT, n);
}

/* Current time as a decimal string of Unix seconds. */
static const char *jumio_store_now(jumio_ctx_t *c)
{
    return jumio_store_num(c, (apr_int64_t)apr_time_sec(apr_time_now()));
}

/* Column n of a row as a number (0 when NULL). */
static apr_int64_t jumio_store_col_i64(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = jumio_conn_col(c, db, row, n);
    return v ? apr_atoi64(v) : 0;
}

/* Run one prepared statement as a write of its own; rows affected in *nrows; 0 or -1. */
static int jumio_store_exec(jumio_ctx_t *c, jumio_st_e st, int *nrows, int nargs, const char **args)
{
    jumio_conn_step_t step = { st, nargs, args, nrows, NULL, 0 };
    return jumio_conn_write(c, &step, 1, 0) ? -1 : 0;
}

/* Run a prepared select; the first `max` rows go to fn. Rows read, or -1. */
static int jumio_store_select(jumio_ctx_t *c, jumio_st_e st, int nargs, const char **args, int max,
                              jumio_conn_row_fn *fn, void *out)
{
    return jumio_conn_select(c, st, NULL, nargs, args, max, fn, out);
}

/* Fill an account from a row of (account_id, credentials). */
static void jumio_store_acct_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_acct_t *a = out;
    a->account_id = jumio_conn_col(c, db, row, 0);
    a->credentials = jumio_creds_from_json(c->pool, jumio_conn_col(c, db, row, 1));
}

/* 0 found, 1 not found, -1 error. */
int jumio_store_account_get(jumio_ctx_t *c, const char *user, jumio_acct_t *out)
{
    const char *args[1] = { user };
    int n = jumio_store_select(c, JUMIO_ST_ACCT_GET, 1, args, 1, jumio_store_acct_row, out);
    out->user_id = user;
    return n < 0 ? -1 : n == 0;
}

/* Store a new transaction and the account mapping in one DB transaction (see store.h);
 * 0 stored, 1 nothing stored (claim lost, account erased), -1 error. */
int jumio_store_intake(jumio_ctx_t *c, const jumio_tx_t *tx, const jumio_acct_t *acct,
                       int keep_creds, const char *claim)
{
    const char *now = jumio_store_now(c);
    const char *d_args[2] = { acct->user_id, claim };
    const char *i_args[3] = { acct->user_id, acct->account_id, now };
    const char *a_args[5] = { acct->user_id, acct->account_id,
                              jumio_creds_to_json(c->pool, acct->credentials), now, now };
    const char *t_args[13] = { tx->workflow_id,
                               apr_itoa(c->pool, tx->workflow_key),
                               tx->cir,
                               tx->redirect_url,
                               tx->jumio_timestamp,
                               tx->callback_token,
                               jumio_store_num(c, tx->next_check_at),
                               now,
                               now,
                               tx->settings,
                               jumio_store_num(c, tx->reuse_until),
                               tx->user_id,
                               tx->account_id };
    jumio_conn_step_t steps[4] = {
        JUMIO_STEP_NEED(JUMIO_ST_USER_CLAIM_DROP, d_args),
        JUMIO_STEP(JUMIO_ST_ID_ADD, i_args, NULL), JUMIO_STEP_NEED(JUMIO_ST_TX_INSERT, t_args),
        JUMIO_STEP(keep_creds ? JUMIO_ST_ACCT_UPSERT_KEEP : JUMIO_ST_ACCT_UPSERT, a_args, NULL)
    };
    int rv = claim ? jumio_conn_write(c, steps, 4, 1) : jumio_conn_write(c, steps + 2, 2, 1);
    return rv == JUMIO_CONN_MISSED ? 1 : rv ? -1 : 0;
}

/* Read two columns into a pair of const char * (jumio_conn_row_fn). */
static void jumio_store_pair_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    const char **pair = out;
    pair[0] = jumio_conn_col(c, db, row, 0);
    pair[1] = jumio_conn_col(c, db, row, 1);
}

/* Claim the user as `claim` until `until` unless another holds an unexpired claim; the user's
 * stored account id in *account_id, read after the claim. 1 claimed, 0 held by another, -1. */
int jumio_store_user_claim(jumio_ctx_t *c, const char *user, const char *claim, apr_int64_t until,
                           const char **account_id)
{
    const char *c_args[2] = { user, jumio_store_now(c) };
    const char *a_args[3] = { user, claim, jumio_store_num(c, until) };
    const char *holder;
    jumio_conn_step_t steps[2] = { JUMIO_STEP(JUMIO_ST_USER_CLAIM_CLEAR, c_args, NULL),
                                   JUMIO_STEP(JUMIO_ST_USER_CLAIM_ADD, a_args, NULL) };
    if (jumio_conn_write(c, steps, 2, 1) || jumio_store_user_state(c, user, account_id, &holder))
        return -1;
    return holder && !strcmp(holder, claim);
}

/* Give up a claim of the user; 0 or -1. */
int jumio_store_user_unclaim(jumio_ctx_t *c, const char *user, const char *claim)
{
    const char *args[2] = { user, claim };
    return jumio_store_exec(c, JUMIO_ST_USER_CLAIM_DROP, NULL, 2, args);
}

/* The user's stored account id and current claim (each NULL when none); 0 or -1. */
int jumio_store_user_state(jumio_ctx_t *c, const char *user, const char **account_id,
                           const char **claim)
{
    const char *args[3] = { user, user, jumio_store_now(c) };
    const char *pair[2] = { NULL, NULL };
    int n = jumio_store_select(c, JUMIO_ST_USER_STATE, 3, args, 1, jumio_store_pair_row, pair);
    *account_id = pair[0];
    *claim = pair[1];
    return n < 0 ? -1 : 0;
}

/* Append the first column of a row to an array of const char * (jumio_conn_row_fn). */
static void jumio_store_id_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    const char *v = jumio_conn_col(c, db, row, 0);
    if (v)
        APR_ARRAY_PUSH((apr_array_header_t *)out, const char *) = v;
}

/* Every account id ever used for the user; 0 or -1. */
int jumio_store_account_ids(jumio_ctx_t *c, const char *user, apr_array_header_t **out)
{
    const char *args[3] = { user, user, user };
    *out = apr_array_make(c->pool, 2, sizeof(const char *));
    return jumio_store_select(c, JUMIO_ST_IDS_GET, 3, args, 1000, jumio_store_id_row, *out) < 0 ? -1
                                                                                                : 0;
}

/* Fill a transaction from a row of the transaction columns (statements.c). */
static void jumio_store_tx_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *outv)
{
    jumio_tx_t *out = outv;
    memset(out, 0, sizeof(*out));
    out->workflow_id = jumio_conn_col(c, db, row, 0);
    out->account_id = jumio_conn_col(c, db, row, 1);
    out->user_id = jumio_conn_col(c, db, row, 2);
    out->workflow_key = (int)jumio_store_col_i64(c, db, row, 3);
    out->cir = jumio_conn_col(c, db, row, 4);
    out->redirect_url = jumio_conn_col(c, db, row, 5);
    out->jumio_timestamp = jumio_conn_col(c, db, row, 6);
    out->status = jumio_conn_col(c, db, row, 7);
    out->callback_token = jumio_conn_col(c, db, row, 8);
    out->details = jumio_conn_col(c, db, row, 9);
    out->decision = jumio_conn_col(c, db, row, 10);
    out->status_checks = (int)jumio_store_col_i64(c, db, row, 11);
    out->created_at = jumio_store_col_i64(c, db, row, 12);
    out->summary = jumio_conn_col(c, db, row, 13);
    out->purged_at = jumio_store_col_i64(c, db, row, 14);
}

/* The user's newest reusable transaction with `settings` at `now`: 0 found, 1 none, -1. */
int jumio_store_tx_reusable(jumio_ctx_t *c, const char *user, const char *settings, apr_int64_t now,
                            jumio_tx_t *out)
{
    const char *args[3] = { user, settings, jumio_store_num(c, now) };
    int n = jumio_store_select(c, JUMIO_ST_TX_REUSABLE, 3, args, 1, jumio_store_tx_row, out);
    return n < 0 ? -1 : n == 0;
}

/* Keep the smallest value of a row's first column (jumio_conn_row_fn; rows come newest first,
 * so the last one read is the oldest). */
static void jumio_store_oldest_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    const char *v = jumio_conn_col(c, db, row, 0);
    *(apr_int64_t *)out = v ? apr_atoi64(v) : 0;
}

/* How many of the user's transactions began after `since` (at most max), the oldest of those
 * in *oldest; or -1. */
int jumio_store_tx_recent(jumio_ctx_t *c, const char *user, apr_int64_t since, int max,
                          apr_int64_t *oldest)
{
    const char *args[2] = { user, jumio_store_num(c, since) };
    *oldest = 0;
    return jumio_store_select(c, JUMIO_ST_TX_RECENT, 2, args, max, jumio_store_oldest_row, oldest);
}

/* 0 found, 1 not found, -1 error. */
int jumio_store_tx_get(jumio_ctx_t *c, const char *workflow_id, jumio_tx_t *out)
{
    const char *args[1] = { workflow_id };
    int n = jumio_store_select(c, JUMIO_ST_TX_GET, 1, args, 1, jumio_store_tx_row, out);
    return n < 0 ? -1 : n == 0;
}

/* Append a transaction row to an array of jumio_tx_t. */
static void jumio_store_due_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_store_tx_row(c, db, row, apr_array_push(out));
}

/* Transactions with background work due at `now` (at most 20): details to fetch first, then
 * status checks by due time; 0 or -1. */
int jumio_store_due(jumio_ctx_t *c, apr_int64_t now, apr_array_header_t **out)
{
    const char *t = jumio_store_num(c, now);
    const char *args[2] = { t, t };
    *out = apr_array_make(c->pool, 20, sizeof(jumio_tx_t));
    return jumio_store_select(c, JUMIO_ST_DUE, 2, args, 20, jumio_store_due_row, *out) < 0 ? -1 : 0;
}

/* Arguments of the notification insert of a transaction made final at `now` (the same
 * text as the final_at its write sets); nothing when notice is NULL. */
static void jumio_store_note_args(jumio_ctx_t *c, const char *wf, const char *notice,
                                  const char *now, const char **args)
{
    const char *id = apr_pstrcat(c->pool, JUMIO_NOTE_ID_PREFIX, wf, NULL);
    if (!notice)
        return;
    args[0] = id;
    args[1] = notice;
    args[2] = now;
    args[3] = now;
    args[4] = wf;
    args[5] = now;
    args[6] = id;
}

/* Arguments of the forward-only status update. */
static void jumio_store_status_args(jumio_ctx_t *c, const char *wf, const char *status,
                                    const char **args)
{
    const char *rank = apr_itoa(c->pool, jumio_status_rank(status));
    args[0] = status;
    args[1] = rank;
    args[2] = jumio_store_now(c);
    args[3] = status;
    args[4] = args[2];
    args[5] = wf;
    args[6] = rank;
}

/* Log a callback of a stored transaction and move its status forward, in one DB transaction
 * that first writes the transaction's row (so that it meets an erase of it on every engine);
 * 0 stored, 1 the transaction is gone (nothing stored), -1 error. */
int jumio_store_callback(jumio_ctx_t *c, const jumio_callback_t *cb, const char *remote,
                         const char *body, const char *notice)
{
    const char *t_args[1] = { cb->workflow_id };
    const char *c_args[5] = { jumio_store_now(c), remote, cb->workflow_id, cb->status, body };
    const char *s_args[7], *n_args[7];
    jumio_conn_step_t steps[4] = { JUMIO_STEP_NEED(JUMIO_ST_CB_TOUCH, t_args),
                                   JUMIO_STEP(JUMIO_ST_CB_INSERT, c_args, NULL),
                                   JUMIO_STEP(JUMIO_ST_TX_STATUS, s_args, NULL),
                                   JUMIO_STEP(JUMIO_ST_NOTE_INSERT, n_args, NULL) };
    int rv;
    jumio_store_status_args(c, cb->workflow_id, cb->status, s_args);
    jumio_store_note_args(c, cb->workflow_id, notice, s_args[2], n_args);
    rv = jumio_conn_write(c, steps, notice ? 4 : 3, 1);
    return rv == JUMIO_CONN_MISSED ? 1 : rv ? -1 : 0;
}

/* Move a transaction's status forward (Status API answer), with its notification when the
 * move makes it final (notice: the body, or NULL); 0 or -1. */
int jumio_store_status(jumio_ctx_t *c, const char *workflow_id, const char *status,
                       const char *notice)
{
    const char *args[7], *n_args[7];
    jumio_conn_step_t steps[2] = { JUMIO_STEP(JUMIO_ST_TX_STATUS, args, NULL),
                                   JUMIO_STEP(JUMIO_ST_NOTE_INSERT, n_args, NULL) };
    jumio_store_status_args(c, workflow_id, status, args);
    jumio_store_note_args(c, workflow_id, notice, args[2], n_args);
    return jumio_conn_write(c, steps, notice ? 2 : 1, notice ? 1 : 0) ? -1 : 0;
}

/* Store details and decision once (first writer wins), with the notification in the same DB
 * transaction when this write is the one that stored them (notice: the body, or NULL); 0 or
 * -1. */
int jumio_store_details(jumio_ctx_t *c, const char *workflow_id, const char *details,
                        const char *summary, const char *decision, const char *notice)
{
    const char *now = jumio_store_now(c);
    const char *args[6] = { details, summary, decision, now, now, workflow_id }, *n_args[7];
    jumio_conn_step_t steps[2] = { JUMIO_STEP_NEED(JUMIO_ST_DETAILS, args),
                                   JUMIO_STEP(JUMIO_ST_NOTE_INSERT, n_args, NULL) };
    int rv;
    if (!notice)
        return jumio_store_exec(c, JUMIO_ST_DETAILS, NULL, 6, args);
    jumio_store_note_args(c, workflow_id, notice, now, n_args);
    rv = jumio_conn_write(c, steps, 2, 1);
    return rv == JUMIO_CONN_MISSED ? 0 : rv ? -1 : 0; /* missed: another writer stored them */
}

/* Claim status check number done+1 of a transaction and set when the next one is due;
 * 1 claimed, 0 taken by another worker, -1 error. */
int jumio_store_claim_check(jumio_ctx_t *c, const char *workflow_id, int done, apr_int64_t next_at)
{
    const char *args[3] = { jumio_store_num(c, next_at), workflow_id, apr_itoa(c->pool, done) };
    int n = 0;
    if (jumio_store_exec(c, JUMIO_ST_CLAIM, &n, 3, args))
        return -1;
    return n == 1;
}

/* Claim the details fetch of a PROCESSED transaction for `seconds`; the background task
 * (capped) gives up after 10 attempts in all, as Jumio advises, while a poll of the user may
 * always try. 1 claimed, 0 taken or exhausted, -1 error. */
int jumio_store_claim_details(jumio_ctx_t *c, const char *workflow_id, int seconds, int capped)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    const char *args[3] = { jumio_store_num(c, now + seconds), workflow_id,
                            jumio_store_num(c, now) };
    int n = 0;
    if (jumio_store_exec(c, capped ? JUMIO_ST_CLAIM_DETAILS : JUMIO_ST_CLAIM_DETAILS_ANY, &n, 3,
                         args))
        return -1;
    return n == 1;
}

/* Set when the next status check of a transaction is due (APR_INT64_MAX: never), unless
 * another worker made check number `done` meanwhile; 0 or -1. */
int jumio_store_reschedule(jumio_ctx_t *c, const char *workflow_id, int done, apr_int64_t next_at)
{
    const char *args[3] = { jumio_store_num(c, next_at), workflow_id, apr_itoa(c->pool, done) };
    return jumio_store_exec(c, JUMIO_ST_RESCHEDULE, NULL, 3, args);
}

/* Give up a details claim after a failed fetch, so the next worker may try at once; 0 or -1. */
int jumio_store_unclaim_details(jumio_ctx_t *c, const char *workflow_id)
{
    const char *args[1] = { workflow_id };
    return jumio_store_exec(c, JUMIO_ST_UNCLAIM_DETAILS, NULL, 1, args);
}

/* Delete every local row of a user (callbacks, transactions, account, account ids,
 * notifications) in one DB
 * transaction that gives up the user's claim; transactions deleted, -2 when the claim was
 * lost meanwhile (nothing deleted), or -1. */
int jumio_store_erase(jumio_ctx_t *c, const char *user, const char *claim)
{
    const char *args[1] = { user };
    const char *d_args[2] = { user, claim };
    int n = 0, rv;
    jumio_conn_step_t steps[6] = { JUMIO_STEP_NEED(JUMIO_ST_USER_CLAIM_DROP, d_args),
                                   JUMIO_STEP(JUMIO_ST_ERASE_CB, args, NULL),
                                   JUMIO_STEP(JUMIO_ST_ERASE_TX, args, &n),
                                   JUMIO_STEP(JUMIO_ST_ERASE_ACCT, args, NULL),
                                   JUMIO_STEP(JUMIO_ST_ERASE_IDS, args, NULL),
                                   JUMIO_STEP(JUMIO_ST_NOTE_ERASE, args, NULL) };
    rv = jumio_conn_write(c, steps, 6, 1);
    return rv == JUMIO_CONN_MISSED ? -2 : rv ? -1 : n;
}

/* Read the counters row. */
static void jumio_store_counters_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row,
                                     void *out)
{
    jumio_counters_t *k = out;
    apr_int64_t *f[5] = { &k->transactions, &k->pending, &k->details_pending, &k->callbacks,
                          &k->accounts };
    int i;
    for (i = 0; i < 5; i++)
        *f[i] = jumio_store_col_i64(c, db, row, i);
}

/* Row counts for the status handler; 0 or -1. */
int jumio_store_counters(jumio_ctx_t *c, jumio_counters_t *out)
{
    memset(out, 0, sizeof(*out));
    return jumio_store_select(c, JUMIO_ST_COUNTERS, 0, NULL, 1, jumio_store_counters_row, out) == 1
               ? 0
               : -1;
}

/* ---- jumio-status: is the database there (no table read) ---- */

/* jumio_conn_row_fn of jumio_store_ping: nothing to keep. */
static void jumio_store_ping_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
}

/* A connection set up and one trivial query answered; 0 or -1. */
int jumio_store_ping(jumio_ctx_t *c)
{
    return jumio_conn_select(c, 0, "SELECT 1", 0, NULL, 1, jumio_store_ping_row, NULL) == 1 ? 0
                                                                                            : -1;
}

/* What jumio_store_verified looks for, and what it found. */
typedef struct {
    const int *keys;
    int nkeys, found;
    jumio_verified_t *out;
} jumio_store_verified_q;

/* Keep the first row (they come newest first) whose workflow key is one of the wanted ones
 * (jumio_conn_row_fn). */
static void jumio_store_verified_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *qv)
{
    jumio_store_verified_q *q = qv;
    const char *v = jumio_conn_col(c, db, row, 1);
    int key = v ? atoi(v) : 0, i;
    if (q->found)
        return;
    for (i = 0; i < q->nkeys && q->keys[i] != key; i++)
        ;
    if (q->nkeys && i == q->nkeys)
        return;
    q->out->workflow_id = jumio_conn_col(c, db, row, 0);
    q->out->workflow_key = key;
    q->out->decision = jumio_conn_col(c, db, row, 2);
    q->out->final_at = jumio_store_col_i64(c, db, row, 3);
    q->found = q->out->workflow_id && q->out->decision;
}

/* The user's newest result with decision d1 or d2, one of keys, final after `after`:
 * 0 found, 1 none, -1 error. */
int jumio_store_verified(jumio_ctx_t *c, const char *user, const char *d1, const char *d2,
                         const int *keys, int nkeys, apr_int64_t after, jumio_verified_t *out)
{
    const char *args[4] = { user, d1, d2, jumio_store_num(c, after) };
    jumio_store_verified_q q = { keys, nkeys, 0, out };
    memset(out, 0, sizeof(*out));
    if (jumio_store_select(c, JUMIO_ST_VERIFIED, 4, args, 1000, jumio_store_verified_row, &q) < 0)
        return -1;
    return q.found ? 0 : 1;
}

/* ---- signed result notifications (the outbox jumio_notifications, src/notify.c) ---- */

/* Append a due notification from a row of (id, body, attempts, created_at). */
static void jumio_store_note_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_note_t *n = apr_array_push(out);
    n->id = jumio_conn_col(c, db, row, 0);
    n->body = jumio_conn_col(c, db, row, 1);
    n->attempts = (int)jumio_store_col_i64(c, db, row, 2);
    n->created_at = jumio_store_col_i64(c, db, row, 3);
}

/* Pending notifications due at `now` and not claimed (at most 10), soonest first; 0 or -1. */
int jumio_store_notes_due(jumio_ctx_t *c, apr_int64_t now, apr_array_header_t **out)
{
    const char *t = jumio_store_num(c, now);
    const char *args[2] = { t, t };
    *out = apr_array_make(c->pool, 10, sizeof(jumio_note_t));
    return jumio_store_select(c, JUMIO_ST_NOTE_DUE, 2, args, 10, jumio_store_note_row, *out) < 0
               ? -1
               : 0;
}

/* Claim try number n->attempts + 1 of a notification as `by` until `until`; 1 claimed (and
 * n->attempts counted), 0 taken by another, -1 error. */
int jumio_store_note_claim(jumio_ctx_t *c, jumio_note_t *n, const char *by, apr_int64_t until,
                           apr_int64_t now)
{
    const char *t = jumio_store_num(c, now);
    const char *args[6] = { by, jumio_store_num(c, until),     n->id, t,
                            t,  apr_itoa(c->pool, n->attempts) };
    int rows = 0;
    if (jumio_store_exec(c, JUMIO_ST_NOTE_CLAIM, &rows, 6, args))
        return -1;
    if (rows == 1)
        n->attempts++;
    return rows == 1;
}

/* The outcome of a claimed try: state "sent", "failed" or "pending" (next try at next_at),
 * the HTTP status (0: no answer); 0 or -1. */
int jumio_store_note_done(jumio_ctx_t *c, const jumio_note_t *n, const char *by, const char *state,
                          int http_status, apr_int64_t next_at)
{
    const char *now = jumio_store_now(c);
    const char *args[7] = { state,
                            apr_itoa(c->pool, http_status),
                            jumio_store_num(c, next_at),
                            strcmp(state, "pending") ? now : "0",
                            n->id,
                            by,
                            apr_itoa(c->pool, n->attempts) };
    return jumio_store_exec(c, JUMIO_ST_NOTE_DONE, NULL, 7, args);
}

/* Read two counts. */
static void jumio_store_note_counts_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row,
                                        void *out)
{
    apr_int64_t *k = out;
    k[0] = jumio_store_col_i64(c, db, row, 0);
    k[1] = jumio_store_col_i64(c, db, row, 1);
}

/* Notifications pending and failed (index-only counts); 0 or -1. */
int jumio_store_note_counts(jumio_ctx_t *c, apr_int64_t *pending, apr_int64_t *failed)
{
    apr_int64_t k[2] = { 0, 0 };
    int rv =
        jumio_store_select(c, JUMIO_ST_NOTE_COUNTS, 0, NULL, 1, jumio_store_note_counts_row, k) == 1
            ? 0
            : -1;
    *pending = k[0];
    *failed = k[1];
    return rv;
}

/* ---- retention (src/retention.c) ---- */

/* Append a retention candidate row (workflow_id, account_id, purged_at, retention_next_at,
 * retention_attempts) to an array of jumio_retention_tx_t. */
static void jumio_store_retention_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row,
                                      void *out)
{
    jumio_retention_tx_t *tx = apr_array_push(out);
    tx->workflow_id = jumio_conn_col(c, db, row, 0);
    tx->account_id = jumio_conn_col(c, db, row, 1);
    tx->purged_at = jumio_store_col_i64(c, db, row, 2);
    tx->next_at = jumio_store_col_i64(c, db, row, 3);
    tx->attempts = (int)jumio_store_col_i64(c, db, row, 4);
}

/* Transactions final before `cutoff` not yet deleted at Jumio, due at `now` (at most 10,
 * oldest first); 0 or -1. */
int jumio_store_retention_due(jumio_ctx_t *c, apr_int64_t cutoff, apr_int64_t now,
                              apr_array_header_t **out)
{
    const char *args[2] = { jumio_store_num(c, cutoff), jumio_store_num(c, now) };
    *out = apr_array_make(c->pool, 10, sizeof(jumio_retention_tx_t));
    return jumio_store_select(c, JUMIO_ST_RETENTION_DUE, 2, args, 10, jumio_store_retention_row,
                              *out)
                   < 0
               ? -1
               : 0;
}

/* Claim a retention candidate until `lease_until` and purge it in the same DB transaction
 * unless it was purged before; 1 claimed, 0 taken by another worker, -1 error. */
int jumio_store_retention_claim(jumio_ctx_t *c, const jumio_retention_tx_t *tx, apr_int64_t cutoff,
                                apr_int64_t lease_until, int *purged)
{
    const char *c_args[4] = { jumio_store_num(c, lease_until), tx->workflow_id,
                              jumio_store_num(c, tx->next_at), jumio_store_num(c, cutoff) };
    const char *t_args[2] = { jumio_store_now(c), tx->workflow_id };
    const char *b_args[1] = { tx->workflow_id };
    jumio_conn_step_t steps[4] = { JUMIO_STEP_NEED(JUMIO_ST_RETENTION_CLAIM, c_args),
                                   JUMIO_STEP(JUMIO_ST_RETENTION_PURGE_TX, t_args, purged),
                                   JUMIO_STEP(JUMIO_ST_RETENTION_PURGE_CB, b_args, NULL),
                                   JUMIO_STEP(JUMIO_ST_RETENTION_PURGE_NOTE, b_args, NULL) };
    int rv;
    *purged = 0;
    rv = jumio_conn_write(c, steps, tx->purged_at ? 1 : 4, 1);
    return rv == JUMIO_CONN_MISSED ? 0 : rv ? -1 : 1;
}

/* Jumio confirmed the deletion: deleted_at now; 0 or -1. */
int jumio_store_retention_deleted(jumio_ctx_t *c, const char *workflow_id)
{
    const char *args[2] = { jumio_store_now(c), workflow_id };
    return jumio_store_exec(c, JUMIO_ST_RETENTION_DELETED, NULL, 2, args);
}

/* The deletion failed: one more attempt counted, the next try at next_at, while the lease is
 * still ours; 0 or -1. */
int jumio_store_retention_retry(jumio_ctx_t *c, const char *workflow_id, apr_int64_t lease_until,
                                apr_int64_t next_at)
{
    const char *args[3] = { jumio_store_num(c, next_at), workflow_id,
                            jumio_store_num(c, lease_until) };
    return jumio_store_exec(c, JUMIO_ST_RETENTION_RETRY, NULL, 3, args);
}
