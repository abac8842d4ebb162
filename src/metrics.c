/* metrics.c - the node's metrics in anonymous shared memory (see metrics.h): one segment made
 * in post_config from the process pool, so that it is inherited by every child and survives
 * graceful restarts (figures start at zero when httpd starts); plain 64-bit words updated
 * with relaxed atomic adds, read the same way by jumio-status. */
#include "metrics.h"
#include <apr_shm.h>
#include <apr_strings.h>
#include <http_protocol.h>

#define JUMIO_METRICS_MAGIC    0x4a4d4554u /* "JMET" */
#define JUMIO_METRICS_SHM_KEY  "jumio_metrics_shm"
#define JUMIO_METRICS_BUCKETS  11 /* finite bucket bounds; one more for +Inf */
#define JUMIO_METRICS_HANDLERS 6  /* the five handlers and "other" */
#define JUMIO_METRICS_CODES    5  /* 1xx .. 5xx */

/* Upper bounds of the histogram buckets: label text and microseconds. */
static const char *const jumio_metrics_le[JUMIO_METRICS_BUCKETS] = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"
};
static const apr_int64_t jumio_metrics_le_us[JUMIO_METRICS_BUCKETS] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000
};

typedef struct {
    apr_uint64_t bucket[JUMIO_METRICS_BUCKETS + 1]; /* not cumulative; last: above every bound */
    apr_uint64_t sum_us;
} jumio_metrics_hist_t;

/* The shared segment. */
typedef struct {
    apr_uint32_t magic, size;
    apr_uint64_t counter[JUMIO_M_COUNT]; /* gauges hold an apr_int64_t */
    apr_uint64_t request[JUMIO_METRICS_HANDLERS][JUMIO_METRICS_CODES];
    apr_uint64_t call[JUMIO_CALL_COUNT][JUMIO_OUT_COUNT];
    jumio_metrics_hist_t call_hist[JUMIO_CALL_COUNT];
    jumio_metrics_hist_t hist[JUMIO_HIST_COUNT];
    apr_int64_t db_at;    /* when the database gauges were counted (0: never) */
    apr_int64_t db_claim; /* when a child began counting them (0: none is) */
    apr_int64_t db[JUMIO_METRICS_DB_GAUGES];
} jumio_metrics_shm_t;

static jumio_metrics_shm_t *jumio_metrics_base;

/* What each series of jumio_metric_e is: its family and up to two labels. */
static const struct {
    const char *family, *k1, *v1, *k2, *v2;
} jumio_metrics_meta[JUMIO_M_COUNT] = {
    [JUMIO_M_TOKEN_FETCH_OK] = { "jumio_token_fetches_total", "result", "ok", NULL, NULL },
    [JUMIO_M_TOKEN_FETCH_FAILED] = { "jumio_token_fetches_total", "result", "failed", NULL, NULL },
    [JUMIO_M_INTAKE_CREATED] = { "jumio_intakes_total", "result", "created", NULL, NULL },
    [JUMIO_M_INTAKE_REUSED] = { "jumio_intakes_total", "result", "reused", NULL, NULL },
    [JUMIO_M_INTAKE_LIMITED] = { "jumio_intakes_total", "result", "limited", NULL, NULL },
    [JUMIO_M_CB_STORED] = { "jumio_callbacks_total", "result", "accepted", "reason", "stored" },
    [JUMIO_M_CB_DROPPED_UNKNOWN] = { "jumio_callbacks_total", "result", "dropped", "reason",
                                     "unknown_transaction" },
    [JUMIO_M_CB_DROPPED_ERASED] = { "jumio_callbacks_total", "result", "dropped", "reason",
                                    "erased" },
    [JUMIO_M_CB_REFUSED_REQUEST] = { "jumio_callbacks_total", "result", "refused", "reason",
                                     "bad_request" },
    [JUMIO_M_CB_REFUSED_TOKEN] = { "jumio_callbacks_total", "result", "refused", "reason",
                                   "bad_token" },
    [JUMIO_M_CB_REFUSED_UNKNOWN] = { "jumio_callbacks_total", "result", "refused", "reason",
                                     "unknown_transaction" },
    [JUMIO_M_CB_REFUSED_DATABASE] = { "jumio_callbacks_total", "result", "refused", "reason",
                                      "unavailable" },
    [JUMIO_M_NOTIFY_SENT] = { "jumio_notifications_total", "result", "sent", NULL, NULL },
    [JUMIO_M_NOTIFY_FAILED] = { "jumio_notifications_total", "result", "failed", NULL, NULL },
    [JUMIO_M_NOTIFY_PENDING] = { "jumio_notifications_pending", NULL, NULL, NULL, NULL },
    [JUMIO_M_NOTIFY_GIVEN_UP] = { "jumio_notifications_failed", NULL, NULL, NULL, NULL },
    [JUMIO_M_RETENTION_PURGED] = { "jumio_retention_purged_total", NULL, NULL, NULL, NULL },
    [JUMIO_M_RETENTION_DELETED] = { "jumio_retention_deletions_total", "result", "ok", NULL, NULL },
    [JUMIO_M_RETENTION_DELETE_FAILED] = { "jumio_retention_deletions_total", "result", "failed",
                                          NULL, NULL },
    [JUMIO_M_BACKGROUND_ROUNDS] = { "jumio_background_rounds_total", NULL, NULL, NULL, NULL },
    [JUMIO_M_DB_ERROR] = { "jumio_database_errors_total", "kind", "error", NULL, NULL },
    [JUMIO_M_DB_BUSY] = { "jumio_database_errors_total", "kind", "busy", NULL, NULL },
    [JUMIO_M_DB_CONNECTION] = { "jumio_database_errors_total", "kind", "connection", NULL, NULL },
};

