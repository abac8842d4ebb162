/* cache.h - small per-process caches whose entries live at most one second (src/cache.c):
 * verified JWTs, the results of `Require jumio-verified`, the poll's final answers. A change
 * in the database (an erase, a new result) or a max age that runs out is seen within 1 s, on
 * every node. */
#ifndef JUMIO_CACHE_H
#define JUMIO_CACHE_H

#include "jumio.h"

/* How long an entry is used after it was stored (seconds; 0 turns the caches off: for the
 * "before" figures of bench/run, -DJUMIO_CACHE_TTL_SEC=0). */
#ifndef JUMIO_CACHE_TTL_SEC
#define JUMIO_CACHE_TTL_SEC 1
#endif
#define JUMIO_CACHE_TTL apr_time_from_sec(JUMIO_CACHE_TTL_SEC)

typedef enum {
    JUMIO_CACHE_JWT,      /* (server, token) -> user id */
    JUMIO_CACHE_VERIFIED, /* (server, user, Require line, settings) -> result or none */
    JUMIO_CACHE_POLL,     /* (server, mode, reference) -> owner and final answer */
    JUMIO_CACHE_KINDS
} jumio_cache_kind_e;

/* Make this process's caches (child_init); freed with pchild. */
void jumio_cache_child_init(apr_pool_t *pchild, server_rec *s);
/* A copy in p of the value stored under key less than JUMIO_CACHE_TTL ago: 1 (val, vlen set;
 * val NUL-terminated), or 0 when there is none. */
int jumio_cache_get(jumio_cache_kind_e kind, const void *key, apr_size_t klen, apr_pool_t *p,
                    char **val, apr_size_t *vlen);
/* Store a copy of val under key (replacing what its slot held); values larger than 16 KiB are
 * not kept. */
void jumio_cache_put(jumio_cache_kind_e kind, const void *key, apr_size_t klen, const void *val,
                     apr_size_t vlen);
/* A cache key in p: the server config's address, then the string parts (each followed by a
 * NUL); the list of parts ends with (const char *)NULL. */
char *jumio_cache_key(apr_pool_t *p, const void *server, apr_size_t *klen, ...);

#endif
