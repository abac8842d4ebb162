/* work.h - retrieval work shared by poll and the background task (src/work.c). */
#ifndef JUMIO_WORK_H
#define JUMIO_WORK_H

#include "jumio.h"
#include "config.h"
#include "store/store.h"

/* Ask the Status API once when the next scheduled check of a non-final transaction is due;
 * moves tx->status forward. */
void jumio_work_status_check(jumio_ctx_t *c, jumio_tx_t *tx);
/* Fetch and store the details of a PROCESSED transaction once; 0 when tx->details is set. */
int jumio_work_fetch_details(jumio_ctx_t *c, jumio_tx_t *tx);
/* 1 when background work should stop at the next transaction (the child is exiting). */
typedef int jumio_work_stop_fn(void);
/* One background round: every transaction with work due now, until stop() says so. */
void jumio_work_round(jumio_ctx_t *c, jumio_work_stop_fn *stop);

#endif
