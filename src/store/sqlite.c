/* sqlite.c - the SQLite dialect of the store: schema, WAL journal, lock waits, upserts. */
#include "store/dialect.h"
#include <apr_strings.h>
#include <apr_dbd.h>

/* Version 1: the first schema (made unversioned by mod_jumio before 2026-12). */
static const char *const jumio_sqlite_v1[] = {
    "CREATE TABLE IF NOT EXISTS jumio_accounts (user_id VARCHAR(255) PRIMARY KEY, "
    "account_id VARCHAR(36) NOT NULL, credentials TEXT, created_at BIGINT NOT NULL, "
    "updated_at BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS jumio_transactions (workflow_id VARCHAR(36) PRIMARY KEY, "
    "account_id VARCHAR(36) NOT NULL, user_id VARCHAR(255) NOT NULL, workflow_key INTEGER NOT "
    "NULL, "
    "cir VARCHAR(100) NOT NULL, redirect_url TEXT, jumio_timestamp VARCHAR(40), "
    "status VARCHAR(20) NOT NULL, status_rank INTEGER NOT NULL, callback_token VARCHAR(64), "
    "details TEXT, summary TEXT, decision VARCHAR(20), status_checks INTEGER NOT NULL DEFAULT 0, "
    "next_check_at BIGINT, details_claim_until BIGINT NOT NULL DEFAULT 0, "
    "details_attempts INTEGER NOT NULL DEFAULT 0, "
    "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_user ON jumio_transactions (user_id)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_due ON jumio_transactions (next_check_at)",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_pending ON jumio_transactions (status_rank, "
    "details_claim_until)",
    "CREATE TABLE IF NOT EXISTS jumio_callbacks (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "received_at BIGINT NOT NULL, remote_addr VARCHAR(64), workflow_id VARCHAR(36), "
    "status VARCHAR(20), body TEXT)",
    NULL
};

/* Version 2: every account id a user ever had, the per-user claims that serialise account
 * creation, a callback counter (so that a callback always writes its transaction's row), and
 * what an intake may reuse (the settings' fingerprint, until when the link is valid). */
static const char *const jumio_sqlite_v2[] = {
    "CREATE TABLE IF NOT EXISTS jumio_account_ids (user_id VARCHAR(255) NOT NULL, "
    "account_id VARCHAR(64) NOT NULL, created_at BIGINT NOT NULL, "
    "PRIMARY KEY (user_id, account_id))",
    "CREATE TABLE IF NOT EXISTS jumio_account_claims (user_id VARCHAR(255) PRIMARY KEY, "
    "claim VARCHAR(64) NOT NULL, claim_until BIGINT NOT NULL)",
    "ALTER TABLE jumio_transactions ADD COLUMN callbacks INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN settings VARCHAR(64)",
    "ALTER TABLE jumio_transactions ADD COLUMN reuse_until BIGINT NOT NULL DEFAULT 0",
    "INSERT OR IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
    "SELECT user_id, account_id, created_at FROM jumio_accounts",
    "INSERT OR IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
    "SELECT user_id, account_id, MIN(created_at) FROM jumio_transactions "
    "GROUP BY user_id, account_id",
    NULL
};

/* Version 3: when a transaction became final (PROCESSED with its details, or expired: the
 * age of a result for `Require jumio-verified`, the start of its retention), its retention
 * state (purged locally, deleted at Jumio, the next try), and the outbox of signed result
 * notifications. */
static const char *const jumio_sqlite_v3[] = {
    "ALTER TABLE jumio_transactions ADD COLUMN final_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN purged_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN retention_next_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN retention_attempts INTEGER NOT NULL DEFAULT 0",
    "UPDATE jumio_transactions SET final_at = updated_at WHERE status_rank = 2 "
    "AND (details IS NOT NULL OR status <> 'PROCESSED')",
    "CREATE INDEX IF NOT EXISTS jumio_transactions_final ON jumio_transactions (final_at)",
    "CREATE TABLE IF NOT EXISTS jumio_notifications (id VARCHAR(64) PRIMARY KEY, "
    "workflow_id VARCHAR(64) NOT NULL, user_id VARCHAR(255) NOT NULL, body TEXT NOT NULL, "
    "state VARCHAR(10) NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, "
    "next_at BIGINT NOT NULL DEFAULT 0, claim_by VARCHAR(64), "
    "claim_until BIGINT NOT NULL DEFAULT 0, last_status INTEGER NOT NULL DEFAULT 0, "
    "created_at BIGINT NOT NULL, done_at BIGINT NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS jumio_notifications_due ON jumio_notifications (state, next_at)",
    "CREATE INDEX IF NOT EXISTS jumio_notifications_user ON jumio_notifications (user_id)",
    /* retention: the transactions not yet deleted at Jumio by final time (done ones are
     * skipped by the index), and the callbacks of one transaction (purge, erase) */
    "CREATE INDEX IF NOT EXISTS jumio_transactions_retention ON jumio_transactions (deleted_at, "
    "final_at)",
    "CREATE INDEX IF NOT EXISTS jumio_callbacks_workflow ON jumio_callbacks (workflow_id)", NULL
};

/* SQLITE_BUSY (5), SQLITE_LOCKED (6), SQLITE_SCHEMA (17), or the same said in the message of a
 * generic SQLITE_ERROR: "database is locked" (a select the driver gave up after its own busy
 * retries, a statement that could not read the schema), "database schema has changed" (another
 * connection created the tables meanwhile). */
static int jumio_sqlite_busy(ap_dbd_t *dbd, int rv)
{
    const char *msg;
    if (rv == 5 || rv == 6 || rv == 17)
        return 1;
    msg = rv == 1 ? apr_dbd_error(dbd->driver, dbd->handle, rv) : NULL;
    return msg && (strstr(msg, "is locked") || strstr(msg, "schema has changed"));
}

/* Run a PRAGMA; its first value (copied into c->pool, "" when it answers no row) in *value;
 * 0 or the driver's status (logged: at debug level when busy, as it is tried again). */
static int jumio_sqlite_pragma(jumio_ctx_t *c, ap_dbd_t *dbd, const char *sql, const char **value)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *v;
    int rv = apr_dbd_select(dbd->driver, c->pool, dbd->handle, &res, sql, 0);
    if (rv) {
        jumio_log(c, jumio_sqlite_busy(dbd, rv) ? APLOG_DEBUG : APLOG_WARNING, 0,
                  "mod_jumio: %s failed: %s", sql, apr_dbd_error(dbd->driver, dbd->handle, rv));
        return rv;
    }
    for (*value = ""; apr_dbd_get_row(dbd->driver, c->pool, res, &row, -1) != -1;)
        if (!**value && (v = apr_dbd_get_entry(dbd->driver, row, 0)))
            *value = apr_pstrdup(c->pool, v);
    return 0;
}

