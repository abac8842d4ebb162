/* dialect.h - what differs between the SQL drivers of mod_dbd that mod_jumio supports: one
 * descriptor per driver (src/store/sqlite.c, src/store/mysql.c), used by the rest of
 * src/store/. */
#ifndef JUMIO_DIALECT_H
#define JUMIO_DIALECT_H

#include "jumio.h"
#include <apr_dbd.h>
#include <mod_dbd.h>

/* The schema version this module writes and reads (docs/DESIGN.md "Storage"). */
#define JUMIO_SCHEMA_VERSION 3

typedef struct {
    const char *name; /* apr_dbd_name() of the driver */
    /* migrations[v]: the statements that take the schema from version v - 1 to v
     * (NULL-terminated; [1] creates the first schema, IF NOT EXISTS) */
    const char *const *migrations[JUMIO_SCHEMA_VERSION + 1];
    int ddl_in_tx;            /* 1: a migration step and its version row in one transaction */
    const char *schema_table; /* CREATE of jumio_schema, IF NOT EXISTS */
    const char *schema_row;   /* inserts its row (id 1, version 0) unless there is one */
    const char *has_v1;       /* SELECT: 1 row when the unversioned first schema exists */
    const char *unbounded;    /* lifts the per-statement time bound while migrating, or NULL */
    const char *begin;        /* starts a write transaction, its write lock taken up front */
    int gate;                 /* 1: one writer at a time (all processes and threads of httpd
                               * queue on the store's write gate) */
    const char *upsert;       /* account upsert (user, account, creds, created, updated) */
    const char *upsert_keep;  /* the same, leaving stored credentials alone */
    const char *id_add;       /* remember (user, account, created) unless known */
    const char *claim_add;    /* (user, claim, until) unless the user has a claim */
    /* run on each new connection before anything else (timeout: JumioDBTimeout seconds) */
    void (*on_connect)(jumio_ctx_t *c, ap_dbd_t *dbd, int timeout);
    /* run before the schema is first created (NULL: nothing to do); 0 or the driver's status */
    int (*before_schema)(jumio_ctx_t *c, ap_dbd_t *dbd);
    /* 1 when the failure status rv of a call means "locked or deadlocked": try again */
    int (*is_busy)(ap_dbd_t *dbd, int rv);
    /* 1 when a migration statement failed only because it was done before (NULL: never) */
    int (*is_done)(ap_dbd_t *dbd, int rv);
} jumio_dialect_t;

extern const jumio_dialect_t jumio_dialect_sqlite;
extern const jumio_dialect_t jumio_dialect_mysql;

#endif
