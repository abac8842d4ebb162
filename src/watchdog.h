/* watchdog.h - the background task with mod_watchdog (src/watchdog.c). */
#ifndef JUMIO_WATCHDOG_H
#define JUMIO_WATCHDOG_H

#include "jumio.h"

/* Register the background task (post_config); without mod_watchdog, polls do the work. */
apr_status_t jumio_watchdog_init(apr_pool_t *pconf, server_rec *s);
/* Per child: stop background work before the child's pools go (child_init). */
void jumio_watchdog_child_init(apr_pool_t *pchild, server_rec *s);
/* 1 once this child is exiting: a background round stops at the next transaction. */
int jumio_watchdog_stopping(void);

#endif
