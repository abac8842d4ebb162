/* jumio_json.c - Jumio JSON mapping of mod_jumio: workflow statuses and decisions, callback
 * bodies, the account request/answer, stored credentials and Jumio error texts.
 * Only APR and jansson; no httpd calls. Every jansson object made here is released here,
 * except the documented "new reference" results. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>
#include <apr_escape.h>

#include "core/core.h"

#define JUMIO_JSON_MAX_DEPTH 32         /* far more than any Jumio document needs */
#define JUMIO_ERROR_TEXT_MAX 200        /* bytes of a Jumio error text kept for the log */
#define JUMIO_WORKFLOW_AUTH 9           /* Jumio's authentication workflow */

/* Tally of capability entries by decision type (SPEC §2). */
typedef struct {
    int rejected;
    int warning;
    int passed;
    int other;      /* executed, but neither PASSED, WARNING nor REJECTED (unknown or missing) */
} jumio_json_tally_t;

/* ---- generic helpers ---- */

/* 1 when the JSON text (len bytes) never nests objects/arrays deeper than max, else 0. */
static int jumio_json_depth_ok(const char *text, apr_size_t len, int max)
{
    apr_size_t i;
    int depth = 0, in_str = 0, esc = 0;

    for (i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (esc) {
                esc = 0;
            }
            else if (c == '\\') {
                esc = 1;
            }
            else if (c == '"') {
                in_str = 0;
            }
        }
        else if (c == '"') {
            in_str = 1;
        }
        else if (c == '{' || c == '[') {
            if (++depth > max) {
                return 0;
            }
        }
        else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return 1;
}

/* Parse len bytes of JSON (no NUL bytes, depth-limited, duplicate keys refused); NULL if bad. */
json_t *jumio_json_load(const char *text, apr_size_t len)
{
    json_error_t jerr;

    if (text == NULL || len == 0 || memchr(text, '\0', len) != NULL) {
        return NULL;
    }
    if (!jumio_json_depth_ok(text, len, JUMIO_JSON_MAX_DEPTH)) {
        return NULL;
    }
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
}

/* The string member key of obj copied into p; NULL when absent, not a string, or with a NUL. */
static const char *jumio_json_str(apr_pool_t *p, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);      /* NULL for a non-object obj */
    const char *s;

    if (!json_is_string(v)) {
        return NULL;
    }
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v)) {
        return NULL;
    }
    return apr_pstrmemdup(p, s, json_string_length(v));
}

/* 1 when s is a non-empty string. */
static int jumio_json_nonempty(const char *s)
{
    return s != NULL && *s != '\0';
}

/* Set obj[key] to the string s when s is non-empty; 0 on success or absence, -1 on failure. */
static int jumio_json_set_opt(json_t *obj, const char *key, const char *s)
{
    if (!jumio_json_nonempty(s)) {
        return 0;
    }
    return json_object_set_new(obj, key, json_string(s));   /* NULL value gives -1 */
}

/* ---- statuses and decisions ---- */

/* Rank of a workflow status: INITIATED 0, ACQUIRED 1, PROCESSED/SESSION_EXPIRED/TOKEN_EXPIRED 2,
 * anything else (or NULL) -1. */
int jumio_status_rank(const char *status)
{
    if (status == NULL) {
        return -1;
    }
    if (strcmp(status, "INITIATED") == 0) {
        return 0;
    }
    if (strcmp(status, "ACQUIRED") == 0) {
        return 1;
    }
    if (strcmp(status, "PROCESSED") == 0 || strcmp(status, "SESSION_EXPIRED") == 0
        || strcmp(status, "TOKEN_EXPIRED") == 0) {
        return 2;
    }
    return -1;
}

/* 1 when status is final (rank 2). */
int jumio_status_is_final(const char *status)
{
    return jumio_status_rank(status) == 2;
}

/* The decision.type string of a JSON object, or NULL. */
static const char *jumio_json_decision_type(json_t *obj)
{
    return json_string_value(json_object_get(json_object_get(obj, "decision"), "type"));
}

