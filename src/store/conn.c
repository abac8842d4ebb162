/* conn.c - connections of the store (see conn.h): taken from mod_dbd for one store call and
 * given back at its end, set up once (dialect settings, schema, our statements), writes in
 * one transaction, waits bounded by JumioDBTimeout. */
#include "store/conn.h"
#include "store/lock.h"
#include "config.h"
#include "metrics.h"
#include <apr_strings.h>
#include <apr_optional.h>

static APR_OPTIONAL_FN_TYPE(ap_dbd_open) * jumio_conn_dbd_open;
static APR_OPTIONAL_FN_TYPE(ap_dbd_close) * jumio_conn_dbd_close;
static jumio_conn_schema_fn *jumio_conn_schema;

static const jumio_dialect_t *const jumio_conn_dialects[] = { &jumio_dialect_sqlite,
                                                              &jumio_dialect_mysql, NULL };

/* Find mod_dbd's functions and keep the schema step; refuse to start without mod_dbd. */
apr_status_t jumio_conn_init(server_rec *s, jumio_conn_schema_fn *schema)
{
    jumio_conn_schema = schema;
    jumio_conn_dbd_open = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_open);
    jumio_conn_dbd_close = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_close);
    if (!jumio_conn_dbd_open || !jumio_conn_dbd_close) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     "mod_jumio: mod_dbd is not loaded (LoadModule dbd_module, DBDriver sqlite3)");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

/* The dialect of a connection's driver, by apr_dbd_name(); NULL when not supported. */
static const jumio_dialect_t *jumio_conn_dialect(const ap_dbd_t *dbd)
{
    const jumio_dialect_t *const *d;
    const char *name = apr_dbd_name(dbd->driver);
    for (d = jumio_conn_dialects; *d; d++)
        if (!strcmp(name, (*d)->name))
            return *d;
    return NULL;
}

/* A driver's failure status as the store keeps it: JUMIO_CONN_BUSY when the dialect says the
 * database was busy, decided now while the driver's error is this call's; else rv. */
int jumio_conn_status(jumio_conn_t *db, int rv)
{
    return rv && rv != JUMIO_CONN_MISSED && db->dialect->is_busy(db->dbd, rv) ? JUMIO_CONN_BUSY
                                                                              : rv;
}

/* 1 when a kept status means the database was busy (locked, deadlocked): the read or the
 * whole write is tried again. */
int jumio_conn_busy(jumio_conn_t *db, int rv)
{
    return rv == JUMIO_CONN_BUSY;
}

/* Log a failed call (what: its SQL or statement number): at debug level when busy (it will be
 * tried again), else as an error; the status kept (jumio_conn_status). */
int jumio_conn_failed(jumio_ctx_t *c, jumio_conn_t *db, int rv, const char *what)
{
    int st = jumio_conn_status(db, rv);
    jumio_log(c, jumio_conn_busy(db, st) ? APLOG_DEBUG : APLOG_ERR, 0,
              "mod_jumio: %.60s failed (%d): %s", what, rv,
              apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
    return st;
}

/* Run plain SQL (transaction control, schema); 0 or the failure status kept by jumio_conn_status (logged). */
int jumio_conn_query(jumio_ctx_t *c, jumio_conn_t *db, const char *sql)
{
    int n, rv = apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);
    return rv ? jumio_conn_failed(c, db, rv, sql) : 0;
}

/* Run one statement of a write; rows affected in *nrows; 0, JUMIO_CONN_MISSED or the
 * driver's status (logged). */
static int jumio_conn_step(jumio_ctx_t *c, jumio_conn_t *db, const jumio_conn_step_t *s)
{
    int n = 0, rv;
    if (s->sql)
        return jumio_conn_query(c, db, s->sql);
    rv = apr_dbd_pquery(db->dbd->driver, c->pool, db->dbd->handle, &n, db->st[s->st], s->nargs,
                        s->args);
    if (rv)
        return jumio_conn_failed(c, db, rv, apr_psprintf(c->pool, "statement %d", s->st));
    if (s->nrows)
        *s->nrows = n;
    return s->need_row && n < 1 ? JUMIO_CONN_MISSED : 0;
}

/* One try of a write: every step, in one transaction begun with the dialect's statement
 * (taking the write lock up front) when tx; 0, or the status of the call that failed. */
int jumio_conn_attempt(jumio_ctx_t *c, jumio_conn_t *db, const jumio_conn_step_t *steps, int n,
                       int tx)
{
    int i, rv = tx ? jumio_conn_query(c, db, db->dialect->begin) : 0;
    if (rv)
        return rv;
    for (i = 0; !rv && i < n; i++)
        rv = jumio_conn_step(c, db, &steps[i]);
    if (tx && !rv)
        rv = jumio_conn_query(c, db, "COMMIT");
    if (tx && rv)
        jumio_conn_query(c, db, "ROLLBACK");
    return rv;
}

