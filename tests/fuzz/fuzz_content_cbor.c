/*
 * libFuzzer target for the CBOR (60) decoder and encoder (src/content/content_cbor.c): decode under
 * a fuzzed base path and typing, then encode what was decoded and decode it again. The input layout
 * and the rules checked are in content_target.h.
 */
#define FUZZ_CONTENT_FORMAT CONTENT_CBOR
#include "content_target.h"
