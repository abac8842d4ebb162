/* store.c - storage over mod_dbd: schema creation, per-connection prepared statements,
 * and the reads and writes of the handlers, each write in one DB transaction. What differs
 * between drivers is in their dialect (src/store/dialect.h). */
#include "store/store.h"
#include "store/dialect.h"
#include "store/lock.h"
#include "config.h"
#include <apr_strings.h>
#include <apr_optional.h>
#include <apr_dbd.h>
#include <mod_dbd.h>

/* Statements are prepared by us on each new connection after the schema exists (mod_dbd's
 * own ap_dbd_prepare would prepare them before any table could be created: docs/DESIGN.md). */
typedef enum {
    JUMIO_ST_ACCT_GET,
    JUMIO_ST_ACCT_UPSERT,
    JUMIO_ST_ACCT_UPSERT_KEEP,
    JUMIO_ST_TX_INSERT,
    JUMIO_ST_TX_GET,
    JUMIO_ST_TX_STATUS,
    JUMIO_ST_CB_INSERT,
    JUMIO_ST_DETAILS,
    JUMIO_ST_CLAIM,
    JUMIO_ST_CLAIM_DETAILS,
    JUMIO_ST_DUE,
    JUMIO_ST_UNCLAIM_DETAILS,
    JUMIO_ST_ERASE_CB,
    JUMIO_ST_ERASE_TX,
    JUMIO_ST_ERASE_ACCT,
    JUMIO_ST_COUNTERS,
    JUMIO_ST_CLAIM_DETAILS_ANY,
    JUMIO_ST_RESCHEDULE,
    JUMIO_ST_COUNT
} jumio_st_e;

struct jumio_db {
    ap_dbd_t *dbd;
    const jumio_dialect_t *dialect;
    apr_dbd_prepared_t *st[JUMIO_ST_COUNT];
};

/* One statement of a write: prepared statement st with its arguments, or plain SQL (schema). */
typedef struct {
    jumio_st_e st;
    int nargs;
    const char **args;
    int *nrows;      /* rows affected, or NULL */
    const char *sql; /* plain SQL run instead of st, or NULL */
} jumio_store_step_t;

#define JUMIO_STEP(st, args, nrows)                                                                \
    {                                                                                              \
        st, (int)(sizeof(args) / sizeof(*(args))), args, nrows, NULL                               \
    }

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * jumio_store_dbd_acquire;
static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * jumio_store_dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * jumio_store_dbd_close;

static const jumio_dialect_t *const jumio_store_dialects[] = { &jumio_dialect_sqlite,
                                                               &jumio_dialect_mysql, NULL };

#define JUMIO_TX_COLS                                                                              \
    "workflow_id, account_id, user_id, workflow_key, cir, redirect_url, "                          \
    "jumio_timestamp, status, callback_token, details, decision, status_checks, created_at, "      \
    "summary"