/* Before the schema: the WAL journal, so that polls keep reading while another writes; 0, or
 * the status when busy (tried again). Without WAL the store still works (warned). */
static int jumio_sqlite_wal(jumio_ctx_t *c, ap_dbd_t *dbd)
{
    const char *mode = NULL;
    int rv = jumio_sqlite_pragma(c, dbd, "PRAGMA journal_mode=WAL", &mode);
    if (!rv && *mode && strcasecmp(mode, "wal"))
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: SQLite WAL mode not set");
    return jumio_sqlite_busy(dbd, rv) ? rv : 0;
}

/* No busy handler: SQLite sleeps in it while the APR driver's process-wide mutex is held, and
 * the lock's owner, another thread, needs that mutex to finish. Lock waits are the store's
 * (write gate, whole-transaction retries with back-off), outside any mutex. */
static void jumio_sqlite_connect(jumio_ctx_t *c, ap_dbd_t *dbd, int timeout)
{
    const char *v;
    jumio_sqlite_pragma(c, dbd, "PRAGMA busy_timeout=0", &v);
}

const jumio_dialect_t jumio_dialect_sqlite = {
    .name = "sqlite3",
    .migrations = { NULL, jumio_sqlite_v1, jumio_sqlite_v2, jumio_sqlite_v3 },
    /* a whole step in one transaction, so that no other connection prepares its statements
     * on a half-made schema and a step is never half done */
    .ddl_in_tx = 1,
    .schema_table = "CREATE TABLE IF NOT EXISTS jumio_schema (id INTEGER PRIMARY KEY, "
                    "version INTEGER NOT NULL, locked_by VARCHAR(64), "
                    "locked_until BIGINT NOT NULL DEFAULT 0)",
    .schema_row = "INSERT OR IGNORE INTO jumio_schema (id, version, locked_until) VALUES (1, 0, 0)",
    .has_v1 = "SELECT name FROM sqlite_master WHERE type = 'table' "
              "AND name = 'jumio_transactions'",
    .begin = "BEGIN IMMEDIATE",
    .gate = 1,
    .upsert = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
              "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON CONFLICT (user_id) DO UPDATE SET "
              "account_id = excluded.account_id, credentials = excluded.credentials, "
              "updated_at = excluded.updated_at",
    .upsert_keep = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
                   "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON CONFLICT (user_id) DO UPDATE "
                   "SET account_id = excluded.account_id, updated_at = excluded.updated_at",
    .id_add = "INSERT OR IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
              "VALUES (%s, %s, %lld)",
    .claim_add = "INSERT OR IGNORE INTO jumio_account_claims (user_id, claim, claim_until) "
                 "VALUES (%s, %s, %lld)",
    .on_connect = jumio_sqlite_connect,
    .before_schema = jumio_sqlite_wal,
    .is_busy = jumio_sqlite_busy,
    .is_done = NULL,
};
