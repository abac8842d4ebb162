/* dialect.h - what differs between the SQL drivers of mod_dbd that mod_jumio supports: one
 * descriptor per driver (src/store/sqlite.c, src/store/mysql.c), used by src/store/store.c. */
#ifndef JUMIO_DIALECT_H
#define JUMIO_DIALECT_H

#include "jumio.h"
#include <apr_dbd.h>
#include <mod_dbd.h>

typedef struct {
    const char *name;                   /* apr_dbd_name() of the driver */
    const char *const *schema;          /* CREATE statements, NULL-terminated */
    const char *schema_begin;           /* starts the schema's one transaction; NULL: none */
    const char *upsert;                 /* account upsert (user, account, creds, created, updated) */
    const char *upsert_keep;            /* the same, leaving stored credentials alone */
    /* run on each new connection before anything else; NULL: nothing to do */
    void (*on_connect)(jumio_ctx_t *c, ap_dbd_t *dbd);
    /* run before the schema is created; NULL: nothing to do */
    void (*before_schema)(jumio_ctx_t *c, ap_dbd_t *dbd);
} jumio_dialect_t;

extern const jumio_dialect_t jumio_dialect_sqlite;
extern const jumio_dialect_t jumio_dialect_mysql;

#endif
