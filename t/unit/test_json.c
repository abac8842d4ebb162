/* test_json.c - unit tests of src/core/workflow.c and src/core/mapping.c: statuses, decisions,
 * callback parsing, the account request/answer mapping, stored credentials and Jumio error
 * texts. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <apr_pools.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <check.h>

#include "core/core.h"

#define WF    "0b0c0d0e-1111-4222-8333-444455556666"
#define AC    "a1b2c3d4-aaaa-4bbb-9ccc-ddddeeeeffff"
#define CR_ID "c0000000-0000-4000-8000-000000000001"
#define CR_FM "c0000000-0000-4000-8000-000000000002"
#define CR_SF "c0000000-0000-4000-8000-000000000003"

static apr_pool_t *jumio_test_pool;

/* Fresh pool for each test. */
static void jumio_test_json_setup(void)
{
    ck_assert_int_eq(apr_pool_create(&jumio_test_pool, NULL), APR_SUCCESS);
}

/* Release the test's pool. */
static void jumio_test_json_teardown(void)
{
    apr_pool_destroy(jumio_test_pool);
    jumio_test_pool = NULL;
}

/* Parse JSON test data (must be valid). New reference. */
static json_t *jumio_test_parse(const char *text)
{
    json_error_t err;
    json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

    ck_assert_msg(v != NULL, "test JSON invalid: %s", err.text);
    return v;
}

/* Assert that got (stolen) equals the JSON text want. */
static void jumio_test_json_eq(json_t *got, const char *want)
{
    json_t *w = jumio_test_parse(want);
    char *dump = got != NULL ? json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT) : NULL;

    ck_assert_msg(got != NULL && json_equal(got, w), "got %s, want %s",
                  dump != NULL ? dump : "(null)", want);
    free(dump);
    json_decref(w);
    json_decref(got);
}

/* Overall decision of the details text. */
static const char *jumio_test_decision(const char *text)
{
    json_t *d = jumio_test_parse(text);
    const char *r = jumio_decision_of_details(d);

    json_decref(d);
    return r;
}

/* apr array of the NULL-terminated list of strings. */
static apr_array_header_t *jumio_test_strings(const char *first, ...)
{
    apr_array_header_t *a = apr_array_make(jumio_test_pool, 4, sizeof(const char *));
    va_list ap;
    const char *s;

    va_start(ap, first);
    for (s = first; s != NULL; s = va_arg(ap, const char *))
        APR_ARRAY_PUSH(a, const char *) = s;
    va_end(ap);
    return a;
}

/* Append a credential to an apr array of jumio_cred_t. */
static void jumio_test_add_cred(apr_array_header_t *a, const char *category, const char *id)
{
    jumio_cred_t *c = &APR_ARRAY_PUSH(a, jumio_cred_t);

    c->category = category;
    c->id = id;
}

/* ---- statuses ---- */

/* Status ranks and finality of the five statuses and of anything else. */
START_TEST(jumio_test_status_rank)
{
    ck_assert_int_eq(jumio_status_rank("INITIATED"), 0);
    ck_assert_int_eq(jumio_status_rank("ACQUIRED"), 1);
    ck_assert_int_eq(jumio_status_rank("PROCESSED"), 2);
    ck_assert_int_eq(jumio_status_rank("SESSION_EXPIRED"), 2);
    ck_assert_int_eq(jumio_status_rank("TOKEN_EXPIRED"), 2);
    ck_assert_int_eq(jumio_status_rank("processed"), -1);
    ck_assert_int_eq(jumio_status_rank("PROCESSED "), -1);
    ck_assert_int_eq(jumio_status_rank(""), -1);
    ck_assert_int_eq(jumio_status_rank(NULL), -1);
    ck_assert_int_eq(jumio_status_is_final("PROCESSED"), 1);
    ck_assert_int_eq(jumio_status_is_final("TOKEN_EXPIRED"), 1);
    ck_assert_int_eq(jumio_status_is_final("SESSION_EXPIRED"), 1);
    ck_assert_int_eq(jumio_status_is_final("ACQUIRED"), 0);
    ck_assert_int_eq(jumio_status_is_final("INITIATED"), 0);
    ck_assert_int_eq(jumio_status_is_final("DONE"), 0);
    ck_assert_int_eq(jumio_status_is_final(NULL), 0);
}
END_TEST

/* ---- decisions ---- */

#define CAP(name, entries) "\"" name "\":[" entries "]"
#define E(type)            "{\"decision\":{\"type\":\"" type "\",\"details\":{\"label\":\"OK\"}}}"
#define DET(caps)          "{\"capabilities\":{" caps "}}"

/* A top-level decision.type string wins; unknown ones are never PASSED. */
START_TEST(jumio_test_decision_top_level)
{
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":\"PASSED\"},"
                                         "\"capabilities\":{" CAP("a", E("REJECTED")) "}}"),
                     "PASSED");
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":\"REJECTED\"},"
                                         "\"capabilities\":{" CAP("a", E("PASSED")) "}}"),
                     "REJECTED");
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":\"WARNING\"}}"), "WARNING");
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":\"NOT_EXECUTED\"}}"),
                     "NOT_EXECUTED");
    /* an unknown top-level type is never taken as PASSED */
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":\"GREAT\"},"
                                         "\"capabilities\":{" CAP("a", E("PASSED")) "}}"),
                     "NOT_EXECUTED");
    /* a non-string type is ignored: derived from the capabilities */
    ck_assert_str_eq(jumio_test_decision("{\"decision\":{\"type\":1},"
                                         "\"capabilities\":{" CAP("a", E("PASSED")) "}}"),
                     "PASSED");
    ck_assert_str_eq(jumio_test_decision("{\"decision\":\"PASSED\"}"), "NOT_EXECUTED");
}
END_TEST

