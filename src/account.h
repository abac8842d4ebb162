/* account.h - the user's Jumio account as requests share it: the per-user claim that lets one
 * request at a time create the account or erase the user, over all processes and nodes
 * (held in a database row, never across a connection; docs/DESIGN.md "Accounts"). */
#ifndef JUMIO_ACCOUNT_H
#define JUMIO_ACCOUNT_H

#include "jumio.h"

typedef enum {
    JUMIO_ACCOUNT_CLAIMED, /* the claim is ours: create (or erase), then give it up */
    JUMIO_ACCOUNT_EXISTS,  /* another request made a usable account meanwhile: use it */
    JUMIO_ACCOUNT_BUSY,    /* another request kept the claim past our wait */
    JUMIO_ACCOUNT_ERROR    /* the database failed (logged) */
} jumio_account_e;

/* How long a claim taken now may be held (seconds): the Jumio calls made under it. */
int jumio_account_hold(jumio_ctx_t *c, int calls);
/* Claim `user` as `claim` for `hold` seconds, waiting while another request holds it, at most
 * `wait` seconds. With want_account, stop as soon as the user has a stored account other than
 * `gone` (its id in *account_id) instead of claiming. */
jumio_account_e jumio_account_claim(jumio_ctx_t *c, const char *user, const char *claim, int hold,
                                    int wait, int want_account, const char *gone,
                                    const char **account_id);

#endif
