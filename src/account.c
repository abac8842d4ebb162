/* account.c - the per-user claim (see account.h): a row of jumio_account_claims with an
 * expiry, taken in a short write; waiters read the user's state every 25-75 ms without
 * holding a connection in between. */
#include "account.h"
#include "config.h"
#include "store/store.h"
#include <stdlib.h>

/* How long a claim taken now may be held (seconds): `calls` Jumio calls, each with its token
 * request and one retry, plus a margin. */
int jumio_account_hold(jumio_ctx_t *c, int calls)
{
    return calls * 3 * jumio_config_timeout(jumio_config_srv_of(c)) + 5;
}

/* Sleep 25-75 ms (spread, so that waiters do not move in step). */
static void jumio_account_pause(void)
{
    unsigned seed = (unsigned)apr_time_now() ^ (unsigned)(apr_uintptr_t)&seed;
    apr_sleep(apr_time_from_msec(25 + rand_r(&seed) % 51));
}

/* ready(), or 0 without one. */
static int jumio_account_ready(jumio_ctx_t *c, const char *user, const char *account_id,
                               jumio_account_ready_fn *ready, void *arg)
{
    return ready ? ready(c, user, account_id, arg) : 0;
}

/* Take the claim once it is free; what became ready meanwhile wins (the claim is given back).
 * JUMIO_ACCOUNT_CLAIMED/READY/ERROR, or -1 when another took it first. */
static int jumio_account_try(jumio_ctx_t *c, const char *user, const char *claim, int hold,
                             jumio_account_ready_fn *ready, void *arg)
{
    const char *account_id = NULL;
    int rc = jumio_store_user_claim(c, user, claim,
                                    (apr_int64_t)apr_time_sec(apr_time_now()) + hold, &account_id);
    if (rc <= 0)
        return rc < 0 ? JUMIO_ACCOUNT_ERROR : -1;
    rc = jumio_account_ready(c, user, account_id, ready, arg);
    if (!rc)
        return JUMIO_ACCOUNT_CLAIMED;
    jumio_store_user_unclaim(c, user, claim);
    return rc < 0 ? JUMIO_ACCOUNT_ERROR : JUMIO_ACCOUNT_READY;
}

/* Claim the user, waiting for another holder at most `wait` seconds (see account.h). */
jumio_account_e jumio_account_claim(jumio_ctx_t *c, const char *user, const char *claim, int hold,
                                    int wait, jumio_account_ready_fn *ready, void *arg)
{
    apr_time_t until = apr_time_now() + apr_time_from_sec(wait);
    const char *holder, *account_id;
    int rc;
    for (;;) {
        if (jumio_store_user_state(c, user, &account_id, &holder))
            return JUMIO_ACCOUNT_ERROR;
        if ((rc = jumio_account_ready(c, user, account_id, ready, arg)))
            return rc < 0 ? JUMIO_ACCOUNT_ERROR : JUMIO_ACCOUNT_READY;
        if (!holder && (rc = jumio_account_try(c, user, claim, hold, ready, arg)) >= 0)
            return rc;
        if (apr_time_now() >= until) {
            jumio_log(c, APLOG_WARNING, 0,
                      "mod_jumio: another request of the same user kept its claim for %d s", wait);
            return JUMIO_ACCOUNT_BUSY;
        }
        jumio_account_pause();
    }
}
