/* fuzz_mapping.c - libFuzzer target for the mapping of Jumio's answers: the input is one JSON
 * text (an account answer, a details document, an error answer or stored credentials) given to
 *   jumio_json_load -> jumio_account_response, jumio_decision_of_details, jumio_decision_data,
 *   jumio_error_text (raw bytes) and jumio_creds_from_json (the text up to a NUL byte).
 * Checked on every call: the documented shapes of the results, and that credentials survive
 * jumio_creds_to_json -> jumio_creds_from_json unchanged. */
#include "fuzz_common.h"

/* 1 when s is one of the four decision names. */
static int fuzz_is_decision(const char *s)
{
    return s != NULL
           && (strcmp(s, "PASSED") == 0 || strcmp(s, "WARNING") == 0 || strcmp(s, "REJECTED") == 0
               || strcmp(s, "NOT_EXECUTED") == 0);
}

/* Every entry of creds has a non-empty id and category; they survive a JSON round trip. */
static void fuzz_check_creds(apr_pool_t *p, const apr_array_header_t *creds)
{
    const char *text;
    apr_array_header_t *back;
    int i;

    FUZZ_ASSERT(creds != NULL);
    for (i = 0; i < creds->nelts; i++) {
        const jumio_cred_t *c = &APR_ARRAY_IDX(creds, i, jumio_cred_t);
        FUZZ_ASSERT(c->id != NULL && *c->id != '\0');
        FUZZ_ASSERT(c->category != NULL && *c->category != '\0');
    }
    text = jumio_creds_to_json(p, creds);
    FUZZ_ASSERT(text != NULL);
    back = jumio_creds_from_json(p, text);
    FUZZ_ASSERT(back != NULL && back->nelts == creds->nelts);
    for (i = 0; i < creds->nelts; i++) {
        const jumio_cred_t *a = &APR_ARRAY_IDX(creds, i, jumio_cred_t);
        const jumio_cred_t *b = &APR_ARRAY_IDX(back, i, jumio_cred_t);
        FUZZ_ASSERT(strcmp(a->id, b->id) == 0 && strcmp(a->category, b->category) == 0);
    }
}

/* The decision-mode data object of a details document. */
static void fuzz_check_decision_data(apr_pool_t *p, json_t *details)
{
    json_t *data = jumio_decision_data(details), *caps, *v;
    const char *name;

    FUZZ_ASSERT(data != NULL);
    FUZZ_ASSERT(json_object_size(data) == 2);
    v = json_object_get(data, "definitionKey");
    FUZZ_ASSERT(json_is_string(v) || json_is_null(v));
    caps = json_object_get(data, "capabilities");
    FUZZ_ASSERT(json_is_object(caps));
    json_object_foreach(caps, name, v)
    {
        FUZZ_ASSERT(fuzz_is_decision(json_string_value(v)));
    }
    FUZZ_ASSERT(jumio_json_dump(p, data) != NULL); /* what poll sends */
    json_decref(data);
}

/* The log text of an error answer: NULL, or 1..200 bytes without control characters. */
static void fuzz_check_error_text(apr_pool_t *p, const uint8_t *data, size_t size)
{
    char *copy = malloc(size != 0 ? size : 1); /* exactly size bytes: ASan sees overreads */
    const char *text;
    size_t i, n;

    if (copy == NULL)
        abort();
    memcpy(copy, data, size);
    text = jumio_error_text(p, copy, size);
    if (text != NULL) {
        n = strlen(text);
        FUZZ_ASSERT(n > 0 && n <= 200);
        for (i = 0; i < n; i++)
            FUZZ_ASSERT((unsigned char)text[i] >= 0x20 && (unsigned char)text[i] != 0x7f);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    json_t *root;
    jumio_account_resp_t resp;
    const char *err;
    char *text;
    apr_array_header_t *creds;

    if (size > 65536)
        return 0;
    p = fuzz_pool_begin();
    root = jumio_json_load((const char *)data, size);

    /* account answer */
    err = jumio_account_response(p, root, &resp);
    if (err == NULL) {
        FUZZ_ASSERT(jumio_util_is_uuid(resp.account_id));
        FUZZ_ASSERT(jumio_util_is_uuid(resp.workflow_id));
        FUZZ_ASSERT(resp.web_href != NULL && *resp.web_href != '\0');
        fuzz_check_creds(p, resp.credentials);
    }
    else {
        FUZZ_ASSERT(resp.account_id == NULL && resp.web_href == NULL && resp.credentials == NULL);
    }

    /* details document */
    FUZZ_ASSERT(fuzz_is_decision(jumio_decision_of_details(root)));
    fuzz_check_decision_data(p, root);
    json_decref(root);

    /* error answer */
    fuzz_check_error_text(p, data, size);

    /* stored credentials */
    text = fuzz_cstr(data, size);
    creds = jumio_creds_from_json(p, text);
    if (creds != NULL)
        fuzz_check_creds(p, creds);
    free(text);

    fuzz_pool_end();
    return 0;
}
