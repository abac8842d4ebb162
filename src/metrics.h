/* metrics.h - counters, gauges and histograms of a node, shared by every child process and
 * thread of one httpd (anonymous shared memory made in post_config, inherited by the children,
 * updated with atomic adds: src/metrics.c). Shown by jumio-status (Prometheus text with
 * ?format=prometheus, and in the JSON answer); docs/DESIGN.md "Metrics".
 *
 * Using it from new code (retention, notifications, ...):
 *     jumio_metric_inc(JUMIO_M_RETENTION_PURGED);         one more
 *     jumio_metric_add(JUMIO_M_NOTIFY_SENT, n);           n more
 *     jumio_metric_set(JUMIO_M_NOTIFY_PENDING, pending);  a gauge's current value
 *     jumio_metric_observe(JUMIO_HIST_BACKGROUND_ROUND, apr_time_now() - start);
 * Every call is cheap (one relaxed atomic add), never fails, never blocks, and is a no-op
 * before post_config or when the shared memory could not be made. A new series is one more
 * enumerator below plus its line in the table of src/metrics.c. */
#ifndef JUMIO_METRICS_H
#define JUMIO_METRICS_H

#include "jumio.h"
#include <apr_time.h>
#include <jansson.h>

/* One series each: a counter (only goes up) unless marked gauge. */
typedef enum {
    JUMIO_M_TOKEN_FETCH_OK,     /* jumio_token_fetches_total{result="ok"} */
    JUMIO_M_TOKEN_FETCH_FAILED, /* jumio_token_fetches_total{result="failed"} */
    JUMIO_M_INTAKE_CREATED,     /* jumio_intakes_total{result="created"}: transaction stored */
    JUMIO_M_INTAKE_REUSED,      /* jumio_intakes_total{result="reused"} (JumioIntakeReuse) */
    JUMIO_M_INTAKE_LIMITED,     /* jumio_intakes_total{result="limited"} (JumioIntakeLimit 429) */
    JUMIO_M_CB_STORED,          /* jumio_callbacks_total{result="accepted",reason="stored"} */
    JUMIO_M_CB_DROPPED_UNKNOWN, /* {result="dropped",reason="unknown_transaction"} (200, unsigned) */
    JUMIO_M_CB_DROPPED_ERASED,  /* {result="dropped",reason="erased"} (200, nothing kept) */
    JUMIO_M_CB_REFUSED_REQUEST,      /* {result="refused",reason="bad_request"} (400, 413, 415) */
    JUMIO_M_CB_REFUSED_TOKEN,        /* {result="refused",reason="bad_token"} (403) */
    JUMIO_M_CB_REFUSED_UNKNOWN,      /* {result="refused",reason="unknown_transaction"} (403) */
    JUMIO_M_CB_REFUSED_DATABASE,     /* {result="refused",reason="unavailable"} (503) */
    JUMIO_M_NOTIFY_SENT,             /* jumio_notifications_total{result="sent"} */
    JUMIO_M_NOTIFY_FAILED,           /* jumio_notifications_total{result="failed"} */
    JUMIO_M_NOTIFY_PENDING,          /* gauge jumio_notifications_pending (jumio_metric_set) */
    JUMIO_M_NOTIFY_GIVEN_UP,         /* gauge jumio_notifications_failed: given up, in the outbox */
    JUMIO_M_RETENTION_PURGED,        /* jumio_retention_purged_total: transactions purged locally */
    JUMIO_M_RETENTION_DELETED,       /* jumio_retention_deletions_total{result="ok"} at Jumio */
    JUMIO_M_RETENTION_DELETE_FAILED, /* jumio_retention_deletions_total{result="failed"} */
    JUMIO_M_BACKGROUND_ROUNDS,       /* jumio_background_rounds_total */
    JUMIO_M_DB_ERROR,      /* jumio_database_errors_total{kind="error"}: a store call failed */
    JUMIO_M_DB_BUSY,       /* {kind="busy"}: the database stayed busy past JumioDBTimeout */
    JUMIO_M_DB_CONNECTION, /* {kind="connection"}: no usable connection from mod_dbd */
    JUMIO_M_COUNT
} jumio_metric_e;

