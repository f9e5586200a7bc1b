/*
 * api_token: GET /v5/token (docs/api.md "Tokens"): which project the caller's
 * X-Auth-Token belongs to. A token belongs to exactly one project, so a client that holds
 * only the token (the console's sign-in) learns the project from it instead of being told.
 * The check is api_http.c's, as for every route: an unknown token is a 401.
 */
#include "api/api_internal.h"

void api_token_get(struct api_call *c)
{
	api_reply(c, 200, json_pack("{s:s}", "project_id", c->project_id));
}