/* The SQL of each statement; the upserts are the dialect's (NULL here). */
static const char *const jumio_store_sql[JUMIO_ST_COUNT] = {
    [JUMIO_ST_ACCT_GET] = "SELECT account_id, credentials FROM jumio_accounts WHERE user_id = %s",
    [JUMIO_ST_TX_INSERT] =
        "INSERT INTO jumio_transactions (workflow_id, account_id, user_id, workflow_key, cir, "
        "redirect_url, jumio_timestamp, status, status_rank, callback_token, status_checks, "
        "next_check_at, created_at, updated_at) "
        "VALUES (%s, %s, %s, %d, %s, %s, %s, 'INITIATED', 0, %s, 0, %lld, %lld, %lld)",
    [JUMIO_ST_TX_GET] = "SELECT " JUMIO_TX_COLS " FROM jumio_transactions WHERE workflow_id = %s",
    [JUMIO_ST_TX_STATUS] =
        "UPDATE jumio_transactions SET status = %s, status_rank = %d, updated_at = %lld "
        "WHERE workflow_id = %s AND status_rank < %d",
    [JUMIO_ST_CB_INSERT] =
        "INSERT INTO jumio_callbacks (received_at, remote_addr, workflow_id, status, body) "
        "VALUES (%lld, %s, %s, %s, %s)",
    [JUMIO_ST_DETAILS] = "UPDATE jumio_transactions SET details = %s, summary = %s, decision = %s, "
                         "updated_at = %lld "
                         "WHERE workflow_id = %s AND details IS NULL",
    [JUMIO_ST_CLAIM] =
        "UPDATE jumio_transactions SET status_checks = status_checks + 1, next_check_at = %lld "
        "WHERE workflow_id = %s AND status_checks = %d AND status_rank < 2",
    [JUMIO_ST_CLAIM_DETAILS] =
        "UPDATE jumio_transactions SET details_claim_until = %lld, "
        "details_attempts = details_attempts + 1 WHERE workflow_id = %s AND details IS NULL "
        "AND status = 'PROCESSED' AND details_claim_until < %lld AND details_attempts < 10",
    [JUMIO_ST_DUE] =
        "SELECT " JUMIO_TX_COLS " FROM jumio_transactions WHERE (next_check_at <= %lld AND "
        "status_rank < 2) OR (status_rank = 2 AND status = 'PROCESSED' AND details IS NULL AND "
        "details_claim_until < %lld AND details_attempts < 10) ORDER BY created_at LIMIT 20",
    [JUMIO_ST_UNCLAIM_DETAILS] =
        "UPDATE jumio_transactions SET details_claim_until = 0 WHERE workflow_id = %s "
        "AND details IS NULL",
    [JUMIO_ST_ERASE_CB] = "DELETE FROM jumio_callbacks WHERE workflow_id IN "
                          "(SELECT workflow_id FROM jumio_transactions WHERE user_id = %s)",
    [JUMIO_ST_ERASE_TX] = "DELETE FROM jumio_transactions WHERE user_id = %s",
    [JUMIO_ST_ERASE_ACCT] = "DELETE FROM jumio_accounts WHERE user_id = %s",
    [JUMIO_ST_COUNTERS] =
        "SELECT (SELECT COUNT(*) FROM jumio_transactions), "
        "(SELECT COUNT(*) FROM jumio_transactions WHERE status_rank < 2), "
        "(SELECT COUNT(*) FROM jumio_transactions WHERE status = 'PROCESSED' AND details IS NULL), "
        "(SELECT COUNT(*) FROM jumio_callbacks), (SELECT COUNT(*) FROM jumio_accounts)",
    [JUMIO_ST_CLAIM_DETAILS_ANY] =
        "UPDATE jumio_transactions SET details_claim_until = %lld, "
        "details_attempts = details_attempts + 1 WHERE workflow_id = %s AND details IS NULL "
        "AND status = 'PROCESSED' AND details_claim_until < %lld",
    [JUMIO_ST_RESCHEDULE] =
        "UPDATE jumio_transactions SET next_check_at = %lld WHERE workflow_id = %s "
        "AND status_checks = %d"
};

/* The dialect of a connection's driver, by apr_dbd_name(); NULL when not supported. */
static const jumio_dialect_t *jumio_store_dialect(const ap_dbd_t *dbd)
{
    const jumio_dialect_t *const *d;
    const char *name = apr_dbd_name(dbd->driver);
    for (d = jumio_store_dialects; *d; d++)
        if (!strcmp(name, (*d)->name))
            return *d;
    return NULL;
}

/* SQL of statement i on a connection of dialect d. */
static const char *jumio_store_stmt_sql(const jumio_dialect_t *d, int i)
{
    return i == JUMIO_ST_ACCT_UPSERT        ? d->upsert
           : i == JUMIO_ST_ACCT_UPSERT_KEEP ? d->upsert_keep
                                            : jumio_store_sql[i];
}

