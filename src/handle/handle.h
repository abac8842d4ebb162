/* handle.h - the request handlers (src/handle/). */
#ifndef JUMIO_HANDLE_H
#define JUMIO_HANDLE_H

#include "jumio.h"

int jumio_handler_intake(request_rec *r);
int jumio_handler_callback(request_rec *r);
int jumio_handler_poll(request_rec *r);
int jumio_handler_status(request_rec *r);
/* Per-child cache of Jumio's health answer (child_init). */
void jumio_status_child_init(apr_pool_t *pchild, server_rec *s);
int jumio_handler_erase(request_rec *r);


#endif
