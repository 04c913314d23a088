/*
 * intake.h - an intake that polls the dependency's message API for new
 * messages (--intake-every-ms N with --dep) and keeps what it ingested;
 * GET /api/ingested lists it. The bug row CURSOR (--cursor) is the
 * silent-message-loss incident:
 *
 *   cursor created   pages by thread creation (created_after): the API
 *                    lists threads by creation date, so a reply to an old
 *                    thread is never seen again
 *   cursor activity  pages by last activity (active_after): every new
 *                    message's thread comes back
 */
#ifndef JS_INTAKE_H
#define JS_INTAKE_H

#include <microhttpd.h>

struct js_app;

void js_intake_start(struct js_app *app);
/* GET /api/ingested: {"ids":[...]} */
enum MHD_Result js_intake_reply(struct js_app *app, struct MHD_Connection *conn);

#endif