/* Decisions derived from capabilities per docs/DESIGN.md "Decisions". */
START_TEST(jumio_test_decision_derived)
{
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED")) "," CAP("b", E("PASSED")))),
                     "PASSED");
    ck_assert_str_eq(jumio_test_decision(
                         DET(CAP("a", E("PASSED") "," E("REJECTED")) "," CAP("b", E("WARNING")))),
                     "REJECTED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED")) "," CAP("b", E("WARNING")))),
                     "WARNING");
    ck_assert_str_eq(
        jumio_test_decision(DET(CAP("a", E("PASSED")) "," CAP("b", E("NOT_EXECUTED")))), "PASSED");
    ck_assert_str_eq(
        jumio_test_decision(DET(CAP("a", E("NOT_EXECUTED")) "," CAP("b", E("NOT_EXECUTED")))),
        "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("NOT_EXECUTED") "," E("WARNING")))),
                     "WARNING");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", "") "," CAP("b", E("PASSED")))), "PASSED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", ""))), "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision(DET("")), "NOT_EXECUTED");
}
END_TEST

/* Odd capability shapes never give PASSED by accident. */
START_TEST(jumio_test_decision_odd)
{
    /* entries without a readable decision block PASSED */
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED") ","
                                                                  "{}"))),
                     "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED") "," E("MAYBE")))),
                     "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED") ","
                                                                  "1"))),
                     "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision(DET(CAP("a", E("PASSED") ","
                                                                  "{}"
                                                                  "," E("REJECTED")))),
                     "REJECTED");
    /* a capability given as one object instead of an array */
    ck_assert_str_eq(jumio_test_decision(DET("\"a\":" E("PASSED"))), "PASSED");
    ck_assert_str_eq(jumio_test_decision(DET("\"a\":\"PASSED\"")), "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision("{}"), "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision("{\"capabilities\":[]}"), "NOT_EXECUTED");
    ck_assert_str_eq(jumio_test_decision("[]"), "NOT_EXECUTED");
    ck_assert_str_eq(jumio_decision_of_details(NULL), "NOT_EXECUTED");
}
END_TEST

/* Jumio's documented details example with its extraction data (PII). */
static const char *jumio_test_details_doc =
    "{\"workflow\":{\"id\":\"" WF "\",\"status\":\"PROCESSED\",\"definitionKey\":\"2\","
    "\"customerInternalReference\":\"cir-1\",\"userReference\":\"user-1\"},"
    "\"account\":{\"id\":\"" AC "\"},\"createdAt\":\"2021-03-12T15:47:17.234Z\","
    "\"credentials\":[{\"id\":\"" CR_ID "\",\"category\":\"ID\",\"parts\":[{\"classifier\":"
    "\"FRONT\",\"href\":\"https://retrieval.example/parts/FRONT\"}]}],"
    "\"capabilities\":{\"extraction\":[{\"credentials\":[{\"id\":\"" CR_ID "\",\"category\":"
    "\"ID\"}],\"decision\":{\"type\":\"PASSED\",\"details\":{\"label\":\"OK\"}},\"data\":{"
    "\"type\":\"PASSPORT\",\"firstName\":\"JANE\",\"lastName\":\"DOE\",\"dateOfBirth\":"
    "\"1990-01-01\",\"documentNumber\":\"X1234567\",\"address\":{\"country\":\"AUT\"}}}],"
    "\"dataChecks\":[" E("PASSED") "],\"imageChecks\":[" E(
        "PASSED") "],"
                  "\"usability\":[" E("PASSED") "," E("WARNING") "],"
                                                                 "\"liveness\":[" E(
                                                                     "NOT_EXECUTED") "]}}";

/* Decision data of Jumio's example: per-capability types, no PII. */
START_TEST(jumio_test_decision_data_doc)
{
    json_t *d = jumio_test_parse(jumio_test_details_doc);
    json_t *data = jumio_decision_data(d);
    const char *dump = jumio_json_dump(jumio_test_pool, data);

    ck_assert_str_eq(jumio_decision_of_details(d), "WARNING");
    ck_assert_ptr_nonnull(dump);
    ck_assert_ptr_null(strstr(dump, "JANE"));
    ck_assert_ptr_null(strstr(dump, "DOE"));
    ck_assert_ptr_null(strstr(dump, "1990"));
    ck_assert_ptr_null(strstr(dump, "X1234567"));
    ck_assert_ptr_null(strstr(dump, "firstName"));
    ck_assert_ptr_null(strstr(dump, "user-1"));
    ck_assert_ptr_null(strstr(dump, "AUT"));
    jumio_test_json_eq(data, "{\"definitionKey\":\"2\",\"capabilities\":{\"extraction\":"
                             "\"PASSED\",\"dataChecks\":\"PASSED\",\"imageChecks\":\"PASSED\","
                             "\"usability\":\"WARNING\",\"liveness\":\"NOT_EXECUTED\"}}");
    json_decref(d);
}
END_TEST

/* Decision data of the details text, compared with want. */
static void jumio_test_data(const char *details, const char *want)
{
    json_t *d = details != NULL ? jumio_test_parse(details) : NULL;

    jumio_test_json_eq(jumio_decision_data(d), want);
    json_decref(d);
}