typedef enum {
    JUMIO_FAM_COUNTER,
    JUMIO_FAM_GAUGE,
    JUMIO_FAM_REQUESTS,
    JUMIO_FAM_CALLS,
    JUMIO_FAM_CALL_HIST,
    JUMIO_FAM_HIST
} jumio_fam_kind_e;

/* The families in the order they are shown. */
static const struct {
    const char *name, *type, *help;
    jumio_fam_kind_e kind;
    int hist; /* JUMIO_FAM_HIST: which */
} jumio_metrics_families[] = {
    { "jumio_requests_total", "counter",
      "Requests answered by mod_jumio's handlers, by handler and status code class",
      JUMIO_FAM_REQUESTS, 0 },
    { "jumio_api_calls_total", "counter",
      "HTTP exchanges with Jumio (and the JWKS of JumioJWTKey jwks:), by service and outcome; "
      "each retry counts",
      JUMIO_FAM_CALLS, 0 },
    { "jumio_api_call_duration_seconds", "histogram",
      "Duration of the HTTP exchanges with Jumio, by service", JUMIO_FAM_CALL_HIST, 0 },
    { "jumio_token_fetches_total", "counter", "OAuth2 access token requests, by result",
      JUMIO_FAM_COUNTER, 0 },
    { "jumio_intakes_total", "counter",
      "Intakes: transactions created, reused (JumioIntakeReuse), refused by JumioIntakeLimit",
      JUMIO_FAM_COUNTER, 0 },
    { "jumio_callbacks_total", "counter", "Callbacks from Jumio, by result and reason",
      JUMIO_FAM_COUNTER, 0 },
    { "jumio_notifications_total", "counter", "Notifications to the portal, by result",
      JUMIO_FAM_COUNTER, 0 },
    { "jumio_notifications_pending", "gauge", "Notifications waiting to be sent", JUMIO_FAM_GAUGE,
      0 },
    { "jumio_notifications_failed", "gauge",
      "Notifications given up after 3 days of tries (kept in the outbox)", JUMIO_FAM_GAUGE, 0 },
    { "jumio_retention_purged_total", "counter",
      "Transactions whose details were purged by JumioRetention", JUMIO_FAM_COUNTER, 0 },
    { "jumio_retention_deletions_total", "counter",
      "Workflow deletions at Jumio by JumioRetention, by result", JUMIO_FAM_COUNTER, 0 },
    { "jumio_background_rounds_total", "counter", "Rounds of the background task",
      JUMIO_FAM_COUNTER, 0 },
    { "jumio_background_round_duration_seconds", "histogram",
      "Duration of the rounds of the background task", JUMIO_FAM_HIST,
      JUMIO_HIST_BACKGROUND_ROUND },
    { "jumio_database_errors_total", "counter",
      "Store calls that failed: error, busy past JumioDBTimeout, no connection", JUMIO_FAM_COUNTER,
      0 },
};