/* 1 when the failure status rv of a call means the database was busy (locked, deadlocked):
 * the read or the whole write is tried again. */
static int jumio_store_busy(jumio_db_t *db, int rv)
{
    return rv && db->dialect->is_busy(db->dbd, rv);
}

/* Log a failed call (what: its SQL or statement number): at debug level when busy (it will be
 * tried again), else as an error; rv. */
static int jumio_store_failed(jumio_ctx_t *c, jumio_db_t *db, int rv, const char *what)
{
    jumio_log(c, jumio_store_busy(db, rv) ? APLOG_DEBUG : APLOG_ERR, 0,
              "mod_jumio: %.60s failed (%d): %s", what, rv,
              apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
    return rv;
}

/* Run plain SQL (transaction control, schema); 0 or the driver's status (logged). */
static int jumio_store_query(jumio_ctx_t *c, jumio_db_t *db, const char *sql)
{
    int n, rv = apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);
    return rv ? jumio_store_failed(c, db, rv, sql) : 0;
}

/* Run one statement of a write; rows affected in *nrows; 0 or the driver's status (logged). */
static int jumio_store_step(jumio_ctx_t *c, jumio_db_t *db, const jumio_store_step_t *s)
{
    int n = 0, rv;
    if (s->sql)
        return jumio_store_query(c, db, s->sql);
    rv = apr_dbd_pquery(db->dbd->driver, c->pool, db->dbd->handle, &n, db->st[s->st], s->nargs,
                        s->args);
    if (rv)
        return jumio_store_failed(c, db, rv, apr_psprintf(c->pool, "statement %d", s->st));
    if (s->nrows)
        *s->nrows = n;
    return 0;
}

/* One try of a write: every step, in one transaction begun with the dialect's statement
 * (taking the write lock up front) when tx; 0, or the status of the call that failed. */
static int jumio_store_attempt(jumio_ctx_t *c, jumio_db_t *db, const jumio_store_step_t *steps,
                               int n, int tx)
{
    int i, rv = tx ? jumio_store_query(c, db, db->dialect->begin) : 0;
    if (rv)
        return rv;
    for (i = 0; !rv && i < n; i++)
        rv = jumio_store_step(c, db, &steps[i]);
    if (tx && !rv)
        rv = jumio_store_query(c, db, "COMMIT");
    if (tx && rv)
        jumio_store_query(c, db, "ROLLBACK");
    return rv;
}

/* One try of something on the database: 0 or the status of the call that failed. */
typedef int jumio_store_try_fn(jumio_ctx_t *c, jumio_db_t *db, void *arg);

/* Run fn (behind the write gate when gate), tried again after a short random back-off while
 * the database is busy, until JumioDBTimeout; 0 or -1 (logged). */
static int jumio_store_retry(jumio_ctx_t *c, jumio_db_t *db, jumio_store_try_fn *fn, void *arg,
                             int gate)
{
    apr_time_t deadline = jumio_lock_deadline(c);
    int attempt, held, rv;
    for (attempt = 1;; attempt++) {
        held = gate ? jumio_lock_gate_enter(c, deadline) : 0;
        if (held >= 0) {
            rv = fn(c, db, arg);
            if (held)
                jumio_lock_gate_leave(c);
            if (!rv || !jumio_store_busy(db, rv))
                return rv ? -1 : 0;
        }
        if (jumio_lock_backoff(c, attempt, deadline))
            return -1;
    }
}

typedef struct {
    const jumio_store_step_t *steps;
    int n, tx;
} jumio_store_write_t;

/* jumio_store_try_fn of a write. */
static int jumio_store_write_try(jumio_ctx_t *c, jumio_db_t *db, void *arg)
{
    jumio_store_write_t *w = arg;
    return jumio_store_attempt(c, db, w->steps, w->n, w->tx);
}

