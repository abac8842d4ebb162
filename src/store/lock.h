/* lock.h - how the store waits on the database without holding what another writer needs:
 * the write gate (one writer at a time over all processes and threads of httpd, for SQLite)
 * and the randomised back-off between tries, both bounded by JumioDBTimeout (src/store/). */
#ifndef JUMIO_LOCK_H
#define JUMIO_LOCK_H

#include "jumio.h"

/* Create the write gate (post_config, in the parent); a failure is logged and leaves none. */
void jumio_lock_init(apr_pool_t *pconf, server_rec *s);
/* Attach a child to the write gate. */
void jumio_lock_child_init(apr_pool_t *pchild, server_rec *s);
/* When a database wait that starts now must end: now + what is left of JumioDBTimeout for
 * this request. */
apr_time_t jumio_lock_deadline(jumio_ctx_t *c);
/* Wait for the write gate until the deadline: 1 held, 0 no gate (go on without), -1 timed out. */
int jumio_lock_gate_enter(jumio_ctx_t *c, apr_time_t deadline);
/* Give the write gate back. */
void jumio_lock_gate_leave(jumio_ctx_t *c);
/* Sleep a short random while before try number attempt + 1: 0, or -1 (logged) when the
 * deadline would pass first, counting the next try as long as `slowest`. */
int jumio_lock_backoff(jumio_ctx_t *c, int attempt, apr_time_t deadline,
                       apr_interval_time_t slowest);

#endif
