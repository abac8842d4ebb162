/* handle.h - the request handlers (src/handle/), one file each, dispatched by the handler
 * table of mod_jumio.c after the method check. */
#ifndef JUMIO_HANDLE_H
#define JUMIO_HANDLE_H

#include "jumio.h"
#include "config.h"

/* What a handler step returns to say "go on"; any other value is the answer already sent. */
#define JUMIO_CONTINUE (-1)

/* One request as every handler sees it, built once by the dispatcher. */
typedef struct {
    request_rec *r;
    jumio_ctx_t c; /* the request's context for storage, client and work calls */
    jumio_srv_cfg_t *sc;
    jumio_dir_cfg_t *dc;
} jumio_req_t;

/* A handler: answers the request (the method is already checked); returns OK. */
typedef int jumio_handler_fn(jumio_req_t *q);

/* POST intake: a new Jumio transaction for the user, answered with the web client link. */
int jumio_handle_intake(jumio_req_t *q);
/* POST callback from Jumio: stored, status moved forward, 200 at once. */
int jumio_handle_callback(jumio_req_t *q);
/* GET poll: the state of the user's own transaction, with the result once processed. */
int jumio_handle_poll(jumio_req_t *q);
/* GET health: database, Jumio's health check and row counters (JSON or Prometheus text). */
int jumio_handle_health(jumio_req_t *q);
/* DELETE erase: the user's account at Jumio, then every local row of the user. */
int jumio_handle_erase(jumio_req_t *q);

#endif
