/* schema.h - schema versions of the store: the version row, the ordered migration steps of
 * each dialect applied once under a lock held in that row, a newer schema refused
 * (src/store/, docs/DESIGN.md "Storage"). */
#ifndef JUMIO_SCHEMA_H
#define JUMIO_SCHEMA_H

#include "store/conn.h"

/* Make the schema of a new connection's database current (migrating it, or waiting for the
 * node that does, until deadline); 0, or -1 (logged: busy past the deadline, a failed step,
 * a schema newer than this module's). */
int jumio_schema_ensure(jumio_ctx_t *c, jumio_conn_t *db, apr_time_t deadline);

#endif
