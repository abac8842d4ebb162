/* dialect.h - what differs between the SQL drivers of mod_dbd that mod_jumio supports: one
 * descriptor per driver (src/store/sqlite.c, src/store/mysql.c), used by src/store/store.c. */
#ifndef JUMIO_DIALECT_H
#define JUMIO_DIALECT_H

#include "jumio.h"
#include <apr_dbd.h>
#include <mod_dbd.h>

typedef struct {
    const char *name;          /* apr_dbd_name() of the driver */
    const char *const *schema; /* CREATE statements, NULL-terminated */
    int schema_in_tx;          /* 1: the whole schema in one write transaction */
    const char *begin;         /* starts a write transaction, its write lock taken up front */
    int gate;                  /* 1: one writer at a time (all processes and threads of
                                         * httpd queue on the store's write gate) */
    const char *upsert;        /* account upsert (user, account, creds, created, updated) */
    const char *upsert_keep;   /* the same, leaving stored credentials alone */
    /* run on each new connection before anything else (timeout: JumioDBTimeout seconds) */
    void (*on_connect)(jumio_ctx_t *c, ap_dbd_t *dbd, int timeout);
    /* run before the schema is created (NULL: nothing to do); 0 or the driver's status */
    int (*before_schema)(jumio_ctx_t *c, ap_dbd_t *dbd);
    /* 1 when the failure status rv of a call means "locked or deadlocked": try again */
    int (*is_busy)(ap_dbd_t *dbd, int rv);
} jumio_dialect_t;

extern const jumio_dialect_t jumio_dialect_sqlite;
extern const jumio_dialect_t jumio_dialect_mysql;

#endif
