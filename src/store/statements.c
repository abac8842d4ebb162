/* statements.c - the SQL of the store's prepared statements (src/store/statements.h). */
#include "store/statements.h"

#define JUMIO_TX_COLS                                                                              \
    "workflow_id, account_id, user_id, workflow_key, cir, redirect_url, "                          \
    "jumio_timestamp, status, callback_token, details, decision, status_checks, created_at, "      \
    "summary, purged_at"

/* The SQL of each statement; NULL where the dialect gives it. */
static const char *const jumio_statement_text[JUMIO_ST_COUNT] = {
    [JUMIO_ST_ACCT_GET] = "SELECT account_id, credentials FROM jumio_accounts WHERE user_id = %s",
    /* inserted only while the account is one the user still has (erase removes the ids) */
    [JUMIO_ST_TX_INSERT] =
        "INSERT INTO jumio_transactions (workflow_id, account_id, user_id, workflow_key, cir, "
        "redirect_url, jumio_timestamp, status, status_rank, callback_token, status_checks, "
        "next_check_at, created_at, updated_at, settings, reuse_until) "
        "SELECT %s, account_id, user_id, %d, %s, %s, %s, 'INITIATED', 0, %s, 0, %lld, %lld, %lld, "
        "%s, %lld FROM jumio_account_ids WHERE user_id = %s AND account_id = %s",
    [JUMIO_ST_TX_GET] = "SELECT " JUMIO_TX_COLS " FROM jumio_transactions WHERE workflow_id = %s",
    /* an expiry makes the transaction final; PROCESSED is final once its details are stored */
    [JUMIO_ST_TX_STATUS] =
        "UPDATE jumio_transactions SET status = %s, status_rank = %d, updated_at = %lld, "
        "final_at = CASE WHEN %s IN ('SESSION_EXPIRED', 'TOKEN_EXPIRED') THEN %lld ELSE final_at "
        "END "
        "WHERE workflow_id = %s AND status_rank < %d",
    /* always changes the row (the counter), so that a callback conflicts with an erase of the
     * transaction on every engine, a Galera cluster included */
    [JUMIO_ST_CB_TOUCH] = "UPDATE jumio_transactions SET callbacks = callbacks + 1 "
                          "WHERE workflow_id = %s",
    [JUMIO_ST_CB_INSERT] =
        "INSERT INTO jumio_callbacks (received_at, remote_addr, workflow_id, status, body) "
        "VALUES (%lld, %s, %s, %s, %s)",
    [JUMIO_ST_DETAILS] = "UPDATE jumio_transactions SET details = %s, summary = %s, decision = %s, "
                         "updated_at = %lld, final_at = %lld "
                         "WHERE workflow_id = %s AND details IS NULL AND purged_at = 0",
    [JUMIO_ST_CLAIM] =
        "UPDATE jumio_transactions SET status_checks = status_checks + 1, next_check_at = %lld "
        "WHERE workflow_id = %s AND status_checks = %d AND status_rank < 2",
    [JUMIO_ST_CLAIM_DETAILS] =
        "UPDATE jumio_transactions SET details_claim_until = %lld, "
        "details_attempts = details_attempts + 1 WHERE workflow_id = %s AND details IS NULL "
        "AND status = 'PROCESSED' AND details_claim_until < %lld AND details_attempts < 10 "
        "AND purged_at = 0",
    /* the details a callback announced first, newest first (a user is waiting for them), then
     * the status checks by due time: a backlog of old work (a node back after a while, a
     * shared database) does not hold up a fresh result */
    [JUMIO_ST_DUE] =
        "SELECT " JUMIO_TX_COLS " FROM jumio_transactions WHERE (next_check_at <= %lld AND "
        "status_rank < 2) OR (status_rank = 2 AND status = 'PROCESSED' AND details IS NULL AND "
        "details_claim_until < %lld AND details_attempts < 10 AND purged_at = 0) "
        "ORDER BY status_rank DESC, CASE WHEN status_rank = 2 THEN -created_at ELSE next_check_at "
        "END "
        "LIMIT 20",
    [JUMIO_ST_UNCLAIM_DETAILS] =
        "UPDATE jumio_transactions SET details_claim_until = 0 WHERE workflow_id = %s "
        "AND details IS NULL",
    [JUMIO_ST_ERASE_CB] = "DELETE FROM jumio_callbacks WHERE workflow_id IN "
                          "(SELECT workflow_id FROM jumio_transactions WHERE user_id = %s)",
    [JUMIO_ST_ERASE_TX] = "DELETE FROM jumio_transactions WHERE user_id = %s",
    [JUMIO_ST_ERASE_ACCT] = "DELETE FROM jumio_accounts WHERE user_id = %s",
    [JUMIO_ST_ERASE_IDS] = "DELETE FROM jumio_account_ids WHERE user_id = %s",
    [JUMIO_ST_COUNTERS] =
        "SELECT (SELECT COUNT(*) FROM jumio_transactions), "
        "(SELECT COUNT(*) FROM jumio_transactions WHERE status_rank < 2), "
        "(SELECT COUNT(*) FROM jumio_transactions WHERE status = 'PROCESSED' AND details IS NULL "
        "AND purged_at = 0), "
        "(SELECT COUNT(*) FROM jumio_callbacks), (SELECT COUNT(*) FROM jumio_accounts)",
    [JUMIO_ST_CLAIM_DETAILS_ANY] =
        "UPDATE jumio_transactions SET details_claim_until = %lld, "
        "details_attempts = details_attempts + 1 WHERE workflow_id = %s AND details IS NULL "
        "AND status = 'PROCESSED' AND details_claim_until < %lld AND purged_at = 0",
    [JUMIO_ST_RESCHEDULE] =
        "UPDATE jumio_transactions SET next_check_at = %lld WHERE workflow_id = %s "
        "AND status_checks = %d",
    /* every account id ever used for a user, whichever table still names it */
    [JUMIO_ST_IDS_GET] = "SELECT account_id FROM jumio_account_ids WHERE user_id = %s UNION "
                         "SELECT account_id FROM jumio_accounts WHERE user_id = %s UNION "
                         "SELECT account_id FROM jumio_transactions WHERE user_id = %s",
    [JUMIO_ST_USER_CLAIM_CLEAR] =
        "DELETE FROM jumio_account_claims WHERE user_id = %s AND claim_until < %lld",
    [JUMIO_ST_USER_CLAIM_DROP] =
        "DELETE FROM jumio_account_claims WHERE user_id = %s AND claim = %s",
    [JUMIO_ST_USER_STATE] =
        "SELECT (SELECT account_id FROM jumio_accounts WHERE user_id = %s), "
        "(SELECT claim FROM jumio_account_claims WHERE user_id = %s AND claim_until >= %lld)",
    /* the newest INITIATED transaction of the user made with the same settings, while its
     * link is still valid */
    [JUMIO_ST_TX_REUSABLE] = "SELECT " JUMIO_TX_COLS " FROM jumio_transactions WHERE user_id = %s "
                             "AND settings = %s AND status = 'INITIATED' AND reuse_until > %lld "
                             "ORDER BY created_at DESC",
    /* when the user's transactions of a period began, newest first (JumioIntakeLimit) */
    [JUMIO_ST_TX_RECENT] = "SELECT created_at FROM jumio_transactions WHERE user_id = %s "
                           "AND created_at > %lld ORDER BY created_at DESC",
    /* the user's results with one of two decisions, final after a time, newest first
     * (Require jumio-verified, src/authz.c) */
    [JUMIO_ST_VERIFIED] = "SELECT workflow_id, workflow_key, decision, final_at "
                          "FROM jumio_transactions WHERE user_id = %s AND decision IN (%s, %s) "
                          "AND final_at > %lld ORDER BY final_at DESC",
    /* ---- signed result notifications (the outbox) ---- */
    /* the notification of a transaction made final by this very DB transaction (final_at is
     * its time), unless it has one: written with the write that makes it final */
    [JUMIO_ST_NOTE_INSERT] =
        "INSERT INTO jumio_notifications (id, workflow_id, user_id, body, state, attempts, "
        "next_at, claim_until, last_status, created_at, done_at) "
        "SELECT %s, workflow_id, user_id, %s, 'pending', 0, %lld, 0, 0, %lld, 0 "
        "FROM jumio_transactions WHERE workflow_id = %s AND final_at = %lld "
        "AND NOT EXISTS (SELECT 1 FROM jumio_notifications WHERE id = %s)",
    [JUMIO_ST_NOTE_DUE] = "SELECT id, body, attempts, created_at FROM jumio_notifications "
                          "WHERE state = 'pending' AND next_at <= %lld AND claim_until < %lld "
                          "ORDER BY next_at LIMIT 10",
    /* a claim of try number attempts + 1, only if nobody tried it since it was read */
    [JUMIO_ST_NOTE_CLAIM] =
        "UPDATE jumio_notifications SET claim_by = %s, claim_until = %lld, "
        "attempts = attempts + 1 WHERE id = %s AND state = 'pending' AND next_at <= %lld "
        "AND claim_until < %lld AND attempts = %d",
    /* the outcome of a try, by the claim's holder only */
    [JUMIO_ST_NOTE_DONE] =
        "UPDATE jumio_notifications SET state = %s, last_status = %d, next_at = %lld, "
        "done_at = %lld, claim_until = 0 WHERE id = %s AND claim_by = %s AND attempts = %d",
    [JUMIO_ST_NOTE_ERASE] = "DELETE FROM jumio_notifications WHERE user_id = %s",
    /* index-only counts (index on state, next_at) */
    [JUMIO_ST_NOTE_COUNTS] =
        "SELECT (SELECT COUNT(*) FROM jumio_notifications WHERE state = 'pending'), "
        "(SELECT COUNT(*) FROM jumio_notifications WHERE state = 'failed')",
    /* retention: transactions final before a cutoff whose workflow is not yet confirmed
     * deleted at Jumio (deleted_at is only set once purged_at is), due now, oldest first */
    [JUMIO_ST_RETENTION_DUE] =
        "SELECT workflow_id, account_id, purged_at, retention_next_at, retention_attempts "
        "FROM jumio_transactions WHERE deleted_at = 0 AND final_at > 0 AND final_at < %lld "
        "AND retention_next_at <= %lld ORDER BY final_at LIMIT 10",
    /* the claim: the due time as read is replaced by the end of the lease */
    [JUMIO_ST_RETENTION_CLAIM] =
        "UPDATE jumio_transactions SET retention_next_at = %lld WHERE workflow_id = %s "
        "AND retention_next_at = %lld AND deleted_at = 0 AND final_at > 0 AND final_at < %lld",
    [JUMIO_ST_RETENTION_PURGE_TX] =
        "UPDATE jumio_transactions SET details = NULL, purged_at = %lld "
        "WHERE workflow_id = %s AND purged_at = 0 AND final_at > 0",
    [JUMIO_ST_RETENTION_PURGE_CB] =
        "UPDATE jumio_callbacks SET body = NULL WHERE workflow_id = %s AND body IS NOT NULL",
    [JUMIO_ST_RETENTION_DELETED] = "UPDATE jumio_transactions SET deleted_at = %lld "
                                   "WHERE workflow_id = %s AND deleted_at = 0 AND purged_at > 0",
    /* a failed deletion: the next try, while the lease is still ours */
    [JUMIO_ST_RETENTION_RETRY] =
        "UPDATE jumio_transactions SET retention_next_at = %lld, "
        "retention_attempts = retention_attempts + 1 WHERE workflow_id = %s "
        "AND retention_next_at = %lld AND deleted_at = 0",
    /* a delivered (or given up) notification holds the user id and the result: gone too */
    [JUMIO_ST_RETENTION_PURGE_NOTE] =
        "DELETE FROM jumio_notifications WHERE workflow_id = %s AND state <> 'pending'"
};

/* SQL of statement st on a connection of dialect d. */
const char *jumio_statement_sql(const jumio_dialect_t *d, jumio_st_e st)
{
    switch (st) {
    case JUMIO_ST_ACCT_UPSERT:
        return d->upsert;
    case JUMIO_ST_ACCT_UPSERT_KEEP:
        return d->upsert_keep;
    case JUMIO_ST_ID_ADD:
        return d->id_add;
    case JUMIO_ST_USER_CLAIM_ADD:
        return d->claim_add;
    default:
        return jumio_statement_text[st];
    }
}
