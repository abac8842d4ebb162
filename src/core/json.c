/* core/json.c - JSON helpers shared by the core of mod_jumio: the parse of untrusted JSON, small
 * helpers for string members and the compact dump into a pool. Only APR and jansson; no httpd
 * calls. */
#include <stdlib.h>
#include <string.h>

#include <apr_strings.h>

#include "core/json.h"

/* 1 when the JSON text (len bytes) never nests objects/arrays deeper than JUMIO_JSON_MAX_DEPTH. */
int jumio_json_depth_ok(const char *text, apr_size_t len)
{
    apr_size_t i;
    int depth = 0, in_str = 0, esc = 0;

    for (i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (esc)
                esc = 0;
            else if (c == '\\')
                esc = 1;
            else if (c == '"')
                in_str = 0;
        }
        else if (c == '"') {
            in_str = 1;
        }
        else if (c == '{' || c == '[') {
            if (++depth > JUMIO_JSON_MAX_DEPTH)
                return 0;
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

    if (!text || len == 0 || memchr(text, '\0', len))
        return NULL;
    if (!jumio_json_depth_ok(text, len))
        return NULL;
    return json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
}

/* The string member key of obj copied into p; NULL when absent, not a string, or with a NUL. */
const char *jumio_json_str(apr_pool_t *p, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key); /* NULL for a non-object obj */
    const char *s;

    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return NULL;
    return apr_pstrmemdup(p, s, json_string_length(v));
}

/* Compact JSON text of v copied into p; NULL on failure or for a NULL v (v is not released). */
const char *jumio_json_dump(apr_pool_t *p, json_t *v)
{
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    const char *copy = text ? apr_pstrdup(p, text) : NULL;

    free(text);
    return copy;
}

/* 1 when v is a JSON string equal to want (no embedded NUL), else 0. */
int jumio_json_str_is(json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want)
           && strcmp(json_string_value(v), want) == 0;
}

/* 1 when s is a non-empty string. */
int jumio_json_nonempty(const char *s)
{
    return s && *s != '\0';
}

/* Set obj[key] to the string s when s is non-empty; 0 on success or absence, -1 on failure. */
int jumio_json_set_opt(json_t *obj, const char *key, const char *s)
{
    if (!jumio_json_nonempty(s))
        return 0;
    return json_object_set_new(obj, key, json_string(s)); /* NULL value gives -1 */
}
