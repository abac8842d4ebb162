/* core/json.h - JSON helpers shared by the core: the untrusted parse, string members and the
 * compact dump into a pool (src/core/json.c). Only APR and jansson. */
#ifndef JUMIO_CORE_JSON_H
#define JUMIO_CORE_JSON_H

#include <apr_pools.h>
#include <jansson.h>

#define JUMIO_JSON_MAX_DEPTH 32 /* far more than any Jumio document needs */

/* 1 when the JSON text (len bytes) never nests objects/arrays deeper than JUMIO_JSON_MAX_DEPTH,
 * else 0. */
int jumio_json_depth_ok(const char *text, apr_size_t len);
/* Parse len bytes of untrusted JSON: no NUL bytes, nesting at most 32 deep, duplicate keys
 * refused. New reference, or NULL when bad. */
json_t *jumio_json_load(const char *text, apr_size_t len);
/* The string member key of obj copied into p; NULL when absent, not a string, or with a NUL. */
const char *jumio_json_str(apr_pool_t *p, json_t *obj, const char *key);
/* Compact JSON text of v copied into p; NULL on failure or for a NULL v (v is not released). */
const char *jumio_json_dump(apr_pool_t *p, json_t *v);
/* 1 when v is a JSON string equal to want (no embedded NUL), else 0. */
int jumio_json_str_is(json_t *v, const char *want);
/* 1 when s is a non-empty string. */
int jumio_json_nonempty(const char *s);
/* Set obj[key] to the string s when s is non-empty; 0 on success or absence, -1 on failure. */
int jumio_json_set_opt(json_t *obj, const char *key, const char *s);

#endif
