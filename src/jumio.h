/* jumio.h - what every httpd-facing part of mod_jumio shares: the module record's name and
 * the context work happens in (a request or a background task). */
#ifndef JUMIO_H
#define JUMIO_H

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>

extern module AP_MODULE_DECLARE_DATA jumio_module;
#if defined(APLOG_USE_MODULE) && !defined(JUMIO_MODULE_MAIN)
APLOG_USE_MODULE(jumio);
#endif

/* Where work happens: a request, or a background task (r NULL). */
typedef struct {
    apr_pool_t *pool;
    server_rec *s;
    request_rec *r;
    /* time this request (or background round) spent in slow or busy database calls: every
     * wait on the database together is bounded by JumioDBTimeout (src/store/conn.c) */
    apr_interval_time_t db_waited;
} jumio_ctx_t;

/* Log with the request when there is one, else with the server. */
#define jumio_log(c, level, status, ...)                                                           \
    do {                                                                                           \
        if ((c)->r)                                                                                \
            ap_log_rerror(APLOG_MARK, level, status, (c)->r, __VA_ARGS__);                         \
        else                                                                                       \
            ap_log_error(APLOG_MARK, level, status, (c)->s, __VA_ARGS__);                          \
    } while (0)

#endif
