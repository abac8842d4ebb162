/* mysql.c - the MySQL/MariaDB dialect of the store: InnoDB schema, lock waits, upserts. */
#include "store/dialect.h"
#include <apr_strings.h>

/* Version 1: the first schema (made unversioned by mod_jumio before 2026-12). */
static const char *const jumio_mysql_v1[] = {
    "CREATE TABLE IF NOT EXISTS jumio_accounts (user_id VARCHAR(255) PRIMARY KEY, "
    "account_id CHAR(36) NOT NULL, credentials TEXT, created_at BIGINT NOT NULL, "
    "updated_at BIGINT NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS jumio_transactions (workflow_id CHAR(36) PRIMARY KEY, "
    "account_id CHAR(36) NOT NULL, user_id VARCHAR(255) NOT NULL, workflow_key INT NOT NULL, "
    "cir VARCHAR(100) NOT NULL, redirect_url TEXT, jumio_timestamp VARCHAR(40), "
    "status VARCHAR(20) NOT NULL, status_rank INT NOT NULL, callback_token VARCHAR(64), "
    "details MEDIUMTEXT, summary TEXT, decision VARCHAR(20), status_checks INT NOT NULL DEFAULT 0, "
    "next_check_at BIGINT NULL, details_claim_until BIGINT NOT NULL DEFAULT 0, "
    "details_attempts INT NOT NULL DEFAULT 0, "
    "created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, INDEX jumio_transactions_user "
    "(user_id), INDEX jumio_transactions_due (next_check_at), INDEX jumio_transactions_pending "
    "(status_rank, details_claim_until)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    "CREATE TABLE IF NOT EXISTS jumio_callbacks (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
    "received_at BIGINT NOT NULL, remote_addr VARCHAR(64), workflow_id CHAR(36), "
    "status VARCHAR(20), body TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    NULL
};

/* Version 2: ids, references and tokens byte-exact (VARBINARY: no case folding, no trailing
 * space padding, as on SQLite), every account id a user ever had, the per-user claims that
 * serialise account creation, a callback counter, and what an intake may reuse. Each statement may run twice (DDL
 * commits by itself: a node that died half-way leaves the step to the next one). */
static const char *const jumio_mysql_v2[] = {
    "ALTER TABLE jumio_accounts MODIFY user_id VARBINARY(255) NOT NULL, "
    "MODIFY account_id VARBINARY(64) NOT NULL",
    "ALTER TABLE jumio_transactions MODIFY workflow_id VARBINARY(64) NOT NULL, "
    "MODIFY account_id VARBINARY(64) NOT NULL, MODIFY user_id VARBINARY(255) NOT NULL, "
    "MODIFY cir VARBINARY(100) NOT NULL, MODIFY callback_token VARBINARY(64) NULL",
    "ALTER TABLE jumio_transactions ADD COLUMN callbacks INT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN settings VARBINARY(64) NULL",
    "ALTER TABLE jumio_transactions ADD COLUMN reuse_until BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_callbacks MODIFY workflow_id VARBINARY(64) NULL",
    "CREATE TABLE IF NOT EXISTS jumio_account_ids (user_id VARBINARY(255) NOT NULL, "
    "account_id VARBINARY(64) NOT NULL, created_at BIGINT NOT NULL, "
    "PRIMARY KEY (user_id, account_id)) ENGINE=InnoDB",
    "CREATE TABLE IF NOT EXISTS jumio_account_claims (user_id VARBINARY(255) PRIMARY KEY, "
    "claim VARBINARY(64) NOT NULL, claim_until BIGINT NOT NULL) ENGINE=InnoDB",
    "INSERT IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
    "SELECT user_id, account_id, created_at FROM jumio_accounts",
    "INSERT IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
    "SELECT user_id, account_id, MIN(created_at) FROM jumio_transactions "
    "GROUP BY user_id, account_id",
    NULL
};

/* Version 3: when a transaction became final, its retention state, and the outbox of signed
 * result notifications (see sqlite.c). */
static const char *const jumio_mysql_v3[] = {
    "ALTER TABLE jumio_transactions ADD COLUMN final_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN purged_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN deleted_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN retention_next_at BIGINT NOT NULL DEFAULT 0",
    "ALTER TABLE jumio_transactions ADD COLUMN retention_attempts INT NOT NULL DEFAULT 0",
    "UPDATE jumio_transactions SET final_at = updated_at WHERE status_rank = 2 "
    "AND (details IS NOT NULL OR status <> 'PROCESSED') AND final_at = 0",
    "CREATE INDEX jumio_transactions_final ON jumio_transactions (final_at)",
    "CREATE TABLE IF NOT EXISTS jumio_notifications (id VARBINARY(64) PRIMARY KEY, "
    "workflow_id VARBINARY(64) NOT NULL, user_id VARBINARY(255) NOT NULL, body MEDIUMTEXT NOT "
    "NULL, "
    "state VARCHAR(10) NOT NULL, attempts INT NOT NULL DEFAULT 0, "
    "next_at BIGINT NOT NULL DEFAULT 0, claim_by VARBINARY(64) NULL, "
    "claim_until BIGINT NOT NULL DEFAULT 0, last_status INT NOT NULL DEFAULT 0, "
    "created_at BIGINT NOT NULL, done_at BIGINT NOT NULL DEFAULT 0, "
    "INDEX jumio_notifications_due (state, next_at), "
    "INDEX jumio_notifications_user (user_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
    /* retention: the transactions not yet deleted at Jumio by final time (done ones are
     * skipped by the index), and the callbacks of one transaction (purge, erase) */
    "CREATE INDEX jumio_transactions_retention ON jumio_transactions (deleted_at, "
    "final_at)",
    "CREATE INDEX jumio_callbacks_workflow ON jumio_callbacks (workflow_id)", NULL
};

/* Set a session variable to a number (JumioDBTimeout seconds, a flag); a server without it is
 * only logged at debug level when optional. */
static void jumio_mysql_set(jumio_ctx_t *c, ap_dbd_t *dbd, const char *var, int timeout,
                            int optional)
{
    int n, rv = apr_dbd_query(dbd->driver, dbd->handle, &n,
                              apr_psprintf(c->pool, "SET SESSION %s = %d", var, timeout));
    if (rv)
        jumio_log(c, optional ? APLOG_DEBUG : APLOG_WARNING, 0, "mod_jumio: setting %s failed: %s",
                  var, apr_dbd_error(dbd->driver, dbd->handle, rv));
}

/* Every wait inside the server ends after JumioDBTimeout seconds: a row lock
 * (ER_LOCK_WAIT_TIMEOUT), a table's metadata lock (LOCK TABLES, DDL) and, on MariaDB, any
 * statement (max_statement_time). On a Galera cluster reads and transactions see every write
 * the cluster committed before them (wsrep_sync_wait 1: causal reads), so a poll or callback
 * on one node finds the transaction an intake just stored on another; without Galera the
 * setting does nothing (MySQL without it: logged at debug level). */
static void jumio_mysql_connect(jumio_ctx_t *c, ap_dbd_t *dbd, int timeout)
{
    jumio_mysql_set(c, dbd, "innodb_lock_wait_timeout", timeout, 0);
    jumio_mysql_set(c, dbd, "lock_wait_timeout", timeout, 0);
    jumio_mysql_set(c, dbd, "max_statement_time", timeout, 1);
    jumio_mysql_set(c, dbd, "wsrep_sync_wait", 1, 1);
}

/* ER_LOCK_DEADLOCK (1213; also a Galera certification failure at commit) or
 * ER_LOCK_WAIT_TIMEOUT (1205): the transaction is tried again. */
static int jumio_mysql_busy(ap_dbd_t *dbd, int rv)
{
    return rv == 1213 || rv == 1205;
}

/* A migration statement done before: ER_TABLE_EXISTS_ERROR (1050), ER_DUP_FIELDNAME (1060),
 * ER_DUP_KEYNAME (1061). */
static int jumio_mysql_done(ap_dbd_t *dbd, int rv)
{
    return rv == 1050 || rv == 1060 || rv == 1061;
}

const jumio_dialect_t jumio_dialect_mysql = {
    .name = "mysql",
    .migrations = { NULL, jumio_mysql_v1, jumio_mysql_v2, jumio_mysql_v3 },
    .ddl_in_tx = 0, /* DDL commits implicitly in MySQL */
    .schema_table = "CREATE TABLE IF NOT EXISTS jumio_schema (id INT PRIMARY KEY, "
                    "version INT NOT NULL, locked_by VARBINARY(64), "
                    "locked_until BIGINT NOT NULL DEFAULT 0) ENGINE=InnoDB",
    .schema_row = "INSERT IGNORE INTO jumio_schema (id, version, locked_until) VALUES (1, 0, 0)",
    .has_v1 = "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
              "AND TABLE_NAME = 'jumio_transactions'",
    .unbounded = "SET SESSION max_statement_time = 0",
    .begin = "START TRANSACTION",
    .gate = 0, /* InnoDB locks rows; other nodes write too */
    .upsert = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
              "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON DUPLICATE KEY UPDATE "
              "account_id = VALUES(account_id), credentials = VALUES(credentials), "
              "updated_at = VALUES(updated_at)",
    .upsert_keep = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
                   "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON DUPLICATE KEY UPDATE "
                   "account_id = VALUES(account_id), updated_at = VALUES(updated_at)",
    .id_add = "INSERT IGNORE INTO jumio_account_ids (user_id, account_id, created_at) "
              "VALUES (%s, %s, %lld)",
    .claim_add = "INSERT IGNORE INTO jumio_account_claims (user_id, claim, claim_until) "
                 "VALUES (%s, %s, %lld)",
    .on_connect = jumio_mysql_connect,
    .before_schema = NULL,
    .is_busy = jumio_mysql_busy,
    .is_done = jumio_mysql_done,
};