/* Run a write (in one transaction when tx), behind the write gate when the dialect has one,
 * tried again as a whole while the database is busy, until JumioDBTimeout; 0 or -1 (logged). */
static int jumio_store_write(jumio_ctx_t *c, jumio_db_t *db, const jumio_store_step_t *steps, int n,
                             int tx)
{
    jumio_store_write_t w = { steps, n, tx };
    return jumio_store_retry(c, db, jumio_store_write_try, &w, db->dialect->gate);
}

/* Find mod_dbd's acquire function; refuse to start without mod_dbd. */
apr_status_t jumio_store_init(apr_pool_t *pconf, server_rec *s)
{
    jumio_store_dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    jumio_store_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    jumio_store_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!jumio_store_dbd_acquire || !jumio_store_dbd_open || !jumio_store_dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "mod_jumio: mod_dbd is not loaded (LoadModule dbd_module, DBDriver sqlite3)");
        return APR_EGENERAL;
    }
    jumio_lock_init(pconf, s);
    return APR_SUCCESS;
}

/* Per child: attach to the write gate. */
void jumio_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    jumio_lock_child_init(pchild, s);
}

/* Prepare our statements on this connection (in the connection's pool); 0 or the driver's
 * status. A quiet attempt logs its failure at debug level only: it fails when the tables do not
 * exist yet. */
static int jumio_store_prepare(jumio_ctx_t *c, struct jumio_db *db, int quiet)
{
    int i, rv;
    for (i = 0; i < JUMIO_ST_COUNT; i++) {
        rv = apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle,
                             jumio_store_stmt_sql(db->dialect, i), NULL, &db->st[i]);
        if (rv) {
            jumio_log(c, quiet || jumio_store_busy(db, rv) ? APLOG_DEBUG : APLOG_ERR, 0,
                      "mod_jumio: preparing statement %d failed: %s", i,
                      apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
            return rv;
        }
    }
    return 0;
}

/* The dialect's schema statements as the steps of a write; their number in *n. */
static jumio_store_step_t *jumio_store_schema_steps(jumio_ctx_t *c, const jumio_dialect_t *d,
                                                    int *n)
{
    jumio_store_step_t *steps;
    int i;
    for (*n = 0; d->schema[*n]; ++*n)
        ;
    steps = apr_pcalloc(c->pool, *n * sizeof(*steps));
    for (i = 0; i < *n; i++)
        steps[i].sql = d->schema[i];
    return steps;
}

/* One try at a new connection (jumio_store_try_fn): statements prepared at once when the
 * tables exist (no write, so a read-only database still serves polls), else after creating the
 * dialect's schema; 0 or the status of the call that failed. */
static int jumio_store_setup_try(jumio_ctx_t *c, jumio_db_t *db, void *arg)
{
    const jumio_dialect_t *d = db->dialect;
    jumio_store_step_t *steps;
    int n, rv = jumio_store_prepare(c, db, 1);
    if (!rv || jumio_store_busy(db, rv))
        return rv;
    if (d->before_schema && (rv = d->before_schema(c, db->dbd)))
        return rv;
    steps = jumio_store_schema_steps(c, d, &n);
    rv = jumio_store_attempt(c, db, steps, n, d->schema_in_tx);
    return rv ? rv : jumio_store_prepare(c, db, 0);
}

/* Set up a new connection: the dialect's settings, then our statements (and the schema when
 * missing), behind the write gate and tried again while the database is busy; 0 or -1. */
static int jumio_store_setup(jumio_ctx_t *c, struct jumio_db *db)
{
    db->dialect->on_connect(c, db->dbd, jumio_config_db_timeout(jumio_config_srv_of(c)));
    return jumio_store_retry(c, db, jumio_store_setup_try, NULL, db->dialect->gate);
}

typedef struct {
    server_rec *s;
    ap_dbd_t *dbd;
} jumio_store_held_t;