static const char *const jumio_metrics_handlers[JUMIO_METRICS_HANDLERS] = { "intake", "callback",
                                                                            "poll",   "status",
                                                                            "erase",  "other" };
static const char *const jumio_metrics_calls[JUMIO_CALL_COUNT] = {
    "token",           "account_create", "account_update", "status", "details", "delete_account",
    "delete_workflow", "health",         "jwks",           "notify", "other"
};
static const char *const jumio_metrics_outcomes[JUMIO_OUT_COUNT] = {
    "ok", "not_found", "rejected", "busy", "error", "timeout", "unreachable"
};

/* Make the segment, or find the one an earlier configuration cycle made (graceful restart):
 * it lives in the process pool, so children of every generation share one. */
apr_status_t jumio_metrics_init(apr_pool_t *pconf, server_rec *s)
{
    apr_pool_t *pp = s->process->pool;
    apr_shm_t *shm = NULL;
    jumio_metrics_shm_t *m;
    apr_status_t rv;
    void *data = NULL;
    jumio_metrics_base = NULL;
    if (apr_pool_userdata_get(&data, JUMIO_METRICS_SHM_KEY, pp) == APR_SUCCESS && data) {
        m = apr_shm_baseaddr_get(data);
        if (m->magic == JUMIO_METRICS_MAGIC && m->size == sizeof(*m)) {
            jumio_metrics_base = m;
            return APR_SUCCESS;
        }
    }
    /* first start, or a module of another layout loaded by this restart: a new segment */
    rv = apr_shm_create(&shm, sizeof(*m), NULL, pp);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "mod_jumio: no anonymous shared memory for the metrics; they stay at 0");
        return APR_SUCCESS;
    }
    m = apr_shm_baseaddr_get(shm);
    memset(m, 0, sizeof(*m));
    m->magic = JUMIO_METRICS_MAGIC;
    m->size = sizeof(*m);
    rv = apr_pool_userdata_set(shm, JUMIO_METRICS_SHM_KEY, apr_pool_cleanup_null, pp);
    if (rv != APR_SUCCESS)
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s,
                     "mod_jumio: the metrics will restart from 0 at the next restart");
    jumio_metrics_base = m;
    return APR_SUCCESS;
}

/* Add n to a shared word. */
static void jumio_metrics_bump(apr_uint64_t *w, apr_uint64_t n)
{
    __atomic_fetch_add(w, n, __ATOMIC_RELAXED);
}

/* Read a shared word. */
static apr_uint64_t jumio_metrics_load(const apr_uint64_t *w)
{
    return __atomic_load_n(w, __ATOMIC_RELAXED);
}

/* Add n to a counter. */
void jumio_metric_add(jumio_metric_e m, apr_uint64_t n)
{
    if (jumio_metrics_base && m >= 0 && m < JUMIO_M_COUNT)
        jumio_metrics_bump(&jumio_metrics_base->counter[m], n);
}

/* Add 1 to a counter. */
void jumio_metric_inc(jumio_metric_e m)
{
    jumio_metric_add(m, 1);
}

/* Set a gauge. */
void jumio_metric_set(jumio_metric_e m, apr_int64_t v)
{
    if (jumio_metrics_base && m >= 0 && m < JUMIO_M_COUNT)
        __atomic_store_n(&jumio_metrics_base->counter[m], (apr_uint64_t)v, __ATOMIC_RELAXED);
}

/* Count one observation in a histogram. */
static void jumio_metrics_hist_add(jumio_metrics_hist_t *h, apr_interval_time_t took)
{
    int i = 0;
    if (took < 0)
        took = 0;
    while (i < JUMIO_METRICS_BUCKETS && took > jumio_metrics_le_us[i])
        i++;
    jumio_metrics_bump(&h->bucket[i], 1);
    jumio_metrics_bump(&h->sum_us, (apr_uint64_t)took);
}