/* Decision data: missing/integer/odd definitionKey, per-capability rules. */
START_TEST(jumio_test_decision_data_edges)
{
    jumio_test_data(NULL, "{\"definitionKey\":null,\"capabilities\":{}}");
    jumio_test_data("{}", "{\"definitionKey\":null,\"capabilities\":{}}");
    jumio_test_data("{\"workflow\":{\"definitionKey\":10013},\"capabilities\":{}}",
                    "{\"definitionKey\":\"10013\",\"capabilities\":{}}");
    jumio_test_data("{\"workflow\":{\"definitionKey\":{\"x\":1}}}",
                    "{\"definitionKey\":null,\"capabilities\":{}}");
    jumio_test_data("{\"workflow\":{\"definitionKey\":\"3\"},"
                    "\"capabilities\":{" CAP("usability", E("PASSED") "," E("REJECTED")) "," CAP(
                        "liveness", "") "," CAP("similarity", E("PASSED") ","
                                                                          "{}") "}}",
                    "{\"definitionKey\":\"3\",\"capabilities\":{\"usability\":\"REJECTED\","
                    "\"liveness\":\"NOT_EXECUTED\",\"similarity\":\"NOT_EXECUTED\"}}");
    jumio_test_data("{\"decision\":{\"type\":\"PASSED\"},\"capabilities\":[1]}",
                    "{\"definitionKey\":null,\"capabilities\":{}}");
}
END_TEST

/* ---- callbacks ---- */

/* Parse body as a callback (JSON or form); returns the error or NULL. */
static const char *jumio_test_cb(const char *body, int form, jumio_callback_t *cb)
{
    return jumio_callback_parse(jumio_test_pool, body, strlen(body), form, cb);
}

/* A JSON callback body with the given fields (raw JSON values). */
static const char *jumio_test_cb_json(const char *wfid, const char *status, const char *acid)
{
    return apr_psprintf(jumio_test_pool,
                        "{\"callbackSentAt\":\"2021-01-21T14:55:01.917Z\",\"workflowExecution\":"
                        "{\"id\":%s,\"href\":\"https://retrieval.example/x\",\"definitionKey\":"
                        "\"3\",\"status\":%s},\"account\":{\"id\":%s,\"href\":\"https://x/y\"}}",
                        wfid, status, acid);
}

/* JSON callbacks with each status and any member order are read. */
START_TEST(jumio_test_callback_json_good)
{
    static const char *const statuses[] = { "INITIATED", "ACQUIRED", "PROCESSED", "SESSION_EXPIRED",
                                            "TOKEN_EXPIRED" };
    jumio_callback_t cb;
    size_t i;

    for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        const char *st = apr_psprintf(jumio_test_pool, "\"%s\"", statuses[i]);
        ck_assert_ptr_null(
            jumio_test_cb(jumio_test_cb_json("\"" WF "\"", st, "\"" AC "\""), 0, &cb));
        ck_assert_str_eq(cb.workflow_id, WF);
        ck_assert_str_eq(cb.status, statuses[i]);
        ck_assert_str_eq(cb.account_id, AC);
    }
    ck_assert_ptr_null(jumio_test_cb("{\"account\":{\"id\":\"" AC "\"},\"workflowExecution\":"
                                     "{\"status\":\"PROCESSED\",\"id\":\"" WF "\"}}",
                                     0, &cb));
    ck_assert_str_eq(cb.workflow_id, WF);
}
END_TEST

/* Assert that body is refused (and cb left cleared). */
static void jumio_test_cb_bad(const char *body, int form)
{
    jumio_callback_t cb;
    const char *err = jumio_callback_parse(jumio_test_pool, body, strlen(body), form, &cb);

    ck_assert_msg(err != NULL, "callback should be refused: %s", body);
    ck_assert_ptr_null(cb.workflow_id);
    ck_assert_ptr_null(cb.status);
    ck_assert_ptr_null(cb.account_id);
}

/* JSON callbacks with a missing or invalid field are refused. */
START_TEST(jumio_test_callback_json_bad_fields)
{
    const char *W = "\"" WF "\"", *S = "\"PROCESSED\"", *A = "\"" AC "\"";

    jumio_test_cb_bad(jumio_test_cb_json("\"22222222-xxxx-xxxx-xxxx-xxxxxxxxxxxx\"", S, A), 0);
    jumio_test_cb_bad(jumio_test_cb_json("\"\"", S, A), 0);
    jumio_test_cb_bad(jumio_test_cb_json("null", S, A), 0);
    jumio_test_cb_bad(jumio_test_cb_json("12345", S, A), 0);
    jumio_test_cb_bad(jumio_test_cb_json("\"" WF "\\u0000\"", S, A), 0);
    jumio_test_cb_bad(jumio_test_cb_json(W, "\"DONE\"", A), 0);
    jumio_test_cb_bad(jumio_test_cb_json(W, "\"processed\"", A), 0);
    jumio_test_cb_bad(jumio_test_cb_json(W, "[\"PROCESSED\"]", A), 0);
    jumio_test_cb_bad(jumio_test_cb_json(W, S, "\"" AC "x\""), 0);
    jumio_test_cb_bad(jumio_test_cb_json(W, S, "true"), 0);
    jumio_test_cb_bad("{\"workflowExecution\":{\"id\":\"" WF "\",\"status\":\"PROCESSED\"}}", 0);
    jumio_test_cb_bad("{\"workflowExecution\":{\"id\":\"" WF "\"},\"account\":{\"id\":\"" AC "\"}}",
                      0);
    jumio_test_cb_bad("{\"workflowExecution\":\"" WF "\",\"account\":{\"id\":\"" AC "\"}}", 0);
    /* dotted keys are not read from JSON */
    jumio_test_cb_bad("{\"workflowExecution.id\":\"" WF "\",\"workflowExecution.status\":"
                      "\"PROCESSED\",\"account.id\":\"" AC "\"}",
                      0);
}
END_TEST

