/* origin.h - cross-site protection of ambient credentials and CORS for the portal's pages on
 * other origins (src/origin.c, docs/DESIGN.md "Cross-site requests and CORS"). */
#ifndef JUMIO_ORIGIN_H
#define JUMIO_ORIGIN_H

#include "jumio.h"
#include "config.h"

/* 1 when origin (serialized) is one of the location's JumioAllowedOrigin. */
int jumio_origin_allowed(const jumio_dir_cfg_t *dc, const char *origin);
/* 1 when the request must be refused as cross-site (JumioUserSource remote-user only: a
 * browser sends those credentials by itself); the reason is logged. */
int jumio_origin_cross_site(request_rec *r, const jumio_dir_cfg_t *dc);
/* 1 when the request is a CORS preflight: OPTIONS with Origin and
 * Access-Control-Request-Method. */
int jumio_origin_is_preflight(request_rec *r);
/* Answer a preflight for a handler whose one method is method: 204 with the CORS headers for
 * an allowed origin, else 403 cross_site_request without them; returns OK. */
int jumio_origin_preflight(request_rec *r, const jumio_dir_cfg_t *dc, const char *method);
/* The CORS headers of an actual request's answer, errors included (r->err_headers_out):
 * Vary: Origin where an allow-list is set, Access-Control-Allow-Origin for an allowed origin,
 * with credentials for remote-user. */
void jumio_origin_cors(request_rec *r, const jumio_dir_cfg_t *dc);

#endif
