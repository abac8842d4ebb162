/* jumio_handler_erase.c - DELETE erase: the user's account is deleted at Jumio (Deletion API),
 * then every local row of that user (SPEC §2). */
#include "handle/handle.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "client.h"
#include "store/store.h"
#include "work.h"
#include "core/core.h"
#include <http_protocol.h>
#include <apr_strings.h>

/* Delete the account at Jumio; -1 when done (or already gone), else the answer sent. */
static int jumio_erase_remote(request_rec *r, jumio_ctx_t *c, const char *account_id)
{
    jumio_answer_t ans;
    if (!jumio_util_is_uuid(account_id)) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      "mod_jumio: stored account id is not a UUID, erasing local rows only");
        return -1;
    }
    jumio_client_call(c, "DELETE", JUMIO_SVC_RETRIEVAL,
                      apr_pstrcat(r->pool, "/api/v1/accounts/", account_id, NULL), NULL, &ans);
    json_decref(ans.json);
    if (ans.outcome == JUMIO_UP_OK || ans.outcome == JUMIO_UP_NOT_FOUND)
        return -1;
    return jumio_client_fail(r, &ans);
}

/* The jumio-erase handler. */
int jumio_handler_erase(request_rec *r)
{
    jumio_ctx_t c = { r->pool, r->server, r };
    jumio_acct_t acct;
    jumio_db_t *db;
    const char *user;
    int rc, n;
    if ((rc = jumio_http_method_only(r, M_DELETE, "DELETE")) != -1)
        return rc;
    if (!(user = jumio_user_identify(r)))
        return jumio_user_reject(r);
    if (!(db = jumio_store_acquire(&c)) || (rc = jumio_store_account_get(&c, db, user, &acct)) < 0)
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The database is not available.");
    if (rc > 0)
        return jumio_http_error(r, HTTP_NOT_FOUND, "not_found", "Nothing is stored for this user.");
    if ((rc = jumio_erase_remote(r, &c, acct.account_id)) != -1)
        return rc;
    if ((n = jumio_store_erase(&c, db, user)) < 0)
        return jumio_http_error(r, HTTP_SERVICE_UNAVAILABLE, "unavailable",
                                "The account was deleted at Jumio but local rows remain; retry.");
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, "mod_jumio: erased account %s (%d transactions)",
                  acct.account_id, n);
    return jumio_http_json(r, HTTP_OK, json_pack("{s:b, s:i}", "erased", 1, "transactions", n));
}
