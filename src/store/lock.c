/* lock.c - the write gate and the back-off of the store (see lock.h and docs/DESIGN.md). */
#include "store/lock.h"
#include "config.h"
#include <apr_global_mutex.h>
#include <stdlib.h>

/* A pthread mutex in shared memory: waiters sleep in the kernel and the next one runs as soon
 * as the holder leaves (no polling), with a native timed wait; it serves threads too. */
#if APR_HAS_PROC_PTHREAD_SERIALIZE
#define JUMIO_LOCK_MECH APR_LOCK_PROC_PTHREAD
#else
#define JUMIO_LOCK_MECH APR_LOCK_DEFAULT
#endif

static apr_global_mutex_t *jumio_lock_gate;

/* Log why there is no write gate and leave none. */
static void jumio_lock_none(server_rec *s, apr_status_t rv, const char *what)
{
    jumio_lock_gate = NULL;
    ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                 "mod_jumio: cannot %s the database write gate; "
                 "SQLite writers will meet each other's locks (slower)",
                 what);
}

/* Create the write gate (post_config, in the parent); a failure is logged and leaves none. */
void jumio_lock_init(apr_pool_t *pconf, server_rec *s)
{
    apr_status_t rv = apr_global_mutex_create(&jumio_lock_gate, NULL, JUMIO_LOCK_MECH, pconf);
    if (rv != APR_SUCCESS)
        jumio_lock_none(s, rv, "create");
}

/* Attach a child to the write gate. */
void jumio_lock_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;
    if (!jumio_lock_gate)
        return;
    rv = apr_global_mutex_child_init(&jumio_lock_gate, NULL, pchild);
    if (rv != APR_SUCCESS)
        jumio_lock_none(s, rv, "attach to");
}

/* When a database wait that starts now must end: now + what is left of JumioDBTimeout for
 * this request (c->db_waited counts the time already spent waiting). */
apr_time_t jumio_lock_deadline(jumio_ctx_t *c)
{
    return apr_time_now() + apr_time_from_sec(jumio_config_db_timeout(jumio_config_srv_of(c)))
           - c->db_waited;
}

/* Wait for the write gate until the deadline: 1 held, 0 no gate (go on without), -1 timed out. */
int jumio_lock_gate_enter(jumio_ctx_t *c, apr_time_t deadline)
{
    apr_interval_time_t left = deadline - apr_time_now();
    apr_status_t rv;
    if (!jumio_lock_gate)
        return 0;
    if (left <= 0)
        return -1;
    rv = apr_global_mutex_timedlock(jumio_lock_gate, left);
    if (rv == APR_SUCCESS)
        return 1;
    if (APR_STATUS_IS_TIMEUP(rv))
        return -1;
    jumio_log(c, APLOG_ERR, rv, "mod_jumio: waiting for the database write gate failed");
    return 0;
}

/* Give the write gate back. */
void jumio_lock_gate_leave(jumio_ctx_t *c)
{
    apr_status_t rv = apr_global_mutex_unlock(jumio_lock_gate);
    if (rv != APR_SUCCESS)
        jumio_log(c, APLOG_ERR, rv, "mod_jumio: releasing the database write gate failed");
}

/* A random number in 0 .. max (cheap, per call; good enough to spread retries apart). */
static apr_interval_time_t jumio_lock_jitter(apr_interval_time_t max)
{
    unsigned seed = (unsigned)apr_time_now() ^ (unsigned)(apr_uintptr_t)&seed;
    return max > 0 ? (apr_interval_time_t)rand_r(&seed) % (max + 1) : 0;
}

/* Sleep a short random while before try number attempt + 1 (half to all of 2^(attempt+1) ms,
 * at most 64 ms): 0, or -1 (logged) when the deadline would pass first, counting a try as long
 * as the slowest one so far (`slowest`: the APR SQLite driver alone may spend 1.6 s in one call
 * meeting another process's lock). */
int jumio_lock_backoff(jumio_ctx_t *c, int attempt, apr_time_t deadline,
                       apr_interval_time_t slowest)
{
    apr_interval_time_t cap = apr_time_from_msec(attempt < 6 ? 2 << attempt : 64);
    apr_interval_time_t wait = cap / 2 + jumio_lock_jitter(cap / 2);
    if (apr_time_now() + wait + slowest >= deadline) {
        jumio_log(c, APLOG_ERR, 0,
                  "mod_jumio: database busy: given up after %d tries in %d s "
                  "(JumioDBTimeout)",
                  attempt, jumio_config_db_timeout(jumio_config_srv_of(c)));
        return -1;
    }
    apr_sleep(wait);
    return 0;
}
