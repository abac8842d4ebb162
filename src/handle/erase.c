/* erase.c - DELETE erase: under the user's claim (no account creation runs meanwhile), every
 * Jumio account the user ever had is deleted at Jumio (Deletion API), then every local row of
 * that user (docs/DESIGN.md "Erase"). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "origin.h"
#include "client.h"
#include "account.h"
#include "store/store.h"
#include "core/core.h"
#include <apr_strings.h>

/* Delete one account at Jumio; JUMIO_CONTINUE when done (or already gone), else the answer. */
static int jumio_erase_remote(jumio_req_t *q, const char *account_id)
{
    jumio_answer_t ans;
    if (!jumio_util_is_uuid(account_id)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, q->r,
                      "mod_jumio: stored account id is not a UUID, erasing local rows only");
        return JUMIO_CONTINUE;
    }
    jumio_client_call(&q->c, "DELETE", JUMIO_SVC_RETRIEVAL,
                      apr_pstrcat(q->r->pool, "/api/v1/accounts/", account_id, NULL), NULL, &ans);
    json_decref(ans.json);
    if (ans.outcome == JUMIO_UP_OK || ans.outcome == JUMIO_UP_NOT_FOUND)
        return JUMIO_CONTINUE;
    return jumio_client_fail(q->r, &ans);
}

/* Delete every account id of the user at Jumio, then the local rows; the claim is ours.
 * The answer sent. */
static int jumio_erase_claimed(jumio_req_t *q, const char *user, const char *claim)
{
    apr_array_header_t *ids;
    int i, rc, n;
    if (jumio_store_account_ids(&q->c, user, &ids))
        return jumio_http_fail(q->r, JUMIO_E_UNAVAILABLE);
    if (!ids->nelts)
        return jumio_http_fail_msg(q->r, JUMIO_E_NOT_FOUND, "Nothing is stored for this user.");
    for (i = 0; i < ids->nelts; i++)
        if ((rc = jumio_erase_remote(q, APR_ARRAY_IDX(ids, i, const char *))) != JUMIO_CONTINUE)
            return rc;
    if ((n = jumio_store_erase(&q->c, user, claim)) < 0)
        return jumio_http_fail_msg(
            q->r, JUMIO_E_UNAVAILABLE,
            "The accounts were deleted at Jumio but local rows remain; retry.");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r,
                  "mod_jumio: erased %d Jumio account(s) and %d transaction(s)", ids->nelts, n);
    return jumio_http_json(q->r, HTTP_OK, json_pack("{s:b, s:i}", "erased", 1, "transactions", n));
}

/* The jumio-erase handler. */
int jumio_handle_erase(jumio_req_t *q)
{
    const char *user, *claim;
    int hold, rc;
    if (!(user = jumio_user_identify(q->r, q->sc, q->dc)))
        return jumio_user_reject(q->r);
    if (jumio_origin_cross_site(q->r, q->dc))
        return jumio_http_fail(q->r, JUMIO_E_CROSS_SITE);
    if (!(claim = jumio_util_random_token(q->r->pool, 16)))
        return jumio_http_fail_msg(q->r, JUMIO_E_INTERNAL, "No random token could be made.");
    hold = jumio_account_hold(&q->c, 4);
    switch (
        jumio_account_claim(&q->c, user, claim, hold, jumio_account_hold(&q->c, 1), NULL, NULL)) {
    case JUMIO_ACCOUNT_CLAIMED:
        break;
    case JUMIO_ACCOUNT_BUSY:
        return jumio_http_fail_msg(q->r, JUMIO_E_UNAVAILABLE,
                                   "Another request of this user is still running; retry.");
    default:
        return jumio_http_fail(q->r, JUMIO_E_UNAVAILABLE);
    }
    rc = jumio_erase_claimed(q, user, claim);
    jumio_store_user_unclaim(&q->c, user, claim); /* no-op when the erase gave it up */
    return rc;
}
