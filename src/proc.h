/* proc.h - the per-process state of mod_jumio, all in one place: made in child_init, freed
 * with the child, never shared between processes (src/proc.c). Per server: the OAuth2 token
 * cache, the JWKS key cache and Jumio's health answer; per process: idle curl handles. */
#ifndef JUMIO_PROC_H
#define JUMIO_PROC_H

#include "jumio.h"
#include "config.h"
#include <apr_thread_mutex.h>
#include <apr_tables.h>

/* OAuth2 token of one server's credentials. */
typedef struct {
    apr_thread_mutex_t *mutex; /* single-flight: held while a token is fetched */
    char *token;               /* malloc'd; NULL when none */
    apr_time_t refresh_at;     /* reuse until this time (expiry - 60 s) */
} jumio_token_cache_t;

/* Keys of one server's JWKS document (JumioJWTKey jwks:). */
typedef struct {
    apr_thread_mutex_t *mutex;       /* guards the fields below; held briefly */
    apr_thread_mutex_t *fetch_mutex; /* single-flight: held while the document is read */
    apr_pool_t *pool;                /* unmanaged pool of keys; NULL before the first read */
    apr_array_header_t *keys;        /* of jumio_jwk_t in pool */
    apr_time_t fetched_at;           /* when keys were read */
    apr_time_t next_fetch; /* no read before this (after a failure or a kid-driven read) */
} jumio_jwks_cache_t;

/* Jumio's health answer for one server's endpoints. */
typedef struct {
    apr_thread_mutex_t *mutex; /* held while the answer is read or refreshed */
    char *text;                /* malloc'd JSON text; NULL when unknown */
    apr_time_t at;             /* when it was last asked (0: never) */
} jumio_health_cache_t;

/* Everything one server (virtual host) keeps per process. */
typedef struct jumio_proc {
    jumio_token_cache_t tokens;
    jumio_jwks_cache_t jwks; /* mutexes NULL unless the server uses JumioJWTKey jwks: */
    jumio_health_cache_t health;
} jumio_proc_t;

#define JUMIO_PROC_IDLE_MAX 32

/* Idle curl easy handles of this process, kept for keep-alive and TLS session reuse. */
typedef struct {
    apr_thread_mutex_t *mutex;
    void *idle[JUMIO_PROC_IDLE_MAX]; /* CURL * */
    int nidle;
} jumio_handles_t;

/* Make the per-process state of every server (child_init); freed with pchild. */
void jumio_proc_child_init(apr_pool_t *pchild, server_rec *s);
/* The per-process state of a server; NULL before child_init (e.g. during configtest). */
jumio_proc_t *jumio_proc_of(const jumio_srv_cfg_t *sc);
/* The idle curl handles of this process. */
jumio_handles_t *jumio_proc_handles(void);

#endif
