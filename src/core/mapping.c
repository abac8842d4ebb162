/* core/mapping.c - Jumio mapping of mod_jumio: callback bodies, the account request/answer,
 * stored credentials and Jumio error texts. Only APR and jansson; no httpd calls. Every jansson
 * object made here is released here, except the documented "new reference" results. */
#include <string.h>

#include <apr_strings.h>
#include <apr_escape.h>

#include "core/mapping.h"
#include "core/json.h"
#include "core/util.h"
#include "core/workflow.h"

#define JUMIO_ERROR_TEXT_MAX 200 /* bytes of a Jumio error text kept for the log */
#define JUMIO_WORKFLOW_AUTH  9   /* Jumio's authentication workflow */

/* ---- callback parsing ---- */

/* Decode one form-urlencoded component of n bytes ('+' is a space, %XX a byte) with APR's
 * decoder into p; NULL on an invalid escape or a NUL byte (raw or decoded). */
static char *jumio_mapping_form_decode(apr_pool_t *p, const char *s, apr_size_t n)
{
    apr_size_t escapes = 0, i;
    const char *out;

    for (i = 0; i < n; i++)
        escapes += s[i] == '%';
    out = apr_punescape_url(p, apr_pstrmemdup(p, s, n), NULL, NULL, 1);
    return (out && strlen(out) == n - 2 * escapes) ? (char *)out : NULL;
}

/* The field of cb a callback key fills, or NULL for keys that are ignored. */
static const char **jumio_mapping_callback_slot(jumio_callback_t *cb, const char *key)
{
    if (strcmp(key, "workflowExecution.id") == 0)
        return &cb->workflow_id;
    if (strcmp(key, "workflowExecution.status") == 0)
        return &cb->status;
    if (strcmp(key, "account.id") == 0)
        return &cb->account_id;
    return NULL;
}

/* Take one "key=value" pair of n bytes of a form body into cb; NULL or an error message. */
static const char *jumio_mapping_form_pair(apr_pool_t *p, const char *s, apr_size_t n,
                                           jumio_callback_t *cb)
{
    const char *eq = memchr(s, '=', n);
    apr_size_t klen = eq ? (apr_size_t)(eq - s) : n;
    const char *key = jumio_mapping_form_decode(p, s, klen);
    const char *val = eq ? jumio_mapping_form_decode(p, eq + 1, n - klen - 1) : "";
    const char **slot;

    if (!key || !val)
        return "callback form has an invalid percent escape";
    slot = jumio_mapping_callback_slot(cb, key);
    if (!slot)
        return NULL;
    if (*slot)
        return "callback form repeats a field";
    *slot = val;
    return NULL;
}

/* Fill cb from a form-urlencoded body with dotted keys; NULL or an error message. */
static const char *jumio_mapping_callback_form(apr_pool_t *p, const char *body, apr_size_t len,
                                               jumio_callback_t *cb)
{
    const char *cur = body, *end = body + len, *amp, *seg_end;
    const char *err;

    for (;;) {
        amp = memchr(cur, '&', (apr_size_t)(end - cur));
        seg_end = amp ? amp : end;
        if (seg_end > cur) {
            err = jumio_mapping_form_pair(p, cur, (apr_size_t)(seg_end - cur), cb);
            if (err)
                return err;
        }
        if (!amp)
            return NULL;
        cur = amp + 1;
    }
}

