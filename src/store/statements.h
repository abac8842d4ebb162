/* statements.h - the prepared statements of the store (SQL in src/store/statements.c; the
 * parts that differ between drivers come from the dialect, src/store/dialect.h). */
#ifndef JUMIO_STATEMENTS_H
#define JUMIO_STATEMENTS_H

#include "store/dialect.h"

/* Prepared by us on each new connection once the schema is current (mod_dbd's own
 * ap_dbd_prepare would prepare them before any table could be created: docs/DESIGN.md). */
typedef enum {
    JUMIO_ST_ACCT_GET,
    JUMIO_ST_ACCT_UPSERT,
    JUMIO_ST_ACCT_UPSERT_KEEP,
    JUMIO_ST_TX_INSERT,
    JUMIO_ST_TX_GET,
    JUMIO_ST_TX_STATUS,
    JUMIO_ST_CB_TOUCH,
    JUMIO_ST_CB_INSERT,
    JUMIO_ST_DETAILS,
    JUMIO_ST_CLAIM,
    JUMIO_ST_CLAIM_DETAILS,
    JUMIO_ST_DUE,
    JUMIO_ST_UNCLAIM_DETAILS,
    JUMIO_ST_ERASE_CB,
    JUMIO_ST_ERASE_TX,
    JUMIO_ST_ERASE_ACCT,
    JUMIO_ST_ERASE_IDS,
    JUMIO_ST_COUNTERS,
    JUMIO_ST_CLAIM_DETAILS_ANY,
    JUMIO_ST_RESCHEDULE,
    JUMIO_ST_ID_ADD,
    JUMIO_ST_IDS_GET,
    JUMIO_ST_USER_CLAIM_CLEAR,
    JUMIO_ST_USER_CLAIM_ADD,
    JUMIO_ST_USER_CLAIM_DROP,
    JUMIO_ST_USER_STATE,
    JUMIO_ST_TX_REUSABLE,
    JUMIO_ST_TX_RECENT,
    JUMIO_ST_VERIFIED,
    /* signed result notifications (the outbox jumio_notifications) */
    JUMIO_ST_NOTE_INSERT,
    JUMIO_ST_NOTE_DUE,
    JUMIO_ST_NOTE_CLAIM,
    JUMIO_ST_NOTE_DONE,
    JUMIO_ST_NOTE_ERASE,
    JUMIO_ST_NOTE_COUNTS,
    /* retention (src/retention.c) */
    JUMIO_ST_RETENTION_DUE,
    JUMIO_ST_RETENTION_CLAIM,
    JUMIO_ST_RETENTION_PURGE_TX,
    JUMIO_ST_RETENTION_PURGE_CB,
    JUMIO_ST_RETENTION_DELETED,
    JUMIO_ST_RETENTION_RETRY,
    JUMIO_ST_RETENTION_PURGE_NOTE,
    JUMIO_ST_COUNT
} jumio_st_e;

/* SQL of statement st on a connection of dialect d. */
const char *jumio_statement_sql(const jumio_dialect_t *d, jumio_st_e st);

#endif