/* The callback body ok with a member "x" holding n nested arrays (depth n + 1 in all). */
static const char *jumio_test_nested(const char *ok, int n)
{
    char *open = apr_palloc(jumio_test_pool, (apr_size_t)n + 1);
    char *close = apr_palloc(jumio_test_pool, (apr_size_t)n + 1);

    memset(open, '[', (size_t)n);
    memset(close, ']', (size_t)n);
    open[n] = close[n] = '\0';
    return apr_pstrcat(jumio_test_pool, "{\"x\":", open, close, ",", ok + 1, NULL);
}

/* Non-object, malformed, repeated-key, NUL and deeply nested JSON is refused. */
START_TEST(jumio_test_callback_json_bad_syntax)
{
    jumio_callback_t cb;
    const char *ok = jumio_test_cb_json("\"" WF "\"", "\"PROCESSED\"", "\"" AC "\"");

    jumio_test_cb_bad("[]", 0);
    jumio_test_cb_bad("\"x\"", 0);
    jumio_test_cb_bad("1", 0);
    jumio_test_cb_bad("null", 0);
    jumio_test_cb_bad("{", 0);
    jumio_test_cb_bad("{\"workflowExecution\":", 0);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "x", NULL), 0);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, ok, NULL), 0);
    jumio_test_cb_bad(" ", 0);
    jumio_test_cb_bad("", 0);
    /* repeated keys: the second id would win in a lax parser */
    jumio_test_cb_bad("{\"workflowExecution\":{\"id\":\"" WF "\",\"status\":\"PROCESSED\","
                      "\"id\":\"" AC "\"},\"account\":{\"id\":\"" AC "\"}}",
                      0);
    /* a NUL byte inside the body */
    ck_assert_ptr_nonnull(jumio_callback_parse(jumio_test_pool, ok, strlen(ok) + 1, 0, &cb));
    ck_assert_ptr_nonnull(jumio_callback_parse(jumio_test_pool, NULL, 0, 0, &cb));
    ck_assert_ptr_nonnull(jumio_callback_parse(jumio_test_pool, ok, strlen(ok), 0, NULL));
    /* nesting: 33 levels (in an ignored member) is refused, 32 is fine */
    jumio_test_cb_bad(jumio_test_nested(ok, 32), 0);
    ck_assert_ptr_null(jumio_test_cb(jumio_test_nested(ok, 31), 0, &cb));
    jumio_test_cb_bad(jumio_test_nested(ok, 5000), 0);
    /* brackets inside strings do not count */
    ck_assert_ptr_null(jumio_test_cb(apr_pstrcat(jumio_test_pool,
                                                 "{\"x\":\"[[[[[[[[[[[[[[[[[["
                                                 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[\",",
                                                 ok + 1, NULL),
                                     0, &cb));
}
END_TEST

/* Form callbacks: dotted keys, escapes, extra fields, empty pairs. */
START_TEST(jumio_test_callback_form_good)
{
    jumio_callback_t cb;

    ck_assert_ptr_null(jumio_test_cb("workflowExecution.id=" WF "&workflowExecution.status="
                                     "PROCESSED&account.id=" AC,
                                     1, &cb));
    ck_assert_str_eq(cb.workflow_id, WF);
    ck_assert_str_eq(cb.status, "PROCESSED");
    ck_assert_str_eq(cb.account_id, AC);
    /* Jumio's other fields, percent escapes, '+', empty pairs, any order */
    ck_assert_ptr_null(jumio_test_cb("callbackSentAt=2021-01-21T14%3A55%3A01.917Z&&"
                                     "account.href=https%3A%2F%2Fretrieval.example%2Fa+b&"
                                     "workflowExecution%2Estatus=SESSION%5FEXPIRED&flag&"
                                     "account%2eid=" AC "&workflowExecution.id=0b0c0d0e%2D1111"
                                     "-4222-8333-444455556666&userReference=a+b&",
                                     1, &cb));
    ck_assert_str_eq(cb.workflow_id, WF);
    ck_assert_str_eq(cb.status, "SESSION_EXPIRED");
    ck_assert_str_eq(cb.account_id, AC);
    /* repeats of fields that are not read are fine */
    ck_assert_ptr_null(jumio_test_cb("x=1&x=2&workflowExecution.id=" WF "&workflowExecution."
                                     "status=ACQUIRED&account.id=" AC,
                                     1, &cb));
    ck_assert_str_eq(cb.status, "ACQUIRED");
}
END_TEST

/* Form callbacks: missing/invalid/repeated fields and bad escapes are refused. */
START_TEST(jumio_test_callback_form_bad)
{
    jumio_callback_t cb;
    const char *ok = "workflowExecution.id=" WF "&workflowExecution.status=PROCESSED&"
                     "account.id=" AC;

    jumio_test_cb_bad("workflowExecution.id=" WF "&workflowExecution.status=PROCESSED", 1);
    jumio_test_cb_bad("workflowExecution.id=" WF "&account.id=" AC, 1);
    jumio_test_cb_bad("workflowExecution.status=PROCESSED&account.id=" AC, 1);
    jumio_test_cb_bad("workflowExecution.id=x&workflowExecution.status=PROCESSED&account.id=" AC,
                      1);
    jumio_test_cb_bad("workflowExecution.id=" WF "&workflowExecution.status=PROCESSED+&"
                      "account.id=" AC,
                      1);
    jumio_test_cb_bad("workflowExecution.id=" WF "&workflowExecution.status=DONE&account.id=" AC,
                      1);
    jumio_test_cb_bad("workflowExecution.id=" WF "&workflowExecution.status&account.id=" AC, 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&account.id=" AC, NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&workflowExecution.id=" WF, NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&workflowExecution%2Eid=" WF, NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&workflowExecution.status=ACQUIRED", NULL),
                      1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&x=%G1", NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&x=%4", NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&x=%", NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&x%zz=1", NULL), 1);
    jumio_test_cb_bad(apr_pstrcat(jumio_test_pool, ok, "&x=%00", NULL), 1);
    jumio_test_cb_bad("workflowExecution.id=" WF "%00&workflowExecution.status=PROCESSED&"
                      "account.id=" AC,
                      1);
    jumio_test_cb_bad(jumio_test_cb_json("\"" WF "\"", "\"PROCESSED\"", "\"" AC "\""), 1);
    jumio_test_cb_bad("&&&", 1);
    ck_assert_ptr_nonnull(jumio_callback_parse(jumio_test_pool, ok, strlen(ok) + 1, 1, &cb));
    ck_assert_ptr_null(cb.workflow_id);
}
END_TEST