/* Count one capability entry into t by its decision.type. */
static void jumio_json_tally_entry(jumio_json_tally_t *t, json_t *entry)
{
    const char *type = jumio_json_decision_type(entry);

    if (type == NULL) {
        t->other++;
    }
    else if (strcmp(type, "REJECTED") == 0) {
        t->rejected++;
    }
    else if (strcmp(type, "WARNING") == 0) {
        t->warning++;
    }
    else if (strcmp(type, "PASSED") == 0) {
        t->passed++;
    }
    else if (strcmp(type, "NOT_EXECUTED") != 0) {
        t->other++;
    }
}

/* Count every entry of one capability value (an array; anything else counts as one entry). */
static void jumio_json_tally_capability(jumio_json_tally_t *t, json_t *cap)
{
    size_t i;
    json_t *entry;

    if (!json_is_array(cap)) {
        jumio_json_tally_entry(t, cap);
        return;
    }
    json_array_foreach(cap, i, entry) {
        jumio_json_tally_entry(t, entry);
    }
}

/* The decision a tally stands for (SPEC §2); a static string. */
static const char *jumio_json_tally_result(const jumio_json_tally_t *t)
{
    if (t->rejected > 0) {
        return "REJECTED";
    }
    if (t->warning > 0) {
        return "WARNING";
    }
    if (t->passed > 0 && t->other == 0) {
        return "PASSED";
    }
    return "NOT_EXECUTED";
}

/* The static name of a known decision type; unknown ones count as NOT_EXECUTED (never PASSED). */
static const char *jumio_json_known_decision(const char *type)
{
    static const char *const known[] = { "PASSED", "WARNING", "REJECTED", "NOT_EXECUTED" };
    size_t i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (strcmp(type, known[i]) == 0) {
            return known[i];
        }
    }
    return "NOT_EXECUTED";
}

/* Overall decision of a details object (SPEC §2): top-level decision.type when it is a string,
 * else derived from the capabilities. Returns a static string. */
const char *jumio_decision_of_details(json_t *details)
{
    jumio_json_tally_t t = { 0, 0, 0, 0 };
    const char *top = jumio_json_decision_type(details);
    const char *name;
    json_t *cap;

    if (top != NULL) {
        return jumio_json_known_decision(top);
    }
    json_object_foreach(json_object_get(details, "capabilities"), name, cap) {
        jumio_json_tally_capability(&t, cap);
    }
    return jumio_json_tally_result(&t);
}

/* workflow.definitionKey of details as a new JSON value: the string as given (an integer as its
 * decimal text), else null. */
static json_t *jumio_json_definition_key(json_t *details)
{
    json_t *key = json_object_get(json_object_get(details, "workflow"), "definitionKey");
    char buf[32];

    if (json_is_string(key)) {
        return json_string(json_string_value(key));
    }
    if (json_is_integer(key)) {
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(key));
        return json_string(buf);
    }
    return json_null();
}

/* {"<capability>": "<derived type>", ...} of details; only names and types, no data. */
static json_t *jumio_json_capability_types(json_t *details)
{
    json_t *out = json_object(), *cap;
    const char *name;

    if (out == NULL) {
        return NULL;
    }
    json_object_foreach(json_object_get(details, "capabilities"), name, cap) {
        jumio_json_tally_t t = { 0, 0, 0, 0 };
        jumio_json_tally_capability(&t, cap);
        if (json_object_set_new(out, name, json_string(jumio_json_tally_result(&t))) != 0) {
            json_decref(out);
            return NULL;
        }
    }
    return out;
}

/* The decision-mode data object: {"definitionKey": workflow.definitionKey (or null),
 * "capabilities": {"<name>": "<derived type>", ...}}. New reference; NULL when out of memory. */
