/* fuzz_common.h - shared part of the libFuzzer targets in t/fuzz/ (included once per target).
 *
 * APR pools hand out memory from 8 KiB blocks, so an overrun of a pool allocation stays inside
 * the block and AddressSanitizer never sees it. To let ASan check the pure functions' pool
 * memory, this file interposes apr_palloc/apr_pcalloc: for the per-input pool (fuzz_pool) every
 * allocation is a separate malloc (with ASan redzones), freed after the pool is destroyed.
 * libapr calls apr_palloc through its PLT, so apr_pstrdup, apr_pstrmemdup, apr_pstrcat and
 * apr_array_make/push are covered as well (apr_psprintf is not: it writes into the pool's
 * block directly). The target is linked with -rdynamic so libapr binds to these definitions.
 * Allocations in any other pool go to APR's own apr_palloc. */
#ifndef JUMIO_FUZZ_COMMON_H
#define JUMIO_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

#include "core/core.h"

/* A broken invariant: print why and abort, so libFuzzer records the input as a crash. */
#define FUZZ_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static apr_pool_t *fuzz_root; /* made once */
static apr_pool_t *fuzz_pool; /* pool of the current input; its allocations are malloc'ed */
static void **fuzz_blocks;    /* those allocations, freed by fuzz_pool_end() */
static size_t fuzz_nblocks, fuzz_capblocks;

typedef void *(*fuzz_palloc_fn)(apr_pool_t *, apr_size_t);

/* APR's own apr_palloc. */
static void *fuzz_real_palloc(apr_pool_t *p, apr_size_t n)
{
    static fuzz_palloc_fn real;

    if (real == NULL) {
        real = (fuzz_palloc_fn)dlsym(RTLD_NEXT, "apr_palloc");
        if (real == NULL) {
            fprintf(stderr, "fuzz: apr_palloc not found in libapr\n");
            abort();
        }
    }
    return real(p, n);
}

/* One separately malloc'ed block of n bytes (zeroed when zero != 0), remembered for freeing. */
static void *fuzz_block(apr_size_t n, int zero)
{
    void *m;

    if (fuzz_nblocks == fuzz_capblocks) {
        size_t cap = fuzz_capblocks != 0 ? 2 * fuzz_capblocks : 256;
        void **grown = realloc(fuzz_blocks, cap * sizeof(*grown));
        if (grown == NULL)
            abort();
        fuzz_blocks = grown;
        fuzz_capblocks = cap;
    }
    m = zero ? calloc(1, n != 0 ? n : 1) : malloc(n != 0 ? n : 1);
    if (m == NULL)
        abort();
    fuzz_blocks[fuzz_nblocks++] = m;
    return m;
}

/* Interposed: see the top of this file. */
void *apr_palloc(apr_pool_t *p, apr_size_t n)
{
    return fuzz_pool != NULL && p == fuzz_pool ? fuzz_block(n, 0) : fuzz_real_palloc(p, n);
}

#undef apr_pcalloc
/* Interposed: see the top of this file. */
void *apr_pcalloc(apr_pool_t *p, apr_size_t n)
{
    void *m;

    if (fuzz_pool != NULL && p == fuzz_pool)
        return fuzz_block(n, 1);
    m = fuzz_real_palloc(p, n);
    return m != NULL ? memset(m, 0, n) : NULL;
}

/* Start an input: a fresh pool (APR initialised on first use). */
static apr_pool_t *fuzz_pool_begin(void)
{
    if (fuzz_root == NULL) {
        if (apr_initialize() != APR_SUCCESS || apr_pool_create(&fuzz_root, NULL) != APR_SUCCESS)
            abort();
    }
    if (apr_pool_create(&fuzz_pool, fuzz_root) != APR_SUCCESS)
        abort();
    return fuzz_pool;
}

/* End an input: destroy its pool (cleanups run first), then free its blocks. */
static void fuzz_pool_end(void)
{
    size_t i;

    apr_pool_destroy(fuzz_pool);
    fuzz_pool = NULL;
    for (i = 0; i < fuzz_nblocks; i++)
        free(fuzz_blocks[i]);
    fuzz_nblocks = 0;
}

/* malloc'ed NUL-terminated copy of the n input bytes. */
static __attribute__((unused)) char *fuzz_cstr(const uint8_t *data, size_t n)
{
    char *s = malloc(n + 1);

    if (s == NULL)
        abort();
    memcpy(s, data, n);
    s[n] = '\0';
    return s;
}

#endif