/* Pool cleanup: give a connection from jumio_store_reopen back to mod_dbd. */
static apr_status_t jumio_store_held_close(void *data)
{
    jumio_store_held_t *h = data;
    jumio_store_dbd_close(h->s, h->dbd);
    return APR_SUCCESS;
}

/* mod_dbd answers NULL once for each pooled connection it finds dead (after a database
 * restart) and remembers that for the whole request: ask it once more for a fresh connection,
 * held until the request ends. NULL when the database is really away. */
static ap_dbd_t *jumio_store_reopen(jumio_ctx_t *c)
{
    ap_dbd_t *dbd = jumio_store_dbd_open(c->pool, c->s);
    jumio_store_held_t *h;
    if (!dbd)
        return NULL;
    h = apr_palloc(c->pool, sizeof(*h));
    h->s = c->s;
    h->dbd = dbd;
    apr_pool_cleanup_register(c->pool, h, jumio_store_held_close, apr_pool_cleanup_null);
    jumio_log(c, APLOG_INFO, 0, "mod_jumio: database connection renewed");
    return dbd;
}

/* Give back a handle from jumio_store_acquire (requests: mod_dbd releases it itself). */
void jumio_store_release(jumio_ctx_t *c, jumio_db_t *db)
{
    if (db && !c->r)
        jumio_store_dbd_close(c->s, db->dbd);
}

/* A DB handle with our statements ready (request: mod_dbd's pooled one; background: a
 * dedicated one to give back with jumio_store_release), or NULL (logged). */
jumio_db_t *jumio_store_acquire(jumio_ctx_t *c)
{
    ap_dbd_t *dbd = NULL;
    struct jumio_db *db;
    if (c->r) {
        dbd = jumio_store_dbd_acquire(c->r);
        if (!dbd)
            dbd = jumio_store_reopen(c);
    }
    else
        dbd = jumio_store_dbd_open(c->pool, c->s);
    if (!dbd) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: no database connection (mod_dbd)");
        return NULL;
    }
    db = apr_hash_get(dbd->prepared, "jumio:db", APR_HASH_KEY_STRING);
    if (db)
        return db;
    db = apr_pcalloc(dbd->pool, sizeof(*db));
    db->dbd = dbd;
    db->dialect = jumio_store_dialect(dbd);
    if (!db->dialect)
        jumio_log(c, APLOG_ERR, 0,
                  "mod_jumio: database driver %s is not supported (DBDriver "
                  "sqlite3 or mysql)",
                  apr_dbd_name(dbd->driver));
    if (!db->dialect || jumio_store_setup(c, db)) {
        if (!c->r && jumio_store_dbd_close)
            jumio_store_dbd_close(c->s, dbd);
        return NULL;
    }
    apr_hash_set(dbd->prepared, "jumio:db", APR_HASH_KEY_STRING, db);
    return db;
}

/* Current time as a decimal string of Unix seconds. */
static const char *jumio_store_now(jumio_ctx_t *c)
{
    return apr_psprintf(c->pool, "%" APR_INT64_T_FMT, (apr_int64_t)apr_time_sec(apr_time_now()));
}

/* Reads one row into `out`; called while the row is current (the MySQL driver reuses its
 * buffers on the next fetch, so values are copied at once). */
typedef void jumio_store_row_fn(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, void *out);

typedef struct {
    jumio_st_e st;
    int nargs;
    const char **args;
    int max, rows; /* rows wanted at most; rows read */
    jumio_store_row_fn *fn;
    void *out;
} jumio_store_select_t;

/* One try of a prepared select (jumio_store_try_fn): the first `max` rows go to fn, the rest
 * are drained; 0 or the driver's status (logged). */