json_t *jumio_decision_data(json_t *details)
{
    json_t *out = json_object();

    if (out == NULL) {
        return NULL;
    }
    if (json_object_set_new(out, "definitionKey", jumio_json_definition_key(details)) != 0
        || json_object_set_new(out, "capabilities", jumio_json_capability_types(details)) != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- callback parsing ---- */

/* Decode one form-urlencoded component of n bytes ('+' is a space, %XX a byte) with APR's
 * decoder into p; NULL on an invalid escape or a NUL byte (raw or decoded). */
static char *jumio_json_form_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    apr_size_t escapes = 0, i;
    const char *out;

    for (i = 0; i < n; i++) {
        escapes += s[i] == '%';
    }
    out = apr_punescape_url(p, apr_pstrmemdup(p, s, n), NULL, NULL, 1);
    return (out != NULL && strlen(out) == n - 2 * escapes) ? (char *)out : NULL;
}

/* The field of cb a callback key fills, or NULL for keys that are ignored. */
static const char **jumio_json_callback_slot(jumio_callback_t *cb, const char *key)
{
    if (strcmp(key, "workflowExecution.id") == 0) {
        return &cb->workflow_id;
    }
    if (strcmp(key, "workflowExecution.status") == 0) {
        return &cb->status;
    }
    if (strcmp(key, "account.id") == 0) {
        return &cb->account_id;
    }
    return NULL;
}

/* Take one "key=value" pair of n bytes of a form body into cb; NULL or an error message. */
static const char *jumio_json_form_pair(apr_pool_t *p, const char *s, apr_size_t n,
                                        jumio_callback_t *cb)
{
    const char *eq = memchr(s, '=', n);
    apr_size_t klen = eq != NULL ? (apr_size_t)(eq - s) : n;
    const char *key = jumio_json_form_decode(p, s, klen);
    const char *val = eq != NULL ? jumio_json_form_decode(p, eq + 1, n - klen - 1) : "";
    const char **slot;

    if (key == NULL || val == NULL) {
        return "callback form has an invalid percent escape";
    }
    slot = jumio_json_callback_slot(cb, key);
    if (slot == NULL) {
        return NULL;
    }
    if (*slot != NULL) {
        return "callback form repeats a field";
    }
    *slot = val;
    return NULL;
}

/* Fill cb from a form-urlencoded body with dotted keys; NULL or an error message. */
static const char *jumio_json_callback_form(apr_pool_t *p, const char *body, apr_size_t len,
                                            jumio_callback_t *cb)
{
    const char *cur = body, *end = body + len, *amp, *seg_end;
    const char *err;

    for (;;) {
        amp = memchr(cur, '&', (apr_size_t)(end - cur));
        seg_end = amp != NULL ? amp : end;
        if (seg_end > cur) {
            err = jumio_json_form_pair(p, cur, (apr_size_t)(seg_end - cur), cb);
            if (err != NULL) {
                return err;
            }
        }
        if (amp == NULL) {
            return NULL;
        }
        cur = amp + 1;
    }
}

/* Fill cb from a JSON body with nested objects; NULL or an error message. */
static const char *jumio_json_callback_json(apr_pool_t *p, const char *body, apr_size_t len,
                                            jumio_callback_t *cb)
{
    json_t *root, *we;

    if (!jumio_json_depth_ok(body, len, JUMIO_JSON_MAX_DEPTH)) {
        return "callback JSON is nested too deeply";
    }
    root = jumio_json_load(body, len);
    if (root == NULL) {
        return "callback body is not valid JSON (or repeats a key)";
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return "callback body is not a JSON object";
    }
    we = json_object_get(root, "workflowExecution");
    cb->workflow_id = jumio_json_str(p, we, "id");
    cb->status = jumio_json_str(p, we, "status");
    cb->account_id = jumio_json_str(p, json_object_get(root, "account"), "id");
    json_decref(root);
    return NULL;
}

/* Validate the three callback fields; NULL or an error message. */
static const char *jumio_json_callback_check(const jumio_callback_t *cb)
{
    if (!jumio_util_is_uuid(cb->workflow_id)) {
        return "workflowExecution.id missing or not a UUID";
    }
    if (jumio_status_rank(cb->status) < 0) {
        return "workflowExecution.status missing or not one of INITIATED, ACQUIRED, "
               "PROCESSED, SESSION_EXPIRED, TOKEN_EXPIRED";
    }
    if (!jumio_util_is_uuid(cb->account_id)) {
        return "account.id missing or not a UUID";
    }
    return NULL;
}

/* Parse a callback body (form != 0: form-urlencoded with dotted keys, else JSON). On success
 * fills cb (strings in p) and returns NULL; else a static message, cb cleared. */
const char *jumio_callback_parse(apr_pool_t *p, const char *body, apr_size_t len, int form,
                                 jumio_callback_t *cb)
{
    const char *err;

    if (cb == NULL) {
        return "no callback result to fill";
    }
    memset(cb, 0, sizeof(*cb));
    if (body == NULL || len == 0) {
        return "callback body is empty";
    }
    if (memchr(body, '\0', len) != NULL) {
        return "callback body contains a NUL byte";
    }
    err = form ? jumio_json_callback_form(p, body, len, cb)
               : jumio_json_callback_json(p, body, len, cb);
    if (err == NULL) {
        err = jumio_json_callback_check(cb);
    }
    if (err != NULL) {
        memset(cb, 0, sizeof(*cb));
    }
    return err;
}

/* ---- account API mapping ---- */

/* Number of non-empty strings in an array of const char * (NULL counts as empty). */
static int jumio_json_count_strings(const apr_array_header_t *arr)
{
    int i, n = 0;

    for (i = 0; arr != NULL && i < arr->nelts; i++) {
        n += jumio_json_nonempty(APR_ARRAY_IDX(arr, i, const char *));
    }
    return n;
}

/* {"values": [the non-empty strings of arr]}; NULL on failure. */
static json_t *jumio_json_values(const apr_array_header_t *arr)
{
    json_t *values = json_array(), *obj;
    int i;

    for (i = 0; values != NULL && i < arr->nelts; i++) {
        const char *s = APR_ARRAY_IDX(arr, i, const char *);
        if (jumio_json_nonempty(s) && json_array_append_new(values, json_string(s)) != 0) {
            json_decref(values);
            return NULL;
        }
    }
    obj = json_object();
    if (obj == NULL || json_object_set_new(obj, "values", values) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Set obj[key] = {"values": [...]} when arr has entries; 0 on success or absence, -1 on failure. */
static int jumio_json_set_values(json_t *obj, const char *key, const apr_array_header_t *arr)
{
    if (jumio_json_count_strings(arr) == 0) {
        return 0;
    }
    return json_object_set_new(obj, key, jumio_json_values(arr));
}

/* {"id": id, "category": category}, without "id" when id is not given; NULL on failure. */
static json_t *jumio_json_cred(const char *category, const char *id)
{
    json_t *c = json_object();

    if (c == NULL || jumio_json_set_opt(c, "id", id) != 0
        || json_object_set_new(c, "category", json_string(category)) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* Append cred to arr (stealing it); 0 or -1. */
static int jumio_json_append(json_t *arr, json_t *cred)
{
    return cred == NULL ? -1 : json_array_append_new(arr, cred);
}

/* Workflow credentials from the directives (ID type/country, FACEMAP type); NULL on failure. */
static json_t *jumio_json_request_creds(const jumio_account_req_t *req)
{
    json_t *creds = json_array(), *id = NULL, *fm = NULL;
    int bad = creds == NULL;

    if (!bad && (jumio_json_count_strings(req->id_types) > 0
                 || jumio_json_count_strings(req->id_countries) > 0)) {
        id = jumio_json_cred("ID", NULL);
        bad = id == NULL || jumio_json_set_values(id, "type", req->id_types) != 0
              || jumio_json_set_values(id, "country", req->id_countries) != 0;
        bad = jumio_json_append(creds, id) != 0 || bad;
    }
    if (!bad && jumio_json_count_strings(req->facemap_types) > 0) {
        fm = jumio_json_cred("FACEMAP", NULL);
        bad = fm == NULL || jumio_json_set_values(fm, "type", req->facemap_types) != 0;
        bad = jumio_json_append(creds, fm) != 0 || bad;
    }
    if (bad) {
        json_decref(creds);
        return NULL;
    }
    return creds;
}

/* Id of the first enrolment credential of category, or NULL. */
static const char *jumio_json_enrolment_id(const apr_array_header_t *enrolment,
                                           const char *category)
{
    int i;

    for (i = 0; enrolment != NULL && i < enrolment->nelts; i++) {
        const jumio_cred_t *c = &APR_ARRAY_IDX(enrolment, i, jumio_cred_t);
        if (c->category != NULL && strcmp(c->category, category) == 0
            && jumio_json_nonempty(c->id)) {
            return c->id;
        }
    }
    return NULL;
}

/* Workflow 9 credentials: [{"id": ID cred, "category": "ID"}, {"category": "FACEMAP"}], or the
 * SELFIE credential in place of the ID one; NULL when the enrolment has neither. */
static json_t *jumio_json_auth_creds(const apr_array_header_t *enrolment)
{
    const char *category = "ID";
    const char *id = jumio_json_enrolment_id(enrolment, category);
    json_t *creds;

    if (id == NULL) {
        category = "SELFIE";
        id = jumio_json_enrolment_id(enrolment, category);
    }
    if (id == NULL || (creds = json_array()) == NULL) {
        return NULL;
    }
    if (jumio_json_append(creds, jumio_json_cred(category, id)) != 0
        || jumio_json_append(creds, jumio_json_cred("FACEMAP", NULL)) != 0) {
        json_decref(creds);
        return NULL;
    }
    return creds;
}

/* {"key": k[, "credentials": creds]}; creds is stolen (dropped when empty); NULL on failure. */
static json_t *jumio_json_workflow_definition(int key, json_t *creds)
{
    json_t *wd = json_object();
    int bad = wd == NULL || json_object_set_new(wd, "key", json_integer(key)) != 0;

    if (!bad && json_array_size(creds) > 0) {
        bad = json_object_set(wd, "credentials", creds) != 0;
    }
    json_decref(creds);
    if (bad) {
        json_decref(wd);
        return NULL;
    }
    return wd;
}

/* Set body.web to {successUrl, errorUrl, locale} when any is given; 0 or -1. */
static int jumio_json_set_web(json_t *body, const jumio_account_req_t *req)
{
    json_t *web = json_object();

    if (web == NULL || jumio_json_set_opt(web, "successUrl", req->success_url) != 0
        || jumio_json_set_opt(web, "errorUrl", req->error_url) != 0
        || jumio_json_set_opt(web, "locale", req->locale) != 0) {
        json_decref(web);
        return -1;
    }
    if (json_object_size(web) == 0) {
        json_decref(web);
        return 0;
    }
    return json_object_set_new(body, "web", web);
}

/* The JSON body of POST/PUT /api/v1/accounts (docs/DESIGN.md "Intake"). New reference; NULL
 * when req is incomplete (no cir, key <= 0), when workflow 9 finds no ID/SELFIE enrolment
 * credential, or when out of memory / a string is not UTF-8. */
json_t *jumio_account_request(const jumio_account_req_t *req)
{
    json_t *body, *creds, *wd;
    int bad;

    if (req == NULL || !jumio_json_nonempty(req->cir) || req->workflow_key <= 0) {
        return NULL;
    }
    creds = req->workflow_key == JUMIO_WORKFLOW_AUTH ? jumio_json_auth_creds(req->enrolment)
                                                     : jumio_json_request_creds(req);
    if (creds == NULL) {
        return NULL;
    }
    wd = jumio_json_workflow_definition(req->workflow_key, creds);      /* takes creds */
    body = json_object();
    /* json_object_set_new() always takes the value, also when it fails */
    bad = json_object_set_new(body, "customerInternalReference", json_string(req->cir)) != 0;
    bad = jumio_json_set_opt(body, "userReference", req->user_reference) != 0 || bad;
    bad = json_object_set_new(body, "workflowDefinition", wd) != 0 || bad;
    bad = bad || jumio_json_set_opt(body, "callbackUrl", req->callback_url) != 0
          || jumio_json_set_opt(body, "tokenLifetime", req->token_lifetime) != 0
          || jumio_json_set_web(body, req) != 0;
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* Credentials (entries with a non-empty string id and category) of a JSON array, into p. */
static apr_array_header_t *jumio_json_creds_of(apr_pool_t *p, json_t *arr)
{
    apr_array_header_t *creds = apr_array_make(p, 4, sizeof(jumio_cred_t));
    size_t i;
    json_t *entry;

    json_array_foreach(arr, i, entry) {
        jumio_cred_t c;
        c.id = jumio_json_str(p, entry, "id");
        c.category = jumio_json_str(p, entry, "category");
        if (jumio_json_nonempty(c.id) && jumio_json_nonempty(c.category)) {
            APR_ARRAY_PUSH(creds, jumio_cred_t) = c;
        }
    }
    return creds;
}

/* Fill out from Jumio's account answer; NULL or a message. */
static const char *jumio_json_account_fill(apr_pool_t *p, json_t *answer,
                                           jumio_account_resp_t *out)
{
    json_t *we = json_object_get(answer, "workflowExecution");

    if (!json_is_object(answer)) {
        return "account answer is not a JSON object";
    }
    out->account_id = jumio_json_str(p, json_object_get(answer, "account"), "id");
    if (!jumio_util_is_uuid(out->account_id)) {
        return "account answer: account.id missing or not a UUID";
    }
    out->workflow_id = jumio_json_str(p, we, "id");
    if (!jumio_util_is_uuid(out->workflow_id)) {
        return "account answer: workflowExecution.id missing or not a UUID";
    }
    out->web_href = jumio_json_str(p, json_object_get(answer, "web"), "href");
    if (!jumio_json_nonempty(out->web_href)) {
        return "account answer: web.href missing";
    }
    out->timestamp = jumio_json_str(p, answer, "timestamp");
    out->sdk_token = jumio_json_str(p, json_object_get(answer, "sdk"), "token");
    out->credentials = jumio_json_creds_of(p, json_object_get(we, "credentials"));
    return NULL;
}

/* Parse Jumio's account answer; NULL on success, else a message (out cleared). */
const char *jumio_account_response(apr_pool_t *p, json_t *answer, jumio_account_resp_t *out)
{
    const char *err;

    if (out == NULL) {
        return "no account result to fill";
    }
    memset(out, 0, sizeof(*out));
    err = jumio_json_account_fill(p, answer, out);
    if (err != NULL) {
        memset(out, 0, sizeof(*out));
    }
    return err;
}

/* Compact JSON text of value copied into p (value released); NULL on failure. */
static const char *jumio_json_dump(apr_pool_t *p, json_t *value)
{
    char *text = value != NULL ? json_dumps(value, JSON_COMPACT) : NULL;
    const char *copy = text != NULL ? apr_pstrdup(p, text) : NULL;

    free(text);
    json_decref(value);
    return copy;
}

/* Credentials array -> JSON text [{"id":..,"category":..}] (entries lacking either skipped). */
const char *jumio_creds_to_json(apr_pool_t *p, const apr_array_header_t *creds)
{
    json_t *arr = json_array();
    int i;

    for (i = 0; arr != NULL && creds != NULL && i < creds->nelts; i++) {
        const jumio_cred_t *c = &APR_ARRAY_IDX(creds, i, jumio_cred_t);
        if (!jumio_json_nonempty(c->id) || !jumio_json_nonempty(c->category)) {
            continue;
        }
        if (json_array_append_new(arr, jumio_json_cred(c->category, c->id)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return jumio_json_dump(p, arr);
}

/* JSON text -> credentials array. NULL or empty text gives an empty array; text that is not a
 * JSON array gives NULL. */
apr_array_header_t *jumio_creds_from_json(apr_pool_t *p, const char *text)
{
    json_t *arr;
    apr_array_header_t *creds;

    if (text == NULL || *text == '\0') {
        return apr_array_make(p, 1, sizeof(jumio_cred_t));
    }
    arr = jumio_json_load(text, strlen(text));
    if (!json_is_array(arr)) {
        json_decref(arr);
        return NULL;
    }
    creds = jumio_json_creds_of(p, arr);
    json_decref(arr);
    return creds;
}

/* Copy of s without control characters, cut to JUMIO_ERROR_TEXT_MAX bytes on a UTF-8 boundary;
 * NULL when nothing printable is left. */
static const char *jumio_json_printable(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i, o = 0;
    char *out = apr_palloc(p, n + 1);

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f) {
            out[o++] = (char)c;
        }
    }
    if (o > JUMIO_ERROR_TEXT_MAX) {
        o = JUMIO_ERROR_TEXT_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80) {
            o--;                        /* do not split a multi-byte character */
        }
    }
    out[o] = '\0';
    return o > 0 ? out : NULL;
}

/* Jumio's error answer text for logs: "title: detail", or "message", or NULL. Never secrets. */
const char *jumio_error_text(apr_pool_t *p, const char *body, apr_size_t len)
{
    json_t *root = jumio_json_load(body, len);
    const char *title, *detail, *text;

    if (!json_is_object(root)) {
        json_decref(root);
        return NULL;
    }
    title = jumio_json_str(p, root, "title");
    detail = jumio_json_str(p, root, "detail");
    if (jumio_json_nonempty(title) && jumio_json_nonempty(detail)) {
        text = apr_pstrcat(p, title, ": ", detail, NULL);
    }
    else if (jumio_json_nonempty(title) || jumio_json_nonempty(detail)) {
        text = jumio_json_nonempty(title) ? title : detail;
    }
    else {
        text = jumio_json_str(p, root, "message");
    }
    json_decref(root);
    return text != NULL ? jumio_json_printable(p, text) : NULL;
}
