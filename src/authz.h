/* authz.h - the authorization provider `Require jumio-verified [<workflow key> ...]` and the
 * hooks around it (src/authz.c, docs/DESIGN.md "Authorization: jumio-verified"). */
#ifndef JUMIO_AUTHZ_H
#define JUMIO_AUTHZ_H

#include "jumio.h"

/* Register the provider and its hooks (register_hooks of the module). */
void jumio_authz_register_hooks(apr_pool_t *p);

#endif