/* ---- account request ---- */

/* A request with only the required fields. */
static jumio_account_req_t jumio_test_req(int key)
{
    jumio_account_req_t r;

    memset(&r, 0, sizeof(r));
    r.cir = "f47ac10b-58cc-4372-a567-0e02b2c3d479";
    r.workflow_key = key;
    return r;
}

/* Workflow 3 request with every optional field and credentials. */
START_TEST(jumio_test_request_workflow3_full)
{
    jumio_account_req_t r = jumio_test_req(3);

    r.user_reference = "user-1";
    r.id_types = jumio_test_strings("PASSPORT", "ID_CARD", NULL);
    r.id_countries = jumio_test_strings("AUT", "", "USA", NULL);
    r.facemap_types = jumio_test_strings("IPROOV_STANDARD", NULL);
    r.callback_url = "https://portal.example/jumio/callback?jumio_token=abc";
    r.token_lifetime = "30m";
    r.success_url = "https://portal.example/ok";
    r.error_url = "https://portal.example/err";
    r.locale = "de";
    jumio_test_json_eq(
        jumio_account_request(&r),
        "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
        "\"userReference\":\"user-1\",\"workflowDefinition\":{\"key\":3,\"credentials\":["
        "{\"category\":\"ID\",\"type\":{\"values\":[\"PASSPORT\",\"ID_CARD\"]},"
        "\"country\":{\"values\":[\"AUT\",\"USA\"]}},"
        "{\"category\":\"FACEMAP\",\"type\":{\"values\":[\"IPROOV_STANDARD\"]}}]},"
        "\"callbackUrl\":\"https://portal.example/jumio/callback?jumio_token=abc\","
        "\"tokenLifetime\":\"30m\",\"web\":{\"successUrl\":\"https://portal.example/ok\","
        "\"errorUrl\":\"https://portal.example/err\",\"locale\":\"de\"}}");
}
END_TEST

/* Minimal request; empty strings and lists are omitted. */
START_TEST(jumio_test_request_minimal)
{
    jumio_account_req_t r = jumio_test_req(6);

    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"workflowDefinition\":{\"key\":6}}");
    /* empty strings and empty lists count as absent */
    r.user_reference = "";
    r.callback_url = "";
    r.locale = "";
    r.id_types = jumio_test_strings(NULL);
    r.id_countries = jumio_test_strings("", NULL);
    r.facemap_types = jumio_test_strings(NULL);
    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"workflowDefinition\":{\"key\":6}}");
}
END_TEST

/* Only some credentials or web fields; custom workflow keys. */
START_TEST(jumio_test_request_partial)
{
    jumio_account_req_t r = jumio_test_req(10013);

    r.id_countries = jumio_test_strings("GBR", NULL);
    r.locale = "en-GB";
    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"workflowDefinition\":{\"key\":10013,\"credentials\":[{\"category\":"
                       "\"ID\",\"country\":{\"values\":[\"GBR\"]}}]},\"web\":{\"locale\":"
                       "\"en-GB\"}}");
    r = jumio_test_req(2);
    r.facemap_types = jumio_test_strings("JUMIO_STANDARD", NULL);
    r.error_url = "https://e";
    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"workflowDefinition\":{\"key\":2,\"credentials\":[{\"category\":"
                       "\"FACEMAP\",\"type\":{\"values\":[\"JUMIO_STANDARD\"]}}]},\"web\":{"
                       "\"errorUrl\":\"https://e\"}}");
}
END_TEST

/* Workflow 9 sends the stored ID credential and FACEMAP. */
START_TEST(jumio_test_request_workflow9_id)
{
    jumio_account_req_t r = jumio_test_req(9);

    r.enrolment = apr_array_make(jumio_test_pool, 3, sizeof(jumio_cred_t));
    jumio_test_add_cred(r.enrolment, "FACEMAP", CR_FM);
    jumio_test_add_cred(r.enrolment, "SELFIE", CR_SF);
    jumio_test_add_cred(r.enrolment, "ID", CR_ID);
    r.id_types = jumio_test_strings("PASSPORT", NULL); /* not used by workflow 9 */
    r.user_reference = "u";
    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"userReference\":\"u\",\"workflowDefinition\":{\"key\":9,"
                       "\"credentials\":[{\"id\":\"" CR_ID "\",\"category\":\"ID\"},"
                       "{\"category\":\"FACEMAP\"}]}}");
}
END_TEST