/* Fill cb from a JSON body with nested objects; NULL or an error message. */
static const char *jumio_mapping_callback_json(apr_pool_t *p, const char *body, apr_size_t len,
                                               jumio_callback_t *cb)
{
    json_t *root, *we;

    if (!jumio_json_depth_ok(body, len))
        return "callback JSON is nested too deeply";
    root = jumio_json_load(body, len);
    if (!root)
        return "callback body is not valid JSON (or repeats a key)";
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
static const char *jumio_mapping_callback_check(const jumio_callback_t *cb)
{
    if (!jumio_util_is_uuid(cb->workflow_id))
        return "workflowExecution.id missing or not a UUID";
    if (jumio_status_rank(cb->status) < 0) {
        return "workflowExecution.status missing or not one of INITIATED, ACQUIRED, "
               "PROCESSED, SESSION_EXPIRED, TOKEN_EXPIRED";
    }
    if (!jumio_util_is_uuid(cb->account_id))
        return "account.id missing or not a UUID";
    return NULL;
}

/* Parse a callback body (form != 0: form-urlencoded with dotted keys, else JSON). On success
 * fills cb (strings in p) and returns NULL; else a static message, cb cleared. */
const char *jumio_callback_parse(apr_pool_t *p, const char *body, apr_size_t len, int form,
                                 jumio_callback_t *cb)
{
    const char *err;

    if (!cb)
        return "no callback result to fill";
    memset(cb, 0, sizeof(*cb));
    if (!body || len == 0)
        return "callback body is empty";
    if (memchr(body, '\0', len))
        return "callback body contains a NUL byte";
    err = form ? jumio_mapping_callback_form(p, body, len, cb)
               : jumio_mapping_callback_json(p, body, len, cb);
    if (!err)
        err = jumio_mapping_callback_check(cb);
    if (err)
        memset(cb, 0, sizeof(*cb));
    return err;
}

/* ---- account API mapping ---- */

/* Number of non-empty strings in an array of const char * (NULL counts as empty). */
static int jumio_mapping_count_strings(const apr_array_header_t *arr)
{
    int i, n = 0;

    for (i = 0; arr && i < arr->nelts; i++)
        n += jumio_json_nonempty(APR_ARRAY_IDX(arr, i, const char *));
    return n;
}

/* {"values": [the non-empty strings of arr]}; NULL on failure. */
static json_t *jumio_mapping_values(const apr_array_header_t *arr)
{
    json_t *values = json_array(), *obj;
    int i;

    for (i = 0; values && i < arr->nelts; i++) {
        const char *s = APR_ARRAY_IDX(arr, i, const char *);
        if (jumio_json_nonempty(s) && json_array_append_new(values, json_string(s)) != 0) {
            json_decref(values);
            return NULL;
        }
    }
    obj = json_object();
    if (!obj || json_object_set_new(obj, "values", values) != 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

/* Set obj[key] = {"values": [...]} when arr has entries; 0 on success or absence, -1 on failure. */
static int jumio_mapping_set_values(json_t *obj, const char *key, const apr_array_header_t *arr)
{
    if (jumio_mapping_count_strings(arr) == 0)
        return 0;
    return json_object_set_new(obj, key, jumio_mapping_values(arr));
}

/* {"id": id, "category": category}, without "id" when id is not given; NULL on failure. */
static json_t *jumio_mapping_cred(const char *category, const char *id)
{
    json_t *c = json_object();

    if (!c || jumio_json_set_opt(c, "id", id) != 0
        || json_object_set_new(c, "category", json_string(category)) != 0) {
        json_decref(c);
        return NULL;
    }
    return c;
}

/* Append cred to arr (stealing it); 0 or -1. */
static int jumio_mapping_append(json_t *arr, json_t *cred)
{
    return !cred ? -1 : json_array_append_new(arr, cred);
}

/* Workflow credentials from the directives (ID type/country, FACEMAP type); NULL on failure. */
static json_t *jumio_mapping_request_creds(const jumio_account_req_t *req)
{
    json_t *creds = json_array(), *id = NULL, *fm = NULL;
    int bad = !creds;

    if (!bad
        && (jumio_mapping_count_strings(req->id_types) > 0
            || jumio_mapping_count_strings(req->id_countries) > 0)) {
        id = jumio_mapping_cred("ID", NULL);
        bad = !id || jumio_mapping_set_values(id, "type", req->id_types) != 0
              || jumio_mapping_set_values(id, "country", req->id_countries) != 0;
        bad = jumio_mapping_append(creds, id) != 0 || bad;
    }
    if (!bad && jumio_mapping_count_strings(req->facemap_types) > 0) {
        fm = jumio_mapping_cred("FACEMAP", NULL);
        bad = !fm || jumio_mapping_set_values(fm, "type", req->facemap_types) != 0;
        bad = jumio_mapping_append(creds, fm) != 0 || bad;
    }
    if (bad) {
        json_decref(creds);
        return NULL;
    }
    return creds;
}

/* Id of the first enrolment credential of category, or NULL. */
static const char *jumio_mapping_enrolment_id(const apr_array_header_t *enrolment,
                                              const char *category)
{
    int i;

    for (i = 0; enrolment && i < enrolment->nelts; i++) {
        const jumio_cred_t *c = &APR_ARRAY_IDX(enrolment, i, jumio_cred_t);
        if (c->category && strcmp(c->category, category) == 0 && jumio_json_nonempty(c->id))
            return c->id;
    }
    return NULL;
}

/* Workflow 9 credentials: [{"id": ID cred, "category": "ID"}, {"category": "FACEMAP"}], or the
 * SELFIE credential in place of the ID one; NULL when the enrolment has neither. */
static json_t *jumio_mapping_auth_creds(const apr_array_header_t *enrolment)
{
    const char *category = "ID";
    const char *id = jumio_mapping_enrolment_id(enrolment, category);
    json_t *creds;

    if (!id) {
        category = "SELFIE";
        id = jumio_mapping_enrolment_id(enrolment, category);
    }
    if (!id || !(creds = json_array()))
        return NULL;
    if (jumio_mapping_append(creds, jumio_mapping_cred(category, id)) != 0
        || jumio_mapping_append(creds, jumio_mapping_cred("FACEMAP", NULL)) != 0) {
        json_decref(creds);
        return NULL;
    }
    return creds;
}

/* {"key": k[, "credentials": creds]}; creds is stolen (dropped when empty); NULL on failure. */
static json_t *jumio_mapping_workflow_definition(int key, json_t *creds)
{
    json_t *wd = json_object();
    int bad = !wd || json_object_set_new(wd, "key", json_integer(key)) != 0;

    if (!bad && json_array_size(creds) > 0)
        bad = json_object_set(wd, "credentials", creds) != 0;
    json_decref(creds);
    if (bad) {
        json_decref(wd);
        return NULL;
    }
    return wd;
}

/* Set body.web to {successUrl, errorUrl, locale} when any is given; 0 or -1. */
static int jumio_mapping_set_web(json_t *body, const jumio_account_req_t *req)
{
    json_t *web = json_object();

    if (!web || jumio_json_set_opt(web, "successUrl", req->success_url) != 0
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

    if (!req || !jumio_json_nonempty(req->cir) || req->workflow_key <= 0)
        return NULL;
    creds = req->workflow_key == JUMIO_WORKFLOW_AUTH ? jumio_mapping_auth_creds(req->enrolment)
                                                     : jumio_mapping_request_creds(req);
    if (!creds)
        return NULL;
    wd = jumio_mapping_workflow_definition(req->workflow_key, creds); /* takes creds */
    body = json_object();
    /* json_object_set_new() always takes the value, also when it fails */
    bad = json_object_set_new(body, "customerInternalReference", json_string(req->cir)) != 0;
    bad = jumio_json_set_opt(body, "userReference", req->user_reference) != 0 || bad;
    bad = json_object_set_new(body, "workflowDefinition", wd) != 0 || bad;
    bad = bad || jumio_json_set_opt(body, "callbackUrl", req->callback_url) != 0
          || jumio_json_set_opt(body, "tokenLifetime", req->token_lifetime) != 0
          || jumio_mapping_set_web(body, req) != 0;
    if (bad) {
        json_decref(body);
        return NULL;
    }
    return body;
}

/* Credentials (entries with a non-empty string id and category) of a JSON array, into p. */
static apr_array_header_t *jumio_mapping_creds_of(apr_pool_t *p, json_t *arr)
{
    apr_array_header_t *creds = apr_array_make(p, 4, sizeof(jumio_cred_t));
    size_t i;
    json_t *entry;

    json_array_foreach(arr, i, entry)
    {
        jumio_cred_t c;
        c.id = jumio_json_str(p, entry, "id");
        c.category = jumio_json_str(p, entry, "category");
        if (jumio_json_nonempty(c.id) && jumio_json_nonempty(c.category))
            APR_ARRAY_PUSH(creds, jumio_cred_t) = c;
    }
    return creds;
}

/* Fill out from Jumio's account answer; NULL or a message. */
static const char *jumio_mapping_account_fill(apr_pool_t *p, json_t *answer,
                                              jumio_account_resp_t *out)
{
    json_t *we = json_object_get(answer, "workflowExecution");

    if (!json_is_object(answer))
        return "account answer is not a JSON object";
    out->account_id = jumio_json_str(p, json_object_get(answer, "account"), "id");
    if (!jumio_util_is_uuid(out->account_id))
        return "account answer: account.id missing or not a UUID";
    out->workflow_id = jumio_json_str(p, we, "id");
    if (!jumio_util_is_uuid(out->workflow_id))
        return "account answer: workflowExecution.id missing or not a UUID";
    out->web_href = jumio_json_str(p, json_object_get(answer, "web"), "href");
    if (!jumio_json_nonempty(out->web_href))
        return "account answer: web.href missing";
    out->timestamp = jumio_json_str(p, answer, "timestamp");
    out->sdk_token = jumio_json_str(p, json_object_get(answer, "sdk"), "token");
    out->credentials = jumio_mapping_creds_of(p, json_object_get(we, "credentials"));
    return NULL;
}

/* Parse Jumio's account answer; NULL on success, else a message (out cleared). */
const char *jumio_account_response(apr_pool_t *p, json_t *answer, jumio_account_resp_t *out)
{
    const char *err;

    if (!out)
        return "no account result to fill";
    memset(out, 0, sizeof(*out));
    err = jumio_mapping_account_fill(p, answer, out);
    if (err)
        memset(out, 0, sizeof(*out));
    return err;
}

/* Credentials array -> JSON text [{"id":..,"category":..}] (entries lacking either skipped). */
const char *jumio_creds_to_json(apr_pool_t *p, const apr_array_header_t *creds)
{
    json_t *arr = json_array();
    const char *text;
    int i;

    for (i = 0; arr && creds && i < creds->nelts; i++) {
        const jumio_cred_t *c = &APR_ARRAY_IDX(creds, i, jumio_cred_t);
        if (!jumio_json_nonempty(c->id) || !jumio_json_nonempty(c->category))
            continue;
        if (json_array_append_new(arr, jumio_mapping_cred(c->category, c->id)) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    text = jumio_json_dump(p, arr);
    json_decref(arr);
    return text;
}

/* JSON text -> credentials array. NULL or empty text gives an empty array; text that is not a
 * JSON array gives NULL. */
apr_array_header_t *jumio_creds_from_json(apr_pool_t *p, const char *text)
{
    json_t *arr;
    apr_array_header_t *creds;

    if (!text || *text == '\0')
        return apr_array_make(p, 1, sizeof(jumio_cred_t));
    arr = jumio_json_load(text, strlen(text));
    if (!json_is_array(arr)) {
        json_decref(arr);
        return NULL;
    }
    creds = jumio_mapping_creds_of(p, arr);
    json_decref(arr);
    return creds;
}

/* Copy of s without control characters, cut to JUMIO_ERROR_TEXT_MAX bytes on a UTF-8 boundary;
 * NULL when nothing printable is left. */
static const char *jumio_mapping_printable(apr_pool_t *p, const char *s)
{
    apr_size_t n = strlen(s), i, o = 0;
    char *out = apr_palloc(p, n + 1);

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != 0x7f)
            out[o++] = (char)c;
    }
    if (o > JUMIO_ERROR_TEXT_MAX) {
        o = JUMIO_ERROR_TEXT_MAX;
        while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
            o--; /* do not split a multi-byte character */
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
    if (jumio_json_nonempty(title) && jumio_json_nonempty(detail))
        text = apr_pstrcat(p, title, ": ", detail, NULL);
    else if (jumio_json_nonempty(title) || jumio_json_nonempty(detail))
        text = jumio_json_nonempty(title) ? title : detail;
    else
        text = jumio_json_str(p, root, "message");
    json_decref(root);
    return text ? jumio_mapping_printable(p, text) : NULL;
}
