/* retention.h - JumioRetention enforced by the background task (src/retention.c). */
#ifndef JUMIO_RETENTION_H
#define JUMIO_RETENTION_H

#include "jumio.h"
#include "work.h"

/* The retention in days: the smallest JumioRetention of the configuration (any server, any
 * <Location> or <Directory>), or 0 when none is set (nothing is purged). */
int jumio_retention_days(server_rec *s);
/* One retention round: transactions final for longer than the retention are purged locally
 * and their workflow deleted at Jumio (a bounded batch, each claimed in the database; a
 * failed deletion is tried again later), until stop() says so. */
void jumio_retention_round(jumio_ctx_t *c, jumio_work_stop_fn *stop);

#endif