/* Workflow 9 falls back to the SELFIE credential; none at all fails. */
START_TEST(jumio_test_request_workflow9_selfie)
{
    jumio_account_req_t r = jumio_test_req(9);

    r.enrolment = apr_array_make(jumio_test_pool, 3, sizeof(jumio_cred_t));
    jumio_test_add_cred(r.enrolment, "FACEMAP", CR_FM);
    jumio_test_add_cred(r.enrolment, "ID", ""); /* unusable: no id */
    jumio_test_add_cred(r.enrolment, "SELFIE", CR_SF);
    jumio_test_json_eq(jumio_account_request(&r),
                       "{\"customerInternalReference\":\"f47ac10b-58cc-4372-a567-0e02b2c3d479\","
                       "\"workflowDefinition\":{\"key\":9,\"credentials\":[{\"id\":\"" CR_SF
                       "\",\"category\":\"SELFIE\"},{\"category\":\"FACEMAP\"}]}}");
    /* no ID or SELFIE credential: nothing to authenticate against */
    r.enrolment = apr_array_make(jumio_test_pool, 1, sizeof(jumio_cred_t));
    jumio_test_add_cred(r.enrolment, "FACEMAP", CR_FM);
    ck_assert_ptr_null(jumio_account_request(&r));
    r.enrolment = NULL;
    ck_assert_ptr_null(jumio_account_request(&r));
}
END_TEST

/* Incomplete requests and non-UTF-8 strings give NULL. */
START_TEST(jumio_test_request_invalid)
{
    jumio_account_req_t r = jumio_test_req(0);

    ck_assert_ptr_null(jumio_account_request(NULL));
    ck_assert_ptr_null(jumio_account_request(&r));
    r.workflow_key = -3;
    ck_assert_ptr_null(jumio_account_request(&r));
    r = jumio_test_req(3);
    r.cir = NULL;
    ck_assert_ptr_null(jumio_account_request(&r));
    r.cir = "";
    ck_assert_ptr_null(jumio_account_request(&r));
    /* strings that are not UTF-8 cannot be sent (and nothing leaks) */
    r = jumio_test_req(3);
    r.callback_url = "https://x/\xff";
    ck_assert_ptr_null(jumio_account_request(&r));
    r = jumio_test_req(3);
    r.id_types = jumio_test_strings("PASS\xc3", NULL);
    ck_assert_ptr_null(jumio_account_request(&r));
    r = jumio_test_req(3);
    r.cir = "\xfe";
    ck_assert_ptr_null(jumio_account_request(&r));
}
END_TEST

/* ---- account answer ---- */

/* An account answer with the given raw JSON members. */
static const char *jumio_test_answer(const char *acid, const char *wfid, const char *web)
{
    return apr_psprintf(
        jumio_test_pool,
        "{\"timestamp\":\"2021-05-19T14:55:08.187Z\",\"account\":{\"id\":%s},\"web\":%s,"
        "\"sdk\":{\"token\":\"sdk-jwt\"},\"workflowExecution\":{\"id\":%s,\"credentials\":["
        "{\"id\":\"" CR_ID "\",\"category\":\"ID\",\"allowedChannels\":[\"WEB\",\"SDK\"]},"
        "{\"id\":\"" CR_FM "\",\"category\":\"FACEMAP\"},{\"category\":\"SELFIE\"},"
        "{\"id\":7,\"category\":\"X\"},\"junk\",{\"id\":\"" CR_SF "\",\"category\":\"SELFIE\"}"
        "]}}",
        acid, web, wfid);
}

/* Jumio's account answer is read; incomplete credentials are skipped. */
START_TEST(jumio_test_response_good)
{
    json_t *a = jumio_test_parse(
        jumio_test_answer("\"" AC "\"", "\"" WF "\"",
                          "{\"href\":\"https://acme.web.amer-1.jumio.ai/web/v4/app?x=1\"}"));
    jumio_account_resp_t r;

    ck_assert_ptr_null(jumio_account_response(jumio_test_pool, a, &r));
    json_decref(a);
    ck_assert_str_eq(r.account_id, AC);
    ck_assert_str_eq(r.workflow_id, WF);
    ck_assert_str_eq(r.web_href, "https://acme.web.amer-1.jumio.ai/web/v4/app?x=1");
    ck_assert_str_eq(r.timestamp, "2021-05-19T14:55:08.187Z");
    ck_assert_str_eq(r.sdk_token, "sdk-jwt");
    ck_assert_int_eq(r.credentials->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(r.credentials, 0, jumio_cred_t).id, CR_ID);
    ck_assert_str_eq(APR_ARRAY_IDX(r.credentials, 0, jumio_cred_t).category, "ID");
    ck_assert_str_eq(APR_ARRAY_IDX(r.credentials, 1, jumio_cred_t).category, "FACEMAP");
    ck_assert_str_eq(APR_ARRAY_IDX(r.credentials, 2, jumio_cred_t).id, CR_SF);
}
END_TEST

/* An answer without optional members is fine. */
START_TEST(jumio_test_response_minimal)
{
    json_t *a = jumio_test_parse("{\"account\":{\"id\":\"" AC "\"},\"web\":{\"href\":\"h\"},"
                                 "\"workflowExecution\":{\"id\":\"" WF "\"}}");
    jumio_account_resp_t r;

    ck_assert_ptr_null(jumio_account_response(jumio_test_pool, a, &r));
    json_decref(a);
    ck_assert_ptr_null(r.timestamp);
    ck_assert_ptr_null(r.sdk_token);
    ck_assert_ptr_nonnull(r.credentials);
    ck_assert_int_eq(r.credentials->nelts, 0);
}
END_TEST

/* Assert that the answer text is refused and out cleared. */
static void jumio_test_answer_bad(const char *text)
{
    json_t *a = text != NULL ? jumio_test_parse(text) : NULL;
    jumio_account_resp_t r;

    ck_assert_msg(jumio_account_response(jumio_test_pool, a, &r) != NULL, "accepted: %s", text);
    ck_assert_ptr_null(r.account_id);
    ck_assert_ptr_null(r.web_href);
    ck_assert_ptr_null(r.credentials);
    json_decref(a);
}

