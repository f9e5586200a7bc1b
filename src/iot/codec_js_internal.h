/*
 * codec_js_internal: what the tests may look at inside a JavaScript codec (codec_js.c).
 * Nothing outside src/iot and tests/unit/iot includes this.
 */
#ifndef LWM2MD_IOT_CODEC_JS_INTERNAL_H
#define LWM2MD_IOT_CODEC_JS_INTERNAL_H

#include <stddef.h>

struct codec_js;

/* The number of values on the codec's Duktape value stack between calls; it is the same
 * after every decode/encode, whatever the call's outcome. */
int codec_js_debug_stack_top(const struct codec_js *js);

/* Bytes the codec's heap holds now (what the bounded allocator counts against
 * limits->memory_bytes). */
size_t codec_js_debug_heap_bytes(const struct codec_js *js);

#endif
