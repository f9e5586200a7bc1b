/*
 * libFuzzer target for the text/plain (0) decoder and encoder (src/content/content_text.c): decode
 * under a fuzzed base path and typing, then encode what was decoded and decode it again. The input
 * layout and the rules checked are in content_target.h.
 */
#define FUZZ_CONTENT_FORMAT CONTENT_TEXT
#include "content_target.h"