/* Prepare our statements on this connection (in the connection's pool); 0 or the driver's
 * status (logged). */
static int jumio_conn_prepare(jumio_ctx_t *c, jumio_conn_t *db)
{
    int i, rv;
    for (i = 0; i < JUMIO_ST_COUNT; i++) {
        rv = apr_dbd_prepare(db->dbd->driver, db->dbd->pool, db->dbd->handle,
                             jumio_statement_sql(db->dialect, i), NULL, &db->st[i]);
        if (rv)
            return jumio_conn_failed(c, db, rv, apr_psprintf(c->pool, "preparing statement %d", i));
    }
    return 0;
}

/* Set up a new connection: the dialect's settings, the schema made current (bounded by
 * `deadline`), then our statements, tried again while the database is busy; 0 or -1. */
static int jumio_conn_setup(jumio_ctx_t *c, jumio_conn_t *db, apr_time_t deadline)
{
    int attempt, rv;
    db->dialect->on_connect(c, db->dbd, jumio_config_db_timeout(jumio_config_srv_of(c)));
    if (jumio_conn_schema(c, db, deadline))
        return -1;
    for (attempt = 1;; attempt++) {
        if (!(rv = jumio_conn_prepare(c, db)))
            return 0;
        if (!jumio_conn_busy(db, rv) || jumio_lock_backoff(c, attempt, deadline, 0))
            return -1;
    }
}

/* Give a connection back to mod_dbd. */
static void jumio_conn_give(jumio_ctx_t *c, jumio_conn_t *db)
{
    jumio_conn_dbd_close(c->s, db->dbd);
}

/* A connection of mod_dbd for one call, set up on its first use, or NULL (logged). mod_dbd
 * answers NULL once for each pooled connection it finds dead (after a database restart): it
 * is asked once more for a fresh one. */
static jumio_conn_t *jumio_conn_take(jumio_ctx_t *c, apr_time_t deadline)
{
    ap_dbd_t *dbd = jumio_conn_dbd_open(c->pool, c->s);
    jumio_conn_t *db;
    if (!dbd && (dbd = jumio_conn_dbd_open(c->pool, c->s)))
        jumio_log(c, APLOG_INFO, 0, "mod_jumio: database connection renewed");
    if (!dbd) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: no database connection (mod_dbd)");
        return NULL;
    }
    if ((db = apr_hash_get(dbd->prepared, "jumio:db", APR_HASH_KEY_STRING)))
        return db;
    db = apr_pcalloc(dbd->pool, sizeof(*db));
    db->dbd = dbd;
    if (!(db->dialect = jumio_conn_dialect(dbd)))
        jumio_log(c, APLOG_ERR, 0,
                  "mod_jumio: database driver %s is not supported (DBDriver sqlite3 or mysql)",
                  apr_dbd_name(dbd->driver));
    if (!db->dialect || jumio_conn_setup(c, db, deadline)) {
        jumio_log(c, APLOG_ERR, 0, "mod_jumio: a new database connection could not be set up");
        jumio_conn_dbd_close(c->s, dbd);
        return NULL;
    }
    apr_hash_set(dbd->prepared, "jumio:db", APR_HASH_KEY_STRING, db);
    return db;
}

/* Count a call's time as waiting (c->db_waited) when it met a busy database or was slow. */
static void jumio_conn_account(jumio_ctx_t *c, apr_time_t start, int busy)
{
    apr_interval_time_t spent = apr_time_now() - start;
    if (busy || spent > apr_time_from_msec(100))
        c->db_waited += spent;
}

/* Run fn on a connection taken for this call, behind the write gate when gate (and the
 * dialect has one), tried again after a short random back-off while the database is busy,
 * until what is left of JumioDBTimeout; 0, JUMIO_CONN_MISSED or -1 (logged). */
