/* sqlite.c - the SQLite dialect of the store: schema, WAL journal, lock waits, upserts. */
#include "store/dialect.h"
#include <apr_strings.h>
#include <apr_dbd.h>

static const char *const jumio_sqlite_schema[] = {
    "CREATE TABLE IF NOT EXISTS jumio_accounts (user_id VARCHAR(255) PRIMARY KEY, "
    "account_id VARCHAR(36) NOT NULL, credentials TEXT, created_at BIGINT NOT NULL, "
    "updated_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS jumio_transactions (workflow_id VARCHAR(36) PRIMARY KEY, "
    "account_id VARCHAR(36) NOT NULL, user_id VARCHAR(255) NOT NULL, workflow_key INTEGER NOT NULL, "
    "cir VARCHAR(100) NOT NULL, redirect_url TEXT, jumio_timestamp VARCHAR(40), "
    "status VARCHAR(20) NOT NULL, status_rank INTEGER NOT NULL, callback_token VARCHAR(64), "
    "details TEXT, summary TEXT, decision VARCHAR(20), status_checks INTEGER NOT NULL DEFAULT 0, "
    "next_check_at BIGINT, details_claim_until BIGINT NOT NULL DEFAULT 0, "
    "details_attempts INTEGER NOT NULL DEFAULT 0, "
    "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_user ON jumio_transactions (user_id)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_due ON jumio_transactions (next_check_at)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_pending ON jumio_transactions (status_rank, details_claim_until)",
    "CREATE TABLE IF NOT EXISTS jumio_callbacks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "received_at BIGINT NOT NULL, remote_addr VARCHAR(64), workflow_id VARCHAR(36), "
    "status VARCHAR(20), body TEXT)",
    NULL
};

/* Run a PRAGMA; its first value (copied into c->pool), "" when it answers no row, or NULL
 * when it failed (logged as a warning). */
static const char *jumio_sqlite_pragma(jumio_ctx_t *c, ap_dbd_t *dbd, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v, *first = "";
    int rv = apr_dbd_select(dbd->driver, c->pool, dbd->handle, &res, sql, 0);
    if (rv) {
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: %s failed: %s", sql,
                  apr_dbd_error(dbd->driver, dbd->handle, rv));
        return NULL;
    }
    while (apr_dbd_get_row(dbd->driver, c->pool, res, &row, -1) != -1)
        if (!*first && (v = apr_dbd_get_entry(dbd->driver, row, 0)))
            first = apr_pstrdup(c->pool, v);
    return first;
}

/* Before the schema: the WAL journal, so that polls keep reading while another writes. */
static void jumio_sqlite_wal(jumio_ctx_t *c, ap_dbd_t *dbd)
{
    const char *mode = jumio_sqlite_pragma(c, dbd, "PRAGMA journal_mode=WAL");
    if (mode && *mode && strcasecmp(mode, "wal"))
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: SQLite WAL mode not set");
}

/* SQLite waits up to 3 s for a lock held by another process before answering "busy" (the
 * APR driver adds its own 1.5 s of retries): writers queue up under load instead of failing. */
static void jumio_sqlite_connect(jumio_ctx_t *c, ap_dbd_t *dbd)
{
    jumio_sqlite_pragma(c, dbd, "PRAGMA busy_timeout=3000");
}

const jumio_dialect_t jumio_dialect_sqlite = {
    .name = "sqlite3",
    .schema = jumio_sqlite_schema,
    /* all tables and indexes in one transaction, so that no other connection prepares its
     * statements on a half-made schema (they would then fail with "schema has changed") */
    .schema_begin = "BEGIN IMMEDIATE",
    .upsert = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
              "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON CONFLICT (user_id) DO UPDATE SET "
              "account_id = excluded.account_id, credentials = excluded.credentials, "
              "updated_at = excluded.updated_at",
    .upsert_keep = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
                   "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON CONFLICT (user_id) DO UPDATE "
                   "SET account_id = excluded.account_id, updated_at = excluded.updated_at",
    .on_connect = jumio_sqlite_connect,
    .before_schema = jumio_sqlite_wal,
};
