/*
 * libFuzzer target for the OMA JSON (11543) decoder and encoder (src/content/content_oma_json.c):
 * decode under a fuzzed base path and typing, then encode what was decoded and decode it again. The
 * input layout and the rules checked are in content_target.h.
 */
#define FUZZ_CONTENT_FORMAT CONTENT_OMA_JSON
#include "content_target.h"
