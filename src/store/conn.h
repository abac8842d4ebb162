/* conn.h - connections of the store: a mod_dbd connection is taken for one store call and
 * given back at its end (never held across a Jumio call), writes run in one transaction, and
 * every wait on the database is bounded by JumioDBTimeout (src/store/, docs/DESIGN.md). */
#ifndef JUMIO_CONN_H
#define JUMIO_CONN_H

#include "store/dialect.h"
#include "store/statements.h"

/* One mod_dbd connection with our statements prepared on it (kept in its `prepared` hash). */
typedef struct {
    ap_dbd_t *dbd;
    const jumio_dialect_t *dialect;
    apr_dbd_prepared_t *st[JUMIO_ST_COUNT];
} jumio_conn_t;

/* Failure statuses of our own: a step that had to touch a row touched none (rolled back);
 * the database was busy (locked, deadlocked: try again). */
#define JUMIO_CONN_MISSED (-20000)
#define JUMIO_CONN_BUSY   (-20001)

/* One statement of a write: prepared statement st with its arguments, or plain SQL (schema). */
typedef struct {
    jumio_st_e st;
    int nargs;
    const char **args;
    int *nrows;      /* rows affected, or NULL */
    const char *sql; /* plain SQL run instead of st, or NULL */
    int need_row;    /* 1: touching no row fails the write with JUMIO_CONN_MISSED */
} jumio_conn_step_t;

#define JUMIO_STEP(st, args, nrows)                                                                \
    {                                                                                              \
        st, (int)(sizeof(args) / sizeof(*(args))), args, nrows, NULL, 0                            \
    }
#define JUMIO_STEP_NEED(st, args)                                                                  \
    {                                                                                              \
        st, (int)(sizeof(args) / sizeof(*(args))), args, NULL, NULL, 1                             \
    }

/* One try of something on a connection: 0 or the status of the call that failed. */
typedef int jumio_conn_try_fn(jumio_ctx_t *c, jumio_conn_t *db, void *arg);

/* Makes the schema of a new connection's database current before its statements are
 * prepared (src/store/schema.c); 0 or -1 (logged). */
typedef int jumio_conn_schema_fn(jumio_ctx_t *c, jumio_conn_t *db, apr_time_t deadline);

/* Find mod_dbd's functions and keep the schema step of a new connection; APR_SUCCESS, or
 * APR_EGENERAL (logged) without mod_dbd. */
apr_status_t jumio_conn_init(server_rec *s, jumio_conn_schema_fn *schema);
/* Run fn on a connection taken for this call (behind the write gate when gate and the
 * dialect has one), tried again after a short random back-off while the database is busy,
 * until JumioDBTimeout; the connection is given back before returning. 0, JUMIO_CONN_MISSED,
 * or -1 (logged). */
int jumio_conn_run(jumio_ctx_t *c, jumio_conn_try_fn *fn, void *arg, int gate);
/* A driver's failure status rv as the store keeps it: JUMIO_CONN_BUSY when the database was
 * busy. Called at once, while the driver's last error is still this call's (SQLite says
 * "locked" in its message only until the next call, a ROLLBACK say). */
int jumio_conn_status(jumio_conn_t *db, int rv);
/* 1 when a kept status (jumio_conn_status) means the database was busy. */
int jumio_conn_busy(jumio_conn_t *db, int rv);
/* Log a failed call (at debug level when busy: it is tried again); rv. */
int jumio_conn_failed(jumio_ctx_t *c, jumio_conn_t *db, int rv, const char *what);
/* Run plain SQL; 0 or the failure status kept by jumio_conn_status (logged). */
int jumio_conn_query(jumio_ctx_t *c, jumio_conn_t *db, const char *sql);
/* One try of a write: every step, in one transaction when tx; 0 or the failing status. */
int jumio_conn_attempt(jumio_ctx_t *c, jumio_conn_t *db, const jumio_conn_step_t *steps, int n,
                       int tx);
/* Run a write (steps, in one transaction when tx) with jumio_conn_run; 0, JUMIO_CONN_MISSED
 * or -1. */
int jumio_conn_write(jumio_ctx_t *c, const jumio_conn_step_t *steps, int n, int tx);

/* Reads one row into `out`, while the row is current (the MySQL driver reuses its buffers). */
typedef void jumio_conn_row_fn(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out);
/* Run a select (prepared statement st, or ad-hoc SQL when sql) with jumio_conn_run; the first
 * `max` rows go to fn. Rows read, or -1 (logged). */
int jumio_conn_select(jumio_ctx_t *c, jumio_st_e st, const char *sql, int nargs, const char **args,
                      int max, jumio_conn_row_fn *fn, void *out);
/* One try of an ad-hoc select on a connection (for the schema, before our statements are
 * prepared; a failure is logged at debug level only); 0 or the failure status kept by jumio_conn_status. */
int jumio_conn_select_sql(jumio_ctx_t *c, jumio_conn_t *db, const char *sql, int max,
                          jumio_conn_row_fn *fn, void *out);
/* Column n of a row copied into c->pool (NULL for SQL NULL). */
const char *jumio_conn_col(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, int n);

#endif
