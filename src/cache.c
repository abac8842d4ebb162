/* cache.c - small per-process caches (see cache.h): direct-mapped tables of malloc'd entries,
 * one mutex each (held for a lookup or a copy only), made in child_init, freed at child exit.
 * Memory is bounded: a fixed number of slots, values of at most JUMIO_CACHE_MAX_VALUE bytes. */
#include "cache.h"
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_mutex.h>
#include <stdarg.h>

#define JUMIO_CACHE_SLOTS     1024
#define JUMIO_CACHE_MAX_VALUE (16 * 1024)

/* One entry: key bytes then value bytes (and a NUL) in one allocation. */
typedef struct {
    apr_time_t at;
    apr_size_t klen, vlen;
    char data[1];
} jumio_cache_entry_t;

typedef struct {
    apr_thread_mutex_t *mutex;
    jumio_cache_entry_t *slot[JUMIO_CACHE_SLOTS];
} jumio_cache_t;

static jumio_cache_t *jumio_caches[JUMIO_CACHE_KINDS];

/* Pool cleanup of pchild: free every entry. */
static apr_status_t jumio_cache_free(void *data)
{
    int k, i;
    for (k = 0; k < JUMIO_CACHE_KINDS; k++) {
        if (!jumio_caches[k])
            continue;
        for (i = 0; i < JUMIO_CACHE_SLOTS; i++)
            free(jumio_caches[k]->slot[i]);
        jumio_caches[k] = NULL;
    }
    return APR_SUCCESS;
}

/* Make this process's caches; a cache whose mutex cannot be made stays off (logged). */
void jumio_cache_child_init(apr_pool_t *pchild, server_rec *s)
{
    int k;
    for (k = 0; k < JUMIO_CACHE_KINDS; k++) {
        jumio_cache_t *c = apr_pcalloc(pchild, sizeof(*c));
        apr_status_t rv = apr_thread_mutex_create(&c->mutex, APR_THREAD_MUTEX_DEFAULT, pchild);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s, "mod_jumio: cannot create a cache mutex");
            continue;
        }
        jumio_caches[k] = c;
    }
    apr_pool_cleanup_register(pchild, NULL, jumio_cache_free, apr_pool_cleanup_null);
}

/* The slot of key. */
static apr_size_t jumio_cache_slot(const void *key, apr_size_t klen)
{
    apr_ssize_t len = (apr_ssize_t)klen;
    return apr_hashfunc_default(key, &len) % JUMIO_CACHE_SLOTS;
}

/* A copy of a fresh value of key: 1 found, 0 none. */
int jumio_cache_get(jumio_cache_kind_e kind, const void *key, apr_size_t klen, apr_pool_t *p,
                    char **val, apr_size_t *vlen)
{
    jumio_cache_t *c = jumio_caches[kind];
    jumio_cache_entry_t *e;
    apr_time_t now = apr_time_now();
    int found = 0;
    if (!c || apr_thread_mutex_lock(c->mutex) != APR_SUCCESS)
        return 0;
    e = c->slot[jumio_cache_slot(key, klen)];
    if (e && e->klen == klen && now - e->at < JUMIO_CACHE_TTL && now >= e->at
        && !memcmp(e->data, key, klen)) {
        *val = apr_pstrmemdup(p, e->data + klen, e->vlen);
        *vlen = e->vlen;
        found = 1;
    }
    apr_thread_mutex_unlock(c->mutex);
    return found;
}

/* Store a copy of val under key. */
void jumio_cache_put(jumio_cache_kind_e kind, const void *key, apr_size_t klen, const void *val,
                     apr_size_t vlen)
{
    jumio_cache_t *c = jumio_caches[kind];
    jumio_cache_entry_t *e, *old;
    apr_size_t i;
    if (!c || vlen > JUMIO_CACHE_MAX_VALUE || klen > JUMIO_CACHE_MAX_VALUE)
        return;
    if (!(e = malloc(sizeof(*e) + klen + vlen)))
        return;
    e->at = apr_time_now();
    e->klen = klen;
    e->vlen = vlen;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, val, vlen);
    e->data[klen + vlen] = '\0';
    i = jumio_cache_slot(key, klen);
    if (apr_thread_mutex_lock(c->mutex) != APR_SUCCESS) {
        free(e);
        return;
    }
    old = c->slot[i];
    c->slot[i] = e;
    apr_thread_mutex_unlock(c->mutex);
    free(old);
}

/* A cache key: the server config's address, then each string part and a NUL. */
char *jumio_cache_key(apr_pool_t *p, const void *server, apr_size_t *klen, ...)
{
    va_list ap;
    const char *part;
    apr_size_t n = sizeof(server);
    char *key, *at;
    va_start(ap, klen);
    while ((part = va_arg(ap, const char *)))
        n += strlen(part) + 1;
    va_end(ap);
    at = key = apr_palloc(p, n);
    memcpy(at, &server, sizeof(server));
    at += sizeof(server);
    va_start(ap, klen);
    while ((part = va_arg(ap, const char *))) {
        apr_size_t len = strlen(part) + 1;
        memcpy(at, part, len);
        at += len;
    }
    va_end(ap);
    *klen = n;
    return key;
}
