/* schema.c - schema versions and migrations (see schema.h). The version lives in the one row
 * of jumio_schema, which also holds the migration lock (locked_by, locked_until): a row, not a
 * server lock, so that it holds across httpd processes, nodes and a Galera cluster. */
#include "store/schema.h"
#include "store/lock.h"
#include "config.h"
#include "core/core.h"
#include <apr_strings.h>

/* How long a migration may hold the lock before another process takes over (seconds). */
#define JUMIO_SCHEMA_LOCK_SECONDS 120

typedef struct {
    int version; /* -1: no version row (or no table) */
    const char *locked_by;
} jumio_schema_row_t;

/* Read the version row (jumio_conn_row_fn). */
static void jumio_schema_row(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    jumio_schema_row_t *s = out;
    const char *v = jumio_conn_col(c, db, row, 0);
    s->version = v ? atoi(v) : -1;
    s->locked_by = jumio_conn_col(c, db, row, 1);
}

/* The version row into *s (version -1 when there is none); 0, or the status when busy. */
static int jumio_schema_read(jumio_ctx_t *c, jumio_conn_t *db, jumio_schema_row_t *s)
{
    int rv;
    s->version = -1;
    s->locked_by = NULL;
    rv = jumio_conn_select_sql(c, db, "SELECT version, locked_by FROM jumio_schema WHERE id = 1", 1,
                               jumio_schema_row, s);
    return jumio_conn_busy(db, rv) ? rv : 0;
}

/* Run one statement of a migration; a statement the dialect says was done before counts as
 * done. 0 or the driver's status. */
static int jumio_schema_exec(jumio_ctx_t *c, jumio_conn_t *db, const char *sql)
{
    int n, rv = apr_dbd_query(db->dbd->driver, db->dbd->handle, &n, sql);
    if (rv && db->dialect->is_done && db->dialect->is_done(db->dbd, rv))
        return 0;
    return rv ? jumio_conn_failed(c, db, rv, sql) : 0;
}

/* Run a write of the version row outside a transaction, tried again while the database is
 * busy until `deadline` (on Galera another node's statement on jumio_schema can abort it: a
 * step done must still be recorded, a lock still given back); 0 or the status of the last
 * try. Inside a transaction (ddl_in_tx) one try: the whole step is run again. */
static int jumio_schema_write(jumio_ctx_t *c, jumio_conn_t *db, const char *sql,
                              apr_time_t deadline)
{
    int attempt, rv;
    for (attempt = 1;; attempt++) {
        rv = jumio_conn_query(c, db, sql);
        if (!jumio_conn_busy(db, rv) || db->dialect->ddl_in_tx
            || jumio_lock_backoff(c, attempt, deadline, 0))
            return rv;
    }
}

/* Apply migration step v (from v - 1) and record version v, in one transaction when the
 * dialect can; 0 or the status of the call that failed. */
static int jumio_schema_step(jumio_ctx_t *c, jumio_conn_t *db, int v, apr_time_t deadline)
{
    const jumio_dialect_t *d = db->dialect;
    const char *const *sql;
    int rv = d->ddl_in_tx ? jumio_conn_query(c, db, d->begin) : 0;
    for (sql = d->migrations[v]; !rv && *sql; sql++)
        rv = jumio_schema_exec(c, db, *sql);
    if (!rv)
        rv = jumio_schema_write(
            c, db, apr_psprintf(c->pool, "UPDATE jumio_schema SET version = %d WHERE id = 1", v),
            deadline);
    if (d->ddl_in_tx)
        rv = rv ? (jumio_conn_query(c, db, "ROLLBACK"), rv) : jumio_conn_query(c, db, "COMMIT");
    return rv;
}

/* Create the version table and row when missing (have_row 0: none was read), then try to take
 * the migration lock for `me`; 0 or the status of the call that failed. The table is not made
 * again when the row was read: on Galera a CREATE TABLE, even of an existing table, runs on
 * every node in total order and aborts the migration's own writes of the version row. */
static int jumio_schema_lock(jumio_ctx_t *c, jumio_conn_t *db, const char *me, int have_row)
{
    apr_int64_t now = (apr_int64_t)apr_time_sec(apr_time_now());
    int rv = have_row ? 0 : jumio_conn_query(c, db, db->dialect->schema_table);
    if (!rv && !have_row)
        rv = jumio_conn_query(c, db, db->dialect->schema_row);
    if (!rv)
        rv = jumio_conn_query(
            c, db,
            apr_psprintf(
                c->pool,
                "UPDATE jumio_schema SET locked_by = '%s', locked_until = %" APR_INT64_T_FMT
                " WHERE id = 1 AND locked_until < %" APR_INT64_T_FMT,
                me, now + JUMIO_SCHEMA_LOCK_SECONDS, now));
    return rv;
}