/* Answers with missing or invalid ids or href are refused. */
START_TEST(jumio_test_response_bad)
{
    const char *A = "\"" AC "\"", *W = "\"" WF "\"", *H = "{\"href\":\"https://x\"}";
    json_t *a = jumio_test_parse(jumio_test_answer(A, W, H));

    jumio_test_answer_bad(jumio_test_answer("\"11111111-1111-1111-1111-aaaaaaaaaaaa-\"", W, H));
    jumio_test_answer_bad(jumio_test_answer("null", W, H));
    jumio_test_answer_bad(jumio_test_answer(A, "\"33333333-3333-3333-aaaaaaaaaaaa\"", H));
    jumio_test_answer_bad(jumio_test_answer(A, "42", H));
    jumio_test_answer_bad(jumio_test_answer(A, W, "{\"href\":\"\"}"));
    jumio_test_answer_bad(jumio_test_answer(A, W, "{\"href\":1}"));
    jumio_test_answer_bad(jumio_test_answer(A, W, "{}"));
    jumio_test_answer_bad(jumio_test_answer(A, W, "\"https://x\""));
    jumio_test_answer_bad("{\"web\":{\"href\":\"h\"},\"workflowExecution\":{\"id\":\"" WF "\"}}");
    jumio_test_answer_bad("{\"account\":{\"id\":\"" AC "\"},\"web\":{\"href\":\"h\"}}");
    jumio_test_answer_bad("[]");
    jumio_test_answer_bad("\"x\"");
    jumio_test_answer_bad(NULL);
    ck_assert_ptr_nonnull(jumio_account_response(jumio_test_pool, a, NULL));
    json_decref(a);
}
END_TEST

/* ---- stored credentials ---- */

/* Credentials to JSON text and back. */
START_TEST(jumio_test_creds_roundtrip)
{
    apr_array_header_t *c = apr_array_make(jumio_test_pool, 4, sizeof(jumio_cred_t));
    apr_array_header_t *back;
    const char *text;

    jumio_test_add_cred(c, "ID", CR_ID);
    jumio_test_add_cred(c, "FACEMAP", CR_FM);
    jumio_test_add_cred(c, "SELFIE", NULL); /* skipped: no id */
    jumio_test_add_cred(c, NULL, CR_SF);    /* skipped: no category */
    jumio_test_add_cred(c, "SELFIE", "id \"quoted\"");
    text = jumio_creds_to_json(jumio_test_pool, c);
    jumio_test_json_eq(jumio_test_parse(text),
                       "[{\"id\":\"" CR_ID "\",\"category\":\"ID\"},{\"id\":\"" CR_FM "\","
                       "\"category\":\"FACEMAP\"},{\"id\":\"id \\\"quoted\\\"\",\"category\":"
                       "\"SELFIE\"}]");
    back = jumio_creds_from_json(jumio_test_pool, text);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(back->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(back, 0, jumio_cred_t).id, CR_ID);
    ck_assert_str_eq(APR_ARRAY_IDX(back, 1, jumio_cred_t).category, "FACEMAP");
    ck_assert_str_eq(APR_ARRAY_IDX(back, 2, jumio_cred_t).id, "id \"quoted\"");
    ck_assert_str_eq(jumio_creds_to_json(jumio_test_pool, NULL), "[]");
    ck_assert_str_eq(jumio_creds_to_json(jumio_test_pool,
                                         apr_array_make(jumio_test_pool, 1, sizeof(jumio_cred_t))),
                     "[]");
}
END_TEST

