/* user.h - who is asking: the user id from a verified JWT or from r->user (src/user.c). */
#ifndef JUMIO_USER_H
#define JUMIO_USER_H

#include "jumio.h"
#include "config.h"

/* The user id of the request (JWT or r->user per JumioUserSource), or NULL. */
const char *jumio_user_identify(request_rec *r, const jumio_srv_cfg_t *sc,
                                const jumio_dir_cfg_t *dc);
/* The bearer token of the Authorization header, or NULL. */
const char *jumio_user_bearer(request_rec *r);
/* Answer 401 invalid_token with WWW-Authenticate; returns OK. */
int jumio_user_reject(request_rec *r);

#endif
