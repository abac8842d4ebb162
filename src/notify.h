/* notify.h - signed result notifications (JumioNotifyURL, src/notify.c): the body written to
 * the outbox with the write that makes a transaction final, and the background task's
 * sending (docs/DESIGN.md "Result notifications"). */
#ifndef JUMIO_NOTIFY_H
#define JUMIO_NOTIFY_H

#include "jumio.h"
#include "config.h"
#include "store/store.h"
#include "work.h"

/* The notification body of a transaction expiring with `status` (decision and data null), or
 * NULL when the status is no expiry or no JumioNotifyURL is set. */
const char *jumio_notify_expiry(jumio_ctx_t *c, const jumio_tx_t *tx, const char *status);
/* The notification body of a PROCESSED transaction whose details are being stored (data per
 * JumioNotifyData: the summary, the details, or null), or NULL when no JumioNotifyURL is set. */
const char *jumio_notify_result(jumio_ctx_t *c, const jumio_tx_t *tx, const char *decision,
                                const char *details, const char *summary);
/* One sending round of the background task: every due notification claimed by this process,
 * POSTed signed; a 2xx ends it, anything else sets the next try (or fails it after 3 days).
 * Stops at the first that gets no answer (the receiver is down), or when stop() says so. */
void jumio_notify_round(jumio_ctx_t *c, jumio_work_stop_fn *stop);

#endif