/* Stored credential text: empty, partial entries, invalid. */
START_TEST(jumio_test_creds_from_json_edges)
{
    apr_array_header_t *c;

    c = jumio_creds_from_json(jumio_test_pool, NULL);
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->nelts, 0);
    c = jumio_creds_from_json(jumio_test_pool, "");
    ck_assert_ptr_nonnull(c);
    ck_assert_int_eq(c->nelts, 0);
    c = jumio_creds_from_json(jumio_test_pool, "[]");
    ck_assert_int_eq(c->nelts, 0);
    c = jumio_creds_from_json(jumio_test_pool, "[{\"id\":\"a\"},{\"category\":\"ID\"},1,null,"
                                               "{\"id\":\"b\",\"category\":\"ID\"}]");
    ck_assert_int_eq(c->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(c, 0, jumio_cred_t).id, "b");
    ck_assert_ptr_null(jumio_creds_from_json(jumio_test_pool, "not json"));
    ck_assert_ptr_null(jumio_creds_from_json(jumio_test_pool, "{}"));
    ck_assert_ptr_null(jumio_creds_from_json(jumio_test_pool, "[] x"));
    ck_assert_ptr_null(jumio_creds_from_json(
        jumio_test_pool, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"));
}
END_TEST

/* ---- error texts ---- */

/* Error text of the body. */
static const char *jumio_test_err(const char *body)
{
    return jumio_error_text(jumio_test_pool, body, strlen(body));
}

/* Jumio error texts: RFC 7807, legacy, control characters, non-JSON. */
START_TEST(jumio_test_error_text)
{
    ck_assert_str_eq(jumio_test_err("{\"title\":\"Too Many Requests\",\"status\":429,"
                                    "\"detail\":\"Request limit exceeded\"}"),
                     "Too Many Requests: Request limit exceeded");
    ck_assert_str_eq(jumio_test_err("{\"title\":\"Bad Request\"}"), "Bad Request");
    ck_assert_str_eq(jumio_test_err("{\"detail\":\"x is wrong\",\"title\":\"\"}"), "x is wrong");
    ck_assert_str_eq(jumio_test_err("{\"message\":\"Invalid credentials\",\"httpStatus\":"
                                    "\"401\"}"),
                     "Invalid credentials");
    ck_assert_str_eq(jumio_test_err("{\"title\":\"T\",\"message\":\"M\"}"), "T");
    ck_assert_str_eq(jumio_test_err("{\"message\":\"line1\\nline2\\u001b[31m\\u007f\\t!\"}"),
                     "line1line2[31m!");
    ck_assert_ptr_null(jumio_test_err("{\"error\":\"x\"}"));
    ck_assert_ptr_null(jumio_test_err("{\"message\":42}"));
    ck_assert_ptr_null(jumio_test_err("{\"message\":\"\\n\\r\"}"));
    ck_assert_ptr_null(jumio_test_err("<html>502 Bad Gateway</html>"));
    ck_assert_ptr_null(jumio_test_err("[\"message\"]"));
    ck_assert_ptr_null(jumio_test_err(""));
    ck_assert_ptr_null(jumio_error_text(jumio_test_pool, NULL, 0));
}
END_TEST

/* Long error texts are cut at 200 bytes on a UTF-8 boundary. */
START_TEST(jumio_test_error_text_long)
{
    char *body = apr_palloc(jumio_test_pool, 1000), *p;
    const char *t;
    int i;

    strcpy(body, "{\"message\":\"");
    for (i = 0, p = body + strlen(body); i < 500; i++)
        *p++ = 'a';
    strcpy(p, "\"}");
    t = jumio_test_err(body);
    ck_assert_uint_eq(strlen(t), 200);
    /* 'x' + 150 two-byte characters: the cut at 200 bytes would split one */
    strcpy(body, "{\"message\":\"x");
    for (i = 0, p = body + strlen(body); i < 150; i++) {
        *p++ = '\xc3';
        *p++ = '\xa9';
    }
    strcpy(p, "\"}");
    t = jumio_test_err(body);
    ck_assert_uint_eq(strlen(t), 199);
    ck_assert_int_eq((unsigned char)t[198], 0xa9);
}
END_TEST

/* jumio_json_dump: compact text in the pool, the value kept; NULL for NULL or a bare scalar. */
START_TEST(jumio_test_json_dump)
{
    json_t *v = jumio_test_parse("{ \"a\" : 1, \"b\" : [ true, null, \"\\u00e9\" ] }");
    json_t *s = json_string("x");

    ck_assert_str_eq(jumio_json_dump(jumio_test_pool, v),
                     "{\"a\":1,\"b\":[true,null,\"\xc3\xa9\"]}");
    ck_assert_int_eq((int)v->refcount, 1);
    ck_assert_str_eq(jumio_json_dump(jumio_test_pool, json_object_get(v, "b")),
                     "[true,null,\"\xc3\xa9\"]");
    ck_assert_ptr_null(jumio_json_dump(jumio_test_pool, NULL));
    ck_assert_ptr_null(jumio_json_dump(jumio_test_pool, s)); /* only objects and arrays */
    ck_assert_int_eq((int)s->refcount, 1);
    json_decref(s);
    json_decref(v);
}
END_TEST

/* jumio_json_str_is: only a JSON string of exactly want's bytes matches. */
START_TEST(jumio_test_json_str_is)
{
    json_t *v = jumio_test_parse("{\"s\":\"sig\",\"e\":\"\",\"i\":1,\"a\":[\"sig\"]}");

    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "s"), "sig"), 1);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "s"), "si"), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "s"), "sig "), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "s"), "SIG"), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "e"), ""), 1);
    ck_assert_int_eq(json_object_set_new(v, "n", json_stringn("sig\0x", 5)), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "n"), "sig"), 0); /* embedded NUL */
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "i"), "1"), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "a"), "sig"), 0);
    ck_assert_int_eq(jumio_json_str_is(json_object_get(v, "missing"), "sig"), 0);
    ck_assert_int_eq(jumio_json_str_is(NULL, ""), 0);
    json_decref(v);
}
END_TEST

/* The json test suite. */
Suite *jumio_test_json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tcase_create("json");

    tcase_add_checked_fixture(tc, jumio_test_json_setup, jumio_test_json_teardown);
    tcase_add_test(tc, jumio_test_status_rank);
    tcase_add_test(tc, jumio_test_decision_top_level);
    tcase_add_test(tc, jumio_test_decision_derived);
    tcase_add_test(tc, jumio_test_decision_odd);
    tcase_add_test(tc, jumio_test_decision_data_doc);
    tcase_add_test(tc, jumio_test_decision_data_edges);
    tcase_add_test(tc, jumio_test_callback_json_good);
    tcase_add_test(tc, jumio_test_callback_json_bad_fields);
    tcase_add_test(tc, jumio_test_callback_json_bad_syntax);
    tcase_add_test(tc, jumio_test_callback_form_good);
    tcase_add_test(tc, jumio_test_callback_form_bad);
    tcase_add_test(tc, jumio_test_request_workflow3_full);
    tcase_add_test(tc, jumio_test_request_minimal);
    tcase_add_test(tc, jumio_test_request_partial);
    tcase_add_test(tc, jumio_test_request_workflow9_id);
    tcase_add_test(tc, jumio_test_request_workflow9_selfie);
    tcase_add_test(tc, jumio_test_request_invalid);
    tcase_add_test(tc, jumio_test_response_good);
    tcase_add_test(tc, jumio_test_response_minimal);
    tcase_add_test(tc, jumio_test_response_bad);
    tcase_add_test(tc, jumio_test_creds_roundtrip);
    tcase_add_test(tc, jumio_test_creds_from_json_edges);
    tcase_add_test(tc, jumio_test_error_text);
    tcase_add_test(tc, jumio_test_error_text_long);
    tcase_add_test(tc, jumio_test_json_dump);
    tcase_add_test(tc, jumio_test_json_str_is);
    suite_add_tcase(s, tc);
    return s;
}