/* Give the migration lock back (tried again while busy, until `deadline`). */
static void jumio_schema_unlock(jumio_ctx_t *c, jumio_conn_t *db, const char *me,
                                apr_time_t deadline)
{
    jumio_schema_write(c, db,
                       apr_psprintf(c->pool,
                                    "UPDATE jumio_schema SET locked_by = NULL, locked_until = 0 "
                                    "WHERE id = 1 AND locked_by = '%s'",
                                    me),
                       deadline);
}

/* Discard a row (jumio_conn_row_fn): only whether there is one matters. */
static void jumio_schema_seen(jumio_ctx_t *c, jumio_conn_t *db, apr_dbd_row_t *row, void *out)
{
    *(int *)out = 1;
}

/* Migrate from version `from` (0: the unversioned first schema, or nothing) to the current
 * one while holding the lock; 0 or the status of the call that failed. */
static int jumio_schema_upgrade(jumio_ctx_t *c, jumio_conn_t *db, int from, apr_time_t deadline)
{
    const jumio_dialect_t *d = db->dialect;
    int v, had_v1 = 0, rv = 0;
    if (!from)
        jumio_conn_select_sql(c, db, d->has_v1, 1, jumio_schema_seen, &had_v1);
    if (d->before_schema && (rv = d->before_schema(c, db->dbd)))
        return jumio_conn_status(db, rv);
    if (d->unbounded)
        jumio_conn_query(c, db, d->unbounded);
    for (v = from + 1; !rv && v <= JUMIO_SCHEMA_VERSION; v++)
        rv = jumio_schema_step(c, db, v, deadline);
    if (d->unbounded)
        d->on_connect(c, db->dbd, jumio_config_db_timeout(jumio_config_srv_of(c)));
    if (!rv && (from || had_v1))
        jumio_log(c, APLOG_NOTICE, 0, "mod_jumio: database schema upgraded from version %d to %d",
                  from ? from : 1, JUMIO_SCHEMA_VERSION);
    else if (!rv)
        jumio_log(c, APLOG_NOTICE, 0, "mod_jumio: database schema created at version %d",
                  JUMIO_SCHEMA_VERSION);
    return rv;
}

/* One try at migrating: takes the lock (behind the write gate) and upgrades; have_row: the
 * version row was read. 1 when the schema is current now, 0 when another holds the lock, or
 * the status of the call that failed. */
static int jumio_schema_migrate(jumio_ctx_t *c, jumio_conn_t *db, apr_time_t deadline, int have_row,
                                int *done)
{
    const char *me = jumio_util_random_token(c->pool, 16);
    jumio_schema_row_t s;
    int held = db->dialect->gate ? jumio_lock_gate_enter(c, deadline) : 0, rv;
    *done = 0;
    if (held < 0)
        return 0;
    rv = me ? jumio_schema_lock(c, db, me, have_row) : -1;
    if (!rv)
        rv = jumio_schema_read(c, db, &s);
    if (!rv && s.locked_by && !strcmp(s.locked_by, me)) {
        if (s.version < JUMIO_SCHEMA_VERSION)
            rv = jumio_schema_upgrade(c, db, s.version < 0 ? 0 : s.version, deadline);
        jumio_schema_unlock(c, db, me, deadline);
        *done = !rv && s.version <= JUMIO_SCHEMA_VERSION;
    }
    if (held)
        jumio_lock_gate_leave(c);
    return rv;
}

/* Log once per process that the database's schema is newer than this module's. */
static void jumio_schema_newer(jumio_ctx_t *c, int version)
{
    static volatile int logged;
    jumio_log(c, logged ? APLOG_DEBUG : APLOG_ERR, 0,
              "mod_jumio: database schema version %d is newer than this module supports (%d); "
              "refusing to use it (upgrade mod_jumio)",
              version, JUMIO_SCHEMA_VERSION);
    logged = 1;
}

/* Make the schema current (see schema.h); 0 or -1. */
int jumio_schema_ensure(jumio_ctx_t *c, jumio_conn_t *db, apr_time_t deadline)
{
    jumio_schema_row_t s;
    int attempt, rv, done;
    for (attempt = 1;; attempt++) {
        rv = jumio_schema_read(c, db, &s);
        if (!rv && s.version == JUMIO_SCHEMA_VERSION)
            return 0;
        if (!rv && s.version > JUMIO_SCHEMA_VERSION) {
            jumio_schema_newer(c, s.version);
            return -1;
        }
        if (!rv && (rv = jumio_schema_migrate(c, db, deadline, s.version >= 0, &done)) == 0 && done)
            return 0;
        if (rv && !jumio_conn_busy(db, rv))
            return -1;
        if (jumio_lock_backoff(c, attempt, deadline, 0))
            return -1;
    }
}
