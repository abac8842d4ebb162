/* core/webhook.c - signed result notifications as Standard Webhooks define them (see
 * core/webhook.h): keys, the signature header, the body, the retry schedule. Pure: no httpd
 * calls. */
#include "core/webhook.h"
#include "core/json.h"
#include <string.h>
#include <apr_strings.h>
#include <apr_time.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define JUMIO_WEBHOOK_MIN_KEY 16

/* 1 when the n bytes of s are standard base64 with correct padding (n a multiple of 4). */
static int jumio_webhook_is_b64(const char *s, apr_size_t n)
{
    apr_size_t i, pad = 0;
    if (!n || n % 4)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '=') {
            if (i < n - 2)
                return 0;
            pad++;
        }
        else if (pad
                 || !((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
                      || (ch >= '0' && ch <= '9') || ch == '+' || ch == '/'))
            return 0;
    }
    return 1;
}

/* The key of a secret: whsec_ + base64 decoded, else the bytes as they are; NULL or why not. */
const char *jumio_webhook_key(apr_pool_t *p, const char *secret, apr_size_t len,
                              jumio_webhook_key_t *out)
{
    unsigned char *buf;
    apr_size_t n;
    int got;
    memset(out, 0, sizeof(*out));
    if (len > 6 && !strncmp(secret, "whsec_", 6)) {
        n = len - 6;
        if (!jumio_webhook_is_b64(secret + 6, n))
            return "a whsec_ secret must be followed by base64";
        buf = apr_palloc(p, n / 4 * 3 + 1);
        got = EVP_DecodeBlock(buf, (const unsigned char *)secret + 6, (int)n);
        if (got < 0)
            return "a whsec_ secret must be followed by base64";
        out->len = (apr_size_t)got - (secret[len - 1] == '=') - (secret[len - 2] == '=');
        out->bytes = buf;
    }
    else {
        out->bytes = (const unsigned char *)apr_pstrmemdup(p, secret, len);
        out->len = len;
    }
    return out->len < JUMIO_WEBHOOK_MIN_KEY ? "the key must be at least 16 bytes" : NULL;
}

/* The webhook-signature header value, one "v1,<base64>" per key; NULL on failure. */
const char *jumio_webhook_sign(apr_pool_t *p, const char *id, apr_int64_t timestamp,
                               const char *body, apr_size_t len, const jumio_webhook_key_t *keys,
                               int nkeys)
{
    const char *head = apr_psprintf(p, "%s.%" APR_INT64_T_FMT ".", id, timestamp);
    apr_size_t hlen = strlen(head);
    char *content = apr_palloc(p, hlen + len + 1);
    const char *out = NULL;
    unsigned char mac[EVP_MAX_MD_SIZE], b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    unsigned int maclen;
    int i;
    memcpy(content, head, hlen);
    memcpy(content + hlen, body, len);
    for (i = 0; i < nkeys; i++) {
        if (!HMAC(EVP_sha256(), keys[i].bytes, (int)keys[i].len, (const unsigned char *)content,
                  hlen + len, mac, &maclen))
            return NULL;
        EVP_EncodeBlock(b64, mac, (int)maclen);
        out = apr_pstrcat(p, out ? out : "", out ? " " : "", "v1,", (const char *)b64, NULL);
    }
    return out;
}

/* The notification body as compact JSON text (s? packs a NULL decision as null); NULL when
 * ev->data is not JSON. */
const char *jumio_webhook_body(apr_pool_t *p, const jumio_webhook_event_t *ev)
{
    apr_time_exp_t tm;
    char when[32];
    apr_size_t got;
    json_t *data = ev->data ? json_loads(ev->data, 0, NULL) : json_null(), *j;
    const char *text;
    if (!data || apr_time_exp_gmt(&tm, apr_time_from_sec(ev->at)) != APR_SUCCESS
        || apr_strftime(when, &got, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) != APR_SUCCESS) {
        json_decref(data);
        return NULL;
    }
    j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s?, s:o, s:s}", "type", "verification.completed",
                  "transactionReference", ev->reference, "user", ev->user, "workflowKey",
                  ev->workflow_key, "status", ev->status, "decision", ev->decision, "data", data,
                  "timestamp", when);
    text = jumio_json_dump(p, j);
    json_decref(j);
    return text;
}

/* When the next try is due after `attempts` tries, or -1 once the notification is 3 days old. */
apr_int64_t jumio_webhook_next(apr_int64_t created, apr_int64_t now, int attempts,
                               const int *delays, int ndelays)
{
    int i = attempts < 1 ? 0 : attempts - 1;
    if (now - created >= JUMIO_WEBHOOK_GIVE_UP)
        return -1;
    if (ndelays < 1)
        return now + 10;
    return now + delays[i < ndelays ? i : ndelays - 1];
}