/* Histograms (buckets in seconds) besides the one of Jumio calls (jumio_metric_call). */
typedef enum {
    JUMIO_HIST_BACKGROUND_ROUND, /* jumio_background_round_duration_seconds */
    JUMIO_HIST_COUNT
} jumio_hist_e;

/* The services of Jumio calls (label service of jumio_api_calls_total and of the
 * jumio_api_call_duration_seconds histogram). */
typedef enum {
    JUMIO_CALL_TOKEN,
    JUMIO_CALL_ACCOUNT_CREATE,
    JUMIO_CALL_ACCOUNT_UPDATE,
    JUMIO_CALL_STATUS,
    JUMIO_CALL_DETAILS,
    JUMIO_CALL_DELETE_ACCOUNT,
    JUMIO_CALL_DELETE_WORKFLOW,
    JUMIO_CALL_HEALTH,
    JUMIO_CALL_JWKS,   /* the identity provider's JWKS document (not Jumio, same client) */
    JUMIO_CALL_NOTIFY, /* a signed result notification to the portal (src/notify.c) */
    JUMIO_CALL_OTHER,
    JUMIO_CALL_COUNT
} jumio_call_e;

/* How one HTTP exchange ended (label outcome). */
typedef enum {
    JUMIO_OUT_OK,          /* 2xx */
    JUMIO_OUT_NOT_FOUND,   /* 404 */
    JUMIO_OUT_REJECTED,    /* other 4xx (401 included) */
    JUMIO_OUT_BUSY,        /* 429 */
    JUMIO_OUT_ERROR,       /* 5xx or any other status */
    JUMIO_OUT_TIMEOUT,     /* no answer within JumioTimeout */
    JUMIO_OUT_UNREACHABLE, /* no answer: connection, TLS or protocol failure */
    JUMIO_OUT_COUNT
} jumio_outcome_e;

/* Make (first start) or find again (restart) the shared memory; post_config. */
apr_status_t jumio_metrics_init(apr_pool_t *pconf, server_rec *s);

/* Add n to a counter. */
void jumio_metric_add(jumio_metric_e m, apr_uint64_t n);
/* Add 1 to a counter. */
void jumio_metric_inc(jumio_metric_e m);
/* Set a gauge. */
void jumio_metric_set(jumio_metric_e m, apr_int64_t v);
/* Count one observation of a histogram. */
void jumio_metric_observe(jumio_hist_e h, apr_interval_time_t took);
/* One HTTP exchange with Jumio: jumio_api_calls_total and its duration histogram. */
void jumio_metric_call(jumio_call_e svc, jumio_outcome_e out, apr_interval_time_t took);
/* The outcome of an exchange from its HTTP status (0: no answer; timeout: it timed out). */
jumio_outcome_e jumio_metric_outcome(long status, int timeout);
/* Label value of a service ("token", "account_create", ...). */
const char *jumio_metric_call_name(jumio_call_e svc);
/* A request answered by handler `name` (SetHandler, e.g. "jumio-intake") with HTTP status:
 * jumio_requests_total{handler,code}. */
void jumio_metric_request(const char *name, int status);

/* The database gauges of jumio-status (row counts), read at most once per
 * JUMIO_METRICS_DB_CACHE per node (whichever child finds them old refreshes them). */
#define JUMIO_METRICS_DB_GAUGES 5
#define JUMIO_METRICS_DB_CACHE  apr_time_from_sec(5)
/* Copy the cached gauges into v when they are younger than JUMIO_METRICS_DB_CACHE: 1; else 0,
 * and *refresh 1 when the caller has won the right to refresh them (jumio_metrics_db_store). */
int jumio_metrics_db_cached(apr_int64_t v[JUMIO_METRICS_DB_GAUGES], int *refresh);
/* Store freshly counted gauges (ok 0: counting failed, the refresh is given back). */
void jumio_metrics_db_store(const apr_int64_t v[JUMIO_METRICS_DB_GAUGES], int ok);

/* Append every family as Prometheus text (0.0.4) to r. */
void jumio_metrics_prometheus(request_rec *r);
/* Every family as a JSON object {family: {type, help, samples: [...]}} (new reference). */
json_t *jumio_metrics_json(void);

#endif