/* Count one observation of a histogram. */
void jumio_metric_observe(jumio_hist_e h, apr_interval_time_t took)
{
    if (jumio_metrics_base && h >= 0 && h < JUMIO_HIST_COUNT)
        jumio_metrics_hist_add(&jumio_metrics_base->hist[h], took);
}

/* One HTTP exchange with Jumio: its outcome counted and its duration observed. */
void jumio_metric_call(jumio_call_e svc, jumio_outcome_e out, apr_interval_time_t took)
{
    if (!jumio_metrics_base || svc < 0 || svc >= JUMIO_CALL_COUNT || out < 0
        || out >= JUMIO_OUT_COUNT)
        return;
    jumio_metrics_bump(&jumio_metrics_base->call[svc][out], 1);
    jumio_metrics_hist_add(&jumio_metrics_base->call_hist[svc], took);
}

/* The outcome of an exchange from its HTTP status (0: no answer). */
jumio_outcome_e jumio_metric_outcome(long status, int timeout)
{
    if (timeout)
        return JUMIO_OUT_TIMEOUT;
    if (!status)
        return JUMIO_OUT_UNREACHABLE;
    if (status >= 200 && status < 300)
        return JUMIO_OUT_OK;
    if (status == 404)
        return JUMIO_OUT_NOT_FOUND;
    if (status == 429)
        return JUMIO_OUT_BUSY;
    return status >= 400 && status < 500 ? JUMIO_OUT_REJECTED : JUMIO_OUT_ERROR;
}

/* Label value of a service. */
const char *jumio_metric_call_name(jumio_call_e svc)
{
    return svc >= 0 && svc < JUMIO_CALL_COUNT ? jumio_metrics_calls[svc] : "other";
}

/* A request answered by handler `name` ("jumio-intake", ...) with HTTP status. */
void jumio_metric_request(const char *name, int status)
{
    int h, code = status / 100 - 1;
    if (!jumio_metrics_base)
        return;
    if (name && !strncmp(name, "jumio-", 6))
        name += 6;
    for (h = 0; h < JUMIO_METRICS_HANDLERS - 1; h++)
        if (name && !strcmp(name, jumio_metrics_handlers[h]))
            break;
    code = code < 0 ? 0 : code >= JUMIO_METRICS_CODES ? JUMIO_METRICS_CODES - 1 : code;
    jumio_metrics_bump(&jumio_metrics_base->request[h][code], 1);
}

/* The cached database gauges when young enough (1); else 0 with *refresh set when the caller
 * is the one child to count them now (a claim older than 30 s is taken over). */
int jumio_metrics_db_cached(apr_int64_t v[JUMIO_METRICS_DB_GAUGES], int *refresh)
{
    jumio_metrics_shm_t *m = jumio_metrics_base;
    apr_int64_t now = apr_time_now(), at, claim;
    int i;
    *refresh = 0;
    if (!m)
        return 0;
    at = __atomic_load_n(&m->db_at, __ATOMIC_ACQUIRE);
    claim = __atomic_load_n(&m->db_claim, __ATOMIC_RELAXED);
    if (!at || now - at >= JUMIO_METRICS_DB_CACHE) {
        if ((!claim || now - claim > apr_time_from_sec(30))
            && __atomic_compare_exchange_n(&m->db_claim, &claim, now, 0, __ATOMIC_ACQ_REL,
                                           __ATOMIC_RELAXED)) {
            *refresh = 1;
            return 0;
        }
        if (!at) /* never counted and another child is counting: count too */
            return 0;
    }
    for (i = 0; i < JUMIO_METRICS_DB_GAUGES; i++)
        v[i] = __atomic_load_n(&m->db[i], __ATOMIC_RELAXED);
    return 1;
}

/* Store freshly counted gauges and give the claim back (ok 0: only give it back). */
void jumio_metrics_db_store(const apr_int64_t v[JUMIO_METRICS_DB_GAUGES], int ok)
{
    jumio_metrics_shm_t *m = jumio_metrics_base;
    int i;
    if (!m)
        return;
    if (ok) {
        for (i = 0; i < JUMIO_METRICS_DB_GAUGES; i++)
            __atomic_store_n(&m->db[i], v[i], __ATOMIC_RELAXED);
        __atomic_store_n(&m->db_at, apr_time_now(), __ATOMIC_RELEASE);
    }
    __atomic_store_n(&m->db_claim, 0, __ATOMIC_RELEASE);
}

