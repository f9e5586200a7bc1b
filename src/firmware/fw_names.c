/* TEMPORARY (replaced by the campaigns branch's fw_names.c). */
#include <string.h>
#include "firmware/fw_engine.h"
static const char *const state_names[FW_STATE_COUNT] = {
	"waiting", "starting", "downloading", "downloaded", "updating",
	"succeeded", "failed", "skipped", "cancelled",
};
const char *fw_state_name(enum fw_state s) { return (unsigned)s < FW_STATE_COUNT ? state_names[s] : "?"; }
int fw_state_parse(const char *name) { for (int i = 0; i < FW_STATE_COUNT; i++) if (strcmp(state_names[i], name) == 0) return i; return -1; }
static const char *const delivery_names[] = { "auto", "pull", "push" };
const char *fw_delivery_name(enum fw_delivery d) { return (unsigned)d < 3 ? delivery_names[d] : "?"; }
int fw_delivery_parse(const char *name) { for (int i = 0; i < 3; i++) if (strcmp(delivery_names[i], name) == 0) return i; return -1; }
bool fw_state_done(enum fw_state s) { return s >= FW_SUCCEEDED; }