static int jumio_store_select_try(jumio_ctx_t *c, jumio_db_t *db, void *arg)
{
    jumio_store_select_t *q = arg;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv = apr_dbd_pselect(db->dbd->driver, c->pool, db->dbd->handle, &res, db->st[q->st], 0,
                             q->nargs, q->args);
    if (rv)
        return jumio_store_failed(c, db, rv, apr_psprintf(c->pool, "select %d", q->st));
    for (q->rows = 0; apr_dbd_get_row(db->dbd->driver, c->pool, res, &row, -1) != -1;)
        if (q->rows < q->max)
            q->fn(c, db, row, q->out), q->rows++;
    return 0;
}

/* Run a prepared select, tried again while the database is busy, until JumioDBTimeout; the
 * first `max` rows go to fn. Rows read, or -1 (logged). */
static int jumio_store_select(jumio_ctx_t *c, jumio_db_t *db, jumio_st_e st, int nargs,
                              const char **args, int max, jumio_store_row_fn *fn, void *out)
{
    jumio_store_select_t q = { st, nargs, args, max, 0, fn, out };
    return jumio_store_retry(c, db, jumio_store_select_try, &q, 0) ? -1 : q.rows;
}

/* Column n of a row copied into the request pool (NULL for SQL NULL). */
static const char *jumio_store_col(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(db->dbd->driver, row, n);
    return v ? apr_pstrdup(c->pool, v) : NULL;
}

/* Run one prepared statement as a write of its own; rows affected in *nrows; 0 or -1. */
static int jumio_store_exec(jumio_ctx_t *c, jumio_db_t *db, jumio_st_e st, int *nrows, int nargs,
                            const char **args)
{
    jumio_store_step_t step = { st, nargs, args, nrows, NULL };
    return jumio_store_write(c, db, &step, 1, 0);
}

/* 0 found, 1 not found, -1 error. */
/* Fill an account from a row of (account_id, credentials). */
static void jumio_store_acct_row(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_acct_t *a = out;
    a->account_id = jumio_store_col(c, db, row, 0);
    a->credentials = jumio_creds_from_json(c->pool, jumio_store_col(c, db, row, 1));
}

/* 0 found, 1 not found, -1 error. */
int jumio_store_account_get(jumio_ctx_t *c, jumio_db_t *db, const char *user, jumio_acct_t *out)
{
    const char *args[1] = { user };
    int n = jumio_store_select(c, db, JUMIO_ST_ACCT_GET, 1, args, 1, jumio_store_acct_row, out);
    out->user_id = user;
    return n < 0 ? -1 : n == 0;
}

/* Store a new transaction and the account mapping in one DB transaction; 0 or -1. */
int jumio_store_intake(jumio_ctx_t *c, jumio_db_t *db, const jumio_tx_t *tx,
                       const jumio_acct_t *acct, int keep_creds)
{
    const char *now = jumio_store_now(c);
    const char *a_args[5] = { acct->user_id, acct->account_id,
                              jumio_creds_to_json(c->pool, acct->credentials), now, now };
    const char *t_args[11] = { tx->workflow_id,
                               tx->account_id,
                               tx->user_id,
                               apr_itoa(c->pool, tx->workflow_key),
                               tx->cir,
                               tx->redirect_url,
                               tx->jumio_timestamp,
                               tx->callback_token,
                               apr_psprintf(c->pool, "%" APR_INT64_T_FMT, tx->next_check_at),
                               now,
                               now };
    jumio_store_step_t steps[2] = {
        JUMIO_STEP(keep_creds ? JUMIO_ST_ACCT_UPSERT_KEEP : JUMIO_ST_ACCT_UPSERT, a_args, NULL),
        JUMIO_STEP(JUMIO_ST_TX_INSERT, t_args, NULL)
    };
    return jumio_store_write(c, db, steps, 2, 1);
}