/* ---- rendering: one walk over the samples, given to a text or a JSON sink ---- */

typedef struct {
    request_rec *r; /* text: append to r */
    json_t *fam;    /* JSON: the current family's object */
} jumio_metrics_out_t;

/* Labels as Prometheus text ({k="v",...} or ""); values are ours: no escaping needed. */
static const char *jumio_metrics_labels(apr_pool_t *p, const char *const *kv, int n)
{
    const char *s = "";
    int i;
    for (i = 0; i < n; i++)
        s = apr_pstrcat(p, s, i ? "," : "{", kv[2 * i], "=\"", kv[2 * i + 1], "\"", NULL);
    return n ? apr_pstrcat(p, s, "}", NULL) : s;
}

/* Labels as a JSON object. */
static json_t *jumio_metrics_labels_json(const char *const *kv, int n)
{
    json_t *o = json_object();
    int i;
    for (i = 0; i < n; i++)
        json_object_set_new(o, kv[2 * i], json_string(kv[2 * i + 1]));
    return o;
}

/* One sample of a counter or gauge. */
static void jumio_metrics_sample(jumio_metrics_out_t *o, const char *name, const char *const *kv,
                                 int n, apr_int64_t v)
{
    if (o->r)
        ap_rprintf(o->r, "%s%s %" APR_INT64_T_FMT "\n", name,
                   jumio_metrics_labels(o->r->pool, kv, n), v);
    else
        json_array_append_new(json_object_get(o->fam, "samples"),
                              json_pack("{s:o, s:I}", "labels", jumio_metrics_labels_json(kv, n),
                                        "value", (json_int_t)v));
}

/* One histogram series (buckets cumulative, +Inf, _sum, _count). */
static void jumio_metrics_hist_out(jumio_metrics_out_t *o, const char *name,
                                   const jumio_metrics_hist_t *h, const char *const *kv, int n)
{
    const char *kvle[6];
    apr_uint64_t cum = 0;
    double sum = (double)jumio_metrics_load(&h->sum_us) / 1e6;
    json_t *b = o->r ? NULL : json_object();
    int i;
    for (i = 0; i < 2 * n; i++)
        kvle[i] = kv[i];
    for (i = 0; i <= JUMIO_METRICS_BUCKETS; i++) {
        cum += jumio_metrics_load(&h->bucket[i]);
        kvle[2 * n] = "le";
        kvle[2 * n + 1] = i < JUMIO_METRICS_BUCKETS ? jumio_metrics_le[i] : "+Inf";
        if (o->r)
            ap_rprintf(o->r, "%s_bucket%s %" APR_UINT64_T_FMT "\n", name,
                       jumio_metrics_labels(o->r->pool, kvle, n + 1), cum);
        else
            json_object_set_new(b, kvle[2 * n + 1], json_integer((json_int_t)cum));
    }
    if (o->r) {
        const char *l = jumio_metrics_labels(o->r->pool, kv, n);
        ap_rprintf(o->r, "%s_sum%s %.6f\n%s_count%s %" APR_UINT64_T_FMT "\n", name, l, sum, name, l,
                   cum);
    }
    else
        json_array_append_new(json_object_get(o->fam, "samples"),
                              json_pack("{s:o, s:o, s:f, s:I}", "labels",
                                        jumio_metrics_labels_json(kv, n), "buckets", b, "sum", sum,
                                        "count", (json_int_t)cum));
}

/* Total of a histogram's buckets. */
static apr_uint64_t jumio_metrics_hist_count(const jumio_metrics_hist_t *h)
{
    apr_uint64_t n = 0;
    int i;
    for (i = 0; i <= JUMIO_METRICS_BUCKETS; i++)
        n += jumio_metrics_load(&h->bucket[i]);
    return n;
}

/* The samples of family f. Requests: every handler and class 2xx..5xx (1xx and "other" when
 * not 0); calls and their histograms: the series that are not 0. */
