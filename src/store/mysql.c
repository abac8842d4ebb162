/* mysql.c - the MySQL/MariaDB dialect of the store: InnoDB schema, lock waits, upserts. */
#include "store/dialect.h"
#include <apr_strings.h>

static const char *const jumio_mysql_schema[] = {
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

/* InnoDB waits for a row lock at most JumioDBTimeout seconds (then ER_LOCK_WAIT_TIMEOUT). */
static void jumio_mysql_connect(jumio_ctx_t *c, ap_dbd_t *dbd, int timeout)
{
    int n, rv = apr_dbd_query(
               dbd->driver, dbd->handle, &n,
               apr_psprintf(c->pool, "SET SESSION innodb_lock_wait_timeout = %d", timeout));
    if (rv)
        jumio_log(c, APLOG_WARNING, 0, "mod_jumio: setting innodb_lock_wait_timeout failed: %s",
                  apr_dbd_error(dbd->driver, dbd->handle, rv));
}

/* ER_LOCK_DEADLOCK (1213; also a Galera certification failure at commit) or
 * ER_LOCK_WAIT_TIMEOUT (1205): the transaction is tried again. */
static int jumio_mysql_busy(ap_dbd_t *dbd, int rv)
{
    return rv == 1213 || rv == 1205;
}

const jumio_dialect_t jumio_dialect_mysql = {
    .name = "mysql",
    .schema = jumio_mysql_schema,
    .schema_in_tx = 0, /* DDL commits implicitly in MySQL */
    .begin = "START TRANSACTION",
    .gate = 0, /* InnoDB locks rows; other nodes write too */
    .upsert = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
              "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON DUPLICATE KEY UPDATE "
              "account_id = VALUES(account_id), credentials = VALUES(credentials), "
              "updated_at = VALUES(updated_at)",
    .upsert_keep = "INSERT INTO jumio_accounts (user_id, account_id, credentials, created_at, "
                   "updated_at) VALUES (%s, %s, %s, %lld, %lld) ON DUPLICATE KEY UPDATE "
                   "account_id = VALUES(account_id), updated_at = VALUES(updated_at)",
    .on_connect = jumio_mysql_connect,
    .before_schema = NULL,
    .is_busy = jumio_mysql_busy,
};