/* Fill a transaction from a row of JUMIO_TX_COLS. */
static void jumio_store_tx_row(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, void *outv)
{
    jumio_tx_t *out = outv;
    const char *v;
    memset(out, 0, sizeof(*out));
    out->workflow_id = jumio_store_col(c, db, row, 0);
    out->account_id = jumio_store_col(c, db, row, 1);
    out->user_id = jumio_store_col(c, db, row, 2);
    out->workflow_key = (v = jumio_store_col(c, db, row, 3)) ? atoi(v) : 0;
    out->cir = jumio_store_col(c, db, row, 4);
    out->redirect_url = jumio_store_col(c, db, row, 5);
    out->jumio_timestamp = jumio_store_col(c, db, row, 6);
    out->status = jumio_store_col(c, db, row, 7);
    out->callback_token = jumio_store_col(c, db, row, 8);
    out->details = jumio_store_col(c, db, row, 9);
    out->decision = jumio_store_col(c, db, row, 10);
    out->status_checks = (v = jumio_store_col(c, db, row, 11)) ? atoi(v) : 0;
    out->created_at = (v = jumio_store_col(c, db, row, 12)) ? apr_atoi64(v) : 0;
    out->summary = jumio_store_col(c, db, row, 13);
}

/* 0 found, 1 not found, -1 error. */
int jumio_store_tx_get(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, jumio_tx_t *out)
{
    const char *args[1] = { workflow_id };
    int n = jumio_store_select(c, db, JUMIO_ST_TX_GET, 1, args, 1, jumio_store_tx_row, out);
    return n < 0 ? -1 : n == 0;
}

/* Append a transaction row to an array of jumio_tx_t. */
static void jumio_store_due_row(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_store_tx_row(c, db, row, apr_array_push(out));
}

/* Transactions with background work due at `now` (at most 20), oldest first; 0 or -1. */
int jumio_store_due(jumio_ctx_t *c, jumio_db_t *db, apr_int64_t now, apr_array_header_t **out)
{
    const char *t = apr_psprintf(c->pool, "%" APR_INT64_T_FMT, now);
    const char *args[2] = { t, t };
    *out = apr_array_make(c->pool, 20, sizeof(jumio_tx_t));
    return jumio_store_select(c, db, JUMIO_ST_DUE, 2, args, 20, jumio_store_due_row, *out) < 0 ? -1
                                                                                               : 0;
}

/* Arguments of the forward-only status update. */
static void jumio_store_status_args(jumio_ctx_t *c, const char *wf, const char *status,
                                    const char **args)
{
    const char *rank = apr_itoa(c->pool, jumio_status_rank(status));
    args[0] = status;
    args[1] = rank;
    args[2] = jumio_store_now(c);
    args[3] = wf;
    args[4] = rank;
}

/* Log a callback and move the status forward, in one DB transaction; 0 or -1. */
int jumio_store_callback(jumio_ctx_t *c, jumio_db_t *db, const jumio_callback_t *cb,
                         const char *remote, const char *body, int known)
{
    const char *c_args[5] = { jumio_store_now(c), remote, cb->workflow_id, cb->status, body };
    const char *s_args[5];
    jumio_store_step_t steps[2] = { JUMIO_STEP(JUMIO_ST_CB_INSERT, c_args, NULL),
                                    JUMIO_STEP(JUMIO_ST_TX_STATUS, s_args, NULL) };
    jumio_store_status_args(c, cb->workflow_id, cb->status, s_args);
    return jumio_store_write(c, db, steps, known ? 2 : 1, 1);
}

/* Move a transaction's status forward (Status API answer); 0 or -1. */
int jumio_store_status(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, const char *status)
{
    const char *args[5];
    jumio_store_status_args(c, workflow_id, status, args);
    return jumio_store_exec(c, db, JUMIO_ST_TX_STATUS, NULL, 5, args);
}

/* Store details and decision once (first writer wins); 0 or -1. */
int jumio_store_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id,
                        const char *details, const char *summary, const char *decision)
{
    const char *args[5] = { details, summary, decision, jumio_store_now(c), workflow_id };
    return jumio_store_exec(c, db, JUMIO_ST_DETAILS, NULL, 5, args);
}