static void jumio_metrics_family(jumio_metrics_out_t *o, int f)
{
    const jumio_metrics_shm_t *m = jumio_metrics_base;
    const char *name = jumio_metrics_families[f].name;
    const char *kv[4] = { NULL, NULL, NULL, NULL };
    static const char *const codes[JUMIO_METRICS_CODES] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
    apr_uint64_t v;
    int i, j;
    switch (jumio_metrics_families[f].kind) {
    case JUMIO_FAM_REQUESTS:
        for (i = 0; i < JUMIO_METRICS_HANDLERS; i++)
            for (j = 0; j < JUMIO_METRICS_CODES; j++) {
                v = jumio_metrics_load(&m->request[i][j]);
                if (!v && (!j || i == JUMIO_METRICS_HANDLERS - 1))
                    continue;
                kv[0] = "handler", kv[1] = jumio_metrics_handlers[i];
                kv[2] = "code", kv[3] = codes[j];
                jumio_metrics_sample(o, name, kv, 2, (apr_int64_t)v);
            }
        return;
    case JUMIO_FAM_CALLS:
        for (i = 0; i < JUMIO_CALL_COUNT; i++)
            for (j = 0; j < JUMIO_OUT_COUNT; j++)
                if ((v = jumio_metrics_load(&m->call[i][j]))) {
                    kv[0] = "service", kv[1] = jumio_metrics_calls[i];
                    kv[2] = "outcome", kv[3] = jumio_metrics_outcomes[j];
                    jumio_metrics_sample(o, name, kv, 2, (apr_int64_t)v);
                }
        return;
    case JUMIO_FAM_CALL_HIST:
        for (i = 0; i < JUMIO_CALL_COUNT; i++)
            if (jumio_metrics_hist_count(&m->call_hist[i])) {
                kv[0] = "service", kv[1] = jumio_metrics_calls[i];
                jumio_metrics_hist_out(o, name, &m->call_hist[i], kv, 1);
            }
        return;
    case JUMIO_FAM_HIST:
        jumio_metrics_hist_out(o, name, &m->hist[jumio_metrics_families[f].hist], kv, 0);
        return;
    default:
        for (i = 0; i < JUMIO_M_COUNT; i++) {
            if (strcmp(jumio_metrics_meta[i].family, name))
                continue;
            kv[0] = jumio_metrics_meta[i].k1, kv[1] = jumio_metrics_meta[i].v1;
            kv[2] = jumio_metrics_meta[i].k2, kv[3] = jumio_metrics_meta[i].v2;
            jumio_metrics_sample(o, name, kv, kv[0] ? kv[2] ? 2 : 1 : 0,
                                 (apr_int64_t)jumio_metrics_load(&m->counter[i]));
        }
    }
}

#define JUMIO_METRICS_NFAM                                                                         \
    ((int)(sizeof(jumio_metrics_families) / sizeof(jumio_metrics_families[0])))

/* Append every family as Prometheus text to r (HELP and TYPE before the samples). */
void jumio_metrics_prometheus(request_rec *r)
{
    jumio_metrics_out_t o = { r, NULL };
    int f;
    if (!jumio_metrics_base)
        return;
    for (f = 0; f < JUMIO_METRICS_NFAM; f++) {
        ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", jumio_metrics_families[f].name,
                   jumio_metrics_families[f].help, jumio_metrics_families[f].name,
                   jumio_metrics_families[f].type);
        jumio_metrics_family(&o, f);
    }
}

/* Every family as JSON: {family: {type, help, samples: [{labels, value} or {labels, buckets,
 * sum, count}]}}; new reference (an empty object without shared memory). */
json_t *jumio_metrics_json(void)
{
    jumio_metrics_out_t o = { NULL, NULL };
    json_t *all = json_object();
    int f;
    for (f = 0; all && jumio_metrics_base && f < JUMIO_METRICS_NFAM; f++) {
        o.fam = json_pack("{s:s, s:s, s:[]}", "type", jumio_metrics_families[f].type, "help",
                          jumio_metrics_families[f].help, "samples");
        if (!o.fam)
            continue;
        jumio_metrics_family(&o, f);
        json_object_set_new(all, jumio_metrics_families[f].name, o.fam);
    }
    return all;
}
