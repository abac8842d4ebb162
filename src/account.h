/* account.h - the user's Jumio account as requests share it: the per-user claim that lets one
 * request at a time create the account, run an intake (reuse, quota) or erase the user, over
 * all processes and nodes (a database row, never a held connection; docs/DESIGN.md
 * "Accounts"). */
#ifndef JUMIO_ACCOUNT_H
#define JUMIO_ACCOUNT_H

#include "jumio.h"

typedef enum {
    JUMIO_ACCOUNT_CLAIMED, /* the claim is ours: do the work, then give it up */
    JUMIO_ACCOUNT_READY,   /* another request did what we need meanwhile (ready said so) */
    JUMIO_ACCOUNT_BUSY,    /* another request kept the claim past our wait */
    JUMIO_ACCOUNT_ERROR    /* the database failed (logged) */
} jumio_account_e;

/* What a waiter checks before waiting on, and again once it holds the claim, given the
 * user's stored account id as just read (NULL when none): 1 the claim is not needed any more,
 * 0 go on, -1 error. */
typedef int jumio_account_ready_fn(jumio_ctx_t *c, const char *user, const char *account_id,
                                   void *arg);

/* How long a claim taken now may be held (seconds): the Jumio calls made under it. */
int jumio_account_hold(jumio_ctx_t *c, int calls);
/* Claim `user` as `claim` for `hold` seconds, waiting while another request holds it, at most
 * `wait` seconds; stops early when ready (if not NULL) says the claim is not needed. */
jumio_account_e jumio_account_claim(jumio_ctx_t *c, const char *user, const char *claim, int hold,
                                    int wait, jumio_account_ready_fn *ready, void *arg);

#endif
