/* fuzz_callback.c - libFuzzer target for jumio_callback_parse, the parser of Jumio's callback
 * bodies. The first byte chooses the format: 'F' application/x-www-form-urlencoded with dotted
 * keys, anything else JSON; the rest is the body (exactly that many bytes, not NUL-terminated,
 * as the handler passes it).
 * Checked on every call: a success yields two UUIDs and a known status, a failure a message
 * and a cleared result. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    jumio_callback_t cb;
    const char *err;
    char *body;
    int form;

    if (size == 0)
        return 0;
    form = data[0] == 'F';
    /* a copy of exactly size - 1 bytes, so ASan sees any read past the body */
    body = malloc(size > 1 ? size - 1 : 1);
    if (body == NULL)
        abort();
    memcpy(body, data + 1, size - 1);
    p = fuzz_pool_begin();
    memset(&cb, 0xa5, sizeof(cb));
    err = jumio_callback_parse(p, body, size - 1, form, &cb);
    if (err == NULL) {
        FUZZ_ASSERT(jumio_util_is_uuid(cb.workflow_id));
        FUZZ_ASSERT(jumio_util_is_uuid(cb.account_id));
        FUZZ_ASSERT(jumio_status_rank(cb.status) >= 0);
    }
    else {
        FUZZ_ASSERT(*err != '\0');
        FUZZ_ASSERT(cb.workflow_id == NULL && cb.status == NULL && cb.account_id == NULL);
    }
    fuzz_pool_end();
    free(body);
    return 0;
}
