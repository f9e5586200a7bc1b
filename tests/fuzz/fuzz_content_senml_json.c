/*
 * libFuzzer target for the SenML JSON (110) decoder and encoder (src/content/content_senml_json.c):
 * decode under a fuzzed base path and typing, then encode what was decoded and decode it again. The
 * input layout and the rules checked are in content_target.h.
 */
#define FUZZ_CONTENT_FORMAT CONTENT_SENML_JSON
#include "content_target.h"