int jumio_conn_run(jumio_ctx_t *c, jumio_conn_try_fn *fn, void *arg, int gate)
{
    apr_time_t start = apr_time_now(), deadline = jumio_lock_deadline(c), t;
    apr_interval_time_t slowest = 0;
    jumio_conn_t *db = jumio_conn_take(c, deadline);
    int attempt, held, rv = -1, busy = 0, gave_up = 0;
    for (attempt = 1; db; attempt++) {
        held = gate && db->dialect->gate ? jumio_lock_gate_enter(c, deadline) : 0;
        if (held >= 0) {
            t = apr_time_now();
            rv = fn(c, db, arg);
            if (apr_time_now() - t > slowest)
                slowest = apr_time_now() - t;
            if (held)
                jumio_lock_gate_leave(c);
            if (!jumio_conn_busy(db, rv))
                break;
        }
        busy = 1;
        if (jumio_lock_backoff(c, attempt, deadline, slowest)) {
            rv = -1;
            gave_up = 1;
            break;
        }
    }
    if (rv && rv != JUMIO_CONN_MISSED) /* jumio_database_errors_total */
        jumio_metric_inc(!db       ? JUMIO_M_DB_CONNECTION
                         : gave_up ? JUMIO_M_DB_BUSY
                                   : JUMIO_M_DB_ERROR);
    if (db)
        jumio_conn_give(c, db);
    jumio_conn_account(c, start, busy || !db);
    return !rv || rv == JUMIO_CONN_MISSED ? rv : -1;
}

typedef struct {
    const jumio_conn_step_t *steps;
    int n, tx;
} jumio_conn_write_t;

/* jumio_conn_try_fn of a write. */
static int jumio_conn_write_try(jumio_ctx_t *c, jumio_conn_t *db, void *arg)
{
    jumio_conn_write_t *w = arg;
    return jumio_conn_attempt(c, db, w->steps, w->n, w->tx);
}

/* Run a write (in one transaction when tx), behind the write gate when the dialect has one,
 * tried again as a whole while the database is busy, until JumioDBTimeout; 0,
 * JUMIO_CONN_MISSED or -1 (logged). */
int jumio_conn_write(jumio_ctx_t *c, const jumio_conn_step_t *steps, int n, int tx)
{
    jumio_conn_write_t w = { steps, n, tx };
    return jumio_conn_run(c, jumio_conn_write_try, &w, 1);
}

typedef struct {
    jumio_st_e st;
    const char *sql; /* ad-hoc SQL instead of st, or NULL */
    int nargs;
    const char **args;
    int max, rows; /* rows wanted at most; rows read */
    jumio_conn_row_fn *fn;
    void *out;
    int quiet; /* 1: a failure is expected (a table that may not exist yet): debug level */
} jumio_conn_select_t;

/* One try of a select (jumio_conn_try_fn): the first `max` rows go to fn, the rest are
 * drained; 0 or the failure status kept by jumio_conn_status (logged). */
static int jumio_conn_select_try(jumio_ctx_t *c, jumio_conn_t *db, void *arg)
{
    jumio_conn_select_t *q = arg;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rv = q->sql ? apr_dbd_select(db->dbd->driver, c->pool, db->dbd->handle, &res, q->sql, 0)
                    : apr_dbd_pselect(db->dbd->driver, c->pool, db->dbd->handle, &res,
                                      db->st[q->st], 0, q->nargs, q->args);
    if (rv && q->quiet)
        jumio_log(c, APLOG_DEBUG, 0, "mod_jumio: %s failed (%d): %s", q->sql, rv,
                  apr_dbd_error(db->dbd->driver, db->dbd->handle, rv));
    if (rv)
        return q->quiet ? jumio_conn_status(db, rv)
                        : jumio_conn_failed(
                            c, db, rv, q->sql ? q->sql : apr_psprintf(c->pool, "select %d", q->st));
    for (q->rows = 0; apr_dbd_get_row(db->dbd->driver, c->pool, res, &row, -1) != -1;)
        if (q->rows < q->max)
            q->fn(c, db, row, q->out), q->rows++;
    return 0;
}

/* Run a select with jumio_conn_run; the first `max` rows go to fn. Rows read, or -1. */
int jumio_conn_select(jumio_ctx_t *c, jumio_st_e st, const char *sql, int nargs, const char **args,
                      int max, jumio_conn_row_fn *fn, void *out)
{
    jumio_conn_select_t q = { st, sql, nargs, args, max, 0, fn, out, 0 };
    return jumio_conn_run(c, jumio_conn_select_try, &q, 0) ? -1 : q.rows;
}

/* One try of an ad-hoc select on a connection (first `max` rows to fn; a failure logged at
 * debug level only); 0 or the failure status kept by jumio_conn_status. */
int jumio_conn_select_sql(jumio_ctx_t *c, jumio_conn_t *db, const char *sql, int max,
                          jumio_conn_row_fn *fn, void *out)
{
    jumio_conn_select_t q = { 0, sql, 0, NULL, max, 0, fn, out, 1 };
    return jumio_conn_select_try(c, db, &q);
}

/* Column n of a row copied into c->pool (NULL for SQL NULL). */
const char *jumio_conn_col(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, int n)
{
    const char *v = apr_dbd_get_entry(db->dbd->driver, row, n);
    return v ? apr_pstrdup(c->pool, v) : NULL;
}
