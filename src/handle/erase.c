/* erase.c - DELETE erase: the user's account is deleted at Jumio (Deletion API), then every
 * local row of that user (docs/DESIGN.md "Erase"). */
#include "handle/handle.h"
#include "http.h"
#include "user.h"
#include "client.h"
#include "store/store.h"
#include "core/core.h"
#include <apr_strings.h>

/* Delete the account at Jumio; JUMIO_CONTINUE when done (or already gone), else the answer. */
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

/* The jumio-erase handler. */
int jumio_handle_erase(jumio_req_t *q)
{
    jumio_acct_t acct;
    jumio_db_t *db;
    const char *user;
    int rc, n;
    if (!(user = jumio_user_identify(q->r, q->sc, q->dc)))
        return jumio_user_reject(q->r);
    if (!(db = jumio_store_acquire(&q->c))
        || (rc = jumio_store_account_get(&q->c, db, user, &acct)) < 0)
        return jumio_http_fail(q->r, JUMIO_E_UNAVAILABLE);
    if (rc > 0)
        return jumio_http_fail_msg(q->r, JUMIO_E_NOT_FOUND, "Nothing is stored for this user.");
    if ((rc = jumio_erase_remote(q, acct.account_id)) != JUMIO_CONTINUE)
        return rc;
    if ((n = jumio_store_erase(&q->c, db, user)) < 0)
        return jumio_http_fail_msg(
            q->r, JUMIO_E_UNAVAILABLE,
            "The account was deleted at Jumio but local rows remain; retry.");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, q->r, "mod_jumio: erased account %s (%d transactions)",
                  acct.account_id, n);
    return jumio_http_json(q->r, HTTP_OK, json_pack("{s:b, s:i}", "erased", 1, "transactions", n));
}