/* Claim status check number done+1 of a transaction and set when the next one is due;
 * 1 claimed, 0 taken by another worker, -1 error. */
int jumio_store_claim_check(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                            apr_int64_t next_at)
{
    const char *args[3] = { apr_psprintf(c->pool, "%" APR_INT64_T_FMT, next_at), workflow_id,
                            apr_itoa(c->pool, done) };
    int n = 0;
    if (jumio_store_exec(c, db, JUMIO_ST_CLAIM, &n, 3, args))
        return -1;
    return n == 1;
}

/* Claim the details fetch of a PROCESSED transaction for `seconds`; the background task
 * (capped) gives up after 10 attempts in all, as Jumio advises, while a poll of the user may
 * always try. 1 claimed, 0 taken or exhausted, -1 error. */
int jumio_store_claim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int seconds,
                              int capped)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    const char *args[3] = { apr_psprintf(c->pool, "%" APR_INT64_T_FMT, now + seconds), workflow_id,
                            apr_psprintf(c->pool, "%" APR_INT64_T_FMT, now) };
    int n = 0;
    if (jumio_store_exec(c, db, capped ? JUMIO_ST_CLAIM_DETAILS : JUMIO_ST_CLAIM_DETAILS_ANY, &n, 3,
                         args))
        return -1;
    return n == 1;
}

/* Set when the next status check of a transaction is due (APR_INT64_MAX: never), unless
 * another worker made check number `done` meanwhile; 0 or -1. */
int jumio_store_reschedule(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id, int done,
                           apr_int64_t next_at)
{
    const char *args[3] = { apr_psprintf(c->pool, "%" APR_INT64_T_FMT, next_at), workflow_id,
                            apr_itoa(c->pool, done) };
    return jumio_store_exec(c, db, JUMIO_ST_RESCHEDULE, NULL, 3, args);
}

/* Give up a details claim after a failed fetch, so the next worker may try at once; 0 or -1. */
int jumio_store_unclaim_details(jumio_ctx_t *c, jumio_db_t *db, const char *workflow_id)
{
    const char *args[1] = { workflow_id };
    return jumio_store_exec(c, db, JUMIO_ST_UNCLAIM_DETAILS, NULL, 1, args);
}

/* Delete every local row of a user (callbacks, transactions, account) in one DB transaction;
 * the number of transactions deleted, or -1. */
int jumio_store_erase(jumio_ctx_t *c, jumio_db_t *db, const char *user)
{
    const char *args[1] = { user };
    int n = 0;
    jumio_store_step_t steps[3] = { JUMIO_STEP(JUMIO_ST_ERASE_CB, args, NULL),
                                    JUMIO_STEP(JUMIO_ST_ERASE_TX, args, &n),
                                    JUMIO_STEP(JUMIO_ST_ERASE_ACCT, args, NULL) };
    return jumio_store_write(c, db, steps, 3, 1) ? -1 : n;
}

/* Read the counters row. */
static void jumio_store_counters_row(jumio_ctx_t *c, jumio_db_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_counters_t *k = out;
    const char *v;
    apr_int64_t *f[5] = { &k->transactions, &k->pending, &k->details_pending, &k->callbacks,
                          &k->accounts };
    int i;
    for (i = 0; i < 5; i++)
        *f[i] = (v = jumio_store_col(c, db, row, i)) ? apr_atoi64(v) : 0;
}

/* Row counts for the status handler; 0 or -1. */
int jumio_store_counters(jumio_ctx_t *c, jumio_db_t *db, jumio_counters_t *out)
{
    memset(out, 0, sizeof(*out));
    return jumio_store_select(c, db, JUMIO_ST_COUNTERS, 0, NULL, 1, jumio_store_counters_row, out)
                   == 1
               ? 0
               : -1;
}
